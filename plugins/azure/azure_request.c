/*
** azure_request.c -- names, URLs and requests: build a request for a
** target, authenticate it with the credentials azure_config.c resolved
** (SAS token in the URL, or Shared Key signature), perform it, and turn a
** non-2xx answer into an error (azure_error.c).
*/
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "azure.h"
#include "sdk_azure.h"
#include "sdk_util.h"

/* Azure's container names: 3-63 of [a-z0-9-], starting and ending with a
 * letter or digit, no "--"; or the special $root, $logs, $web. Checked
 * here because the name goes into the URL path unescaped. */
int32_t az_check_container(const az_target *t, store_error *err)
{
  const char *c = t->container;
  size_t n = strlen(c);

  if (!strcmp(c, "$root") || !strcmp(c, "$logs") || !strcmp(c, "$web"))
    return STORE_OK;
  for (size_t i = 0; i < n; i++) {
    int alnum = (c[i] >= 'a' && c[i] <= 'z') || (c[i] >= '0' && c[i] <= '9');
    if (!alnum && !(c[i] == '-' && i > 0 && i + 1 < n && c[i - 1] != '-'))
      n = 0;
  }
  if (n < 3 || n > 63)
    return az_fail(t, err, STORE_E_INVALID,
                   "invalid container name: Azure wants 3 to 63 lowercase "
                   "letters, digits and single hyphens, starting and ending "
                   "with a letter or digit");
  return STORE_OK;
}

int32_t az_check_key(const az_target *t, store_error *err)
{
  int32_t rc = az_check_container(t, err);

  if (rc)
    return rc;
  if (!t->key || !*t->key || strlen(t->key) > AZ_MAX_KEY)
    return az_fail(t, err, STORE_E_INVALID,
                   "invalid blob name: 1 to %d bytes", AZ_MAX_KEY);
  return STORE_OK;
}

/* ENDPOINT[/CONTAINER[/KEY]][?QUERY][&snapshot=S][&SAS]: the key and the
 * snapshot percent-encoded, query as given (already encoded). */
int32_t az_url(const store_handle *h, const az_target *t, const char *query,
               sdk_buf *out, store_error *err)
{
  char sep = '?';
  int bad = sdk_buf_puts(out, h->endpoint);

  if (t->container)
    bad |= sdk_buf_putc(out, '/') || sdk_buf_puts(out, t->container);
  if (t->key)
    bad |= sdk_buf_putc(out, '/') ||
           sdk_uri_encode(out, t->key, strlen(t->key), 1);
  if (!t->container)
    bad |= sdk_buf_putc(out, '/');
  if (query && *query) {
    bad |= sdk_buf_putc(out, sep) || sdk_buf_puts(out, query);
    sep = '&';
  }
  if (t->snapshot)
    bad |= sdk_buf_putc(out, sep) || sdk_buf_puts(out, "snapshot=") ||
           sdk_uri_encode(out, t->snapshot, strlen(t->snapshot), 0);
  if (h->sas)
    bad |= sdk_azure_url_add_sas(out, h->sas);
  return bad ? az_nomem(t, err) : STORE_OK;
}

int32_t az_header(const az_target *t, sdk_request *r, const char *name,
                  const char *value, store_error *err)
{
  return sdk_request_set_header(r, name, value) ? az_nomem(t, err) : STORE_OK;
}

/* A new request (owned by the caller) for the target, asking for
 * AZ_API_VERSION. */
int32_t az_request(const store_handle *h, const az_target *t,
                   const char *method, const char *query, sdk_request **out,
                   store_error *err)
{
  sdk_buf url = SDK_BUF_INIT;
  int32_t rc;

  *out = NULL;
  rc = az_url(h, t, query, &url, err);
  if (rc)
    goto out;
  *out = sdk_request_new(method, sdk_buf_str(&url));
  if (!*out) {
    rc = az_nomem(t, err);
    goto out;
  }
  rc = az_header(t, *out, "x-ms-version", AZ_API_VERSION, err);
out:
  /* The URL may carry the SAS token. */
  if (url.data)
    memset(url.data, 0, url.cap);
  sdk_buf_free(&url);
  return rc;
}

/* Azure refuses a request dated more than 15 minutes from its clock. */
#define AZ_SKEW_LIMIT_S (15 * 60)

/* A 403 for clock skew: Azure's "Request date header too old" (or "not
 * valid yet"), or a Date too far from the one we signed. *offset gets
 * server - local. */
static int skewed(const store_handle *h, const sdk_response *resp,
                  int64_t *offset)
{
  const char *date = sdk_response_header(resp, "Date");
  int64_t server = date ? sdk_time_parse_http(date) : STORE_MTIME_UNKNOWN;
  const char *body = sdk_response_body(resp, NULL);
  int64_t ours = (int64_t)time(NULL) + atomic_load(&h->clock_offset);

  if (sdk_response_status(resp) != 403 || server == STORE_MTIME_UNKNOWN)
    return 0;
  *offset = server / 1000000000 - (int64_t)time(NULL);
  return strstr(body, "Request date header") != NULL ||
         llabs(server / 1000000000 - ours) > AZ_SKEW_LIMIT_S;
}

/* Date it (on the server's clock once known) and sign it. */
static int32_t sign(store_handle *h, const az_target *t, sdk_request *r,
                    store_error *err)
{
  char date[30];
  int32_t rc;

  sdk_time_format_http(time(NULL) + (time_t)atomic_load(&h->clock_offset),
                       date);
  rc = az_header(t, r, "x-ms-date", date, err);
  /* With a SAS token the URL carries the grant: nothing to sign. */
  if (!rc && h->key &&
      sdk_azure_sign_request(r, h->account, h->key, h->keylen))
    rc = az_nomem(t, err);
  return rc;
}

/* Date it, sign it, send it. On success *out (when out is not NULL) is the
 * 2xx response, owned by the caller; any other answer is freed and becomes
 * err, as does a transport failure (whose SDK message names the method and
 * the URL without its query, never the SAS token). A refusal for clock
 * skew sets the handle's clock from the server's Date and is sent again
 * once, when the body can go again; else it is left retryable for the
 * host, whose next attempt is dated right. */
int32_t az_perform(store_handle *h, const az_target *t, sdk_request *r,
                   sdk_response **out, store_error *err)
{
  sdk_response *resp = NULL;
  int64_t offset;
  long status;
  int32_t rc;
  int again = 0;

  if (out)
    *out = NULL;
send:
  rc = sign(h, t, r, err);
  if (rc)
    goto out;
  rc = sdk_http_perform(h->http, r, &resp, err);
  if (rc) {
    /* "METHOD URL: cause" -> "op blob 'c/k': cause"; flags, errno and
     * retryability stay as the SDK classified them. */
    char msg[STORE_ERR_MSG_SIZE];
    const char *cause;
    snprintf(msg, sizeof(msg), "%s", err ? err->message : "");
    cause = strstr(msg, ": ");
    az_fail(t, err, rc, "%s", cause ? cause + 2 : msg);
    goto out;
  }
  status = sdk_response_status(resp);
  if (!again && skewed(h, resp, &offset)) {
    again = 1;
    atomic_store(&h->clock_offset, offset);
    sdk_log(h->host, STORE_LOG_INFO, "azure '%s': %s: the server's clock "
            "differs from ours by %lld s; dating requests on the server's "
            "time from now on", h->name, t->op, (long long)offset);
    if (sdk_request_body_replayable(r)) {
      sdk_response_free(resp);
      resp = NULL;
      goto send;
    }
    rc = az_fail_response(t, resp, err);
    if (err)
      err->flags |= STORE_ERR_RETRYABLE;
    goto out;
  }
  if (status < 200 || status > 299) {
    rc = az_fail_response(t, resp, err);
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

/* A request without a body (an empty one for PUT, which Azure wants with
 * Content-Length: 0), with extra headers; see az_perform for *out. */
int32_t az_exec(store_handle *h, const az_target *t, const char *method,
                const char *query, const store_kv *hdrs, size_t nhdrs,
                sdk_response **out, store_error *err)
{
  sdk_request *r = NULL;
  int32_t rc;

  rc = az_request(h, t, method, query, &r, err);
  if (rc)
    goto out;
  for (size_t i = 0; i < nhdrs; i++) {
    rc = az_header(t, r, hdrs[i].key, hdrs[i].value, err);
    if (rc)
      goto out;
  }
  if (!strcmp(method, "PUT"))
    sdk_request_body_mem(r, "", 0);
  rc = az_perform(h, t, r, out, err);
out:
  sdk_request_free(r);
  return rc;
}
