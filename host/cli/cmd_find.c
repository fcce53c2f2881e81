/*
** cmd_find.c -- `xtstore find`: cloudmesh's `storage search`, as find(1):
** every key under a prefix, recursively, whose basename (--name) or whole
** key (--path) matches a shell glob: the library's xtstore_find. Matches
** are printed as the listing streams by, so any number of keys takes
** constant memory.
*/
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { OPT_NAME = 1, OPT_PATH, OPT_LONG, OPT_HUMAN };

static const cli_opt find_opts[] = {
  { "name", 0, 1, OPT_NAME },
  { "path", 0, 1, OPT_PATH },
  { "long", 'l', 0, OPT_LONG },
  { "human-readable", 'H', 0, OPT_HUMAN },
  { NULL, 0, 0, 0 },
};

typedef struct find_state {
  cli_global *g;
  const char *name_glob;    /* NULL: any basename */
  const char *path_glob;    /* NULL: any key      */
  int long_fmt;
  int human;
} find_state;

/* One match: a line (or a JSON element). */
static int32_t find_entry(void *ud, const store_entry *e)
{
  find_state *st = ud;
  char size[32], when[40];

  if (cli_interrupted)
    return 1;
  if (st->g->json) {
    cli_json_array_item(st->g, cli_json_entry(e, 0, NULL));
    return 0;
  }
  /* The columns of `ls -l`. */
  if (st->long_fmt) {
    if (st->human)
      cli_format_size(e->size, size, sizeof size);
    else
      snprintf(size, sizeof size, "%llu", (unsigned long long)e->size);
    cli_format_time(e->mtime_ns, when, sizeof when);
    printf("%12s  %-20s  ", size, when);
  }
  printf("%s\n", cli_safe(e->name));
  return 0;
}

static int find_run(cli_global *g, const cli_cmd *self, int argc,
                    char **argv)
{
  cli_args a;
  cli_target t;
  store_error err;
  find_state st;
  const char *val;
  char *prefix = NULL; /* owned */
  int id, rc;

  memset(&t, 0, sizeof t);
  memset(&err, 0, sizeof err);
  memset(&st, 0, sizeof st);
  st.g = g;
  cli_args_init(&a, g, self->name, argc, argv);
  for (;;) {
    id = cli_args_next(&a, find_opts, &val);
    if (id <= 0)
      break;
    switch (id) {
    case OPT_NAME:
      st.name_glob = val;
      break;
    case OPT_PATH:
      st.path_glob = val;
      break;
    case OPT_LONG:
      st.long_fmt = 1;
      break;
    case OPT_HUMAN:
      st.human = 1;
      break;
    }
  }
  if (id < 0)
    return cli_args_exit(self, id);
  if (a.npos != 1)
    return cli_usage_error(self->name,
                           "expected one SERVICE:CONTAINER[/PREFIX], got %d "
                           "arguments",
                           a.npos);
  rc = cli_target_parse(self->name, a.pos[0], CLI_NEED_CONTAINER, &t);
  if (rc)
    return rc;

  rc = cli_target_open(g, &t, &err);
  if (rc)
    goto out;
  prefix = cli_list_prefix(t.a.key);
  if (!prefix) {
    rc = store_error_set(&err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
  if (g->json)
    cli_json_array_begin(g);
  rc = xtstore_find(t.svc, t.a.container, prefix, st.name_glob, st.path_glob,
                    find_entry, &st, &err);

out:
  free(prefix);
  cli_target_free(&t);
  return rc ? cli_fail(self->name, rc, &err) : CLI_EXIT_OK;
}

const cli_cmd cli_cmd_find = {
  "find",
  "list the keys under a prefix whose name matches a glob",
  "Usage: xtstore find [OPTIONS] SERVICE:CONTAINER[/PREFIX]\n"
  "\n"
  "List every blob under PREFIX, recursively (the prefix rule of ls: 'dir'\n"
  "means 'dir/', 'name*' is a raw prefix), and print the keys that match\n"
  "every given test, in key order. Globs are shell patterns (fnmatch):\n"
  "'*', '?', '[...]'; quote them. Without a test every key is printed.\n"
  "Directory markers (see mkdir) are never reported. Finding nothing is\n"
  "not an error.\n"
  "\n"
  "Options:\n"
  "  --name GLOB            the key's last component matches GLOB\n"
  "  --path GLOB            the whole key matches GLOB ('*' also matches\n"
  "                         '/', as in find -path)\n"
  "  -l, --long             show size (bytes), mtime (ISO 8601, UTC) and\n"
  "                         key, as ls -l\n"
  "  -H, --human-readable   with -l, sizes as 1.5 KiB, 3.0 MiB, ...\n"
  "  --json                 one JSON array, elements as ls --json\n"
  "  -h, --help             show this help\n"
  "\n"
  "Examples:\n"
  "  xtstore find scratch:data --name '*.csv'\n"
  "  xtstore find -l scratch:data/runs --path 'runs/*/out/*.log'\n",
  find_run,
};
