/*
** test_gcs_errors.c -- the provider's error mapping (gcs_error.c, compiled
** in) on responses built by hand: Google's JSON error objects mapped by
** reason before status, retryability and Retry-After, the upload id as
** the request id, bodies that are not JSON, and messages that name the op
** and the object, quote Google's message cleaned of control bytes.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gcs.h"

static const gcs_target obj = {"get", "photos", "a/b.txt", NULL};
static const gcs_target gen = {"delete", "photos", "a/b.txt", "1700"};
static const gcs_target bdel = {"delete", "photos", NULL, NULL};
static const gcs_target bmk = {"create", "photos", NULL, NULL};

#define assert_contains(h, n)                                              \
  do {                                                                     \
    if (!strstr((h), (n)))                                                 \
      fail_msg("'%s' does not contain '%s'", (h), (n));                    \
  } while (0)
#define assert_retryable(e) assert_true((e).flags & STORE_ERR_RETRYABLE)
#define assert_not_retryable(e) assert_false((e).flags & STORE_ERR_RETRYABLE)

/* Map status with Google's error body for (reason, message), or the raw
 * body when reason is NULL; one optional header (name, value). */
static store_error map(const gcs_target *t, long status, const char *reason,
                       const char *msg, const char *hname, const char *hval)
{
  sdk_response *r = sdk_response_new(status);
  char body[1024];
  store_error e;
  int32_t rc;

  assert_non_null(r);
  if (reason)
    snprintf(body, sizeof(body), "{\"error\": {\"code\": %ld, \"message\": "
             "\"%s\", \"errors\": [{\"message\": \"%s\", \"domain\": "
             "\"global\", \"reason\": \"%s\"}]}}", status, msg, msg, reason);
  else
    snprintf(body, sizeof(body), "%s", msg);
  assert_int_equal(sdk_response_append_body(r, body, strlen(body)), 0);
  if (hname)
    assert_int_equal(sdk_response_add_header(r, hname, hval), 0);
  memset(&e, 0, sizeof(e));
  e.struct_size = sizeof(e);
  rc = gcs_fail_response(t, r, &e);
  assert_int_equal(rc, e.code);
  sdk_response_free(r);
  return e;
}

static void test_by_reason(void **state)
{
  store_error e;

  (void)state;
  e = map(&obj, 404, "notFound", "No such object: photos/a/b.txt", NULL,
          NULL);
  assert_int_equal(e.code, STORE_E_NOT_FOUND);
  assert_int_equal(e.http_status, 404);
  assert_string_equal(e.provider_code, "notFound");
  assert_contains(e.message, "get object 'photos/a/b.txt': not found");
  assert_contains(e.message, "No such object");
  assert_not_retryable(e);

  e = map(&gen, 412, "conditionNotMet", "At least one of the pre-conditions "
          "you specified did not hold.", NULL, NULL);
  assert_int_equal(e.code, STORE_E_PRECONDITION);
  assert_contains(e.message, "generation '1700'");

  e = map(&obj, 403, "forbidden", "xt@x.iam does not have "
          "storage.objects.get access", NULL, NULL);
  assert_int_equal(e.code, STORE_E_PERMISSION);
  assert_not_retryable(e);

  e = map(&obj, 401, "authError", "Invalid Credentials", NULL, NULL);
  assert_int_equal(e.code, STORE_E_AUTH);
  assert_contains(e.message, "authentication failed");

  /* "required" is a missing credential only with 401; with 400 it is a
   * missing parameter. */
  e = map(&obj, 401, "required", "Anonymous caller does not have "
          "storage.objects.get access", NULL, NULL);
  assert_int_equal(e.code, STORE_E_AUTH);
  e = map(&obj, 400, "required", "Required parameter: project", NULL, NULL);
  assert_int_equal(e.code, STORE_E_INVALID);
  assert_contains(e.message, "Required parameter: project");

  e = map(&obj, 400, "userProjectMissing", "Bucket is a requester pays "
          "bucket but no user project provided.", NULL, NULL);
  assert_int_equal(e.code, STORE_E_INVALID);
  assert_contains(e.message, "requester-pays");
}

static void test_retryable(void **state)
{
  store_error e;

  (void)state;
  e = map(&obj, 429, "rateLimitExceeded", "The rate of change requests to "
          "the object is too high.", "Retry-After", "3");
  assert_int_equal(e.code, STORE_E_THROTTLED);
  assert_retryable(e);
  assert_int_equal(e.retry_after_ms, 3000);

  /* GCS answers some rate limits with 403: the reason decides. */
  e = map(&obj, 403, "userRateLimitExceeded", "slow down", NULL, NULL);
  assert_int_equal(e.code, STORE_E_THROTTLED);
  assert_retryable(e);

  e = map(&obj, 503, "backendError", "Backend Error", NULL, NULL);
  assert_int_equal(e.code, STORE_E_SERVER);
  assert_retryable(e);

  e = map(&obj, 500, "internalError", "Internal Error", NULL, NULL);
  assert_int_equal(e.code, STORE_E_SERVER);
  assert_retryable(e);

  /* A checksum refused: damaged on the way, worth sending again. */
  e = map(&obj, 400, "invalid", "Provided CRC32C \\\"AAAAAA==\\\" doesn't "
          "match calculated CRC32C \\\"4waSgw==\\\".", NULL, NULL);
  assert_int_equal(e.code, STORE_E_IO);
  assert_retryable(e);
  assert_contains(e.message, "arrived damaged");

  /* Any other invalid request is not. */
  e = map(&obj, 400, "invalid", "Invalid argument.", NULL, NULL);
  assert_int_equal(e.code, STORE_E_INVALID);
  assert_not_retryable(e);
}

static void test_conflicts(void **state)
{
  store_error e;

  (void)state;
  e = map(&bdel, 409, "conflict", "The bucket you tried to delete is not "
          "empty.", NULL, NULL);
  assert_int_equal(e.code, STORE_E_NOT_EMPTY);
  assert_contains(e.message, "delete bucket 'photos'");
  e = map(&bmk, 409, "conflict", "Your previous request to create the named "
          "bucket succeeded and you already own it.", NULL, NULL);
  assert_int_equal(e.code, STORE_E_EXISTS);
}

static void test_not_json(void **state)
{
  store_error e;

  (void)state;
  e = map(&obj, 502, NULL, "<html>Bad Gateway</html>", "X-GUploader-UploadID",
          "ADPyc-1");
  assert_int_equal(e.code, STORE_E_SERVER);
  assert_retryable(e);
  assert_contains(e.message, "HTTP 502");
  assert_string_equal(e.request_id, "ADPyc-1");
  e = map(&obj, 418, NULL, "", NULL, NULL);
  assert_int_equal(e.code, STORE_E_INTERNAL);
  assert_contains(e.message, "HTTP 418");
}

static void test_control_bytes(void **state)
{
  store_error e;

  (void)state;
  e = map(&obj, 404, "notFound", "line one\\u001b[31m red\\r\\nInjected: x",
          NULL, NULL);
  assert_int_equal(e.code, STORE_E_NOT_FOUND);
  assert_null(strchr(e.message, '\033'));
  assert_null(strchr(e.message, '\n'));
  assert_null(strstr(e.message, "Injected"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_by_reason),
    cmocka_unit_test(test_retryable),
    cmocka_unit_test(test_conflicts),
    cmocka_unit_test(test_not_json),
    cmocka_unit_test(test_control_bytes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
