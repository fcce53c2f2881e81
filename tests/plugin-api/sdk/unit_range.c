/*
** unit_range.c -- sdk_range (sdk_body.h): where a response body starts
** (200, 206, bad or late Content-Range), and the sink cutting a body that
** is longer than the range on either side, stopping once it is complete.
*/
#include <string.h>

#include "unit.h"
#include "sdk_buf.h"
#include "sdk_body.h"

typedef struct kept {
  sdk_buf b;
  unsigned calls;
  unsigned refuse_at;           /* 1-based call that refuses; 0 never */
} kept;

static int32_t keep(void *ud, const void *buf, size_t n)
{
  kept *k = ud;

  assert_true(n > 0);
  k->calls++;
  if (k->refuse_at && k->calls == k->refuse_at)
    return 1;
  assert_int_equal(sdk_buf_append(&k->b, buf, n), 0);
  return 0;
}

static sdk_response *resp_with(long status, const char *content_range)
{
  sdk_response *r = sdk_response_new(status);

  assert_non_null(r);
  if (content_range)
    assert_int_equal(sdk_response_add_header(r, "Content-Range",
                                             content_range), 0);
  return r;
}

static void test_range_start(void **state)
{
  static const struct {
    long status;
    const char *cr;
    uint64_t off;
    int rc;
    uint64_t pos;
  } t[] = {
    {200, NULL, 0, 0, 0},
    {200, NULL, 10, 0, 0},                 /* whole object: cut here      */
    {200, "bytes 5-9/100", 10, 0, 0},      /* only a 206's range counts   */
    {206, "bytes 10-19/100", 10, 0, 10},
    {206, "bytes 0-99/100", 10, 0, 0},     /* widened: cut here           */
    {206, "bytes 11-19/100", 10, -1, 11},  /* starts after what is wanted */
    {206, NULL, 0, -1, 0},
    {206, "bytes */100", 0, -1, 0},
    {206, "items 0-1/2", 0, -1, 0},
    {206, "bytes -1", 0, -1, 0},
  };

  (void)state;
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    sdk_response *r = resp_with(t[i].status, t[i].cr);
    sdk_range g;
    sdk_range_init(&g, t[i].off, 0, keep, NULL);
    g.pos = 12345;
    if (sdk_range_start(&g, r) != t[i].rc || g.pos != t[i].pos)
      fail_msg("case %zu: %ld '%s' from %llu: rc %d pos %llu", i,
               t[i].status, t[i].cr ? t[i].cr : "(none)",
               (unsigned long long)t[i].off, sdk_range_start(&g, r),
               (unsigned long long)g.pos);
    sdk_response_free(r);
  }
}

/* Feed body to g in pieces of `step` until it stops; returns its last
 * answer, *pieces how many went in. */
static int32_t feed(sdk_range *g, const char *body, size_t step,
                    unsigned *pieces)
{
  size_t len = strlen(body), at = 0;
  int32_t rc = 0;

  *pieces = 0;
  while (at < len && !rc) {
    size_t n = len - at < step ? len - at : step;
    rc = sdk_range_write(g, body + at, n);
    at += n;
    (*pieces)++;
  }
  return rc;
}

static void test_range_cut(void **state)
{
  const char *obj = "0123456789abcdefghijklmnopqrstuvwxyz";
  sdk_response *whole = resp_with(200, NULL);
  sdk_response *late = resp_with(206, "bytes 8-35/36");
  kept k = {SDK_BUF_INIT, 0, 0};
  unsigned pieces;
  sdk_range g;

  (void)state;
  /* a 200 with the whole object for bytes 10..19: both ends cut, and the
   * transfer stopped after the last wanted byte */
  sdk_range_init(&g, 10, 10, keep, &k);
  assert_int_equal(sdk_range_start(&g, whole), 0);
  assert_int_equal(feed(&g, obj, 7, &pieces), 1);
  assert_string_equal(sdk_buf_str(&k.b), "abcdefghij");
  assert_int_equal(g.delivered, 10);
  assert_true(g.done);
  assert_int_equal(pieces, 3);        /* 0-6, 7-13, 14-20: then stopped */

  /* a widened 206 from 8, to the end (len 0): only the start cut */
  sdk_buf_reset(&k.b);
  sdk_range_init(&g, 10, 0, keep, &k);
  assert_int_equal(sdk_range_start(&g, late), 0);
  assert_int_equal(feed(&g, obj + 8, 5, &pieces), 0);
  assert_string_equal(sdk_buf_str(&k.b), "abcdefghijklmnopqrstuvwxyz");
  assert_false(g.done);

  /* pieces wholly before the range reach no sink; no call has 0 bytes */
  sdk_buf_reset(&k.b);
  k.calls = 0;
  sdk_range_init(&g, 20, 3, keep, &k);
  assert_int_equal(sdk_range_start(&g, whole), 0);
  assert_int_equal(feed(&g, obj, 4, &pieces), 1);
  assert_string_equal(sdk_buf_str(&k.b), "klm");
  assert_int_equal(k.calls, 1);
  assert_true(g.done);

  /* the sink's refusal stops it, and is not "done" */
  sdk_buf_reset(&k.b);
  k.calls = 0;
  k.refuse_at = 2;
  sdk_range_init(&g, 0, 0, keep, &k);
  assert_int_equal(sdk_range_start(&g, whole), 0);
  assert_int_equal(feed(&g, obj, 10, &pieces), 1);
  assert_int_equal(pieces, 2);
  assert_int_equal(g.delivered, 10);
  assert_false(g.done);

  sdk_buf_free(&k.b);
  sdk_response_free(whole);
  sdk_response_free(late);
}

int unit_range(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_range_start),
    cmocka_unit_test(test_range_cut),
  };
  return cmocka_run_group_tests_name("sdk/range", tests, NULL, NULL);
}
