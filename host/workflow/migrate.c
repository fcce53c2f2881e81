/*
** workflow_migrate.c -- xtstore_migrate, the ADLS->OCI migrator done
** right: both ends listed completely (every page), each source object
** classified new, update or equal against the target's listing, what is
** not equal copied, and one run-log record per object -- with the
** object's own target name, and `failed` with its error. Re-running after
** an interruption copies only what is still missing or different.
*/
#include "workflow.h"

static int migrate_begin(st_wf_run *r, store_error *err)
{
  st_runlog *log = NULL;
  int rc = STORE_OK;
  /* A dry run writes nothing, the log included. */
  if (!(r->o.flags & XTSTORE_WF_DRY_RUN))
    rc = st_runlog_open(r->ctx, &r->o, &log, err);
  r->state = log;
  return rc;
}

static void migrate_record(st_wf_run *r, const st_wf_done *d)
{
  if (r->state)
    st_runlog_record(r->state, d);
}

static int migrate_end(st_wf_run *r, store_error *err)
{
  int rc = st_runlog_close(r->state, err);
  r->state = NULL;
  return rc;
}

static const st_wf_kind migrate_kind = {
  .compare = 1,
  .begin = migrate_begin,
  .record = migrate_record,
  .end = migrate_end,
};

int xtstore_migrate(xtstore_ctx *ctx, const xtstore_tree *src,
                    const xtstore_tree *dst, const xtstore_wf_opts *opts,
                    xtstore_wf_stats *stats, store_error *err)
{
  return st_wf_run_tree(ctx, &migrate_kind, src, dst, opts, stats, err);
}
