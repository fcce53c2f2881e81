/*
** cli.h -- private declarations shared by the files of the xtstore CLI.
**
** The CLI uses nothing but the public API (xtstore.h, store_interface.h)
** and jansson. Every non-static name here starts with cli_.
**
** Exit codes (also printed by `xtstore --help`):
**   0   success
**   1   generic failure
**   2   usage error (bad option or argument)
**   3   configuration error (STORE_E_CONFIG)
**   4   not found
**   5   already exists / conflict (exists, not empty, precondition)
**   6   authentication or permission denied
**   7   unsupported by the service
**   8   partial failure: some of several objects failed
**   130 interrupted (SIGINT)
*/
#ifndef CLI_H
#define CLI_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>

#include "xtstore.h"

#define CLI_EXIT_OK          0
#define CLI_EXIT_FAILURE     1
#define CLI_EXIT_USAGE       2
#define CLI_EXIT_CONFIG      3
#define CLI_EXIT_NOT_FOUND   4
#define CLI_EXIT_CONFLICT    5
#define CLI_EXIT_DENIED      6
#define CLI_EXIT_UNSUPPORTED 7
#define CLI_EXIT_PARTIAL     8
#define CLI_EXIT_INTERRUPTED 130

/* Set by the SIGINT handler; long loops and I/O callbacks poll it. */
extern volatile sig_atomic_t cli_interrupted;

/* Options given before the verb, and the lazily opened context. */
typedef struct cli_global {
  const char *config_path;  /* --config FILE, or NULL                   */
  int json;                 /* --json (also accepted after the verb)    */
  int verbose;              /* -v count                                 */
  int quiet;                /* -q                                       */
  int trust_cwd;            /* --trust-cwd-config                       */
  int json_array_open;      /* a streamed JSON array awaits its "]"     */
  int json_array_items;     /* elements printed into it so far          */
  xtstore_ctx *ctx;         /* NULL until cli_ctx() opens it            */
} cli_global;

struct cli_cmd;
typedef int (*cli_run_fn)(cli_global *g, const struct cli_cmd *self, int argc,
                          char **argv);

/* One verb: its name, one-line summary for `xtstore --help`, the full text
 * of `xtstore VERB --help` (starting with "Usage:"), and its entry point,
 * which receives the arguments after the verb and returns an exit code. */
typedef struct cli_cmd {
  const char *name;
  const char *summary;
  const char *help;
  cli_run_fn run;
} cli_cmd;

extern const cli_cmd cli_cmd_ls, cli_cmd_put, cli_cmd_get, cli_cmd_cat,
  cli_cmd_cp, cli_cmd_rm, cli_cmd_stat, cli_cmd_meta, cli_cmd_mb, cli_cmd_rb,
  cli_cmd_append, cli_cmd_snapshot, cli_cmd_services, cli_cmd_plugins;
extern const cli_cmd cli_cmd_migrate, cli_cmd_sync;
/* Bench and directories: cmd_find.c, cmd_mkdir.c, cmd_bench.c. */
extern const cli_cmd cli_cmd_find, cli_cmd_mkdir, cli_cmd_bench;
/* Uploads that runs left unfinished: cmd_cleanup.c. */
extern const cli_cmd cli_cmd_cleanup;
/* Presigned URLs: cmd_presign.c. */
extern const cli_cmd cli_cmd_presign;
/* Run logs of (sharded) migrate runs: cmd_runlog.c. */
extern const cli_cmd cli_cmd_runlog;

/* Results of a verb that works on several objects (output.c). */
typedef struct cli_tally {
  unsigned ok, failed;
  int last_exit;
} cli_tally;

/* ------------------------------------------------------------------------ */
/* session.c: the context and ^C                                            */
/* ------------------------------------------------------------------------ */

/* Open the context on first use (reads the configuration). Returns a
 * STORE_* code; on failure err says why. */
int cli_ctx(cli_global *g, xtstore_ctx **out, store_error *err);
/* Close g's context (if open); ^C no longer has one to cancel. */
void cli_ctx_close(cli_global *g);
/* ^C sets cli_interrupted and cancels the context (once; a second ^C
 * kills), unless SIGINT was inherited ignored. */
void cli_sigint_install(void);

/* ------------------------------------------------------------------------ */
/* args.c: option parsing                                                   */
/* ------------------------------------------------------------------------ */

/* One option a verb accepts. id > 0 is returned by cli_args_next. */
typedef struct cli_opt {
  const char *long_name;    /* without "--"                              */
  char short_name;          /* 0 when none                               */
  int has_arg;              /* 1: takes a value ("--x V", "--x=V", "-xV") */
  int id;
} cli_opt;

#define CLI_ARGS_END    0   /* no more options                          */
#define CLI_ARGS_HELP  (-1) /* --help/-h was given                       */
#define CLI_ARGS_ERROR (-2) /* a usage error, already reported           */

/* Iterates over a verb's arguments. Options may come before, between or
 * after positionals ("--" ends options; "-" is a positional). Positionals
 * are compacted, in order, to the front of argv: pos[0..npos). */
typedef struct cli_args {
  cli_global *g;
  const char *verb;         /* for messages                               */
  int argc;
  char **argv;
  int next;                 /* index of the next argv element to read     */
  const char *bundle;       /* the rest of "-abc" after one short option  */
  int no_more_opts;         /* "--" seen                                  */
  int stop_at_positional;   /* global options: stop at the verb           */
  char **pos;
  int npos;
} cli_args;

void cli_args_init(cli_args *a, cli_global *g, const char *verb, int argc,
                   char **argv);
/* The next option's id, with its value in *out_val (NULL without one), or
 * CLI_ARGS_END/HELP/ERROR. --json is handled here for every verb. */
int cli_args_next(cli_args *a, const cli_opt *opts, const char **out_val);
/* Exit code after cli_args_next returned HELP (prints the verb's help: 0)
 * or ERROR (2). */
int cli_args_exit(const cli_cmd *self, int id);

/* Report a usage error: "xtstore: VERB: MESSAGE" and a hint to run
 * `xtstore VERB --help`. Returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *verb, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

/* key=value pairs from repeated --meta/--set options. Keys are copied; the
 * values point into argv. */
typedef struct cli_kvs {
  store_kv *v;
  char **keys;              /* owned copies of the keys, freed by _free   */
  size_t n, cap;
} cli_kvs;

/* Add "k=v" (k non-empty). Returns 0, or a usage error exit code. */
int cli_kvs_add(cli_kvs *kvs, const char *verb, const char *opt,
                const char *arg);
void cli_kvs_free(cli_kvs *kvs);

/* Parse --range "A-B" (inclusive) or "A-" into get options. Returns 0 or
 * a usage error exit code. */
int cli_parse_range(const char *verb, const char *text, store_get_opts *o);

/* ------------------------------------------------------------------------ */
/* addr.c: addresses                                                        */
/* ------------------------------------------------------------------------ */

/* A parsed address plus the service it names, once opened. */
typedef struct cli_target {
  xtstore_addr a;
  xtstore_svc *svc;         /* NULL for a local path or before opening   */
  char *display;            /* "svc:c/k" with the resolved service name  */
} cli_target;

#define CLI_NEED_LOCAL_OK   (1u << 0) /* a bare local path is accepted    */
#define CLI_NEED_CONTAINER  (1u << 1) /* SERVICE:CONTAINER at least       */
#define CLI_NEED_KEY        (1u << 2) /* SERVICE:CONTAINER/KEY            */

/* Parse `text` and check it against `need` (usage error otherwise).
 * Returns 0 or an exit code (already reported). */
int cli_target_parse(const char *verb, const char *text, uint32_t need,
                     cli_target *t);
/* Open the target's service and set t->display. Returns a STORE_* code. */
int cli_target_open(cli_global *g, cli_target *t, store_error *err);
/* Set t->a.key (replacing any) to `key`. Returns 0 or STORE_E_NOMEM. */
int cli_target_set_key(cli_target *t, const char *key, store_error *err);
void cli_target_free(cli_target *t);

/* "svc:c/k" (key may be NULL: "svc:c"); malloc'd, NULL when out of memory */
char *cli_remote_name(const char *svc, const char *container,
                      const char *key);
/* The last '/'-separated component of a key or path (a pointer into it). */
const char *cli_basename(const char *path);
/* XT's listing prefix for a user-given key: NULL/"" -> "", "dir*" -> "dir",
 * "dir/" -> "dir/", "dir" -> "dir/". malloc'd; NULL when out of memory. */
char *cli_list_prefix(const char *key);
/* malloc'd printf; NULL when out of memory. */
char *cli_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ------------------------------------------------------------------------ */
/* io.c: body sources and sinks for streaming transfers                     */
/* ------------------------------------------------------------------------ */

/* Where a put/append body comes from: a file, stdin or a string. The read
 * callback is where a progress hook would observe `done`. */
typedef struct cli_source {
  int fd;                   /* -1 for a string                           */
  int own_fd;               /* close fd in cli_source_close              */
  const char *text;         /* --text body                               */
  size_t text_len;
  off_t start;              /* offset to rewind to; -1: not replayable   */
  int64_t length;           /* bytes, or -1 when unknown (a pipe)        */
  uint64_t done;            /* bytes handed to the library so far        */
  int sys_errno;            /* a read error, reported after the op       */
  const char *name;         /* the path, "-" or "--text" for messages    */
} cli_source;

/* Open the body of an upload: the string `text` (--text) when not NULL,
 * else the file `path` ("-" = stdin). Returns a STORE_* code (err names
 * the file). */
int cli_source_open(cli_source *s, const char *text, const char *path,
                    store_error *err);
void cli_source_close(cli_source *s);
int32_t cli_source_read(void *ud, void *buf, size_t cap, size_t *out_n);
/* NULL when the source cannot be replayed (pipes). */
xtstore_rewind_fn cli_source_rewinder(const cli_source *s);

/* Where a get body goes when it is not a file: a descriptor (stdout). */
typedef struct cli_sink {
  int fd;
  int may_block;  /* a pipe, socket or terminal: wait for it (and ^C)
                     before each write; files and /dev/null never block */
  uint64_t done;
  int sys_errno;
  const char *name;
} cli_sink;

int32_t cli_sink_write(void *ud, const void *buf, size_t len);

/* After an op that failed with STORE_E_ABORTED, replace err with the real
 * cause when it was ours (a local read/write error or ^C). Returns the
 * (possibly new) status code. */
int cli_explain_abort(store_error *err, int rc, const cli_source *src,
                      const cli_sink *sink);

/* Map errno from a local operation to a STORE_* code and fill err with
 * "WHAT 'PATH': strerror". Returns the code. */
int cli_sys_error(store_error *err, int errnum, const char *what,
                  const char *path);

/* The content type of an upload to `key`: `given` when not NULL, else one
 * from the key's extension for common types, else text/plain for a --text
 * body and application/octet-stream for any other (io.c). */
const char *cli_upload_content_type(const char *given, const char *key,
                                    int text);

/* Delete every blob under t's key by the ls prefix rule, and the blob
 * named exactly by the key; every blob of the container when t has no
 * key (cmd_rm.c). t is opened. Each deletion is reported and counted. */
void cli_rm_tree(cli_global *g, const char *verb, cli_target *t,
                 uint32_t delete_flags, int dry_run, cli_tally *tally);

/* ------------------------------------------------------------------------ */
/* escape.c                                                                 */
/* ------------------------------------------------------------------------ */

/* s for a terminal: s itself when it holds no control character, else a
 * copy (in one of a few rotating per-thread buffers, valid until the
 * fourth call after it on this thread) with each C0, DEL and C1 control
 * written as \xNN. Use it for every remote string printed as text. */
const char *cli_safe(const char *s);

/* ------------------------------------------------------------------------ */
/* output.c                                                                 */
/* ------------------------------------------------------------------------ */

/* The exit code for a STORE_* status. */
int cli_exit_code(int store_code);
/* Print "xtstore: VERB: MESSAGE" for a failed op; returns its exit code. */
int cli_fail(const char *verb, int rc, const store_error *err);
/* cli_fail with " (hint)" appended: how to do it with this CLI's options,
 * where the library's message can only describe the condition. */
int cli_fail_hint(const char *verb, int rc, const store_error *err,
                  const char *hint);


void cli_tally_add(cli_tally *t, int exit_code);
/* 0 when all succeeded, the failure's code when all failed, else 8. */
int cli_tally_exit(const cli_tally *t);

/* "2024-05-01T12:00:00Z" (UTC) or "-" when unknown. */
void cli_format_time(int64_t mtime_ns, char *buf, size_t cap);
/* "0 B", "999 B", "1.5 KiB", ... */
void cli_format_size(uint64_t n, char *buf, size_t cap);

/* JSON values from C strings that may be NULL (-> null) or not UTF-8
 * (invalid bytes become '?': jansson only holds UTF-8). New references. */
json_t *cli_json_str(const char *s);
/* {"k": "v", ...} from user metadata or configuration keys. */
json_t *cli_json_kvs(const store_kv *kv, size_t n);
/* An entry as listed: name (`name` when the entry has none, as from a
 * head), size, mtime, etag, content_type, is_prefix, snapshot_id, crc32c
 * (8 hex or null); with `full` also mtime_ns, content_md5, metadata. */
json_t *cli_json_entry(const store_entry *e, int full, const char *name);

/* --json output. A streamed array prints "[", one element per line and
 * "]" (closed by main even when the verb fails half-way), so listings of
 * any length need constant memory. A single object is printed indented. */
void cli_json_array_begin(cli_global *g);
void cli_json_array_item(cli_global *g, json_t *item); /* steals item */
void cli_json_array_end(cli_global *g);
void cli_json_print(json_t *obj);                      /* steals obj */

/* What a mutating verb did, reported as one human line ("upload: SRC ->
 * DST (N bytes)", prefixed "(dryrun) " for --dry-run; nothing with -q) or
 * as one element of the --json array. */
typedef struct cli_action {
  const char *action;       /* "upload", "download", "copy", "delete", ... */
  const char *source;       /* may be NULL                                */
  const char *target;       /* may be NULL                                */
  int64_t size;             /* bytes, -1 when not reported               */
  int dry_run;
} cli_action;

void cli_report(cli_global *g, const cli_action *a);

/* A small text table, printed with aligned columns. Cells are copied. */
typedef struct cli_table {
  size_t ncols;
  char **cells;             /* rows * ncols                              */
  size_t nrows, cap;
} cli_table;

/* Returns 0, or STORE_E_NOMEM. NULL cells print as "-". */
int cli_table_add(cli_table *t, const char *const *row);
void cli_table_print(const cli_table *t, FILE *f);
void cli_table_free(cli_table *t);

/* ------------------------------------------------------------------------ */
/* progress.c: what a transfer shows while it runs and when it ends         */
/* ------------------------------------------------------------------------ */

/* --progress / --no-progress / neither (the default: on a terminal). */
#define CLI_PROGRESS_AUTO 0
#define CLI_PROGRESS_ON   1
#define CLI_PROGRESS_OFF  2
/* What is shown on stderr. */
#define CLI_PROGRESS_BAR  3
#define CLI_PROGRESS_JSON 4

typedef struct cli_progress {
  cli_global *g;
  const char *verb;
  const char *action;       /* a copied object's word: "copy", "upload"... */
  int show_equal;           /* list equal objects too (-v)               */
  int mode;                 /* CLI_PROGRESS_OFF, _BAR or _JSON           */
  int forced;               /* --progress                                */
  int tty;                  /* stderr is a terminal                      */
  int shown;                /* something was displayed                   */
  int drawn;                /* the bar is on the terminal's line now     */
  double last;              /* elapsed seconds at the last update        */
  struct timespec t0;
  xtstore_progress cur;     /* the counters of the last event            */
  char first_error[STORE_ERR_MSG_SIZE]; /* of the first failed object    */
} cli_progress;

/* The part of a transferring verb's --help about progress. */
#define CLI_PROGRESS_OPTIONS_HELP \
  "  --progress            show progress on stderr even when it is not a\n" \
  "                        terminal\n" \
  "  --no-progress         never show progress\n"
#define CLI_PROGRESS_HELP \
  "Progress (stderr):\n" \
  "  On a terminal a transfer that runs over a second shows a bar (bytes,\n" \
  "  rate, ETA, objects done/total), redrawn at most 5 times a second; on a\n" \
  "  pipe nothing unless --progress (then a line a second). With --json it\n" \
  "  is one JSON event per line instead:\n" \
  "    {event: \"start\", verb}\n" \
  "    {event: \"progress\", elapsed (s), bytes, bytes_total, objects,\n" \
  "     objects_total, failed, totals_final, rate (bytes/s), eta (s|null)}\n" \
  "    {event: \"object\", source, target, size, status (copied, new,\n" \
  "     update, equal, deleted, failed), dry_run, error (null|message)}\n" \
  "                                  (cp -r, put --to, migrate and sync)\n" \
  "    {event: \"done\", the fields of progress, ok}\n" \
  "  Totals grow while the listing runs; totals_final says they are final\n" \
  "  (put --to resuming an upload: once the file is read, as a service\n" \
  "  whose upload is gone sends it again).\n"

/* Start showing a transfer of `verb`; want is CLI_PROGRESS_AUTO/ON/OFF. */
void cli_progress_init(cli_progress *p, cli_global *g, const char *verb,
                       int want);
/* xtstore_progress_fn (ud = the cli_progress): renders every event and
 * prints each object's result. */
void cli_progress_event(void *ud, const xtstore_progress *ev);
/* A single transfer: its start (size -1: unknown), its size once known,
 * its bytes (an xtstore_bytes_fn) and its end. */
void cli_progress_single(cli_progress *p, int64_t size);
void cli_progress_size(cli_progress *p, uint64_t size);
void cli_progress_bytes(void *ud, uint64_t n);
void cli_progress_end(cli_progress *p, int failed);
/* The closing summary of a tree workflow (a line, or a JSON element). */
void cli_progress_summary(cli_progress *p, const xtstore_wf_stats *st,
                          int dry_run);
/* The exit code of a workflow that returned rc: failed objects were
 * reported already; another failure is reported now. 8 when some objects
 * failed and others did not. */
int cli_progress_exit(cli_progress *p, int rc, const store_error *err,
                      const xtstore_wf_stats *st);

/* ------------------------------------------------------------------------ */
/* tree.c: the trees of cp -r, migrate and sync                             */
/* ------------------------------------------------------------------------ */

/* A tree workflow of the library. */
typedef int (*cli_tree_fn)(xtstore_ctx *ctx, const xtstore_tree *src,
                           const xtstore_tree *dst,
                           const xtstore_wf_opts *opts,
                           xtstore_wf_stats *stats, store_error *err);

/* Parse SRC and DST, open them, run fn with o (its progress and content
 * type are filled in here; the rest is the caller's), print the results
 * and the summary. With `need_objects`, an empty source is an error.
 * Returns the exit code. */
int cli_tree_run(cli_global *g, const char *verb, const char *src_text,
                 const char *dst_text, cli_tree_fn fn, xtstore_wf_opts *o,
                 int progress, int need_objects);

/* migrate and sync (cmd_sync.c): the same options and run, migrate with
 * a run log, sync with --delete. Returns the exit code. */
int cli_compare_run(cli_global *g, const cli_cmd *self, int argc,
                    char **argv, int migrate);

/* A decimal option value in [min, max]. Returns 0 or a usage error. */
int cli_parse_number(const char *verb, const char *opt, const char *text,
                     uint64_t min, uint64_t max, uint64_t *out);

/* A duration in seconds, "90" or "90s", "15m", "36h", "7d", in [min, max]
 * (args.c). Returns 0 or a usage error naming opt and the bounds. */
int cli_parse_duration(const char *verb, const char *opt, const char *text,
                       uint64_t min, uint64_t max, uint64_t *out);

#endif /* CLI_H */
