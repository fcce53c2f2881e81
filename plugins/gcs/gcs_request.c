/*
** gcs_request.c -- names, URLs and requests: build a JSON API URL for a
** target, add the bearer token (sdk_oauth.h), perform, refresh the token
** once when the service answers 401, and turn a non-2xx answer into an
** error (gcs_error.c).
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gcs.h"

/* Bucket names: 3-63 of [a-z0-9._-] (up to 222 with dots), starting and
 * ending with a letter or digit. Checked here so that a bad name is a
 * clear INVALID, not the service's 400. */
int32_t gcs_check_bucket(const gcs_target *t, store_error *err)
{
  const char *b = t->bucket;
  size_t n = strlen(b);
  int dots = strchr(b, '.') != NULL;

  for (size_t i = 0; i < n; i++) {
    char c = b[i];
    int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && !((c == '-' || c == '_' || c == '.') && i > 0 && i + 1 < n))
      n = 0;
  }
  if (n < 3 || n > (dots ? 222u : 63u))
    return gcs_fail(t, err, STORE_E_INVALID,
                    "invalid bucket name: GCS wants 3 to 63 lowercase "
                    "letters, digits, '-', '_' and '.', starting and ending "
                    "with a letter or digit");
  return STORE_OK;
}

/* Object names: 1 to 1024 bytes, no CR or LF (GCS refuses them). */
int32_t gcs_check_key(const gcs_target *t, store_error *err)
{
  int32_t rc = gcs_check_bucket(t, err);

  if (rc)
    return rc;
  if (!t->key || !*t->key || strlen(t->key) > GCS_MAX_KEY ||
      strpbrk(t->key, "\r\n"))
    return gcs_fail(t, err, STORE_E_INVALID,
                    "invalid object name: 1 to %d bytes without CR or LF",
                    GCS_MAX_KEY);
  return STORE_OK;
}

/* Is name (or, ending in '/', a listing prefix) inside the multipart
 * engine's reserved space: GCS_PARTS_PREFIX, 32 hex digits (an upload
 * id), '/'? Other names under GCS_PARTS_PREFIX are ordinary objects. */
int gcs_temp_name(const char *name)
{
  const size_t n = sizeof(GCS_PARTS_PREFIX) - 1;

  return !strncmp(name, GCS_PARTS_PREFIX, n) &&
         strspn(name + n, "0123456789abcdef") == GCS_NONCE_HEX &&
         name[n + GCS_NONCE_HEX] == '/';
}

/* A key written to: gcs_check_key, and not a temporary's name (it would
 * never be listed, and an abort or a sweep would delete it). */
int32_t gcs_check_dest(const gcs_target *t, store_error *err)
{
  int32_t rc = gcs_check_key(t, err);

  if (!rc && gcs_temp_name(t->key))
    rc = gcs_fail(t, err, STORE_E_INVALID, "names under %sUPLOAD-ID/ (32 "
                  "hex digits) are reserved for multipart uploads' "
                  "temporary parts", GCS_PARTS_PREFIX);
  return rc;
}

/* ENDPOINT BASE /b[/BUCKET[/o/KEY]]: the key percent-encoded with its
 * slashes ("a/b" is one object name, a%2Fb). */
int32_t gcs_url(const store_handle *h, const gcs_target *t, const char *base,
                sdk_buf *out, store_error *err)
{
  int bad = sdk_buf_puts(out, h->endpoint) || sdk_buf_puts(out, base) ||
            sdk_buf_puts(out, "/b");

  if (t->bucket)
    bad |= sdk_buf_putc(out, '/') ||
           sdk_uri_encode(out, t->bucket, strlen(t->bucket), 0);
  if (t->bucket && t->key)
    bad |= sdk_buf_puts(out, "/o/") ||
           sdk_uri_encode(out, t->key, strlen(t->key), 0);
  return bad ? gcs_nomem(t, err) : STORE_OK;
}

/* ENDPOINT BASE /b/BUCKET/o: the bucket's objects (list, upload). */
int32_t gcs_objects_url(const store_handle *h, const gcs_target *t,
                        const char *base, sdk_buf *out, store_error *err)
{
  gcs_target bt = {t->op, t->bucket, NULL, NULL};
  int32_t rc = gcs_url(h, &bt, base, out, err);

  if (!rc && sdk_buf_puts(out, "/o"))
    rc = gcs_nomem(t, err);
  return rc;
}

/* Append ?name=value or &name=value (value percent-encoded). */
int32_t gcs_query(const gcs_target *t, sdk_buf *url, const char *name,
                  const char *value, store_error *err)
{
  char sep = url->data && strchr(url->data, '?') ? '&' : '?';

  if (sdk_buf_putc(url, sep) || sdk_buf_puts(url, name) ||
      sdk_buf_putc(url, '=') || sdk_uri_encode(url, value, strlen(value), 0))
    return gcs_nomem(t, err);
  return STORE_OK;
}

int32_t gcs_query_generation(const gcs_target *t, sdk_buf *url,
                             store_error *err)
{
  return t->generation ? gcs_query(t, url, "generation", t->generation, err)
                       : STORE_OK;
}

int32_t gcs_header(const gcs_target *t, sdk_request *r, const char *name,
                   const char *value, store_error *err)
{
  return sdk_request_set_header(r, name, value) ? gcs_nomem(t, err)
                                                : STORE_OK;
}

/* Authorization: Bearer TOKEN (none when anonymous); the token used goes
 * into *tok (a secret: the caller wipes it). */
static int32_t authorize(store_handle *h, const gcs_target *t, sdk_request *r,
                         sdk_buf *tok, store_error *err)
{
  sdk_buf hdr = SDK_BUF_INIT;
  int32_t rc;

  if (!h->auth)
    return STORE_OK;
  sdk_buf_reset(tok);
  rc = sdk_oauth_token(h->auth, h->http, tok, err);
  if (rc) {
    char msg[STORE_ERR_MSG_SIZE];
    snprintf(msg, sizeof(msg), "%s", err ? err->message : "");
    return gcs_fail(t, err, rc, "%s", msg);
  }
  if (sdk_buf_puts(&hdr, "Bearer ") || sdk_buf_puts(&hdr, tok->data))
    rc = gcs_nomem(t, err);
  else
    rc = gcs_header(t, r, "Authorization", hdr.data, err);
  memset(hdr.data, 0, hdr.cap);
  sdk_buf_free(&hdr);
  return rc;
}

int32_t gcs_send(store_handle *h, const gcs_target *t, sdk_request *r,
                 int replay, sdk_response **out, store_error *err)
{
  sdk_buf tok = SDK_BUF_INIT;
  int32_t rc;

  *out = NULL;
  for (int tries = 0;; tries++) {
    rc = authorize(h, t, r, &tok, err);
    if (rc)
      break;
    rc = sdk_http_perform(h->http, r, out, err);
    if (rc) {
      /* "METHOD URL: cause" -> "op object 'b/k': cause"; flags, errno
       * and retryability stay as the SDK classified them. */
      char msg[STORE_ERR_MSG_SIZE];
      const char *cause;
      snprintf(msg, sizeof(msg), "%s", err ? err->message : "");
      cause = strstr(msg, ": ");
      gcs_fail(t, err, rc, "%s", cause ? cause + 2 : msg);
      break;
    }
    if (sdk_response_status(*out) != 401 || !h->auth ||
        !sdk_oauth_reject(h->auth, tok.data))
      break;
    /* The token was refused (expired early, revoked): one more try with
     * a new one when the body can be sent again; otherwise the host's
     * retry gets the new token. */
    if (!replay || tries > 0) {
      rc = gcs_fail_response(t, *out, err);
      if (err)
        err->flags |= STORE_ERR_RETRYABLE;
      sdk_response_free(*out);
      *out = NULL;
      break;
    }
    sdk_response_free(*out);
    *out = NULL;
  }
  if (tok.data)
    memset(tok.data, 0, tok.cap);
  sdk_buf_free(&tok);
  return rc;
}

int32_t gcs_perform(store_handle *h, const gcs_target *t, sdk_request *r,
                    int replay, sdk_response **out, store_error *err)
{
  sdk_response *resp = NULL;
  long status;
  int32_t rc;

  if (out)
    *out = NULL;
  rc = gcs_send(h, t, r, replay, &resp, err);
  if (rc)
    goto out;
  status = sdk_response_status(resp);
  if (status < 200 || status > 299) {
    rc = gcs_fail_response(t, resp, err);
    goto out;
  }
  if (out) {
    *out = resp;
    resp = NULL;
  }
out:
  sdk_response_free(resp);
  return rc;
}

int32_t gcs_parse(const gcs_target *t, const sdk_response *resp,
                  json_t **out, store_error *err)
{
  size_t len = 0;
  const char *body = sdk_response_body(resp, &len);
  char what[80];
  int32_t rc;

  snprintf(what, sizeof(what), "the service's answer (HTTP %ld)",
           sdk_response_status(resp));
  rc = sdk_json_parse_object(body, len, what, STORE_E_INTERNAL, out, err);
  if (rc) {
    char msg[STORE_ERR_MSG_SIZE];
    snprintf(msg, sizeof(msg), "%s", err ? err->message : "");
    gcs_fail(t, err, rc, "%s", msg);
  }
  return rc;
}

int32_t gcs_json(store_handle *h, const gcs_target *t, const char *method,
                 const char *url, const json_t *body, json_t **out,
                 store_error *err)
{
  sdk_buf text = SDK_BUF_INIT;
  sdk_response *resp = NULL;
  sdk_request *r = NULL;
  int32_t rc = STORE_OK;

  if (out)
    *out = NULL;
  r = sdk_request_new(method, url);
  if (!r || (body && sdk_json_dump(body, &text))) {
    rc = gcs_nomem(t, err);
    goto out;
  }
  if (body) {
    rc = gcs_header(t, r, "Content-Type", "application/json; charset=UTF-8",
                    err);
    if (rc)
      goto out;
    sdk_request_body_mem(r, text.data, text.len);
  } else if (!strcmp(method, "POST") || !strcmp(method, "PUT")) {
    sdk_request_body_mem(r, "", 0);
  }
  rc = gcs_perform(h, t, r, 1, &resp, err);
  if (rc)
    goto out;
  if (out && sdk_response_status(resp) != 204)
    rc = gcs_parse(t, resp, out, err);
out:
  sdk_response_free(resp);
  sdk_request_free(r);
  sdk_buf_free(&text);
  return rc;
}

void gcs_log(const store_handle *h, int32_t level, const char *fmt, ...)
{
  char line[512];
  va_list ap;

  if (!h->host ||
      !STORE_HAS_FIELD(store_host_api, log, h->host->struct_size) ||
      !h->host->log)
    return;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  sdk_text_clean(line);
  h->host->log(h->host->host_ctx, level, line);
}
