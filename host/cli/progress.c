/*
** progress.c -- what a transfer shows while it runs and when it ends.
**
** The library reports a workflow through xtstore_progress events; single
** put/get/cp build the same events from their byte counters, so one
** renderer serves every verb:
**   - stdout: one result line per object ("new: A -> B (N bytes)"), or one
**     element of the --json array, and a summary for the tree verbs;
**   - stderr: the progress display, when stderr is a terminal (after a
**     second, so short transfers show nothing) or with --progress: a bar
**     redrawn in place on a terminal at most 5 times a second (one line a
**     second on a pipe), or with --json one JSON event per line.
** Failed objects are one error line each on stderr, as every error.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define CLI_BAR_WIDTH 20

static double cli_elapsed(const cli_progress *p)
{
  struct timespec now;

  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - p->t0.tv_sec) +
         (double)(now.tv_nsec - p->t0.tv_nsec) / 1e9;
}

void cli_progress_init(cli_progress *p, cli_global *g, const char *verb,
                       int want)
{
  memset(p, 0, sizeof *p);
  p->g = g;
  p->verb = verb;
  p->action = "copy";
  p->show_equal = g->verbose > 0;
  p->tty = isatty(STDERR_FILENO);
  p->forced = want == CLI_PROGRESS_ON;
  if (want == CLI_PROGRESS_OFF || (!p->forced && (!p->tty || g->quiet)))
    p->mode = CLI_PROGRESS_OFF;
  else
    p->mode = g->json ? CLI_PROGRESS_JSON : CLI_PROGRESS_BAR;
  p->cur.struct_size = sizeof p->cur;
  clock_gettime(CLOCK_MONOTONIC, &p->t0);
}

/* Whether an update is due now: throttled, and on a terminal that was not
 * asked for, only once the transfer has run a second. */
static int cli_due(cli_progress *p)
{
  double now = cli_elapsed(p);
  double every = p->mode == CLI_PROGRESS_BAR && !p->tty ? 1.0 : 0.2;

  if (!p->forced && !p->shown && now < 1.0)
    return 0;
  if (p->shown && now - p->last < every)
    return 0;
  p->last = now;
  return 1;
}

/* Take the bar off the terminal before other output. */
static void cli_bar_clear(cli_progress *p)
{
  if (!p->drawn)
    return;
  fputs("\r\033[K", stderr);
  p->drawn = 0;
}

static void cli_duration(double secs, char *buf, size_t cap)
{
  unsigned long s = secs > 0 ? (unsigned long)(secs + 0.5) : 0;

  snprintf(buf, cap, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
}

static void cli_bar_draw(cli_progress *p, int final)
{
  const xtstore_progress *c = &p->cur;
  char done[32], total[32], rate[32], eta[32], bar[CLI_BAR_WIDTH + 1];
  double secs = cli_elapsed(p);
  double bps = secs > 0 ? (double)c->bytes_done / secs : 0;
  int known = c->totals_final && c->bytes_total > 0;
  int pct = known ? (int)(c->bytes_done * 100 / c->bytes_total) : 0;
  int i, fill = known ? pct * CLI_BAR_WIDTH / 100 : 0;

  if (pct > 100)
    pct = 100;
  for (i = 0; i < CLI_BAR_WIDTH; i++)
    bar[i] = i < fill ? '#' : '-';
  bar[CLI_BAR_WIDTH] = '\0';
  cli_format_size(c->bytes_done, done, sizeof done);
  cli_format_size(c->bytes_total, total, sizeof total);
  cli_format_size((uint64_t)bps, rate, sizeof rate);
  if (known && bps > 0 && c->bytes_done < c->bytes_total)
    cli_duration((double)(c->bytes_total - c->bytes_done) / bps, eta,
                 sizeof eta);
  else
    snprintf(eta, sizeof eta, "-");
  if (p->tty)
    fputs("\r", stderr);
  if (known)
    fprintf(stderr, "%s: %3d%% [%s] %s / %s", p->verb, pct, bar, done,
            total);
  else
    fprintf(stderr, "%s: %s", p->verb, done);
  fprintf(stderr, ", %s/s, ETA %s, %llu/%llu%s objects", rate, eta,
          (unsigned long long)c->objects_done,
          (unsigned long long)c->objects_total, c->totals_final ? "" : "+");
  if (c->objects_failed)
    fprintf(stderr, " (%llu failed)", (unsigned long long)c->objects_failed);
  if (p->tty && !final) {
    fputs("\033[K", stderr);
    p->drawn = 1;
  } else {
    fputs(p->tty ? "\033[K\n" : "\n", stderr);
    p->drawn = 0;
  }
  fflush(stderr);
  p->shown = 1;
}

/* Seconds to the millisecond (printed with JSON_REAL_PRECISION: jansson
 * would print every digit of the double). */
static json_t *cli_json_secs(double secs)
{
  return json_real(round(secs * 1000) / 1000);
}

/* One JSON event on stderr: {"event": NAME, ...o}. Steals o. */
static void cli_json_event(cli_progress *p, const char *name, json_t *o)
{
  json_t *ev = json_object();
  char *s;

  if (ev && o) {
    json_object_set_new(ev, "event", json_string(name));
    json_object_update(ev, o);
    s = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER |
                           JSON_REAL_PRECISION(9));
    if (s) {
      fprintf(stderr, "%s\n", s);
      fflush(stderr);
      free(s);
    }
  }
  json_decref(ev);
  json_decref(o);
  p->shown = 1;
}

/* The counters as JSON. New reference. */
static json_t *cli_json_counters(cli_progress *p)
{
  const xtstore_progress *c = &p->cur;
  double secs = cli_elapsed(p);
  double bps = secs > 0 ? (double)c->bytes_done / secs : 0;
  json_t *o = json_object();

  if (!o)
    return NULL;
  json_object_set_new(o, "elapsed", cli_json_secs(secs));
  json_object_set_new(o, "bytes", json_integer((json_int_t)c->bytes_done));
  json_object_set_new(o, "bytes_total",
                      json_integer((json_int_t)c->bytes_total));
  json_object_set_new(o, "objects", json_integer((json_int_t)c->objects_done));
  json_object_set_new(o, "objects_total",
                      json_integer((json_int_t)c->objects_total));
  json_object_set_new(o, "failed",
                      json_integer((json_int_t)c->objects_failed));
  json_object_set_new(o, "totals_final", json_boolean(c->totals_final));
  json_object_set_new(o, "rate", json_integer((json_int_t)bps));
  json_object_set_new(o, "eta",
                      c->totals_final && bps > 0 &&
                          c->bytes_done < c->bytes_total
                        ? cli_json_secs((double)(c->bytes_total -
                                                 c->bytes_done) /
                                        bps)
                        : json_null());
  return o;
}

/* What was done to an object: its status on a result line ("new: A ->
 * B"), the action in JSON (whose status says the rest). */
static const char *cli_action_word(const cli_progress *p,
                                   const xtstore_progress *ev, int json)
{
  switch (ev->status) {
  case XTSTORE_OBJ_NEW:
  case XTSTORE_OBJ_UPDATE:
    return json ? p->action : xtstore_object_status_name(ev->status);
  case XTSTORE_OBJ_EQUAL:
    return json ? "skip" : "equal";
  case XTSTORE_OBJ_DELETED:
    return "delete";
  default:
    return p->action;
  }
}

/* The result of one object on stdout (and a failure on stderr). */
static void cli_object_result(cli_progress *p, const xtstore_progress *ev)
{
  cli_action act;
  json_t *o;

  if (ev->status == XTSTORE_OBJ_FAILED) {
    cli_bar_clear(p);
    fprintf(stderr, "xtstore: %s: %s%s%s: %s\n", p->verb,
            cli_safe(ev->source ? ev->source : ""), ev->source ? " -> " : "",
            cli_safe(ev->target ? ev->target : ""),
            cli_safe(ev->error ? ev->error : store_strerror(ev->code)));
    if (!p->first_error[0])
      snprintf(p->first_error, sizeof p->first_error, "%s",
               ev->error ? ev->error : "");
  }
  if (p->g->json) {
    o = json_object();
    if (!o)
      return;
    json_object_set_new(o, "action",
                        json_string(cli_action_word(p, ev, 1)));
    json_object_set_new(o, "source", cli_json_str(ev->source));
    json_object_set_new(o, "target", cli_json_str(ev->target));
    json_object_set_new(o, "size", json_integer((json_int_t)ev->size));
    json_object_set_new(o, "dry_run", json_boolean(ev->dry_run));
    json_object_set_new(o, "status",
                        json_string(xtstore_object_status_name(ev->status)));
    json_object_set_new(o, "error", cli_json_str(ev->error));
    cli_json_array_item(p->g, o);
    return;
  }
  if (ev->status == XTSTORE_OBJ_FAILED ||
      (ev->status == XTSTORE_OBJ_EQUAL && !p->show_equal))
    return;
  memset(&act, 0, sizeof act);
  act.action = cli_action_word(p, ev, 0);
  act.source = ev->source;
  act.target = ev->target;
  act.size = ev->status == XTSTORE_OBJ_DELETED ? -1 : (int64_t)ev->size;
  act.dry_run = (int)ev->dry_run;
  cli_bar_clear(p);
  cli_report(p->g, &act);
  fflush(stdout);
}

static void cli_progress_object(cli_progress *p, const xtstore_progress *ev)
{
  json_t *o;

  cli_object_result(p, ev);
  if (p->mode != CLI_PROGRESS_JSON)
    return;
  o = json_object();
  if (!o)
    return;
  json_object_set_new(o, "source", cli_json_str(ev->source));
  json_object_set_new(o, "target", cli_json_str(ev->target));
  json_object_set_new(o, "size", json_integer((json_int_t)ev->size));
  json_object_set_new(o, "status",
                      json_string(xtstore_object_status_name(ev->status)));
  json_object_set_new(o, "dry_run", json_boolean(ev->dry_run));
  json_object_set_new(o, "error", cli_json_str(ev->error));
  cli_json_event(p, "object", o);
}

void cli_progress_event(void *ud, const xtstore_progress *ev)
{
  cli_progress *p = ud;
  uint32_t event = ev->event;
  json_t *o;

  /* Keep the counters; the object fields are the event's own. */
  p->cur = *ev;
  p->cur.source = p->cur.target = p->cur.error = NULL;
  if (event == XTSTORE_EV_OBJECT)
    cli_progress_object(p, ev);
  if (p->mode == CLI_PROGRESS_OFF)
    return;
  if (event == XTSTORE_EV_START) {
    if (p->mode == CLI_PROGRESS_JSON) {
      o = json_object();
      if (o)
        json_object_set_new(o, "verb", json_string(p->verb));
      cli_json_event(p, "start", o);
    }
    return;
  }
  if (event == XTSTORE_EV_DONE) {
    if (p->mode == CLI_PROGRESS_JSON) {
      o = cli_json_counters(p);
      if (o)
        json_object_set_new(o, "ok", json_boolean(ev->objects_failed == 0));
      cli_json_event(p, "done", o);
    } else if (p->shown || p->forced) {
      cli_bar_draw(p, 1);
    }
    return;
  }
  /* BYTES, OBJECT and LISTED: a progress update when one is due. */
  if (event != XTSTORE_EV_LISTED && !cli_due(p))
    return;
  if (p->mode == CLI_PROGRESS_JSON)
    cli_json_event(p, "progress", cli_json_counters(p));
  else if (event != XTSTORE_EV_LISTED || p->shown)
    cli_bar_draw(p, 0);
}

/* Send one event of a single transfer. */
static void cli_progress_send(cli_progress *p, uint32_t event)
{
  xtstore_progress ev = p->cur;

  ev.event = event;
  cli_progress_event(p, &ev);
}

void cli_progress_single(cli_progress *p, int64_t size)
{
  p->cur.objects_total = 1;
  p->cur.bytes_total = size > 0 ? (uint64_t)size : 0;
  p->cur.totals_final = 1;
  cli_progress_send(p, XTSTORE_EV_START);
}

void cli_progress_size(cli_progress *p, uint64_t size)
{
  p->cur.bytes_total = size;
  p->cur.totals_final = 1;
}

void cli_progress_bytes(void *ud, uint64_t n)
{
  cli_progress *p = ud;

  p->cur.bytes_done += n;
  cli_progress_send(p, XTSTORE_EV_BYTES);
}

void cli_progress_end(cli_progress *p, int failed)
{
  p->cur.objects_done = 1;
  p->cur.objects_failed = failed != 0;
  cli_progress_send(p, XTSTORE_EV_DONE);
}

void cli_progress_summary(cli_progress *p, const xtstore_wf_stats *st,
                          int dry_run)
{
  static const char *const keys[XTSTORE_OBJ_NSTATUS] = {
    "copied", "new", "update", "equal", "deleted", "failed",
  };
  char size[32];
  json_t *o;
  size_t i;
  int first = 1;

  if (p->g->json) {
    o = json_object();
    if (!o)
      return;
    json_object_set_new(o, "action", json_string("summary"));
    json_object_set_new(o, "objects", json_integer((json_int_t)st->objects));
    for (i = 0; i < XTSTORE_OBJ_NSTATUS; i++)
      json_object_set_new(o, keys[i], json_integer((json_int_t)st->count[i]));
    json_object_set_new(o, "extra", json_integer((json_int_t)st->extra));
    json_object_set_new(o, "bytes", json_integer((json_int_t)st->bytes));
    /* An integer: the array's elements are printed at full precision. */
    json_object_set_new(o, "milliseconds",
                        json_integer((json_int_t)(st->seconds * 1000 + 0.5)));
    json_object_set_new(o, "dry_run", json_boolean(dry_run));
    cli_json_array_item(p->g, o);
    return;
  }
  if (p->g->quiet && !dry_run)
    return;
  cli_format_size(st->bytes, size, sizeof size);
  printf("%s%s: %llu objects:", dry_run ? "(dryrun) " : "", p->verb,
         (unsigned long long)st->objects);
  for (i = 0; i < XTSTORE_OBJ_NSTATUS; i++)
    if (st->count[i] || i == XTSTORE_OBJ_FAILED) {
      printf("%s %llu %s", first ? "" : ",",
             (unsigned long long)st->count[i], keys[i]);
      first = 0;
    }
  if (st->extra)
    printf(", %llu only at the target", (unsigned long long)st->extra);
  printf("; %s %s in %.1f s\n", size, dry_run ? "to copy" : "copied",
         st->seconds);
}

int cli_progress_exit(cli_progress *p, int rc, const store_error *err,
                      const xtstore_wf_stats *st)
{
  uint64_t failed = st->count[XTSTORE_OBJ_FAILED];

  if (rc == STORE_OK)
    return CLI_EXIT_OK;
  /* An object's failure was reported on its own line; anything else (a
   * listing, the --max-delete guard, the run log) is reported here. */
  if (!failed || strcmp(err->message, p->first_error) != 0)
    return cli_fail(p->verb, rc, err);
  return st->objects > failed ? CLI_EXIT_PARTIAL : cli_exit_code(rc);
}
