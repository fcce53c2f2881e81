/* Address parsing: SERVICE:CONTAINER/KEY, :CONTAINER/KEY, local paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "xtstore.h"

static void expect_remote(const char *text, const char *svc, const char *c,
                          const char *k)
{
  xtstore_addr a;
  store_error err;
  assert_int_equal(xtstore_addr_parse(text, &a, &err), STORE_OK);
  assert_int_equal(a.kind, XTSTORE_ADDR_REMOTE);
  if (svc)
    assert_string_equal(a.service, svc);
  else
    assert_null(a.service);
  if (c)
    assert_string_equal(a.container, c);
  else
    assert_null(a.container);
  if (k)
    assert_string_equal(a.key, k);
  else
    assert_null(a.key);
  assert_null(a.path);
  xtstore_addr_free(&a);
}

static void expect_local(const char *text)
{
  xtstore_addr a;
  store_error err;
  assert_int_equal(xtstore_addr_parse(text, &a, &err), STORE_OK);
  assert_int_equal(a.kind, XTSTORE_ADDR_LOCAL);
  assert_string_equal(a.path, text);
  assert_null(a.service);
  xtstore_addr_free(&a);
}

static void test_remote_forms(void **state)
{
  (void)state;
  expect_remote("scratch:logs/2026/a.txt", "scratch", "logs", "2026/a.txt");
  expect_remote(":logs/a.txt", NULL, "logs", "a.txt");
  expect_remote("s3.east:bucket", "s3.east", "bucket", NULL);
  expect_remote("svc:bucket/", "svc", "bucket", NULL);
  expect_remote("svc:", "svc", NULL, NULL);
  expect_remote("svc:c/key:with:colons and spaces", "svc", "c",
                "key:with:colons and spaces");
  expect_remote("svc:c/dir/", "svc", "c", "dir/");
}

static void test_local_forms(void **state)
{
  (void)state;
  expect_local("file.txt");
  expect_local("./a:b");
  expect_local("/tmp/x:y/z");
  expect_local("dir/sub:thing");
  expect_local("-");
}

static void test_errors(void **state)
{
  xtstore_addr a;
  store_error err;
  (void)state;
  assert_int_equal(xtstore_addr_parse("", &a, &err), STORE_E_INVALID);
  assert_string_equal(err.message, "empty address");
  assert_int_equal(xtstore_addr_parse("svc:/key", &a, &err), STORE_E_INVALID);
  assert_non_null(strstr(err.message, "'svc:/key'"));
  assert_non_null(strstr(err.message, "no container"));
  assert_null(a.service);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_remote_forms),
    cmocka_unit_test(test_local_forms),
    cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
