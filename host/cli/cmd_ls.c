/*
** cmd_ls.c -- `xtstore ls`: containers of a service, or blobs of a
** container with XT's listing semantics.
**
** XT's list_blobs: the non-recursive view uses delimiter "/" and shows
** "dir/" entries; a prefix "dir" means "dir/" unless it ends in "/" or "*"
** (a trailing "*" is dropped and the rest used as a raw prefix). Names are
** full keys relative to the container.
*/
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { OPT_RECURSIVE = 1, OPT_LONG, OPT_HUMAN, OPT_SNAPSHOTS,
       OPT_START_AFTER };

static const cli_opt ls_opts[] = {
  { "recursive", 'r', 0, OPT_RECURSIVE },
  { "long", 'l', 0, OPT_LONG },
  { "human-readable", 'H', 0, OPT_HUMAN },
  { "snapshots", 0, 0, OPT_SNAPSHOTS },
  { "start-after", 0, 1, OPT_START_AFTER },
  { NULL, 0, 0, 0 },
};

typedef struct ls_state {
  cli_global *g;
  int long_fmt;
  int human;
  uint64_t n;               /* entries printed */
  const char *name;         /* shown when an entry from head has none */
} ls_state;

static int32_t ls_print(void *ud, const store_entry *e)
{
  ls_state *st = ud;
  char size[32], when[40];
  json_t *o;

  if (cli_interrupted)
    return 1;
  st->n++;
  if (st->g->json) {
    o = cli_json_entry(e, 0, st->name);
    /* -l: both checksums the listing carries (crc32c is always there). */
    if (o && st->long_fmt)
      json_object_set_new(o, "content_md5", cli_json_str(e->content_md5));
    cli_json_array_item(st->g, o);
    return 0;
  }
  if (st->long_fmt) {
    if (e->flags & STORE_ENTRY_PREFIX)
      snprintf(size, sizeof size, "DIR");
    else if (e->flags & STORE_ENTRY_CONTAINER)
      snprintf(size, sizeof size, "-");
    else if (st->human)
      cli_format_size(e->size, size, sizeof size);
    else
      snprintf(size, sizeof size, "%llu", (unsigned long long)e->size);
    cli_format_time(e->mtime_ns, when, sizeof when);
    printf("%12s  %-20s  ", size, when);
  }
  fputs(cli_safe(e->name ? e->name : st->name ? st->name : ""), stdout);
  if ((e->flags & STORE_ENTRY_SNAPSHOT) && e->snapshot_id)
    printf(" (snapshot %s)", cli_safe(e->snapshot_id));
  fputc('\n', stdout);
  return 0;
}

/* `ls svc:c/path/file.txt` shows that blob when no "file.txt/" exists,
 * as `ls FILE` does for a file. */
static int ls_exact(xtstore_svc *svc, const char *container, const char *key,
                    ls_state *st, store_error *err)
{
  size_t len = strlen(key);
  int rc;

  if (len == 0 || key[len - 1] == '/' || key[len - 1] == '*')
    return STORE_OK;
  st->name = key;
  rc = xtstore_blob_head(svc, container, key, NULL, ls_print, st, err);
  return rc == STORE_E_NOT_FOUND ? STORE_OK : rc;
}

static int ls_run(cli_global *g, const cli_cmd *self, int argc, char **argv)
{
  cli_args a;
  cli_target t;
  store_error err;
  store_list_opts lo;
  ls_state st;
  const char *val, *start_after = NULL;
  char *prefix = NULL;
  int id, rc, recursive = 0, snapshots = 0;

  memset(&t, 0, sizeof t);
  memset(&err, 0, sizeof err);
  memset(&st, 0, sizeof st);
  st.g = g;
  cli_args_init(&a, g, self->name, argc, argv);
  for (;;) {
    id = cli_args_next(&a, ls_opts, &val);
    if (id <= 0)
      break;
    switch (id) {
    case OPT_RECURSIVE:
      recursive = 1;
      break;
    case OPT_LONG:
      st.long_fmt = 1;
      break;
    case OPT_HUMAN:
      st.human = 1;
      break;
    case OPT_SNAPSHOTS:
      snapshots = 1;
      break;
    case OPT_START_AFTER:
      start_after = val;
      break;
    }
  }
  if (id < 0)
    return cli_args_exit(self, id);
  if (a.npos > 1)
    return cli_usage_error(self->name, "expected at most one address, got %d",
                           a.npos);
  if (a.npos == 1) {
    rc = cli_target_parse(self->name, a.pos[0], 0, &t);
    if (rc)
      return rc;
  } else {
    t.a.kind = XTSTORE_ADDR_REMOTE; /* the default service's containers */
  }

  rc = cli_target_open(g, &t, &err);
  if (rc)
    goto out;
  if (g->json)
    cli_json_array_begin(g);
  if (!t.a.container) {
    rc = xtstore_container_list(t.svc, NULL, ls_print, &st, &err);
    goto out;
  }
  prefix = cli_list_prefix(t.a.key);
  if (!prefix) {
    rc = store_error_set(&err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
  memset(&lo, 0, sizeof lo);
  lo.struct_size = sizeof lo;
  lo.flags = snapshots ? STORE_LIST_SNAPSHOTS : 0;
  lo.prefix = prefix;
  lo.delimiter = recursive ? NULL : "/";
  lo.start_after = start_after;
  rc = xtstore_blob_list(t.svc, t.a.container, &lo, ls_print, &st, &err);
  if (rc == STORE_OK && st.n == 0 && t.a.key)
    rc = ls_exact(t.svc, t.a.container, t.a.key, &st, &err);

out:
  free(prefix);
  cli_target_free(&t);
  return rc ? cli_fail(self->name, rc, &err) : CLI_EXIT_OK;
}

const cli_cmd cli_cmd_ls = {
  "ls",
  "list containers, or the blobs of a container",
  "Usage: xtstore ls [OPTIONS] [SERVICE:[CONTAINER[/PREFIX]]]\n"
  "\n"
  "Without an address, or with 'SERVICE:', list the containers of the\n"
  "service (the default service when omitted). With 'SERVICE:CONTAINER' or\n"
  "'SERVICE:CONTAINER/PREFIX', list blobs by their full key.\n"
  "\n"
  "The default view is one level deep, as XT's list_blobs: keys directly\n"
  "under the prefix, and one 'dir/' entry per deeper level. A PREFIX 'dir'\n"
  "means 'dir/'; one ending in '*' is used as a raw prefix without the\n"
  "'*' ('runs/run*' lists runs/run1, runs/run2/, ...). When nothing is\n"
  "under 'dir/', a blob named exactly 'dir' is shown.\n"
  "\n"
  "Options:\n"
  "  -r, --recursive        list every key under the prefix, no dir/ entries\n"
  "  -l, --long             show size (bytes; DIR for dir/ entries), mtime\n"
  "                         (ISO 8601, UTC) and name\n"
  "  -H, --human-readable   with -l, sizes as 1.5 KiB, 3.0 MiB, ...\n"
  "  --snapshots            include snapshots, shown as 'NAME (snapshot ID)'\n"
  "  --start-after KEY      only keys sorting after KEY\n"
  "  --json                 one JSON array: {name, size, mtime, etag,\n"
  "                         content_type, is_prefix, snapshot_id, crc32c}\n"
  "                         per entry (crc32c: 8 hex digits, or null);\n"
  "                         with -l also content_md5 (32 hex, or null)\n"
  "  -h, --help             show this help\n"
  "\n"
  "Examples:\n"
  "  xtstore ls                         containers of the default service\n"
  "  xtstore ls scratch:                containers of 'scratch'\n"
  "  xtstore ls scratch:data/foo        foo/blob1.txt, foo/bar/, ...\n"
  "  xtstore ls -r scratch:data/foo     every key under foo/\n"
  "  xtstore ls -l 'scratch:data/runs/run*'\n",
  ls_run,
};
