/*
** unit_buf.c -- sdk_buf, and the encodings and config helpers of
** sdk_util.h: percent-encoding, hex, base64, sdk_kv_get, sdk_parse_bool.
*/
#include <string.h>

#include "unit.h"
#include "sdk_buf.h"
#include "sdk_util.h"

static void test_buf_growth(void **state)
{
  sdk_buf b = SDK_BUF_INIT;
  size_t i, cap;

  (void)state;
  assert_string_equal(sdk_buf_str(&b), "");
  assert_null(b.data);
  for (i = 0; i < 10000; i++)
    assert_int_equal(sdk_buf_putc(&b, (char)('a' + i % 26)), 0);
  assert_int_equal(b.len, 10000);
  assert_true(b.cap > b.len);
  assert_int_equal(b.data[b.len], '\0');
  for (i = 0; i < 10000; i++)
    assert_int_equal(b.data[i], 'a' + i % 26);

  cap = b.cap;
  sdk_buf_reset(&b);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.cap, cap);
  assert_string_equal(sdk_buf_str(&b), "");

  assert_int_equal(sdk_buf_puts(&b, "hello"), 0);
  assert_int_equal(sdk_buf_append(&b, ", ", 2), 0);
  assert_int_equal(sdk_buf_printf(&b, "%s #%d", "world", 42), 0);
  assert_string_equal(sdk_buf_str(&b), "hello, world #42");
  sdk_buf_truncate(&b, 5);
  assert_string_equal(sdk_buf_str(&b), "hello");
  sdk_buf_truncate(&b, 99); /* longer: nothing changes */
  assert_string_equal(sdk_buf_str(&b), "hello");

  sdk_buf_free(&b);
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.cap, 0);
}

static void test_buf_printf_long(void **state)
{
  sdk_buf b = SDK_BUF_INIT;
  char big[5000];

  (void)state;
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  assert_int_equal(sdk_buf_puts(&b, "<"), 0);
  assert_int_equal(sdk_buf_printf(&b, "%s>", big), 0);
  assert_int_equal(b.len, 5001);
  assert_int_equal(b.data[0], '<');
  assert_int_equal(b.data[4999], 'x');
  assert_int_equal(b.data[5000], '>');
  assert_int_equal(b.data[5001], '\0');
  sdk_buf_free(&b);
}

/* Encode s, compare with want. */
static void check_encode(const char *s, size_t len, int keep_slash,
                         const char *want)
{
  sdk_buf b = SDK_BUF_INIT;

  assert_int_equal(sdk_uri_encode(&b, s, len, keep_slash), 0);
  assert_string_equal(sdk_buf_str(&b), want);
  sdk_buf_free(&b);
}

static void test_uri_encode(void **state)
{
  (void)state;
  check_encode("AZaz09-._~", 10, 0, "AZaz09-._~");
  check_encode("a b/c", 5, 0, "a%20b%2Fc");
  check_encode("a b/c", 5, 1, "a%20b/c");
  check_encode("dir/../x", 8, 1, "dir/../x");
  check_encode("1+1=2&x*y", 9, 0, "1%2B1%3D2%26x%2Ay");
  check_encode("caf\xc3\xa9", 5, 0, "caf%C3%A9"); /* UTF-8 bytes, upper hex */
  check_encode("\x00\xff", 2, 0, "%00%FF");
  check_encode("", 0, 0, "");
}

static void test_uri_decode(void **state)
{
  sdk_buf b = SDK_BUF_INIT;
  char all[256];
  sdk_buf enc = SDK_BUF_INIT;
  int i;

  (void)state;
  assert_int_equal(sdk_uri_decode(&b, "a%2Fb%2fc", 9, 0), 0);
  assert_string_equal(sdk_buf_str(&b), "a/b/c");
  sdk_buf_reset(&b);
  assert_int_equal(sdk_uri_decode(&b, "a+b%20c", 7, 1), 0);
  assert_string_equal(sdk_buf_str(&b), "a b c");
  sdk_buf_reset(&b);
  assert_int_equal(sdk_uri_decode(&b, "a+b", 3, 0), 0);
  assert_string_equal(sdk_buf_str(&b), "a+b");
  sdk_buf_reset(&b);
  assert_int_equal(sdk_uri_decode(&b, "caf%C3%A9", 9, 0), 0);
  assert_string_equal(sdk_buf_str(&b), "caf\xc3\xa9");

  /* Bad escapes fail and leave what was there before. */
  sdk_buf_reset(&b);
  assert_int_equal(sdk_buf_puts(&b, "keep"), 0);
  assert_int_equal(sdk_uri_decode(&b, "ab%2", 4, 0), -1);
  assert_int_equal(sdk_uri_decode(&b, "ab%", 3, 0), -1);
  assert_int_equal(sdk_uri_decode(&b, "ab%zz", 5, 0), -1);
  assert_int_equal(sdk_uri_decode(&b, "%g0", 3, 0), -1);
  assert_string_equal(sdk_buf_str(&b), "keep");
  assert_int_equal(b.len, 4);

  /* Every byte survives a round trip. */
  for (i = 0; i < 256; i++)
    all[i] = (char)i;
  assert_int_equal(sdk_uri_encode(&enc, all, sizeof(all), 0), 0);
  sdk_buf_reset(&b);
  assert_int_equal(sdk_uri_decode(&b, enc.data, enc.len, 1), 0);
  assert_int_equal(b.len, 256);
  assert_memory_equal(b.data, all, 256);
  sdk_buf_free(&enc);
  sdk_buf_free(&b);
}

static void test_hex(void **state)
{
  const unsigned char in[] = {0x00, 0xff, 0x10, 0xab};
  char out[9];

  (void)state;
  sdk_hex(in, sizeof(in), out);
  assert_string_equal(out, "00ff10ab");
  sdk_hex(in, 0, out);
  assert_string_equal(out, "");
}

static void test_unhex(void **state)
{
  unsigned char got[4] = {9, 9, 9, 9};

  (void)state;
  assert_int_equal(sdk_unhex("00ff10AB", got, sizeof(got)), 0);
  assert_int_equal(got[0], 0x00);
  assert_int_equal(got[1], 0xff);
  assert_int_equal(got[2], 0x10);
  assert_int_equal(got[3], 0xab);
  /* Too short, too long, not hex, none: refused, out untouched. */
  memset(got, 9, sizeof(got));
  assert_int_equal(sdk_unhex("00ff10a", got, sizeof(got)), -1);
  assert_int_equal(sdk_unhex("00ff10ab0", got, sizeof(got)), -1);
  assert_int_equal(sdk_unhex("00ff10ag", got, sizeof(got)), -1);
  assert_int_equal(sdk_unhex(NULL, got, sizeof(got)), -1);
  assert_int_equal(got[0], 9);
}

static void test_base64_vectors(void **state)
{
  /* RFC 4648 section 10. */
  static const char *const v[][2] = {
    {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  sdk_buf b = SDK_BUF_INIT;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
    sdk_buf_reset(&b);
    assert_int_equal(sdk_base64_encode(&b, v[i][0], strlen(v[i][0])), 0);
    assert_string_equal(sdk_buf_str(&b), v[i][1]);
    sdk_buf_reset(&b);
    assert_int_equal(sdk_base64_decode(&b, v[i][1], strlen(v[i][1])), 0);
    assert_int_equal(b.len, strlen(v[i][0]));
    assert_string_equal(sdk_buf_str(&b), v[i][0]);
  }
  sdk_buf_free(&b);
}

static void test_base64_round_trip(void **state)
{
  unsigned char data[5003]; /* spans several internal chunks, odd length */
  sdk_buf enc = SDK_BUF_INIT, dec = SDK_BUF_INIT;
  uint32_t x = 12345;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(data); i++) {
    x = x * 1103515245u + 12345u;
    data[i] = (unsigned char)(x >> 16);
  }
  assert_int_equal(sdk_base64_encode(&enc, data, sizeof(data)), 0);
  assert_int_equal(enc.len, (sizeof(data) + 2) / 3 * 4);
  assert_int_equal(sdk_base64_decode(&dec, enc.data, enc.len), 0);
  assert_int_equal(dec.len, sizeof(data));
  assert_memory_equal(dec.data, data, sizeof(data));
  sdk_buf_free(&enc);
  sdk_buf_free(&dec);
}

static void test_base64_invalid(void **state)
{
  static const char *const bad[] = {
    "Zg=",        /* not a multiple of 4 */
    "Zg",         /* padding missing */
    "Z===",       /* too much padding */
    "====",
    "Zg==Zg==",   /* padding in the middle */
    "Zm9v\n",     /* whitespace */
    " Zm9v",
    "Zm9v Zm9v",
    "Zm-v",       /* URL-safe alphabet */
    "Zm_v",
    "Zm9\x80",
  };
  sdk_buf b = SDK_BUF_INIT;
  size_t i;

  (void)state;
  assert_int_equal(sdk_buf_puts(&b, "keep"), 0);
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_int_equal(sdk_base64_decode(&b, bad[i], strlen(bad[i])), -1);
    assert_string_equal(sdk_buf_str(&b), "keep");
  }
  sdk_buf_free(&b);
}

static void test_kv_get(void **state)
{
  const store_kv kv[] = {{"name", "svc"}, {"endpoint", "http://x"},
                         {"name", "second"}};

  (void)state;
  assert_string_equal(sdk_kv_get(kv, 3, "endpoint"), "http://x");
  assert_string_equal(sdk_kv_get(kv, 3, "name"), "svc"); /* the first */
  assert_null(sdk_kv_get(kv, 3, "Endpoint"));          /* exact match */
  assert_null(sdk_kv_get(kv, 1, "endpoint"));          /* only n entries */
  assert_null(sdk_kv_get(NULL, 0, "name"));
}

static void test_parse_bool(void **state)
{
  static const char *const yes[] = {"true", "TRUE", "yes", "Yes", "1", "on",
                                    "ON"};
  static const char *const no[] = {"false", "False", "no", "NO", "0", "off"};
  static const char *const neither[] = {"", "2", "y", "truee", " true",
                                        "enabled"};
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
    assert_int_equal(sdk_parse_bool(yes[i]), 1);
  for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
    assert_int_equal(sdk_parse_bool(no[i]), 0);
  for (i = 0; i < sizeof(neither) / sizeof(neither[0]); i++)
    assert_int_equal(sdk_parse_bool(neither[i]), -1);
  assert_int_equal(sdk_parse_bool(NULL), -1);
}

int unit_buf(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_buf_growth),
    cmocka_unit_test(test_buf_printf_long),
    cmocka_unit_test(test_uri_encode),
    cmocka_unit_test(test_uri_decode),
    cmocka_unit_test(test_hex),
    cmocka_unit_test(test_unhex),
    cmocka_unit_test(test_base64_vectors),
    cmocka_unit_test(test_base64_round_trip),
    cmocka_unit_test(test_base64_invalid),
    cmocka_unit_test(test_kv_get),
    cmocka_unit_test(test_parse_bool),
  };

  return cmocka_run_group_tests_name("sdk_buf+sdk_util", tests, NULL, NULL);
}
