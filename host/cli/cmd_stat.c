/*
** cmd_stat.c -- `xtstore stat` (properties and metadata of a blob or a
** container) and `xtstore meta` (print or replace user metadata).
*/
#include <string.h>

#include "cli.h"

enum { OPT_SNAPSHOT = 1, OPT_SET, OPT_CLEAR, OPT_DRY_RUN };

static const cli_opt stat_opts[] = {
  { "snapshot", 0, 1, OPT_SNAPSHOT },
  { NULL, 0, 0, 0 },
};

static const cli_opt meta_opts[] = {
  { "snapshot", 0, 1, OPT_SNAPSHOT },
  { "set", 0, 1, OPT_SET },
  { "clear", 0, 0, OPT_CLEAR },
  { "dry-run", 0, 0, OPT_DRY_RUN },
  { NULL, 0, 0, 0 },
};

typedef struct stat_state {
  cli_global *g;
  const cli_target *t;
  int meta_only;            /* meta: only the metadata */
} stat_state;

static void stat_line(const char *label, const char *value)
{
  if (value)
    printf("%-14s%s\n", label, cli_safe(value));
}

static int32_t stat_print(void *ud, const store_entry *e)
{
  stat_state *st = ud;
  const store_kv *md = e->metadata;
  size_t i, nmd = md ? e->nmetadata : 0;
  char when[40], human[32], size[64], hex[9];
  uint32_t crc;
  json_t *o;

  if (st->g->json) {
    if (st->meta_only) {
      cli_json_print(cli_json_kvs(md, nmd));
      return 0;
    }
    o = cli_json_entry(e, 1, st->t->a.key ? st->t->a.key
                                          : st->t->a.container);
    if (o) {
      json_object_set_new(o, "address", cli_json_str(st->t->display));
      json_object_set_new(o, "is_container", json_boolean(!st->t->a.key));
    }
    cli_json_print(o);
    return 0;
  }
  if (st->meta_only) {
    for (i = 0; i < nmd; i++)
      printf("%s=%s\n", cli_safe(md[i].key),
             cli_safe(md[i].value ? md[i].value : ""));
    return 0;
  }
  stat_line("address:", st->t->display);
  if (st->t->a.key) {
    cli_format_size(e->size, human, sizeof human);
    snprintf(size, sizeof size, "%llu (%s)", (unsigned long long)e->size,
             human);
    stat_line("size:", size);
  }
  cli_format_time(e->mtime_ns, when, sizeof when);
  stat_line("mtime:", when);
  stat_line("etag:", e->etag);
  stat_line("content-type:", e->content_type);
  stat_line("content-md5:", e->content_md5);
  if (store_entry_crc32c(e, &crc)) {
    snprintf(hex, sizeof hex, "%08x", crc);
    stat_line("crc32c:", hex);
  }
  stat_line("snapshot:", e->snapshot_id);
  if (e->flags & STORE_ENTRY_DIR_MARKER)
    stat_line("kind:", "directory marker");
  printf("metadata:%s\n", nmd ? "" : "     (none)");
  for (i = 0; i < nmd; i++)
    printf("  %s=%s\n", cli_safe(md[i].key),
           cli_safe(md[i].value ? md[i].value : ""));
  return 0;
}

/* Head the blob (or the container, without a key) into stat_print. */
static int stat_head(cli_target *t, const char *snapshot, stat_state *st,
                     store_error *err)
{
  store_head_opts ho;

  if (!t->a.key) {
    if (snapshot)
      return store_error_set(err, STORE_E_INVALID,
                             "--snapshot needs a blob, not the container "
                             "'%s'",
                             t->display);
    return xtstore_container_head(t->svc, t->a.container, stat_print, st,
                                  err);
  }
  memset(&ho, 0, sizeof ho);
  ho.struct_size = sizeof ho;
  ho.snapshot_id = snapshot;
  return xtstore_blob_head(t->svc, t->a.container, t->a.key, &ho, stat_print,
                           st, err);
}

static int stat_run(cli_global *g, const cli_cmd *self, int argc,
                    char **argv)
{
  cli_args a;
  cli_target t;
  store_error err;
  stat_state st;
  const char *val, *snapshot = NULL;
  int id, rc;

  memset(&err, 0, sizeof err);
  cli_args_init(&a, g, self->name, argc, argv);
  for (;;) {
    id = cli_args_next(&a, stat_opts, &val);
    if (id <= 0)
      break;
    if (id == OPT_SNAPSHOT)
      snapshot = val;
  }
  if (id < 0)
    return cli_args_exit(self, id);
  if (a.npos != 1)
    return cli_usage_error(self->name, "expected one SERVICE:CONTAINER[/KEY], "
                                       "got %d arguments",
                           a.npos);
  rc = cli_target_parse(self->name, a.pos[0], CLI_NEED_CONTAINER, &t);
  if (rc)
    return rc;
  rc = cli_target_open(g, &t, &err);
  if (rc == STORE_OK) {
    memset(&st, 0, sizeof st);
    st.g = g;
    st.t = &t;
    rc = stat_head(&t, snapshot, &st, &err);
  }
  cli_target_free(&t);
  return rc ? cli_fail(self->name, rc, &err) : CLI_EXIT_OK;
}

/* meta --set/--clear: replace the metadata of t (a blob, or the container
 * without a key) with kvs, and report it. Returns a store code. */
static int meta_set(cli_global *g, const cli_target *t, const cli_kvs *kvs,
                    int dry_run, store_error *err)
{
  cli_action act;
  int rc;

  if (g->json)
    cli_json_array_begin(g);
  if (!dry_run) {
    if (t->a.key)
      rc = xtstore_blob_set_metadata(t->svc, t->a.container, t->a.key,
                                     kvs->v, kvs->n, err);
    else
      rc = xtstore_container_set_metadata(t->svc, t->a.container, kvs->v,
                                          kvs->n, err);
    if (rc)
      return rc;
  }
  memset(&act, 0, sizeof act);
  act.action = "set-metadata";
  act.target = t->display;
  act.size = -1;
  act.dry_run = dry_run;
  cli_report(g, &act);
  return STORE_OK;
}

static int meta_run(cli_global *g, const cli_cmd *self, int argc,
                    char **argv)
{
  cli_args a;
  cli_target t;
  cli_kvs kvs;
  store_error err;
  stat_state st;
  const char *val, *snapshot = NULL;
  int id, rc = STORE_OK, ex = CLI_EXIT_OK, set = 0, dry_run = 0;

  memset(&t, 0, sizeof t);
  memset(&kvs, 0, sizeof kvs);
  memset(&err, 0, sizeof err);
  cli_args_init(&a, g, self->name, argc, argv);
  for (;;) {
    id = cli_args_next(&a, meta_opts, &val);
    if (id <= 0)
      break;
    switch (id) {
    case OPT_SNAPSHOT:
      snapshot = val;
      break;
    case OPT_SET:
      set = 1;
      ex = cli_kvs_add(&kvs, self->name, "--set", val);
      if (ex)
        goto out;
      break;
    case OPT_CLEAR:
      set = 1;
      break;
    case OPT_DRY_RUN:
      dry_run = 1;
      break;
    }
  }
  if (id < 0) {
    ex = cli_args_exit(self, id);
    goto out;
  }
  if (a.npos != 1) {
    ex = cli_usage_error(self->name, "expected one SERVICE:CONTAINER[/KEY], "
                                     "got %d arguments",
                         a.npos);
    goto out;
  }
  if (set && snapshot) {
    ex = cli_usage_error(self->name, "snapshots are read-only: --snapshot "
                                     "only with a plain 'meta ADDR'");
    goto out;
  }
  if (dry_run && !set) {
    ex = cli_usage_error(self->name, "--dry-run goes with --set or --clear");
    goto out;
  }
  ex = cli_target_parse(self->name, a.pos[0], CLI_NEED_CONTAINER, &t);
  if (ex)
    goto out;
  rc = cli_target_open(g, &t, &err);
  if (rc)
    goto out;
  if (!set) {
    memset(&st, 0, sizeof st);
    st.g = g;
    st.t = &t;
    st.meta_only = 1;
    rc = stat_head(&t, snapshot, &st, &err);
    goto out;
  }

  rc = meta_set(g, &t, &kvs, dry_run, &err);

out:
  if (rc)
    ex = cli_fail(self->name, rc, &err);
  cli_target_free(&t);
  cli_kvs_free(&kvs);
  return ex;
}

const cli_cmd cli_cmd_stat = {
  "stat",
  "show the properties and metadata of a blob or a container",
  "Usage: xtstore stat [OPTIONS] SERVICE:CONTAINER[/KEY]\n"
  "\n"
  "Show a blob's size, modification time (ISO 8601, UTC), etag, content\n"
  "type, MD5, CRC-32C and user metadata, or a container's properties and\n"
  "metadata.\n"
  "Fields the service does not report are left out.\n"
  "\n"
  "Options:\n"
  "  --snapshot ID   show this snapshot of the blob\n"
  "  --json          one JSON object: {name, size, mtime, etag,\n"
  "                  content_type, is_prefix, snapshot_id, crc32c,\n"
  "                  mtime_ns, content_md5, metadata, address,\n"
  "                  is_container}; crc32c is 8 hex digits or null\n"
  "  -h, --help      show this help\n"
  "\n"
  "Examples:\n"
  "  xtstore stat scratch:data/a.csv\n"
  "  xtstore --json stat scratch:data\n",
  stat_run,
};

const cli_cmd cli_cmd_meta = {
  "meta",
  "print or replace the user metadata of a blob or a container",
  "Usage: xtstore meta [OPTIONS] SERVICE:CONTAINER[/KEY]\n"
  "       xtstore meta --set KEY=VALUE... [--dry-run] "
  "SERVICE:CONTAINER[/KEY]\n"
  "       xtstore meta --clear [--dry-run] SERVICE:CONTAINER[/KEY]\n"
  "\n"
  "Without --set, print the user metadata as KEY=VALUE lines (a JSON object\n"
  "with --json). With --set, REPLACE the whole metadata by the given pairs;\n"
  "--clear removes all of it.\n"
  "\n"
  "Options:\n"
  "  --set KEY=VALUE   a pair of the new metadata (repeatable)\n"
  "  --clear           set empty metadata\n"
  "  --dry-run         show what would be changed, change nothing\n"
  "  --snapshot ID     print the metadata of this snapshot\n"
  "  --json            JSON output (an object; an action array with --set)\n"
  "  -h, --help        show this help\n"
  "\n"
  "Examples:\n"
  "  xtstore meta scratch:data/a.csv\n"
  "  xtstore meta --set owner=ana --set stage=raw scratch:data/a.csv\n"
  "  xtstore meta --set team=ml scratch:data\n",
  meta_run,
};
