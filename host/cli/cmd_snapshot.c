/*
** cmd_snapshot.c -- `xtstore snapshot`: freeze a blob and print the new
** snapshot's id (for get/cat/stat --snapshot and rm --snapshot).
*/
#include <string.h>

#include "cli.h"

static const cli_opt snapshot_opts[] = {
  { NULL, 0, 0, 0 },
};

static int snapshot_run(cli_global *g, const cli_cmd *self, int argc,
                        char **argv)
{
  cli_args a;
  cli_target t;
  store_error err;
  char id_buf[STORE_ID_SIZE];
  const char *val;
  json_t *o;
  int id, rc;

  memset(&err, 0, sizeof err);
  cli_args_init(&a, g, self->name, argc, argv);
  id = cli_args_next(&a, snapshot_opts, &val);
  if (id < 0)
    return cli_args_exit(self, id);
  if (a.npos != 1)
    return cli_usage_error(self->name, "expected one SERVICE:CONTAINER/KEY, "
                                       "got %d arguments",
                           a.npos);
  rc = cli_target_parse(self->name, a.pos[0], CLI_NEED_KEY, &t);
  if (rc)
    return rc;
  rc = cli_target_open(g, &t, &err);
  if (rc == STORE_OK) {
    id_buf[0] = '\0';
    rc = xtstore_blob_snapshot(t.svc, t.a.container, t.a.key, id_buf,
                               sizeof id_buf, &err);
  }
  if (rc == STORE_OK) {
    if (g->json) {
      o = json_object();
      if (o) {
        json_object_set_new(o, "address", cli_json_str(t.display));
        json_object_set_new(o, "snapshot_id", cli_json_str(id_buf));
      }
      cli_json_print(o);
    } else {
      printf("%s\n", cli_safe(id_buf));
    }
  }
  cli_target_free(&t);
  return rc ? cli_fail(self->name, rc, &err) : CLI_EXIT_OK;
}

const cli_cmd cli_cmd_snapshot = {
  "snapshot",
  "snapshot a blob and print the snapshot id",
  "Usage: xtstore snapshot [OPTIONS] SERVICE:CONTAINER/KEY\n"
  "\n"
  "Freeze the current content of a blob as a read-only snapshot and print\n"
  "its id. Read it back with get/cat/stat --snapshot ID, list it with\n"
  "ls --snapshots, and delete only it with rm --snapshot ID. The service\n"
  "must support snapshots (exit 7 otherwise).\n"
  "\n"
  "Options:\n"
  "  --json       print {\"address\": ..., \"snapshot_id\": ...}\n"
  "  -h, --help   show this help\n"
  "\n"
  "Examples:\n"
  "  id=$(xtstore snapshot scratch:data/model.bin)\n"
  "  xtstore get --snapshot \"$id\" scratch:data/model.bin old.bin\n",
  snapshot_run,
};
