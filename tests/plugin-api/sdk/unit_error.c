/*
** unit_error.c -- sdk_error.h: the status table, Retry-After (seconds,
** HTTP dates, caps, garbage), the request id and provider code, the
** server's text cleaned of control bytes; clearing a handled error; the
** "OP WHAT: CAUSE" messages (sdk_error_describe, sdk_error_fail).
*/
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "unit.h"
#include "sdk_error.h"
#include "sdk_util.h"

static void test_status_table(void **state)
{
  static const struct {
    long status;
    int32_t code;
    int retryable;
  } t[] = {
    {400, STORE_E_INVALID, 0},     {401, STORE_E_AUTH, 0},
    {403, STORE_E_PERMISSION, 0},  {404, STORE_E_NOT_FOUND, 0},
    {405, STORE_E_UNSUPPORTED, 0}, {408, STORE_E_TIMEOUT, 1},
    {409, STORE_E_EXISTS, 0},      {412, STORE_E_PRECONDITION, 0},
    {416, STORE_E_INVALID, 0},     {429, STORE_E_THROTTLED, 1},
    {500, STORE_E_SERVER, 1},      {501, STORE_E_UNSUPPORTED, 0},
    {502, STORE_E_SERVER, 1},      {503, STORE_E_THROTTLED, 1},
    {504, STORE_E_SERVER, 1},      {505, STORE_E_SERVER, 0},
    {599, STORE_E_SERVER, 0},      {200, STORE_E_INTERNAL, 0},
    {301, STORE_E_INTERNAL, 0},    {304, STORE_E_INTERNAL, 0},
    {410, STORE_E_INTERNAL, 0},    {0, STORE_E_INTERNAL, 0},
    {600, STORE_E_INTERNAL, 0},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    if (sdk_status_code(t[i].status) != t[i].code ||
        !sdk_status_retryable(t[i].status) != !t[i].retryable)
      fail_msg("status %ld: code %d retryable %d", t[i].status,
               sdk_status_code(t[i].status),
               sdk_status_retryable(t[i].status));
  }
}

/* A response with one Retry-After value (NULL: none). */
static sdk_response *with_retry_after(long status, const char *v)
{
  sdk_response *r = sdk_response_new(status);

  assert_non_null(r);
  if (v)
    assert_int_equal(sdk_response_add_header(r, "Retry-After", v), 0);
  return r;
}

static uint32_t retry_ms(long status, const char *v)
{
  sdk_response *r = with_retry_after(status, v);
  store_error e;

  UNIT_ERR(e);
  sdk_error_http(&e, r, 0, NULL, NULL, "x");
  sdk_response_free(r);
  return e.retry_after_ms;
}

static void test_full_error(void **state)
{
  sdk_response *r = sdk_response_new(503);
  store_error e;
  int32_t rc;

  (void)state;
  assert_int_equal(sdk_response_add_header(r, "Retry-After", "2"), 0);
  assert_int_equal(sdk_response_add_header(r, "x-amz-request-id",
                                           "4442587FB7D0A2F9"), 0);
  UNIT_ERR(e);
  rc = sdk_error_http(&e, r, 0, "SlowDown", "X-Amz-Request-Id",
                      "object '%s': %s", "b/k", "please reduce your rate");
  assert_int_equal(rc, STORE_E_THROTTLED);
  assert_int_equal(e.code, STORE_E_THROTTLED);
  assert_int_equal(e.http_status, 503);
  assert_true(e.flags & STORE_ERR_RETRYABLE);
  assert_int_equal(e.retry_after_ms, 2000);
  assert_string_equal(e.request_id, "4442587FB7D0A2F9");
  assert_string_equal(e.provider_code, "SlowDown");
  assert_string_equal(e.message, "object 'b/k': please reduce your rate");
  sdk_response_free(r);
}

static void test_code_override_and_flags(void **state)
{
  sdk_response *r = sdk_response_new(409);
  char longcode[200];
  store_error e;

  (void)state;
  memset(longcode, 'C', sizeof(longcode) - 1);
  longcode[sizeof(longcode) - 1] = '\0';
  UNIT_ERR(e);
  e.flags = STORE_ERR_RETRYABLE; /* stale: must be cleared for a 409 */
  assert_int_equal(sdk_error_http(&e, r, STORE_E_NOT_EMPTY, longcode,
                                  "x-ms-request-id", "container busy"),
                   STORE_E_NOT_EMPTY);
  assert_int_equal(e.code, STORE_E_NOT_EMPTY);
  assert_false(e.flags & STORE_ERR_RETRYABLE);
  assert_string_equal(e.request_id, ""); /* header absent */
  assert_int_equal(strlen(e.provider_code), STORE_ERR_CODE_SIZE - 1);
  assert_int_equal(e.retry_after_ms, 0);
  sdk_response_free(r);
  /* No error struct: still the classification. */
  assert_int_equal(sdk_error_http(NULL, NULL, 0, NULL, NULL, "x"),
                   STORE_E_INTERNAL);
}

/* What the server sent is quoted on one line: its control bytes (a line
 * break, an escape, DEL) become '?', in the message, the code and the id;
 * bytes of UTF-8 stay. */
static void test_server_text_cleaned(void **state)
{
  sdk_response *r = sdk_response_new(400);
  char s[] = "a\tb\x7f\xc3\xa9";
  store_error e;

  (void)state;
  assert_int_equal(sdk_response_add_header(r, "x-amz-request-id",
                                           "ID\x1b[2J"), 0);
  UNIT_ERR(e);
  sdk_error_http(&e, r, 0, "Bad\rCode", "x-amz-request-id", "op: %s",
                 "line one\nfake: \x1b[31mred\x1b[0m");
  assert_string_equal(e.message, "op: line one?fake: ?[31mred?[0m");
  assert_string_equal(e.provider_code, "Bad?Code");
  assert_string_equal(e.request_id, "ID?[2J");
  sdk_response_free(r);
  assert_string_equal(sdk_text_clean(s), "a?b?\xc3\xa9");
  assert_null(sdk_text_clean(NULL));
}

static void test_retry_after_seconds(void **state)
{
  (void)state;
  assert_int_equal(retry_ms(503, NULL), 0);
  assert_int_equal(retry_ms(503, "0"), 0);
  assert_int_equal(retry_ms(429, "7"), 7000);
  assert_int_equal(retry_ms(503, "600"), 600000);
  assert_int_equal(retry_ms(503, "601"), 600000);          /* capped */
  assert_int_equal(retry_ms(503, "99999999999999999999"), 600000);
  assert_int_equal(retry_ms(503, "-5"), 0);
  assert_int_equal(retry_ms(503, "soon"), 0);
  assert_int_equal(retry_ms(503, "2.5"), 0);
  assert_int_equal(retry_ms(503, ""), 0);
}

static void test_retry_after_date(void **state)
{
  char date[30];
  uint32_t ms;

  (void)state;
  sdk_time_format_http(time(NULL) + 30, date);
  ms = retry_ms(503, date);
  assert_in_range(ms, 28000, 30000);
  sdk_time_format_http(time(NULL) - 3600, date); /* in the past: now */
  assert_int_equal(retry_ms(503, date), 0);
  sdk_time_format_http(time(NULL) + 86400, date); /* far: capped */
  assert_int_equal(retry_ms(503, date), 600000);
}

/* An HTTP-date Retry-After counts from the response's Date, the server's
 * clock, not the local one (here an hour off). */
static void test_retry_after_date_server_clock(void **state)
{
  char date[30], server[30];
  sdk_response *r = sdk_response_new(503);
  store_error e;

  (void)state;
  memset(&e, 0, sizeof(e));
  e.struct_size = sizeof(e);
  sdk_time_format_http(time(NULL) - 3600 + 30, date);
  sdk_time_format_http(time(NULL) - 3600, server);
  assert_int_equal(sdk_response_add_header(r, "Retry-After", date), 0);
  assert_int_equal(sdk_response_add_header(r, "Date", server), 0);
  sdk_error_http(&e, r, 0, NULL, NULL, "x");
  assert_int_equal(e.retry_after_ms, 30000);
  sdk_response_free(r);
}

static void test_clear(void **state)
{
  store_error e[2];

  (void)state;
  memset(e, 0x5a, sizeof(e));
  e[0].struct_size = offsetof(store_error, message); /* an older caller */
  sdk_error_clear(&e[0]);
  assert_int_equal(e[0].struct_size, offsetof(store_error, message));
  assert_int_equal(e[0].code, 0);
  assert_int_equal(e[0].flags, 0);
  assert_int_equal((unsigned char)e[0].message[0], 0x5a); /* not its own */
  e[1].struct_size = sizeof(e[1]);
  sdk_error_clear(&e[1]);
  assert_int_equal(e[1].code, 0);
  assert_string_equal(e[1].message, "");
  sdk_error_clear(NULL);
}

static void test_describe_and_fail(void **state)
{
  static const sdk_nouns n = {"the account", "container", "blob",
                              "snapshot"};
  char out[256], longkey[200];
  store_error err;

  (void)state;
  sdk_error_describe(&n, NULL, "k", NULL, out, sizeof(out));
  assert_string_equal(out, "the account");
  sdk_error_describe(&n, "c", NULL, "v", out, sizeof(out));
  assert_string_equal(out, "container 'c'");
  sdk_error_describe(&n, "c", "a/b", NULL, out, sizeof(out));
  assert_string_equal(out, "blob 'c/a/b'");
  sdk_error_describe(&n, "c", "k", "2026", out, sizeof(out));
  assert_string_equal(out, "blob 'c/k' snapshot '2026'");
  memset(longkey, 'x', sizeof(longkey) - 1);
  longkey[sizeof(longkey) - 1] = '\0';
  sdk_error_describe(&n, "c", longkey, NULL, out, sizeof(out));
  assert_int_equal(strlen(out), strlen("blob 'c/'") + 96); /* cut */
  sdk_error_describe(&n, "c", "k", NULL, out, 6);
  assert_string_equal(out, "blob ");

  memset(&err, 0, sizeof(err));
  err.struct_size = sizeof(err);
  assert_int_equal(sdk_error_fail(&err, STORE_E_IO, "get", "blob 'c/k'",
                                  "short read (%d of %d)", 3, 5),
                   STORE_E_IO);
  assert_int_equal(err.code, STORE_E_IO);
  assert_string_equal(err.message, "get blob 'c/k': short read (3 of 5)");
  /* the cause may quote the server: no control byte gets through */
  sdk_error_fail(&err, STORE_E_SERVER, "put", "the account", "said %s",
                 "a\r\nb");
  assert_null(strpbrk(err.message, "\r\n"));
  assert_non_null(strstr(err.message, "put the account: said a"));
}

static void test_code_table_and_response(void **state)
{
  static const sdk_error_code codes[] = {
    {"Gone", STORE_E_NOT_FOUND, 0, "not found"},
    {"Busy", STORE_E_THROTTLED, 1, "busy"},
  };
  sdk_response *r = sdk_response_new(404);
  store_error e;

  (void)state;
  assert_null(sdk_error_code_find(codes, 2, NULL));
  assert_null(sdk_error_code_find(codes, 2, "gone")); /* exact */
  assert_ptr_equal(sdk_error_code_find(codes, 2, "Busy"), &codes[1]);

  /* a cause: "OP WHAT: CAUSE (CODE: FIRST LINE)" */
  UNIT_ERR(e);
  assert_int_equal(sdk_error_response(&e, r, STORE_E_NOT_FOUND, 0, "Gone",
                                      NULL, "get", "blob 'c/k'",
                                      "not found", "It is gone.\nRequestId"),
                   STORE_E_NOT_FOUND);
  assert_string_equal(e.message, "get blob 'c/k': not found (Gone: It is "
                                 "gone.)");
  assert_string_equal(e.provider_code, "Gone");
  assert_false(e.flags & STORE_ERR_RETRYABLE);
  /* no cause: the status, the code if any, the message if any; retry */
  UNIT_ERR(e);
  assert_int_equal(sdk_error_response(&e, r, 0, 1, "Odd", NULL, "head",
                                      "the account", NULL, ""),
                   STORE_E_NOT_FOUND);
  assert_string_equal(e.message, "head the account: HTTP 404 (Odd)");
  assert_true(e.flags & STORE_ERR_RETRYABLE);
  UNIT_ERR(e);
  sdk_error_response(&e, r, 0, 0, NULL, NULL, "head", "the account", NULL,
                     "why");
  assert_string_equal(e.message, "head the account: HTTP 404: why");
  sdk_response_free(r);
}

int unit_error(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_status_table),
    cmocka_unit_test(test_full_error),
    cmocka_unit_test(test_code_override_and_flags),
    cmocka_unit_test(test_server_text_cleaned),
    cmocka_unit_test(test_retry_after_seconds),
    cmocka_unit_test(test_retry_after_date),
    cmocka_unit_test(test_retry_after_date_server_clock),
    cmocka_unit_test(test_clear),
    cmocka_unit_test(test_describe_and_fail),
    cmocka_unit_test(test_code_table_and_response),
  };

  return cmocka_run_group_tests_name("sdk_error", tests, NULL, NULL);
}
