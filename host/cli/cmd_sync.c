/*
** cmd_sync.c -- `xtstore sync`, and the run it shares with `xtstore
** migrate` (cmd_migrate.c): compare two trees from their listings and
** copy what is new or different; sync may delete what the source lacks,
** migrate keeps a run log. `sync --watch` repeats the sync every interval
** (xtstore_sync_watch): here are its options, signals and output.
*/
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Deletions sync makes unless told otherwise: more means a mistake (an
 * empty or wrong source) far more often than intent. */
#define CLI_MAX_DELETE_DEFAULT 1000

enum { OPT_DRY_RUN = 1, OPT_CHECKSUM, OPT_TRANSFERS, OPT_PROGRESS,
       OPT_NO_PROGRESS, OPT_DELETE, OPT_MAX_DELETE, OPT_LOG,
       OPT_ALLOW_EMPTY, OPT_WATCH, OPT_INTERVAL, OPT_STATE, OPT_NO_STATE,
       OPT_MAX_POLLS, OPT_MAX_FAILURES, OPT_SHARD, OPT_RUN_ID };

static const cli_opt compare_opts[] = {
  { "dry-run", 0, 0, OPT_DRY_RUN },
  { "checksum", 'c', 0, OPT_CHECKSUM },
  { "transfers", 0, 1, OPT_TRANSFERS },
  { "progress", 0, 0, OPT_PROGRESS },
  { "no-progress", 0, 0, OPT_NO_PROGRESS },
  { "delete", 0, 0, OPT_DELETE },
  { "max-delete", 0, 1, OPT_MAX_DELETE },
  { "log", 0, 1, OPT_LOG },
  { "allow-empty-source", 0, 0, OPT_ALLOW_EMPTY },
  { "watch", 0, 0, OPT_WATCH },
  { "interval", 0, 1, OPT_INTERVAL },
  { "state", 0, 1, OPT_STATE },
  { "no-state", 0, 0, OPT_NO_STATE },
  { "max-polls", 0, 1, OPT_MAX_POLLS },
  { "max-failures", 0, 1, OPT_MAX_FAILURES },
  { "shard", 0, 1, OPT_SHARD },
  { "run-id", 0, 1, OPT_RUN_ID },
  { NULL, 0, 0, 0 },
};

/* --log FILE or --log SERVICE:CONTAINER/KEY into o. Returns an exit
 * code. */
static int open_log(cli_global *g, const char *verb, const char *text,
                    cli_target *t, xtstore_wf_opts *o)
{
  store_error err;
  int ex, rc;

  ex = cli_target_parse(verb, text, CLI_NEED_LOCAL_OK | CLI_NEED_KEY, t);
  if (ex)
    return ex;
  if (t->a.kind == XTSTORE_ADDR_LOCAL) {
    o->log_path = t->a.path;
    return CLI_EXIT_OK;
  }
  memset(&err, 0, sizeof err);
  rc = cli_target_open(g, t, &err);
  if (rc)
    return cli_fail(verb, rc, &err);
  o->log_svc = t->svc;
  o->log_container = t->a.container;
  o->log_key = t->a.key;
  return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* sync --watch                                                             */
/* ------------------------------------------------------------------------ */

/* The watch of this process, for what has no user pointer: the signal
 * handler and the tree function cli_tree_run calls. */
typedef struct cli_watch {
  cli_global *g;
  int json;                 /* --json: one JSON object per line           */
  uint64_t poll;            /* the poll under way                         */
  xtstore_watch_opts w;
} cli_watch;

static cli_watch cli_watch_cur;
static volatile sig_atomic_t cli_watch_stop;
static xtstore_ctx *volatile cli_watch_ctx;

/* The first SIGINT or SIGTERM ends the watch after the objects in flight
 * (the poll under way starts no other); the second cancels it (they are
 * abandoned, none left partial; exit 130); a third kills. */
static void cli_watch_signal(int sig)
{
  xtstore_ctx *ctx = cli_watch_ctx;

  if (!cli_watch_stop) {
    cli_watch_stop = 1;
    return;
  }
  cli_interrupted = 1;
  if (ctx)
    xtstore_ctx_cancel(ctx);
  signal(sig, SIG_DFL);
}

/* SA_RESTART: the first signal must not fail the I/O of the objects it
 * lets finish. An inherited SIG_IGN of SIGINT is kept
 * (cli_sigint_install). */
static void cli_watch_signals(xtstore_ctx *ctx)
{
  struct sigaction sa, old;

  cli_watch_ctx = ctx;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = cli_watch_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
    sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

static int cli_watch_stopped(void *ud)
{
  (void)ud;
  return cli_watch_stop;
}

/* Print one JSON object as a line of stdout (steals o). */
static void cli_watch_line(json_t *o)
{
  char *s;

  if (!o)
    return;
  s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(o);
  if (s)
    printf("%s\n", s);
  free(s);
  fflush(stdout);
}

/* xtstore_progress_fn: a line per object copied, deleted or failed (equal
 * ones with -v), as sync prints them, or a JSON object with --json. */
static void cli_watch_object(void *ud, const xtstore_progress *ev)
{
  cli_watch *cw = ud;
  cli_action act;
  json_t *o;

  if (ev->event != XTSTORE_EV_OBJECT)
    return;
  if (ev->status == XTSTORE_OBJ_FAILED)
    fprintf(stderr, "xtstore: sync: %s%s%s: %s\n",
            cli_safe(ev->source ? ev->source : ""), ev->source ? " -> " : "",
            cli_safe(ev->target ? ev->target : ""),
            cli_safe(ev->error ? ev->error : store_strerror(ev->code)));
  if (ev->status == XTSTORE_OBJ_EQUAL && !cw->g->verbose)
    return;
  if (cw->json) {
    o = json_object();
    if (!o)
      return;
    json_object_set_new(o, "event", json_string("object"));
    json_object_set_new(o, "poll", json_integer((json_int_t)cw->poll));
    json_object_set_new(o, "status",
                        json_string(xtstore_object_status_name(ev->status)));
    json_object_set_new(o, "source", cli_json_str(ev->source));
    json_object_set_new(o, "target", cli_json_str(ev->target));
    json_object_set_new(o, "size", json_integer((json_int_t)ev->size));
    json_object_set_new(o, "error", cli_json_str(ev->error));
    cli_watch_line(o);
    return;
  }
  if (ev->status == XTSTORE_OBJ_FAILED)
    return;
  memset(&act, 0, sizeof act);
  act.action = ev->status == XTSTORE_OBJ_DELETED
                 ? "delete" : xtstore_object_status_name(ev->status);
  act.source = ev->source;
  act.target = ev->target;
  act.size = ev->status == XTSTORE_OBJ_DELETED ? -1 : (int64_t)ev->size;
  cli_report(cw->g, &act);
  fflush(stdout);
}

/* xtstore_poll_fn: a summary line per poll (sync's, named "poll N"; none
 * for a poll that failed before any object), or a JSON object; a failed
 * poll that will be retried says so on stderr. */
static void cli_watch_poll(void *ud, const xtstore_poll *p)
{
  static const char *const keys[XTSTORE_OBJ_NSTATUS] = {
    "copied", "new", "update", "equal", "deleted", "failed",
  };
  cli_watch *cw = ud;
  cli_progress prog;
  char verb[48];
  json_t *o;
  size_t i;

  cw->poll = p->number;
  if (!p->ended)
    return;
  if (cw->json) {
    o = json_object();
    if (!o)
      return;
    json_object_set_new(o, "event", json_string("poll"));
    json_object_set_new(o, "poll", json_integer((json_int_t)p->number));
    json_object_set_new(o, "ok", json_boolean(p->code == STORE_OK));
    json_object_set_new(o, "objects",
                        json_integer((json_int_t)p->stats->objects));
    for (i = 0; i < XTSTORE_OBJ_NSTATUS; i++)
      json_object_set_new(o, keys[i],
                          json_integer((json_int_t)p->stats->count[i]));
    json_object_set_new(o, "extra", json_integer((json_int_t)p->stats->extra));
    json_object_set_new(o, "bytes", json_integer((json_int_t)p->stats->bytes));
    json_object_set_new(o, "milliseconds",
                        json_integer((json_int_t)(p->stats->seconds * 1000 +
                                                  0.5)));
    json_object_set_new(o, "error", cli_json_str(p->error));
    json_object_set_new(o, "failures", json_integer(p->failures));
    json_object_set_new(o, "next_in_ms",
                        p->next_ms ? json_integer((json_int_t)p->next_ms)
                                   : json_null());
    cli_watch_line(o);
  } else if (p->code == STORE_OK || p->stats->objects) {
    memset(&prog, 0, sizeof prog);
    snprintf(verb, sizeof verb, "poll %llu", (unsigned long long)p->number);
    prog.g = cw->g;
    prog.verb = verb;
    cli_progress_summary(&prog, p->stats, 0);
    fflush(stdout);
  }
  /* The last poll's failure is the exit's message. */
  if (p->code && p->next_ms)
    fprintf(stderr, "xtstore: sync: poll %llu failed (%u in a row), next "
            "in %.1f s: %s\n", (unsigned long long)p->number, p->failures,
            (double)p->next_ms / 1000, cli_safe(p->error ? p->error : ""));
}

/* cli_tree_fn: the watch, over the ends cli_tree_run opened. */
static int cli_watch_tree(xtstore_ctx *ctx, const xtstore_tree *src,
                          const xtstore_tree *dst,
                          const xtstore_wf_opts *opts,
                          xtstore_wf_stats *stats, store_error *err)
{
  cli_watch *cw = &cli_watch_cur;
  xtstore_wf_opts o = *opts;

  (void)stats;
  o.progress = cli_watch_object;
  o.progress_ud = cw;
  cw->w.stop = cli_watch_stopped;
  cw->w.poll = cli_watch_poll;
  cw->w.poll_ud = cw;
  cli_watch_signals(ctx);
  return xtstore_sync_watch(ctx, src, dst, &o, &cw->w, err);
}

/* --interval: a number with ms, s (the default), m or h. */
static int cli_watch_interval(const char *text, uint64_t *out_ms)
{
  static const struct { const char *unit; uint64_t ms; } units[] = {
    { "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
    { "h", 3600000 },
  };
  char *end;
  unsigned long long v;
  size_t i;

  v = strtoull(text, &end, 10);
  if (text[0] >= '0' && text[0] <= '9' && v > 0 && v < 1000000)
    for (i = 0; i < sizeof units / sizeof units[0]; i++)
      if (strcmp(end, units[i].unit) == 0) {
        *out_ms = v * units[i].ms;
        return 0;
      }
  return cli_usage_error("sync", "--interval wants a duration such as 30s, "
                                 "500ms, 5m or 1h, got '%s'", text);
}

/* The default state file: $XDG_STATE_HOME (else ~/.local/state)
 * /xtstore/watch/ and a 64-bit FNV-1a of "SRC\nDST" as given, plus
 * "\nI/N" for shard I of N (each shard's watcher keeps its own state).
 * NULL when there is no such directory to name. */
static char *cli_watch_state_path(const char *src, const char *dst,
                                  const xtstore_wf_opts *o)
{
  const char *base = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
  char shard[48] = "";
  const char *parts[4] = { src, "\n", dst, shard };
  uint64_t h = 14695981039346656037ull;
  const unsigned char *c;
  char *path;
  size_t i, n;

  if (o->shard_count > 0)
    snprintf(shard, sizeof shard, "\n%u/%u", (unsigned)o->shard_index,
             (unsigned)o->shard_count);
  for (i = 0; i < 4; i++)
    for (c = (const unsigned char *)parts[i]; *c; c++)
      h = (h ^ *c) * 1099511628211ull;
  if (!(base && base[0] == '/') && !(home && home[0]))
    return NULL;
  n = strlen(base && base[0] == '/' ? base : home) + 64;
  path = malloc(n);
  if (path && base && base[0] == '/')
    snprintf(path, n, "%s/xtstore/watch/%016llx.state", base,
             (unsigned long long)h);
  else if (path)
    snprintf(path, n, "%s/.local/state/xtstore/watch/%016llx.state", home,
             (unsigned long long)h);
  return path;
}

/* Run sync --watch with the options already parsed into o and cw->w. */
static int cli_watch_run(cli_global *g, const char *src, const char *dst,
                         xtstore_wf_opts *o, int no_state, int need_objects)
{
  cli_watch *cw = &cli_watch_cur;
  char *state = NULL;
  int ex;

  cw->g = g;
  cw->json = g->json;
  if (!no_state && !cw->w.state_path) {
    state = cli_watch_state_path(src, dst, o);
    if (!state)
      fprintf(stderr, "xtstore: sync: no $XDG_STATE_HOME or $HOME: watching "
                      "without a state file\n");
    cw->w.state_path = state;
  }
  /* JSON lines, not sync's array: a watch has no end to close it at. */
  g->json = 0;
  ex = cli_tree_run(g, "sync", src, dst, cli_watch_tree, o,
                    CLI_PROGRESS_OFF, need_objects);
  g->json = cw->json;
  free(state);
  return ex;
}

int cli_compare_run(cli_global *g, const cli_cmd *self, int argc,
                    char **argv, int migrate)
{
  cli_args a;
  cli_target log;
  xtstore_wf_opts o;
  const char *val, *log_text = NULL, *shard = NULL;
  store_error serr;
  uint64_t n;
  int id = 0, ex = CLI_EXIT_OK, progress = CLI_PROGRESS_AUTO, max_given = 0;
  int allow_empty = 0, watch = 0, watch_opt = 0, no_state = 0;
  cli_watch *cw = &cli_watch_cur;

  memset(cw, 0, sizeof *cw);
  cw->w.struct_size = sizeof cw->w;
  memset(&log, 0, sizeof log);
  memset(&o, 0, sizeof o);
  o.max_delete = CLI_MAX_DELETE_DEFAULT;
  cli_args_init(&a, g, self->name, argc, argv);
  while (!ex && (id = cli_args_next(&a, compare_opts, &val)) > 0) {
    switch (id) {
    case OPT_DRY_RUN:
      o.flags |= XTSTORE_WF_DRY_RUN;
      break;
    case OPT_CHECKSUM:
      o.flags |= XTSTORE_WF_CHECKSUM;
      break;
    case OPT_TRANSFERS:
      ex = cli_parse_number(self->name, "--transfers", val, 1, 256, &n);
      o.transfers = (uint32_t)n;
      break;
    case OPT_PROGRESS:
      progress = CLI_PROGRESS_ON;
      break;
    case OPT_NO_PROGRESS:
      progress = CLI_PROGRESS_OFF;
      break;
    case OPT_DELETE:
      o.flags |= XTSTORE_WF_DELETE;
      break;
    case OPT_MAX_DELETE:
      ex = cli_parse_number(self->name, "--max-delete", val, 0, UINT64_MAX,
                            &o.max_delete);
      max_given = 1;
      break;
    case OPT_LOG:
      log_text = val;
      break;
    case OPT_ALLOW_EMPTY:
      allow_empty = 1;
      break;
    case OPT_WATCH:
      watch = 1;
      break;
    case OPT_INTERVAL:
      ex = cli_watch_interval(val, &cw->w.interval_ms);
      watch_opt = 1;
      break;
    case OPT_STATE:
      cw->w.state_path = val;
      watch_opt = 1;
      break;
    case OPT_NO_STATE:
      no_state = watch_opt = 1;
      break;
    case OPT_MAX_POLLS:
      ex = cli_parse_number(self->name, "--max-polls", val, 1, UINT64_MAX,
                            &cw->w.max_polls);
      watch_opt = 1;
      break;
    case OPT_MAX_FAILURES:
      ex = cli_parse_number(self->name, "--max-failures", val, 0, UINT64_MAX,
                            &cw->w.max_failures);
      watch_opt = 1;
      break;
    case OPT_SHARD:
      shard = val;
      break;
    case OPT_RUN_ID:
      o.run_id = val;
      break;
    }
  }
  if (ex)
    return ex;
  if (id < 0)
    return cli_args_exit(self, id);
  if (migrate && ((o.flags & XTSTORE_WF_DELETE) || max_given))
    return cli_usage_error(self->name, "migrate deletes nothing: --delete "
                                       "and --max-delete are sync's");
  if (!migrate && log_text)
    return cli_usage_error(self->name, "--log is migrate's");
  if (migrate && (watch || watch_opt))
    return cli_usage_error(self->name, "--watch and its options are sync's");
  if (watch_opt && !watch)
    return cli_usage_error(self->name, "--interval, --state, --no-state, "
                                       "--max-polls and --max-failures go "
                                       "with --watch");
  if (watch && (o.flags & XTSTORE_WF_DRY_RUN))
    return cli_usage_error(self->name, "--watch does not dry-run: run sync "
                                       "--dry-run once");
  if (watch && progress == CLI_PROGRESS_ON)
    return cli_usage_error(self->name, "--watch shows no progress bar: it "
                                       "prints a line per object and per "
                                       "poll");
  if (no_state && cw->w.state_path)
    return cli_usage_error(self->name, "--state and --no-state contradict "
                                       "each other");
  if (!migrate && o.run_id)
    return cli_usage_error(self->name, "--run-id is migrate's");
  /* The shards of one run share its id: the scheduler's job sets it. */
  if (migrate && !o.run_id && (val = getenv("XTSTORE_RUN_ID")) && val[0])
    o.run_id = val;
  if (shard && xtstore_shard_parse(shard, &o.shard_index, &o.shard_count,
                                   &serr))
    return cli_usage_error(self->name, "%s", serr.message);
  /* Each shard alone would make up its own run id, and `runlog summary`
   * would see N one-shard runs, none of them the whole. */
  if (migrate && o.shard_count > 1 && !o.run_id)
    return cli_usage_error(self->name, "--shard %s: the shards of one run "
                                       "must share a run id: give --run-id "
                                       "ID or set XTSTORE_RUN_ID", shard);
  if (a.npos != 2)
    return cli_usage_error(self->name, "expected SRC and DST, got %d "
                                       "arguments",
                           a.npos);
  if (log_text)
    ex = open_log(g, self->name, log_text, &log, &o);
  if (!ex && watch)
    ex = cli_watch_run(g, a.pos[0], a.pos[1], &o, no_state, !allow_empty);
  else if (!ex)
    ex = cli_tree_run(g, self->name, a.pos[0], a.pos[1],
                      migrate ? xtstore_migrate : xtstore_sync, &o, progress,
                      !allow_empty);
  cli_target_free(&log);
  return ex;
}

static int sync_run(cli_global *g, const cli_cmd *self, int argc,
                    char **argv)
{
  return cli_compare_run(g, self, argc, argv, 0);
}

const cli_cmd cli_cmd_sync = {
  "sync",
  "make a target tree like a source tree (copy what differs, --delete)",
  "Usage: xtstore sync [OPTIONS] SRC DST\n"
  "\n"
  "Make DST like SRC. Both are trees: SERVICE:CONTAINER[/PREFIX] (ls's\n"
  "prefix rule) or a local directory (not both local). Both are listed\n"
  "completely, in name order, and compared name by name from the listings\n"
  "alone (no per-object request): an object is 'new' when DST lacks it,\n"
  "'update' when the sizes differ, or with --checksum when both listings\n"
  "carry CRC-32Cs (else MD5s) that differ, or else when both carry times\n"
  "and the source's is newer (whole seconds); otherwise 'equal'. New and\n"
  "updated objects are copied as cp -r copies them; equal ones are left\n"
  "alone (shown with -v).\n"
  "\n"
  "With --delete, objects only DST has are deleted too -- after every copy\n"
  "succeeded, and not at all when more than --max-delete would go (exit 5,\n"
  "nothing deleted) or when anything failed.\n"
  "\n"
  "With --watch it keeps DST in step: a sync, then another every\n"
  "--interval (each a 'poll': both listings again, no per-object request;\n"
  "--max-delete holds per poll). One line per object and one per poll\n"
  "('poll N: ...'), or with --json one JSON object per line ({event:\n"
  "\"object\", poll, status, source, target, size, error} and {event:\n"
  "\"poll\", poll, ok, objects, the counts, extra, bytes, milliseconds,\n"
  "error, failures, next_in_ms}). A failed poll is retried an interval\n"
  "later -- but listings failing before any poll of SRC and DST succeeded\n"
  "end it. SIGINT or SIGTERM ends it after the objects in flight (exit 0;\n"
  "that poll starts no other and deletes nothing); a second one abandons\n"
  "them, none left partial (exit 130). State:\n"
  "$XDG_STATE_HOME/xtstore/watch/ (default ~/.local/state).\n"
  "See docs/replication.md.\n"
  "\n"
  "A SRC with no objects is refused (exit 4, nothing copied or deleted): a\n"
  "wrong or empty prefix would otherwise copy nothing and, with --delete,\n"
  "delete everything at DST. --allow-empty-source runs it anyway. (With\n"
  "--watch such a poll fails and is retried.)\n"
  "\n"
  "Options:\n"
  "  --delete              delete DST objects that SRC lacks\n"
  "  --max-delete N        refuse to delete more than N (default 1000);\n"
  "                        the names to delete are held in memory; with\n"
  "                        --shard, N is per shard\n"
  "  --shard I/N|auto[/N]  handle only shard I of N (the FNV-1a hash of\n"
  "                        each name, docs/sharding.md); --delete deletes\n"
  "                        only this shard's objects\n"
  "  --allow-empty-source  run even when SRC has no objects (with --delete:\n"
  "                        delete everything at DST)\n"
  "  -c, --checksum        compare CRC-32Cs where both listings have them,\n"
  "                        else MD5s where both have them\n"
  "  --dry-run             print the plan; copy and delete nothing\n"
  "  --watch               keep syncing, every --interval (see above)\n"
  "  --interval D          between poll starts: 500ms, 30s (default), 5m, 1h\n"
  "  --state FILE          the watch's state file (default: see above)\n"
  "  --no-state            keep no state file\n"
  "  --max-polls N         end after N polls (exit: the last poll's)\n"
  "  --max-failures N      end after N failed polls in a row (default 0:\n"
  "                        never)\n"
  "  --transfers N         objects in flight, 1-256 (default: 2 per CPU,\n"
  "                        at least 4, at most 16)\n"
  CLI_PROGRESS_OPTIONS_HELP
  "  --json                a JSON array: one element per object (action,\n"
  "                        source, target, size, dry_run, status, error)\n"
  "                        and a summary element (--watch: JSON lines)\n"
  "  -h, --help            show this help\n"
  "\n"
  "Output: one line per object copied or deleted ('new: SRC -> DST (N\n"
  "bytes)', 'update: ...', 'delete: DST'), failures on stderr, then a\n"
  "summary. Exit 8 when some objects failed.\n"
  "\n"
  CLI_PROGRESS_HELP
  "\n"
  "Examples:\n"
  "  xtstore sync ./site scratch:www/\n"
  "  xtstore sync --delete --dry-run scratch:data/ archive:data/\n"
  "  xtstore sync --watch --interval 1m --delete scratch:in/ archive:in/\n",
  sync_run,
};
