/*
** fanout.c -- xtstore_put_fanout, Sunbird's MultiCloud upload
** done right: one body to the same container/key of several services,
** reading the source once. The calling thread reads each chunk and writes
** it into one bounded ring per destination; each destination's put runs
** on its own thread and pulls from its ring -- through the engine
** (multipart.c) when it wants the put: in parts, read in order from the
** ring. A put that fails closes its ring as soon as it stops reading,
** which drops it from the tee; the others go on. Memory: one chunk plus
** one ring per destination (given back once the tee is done), and two
** part buffers for each that goes up in parts (whose ring is smaller),
** whatever the body's size, all from the context's memory budget: the
** chunk, the rings and each first part buffer in one take before the
** reading starts (the fan-out's minimum: holding its rings it must not
** wait for a part buffer), the second part buffers only while the budget
** has room.
**
** A file's fan-out (xtstore_put_fanout_file) is resumed across runs: each
** destination that goes up in parts journals its upload under the file's
** identity, as `put FILE` does (engine/multipart.c); the next run of the
** same unchanged file still reads it once and feeds every ring, and each
** destination skips the parts its journal has whose buffer's CRC-32C is
** the one recorded. A destination whose recorded upload is gone from the
** service starts over once the tee is done, reading the file again by
** offset for itself alone; several such start over at once, each shown in
** the progress as the tee is. Their bytes grow the totals, so a run that
** finds a journal says its totals are final (LISTED) only once the tee is
** done and the start overs are counted.
*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workflow.h"

#define ST_FAN_RING  (4u << 20)  /* per destination */
#define ST_FAN_CHUNK (1u << 20)  /* one read of the source */
/* A destination that goes up in parts: its part buffers hold what its put
 * has not sent yet, two so that one part goes up while the next is read
 * (every destination adds its own); its ring then only passes chunks. */
#define ST_FAN_PART_BUFFERS 2u
#define ST_FAN_PART_RING    (1u << 20)

struct fanout;

struct fan_dst {
  struct fanout *f;         /* its threads write only its progress (locked) */
  const char *service;      /* borrowed: the caller's or the config's     */
  xtstore_svc *svc;
  st_ring ring;
  pthread_t tid;
  int running;              /* its put thread was started                 */
  int fed;                  /* the reader still writes to its ring        */
  int parts;                /* its put goes through the engine, in parts  */
  int gone;                 /* its journal's upload was gone: start over */
  size_t ring_bytes;        /* its ring's size, of the budget             */
  uint64_t first;           /* its first part buffer's, of the budget,
                               until handed to the engine                 */
  const char *container, *key;
  const store_put_opts *po;
  int rc;
  store_error err;
  store_put_result res;
};

struct fanout {
  xtstore_ctx *ctx;
  struct fan_dst *d;
  size_t n;
  uint64_t held;            /* of the budget: the chunk and the rings     */
  st_progress prog;
  int dry_run;
  int fd;                   /* a file's fan-out: the file; else -1        */
  int64_t start;            /* where its body starts                      */
  int has_id;               /* id is the file's: the puts are journaled   */
  st_mp_ident id;
  uint64_t read;            /* bytes the tee read                         */
  uint32_t crc;             /* CRC-32C of what the tee read ...           */
  int crc_whole;            /* ... which is the whole body: it read to EOF */
  int unlisted;             /* LISTED (totals final) not sent yet: a start
                               over may still add to the totals           */
};

/* st_mp_src.read of a destination: its ring. */
static int32_t dst_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  struct fan_dst *d = ud;
  return st_ring_read(&d->ring, buf, cap, out_n);
}

/* st_mp_src.changed of a file's fan-out. */
static int dst_changed(void *ud, store_error *err)
{
  const struct fan_dst *d = ud;
  return st_mp_ident_fd_changed(d->f->fd, d->f->start, &d->f->id, err);
}

/* st_mp_src.read_done of a destination: its put reads no more (it has
 * every byte, or failed). Its ring is closed now, which drops it from the
 * tee, rather than once st_mp_put returns: a failed upload's cleanup (its
 * parts in flight, an abort, retried: round trips) comes after its last
 * read, and the tee -- every other destination -- must not wait for it. */
static void dst_read_done(void *ud)
{
  struct fan_dst *d = ud;
  st_ring_close(&d->ring);
}

static void *put_main(void *arg)
{
  struct fan_dst *d = arg;
  st_mp_src ms;

  if (d->parts) {
    memset(&ms, 0, sizeof(ms));
    ms.length = d->po ? d->po->content_length : -1;
    ms.read = dst_read;
    ms.read_done = dst_read_done;
    ms.ud = d;
    ms.buffers = ST_FAN_PART_BUFFERS;
    ms.reserved = d->first;
    if (d->f->has_id && ms.length >= 0) {
      ms.ident = &d->f->id;
      ms.changed = dst_changed;
      ms.gone = &d->gone;
    }
    d->first = 0;     /* st_mp_put gives it back */
    d->rc = st_mp_put(d->svc, d->container, d->key, d->po, &ms, &d->res,
                      &d->err);
  } else {
    d->rc = xtstore_blob_put(d->svc, d->container, d->key, d->po,
                             st_ring_read, &d->ring, NULL, &d->res, &d->err);
  }
  /* From now on the reader's writes to this ring fail: it is dropped
   * (a put in parts dropped it already, when it stopped reading). */
  st_ring_close(&d->ring);
  return NULL;
}

/* Add `name` unless it is there already: one service twice would run two
 * puts on one handle, which a provider that is not thread-safe serialises
 * while the reader waits for both -- a deadlock. */
static void add_name(struct fanout *f, const char *name)
{
  size_t i;
  for (i = 0; i < f->n; i++)
    if (strcmp(f->d[i].service, name) == 0)
      return;
  f->d[f->n++].service = name;
}

/* The destinations: the names given, or every storage service. */
static int collect(struct fanout *f, const char *const *services, size_t n,
                   store_error *err)
{
  const st_config *cfg = f->ctx->cfg;
  size_t i, total = services ? n : st_config_service_count(cfg);

  f->d = calloc(total ? total : 1, sizeof(*f->d));
  if (!f->d)
    return st_err(err, STORE_E_NOMEM, "out of memory");
  for (i = 0; i < total; i++) {
    const st_service_cfg *sc = services ? NULL : st_config_service_at(cfg, i);
    if (services)
      add_name(f, services[i]);
    else if (sc->type && strcmp(sc->type, "storage") == 0)
      add_name(f, sc->name);
  }
  for (i = 0; i < f->n; i++)
    f->d[i].f = f;
  if (f->n == 0)
    return st_err(err, STORE_E_INVALID, "no storage service to upload to");
  return STORE_OK;
}

/* Take the fan-out's minimum from the budget in one take: the chunk,
 * every ring and every first part buffer (see the top). A cancelled wait
 * fails every destination. */
static void reserve(struct fanout *f)
{
  store_error err;
  uint64_t want = ST_FAN_CHUNK;
  size_t i;
  int rc;

  for (i = 0; i < f->n; i++)
    if (!f->d[i].rc)
      want += f->d[i].ring_bytes + f->d[i].first;
  st_err_reset(&err);
  rc = st_budget_take(&f->ctx->budget, want, &err);
  for (i = 0; i < f->n; i++) {
    struct fan_dst *d = &f->d[i];
    if (d->rc)
      continue;
    if (rc) {
      d->rc = rc;
      d->err = err;
      d->first = 0;
      continue;
    }
    f->held += d->ring_bytes;
    d->rc = st_ring_init(&d->ring, d->ring_bytes, &d->err);
  }
  if (!rc)
    f->held += ST_FAN_CHUNK;
}

/* Open every destination and size its ring; a failure is that one's. */
static void open_all(struct fanout *f, const char *container, const char *key,
                     const store_put_opts *po)
{
  size_t i;
  for (i = 0; i < f->n; i++) {
    struct fan_dst *d = &f->d[i];
    st_err_reset(&d->err);
    d->container = container;
    d->key = key;
    d->po = po;
    d->res.struct_size = sizeof(d->res);
    d->rc = xtstore_service_open(f->ctx, d->service, &d->svc, &d->err);
    if (!d->rc)
      d->rc = st_check_key(d->svc, container, key, &d->err);
    if (d->rc || f->dry_run)
      continue;
    d->parts = st_mp_wanted(d->svc, po ? po->content_length : -1);
    d->ring_bytes = d->parts ? ST_FAN_PART_RING : ST_FAN_RING;
    d->first = d->parts ? st_mp_part_size(d->svc, po ? po->content_length
                                                     : -1)
                        : 0;
  }
  if (!f->dry_run)
    reserve(f);
}

/* Read the source once into every ring still fed. Returns non-zero when
 * the source failed (or the run was cancelled). */
static int tee(struct fanout *f, store_read_fn src, void *src_ud,
               store_error *err)
{
  char *buf = malloc(ST_FAN_CHUNK);
  size_t i, got, fed = 0;
  int rc = STORE_OK;

  for (i = 0; i < f->n; i++)
    fed += f->d[i].fed;
  if (!buf)
    rc = st_err(err, STORE_E_NOMEM, "out of memory");
  while (!rc && fed > 0) {
    got = 0;
    if (st_cancelled(f->ctx))
      rc = st_err(err, STORE_E_ABORTED, "cancelled");
    else if (src(src_ud, buf, ST_FAN_CHUNK, &got) != 0)
      rc = st_err(err, STORE_E_ABORTED, "reading the source stopped");
    if (rc || got == 0) {
      f->crc_whole = !rc;
      break;
    }
    f->crc = st_crc32c(f->crc, buf, got);
    f->read += got;
    for (i = 0; i < f->n; i++)
      if (f->d[i].fed && st_ring_write(&f->d[i].ring, buf, got) != 0) {
        f->d[i].fed = 0;
        fed--;
      }
    st_progress_bytes(&f->prog, got);
  }
  free(buf);
  return rc;
}

/* Run the puts: start them, feed them, wait for them. Non-zero when the
 * source failed. */
static int upload_all(struct fanout *f, store_read_fn src, void *src_ud)
{
  store_error rerr;
  size_t i;
  int rrc;

  for (i = 0; i < f->n; i++) {
    struct fan_dst *d = &f->d[i];
    if (d->rc)
      continue;
    if (pthread_create(&d->tid, NULL, put_main, d) != 0) {
      d->rc = st_err(&d->err, STORE_E_NOMEM, "cannot start an upload thread");
      continue;
    }
    d->running = d->fed = 1;
  }
  st_err_reset(&rerr);
  rrc = tee(f, src, src_ud, &rerr);
  for (i = 0; i < f->n; i++) {
    struct fan_dst *d = &f->d[i];
    if (!d->running)
      continue;
    /* A failed source fails every put still reading: no partial object
     * becomes visible. */
    st_ring_end(&d->ring, rrc != STORE_OK);
    pthread_join(d->tid, NULL);
    /* The put only saw its body stop (or its upload gone, which
     * restarts nothing now); the source is the cause. */
    if (rrc && (d->rc == STORE_OK || d->rc == STORE_E_ABORTED || d->gone)) {
      d->rc = rrc;
      d->err = rerr;
    }
  }
  return rrc;
}

/* One destination's start over, on its own thread: the file read again by
 * offset into its own engine upload, journaled anew, its bytes counted
 * into the fan-out's progress as the tee's are. */
static void *again_main(void *arg)
{
  struct fan_dst *d = arg;
  struct fanout *f = d->f;
  store_put_opts o;
  store_error e;

  st_err_reset(&d->err);
  st_err_reset(&e);
  /* The put below takes the file's identity afresh: a file changed since
   * the tee read it would go up as another version. */
  if (f->has_id && st_mp_ident_fd_changed(f->fd, f->start, &f->id, &e)) {
    d->rc = st_err(&d->err, STORE_E_IO, "service '%s': blob '%s/%s': "
                   "cannot start over: %s", d->service, d->container,
                   d->key, e.message);
    return NULL;
  }
  /* What the tee read is what the others stored: the file read again
   * must be it (a change in place keeps size, time and inode). */
  st_put_opts_copy(&o, d->po);
  o.struct_size = sizeof(o);
  if (f->crc_whole && !(o.checksums & STORE_CKSUM_CRC32C)) {
    o.checksums |= STORE_CKSUM_CRC32C;
    o.crc32c = f->crc;
  }
  memset(&d->res, 0, sizeof(d->res));
  d->res.struct_size = sizeof(d->res);
  d->rc = xtstore_blob_put_fd_progress(d->svc, d->container, d->key, &o,
                                       f->fd, st_progress_bytes, &f->prog,
                                       &d->res, &d->err);
  return NULL;
}

/* The destinations whose journal's upload was gone from the service
 * start over now, all at once, each on its own thread (one per such
 * destination, so as many as there are destinations at most), each its
 * own put of the file. They share fd but not an offset: the file is put
 * back at its body's start once, here, and each put takes that as its
 * start and reads by pread only (transfer.c: a file's put in parts -- and
 * these go in parts, as their first did: same service, same length --
 * reads its ranges by offset), so none moves the offset under another.
 * Their bytes join the progress: the totals grow by what they will send,
 * less what the tee did not read, so that done meets total. */
static void start_over(struct fanout *f)
{
  uint64_t len = 0, add;
  size_t i, gone = 0;

  /* The tee is over: its chunk and rings go back to the budget now, not
   * held through the start overs, which read into their own buffers. */
  for (i = 0; i < f->n; i++)
    st_ring_destroy(&f->d[i].ring);
  st_budget_give(&f->ctx->budget, f->held);
  f->held = 0;
  /* Gone is set only for a put of known length (put_main). */
  for (i = 0; i < f->n; i++)
    if (f->d[i].gone) {
      gone++;
      len = (uint64_t)f->d[i].po->content_length;
    }
  if (!gone)
    return;
  if (lseek(f->fd, f->start, SEEK_SET) < 0) {
    for (i = 0; i < f->n; i++)
      if (f->d[i].gone)
        f->d[i].rc = st_err(&f->d[i].err, STORE_E_IO, "service '%s': "
                            "blob '%s/%s': cannot read the file again: %s",
                            f->d[i].service, f->d[i].container,
                            f->d[i].key, strerror(errno));
    return;
  }
  add = (uint64_t)gone * len - (f->read < len ? len - f->read : 0);
  st_progress_plan(&f->prog, 0, add);
  /* The totals are final now (or again, if a journal came after
   * may_start_over looked), before any start over moves a byte. */
  st_progress_event(&f->prog, XTSTORE_EV_LISTED);
  f->unlisted = 0;
  for (i = 0; i < f->n; i++) {
    struct fan_dst *d = &f->d[i];
    if (!d->gone)
      continue;
    d->running = pthread_create(&d->tid, NULL, again_main, d) == 0;
    if (!d->running)
      again_main(d);        /* no thread: here, slower but the same */
  }
  for (i = 0; i < f->n; i++)
    if (f->d[i].gone && f->d[i].running)
      pthread_join(f->d[i].tid, NULL);
}

/* Whether a destination may start over (start_over): it has a journal,
 * whose upload may be gone. Until the tee is done the totals are then not
 * final (XTSTORE_EV_LISTED waits): a start over adds its bytes. */
static int may_start_over(struct fanout *f)
{
  size_t i;
  char *path;
  int found = 0;

  for (i = 0; i < f->n && !found; i++) {
    const struct fan_dst *d = &f->d[i];
    if (d->rc || !d->parts || !f->has_id || !d->po ||
        d->po->content_length < 0)
      continue;
    path = st_journal_path(d->svc->name, d->container, d->key);
    found = path && access(path, F_OK) == 0;
    free(path);
  }
  return found;
}

/* One OBJECT event per destination, and the first failure. */
static int report_all(struct fanout *f, const char *source_name,
                      const store_put_opts *po, store_error *err)
{
  st_wf_report rep;
  char *target;
  size_t i, len;
  int rc = STORE_OK;

  for (i = 0; i < f->n; i++) {
    struct fan_dst *d = &f->d[i];
    len = strlen(d->service) + strlen(d->container) + strlen(d->key) + 3;
    target = malloc(len);
    if (target)
      snprintf(target, len, "%s:%s/%s", d->service, d->container, d->key);
    memset(&rep, 0, sizeof(rep));
    rep.source = source_name;
    rep.target = target ? target : d->service;
    rep.size = d->res.size ? d->res.size
               : po && po->content_length > 0 ? (uint64_t)po->content_length
                                              : 0;
    rep.status = d->rc ? XTSTORE_OBJ_FAILED : XTSTORE_OBJ_COPIED;
    rep.dry_run = f->dry_run && !d->rc;
    rep.rc = d->rc;
    rep.err = &d->err;
    st_progress_object(&f->prog, &rep);
    free(target);
    if (d->rc && !rc) {
      rc = d->rc;
      if (err)
        *err = d->err;
    }
  }
  return rc;
}

int xtstore_put_fanout(xtstore_ctx *ctx, const char *const *services,
                       size_t n, const char *container, const char *key,
                       const store_put_opts *put_opts, store_read_fn src,
                       void *src_ud, const char *source_name,
                       const xtstore_wf_opts *opts, xtstore_wf_stats *stats,
                       store_error *err)
{
  return xtstore_put_fanout_file(ctx, services, n, container, key, put_opts,
                                 src, src_ud, -1, source_name, opts, stats,
                                 err);
}

int xtstore_put_fanout_file(xtstore_ctx *ctx, const char *const *services,
                            size_t n, const char *container, const char *key,
                            const store_put_opts *put_opts,
                            store_read_fn src, void *src_ud, int fd,
                            const char *source_name,
                            const xtstore_wf_opts *opts,
                            xtstore_wf_stats *stats, store_error *err)
{
  struct fanout f;
  xtstore_wf_opts o;
  size_t i;
  int rc;

  memset(&f, 0, sizeof(f));
  f.ctx = ctx;
  f.fd = fd;
  /* The file as it is before its first byte is read. */
  f.start = fd >= 0 ? lseek(fd, 0, SEEK_CUR) : -1;
  f.has_id = fd >= 0 && !st_mp_ident_fd(fd, f.start, &f.id);
  st_err_reset(err);
  st_wf_opts_copy(&o, opts);
  f.dry_run = (o.flags & XTSTORE_WF_DRY_RUN) != 0;
  st_progress_init(&f.prog, o.progress, o.progress_ud);
  rc = collect(&f, services, n, err);
  if (rc)
    goto out;
  open_all(&f, container ? container : "", key ? key : "", put_opts);
  st_progress_plan(&f.prog, f.n,
                   put_opts && put_opts->content_length > 0
                     ? (uint64_t)put_opts->content_length
                     : 0);
  st_progress_event(&f.prog, XTSTORE_EV_START);
  f.unlisted = !f.dry_run && may_start_over(&f);
  if (!f.unlisted)
    st_progress_event(&f.prog, XTSTORE_EV_LISTED);
  if (!f.dry_run) {
    if (!upload_all(&f, src, src_ud) && !st_cancelled(ctx))
      start_over(&f);
  }
  if (f.unlisted)
    st_progress_event(&f.prog, XTSTORE_EV_LISTED);
  rc = report_all(&f, source_name, put_opts, err);
  st_progress_event(&f.prog, XTSTORE_EV_DONE);

out:
  st_progress_stats(&f.prog, stats);
  st_progress_destroy(&f.prog);
  for (i = 0; i < f.n; i++) {
    st_ring_destroy(&f.d[i].ring);
    st_budget_give(&ctx->budget, f.d[i].first);
  }
  st_budget_give(&ctx->budget, f.held);
  free(f.d);
  return rc;
}
