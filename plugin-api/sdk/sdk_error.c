/*
** sdk_error.c -- classify an HTTP error response into a store_error
** (sdk_error.h): status to STORE_E_*, retryability, Retry-After, request id;
** the server's text in it cleaned of control bytes (sdk_text_clean); the
** "OP WHAT: CAUSE" messages and clearing an error handled.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sdk_error.h"
#include "sdk_util.h"

/* A server asking for longer is treated as asking for this; the host's own
 * backoff cap applies on top. */
#define RETRY_AFTER_MAX_S 600

int32_t sdk_status_code(long status)
{
  switch (status) {
  case 400: return STORE_E_INVALID;
  case 401: return STORE_E_AUTH;
  case 403: return STORE_E_PERMISSION;
  case 404: return STORE_E_NOT_FOUND;
  case 405: return STORE_E_UNSUPPORTED;
  case 408: return STORE_E_TIMEOUT;
  case 409: return STORE_E_EXISTS;
  case 412: return STORE_E_PRECONDITION;
  case 416: return STORE_E_INVALID;
  case 429: return STORE_E_THROTTLED;
  case 501: return STORE_E_UNSUPPORTED;
  case 503: return STORE_E_THROTTLED;
  default:
    return status >= 500 && status <= 599 ? STORE_E_SERVER : STORE_E_INTERNAL;
  }
}

int sdk_status_retryable(long status)
{
  switch (status) {
  case 408: case 429: case 500: case 502: case 503: case 504:
    return 1;
  default:
    return 0;
  }
}

/* Retry-After (RFC 9110 10.2.3): delta-seconds or an HTTP date. A date is
 * the server's clock, so it is measured against the response's Date
 * (`date`, may be NULL), the local clock only when that is missing: a
 * client's clock minutes off would otherwise wait minutes too long, or
 * not at all. 0 when absent, malformed or in the past. */
static uint32_t retry_after_ms(const char *v, const char *date)
{
  int64_t secs = 0, when, now;
  const char *p;

  if (!v || !*v)
    return 0;
  for (p = v; *p >= '0' && *p <= '9'; p++)
    if (secs <= RETRY_AFTER_MAX_S)
      secs = secs * 10 + (*p - '0');
  if (*p) {
    when = sdk_time_parse_http(v);
    if (when == STORE_MTIME_UNKNOWN)
      return 0;
    now = date ? sdk_time_parse_http(date) : STORE_MTIME_UNKNOWN;
    secs = when / 1000000000 - (now != STORE_MTIME_UNKNOWN
                                    ? now / 1000000000
                                    : (int64_t)time(NULL));
  }
  if (secs < 0)
    secs = 0;
  if (secs > RETRY_AFTER_MAX_S)
    secs = RETRY_AFTER_MAX_S;
  return (uint32_t)secs * 1000u;
}

int32_t sdk_error_http(store_error *err, const sdk_response *resp, int32_t code,
                       const char *provider_code, const char *request_id_hdr,
                       const char *fmt, ...)
{
  long status = resp ? sdk_response_status(resp) : 0;
  const char *rid = NULL;
  va_list ap;

  if (!code)
    code = sdk_status_code(status);
  if (!err)
    return code;
  err->code = code;
  err->http_status = (int32_t)status;
  err->flags &= ~STORE_ERR_RETRYABLE;
  if (sdk_status_retryable(status))
    err->flags |= STORE_ERR_RETRYABLE;
  err->retry_after_ms =
      resp ? retry_after_ms(sdk_response_header(resp, "Retry-After"),
                            sdk_response_header(resp, "Date"))
           : 0;
  if (resp && request_id_hdr)
    rid = sdk_response_header(resp, request_id_hdr);
  snprintf(err->request_id, sizeof(err->request_id), "%s", rid ? rid : "");
  snprintf(err->provider_code, sizeof(err->provider_code), "%s",
           provider_code ? provider_code : "");
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof(err->message), fmt, ap);
  va_end(ap);
  /* The message quotes the server: one line, no escapes, whatever it sent. */
  sdk_text_clean(err->request_id);
  sdk_text_clean(err->provider_code);
  sdk_text_clean(err->message);
  return code;
}

int32_t sdk_error_copy(store_error *err, const store_error *from)
{
  uint32_t size;

  if (!err)
    return from->code;
  size = err->struct_size < sizeof(*err) ? err->struct_size : sizeof(*err);
  memcpy(err, from, size);
  err->struct_size = size;
  return from->code;
}

void sdk_error_clear(store_error *err)
{
  uint32_t size;

  if (!err)
    return;
  size = err->struct_size;
  memset(err, 0, size < sizeof(*err) ? size : sizeof(*err));
  err->struct_size = size;
}

void sdk_error_describe(const sdk_nouns *n, const char *container,
                        const char *key, const char *version, char *out,
                        size_t cap)
{
  if (!container)
    snprintf(out, cap, "%s", n->service);
  else if (!key)
    snprintf(out, cap, "%s '%.64s'", n->container, container);
  else if (version)
    snprintf(out, cap, "%s '%.64s/%.96s' %s '%.40s'", n->object, container,
             key, n->version, version);
  else
    snprintf(out, cap, "%s '%.64s/%.96s'", n->object, container, key);
}

int32_t sdk_error_vfail(store_error *err, int32_t code, const char *op,
                        const char *what, const char *fmt, va_list ap)
{
  char cause[STORE_ERR_MSG_SIZE];

  vsnprintf(cause, sizeof(cause), fmt, ap);
  sdk_text_clean(cause);
  return store_error_set(err, code, "%s %s: %s", op, what, cause);
}

int32_t sdk_error_fail(store_error *err, int32_t code, const char *op,
                       const char *what, const char *fmt, ...)
{
  va_list ap;
  int32_t rc;

  va_start(ap, fmt);
  rc = sdk_error_vfail(err, code, op, what, fmt, ap);
  va_end(ap);
  return rc;
}

const sdk_error_code *sdk_error_code_find(const sdk_error_code *table,
                                          size_t n, const char *code)
{
  for (size_t i = 0; code && i < n; i++)
    if (!strcmp(code, table[i].code))
      return &table[i];
  return NULL;
}

int32_t sdk_error_response(store_error *err, const sdk_response *resp,
                           int32_t rc, uint32_t retry, const char *code,
                           const char *request_id_hdr, const char *op,
                           const char *what, const char *cause,
                           const char *smsg)
{
  char detail[160] = "";

  if (smsg && *smsg)
    snprintf(detail, sizeof(detail), ": %.*s", (int)strcspn(smsg, "\r\n"),
             smsg);
  if (cause)
    rc = sdk_error_http(err, resp, rc, code, request_id_hdr,
                        "%s %s: %s (%s%s)", op, what, cause,
                        code ? code : "", detail);
  else
    rc = sdk_error_http(err, resp, rc, code, request_id_hdr,
                        "%s %s: HTTP %ld%s%s%s%s", op, what,
                        sdk_response_status(resp), code ? " (" : "",
                        code ? code : "", code ? ")" : "", detail);
  if (err && retry)
    err->flags |= STORE_ERR_RETRYABLE;
  return rc;
}
