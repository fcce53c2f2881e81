/*
** sdk_gcsv4.c -- see sdk_gcsv4.h. The algorithm is AWS SigV4's shape with
** Google's names: canonical request (method, encoded path, sorted query,
** sorted "name:value" headers, signed header list, payload), a string to
** sign over its SHA-256, and an RSA signature in lowercase hex instead of
** an HMAC chain.
*/
#include <stdlib.h>
#include <string.h>

#include "sdk_gcsv4.h"
#include "sdk_json.h"
#include "sdk_util.h"

/* A name and value, both owned, for sorting. */
typedef struct pair {
  char *name;
  char *value;
} pair;

static int pair_cmp(const void *a, const void *b)
{
  const pair *x = a, *y = b;
  int c = strcmp(x->name, y->name);

  return c ? c : strcmp(x->value, y->value);
}

static void pairs_free(pair *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++) {
    free(v[i].name);
    free(v[i].value);
  }
  free(v);
}

/* A header value as signed: blanks at both ends gone, every run of
 * spaces and tabs inside one space. */
static char *header_value(const char *s)
{
  char *out = malloc(strlen(s) + 1), *o = out;
  int blank = 0;

  if (!out)
    return NULL;
  s += strspn(s, " \t");
  for (; *s; s++) {
    if (*s == ' ' || *s == '\t') {
      blank = 1;
      continue;
    }
    if (blank && o != out)
      *o++ = ' ';
    blank = 0;
    *o++ = *s;
  }
  *o = '\0';
  return out;
}

static char *lower_dup(const char *s)
{
  char *d = strdup(s);

  for (char *p = d; p && *p; p++)
    if (*p >= 'A' && *p <= 'Z')
      *p = (char)(*p - 'A' + 'a');
  return d;
}

/* Encoded name=value pair (RFC 3986, '/' encoded too). */
static int enc_pair(pair *p, const char *name, const char *value)
{
  sdk_buf n = SDK_BUF_INIT, v = SDK_BUF_INIT;

  if (sdk_uri_encode(&n, name, strlen(name), 0) || sdk_buf_append(&n, "", 0) ||
      sdk_uri_encode(&v, value, strlen(value), 0) ||
      sdk_buf_append(&v, "", 0)) {
    sdk_buf_free(&n);
    sdk_buf_free(&v);
    return -1;
  }
  p->name = n.data;
  p->value = v.data;
  return 0;
}

int sdk_gcsv4_sign_url(const sdk_rsa_key *key, const sdk_gcsv4_url *u,
                       sdk_buf *out_url, sdk_buf *creq, sdk_buf *sts,
                       store_error *err)
{
  pair *hdrs = NULL, *qs = NULL;
  size_t nh = 0, nq = 0, hostlen;
  sdk_buf c = SDK_BUF_INIT, s = SDK_BUF_INIT, signed_hdrs = SDK_BUF_INIT;
  sdk_buf cred = SDK_BUF_INIT, query = SDK_BUF_INIT, sig = SDK_BUF_INIT;
  const char *payload = "UNSIGNED-PAYLOAD";
  char date[17], ymd[9], hash[65], exp[16];
  int rc = STORE_OK, bad = 0;

  if (!key || !u || !STORE_HAS_FIELD(sdk_gcsv4_url, nquery, u->struct_size) ||
      !u->method || !u->host || !*u->host || !u->path || u->path[0] != '/' ||
      !u->client_email || !u->expires || u->expires > SDK_GCSV4_MAX_EXPIRES ||
      (u->nheaders && !u->headers) || (u->nquery && !u->query))
    return store_error_set(err, STORE_E_INVALID, "gcs v4: a signed URL "
                           "needs method, host, a path starting with '/', "
                           "client_email and expires 1..%u",
                           SDK_GCSV4_MAX_EXPIRES);
  sdk_time_format_amz(u->timestamp, date);
  sdk_time_format_ymd(u->timestamp, ymd);
  snprintf(exp, sizeof(exp), "%u", (unsigned)u->expires);
  hostlen = strcspn(u->host, ":");

  /* headers: host, then the caller's, lowercased and sorted */
  hdrs = calloc(u->nheaders + 1, sizeof(*hdrs));
  bad = !hdrs;
  if (!bad) {
    hdrs[0].name = strdup("host");
    hdrs[0].value = strndup(u->host, hostlen);
    bad = !hdrs[0].name || !hdrs[0].value;
    nh = 1;
  }
  for (size_t i = 0; !bad && i < u->nheaders; i++, nh++) {
    hdrs[nh].name = lower_dup(u->headers[i].key);
    hdrs[nh].value = header_value(u->headers[i].value ? u->headers[i].value
                                                      : "");
    bad = !hdrs[nh].name || !hdrs[nh].value;
    if (!bad && !strcmp(hdrs[nh].name, "x-goog-content-sha256"))
      payload = hdrs[nh].value;
  }
  if (bad)
    goto nomem;
  qsort(hdrs, nh, sizeof(*hdrs), pair_cmp);
  for (size_t i = 0; !bad && i < nh; i++)
    bad = (i && sdk_buf_putc(&signed_hdrs, ';')) ||
          sdk_buf_puts(&signed_hdrs, hdrs[i].name);
  bad |= sdk_buf_printf(&cred, "%s/%s/auto/storage/goog4_request",
                        u->client_email, ymd);
  if (bad)
    goto nomem;

  /* query: the X-Goog-* parameters and the caller's, encoded and sorted */
  qs = calloc(u->nquery + 5, sizeof(*qs));
  bad = !qs || enc_pair(&qs[0], "X-Goog-Algorithm", SDK_GCSV4_ALGORITHM) ||
        enc_pair(&qs[1], "X-Goog-Credential", cred.data) ||
        enc_pair(&qs[2], "X-Goog-Date", date) ||
        enc_pair(&qs[3], "X-Goog-Expires", exp) ||
        enc_pair(&qs[4], "X-Goog-SignedHeaders", signed_hdrs.data);
  nq = qs ? 5 : 0;
  for (size_t i = 0; !bad && i < u->nquery; i++, nq++)
    bad = enc_pair(&qs[nq], u->query[i].key,
                   u->query[i].value ? u->query[i].value : "");
  if (bad)
    goto nomem;
  qsort(qs, nq, sizeof(*qs), pair_cmp);
  for (size_t i = 0; !bad && i < nq; i++)
    bad = sdk_buf_printf(&query, "%s%s=%s", i ? "&" : "", qs[i].name,
                         qs[i].value);

  /* canonical request and string to sign */
  bad |= sdk_buf_printf(&c, "%s\n", u->method) ||
         sdk_uri_encode(&c, u->path, strlen(u->path), 1) ||
         sdk_buf_printf(&c, "\n%s\n", query.data);
  for (size_t i = 0; !bad && i < nh; i++)
    bad = sdk_buf_printf(&c, "%s:%s\n", hdrs[i].name, hdrs[i].value);
  bad |= sdk_buf_printf(&c, "\n%s\n%s", signed_hdrs.data, payload);
  if (bad || sdk_sha256_hex(c.data, c.len, hash))
    goto nomem;
  if (sdk_buf_printf(&s, "%s\n%s\n%s/auto/storage/goog4_request\n%s",
                     SDK_GCSV4_ALGORITHM, date, ymd, hash))
    goto nomem;
  if (sdk_rsa_sign_sha256(key, s.data, s.len, SDK_RSA_HEX, &sig)) {
    rc = store_error_set(err, STORE_E_INTERNAL, "gcs v4: signing failed "
                         "(OpenSSL)");
    goto out;
  }
  if (sdk_buf_printf(out_url, "%s://%s", u->scheme ? u->scheme : "https",
                     u->host) ||
      sdk_uri_encode(out_url, u->path, strlen(u->path), 1) ||
      sdk_buf_printf(out_url, "?%s&X-Goog-Signature=%s", query.data,
                     sig.data) ||
      (creq && sdk_buf_append(creq, c.data, c.len)) ||
      (sts && sdk_buf_append(sts, s.data, s.len)))
    goto nomem;
  goto out;
nomem:
  rc = store_error_set(err, STORE_E_NOMEM, "gcs v4: out of memory");
out:
  pairs_free(hdrs, nh);
  pairs_free(qs, nq);
  sdk_buf_free(&c);
  sdk_buf_free(&s);
  sdk_buf_free(&signed_hdrs);
  sdk_buf_free(&cred);
  sdk_buf_free(&query);
  sdk_buf_free(&sig);
  return rc;
}

/* jansson writes \uXXXX with capitals; Google's clients (and the policy
 * the service compares) use small letters. */
static void lower_escapes(sdk_buf *b)
{
  for (size_t i = 0; i + 1 < b->len; i++) {
    if (b->data[i] != '\\')
      continue;
    if (b->data[i + 1] == 'u' && i + 5 < b->len)
      for (size_t j = i + 2; j < i + 6; j++)
        if (b->data[j] >= 'A' && b->data[j] <= 'F')
          b->data[j] = (char)(b->data[j] - 'A' + 'a');
    i++; /* the escaped character never starts an escape */
  }
}

int sdk_gcsv4_post_policy(const sdk_rsa_key *key, const sdk_gcsv4_policy *p,
                          json_t **out, sdk_buf *policy_text,
                          store_error *err)
{
  json_t *conds = NULL, *policy = NULL, *fields = NULL, *v;
  sdk_buf cred = SDK_BUF_INIT, text = SDK_BUF_INIT, b64 = SDK_BUF_INIT;
  sdk_buf sig = SDK_BUF_INIT;
  char date[17], ymd[9], exp[21];
  int bad;
  size_t i;

  *out = NULL;
  if (!key || !p ||
      !STORE_HAS_FIELD(sdk_gcsv4_policy, conditions, p->struct_size) ||
      !p->bucket || !p->object || !p->client_email || !p->expires ||
      p->expires > SDK_GCSV4_MAX_EXPIRES || (p->nfields && !p->fields) ||
      (p->conditions && !json_is_array(p->conditions)))
    return store_error_set(err, STORE_E_INVALID, "gcs v4: a POST policy "
                           "needs bucket, object, client_email, expires "
                           "1..%u and conditions as an array",
                           SDK_GCSV4_MAX_EXPIRES);
  sdk_time_format_amz(p->timestamp, date);
  sdk_time_format_ymd(p->timestamp, ymd);
  sdk_time_format_iso8601(p->timestamp + (time_t)p->expires, exp);
  bad = sdk_buf_printf(&cred, "%s/%s/auto/storage/goog4_request",
                       p->client_email, ymd);
  conds = json_array();
  fields = json_object();
  bad |= !conds || !fields || sdk_json_set_str(fields, "key", p->object);
  json_array_foreach((json_t *)p->conditions, i, v)
  {
    if (!bad)
      bad = json_array_append(conds, v);
  }
  for (i = 0; !bad && i < p->nfields; i++)
    bad = json_array_append_new(conds, json_pack("{s:s}", p->fields[i].key,
                                                 p->fields[i].value)) ||
          sdk_json_set_str(fields, p->fields[i].key, p->fields[i].value);
  if (!bad)
    bad = json_array_append_new(conds, json_pack("{s:s}", "bucket",
                                                 p->bucket)) ||
          json_array_append_new(conds, json_pack("{s:s}", "key", p->object)) ||
          json_array_append_new(conds, json_pack("{s:s}", "x-goog-date",
                                                 date)) ||
          json_array_append_new(conds, json_pack("{s:s}", "x-goog-credential",
                                                 cred.data)) ||
          json_array_append_new(conds, json_pack("{s:s}", "x-goog-algorithm",
                                                 SDK_GCSV4_ALGORITHM));
  if (!bad)
    bad = !(policy = json_pack("{s:O,s:s}", "conditions", conds,
                               "expiration", exp));
  if (!bad) {
    char *s = json_dumps(policy, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                   JSON_ENSURE_ASCII);
    bad = !s || sdk_buf_puts(&text, s);
    free(s);
  }
  if (bad)
    goto nomem;
  lower_escapes(&text);
  if (sdk_base64_encode(&b64, text.data, text.len))
    goto nomem;
  if (sdk_rsa_sign_sha256(key, b64.data, b64.len, SDK_RSA_HEX, &sig)) {
    json_decref(fields);
    fields = NULL;
    bad = store_error_set(err, STORE_E_INTERNAL, "gcs v4: signing failed "
                          "(OpenSSL)");
    goto out;
  }
  if (sdk_json_set_str(fields, "x-goog-algorithm", SDK_GCSV4_ALGORITHM) ||
      sdk_json_set_str(fields, "x-goog-credential", cred.data) ||
      sdk_json_set_str(fields, "x-goog-date", date) ||
      sdk_json_set_str(fields, "x-goog-signature", sig.data) ||
      sdk_json_set_str(fields, "policy", b64.data) ||
      (policy_text && sdk_buf_append(policy_text, text.data, text.len)))
    goto nomem;
  *out = fields;
  fields = NULL;
  goto out;
nomem:
  bad = store_error_set(err, STORE_E_NOMEM, "gcs v4: out of memory");
out:
  json_decref(fields);
  json_decref(policy);
  json_decref(conds);
  sdk_buf_free(&cred);
  sdk_buf_free(&text);
  sdk_buf_free(&b64);
  sdk_buf_free(&sig);
  return bad;
}
