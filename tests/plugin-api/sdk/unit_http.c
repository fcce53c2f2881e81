/*
** unit_http.c -- what of sdk_http.h needs no server: sdk_host_cancelled,
** is_cancelled asked only where the host's table has it, with the host's
** context; sdk_http_from_keys refusing bad keys by name. (The client itself is tested against servers in http_test.c.)
*/
#include <stddef.h>
#include <string.h>

#include "unit.h"
#include "sdk_http.h"

static int g_ctx;
static int32_t g_answer;
static unsigned g_calls;

static int32_t is_cancelled(void *host_ctx)
{
  assert_ptr_equal(host_ctx, &g_ctx);
  g_calls++;
  return g_answer;
}

static void test_host_cancelled(void **state)
{
  store_host_api host;

  (void)state;
  memset(&host, 0, sizeof(host));
  host.struct_size = sizeof(host);
  host.host_ctx = &g_ctx;
  g_calls = 0;

  assert_false(sdk_host_cancelled(NULL));
  /* no function */
  assert_false(sdk_host_cancelled(&host));
  host.is_cancelled = is_cancelled;
  g_answer = 0;
  assert_false(sdk_host_cancelled(&host));
  g_answer = 5;
  assert_true(sdk_host_cancelled(&host));
  assert_int_equal(g_calls, 2);
  /* a host table that ends before is_cancelled: never called */
  host.struct_size = offsetof(store_host_api, is_cancelled);
  assert_false(sdk_host_cancelled(&host));
  assert_int_equal(g_calls, 2);
}

static void test_from_keys(void **state)
{
  store_kv good[] = {{"verify-tls", "false"}, {"stall-timeout", "5"}};
  store_kv bad_tls[] = {{"verify-tls", "maybe"}};
  store_kv bad_stall[] = {{"stall-timeout", "0"}};
  store_error err;
  sdk_http *h = NULL;

  (void)state;
  memset(&err, 0, sizeof(err));
  err.struct_size = sizeof(err);
  assert_int_equal(sdk_http_from_keys(good, 2, "p", NULL, &h, &err),
                   STORE_OK);
  assert_non_null(h);
  sdk_http_free(h);
  assert_int_equal(sdk_http_from_keys(NULL, 0, "p", NULL, &h, &err),
                   STORE_OK);
  assert_non_null(h);
  sdk_http_free(h);

  h = (sdk_http *)&err; /* zeroed on failure */
  assert_int_equal(sdk_http_from_keys(bad_tls, 1, "p", NULL, &h, &err),
                   STORE_E_CONFIG);
  assert_null(h);
  assert_string_equal(err.message, "p: config key 'verify-tls': 'maybe' is "
                                   "not true or false");
  assert_int_equal(sdk_http_from_keys(bad_stall, 1, "p", NULL, &h, &err),
                   STORE_E_CONFIG);
  assert_null(h);
  assert_non_null(strstr(err.message, "p: config key 'stall-timeout': '0'"));
}

int unit_http(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_host_cancelled),
    cmocka_unit_test(test_from_keys),
  };
  return cmocka_run_group_tests_name("sdk/http", tests, NULL, NULL);
}
