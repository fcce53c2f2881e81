/*
** blob.c -- the blob operations of xtstore.h, and directory markers
** (recognised in listings, heads and gets; written by xtstore_dir_create).
** Bodies are wrapped so the host knows whether a failed request can be
** replayed: a put whose source was (partly) read is retried only after a
** successful rewind; a get that already delivered bytes resumes with a
** range request, pinned to the object's etag so two versions are never
** stitched together.
*/
#include <inttypes.h>
#include <stddef.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core.h"

/* The checks before most blob ops: the names are valid for the service,
 * which has capability cap (0: none needed). */
static int need_key_cap(xtstore_svc *svc, const char *container,
                        const char *key, uint64_t cap, store_error *err)
{
  int rc = st_check_key(svc, container, key, err);
  if (!rc && cap)
    rc = st_require_cap(svc, cap, err);
  return rc;
}

/* An empty result for the plugin to fill (put, multipart complete): the
 * library's own, of this header's size. */
static void reset_result(store_put_result *res)
{
  memset(res, 0, sizeof(*res));
  res->struct_size = sizeof(*res);
}

void st_put_result_give(store_put_result *out, const store_put_result *res)
{
  uint32_t cap;
  size_t n;

  if (!out || out == res)
    return;
  /* An embedder built against 1.0 may not have set struct_size: the 1.0
   * struct's fields are always there. Its struct_size stays its own. */
  cap = out->struct_size;
  n = cap < offsetof(store_put_result, checksums)
        ? offsetof(store_put_result, checksums)
        : cap > sizeof(*res) ? sizeof(*res) : cap;
  memcpy(out, res, n);
  out->struct_size = cap;
}

/* ------------------------------------------------------------------------ */
/* put                                                                      */
/* ------------------------------------------------------------------------ */
struct put_args {
  xtstore_svc *svc;
  const char *container, *key;
  const void *opts;             /* store_put_opts or store_append_opts */
  store_read_fn src;
  void *ud;
  xtstore_rewind_fn rewind;
  store_put_result *out;        /* the library's: see st_put_result_give */
  xtstore_ctx *ctx;
  int known;                    /* ST_KNOWN_*: where opts' CRC-32C is from */
  uint64_t consumed;
  uint32_t crc;                 /* CRC-32C of the bytes consumed */
  int eof;                      /* the body was read to its end */
  int last_rc;                  /* the last attempt's status */
  uint64_t furthest;            /* the most an attempt cut short read */
  int64_t length;               /* the body's, or -1: unknown          */
};

static int32_t put_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  struct put_args *a = ud;
  int32_t rc;
  *out_n = 0;
  if (st_cancelled(a->ctx))
    return 1;
  rc = a->src(a->ud, buf, cap, out_n);
  if (rc == 0) {
    a->consumed += *out_n;
    a->crc = st_crc32c(a->crc, buf, *out_n);
    a->eof |= *out_n == 0;
  }
  return rc;
}

/* st_replay_fn. An attempt cut short (no answer: the connection failed
 * or stalled) further into the body than any before it moved the put on:
 * progress, which does not use up an attempt. Measured in bytes read, so
 * a cut at the same point again, or a server's answer, counts as a
 * failure: an endless cut at one point still ends. An attempt that read
 * the whole body was not cut short in it (an answer that refused the
 * bytes comes as STORE_E_IO too). */
static int put_replay(void *p)
{
  struct put_args *a = p;
  int progress;
  if (a->consumed == 0)
    return ST_REPLAY_OK;
  progress = (a->last_rc == STORE_E_IO || a->last_rc == STORE_E_TIMEOUT) &&
             a->consumed > a->furthest && !a->eof &&
             (a->length < 0 || a->consumed < (uint64_t)a->length);
  if (!a->rewind || a->rewind(a->ud) != 0)
    return ST_REPLAY_NO;
  if (progress)
    a->furthest = a->consumed;
  a->consumed = 0;
  a->crc = 0;
  a->eof = 0;
  return progress ? ST_REPLAY_PROGRESS : ST_REPLAY_OK;
}

int32_t st_head_seen_fn(void *seen, const store_entry *e)
{
  st_head_seen *l = seen;
  l->seen = 1;
  l->size = e->size;
  l->has_crc = store_entry_crc32c(e, &l->crc);
  return 0;
}

/* A put whose answer was lost on the way back (the connection failed after
 * the whole body went) may have landed. When the store holds the object
 * with the size and the CRC-32C of what was sent, it is that put's bytes:
 * reported written, not sent again (nor failed). Not for conditional puts:
 * an object already there would look like ours. */
static int landed(xtstore_svc *s, struct put_args *a, int rc)
{
  const store_put_opts *o = a->opts;
  store_head_opts ho;
  st_head_seen l = {0, 0, 0, 0};
  store_error herr;

  if ((rc != STORE_E_IO && rc != STORE_E_TIMEOUT) || !a->eof ||
      (o->flags & STORE_PUT_IF_NONE_MATCH) || o->if_match)
    return 0;
  memset(&ho, 0, sizeof(ho));
  ho.struct_size = sizeof(ho);
  st_err_reset(&herr);
  if (s->ops->blob_head(s->h, a->container, a->key, &ho, st_head_seen_fn, &l,
                        &herr) != STORE_OK || !l.seen ||
      l.size != a->consumed || !l.has_crc || l.crc != a->crc)
    return 0;
  reset_result(a->out);
  a->out->size = l.size;
  a->out->checksums = STORE_CKSUM_CRC32C;
  a->out->crc32c = l.crc;
  st_log(s->ctx, STORE_LOG_INFO, "service '%s': blob '%s/%s': the answer to "
         "the put was lost, but the store holds the object with the size "
         "and CRC-32C sent: it is not sent again", s->name, a->container,
         a->key);
  return 1;
}

static int do_put(xtstore_svc *s, void *p, store_error *err)
{
  struct put_args *a = p;
  int rc;

  reset_result(a->out);
  rc = s->ops->blob_put(s->h, a->container, a->key, a->opts, put_read, a,
                        a->out, err);
  if (rc && landed(s, a, rc)) {
    st_err_reset(err);
    rc = STORE_OK;
  }
  a->last_rc = rc;
  return rc;
}

/* The put, then its checks (outside st_svc_call: removing a wrong object
 * is a call of its own). A put the store reports wrong is removed and,
 * from a rewindable body, sent again per the service's retry policy, like
 * a part (multipart.c). */
static int put_checked(struct put_args *a, store_error *err)
{
  xtstore_svc *svc = a->svc;
  const store_put_opts *o = a->opts;
  uint32_t tries;
  int rc;

  for (tries = 1;; tries++) {
    rc = st_svc_call(svc, do_put, put_replay, a, err);
    if (rc)
      return rc;
    rc = st_put_verify(svc, a->container, a->key, a->consumed,
                       o->content_length, o, a->out, err);
    if (!rc)
      rc = st_put_verify_cksum(svc, a->container, a->key, o, a->known,
                               a->crc, a->out, err);
    if (!rc || !a->rewind || !st_retry_should(&svc->retry, tries, err, 1) ||
        put_replay(a) == ST_REPLAY_NO || st_cancelled(svc->ctx))
      return rc;
    /* Like any put, the new attempt replaces whatever is there then, an
     * object another writer put (that the removal left alone) too. */
    st_log(svc->ctx, STORE_LOG_INFO, "%s; putting it again, over whatever "
           "is there now (attempt %u of %u)", err->message, tries + 1,
           svc->retry.attempts);
  }
}

int st_blob_put(xtstore_svc *svc, const char *container, const char *key,
                const store_put_opts *opts, int known, store_read_fn src,
                void *src_ud, xtstore_rewind_fn rewind,
                store_put_result *out, store_error *err)
{
  struct put_args a = {svc, container, key, NULL, src, src_ud, rewind, NULL,
                       svc->ctx, known, 0, 0, 0, 0, 0, -1};
  store_put_result res;
  store_put_opts o;
  store_error e;
  int rc = st_check_key(svc, container, key, err);
  if (rc)
    return rc;
  st_put_opts_copy(&o, opts);
  /* A CRC-32C not known before sending is computed while the body
   * streams: the plugin sends it after the body, if it can. */
  if (!(o.checksums & STORE_CKSUM_CRC32C))
    o.trailer_checksums |= STORE_CKSUM_CRC32C;
  a.opts = &o;
  a.length = o.content_length;
  if ((o.flags & STORE_PUT_IF_NONE_MATCH) || o.if_match) {
    rc = st_require_cap(svc, STORE_CAP_CONDITIONAL, err);
    if (rc)
      return rc;
  }
  a.out = &res;
  reset_result(&res);
  st_err_reset(&e);
  rc = put_checked(&a, &e);
  if (rc == STORE_OK)
    st_put_result_give(out, &res);
  else if (err)
    *err = e;
  return rc;
}

int xtstore_blob_put(xtstore_svc *svc, const char *container, const char *key,
                     const store_put_opts *opts, store_read_fn src,
                     void *src_ud, xtstore_rewind_fn rewind,
                     store_put_result *out, store_error *err)
{
  return st_blob_put(svc, container, key, opts, ST_KNOWN_GIVEN, src, src_ud,
                     rewind, out, err);
}

int st_put_verify(xtstore_svc *svc, const char *container, const char *key,
                  uint64_t sent, int64_t declared, const store_put_opts *opts,
                  store_put_result *out, store_error *err)
{
  char why[160];

  if (declared >= 0 && sent != (uint64_t)declared)
    snprintf(why, sizeof(why), "the provider took %" PRIu64 " bytes of the "
             "%" PRId64 "-byte body and reported the object written", sent,
             declared);
  else if (out->size && out->size != sent)
    snprintf(why, sizeof(why), "the provider reports %" PRIu64 " bytes "
             "stored for the %" PRIu64 " bytes sent", out->size, sent);
  else {
    out->size = sent;
    return STORE_OK;
  }
  /* Nothing stays visible as written that is not what was sent. */
  st_err(err, STORE_E_INTERNAL, "service '%s': blob '%s/%s': %s",
         svc->name, container, key, why);
  st_remove_wrong(svc, container, key, opts, out->etag, err);
  return STORE_E_INTERNAL;
}

int st_put_verify_cksum(xtstore_svc *svc, const char *container,
                        const char *key, const store_put_opts *opts,
                        int known, uint32_t crc, const store_put_result *out,
                        store_error *err)
{
  char why[200];
  int mismatch = st_cksum_mismatch(opts, known, crc, out, why, sizeof(why));

  if (!mismatch)
    return STORE_OK;
  st_err(err, STORE_E_IO, "service '%s': blob '%s/%s': %s", svc->name,
         container, key, why);
  /* Nothing stays visible as written that is not what was sent. */
  st_remove_wrong(svc, container, key, opts, out ? out->etag : NULL, err);
  if (err && st_cksum_retryable(mismatch, known))
    err->flags |= STORE_ERR_RETRYABLE;
  return STORE_E_IO;
}

void st_remove_wrong(xtstore_svc *svc, const char *container,
                     const char *key, const store_put_opts *opts,
                     const char *etag, store_error *err)
{
  store_delete_opts dopts;
  store_error derr;
  size_t used;
  int rc;

  /* Only the object that was found wrong goes: a delete pinned to its
   * ETag leaves alone one another writer put there since. */
  memset(&dopts, 0, sizeof(dopts));
  dopts.struct_size = sizeof(dopts);
  if (etag && etag[0] &&
      (svc->ops->capabilities & STORE_CAP_DELETE_IF_MATCH))
    dopts.if_match = etag;
  st_err_reset(&derr);
  rc = xtstore_blob_delete(svc, container, key, &dopts, &derr);
  if (!err)
    return;
  used = strlen(err->message);
  if (rc == STORE_E_PRECONDITION && dopts.if_match) {
    snprintf(err->message + used, sizeof(err->message) - used,
             "; the object was NOT removed: it changed since (ETag no "
             "longer %s), so it is another writer's", etag);
    return;
  }
  /* Whether the put replaced an object is not known without a head
   * before every put: only a put that could not replace one says less.
   * A store that keeps versions (a versioned bucket) still has the
   * replaced one: the delete only hides it. */
  snprintf(err->message + used, sizeof(err->message) - used,
           rc ? "; removing it failed too: %s"
           : opts && STORE_HAS_FIELD(store_put_opts, flags, opts->struct_size)
               && (opts->flags & STORE_PUT_IF_NONE_MATCH)
             ? "%s; the object was removed"
             : "%s; the object was removed (and any unversioned object "
               "it replaced is gone too)",
           rc ? derr.message : "");
}

/* ------------------------------------------------------------------------ */
/* get                                                                      */
/* ------------------------------------------------------------------------ */
struct get_args {
  const char *container, *key;
  store_get_opts opts;          /* adjusted for resumption */
  const store_get_opts *user;
  store_write_fn sink;
  void *ud;
  const xtstore_svc *svc;
  xtstore_ctx *ctx;
  uint64_t written;
  uint64_t replayed;            /* written when last replayed          */
  int whole;                    /* the caller asked for the whole blob */
  int64_t want_size;            /* its size from the entry; -1: none   */
  char want_md5[33];            /* its MD5 from the entry; "": none    */
  EVP_MD_CTX *md5;              /* of what was delivered, when known   */
  int has_crc;                  /* the entry reports a CRC-32C: want_crc */
  uint32_t want_crc, crc;       /* the blob's; of what was delivered   */
  int entry_sent;
  char etag[256];
  int can_range;
};

static int32_t get_entry(void *ud, const store_entry *e)
{
  struct get_args *a = ud;
  store_entry tmp;
  if (a->entry_sent)
    return 0;
  a->entry_sent = 1;
  if (e->etag)
    snprintf(a->etag, sizeof(a->etag), "%s", e->etag);
  /* What the whole blob must be: its size, and its CRC-32C where the
   * store keeps one (cheaper than an MD5), else its MD5 where it keeps
   * that (a marker or a prefix is no blob to check). */
  if (a->whole && !(e->flags & (STORE_ENTRY_PREFIX | STORE_ENTRY_DIR_MARKER))) {
    a->want_size = (int64_t)e->size;
    if (store_entry_crc32c(e, &a->want_crc))
      a->has_crc = 1;
    else if (e->content_md5 && strlen(e->content_md5) == 32 &&
        strspn(e->content_md5, "0123456789abcdef") == 32) {
      a->md5 = EVP_MD_CTX_new();
      if (!a->md5 || EVP_DigestInit_ex(a->md5, EVP_md5(), NULL) != 1)
        return 1;
      memcpy(a->want_md5, e->content_md5, 33);
    }
  }
  if (a->user && a->user->on_entry)
    return a->user->on_entry(a->user->on_entry_ctx,
                             st_entry_flag_dir_marker(a->svc, e, a->key,
                                                      &tmp));
  return 0;
}

static int32_t get_write(void *ud, const void *buf, size_t len)
{
  struct get_args *a = ud;
  int32_t rc;
  if (st_cancelled(a->ctx))
    return 1;
  rc = a->sink(a->ud, buf, len);
  if (rc == 0)
    a->written += len;
  if (rc == 0 && a->md5 && EVP_DigestUpdate(a->md5, buf, len) != 1)
    rc = 1;
  if (rc == 0 && a->has_crc)
    a->crc = st_crc32c(a->crc, buf, len);
  return rc;
}

static int get_replay(void *p)
{
  struct get_args *a = p;
  uint64_t off0 = 0, len0 = 0;
  int progress = a->written > a->replayed;
  /* Pinned to the version first seen, where the provider can: its size
   * and MD5 are what the bytes are checked against (a newer version fails
   * the condition). */
  if (!a->opts.if_match && a->etag[0] &&
      (a->svc->ops->capabilities & STORE_CAP_CONDITIONAL))
    a->opts.if_match = a->etag;
  if (a->written == 0)
    return ST_REPLAY_OK;
  if (!a->can_range)
    return ST_REPLAY_NO;
  a->replayed = a->written;
  if (a->user && (a->user->flags & STORE_GET_RANGE)) {
    off0 = a->user->offset;
    len0 = a->user->length;
  }
  a->opts.flags |= STORE_GET_RANGE;
  a->opts.offset = off0 + a->written;
  a->opts.length = len0 ? len0 - a->written : 0;
  if (len0 && a->written >= len0)
    return ST_REPLAY_NO;
  return progress ? ST_REPLAY_PROGRESS : ST_REPLAY_OK;
}

/* After a whole-blob get: the bytes delivered are as many as the blob has,
 * and hash to its CRC-32C or MD5 where the store keeps one. Nothing more
 * can be done about bytes the sink already took: the caller (st_get_file)
 * drops them. */
static int get_verify(struct get_args *a, store_error *err)
{
  if (a->want_size >= 0 && a->written != (uint64_t)a->want_size) {
    st_err(err, STORE_E_IO, "service '%s': blob '%s/%s': received %" PRIu64
           " of its %" PRId64 " bytes", a->svc->name, a->container, a->key,
           a->written, a->want_size);
    /* Another get may well be right: the caller decides. */
    if (err)
      err->flags |= STORE_ERR_RETRYABLE;
    return STORE_E_IO;
  }
  if (a->has_crc)
    return st_crc32c_verify(a->svc, a->container, a->key, a->crc,
                            a->want_crc, err);
  if (!a->md5)
    return STORE_OK;
  return st_md5_verify(a->svc, a->container, a->key, a->md5, a->want_md5,
                       err);
}

void st_put_opts_copy(store_put_opts *o, const store_put_opts *opts)
{
  memset(o, 0, sizeof(*o));
  if (opts)
    memcpy(o, opts, opts->struct_size < sizeof(*o) ? opts->struct_size
                                                   : sizeof(*o));
  else
    o->content_length = -1;
  o->struct_size = sizeof(*o);
}

int st_md5_verify(const xtstore_svc *svc, const char *container,
                  const char *key, EVP_MD_CTX *md, const char *want,
                  store_error *err)
{
  unsigned char sum[16];
  unsigned int n = 0;
  char got[33];
  int i, rc;

  if (EVP_DigestFinal_ex(md, sum, &n) != 1 || n != sizeof(sum))
    return st_err(err, STORE_E_NOMEM, "service '%s': blob '%s/%s': out of "
                  "memory", svc->name, container, key);
  for (i = 0; i < 16; i++)
    snprintf(got + 2 * i, 3, "%02x", sum[i]);
  if (!strcmp(got, want))
    return STORE_OK;
  rc = st_err(err, STORE_E_IO, "service '%s': blob '%s/%s': the bytes "
              "received differ from the blob (MD5 %s, the blob's %s): "
              "changed on the way, or the MD5 stored with the blob is "
              "wrong", svc->name, container, key, got, want);
  /* Another get may well be right: the caller decides. */
  if (err)
    err->flags |= STORE_ERR_RETRYABLE;
  return rc;
}

static int do_get(xtstore_svc *s, void *p, store_error *err)
{
  struct get_args *a = p;
  return s->ops->blob_get(s->h, a->container, a->key, &a->opts, get_write, a,
                          err);
}

int xtstore_blob_get(xtstore_svc *svc, const char *container, const char *key,
                     const store_get_opts *opts, store_write_fn sink,
                     void *sink_ud, store_error *err)
{
  struct get_args a;
  int rc = st_check_key(svc, container, key, err);
  if (rc)
    return rc;
  memset(&a, 0, sizeof(a));
  a.container = container;
  a.key = key;
  a.user = opts;
  a.sink = sink;
  a.ud = sink_ud;
  a.svc = svc;
  a.ctx = svc->ctx;
  a.can_range = (svc->ops->capabilities & STORE_CAP_RANGE_GET) != 0;
  if (opts) {
    size_t sz = opts->struct_size < sizeof(a.opts) ? opts->struct_size
                                                   : sizeof(a.opts);
    memcpy(&a.opts, opts, sz);
  }
  a.opts.struct_size = sizeof(a.opts);
  a.opts.on_entry = get_entry;
  a.opts.on_entry_ctx = &a;
  if ((a.opts.flags & STORE_GET_RANGE) && !a.can_range)
    return st_require_cap(svc, STORE_CAP_RANGE_GET, err);
  if (a.opts.snapshot_id) {
    rc = st_require_cap(svc, STORE_CAP_SNAPSHOT, err);
    if (rc)
      return rc;
  }
  a.whole = !(a.opts.flags & STORE_GET_RANGE);
  a.want_size = -1;
  rc = st_svc_call(svc, do_get, get_replay, &a, err);
  if (rc == STORE_E_PRECONDITION && a.opts.if_match == a.etag)
    /* Our pin, not the caller's condition: the object was replaced
     * between a cut and its resume. */
    rc = st_err(err, STORE_E_PRECONDITION, "service '%s': blob '%s/%s': "
                "replaced while it was read (it no longer has ETag %s): "
                "the bytes of two versions were not mixed; get it again",
                svc->name, container, key, a.etag);
  if (rc == STORE_OK)
    rc = get_verify(&a, err);
  EVP_MD_CTX_free(a.md5);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* head, exists, delete, list, set_metadata                                 */
/* ------------------------------------------------------------------------ */
struct entry_args {
  const xtstore_svc *svc;
  const char *container, *key;
  const void *opts;
  st_entry_guard g;  /* the caller's callback, as the plugin calls it */
  const store_kv *kv;
  size_t n;
  int maybe_done;    /* delete: an earlier attempt failed in a way that
                        may have deleted the blob (see do_delete) */
};

static int entry_replay(void *p)
{
  return ((struct entry_args *)p)->g.calls > 0;
}

/* Directory markers the provider does not flag itself are flagged here
 * (see "directory markers" below). */
static int32_t head_entry(void *ud, const store_entry *e)
{
  struct entry_args *a = ud;
  store_entry tmp;
  return st_entry_guard_fn(&a->g,
                           st_entry_flag_dir_marker(a->svc, e, a->key, &tmp));
}

static int do_head(xtstore_svc *s, void *p, store_error *err)
{
  struct entry_args *a = p;
  int rc = s->ops->blob_head(s->h, a->container, a->key, a->opts, head_entry,
                             a, err);
  return st_entry_guard_result(&a->g, s, rc, err);
}

int xtstore_blob_head(xtstore_svc *svc, const char *container, const char *key,
                      const store_head_opts *opts, store_entry_fn fn, void *ud,
                      store_error *err)
{
  struct entry_args a = {.svc = svc, .container = container, .key = key,
                         .opts = opts, .g = {.fn = fn, .ud = ud}};
  int rc = need_key_cap(svc, container, key,
                        opts && opts->snapshot_id ? STORE_CAP_SNAPSHOT : 0,
                        err);
  if (rc)
    return rc;
  return st_svc_call(svc, do_head, entry_replay, &a, err);
}

static int32_t ignore_entry(void *ud, const store_entry *e)
{
  (void)ud;
  (void)e;
  return 0;
}

int xtstore_blob_exists(xtstore_svc *svc, const char *container,
                        const char *key, int *out_exists, store_error *err)
{
  int rc;
  *out_exists = 0;
  rc = xtstore_blob_head(svc, container, key, NULL, ignore_entry, NULL, err);
  if (rc == STORE_E_NOT_FOUND) {
    st_err_reset(err);
    return STORE_OK;
  }
  if (rc == STORE_OK)
    *out_exists = 1;
  return rc;
}

/* A delete sent again after an attempt that failed in a way that may have
 * deleted the blob -- an answer lost, or a 500/502/504 (s3rver answers 500
 * after deleting) -- finds it gone: the earlier attempt deleted it. Not
 * after a throttling refusal (429, 503), where the server did nothing. */
static int do_delete(xtstore_svc *s, void *p, store_error *err)
{
  struct entry_args *a = p;
  int rc = s->ops->blob_delete(s->h, a->container, a->key, a->opts, err);

  if (rc == STORE_E_NOT_FOUND && a->maybe_done) {
    st_log(s->ctx, STORE_LOG_DEBUG, "service '%s': blob '%s/%s': gone when "
           "the delete was sent again: the earlier attempt deleted it",
           s->name, a->container, a->key);
    st_err_reset(err);
    return STORE_OK;
  }
  a->maybe_done = err && ((rc == STORE_E_IO && err->http_status == 0) ||
                          rc == STORE_E_TIMEOUT ||
                          err->http_status == 500 || err->http_status == 502 ||
                          err->http_status == 504);
  return rc;
}

int xtstore_blob_delete(xtstore_svc *svc, const char *container,
                        const char *key, const store_delete_opts *opts,
                        store_error *err)
{
  struct entry_args a = {.container = container, .key = key, .opts = opts};
  int rc = need_key_cap(svc, container, key,
                        opts && opts->snapshot_id ? STORE_CAP_SNAPSHOT : 0,
                        err);
  if (!rc && STORE_OPT(opts, store_delete_opts, if_match, NULL)) {
    rc = st_require_cap(svc, STORE_CAP_DELETE_IF_MATCH, err);
    if (!rc && opts->snapshot_id)
      rc = st_err(err, STORE_E_INVALID, "service '%s': blob '%s/%s': a "
                  "delete conditional on the ETag is of the blob, not of "
                  "snapshot '%s'", svc->name, container, key,
                  opts->snapshot_id);
  }
  if (rc)
    return rc;
  return st_svc_call(svc, do_delete, NULL, &a, err);
}

/* Listings never show directory markers: providers with
 * STORE_CAP_DIR_MARKERS hide them, the others' are dropped here. */
static int32_t list_entry(void *ud, const store_entry *e)
{
  struct entry_args *a = ud;
  if (!a->g.stopped && !(a->svc->ops->capabilities & STORE_CAP_DIR_MARKERS) &&
      st_entry_is_dir_marker(e, NULL))
    return 0;
  return st_entry_guard_fn(&a->g, e);
}

static int do_list(xtstore_svc *s, void *p, store_error *err)
{
  struct entry_args *a = p;
  int rc = s->ops->blob_list(s->h, a->container, a->opts, list_entry, a, err);
  return st_entry_guard_result(&a->g, s, rc, err);
}

int xtstore_blob_list(xtstore_svc *svc, const char *container,
                      const store_list_opts *opts, store_entry_fn fn, void *ud,
                      store_error *err)
{
  struct entry_args a = {.svc = svc, .container = container, .opts = opts,
                         .g = {.fn = fn, .ud = ud}};
  int rc = st_check_container(svc, container, err);
  if (!rc && opts && (opts->flags & STORE_LIST_SNAPSHOTS))
    rc = st_require_cap(svc, STORE_CAP_SNAPSHOT, err);
  if (rc)
    return rc;
  return st_svc_call(svc, do_list, entry_replay, &a, err);
}

static int do_set_meta(xtstore_svc *s, void *p, store_error *err)
{
  struct entry_args *a = p;
  return s->ops->blob_set_metadata(s->h, a->container, a->key, a->kv, a->n,
                                   err);
}

int xtstore_blob_set_metadata(xtstore_svc *svc, const char *container,
                              const char *key, const store_kv *metadata,
                              size_t n, store_error *err)
{
  struct entry_args a = {.container = container, .key = key, .kv = metadata,
                         .n = n};
  int rc = need_key_cap(svc, container, key, STORE_CAP_METADATA, err);
  if (rc)
    return rc;
  return st_svc_call(svc, do_set_meta, NULL, &a, err);
}

/* ------------------------------------------------------------------------ */
/* append, snapshot                                                         */
/* ------------------------------------------------------------------------ */
static int do_append(xtstore_svc *s, void *p, store_error *err)
{
  struct put_args *a = p;
  return s->ops->blob_append(s->h, a->container, a->key, a->opts, put_read, a,
                             err);
}

/* An append is not idempotent: replay only when nothing was read. */
static int append_replay(void *p)
{
  return ((struct put_args *)p)->consumed > 0;
}

int xtstore_blob_append(xtstore_svc *svc, const char *container,
                        const char *key, const store_append_opts *opts,
                        store_read_fn src, void *src_ud, store_error *err)
{
  struct put_args a = {svc, container, key, opts, src, src_ud, NULL, NULL,
                       svc->ctx, ST_KNOWN_GIVEN, 0, 0, 0, 0, 0, -1};
  store_append_opts def;
  int rc = need_key_cap(svc, container, key, STORE_CAP_APPEND, err);
  if (rc)
    return rc;
  if (!opts) {
    memset(&def, 0, sizeof(def));
    def.struct_size = sizeof(def);
    def.content_length = -1;
    a.opts = &def;
  }
  return st_svc_call(svc, do_append, append_replay, &a, err);
}

struct id_args {
  const char *container, *key, *upload_id;
  const store_put_opts *opts;
  char *out;
  size_t cap;
  uint32_t part_no;
  uint64_t length;
  const char *const *tokens;
  store_put_result *result;
  struct put_args body;
};

static int do_snapshot(xtstore_svc *s, void *p, store_error *err)
{
  struct id_args *a = p;
  return s->ops->blob_snapshot(s->h, a->container, a->key, a->out, a->cap, err);
}

int xtstore_blob_snapshot(xtstore_svc *svc, const char *container,
                          const char *key, char *out_id, size_t cap,
                          store_error *err)
{
  struct id_args a = {.container = container, .key = key, .out = out_id,
                      .cap = cap};
  int rc = need_key_cap(svc, container, key, STORE_CAP_SNAPSHOT, err);
  if (rc)
    return rc;
  if (cap)
    out_id[0] = '\0';
  return st_svc_call(svc, do_snapshot, NULL, &a, err);
}

/* ------------------------------------------------------------------------ */
/* multipart                                                                */
/* ------------------------------------------------------------------------ */
static int do_mp_begin(xtstore_svc *s, void *p, store_error *err)
{
  struct id_args *a = p;
  return s->ops->multipart_begin(s->h, a->container, a->key, a->opts, a->out,
                                 a->cap, err);
}

int xtstore_multipart_begin(xtstore_svc *svc, const char *container,
                            const char *key, const store_put_opts *opts,
                            char *out_id, size_t cap, store_error *err)
{
  struct id_args a = {.container = container, .key = key, .opts = opts,
                      .out = out_id, .cap = cap};
  int rc = need_key_cap(svc, container, key, STORE_CAP_MULTIPART, err);
  if (rc)
    return rc;
  if (cap)
    out_id[0] = '\0';
  return st_svc_call(svc, do_mp_begin, NULL, &a, err);
}

static int do_mp_part(xtstore_svc *s, void *p, store_error *err)
{
  struct id_args *a = p;
  return s->ops->multipart_part(s->h, a->container, a->key, a->upload_id,
                                a->part_no, a->length, put_read, &a->body,
                                a->out, a->cap, err);
}

static int part_replay(void *p)
{
  return ((struct id_args *)p)->body.consumed > 0;
}

int xtstore_multipart_part(xtstore_svc *svc, const char *container,
                           const char *key, const char *upload_id,
                           uint32_t part_no, uint64_t length, store_read_fn src,
                           void *src_ud, char *out_token, size_t cap,
                           store_error *err)
{
  struct id_args a = {.container = container, .key = key,
                      .upload_id = upload_id, .out = out_token, .cap = cap,
                      .part_no = part_no, .length = length};
  int rc = need_key_cap(svc, container, key, STORE_CAP_MULTIPART, err);
  if (rc)
    return rc;
  if (!upload_id || !upload_id[0] || part_no == 0)
    return st_err(err, STORE_E_INVALID,
                  "service '%s': blob '%s/%s': multipart part needs an upload "
                  "id and a part number >= 1",
                  svc->name, container, key);
  a.body.src = src;
  a.body.ud = src_ud;
  a.body.ctx = svc->ctx;
  if (cap)
    out_token[0] = '\0';
  return st_svc_call(svc, do_mp_part, part_replay, &a, err);
}

static int do_mp_complete(xtstore_svc *s, void *p, store_error *err)
{
  struct id_args *a = p;
  return s->ops->multipart_complete(s->h, a->container, a->key, a->upload_id,
                                    a->opts, a->tokens, a->part_no, a->result,
                                    err);
}

int xtstore_multipart_complete(xtstore_svc *svc, const char *container,
                               const char *key, const char *upload_id,
                               const store_put_opts *opts,
                               const char *const *tokens, uint32_t nparts,
                               store_put_result *out, store_error *err)
{
  struct id_args a = {.container = container, .key = key,
                      .upload_id = upload_id, .opts = opts, .tokens = tokens,
                      .part_no = nparts, .result = out};
  store_put_result res;
  int rc = need_key_cap(svc, container, key, STORE_CAP_MULTIPART, err);
  if (rc)
    return rc;
  reset_result(&res);
  a.result = &res;
  rc = st_svc_call(svc, do_mp_complete, NULL, &a, err);
  if (rc == STORE_OK)
    st_put_result_give(out, &res);
  return rc;
}

static int do_mp_abort(xtstore_svc *s, void *p, store_error *err)
{
  struct id_args *a = p;
  return s->ops->multipart_abort(s->h, a->container, a->key, a->upload_id, err);
}

int xtstore_multipart_abort(xtstore_svc *svc, const char *container,
                            const char *key, const char *upload_id,
                            store_error *err)
{
  struct id_args a = {.container = container, .key = key,
                      .upload_id = upload_id};
  int rc = need_key_cap(svc, container, key, STORE_CAP_MULTIPART, err);
  if (rc)
    return rc;
  return st_svc_call(svc, do_mp_abort, NULL, &a, err);
}

/* ------------------------------------------------------------------------ */
/* directory markers                                                        */
/* ------------------------------------------------------------------------ */
/*
** Directory markers: the cloud convention for a "directory"
** on a flat object store, a zero-length blob named "DIR/" with metadata
** hdi_isfolder=true (Azure's and ADLS's flag, which XT uses; S3 consoles
** write the same zero-length "DIR/" without it).
**
** Providers with STORE_CAP_DIR_MARKERS hide markers themselves. For the
** others the library recognises them here: listings drop them, and head
** and get flag them with STORE_ENTRY_DIR_MARKER so that nothing downstream
** (xtstore_blob_get_file, stat) mistakes one for an empty file.
*/

int st_entry_is_dir_marker(const store_entry *e, const char *key)
{
  const char *name = e->name ? e->name : key;
  size_t i, len = name ? strlen(name) : 0;

  if (e->flags & STORE_ENTRY_DIR_MARKER)
    return 1;
  /* A PREFIX entry ("dir/" of a delimiter listing) is no object at all. */
  if ((e->flags & STORE_ENTRY_PREFIX) || e->size != 0)
    return 0;
  if (len > 0 && name[len - 1] == '/')
    return 1;
  for (i = 0; e->metadata && i < e->nmetadata; i++)
    if (e->metadata[i].key && e->metadata[i].value &&
        strcasecmp(e->metadata[i].key, ST_MARKER_META) == 0 &&
        strcasecmp(e->metadata[i].value, "true") == 0)
      return 1;
  return 0;
}

const store_entry *st_entry_flag_dir_marker(const xtstore_svc *svc,
                                            const store_entry *e,
                                            const char *key,
                                            store_entry *tmp)
{
  size_t n;

  if ((svc->ops->capabilities & STORE_CAP_DIR_MARKERS) ||
      (e->flags & STORE_ENTRY_DIR_MARKER) || !st_entry_is_dir_marker(e, key))
    return e;
  /* Only the bytes the plugin's (possibly older, smaller) struct has. */
  n = e->struct_size < sizeof(*tmp) ? e->struct_size : sizeof(*tmp);
  memset(tmp, 0, sizeof(*tmp));
  memcpy(tmp, e, n);
  tmp->struct_size = (uint32_t)n;
  tmp->flags |= STORE_ENTRY_DIR_MARKER;
  return tmp;
}


/* The body of a marker: nothing, and replayable for retries. */
static int32_t st_empty_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  (void)ud;
  (void)buf;
  (void)cap;
  *out_n = 0;
  return 0;
}

static int32_t st_empty_rewind(void *ud)
{
  (void)ud;
  return 0;
}

int xtstore_dir_create(xtstore_svc *svc, const char *container,
                       const char *dir, store_error *err)
{
  static const store_kv meta[] = { { ST_MARKER_META, "true" } };
  size_t len = dir ? strlen(dir) : 0;
  store_put_opts po;
  char *key = NULL; /* owned: DIR with exactly one trailing '/' */
  int rc;

  while (len > 0 && dir[len - 1] == '/')
    len--;
  if (len == 0) {
    rc = st_err(err, STORE_E_INVALID,
                "service '%s': container '%s': no directory name given",
                svc->name, container ? container : "");
    goto out;
  }
  key = malloc(len + 2);
  if (!key) {
    rc = st_err(err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
  memcpy(key, dir, len);
  key[len] = '/';
  key[len + 1] = '\0';
  memset(&po, 0, sizeof(po));
  po.struct_size = sizeof(po);
  po.content_length = 0;
  /* The name alone marks it where a store keeps no metadata. */
  if (svc->ops->capabilities & STORE_CAP_METADATA) {
    po.metadata = meta;
    po.nmetadata = sizeof(meta) / sizeof(meta[0]);
  }
  rc = xtstore_blob_put(svc, container, key, &po, st_empty_read, NULL,
                        st_empty_rewind, NULL, err);
out:
  free(key);
  return rc;
}
