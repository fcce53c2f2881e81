/*
** test_azure_errors.c -- the provider's error mapping (azure_error.c,
** compiled in) on responses built by hand: XML bodies and the
** x-ms-error-code header of a HEAD, retryability and Retry-After, request
** ids, and messages that name the op and the object but never echo what a
** failed authentication signed.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "azure.h"

static int g_failures, g_checks;

static void check(int line, const char *what, int ok, const store_error *e)
{
  g_checks++;
  if (ok)
    return;
  g_failures++;
  printf("FAIL line %d: %s\n  code %d flags %u retry_after_ms %u "
         "provider_code '%s' request_id '%s'\n  message '%s'\n", line, what,
         e->code, e->flags, e->retry_after_ms, e->provider_code,
         e->request_id, e->message);
}
#define CHECK(what, ok) check(__LINE__, what, ok, &e)

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

  memset(&e, 0, sizeof(e));
  e.struct_size = sizeof(e);
  if (!resp)
    return e;
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

int main(void)
{
  az_target blob = {"get", "photos", "a/b.txt", NULL};
  az_target head = {"head", "photos", "a/b.txt", NULL};
  az_target cont = {"delete", "photos", NULL, NULL};
  az_target snap = {"delete", "photos", "a/b.txt", "2026-01-01T00:00:00Z"};
  store_error e;

  e = map(&blob, 503, "ServerBusy", "The server is busy.", "Retry-After",
          "3", "x-ms-request-id", "req-123", NULL);
  CHECK("ServerBusy: THROTTLED", e.code == STORE_E_THROTTLED);
  CHECK("ServerBusy: retryable", e.flags & STORE_ERR_RETRYABLE);
  CHECK("Retry-After 3 s", e.retry_after_ms == 3000);
  CHECK("request id from x-ms-request-id", !strcmp(e.request_id, "req-123"));
  CHECK("provider code", !strcmp(e.provider_code, "ServerBusy"));
  CHECK("message names op, container and blob",
        strstr(e.message, "get blob 'photos/a/b.txt'") != NULL);

  e = map(&blob, 500, "OperationTimedOut", "Operation could not be "
          "completed within the specified time.", NULL);
  CHECK("OperationTimedOut: TIMEOUT, retryable",
        e.code == STORE_E_TIMEOUT && (e.flags & STORE_ERR_RETRYABLE));
  e = map(&blob, 500, "InternalError", "The server encountered an internal "
          "error.", NULL);
  CHECK("InternalError: SERVER, retryable",
        e.code == STORE_E_SERVER && (e.flags & STORE_ERR_RETRYABLE));
  /* The codes, not their usual 5xx, make these retryable: under a status
   * that is not (a 400, a HEAD's code in the header), the table decides. */
  e = map(&blob, 400, "OperationTimedOut", "Operation could not be "
          "completed within the specified time.", NULL);
  CHECK("OperationTimedOut under a 400: TIMEOUT, retryable by its code",
        e.code == STORE_E_TIMEOUT && (e.flags & STORE_ERR_RETRYABLE));
  e = map(&head, 400, NULL, NULL, "x-ms-error-code", "InternalError", NULL);
  CHECK("HEAD 400 InternalError: SERVER, retryable by its code",
        e.code == STORE_E_SERVER && (e.flags & STORE_ERR_RETRYABLE));
  e = map(&blob, 409, "ServerBusy", "The server is busy.", NULL);
  CHECK("ServerBusy under a 409: THROTTLED, retryable by its code",
        e.code == STORE_E_THROTTLED && (e.flags & STORE_ERR_RETRYABLE));
  e = map(&blob, 400, "InvalidBlockId", "The specified block ID is "
          "invalid.", NULL);
  CHECK("a 400 whose code is not retryable stays not retryable",
        e.code == STORE_E_INVALID && !(e.flags & STORE_ERR_RETRYABLE));

  /* HEAD: no body, the code comes in a header. */
  e = map(&head, 404, NULL, NULL, "x-ms-error-code", "BlobNotFound", NULL);
  CHECK("HEAD 404 BlobNotFound: NOT_FOUND",
        e.code == STORE_E_NOT_FOUND && !(e.flags & STORE_ERR_RETRYABLE) &&
          !strcmp(e.provider_code, "BlobNotFound"));
  e = map(&cont, 404, "ContainerNotFound", "The specified container does "
          "not exist.\nRequestId:x\nTime:y", NULL);
  CHECK("ContainerNotFound: NOT_FOUND, first line of the server's message",
        e.code == STORE_E_NOT_FOUND &&
          strstr(e.message, "container 'photos'") &&
          strstr(e.message, "does not exist.") &&
          !strstr(e.message, "RequestId"));

  /* Authentication: a clear hint, nothing of what the server signed. */
  e = map(&blob, 403, "AuthenticationFailed", "The MAC signature found in "
          "the HTTP request 'c2ln' is not the same as any computed "
          "signature. Server used following string to sign: 'GET...'", NULL);
  CHECK("AuthenticationFailed: AUTH with a hint",
        e.code == STORE_E_AUTH &&
          strstr(e.message, "check the account key or SAS token"));
  CHECK("no server text in an auth failure",
        !strstr(e.message, "string to sign") && !strstr(e.message, "c2ln"));
  e = map(&head, 403, NULL, NULL, "x-ms-error-code", "AuthorizationFailure",
          NULL);
  CHECK("AuthorizationFailure (Azurite's bad signature): AUTH",
        e.code == STORE_E_AUTH);
  e = map(&head, 403, NULL, NULL, NULL);
  CHECK("403 without a code: AUTH", e.code == STORE_E_AUTH);
  e = map(&blob, 403, "AuthorizationPermissionMismatch", "This request is "
          "not authorized to perform this operation using this permission.",
          NULL);
  CHECK("a SAS without the permission: PERMISSION",
        e.code == STORE_E_PERMISSION);

  e = map(&snap, 409, "SnapshotsPresent", "This operation is not permitted "
          "while the blob has snapshots.", NULL);
  CHECK("SnapshotsPresent: NOT_EMPTY naming the snapshot",
        e.code == STORE_E_NOT_EMPTY &&
          strstr(e.message, "blob has snapshots") &&
          strstr(e.message, "snapshot '2026-01-01T00:00:00Z'"));
  e = map(&cont, 409, "ContainerBeingDeleted", "The specified container is "
          "being deleted.", NULL);
  CHECK("ContainerBeingDeleted: EXISTS, retryable",
        e.code == STORE_E_EXISTS && (e.flags & STORE_ERR_RETRYABLE));
  e = map(&blob, 412, "ConditionNotMet", "The condition specified using "
          "HTTP conditional header(s) is not met.", NULL);
  CHECK("ConditionNotMet: PRECONDITION", e.code == STORE_E_PRECONDITION);
  e = map(&blob, 409, "InvalidBlobType", "The blob type is invalid for "
          "this operation.", NULL);
  CHECK("InvalidBlobType: PRECONDITION", e.code == STORE_E_PRECONDITION);
  e = map(&blob, 400, "InvalidQueryParameterValue", "Value for one of the "
          "query parameters specified in the request URI is invalid.", NULL);
  CHECK("an unlisted 400: INVALID, code in the message",
        e.code == STORE_E_INVALID &&
          strstr(e.message, "InvalidQueryParameterValue"));

  /* A body that is not XML: the status decides. */
  {
    sdk_response *resp = sdk_response_new(502);
    memset(&e, 0, sizeof(e));
    e.struct_size = sizeof(e);
    sdk_response_append_body(resp, "<html>bad gateway", 17);
    az_fail_response(&blob, resp, &e);
    sdk_response_free(resp);
    CHECK("502 with an HTML body: SERVER, retryable",
          e.code == STORE_E_SERVER && (e.flags & STORE_ERR_RETRYABLE));
  }
  printf("%s: %d checks, %d failure(s)\n", g_failures ? "FAILED" : "ok",
         g_checks, g_failures);
  return g_failures ? 1 : 0;
}
