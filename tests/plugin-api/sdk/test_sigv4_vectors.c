/*
** test_sigv4_vectors.c -- the SDK's SigV4 signer against every public
** vector in the vectors directory (tests/vectors; README sections 1, 2
** and 4):
**   aws-sigv4-classic/   the 2019 AWS suite (34 cases, recursive)
**   aws-sigv4-crt/v4/    aws-c-auth: header and query (presign) variants
**   s3-doc-examples/     S3 header auth, presign, aws-chunked (+ trailer)
** Every intermediate result is compared. One cmocka test per case, and
** one that fails when fewer cases are found than the sets hold.
**
**   test_sigv4_vectors VECTORS_DIR
*/
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "sdk_sigv4.h"
#include "sdk_util.h"

/* Equal with trailing newlines ignored (vector files differ on them);
 * otherwise the test fails showing both. */
static void assert_same(const char *what, const char *got, const char *want)
{
  size_t g, w;

  if (!got || !want)
    fail_msg("%s: %s is missing", what, got ? "the expectation" : "result");
  g = strlen(got);
  w = strlen(want);
  while (g && (got[g - 1] == '\n' || got[g - 1] == '\r'))
    g--;
  while (w && (want[w - 1] == '\n' || want[w - 1] == '\r'))
    w--;
  if (g == w && !memcmp(got, want, g))
    return;
  fail_msg("%s differs\n--- expected\n%.*s\n--- got\n%.*s\n---", what,
           (int)w, want, (int)g, got);
}

static char *slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  sdk_buf b = SDK_BUF_INIT;
  char chunk[4096];
  size_t n;

  if (!f)
    return NULL;
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
    if (sdk_buf_append(&b, chunk, n))
      abort();
  fclose(f);
  if (!b.data && sdk_buf_puts(&b, ""))
    abort();
  return b.data;
}

static char *slurp2(const char *dir, const char *name)
{
  sdk_buf path = SDK_BUF_INIT;
  char *text;

  if (sdk_buf_printf(&path, "%s/%s", dir, name))
    abort();
  text = slurp(path.data);
  sdk_buf_free(&path);
  return text;
}

static int is_dir(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ------------------------------------------------------------------------ */
/* the .req / request.txt format                                            */
/* ------------------------------------------------------------------------ */
#define MAX_HDR 32
#define MAX_Q 32

typedef struct req {
  char *text;                   /* owned copy, cut up in place            */
  char *method, *target, *body;
  char *hline[MAX_HDR];         /* raw header lines, continuations joined */
  store_kv hdr[MAX_HDR];        /* name, value (folded lines with "\n")   */
  size_t nhdr;
  sdk_buf path, qbuf;           /* decoded path; decoded query strings    */
  store_kv q[MAX_Q];
  size_t nq;
  char hash[65];                /* sha256 of the body                     */
} req;

/* "METHOD SP target SP HTTP/1.1", header lines (a line starting with
 * whitespace continues the previous one), blank line, body. The target
 * may contain spaces. */
static int parse_req(const char *text, req *r)
{
  char *p, *nl, *sp;

  memset(r, 0, sizeof(*r));
  r->text = strdup(text);
  p = r->text;
  nl = strchr(p, '\n');
  if (!nl)
    return -1;
  *nl = '\0';
  sp = strchr(p, ' ');
  if (!sp || !strrchr(p, ' ') || strrchr(p, ' ') == sp)
    return -1;
  *sp = '\0';
  r->method = p;
  r->target = sp + 1;
  *strrchr(r->target, ' ') = '\0';
  p = nl + 1;
  r->body = "";
  while (*p) {
    size_t len;
    nl = strchr(p, '\n');
    len = nl ? (size_t)(nl - p) : strlen(p);
    if (len == 0) {
      r->body = nl + 1;
      break;
    }
    if ((*p == ' ' || *p == '\t') && r->nhdr) {
      /* obs-fold: the previous header goes on; "\n" marks the fold */
      char *prev = r->hline[r->nhdr - 1];
      size_t pl = strlen(prev);
      char *joined = malloc(pl + len + 2);
      memcpy(joined, prev, pl);
      joined[pl] = '\n';
      memcpy(joined + pl + 1, p, len);
      joined[pl + 1 + len] = '\0';
      free(prev);
      r->hline[r->nhdr - 1] = joined;
    } else {
      if (r->nhdr == MAX_HDR)
        return -1;
      r->hline[r->nhdr] = strndup(p, len);
      r->nhdr++;
    }
    if (!nl)
      break;
    p = nl + 1;
  }
  for (size_t i = 0; i < r->nhdr; i++) {
    char *line = strdup(r->hline[i]), *colon = strchr(line, ':');
    if (!colon)
      return -1;
    *colon = '\0';
    r->hdr[i].key = line; /* freed in free_req through hdr[i].key */
    r->hdr[i].value = colon + 1;
  }
  /* path and query of the raw target, decoded (the query may hold
   * escapes like %E1%88%B4 or raw bytes) */
  {
    char *q = strchr(r->target, '?');
    size_t plen = q ? (size_t)(q - r->target) : strlen(r->target);
    if (sdk_uri_decode(&r->path, r->target, plen, 0) ||
        sdk_buf_putc(&r->path, '\0'))
      return -1;
    if (q) {
      char *qs = q + 1;
      /* two passes: decode into qbuf, then point q[] into it */
      size_t off[MAX_Q][2];
      int has_val[MAX_Q];
      while (*qs) {
        char *amp = strchr(qs, '&');
        size_t l = amp ? (size_t)(amp - qs) : strlen(qs);
        char *eq = memchr(qs, '=', l);
        if (r->nq == MAX_Q)
          return -1;
        off[r->nq][0] = r->qbuf.len;
        if (sdk_uri_decode(&r->qbuf, qs, eq ? (size_t)(eq - qs) : l, 0) ||
            sdk_buf_putc(&r->qbuf, '\0'))
          return -1;
        off[r->nq][1] = r->qbuf.len;
        has_val[r->nq] = eq != NULL;
        if ((eq && sdk_uri_decode(&r->qbuf, eq + 1,
                                  l - (size_t)(eq - qs) - 1, 0)) ||
            sdk_buf_putc(&r->qbuf, '\0'))
          return -1;
        r->nq++;
        qs += l + (amp ? 1 : 0);
      }
      for (size_t i = 0; i < r->nq; i++) {
        r->q[i].key = r->qbuf.data + off[i][0];
        r->q[i].value = has_val[i] ? r->qbuf.data + off[i][1] : NULL;
      }
    }
  }
  if (sdk_sha256_hex(r->body, strlen(r->body), r->hash))
    return -1;
  return 0;
}

static void free_req(req *r)
{
  for (size_t i = 0; i < r->nhdr; i++) {
    free(r->hline[i]);
    free((char *)r->hdr[i].key);
  }
  sdk_buf_free(&r->path);
  sdk_buf_free(&r->qbuf);
  free(r->text);
}

static sdk_sigv4_msg req_msg(const req *r)
{
  sdk_sigv4_msg m = {r->method, r->path.data, r->q, r->nq, r->hdr, r->nhdr,
                     r->hash};
  return m;
}

/* The request line, the original header lines, `extra` lines, and the body
 * after a blank line when there is one (sreq / signed-request files). */
static void render(sdk_buf *out, const req *r, const char *target,
                   const sdk_buf *extra, int blank_always)
{
  sdk_buf_printf(out, "%s %s HTTP/1.1\n", r->method, target);
  for (size_t i = 0; i < r->nhdr; i++)
    sdk_buf_printf(out, "%s\n", r->hline[i]);
  sdk_buf_puts(out, sdk_buf_str(extra));
  if (*r->body || blank_always)
    sdk_buf_printf(out, "\n%s", r->body);
}

/* ------------------------------------------------------------------------ */
/* signers                                                                  */
/* ------------------------------------------------------------------------ */
static sdk_sigv4 *new_signer(const char *ak, const char *sk, const char *tok,
                             const char *region, const char *service)
{
  sdk_sigv4_config cfg = {sizeof(cfg), ak, sk, tok, region, service};
  sdk_sigv4 *s = NULL;
  if (sdk_sigv4_new(&cfg, &s))
    abort();
  return s;
}

static time_t amz_time(const char *amz) /* 20150830T123600Z */
{
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  if (sscanf(amz, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon,
             &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
    abort();
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return timegm(&tm);
}

static time_t iso_time(const char *iso) /* 2015-08-30T12:36:00Z */
{
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  if (sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon,
             &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
    abort();
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return timegm(&tm);
}

/* ------------------------------------------------------------------------ */
/* the cases                                                                */
/* ------------------------------------------------------------------------ */
enum { CLASSIC, CRT, S3_HEADER, S3_PRESIGN, S3_CHUNKED, S3_UNREADABLE };

/* One vector case, run as one cmocka test. Strings owned; c borrowed
 * from g_s3. */
typedef struct vcase {
  int kind;
  char *test_name;              /* "classic/get-vanilla", ...             */
  char *dir, *name;             /* classic and crt: the case's directory  */
  json_t *c;                    /* s3-doc-examples: the case's object     */
} vcase;

static const char *g_root;      /* the vectors directory                  */
static json_t *g_s3;            /* s3_examples.json                       */
static vcase *g_cases;
static size_t g_ncases;
/* Cases (s3-doc-examples: checks) found per set. */
static int g_classic, g_crt, g_s3_checks;

static void add_case(int kind, const char *set, const char *dir,
                     const char *name, json_t *c)
{
  vcase *v;
  sdk_buf tn = SDK_BUF_INIT;

  g_cases = realloc(g_cases, (g_ncases + 1) * sizeof(*g_cases));
  if (!g_cases || sdk_buf_printf(&tn, "%s/%s", set, name))
    abort();
  v = &g_cases[g_ncases++];
  v->kind = kind;
  v->test_name = tn.data;
  v->dir = dir ? strdup(dir) : NULL;
  v->name = strdup(name);
  v->c = c;
}

/* The names in dir, sorted; *n gets their count. */
static char **sorted_names(const char *dir, size_t *n)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  char **names = NULL;

  *n = 0;
  if (!d)
    return NULL;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.') {
      names = realloc(names, (*n + 1) * sizeof(*names));
      names[(*n)++] = strdup(e->d_name);
    }
  closedir(d);
  qsort(names, *n, sizeof(*names),
        (int (*)(const void *, const void *))strcmp);
  return names;
}

/* ------------------------------------------------------------------------ */
/* 1. aws-sigv4-classic                                                     */
/* ------------------------------------------------------------------------ */
#define CLASSIC_AK "AKIDEXAMPLE"
#define CLASSIC_SK "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define CLASSIC_TOKEN \
  "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"

static char *sts_token(const char *root)
{
  /* the token is the last non-empty line of post-sts-token/readme.txt */
  char path[4096], *text, *tok = NULL, *line, *save = NULL;
  snprintf(path, sizeof(path), "%s/aws-sigv4-classic/post-sts-token/readme.txt",
           root);
  text = slurp(path);
  if (!text)
    return NULL;
  for (line = strtok_r(text, "\r\n", &save); line;
       line = strtok_r(NULL, "\r\n", &save))
    if (!strncmp(line, "AQoDYXdz", 8)) {
      free(tok);
      tok = strdup(line);
    }
  free(text);
  return tok;
}

static void classic_case(void **state)
{
  const vcase *v = *state;
  const char *dir = v->dir, *name = v->name;
  char file[512], *text, *creq, *sts, *authz, *sreq;
  const char *token = NULL;
  uint32_t flags = SDK_SIGV4_NORMALIZE_PATH;
  char *sts_tok = NULL;
  sdk_sigv4_result res = SDK_SIGV4_RESULT_INIT;
  sdk_buf extra = SDK_BUF_INIT, rendered = SDK_BUF_INIT;
  sdk_sigv4 *s;
  sdk_sigv4_msg m;
  req r;

  snprintf(file, sizeof(file), "%s.req", name);
  text = slurp2(dir, file);
  snprintf(file, sizeof(file), "%s.creq", name);
  creq = slurp2(dir, file);
  snprintf(file, sizeof(file), "%s.sts", name);
  sts = slurp2(dir, file);
  snprintf(file, sizeof(file), "%s.authz", name);
  authz = slurp2(dir, file);
  snprintf(file, sizeof(file), "%s.sreq", name);
  sreq = slurp2(dir, file);
  if (!text || !creq || !sts || !authz || !sreq || parse_req(text, &r))
    fail_msg("classic %s: unreadable case files", name);
  /* Session-token cases (README section 1). */
  if (!strcmp(name, "get-vanilla-with-session-token")) {
    token = CLASSIC_TOKEN;
  } else if (!strcmp(name, "post-sts-header-after")) {
    token = sts_tok = sts_token(g_root);
    flags |= SDK_SIGV4_OMIT_TOKEN;
    if (!token)
      fail_msg("classic %s: no token in post-sts-token/readme.txt", name);
  }
  s = new_signer(CLASSIC_AK, CLASSIC_SK, token, "us-east-1", "service");
  m = req_msg(&r);
  if (sdk_sigv4_sign(s, &m, amz_time("20150830T123600Z"), flags, &res))
    fail_msg("classic %s: signing failed", name);
  assert_same("canonical request", sdk_buf_str(&res.canonical_request), creq);
  assert_same("string to sign", sdk_buf_str(&res.string_to_sign), sts);
  assert_same("authorization", sdk_buf_str(&res.authorization), authz);
  for (size_t i = 0; i + 1 < res.nadd; i++)
    sdk_buf_printf(&extra, "%s:%s\n", res.add[i].key, res.add[i].value);
  sdk_buf_printf(&extra, "Authorization: %s\n",
                 sdk_buf_str(&res.authorization));
  render(&rendered, &r, r.target, &extra, 0);
  if (!strcmp(name, "get-vanilla-with-session-token")) {
    /* Known upstream defect: its .sreq carries get-vanilla's signature.
     * Everything else in it must still match. */
    const char *bad = "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2"
                      "260956d9b8aae1d763fbf31";
    char *p = strstr(sreq, bad), *q = strstr(rendered.data, "Signature=");
    if (!p || !q || strlen(p) < strlen(bad) || strlen(q) < strlen(bad))
      fail_msg("classic %s: the documented .sreq defect is not where the "
               "README says", name);
    memcpy(p, q, strlen(bad)); /* same length: patch the known defect */
    print_message("  note: classic %s: .sreq carries get-vanilla's "
                  "signature (a known upstream defect); compared with the "
                  ".authz signature\n", name);
  }
  assert_same("signed request", rendered.data, sreq);
  sdk_sigv4_result_free(&res);
  sdk_sigv4_free(s);
  sdk_buf_free(&extra);
  sdk_buf_free(&rendered);
  free_req(&r);
  free(sts_tok);
  free(text);
  free(creq);
  free(sts);
  free(authz);
  free(sreq);
}

/* Every directory below dir holding NAME/NAME.req is a case. */
static void classic_walk(const char *dir)
{
  size_t n;
  char **names = sorted_names(dir, &n);

  for (size_t i = 0; i < n; i++) {
    char sub[4096], req_path[4200];
    if (snprintf(sub, sizeof(sub), "%s/%s", dir, names[i]) >=
        (int)sizeof(sub))
      abort();
    if (is_dir(sub)) {
      snprintf(req_path, sizeof(req_path), "%s/%s.req", sub, names[i]);
      if (access(req_path, R_OK) == 0) {
        g_classic++;
        add_case(CLASSIC, "classic", sub, names[i], NULL);
      } else {
        classic_walk(sub);
      }
    }
    free(names[i]);
  }
  free(names);
}

/* ------------------------------------------------------------------------ */
/* 2. aws-sigv4-crt (v4)                                                    */
/* ------------------------------------------------------------------------ */
static const char *jstr(json_t *o, const char *path)
{
  /* "a.b" lookups */
  char buf[128], *save = NULL, *k;
  json_t *v = o;
  snprintf(buf, sizeof(buf), "%s", path);
  for (k = strtok_r(buf, ".", &save); k && v; k = strtok_r(NULL, ".", &save))
    v = json_object_get(v, k);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

static int jbool(json_t *o, const char *key)
{
  return json_is_true(json_object_get(o, key));
}

static void crt_case(void **state)
{
  const vcase *v = *state;
  const char *dir = v->dir, *name = v->name;
  char *ctx_text = slurp2(dir, "context.json");
  char *rtext = slurp2(dir, "request.txt");
  json_t *ctx = ctx_text ? json_loads(ctx_text, 0, NULL) : NULL;
  sdk_sigv4_result res = SDK_SIGV4_RESULT_INIT;
  sdk_buf extra = SDK_BUF_INIT, rendered = SDK_BUF_INIT, target = SDK_BUF_INIT;
  const char *kinds[] = {"header", "query"};
  uint32_t flags = 0, expires;
  sdk_sigv4 *s;
  time_t when;
  req r;

  if (!ctx || !rtext || parse_req(rtext, &r))
    fail_msg("crt %s: unreadable case files", name);
  if (jbool(ctx, "normalize"))
    flags |= SDK_SIGV4_NORMALIZE_PATH;
  if (jbool(ctx, "sign_body"))
    flags |= SDK_SIGV4_CONTENT_SHA256;
  if (jbool(ctx, "omit_session_token"))
    flags |= SDK_SIGV4_OMIT_TOKEN;
  s = new_signer(jstr(ctx, "credentials.access_key_id"),
                 jstr(ctx, "credentials.secret_access_key"),
                 jstr(ctx, "credentials.token"), jstr(ctx, "region"),
                 jstr(ctx, "service"));
  when = iso_time(jstr(ctx, "timestamp"));
  expires = (uint32_t)json_integer_value(
    json_object_get(ctx, "expiration_in_seconds"));

  for (int kind = 0; kind < 2; kind++) {
    char f[128], what[64];
    char *want_creq, *want_sts, *want_sig, *want_sreq;
    sdk_sigv4_msg m = req_msg(&r);
    int rc;

    snprintf(f, sizeof(f), "%s-canonical-request.txt", kinds[kind]);
    want_creq = slurp2(dir, f);
    snprintf(f, sizeof(f), "%s-string-to-sign.txt", kinds[kind]);
    want_sts = slurp2(dir, f);
    snprintf(f, sizeof(f), "%s-signature.txt", kinds[kind]);
    want_sig = slurp2(dir, f);
    snprintf(f, sizeof(f), "%s-signed-request.txt", kinds[kind]);
    want_sreq = slurp2(dir, f);
    if (!want_creq || !want_sts || !want_sig || !want_sreq)
      fail_msg("crt %s %s: missing expectation files", name, kinds[kind]);
    sdk_buf_reset(&extra);
    sdk_buf_reset(&rendered);
    sdk_buf_reset(&target);
    if (kind == 0)
      rc = sdk_sigv4_sign(s, &m, when, flags, &res);
    else
      rc = sdk_sigv4_presign(s, &m, when, expires, flags, &res);
    if (rc)
      fail_msg("crt %s %s: signing failed", name, kinds[kind]);
    snprintf(what, sizeof(what), "%s: canonical request", kinds[kind]);
    assert_same(what, sdk_buf_str(&res.canonical_request), want_creq);
    snprintf(what, sizeof(what), "%s: string to sign", kinds[kind]);
    assert_same(what, sdk_buf_str(&res.string_to_sign), want_sts);
    snprintf(what, sizeof(what), "%s: signature", kinds[kind]);
    assert_same(what, res.signature, want_sig);
    if (kind == 0) {
      for (size_t i = 0; i < res.nadd; i++)
        sdk_buf_printf(&extra, "%s:%s\n", res.add[i].key, res.add[i].value);
      render(&rendered, &r, r.target, &extra, 1);
    } else {
      sdk_buf_printf(&target, "%s%c%s", r.target,
                     strchr(r.target, '?') ? '&' : '?',
                     sdk_buf_str(&res.query));
      render(&rendered, &r, target.data, &extra, 1);
    }
    snprintf(what, sizeof(what), "%s: signed request", kinds[kind]);
    assert_same(what, rendered.data, want_sreq);
    free(want_creq);
    free(want_sts);
    free(want_sig);
    free(want_sreq);
  }
  sdk_sigv4_result_free(&res);
  sdk_sigv4_free(s);
  sdk_buf_free(&extra);
  sdk_buf_free(&rendered);
  sdk_buf_free(&target);
  free_req(&r);
  json_decref(ctx);
  free(ctx_text);
  free(rtext);
}

static void crt_walk(const char *dir)
{
  size_t n;
  char **names = sorted_names(dir, &n);

  for (size_t i = 0; i < n; i++) {
    char sub[4096], f[4200];
    if (snprintf(sub, sizeof(sub), "%s/%s", dir, names[i]) >=
        (int)sizeof(sub))
      abort();
    snprintf(f, sizeof(f), "%s/header-canonical-request.txt", sub);
    if (!is_dir(sub)) {
      /* LICENSE */
    } else if (access(f, R_OK) != 0) {
      printf("  note: crt v4 %s has no expectation files (only context.json "
             "and request.txt, README section 2): nothing to compare\n",
             names[i]);
    } else {
      g_crt++;
      add_case(CRT, "crt-v4", sub, names[i], NULL);
    }
    free(names[i]);
  }
  free(names);
}

/* ------------------------------------------------------------------------ */
/* 4. s3-doc-examples                                                       */
/* ------------------------------------------------------------------------ */

/* Split a raw query ("a=1&b", un-encoded) into q (strings in buf). */
static size_t split_query(const char *query, char *buf, store_kv *q,
                          size_t cap)
{
  size_t n = 0;
  char *save = NULL, *part;
  snprintf(buf, 1024, "%s", query);
  for (part = strtok_r(buf, "&", &save); part && n < cap;
       part = strtok_r(NULL, "&", &save)) {
    char *eq = strchr(part, '=');
    if (eq)
      *eq = '\0';
    q[n].key = part;
    q[n++].value = eq ? eq + 1 : NULL;
  }
  return n;
}

static size_t json_headers(json_t *arr, store_kv *h, size_t cap)
{
  size_t n = 0, i;
  json_t *pair;
  json_array_foreach(arr, i, pair) {
    if (n == cap)
      break;
    h[n].key = json_string_value(json_array_get(pair, 0));
    h[n++].value = json_string_value(json_array_get(pair, 1));
  }
  return n;
}

/* The docs print Authorization with "," separators, the signer ", ". */
static char *squeeze_commas(const char *s)
{
  char *o = strdup(s), *w = o;
  for (const char *p = s; *p; p++)
    if (!(*p == ' ' && p > s && p[-1] == ','))
      *w++ = *p;
  *w = '\0';
  return o;
}

static int cmp_strp(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Same URL up to the order of its query parameters. */
static void same_url(const char *what, const char *got, const char *want)
{
  const char *gq = strchr(got, '?'), *wq = strchr(want, '?');
  char *gs, *ws, *gp[32], *wp[32], *save;
  size_t gn = 0, wn = 0;
  int ok;

  if (!gq || !wq || gq - got != wq - want || strncmp(got, want,
                                                       (size_t)(gq - got))) {
    assert_same(what, got, want);
    return;
  }
  gs = strdup(gq + 1);
  ws = strdup(wq + 1);
  save = NULL;
  for (char *p = strtok_r(gs, "&", &save); p && gn < 32;
       p = strtok_r(NULL, "&", &save))
    gp[gn++] = p;
  save = NULL;
  for (char *p = strtok_r(ws, "&", &save); p && wn < 32;
       p = strtok_r(NULL, "&", &save))
    wp[wn++] = p;
  qsort(gp, gn, sizeof(*gp), cmp_strp);
  qsort(wp, wn, sizeof(*wp), cmp_strp);
  ok = gn == wn;
  for (size_t i = 0; ok && i < gn; i++)
    ok = !strcmp(gp[i], wp[i]);
  if (!ok)
    assert_same(what, got, want);
  free(gs);
  free(ws);
}

static void s3_header_case(void **state)
{
  const vcase *v = *state;
  json_t *c = v->c, *common = json_object_get(g_s3, "common");
  char qbuf[1024];
  store_kv q[16], h[16];
  sdk_sigv4_result res = SDK_SIGV4_RESULT_INIT;
  sdk_sigv4 *s = new_signer(jstr(common, "access_key_id"),
                            jstr(common, "secret_access_key"), NULL,
                            jstr(common, "region"), jstr(common, "service"));
  sdk_sigv4_msg m = {jstr(c, "method"), jstr(c, "path"), q,
                     split_query(jstr(c, "query"), qbuf, q, 16), h,
                     json_headers(json_object_get(c, "headers"), h, 16),
                     jstr(c, "payload_hash")};
  char *a;

  if (sdk_sigv4_sign(s, &m, amz_time(jstr(common, "amz_date")), 0, &res))
    fail_msg("s3 header_auth %s: signing failed", v->name);
  a = squeeze_commas(sdk_buf_str(&res.authorization));
  assert_same("canonical request", res.canonical_request.data,
              jstr(c, "canonical_request"));
  assert_same("string to sign", res.string_to_sign.data,
              jstr(c, "string_to_sign"));
  assert_same("signature", res.signature, jstr(c, "signature"));
  assert_same("authorization", a, jstr(c, "authorization"));
  free(a);
  sdk_sigv4_result_free(&res);
  sdk_sigv4_free(s);
}

static void s3_presign_case(void **state)
{
  const vcase *v = *state;
  json_t *c = v->c, *common = json_object_get(g_s3, "common");
  store_kv h[16];
  sdk_sigv4_result res = SDK_SIGV4_RESULT_INIT;
  sdk_buf url = SDK_BUF_INIT;
  sdk_sigv4 *s = new_signer(jstr(common, "access_key_id"),
                            jstr(common, "secret_access_key"), NULL,
                            jstr(common, "region"), jstr(common, "service"));
  sdk_sigv4_msg m = {jstr(c, "method"), jstr(c, "path"), NULL, 0, h,
                     json_headers(json_object_get(c, "headers"), h, 16),
                     jstr(c, "payload_hash")};
  uint32_t expires = (uint32_t)json_integer_value(
    json_object_get(c, "expires_seconds"));

  if (sdk_sigv4_presign(s, &m, amz_time(jstr(common, "amz_date")), expires, 0,
                        &res))
    fail_msg("s3 presigned %s: signing failed", v->name);
  assert_same("canonical request", res.canonical_request.data,
              jstr(c, "canonical_request"));
  assert_same("string to sign", res.string_to_sign.data,
              jstr(c, "string_to_sign"));
  assert_same("signature", res.signature, jstr(c, "signature"));
  sdk_buf_printf(&url, "https://%s", jstr(c, "host"));
  sdk_uri_encode(&url, m.path, strlen(m.path), 1);
  sdk_buf_printf(&url, "?%s", res.query.data);
  same_url("URL (parameters in any order)", url.data, jstr(c, "url"));
  sdk_sigv4_result_free(&res);
  sdk_sigv4_free(s);
  sdk_buf_free(&url);
}

/* The checks of a chunked case: seed, each chunk, the framing and the
 * trailer. */
static int chunked_checks(json_t *c)
{
  return 1 + (int)json_array_size(json_object_get(c, "chunks")) + 1 +
         (json_object_get(c, "trailing_headers_extension") ? 1 : 0);
}

static void s3_chunked_case(void **state)
{
  const vcase *v = *state;
  json_t *c = v->c, *common = json_object_get(g_s3, "common");
  store_kv h[16];
  sdk_sigv4_result res = SDK_SIGV4_RESULT_INIT;
  sdk_sigv4_chunker ch;
  char what[64], sig[65], hdr[SDK_SIGV4_CHUNK_HDR_MAX];
  char want[32], got[32], got2[32];
  const char *cl = NULL;
  uint64_t decoded = 0, wire = 0;
  size_t i;
  json_t *chunk, *chunks = json_object_get(c, "chunks");
  json_t *tr = json_object_get(c, "trailing_headers_extension");
  sdk_sigv4 *s = new_signer(jstr(common, "access_key_id"),
                            jstr(common, "secret_access_key"), NULL,
                            jstr(common, "region"), jstr(common, "service"));
  sdk_sigv4_msg m = {jstr(c, "method"), jstr(c, "path"), NULL, 0, h,
                     json_headers(json_object_get(c, "headers"), h, 16),
                     jstr(c, "payload_hash")};

  if (sdk_sigv4_sign(s, &m, amz_time(jstr(common, "amz_date")), 0, &res))
    fail_msg("s3 chunked %s: seed signing failed", v->name);
  assert_same("seed canonical request", res.canonical_request.data,
              jstr(c, "canonical_request"));
  assert_same("seed string to sign", res.string_to_sign.data,
              jstr(c, "string_to_sign"));
  assert_same("seed signature", res.signature, jstr(c, "seed_signature"));
  assert_same("authorization", res.authorization.data,
              jstr(c, "authorization"));
  if (sdk_sigv4_chunk_begin(s, &res, &ch))
    fail_msg("s3 chunked %s: chunk_begin failed", v->name);
  json_array_foreach(chunks, i, chunk) {
    size_t len = (size_t)json_integer_value(json_object_get(chunk, "length"));
    char *data = malloc(len + 1);
    memset(data, jstr(chunk, "data_byte")[0], len);
    if (sdk_sigv4_chunk_sign(&ch, data, len, sig))
      fail_msg("s3 chunked %s: chunk %zu signing failed", v->name, i);
    snprintf(what, sizeof(what), "chunk %zu (%zu bytes) signature", i + 1,
             len);
    assert_same(what, sig, jstr(chunk, "signature"));
    wire += sdk_sigv4_chunk_header(len, sig, hdr) + len + 2;
    decoded += len;
    free(data);
  }
  /* framing: what the chunks add up to is the signed Content-Length */
  for (size_t k = 0; k < m.nheaders; k++)
    if (!strcasecmp(h[k].key, "Content-Length"))
      cl = h[k].value;
  snprintf(want, sizeof(want), "%s", cl ? cl : "?");
  snprintf(got, sizeof(got), "%llu", (unsigned long long)wire);
  snprintf(got2, sizeof(got2), "%llu", (unsigned long long)
           sdk_sigv4_chunked_length(decoded, 65536));
  assert_same("framed body length", got, want);
  assert_same("sdk_sigv4_chunked_length", got2, want);
  if (tr) {
    store_kv t[8];
    size_t nt = json_headers(json_object_get(tr, "trailers"), t, 8);
    if (sdk_sigv4_trailer_sign(&ch, t, nt, sig))
      fail_msg("s3 chunked %s: trailer signing failed", v->name);
    assert_same("trailing headers signature", sig, jstr(tr, "signature"));
  }
  sdk_sigv4_chunk_end(&ch);
  sdk_sigv4_result_free(&res);
  sdk_sigv4_free(s);
}

static void s3_unreadable(void **state)
{
  (void)state;
  fail_msg("s3-doc-examples: cannot read %s/s3-doc-examples/s3_examples.json",
           g_root);
}

static void s3_examples(void)
{
  char path[4096], *text;
  json_t *c;
  size_t i;

  snprintf(path, sizeof(path), "%s/s3-doc-examples/s3_examples.json",
           g_root);
  text = slurp(path);
  g_s3 = text ? json_loads(text, 0, NULL) : NULL;
  free(text);
  if (!g_s3) {
    g_s3_checks++;
    add_case(S3_UNREADABLE, "s3", NULL, "s3_examples.json", NULL);
    return;
  }
  json_array_foreach(json_object_get(g_s3, "header_auth"), i, c) {
    g_s3_checks++;
    add_case(S3_HEADER, "s3/header_auth", NULL, jstr(c, "name"), c);
  }
  json_array_foreach(json_object_get(g_s3, "presigned"), i, c) {
    g_s3_checks++;
    add_case(S3_PRESIGN, "s3/presigned", NULL, jstr(c, "name"), c);
  }
  json_array_foreach(json_object_get(g_s3, "chunked"), i, c) {
    g_s3_checks += chunked_checks(c);
    add_case(S3_CHUNKED, "s3/chunked", NULL, jstr(c, "name"), c);
  }
}

/* ------------------------------------------------------------------------ */
/* the wrapper that signs an sdk_request                                   */
/* ------------------------------------------------------------------------ */

/* sdk_sigv4_sign_request must reach the same signature as the message
 * form: the S3 doc's PUT of "test$file.text", given as a URL. */
static void test_sign_request(void **state)
{
  sdk_sigv4 *s = new_signer("AKIAIOSFODNN7EXAMPLE",
                            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NULL,
                            "us-east-1", "s3");
  sdk_request *r = sdk_request_new(
    "PUT", "https://examplebucket.s3.amazonaws.com/test%24file.text");
  sdk_sigv4_result seed = SDK_SIGV4_RESULT_INIT;
  store_error err;
  size_t nauth = 0;

  (void)state;
  memset(&err, 0, sizeof(err));
  err.struct_size = sizeof(err);
  sdk_request_set_header(r, "Date", "Fri, 24 May 2013 00:00:00 GMT");
  sdk_request_set_header(r, "x-amz-storage-class", "REDUCED_REDUNDANCY");
  sdk_request_set_header(r, "User-Agent", "not signed");
  if (sdk_sigv4_sign_request(
        s, r, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
        amz_time("20130524T000000Z"), SDK_SIGV4_CONTENT_SHA256, &seed, &err))
    fail_msg("sign_request: %s", err.message);
  assert_same("sign_request: signature", seed.signature,
              "98ad721746da40c64f1a55b78f14c238"
              "d841ea1380cd77a1b5971af0ece108bd");
  assert_same("sign_request: X-Amz-Date header",
              sdk_request_header(r, "X-Amz-Date"), "20130524T000000Z");
  assert_same("sign_request: Authorization header",
              sdk_request_header(r, "Authorization"), seed.authorization.data);
  /* signing again (a retry) replaces, never duplicates */
  if (sdk_sigv4_sign_request(s, r, SDK_SIGV4_UNSIGNED_PAYLOAD,
                             amz_time("20130525T000000Z"),
                             SDK_SIGV4_CONTENT_SHA256, NULL, &err))
    fail_msg("sign_request again: %s", err.message);
  for (size_t i = 0; i < sdk_request_header_count(r); i++)
    nauth += !strcasecmp(sdk_request_header_name(r, i), "Authorization");
  assert_int_equal(nauth, 1);
  /* the second signature is for the new date, and the new payload: the
   * x-amz-content-sha256 the first signing added does not stay (a body
   * sent again changed, as a completion without part checksums does) */
  assert_non_null(
    strstr(sdk_request_header(r, "Authorization"), "/20130525/"));
  assert_same("sign_request again: x-amz-content-sha256",
              sdk_request_header(r, "x-amz-content-sha256"),
              SDK_SIGV4_UNSIGNED_PAYLOAD);
  /* and a request signed a third time signs what a fresh one does */
  sdk_sigv4_result_free(&seed);
  if (sdk_sigv4_sign_request(
        s, r, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
        amz_time("20130524T000000Z"), SDK_SIGV4_CONTENT_SHA256, &seed, &err))
    fail_msg("sign_request a third time: %s", err.message);
  assert_same("sign_request again: signature", seed.signature,
              "98ad721746da40c64f1a55b78f14c238"
              "d841ea1380cd77a1b5971af0ece108bd");
  sdk_sigv4_result_free(&seed);
  sdk_request_free(r);
  sdk_sigv4_free(s);
}

/* The sets must be non-trivial: a missing folder is a failure. */
static void test_sets_complete(void **state)
{
  (void)state;
  print_message("  vectors found: classic %d, crt v4 %d, s3 %d checks\n",
                g_classic, g_crt, g_s3_checks);
  if (g_classic < 34 || g_crt < 38 || g_s3_checks < 10)
    fail_msg("fewer cases found than the vector sets hold (classic 34, "
             "crt v4 38, s3 10 checks)");
}

int main(int argc, char **argv)
{
  static const CMUnitTestFunction run[] = {
    [CLASSIC] = classic_case,       [CRT] = crt_case,
    [S3_HEADER] = s3_header_case,   [S3_PRESIGN] = s3_presign_case,
    [S3_CHUNKED] = s3_chunked_case, [S3_UNREADABLE] = s3_unreadable,
  };
  struct CMUnitTest *tests;
  char path[4096];
  size_t n = 0;
  int failed;

  g_root = argc > 1 ? argv[1] : NULL;
  if (!g_root || !is_dir(g_root)) {
    printf("FAIL: vectors directory '%s' not found (pass it as the first "
           "argument; the project keeps it in tests/vectors)\n",
           g_root ? g_root : "(none)");
    return 1;
  }
  snprintf(path, sizeof(path), "%s/aws-sigv4-classic", g_root);
  classic_walk(path);
  snprintf(path, sizeof(path), "%s/aws-sigv4-crt/v4", g_root);
  crt_walk(path);
  s3_examples();

  tests = calloc(g_ncases + 2, sizeof(*tests));
  if (!tests)
    abort();
  for (size_t i = 0; i < g_ncases; i++)
    tests[n++] = (struct CMUnitTest){g_cases[i].test_name,
                                     run[g_cases[i].kind], NULL, NULL,
                                     &g_cases[i]};
  tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_sign_request);
  tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_sets_complete);
  failed = _cmocka_run_group_tests("sigv4-vectors", tests, n, NULL, NULL);

  for (size_t i = 0; i < g_ncases; i++) {
    free(g_cases[i].test_name);
    free(g_cases[i].dir);
    free(g_cases[i].name);
  }
  free(g_cases);
  free(tests);
  json_decref(g_s3);
  return failed ? 1 : 0;
}
