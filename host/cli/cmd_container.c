/*
** cmd_container.c -- `xtstore mb` (make a container) and `xtstore rb`
** (remove one, with --force everything in it).
*/
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { OPT_META = 1, OPT_FORCE, OPT_DRY_RUN };

static const cli_opt mb_opts[] = {
  { "meta", 0, 1, OPT_META },
  { NULL, 0, 0, 0 },
};

static const cli_opt rb_opts[] = {
  { "force", 'f', 0, OPT_FORCE },
  { "dry-run", 0, 0, OPT_DRY_RUN },
  { NULL, 0, 0, 0 },
};

/* Parse every positional as SERVICE:CONTAINER (no key) into a new array
 * of n targets. Returns 0 or an exit code (already reported). */
static int parse_containers(const char *verb, cli_args *a,
                            cli_target **out)
{
  cli_target *t;
  int i, ex = CLI_EXIT_OK;

  *out = NULL;
  if (a->npos < 1)
    return cli_usage_error(verb, "expected SERVICE:CONTAINER");
  t = calloc((size_t)a->npos, sizeof *t);
  if (!t) {
    fprintf(stderr, "xtstore: %s: out of memory\n", verb);
    return CLI_EXIT_FAILURE;
  }
  for (i = 0; i < a->npos && ex == CLI_EXIT_OK; i++) {
    ex = cli_target_parse(verb, a->pos[i], CLI_NEED_CONTAINER, &t[i]);
    if (ex == CLI_EXIT_OK && t[i].a.key)
      ex = cli_usage_error(verb, "'%s' names a blob; expected "
                                 "SERVICE:CONTAINER",
                           a->pos[i]);
  }
  if (ex) {
    for (i = 0; i < a->npos; i++)
      cli_target_free(&t[i]);
    free(t);
    return ex;
  }
  *out = t;
  return CLI_EXIT_OK;
}

static void free_containers(cli_target *t, int n)
{
  int i;

  for (i = 0; t && i < n; i++)
    cli_target_free(&t[i]);
  free(t);
}

static int mb_run(cli_global *g, const cli_cmd *self, int argc, char **argv)
{
  cli_args a;
  cli_kvs meta;
  cli_target *t = NULL;
  cli_tally tally;
  cli_action act;
  store_error err;
  const char *val;
  int id, i, rc, ex = CLI_EXIT_OK;

  memset(&meta, 0, sizeof meta);
  memset(&tally, 0, sizeof tally);
  cli_args_init(&a, g, self->name, argc, argv);
  for (;;) {
    id = cli_args_next(&a, mb_opts, &val);
    if (id <= 0)
      break;
    ex = cli_kvs_add(&meta, self->name, "--meta", val);
    if (ex)
      goto out;
  }
  if (id < 0) {
    ex = cli_args_exit(self, id);
    goto out;
  }
  ex = parse_containers(self->name, &a, &t);
  if (ex)
    goto out;
  if (g->json)
    cli_json_array_begin(g);
  for (i = 0; i < a.npos && !cli_interrupted; i++) {
    memset(&err, 0, sizeof err);
    rc = cli_target_open(g, &t[i], &err);
    if (rc == STORE_OK)
      rc = xtstore_container_create(t[i].svc, t[i].a.container, meta.v,
                                    meta.n, &err);
    if (rc) {
      cli_tally_add(&tally, cli_fail(self->name, rc, &err));
      continue;
    }
    memset(&act, 0, sizeof act);
    act.action = "create";
    act.target = t[i].display;
    act.size = -1;
    cli_report(g, &act);
    cli_tally_add(&tally, CLI_EXIT_OK);
  }
  ex = cli_tally_exit(&tally);

out:
  free_containers(t, a.npos);
  cli_kvs_free(&meta);
  return ex;
}

/* Remove one container (opened). A dry run checks that it exists and,
 * with --force, lists the blobs that would go. Returns an exit code. */
static int rb_one(cli_global *g, const char *verb, cli_target *t, int force,
                  int dry_run)
{
  store_error err;
  cli_action act;
  cli_tally tally;
  int rc, exists = 0;

  memset(&err, 0, sizeof err);
  memset(&tally, 0, sizeof tally);
  if (dry_run) {
    rc = xtstore_container_exists(t->svc, t->a.container, &exists, &err);
    if (rc == STORE_OK && !exists)
      rc = store_error_set(&err, STORE_E_NOT_FOUND, "container '%s' not found",
                           t->display);
    if (rc)
      return cli_fail(verb, rc, &err);
    if (force) {
      cli_rm_tree(g, verb, t, STORE_DELETE_SNAPSHOTS, 1, &tally);
      if (tally.failed)
        return cli_tally_exit(&tally);
    }
  } else {
    rc = xtstore_container_delete(t->svc, t->a.container,
                                  force ? STORE_CONTAINER_DELETE_RECURSIVE : 0,
                                  &err);
    if (rc == STORE_E_NOT_EMPTY)
      return cli_fail_hint(verb, rc, &err,
                           "'xtstore rb --force' deletes its contents too");
    if (rc)
      return cli_fail(verb, rc, &err);
  }
  memset(&act, 0, sizeof act);
  act.action = "remove";
  act.target = t->display;
  act.size = -1;
  act.dry_run = dry_run;
  cli_report(g, &act);
  return CLI_EXIT_OK;
}

static int rb_run(cli_global *g, const cli_cmd *self, int argc, char **argv)
{
  cli_args a;
  cli_target *t = NULL;
  cli_tally tally;
  store_error err;
  const char *val;
  int id, i, rc, ex, force = 0, dry_run = 0;

  memset(&tally, 0, sizeof tally);
  cli_args_init(&a, g, self->name, argc, argv);
  for (;;) {
    id = cli_args_next(&a, rb_opts, &val);
    if (id <= 0)
      break;
    if (id == OPT_FORCE)
      force = 1;
    else if (id == OPT_DRY_RUN)
      dry_run = 1;
  }
  if (id < 0)
    return cli_args_exit(self, id);
  ex = parse_containers(self->name, &a, &t);
  if (ex)
    return ex;
  if (g->json)
    cli_json_array_begin(g);
  for (i = 0; i < a.npos && !cli_interrupted; i++) {
    memset(&err, 0, sizeof err);
    rc = cli_target_open(g, &t[i], &err);
    if (rc)
      cli_tally_add(&tally, cli_fail(self->name, rc, &err));
    else
      cli_tally_add(&tally, rb_one(g, self->name, &t[i], force, dry_run));
  }
  free_containers(t, a.npos);
  return cli_tally_exit(&tally);
}

const cli_cmd cli_cmd_mb = {
  "mb",
  "make containers",
  "Usage: xtstore mb [OPTIONS] SERVICE:CONTAINER...\n"
  "\n"
  "Create containers (buckets). One that exists already fails with exit 5.\n"
  "\n"
  "Options:\n"
  "  --meta KEY=VALUE   container metadata (repeatable)\n"
  "  --json             print a JSON array with one action per container\n"
  "  -h, --help         show this help\n"
  "\n"
  "Examples:\n"
  "  xtstore mb scratch:data\n"
  "  xtstore mb --meta team=ml scratch:runs archive:runs\n",
  mb_run,
};

const cli_cmd cli_cmd_rb = {
  "rb",
  "remove containers",
  "Usage: xtstore rb [OPTIONS] SERVICE:CONTAINER...\n"
  "\n"
  "Remove containers. A container that still holds blobs is refused (exit\n"
  "5) unless --force, which deletes everything in it, snapshots included.\n"
  "\n"
  "Options:\n"
  "  -f, --force   delete the container's blobs too\n"
  "  --dry-run     print what would be removed (with --force, every blob),\n"
  "                remove nothing\n"
  "  --json        print a JSON array with one action per object\n"
  "  -h, --help    show this help\n"
  "\n"
  "Examples:\n"
  "  xtstore rb scratch:empty\n"
  "  xtstore rb --force --dry-run scratch:old-runs\n",
  rb_run,
};
