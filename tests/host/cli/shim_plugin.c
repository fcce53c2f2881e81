/*
** shim_plugin.c -- a test provider that wraps another one (the local
** provider) to observe and break what the host does, for the workflow
** tests. Built by the test scripts with $CC; never installed.
**
** Service keys: `inner` (the wrapped plugin's .so, required), `calls` (a
** file that gets one line per op: "OP CONTAINER KEY-OR-PREFIX"),
** `fail-put` (puts of keys containing this text fail with an I/O error),
** `fail-after` (... once they have read this many bytes; default 0),
** `put-sleep-ms` (every put waits this long before it starts, so puts in
** flight overlap for certain and a run can be interrupted midway) and
** `max-puts` (a file that gets, when the service is closed, the most puts
** that were in flight at once). Every other key goes to the wrapped
** plugin. No server-side copy and no append, so copies within it are
** streamed and run logs are rewritten.
**
** Broken on purpose, to prove the conformance suite's integrity cases
** fail a plugin that loses data: `corrupt-put` = short | long | flip
** stores all but the last byte of every body it reads, one byte more, or
** the body with its first bit flipped, and reports success;
** `report-crc32c: wrong` reports a wrong CRC-32C in put results and
** entries (head, get, list), `report-crc32c: wrong-entries` in entries
** only; `report-md5: wrong` and `wrong-entries` the same with an MD5 (the
** MD5 of no bytes, wrong for any body put: the local provider reports
** none). `corrupt-put: short-unknown` stores a body short (as `short`)
** only when its length is not declared (content_length -1), and every
** other body whole. Built with -DSHIM_CKSUM (and the SDK linked: the conformance
** suite's build), `corrupt-put: flip-hidden` stores the flipped body but
** reports for a put the size and CRC-32C of the body it was sent, and for
** a multipart upload the size and no CRC: nothing the host checks after a
** put can tell, only reading the bytes back. `corrupt-get: flip` flips the
** first bit of what each get of the wrapped plugin delivers (of each range,
** when the host gets ranges) while its entry reports the true size and
** CRC-32C: only the host's check of the bytes received can tell.
**
** `open-keys` (a file) gets the names of the keys open() received, one per
** line, its own included.
**
** `hostile-names: percent` lets a test hold names and metadata values
** with any byte (ESC, CR, LF, C1) in a store that refuses them: the
** wrapped plugin keeps them percent-encoded (control bytes, bytes over
** 0x7f and '%' as %XX) and the shim decodes them in every entry it
** reports, encoding again the keys and values it is given.
**
** Built with -DSHIM_SERIAL it is "serial": not thread-safe (the host runs
** one op at a time on it) and listing pages of 3, so the host's paged
** listing of such providers is exercised. Built with -DSHIM_COPY it is
** "shimcopy": it copies server-side (the wrapped plugin's blob_copy,
** noted as "blob_copy"); with `copy-from: KEY` it copies the blob KEY of
** the same container instead of the source it is asked for and reports
** success: a store whose server-side copy stored other bytes; with
** `rewrite-source: KEY`, once the copy is made, it copies the blob KEY
** over the source: another writer changed the source during the copy;
** with `rewrite-target: KEY`, once the copy is made, it copies the blob
** KEY over the target: another writer replaced the copy before the host
** headed it. It passes blob_copy_checked through (noted as "blob_copy"
** too), its answer dropped with `copy-answer: none` (a store that reports
** nothing), its ETag replaced with `copy-answer: wrong-etag` (one no head
** reports: the conformance suite's integrity_copy must catch it) or left
** out with `copy-answer: no-etag` (size and checksums, no ETag).
** `deny-head: TEXT` (any build): heads of keys containing TEXT fail with
** STORE_E_PERMISSION, as on a target one may write but not read;
** `head-checksums: none` (any build): entries carry neither CRC-32C nor
** MD5, as a store that keeps only sizes. Built
** with -DSHIM_MULTIPART (the conformance suite's build) it passes
** multipart uploads through too, parts (noted "multipart_part" with or
** without checksums, _checked passed through as such) broken like puts.
*/
#include <dlfcn.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store_interface.h"
#ifdef SHIM_CKSUM
#include "sdk_util.h"
#endif

typedef struct shim {
  const struct store_interface *in;
  store_handle *h;
  int calls;
  char *fail_put;
  char *copy_from;          /* copy-from: the key every copy copies      */
  char *rewrite_source;     /* rewrite-source: copied over the source    */
  char *rewrite_target;     /* rewrite-target: copied over the target    */
  int copy_unanswered;      /* copy-answer: none                         */
  int copy_wrong_etag;      /* copy-answer: wrong-etag                   */
  int copy_no_etag;         /* copy-answer: no-etag                      */
  char *deny_head;          /* deny-head: heads of such keys refused     */
  unsigned long long fail_after;
  long put_sleep_ms;
  char *max_puts;           /* the file for the most puts at once */
  atomic_uint puts;         /* in flight now                      */
  atomic_uint most;         /* in flight at once, at most         */
  int corrupt;              /* CORRUPT_*                          */
  int wrong_results;        /* report-crc32c: wrong               */
  int wrong_entries;        /* report-crc32c: wrong, wrong-entries */
  int wrong_md5_results;    /* report-md5: wrong                  */
  int wrong_md5_entries;    /* report-md5: wrong, wrong-entries   */
  int no_sums;              /* head-checksums: none               */
  int corrupt_get;          /* corrupt-get: flip                  */
  int hostile;              /* hostile-names: percent             */
} shim;

#define CORRUPT_NONE   0
#define CORRUPT_SHORT  1
#define CORRUPT_LONG   2
#define CORRUPT_FLIP   3
#define CORRUPT_HIDDEN 4 /* flip-hidden */
#define CORRUPT_SHORT_UNKNOWN 5 /* short-unknown */

/* The MD5 report-md5 reports: of no bytes, so wrong for any body put. */
#define WRONG_MD5_HEX "d41d8cd98f00b204e9800998ecf8427e"

/* The service keys the shim takes for itself. */
static const char *const own_keys[] = {
  "inner", "calls", "fail-put", "fail-after", "put-sleep-ms", "max-puts",
  "corrupt-put", "report-crc32c", "corrupt-get", "hostile-names", "open-keys",
  "copy-from", "rewrite-source", "deny-head", "report-md5", "rewrite-target",
  "copy-answer", "head-checksums", NULL,
};

/* A put's body that breaks after fail_after bytes. */
struct breaking {
  store_read_fn src;
  void *ud;
  unsigned long long left;
};

static int32_t breaking_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  struct breaking *b = ud;

  *out_n = 0;
  if (b->left == 0)
    return 1;
  if (cap > b->left)
    cap = (size_t)b->left;
  if (b->src(b->ud, buf, cap, out_n))
    return 1;
  b->left -= *out_n;
  return 0;
}

/* A body as corrupt-put stores it: all but its last byte (short), one
 * byte more (long), or its first bit flipped (flip, flip-hidden). */
struct corrupt {
  store_read_fn src;
  void *ud;
  int mode;
  int done;                 /* short/long: the end was reached   */
  int started;              /* flip: the first byte went by      */
  int has_carry;            /* short: carry is held back         */
  unsigned char carry;
  uint64_t sent;            /* flip: the bytes read from src ...  */
  uint32_t sent_crc;        /* ... and their CRC-32C (SHIM_CKSUM) */
};

static int32_t corrupt_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  struct corrupt *c = ud;
  unsigned char *p = buf;
  size_t n = 0, off;

  *out_n = 0;
  if (c->done || cap < 2)
    return c->done ? 0 : c->src(c->ud, buf, cap, out_n);
  for (;;) {
    off = c->mode == CORRUPT_SHORT && c->has_carry ? 1 : 0;
    if (off)
      p[0] = c->carry;
    if (c->src(c->ud, p + off, cap - off, &n))
      return 1;
    if (c->mode == CORRUPT_FLIP || c->mode == CORRUPT_HIDDEN) {
      c->sent += n;
#ifdef SHIM_CKSUM
      c->sent_crc = sdk_crc32c(c->sent_crc, p, n);
#endif
      if (n && !c->started)
        p[0] ^= 1;
      c->started |= n > 0;
      *out_n = n;
      return 0;
    }
    if (c->mode == CORRUPT_LONG) {
      if (n == 0) {
        p[0] = '!';
        n = 1;
        c->done = 1;
      }
      *out_n = n;
      return 0;
    }
    if (n == 0) { /* short: the held-back last byte is dropped */
      c->done = 1;
      return 0;
    }
    c->carry = p[off + n - 1];
    c->has_carry = 1;
    if (off + n - 1 > 0) {
      *out_n = off + n - 1;
      return 0;
    }
  }
}

/* corrupt-put's mode for a body of declared length len (-1: unknown):
 * short-unknown breaks only bodies of unknown length. */
static int corrupt_mode(int mode, int64_t len)
{
  if (mode != CORRUPT_SHORT_UNKNOWN)
    return mode;
  return len < 0 ? CORRUPT_SHORT : CORRUPT_NONE;
}

/* The declared length of a body corrupt-put changes: one less or more. */
static int64_t corrupt_len(int mode, int64_t len)
{
  if (len < 0 || mode == CORRUPT_NONE || mode == CORRUPT_FLIP ||
      mode == CORRUPT_HIDDEN)
    return len;
  return mode == CORRUPT_SHORT ? (len ? len - 1 : 0) : len + 1;
}

/* report-crc32c: wrong -- a CRC-32C that is not the stored bytes'. */
static void wrong_result(store_put_result *out)
{
  if (!out || !STORE_HAS_FIELD(store_put_result, crc32c, out->struct_size))
    return;
  out->checksums |= STORE_CKSUM_CRC32C;
  out->crc32c = ~out->crc32c;
}

/* flip-hidden: a put result that reports what was sent, size and CRC,
 * as if it had been stored; of a multipart upload, no CRC (the parts'
 * sent CRCs are not at hand) and the size, which flipping keeps. */
static void hidden_result(store_put_result *out, const struct corrupt *cr)
{
  if (!out)
    return;
  if (cr)
    out->size = cr->sent;
  if (!STORE_HAS_FIELD(store_put_result, crc32c, out->struct_size))
    return;
  out->checksums &= ~STORE_CKSUM_CRC32C;
  out->crc32c = 0;
  if (cr) {
    out->checksums |= STORE_CKSUM_CRC32C;
    out->crc32c = cr->sent_crc;
  }
}

/* report-md5: wrong -- an MD5 that is not the stored bytes'. */
static void wrong_md5_result(store_put_result *out)
{
  static const unsigned char md5[16] = {
    0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04,
    0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e,
  };

  if (!out || !STORE_HAS_FIELD(store_put_result, md5, out->struct_size))
    return;
  out->checksums |= STORE_CKSUM_MD5;
  memcpy(out->md5, md5, sizeof md5);
}

/* What an op reports wrong in its result: report-crc32c, report-md5. */
static void wrong_results(const shim *s, store_put_result *out)
{
  if (s->wrong_results)
    wrong_result(out);
  if (s->wrong_md5_results)
    wrong_md5_result(out);
}

struct wrong_entries {
  store_entry_fn cb;
  void *ud;
  int crc;                  /* report a wrong CRC-32C */
  int md5;                  /* report a wrong content_md5 */
  int none;                 /* report neither CRC-32C nor MD5 */
};

static int32_t wrong_entry(void *ud, const store_entry *e)
{
  struct wrong_entries *w = ud;
  store_entry c = *e;

  if (w->none) {
    c.content_md5 = NULL;
    if (STORE_HAS_FIELD(store_entry, checksums, e->struct_size))
      c.checksums &= ~(uint32_t)STORE_CKSUM_CRC32C;
  }
  if (w->md5)
    c.content_md5 = WRONG_MD5_HEX;
  if (w->crc && STORE_HAS_FIELD(store_entry, crc32c, e->struct_size)) {
    c.checksums |= STORE_CKSUM_CRC32C;
    c.crc32c = ~e->crc32c;
  }
  return w->cb(w->ud, &c);
}

/* Whether entries are reported wrong, one way or another. */
#define WRONG_ENTRIES(s) \
  ((s)->wrong_entries || (s)->wrong_md5_entries || (s)->no_sums)

/* corrupt-get: flip -- a get's sink that gets the first byte of the body
 * with its first bit flipped. */
struct flip_sink {
  store_write_fn sink;
  void *ud;
  int started;
};

static int32_t flip_write(void *ud, const void *buf, size_t len)
{
  struct flip_sink *f = ud;
  unsigned char first;
  int32_t rc;

  if (f->started || len == 0)
    return f->sink(f->ud, buf, len);
  f->started = 1;
  first = *(const unsigned char *)buf ^ 1;
  rc = f->sink(f->ud, &first, 1);
  if (rc || len == 1)
    return rc;
  return f->sink(f->ud, (const unsigned char *)buf + 1, len - 1);
}

#define S(h) ((shim *)(void *)(h))

#define HOSTILE_MAX 4096

/* hostile-names: s as the wrapped plugin keeps it (into buf), or s. */
static const char *enc(const shim *sh, const char *s, char *buf)
{
  const unsigned char *p;
  size_t n = 0;

  if (!sh->hostile || !s)
    return s;
  for (p = (const unsigned char *)s; *p && n + 4 < HOSTILE_MAX; p++) {
    if (*p < 0x20 || *p >= 0x7f || *p == '%')
      n += (size_t)snprintf(buf + n, 4, "%%%02X", *p);
    else
      buf[n++] = (char)*p;
  }
  buf[n] = '\0';
  return buf;
}

/* The reverse of enc, into buf. */
static const char *dec(const char *s, char *buf)
{
  size_t n = 0;
  unsigned v;

  if (!s)
    return s;
  for (; *s && n + 1 < HOSTILE_MAX; s++) {
    if (s[0] == '%' && s[1] && s[2] && sscanf(s + 1, "%2x", &v) == 1) {
      buf[n++] = (char)v;
      s += 2;
    } else {
      buf[n++] = *s;
    }
  }
  buf[n] = '\0';
  return buf;
}

struct dec_entries {
  store_entry_fn cb;
  void *ud;
};

static int32_t dec_entry(void *ud, const store_entry *e)
{
  struct dec_entries *d = ud;
  static _Thread_local char name[HOSTILE_MAX], vals[8][HOSTILE_MAX];
  store_kv md[8];
  store_entry c = *e;
  size_t i;

  c.name = dec(e->name, name);
  for (i = 0; i < e->nmetadata && i < 8; i++) {
    md[i].key = e->metadata[i].key;
    md[i].value = dec(e->metadata[i].value, vals[i]);
  }
  if (e->nmetadata)
    c.metadata = md;
  c.nmetadata = i;
  return d->cb(d->ud, &c);
}

static void note(shim *s, const char *op, const char *c, const char *k)
{
  char line[2048];
  int n;

  if (s->calls < 0)
    return;
  n = snprintf(line, sizeof line, "%s %s %s\n", op, c ? c : "-",
               k && k[0] ? k : "-");
  if (n > 0 && (size_t)n < sizeof line && write(s->calls, line, (size_t)n))
    return;
}

static const char *get(const store_kv *kv, size_t n, const char *key)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (strcmp(kv[i].key, key) == 0)
      return kv[i].value;
  return NULL;
}

static int own_key(const char *key)
{
  size_t i;

  for (i = 0; own_keys[i]; i++)
    if (strcmp(own_keys[i], key) == 0)
      return 1;
  return 0;
}

/* A put begins: count it in flight, and wait put-sleep-ms. */
static void put_begin(shim *s)
{
  unsigned now = atomic_fetch_add(&s->puts, 1) + 1;
  unsigned most = atomic_load(&s->most);
  struct timespec ts = { s->put_sleep_ms / 1000,
                         s->put_sleep_ms % 1000 * 1000000L };

  while (now > most && !atomic_compare_exchange_weak(&s->most, &most, now))
    ;
  if (s->put_sleep_ms > 0)
    nanosleep(&ts, NULL);
}

static void put_end(shim *s)
{
  atomic_fetch_sub(&s->puts, 1);
}

static void write_most(const shim *s)
{
  FILE *f = fopen(s->max_puts, "w");

  if (!f)
    return;
  fprintf(f, "%u\n", atomic_load(&s->most));
  fclose(f);
}

static store_close_op sh_close;
static void sh_close(store_handle *h)
{
  shim *s = S(h);

  if (!s)
    return;
  if (s->h)
    s->in->close(s->h);
  if (s->calls >= 0)
    close(s->calls);
  if (s->max_puts)
    write_most(s);
  free(s->fail_put);
  free(s->copy_from);
  free(s->rewrite_source);
  free(s->rewrite_target);
  free(s->deny_head);
  free(s->max_puts);
  free(s);
}

static store_open_op sh_open;
static int32_t sh_open(const store_host_api *host, const store_kv *kv,
                       size_t n, store_handle **out, store_error *err)
{
  const char *inner = get(kv, n, "inner"), *calls = get(kv, n, "calls");
  const char *fail = get(kv, n, "fail-put");
  const char *after = get(kv, n, "fail-after");
  const char *sleep_ms = get(kv, n, "put-sleep-ms");
  const char *max_puts = get(kv, n, "max-puts");
  const char *corrupt = get(kv, n, "corrupt-put");
  const char *wrong = get(kv, n, "report-crc32c");
  const char *cget = get(kv, n, "corrupt-get");
  const char *hostile = get(kv, n, "hostile-names");
  const char *open_keys = get(kv, n, "open-keys");
  const char *copy_from = get(kv, n, "copy-from");
  const char *rewrite = get(kv, n, "rewrite-source");
  const char *rewrite_target = get(kv, n, "rewrite-target");
  const char *answer = get(kv, n, "copy-answer");
  const char *deny_head = get(kv, n, "deny-head");
  const char *wrong_md5 = get(kv, n, "report-md5");
  const char *sums = get(kv, n, "head-checksums");
  store_kv *rest = calloc(n + 1, sizeof *rest);
  shim *s = calloc(1, sizeof *s);
  size_t i, m = 0;
  void *dl;
  int32_t rc;

  *out = NULL;
  if (!rest || !s) {
    free(rest);
    free(s);
    return store_error_set(err, STORE_E_NOMEM, "shim: out of memory");
  }
  s->calls = calls ? open(calls, O_WRONLY | O_CREAT | O_APPEND, 0644) : -1;
  s->fail_put = fail ? strdup(fail) : NULL;
  s->copy_from = copy_from ? strdup(copy_from) : NULL;
  s->rewrite_source = rewrite ? strdup(rewrite) : NULL;
  s->rewrite_target = rewrite_target ? strdup(rewrite_target) : NULL;
  s->copy_unanswered = answer && !strcmp(answer, "none");
  s->copy_wrong_etag = answer && !strcmp(answer, "wrong-etag");
  s->copy_no_etag = answer && !strcmp(answer, "no-etag");
  s->deny_head = deny_head ? strdup(deny_head) : NULL;
  s->fail_after = after ? strtoull(after, NULL, 10) : 0;
  s->put_sleep_ms = sleep_ms ? strtol(sleep_ms, NULL, 10) : 0;
  s->max_puts = max_puts ? strdup(max_puts) : NULL;
  atomic_init(&s->puts, 0);
  atomic_init(&s->most, 0);
  s->corrupt = !corrupt                  ? CORRUPT_NONE
               : !strcmp(corrupt, "short") ? CORRUPT_SHORT
               : !strcmp(corrupt, "long")  ? CORRUPT_LONG
               : !strcmp(corrupt, "flip")  ? CORRUPT_FLIP
               : !strcmp(corrupt, "short-unknown") ? CORRUPT_SHORT_UNKNOWN
#ifdef SHIM_CKSUM
               : !strcmp(corrupt, "flip-hidden") ? CORRUPT_HIDDEN
#endif
                                           : -1;
  s->wrong_results = wrong && !strcmp(wrong, "wrong");
  s->wrong_entries = s->wrong_results ||
                     (wrong && !strcmp(wrong, "wrong-entries"));
  s->wrong_md5_results = wrong_md5 && !strcmp(wrong_md5, "wrong");
  s->wrong_md5_entries = s->wrong_md5_results ||
                         (wrong_md5 && !strcmp(wrong_md5, "wrong-entries"));
  s->no_sums = sums ? (!strcmp(sums, "none") ? 1 : -1) : 0;
  s->corrupt_get = cget ? (!strcmp(cget, "flip") ? 1 : -1) : 0;
  s->hostile = hostile && !strcmp(hostile, "percent");
  if (open_keys) {
    FILE *f = fopen(open_keys, "w");
    for (i = 0; f && i < n; i++)
      fprintf(f, "%s\n", kv[i].key);
    if (f)
      fclose(f);
  }
  if (s->corrupt < 0 || (wrong && !s->wrong_entries) || s->corrupt_get < 0 ||
      (wrong_md5 && !s->wrong_md5_entries) || s->no_sums < 0) {
    sh_close((store_handle *)(void *)s);
    free(rest);
    return store_error_set(err, STORE_E_CONFIG,
                           "shim: corrupt-put '%s' is not short, long, flip, "
                           "short-unknown or (built with SHIM_CKSUM) "
                           "flip-hidden, or report-crc32c '%s' or report-md5 "
                           "'%s' is not wrong or wrong-entries, or "
                           "corrupt-get '%s' is not flip, or "
                           "head-checksums '%s' is not none",
                           corrupt ? corrupt : "", wrong ? wrong : "",
                           wrong_md5 ? wrong_md5 : "", cget ? cget : "",
                           sums ? sums : "");
  }
  dl = inner ? dlopen(inner, RTLD_NOW | RTLD_LOCAL) : NULL;
  s->in = dl ? dlsym(dl, "store_interface") : NULL;
  if (!s->in) {
    sh_close((store_handle *)(void *)s);
    free(rest);
    return store_error_set(err, STORE_E_CONFIG, "shim: cannot load '%s'",
                           inner ? inner : "(no inner)");
  }
  for (i = 0; i < n; i++)
    if (!own_key(kv[i].key))
      rest[m++] = kv[i];
  rc = s->in->open(host, rest, m, &s->h, err);
  free(rest);
  if (rc) {
    sh_close((store_handle *)(void *)s);
    return rc;
  }
  *out = (store_handle *)(void *)s;
  return STORE_OK;
}

static int32_t sh_ccreate(store_handle *h, const char *c, const store_kv *m,
                          size_t n, store_error *err)
{
  note(S(h), "container_create", c, NULL);
  return S(h)->in->container_create(S(h)->h, c, m, n, err);
}

static int32_t sh_cdelete(store_handle *h, const char *c, uint32_t f,
                          store_error *err)
{
  note(S(h), "container_delete", c, NULL);
  return S(h)->in->container_delete(S(h)->h, c, f, err);
}

static int32_t sh_clist(store_handle *h, const char *p, store_entry_fn cb,
                        void *ud, store_error *err)
{
  note(S(h), "container_list", p, NULL);
  return S(h)->in->container_list(S(h)->h, p, cb, ud, err);
}

static int32_t sh_chead(store_handle *h, const char *c, store_entry_fn cb,
                        void *ud, store_error *err)
{
  note(S(h), "container_head", c, NULL);
  return S(h)->in->container_head(S(h)->h, c, cb, ud, err);
}

static int32_t put_through(shim *s, const char *c, const char *k,
                           const store_put_opts *o, store_read_fn src,
                           void *ud, store_put_result *out, store_error *err)
{
  struct breaking b = { src, ud, s->fail_after };
  int mode = corrupt_mode(s->corrupt, o ? o->content_length : -1);
  struct corrupt cr = { src, ud, mode, 0, 0, 0, 0, 0, 0 };
  store_put_opts co;
  int32_t rc;

  if (mode) {
    if (o) {
      memset(&co, 0, sizeof co);
      memcpy(&co, o, o->struct_size < sizeof co ? o->struct_size : sizeof co);
      co.content_length = corrupt_len(mode, o->content_length);
      o = &co;
    }
    rc = s->in->blob_put(s->h, c, k, o, corrupt_read, &cr, out, err);
    if (rc == STORE_OK && mode == CORRUPT_HIDDEN)
      hidden_result(out, &cr);
    if (rc == STORE_OK)
      wrong_results(s, out);
    return rc;
  }
  if (!s->fail_put || !strstr(k, s->fail_put)) {
    rc = s->in->blob_put(s->h, c, k, o, src, ud, out, err);
    if (rc == STORE_OK)
      wrong_results(s, out);
    return rc;
  }
  rc = b.left ? s->in->blob_put(s->h, c, k, o, breaking_read, &b, out, err)
              : STORE_E_IO;
  if (rc == STORE_OK)
    return rc;
  memset(err->message, 0, sizeof err->message);
  return store_error_set(err, STORE_E_IO, "shim: blob '%s/%s': injected "
                                          "put failure",
                         c, k);
}

static int32_t sh_put(store_handle *h, const char *c, const char *k,
                      const store_put_opts *o, store_read_fn src, void *ud,
                      store_put_result *out, store_error *err)
{
  int32_t rc;

  char kb[HOSTILE_MAX];

  k = enc(S(h), k, kb);
  note(S(h), "blob_put", c, k);
  put_begin(S(h));
  rc = put_through(S(h), c, k, o, src, ud, out, err);
  put_end(S(h));
  return rc;
}

static int32_t sh_get(store_handle *h, const char *c, const char *k,
                      const store_get_opts *o, store_write_fn sink, void *ud,
                      store_error *err)
{
  struct wrong_entries w;
  struct flip_sink f = { sink, ud, 0 };
  store_get_opts go;
  char kb[HOSTILE_MAX];

  k = enc(S(h), k, kb);
  note(S(h), "blob_get", c, k);
  if (S(h)->corrupt_get) {
    sink = flip_write;
    ud = &f;
  }
  if (!WRONG_ENTRIES(S(h)) || !o || !o->on_entry)
    return S(h)->in->blob_get(S(h)->h, c, k, o, sink, ud, err);
  w.cb = o->on_entry;
  w.ud = o->on_entry_ctx;
  w.crc = S(h)->wrong_entries;
  w.md5 = S(h)->wrong_md5_entries;
  w.none = S(h)->no_sums;
  go = *o;
  go.on_entry = wrong_entry;
  go.on_entry_ctx = &w;
  return S(h)->in->blob_get(S(h)->h, c, k, &go, sink, ud, err);
}

static int32_t sh_head(store_handle *h, const char *c, const char *k,
                       const store_head_opts *o, store_entry_fn cb, void *ud,
                       store_error *err)
{
  struct wrong_entries w = { cb, ud, S(h)->wrong_entries,
                             S(h)->wrong_md5_entries, S(h)->no_sums };
  struct dec_entries d = { cb, ud };
  char kb[HOSTILE_MAX];

  k = enc(S(h), k, kb);
  note(S(h), "blob_head", c, k);
  if (S(h)->deny_head && strstr(k, S(h)->deny_head))
    return store_error_set(err, STORE_E_PERMISSION,
                           "shim: head of '%s' denied", k);
  if (S(h)->hostile)
    return S(h)->in->blob_head(S(h)->h, c, k, o, dec_entry, &d, err);
  if (WRONG_ENTRIES(S(h)))
    return S(h)->in->blob_head(S(h)->h, c, k, o, wrong_entry, &w, err);
  return S(h)->in->blob_head(S(h)->h, c, k, o, cb, ud, err);
}

static int32_t sh_delete(store_handle *h, const char *c, const char *k,
                         const store_delete_opts *o, store_error *err)
{
  char kb[HOSTILE_MAX];

  k = enc(S(h), k, kb);
  note(S(h), "blob_delete", c, k);
  return S(h)->in->blob_delete(S(h)->h, c, k, o, err);
}

static int32_t sh_list(store_handle *h, const char *c,
                       const store_list_opts *o, store_entry_fn cb, void *ud,
                       store_error *err)
{
  struct wrong_entries w = { cb, ud, S(h)->wrong_entries,
                             S(h)->wrong_md5_entries, S(h)->no_sums };
  struct dec_entries d = { cb, ud };
  store_list_opts lo;
  char pb[HOSTILE_MAX], sb[HOSTILE_MAX];

  note(S(h), "blob_list", c, o ? o->prefix : NULL);
  if (S(h)->hostile) {
    if (o) {
      lo = *o;
      lo.prefix = enc(S(h), o->prefix, pb);
      lo.start_after = enc(S(h), o->start_after, sb);
      o = &lo;
    }
    return S(h)->in->blob_list(S(h)->h, c, o, dec_entry, &d, err);
  }
  if (WRONG_ENTRIES(S(h)))
    return S(h)->in->blob_list(S(h)->h, c, o, wrong_entry, &w, err);
  return S(h)->in->blob_list(S(h)->h, c, o, cb, ud, err);
}

static int32_t sh_setmeta(store_handle *h, const char *c, const char *k,
                          const store_kv *m, size_t n, store_error *err)
{
  static _Thread_local char vals[8][HOSTILE_MAX];
  store_kv md[8];
  char kb[HOSTILE_MAX];
  size_t i;

  k = enc(S(h), k, kb);
  note(S(h), "blob_set_metadata", c, k);
  if (S(h)->hostile && n <= 8) {
    for (i = 0; i < n; i++) {
      md[i].key = m[i].key;
      md[i].value = enc(S(h), m[i].value, vals[i]);
    }
    m = md;
  }
  return S(h)->in->blob_set_metadata(S(h)->h, c, k, m, n, err);
}

#ifdef SHIM_COPY
/* The wrapped plugin's copy: its blob_copy_checked where it has one and
 * out is wanted, else its blob_copy. */
static int32_t inner_copy(shim *s, const char *sc, const char *sk,
                          const char *dc, const char *dk,
                          const store_copy_opts *o, store_put_result *out,
                          store_error *err)
{
  if (out && STORE_HAS_FIELD(struct store_interface, blob_copy_checked,
                             s->in->struct_size) && s->in->blob_copy_checked)
    return s->in->blob_copy_checked(s->h, sc, sk, dc, dk, o, out, err);
  return s->in->blob_copy(s->h, sc, sk, dc, dk, o, err);
}

static int32_t sh_copy_checked(store_handle *h, const char *sc,
                               const char *sk, const char *dc,
                               const char *dk, const store_copy_opts *o,
                               store_put_result *out, store_error *err)
{
  const char *from = S(h)->copy_from ? S(h)->copy_from : sk;
  int32_t rc;

  note(S(h), "blob_copy", sc, sk);
  rc = inner_copy(S(h), sc, from, dc, dk, o,
                  S(h)->copy_unanswered ? NULL : out, err);
  if (!rc && out && S(h)->copy_wrong_etag)
    snprintf(out->etag, sizeof(out->etag), "not-the-copy's");
  if (!rc && out && S(h)->copy_no_etag)
    out->etag[0] = 0;
  if (!rc && S(h)->rewrite_source)
    rc = inner_copy(S(h), sc, S(h)->rewrite_source, sc, sk, NULL, NULL,
                    err);
  if (!rc && S(h)->rewrite_target)
    rc = inner_copy(S(h), dc, S(h)->rewrite_target, dc, dk, NULL, NULL,
                    err);
  return rc;
}

static int32_t sh_copy(store_handle *h, const char *sc, const char *sk,
                       const char *dc, const char *dk,
                       const store_copy_opts *o, store_error *err)
{
  return sh_copy_checked(h, sc, sk, dc, dk, o, NULL, err);
}
/* Deletes pinned to an ETag pass through to the wrapped (local) plugin. */
#define SHIM_COPY_CAP (STORE_CAP_COPY | STORE_CAP_DELETE_IF_MATCH)
#define SHIM_COPY_OP sh_copy
#define SHIM_COPY_CHECKED_OP sh_copy_checked
#else
#define SHIM_COPY_CAP 0
#define SHIM_COPY_OP NULL
#define SHIM_COPY_CHECKED_OP NULL
#endif

#ifdef SHIM_MULTIPART
static int32_t sh_mbegin(store_handle *h, const char *c, const char *k,
                         const store_put_opts *o, char *id, size_t cap,
                         store_error *err)
{
  note(S(h), "multipart_begin", c, k);
  return S(h)->in->multipart_begin(S(h)->h, c, k, o, id, cap, err);
}

static int32_t sh_mpart(store_handle *h, const char *c, const char *k,
                        const char *id, uint32_t no, uint64_t len,
                        store_read_fn src, void *ud, char *tok, size_t cap,
                        store_error *err)
{
  /* A part's length is always declared. */
  int mode = corrupt_mode(S(h)->corrupt, (int64_t)len);
  struct corrupt cr = { src, ud, mode, 0, 0, 0, 0, 0, 0 };

  note(S(h), "multipart_part", c, k);
  if (!mode)
    return S(h)->in->multipart_part(S(h)->h, c, k, id, no, len, src, ud, tok,
                                    cap, err);
  return S(h)->in->multipart_part(
    S(h)->h, c, k, id, no, (uint64_t)corrupt_len(mode, (int64_t)len),
    corrupt_read, &cr, tok, cap, err);
}

static int32_t sh_mpart_checked(store_handle *h, const char *c,
                                const char *k, const char *id, uint32_t no,
                                uint64_t len, const store_put_opts *o,
                                store_read_fn src, void *ud, char *tok,
                                size_t cap, store_put_result *out,
                                store_error *err)
{
  shim *s = S(h);
  int mode = corrupt_mode(s->corrupt, (int64_t)len);
  struct corrupt cr = { src, ud, mode, 0, 0, 0, 0, 0, 0 };
  int32_t rc;

  if (!STORE_HAS_FIELD(struct store_interface, multipart_part_checked,
                       s->in->struct_size) ||
      !s->in->multipart_part_checked)
    return sh_mpart(h, c, k, id, no, len, src, ud, tok, cap, err);
  note(s, "multipart_part", c, k);
  if (mode) {
    len = (uint64_t)corrupt_len(mode, (int64_t)len);
    src = corrupt_read;
    ud = &cr;
  }
  rc = s->in->multipart_part_checked(s->h, c, k, id, no, len, o, src, ud, tok,
                                     cap, out, err);
  if (rc == STORE_OK && mode == CORRUPT_HIDDEN)
    hidden_result(out, &cr);
  if (rc == STORE_OK)
    wrong_results(s, out);
  return rc;
}

static int32_t sh_mcomplete(store_handle *h, const char *c, const char *k,
                            const char *id, const store_put_opts *o,
                            const char *const *toks, uint32_t n,
                            store_put_result *out, store_error *err)
{
  int32_t rc;

  note(S(h), "multipart_complete", c, k);
  rc = S(h)->in->multipart_complete(S(h)->h, c, k, id, o, toks, n, out, err);
  if (rc == STORE_OK && S(h)->corrupt == CORRUPT_HIDDEN)
    hidden_result(out, NULL);
  if (rc == STORE_OK)
    wrong_results(S(h), out);
  return rc;
}

static int32_t sh_mabort(store_handle *h, const char *c, const char *k,
                         const char *id, store_error *err)
{
  note(S(h), "multipart_abort", c, k);
  return S(h)->in->multipart_abort(S(h)->h, c, k, id, err);
}
#define SHIM_MP_CAP STORE_CAP_MULTIPART
#define SHIM_MP(op) op
#else
#define SHIM_MP_CAP 0
#define SHIM_MP(op) NULL
#endif

#if defined(SHIM_SERIAL)
#define SHIM_NAME "serial"
#define SHIM_THREADS 0
static const store_limits limits = {
  .struct_size = sizeof(store_limits),
  .list_page_size = 3,
};
#else
#ifdef SHIM_COPY
#define SHIM_NAME "shimcopy"
#else
#define SHIM_NAME "shim"
#endif
#define SHIM_THREADS STORE_CAP_THREADSAFE
static const store_limits limits = { .struct_size = sizeof(store_limits) };
#endif

static const store_config_key keys[] = {
  { "inner", "the wrapped plugin (.so path)", 1, 0 },
  { "calls", "a file that gets one line per op", 0, 0 },
  { "fail-put", "puts of keys containing this fail", 0, 0 },
  { "fail-after", "... after reading this many bytes", 0, 0 },
  { "put-sleep-ms", "every put waits this long first", 0, 0 },
  { "max-puts", "a file for the most puts in flight at once", 0, 0 },
  { "corrupt-put", "short, long, flip, short-unknown or flip-hidden: store "
    "other bytes than read", 0, 0 },
  { "report-crc32c", "wrong or wrong-entries: report wrong CRC-32Cs", 0, 0 },
  { "report-md5", "wrong or wrong-entries: report wrong MD5s", 0, 0 },
  { "corrupt-get", "flip: deliver other bytes than the entry says", 0, 0 },
  { "hostile-names", "percent: names and values kept percent-encoded", 0, 0 },
  { "open-keys", "a file for the names of the keys open() received", 0, 0 },
  { "copy-from", "shimcopy: copies copy this key instead (a wrong copy)",
    0, 0 },
  { "rewrite-source", "shimcopy: this key is copied over a copy's source "
    "once it is copied", 0, 0 },
  { "rewrite-target", "shimcopy: this key is copied over a copy's target "
    "once it is made (another writer before the host's head)", 0, 0 },
  { "copy-answer", "shimcopy: none: blob_copy_checked reports nothing, as "
    "blob_copy; wrong-etag: an ETag no head reports; no-etag: none", 0,
    0 },
  { "deny-head", "heads of keys containing this text are refused", 0, 0 },
  { "head-checksums", "none: heads and gets report neither CRC-32C nor MD5",
    0, 0 },
  { "path", "the wrapped local provider's root", 0, 0 },
  { "endpoint", "the wrapped S3 provider's (test_copy_verify)", 0, 0 },
  { "access-key", "the wrapped S3 provider's", 0, 0 },
  { "secret-key", "the wrapped S3 provider's", 0, 1 },
  { "addressing", "the wrapped S3 provider's", 0, 0 },
  { "payload-signing", "the wrapped S3 provider's", 0, 0 },
  { "name", "service name", 0, 0 },
  { NULL, NULL, 0, 0 },
};

STORE_EXPORT const struct store_interface store_interface = {
  .abi_major = STORE_ABI_MAJOR,
  .abi_minor = STORE_ABI_MINOR,
  .struct_size = sizeof(struct store_interface),
  .name = SHIM_NAME,
  .version = "0.0.1",
  .description = "test shim: counts ops and injects failures",
  .capabilities = STORE_CAP_CONTAINERS | STORE_CAP_RANGE_GET |
                  STORE_CAP_METADATA | STORE_CAP_CONDITIONAL | SHIM_THREADS |
                  STORE_CAP_CONTENT_TYPE | SHIM_COPY_CAP | SHIM_MP_CAP,
  .limits = &limits,
  .config_keys = keys,
  .open = sh_open,
  .close = sh_close,
  .container_create = sh_ccreate,
  .container_delete = sh_cdelete,
  .container_list = sh_clist,
  .container_head = sh_chead,
  .blob_put = sh_put,
  .blob_get = sh_get,
  .blob_head = sh_head,
  .blob_delete = sh_delete,
  .blob_list = sh_list,
  .blob_set_metadata = sh_setmeta,
  .blob_copy = SHIM_COPY_OP,
  .blob_copy_checked = SHIM_COPY_CHECKED_OP,
  .multipart_begin = SHIM_MP(sh_mbegin),
  .multipart_part = SHIM_MP(sh_mpart),
  .multipart_complete = SHIM_MP(sh_mcomplete),
  .multipart_abort = SHIM_MP(sh_mabort),
  .multipart_part_checked = SHIM_MP(sh_mpart_checked),
};
