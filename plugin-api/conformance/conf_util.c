/*
** conf_util.c -- helpers of the conformance suite: errors, arena, bodies,
** entry copies and case-named assertions. Only xtstore.h is used.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"

const char *code_name(int code)
{
  switch (code) {
  case STORE_OK: return "STORE_OK";
  case STORE_E_NOT_FOUND: return "STORE_E_NOT_FOUND";
  case STORE_E_EXISTS: return "STORE_E_EXISTS";
  case STORE_E_PERMISSION: return "STORE_E_PERMISSION";
  case STORE_E_INVALID: return "STORE_E_INVALID";
  case STORE_E_UNSUPPORTED: return "STORE_E_UNSUPPORTED";
  case STORE_E_PRECONDITION: return "STORE_E_PRECONDITION";
  case STORE_E_THROTTLED: return "STORE_E_THROTTLED";
  case STORE_E_TIMEOUT: return "STORE_E_TIMEOUT";
  case STORE_E_IO: return "STORE_E_IO";
  case STORE_E_NOMEM: return "STORE_E_NOMEM";
  case STORE_E_ABORTED: return "STORE_E_ABORTED";
  case STORE_E_INTERNAL: return "STORE_E_INTERNAL";
  case STORE_E_AUTH: return "STORE_E_AUTH";
  case STORE_E_CONFIG: return "STORE_E_CONFIG";
  case STORE_E_NOT_EMPTY: return "STORE_E_NOT_EMPTY";
  case STORE_E_SERVER: return "STORE_E_SERVER";
  default: return "STORE_E_<unknown>";
  }
}

store_error *conf_err(tcase *t)
{
  memset(&t->err, 0, sizeof t->err);
  t->err.struct_size = sizeof t->err;
  return &t->err;
}

/* "[case] TAGmessage" on the test output. */
static void vnote(tcase *t, const char *tag, const char *fmt, va_list ap)
  __attribute__((format(printf, 3, 0)));
static void vnote(tcase *t, const char *tag, const char *fmt, va_list ap)
{
  char buf[512];
  vsnprintf(buf, sizeof buf, fmt, ap);
  print_message("[%s] %s%s\n", t ? t->def->name : "conformance", tag, buf);
}

void conf_note(tcase *t, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vnote(t, "", fmt, ap);
  va_end(ap);
}

void conf_skip(tcase *t, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vnote(t, "skip: ", fmt, ap);
  va_end(ap);
  fflush(stdout);
  skip();
  __builtin_unreachable();
}

/* ------------------------------------------------------------------------ */
/* Arena                                                                    */
/* ------------------------------------------------------------------------ */
struct conf_alloc {
  struct conf_alloc *next;
  max_align_t data[];
};

void *talloc(tcase *t, size_t n)
{
  struct conf_alloc *a = calloc(1, sizeof *a + n + 1);
  if (!a)
    FAILF(t, "out of memory (%zu bytes)", n);
  a->next = t->allocs;
  t->allocs = a;
  return a->data;
}

void conf_free_arena(tcase *t)
{
  while (t->allocs) {
    struct conf_alloc *n = t->allocs->next;
    free(t->allocs);
    t->allocs = n;
  }
}

char *tstrdup(tcase *t, const char *s)
{
  if (!s)
    return NULL;
  size_t n = strlen(s);
  char *d = talloc(t, n + 1);
  memcpy(d, s, n + 1);
  return d;
}

char *tprintf(tcase *t, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *d = talloc(t, (size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(d, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return d;
}

/* ------------------------------------------------------------------------ */
/* Containers                                                               */
/* ------------------------------------------------------------------------ */
void conf_container_name(char *out, size_t cap, const char *tag)
{
  static unsigned counter;
  snprintf(out, cap, "%s-%02u%s", g_run_prefix, ++counter, tag ? tag : "");
}

const char *conf_extra_container(tcase *t, const char *tag)
{
  if (t->nextra >= CONF_MAX_CONTAINERS)
    FAILF(t, "suite bug: too many extra containers");
  char *name = t->extra[t->nextra];
  conf_container_name(name, CONF_NAME_MAX, tag);
  int rc = xtstore_container_create(g_svc, name, NULL, 0, ERR(t));
  EXPECT_OK(t, rc, "create extra container '%s'", name);
  t->nextra++;
  return name;
}

/* ------------------------------------------------------------------------ */
/* Bodies                                                                   */
/* ------------------------------------------------------------------------ */
void memsrc_init(memsrc *s, const void *p, size_t len)
{
  memset(s, 0, sizeof *s);
  s->p = p;
  s->len = len;
  s->abort_at = SIZE_MAX;
}

int32_t memsrc_read(void *ctx, void *buf, size_t cap, size_t *out_n)
{
  memsrc *s = ctx;
  s->calls++;
  if (s->aborted) {
    s->after_abort++;
    *out_n = 0;
    return 1;
  }
  if (s->pos >= s->abort_at) {
    s->aborted = 1;
    *out_n = 0;
    return 1;
  }
  size_t n = s->len - s->pos;
  if (n > cap)
    n = cap;
  if (s->chunk && n > s->chunk)
    n = s->chunk;
  if (s->abort_at != SIZE_MAX && s->pos + n > s->abort_at)
    n = s->abort_at - s->pos;
  if (n)
    memcpy(buf, s->p + s->pos, n);
  s->pos += n;
  *out_n = n;
  return 0;
}

int32_t memsrc_rewind(void *ctx)
{
  memsrc *s = ctx;
  s->pos = 0;
  return 0;
}

int32_t membuf_write(void *ctx, const void *buf, size_t len)
{
  membuf *b = ctx;
  b->calls++;
  if (len == 0)
    b->zero_len_calls++;
  if (b->abort_on_call && b->calls >= b->abort_on_call)
    return 1;
  if (b->len + len > b->cap) {
    size_t nc = b->cap ? b->cap : 4096;
    while (nc < b->len + len)
      nc *= 2;
    unsigned char *np = realloc(b->p, nc);
    if (!np)
      return 1;
    b->p = np;
    b->cap = nc;
  }
  memcpy(b->p + b->len, buf, len);
  b->len += len;
  return 0;
}

void membuf_free(membuf *b)
{
  free(b->p);
  memset(b, 0, sizeof *b);
}

static uint64_t splitmix64(uint64_t x)
{
  x += UINT64_C(0x9e3779b97f4a7c15);
  x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
  return x ^ (x >> 31);
}

void gen_fill(uint64_t seed, uint64_t pos, void *buf, size_t n)
{
  unsigned char *o = buf;
  uint64_t base = seed * UINT64_C(0x100000001b3);
  while (n) {
    uint64_t w = splitmix64(base + pos / 8);
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
      b[i] = (unsigned char)(w >> (8 * i));
    size_t off = (size_t)(pos % 8);
    size_t k = 8 - off;
    if (k > n)
      k = n;
    memcpy(o, b + off, k);
    o += k;
    pos += k;
    n -= k;
  }
}

uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
  const unsigned char *c = p;
  for (size_t i = 0; i < n; i++) {
    h ^= c[i];
    h *= UINT64_C(0x100000001b3);
  }
  return h;
}

/* ------------------------------------------------------------------------ */
/* Entries                                                                  */
/* ------------------------------------------------------------------------ */
static void centry_copy(tcase *t, centry *d, const store_entry *e)
{
  memset(d, 0, sizeof *d);
  d->flags = e->flags;
  d->name = tstrdup(t, e->name);
  d->size = e->size;
  d->mtime_ns = e->mtime_ns;
  d->etag = tstrdup(t, e->etag);
  d->content_type = tstrdup(t, e->content_type);
  d->snapshot_id = tstrdup(t, e->snapshot_id);
  if (e->metadata && e->nmetadata) {
    d->md = talloc(t, e->nmetadata * sizeof *d->md);
    for (size_t i = 0; i < e->nmetadata; i++) {
      d->md[i].key = tstrdup(t, e->metadata[i].key);
      d->md[i].value = tstrdup(t, e->metadata[i].value);
    }
    d->nmd = e->nmetadata;
  }
}

void clist_init(clist *l, tcase *t)
{
  memset(l, 0, sizeof *l);
  l->t = t;
}

int32_t clist_add(void *ctx, const store_entry *e)
{
  clist *l = ctx;
  l->calls++;
  if (l->max && l->n >= l->max) {
    l->overflow = 1;
    return 1;
  }
  if (l->n == l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 16;
    centry *nv = talloc(l->t, nc * sizeof *nv);
    if (l->n)
      memcpy(nv, l->v, l->n * sizeof *nv);
    l->v = nv;
    l->cap = nc;
  }
  centry_copy(l->t, &l->v[l->n++], e);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Short-hands                                                              */
/* ------------------------------------------------------------------------ */
int put_mem(tcase *t, const char *c, const char *k, const void *p, size_t n,
            const char *ctype, const store_kv *md, size_t nmd, uint32_t flags,
            store_put_result *out)
{
  memsrc s;
  memsrc_init(&s, p, n);
  store_put_opts o;
  memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  o.flags = flags;
  o.content_length = (int64_t)n;
  o.content_type = ctype;
  o.metadata = md;
  o.nmetadata = nmd;
  if (out) {
    memset(out, 0, sizeof *out);
    out->struct_size = sizeof *out;
  }
  return xtstore_blob_put(g_svc, c, k, &o, memsrc_read, &s, memsrc_rewind, out,
                          ERR(t));
}

int get_mem(tcase *t, const char *c, const char *k, const store_get_opts *o,
            membuf *out)
{
  memset(out, 0, sizeof *out);
  return xtstore_blob_get(g_svc, c, k, o, membuf_write, out, ERR(t));
}

int head_entry(tcase *t, const char *c, const char *k, const char *snapshot,
               centry *out)
{
  clist l;
  clist_init(&l, t);
  store_head_opts ho;
  memset(&ho, 0, sizeof ho);
  ho.struct_size = sizeof ho;
  ho.snapshot_id = snapshot;
  int rc = xtstore_blob_head(g_svc, c, k, snapshot ? &ho : NULL, clist_add, &l,
                             ERR(t));
  if (out)
    memset(out, 0, sizeof *out);
  if (rc == STORE_OK) {
    CHECK(t, l.n == 1, "head '%s': callback called %zu times, expected once",
          k, l.n);
    if (out)
      *out = l.v[0];
  } else {
    CHECK(t, l.n == 0, "head '%s' failed with %s but called back %zu times",
          k, code_name(rc), l.n);
  }
  return rc;
}

int list_all(tcase *t, const char *c, const store_list_opts *o, clist *out)
{
  clist_init(out, t);
  out->max = CONF_LIST_MAX;
  int rc = xtstore_blob_list(g_svc, c, o, clist_add, out, ERR(t));
  CHECK(t, !out->overflow, "listing '%s' (prefix '%s') did not end: more "
                           "than %d entries, last '%s'", c,
        o && o->prefix ? o->prefix : "", CONF_LIST_MAX,
        out->v[out->n - 1].name);
  return rc;
}

const char *fmt_names(tcase *t, const clist *l)
{
  size_t need = 3;
  for (size_t i = 0; i < l->n; i++)
    need += strlen(l->v[i].name ? l->v[i].name : "(null)") + 16;
  char *s = talloc(t, need);
  char *p = s;
  *p++ = '[';
  for (size_t i = 0; i < l->n; i++) {
    const centry *e = &l->v[i];
    p += sprintf(p, "%s\"%s\"%s", i ? ", " : "", e->name ? e->name : "(null)",
                 (e->flags & STORE_ENTRY_PREFIX)     ? "(P)"
                 : (e->flags & STORE_ENTRY_SNAPSHOT) ? "(S)"
                                                      : "");
  }
  *p++ = ']';
  *p = 0;
  return s;
}

const char *fmt_strs(tcase *t, const char *const *v, size_t n)
{
  clist w;
  clist_init(&w, t);
  for (size_t i = 0; i < n; i++) {
    store_entry e;
    memset(&e, 0, sizeof e);
    e.name = v[i];
    clist_add(&w, &e);
  }
  return fmt_names(t, &w);
}

static void hexdump_diff(tcase *t, const char *what, const unsigned char *want,
                         size_t nwant, const unsigned char *got, size_t ngot)
{
  size_t i = 0;
  while (i < nwant && i < ngot && want[i] == got[i])
    i++;
  FAILF(t, "%s: body differs: expected %zu bytes, got %zu; first difference "
           "at offset %zu (expected 0x%02x, got 0x%02x)",
        what, nwant, ngot, i, i < nwant ? want[i] : 0, i < ngot ? got[i] : 0);
}

void expect_body(tcase *t, const char *c, const char *k, const void *p,
                 size_t n, const char *what)
{
  membuf b;
  int rc = get_mem(t, c, k, NULL, &b);
  if (rc != STORE_OK) {
    membuf_free(&b);
    EXPECT_OK(t, rc, "%s: get '%s'", what, k);
  }
  if (b.len != n || (n && memcmp(b.p, p, n) != 0)) {
    unsigned char *copy = talloc(t, b.len + 1);
    if (b.len)
      memcpy(copy, b.p, b.len);
    size_t len = b.len;
    membuf_free(&b);
    hexdump_diff(t, what, p, n, copy, len);
  }
  membuf_free(&b);
}

void expect_missing(tcase *t, const char *c, const char *k, const char *what)
{
  int rc = head_entry(t, c, k, NULL, NULL);
  EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "%s: head '%s'", what, k);
  int ex = -1;
  rc = xtstore_blob_exists(g_svc, c, k, &ex, ERR(t));
  EXPECT_OK(t, rc, "%s: exists '%s'", what, k);
  CHECK(t, ex == 0, "%s: exists '%s' says %d, expected 0", what, k, ex);
}

static const char *md_find(const store_kv *v, size_t n, const char *key)
{
  for (size_t i = 0; i < n; i++)
    if (v[i].key && strcmp(v[i].key, key) == 0)
      return v[i].value ? v[i].value : "";
  return NULL;
}

static const char *md_fmt(tcase *t, const store_kv *v, size_t n)
{
  size_t need = 3;
  for (size_t i = 0; i < n; i++)
    need += strlen(v[i].key ? v[i].key : "") +
            strlen(v[i].value ? v[i].value : "") + 8;
  char *s = talloc(t, need), *p = s;
  *p++ = '{';
  for (size_t i = 0; i < n; i++)
    p += sprintf(p, "%s%s=\"%s\"", i ? ", " : "", v[i].key ? v[i].key : "",
                 v[i].value ? v[i].value : "");
  *p++ = '}';
  *p = 0;
  return s;
}

void expect_md(tcase *t, const store_kv *want, size_t nwant,
               const store_kv *got, size_t ngot, const char *what)
{
  int ok = (nwant == ngot);
  for (size_t i = 0; ok && i < nwant; i++) {
    const char *v = md_find(got, ngot, want[i].key);
    ok = v && strcmp(v, want[i].value) == 0;
  }
  CHECK(t, ok, "%s: metadata differs: expected %s, got %s", what,
        md_fmt(t, want, nwant), md_fmt(t, got, ngot));
}

void expect_mtime_sane(tcase *t, int64_t mtime_ns, const char *what)
{
  if (mtime_ns == STORE_MTIME_UNKNOWN)
    return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
  int64_t day = INT64_C(86400) * 1000000000;
  CHECK(t, mtime_ns > now - day && mtime_ns < now + day,
        "%s: mtime_ns %lld is not within a day of now (%lld) and not "
        "STORE_MTIME_UNKNOWN",
        what, (long long)mtime_ns, (long long)now);
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void expect_keys(tcase *t, const char *c, const char *const *keys, size_t n,
                 const char *what)
{
  const char **sorted = talloc(t, (n + 1) * sizeof *sorted);
  for (size_t i = 0; i < n; i++)
    sorted[i] = keys[i];
  qsort(sorted, n, sizeof *sorted, cmp_str);
  clist l;
  int rc = list_all(t, c, NULL, &l);
  EXPECT_OK(t, rc, "%s: list container '%s'", what, c);
  int ok = (l.n == n);
  for (size_t i = 0; ok && i < n; i++)
    ok = l.v[i].name && strcmp(l.v[i].name, sorted[i]) == 0 &&
         !(l.v[i].flags & (STORE_ENTRY_PREFIX | STORE_ENTRY_SNAPSHOT));
  if (!ok)
    FAILF(t, "%s: listing of '%s' is %s, expected %s", what, c,
          fmt_names(t, &l), fmt_strs(t, sorted, n));
}
