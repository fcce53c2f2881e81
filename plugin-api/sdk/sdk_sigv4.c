/*
** sdk_sigv4.c -- AWS Signature Version 4: canonical request, string to
** sign, signing key (cached per day), header and query authentication,
** aws-chunked chunk and trailer signatures.
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "sdk_sigv4.h"
#include "sdk_util.h"

struct sdk_sigv4 {
  char *access_key;
  char *secret_key;             /* wiped on free                          */
  char *session_token;          /* NULL when none                         */
  char *region;
  char *service;
  pthread_mutex_t lock;         /* guards the cached key below            */
  char key_ymd[9];              /* the day the cached key is for, or ""   */
  unsigned char key[32];
};

static int is_ws(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ------------------------------------------------------------------------ */
/* canonical request                                                        */
/* ------------------------------------------------------------------------ */

/* RFC 3986 section 5.2.4 on an absolute path, plus "//" collapsing, as
 * the generic SigV4 rules ask. Appends the result (always starting with
 * '/') to out. */
static int normalize_path(sdk_buf *out, const char *path)
{
  size_t len = strlen(path), nseg = 0, i;
  const char *p = path, *last = strrchr(path, '/');
  const char **seg = malloc((len / 2 + 2) * sizeof(*seg));
  size_t *seglen = malloc((len / 2 + 2) * sizeof(*seglen));
  int rc = -1, trailing;

  if (!seg || !seglen)
    goto out;
  while (*p) {
    const char *e = p + strcspn(p, "/");
    size_t n = (size_t)(e - p);
    if (n == 2 && !strncmp(p, "..", 2)) {
      if (nseg)
        nseg--;
    } else if (n && !(n == 1 && *p == '.')) {
      seg[nseg] = p;
      seglen[nseg++] = n;
    }
    p = *e ? e + 1 : e;
  }
  /* "/a/", "/a/." and "/a/b/.." all name a directory: keep the '/'. */
  last = last ? last + 1 : path;
  trailing = len && (path[len - 1] == '/' || !strcmp(last, ".") ||
                     !strcmp(last, ".."));
  rc = 0;
  for (i = 0; i < nseg && !rc; i++)
    rc = sdk_buf_putc(out, '/') || sdk_uri_encode(out, seg[i], seglen[i], 0);
  if (!rc && (!nseg || trailing))
    rc = sdk_buf_putc(out, '/');
out:
  free(seg);
  free(seglen);
  return rc ? -1 : 0;
}

int sdk_sigv4_canonical_uri(sdk_buf *out, const char *path, uint32_t flags)
{
  if (!path || !*path)
    return sdk_buf_putc(out, '/');
  if (flags & SDK_SIGV4_NORMALIZE_PATH)
    return normalize_path(out, path);
  if (*path != '/' && sdk_buf_putc(out, '/'))
    return -1;
  return sdk_uri_encode(out, path, strlen(path), 1);
}

/* One encoded query parameter; `s` holds "name\0value\0". */
typedef struct qparam {
  char *s;
  size_t name_len;
} qparam;

static int qparam_cmp(const void *a, const void *b)
{
  const qparam *x = a, *y = b;
  int c = strcmp(x->s, y->s);
  return c ? c : strcmp(x->s + x->name_len + 1, y->s + y->name_len + 1);
}

int sdk_sigv4_canonical_query(sdk_buf *out, const store_kv *q, size_t n)
{
  qparam *p = n ? calloc(n, sizeof(*p)) : NULL;
  int rc = -1;
  size_t i;

  if (n && !p)
    return -1;
  for (i = 0; i < n; i++) {
    sdk_buf b = SDK_BUF_INIT;
    const char *v = q[i].value ? q[i].value : "";
    if (sdk_uri_encode(&b, q[i].key, strlen(q[i].key), 0) ||
        sdk_buf_putc(&b, '\0')) {
      sdk_buf_free(&b);
      goto out;
    }
    p[i].name_len = b.len - 1;
    if (sdk_uri_encode(&b, v, strlen(v), 0) || sdk_buf_putc(&b, '\0')) {
      sdk_buf_free(&b);
      goto out;
    }
    p[i].s = b.data; /* owned by p[i] now */
  }
  if (n)
    qsort(p, n, sizeof(*p), qparam_cmp);
  for (i = 0; i < n; i++)
    if ((i && sdk_buf_putc(out, '&')) || sdk_buf_puts(out, p[i].s) ||
        sdk_buf_putc(out, '=') ||
        sdk_buf_puts(out, p[i].s + p[i].name_len + 1))
      goto out;
  rc = 0;
out:
  for (i = 0; i < n && p; i++)
    free(p[i].s);
  free(p);
  return rc;
}

/* A header for canonicalization: lowercase name, its position (the sort
 * must keep repeated names in their original order). */
typedef struct chdr {
  char *name;
  const char *value;
  size_t pos;
} chdr;

static int chdr_cmp(const void *a, const void *b)
{
  const chdr *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  if (c)
    return c;
  return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Trim, and make every run of whitespace (folded lines too) one space. */
static int put_header_value(sdk_buf *out, const char *v)
{
  int pending = 0;

  while (*v && is_ws(*v))
    v++;
  for (; *v; v++) {
    if (is_ws(*v)) {
      pending = 1;
      continue;
    }
    if ((pending && sdk_buf_putc(out, ' ')) || sdk_buf_putc(out, *v))
      return -1;
    pending = 0;
  }
  return 0;
}

int sdk_sigv4_canonical_headers(sdk_buf *out, sdk_buf *signed_names,
                                const store_kv *h, size_t n)
{
  chdr *c = n ? calloc(n, sizeof(*c)) : NULL;
  int rc = -1;
  size_t i;

  if (n && !c)
    return -1;
  for (i = 0; i < n; i++) {
    c[i].name = strdup(h[i].key);
    if (!c[i].name)
      goto out;
    for (char *p = c[i].name; *p; p++)
      if (*p >= 'A' && *p <= 'Z')
        *p = (char)(*p - 'A' + 'a');
    c[i].value = h[i].value ? h[i].value : "";
    c[i].pos = i;
  }
  if (n)
    qsort(c, n, sizeof(*c), chdr_cmp);
  for (i = 0; i < n; i++) {
    int first = !i || strcmp(c[i - 1].name, c[i].name);
    int last = i + 1 == n || strcmp(c[i + 1].name, c[i].name);
    if (first) {
      if (sdk_buf_puts(out, c[i].name) || sdk_buf_putc(out, ':'))
        goto out;
      if (signed_names && ((signed_names->len && sdk_buf_putc(signed_names,
                                                              ';')) ||
                           sdk_buf_puts(signed_names, c[i].name)))
        goto out;
    } else if (sdk_buf_putc(out, ',')) {
      goto out;
    }
    if (put_header_value(out, c[i].value) ||
        (last && sdk_buf_putc(out, '\n')))
      goto out;
  }
  rc = 0;
out:
  for (i = 0; i < n && c; i++)
    free(c[i].name);
  free(c);
  return rc;
}

/* The canonical request of m into out, its signed header names into
 * names. */
static int build_creq(sdk_buf *out, sdk_buf *names, const sdk_sigv4_msg *m,
                      uint32_t flags)
{
  return sdk_buf_puts(out, m->method) || sdk_buf_putc(out, '\n') ||
                 sdk_sigv4_canonical_uri(out, m->path, flags) ||
                 sdk_buf_putc(out, '\n') ||
                 sdk_sigv4_canonical_query(out, m->query, m->nquery) ||
                 sdk_buf_putc(out, '\n') ||
                 sdk_sigv4_canonical_headers(out, names, m->headers,
                                             m->nheaders) ||
                 sdk_buf_putc(out, '\n') ||
                 sdk_buf_puts(out, sdk_buf_str(names)) ||
                 sdk_buf_putc(out, '\n') ||
                 sdk_buf_puts(out, m->payload_hash ? m->payload_hash
                                                   : SDK_SIGV4_EMPTY_SHA256)
             ? -1
             : 0;
}

int sdk_sigv4_string_to_sign(sdk_buf *out, const char *algorithm,
                             const char *amz_date, const char *scope,
                             const char *canonical_request)
{
  char hash[65];

  if (sdk_sha256_hex(canonical_request, strlen(canonical_request), hash))
    return -1;
  return sdk_buf_printf(out, "%s\n%s\n%s\n%s", algorithm, amz_date, scope,
                        hash);
}

int sdk_sigv4_signing_key(const char *secret, const char *ymd,
                          const char *region, const char *service,
                          unsigned char key[32])
{
  const char *steps[] = {ymd, region, service, "aws4_request"};
  sdk_buf k = SDK_BUF_INIT;
  int rc = -1;

  if (sdk_buf_puts(&k, "AWS4") || sdk_buf_puts(&k, secret))
    goto out;
  if (sdk_hmac_sha256(k.data, k.len, steps[0], strlen(steps[0]), key))
    goto out;
  for (size_t i = 1; i < 4; i++)
    if (sdk_hmac_sha256(key, 32, steps[i], strlen(steps[i]), key))
      goto out;
  rc = 0;
out:
  if (k.data)
    OPENSSL_cleanse(k.data, k.len);
  sdk_buf_free(&k);
  return rc;
}

int sdk_sigv4_hmac_hex(const unsigned char key[32], const char *data,
                       size_t len, char hex[65])
{
  unsigned char mac[32];

  if (sdk_hmac_sha256(key, 32, data, len, mac))
    return -1;
  sdk_hex(mac, sizeof(mac), hex);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* the signer                                                               */
/* ------------------------------------------------------------------------ */

void sdk_sigv4_free(sdk_sigv4 *s)
{
  if (!s)
    return;
  if (s->secret_key) {
    OPENSSL_cleanse(s->secret_key, strlen(s->secret_key));
    free(s->secret_key);
  }
  if (s->session_token) {
    OPENSSL_cleanse(s->session_token, strlen(s->session_token));
    free(s->session_token);
  }
  OPENSSL_cleanse(s->key, sizeof(s->key));
  free(s->access_key);
  free(s->region);
  free(s->service);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

int sdk_sigv4_new(const sdk_sigv4_config *cfg, sdk_sigv4 **out)
{
  sdk_sigv4 *s;

  *out = NULL;
  if (!cfg || !cfg->access_key || !cfg->secret_key || !cfg->region ||
      !cfg->service)
    return -1;
  s = calloc(1, sizeof(*s));
  if (!s)
    return -1;
  pthread_mutex_init(&s->lock, NULL);
  s->access_key = strdup(cfg->access_key);
  s->secret_key = strdup(cfg->secret_key);
  s->region = strdup(cfg->region);
  s->service = strdup(cfg->service);
  if (cfg->session_token && *cfg->session_token)
    s->session_token = strdup(cfg->session_token);
  if (!s->access_key || !s->secret_key || !s->region || !s->service ||
      (cfg->session_token && *cfg->session_token && !s->session_token)) {
    sdk_sigv4_free(s);
    return -1;
  }
  *out = s;
  return 0;
}

/* The signing key for day ymd, derived once per day (four HMACs saved on
 * every request) under the lock, copied out. */
static int day_key(sdk_sigv4 *s, const char *ymd, unsigned char key[32])
{
  int rc = 0;

  pthread_mutex_lock(&s->lock);
  if (strcmp(s->key_ymd, ymd)) {
    rc = sdk_sigv4_signing_key(s->secret_key, ymd, s->region, s->service,
                               s->key);
    if (rc == 0)
      snprintf(s->key_ymd, sizeof(s->key_ymd), "%s", ymd);
    else
      s->key_ymd[0] = '\0';
  }
  if (rc == 0)
    memcpy(key, s->key, 32);
  pthread_mutex_unlock(&s->lock);
  return rc;
}

void sdk_sigv4_result_free(sdk_sigv4_result *r)
{
  if (!r)
    return;
  sdk_buf_free(&r->canonical_request);
  sdk_buf_free(&r->string_to_sign);
  sdk_buf_free(&r->signed_headers);
  sdk_buf_free(&r->authorization);
  sdk_buf_free(&r->query);
  memset(r->add, 0, sizeof(r->add));
  r->nadd = 0;
}

static const char *find_header(const store_kv *h, size_t n, const char *name)
{
  for (size_t i = 0; i < n; i++)
    if (!strcasecmp(h[i].key, name))
      return h[i].value ? h[i].value : "";
  return NULL;
}

/* Date and scope for one signing: the message's x-amz-date when it has
 * one (test suites sign prepared requests), else `when`. */
static int set_date_scope(const sdk_sigv4 *s, const char *given, time_t when,
                          sdk_sigv4_result *out)
{
  int n;

  if (given) {
    if (strlen(given) != 16 || given[8] != 'T')
      return -1;
    memcpy(out->amz_date, given, 17);
  } else {
    sdk_time_format_amz(when, out->amz_date);
    if (!out->amz_date[0]) /* a year outside 0..9999 */
      return -1;
  }
  n = snprintf(out->scope, sizeof(out->scope), "%.8s/%s/%s/aws4_request",
               out->amz_date, s->region, s->service);
  return n < 0 || (size_t)n >= sizeof(out->scope) ? -1 : 0;
}

/* The signature of out->string_to_sign into out->signature. */
static int sign_sts(sdk_sigv4 *s, sdk_sigv4_result *out)
{
  unsigned char key[32];
  char ymd[9];
  int rc;

  memcpy(ymd, out->amz_date, 8);
  ymd[8] = '\0';
  rc = day_key(s, ymd, key);
  if (rc == 0)
    rc = sdk_sigv4_hmac_hex(key, out->string_to_sign.data,
                            out->string_to_sign.len, out->signature);
  OPENSSL_cleanse(key, sizeof(key));
  return rc;
}

/* Canonical request, string to sign and signature of m into out. */
static int sign_msg(sdk_sigv4 *s, const sdk_sigv4_msg *m, uint32_t flags,
                    sdk_sigv4_result *out)
{
  if (build_creq(&out->canonical_request, &out->signed_headers, m, flags) ||
      sdk_sigv4_string_to_sign(&out->string_to_sign, SDK_SIGV4_ALGORITHM,
                               out->amz_date, out->scope,
                               sdk_buf_str(&out->canonical_request)))
    return -1;
  return sign_sts(s, out);
}

int sdk_sigv4_sign(sdk_sigv4 *s, const sdk_sigv4_msg *m, time_t when,
                   uint32_t flags, sdk_sigv4_result *out)
{
  const char *given = find_header(m->headers, m->nheaders, "x-amz-date");
  const char *hash = m->payload_hash ? m->payload_hash
                                     : SDK_SIGV4_EMPTY_SHA256;
  sdk_sigv4_msg full = *m;
  store_kv *all = NULL;
  int omit_token = 0, rc = -1;
  size_t i;

  /* out is required; saying so also spares GCC a NULL path through
   * sdk_sigv4_result_free, which it warns about when inlined. */
  if (!out)
    return -1;
  sdk_sigv4_result_free(out);
  if (set_date_scope(s, given, when, out))
    goto out;
  /* The headers the signer adds, in the order they are sent. */
  if (s->session_token &&
      !find_header(m->headers, m->nheaders, "x-amz-security-token")) {
    out->add[out->nadd++] = (store_kv){"X-Amz-Security-Token",
                                       s->session_token};
    omit_token = (flags & SDK_SIGV4_OMIT_TOKEN) != 0;
  }
  if (!given)
    out->add[out->nadd++] = (store_kv){"X-Amz-Date", out->amz_date};
  if ((flags & SDK_SIGV4_CONTENT_SHA256) &&
      !find_header(m->headers, m->nheaders, "x-amz-content-sha256"))
    out->add[out->nadd++] = (store_kv){"x-amz-content-sha256", hash};
  all = malloc((m->nheaders + out->nadd) * sizeof(*all) + 1);
  if (!all)
    goto out;
  if (m->nheaders)
    memcpy(all, m->headers, m->nheaders * sizeof(*all));
  full.headers = all;
  full.nheaders = m->nheaders;
  for (i = 0; i < out->nadd; i++)
    if (!(omit_token && i == 0))
      all[full.nheaders++] = out->add[i];
  full.payload_hash = hash;
  if (sign_msg(s, &full, flags, out) ||
      sdk_buf_printf(&out->authorization,
                     "%s Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                     SDK_SIGV4_ALGORITHM, s->access_key, out->scope,
                     sdk_buf_str(&out->signed_headers), out->signature))
    goto out;
  out->add[out->nadd++] = (store_kv){"Authorization",
                                     out->authorization.data};
  rc = 0;
out:
  free(all);
  if (rc)
    sdk_sigv4_result_free(out);
  return rc;
}

/* Append "&name=value" (the '&' only when out is not empty), encoded. */
static int put_param(sdk_buf *out, const char *name, const char *value)
{
  return (out->len && sdk_buf_putc(out, '&')) ||
                 sdk_uri_encode(out, name, strlen(name), 0) ||
                 sdk_buf_putc(out, '=') ||
                 sdk_uri_encode(out, value, strlen(value), 0)
             ? -1
             : 0;
}

int sdk_sigv4_presign(sdk_sigv4 *s, const sdk_sigv4_msg *m, time_t when,
                      uint32_t expires_s, uint32_t flags,
                      sdk_sigv4_result *out)
{
  sdk_buf scratch = SDK_BUF_INIT, cred = SDK_BUF_INIT, names = SDK_BUF_INIT;
  char expires[16];
  store_kv *q = NULL, auth[6];
  size_t nauth = 0, omit = SIZE_MAX; /* auth[omit] is sent, not signed */
  sdk_sigv4_msg full = *m;
  int rc = -1;

  /* out is required; saying so also spares GCC a NULL path through
   * sdk_sigv4_result_free, which it warns about when inlined. */
  if (!out)
    return -1;
  sdk_sigv4_result_free(out);
  if (set_date_scope(s, NULL, when, out))
    goto out;
  snprintf(expires, sizeof(expires), "%u", expires_s);
  /* The signed header list is itself a signed parameter: compute it
   * first (build_creq computes it again into out). */
  if (sdk_sigv4_canonical_headers(&scratch, &names, m->headers,
                                  m->nheaders) ||
      sdk_buf_printf(&cred, "%s/%s", s->access_key, out->scope))
    goto out;
  auth[nauth++] = (store_kv){"X-Amz-Algorithm", SDK_SIGV4_ALGORITHM};
  auth[nauth++] = (store_kv){"X-Amz-Credential", cred.data};
  auth[nauth++] = (store_kv){"X-Amz-Date", out->amz_date};
  auth[nauth++] = (store_kv){"X-Amz-SignedHeaders", sdk_buf_str(&names)};
  auth[nauth++] = (store_kv){"X-Amz-Expires", expires};
  /* An omitted token still travels with the URL, only unsigned. */
  if (s->session_token) {
    omit = (flags & SDK_SIGV4_OMIT_TOKEN) ? nauth : omit;
    auth[nauth++] = (store_kv){"X-Amz-Security-Token", s->session_token};
  }
  q = malloc((m->nquery + nauth) * sizeof(*q) + 1);
  if (!q)
    goto out;
  if (m->nquery)
    memcpy(q, m->query, m->nquery * sizeof(*q));
  full.query = q;
  full.nquery = m->nquery;
  for (size_t i = 0; i < nauth; i++)
    if (i != omit)
      q[full.nquery++] = auth[i];
  if (sign_msg(s, &full, flags, out))
    goto out;
  for (size_t i = 0; i < nauth; i++)
    if (put_param(&out->query, auth[i].key, auth[i].value))
      goto out;
  if (put_param(&out->query, "X-Amz-Signature", out->signature))
    goto out;
  rc = 0;
out:
  free(q);
  sdk_buf_free(&scratch);
  sdk_buf_free(&cred);
  sdk_buf_free(&names);
  if (rc)
    sdk_sigv4_result_free(out);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* signing an sdk_request                                                   */
/* ------------------------------------------------------------------------ */

/* Headers never signed: hop-by-hop ones, and ones libcurl or a proxy may
 * add or rewrite on the way. */
static int unsignable(const char *name)
{
  static const char *const skip[] = {"authorization", "user-agent", "expect",
                                     "transfer-encoding", "connection",
                                     "x-amzn-trace-id"};
  for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
    if (!strcasecmp(name, skip[i]))
      return 1;
  return 0;
}

/* The parts of an absolute URL the signature covers: the Host header
 * value (the port only when not the scheme's default, as libcurl sends
 * it), the decoded path, and the decoded query parameters (in q, whose
 * strings point into qbuf). */
typedef struct url_parts {
  sdk_buf host, path, qbuf;
  store_kv *q;
  size_t nq;
} url_parts;

static void url_parts_free(url_parts *u)
{
  sdk_buf_free(&u->host);
  sdk_buf_free(&u->path);
  sdk_buf_free(&u->qbuf);
  free(u->q);
}

static int parse_url(const char *url, url_parts *u)
{
  const char *p = strstr(url, "://"), *auth, *end, *path, *query, *frag;
  size_t authlen, n = 0, i;
  int https;

  if (!p)
    return -1;
  https = (size_t)(p - url) == 5 && !strncasecmp(url, "https", 5);
  auth = p + 3;
  end = auth + strcspn(auth, "/?#");
  authlen = (size_t)(end - auth);
  if (memchr(auth, '@', authlen)) /* userinfo is not ours to sign */
    return -1;
  if ((https && authlen > 4 && !strncmp(end - 4, ":443", 4)) ||
      (!https && authlen > 3 && !strncmp(end - 3, ":80", 3)))
    authlen -= https ? 4 : 3;
  if (sdk_buf_append(&u->host, auth, authlen))
    return -1;
  path = end;
  query = path + strcspn(path, "?#");
  frag = query + strcspn(query, "#");
  if (sdk_uri_decode(&u->path, path, (size_t)(query - path), 0) ||
      sdk_buf_putc(&u->path, '\0'))
    return -1;
  if (*query != '?')
    return 0;
  query++;
  /* Each parameter goes to qbuf as a marker ('=' valued, '-' bare),
   * then "name\0value\0", decoded. */
  for (p = query; p < frag;) {
    const char *amp = memchr(p, '&', (size_t)(frag - p));
    const char *stop = amp ? amp : frag;
    const char *eq = memchr(p, '=', (size_t)(stop - p));
    if (stop > p) {
      if (sdk_buf_putc(&u->qbuf, eq ? '=' : '-') ||
          sdk_uri_decode(&u->qbuf, p, (size_t)((eq ? eq : stop) - p), 0) ||
          sdk_buf_putc(&u->qbuf, '\0') ||
          (eq && sdk_uri_decode(&u->qbuf, eq + 1, (size_t)(stop - eq - 1),
                                0)) ||
          sdk_buf_putc(&u->qbuf, '\0'))
        return -1;
      n++;
    }
    p = stop + 1;
  }
  u->q = calloc(n + 1, sizeof(*u->q));
  if (!u->q)
    return -1;
  for (i = 0, p = u->qbuf.data; i < n; i++) {
    int valued = *p++ == '=';
    u->q[i].key = p;
    p += strlen(p) + 1;
    u->q[i].value = valued ? p : NULL;
    p += strlen(p) + 1;
  }
  u->nq = n;
  return 0;
}

int sdk_sigv4_presign_url(sdk_sigv4 *s, const char *method, const char *url,
                          const store_kv *h, size_t nh, time_t when,
                          uint32_t expires_s, uint32_t flags, sdk_buf *out)
{
  url_parts u = {SDK_BUF_INIT, SDK_BUF_INIT, SDK_BUF_INIT, NULL, 0};
  sdk_sigv4_result res = SDK_SIGV4_RESULT_INIT;
  sdk_sigv4_msg m = {0};
  store_kv *all = NULL;
  int rc = -1;

  if (parse_url(url, &u))
    goto out;
  all = calloc(nh + 1, sizeof(*all));
  if (!all)
    goto out;
  all[0] = (store_kv){"host", u.host.data};
  if (nh)
    memcpy(all + 1, h, nh * sizeof(*h));
  m.method = method;
  m.path = u.path.data;
  m.query = u.q;
  m.nquery = u.nq;
  m.headers = all;
  m.nheaders = nh + 1;
  m.payload_hash = SDK_SIGV4_UNSIGNED_PAYLOAD;
  if (sdk_sigv4_presign(s, &m, when, expires_s, flags, &res) ||
      sdk_buf_printf(out, "%s%c%s", url, strchr(url, '?') ? '&' : '?',
                     sdk_buf_str(&res.query)))
    goto out;
  rc = 0;
out:
  /* The query is what makes the URL a credential. */
  if (res.query.data)
    OPENSSL_cleanse(res.query.data, res.query.cap);
  sdk_sigv4_result_free(&res);
  url_parts_free(&u);
  free(all);
  return rc;
}

int sdk_sigv4_sign_request(sdk_sigv4 *s, sdk_request *r,
                           const char *payload_hash, time_t when,
                           uint32_t flags, sdk_sigv4_result *seed,
                           store_error *err)
{
  url_parts u = {SDK_BUF_INIT, SDK_BUF_INIT, SDK_BUF_INIT, NULL, 0};
  sdk_sigv4_result res = SDK_SIGV4_RESULT_INIT;
  sdk_sigv4_msg m = {0};
  store_kv *h = NULL;
  size_t n, i, nh = 0;
  int rc = STORE_E_NOMEM;

  /* A request signed before (a retry) is signed afresh: without the
   * headers the signing adds, which would otherwise be signed twice. */
  if (sdk_request_set_header(r, "Authorization", NULL) ||
      sdk_request_set_header(r, "X-Amz-Date", NULL) ||
      ((flags & SDK_SIGV4_CONTENT_SHA256) &&
       sdk_request_set_header(r, "x-amz-content-sha256", NULL)) ||
      (s->session_token &&
       sdk_request_set_header(r, "X-Amz-Security-Token", NULL)))
    goto out;
  if (parse_url(sdk_request_url(r), &u)) {
    rc = store_error_set(err, STORE_E_INTERNAL,
                         "sigv4: cannot sign %s: not an absolute URL "
                         "without user info", sdk_request_method(r));
    goto out;
  }
  n = sdk_request_header_count(r);
  h = calloc(n + 1, sizeof(*h));
  if (!h)
    goto out;
  h[nh++] = (store_kv){"host", u.host.data};
  for (i = 0; i < n; i++) {
    const char *name = sdk_request_header_name(r, i);
    if (!unsignable(name) && strcasecmp(name, "host"))
      h[nh++] = (store_kv){name, sdk_request_header_value(r, i)};
  }
  m.method = sdk_request_method(r);
  m.path = u.path.data;
  m.query = u.q;
  m.nquery = u.nq;
  m.headers = h;
  m.nheaders = nh;
  m.payload_hash = payload_hash;
  if (sdk_sigv4_sign(s, &m, when, flags, &res))
    goto out;
  for (i = 0; i < res.nadd; i++)
    if (sdk_request_set_header(r, res.add[i].key, res.add[i].value))
      goto out;
  if (seed) {
    sdk_sigv4_result_free(seed);
    *seed = res;
    memset(&res, 0, sizeof(res));
    /* The date pointed into res itself: re-aim it at the copy. */
    for (i = 0; i < seed->nadd; i++)
      if (!strcmp(seed->add[i].key, "X-Amz-Date"))
        seed->add[i].value = seed->amz_date;
  }
  rc = STORE_OK;
out:
  if (rc == STORE_E_NOMEM)
    store_error_set(err, rc, "sigv4: out of memory signing a request");
  sdk_sigv4_result_free(&res);
  url_parts_free(&u);
  free(h);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* aws-chunked payloads                                                     */
/* ------------------------------------------------------------------------ */

int sdk_sigv4_chunk_begin(sdk_sigv4 *s, const sdk_sigv4_result *seed,
                          sdk_sigv4_chunker *c)
{
  char ymd[9];

  memset(c, 0, sizeof(*c));
  if (strlen(seed->signature) != 64)
    return -1;
  memcpy(ymd, seed->amz_date, 8);
  ymd[8] = '\0';
  memcpy(c->amz_date, seed->amz_date, sizeof(c->amz_date));
  memcpy(c->scope, seed->scope, sizeof(c->scope));
  memcpy(c->prev, seed->signature, sizeof(c->prev));
  return day_key(s, ymd, c->key);
}

/* hex(HMAC(key, kind \n date \n scope \n prev \n rest)) chained. */
static int chain_sign(sdk_sigv4_chunker *c, const char *kind,
                      const char *rest, char sig[65])
{
  sdk_buf sts = SDK_BUF_INIT;
  int rc = sdk_buf_printf(&sts, "%s\n%s\n%s\n%s\n%s", kind, c->amz_date,
                          c->scope, c->prev, rest);

  if (rc == 0)
    rc = sdk_sigv4_hmac_hex(c->key, sts.data, sts.len, sig);
  if (rc == 0)
    memcpy(c->prev, sig, 65);
  sdk_buf_free(&sts);
  return rc;
}

int sdk_sigv4_chunk_sign(sdk_sigv4_chunker *c, const void *data, size_t len,
                         char sig[65])
{
  char rest[64 + 1 + 64 + 1];

  memcpy(rest, SDK_SIGV4_EMPTY_SHA256, 64);
  rest[64] = '\n';
  if (sdk_sha256_hex(len ? data : "", len, rest + 65))
    return -1;
  return chain_sign(c, "AWS4-HMAC-SHA256-PAYLOAD", rest, sig);
}

int sdk_sigv4_trailer_sign(sdk_sigv4_chunker *c, const store_kv *trailers,
                           size_t n, char sig[65])
{
  sdk_buf canon = SDK_BUF_INIT;
  char hash[65];
  int rc = 0;

  for (size_t i = 0; i < n && !rc; i++) {
    size_t start = canon.len;
    rc = sdk_buf_printf(&canon, "%s:%s\n", trailers[i].key,
                        trailers[i].value);
    for (size_t j = start; !rc && canon.data[j] != ':'; j++)
      if (canon.data[j] >= 'A' && canon.data[j] <= 'Z')
        canon.data[j] = (char)(canon.data[j] - 'A' + 'a');
  }
  if (rc == 0)
    rc = sdk_sha256_hex(n ? canon.data : "", canon.len, hash);
  if (rc == 0)
    rc = chain_sign(c, "AWS4-HMAC-SHA256-TRAILER", hash, sig);
  sdk_buf_free(&canon);
  return rc;
}

void sdk_sigv4_chunk_end(sdk_sigv4_chunker *c)
{
  OPENSSL_cleanse(c, sizeof(*c));
}

size_t sdk_sigv4_chunk_header(size_t len, const char sig[65],
                              char hdr[SDK_SIGV4_CHUNK_HDR_MAX])
{
  int n = snprintf(hdr, SDK_SIGV4_CHUNK_HDR_MAX, "%zx;chunk-signature=%.64s\r\n",
                   len, sig);
  return n > 0 ? (size_t)n : 0;
}

/* Framed size of one chunk of len bytes: hex digits, the signature
 * extension, two CRLFs and the data. */
static uint64_t framed(uint64_t len)
{
  uint64_t digits = 1;

  for (uint64_t v = len; v >= 16; v /= 16)
    digits++;
  return digits + strlen(";chunk-signature=") + 64 + 2 + len + 2;
}

uint64_t sdk_sigv4_chunked_length(uint64_t decoded, size_t chunk_size)
{
  uint64_t full = decoded / chunk_size, rest = decoded % chunk_size;

  return full * framed(chunk_size) + (rest ? framed(rest) : 0) + framed(0);
}
