/*
** workflow.h -- the workflow layer (host/workflow/), the top of the
** library, above engine/: the workflows over many objects (copy -r,
** fan-out, migrate, sync, find, bench) and their pieces: the ends of a
** tree, sorted listings of either end, their merge, progress accounting
** and the migration run log; and which shard an object is of (shard.c,
** public: xtstore_shard_of, xtstore_shard_parse). Everything here
** streams: memory is bounded by queue and ring capacities, never by the
** number or size of objects.
*/
#ifndef ST_WORKFLOW_H
#define ST_WORKFLOW_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "engine/engine.h"

/* ------------------------------------------------------------------------ */
/* end.c: one end of a tree workflow                               */
/* ------------------------------------------------------------------------ */
typedef struct st_wf_end {
  xtstore_svc *svc;         /* NULL: a local directory                    */
  const char *container;    /* borrowed from the caller's xtstore_tree    */
  char *dir;                /* service: the prefix up to its last '/'; a
                               local directory: its path ending in '/'    */
  char *stem;               /* names relative to dir start with this      */
} st_wf_end;

/* Fill e from t. The stem is the rest of t's prefix after its last '/'
 * unless `stem` is given (a destination takes the source's). Returns a
 * STORE_* code (STORE_E_INVALID for a half-filled tree). */
int st_wf_end_init(st_wf_end *e, const xtstore_tree *t, const char *stem,
                   store_error *err);
void st_wf_end_free(st_wf_end *e);
/* The key or local path of the object `name` (relative to dir), or for
 * messages "svc:container/key" / the path. malloc'd; NULL when out of
 * memory. */
char *st_wf_end_path(const st_wf_end *e, const char *name);
char *st_wf_end_display(const st_wf_end *e, const char *name);
/* Non-zero when `name` can be a local path under a directory: no empty,
 * "." or ".." segment (one trailing '/' allowed, a directory). */
int st_wf_name_is_safe(const char *name);

/* ------------------------------------------------------------------------ */
/* local.c: a local directory as a sorted listing                  */
/* ------------------------------------------------------------------------ */

/* One regular file: its path relative to the root, size and mtime. Return
 * non-zero to stop the walk (it then returns STORE_E_ABORTED). */
typedef int (*st_walk_fn)(void *ud, const char *name, uint64_t size,
                          int64_t mtime_ns);

/* Every regular file under root (ending in '/') whose relative name starts
 * with stem, in the byte order of the names, a directory sorting as
 * "name/" (the order of a service listing). Symlinks and special files are
 * skipped. Memory: one directory's names per level. */
int st_local_walk(const char *root, const char *stem, st_walk_fn fn,
                  void *ud, store_error *err);
/* Create the directories above `path` (mkdir -p of its dirname). */
int st_local_mkdirs(const char *path, store_error *err);
/* The same for a path inside the tree `root` (a prefix of path ending in
 * '/'), refusing (STORE_E_INVALID, naming it) any directory between root
 * and the file that is a symbolic link, so that a link already inside the
 * target cannot send a download, or a deletion, out of it. create = 0
 * only checks what exists. */
int st_local_beneath(const char *root, const char *path, int create,
                     store_error *err);

/* ------------------------------------------------------------------------ */
/* list.c: one end listed by its own thread into a bounded queue   */
/* ------------------------------------------------------------------------ */
typedef struct st_wf_entry {
  uint64_t size;
  int64_t mtime_ns;         /* STORE_MTIME_UNKNOWN when not listed        */
  char md5[33];             /* lowercase hex, "" when not listed          */
  int has_crc;              /* the listing reports a CRC-32C: crc32c      */
  uint32_t crc32c;
  struct st_lister *from;   /* the listing it came from; NULL: none       */
  char name[];              /* relative to the end's dir                  */
} st_wf_entry;

typedef struct st_lister {
  const st_wf_end *end;
  xtstore_ctx *ctx;
  st_bq q;
  pthread_t tid;
  int running;
  int missing_ok;           /* a missing local directory lists as empty  */
  char *prev;               /* the last name, to check the order          */
  size_t prev_cap;
  int rc;                   /* the listing's status, set before q ends    */
  store_error err;
  int said_times;           /* the merge said that times decide (once)    */
} st_lister;

/* List `end` on a new thread. */
int st_lister_start(st_lister *l, xtstore_ctx *ctx, const st_wf_end *end,
                    int missing_ok, store_error *err);
/* The next entry in name order (the caller frees it), or NULL at the end
 * of the listing -- or when it failed: see l->rc. */
st_wf_entry *st_lister_next(st_lister *l);
/* Stop the listing if it still runs, join the thread and free the rest. */
void st_lister_stop(st_lister *l);

/* ------------------------------------------------------------------------ */
/* plan.c: the merge of two sorted listings                        */
/* ------------------------------------------------------------------------ */

/* One name: its source entry, its target entry, or both (same name).
 * Both are the function's to free. Non-zero stops the merge with that
 * code (err filled). */
typedef int (*st_plan_fn)(void *ud, st_wf_entry *src, st_wf_entry *dst,
                          store_error *err);

/* Walk both listings (dst may be NULL: every name is the source's) in
 * name order, calling fn once per name. Stops at the first failure of a
 * listing or of fn, or on cancellation. */
int st_plan_merge(xtstore_ctx *ctx, st_lister *src, st_lister *dst,
                  st_plan_fn fn, void *ud, store_error *err);
/* XTSTORE_OBJ_NEW, _UPDATE or _EQUAL for a source entry and its target
 * entry (NULL: absent): sizes; then with `checksum` CRC-32Cs when both
 * have one, else content MD5s when both have one -- a local file's (a
 * listing of files has none) summed for the pair, of the kind the other
 * end has (a CRC-32C against another file); else modification times
 * (whole seconds) when both have one, which with `checksum` is said once
 * per run (a warning). A local file that cannot be read is an update (its
 * copy then says why). */
uint32_t st_plan_classify(const st_wf_entry *src, const st_wf_entry *dst,
                          int checksum);

/* ------------------------------------------------------------------------ */
/* progress.c: counters and events                                 */
/* ------------------------------------------------------------------------ */
typedef struct st_progress {
  pthread_mutex_t mu;
  xtstore_progress_fn fn;
  void *ud;
  xtstore_progress p;       /* the running counters                       */
  xtstore_wf_stats stats;
  struct timespec t0;
} st_progress;

/* One finished (or planned) object. */
typedef struct st_wf_report {
  const char *source;       /* display names; either may be NULL          */
  const char *target;
  uint64_t size;
  uint32_t status;          /* XTSTORE_OBJ_*                              */
  uint32_t dry_run;
  int rc;                   /* with XTSTORE_OBJ_FAILED                    */
  const store_error *err;
} st_wf_report;

void st_progress_init(st_progress *p, xtstore_progress_fn fn, void *ud);
void st_progress_destroy(st_progress *p);
/* Emit a START, LISTED or DONE event. */
void st_progress_event(st_progress *p, uint32_t event);
/* More work found: objects to handle and bytes to move. */
void st_progress_plan(st_progress *p, uint64_t objects, uint64_t bytes);
/* xtstore_bytes_fn: n more bytes moved (ud is the st_progress). */
void st_progress_bytes(void *ud, uint64_t n);
/* An object is finished: counted, and reported in an OBJECT event. */
void st_progress_object(st_progress *p, const st_wf_report *r);
/* The counters so far into *out (may be NULL); struct_size is kept. */
void st_progress_stats(st_progress *p, xtstore_wf_stats *out);

/* ------------------------------------------------------------------------ */
/* run.c: the driver shared by copy -r, migrate and sync           */
/* ------------------------------------------------------------------------ */
typedef struct st_wf_run st_wf_run;

/* The checksums a copy was checked with end to end, as the run log
 * records them: the target's, as it reports them, compared with the bytes
 * moved (and a copy's with the source's); a download's, the source's,
 * which the bytes written matched. */
typedef struct st_wf_checked {
  int has_crc;              /* crc32c was compared                        */
  uint32_t crc32c;
  char md5[33];             /* lowercase hex; "" when none was compared   */
} st_wf_checked;

/* One object being finished: what the run log records. */
typedef struct st_wf_done {
  const char *name;         /* relative to both ends' dirs                */
  const char *source;       /* display names                              */
  const char *target;
  uint64_t size;            /* the source's size                          */
  int has_target;           /* the target existed before (its size:)     */
  uint64_t target_size;
  uint32_t status;          /* XTSTORE_OBJ_*                              */
  int deletion;             /* a deletion at the target: no source        */
  int64_t start_ns, end_ns; /* wall clock                                 */
  int rc;
  const store_error *err;
  const st_wf_entry *src_entry; /* the source's listing entry, when the
                                   caller has it (NULL: not known)       */
  st_wf_checked checked;    /* a copy's; zero when nothing was copied     */
} st_wf_done;

/* What makes copy -r, migrate and sync differ. */
typedef struct st_wf_kind {
  int compare;              /* list the target too and copy only what
                               differs                                    */
  /* Before anything is listed (NULL: nothing). */
  int (*begin)(st_wf_run *r, store_error *err);
  /* A target object the source lacks (NULL: ignored). Owns dst. */
  int (*extra)(st_wf_run *r, st_wf_entry *dst, store_error *err);
  /* After every copy finished without a failure (NULL: nothing). */
  int (*finish)(st_wf_run *r, store_error *err);
  /* Every object, once finished; not for a dry run (NULL: nothing). */
  void (*record)(st_wf_run *r, const st_wf_done *d);
  /* At the very end, when begin succeeded (NULL: nothing). */
  int (*end)(st_wf_run *r, store_error *err);
} st_wf_kind;

struct st_wf_run {
  xtstore_ctx *ctx;
  const st_wf_kind *kind;
  st_wf_end src, dst;
  xtstore_wf_opts o;        /* the caller's, with defaults filled in      */
  size_t ring_bytes;        /* per streamed copy                          */
  st_progress prog;
  st_pool pool;
  void *state;              /* the kind's own (sync's deletions, the log) */
  uint64_t listed;          /* source objects listed, of every shard      */
  pthread_mutex_t mu;       /* guards rc/err                              */
  int rc;                   /* the first failure                          */
  store_error err;
};

/* Queue a job: copy (or with `delete_it`, delete at the target) the
 * object `entry` names, to be reported with `status` when it succeeds.
 * Takes entry (freed also on failure: STORE_E_NOMEM). */
int st_wf_queue(st_wf_run *r, st_wf_entry *entry, uint32_t status,
                int has_target, uint64_t target_size, int delete_it,
                store_error *err);

/* The caller's options (NULL, or of any struct_size) with the defaults
 * filled in. */
void st_wf_opts_copy(xtstore_wf_opts *out, const xtstore_wf_opts *opts);
/* Run the workflow `kind` from src to dst. */
int st_wf_run_tree(xtstore_ctx *ctx, const st_wf_kind *kind,
                   const xtstore_tree *src, const xtstore_tree *dst,
                   const xtstore_wf_opts *opts, xtstore_wf_stats *stats,
                   store_error *err);
/* Remember the first failure of a run. */
void st_wf_fail(st_wf_run *r, int rc, const store_error *err);
/* run.c: the caller's clean stop was asked (xtstore_wf_opts.stop). */
int st_wf_stop_asked(const st_wf_run *r);
/* Report one object: fills d->source and d->target from d->name (the
 * source stays NULL for a deletion), sends the progress event and, unless
 * this is a dry run, the kind's record. */
void st_wf_finish(st_wf_run *r, st_wf_done *d);
/* Current wall-clock time in ns. */
int64_t st_wf_now_ns(void);

/* object.c: copy one object from r->src to r->dst, counting bytes into
 * r's progress; *out (may be NULL) gets the checksums it was checked
 * with. */
int st_wf_copy_object(st_wf_run *r, const char *name, uint64_t size,
                      st_wf_checked *out, store_error *err);
/* object.c: delete one object at r->dst. */
int st_wf_delete_object(st_wf_run *r, const char *name, store_error *err);

/* ------------------------------------------------------------------------ */
/* runlog.c: migrate's JSON Lines run log                          */
/* ------------------------------------------------------------------------ */
typedef struct st_runlog st_runlog;

/* Open the log opts names (a local file, appended; or a blob, written at
 * st_runlog_close). *out is NULL when opts names none. */
int st_runlog_open(xtstore_ctx *ctx, const xtstore_wf_opts *opts,
                   st_runlog **out, store_error *err);
/* Append one record (thread-safe). A write failure is kept for close. */
void st_runlog_record(st_runlog *l, const st_wf_done *d);
/* A sharded run's last record: the shard's counts and result (rc, err:
 * the run's first failure). Nothing for an unsharded run or l NULL. */
void st_runlog_shard_end(st_runlog *l, const xtstore_wf_stats *st, int rc,
                         const store_error *err);
/* Finish the log (upload it when it goes to a service, also after the
 * context was cancelled) and free it; after a cancellation, log where the
 * records are. Returns the first failure of the whole log's life. */
int st_runlog_close(st_runlog *l, store_error *err);

#endif /* ST_WORKFLOW_H */
