/*
** cmd_cleanup.c -- `xtstore cleanup`: the uploads in parts left
** unfinished in a container, from two sources merged: this machine's
** journals (runs that died: kill -9, a crash) and the service's own list
** (xtstore_multipart_list: uploads begun on another machine, by another
** tool, by a pipe, or whose journal was lost; "foreign" here). Dry run
** unless --yes, which aborts the stale ones.
*/
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

enum { OPT_YES = 1, OPT_OLDER };

static const cli_opt cleanup_opts[] = {
  { "yes", 'y', 0, OPT_YES },
  { "older-than", 0, 1, OPT_OLDER },
  { NULL, 0, 0, 0 },
};

#define CLEANUP_OLDER_DEFAULT (24 * 3600)
#define CLEANUP_OLDER_MAX     (36500ULL * 86400)   /* 100 years */

/* One upload the service listed; known when a journal of this service
 * names it too; busy_as when a running xtstore journaled it under another
 * service name (the same bucket reached by two names). */
struct listed {
  char *key, *upload_id;
  int64_t initiated, last_activity;
  int known;
  char *busy_as;
};

struct cleanup {
  cli_global *g;
  const char *verb, *service, *container;
  xtstore_svc *svc;
  int yes;
  int64_t now, older;       /* foreign uploads younger than this are kept */
  struct listed *up;        /* what the service listed                    */
  size_t nup, capup;
  cli_tally tally;
  unsigned n, stale;
  const char *other;        /* the service whose journals are read      */
  int other_rc;             /* reading them failed: why in other_err    */
  store_error other_err;
};

/* xtstore_svc_upload_fn: keep a copy of one listed upload. */
static int collect(void *ud, const store_upload *u)
{
  struct cleanup *c = ud;
  struct listed *l;

  if (c->nup == c->capup) {
    size_t cap = c->capup ? 2 * c->capup : 16;
    l = realloc(c->up, cap * sizeof *l);
    if (!l)
      return STORE_E_NOMEM;
    c->up = l;
    c->capup = cap;
  }
  l = &c->up[c->nup];
  l->key = strdup(u->key);
  l->upload_id = strdup(u->upload_id);
  l->initiated = u->initiated;
  l->last_activity = u->last_activity;
  l->known = 0;
  l->busy_as = NULL;
  if (!l->key || !l->upload_id) {
    free(l->key);
    free(l->upload_id);
    return STORE_E_NOMEM;
  }
  c->nup++;
  return 0;
}

static void listed_free(struct cleanup *c)
{
  for (size_t i = 0; i < c->nup; i++) {
    free(c->up[i].key);
    free(c->up[i].upload_id);
    free(c->up[i].busy_as);
  }
  free(c->up);
}

/* Abort one upload; *gone when the service no longer had it (completed
 * or aborted since it was listed: nothing was aborted now). Returns the
 * exit code of this upload. */
static int abort_one(struct cleanup *c, const char *key, const char *id,
                     int *gone)
{
  store_error err;
  int rc;

  memset(&err, 0, sizeof err);
  rc = xtstore_multipart_abort(c->svc, c->container, key, id, &err);
  *gone = rc == STORE_E_NOT_FOUND;
  if (*gone)
    rc = STORE_OK;
  return rc ? cli_fail(c->verb, rc, &err) : CLI_EXIT_OK;
}

/* One line (or JSON element) per upload. age < 0: unknown. */
static void show(struct cleanup *c, const char *action, const char *origin,
                 const char *key, const char *id, int64_t age,
                 const xtstore_upload_info *j, const char *busy)
{
  char size[32], old[48];
  json_t *o;

  if (c->g->json) {
    /* Keys are bytes: one not UTF-8 is shown with '?' (cli_json_str),
     * never left out of the array. */
    o = json_object();
    if (!o)
      return;
    json_object_set_new(o, "action", json_string(action));
    json_object_set_new(o, "origin", json_string(origin));
    json_object_set_new(o, "service", cli_json_str(c->service));
    json_object_set_new(o, "container", cli_json_str(c->container));
    json_object_set_new(o, "key", cli_json_str(key));
    json_object_set_new(o, "upload_id", cli_json_str(id));
    json_object_set_new(o, "age_s", age < 0 ? json_null()
                                            : json_integer((json_int_t)age));
    if (j) {
      json_object_set_new(o, "parts", json_integer((json_int_t)j->parts));
      json_object_set_new(o, "bytes", json_integer((json_int_t)j->bytes));
    }
    if (busy)
      json_object_set_new(o, "journal_service", cli_json_str(busy));
    cli_json_array_item(c->g, o);
    return;
  }
  if (age < 0)
    snprintf(old, sizeof old, "age unknown");
  else
    snprintf(old, sizeof old, "%lld s old", (long long)age);
  if (j) {
    cli_format_size(j->bytes, size, sizeof size);
    printf("%s  %s:%s/%s  upload %s, %s, %u parts (%s) stored\n", action,
           c->service, cli_safe(c->container), cli_safe(key), cli_safe(id),
           old, (unsigned)j->parts, size);
  } else if (busy) {
    printf("%s  %s:%s/%s  upload %s, %s, being written by a running "
           "xtstore through service '%s'\n", action, c->service,
           cli_safe(c->container), cli_safe(key), cli_safe(id), old,
           cli_safe(busy));
  } else {
    printf("%s  %s:%s/%s  upload %s, %s, foreign (no journal here)\n",
           action, c->service, cli_safe(c->container), cli_safe(key),
           cli_safe(id), old);
  }
}

/* xtstore_upload_fn: one journaled upload, today's rule: a running
 * xtstore's is "active" and left alone; any other is stale, and with
 * --yes aborted and its journal dropped. */
static int cleanup_journal(void *ud, const xtstore_upload_info *u)
{
  struct cleanup *c = ud;
  const char *action = u->active ? "active" : c->yes ? "aborted" : "stale";
  store_error err;
  int ex = CLI_EXIT_OK, rc, gone = 0;

  for (size_t i = 0; i < c->nup; i++)
    if (!strcmp(c->up[i].upload_id, u->upload_id) &&
        !strcmp(c->up[i].key, u->key))
      c->up[i].known = 1;
  c->n++;
  if (!u->active) {
    c->stale++;
    if (c->yes)
      ex = abort_one(c, u->key, u->upload_id, &gone);
    if (gone)
      action = "gone";
    if (c->yes && ex == CLI_EXIT_OK) {
      memset(&err, 0, sizeof err);
      rc = xtstore_upload_forget(u->path, &err);
      if (rc)
        ex = cli_fail(c->verb, rc, &err);
    }
  }
  cli_tally_add(&c->tally, ex);
  if (ex == CLI_EXIT_OK)
    show(c, action, "journal", u->key, u->upload_id,
         (int64_t)c->now - u->created, u, NULL);
  return 0;
}

/* xtstore_upload_fn: a journal of another service (c->other) for this
 * container. One a running xtstore holds marks the listed upload it
 * names, which is then never aborted from here. */
static int mark_busy(void *ud, const xtstore_upload_info *u)
{
  struct cleanup *c = ud;

  if (!u->active)
    return 0;
  for (size_t i = 0; i < c->nup; i++)
    if (!c->up[i].busy_as && !strcmp(c->up[i].upload_id, u->upload_id) &&
        !(c->up[i].busy_as = strdup(c->other)))
      return STORE_E_NOMEM;
  return 0;
}

/* xtstore_service_fn: read the journals of every other service. */
static int32_t other_service(void *ud, const xtstore_service_info *s)
{
  struct cleanup *c = ud;

  if (!s->name || !strcmp(s->name, c->service))
    return 0;
  c->other = s->name;
  c->other_rc = xtstore_uploads_list(s->name, c->container, mark_busy, c,
                                     &c->other_err);
  return c->other_rc != 0;
}

/* The service's uploads no journal of this service names: stale once
 * idle for --older-than (one of unknown age only with --older-than 0),
 * since another machine may still be writing it. Idle since its newest
 * part where the service says (last_activity), else since it began. One
 * a running xtstore journaled under another service name is active. */
static void cleanup_foreign(struct cleanup *c)
{
  for (size_t i = 0; i < c->nup; i++) {
    const struct listed *l = &c->up[i];
    int64_t when = l->last_activity > l->initiated ? l->last_activity
                                                   : l->initiated;
    int64_t age = when > 0 ? c->now - when : -1;
    int stale = !l->busy_as && (age >= c->older || c->older == 0);
    const char *action = l->busy_as ? "active" : !stale ? "recent"
                         : c->yes ? "aborted" : "stale";
    int ex = CLI_EXIT_OK, gone = 0;

    if (l->known)
      continue;
    c->n++;
    if (stale) {
      c->stale++;
      if (c->yes)
        ex = abort_one(c, l->key, l->upload_id, &gone);
    }
    cli_tally_add(&c->tally, ex);
    if (ex == CLI_EXIT_OK)
      show(c, gone ? "gone" : action, "foreign", l->key, l->upload_id, age,
           NULL, l->busy_as);
  }
}

static int cleanup_run(cli_global *g, const cli_cmd *self, int argc,
                       char **argv)
{
  struct cleanup c;
  store_error err;
  cli_args a;
  cli_target t;
  const char *val;
  uint64_t older = CLEANUP_OLDER_DEFAULT;
  xtstore_ctx *ctx;
  int id, ex, rc, listed = 1, list_ex = CLI_EXIT_OK;

  memset(&c, 0, sizeof c);
  memset(&t, 0, sizeof t);
  memset(&err, 0, sizeof err);
  cli_args_init(&a, g, self->name, argc, argv);
  while ((id = cli_args_next(&a, cleanup_opts, &val)) > 0) {
    if (id == OPT_YES)
      c.yes = 1;
    else if (id == OPT_OLDER &&
             cli_parse_duration(self->name, "--older-than", val, 0,
                                CLEANUP_OLDER_MAX, &older))
      return CLI_EXIT_USAGE;
  }
  c.older = (int64_t)older;
  if (id < 0)
    return cli_args_exit(self, id);
  if (a.npos != 1)
    return cli_usage_error(self->name, "expected SERVICE:CONTAINER");
  ex = cli_target_parse(self->name, a.pos[0], CLI_NEED_CONTAINER, &t);
  if (ex != CLI_EXIT_OK)
    return ex;
  rc = cli_target_open(g, &t, &err);
  if (rc) {
    ex = cli_fail(self->name, rc, &err);
    goto out;
  }
  c.g = g;
  c.verb = self->name;
  c.svc = t.svc;
  c.service = xtstore_service_name(t.svc);
  c.container = t.a.container;
  c.now = (int64_t)time(NULL);
  /* The service's list first, so that the journals can mark theirs. */
  rc = xtstore_multipart_list(t.svc, c.container, NULL, collect, &c, &err);
  if (rc == STORE_E_UNSUPPORTED) {
    listed = 0;
    if (!g->quiet)
      fprintf(stderr, "xtstore: cleanup: service '%s' cannot list the "
              "uploads it holds: only this machine's journals are shown\n",
              c.service);
  } else if (rc) {
    /* Still show the journals (what this machine can clean up without
     * the listing), abort no foreign upload, and fail at the end. */
    listed = 0;
    list_ex = cli_fail_hint(self->name, rc, &err, "only this machine's "
                            "journals are shown; no foreign upload is "
                            "aborted");
  }
  /* An upload a running xtstore journaled under another service name for
   * this container (the same bucket by two names) is not foreign. */
  memset(&err, 0, sizeof err);
  rc = cli_ctx(g, &ctx, &err);
  if (!rc && listed && c.nup)
    rc = xtstore_services_foreach(ctx, other_service, &c, &err);
  if (c.other_rc) {
    ex = cli_fail(self->name, c.other_rc, &c.other_err);
    goto out;
  }
  if (rc) {
    ex = cli_fail(self->name, rc, &err);
    goto out;
  }
  if (g->json)
    cli_json_array_begin(g);
  memset(&err, 0, sizeof err);
  rc = xtstore_uploads_list(c.service, c.container, cleanup_journal, &c,
                            &err);
  if (rc) {
    ex = cli_fail(self->name, rc, &err);
    goto out;
  }
  if (listed)
    cleanup_foreign(&c);
  if (!g->json && !g->quiet && c.n == 0 && list_ex == CLI_EXIT_OK)
    fprintf(stderr, "xtstore: cleanup: no unfinished uploads of %s\n",
            t.display);
  else if (!g->json && !g->quiet && !c.yes && c.stale)
    fprintf(stderr, "xtstore: cleanup: dry run: run again with --yes to "
            "abort the %u stale upload%s\n", c.stale,
            c.stale == 1 ? "" : "s");
  ex = list_ex != CLI_EXIT_OK ? list_ex : cli_tally_exit(&c.tally);
out:
  listed_free(&c);
  cli_target_free(&t);
  return ex;
}

const cli_cmd cli_cmd_cleanup = {
  "cleanup",
  "list (and with --yes abort) uploads in parts left unfinished",
  "Usage: xtstore cleanup SERVICE:CONTAINER [--yes] [--older-than AGE]\n"
  "\n"
  "An upload in parts stores its parts on the service until it is\n"
  "completed or aborted; one left unfinished is billed and hidden.\n"
  "'cleanup' lists those of SERVICE:CONTAINER, one line each (action,\n"
  "address, upload id, age), from two sources:\n"
  "  - this machine's journals: an upload in parts of a file (put,\n"
  "    put --to) or of another service's object (cp) is journaled\n"
  "    under $XDG_STATE_HOME/xtstore/uploads/ (default\n"
  "    ~/.local/state/xtstore/uploads/) while it runs, and the next\n"
  "    upload of the same, unchanged source to the same blob resumes\n"
  "    it.\n"
  "    One a running xtstore is doing is 'active' and left alone; any\n"
  "    other is 'stale'.\n"
  "  - the service's own list of the uploads it holds, whoever began\n"
  "    them (another machine, a pipe, aws, rclone, a journal lost):\n"
  "    those no journal here names are 'foreign'. Another machine may\n"
  "    still be writing one, so a foreign upload is stale only once it\n"
  "    has been idle for --older-than (default 24h): since its newest\n"
  "    part where the service says when that was (S3, GCS, local),\n"
  "    else since it began (OCI); a younger one is shown as 'recent'\n"
  "    and kept. One a running xtstore here is writing through another\n"
  "    service name is 'active' and kept. A service that cannot list\n"
  "    its uploads says so once; when the listing fails, the cause is\n"
  "    said in one line, the journals are still shown, no foreign\n"
  "    upload is aborted, and the exit code is non-zero.\n"
  "It is a dry run unless --yes is given: then every stale upload is\n"
  "aborted on the service (its stored parts are discarded; 'gone' when\n"
  "it had already gone) and its journal, if any, removed. When some\n"
  "aborts fail, the exit code is 8; when every upload shown failed, it\n"
  "is the last failure's code.\n"
  "\n"
  "Options:\n"
  "  -y, --yes            abort the stale uploads (and drop their journals)\n"
  "  --older-than AGE     a foreign upload is stale once idle this long:\n"
  "                       90s, 30m, 36h, 7d (default 24h); 0: every one,\n"
  "                       also those whose age the service does not say\n"
  "  --json               print a JSON array, one element per upload:\n"
  "                       action, origin (journal or foreign), service,\n"
  "                       container, key, upload_id, age_s (idle for;\n"
  "                       null when unknown), parts and bytes for\n"
  "                       journaled ones, journal_service for one\n"
  "                       another service name's run is writing\n"
  "  -h, --help           show this help\n"
  "\n"
  "Examples:\n"
  "  xtstore cleanup s3:backups\n"
  "  xtstore cleanup s3:backups --older-than 7d --yes\n",
  cleanup_run,
};
