/*
** conf_transfer.c -- multipart uploads (and listing those unfinished),
** large streaming with bounded memory, and concurrent use of one service
** handle.
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"

/* ------------------------------------------------------------------------ */
/* Generated bodies: never buffered whole.                                  */
/* ------------------------------------------------------------------------ */
typedef struct gensrc {
  uint64_t seed;
  uint64_t start, pos, end;  /* stream bytes [start, end) */
  uint64_t fnv;
  size_t calls;
} gensrc;

static void gensrc_init(gensrc *g, uint64_t seed, uint64_t start, uint64_t n)
{
  memset(g, 0, sizeof *g);
  g->seed = seed;
  g->start = g->pos = start;
  g->end = start + n;
  g->fnv = FNV1A_INIT;
}

static int32_t gensrc_read(void *ctx, void *buf, size_t cap, size_t *out_n)
{
  gensrc *g = ctx;
  g->calls++;
  uint64_t left = g->end - g->pos;
  size_t n = left < cap ? (size_t)left : cap;
  if (n) {
    gen_fill(g->seed, g->pos, buf, n);
    g->fnv = fnv1a(g->fnv, buf, n);
  }
  g->pos += n;
  *out_n = n;
  return 0;
}

static int32_t gensrc_rewind(void *ctx)
{
  gensrc *g = ctx;
  g->pos = g->start;
  g->fnv = FNV1A_INIT;
  return 0;
}

/* A sink that checks every byte against the generator and hashes it. */
typedef struct gencheck {
  uint64_t seed;
  uint64_t pos;
  uint64_t fnv;
  uint64_t mismatch_at;     /* UINT64_MAX: none */
  size_t calls;
  size_t max_chunk;
  unsigned char scratch[64 * 1024];
} gencheck;

static void gencheck_init(gencheck *g, uint64_t seed)
{
  g->seed = seed;
  g->pos = 0;
  g->fnv = FNV1A_INIT;
  g->mismatch_at = UINT64_MAX;
  g->calls = 0;
  g->max_chunk = 0;
}

static int32_t gencheck_write(void *ctx, const void *buf, size_t len)
{
  gencheck *g = ctx;
  const unsigned char *p = buf;
  g->calls++;
  if (len > g->max_chunk)
    g->max_chunk = len;
  g->fnv = fnv1a(g->fnv, buf, len);
  size_t done = 0;
  while (done < len) {
    size_t n = len - done;
    if (n > sizeof g->scratch)
      n = sizeof g->scratch;
    if (g->mismatch_at == UINT64_MAX) {
      gen_fill(g->seed, g->pos, g->scratch, n);
      if (memcmp(g->scratch, p + done, n) != 0) {
        size_t i = 0;
        while (g->scratch[i] == p[done + i])
          i++;
        g->mismatch_at = g->pos + i;
      }
    }
    g->pos += n;
    done += n;
  }
  return 0;
}

/* Read the whole blob and compare it with generator stream `seed`. */
static void expect_gen_body(tcase *t, const char *c, const char *k,
                            uint64_t seed, uint64_t n, const char *what)
{
  gencheck *g = talloc(t, sizeof *g);
  gencheck_init(g, seed);
  int rc = xtstore_blob_get(g_svc, c, k, NULL, gencheck_write, g, ERR(t));
  EXPECT_OK(t, rc, "%s: get '%s'", what, k);
  CHECK(t, g->pos == n, "%s: get '%s' returned %llu bytes, expected %llu",
        what, k, (unsigned long long)g->pos, (unsigned long long)n);
  CHECK(t, g->mismatch_at == UINT64_MAX,
        "%s: '%s' differs from what was put, first at byte %llu", what, k,
        (unsigned long long)g->mismatch_at);
}

/* ------------------------------------------------------------------------ */
/* multipart                                                                */
/* ------------------------------------------------------------------------ */
static uint64_t part_size(tcase *t)
{
  uint64_t psz = g_limits->min_part_size;
  if (psz < 256 * 1024)
    psz = 256 * 1024;
  if (g_limits->max_part_size && psz > g_limits->max_part_size)
    FAILF(t, "limits: min part size %llu > max part size %llu",
          (unsigned long long)psz,
          (unsigned long long)g_limits->max_part_size);
  return psz;
}

static int upload_part(tcase *t, const char *k, const char *uid, uint32_t no,
                       uint64_t seed, uint64_t start, uint64_t n, char *tok)
{
  gensrc g;
  gensrc_init(&g, seed, start, n);
  memset(tok, 0x7f, STORE_ID_SIZE);
  int rc = xtstore_multipart_part(g_svc, t->c, k, uid, no, n, gensrc_read, &g,
                                  tok, STORE_ID_SIZE, ERR(t));
  if (rc == STORE_OK) {
    CHECK(t, memchr(tok, 0, STORE_ID_SIZE) != NULL,
          "part %u token is not NUL-terminated", no);
    CHECK(t, g.pos == g.end, "part %u: only %llu of %llu bytes were read", no,
          (unsigned long long)(g.pos - g.start), (unsigned long long)n);
  }
  return rc;
}

static const char *begin_upload(tcase *t, const char *k,
                                const store_put_opts *o)
{
  char id[STORE_ID_SIZE];
  memset(id, 0x7f, sizeof id);
  int rc = xtstore_multipart_begin(g_svc, t->c, k, o, id, sizeof id, ERR(t));
  EXPECT_OK(t, rc, "multipart_begin '%s'", k);
  CHECK(t, memchr(id, 0, sizeof id) != NULL && id[0],
        "multipart_begin returned an empty or unterminated upload id");
  return tstrdup(t, id);
}

CONF_CASE(multipart_complete_case)
{
  static const store_kv md[] = {{"assembled", "yes"}};
  const char *k = "mp/assembled.bin";
  const uint64_t seed = 41;
  uint64_t psz = part_size(t), last = psz / 2 + 13, total = 2 * psz + last;
  int has_md = (g_caps & STORE_CAP_METADATA) != 0;
  const char *ct = (g_caps & STORE_CAP_CONTENT_TYPE) ? "application/x-mp"
                                                      : NULL;
  store_put_opts po;
  memset(&po, 0, sizeof po);
  po.struct_size = sizeof po;
  po.content_length = -1;
  po.content_type = ct;
  po.metadata = has_md ? md : NULL;
  po.nmetadata = has_md ? 1 : 0;
  const char *uid = begin_upload(t, k, &po);

  char tok[3][STORE_ID_SIZE];
  /* last part first, then a wrong part 2 that is replaced, then 1 and 2 */
  int rc = upload_part(t, k, uid, 3, seed, 2 * psz, last, tok[2]);
  EXPECT_OK(t, rc, "upload part 3 (%llu bytes) first",
            (unsigned long long)last);
  rc = upload_part(t, k, uid, 2, seed + 1, psz, psz, tok[1]);
  EXPECT_OK(t, rc, "upload a wrong part 2 (to be replaced)");
  rc = upload_part(t, k, uid, 1, seed, 0, psz, tok[0]);
  EXPECT_OK(t, rc, "upload part 1 (%llu bytes)", (unsigned long long)psz);
  rc = upload_part(t, k, uid, 2, seed, psz, psz, tok[1]);
  EXPECT_OK(t, rc, "re-upload part 2 (%llu bytes)", (unsigned long long)psz);

  expect_missing(t, t->c, k, "before multipart_complete");
  expect_keys(t, t->c, NULL, 0, "listing before multipart_complete (parts "
                                "must not be visible)");

  const char *toks[3] = {tok[0], tok[1], tok[2]};
  store_put_result pr;
  memset(&pr, 0, sizeof pr);
  pr.struct_size = sizeof pr;
  rc = xtstore_multipart_complete(g_svc, t->c, k, uid, &po, toks, 3, &pr,
                                  ERR(t));
  EXPECT_OK(t, rc, "multipart_complete with 3 parts");
  CHECK(t, pr.size == total, "complete result size %llu, expected %llu",
        (unsigned long long)pr.size, (unsigned long long)total);

  expect_gen_body(t, t->c, k, seed, total, "assembled multipart blob");
  centry h;
  rc = head_entry(t, t->c, k, NULL, &h);
  EXPECT_OK(t, rc, "head '%s'", k);
  CHECK(t, h.size == total, "head size %llu, expected %llu",
        (unsigned long long)h.size, (unsigned long long)total);
  if (ct)
    CHECK(t, h.content_type && strcmp(h.content_type, ct) == 0,
          "multipart content type '%s', expected '%s' (given at begin)",
          h.content_type ? h.content_type : "(null)", ct);
  if (has_md)
    expect_md(t, md, 1, h.md, h.nmd, "multipart metadata (given at begin)");
  const char *one[] = {k};
  expect_keys(t, t->c, one, 1, "listing after multipart_complete");
}

/* blobs_delete_if_match for an object completed from parts, whose ETag is
 * no MD5 (S3's ends in "-N"): the ETag the complete reported pins the
 * delete, a stale one is refused. */
CONF_CASE(multipart_delete_if_match)
{
  /* No "/": see the moto-versioned skips in tests/plugins/s3. */
  const char *k = "mp-pinned.bin";
  uint64_t psz = part_size(t);
  store_put_opts po;
  store_put_result pr;
  store_delete_opts dop;
  char tok[2][STORE_ID_SIZE];
  memset(&po, 0, sizeof po);
  po.struct_size = sizeof po;
  po.content_length = -1;
  const char *uid = begin_upload(t, k, &po);
  int rc = upload_part(t, k, uid, 1, 43, 0, psz, tok[0]);
  EXPECT_OK(t, rc, "upload part 1 (%llu bytes)", (unsigned long long)psz);
  rc = upload_part(t, k, uid, 2, 43, psz, 17, tok[1]);
  EXPECT_OK(t, rc, "upload part 2 (17 bytes)");
  const char *toks[2] = {tok[0], tok[1]};
  memset(&pr, 0, sizeof pr);
  pr.struct_size = sizeof pr;
  rc = xtstore_multipart_complete(g_svc, t->c, k, uid, &po, toks, 2, &pr,
                                  ERR(t));
  EXPECT_OK(t, rc, "multipart_complete with 2 parts");
  centry h;
  rc = head_entry(t, t->c, k, NULL, &h);
  EXPECT_OK(t, rc, "head '%s'", k);
  const char *etag = pr.etag[0] ? tstrdup(t, pr.etag) : h.etag;
  CHECK(t, etag && *etag, "STORE_CAP_DELETE_IF_MATCH declared, but the "
                          "service reports no etag (complete result and "
                          "head)");

  memset(&dop, 0, sizeof dop);
  dop.struct_size = sizeof dop;
  dop.flags = STORE_DELETE_SNAPSHOTS;
  dop.if_match = "\"xtstore-conformance-no-such-etag\"";
  rc = xtstore_blob_delete(g_svc, t->c, k, &dop, ERR(t));
  EXPECT_RC(t, rc, STORE_E_PRECONDITION, "delete with if_match = %s",
            dop.if_match);
  expect_gen_body(t, t->c, k, 43, psz + 17, "after a refused conditional "
                                            "delete");
  dop.if_match = etag;
  rc = xtstore_blob_delete(g_svc, t->c, k, &dop, ERR(t));
  EXPECT_OK(t, rc, "delete with if_match = the completed object's etag %s",
            etag);
  expect_missing(t, t->c, k, "after a conditional delete");
}

CONF_CASE(multipart_abort_case)
{
  const char *k = "mp/aborted.bin";
  uint64_t psz = part_size(t);
  const char *uid = begin_upload(t, k, NULL);
  char tok[2][STORE_ID_SIZE];
  int rc = upload_part(t, k, uid, 1, 51, 0, psz, tok[0]);
  EXPECT_OK(t, rc, "upload part 1");
  rc = upload_part(t, k, uid, 2, 51, psz, 100, tok[1]);
  EXPECT_OK(t, rc, "upload part 2");
  rc = xtstore_multipart_abort(g_svc, t->c, k, uid, ERR(t));
  EXPECT_OK(t, rc, "multipart_abort");
  expect_missing(t, t->c, k, "after multipart_abort");
  expect_keys(t, t->c, NULL, 0, "listing after multipart_abort");

  const char *toks[2] = {tok[0], tok[1]};
  rc = xtstore_multipart_complete(g_svc, t->c, k, uid, NULL, toks, 2, NULL,
                                  ERR(t));
  CHECK(t, rc != STORE_OK, "multipart_complete after multipart_abort "
                           "succeeded");
  expect_missing(t, t->c, k, "complete after abort");

  /* an abort leaves an existing blob under the key alone */
  rc = put_str(t, t->c, k, "existing");
  EXPECT_OK(t, rc, "put '%s'", k);
  uid = begin_upload(t, k, NULL);
  rc = upload_part(t, k, uid, 1, 52, 0, 1000, tok[0]);
  EXPECT_OK(t, rc, "upload part 1");
  expect_body(t, t->c, k, "existing", 8, "existing blob during an upload");
  rc = xtstore_multipart_abort(g_svc, t->c, k, uid, ERR(t));
  EXPECT_OK(t, rc, "multipart_abort");
  expect_body(t, t->c, k, "existing", 8, "existing blob after an aborted "
                                         "upload");
  const char *one[] = {k};
  expect_keys(t, t->c, one, 1, "listing after an aborted upload");
}

/* What a multipart_list reported, for one case. */
struct uplist {
  tcase *t;
  const char *key[2], *id[2];   /* the uploads looked for               */
  int seen[2], others;
  int stop_after;               /* return 1 after this many; 0: never   */
  int calls;
};

static int uplist_fn(void *ud, const store_upload *u)
{
  struct uplist *l = ud;
  int64_t now = (int64_t)time(NULL);

  l->calls++;
  CHECK(l->t, u->key && u->upload_id, "multipart_list: an upload without "
        "key or id");
  CHECK(l->t, u->initiated >= 0 && u->initiated <= now + 3600,
        "multipart_list: '%s' initiated at %lld, in the future",
        u->key, (long long)u->initiated);
  CHECK(l->t, u->last_activity >= 0 && u->last_activity <= now + 3600,
        "multipart_list: '%s' last active at %lld, in the future", u->key,
        (long long)u->last_activity);
  CHECK(l->t, !u->initiated || !u->last_activity ||
              u->last_activity >= u->initiated,
        "multipart_list: '%s' last active at %lld, before it began (%lld)",
        u->key, (long long)u->last_activity, (long long)u->initiated);
  for (int i = 0; i < 2; i++)
    if (l->id[i] && !strcmp(u->upload_id, l->id[i])) {
      CHECK(l->t, !strcmp(u->key, l->key[i]), "multipart_list: upload '%s' "
            "listed with key '%s', begun for '%s'", u->upload_id, u->key,
            l->key[i]);
      l->seen[i]++;
      return l->stop_after && l->calls >= l->stop_after;
    }
  l->others++;
  return l->stop_after && l->calls >= l->stop_after;
}

static void uplist_run(tcase *t, struct uplist *l, const char *prefix,
                       const char *when)
{
  int rc;

  l->seen[0] = l->seen[1] = l->others = l->calls = 0;
  rc = xtstore_multipart_list(g_svc, t->c, prefix, uplist_fn, l, ERR(t));
  EXPECT_OK(t, rc, "multipart_list %s", when);
}

/* Uploads begun and not finished are listed (key and id as begun; with a
 * prefix, only theirs); aborted or completed ones are not. */
CONF_CASE(multipart_list_case)
{
  struct uplist l = {.t = t};
  char tok[STORE_ID_SIZE];
  const char *toks[1] = {tok};
  /* No '/' in the prefix: moto refuses a signed query holding %2F. */
  const char *ka = "mp-listed one.bin", *kb = "other-listed.bin";
  int rc;

  rc = xtstore_multipart_list(g_svc, t->c, NULL, uplist_fn, &l, ERR(t));
  if (rc == STORE_E_UNSUPPORTED)
    conf_skip(t, "the provider cannot list uploads (multipart_list NULL)");
  EXPECT_OK(t, rc, "multipart_list of a container without uploads");
  CHECK(t, l.calls == 0, "multipart_list of a new container reported %d "
        "uploads", l.calls);
  l.key[0] = ka;
  l.key[1] = kb;
  l.id[0] = begin_upload(t, ka, NULL);
  l.id[1] = begin_upload(t, kb, NULL);
  /* A part each: a store may keep nothing of an upload before its first
   * part (GCS), and then has nothing to list. */
  rc = upload_part(t, ka, l.id[0], 1, 61, 0, 1000, tok);
  EXPECT_OK(t, rc, "upload part 1 of '%s'", ka);
  rc = upload_part(t, kb, l.id[1], 1, 62, 0, 1000, tok);
  EXPECT_OK(t, rc, "upload part 1 of '%s'", kb);
  uplist_run(t, &l, NULL, "after two begins");
  CHECK(t, l.seen[0] == 1 && l.seen[1] == 1 && l.others == 0,
        "multipart_list after two begins: saw '%s' %d times, '%s' %d times, "
        "%d others (expected 1, 1, 0)", ka, l.seen[0], kb, l.seen[1],
        l.others);
  uplist_run(t, &l, "mp-", "with prefix 'mp-'");
  CHECK(t, l.seen[0] == 1 && l.seen[1] == 0 && l.others == 0,
        "multipart_list with prefix 'mp-': saw '%s' %d times, '%s' %d "
        "times, %d others (expected 1, 0, 0)", ka, l.seen[0], kb, l.seen[1],
        l.others);
  l.stop_after = 1;
  l.calls = 0;
  rc = xtstore_multipart_list(g_svc, t->c, NULL, uplist_fn, &l, ERR(t));
  CHECK(t, rc != STORE_OK && l.calls == 1, "multipart_list whose callback "
        "stops after 1: %s after %d calls", code_name(rc), l.calls);
  l.stop_after = 0;

  rc = xtstore_multipart_abort(g_svc, t->c, ka, l.id[0], ERR(t));
  EXPECT_OK(t, rc, "multipart_abort");
  uplist_run(t, &l, NULL, "after an abort");
  CHECK(t, l.seen[0] == 0 && l.seen[1] == 1 && l.others == 0,
        "multipart_list after aborting '%s': saw it %d times, '%s' %d "
        "times, %d others (expected 0, 1, 0)", ka, l.seen[0], kb, l.seen[1],
        l.others);
  rc = xtstore_multipart_complete(g_svc, t->c, kb, l.id[1], NULL, toks, 1,
                                  NULL, ERR(t));
  EXPECT_OK(t, rc, "multipart_complete");
  uplist_run(t, &l, NULL, "after the abort and the complete");
  CHECK(t, l.calls == 0, "multipart_list after the abort and the complete "
        "reported %d uploads", l.calls);
  rc = xtstore_multipart_list(g_svc, "xtstore-conf-no-such-container", NULL,
                              uplist_fn, &l, ERR(t));
  EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "multipart_list of a missing "
            "container");
}

CONF_CASE(multipart_bad_token)
{
  const char *k = "mp/bad-token.bin";
  const char *uid = begin_upload(t, k, NULL);
  char tok[STORE_ID_SIZE];
  int rc = upload_part(t, k, uid, 1, 61, 0, 1000, tok);
  EXPECT_OK(t, rc, "upload part 1");
  const char *bad[1] = {"xtstore-conformance-bogus-token"};
  rc = xtstore_multipart_complete(g_svc, t->c, k, uid, NULL, bad, 1, NULL,
                                  ERR(t));
  CHECK(t, rc == STORE_E_INVALID || rc == STORE_E_PRECONDITION ||
               rc == STORE_E_NOT_FOUND,
        "multipart_complete with a wrong part token: expected "
        "STORE_E_INVALID, STORE_E_PRECONDITION or STORE_E_NOT_FOUND, got %s "
        "(%s)", code_name(rc), t->err.message);
  expect_missing(t, t->c, k, "after a failed multipart_complete");

  const char *two[2] = {tok, tok};
  rc = xtstore_multipart_complete(g_svc, t->c, k, uid, NULL, two, 2, NULL,
                                  ERR(t));
  CHECK(t, rc != STORE_OK, "multipart_complete naming part 2, which was "
                           "never uploaded, succeeded");
  expect_missing(t, t->c, k, "after a failed multipart_complete");

  rc = xtstore_multipart_abort(g_svc, t->c, k, uid, ERR(t));
  CHECK(t, rc == STORE_OK || rc == STORE_E_NOT_FOUND,
        "multipart_abort after failed completes: %s (%s)", code_name(rc),
        t->err.message);
  expect_keys(t, t->c, NULL, 0, "listing after abort");
}

/* Fail-if-exists holds for multipart uploads too: begin's options, given
 * again to complete, carry the condition to the commit. Refusing already
 * at begin is also right. */
CONF_CASE(multipart_if_none_match)
{
  const char *k = "mp/exists.bin";
  store_put_opts po;
  char tok[STORE_ID_SIZE], id[STORE_ID_SIZE];
  int rc = put_str(t, t->c, k, "original");
  EXPECT_OK(t, rc, "put '%s'", k);
  memset(&po, 0, sizeof po);
  po.struct_size = sizeof po;
  po.content_length = -1;
  po.flags = STORE_PUT_IF_NONE_MATCH;
  rc = xtstore_multipart_begin(g_svc, t->c, k, &po, id, sizeof id, ERR(t));
  if (rc == STORE_OK) {
    rc = upload_part(t, k, id, 1, 71, 0, 1000, tok);
    EXPECT_OK(t, rc, "upload part 1");
    const char *toks[1] = {tok};
    rc = xtstore_multipart_complete(g_svc, t->c, k, id, &po, toks, 1, NULL,
                                    ERR(t));
    if (rc != STORE_OK)
      (void)xtstore_multipart_abort(g_svc, t->c, k, id, NULL);
  }
  CHECK(t, rc == STORE_E_EXISTS,
        "multipart upload with STORE_PUT_IF_NONE_MATCH over an existing "
        "blob: expected STORE_E_EXISTS at begin or complete, got %s (%s)",
        code_name(rc), t->err.message);
  expect_body(t, t->c, k, "original", 8, "blob after a refused conditional "
                                         "multipart upload");
}

/* ------------------------------------------------------------------------ */
/* large streaming                                                          */
/* ------------------------------------------------------------------------ */
#if defined(__SANITIZE_ADDRESS__)
#define CONF_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define CONF_SANITIZED 1
#endif
#endif
#ifndef CONF_SANITIZED
#define CONF_SANITIZED 0
#endif

static long vm_hwm_kib(void)
{
  FILE *f = fopen("/proc/self/status", "r");
  if (!f)
    return -1;
  char line[256];
  long kib = -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "VmHWM:", 6) == 0) {
      kib = strtol(line + 6, NULL, 10);
      break;
    }
  fclose(f);
  return kib;
}

static void reset_hwm(void)
{
  FILE *f = fopen("/proc/self/clear_refs", "w");
  if (f) {
    fputs("5", f);   /* reset the peak RSS to the current RSS */
    fclose(f);
  }
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

CONF_CASE(large_streaming)
{
  const char *k = "large/stream.bin";
  const uint64_t seed = 71;
  uint64_t n = g_large_mib * 1024 * 1024;
  long limit_mib = CONF_SANITIZED ? 160 : 64;
  const char *env = getenv("XTSTORE_CONF_RSS_LIMIT_MIB");
  if (env && *env)
    limit_mib = strtol(env, NULL, 10);   /* 0: do not check the bound */

  gencheck *g = talloc(t, sizeof *g);  /* allocated before the baseline */
  gensrc src;
  gensrc_init(&src, seed, 0, n);
  reset_hwm();
  long before = vm_hwm_kib();

  store_put_opts po;
  memset(&po, 0, sizeof po);
  po.struct_size = sizeof po;
  po.content_length = (int64_t)n;
  store_put_result pr;
  memset(&pr, 0, sizeof pr);
  pr.struct_size = sizeof pr;
  double t0 = now_s();
  int rc = xtstore_blob_put(g_svc, t->c, k, &po, gensrc_read, &src,
                            gensrc_rewind, &pr, ERR(t));
  double t1 = now_s();
  long after_put = vm_hwm_kib();
  EXPECT_OK(t, rc, "put %llu MiB from a generating callback",
            (unsigned long long)g_large_mib);
  CHECK(t, src.pos == n, "put read %llu bytes from the source, expected %llu",
        (unsigned long long)src.pos, (unsigned long long)n);
  CHECK(t, pr.size == n, "put result size %llu, expected %llu",
        (unsigned long long)pr.size, (unsigned long long)n);

  centry h;
  rc = head_entry(t, t->c, k, NULL, &h);
  EXPECT_OK(t, rc, "head '%s'", k);
  CHECK(t, h.size == n, "head size %llu, expected %llu",
        (unsigned long long)h.size, (unsigned long long)n);

  gencheck_init(g, seed);
  double t2 = now_s();
  rc = xtstore_blob_get(g_svc, t->c, k, NULL, gencheck_write, g, ERR(t));
  double t3 = now_s();
  long after = vm_hwm_kib();
  EXPECT_OK(t, rc, "get %llu MiB into a hashing sink",
            (unsigned long long)g_large_mib);
  CHECK(t, g->pos == n, "get delivered %llu bytes, expected %llu",
        (unsigned long long)g->pos, (unsigned long long)n);
  CHECK(t, g->mismatch_at == UINT64_MAX,
        "get: bytes differ from what was put, first at offset %llu",
        (unsigned long long)g->mismatch_at);
  CHECK(t, g->fnv == src.fnv, "FNV-1a of the get %016llx != of the put "
                              "%016llx", (unsigned long long)g->fnv,
        (unsigned long long)src.fnv);

  conf_note(t, "%llu MiB: put %.2f s, get %.2f s; %zu put reads, %zu get "
               "chunks (largest %zu B); VmHWM %ld -> %ld (after put) -> %ld "
               "KiB, growth %ld KiB, bound %ld MiB%s",
            (unsigned long long)g_large_mib, t1 - t0, t3 - t2, src.calls,
            g->calls, g->max_chunk, before, after_put, after, after - before,
            limit_mib, CONF_SANITIZED ? " (sanitizer build)" : "");
  if (before < 0 || after < 0) {
    conf_note(t, "no VmHWM in /proc/self/status: memory bound not checked");
  } else if (limit_mib > 0) {
    CHECK(t, after - before < limit_mib * 1024,
          "peak memory grew by %ld KiB during a %llu MiB put+get; the bound "
          "is %ld MiB (bodies must be streamed, not buffered)",
          after - before, (unsigned long long)g_large_mib, limit_mib);
  }
  rc = xtstore_blob_delete(g_svc, t->c, k, NULL, ERR(t));
  EXPECT_OK(t, rc, "delete '%s'", k);
}

/* ------------------------------------------------------------------------ */
/* concurrency                                                              */
/* ------------------------------------------------------------------------ */
enum { NTHREADS = 4, NITEMS = 20 };

typedef struct worker {
  const char *container;
  int id;
  int done;
  char failure[512];
} worker;

static void *worker_main(void *arg)
{
  worker *w = arg;
  unsigned char body[4096];
  for (int i = 0; i < NITEMS; i++) {
    char key[64];
    snprintf(key, sizeof key, "thr%d/item%02d", w->id, i);
    size_t n = 1000 + (size_t)i * 97 + (size_t)w->id;
    uint64_t seed = 1000 + (uint64_t)w->id * 100 + (uint64_t)i;
    gen_fill(seed, 0, body, n);
    store_error err;
    memset(&err, 0, sizeof err);
    err.struct_size = sizeof err;

    memsrc s;
    memsrc_init(&s, body, n);
    store_put_opts po;
    memset(&po, 0, sizeof po);
    po.struct_size = sizeof po;
    po.content_length = (int64_t)n;
    int rc = xtstore_blob_put(g_svc, w->container, key, &po, memsrc_read, &s,
                              memsrc_rewind, NULL, &err);
    if (rc != STORE_OK) {
      snprintf(w->failure, sizeof w->failure, "thread %d: put '%s': %s (%s)",
               w->id, key, code_name(rc), err.message);
      return NULL;
    }
    membuf b;
    memset(&b, 0, sizeof b);
    memset(&err, 0, sizeof err);
    err.struct_size = sizeof err;
    rc = xtstore_blob_get(g_svc, w->container, key, NULL, membuf_write, &b,
                          &err);
    size_t len = b.len;
    int same = len == n && memcmp(b.p, body, n) == 0;
    membuf_free(&b);
    if (rc != STORE_OK || !same) {
      snprintf(w->failure, sizeof w->failure,
               "thread %d: get '%s': %s (%s), %zu bytes (expected %zu)%s",
               w->id, key, code_name(rc), err.message, len, n,
               rc == STORE_OK ? ", content differs" : "");
      return NULL;
    }
    memset(&err, 0, sizeof err);
    err.struct_size = sizeof err;
    rc = xtstore_blob_delete(g_svc, w->container, key, NULL, &err);
    if (rc != STORE_OK) {
      snprintf(w->failure, sizeof w->failure,
               "thread %d: delete '%s': %s (%s)", w->id, key, code_name(rc),
               err.message);
      return NULL;
    }
    int ex = -1;
    memset(&err, 0, sizeof err);
    err.struct_size = sizeof err;
    rc = xtstore_blob_exists(g_svc, w->container, key, &ex, &err);
    if (rc != STORE_OK || ex != 0) {
      snprintf(w->failure, sizeof w->failure,
               "thread %d: exists '%s' after delete: %s, exists=%d", w->id,
               key, code_name(rc), ex);
      return NULL;
    }
    w->done++;
  }
  return NULL;
}

CONF_CASE(concurrency_threads)
{
  worker w[NTHREADS];
  pthread_t th[NTHREADS];
  for (int i = 0; i < NTHREADS; i++) {
    memset(&w[i], 0, sizeof w[i]);
    w[i].container = t->c;
    w[i].id = i;
    int e = pthread_create(&th[i], NULL, worker_main, &w[i]);
    CHECK(t, e == 0, "pthread_create: %s", strerror(e));
  }
  for (int i = 0; i < NTHREADS; i++)
    pthread_join(th[i], NULL);
  for (int i = 0; i < NTHREADS; i++)
    CHECK(t, w[i].failure[0] == 0 && w[i].done == NITEMS,
          "%d threads x %d put/get/delete: %s (thread %d finished %d)",
          NTHREADS, NITEMS, w[i].failure[0] ? w[i].failure : "incomplete", i,
          w[i].done);
  expect_keys(t, t->c, NULL, 0, "listing after the threads deleted all");
}
