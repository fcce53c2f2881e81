/*
** test_watch_stop.c -- xtstore_wf_opts.stop through the library, for
** test_watch.sh (which compiles and runs it): a sharded xtstore_migrate
** asked to stop once its first object is reported ends with
** STORE_E_ABORTED "stopped", having reported fewer objects than the
** source has, each of them copied.
**   test_watch_stop CONFIG SRC_SVC DST_SVC CONTAINER SRC_PREFIX DST_PREFIX
**                   LOG RUN_ID
** Prints "stopped after N objects" and exits 0, or says what is wrong and
** exits 1.
*/
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "xtstore.h"

static atomic_int reported;

/* xtstore_progress_fn: counts the objects reported. */
static void progress(void *ud, const xtstore_progress *p)
{
  (void)ud;
  if (p->event == XTSTORE_EV_OBJECT)
    atomic_fetch_add(&reported, 1);
}

/* xtstore_stop_fn: stop once an object is done. */
static int stop(void *ud)
{
  (void)ud;
  return atomic_load(&reported) > 0;
}

int main(int argc, char **argv)
{
  xtstore_ctx_opts co;
  xtstore_ctx *ctx = NULL;
  xtstore_svc *s = NULL, *d = NULL;
  xtstore_tree src, dst;
  xtstore_wf_opts o;
  xtstore_wf_stats st;
  store_error err;
  int rc, ok = 0;

  if (argc != 9) {
    fprintf(stderr, "usage: test_watch_stop CONFIG SRC_SVC DST_SVC "
                    "CONTAINER SRC_PREFIX DST_PREFIX LOG RUN_ID\n");
    return 2;
  }
  memset(&err, 0, sizeof err);
  memset(&co, 0, sizeof co);
  co.struct_size = sizeof co;
  co.config_path = argv[1];
  rc = xtstore_ctx_open(&co, &ctx, &err);
  if (!rc)
    rc = xtstore_service_open(ctx, argv[2], &s, &err);
  if (!rc)
    rc = xtstore_service_open(ctx, argv[3], &d, &err);
  if (rc) {
    fprintf(stderr, "test_watch_stop: %s\n", err.message);
    goto out;
  }
  memset(&src, 0, sizeof src);
  src.struct_size = sizeof src;
  src.svc = s;
  src.container = argv[4];
  src.prefix = argv[5];
  dst = src;
  dst.svc = d;
  dst.prefix = argv[6];
  memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  o.transfers = 2;
  o.progress = progress;
  o.log_path = argv[7];
  o.run_id = argv[8];
  o.shard_index = 0;
  o.shard_count = 1;
  o.stop = stop;
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  rc = xtstore_migrate(ctx, &src, &dst, &o, &st, &err);
  if (rc != STORE_E_ABORTED || strcmp(err.message, "stopped") != 0)
    fprintf(stderr, "test_watch_stop: migrate returned %d (%s), not "
            "STORE_E_ABORTED \"stopped\"\n", rc, rc ? err.message : "ok");
  else if (st.objects < 1 || st.objects != (uint64_t)atomic_load(&reported) ||
           st.count[XTSTORE_OBJ_NEW] != st.objects)
    fprintf(stderr, "test_watch_stop: stats: %llu objects, %llu new, %d "
            "reported\n", (unsigned long long)st.objects,
            (unsigned long long)st.count[XTSTORE_OBJ_NEW],
            atomic_load(&reported));
  else
    ok = 1;
  if (ok)
    printf("stopped after %llu objects\n", (unsigned long long)st.objects);

out:
  xtstore_ctx_close(ctx);
  return ok ? 0 : 1;
}
