/*
** gcs_error.c -- messages naming the op and the object, and Google's JSON
** errors ({"error": {"code", "message", "errors": [{"reason", ...}]}})
** classified into store_error by their reason, else their status.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gcs.h"
#include "sdk_error.h"

static const sdk_nouns nouns = {"the project", "bucket",
                                 "object", "generation"};

/* "object 'b/k'", "object 'b/k' generation 'G'", "bucket 'b'", "the
 * project": what a request was about. Long names are cut. */
static void describe(const gcs_target *t, char *out, size_t cap)
{
  sdk_error_describe(&nouns, t->bucket, t->key, t->generation, out, cap);
}

int32_t gcs_fail(const gcs_target *t, store_error *err, int32_t code,
                 const char *fmt, ...)
{
  char what[256];
  va_list ap;
  int32_t rc;

  describe(t, what, sizeof(what));
  va_start(ap, fmt);
  rc = sdk_error_vfail(err, code, t->op, what, fmt, ap);
  va_end(ap);
  return rc;
}

int32_t gcs_nomem(const gcs_target *t, store_error *err)
{
  return gcs_fail(t, err, STORE_E_NOMEM, "out of memory");
}

/* Google's reasons that say more than their status. Reasons not listed
 * are classified by status (sdk_status_code): "required" is a missing
 * credential with 401 (AUTH below) but a missing parameter with 400. */
static const sdk_error_code reasons[] = {
  {"notFound", STORE_E_NOT_FOUND, 0, "not found"},
  {"conditionNotMet", STORE_E_PRECONDITION, 0, "condition not met"},
  {"forbidden", STORE_E_PERMISSION, 0,
   "not permitted for these credentials"},
  {"insufficientPermissions", STORE_E_PERMISSION, 0,
   "not permitted for these credentials"},
  {"userProjectMissing", STORE_E_INVALID, 0,
   "the bucket is requester-pays: a billing project is needed"},
  {"authError", STORE_E_AUTH, 0, NULL},
  {"unauthorized", STORE_E_AUTH, 0, NULL},
  {"rateLimitExceeded", STORE_E_THROTTLED, 1, "rate limit exceeded"},
  {"userRateLimitExceeded", STORE_E_THROTTLED, 1, "rate limit exceeded"},
  {"backendError", STORE_E_SERVER, 1, "backend error"},
  {"internalError", STORE_E_SERVER, 1, "internal error"},
  {"rangeNotSatisfiable", STORE_E_INVALID, 0, "range not satisfiable"},
  {"requestedRangeNotSatisfiable", STORE_E_INVALID, 0,
   "range not satisfiable"},
};

/* The upload's checksum did not match the bytes that arrived (GCS says
 * "Provided CRC32C \"...\" doesn't match calculated CRC32C" with reason
 * invalid): damaged on the way; nothing was stored; worth sending again. */
static int is_hash_mismatch(const char *reason, const char *msg)
{
  return reason && !strcmp(reason, "invalid") && msg &&
         (strstr(msg, "CRC32C") || strstr(msg, "MD5")) &&
         strstr(msg, "match");
}

int32_t gcs_fail_response(const gcs_target *t, const sdk_response *resp,
                          store_error *err)
{
  long status = sdk_response_status(resp);
  size_t blen = 0;
  const char *body = sdk_response_body(resp, &blen);
  const char *reason = NULL, *smsg = NULL, *what = NULL;
  const sdk_error_code *row;
  json_t *j = json_loadb(body, blen, 0, NULL);
  json_t *e = json_object_get(j, "error");
  char desc[256], detail[160] = "";
  uint32_t retry = 0;
  int32_t rc = 0;

  if (json_is_object(e)) {
    smsg = sdk_json_str(e, "message");
    reason = sdk_json_str(json_array_get(json_object_get(e, "errors"), 0),
                          "reason");
  }
  row = sdk_error_code_find(reasons, sizeof(reasons) / sizeof(reasons[0]),
                            reason);
  if (row) {
    rc = row->rc;
    retry = row->retry;
    what = row->what;
  }
  if (is_hash_mismatch(reason, smsg)) {
    rc = STORE_E_IO;
    retry = 1;
    what = "the body arrived damaged (not the checksum sent with it); "
           "nothing was stored";
  }
  if (!rc && status == 409)
    rc = !t->key && !strcmp(t->op, "delete") ? STORE_E_NOT_EMPTY
                                               : STORE_E_EXISTS;
  if (!rc && status == 401)
    rc = STORE_E_AUTH;
  describe(t, desc, sizeof(desc));
  if (rc == STORE_E_AUTH) {
    if (smsg && *smsg)
      snprintf(detail, sizeof(detail), ": %.*s",
               (int)strcspn(smsg, "\r\n"), smsg);
    rc = sdk_error_http(err, resp, rc, reason, "x-guploader-uploadid",
                        "%s %s: authentication failed (HTTP %ld%s%s)%s", t->op,
                        desc, status, reason ? " " : "", reason ? reason : "",
                        detail);
  } else {
    rc = sdk_error_response(err, resp, rc, retry, reason,
                            "x-guploader-uploadid", t->op, desc, what, smsg);
  }
  json_decref(j);
  return rc;
}
