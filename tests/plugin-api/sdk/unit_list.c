/*
** unit_list.c -- sdk_list.h: a page's items in byte order (ties in the
** order they were added), names borrowed and taken, and the filter:
** start_after and a prefix repeated across pages.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "sdk_list.h"

/* Every item sdk_list_page_next gives, as "P:name" / "O:name" joined by
 * spaces. */
static void reported(sdk_list_page *p, sdk_list_filter *f, char *out,
                     size_t cap)
{
  const sdk_list_item *it;
  size_t pos = 0;

  out[0] = '\0';
  while (sdk_list_page_next(p, &pos, f, &it) > 0) {
    size_t used = strlen(out);
    snprintf(out + used, cap - used, "%s%s:%s", used ? " " : "",
             it->kind == SDK_LIST_PREFIX ? "P" : "O", it->name);
  }
}

static void test_list_sorted(void **state)
{
  sdk_list_page p = SDK_LIST_PAGE_INIT;
  char got[256];
  int nodes[4] = {0, 1, 2, 3};

  (void)state;
  /* as Azurite sends a page: prefixes first, then blobs */
  assert_int_equal(sdk_list_page_add(&p, "b/", SDK_LIST_PREFIX, &nodes[0]),
                   0);
  assert_int_equal(sdk_list_page_add(&p, "a/", SDK_LIST_PREFIX, NULL), 0);
  assert_int_equal(sdk_list_page_add(&p, "a", SDK_LIST_OBJECT, NULL), 0);
  assert_int_equal(sdk_list_page_add(&p, "a-b", SDK_LIST_OBJECT, NULL), 0);
  assert_int_equal(sdk_list_page_add(&p, "B", SDK_LIST_OBJECT, NULL), 0);
  assert_int_equal(sdk_list_page_take(&p, strdup("\xc3\xa9"),
                                      SDK_LIST_OBJECT, NULL), 0);
  assert_int_equal(sdk_list_page_take(&p, strdup("c"), SDK_LIST_OBJECT,
                                      &nodes[1]), 0);
  assert_int_equal(p.n, 7);
  sdk_list_page_sort(&p);
  reported(&p, NULL, got, sizeof(got));
  /* byte order: 'B' < 'a' < "a-b" < "a/" ('-' 0x2d, '/' 0x2f), UTF-8 last */
  assert_string_equal(got, "O:B O:a O:a-b P:a/ P:b/ O:c O:\xc3\xa9");
  assert_ptr_equal(p.items[4].node, &nodes[0]);
  assert_ptr_equal(p.items[5].node, &nodes[1]);
  sdk_list_page_free(&p);
  assert_null(p.items);
  assert_int_equal(p.n, 0);

  /* equal names keep the order they came in: snapshots, then the blob */
  for (int i = 0; i < 4; i++)
    assert_int_equal(sdk_list_page_add(&p, i == 2 ? "a" : "k",
                                       SDK_LIST_OBJECT, &nodes[i]), 0);
  sdk_list_page_sort(&p);
  assert_ptr_equal(p.items[0].node, &nodes[2]);
  assert_ptr_equal(p.items[1].node, &nodes[0]);
  assert_ptr_equal(p.items[2].node, &nodes[1]);
  assert_ptr_equal(p.items[3].node, &nodes[3]);
  sdk_list_page_reset(&p);
  assert_int_equal(p.n, 0);
  /* a reset page takes new items; an empty one sorts and reports nothing */
  sdk_list_page_sort(&p);
  reported(&p, NULL, got, sizeof(got));
  assert_string_equal(got, "");
  sdk_list_page_free(&p);
}

static void test_list_many(void **state)
{
  sdk_list_page p = SDK_LIST_PAGE_INIT;
  char name[16];

  (void)state;
  /* past the first growth, names taken and freed with the page */
  for (int i = 999; i >= 0; i--) {
    snprintf(name, sizeof(name), "k%04d", i);
    assert_int_equal(sdk_list_page_take(&p, strdup(name), SDK_LIST_OBJECT,
                                        NULL), 0);
  }
  sdk_list_page_sort(&p);
  for (int i = 0; i < 1000; i++) {
    snprintf(name, sizeof(name), "k%04d", i);
    assert_string_equal(p.items[i].name, name);
  }
  sdk_list_page_free(&p);
}

static void test_list_filter(void **state)
{
  sdk_list_page p = SDK_LIST_PAGE_INIT;
  sdk_list_filter f;
  char got[256];

  (void)state;
  sdk_list_filter_init(&f, "a/2");
  assert_false(sdk_list_after(&f, "a/1"));
  assert_false(sdk_list_after(&f, "a/2"));
  assert_true(sdk_list_after(&f, "a/20"));
  assert_true(sdk_list_after(&f, "b"));

  /* page 1: start_after hides names up to it, prefixes included */
  assert_int_equal(sdk_list_page_add(&p, "a/", SDK_LIST_PREFIX, NULL), 0);
  assert_int_equal(sdk_list_page_add(&p, "a/2", SDK_LIST_OBJECT, NULL), 0);
  assert_int_equal(sdk_list_page_add(&p, "a/3", SDK_LIST_OBJECT, NULL), 0);
  assert_int_equal(sdk_list_page_add(&p, "b/", SDK_LIST_PREFIX, NULL), 0);
  sdk_list_page_sort(&p);
  reported(&p, &f, got, sizeof(got));
  assert_string_equal(got, "O:a/3 P:b/");
  assert_string_equal(f.last_prefix, "b/");

  /* page 2 starts inside "b/": it is not reported again */
  sdk_list_page_reset(&p);
  assert_int_equal(sdk_list_page_add(&p, "c", SDK_LIST_OBJECT, NULL), 0);
  assert_int_equal(sdk_list_page_add(&p, "b/", SDK_LIST_PREFIX, NULL), 0);
  assert_int_equal(sdk_list_page_add(&p, "d/", SDK_LIST_PREFIX, NULL), 0);
  sdk_list_page_sort(&p);
  reported(&p, &f, got, sizeof(got));
  assert_string_equal(got, "O:c P:d/");

  /* without a filter, everything */
  reported(&p, NULL, got, sizeof(got));
  assert_string_equal(got, "P:b/ O:c P:d/");
  sdk_list_page_free(&p);
  sdk_list_filter_free(&f);
  assert_null(f.last_prefix);

  /* no start_after, and "" is none */
  sdk_list_filter_init(&f, "");
  assert_null(f.after);
  assert_true(sdk_list_after(&f, ""));
  /* prefixes given as the start of a longer name */
  assert_int_equal(sdk_list_new_prefix(&f, "x/y/z", 2), 1);
  assert_string_equal(f.last_prefix, "x/");
  assert_int_equal(sdk_list_new_prefix(&f, "x/w", 2), 0);
  assert_int_equal(sdk_list_new_prefix(&f, "x/w", 3), 1);
  assert_string_equal(f.last_prefix, "x/w");
  assert_int_equal(sdk_list_new_prefix(&f, "x/", 2), 1);
  sdk_list_filter_free(&f);
  sdk_list_filter_init(&f, NULL);
  assert_null(f.after);
  assert_null(f.last_prefix);
}

int unit_list(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_list_sorted),
    cmocka_unit_test(test_list_many),
    cmocka_unit_test(test_list_filter),
  };
  return cmocka_run_group_tests_name("sdk/list", tests, NULL, NULL);
}
