/*
** cmd_runlog.c -- `xtstore runlog summary LOG...`: the one place an
** operator looks after a (sharded) migrate run. The logs, local files or
** SERVICE:C/KEYs, are read as streams, twice: the first pass finds each
** shard's latest attempt (a shard re-run after a failure supersedes its
** earlier records) and its shard_end record; the second counts the
** records of those attempts and prints the failures as it meets them.
** Memory: one line, and a few bytes per run and shard -- never per
** object.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define RL_LINE_MAX (1u << 20)   /* a record longer than this is not one */
#define RL_ATTEMPT  32

/* One shard of a run: its latest attempt and how that attempt ended. */
typedef struct rl_shard {
  char attempt[RL_ATTEMPT];
  int ended;                /* its shard_end record was read             */
  int ok;
  char *error;              /* of a shard_end that was not ok            */
} rl_shard;

typedef struct rl_run {
  char *id;
  uint32_t n;               /* shards; an unsharded run is shard 0/1     */
  int plain;                /* an unsharded record was read              */
  int sharded;              /* a sharded record was read                 */
  int mixed;                /* records disagree on sharded-ness or N     */
  rl_shard *shards;
  uint64_t count[XTSTORE_OBJ_NSTATUS];
  uint64_t bytes;           /* copied, by the latest attempts            */
  int reran;                /* a shard has more than one attempt         */
  uint64_t superseded;      /* records of earlier attempts               */
  uint64_t bytes_all;       /* copied, by every attempt                  */
} rl_run;

typedef struct rl_sum {
  cli_global *g;
  rl_run *runs;
  size_t nruns, cap;
  int pass;                 /* 1: attempts and ends; 2: counting         */
  const char *log;          /* the log being read, for messages          */
  uint64_t line;
  char *buf;                /* the line so far                           */
  size_t len, bcap;
  char bad[512];            /* why the log is not a run log              */
  uint64_t records, superseded;
  uint64_t count[XTSTORE_OBJ_NSTATUS];
  uint64_t bytes, bytes_all;
  int lost;                 /* logs that are not there                   */
  int reran;                /* a run's shard has more than one attempt   */
} rl_sum;

/* Why the log is not a run log (s->bad). Returns 1: stop reading. */
static int bad(rl_sum *s, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));
static int bad(rl_sum *s, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->bad, sizeof s->bad, fmt, ap);
  va_end(ap);
  return 1;
}

static rl_run *find_run(rl_sum *s, const char *id)
{
  rl_run *nv;
  size_t i, cap;

  for (i = 0; i < s->nruns; i++)
    if (strcmp(s->runs[i].id, id) == 0)
      return &s->runs[i];
  if (s->pass == 2)
    return NULL;
  if (s->nruns == s->cap) {
    cap = s->cap ? s->cap * 2 : 8;
    nv = realloc(s->runs, cap * sizeof(*nv));
    if (!nv)
      return NULL;
    s->runs = nv;
    s->cap = cap;
  }
  memset(&s->runs[s->nruns], 0, sizeof(*s->runs));
  s->runs[s->nruns].id = strdup(id);
  if (!s->runs[s->nruns].id)
    return NULL;
  return &s->runs[s->nruns++];
}

/* "I/N" into *i, *n; 0 when it is not one. */
static int parse_shard(const char *text, uint32_t *i, uint32_t *n)
{
  char tail;
  return sscanf(text, "%u/%u%c", i, n, &tail) == 2 && *n > 0 && *i < *n &&
         *n <= 65536;
}

static const char *str_of(json_t *o, const char *k)
{
  return json_string_value(json_object_get(o, k));
}

/* A record's attempt. Unsharded records written before every record
 * carried one have none: they are all one attempt. */
static const char *attempt_of(json_t *o, const char *shard)
{
  const char *attempt = str_of(o, "attempt");
  return attempt || shard ? attempt : "";
}

/* Pass 1: note the run, its shard's latest attempt and its end. An
 * unsharded run is shard 0/1, so its re-runs supersede each other too. */
static int first_pass(rl_sum *s, rl_run *r, json_t *o, const char *shard,
                      uint32_t i, uint32_t n)
{
  const char *attempt = attempt_of(o, shard), *rec = str_of(o, "record");
  rl_shard *sh;

  if (shard)
    r->sharded = 1;
  else
    r->plain = 1;
  r->mixed |= r->plain && r->sharded;
  if (!attempt || strlen(attempt) >= RL_ATTEMPT)
    return bad(s, "a sharded record without its attempt");
  if (!r->n && !r->shards) {
    r->shards = calloc(n, sizeof(*r->shards));
    if (!r->shards)
      return bad(s, "out of memory");
    r->n = n;
  }
  if (r->n != n) {
    r->mixed = 1;
    return 0;
  }
  sh = &r->shards[i];
  if (sh->attempt[0] && strcmp(attempt, sh->attempt) != 0)
    r->reran = s->reran = 1;
  if (strcmp(attempt, sh->attempt) > 0) {
    snprintf(sh->attempt, sizeof sh->attempt, "%s", attempt);
    sh->ended = sh->ok = 0;
    free(sh->error);
    sh->error = NULL;
  }
  if (rec && strcmp(rec, "shard_end") == 0 &&
      strcmp(attempt, sh->attempt) == 0) {
    sh->ended = 1;
    sh->ok = json_is_true(json_object_get(o, "ok"));
    if (!sh->ok && str_of(o, "error"))
      sh->error = strdup(str_of(o, "error"));
  }
  return 0;
}

static void print_failure(rl_sum *s, const rl_run *r, const char *shard,
                          json_t *o)
{
  json_t *j;

  if (s->g->json) {
    j = json_pack("{s:s, s:s, s:O?, s:O?, s:O?, s:O?}", "type", "failure",
                  "run_id", r->id, "shard", json_object_get(o, "shard"),
                  "source", json_object_get(o, "source_name"),
                  "target", json_object_get(o, "target_name"),
                  "error", json_object_get(o, "error"));
    cli_json_array_item(s->g, j);
    return;
  }
  printf("failed: %s%s%s%s -> %s: %s\n", shard ? "[" : "",
         shard ? cli_safe(shard) : "", shard ? "] " : "",
         cli_safe(str_of(o, "source_name") ? str_of(o, "source_name") : "-"),
         cli_safe(str_of(o, "target_name") ? str_of(o, "target_name") : "-"),
         cli_safe(str_of(o, "error") ? str_of(o, "error") : "?"));
}

/* Pass 2: count an object record of a shard's latest attempt. */
static void second_pass(rl_sum *s, rl_run *r, json_t *o, const char *shard,
                        uint32_t i)
{
  const char *status = str_of(o, "status"), *attempt = attempt_of(o, shard);
  json_t *size = json_object_get(o, "source_size");
  uint64_t copied = 0;
  uint32_t st;

  if (!status)
    return;
  for (st = 0; st < XTSTORE_OBJ_NSTATUS; st++)
    if (strcmp(status, xtstore_object_status_name(st)) == 0)
      break;
  if ((st == XTSTORE_OBJ_NEW || st == XTSTORE_OBJ_UPDATE ||
       st == XTSTORE_OBJ_COPIED) && json_is_integer(size))
    copied = (uint64_t)json_integer_value(size);
  /* Bytes an earlier attempt copied were sent all the same. */
  r->bytes_all += copied;
  s->bytes_all += copied;
  if (!r->mixed &&
      (!attempt || strcmp(attempt, r->shards[i].attempt) != 0)) {
    r->superseded++;
    s->superseded++;
    return;
  }
  s->records++;
  if (st == XTSTORE_OBJ_NSTATUS)
    return;
  r->count[st]++;
  s->count[st]++;
  r->bytes += copied;
  s->bytes += copied;
  if (st == XTSTORE_OBJ_FAILED)
    print_failure(s, r, shard, o);
}

/* One line of a log. Returns non-zero (s->bad says why) to stop. */
static int one_line(rl_sum *s, const char *line)
{
  json_t *o;
  const char *id, *shard;
  uint32_t i = 0, n = 0;
  rl_run *r;
  int stop = 0;

  if (!line[strspn(line, " \t\r")])
    return 0;
  o = json_loads(line, 0, NULL);
  id = o ? str_of(o, "run_id") : NULL;
  shard = o ? str_of(o, "shard") : NULL;
  if (!id || (!str_of(o, "status") && !str_of(o, "record"))) {
    json_decref(o);
    return bad(s, "not a run-log record");
  }
  if (shard && !parse_shard(shard, &i, &n)) {
    /* shard points into o: say it before letting o go. */
    stop = bad(s, "shard '%s' is not I/N", cli_safe(shard));
    json_decref(o);
    return stop;
  }
  if (!shard)
    n = 1;
  r = find_run(s, id);
  if (!r && s->pass == 1)
    stop = bad(s, "out of memory");
  else if (s->pass == 1)
    stop = first_pass(s, r, o, shard, i, n);
  else if (r)
    second_pass(s, r, o, shard, i);
  json_decref(o);
  return stop;
}

/* store_write_fn: split the stream into lines. */
static int32_t feed(void *ud, const void *p, size_t n)
{
  rl_sum *s = ud;
  const char *c = p, *nl;
  size_t take;
  char *nb;

  while (n > 0) {
    nl = memchr(c, '\n', n);
    take = nl ? (size_t)(nl - c) : n;
    if (s->len + take + 1 > RL_LINE_MAX) {
      bad(s, "a line longer than %u bytes", RL_LINE_MAX);
      return STORE_E_INVALID;
    }
    if (s->len + take + 1 > s->bcap) {
      nb = realloc(s->buf, s->len + take + 1);
      if (!nb)
        return STORE_E_NOMEM;
      s->buf = nb;
      s->bcap = s->len + take + 1;
    }
    memcpy(s->buf + s->len, c, take);
    s->len += take;
    s->buf[s->len] = '\0';
    c += take;
    n -= take;
    if (!nl)
      break;
    c++;
    n--;
    s->line++;
    s->len = 0;
    if (one_line(s, s->buf))
      return STORE_E_INVALID;
  }
  return STORE_OK;
}

/* Read one log through feed. Returns an exit code (reported). */
static int read_log(rl_sum *s, const char *verb, cli_target *t)
{
  store_error err;
  char chunk[65536];
  ssize_t got;
  int fd = -1, rc = STORE_OK;

  memset(&err, 0, sizeof err);
  s->line = 0;
  s->len = 0;
  s->bad[0] = '\0';
  if (t->a.kind == XTSTORE_ADDR_LOCAL) {
    fd = open(t->a.path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      rc = cli_sys_error(&err, errno, "run log", t->a.path);
    while (!rc && (got = read(fd, chunk, sizeof chunk)) != 0) {
      if (got < 0 && errno == EINTR)
        continue;
      rc = got < 0 ? cli_sys_error(&err, errno, "run log", t->a.path)
                   : feed(s, chunk, (size_t)got);
    }
    if (fd >= 0)
      close(fd);
  } else {
    rc = cli_target_open(s->g, t, &err);
    if (!rc)
      rc = xtstore_blob_get(t->svc, t->a.container, t->a.key, NULL, feed, s,
                            &err);
  }
  /* A last line without its newline. */
  if (!rc && s->len) {
    s->line++;
    if (one_line(s, s->buf))
      rc = STORE_E_INVALID;
  }
  if (s->bad[0]) {
    fprintf(stderr, "xtstore: %s: %s:%llu: %s\n", verb, cli_safe(s->log),
            (unsigned long long)s->line, s->bad);
    return CLI_EXIT_FAILURE;
  }
  /* A log that is not there is a shard that did not report (or wrote
   * elsewhere): one line, once, and the others are still summarised. */
  if (rc == STORE_E_NOT_FOUND) {
    if (s->pass == 1) {
      fprintf(stderr, "xtstore: %s: %s: no such run log (its shard did not "
              "report?); reading the others\n", verb, cli_safe(s->log));
      s->lost++;
    }
    return CLI_EXIT_OK;
  }
  if (rc == STORE_E_NOMEM && !err.code)
    store_error_set(&err, rc, "out of memory");
  return rc ? cli_fail(verb, rc, &err) : CLI_EXIT_OK;
}

static json_t *counts_json(const uint64_t *count)
{
  json_t *c = json_object();
  uint32_t st;

  for (st = 0; c && st < XTSTORE_OBJ_NSTATUS; st++)
    json_object_set_new(c, xtstore_object_status_name(st),
                        json_integer((json_int_t)count[st]));
  return c;
}

static void counts_text(const char *lead, const uint64_t *count,
                        uint64_t bytes)
{
  char size[32];
  uint32_t st;

  cli_format_size(bytes, size, sizeof size);
  printf("%s", lead);
  for (st = 0; st < XTSTORE_OBJ_NSTATUS; st++)
    printf("%s%s %llu", st ? ", " : "", xtstore_object_status_name(st),
           (unsigned long long)count[st]);
  printf("; %s copied\n", size);
}

/* Report one run; returns its exit code: 4 when a shard is missing (or
 * the shards disagree), 8 when a failure is recorded, else 0. */
static int report_run(rl_sum *s, const rl_run *r)
{
  json_t *j = NULL, *missing = NULL, *failed = NULL;
  uint32_t i, reported = 0;
  int ex = r->count[XTSTORE_OBJ_FAILED] ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
  char lead[160];

  if (s->g->json) {
    missing = json_array();
    failed = json_array();
  }
  /* An unsharded run writes no shard_end: its records are its report. */
  for (i = 0; !r->plain && i < r->n; i++) {
    const rl_shard *sh = &r->shards[i];
    if (!sh->ended) {
      if (s->g->json)
        json_array_append_new(missing, json_integer(i));
      else
        printf("run %s: shard %u/%u did not report%s\n", cli_safe(r->id), i,
               r->n, sh->attempt[0] ? " (no shard_end: killed?)" : "");
      continue;
    }
    reported++;
    if (sh->ok)
      continue;
    ex = CLI_EXIT_PARTIAL;
    if (s->g->json)
      json_array_append_new(failed, json_pack("{s:i, s:s?}", "shard", (int)i,
                                              "error", sh->error));
    else
      printf("run %s: shard %u/%u failed: %s\n", cli_safe(r->id), i, r->n,
             cli_safe(sh->error ? sh->error : "?"));
  }
  if (r->mixed || (!r->plain && reported < r->n))
    ex = CLI_EXIT_NOT_FOUND;
  if (s->g->json) {
    j = json_pack("{s:s, s:s, s:o, s:i, s:o, s:o, s:b, s:o, s:I, s:I, s:I, "
                  "s:b}", "type", "run", "run_id", r->id,
                  "shards", r->plain ? json_null() : json_integer(r->n),
                  "reported", (int)(r->plain ? 1 : reported),
                  "missing", missing, "failed_shards", failed,
                  "mixed", r->mixed, "count", counts_json(r->count),
                  "bytes", (json_int_t)r->bytes,
                  "superseded", (json_int_t)r->superseded,
                  "bytes_all_attempts", (json_int_t)r->bytes_all,
                  "complete", ex == 0);
    cli_json_array_item(s->g, j);
    return ex;
  }
  if (r->mixed)
    printf("run %s: its records disagree on the number of shards\n",
           cli_safe(r->id));
  if (!r->plain)
    snprintf(lead, sizeof lead, "run %s: %u of %u shards reported%s: ",
             cli_safe(r->id), reported, r->n,
             r->reran ? " (latest attempts)" : "");
  else
    snprintf(lead, sizeof lead, "run %s (unsharded%s): ", cli_safe(r->id),
             r->reran ? ", latest attempt" : "");
  counts_text(lead, r->count, r->bytes);
  return ex;
}

static int summary(cli_global *g, const char *verb, int nlogs, char **logs)
{
  rl_sum s;
  cli_target *t;
  size_t i;
  int ex = CLI_EXIT_OK, rex, k, read = 0;
  char size[32];

  memset(&s, 0, sizeof s);
  s.g = g;
  t = calloc((size_t)nlogs, sizeof(*t));
  if (!t) {
    fprintf(stderr, "xtstore: %s: out of memory\n", verb);
    return CLI_EXIT_FAILURE;
  }
  for (k = 0; !ex && k < nlogs; k++)
    ex = cli_target_parse(verb, logs[k], CLI_NEED_LOCAL_OK | CLI_NEED_KEY,
                          &t[k]);
  if (g->json && !ex)
    cli_json_array_begin(g);
  for (s.pass = 1; !ex && s.pass <= 2; s.pass++)
    for (k = 0; !ex && k < nlogs; k++) {
      s.log = logs[k];
      ex = read_log(&s, verb, &t[k]);
    }
  read = !ex;
  for (i = 0; read && i < s.nruns; i++) {
    rex = report_run(&s, &s.runs[i]);
    /* A missing shard outranks a failure: the run is not even done. */
    if (rex == CLI_EXIT_NOT_FOUND || (rex && !ex))
      ex = rex;
  }
  if (read && s.lost)
    ex = CLI_EXIT_NOT_FOUND;
  if (read) {
    if (g->json)
      cli_json_array_item(g, json_pack(
        "{s:s, s:i, s:i, s:i, s:I, s:I, s:o, s:I, s:I, s:b}", "type",
        "summary", "logs", nlogs, "logs_missing", s.lost, "runs",
        (int)s.nruns, "records", (json_int_t)s.records, "superseded",
        (json_int_t)s.superseded, "count", counts_json(s.count), "bytes",
        (json_int_t)s.bytes, "bytes_all_attempts", (json_int_t)s.bytes_all,
        "ok", ex == 0));
    else {
      counts_text(s.reran ? "total (latest attempts): " : "total: ",
                  s.count, s.bytes);
      cli_format_size(s.bytes_all, size, sizeof size);
      if (s.reran)
        printf("(%llu records of earlier attempts of re-run shards not "
               "counted; %s copied over all attempts)\n",
               (unsigned long long)s.superseded, size);
      if (s.lost)
        printf("(%d of %d logs not there: their shards did not report)\n",
               s.lost, nlogs);
    }
  }
  for (i = 0; i < s.nruns; i++) {
    for (k = 0; k < (int)s.runs[i].n; k++)
      free(s.runs[i].shards[k].error);
    free(s.runs[i].shards);
    free(s.runs[i].id);
  }
  for (k = 0; k < nlogs; k++)
    cli_target_free(&t[k]);
  free(t);
  free(s.runs);
  free(s.buf);
  return ex;
}

static const cli_opt runlog_opts[] = {
  { NULL, 0, 0, 0 },
};

static int runlog_run(cli_global *g, const cli_cmd *self, int argc,
                      char **argv)
{
  cli_args a;
  const char *val;
  int id;

  cli_args_init(&a, g, self->name, argc, argv);
  id = cli_args_next(&a, runlog_opts, &val);
  if (id < 0)
    return cli_args_exit(self, id);
  if (a.npos < 1 || strcmp(a.pos[0], "summary") != 0)
    return cli_usage_error(self->name, "expected 'summary LOG...'");
  if (a.npos < 2)
    return cli_usage_error(self->name, "summary: expected at least one LOG "
                                       "(a file or SERVICE:C/KEY)");
  return summary(g, self->name, a.npos - 1, a.pos + 1);
}

const cli_cmd cli_cmd_runlog = {
  "runlog",
  "summarise migrate run logs, of every shard of a run",
  "Usage: xtstore runlog summary LOG... [--json]\n"
  "\n"
  "Read migrate's run logs (local files or SERVICE:CONTAINER/KEYs, e.g.\n"
  "one per shard) and print, for each run id, whether every shard 0..N-1\n"
  "reported (its shard_end record), the counts per status and the bytes\n"
  "copied; every failed object with its error; and the totals. A shard\n"
  "re-run after a failure is a new attempt: only each shard's latest\n"
  "attempt is counted (the older records are said, not counted). Logs are\n"
  "read as streams, twice; memory does not grow with the objects.\n"
  "\n"
  "Output: 'failed: [I/N] SRC -> DST: ERROR' per failed object, 'run ID:\n"
  "shard I/N did not report' per missing shard, one line per run and a\n"
  "'total:' line. --json: a JSON array of {type: \"failure\", run_id,\n"
  "shard, source, target, error}, then per run {type: \"run\", run_id,\n"
  "shards (null: unsharded), reported, missing: [I...], failed_shards:\n"
  "[{shard, error}], mixed, count: {STATUS: N}, bytes, superseded,\n"
  "bytes_all_attempts, complete}, and {type: \"summary\", logs,\n"
  "logs_missing, runs, records, superseded, count, bytes,\n"
  "bytes_all_attempts, ok}. After re-runs the counts are of the latest\n"
  "attempts; bytes_all_attempts is what every attempt copied. An unsharded\n"
  "run is one shard: its re-runs with the same run id supersede too.\n"
  "\n"
  "Exit: 0 every shard of every run reported and nothing failed; 4 a shard\n"
  "did not report (or its records disagree on N, or a LOG is not there:\n"
  "the others are still summarised): re-run it; 8 an object\n"
  "or a shard failed (and every shard reported); 1 a log is not a run log\n"
  "(LOG:LINE says where); as for get when a log cannot be read.\n"
  "\n"
  "Examples:\n"
  "  xtstore runlog summary shard-*.jsonl\n"
  "  xtstore runlog summary archive:logs/run1/0.jsonl "
  "archive:logs/run1/1.jsonl\n",
  runlog_run,
};
