/*
** watch.c -- xtstore_sync_watch: continuous replication as a loop of
** syncs ("polls"), each the same streamed listing diff as xtstore_sync
** (no per-object HEAD), with a small state file between runs and a stop
** the caller controls. The loop decides only when to poll and when to
** give up; what a poll copies or deletes is xtstore_sync's.
*/
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "workflow.h"

#define WATCH_INTERVAL_MS 30000u
/* How often a wait between polls asks the caller whether to stop. */
#define WATCH_TICK_MS     100u
#define WATCH_STATE_MAGIC "xtstore-watch-state 1"

/* What the state file keeps (docs/replication.md). */
typedef struct watch_state {
  uint64_t polls;           /* polls completed, failed ones too           */
  int synced;               /* a poll of this pair succeeded              */
  int64_t last_success;     /* its end, unix seconds; 0: never            */
  uint64_t copied, deleted, bytes; /* cumulative                          */
} watch_state;

typedef struct watch {
  xtstore_ctx *ctx;
  const xtstore_watch_opts *w;
  xtstore_wf_opts o;        /* the caller's, progress wrapped             */
  xtstore_progress_fn fn;   /* the caller's progress                      */
  void *ud;
  xtstore_stop_fn stop;     /* the caller's opts->stop                    */
  void *stop_ud;
  int listed;               /* this poll's listings completed             */
  char *src_name, *dst_name;/* the ends, as the state file names them     */
  watch_state st;
} watch;

/* xtstore_progress_fn: the caller's, noting that the listings completed
 * (a failed poll that got that far did not fail for its addresses). */
static void watch_progress(void *ud, const xtstore_progress *p)
{
  watch *wt = ud;

  if (p->event == XTSTORE_EV_LISTED)
    wt->listed = 1;
  if (wt->fn)
    wt->fn(wt->ud, p);
}

static int64_t watch_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The caller's clean stop: the watch's, or the workflow options'. */
static int watch_stop_asked(const watch *wt)
{
  return (wt->w->stop && wt->w->stop(wt->w->stop_ud)) ||
         (wt->stop && wt->stop(wt->stop_ud));
}

/* xtstore_stop_fn for each poll's xtstore_sync: a stop asked during a
 * poll ends it after the objects in flight, not after the whole poll --
 * a first full sync can take hours. */
static int watch_stop(void *ud)
{
  return watch_stop_asked(ud);
}

static int watch_stopping(const watch *wt)
{
  return st_cancelled(wt->ctx) || watch_stop_asked(wt);
}

/* The display name of a tree's root, as the state file records it. */
static char *watch_end_name(const xtstore_tree *t, const xtstore_wf_opts *o,
                            store_error *err)
{
  st_wf_end e;
  char *s, *sh = NULL;
  size_t n;
  int rc;

  rc = st_wf_end_init(&e, t, NULL, err);
  if (rc)
    return NULL;
  s = st_wf_end_display(&e, e.stem);
  st_wf_end_free(&e);
  /* A shard syncs other objects than its siblings: a state shared across
   * shards is another pair's. */
  if (s && o->shard_count) {
    n = strlen(s) + 32;
    sh = malloc(n);
    if (sh)
      snprintf(sh, n, "%s shard %u/%u", s, (unsigned)o->shard_index,
               (unsigned)o->shard_count);
    free(s);
    s = sh;
  }
  if (!s)
    st_err(err, STORE_E_NOMEM, "out of memory");
  return s;
}

/* Read the state file if there is one for this pair. A missing file is a
 * first run; an unreadable one, or one for other ends, is warned about
 * and replaced after the first poll. */
static void watch_state_load(watch *wt)
{
  const char *path = wt->w->state_path;
  char line[8192], *val, *nl;
  char *src = NULL, *dst = NULL;
  watch_state st;
  unsigned long long v;
  FILE *f;
  int ok;

  memset(&st, 0, sizeof st);
  f = path ? fopen(path, "re") : NULL;
  if (!f) {
    if (path && errno != ENOENT)
      st_log(wt->ctx, STORE_LOG_WARN, "watch state '%s': %s; starting afresh",
             path, strerror(errno));
    return;
  }
  ok = fgets(line, sizeof line, f) && strcmp(line, WATCH_STATE_MAGIC "\n") == 0;
  while (ok && fgets(line, sizeof line, f)) {
    nl = strchr(line, '\n');
    val = strchr(line, ' ');
    if (!nl || !val) {
      ok = 0;
      break;
    }
    *nl = '\0';
    *val++ = '\0';
    v = strtoull(val, NULL, 10);
    if (strcmp(line, "source") == 0)
      ok = !src && (src = strdup(val)) != NULL;
    else if (strcmp(line, "target") == 0)
      ok = !dst && (dst = strdup(val)) != NULL;
    else if (strcmp(line, "polls") == 0)
      st.polls = v;
    else if (strcmp(line, "synced") == 0)
      st.synced = v != 0;
    else if (strcmp(line, "last_success") == 0)
      st.last_success = (int64_t)v;
    else if (strcmp(line, "copied") == 0)
      st.copied = v;
    else if (strcmp(line, "deleted") == 0)
      st.deleted = v;
    else if (strcmp(line, "bytes") == 0)
      st.bytes = v;
  }
  fclose(f);
  if (!ok || !src || !dst)
    st_log(wt->ctx, STORE_LOG_WARN, "watch state '%s' is not a state file "
           "of xtstore sync --watch; starting afresh", path);
  else if (strcmp(src, wt->src_name) != 0 || strcmp(dst, wt->dst_name) != 0)
    st_log(wt->ctx, STORE_LOG_WARN, "watch state '%s' is for '%s' -> '%s'; "
           "starting afresh", path, src, dst);
  else
    wt->st = st;
  free(src);
  free(dst);
}

/* Replace the state file: a temporary beside it, synced, renamed over it,
 * so a crash leaves the old state or the new one. The temporary's name is
 * unique (mkstemp): two watches given one state never write one file. */
static int watch_state_save(watch *wt, store_error *err)
{
  const char *path = wt->w->state_path;
  const watch_state *st = &wt->st;
  char *tmp = NULL;
  FILE *f = NULL;
  size_t n;
  int rc, fd;

  if (!path)
    return STORE_OK;
  rc = st_local_mkdirs(path, err);
  if (rc)
    goto out;
  n = strlen(path) + 8;
  tmp = malloc(n);
  if (!tmp) {
    rc = st_err(err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
  snprintf(tmp, n, "%s.XXXXXX", path);
  fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) {
    rc = st_err(err, STORE_E_IO, "watch state '%s': %s", tmp, strerror(errno));
    free(tmp);
    tmp = NULL;
    goto out;
  }
  f = fdopen(fd, "w");
  if (!f) {
    rc = st_err(err, STORE_E_IO, "watch state '%s': %s", tmp, strerror(errno));
    close(fd);
    goto out;
  }
  fprintf(f, WATCH_STATE_MAGIC "\nsource %s\ntarget %s\npolls %" PRIu64
          "\nsynced %d\nlast_success %" PRId64 "\ncopied %" PRIu64
          "\ndeleted %" PRIu64 "\nbytes %" PRIu64 "\n",
          wt->src_name, wt->dst_name, st->polls, st->synced,
          st->last_success, st->copied, st->deleted, st->bytes);
  if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
    rc = st_err(err, STORE_E_IO, "watch state '%s': %s", tmp, strerror(errno));
    goto out;
  }
  if (fclose(f) != 0) {
    f = NULL;
    rc = st_err(err, STORE_E_IO, "watch state '%s': %s", tmp, strerror(errno));
    goto out;
  }
  f = NULL;
  if (rename(tmp, path) != 0)
    rc = st_err(err, STORE_E_IO, "watch state '%s': %s", path,
                strerror(errno));

out:
  if (f)
    fclose(f);
  if (rc && tmp)
    unlink(tmp);
  free(tmp);
  return rc;
}

/* Wait until `until` (monotonic ms) unless the caller stops the watch. */
static void watch_wait(const watch *wt, int64_t until)
{
  struct timespec ts;
  int64_t left;

  while (!watch_stopping(wt) && (left = until - watch_now_ms()) > 0) {
    if (left > WATCH_TICK_MS)
      left = WATCH_TICK_MS;
    ts.tv_sec = 0;
    ts.tv_nsec = (long)left * 1000000;
    nanosleep(&ts, NULL);
  }
}

static void watch_report(const watch *wt, const xtstore_poll *p)
{
  if (wt->w->poll)
    wt->w->poll(wt->w->poll_ud, p);
}

/* One poll: a sync, its report and the state after it. Returns the
 * sync's code; a state file that cannot be written is logged, not fatal
 * (the next poll tries again). */
static int watch_poll(watch *wt, const xtstore_tree *src,
                      const xtstore_tree *dst, xtstore_poll *p,
                      xtstore_wf_stats *stats, store_error *err)
{
  store_error serr;
  int rc;

  memset(p, 0, sizeof *p);
  p->struct_size = sizeof *p;
  p->number = wt->st.polls + 1;
  watch_report(wt, p);
  memset(stats, 0, sizeof *stats);
  stats->struct_size = sizeof *stats;
  wt->listed = 0;
  rc = xtstore_sync(wt->ctx, src, dst, &wt->o, stats, err);
  wt->st.polls++;
  wt->st.copied += stats->count[XTSTORE_OBJ_NEW] +
                   stats->count[XTSTORE_OBJ_UPDATE];
  wt->st.deleted += stats->count[XTSTORE_OBJ_DELETED];
  wt->st.bytes += stats->bytes;
  if (!rc) {
    wt->st.synced = 1;
    wt->st.last_success = (int64_t)time(NULL);
  }
  /* A cancelled or stopped poll is no poll: the state stays as it was. */
  if (rc != STORE_E_ABORTED && watch_state_save(wt, &serr))
    st_log(wt->ctx, STORE_LOG_WARN, "%s", serr.message);
  return rc;
}

int xtstore_sync_watch(xtstore_ctx *ctx, const xtstore_tree *src,
                       const xtstore_tree *dst, const xtstore_wf_opts *opts,
                       const xtstore_watch_opts *w, store_error *err)
{
  xtstore_watch_opts wo;
  xtstore_wf_stats stats;
  xtstore_poll p;
  watch wt;
  uint64_t interval, failures = 0, polls = 0;
  int64_t start;
  store_error lerr;
  int rc, last, stop;

  st_err_reset(&lerr);
  memset(&wo, 0, sizeof wo);
  if (w)
    memcpy(&wo, w, w->struct_size < sizeof wo ? w->struct_size : sizeof wo);
  interval = wo.interval_ms ? wo.interval_ms : WATCH_INTERVAL_MS;
  memset(&wt, 0, sizeof wt);
  wt.ctx = ctx;
  wt.w = &wo;
  st_wf_opts_copy(&wt.o, opts);
  wt.fn = wt.o.progress;
  wt.ud = wt.o.progress_ud;
  wt.o.progress = watch_progress;
  wt.o.progress_ud = &wt;
  wt.stop = wt.o.stop;
  wt.stop_ud = wt.o.stop_ud;
  wt.o.stop = watch_stop;
  wt.o.stop_ud = &wt;
  rc = (wt.o.flags & XTSTORE_WF_DRY_RUN)
         ? st_err(&lerr, STORE_E_INVALID, "a dry run does not watch: run one "
                                        "sync instead")
         : STORE_OK;
  if (!rc)
    wt.src_name = watch_end_name(src, &wt.o, &lerr);
  if (!rc && wt.src_name)
    wt.dst_name = watch_end_name(dst, &wt.o, &lerr);
  if (rc || !wt.src_name || !wt.dst_name) {
    rc = rc ? rc : lerr.code;
    goto out;
  }
  watch_state_load(&wt);

  memset(&p, 0, sizeof p);
  for (;;) {
    if (watch_stopping(&wt)) {
      rc = st_cancelled(ctx) ? st_err(&lerr, STORE_E_ABORTED, "cancelled")
                             : STORE_OK;
      break;
    }
    start = watch_now_ms();
    rc = watch_poll(&wt, src, dst, &p, &stats, &lerr);
    polls++;
    failures = rc ? failures + 1 : 0;
    p.ended = 1;
    p.code = rc;
    p.failures = (uint32_t)(failures > UINT32_MAX ? UINT32_MAX : failures);
    p.error = rc ? lerr.message : NULL;
    p.stats = &stats;
    /* The last poll: cancelled or stopped; listings that failed before
     * any poll of the pair succeeded (wrong addresses or credentials, or a
     * server never up); too many failures in a row; the number asked
     * for. */
    stop = !st_cancelled(ctx) && watch_stop_asked(&wt);
    last = stop || (rc == STORE_E_ABORTED && st_cancelled(ctx)) ||
           (rc && !wt.listed && !wt.st.synced) ||
           (rc && wo.max_failures && failures >= wo.max_failures) ||
           (wo.max_polls && polls >= wo.max_polls);
    p.next_ms = last ? 0 : interval;
    watch_report(&wt, &p);
    if (last) {
      /* Stopped as asked: the watch ends well (the poll said how), unless
       * the poll failed for another cause, which the exit status keeps. */
      if (stop && rc == STORE_E_ABORTED)
        rc = STORE_OK;
      break;
    }
    watch_wait(&wt, start + (int64_t)interval);
    st_err_reset(&lerr);
  }

out:
  free(wt.src_name);
  free(wt.dst_name);
  st_err_reset(err);
  if (rc && err)
    *err = lerr;
  return rc;
}
