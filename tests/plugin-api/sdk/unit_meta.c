/*
** unit_meta.c -- sdk_meta.h: metadata collected from prefixed response
** headers and written as request headers, the header value check, and
** sdk_http_is_token (what a metadata name must be to be a header name),
** and sdk_meta_check against a service's rules.
*/
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "sdk_http.h"
#include "sdk_meta.h"

static void test_meta_from_headers(void **state)
{
  sdk_response *r = sdk_response_new(200);
  store_kv *md = (store_kv *)&md;
  size_t n = 99;

  (void)state;
  assert_non_null(r);
  assert_int_equal(sdk_response_add_header(r, "Content-Type", "text/plain"),
                   0);
  /* none: no array at all */
  assert_int_equal(sdk_meta_from_headers(r, "x-amz-meta-", &md, &n), 0);
  assert_null(md);
  assert_int_equal(n, 0);

  assert_int_equal(sdk_response_add_header(r, "x-amz-meta-owner", "me"), 0);
  assert_int_equal(sdk_response_add_header(r, "X-Ms-Meta-Other", "no"), 0);
  assert_int_equal(sdk_response_add_header(r, "X-AMZ-META-Color", "blue"), 0);
  assert_int_equal(sdk_response_add_header(r, "x-amz-meta-", "empty name"),
                   0);
  assert_int_equal(sdk_response_add_header(r, "x-amz-metadata", "not one"),
                   0);
  assert_int_equal(sdk_meta_from_headers(r, "x-amz-meta-", &md, &n), 0);
  assert_int_equal(n, 3);
  /* in response order, names as sent after the prefix */
  assert_string_equal(md[0].key, "owner");
  assert_string_equal(md[0].value, "me");
  assert_string_equal(md[1].key, "Color");
  assert_string_equal(md[1].value, "blue");
  assert_string_equal(md[2].key, "");
  assert_string_equal(md[2].value, "empty name");
  /* borrowed from the response */
  assert_ptr_equal(md[0].value, sdk_response_header(r, "x-amz-meta-owner"));
  free(md);

  assert_int_equal(sdk_meta_from_headers(r, "x-ms-meta-", &md, &n), 0);
  assert_int_equal(n, 1);
  assert_string_equal(md[0].key, "Other");
  free(md);
  sdk_response_free(r);
}

static void test_meta_to_headers(void **state)
{
  sdk_request *r = sdk_request_new("PUT", "http://h/c/k");
  const store_kv md[] = {{"owner", "me"}, {"empty", NULL}, {"Color", "x y"}};

  (void)state;
  assert_non_null(r);
  assert_int_equal(sdk_meta_to_headers(r, "x-ms-meta-", md, 3), 0);
  assert_int_equal(sdk_request_header_count(r), 3);
  assert_string_equal(sdk_request_header_name(r, 0), "x-ms-meta-owner");
  assert_string_equal(sdk_request_header_value(r, 0), "me");
  assert_string_equal(sdk_request_header_name(r, 1), "x-ms-meta-empty");
  assert_string_equal(sdk_request_header_value(r, 1), "");
  assert_string_equal(sdk_request_header_name(r, 2), "x-ms-meta-Color");
  assert_string_equal(sdk_request_header_value(r, 2), "x y");
  /* nothing to set is fine */
  assert_int_equal(sdk_meta_to_headers(r, "x-ms-meta-", NULL, 0), 0);
  assert_int_equal(sdk_request_header_count(r), 3);
  sdk_request_free(r);
}

static void test_meta_value_ok(void **state)
{
  char all[0x60];

  (void)state;
  for (int c = 0x20; c <= 0x7e; c++)
    all[c - 0x20] = (char)c;
  all[0x5f] = '\0';
  assert_true(sdk_meta_value_ok(all, 0));
  assert_true(sdk_meta_value_ok("", 0));
  assert_false(sdk_meta_value_ok("a\tb", 0));
  assert_true(sdk_meta_value_ok("a\tb", SDK_META_ALLOW_TAB));
  assert_false(sdk_meta_value_ok("a\r\nX-Evil: 1", SDK_META_ALLOW_TAB));
  assert_false(sdk_meta_value_ok("a\nb", SDK_META_ALLOW_TAB));
  assert_false(sdk_meta_value_ok("\x1f", SDK_META_ALLOW_TAB));
  assert_false(sdk_meta_value_ok("\x7f", SDK_META_ALLOW_TAB));
  assert_false(sdk_meta_value_ok("caf\xc3\xa9", SDK_META_ALLOW_TAB));
}

static void test_http_is_token(void **state)
{
  (void)state;
  assert_true(sdk_http_is_token("x-amz-meta-Owner_1"));
  assert_true(sdk_http_is_token("!#$%&'*+-.^_`|~09AZaz"));
  assert_false(sdk_http_is_token(""));
  assert_false(sdk_http_is_token("a b"));
  assert_false(sdk_http_is_token("a:b"));
  assert_false(sdk_http_is_token("a\"b"));
  assert_false(sdk_http_is_token("(a)"));
  assert_false(sdk_http_is_token("a/b"));
  assert_false(sdk_http_is_token("a\tb"));
  assert_false(sdk_http_is_token("caf\xc3\xa9"));
}

static int no_x(const char *s)
{
  return !strchr(s, 'x');
}

static void test_meta_check(void **state)
{
  static const sdk_meta_rules tok = {"Svc", NULL, "a token", "mark",
                                     "ours"};
  static const sdk_meta_rules nox = {"Svc", no_x, "no x", NULL, NULL};
  store_kv ok[] = {{"a", "1"}, {"B-c", "two\tthree"}};
  store_kv reserved[] = {{"a", "1"}, {"MARK", "2"}};
  store_kv bad_name[] = {{"a b", "1"}};
  store_kv null_name[] = {{NULL, "1"}};
  store_kv bad_value[] = {{"a", "line\nbreak"}};
  store_kv null_value[] = {{"a", NULL}};
  store_kv cases[] = {{"Name", "1"}, {"other", "2"}, {"nAME", "3"}};
  store_kv has_x[] = {{"box", "1"}};
  char why[256];

  (void)state;
  assert_int_equal(sdk_meta_check(&tok, "text/plain", ok, 2, why, 256), 0);
  assert_int_equal(sdk_meta_check(&tok, NULL, NULL, 0, why, 256), 0);
  assert_int_equal(sdk_meta_check(&tok, "a\rb", NULL, 0, why, 256),
                   STORE_E_INVALID);
  assert_string_equal(why, "content type: only printable ASCII is allowed");
  assert_int_equal(sdk_meta_check(&tok, NULL, NULL, 1, why, 256),
                   STORE_E_INVALID);
  assert_string_equal(why, "metadata count without array");
  assert_int_equal(sdk_meta_check(&tok, NULL, reserved, 2, why, 256),
                   STORE_E_INVALID);
  assert_string_equal(why, "metadata name 'MARK' is reserved: ours");
  assert_int_equal(sdk_meta_check(&nox, NULL, reserved, 2, why, 256), 0);
  assert_int_equal(sdk_meta_check(&tok, NULL, bad_name, 1, why, 256),
                   STORE_E_INVALID);
  assert_string_equal(why, "metadata name 'a b': a token");
  assert_int_equal(sdk_meta_check(&tok, NULL, null_name, 1, why, 256),
                   STORE_E_INVALID);
  assert_string_equal(why, "metadata name '(null)': a token");
  assert_int_equal(sdk_meta_check(&nox, NULL, has_x, 1, why, 256),
                   STORE_E_INVALID);
  assert_string_equal(why, "metadata name 'box': no x");
  assert_int_equal(sdk_meta_check(&tok, NULL, bad_value, 1, why, 256),
                   STORE_E_INVALID);
  assert_string_equal(why, "metadata 'a': the value must be printable ASCII "
                           "(Svc carries it in an HTTP header)");
  assert_int_equal(sdk_meta_check(&tok, NULL, null_value, 1, why, 256),
                   STORE_E_INVALID);
  assert_int_equal(sdk_meta_check(&tok, NULL, cases, 3, why, 256),
                   STORE_E_INVALID);
  assert_string_equal(why, "metadata names 'Name' and 'nAME' differ only in "
                           "case, which Svc does not keep apart");
}

int unit_meta(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_meta_from_headers),
    cmocka_unit_test(test_meta_to_headers),
    cmocka_unit_test(test_meta_value_ok),
    cmocka_unit_test(test_http_is_token),
    cmocka_unit_test(test_meta_check),
  };
  return cmocka_run_group_tests_name("sdk/meta", tests, NULL, NULL);
}
