/*
** sync.c -- xtstore_sync: migrate's comparison without the log,
** and with XTSTORE_WF_DELETE the deletion of target objects the source no
** longer has. Deletions wait until every copy has succeeded and both
** listings are complete, and none happens when more than max_delete
** would: so the names to delete are held, at most max_delete of them.
*/
#include <stdlib.h>
#include <string.h>

#include "workflow.h"

struct doomed {
  st_wf_entry **v;
  size_t n, cap;
  uint64_t found;           /* target objects the source lacks           */
};

static int sync_begin(st_wf_run *r, store_error *err)
{
  r->state = calloc(1, sizeof(struct doomed));
  return r->state ? STORE_OK : st_err(err, STORE_E_NOMEM, "out of memory");
}

static int sync_extra(st_wf_run *r, st_wf_entry *d, store_error *err)
{
  struct doomed *dm = r->state;
  st_wf_entry **nv;
  size_t cap;

  pthread_mutex_lock(&r->prog.mu);
  r->prog.stats.extra++;
  pthread_mutex_unlock(&r->prog.mu);
  dm->found++;
  /* Past the limit only the count matters: nothing will be deleted. */
  if (!(r->o.flags & XTSTORE_WF_DELETE) || dm->found > r->o.max_delete) {
    free(d);
    return STORE_OK;
  }
  if (dm->n == dm->cap) {
    cap = dm->cap ? dm->cap * 2 : 64;
    nv = realloc(dm->v, cap * sizeof(*nv));
    if (!nv) {
      free(d);
      return st_err(err, STORE_E_NOMEM, "out of memory");
    }
    dm->v = nv;
    dm->cap = cap;
  }
  dm->v[dm->n++] = d;
  return STORE_OK;
}

/* The target's deletions in batches (xtstore_blob_delete_many), each
 * name reported through st_wf_finish as a queued deletion is. */
struct batch_report {
  st_wf_run *r;
  struct doomed *dm;
  int64_t start_ns;
};

static int32_t deleted(void *ud, size_t index, int32_t code,
                       const store_error *kerr)
{
  struct batch_report *b = ud;
  const st_wf_entry *e = b->dm->v[index];
  st_wf_done done;

  memset(&done, 0, sizeof(done));
  done.name = e->name;
  done.size = done.target_size = e->size;
  done.has_target = 1;
  done.deletion = 1;
  done.start_ns = b->start_ns;
  done.end_ns = st_wf_now_ns();
  done.rc = code;
  done.err = kerr;
  done.status = code ? XTSTORE_OBJ_FAILED : XTSTORE_OBJ_DELETED;
  st_wf_finish(b->r, &done);
  if (code)
    st_wf_fail(b->r, code, kerr);
  /* Cancelled, or a clean stop: no further batch goes out. */
  return st_cancelled(b->r->ctx) || st_wf_stop_asked(b->r);
}

static int delete_batched(st_wf_run *r, struct doomed *dm, store_error *err)
{
  struct batch_report b = {r, dm, st_wf_now_ns()};
  char **paths = calloc(dm->n ? dm->n : 1, sizeof(*paths));
  size_t i;
  int rc = paths ? STORE_OK : st_err(err, STORE_E_NOMEM, "out of memory");

  for (i = 0; !rc && i < dm->n; i++)
    if (!(paths[i] = st_wf_end_path(&r->dst, dm->v[i]->name)))
      rc = st_err(err, STORE_E_NOMEM, "out of memory");
  if (!rc)
    rc = xtstore_blob_delete_many(r->dst.svc, r->dst.container,
                                  (const char *const *)paths, dm->n, deleted,
                                  &b, err);
  for (i = 0; paths && i < dm->n; i++)
    free(paths[i]);
  free(paths);
  return rc;
}

static int sync_finish(st_wf_run *r, store_error *err)
{
  struct doomed *dm = r->state;
  st_wf_done done;
  size_t i;
  int rc = STORE_OK;

  if (!(r->o.flags & XTSTORE_WF_DELETE) || dm->found == 0)
    return STORE_OK;
  if (dm->found > r->o.max_delete)
    return st_err(err, STORE_E_PRECONDITION,
                  "refusing to delete %llu objects the source lacks: more "
                  "than the limit of %llu (max-delete); nothing deleted",
                  (unsigned long long)dm->found,
                  (unsigned long long)r->o.max_delete);
  st_progress_plan(&r->prog, dm->n, 0);
  /* A service target: in as few requests as it allows. */
  if (r->dst.svc && !(r->o.flags & XTSTORE_WF_DRY_RUN))
    return delete_batched(r, dm, err);
  for (i = 0; i < dm->n && !rc; i++) {
    if (r->o.flags & XTSTORE_WF_DRY_RUN) {
      memset(&done, 0, sizeof(done));
      done.name = dm->v[i]->name;
      done.size = done.target_size = dm->v[i]->size;
      done.has_target = 1;
      done.status = XTSTORE_OBJ_DELETED;
      done.deletion = 1;
      st_wf_finish(r, &done);
      free(dm->v[i]);
    } else {
      rc = st_wf_queue(r, dm->v[i], XTSTORE_OBJ_DELETED, 1, dm->v[i]->size, 1,
                       err);
    }
    dm->v[i] = NULL;
  }
  return rc;
}

static int sync_end(st_wf_run *r, store_error *err)
{
  struct doomed *dm = r->state;
  size_t i;
  for (i = 0; i < dm->n; i++)
    free(dm->v[i]);
  free(dm->v);
  free(dm);
  r->state = NULL;
  return STORE_OK;
}

static const st_wf_kind sync_kind = {
  .compare = 1,
  .begin = sync_begin,
  .extra = sync_extra,
  .finish = sync_finish,
  .end = sync_end,
};

int xtstore_sync(xtstore_ctx *ctx, const xtstore_tree *src,
                 const xtstore_tree *dst, const xtstore_wf_opts *opts,
                 xtstore_wf_stats *stats, store_error *err)
{
  return st_wf_run_tree(ctx, &sync_kind, src, dst, opts, stats, err);
}
