/*
** unit_request.c -- requests and responses without a network: headers
** (replace, remove, order, case), framing headers for signers, hand-built
** responses, the object size a response gives, and client configuration
** checks.
*/
#include <string.h>

#include "unit.h"
#include "sdk_http.h"

static void test_request_headers(void **state)
{
  sdk_request *r = sdk_request_new("PUT", "http://h/b/k?x=1");

  (void)state;
  assert_non_null(r);
  assert_string_equal(sdk_request_method(r), "PUT");
  assert_string_equal(sdk_request_url(r), "http://h/b/k?x=1");
  assert_int_equal(sdk_request_set_header(r, "Host", "h"), 0);
  assert_int_equal(sdk_request_set_header(r, "x-amz-date", "20150830T1236Z"),
                   0);
  assert_int_equal(sdk_request_set_header(r, "Content-Type", "text/plain"), 0);
  assert_int_equal(sdk_request_header_count(r), 3);

  /* Replace keeps the position and takes the new spelling of the name. */
  assert_int_equal(sdk_request_set_header(r, "X-AMZ-DATE", "20260101T0000Z"),
                   0);
  assert_int_equal(sdk_request_header_count(r), 3);
  assert_string_equal(sdk_request_header_name(r, 1), "X-AMZ-DATE");
  assert_string_equal(sdk_request_header_value(r, 1), "20260101T0000Z");
  assert_string_equal(sdk_request_header(r, "x-amz-date"), "20260101T0000Z");

  /* NULL removes; order of the rest is kept. */
  assert_int_equal(sdk_request_set_header(r, "host", NULL), 0);
  assert_int_equal(sdk_request_header_count(r), 2);
  assert_string_equal(sdk_request_header_name(r, 0), "X-AMZ-DATE");
  assert_string_equal(sdk_request_header_name(r, 1), "Content-Type");
  assert_null(sdk_request_header(r, "Host"));
  assert_null(sdk_request_header_name(r, 2));
  assert_null(sdk_request_header_value(r, 2));
  assert_int_equal(sdk_request_set_header(r, "Absent", NULL), 0);

  assert_int_equal(sdk_request_set_url(r, "http://h/b/k2"), 0);
  assert_string_equal(sdk_request_url(r), "http://h/b/k2");
  sdk_request_free(r);
  sdk_request_free(NULL);
  assert_null(sdk_request_new(NULL, "http://h/"));
}

static int32_t no_read(void *ctx, void *buf, size_t cap, size_t *out_n)
{
  (void)ctx;
  (void)buf;
  (void)cap;
  *out_n = 0;
  return 0;
}

static void test_body_framing_headers(void **state)
{
  sdk_request *r = sdk_request_new("PUT", "http://h/b/k");

  (void)state;
  sdk_request_body_mem(r, "hello", 5);
  assert_string_equal(sdk_request_header(r, "Content-Length"), "5");
  assert_null(sdk_request_header(r, "Transfer-Encoding"));

  sdk_request_body_stream(r, no_read, NULL, -1);
  assert_null(sdk_request_header(r, "Content-Length"));
  assert_string_equal(sdk_request_header(r, "Transfer-Encoding"), "chunked");

  sdk_request_body_stream(r, no_read, NULL, 5000000000LL);
  assert_string_equal(sdk_request_header(r, "content-length"), "5000000000");
  assert_null(sdk_request_header(r, "Transfer-Encoding"));
  assert_int_equal(sdk_request_header_count(r), 1);
  sdk_request_free(r);
}

static void test_response_by_hand(void **state)
{
  sdk_response *resp = sdk_response_new(404);
  size_t len = 99;

  (void)state;
  assert_non_null(resp);
  assert_int_equal(sdk_response_status(resp), 404);
  assert_string_equal(sdk_response_body(resp, &len), "");
  assert_int_equal(len, 0);
  assert_int_equal(sdk_response_add_header(resp, "Set-Thing", "1"), 0);
  assert_int_equal(sdk_response_add_header(resp, "x-ms-request-id", "r"), 0);
  assert_int_equal(sdk_response_add_header(resp, "set-thing", "2"), 0);
  /* Repeated: the last one wins; iteration shows all, in order. */
  assert_string_equal(sdk_response_header(resp, "SET-THING"), "2");
  assert_int_equal(sdk_response_header_count(resp), 3);
  assert_string_equal(sdk_response_header_name(resp, 2), "set-thing");
  assert_string_equal(sdk_response_header_value(resp, 0), "1");
  assert_null(sdk_response_header_name(resp, 3));
  assert_null(sdk_response_header(resp, "nope"));
  assert_int_equal(sdk_response_append_body(resp, "<Error/>", 8), 0);
  assert_string_equal(sdk_response_body(resp, NULL), "<Error/>");
  sdk_response_free(resp);
  sdk_response_free(NULL);
}

static void test_client_config(void **state)
{
  sdk_http_config cfg;
  sdk_http *h = (sdk_http *)&h;
  store_error e;

  (void)state;
  UNIT_ERR(e);
  assert_int_equal(sdk_http_new(NULL, &h, &e), STORE_OK);
  assert_non_null(h);
  sdk_http_free(h);
  sdk_http_free(NULL);

  /* A config whose struct_size was forgotten is refused, not ignored. */
  memset(&cfg, 0, sizeof(cfg));
  h = (sdk_http *)&h;
  assert_int_equal(sdk_http_new(&cfg, &h, &e), STORE_E_INVALID);
  assert_null(h);
  assert_non_null(strstr(e.message, "struct_size"));

  cfg.struct_size = sizeof(cfg);
  cfg.verify_tls = SDK_HTTP_TLS_NO_VERIFY;
  cfg.ca_bundle = "/nonexistent/ca.pem";
  cfg.user_agent = "test/1";
  cfg.pool_size = 2;
  UNIT_ERR(e);
  assert_int_equal(sdk_http_new(&cfg, &h, &e), STORE_OK);
  sdk_http_free(h);
}

static uint64_t size_of(const char *range, const char *length)
{
  sdk_response *r = sdk_response_new(range ? 206 : 200);
  uint64_t n;

  assert_non_null(r);
  if (range)
    assert_int_equal(sdk_response_add_header(r, "Content-Range", range), 0);
  if (length)
    assert_int_equal(sdk_response_add_header(r, "Content-Length", length),
                     0);
  n = sdk_response_total_size(r);
  sdk_response_free(r);
  return n;
}

static void test_total_size(void **state)
{
  (void)state;
  assert_int_equal(size_of("bytes 0-9/1000", "10"), 1000);
  assert_int_equal(size_of(NULL, "42"), 42);
  assert_int_equal(size_of("bytes 0-9/*", "10"), 10); /* total unknown */
  assert_int_equal(size_of(NULL, NULL), 0);
  assert_int_equal(size_of("bytes 5-9/18446744073709551615", "5"),
                   UINT64_MAX);
}

int unit_request(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_request_headers),
    cmocka_unit_test(test_body_framing_headers),
    cmocka_unit_test(test_response_by_hand),
    cmocka_unit_test(test_total_size),
    cmocka_unit_test(test_client_config),
  };

  return cmocka_run_group_tests_name("sdk requests", tests, NULL, NULL);
}
