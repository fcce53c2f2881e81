/*
** test_oci_errors.c -- the provider's error mapping (oci_error.c, compiled
** in) on responses built by hand: OCI's {"code", "message"} bodies and a
** HEAD's bare status, retryability and Retry-After, the opc-request-id
** kept, and messages that name the op, the bucket and the key.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "oci.h"

static const oci_target obj = {"get", "photos", "a/b.txt", NULL};
static const oci_target bkt = {"delete", "photos", NULL, NULL};
static const oci_target ver = {"head", "photos", "a/b.txt", "v-1"};

static void assert_contains_at(const char *hay, const char *needle,
                               const char *file, int line)
{
  if (!strstr(hay, needle)) {
    print_error("'%s' does not contain '%s'\n", hay, needle);
    _fail(file, line);
  }
}
#define assert_contains(h, n) assert_contains_at((h), (n), __FILE__, __LINE__)

#define assert_retryable(e) assert_true((e).flags & STORE_ERR_RETRYABLE)
#define assert_not_retryable(e) assert_false((e).flags & STORE_ERR_RETRYABLE)

/* Map a response of status with an optional JSON error (code, msg) and
 * optional headers (name, value pairs ending with NULL). */
static store_error map(const oci_target *t, long status, const char *code,
                       const char *msg, ...)
{
  sdk_response *resp = sdk_response_new(status);
  store_error e;
  char body[1024];
  va_list ap;
  const char *name;
  int32_t rc;

  assert_non_null(resp);
  memset(&e, 0, sizeof(e));
  e.struct_size = sizeof(e);
  if (code) {
    snprintf(body, sizeof(body), "{\"code\": \"%s\", \"message\": \"%s\"}",
             code, msg);
    sdk_response_append_body(resp, body, strlen(body));
  }
  va_start(ap, msg);
  while ((name = va_arg(ap, const char *)) != NULL)
    sdk_response_add_header(resp, name, va_arg(ap, const char *));
  va_end(ap);
  rc = oci_fail_response(t, resp, &e);
  assert_int_equal(rc, e.code);
  sdk_response_free(resp);
  return e;
}

static void not_found(void **state)
{
  store_error e;

  (void)state;
  e = map(&obj, 404, "ObjectNotFound", "The object 'a/b.txt' does not exist",
          "opc-request-id", "req-1/abc", NULL);
  assert_int_equal(e.code, STORE_E_NOT_FOUND);
  assert_int_equal(e.http_status, 404);
  assert_string_equal(e.provider_code, "ObjectNotFound");
  assert_string_equal(e.request_id, "req-1/abc");
  assert_contains(e.message, "get object 'photos/a/b.txt': not found");
  assert_not_retryable(e);

  e = map(&bkt, 404, "BucketNotFound", "Either the bucket does not exist",
          NULL);
  assert_int_equal(e.code, STORE_E_NOT_FOUND);
  assert_contains(e.message, "delete bucket 'photos': bucket not found");

  e = map(&obj, 404, "RelatedResourceNotAuthorizedOrNotFound",
          "compartment x", NULL);
  assert_int_equal(e.code, STORE_E_NOT_FOUND);
  assert_contains(e.message, "object 'photos/a/b.txt'");
  assert_contains(e.message, "not authorized");

  /* A HEAD: no body, the status and the target say it. */
  e = map(&ver, 404, NULL, NULL, "opc-request-id", "r2", NULL);
  assert_int_equal(e.code, STORE_E_NOT_FOUND);
  assert_string_equal(e.provider_code, "ObjectNotFound");
  assert_contains(e.message, "head object 'photos/a/b.txt' version 'v-1'");
  assert_string_equal(e.request_id, "r2");
}

static void conflicts(void **state)
{
  store_error e;

  (void)state;
  e = map(&bkt, 409, "BucketNotEmpty", "not empty", NULL);
  assert_int_equal(e.code, STORE_E_NOT_EMPTY);
  e = map(&bkt, 409, "BucketAlreadyExists", "exists", NULL);
  assert_int_equal(e.code, STORE_E_EXISTS);
  e = map(&obj, 409, "IfNoneMatchFailed", "exists", NULL);
  assert_int_equal(e.code, STORE_E_EXISTS);
  e = map(&obj, 412, "IfMatchFailed", "etag", NULL);
  assert_int_equal(e.code, STORE_E_PRECONDITION);
}

static void auth(void **state)
{
  store_error e;

  (void)state;
  e = map(&obj, 401, "NotAuthenticated", "signature did not verify", NULL);
  assert_int_equal(e.code, STORE_E_AUTH);
  assert_contains(e.message, "authentication failed (NotAuthenticated");
  assert_contains(e.message, "fingerprint");
  assert_not_retryable(e);
  e = map(&obj, 403, "NotAuthorized", "policy", NULL);
  assert_int_equal(e.code, STORE_E_PERMISSION);
}

static void retryable(void **state)
{
  store_error e;

  (void)state;
  e = map(&obj, 429, "TooManyRequests", "slow down", "Retry-After", "3",
          NULL);
  assert_int_equal(e.code, STORE_E_THROTTLED);
  assert_retryable(e);
  assert_int_equal(e.retry_after_ms, 3000);
  e = map(&obj, 503, "ServiceUnavailable", "busy", NULL);
  assert_int_equal(e.code, STORE_E_THROTTLED);
  assert_retryable(e);
  e = map(&obj, 500, "InternalServerError", "oops", NULL);
  assert_int_equal(e.code, STORE_E_SERVER);
  assert_retryable(e);
  /* A body refused for its checksum: damaged on the way, send it again. */
  e = map(&obj, 400, "InvalidContentMd5", "md5 mismatch", NULL);
  assert_int_equal(e.code, STORE_E_IO);
  assert_retryable(e);
  e = map(&obj, 400, "InvalidParameter", "bad", NULL);
  assert_int_equal(e.code, STORE_E_INVALID);
  assert_not_retryable(e);
  assert_contains(e.message, "HTTP 400 (InvalidParameter): bad");
}

/* What a server says is cleaned of control bytes before it is shown. */
static void cleaned(void **state)
{
  store_error e;

  (void)state;
  e = map(&obj, 400, "InvalidParameter", "line\\u001b[31m two", NULL);
  assert_null(strchr(e.message, '\033'));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(not_found), cmocka_unit_test(conflicts),
    cmocka_unit_test(auth),      cmocka_unit_test(retryable),
    cmocka_unit_test(cleaned),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
