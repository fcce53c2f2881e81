/*
** oci_error.c -- messages naming the op and the object, and OCI's error
** responses ({"code": "...", "message": "..."}, with opc-request-id; a
** HEAD's has no body) classified into store_error.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "oci.h"
#include "sdk_error.h"

static const sdk_nouns nouns = {"the namespace", "bucket",
                                 "object", "version"};

/* "object 'b/k'", "object 'b/k' version 'V'", "bucket 'b'", "the
 * namespace": what a request was about. Long names are cut. */
static void describe(const oci_target *t, char *out, size_t cap)
{
  sdk_error_describe(&nouns, t->bucket, t->key, t->version, out, cap);
}

int32_t oci_fail(const oci_target *t, store_error *err, int32_t code,
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

int32_t oci_nomem(const oci_target *t, store_error *err)
{
  return oci_fail(t, err, STORE_E_NOMEM, "out of memory");
}

/* OCI's error codes that say more than their HTTP status. Codes not listed
 * are classified by status (sdk_status_code). */
static const sdk_error_code codes[] = {
  {"BucketNotFound", STORE_E_NOT_FOUND, 0, "bucket not found"},
  {"ObjectNotFound", STORE_E_NOT_FOUND, 0, "not found"},
  {"NamespaceNotFound", STORE_E_NOT_FOUND, 0,
   "namespace not found (check 'namespace')"},
  {"NoSuchUpload", STORE_E_NOT_FOUND, 0, "no such multipart upload"},
  {"VersionNotFound", STORE_E_NOT_FOUND, 0, "version not found"},
  {"RelatedResourceNotAuthorizedOrNotFound", STORE_E_NOT_FOUND, 0,
   "not found, or not authorized for it (check the bucket, the "
   "compartment and the user's policies)"},
  {"NotAuthorizedOrNotFound", STORE_E_NOT_FOUND, 0,
   "not found, or not authorized for it (check the name and the user's "
   "policies)"},
  {"BucketAlreadyExists", STORE_E_EXISTS, 0, "already exists"},
  {"BucketNotEmpty", STORE_E_NOT_EMPTY, 0, "bucket not empty"},
  {"IfNoneMatchFailed", STORE_E_EXISTS, 0,
   "already exists (fail-if-exists put)"},
  {"IfMatchFailed", STORE_E_PRECONDITION, 0,
   "condition not met (the etag changed)"},
  {"NotAuthorized", STORE_E_PERMISSION, 0,
   "not permitted by the user's policies"},
  {"InvalidContentMd5", STORE_E_IO, 1,
   "the body arrived damaged (not the Content-MD5 sent with it); nothing "
   "was stored"},
  {"InvalidContentMD5", STORE_E_IO, 1,
   "the body arrived damaged (not the Content-MD5 sent with it); nothing "
   "was stored"},
  {"InvalidContentCrc32c", STORE_E_IO, 1,
   "the body arrived damaged (not the opc-content-crc32c sent with it); "
   "nothing was stored"},
  {"UnprocessableEntity", STORE_E_IO, 1,
   "the body arrived damaged (not the checksum sent with it); nothing was "
   "stored"},
  {"TooManyRequests", STORE_E_THROTTLED, 1, "too many requests"},
  {"ServiceUnavailable", STORE_E_THROTTLED, 1, "service unavailable"},
  {"InternalServerError", STORE_E_SERVER, 1, "internal server error"},
};

/* The error body's code into buf ("" when there is none). */
const char *oci_error_code(const sdk_response *resp, char *buf, size_t cap)
{
  size_t blen = 0;
  const char *body = sdk_response_body(resp, &blen);
  json_t *root = blen ? json_loadb(body, blen, 0, NULL) : NULL;
  const char *code = json_string_value(json_object_get(root, "code"));

  snprintf(buf, cap, "%s", code ? code : "");
  json_decref(root);
  return buf;
}

int32_t oci_fail_response(const oci_target *t, const sdk_response *resp,
                          store_error *err)
{
  long status = sdk_response_status(resp);
  size_t blen = 0;
  const char *body = sdk_response_body(resp, &blen);
  json_t *root = blen ? json_loadb(body, blen, 0, NULL) : NULL;
  const char *code = json_string_value(json_object_get(root, "code"));
  const char *smsg = json_string_value(json_object_get(root, "message"));
  const char *what = NULL;
  const sdk_error_code *row;
  char desc[256], detail[160] = "";
  uint32_t retry = 0;
  int32_t rc = 0;

  /* A HEAD has no body: its status says what a GET's code would. */
  if (!code && status == 404)
    code = !t->bucket ? "NamespaceNotFound"
           : t->key   ? "ObjectNotFound"
                      : "BucketNotFound";
  row = sdk_error_code_find(codes, sizeof(codes) / sizeof(codes[0]), code);
  if (row) {
    rc = row->rc;
    retry = row->retry;
    what = row->what;
  }
  /* A 400 about a checksum the body did not match: damaged on the way. */
  if (!rc && status == 400 && code &&
      (strcasestr(code, "md5") || strcasestr(code, "crc32c"))) {
    rc = STORE_E_IO;
    retry = 1;
    what = "the body arrived damaged (not the checksum sent with it); "
           "nothing was stored";
  }
  if (!rc && (status == 401 || (code && !strcmp(code, "NotAuthenticated"))))
    rc = STORE_E_AUTH;
  describe(t, desc, sizeof(desc));
  if (rc == STORE_E_AUTH) {
    if (smsg && *smsg)
      snprintf(detail, sizeof(detail), ": %.*s",
               (int)strcspn(smsg, "\r\n"), smsg);
    rc = sdk_error_http(err, resp, rc, code, "opc-request-id",
                        "%s %s: authentication failed (%s%s): check the "
                        "user, tenancy, fingerprint and key, and the "
                        "clock", t->op, desc, code ? code : "HTTP 401",
                        detail);
  } else {
    rc = sdk_error_response(err, resp, rc, retry, code, "opc-request-id",
                            t->op, desc, what, smsg);
  }
  json_decref(root);
  return rc;
}
