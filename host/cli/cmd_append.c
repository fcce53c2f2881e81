/*
** cmd_append.c -- `xtstore append`: append a file, stdin or a string to a
** blob, creating it when missing (XT's append_blob).
*/
#include <string.h>

#include "cli.h"

enum { OPT_TEXT = 1, OPT_CONTENT_TYPE };

static const cli_opt append_opts[] = {
  { "text", 0, 1, OPT_TEXT },
  { "content-type", 0, 1, OPT_CONTENT_TYPE },
  { NULL, 0, 0, 0 },
};

static int append_run(cli_global *g, const cli_cmd *self, int argc,
                      char **argv)
{
  cli_args a;
  cli_target t;
  cli_source src;
  cli_action act;
  store_error err;
  store_append_opts ao;
  const char *val, *text = NULL, *content_type = NULL;
  int id, rc = STORE_OK, ex = CLI_EXIT_OK, want;

  memset(&t, 0, sizeof t);
  memset(&src, 0, sizeof src);
  memset(&err, 0, sizeof err);
  cli_args_init(&a, g, self->name, argc, argv);
  for (;;) {
    id = cli_args_next(&a, append_opts, &val);
    if (id <= 0)
      break;
    if (id == OPT_TEXT)
      text = val;
    else if (id == OPT_CONTENT_TYPE)
      content_type = val;
  }
  if (id < 0)
    return cli_args_exit(self, id);
  want = text ? 1 : 2;
  if (a.npos != want)
    return cli_usage_error(self->name,
                           text ? "expected SERVICE:CONTAINER/KEY after "
                                  "--text STRING, got %d arguments"
                                : "expected LOCALFILE|- and "
                                  "SERVICE:CONTAINER/KEY, got %d arguments",
                           a.npos);
  ex = cli_target_parse(self->name, a.pos[want - 1], CLI_NEED_KEY, &t);
  if (ex)
    return ex;
  if (g->json)
    cli_json_array_begin(g);
  rc = cli_target_open(g, &t, &err);
  if (rc)
    goto out;
  rc = cli_source_open(&src, text, a.pos[0], &err);
  if (rc)
    goto out;
  memset(&ao, 0, sizeof ao);
  ao.struct_size = sizeof ao;
  ao.content_length = src.length;
  ao.content_type =
    cli_upload_content_type(content_type, t.a.key, text != NULL);
  rc = xtstore_blob_append(t.svc, t.a.container, t.a.key, &ao,
                           cli_source_read, &src, &err);
  rc = cli_explain_abort(&err, rc, &src, NULL);
  if (rc)
    goto out;
  memset(&act, 0, sizeof act);
  act.action = "append";
  act.source = text ? "(text)" : a.pos[0];
  act.target = t.display;
  act.size = (int64_t)src.done;
  cli_report(g, &act);

out:
  if (rc)
    ex = cli_fail(self->name, rc, &err);
  cli_source_close(&src);
  cli_target_free(&t);
  return ex;
}

const cli_cmd cli_cmd_append = {
  "append",
  "append a file, stdin or a string to a blob",
  "Usage: xtstore append [OPTIONS] LOCALFILE|- SERVICE:CONTAINER/KEY\n"
  "       xtstore append [OPTIONS] --text STRING SERVICE:CONTAINER/KEY\n"
  "\n"
  "Append bytes to a blob, creating it when missing. The service must\n"
  "support appends (exit 7 otherwise).\n"
  "\n"
  "Options:\n"
  "  --text STRING         append STRING instead of a file\n"
  "  --content-type TYPE   content type if the blob is created (default:\n"
  "                        from the key's extension)\n"
  "  --json                print a JSON array with the action\n"
  "  -h, --help            show this help\n"
  "\n"
  "Examples:\n"
  "  xtstore append --text 'step 3 done' scratch:runs/run1/log.txt\n"
  "  some-job | xtstore append - scratch:runs/run1/log.txt\n",
  append_run,
};
