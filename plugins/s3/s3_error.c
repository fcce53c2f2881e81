/*
** s3_error.c -- S3 error responses to store_errors, and the argument
** checks whose failures read like them.
**
** An error body is <Error><Code/><Message/><RequestId/>...</Error>; HEAD
** responses have none, so they are mapped by status. Messages name the S3
** operation, the bucket and the key:
**   s3: GetObject 'bucket/key': NoSuchKey: The specified key does not
**   exist. (request id 4442587FB7D0A2F9)
** Nothing of the request's signature or credentials is ever quoted, and
** what the server's text quoted has its control bytes replaced
** (sdk_text_clean).
*/
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "s3.h"
#include "sdk_error.h"

/* S3 error codes whose meaning is not the status's (or that are worth a
 * retry whatever the status). */
static const struct {
  const char *code;
  int32_t rc;
  int retry;
} codes[] = {
  {"NoSuchBucket", STORE_E_NOT_FOUND, 0},
  {"NoSuchKey", STORE_E_NOT_FOUND, 0},
  {"NoSuchUpload", STORE_E_NOT_FOUND, 0},
  {"NoSuchVersion", STORE_E_NOT_FOUND, 0},
  {"BucketAlreadyOwnedByYou", STORE_E_EXISTS, 0},
  {"BucketAlreadyExists", STORE_E_EXISTS, 0},
  {"BucketNotEmpty", STORE_E_NOT_EMPTY, 0},
  {"AccessDenied", STORE_E_PERMISSION, 0},
  {"AllAccessDisabled", STORE_E_PERMISSION, 0},
  {"AccountProblem", STORE_E_PERMISSION, 0},
  {"InvalidAccessKeyId", STORE_E_AUTH, 0},
  {"SignatureDoesNotMatch", STORE_E_AUTH, 0},
  {"ExpiredToken", STORE_E_AUTH, 0},
  {"InvalidToken", STORE_E_AUTH, 0},
  {"TokenRefreshRequired", STORE_E_AUTH, 0},
  {"MissingSecurityHeader", STORE_E_AUTH, 0},
  {"InvalidSecurity", STORE_E_AUTH, 0},
  {"AuthorizationHeaderMalformed", STORE_E_AUTH, 0},
  /* Retried once by s3_perform with the clock corrected; if the body was
   * already streamed, the host may retry (it can rewind). */
  {"RequestTimeTooSkewed", STORE_E_AUTH, 1},
  {"PreconditionFailed", STORE_E_PRECONDITION, 0},
  {"ConditionalRequestConflict", STORE_E_PRECONDITION, 1},
  {"InvalidBucketState", STORE_E_PRECONDITION, 0},
  {"InvalidRange", STORE_E_INVALID, 0},
  /* A part the upload does not have (lost or expired since a resumed
   * run's journal recorded it): as NoSuchUpload, the host starts over. */
  {"InvalidPart", STORE_E_NOT_FOUND, 0},
  {"InvalidPartOrder", STORE_E_INVALID, 0},
  {"EntityTooSmall", STORE_E_INVALID, 0},
  {"EntityTooLarge", STORE_E_INVALID, 0},
  {"InvalidArgument", STORE_E_INVALID, 0},
  {"InvalidBucketName", STORE_E_INVALID, 0},
  {"KeyTooLongError", STORE_E_INVALID, 0},
  {"MalformedXML", STORE_E_INVALID, 0},
  {"InvalidRequest", STORE_E_INVALID, 0},
  {"InvalidDigest", STORE_E_INVALID, 0},
  {"BadDigest", STORE_E_INVALID, 0},
  {"XAmzContentSHA256Mismatch", STORE_E_INVALID, 0},
  {"IncompleteBody", STORE_E_IO, 1},
  {"MethodNotAllowed", STORE_E_UNSUPPORTED, 0},
  {"NotImplemented", STORE_E_UNSUPPORTED, 0},
  {"SlowDown", STORE_E_THROTTLED, 1},
  {"Throttling", STORE_E_THROTTLED, 1},
  {"ThrottlingException", STORE_E_THROTTLED, 1},
  {"RequestLimitExceeded", STORE_E_THROTTLED, 1},
  {"TooManyRequests", STORE_E_THROTTLED, 1},
  {"ServiceUnavailable", STORE_E_THROTTLED, 1},
  {"InternalError", STORE_E_SERVER, 1},
  {"OperationAborted", STORE_E_SERVER, 1},
  {"RequestTimeout", STORE_E_TIMEOUT, 1},
  {"PermanentRedirect", STORE_E_CONFIG, 0},
  {"TemporaryRedirect", STORE_E_CONFIG, 0},
  {"IllegalLocationConstraintException", STORE_E_CONFIG, 0},
};

/* What a bodiless status means, in S3's words. */
static const char *status_name(long status)
{
  switch (status) {
  case 301: return "PermanentRedirect";
  case 304: return "NotModified";
  case 400: return "BadRequest";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "NotFound";
  case 405: return "MethodNotAllowed";
  case 409: return "Conflict";
  case 412: return "PreconditionFailed";
  case 416: return "InvalidRange";
  case 429: return "TooManyRequests";
  case 500: return "InternalError";
  case 501: return "NotImplemented";
  case 503: return "ServiceUnavailable";
  default: return "HTTP error";
  }
}

void s3_err_parse(const sdk_response *resp, s3_err_info *info)
{
  size_t len = 0;
  const char *body = sdk_response_body(resp, &len);
  sdk_xml_node *root = NULL;

  memset(info, 0, sizeof(*info));
  if (!len || sdk_xml_parse(body, len, &root, NULL))
    return;
  info->xml = root;
  if (strcmp(sdk_xml_name(root), "Error"))
    return;
  info->code = sdk_xml_child_text(root, "Code");
  info->message = sdk_xml_child_text(root, "Message");
  info->request_id = sdk_xml_child_text(root, "RequestId");
  info->region = sdk_xml_child_text(root, "Region");
  if (!info->region)
    info->region = sdk_xml_child_text(root, "BucketRegion");
}

void s3_err_info_free(s3_err_info *info)
{
  sdk_xml_free(info->xml);
  memset(info, 0, sizeof(*info));
}

/* "s3: OP 'name': " into buf. */
static void prefix(const s3_call *c, char *buf, size_t cap)
{
  char name[512];

  s3_object_name(c, name, sizeof(name));
  snprintf(buf, cap, "s3: %s%s%s%s: ", c->op, *name ? " '" : "", name,
           *name ? "'" : "");
}

int32_t s3_fail_msg(const s3_call *c, store_error *err, int32_t code,
                    const char *fmt, ...)
{
  char pre[600];
  va_list ap;
  size_t used;

  if (!err)
    return code;
  prefix(c, pre, sizeof(pre));
  err->code = code;
  snprintf(err->message, sizeof(err->message), "%.*s",
           (int)sizeof(err->message) - 1, pre);
  used = strlen(err->message);
  va_start(ap, fmt);
  if (used < sizeof(err->message))
    vsnprintf(err->message + used, sizeof(err->message) - used, fmt, ap);
  va_end(ap);
  sdk_text_clean(err->message); /* it may quote the server, or a key */
  return code;
}

/* The bucket lives elsewhere: say where, when the server told us. */
static int32_t wrong_region(const s3_call *c, const sdk_response *resp,
                            const s3_err_info *info, const char *pre,
                            store_error *err)
{
  const char *region = sdk_response_header(resp, "x-amz-bucket-region");
  const char *here = c->h ? c->h->cfg.region : "?";

  if (!region)
    region = info->region;
  if (region && strcmp(region, here))
    return sdk_error_http(err, resp, STORE_E_CONFIG,
                          info->code ? info->code : "PermanentRedirect",
                          "x-amz-request-id",
                          "%sbucket '%s' is in region '%s', not in this "
                          "service's region '%s': set region: %s (and an "
                          "endpoint in that region)", pre,
                          c->bucket ? c->bucket : "", region, here, region);
  return sdk_error_http(err, resp, STORE_E_CONFIG,
                        info->code ? info->code : "PermanentRedirect",
                        "x-amz-request-id", "%sthe bucket is not served by "
                        "this endpoint (%s, HTTP %ld): set the bucket's "
                        "region and endpoint", pre,
                        info->message ? info->message : "no details",
                        sdk_response_status(resp));
}

/* An anonymous handle's request that the server did not answer as S3 (an
 * error without an S3 error code: S3 sends one with every error but a
 * HEAD's) and in a way only a refusal explains: 400, 401 or 403; a 412
 * when no condition was sent; a 404 to a request that names no bucket
 * (listing the buckets: nothing there can be missing). Swift's s3api, for
 * one, hands an unsigned request to Swift, which answers 400, 404 or 412
 * in its own words. Anything else (a CDN's or proxy's HTML 404 for an
 * object that really is missing, a 413, a 416) keeps its meaning. */
static int anonymous_refused(const s3_call *c, long status,
                             const s3_err_info *info)
{
  if (!c->h || !c->h->cfg.anonymous || info->code)
    return 0;
  if (status == 400 || status == 401 || status == 403)
    return 1;
  if (status == 412)
    return !(c->req && (sdk_request_header(c->req, "If-Match") ||
                        sdk_request_header(c->req, "If-None-Match") ||
                        sdk_request_header(c->req,
                                           "x-amz-copy-source-if-match")));
  return status == 404 && !(c->bucket && c->bucket[0]);
}

int32_t s3_fail(const s3_call *c, const sdk_response *resp, store_error *err)
{
  long status = sdk_response_status(resp);
  char pre[600];
  s3_err_info info;
  int32_t code = 0;
  int retry = 0, mismatch;
  size_t used;

  s3_err_parse(resp, &info);
  prefix(c, pre, sizeof(pre));
  for (size_t i = 0; info.code && i < sizeof(codes) / sizeof(codes[0]); i++)
    if (!strcmp(info.code, codes[i].code)) {
      code = codes[i].rc;
      retry = codes[i].retry;
    }
  /* HTTP says what 412 means whatever code a server puts in the body
   * (Swift's s3api: InvalidRequest for a conditional complete). */
  if (status == 412)
    code = STORE_E_PRECONDITION, retry = 0;
  if ((status == 301 || status == 307 || code == STORE_E_CONFIG ||
       (info.code && !strcmp(info.code, "AuthorizationHeaderMalformed") &&
        info.region)) &&
      c->bucket) {
    code = wrong_region(c, resp, &info, pre, err);
    s3_err_info_free(&info);
    return code;
  }
  if (anonymous_refused(c, status, &info)) {
    code = sdk_error_http(err, resp, STORE_E_AUTH, status_name(status),
                   "x-amz-request-id", "%sanonymous (unsigned) request "
                   "refused (HTTP %ld, not an S3 error): set credentials "
                   "(access-key and secret-key, or a profile)", pre,
                   status);
    s3_err_info_free(&info);
    return code;
  }
  /* The body changed on the way (or the source under us): the next send
   * may well arrive intact, so the host sends it again. */
  mismatch = s3_is_checksum_mismatch(info.code, info.message);
  if (mismatch)
    code = STORE_E_IO, retry = 1;
  if (info.code)
    sdk_error_http(err, resp, code, info.code, "x-amz-request-id",
                   "%s%s%s: %s", pre,
                   mismatch ? "the server refused the body, its checksum "
                              "does not match the bytes that arrived: "
                            : "",
                   info.code, info.message ? info.message : "(no message)");
  else
    sdk_error_http(err, resp, 0, NULL, "x-amz-request-id",
                   "%s%s (HTTP %ld%s)", pre, status_name(status), status,
                   c->h && c->h->cfg.anonymous ? ", anonymous request" : "");
  if (err) {
    if (retry)
      err->flags |= STORE_ERR_RETRYABLE;
    /* the header's id (set above), else the body's */
    if (!err->request_id[0] && info.request_id)
      snprintf(err->request_id, sizeof(err->request_id), "%s",
               info.request_id);
    used = strlen(err->message);
    if (err->request_id[0] && used < sizeof(err->message))
      snprintf(err->message + used, sizeof(err->message) - used,
               " (request id %s)", err->request_id);
    sdk_text_clean(err->request_id);
    sdk_text_clean(err->message);
    code = err->code;
  } else if (!code) {
    code = sdk_status_code(status);
  }
  s3_err_info_free(&info);
  return code;
}

/* A 2xx XML body: parsed into *out; S3 may still report an error inside
 * one (CopyObject, CompleteMultipartUpload answer 200 and fail later). */
int32_t s3_fail_xml(const s3_call *c, const sdk_response *resp,
                    store_error *err, sdk_xml_node **out)
{
  size_t len = 0;
  const char *body = sdk_response_body(resp, &len);
  int32_t rc;

  *out = NULL;
  rc = sdk_xml_parse(body, len, out, err);
  if (rc) {
    char msg[STORE_ERR_MSG_SIZE];
    snprintf(msg, sizeof(msg), "%s", err ? err->message : "");
    return s3_fail_msg(c, err, STORE_E_INTERNAL, "unexpected reply (HTTP "
                       "%ld): %s", sdk_response_status(resp), msg);
  }
  if (!strcmp(sdk_xml_name(*out), "Error")) {
    sdk_xml_free(*out);
    *out = NULL;
    /* mapped by its code (a 200 alone would say INTERNAL) */
    return s3_fail(c, resp, err);
  }
  return STORE_OK;
}

int32_t s3_check_new_bucket(const char *bucket, store_error *err)
{
  size_t n = strlen(bucket), i, dots = 0;
  int ip = 1;

  for (i = 0; i < n; i++) {
    char ch = bucket[i];
    if (!(islower((unsigned char)ch) || isdigit((unsigned char)ch) ||
          ch == '.' || ch == '-'))
      break;
    if (ch == '.')
      dots++;
    else if (!isdigit((unsigned char)ch))
      ip = 0;
  }
  if (n < 3 || n > 63 || i < n || !isalnum((unsigned char)bucket[0]) ||
      !isalnum((unsigned char)bucket[n - 1]) || strstr(bucket, ".."))
    return store_error_set(err, STORE_E_INVALID, "s3: CreateBucket '%.64s': "
                           "a new bucket's name is 3 to 63 lowercase "
                           "letters, digits, '.' and '-', starting and "
                           "ending with a letter or digit", bucket);
  if ((ip && dots == 3) || !strncmp(bucket, "xn--", 4) ||
      (n > 8 && !strcmp(bucket + n - 8, "-s3alias")))
    return store_error_set(err, STORE_E_INVALID, "s3: CreateBucket '%s': S3 "
                           "refuses names like an IP address, starting "
                           "'xn--' or ending '-s3alias'", bucket);
  return STORE_OK;
}

/* A probe's own error, for a request whose failure may be an answer. */
void s3_err_init(store_error *probe)
{
  memset(probe, 0, sizeof(*probe));
  probe->struct_size = sizeof(*probe);
}

/* A bucket name some S3 accepts: the rules of today, plus what older
 * buckets of us-east-1 may still be called (up to 255 of A-Z a-z 0-9 . _
 * -); no S3 accepts "..", '/' or any other byte. */
int32_t s3_check_names(const char *bucket, const char *key, store_error *err)
{
  if (!bucket || !*bucket || strlen(bucket) > 255)
    return store_error_set(err, STORE_E_INVALID, "s3: bucket name '%.64s' "
                           "is empty or longer than 255 bytes",
                           bucket ? bucket : "");
  for (const char *p = bucket; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
      return store_error_set(err, STORE_E_INVALID, "s3: bucket name "
                             "'%.64s': no S3 accepts the character '%c' "
                             "(letters, digits, '.', '-' and '_' only)",
                             bucket, (unsigned char)*p > ' ' &&
                             *p != 0x7f ? *p : '?');
  if (strstr(bucket, "..") || !strcmp(bucket, "."))
    return store_error_set(err, STORE_E_INVALID, "s3: bucket name '%.64s': "
                           "no S3 accepts '.' or '..' there", bucket);
  if (key && (!*key || strlen(key) > S3_MAX_KEY))
    return store_error_set(err, STORE_E_INVALID, "s3: key of %zu bytes in "
                           "bucket '%s' (1..%d allowed)", strlen(key),
                           bucket, S3_MAX_KEY);
  return STORE_OK;
}
