/*
** test_azure_errors.c -- the provider's error mapping (azure_error.c,
** compiled in) on responses built by hand: XML bodies and the
** x-ms-error-code header of a HEAD, retryability and Retry-After, request
** ids, and messages that name the op and the object but never echo what a
** failed authentication signed.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "azure.h"

static const az_target blob = {"get", "photos", "a/b.txt", NULL};
static const az_target head = {"head", "photos", "a/b.txt", NULL};
static const az_target cont = {"delete", "photos", NULL, NULL};
static const az_target snap = {"delete", "photos", "a/b.txt",
                               "2026-01-01T00:00:00Z"};

static void assert_contains_at(const char *hay, const char *needle,
                               const char *file, int line)
{
  if (!strstr(hay, needle)) {
    print_error("'%s' does not contain '%s'\n", hay, needle);
    _fail(file, line);
  }
}
#define assert_contains(h, n) assert_contains_at((h), (n), __FILE__, __LINE__)

static void assert_lacks_at(const char *hay, const char *needle,
                            const char *file, int line)
{
  if (strstr(hay, needle)) {
    print_error("'%s' contains '%s'\n", hay, needle);
    _fail(file, line);
  }
}
#define assert_lacks(h, n) assert_lacks_at((h), (n), __FILE__, __LINE__)

#define assert_retryable(e) assert_true((e).flags & STORE_ERR_RETRYABLE)
#define assert_not_retryable(e) assert_false((e).flags & STORE_ERR_RETRYABLE)

static const char *xml_error(const char *code, const char *msg, char *buf,
                             size_t cap)
{
  snprintf(buf, cap, "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error>"
                     "<Code>%s</Code><Message>%s</Message></Error>", code,
           msg);
  return buf;
}

/* Map a response of status with an optional XML error body (code, msg)
 * and optional headers (name, value pairs ending with NULL). */
static store_error map(const az_target *t, long status, const char *code,
                       const char *msg, ...)
{
  sdk_response *resp = sdk_response_new(status);
  store_error e;
  char body[1024];
  va_list ap;
  const char *name;

  assert_non_null(resp);
  memset(&e, 0, sizeof(e));
  e.struct_size = sizeof(e);
  if (code) {
    xml_error(code, msg, body, sizeof(body));
    sdk_response_append_body(resp, body, strlen(body));
  }
  va_start(ap, msg);
  while ((name = va_arg(ap, const char *)) != NULL)
    sdk_response_add_header(resp, name, va_arg(ap, const char *));
  va_end(ap);
  az_fail_response(t, resp, &e);
  sdk_response_free(resp);
  return e;
}

/* ServerBusy: throttled, retryable after Retry-After, with the request id,
 * the provider's code and a message naming op, container and blob. */
static void test_server_busy(void **state)
{
  store_error e = map(&blob, 503, "ServerBusy", "The server is busy.",
                      "Retry-After", "3", "x-ms-request-id", "req-123",
                      NULL);

  (void)state;
  assert_int_equal(e.code, STORE_E_THROTTLED);
  assert_retryable(e);
  assert_int_equal(e.retry_after_ms, 3000);
  assert_string_equal(e.request_id, "req-123");
  assert_string_equal(e.provider_code, "ServerBusy");
  assert_contains(e.message, "get blob 'photos/a/b.txt'");
}

static void test_retryable_codes(void **state)
{
  store_error e;

  (void)state;
  e = map(&blob, 500, "OperationTimedOut", "Operation could not be "
          "completed within the specified time.", NULL);
  assert_int_equal(e.code, STORE_E_TIMEOUT);
  assert_retryable(e);
  e = map(&blob, 500, "InternalError", "The server encountered an internal "
          "error.", NULL);
  assert_int_equal(e.code, STORE_E_SERVER);
  assert_retryable(e);
  /* The codes, not their usual 5xx, make these retryable: under a status
   * that is not (a 400, a HEAD's code in the header), the table decides. */
  e = map(&blob, 400, "OperationTimedOut", "Operation could not be "
          "completed within the specified time.", NULL);
  assert_int_equal(e.code, STORE_E_TIMEOUT);
  assert_retryable(e);
  e = map(&head, 400, NULL, NULL, "x-ms-error-code", "InternalError", NULL);
  assert_int_equal(e.code, STORE_E_SERVER);
  assert_retryable(e);
  e = map(&blob, 409, "ServerBusy", "The server is busy.", NULL);
  assert_int_equal(e.code, STORE_E_THROTTLED);
  assert_retryable(e);
  /* A 400 whose code is not retryable stays not retryable. */
  e = map(&blob, 400, "InvalidBlockId", "The specified block ID is "
          "invalid.", NULL);
  assert_int_equal(e.code, STORE_E_INVALID);
  assert_not_retryable(e);
}

static void test_not_found(void **state)
{
  store_error e;

  (void)state;
  /* HEAD: no body, the code comes in a header. */
  e = map(&head, 404, NULL, NULL, "x-ms-error-code", "BlobNotFound", NULL);
  assert_int_equal(e.code, STORE_E_NOT_FOUND);
  assert_not_retryable(e);
  assert_string_equal(e.provider_code, "BlobNotFound");
  /* Only the first line of the server's message. */
  e = map(&cont, 404, "ContainerNotFound", "The specified container does "
          "not exist.\nRequestId:x\nTime:y", NULL);
  assert_int_equal(e.code, STORE_E_NOT_FOUND);
  assert_contains(e.message, "container 'photos'");
  assert_contains(e.message, "does not exist.");
  assert_lacks(e.message, "RequestId");
}

/* Authentication: a clear hint, nothing of what the server signed. */
static void test_auth(void **state)
{
  store_error e;

  (void)state;
  e = map(&blob, 403, "AuthenticationFailed", "The MAC signature found in "
          "the HTTP request 'c2ln' is not the same as any computed "
          "signature. Server used following string to sign: 'GET...'", NULL);
  assert_int_equal(e.code, STORE_E_AUTH);
  assert_contains(e.message, "check the account key or SAS token");
  assert_lacks(e.message, "string to sign");
  assert_lacks(e.message, "c2ln");
  /* Azurite's bad signature. */
  e = map(&head, 403, NULL, NULL, "x-ms-error-code", "AuthorizationFailure",
          NULL);
  assert_int_equal(e.code, STORE_E_AUTH);
  e = map(&head, 403, NULL, NULL, NULL);
  assert_int_equal(e.code, STORE_E_AUTH);
  /* A SAS without the permission. */
  e = map(&blob, 403, "AuthorizationPermissionMismatch", "This request is "
          "not authorized to perform this operation using this permission.",
          NULL);
  assert_int_equal(e.code, STORE_E_PERMISSION);
}

static void test_conflicts(void **state)
{
  store_error e;

  (void)state;
  e = map(&snap, 409, "SnapshotsPresent", "This operation is not permitted "
          "while the blob has snapshots.", NULL);
  assert_int_equal(e.code, STORE_E_NOT_EMPTY);
  assert_contains(e.message, "blob has snapshots");
  assert_contains(e.message, "snapshot '2026-01-01T00:00:00Z'");
  e = map(&cont, 409, "ContainerBeingDeleted", "The specified container is "
          "being deleted.", NULL);
  assert_int_equal(e.code, STORE_E_EXISTS);
  assert_retryable(e);
  e = map(&blob, 412, "ConditionNotMet", "The condition specified using "
          "HTTP conditional header(s) is not met.", NULL);
  assert_int_equal(e.code, STORE_E_PRECONDITION);
  e = map(&blob, 409, "InvalidBlobType", "The blob type is invalid for "
          "this operation.", NULL);
  assert_int_equal(e.code, STORE_E_PRECONDITION);
  /* An unlisted 400: INVALID, its code in the message. */
  e = map(&blob, 400, "InvalidQueryParameterValue", "Value for one of the "
          "query parameters specified in the request URI is invalid.", NULL);
  assert_int_equal(e.code, STORE_E_INVALID);
  assert_contains(e.message, "InvalidQueryParameterValue");
}

/* A body that is not XML: the status decides. */
static void test_not_xml(void **state)
{
  sdk_response *resp = sdk_response_new(502);
  store_error e;

  (void)state;
  assert_non_null(resp);
  memset(&e, 0, sizeof(e));
  e.struct_size = sizeof(e);
  sdk_response_append_body(resp, "<html>bad gateway", 17);
  az_fail_response(&blob, resp, &e);
  sdk_response_free(resp);
  assert_int_equal(e.code, STORE_E_SERVER);
  assert_retryable(e);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_server_busy),
    cmocka_unit_test(test_retryable_codes),
    cmocka_unit_test(test_not_found),
    cmocka_unit_test(test_auth),
    cmocka_unit_test(test_conflicts),
    cmocka_unit_test(test_not_xml),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
