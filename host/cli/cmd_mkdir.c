/*
** cmd_mkdir.c -- `xtstore mkdir`: create directory markers (cloudmesh's
** `storage create dir`), which listings and gets hide.
*/
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_opt mkdir_opts[] = {
  { NULL, 0, 0, 0 },
};

/* Create the marker of one parsed target. Returns an exit code. */
static int mkdir_one(cli_global *g, const char *verb, cli_target *t)
{
  store_error err;
  cli_action act;
  char *shown = NULL; /* owned: "svc:c/dir/" as created */
  size_t len = strlen(t->a.key);
  int rc;

  memset(&err, 0, sizeof err);
  rc = cli_target_open(g, t, &err);
  if (rc)
    goto out;
  rc = xtstore_dir_create(t->svc, t->a.container, t->a.key, &err);
  if (rc)
    goto out;
  /* The library names the marker DIR with one trailing '/'. */
  while (len > 0 && t->a.key[len - 1] == '/')
    len--;
  shown = cli_strdupf("%s:%s/%.*s/", xtstore_service_name(t->svc),
                      t->a.container, (int)len, t->a.key);
  if (!shown) {
    rc = store_error_set(&err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
  memset(&act, 0, sizeof act);
  act.action = "mkdir";
  act.target = shown;
  act.size = -1;
  cli_report(g, &act);

out:
  free(shown);
  return rc ? cli_fail(verb, rc, &err) : CLI_EXIT_OK;
}

static int mkdir_run(cli_global *g, const cli_cmd *self, int argc,
                     char **argv)
{
  cli_args a;
  cli_target t;
  cli_tally tally;
  const char *val;
  int id, i, ex;

  memset(&tally, 0, sizeof tally);
  cli_args_init(&a, g, self->name, argc, argv);
  /* Only --help and --json, which cli_args_next handles itself: it
   * returns once, at the end or on an error. */
  id = cli_args_next(&a, mkdir_opts, &val);
  if (id < 0)
    return cli_args_exit(self, id);
  if (a.npos < 1)
    return cli_usage_error(self->name, "expected SERVICE:CONTAINER/DIR");
  /* A bad address is a usage error (2) before anything is made. */
  for (i = 0; i < a.npos; i++) {
    ex = cli_target_parse(self->name, a.pos[i], CLI_NEED_KEY, &t);
    cli_target_free(&t);
    if (ex)
      return ex;
  }
  if (g->json)
    cli_json_array_begin(g);
  for (i = 0; i < a.npos && !cli_interrupted; i++) {
    ex = cli_target_parse(self->name, a.pos[i], CLI_NEED_KEY, &t);
    if (ex == CLI_EXIT_OK)
      ex = mkdir_one(g, self->name, &t);
    cli_target_free(&t);
    cli_tally_add(&tally, ex);
  }
  return cli_tally_exit(&tally);
}

const cli_cmd cli_cmd_mkdir = {
  "mkdir",
  "create directory markers (hidden by listings and gets)",
  "Usage: xtstore mkdir SERVICE:CONTAINER/DIR...\n"
  "\n"
  "Create a directory marker for each DIR: by the cloud convention XT\n"
  "uses, a zero-length blob named 'DIR/' with metadata hdi_isfolder=true\n"
  "(the metadata only where the service keeps metadata). Markers are\n"
  "never listed: 'ls' of the parent shows nothing for an empty marked\n"
  "directory on the local provider and on services that hide markers;\n"
  "elsewhere the service itself may still report 'DIR/' as a prefix.\n"
  "'get' of a marker creates no file; 'find' never reports one. On the\n"
  "local provider the marker is a real, empty directory. Creating an\n"
  "existing marker is not an error. When several are given and only some\n"
  "fail, the exit code is 8.\n"
  "\n"
  "Options:\n"
  "  --json       print a JSON array with one action per marker\n"
  "  -h, --help   show this help\n"
  "\n"
  "Examples:\n"
  "  xtstore mkdir scratch:data/runs\n"
  "  xtstore mkdir scratch:data/a/b scratch:data/a/c\n",
  mkdir_run,
};
