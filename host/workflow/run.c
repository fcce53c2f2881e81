/*
** run.c -- the driver shared by copy -r, migrate and sync: list
** the source (and the target) on their own threads, merge the listings
** name by name, hand each object to copy to the --transfers worker pool,
** and report every object. What differs between the three is a
** st_wf_kind (copy -r below, migrate in runlog.c, sync in sync.c).
*/
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "workflow.h"

/* Streamed copies in flight share half the context's memory budget as
 * rings (each gets between ST_WF_RING_MIN and ST_PIPE_BYTES): the other
 * half is for their part buffers. */
#define ST_WF_RING_MIN    (1u << 20)
/* Workers per transfer: a throttled object sleeps out its Retry-After on
 * its worker without its slot (core/flow.c), and a spare worker starts
 * another object meanwhile: with 20% of requests throttled for a second,
 * keeping 4 slots busy takes dozens of sleepers. A sleeping upload or
 * download holds a descriptor; a sleeping copy between services holds its
 * ring, so those runs have fewer spares (the ring budget is shared by all
 * workers). At most ST_WF_WORKERS_MAX workers in all (or --transfers, if
 * more). */
#define ST_WF_SPARE       16u
#define ST_WF_SPARE_RING  4u
#define ST_WF_WORKERS_MAX 256u

/*
** What the pool's workers share: the run, and the filesystems its
** downloads (and sync's local deletions) changed, with a directory open on
** each, to sync each once at the end (sync_target): the target's, and any
** other a file landed on -- through a symlink at the target's name, or
** under a mount point inside the tree.
*/
typedef struct st_wf_fs {
  dev_t dev;
  int fd;
} st_wf_fs;

typedef struct st_wf_pool_ud {
  st_wf_run *r;
  pthread_mutex_t mu;       /* guards the rest                            */
  st_wf_fs *fs;
  size_t n, cap;
  int rc;                   /* the first that could not be opened         */
  store_error err;
} st_wf_pool_ud;

typedef struct st_wf_job {
  uint32_t status;          /* what to report when it succeeds            */
  int delete_it;
  int has_target;
  uint64_t target_size;
  st_wf_entry *entry;
} st_wf_job;

uint32_t xtstore_default_transfers(void)
{
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  long n = cpus > 0 ? 2 * cpus : 4;
  return (uint32_t)(n < 4 ? 4 : n > 16 ? 16 : n);
}

int64_t st_wf_now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void st_wf_fail(st_wf_run *r, int rc, const store_error *err)
{
  pthread_mutex_lock(&r->mu);
  if (!r->rc) {
    r->rc = rc;
    if (err)
      r->err = *err;
    else
      st_err(&r->err, rc, "%s", store_strerror(rc));
  }
  pthread_mutex_unlock(&r->mu);
}

void st_wf_finish(st_wf_run *r, st_wf_done *d)
{
  st_wf_report rep;
  char *src = d->deletion ? NULL : st_wf_end_display(&r->src, d->name);
  char *dst = st_wf_end_display(&r->dst, d->name);

  /* Out of memory costs the names in the report, not the report. */
  d->source = src;
  d->target = dst ? dst : d->name;
  memset(&rep, 0, sizeof(rep));
  rep.source = d->source;
  rep.target = d->target;
  rep.size = d->size;
  rep.status = d->status;
  rep.dry_run = (r->o.flags & XTSTORE_WF_DRY_RUN) != 0;
  rep.rc = d->rc;
  rep.err = d->err;
  st_progress_object(&r->prog, &rep);
  if (!rep.dry_run && r->kind->record)
    r->kind->record(r, d);
  free(src);
  free(dst);
}

/* The caller's clean stop (xtstore_wf_opts.stop). */
int st_wf_stop_asked(const st_wf_run *r)
{
  return r->o.stop && r->o.stop(r->o.stop_ud);
}

/* A clean stop is a failure of the run, "stopped", so that nothing that
 * needs a clean run (sync's deletions) follows and migrate's shard_end
 * says it is incomplete. Returns STORE_E_ABORTED. */
static int stopped(st_wf_run *r, store_error *err)
{
  store_error serr;

  st_err(&serr, STORE_E_ABORTED, "stopped");
  st_wf_fail(r, STORE_E_ABORTED, &serr);
  if (err)
    *err = serr;
  return STORE_E_ABORTED;
}

/* A descriptor on the filesystem of `path` (its real directory, else the
 * file itself: a file mounted over), which is dev (-1: errno set). */
static int open_on(const char *path, dev_t dev)
{
  char real[PATH_MAX];
  struct stat st;
  int fd = -1;

  if (realpath(path, real))
    fd = open(dirname(real), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0 && (fstat(fd, &st) != 0 || st.st_dev != dev)) {
    close(fd);
    fd = -1;
  }
  if (fd < 0)
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  return fd;
}

/* After `name` landed at (or was deleted from) the local target: note its
 * filesystem, once per filesystem. A file gone since is nobody's to sync. */
static void note_fs(st_wf_pool_ud *pu, const char *name, int deleted)
{
  char *path = st_wf_end_path(&pu->r->dst, name), *at;
  st_wf_fs *fs;
  struct stat st;
  size_t i;
  int fd, e;

  if (!path) {
    st_wf_fail(pu->r, STORE_E_NOMEM, NULL);
    return;
  }
  /* A deletion changed the directory the name was in. */
  at = deleted ? dirname(path) : path;
  if (stat(at, &st) != 0)
    goto out;
  pthread_mutex_lock(&pu->mu);
  for (i = 0; i < pu->n && pu->fs[i].dev != st.st_dev; i++)
    ;
  if (i < pu->n || pu->rc)
    goto unlock;
  fd = open_on(at, st.st_dev);
  e = errno;
  fs = pu->n < pu->cap ? pu->fs : realloc(pu->fs, (pu->cap * 2 + 4) *
                                                  sizeof(*fs));
  if (fd < 0 || !fs) {
    pu->rc = fd < 0 ? STORE_E_IO : STORE_E_NOMEM;
    if (fd < 0)
      st_err(&pu->err, STORE_E_IO, "local file '%s': cannot open it or its "
             "directory to sync its filesystem: %s", at, strerror(e));
    else
      st_err(&pu->err, STORE_E_NOMEM, "out of memory");
    if (fd >= 0)
      close(fd);
    goto unlock;
  }
  if (fs != pu->fs) {
    pu->fs = fs;
    pu->cap = pu->cap * 2 + 4;
  }
  pu->fs[pu->n].dev = st.st_dev;
  pu->fs[pu->n++].fd = fd;
unlock:
  pthread_mutex_unlock(&pu->mu);
out:
  free(path);
}

static void run_job(void *ud, void *p)
{
  st_wf_pool_ud *pu = ud;
  st_wf_run *r = pu->r;
  st_wf_job *j = p;
  store_error err;
  st_wf_done d;

  /* Queued but not started: skipped, not reported. */
  if (st_wf_stop_asked(r)) {
    stopped(r, NULL);
    free(j->entry);
    free(j);
    return;
  }
  st_err_reset(&err);
  memset(&d, 0, sizeof(d));
  d.name = j->entry->name;
  d.src_entry = j->entry;
  d.size = j->entry->size;
  d.has_target = j->has_target;
  d.target_size = j->target_size;
  d.deletion = j->delete_it;
  d.start_ns = st_wf_now_ns();
  d.rc = j->delete_it ? st_wf_delete_object(r, d.name, &err)
                      : st_wf_copy_object(r, d.name, d.size, &d.checked,
                                          &err);
  d.end_ns = st_wf_now_ns();
  if (!d.rc && !r->dst.svc && !(r->o.flags & XTSTORE_WF_DRY_RUN))
    note_fs(pu, d.name, j->delete_it);
  d.status = d.rc ? XTSTORE_OBJ_FAILED : j->status;
  d.err = &err;
  st_wf_finish(r, &d);
  if (d.rc)
    st_wf_fail(r, d.rc, &err);
  free(j->entry);
  free(j);
}

int st_wf_queue(st_wf_run *r, st_wf_entry *entry, uint32_t status,
                int has_target, uint64_t target_size, int delete_it,
                store_error *err)
{
  st_wf_job *j = malloc(sizeof(*j));
  if (!j) {
    free(entry);
    return st_err(err, STORE_E_NOMEM, "out of memory");
  }
  j->status = status;
  j->delete_it = delete_it;
  j->has_target = has_target;
  j->target_size = target_size;
  j->entry = entry;
  st_pool_push(&r->pool, j);
  return STORE_OK;
}

/* st_plan_fn: one name of the merged listings. */
static int plan(void *ud, st_wf_entry *s, st_wf_entry *d, store_error *err)
{
  st_wf_run *r = ud;
  int has_target = d != NULL;
  uint64_t target_size = d ? d->size : 0;
  uint32_t status;
  st_wf_done done;

  if (st_wf_stop_asked(r)) {
    free(s);
    free(d);
    return stopped(r, err);
  }
  if (s)
    r->listed++;
  /* Another shard's: both listings name it alike, so the shards split
   * the comparison, the copies and sync's deletions alike. */
  if (r->o.shard_count > 1 &&
      xtstore_shard_of(s ? s->name : d->name, r->o.shard_count) !=
        r->o.shard_index) {
    free(s);
    free(d);
    return STORE_OK;
  }
  if (!s) {
    if (r->kind->extra)
      return r->kind->extra(r, d, err);
    free(d);
    return STORE_OK;
  }
  status = r->kind->compare
             ? st_plan_classify(s, d, (r->o.flags & XTSTORE_WF_CHECKSUM) != 0)
             : XTSTORE_OBJ_COPIED;
  free(d);
  st_progress_plan(&r->prog, 1, status == XTSTORE_OBJ_EQUAL ? 0 : s->size);
  if (status != XTSTORE_OBJ_EQUAL && !(r->o.flags & XTSTORE_WF_DRY_RUN))
    return st_wf_queue(r, s, status, has_target, target_size, 0, err);
  /* Nothing to do now: reported at once. */
  memset(&done, 0, sizeof(done));
  done.name = s->name;
  done.src_entry = s;
  done.size = s->size;
  done.has_target = has_target;
  done.target_size = target_size;
  done.status = status;
  done.start_ns = done.end_ns = st_wf_now_ns();
  st_wf_finish(r, &done);
  free(s);
  return STORE_OK;
}

void st_wf_opts_copy(xtstore_wf_opts *out, const xtstore_wf_opts *opts)
{
  memset(out, 0, sizeof(*out));
  if (opts)
    memcpy(out, opts, opts->struct_size < sizeof(*out) ? opts->struct_size
                                                       : sizeof(*out));
  out->struct_size = sizeof(*out);
  if (!out->transfers)
    out->transfers = xtstore_default_transfers();
}

/* Workers of r's pool of r->o.transfers slots. */
static unsigned workers(const st_wf_run *r)
{
  uint32_t transfers = r->o.transfers;
  unsigned per = r->src.svc && r->dst.svc ? ST_WF_SPARE_RING : ST_WF_SPARE;
  unsigned cap = transfers > ST_WF_WORKERS_MAX ? transfers
                                               : ST_WF_WORKERS_MAX;

  return transfers * per > cap ? cap : transfers * per;
}

/* The ring each copy in flight gets: every worker may hold one (a
 * sleeping copy keeps its ring). After the ends are known. */
static void size_rings(st_wf_run *r)
{
  size_t per = (size_t)(st_budget_total(&r->ctx->budget) / 2 / workers(r));
  r->ring_bytes = per < ST_WF_RING_MIN ? ST_WF_RING_MIN
                  : per > ST_PIPE_BYTES ? ST_PIPE_BYTES
                                        : per;
}

/* A source with no objects is far more often a wrong or empty prefix than
 * intent, and sync --delete would then empty the target: refused before
 * anything is copied or deleted, unless the caller allows it. */
static int refuse_empty(st_wf_run *r, store_error *err)
{
  char *src = st_wf_end_display(&r->src, r->src.stem);
  uint64_t extra = r->prog.stats.extra;
  int rc;

  if (!src)
    return st_err(err, STORE_E_NOMEM, "out of memory");
  if ((r->o.flags & XTSTORE_WF_DELETE) && extra)
    rc = st_err(err, STORE_E_NOT_FOUND,
                "nothing under '%s': no object would be copied, and all %llu "
                "objects at the target would be deleted",
                src, (unsigned long long)extra);
  else
    rc = st_err(err, STORE_E_NOT_FOUND,
                "nothing under '%s': no object would be copied", src);
  free(src);
  return rc;
}

/* List, merge and copy; after the copies, the kind's finish. Returns the
 * status of the listings and the merge (object failures are in r). */
/* Downloads into a local directory are written unsynced (object.c): one
 * syncfs of each filesystem they changed (note_fs; the target's first)
 * makes them, and sync's deletions, all durable before the run reports
 * success -- one flush per filesystem instead of one fsync per file. A
 * target nothing was written to may not exist. */
static int sync_target(st_wf_run *r, st_wf_pool_ud *pu, store_error *err)
{
  int fd = open(r->dst.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int rc = pu->rc;
  struct stat st;
  size_t i;

  if (rc)
    *err = pu->err;
  if (fd < 0 && errno != ENOENT && !rc)
    rc = st_err(err, STORE_E_IO, "local directory '%s': %s", r->dst.dir,
                strerror(errno));
  if (fd >= 0 && !rc && syncfs(fd) != 0)
    rc = st_err(err, STORE_E_IO, "local directory '%s': syncing its "
                "filesystem: %s", r->dst.dir, strerror(errno));
  if (fd < 0 || fstat(fd, &st) != 0)
    st.st_dev = (dev_t)-1;
  for (i = 0; i < pu->n && !rc; i++)
    if (pu->fs[i].dev != st.st_dev && syncfs(pu->fs[i].fd) != 0)
      rc = st_err(err, STORE_E_IO, "local directory '%s': syncing the "
                  "filesystem of a file under it: %s", r->dst.dir,
                  strerror(errno));
  if (fd >= 0)
    close(fd);
  return rc;
}

static void pool_ud_free(st_wf_pool_ud *pu)
{
  size_t i;

  for (i = 0; i < pu->n; i++)
    close(pu->fs[i].fd);
  free(pu->fs);
  pthread_mutex_destroy(&pu->mu);
}

static int list_and_copy(st_wf_run *r, store_error *err)
{
  st_lister ls, ld;
  st_wf_pool_ud pu;
  store_error ferr;
  int rc, frc;

  memset(&ls, 0, sizeof(ls));
  memset(&ld, 0, sizeof(ld));
  memset(&pu, 0, sizeof(pu));
  pu.r = r;
  pthread_mutex_init(&pu.mu, NULL);
  rc = st_pool_start_spare(&r->pool, r->o.transfers, workers(r), run_job, &pu,
                           err);
  if (!rc)
    rc = st_lister_start(&ls, r->ctx, &r->src, 0, err);
  if (!rc && r->kind->compare)
    rc = st_lister_start(&ld, r->ctx, &r->dst, 1, err);
  if (!rc)
    rc = st_plan_merge(r->ctx, &ls, r->kind->compare ? &ld : NULL, plan, r,
                       err);
  st_lister_stop(&ls);
  st_lister_stop(&ld);
  if (!rc)
    st_progress_event(&r->prog, XTSTORE_EV_LISTED);
  /* An empty shard of a source with objects is no mistake. */
  if (!rc && !r->listed && !(r->o.flags & XTSTORE_WF_ALLOW_EMPTY_SOURCE))
    rc = refuse_empty(r, err);
  if (r->pool.tids)
    st_pool_wait(&r->pool);
  /* A stop after the last copy still comes before sync's deletions. */
  if (!rc && !r->rc && r->kind->finish && (r->o.flags & XTSTORE_WF_DELETE) &&
      st_wf_stop_asked(r))
    stopped(r, NULL);
  /* Deleting after a failure could delete what a failed copy should have
   * replaced: sync's deletions need a clean run. */
  if (!rc && !r->rc && r->kind->finish)
    rc = r->kind->finish(r, err);
  st_pool_stop(&r->pool);
  /* After the last write and the last deletion (sync --delete); a clean
   * stop's copies are as durable as a finished run's. */
  if ((!rc || st_wf_stop_asked(r)) && !r->dst.svc &&
      !(r->o.flags & XTSTORE_WF_DRY_RUN)) {
    frc = sync_target(r, &pu, &ferr);
    /* Unsynced copies outrank the stop. */
    if (frc) {
      rc = frc;
      *err = ferr;
    }
  }
  pool_ud_free(&pu);
  return rc;
}

int st_wf_run_tree(xtstore_ctx *ctx, const st_wf_kind *kind,
                   const xtstore_tree *src, const xtstore_tree *dst,
                   const xtstore_wf_opts *opts, xtstore_wf_stats *stats,
                   store_error *err)
{
  st_wf_run r;
  store_error lerr;
  int rc, began = 0;

  memset(&r, 0, sizeof(r));
  st_err_reset(&lerr);
  st_err_reset(&r.err);
  r.ctx = ctx;
  r.kind = kind;
  pthread_mutex_init(&r.mu, NULL);
  st_wf_opts_copy(&r.o, opts);
  st_progress_init(&r.prog, r.o.progress, r.o.progress_ud);
  rc = st_wf_end_init(&r.src, src, NULL, &lerr);
  if (!rc)
    rc = st_wf_end_init(&r.dst, dst, r.src.stem, &lerr);
  if (!rc && !r.src.svc && !r.dst.svc)
    rc = st_err(&lerr, STORE_E_INVALID, "neither end is a service");
  size_rings(&r);
  if (!rc && kind->begin)
    rc = kind->begin(&r, &lerr);
  if (rc)
    goto out;
  began = 1;
  st_progress_event(&r.prog, XTSTORE_EV_START);
  rc = list_and_copy(&r, &lerr);

out:
  /* A listing's failure outranks the objects': it says the run is
   * incomplete. */
  if (rc) {
    r.rc = 0;
    st_wf_fail(&r, rc, &lerr);
  }
  if (began && kind->end) {
    rc = kind->end(&r, &lerr);
    /* Only the first failure is returned: a later one is logged. */
    if (rc && r.rc)
      st_log(ctx, STORE_LOG_ERROR, "%s", lerr.message);
    else if (rc)
      st_wf_fail(&r, rc, &lerr);
  }
  if (began)
    st_progress_event(&r.prog, XTSTORE_EV_DONE);
  st_progress_stats(&r.prog, stats);
  st_progress_destroy(&r.prog);
  st_wf_end_free(&r.src);
  st_wf_end_free(&r.dst);
  pthread_mutex_destroy(&r.mu);
  st_err_reset(err);
  if (r.rc && err)
    *err = r.err;
  return r.rc;
}

/* copy -r: every object, no comparison, no log. */
static const st_wf_kind copy_kind = {
  .compare = 0,
};

int xtstore_copy_tree(xtstore_ctx *ctx, const xtstore_tree *src,
                      const xtstore_tree *dst, const xtstore_wf_opts *opts,
                      xtstore_wf_stats *stats, store_error *err)
{
  return st_wf_run_tree(ctx, &copy_kind, src, dst, opts, stats, err);
}
