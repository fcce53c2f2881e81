/*
** cmd_rm.c -- `xtstore rm`: delete blobs, one snapshot of a blob, or
** (with -r) every blob under a prefix.
*/
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { OPT_RECURSIVE = 1, OPT_DRY_RUN, OPT_SNAPSHOT, OPT_WITH_SNAPSHOTS };

static const cli_opt rm_opts[] = {
  { "recursive", 'r', 0, OPT_RECURSIVE },
  { "dry-run", 0, 0, OPT_DRY_RUN },
  { "snapshot", 0, 1, OPT_SNAPSHOT },
  { "with-snapshots", 0, 0, OPT_WITH_SNAPSHOTS },
  { NULL, 0, 0, 0 },
};

/* Keys deleted per window of a listing: held at once, no more. */
#define RM_WINDOW 1000

/* A window of the keys under a prefix. Collected before deleting them;
 * the next window is listed after the last key of this one, so the
 * deletions never race a listing's paging. */
typedef struct rm_list {
  char **keys;
  size_t n, cap;
  int nomem;
  int full;                     /* the listing stopped at RM_WINDOW keys  */
} rm_list;

static int rm_list_add(rm_list *l, const char *key)
{
  char **nk;
  size_t cap;

  if (l->n == l->cap) {
    cap = l->cap ? l->cap * 2 : 64;
    nk = realloc(l->keys, cap * sizeof *nk);
    if (!nk)
      goto nomem;
    l->keys = nk;
    l->cap = cap;
  }
  l->keys[l->n] = strdup(key);
  if (!l->keys[l->n])
    goto nomem;
  l->n++;
  return 0;

nomem:
  l->nomem = 1;
  return -1;
}

static void rm_list_free(rm_list *l)
{
  size_t i;

  for (i = 0; i < l->n; i++)
    free(l->keys[i]);
  free(l->keys);
  memset(l, 0, sizeof *l);
}

static int32_t rm_collect(void *ud, const store_entry *e)
{
  rm_list *l = ud;

  if (cli_interrupted)
    return 1;
  if ((e->flags & STORE_ENTRY_PREFIX) || !e->name)
    return 0;
  if (rm_list_add(l, e->name))
    return 1;
  l->full = l->n >= RM_WINDOW;
  return l->full;
}

static int32_t rm_seen(void *ud, const store_entry *e)
{
  (void)ud;
  (void)e;
  return 0;
}

/* Delete one blob (or, with snapshot set, one snapshot of it) and report
 * it; a dry run asks whether it is there, so that it fails where the real
 * run would. Returns an exit code. */
static int rm_one(cli_global *g, const char *verb, xtstore_svc *svc,
                  const char *container, const char *key,
                  const store_delete_opts *dopts, int dry_run)
{
  store_error err;
  cli_action act;
  char *full, *name;
  int rc = STORE_OK;

  memset(&err, 0, sizeof err);
  full = cli_remote_name(xtstore_service_name(svc), container, key);
  /* Named as ls --snapshots shows snapshots. */
  if (full && dopts->snapshot_id) {
    name = cli_strdupf("%s (snapshot %s)", full, dopts->snapshot_id);
    free(full);
  } else {
    name = full;
  }
  if (!name) {
    rc = store_error_set(&err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
  if (dry_run) {
    store_head_opts ho;
    memset(&ho, 0, sizeof ho);
    ho.struct_size = sizeof ho;
    ho.snapshot_id = dopts->snapshot_id;
    rc = xtstore_blob_head(svc, container, key, &ho, rm_seen, NULL, &err);
  } else {
    rc = xtstore_blob_delete(svc, container, key, dopts, &err);
  }
  if (rc)
    goto out;
  memset(&act, 0, sizeof act);
  act.action = dopts->snapshot_id ? "delete-snapshot" : "delete";
  act.target = name;
  act.size = -1;
  act.dry_run = dry_run;
  cli_report(g, &act);

out:
  free(name);
  if (rc == STORE_E_NOT_EMPTY)
    return cli_fail_hint(verb, rc, &err, "--with-snapshots deletes them "
                         "too; --snapshot ID deletes one");
  return rc ? cli_fail(verb, rc, &err) : CLI_EXIT_OK;
}

/* One key of a batch delete reported: its action line, or its error. */
typedef struct rm_batch {
  cli_global *g;
  const char *verb;
  xtstore_svc *svc;
  const char *container;
  const char *const *keys;
  cli_tally *tally;
} rm_batch;

static int32_t rm_batch_seen(void *ud, size_t index, int32_t code,
                             const store_error *err)
{
  rm_batch *b = ud;
  cli_action act;
  char *name;

  if (code) {
    cli_tally_add(b->tally, cli_fail(b->verb, code, err));
    return cli_interrupted;
  }
  name = cli_remote_name(xtstore_service_name(b->svc), b->container,
                         b->keys[index]);
  memset(&act, 0, sizeof act);
  act.action = "delete";
  act.target = name ? name : b->keys[index];
  act.size = -1;
  cli_report(b->g, &act);
  free(name);
  cli_tally_add(b->tally, CLI_EXIT_OK);
  return cli_interrupted;
}

/* Delete (or, dry, check) one window of keys. Returns a store code for
 * a failure of the whole window (err set); the keys' own outcomes are
 * tallied. */
static int rm_window(cli_global *g, const char *verb, cli_target *t,
                     rm_list *list, const store_delete_opts *dopts,
                     int dry_run, cli_tally *tally, store_error *err)
{
  size_t i;

  if (!dry_run && !dopts->flags) {
    /* In batches where the service can (S3's DeleteObjects). */
    rm_batch b = {g, verb, t->svc, t->a.container,
                  (const char *const *)list->keys, tally};
    return xtstore_blob_delete_many(t->svc, t->a.container,
                                    (const char *const *)list->keys,
                                    list->n, rm_batch_seen, &b, err);
  }
  for (i = 0; i < list->n && !cli_interrupted; i++)
    cli_tally_add(tally, rm_one(g, verb, t->svc, t->a.container,
                                list->keys[i], dopts, dry_run));
  return STORE_OK;
}

void cli_rm_tree(cli_global *g, const char *verb, cli_target *t,
                 uint32_t delete_flags, int dry_run, cli_tally *tally)
{
  store_error err;
  store_list_opts lo;
  store_delete_opts dopts;
  rm_list list;
  char *prefix = NULL, *after = NULL;
  size_t len = t->a.key ? strlen(t->a.key) : 0, total = 0;
  int rc = STORE_OK, exists = 0, more = 1;

  memset(&err, 0, sizeof err);
  memset(&list, 0, sizeof list);
  prefix = cli_list_prefix(t->a.key);
  if (!prefix) {
    rc = store_error_set(&err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
  /* `rm -r svc:c/foo` also deletes a blob named exactly "foo", as rm -r
   * removes a plain file. */
  if (len > 0 && t->a.key[len - 1] != '/' && t->a.key[len - 1] != '*') {
    rc = xtstore_blob_exists(t->svc, t->a.container, t->a.key, &exists,
                             &err);
    if (rc)
      goto out;
    if (exists && rm_list_add(&list, t->a.key)) {
      rc = store_error_set(&err, STORE_E_NOMEM, "out of memory");
      goto out;
    }
  }
  memset(&dopts, 0, sizeof dopts);
  dopts.struct_size = sizeof dopts;
  dopts.flags = delete_flags;
  memset(&lo, 0, sizeof lo);
  lo.struct_size = sizeof lo;
  lo.prefix = prefix;
  /* Window by window while the listing goes on: never every key held. */
  while (more && !cli_interrupted) {
    list.full = 0;
    lo.start_after = after;
    rc = xtstore_blob_list(t->svc, t->a.container, &lo, rm_collect, &list,
                           &err);
    if (rc == STORE_E_ABORTED && list.nomem)
      rc = store_error_set(&err, STORE_E_NOMEM, "out of memory listing "
                           "'%s'", t->display);
    else if (rc == STORE_E_ABORTED && list.full)
      rc = STORE_OK; /* a window's worth: deleted before listing on */
    if (rc)
      goto out;
    more = list.full;
    total += list.n;
    if (total == 0 && len > 0) {
      rc = store_error_set(&err, STORE_E_NOT_FOUND, "no blobs under '%s'",
                           t->display);
      goto out;
    }
    if (more) {
      free(after);
      after = strdup(list.keys[list.n - 1]);
      if (!after) {
        rc = store_error_set(&err, STORE_E_NOMEM, "out of memory");
        goto out;
      }
    }
    memset(&err, 0, sizeof err);
    rc = rm_window(g, verb, t, &list, &dopts, dry_run, tally, &err);
    rm_list_free(&list);
    if (rc)
      goto out;
  }

out:
  if (rc)
    cli_tally_add(tally, cli_fail(verb, rc, &err));
  rm_list_free(&list);
  free(after);
  free(prefix);
}

static void rm_targets_free(cli_target *targets, int n)
{
  int i;

  for (i = 0; i < n; i++)
    cli_target_free(&targets[i]);
  free(targets);
}

/* Parse every address of a (a container only with -r) into a new array of
 * a->npos targets (*out, freed by the caller with rm_targets_free).
 * Returns 0, or an exit code and nothing to free. */
static int rm_targets(const char *verb, const cli_args *a, int recursive,
                      cli_target **out)
{
  cli_target *targets;
  int i, ex = CLI_EXIT_OK;

  targets = calloc((size_t)a->npos, sizeof *targets);
  if (!targets) {
    fprintf(stderr, "xtstore: %s: out of memory\n", verb);
    return CLI_EXIT_FAILURE;
  }
  for (i = 0; i < a->npos; i++) {
    ex = cli_target_parse(verb, a->pos[i], CLI_NEED_CONTAINER, &targets[i]);
    if (ex)
      goto out;
    if (!recursive && !targets[i].a.key) {
      ex = cli_usage_error(verb, "'%s' names a container: use 'rm -r' to "
                                 "delete its blobs, 'rb' to remove it",
                           a->pos[i]);
      goto out;
    }
  }
  *out = targets;
  return CLI_EXIT_OK;

out:
  rm_targets_free(targets, a->npos);
  return ex;
}

static int rm_run(cli_global *g, const cli_cmd *self, int argc, char **argv)
{
  cli_args a;
  cli_target *targets = NULL;
  cli_tally tally;
  store_error err;
  store_delete_opts dopts;
  const char *val, *snapshot = NULL;
  int id, ex, i, rc, recursive = 0, dry_run = 0, with_snaps = 0;

  memset(&tally, 0, sizeof tally);
  cli_args_init(&a, g, self->name, argc, argv);
  for (;;) {
    id = cli_args_next(&a, rm_opts, &val);
    if (id <= 0)
      break;
    switch (id) {
    case OPT_RECURSIVE:
      recursive = 1;
      break;
    case OPT_DRY_RUN:
      dry_run = 1;
      break;
    case OPT_SNAPSHOT:
      snapshot = val;
      break;
    case OPT_WITH_SNAPSHOTS:
      with_snaps = 1;
      break;
    }
  }
  if (id < 0)
    return cli_args_exit(self, id);
  if (a.npos < 1)
    return cli_usage_error(self->name, "expected SERVICE:CONTAINER/KEY");
  if (snapshot && (recursive || with_snaps))
    return cli_usage_error(self->name, "--snapshot deletes one snapshot of "
                                       "a blob; not with -r or "
                                       "--with-snapshots");

  /* Every address is checked before anything is deleted. */
  ex = rm_targets(self->name, &a, recursive, &targets);
  if (ex)
    return ex;

  if (g->json)
    cli_json_array_begin(g);
  memset(&dopts, 0, sizeof dopts);
  dopts.struct_size = sizeof dopts;
  dopts.flags = with_snaps ? STORE_DELETE_SNAPSHOTS : 0;
  dopts.snapshot_id = snapshot;
  for (i = 0; i < a.npos && !cli_interrupted; i++) {
    memset(&err, 0, sizeof err);
    rc = cli_target_open(g, &targets[i], &err);
    if (rc) {
      cli_tally_add(&tally, cli_fail(self->name, rc, &err));
      continue;
    }
    if (recursive)
      cli_rm_tree(g, self->name, &targets[i], dopts.flags, dry_run, &tally);
    else
      cli_tally_add(&tally, rm_one(g, self->name, targets[i].svc,
                                   targets[i].a.container, targets[i].a.key,
                                   &dopts, dry_run));
  }
  ex = cli_tally_exit(&tally);
  rm_targets_free(targets, a.npos);
  return ex;
}

const cli_cmd cli_cmd_rm = {
  "rm",
  "delete blobs, a snapshot, or everything under a prefix",
  "Usage: xtstore rm [OPTIONS] SERVICE:CONTAINER/KEY...\n"
  "       xtstore rm -r [OPTIONS] SERVICE:CONTAINER[/PREFIX]...\n"
  "\n"
  "Delete blobs. With -r, list every blob under PREFIX (the prefix rule of\n"
  "ls: 'dir' means 'dir/', 'name*' is a raw prefix; a blob named exactly\n"
  "PREFIX goes too) and delete each; without PREFIX every blob of the\n"
  "container (the container stays: see rb). Blobs that keep snapshots are\n"
  "refused (exit 5) unless --with-snapshots. When several objects are\n"
  "deleted and only some fail, the exit code is 8.\n"
  "\n"
  "Options:\n"
  "  -r, --recursive     delete every blob under the prefix\n"
  "  --dry-run           print what would be deleted, delete nothing\n"
  "  --snapshot ID       delete only this snapshot; the blob stays\n"
  "  --with-snapshots    also delete the blobs' snapshots\n"
  "  --json              print a JSON array with one action per blob\n"
  "  -h, --help          show this help\n"
  "\n"
  "Examples:\n"
  "  xtstore rm scratch:data/old.csv scratch:data/older.csv\n"
  "  xtstore rm --snapshot 2024-05-01T12:00:00.0000000Z scratch:data/a.csv\n"
  "  xtstore rm -r --dry-run scratch:data/runs/\n",
  rm_run,
};
