/*
** oci_request.c -- names, URLs and requests: build a request for a
** target under the service's namespace (discovered with GET /n/ when not
** configured, once per handle), date it with the handle's clock, sign it
** (sdk_oci.h), perform it, and turn a non-2xx answer into an error
** (oci_error.c).
**
** Clock skew: OCI refuses a request dated more than 5 minutes off its
** clock (401 NotAuthenticated; a HEAD's refusal has no body, only its
** Date). When such a refusal carries a Date a minute or more from the
** date the request went with, the server's clock minus ours becomes the
** handle's skew for every later request (set, never added to: requests
** refused at once all set the same) and the request is sent once more
** (a body streamed from the
** caller cannot be sent again here: its error is marked retryable, and
** the host's retry goes out with the corrected clock).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oci.h"
#include "sdk_oci.h"

/* A Date this far from ours explains a NotAuthenticated. */
#define SKEW_MIN_S 60

/* OCI's bucket names: 1 to 256 letters, digits, '-', '_' and '.'. Checked
 * here because the name goes into the URL path unescaped. */
int32_t oci_check_bucket(const oci_target *t, store_error *err)
{
  const char *c = t->bucket;
  size_t n = strlen(c);

  for (size_t i = 0; i < n; i++)
    if (!((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= 'A' && c[i] <= 'Z') ||
          (c[i] >= '0' && c[i] <= '9') || c[i] == '-' || c[i] == '_' ||
          c[i] == '.'))
      n = 0;
  if (n < 1 || n > 256)
    return oci_fail(t, err, STORE_E_INVALID,
                    "invalid bucket name: OCI wants 1 to 256 letters, "
                    "digits, '-', '_' and '.'");
  return STORE_OK;
}

int32_t oci_check_key(const oci_target *t, store_error *err)
{
  int32_t rc = oci_check_bucket(t, err);

  if (rc)
    return rc;
  if (!t->key || !*t->key || strlen(t->key) > OCI_MAX_KEY)
    return oci_fail(t, err, STORE_E_INVALID,
                    "invalid object name: 1 to %d bytes", OCI_MAX_KEY);
  return STORE_OK;
}

/* The namespace (*out borrowed from the handle: once set it never
 * changes), configured or asked for once: the first thread asks, holding
 * ns_mu, and the others wait for its answer. */
int32_t oci_namespace(store_handle *h, char **out, store_error *err)
{
  oci_target nt = {"look up", NULL, NULL, NULL};
  sdk_response *resp = NULL;
  json_t *js = NULL;
  const char *ns;
  char *copy = NULL;
  int32_t rc = STORE_OK;

  pthread_mutex_lock(&h->mu);
  *out = h->ns;
  pthread_mutex_unlock(&h->mu);
  if (*out)
    return STORE_OK;
  pthread_mutex_lock(&h->ns_mu);
  pthread_mutex_lock(&h->mu);
  *out = h->ns;
  pthread_mutex_unlock(&h->mu);
  if (*out)
    goto out;
  rc = oci_exec(h, &nt, "GET", OCI_P_NS, NULL, NULL, &resp, err);
  if (rc)
    goto out;
  rc = oci_json(&nt, resp, &js, err);
  if (rc)
    goto out;
  ns = json_string_value(js);
  if (!ns || !*ns || strpbrk(ns, "/?#%")) {
    rc = oci_fail(&nt, err, STORE_E_INTERNAL,
                  "GET /n/ did not answer a namespace name");
    goto out;
  }
  copy = strdup(ns);
  if (!copy) {
    rc = oci_nomem(&nt, err);
    goto out;
  }
  pthread_mutex_lock(&h->mu);
  h->ns = copy;
  *out = copy;
  pthread_mutex_unlock(&h->mu);
out:
  pthread_mutex_unlock(&h->ns_mu);
  json_decref(js);
  sdk_response_free(resp);
  return rc;
}

/* The URL of `path` (OCI_P_*) for t, then ?query (already encoded). */
static int32_t url(store_handle *h, const oci_target *t, int path,
                   const char *query, sdk_buf *out, store_error *err)
{
  char *ns = NULL;
  int bad;
  int32_t rc;

  if (path != OCI_P_NS && path != OCI_P_WORKREQ && path != OCI_P_WORKERR) {
    rc = oci_namespace(h, &ns, err);
    if (rc)
      return rc;
  }
  bad = sdk_buf_puts(out, h->endpoint);
  if (path == OCI_P_NS)
    bad |= sdk_buf_puts(out, "/n/");
  else if (path == OCI_P_WORKREQ || path == OCI_P_WORKERR)
    bad |= sdk_buf_puts(out, "/workRequests/") ||
           sdk_uri_encode(out, t->version, strlen(t->version), 0) ||
           (path == OCI_P_WORKERR && sdk_buf_puts(out, "/errors"));
  else
    bad |= sdk_buf_printf(out, "/n/%s/b/", ns);
  if (path >= OCI_P_BUCKET && path <= OCI_P_COPY)
    bad |= sdk_buf_puts(out, t->bucket);
  switch (path) {
  case OCI_P_BUCKET: bad |= sdk_buf_putc(out, '/'); break;
  case OCI_P_OBJECTS: bad |= sdk_buf_puts(out, "/o"); break;
  case OCI_P_OBJECT: bad |= sdk_buf_puts(out, "/o/"); break;
  case OCI_P_UPLOADS: bad |= sdk_buf_puts(out, "/u"); break;
  case OCI_P_UPLOAD: bad |= sdk_buf_puts(out, "/u/"); break;
  case OCI_P_VERSIONS: bad |= sdk_buf_puts(out, "/objectversions"); break;
  case OCI_P_COPY: bad |= sdk_buf_puts(out, "/actions/copyObject"); break;
  default: break;
  }
  /* Object names are encoded whole, '/' too, as the OCI SDKs send them. */
  if (path == OCI_P_OBJECT || path == OCI_P_UPLOAD)
    bad |= sdk_uri_encode(out, t->key, strlen(t->key), 0);
  if (query && *query)
    bad |= sdk_buf_putc(out, '?') || sdk_buf_puts(out, query);
  return bad ? oci_nomem(t, err) : STORE_OK;
}

int32_t oci_header(const oci_target *t, sdk_request *r, const char *name,
                   const char *value, store_error *err)
{
  return sdk_request_set_header(r, name, value) ? oci_nomem(t, err)
                                                : STORE_OK;
}

/* A new request (owned by the caller) for path of the target. */
int32_t oci_request(store_handle *h, const oci_target *t, const char *method,
                    int path, const char *query, sdk_request **out,
                    store_error *err)
{
  sdk_buf u = SDK_BUF_INIT;
  int32_t rc;

  *out = NULL;
  rc = url(h, t, path, query, &u, err);
  if (rc)
    goto out;
  *out = sdk_request_new(method, sdk_buf_str(&u));
  if (!*out)
    rc = oci_nomem(t, err);
out:
  sdk_buf_free(&u);
  return rc;
}

/* "&name=value" (no '&' first), value percent-encoded. */
int32_t oci_query_add(const oci_target *t, sdk_buf *q, const char *name,
                      const char *value, store_error *err)
{
  int bad = (q->len && sdk_buf_putc(q, '&')) || sdk_buf_puts(q, name) ||
            sdk_buf_putc(q, '=') ||
            sdk_uri_encode(q, value, strlen(value), 0);
  return bad ? oci_nomem(t, err) : STORE_OK;
}

/* A refusal for the date: the server's Date far from the date the request
 * was signed with (real: our clock then, without the skew it used). The
 * skew becomes the server's time minus that real time: an assignment, so
 * that requests refused at once, each with the skew of its own signing,
 * all arrive at the same value instead of adding it up. A refusal with a
 * body says why (NotAuthenticated); one without (a HEAD) has only its
 * Date, far enough off to explain it. Says so (1); 0 when the refusal is
 * something else. */
static int clock_fix(store_handle *h, const sdk_response *resp, time_t real,
                     int64_t used)
{
  int64_t ns = sdk_time_parse_http(sdk_response_header(resp, "Date"));
  size_t len = 0;
  char code[64];
  int64_t server, diff;

  if (ns == STORE_MTIME_UNKNOWN)
    return 0;
  sdk_response_body(resp, &len);
  if (len && strcmp(oci_error_code(resp, code, sizeof(code)),
                    "NotAuthenticated"))
    return 0;
  server = ns / 1000000000;
  diff = server - ((int64_t)real + used);
  if (diff > -SKEW_MIN_S && diff < SKEW_MIN_S)
    return 0;
  pthread_mutex_lock(&h->mu);
  h->skew = server - (int64_t)real;
  pthread_mutex_unlock(&h->mu);
  return 1;
}

/* Date it, sign it, send it (once more after a clock correction). On
 * success *out (when out is not NULL) is the 2xx response, owned by the
 * caller; any other answer is freed and becomes err, as does a transport
 * failure. flags: OCI_OBJECT_BODY for a streamed object body (not signed,
 * not sent again). */
int32_t oci_perform(store_handle *h, const oci_target *t, sdk_request *r,
                    uint32_t flags, sdk_response **out, store_error *err)
{
  sdk_response *resp = NULL;
  int fixed = 0;
  long status;
  int32_t rc;

  if (out)
    *out = NULL;
  for (;;) {
    char date[30];
    time_t real = time(NULL);
    int64_t used;
    pthread_mutex_lock(&h->mu);
    used = h->skew;
    pthread_mutex_unlock(&h->mu);
    sdk_time_format_http(real + (time_t)used, date);
    rc = oci_header(t, r, "x-date", date, err);
    if (rc)
      goto out;
    if (sdk_oci_sign_request(r, h->key, h->key_id, NULL,
                             flags & OCI_OBJECT_BODY ? SDK_OCI_SIGN_NO_BODY
                                                     : 0)) {
      rc = oci_fail(t, err, STORE_E_INTERNAL, "cannot sign the request");
      goto out;
    }
    rc = sdk_http_perform(h->http, r, &resp, err);
    if (rc) {
      /* "METHOD URL: cause" -> "op object 'b/k': cause"; flags, errno and
       * retryability stay as the SDK classified them. */
      char msg[STORE_ERR_MSG_SIZE];
      const char *cause;
      snprintf(msg, sizeof(msg), "%s", err ? err->message : "");
      cause = strstr(msg, ": ");
      oci_fail(t, err, rc, "%s", cause ? cause + 2 : msg);
      goto out;
    }
    status = sdk_response_status(resp);
    if (status >= 200 && status <= 299)
      break;
    if (status == 401 && !fixed && clock_fix(h, resp, real, used)) {
      fixed = 1;
      if (!(flags & OCI_OBJECT_BODY)) {
        sdk_response_free(resp);
        resp = NULL;
        continue;
      }
      rc = oci_fail_response(t, resp, err);
      if (err)
        err->flags |= STORE_ERR_RETRYABLE; /* the clock is right now */
      goto out;
    }
    rc = oci_fail_response(t, resp, err);
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

/* A request with extra headers hdrs[0..n) and an optional JSON body
 * (serialized here), for path of the target; see oci_perform for *out. */
int32_t oci_exec_with(store_handle *h, const oci_target *t,
                      const char *method, int path, const char *query,
                      const store_kv *hdrs, size_t n, json_t *body,
                      sdk_response **out, store_error *err)
{
  sdk_request *r = NULL;
  char *text = NULL;
  int32_t rc;

  rc = oci_request(h, t, method, path, query, &r, err);
  for (size_t i = 0; !rc && i < n; i++)
    rc = oci_header(t, r, hdrs[i].key, hdrs[i].value, err);
  if (rc)
    goto out;
  if (body) {
    text = json_dumps(body, JSON_COMPACT);
    if (!text) {
      rc = oci_nomem(t, err);
      goto out;
    }
    sdk_request_body_mem(r, text, strlen(text));
    rc = oci_header(t, r, "Content-Type", "application/json", err);
    if (rc)
      goto out;
  }
  rc = oci_perform(h, t, r, 0, out, err);
out:
  free(text);
  sdk_request_free(r);
  return rc;
}

/* oci_exec_with without extra headers. */
int32_t oci_exec(store_handle *h, const oci_target *t, const char *method,
                 int path, const char *query, json_t *body,
                 sdk_response **out, store_error *err)
{
  return oci_exec_with(h, t, method, path, query, NULL, 0, body, out, err);
}

/* The response's JSON body (any JSON value; *out owned by the caller). */
int32_t oci_json(const oci_target *t, const sdk_response *resp, json_t **out,
                 store_error *err)
{
  size_t len = 0;
  const char *body = sdk_response_body(resp, &len);

  *out = json_loadb(body, len, JSON_DECODE_ANY, NULL);
  if (!*out)
    return oci_fail(t, err, STORE_E_INTERNAL,
                    "the reply is not JSON (HTTP %ld, %zu bytes)",
                    sdk_response_status(resp), len);
  return STORE_OK;
}
