/*
** cmd_cleanup.c -- `xtstore cleanup`: the uploads in parts that runs left
** behind (kill -9, a crash), listed from their journals, and aborted with
** --yes.
*/
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

enum { OPT_YES = 1 };

static const cli_opt cleanup_opts[] = {
  { "yes", 'y', 0, OPT_YES },
  { NULL, 0, 0, 0 },
};

struct cleanup {
  cli_global *g;
  const char *verb;
  xtstore_svc *svc;         /* NULL: only list                          */
  cli_tally tally;
  unsigned n;
};

/* xtstore_upload_fn: show one upload; with --yes abort it (one the
 * service no longer has is gone already) and drop its journal. */
static int cleanup_one(void *ud, const xtstore_upload_info *u)
{
  struct cleanup *c = ud;
  store_error err;
  json_t *o;
  char size[32];
  long age = (long)(time(NULL) - u->created);
  const char *done = u->active ? "active" : c->svc ? "aborted" : "stale";
  int rc = STORE_OK;

  memset(&err, 0, sizeof err);
  c->n++;
  if (c->svc && !u->active) {
    rc = xtstore_multipart_abort(c->svc, u->container, u->key, u->upload_id,
                                 &err);
    if (rc == STORE_E_NOT_FOUND)
      rc = STORE_OK;
    if (!rc)
      rc = xtstore_upload_forget(u->path, &err);
    if (rc) {
      cli_tally_add(&c->tally, cli_fail(c->verb, rc, &err));
      return 0;
    }
  }
  cli_tally_add(&c->tally, CLI_EXIT_OK);
  if (c->g->json) {
    o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "action",
                  done, "service", u->service, "container", u->container,
                  "key", u->key, "age_s", (json_int_t)age, "parts",
                  (json_int_t)u->parts, "bytes", (json_int_t)u->bytes,
                  "upload_id", u->upload_id);
    if (o)
      cli_json_array_item(c->g, o);
    return 0;
  }
  cli_format_size(u->bytes, size, sizeof size);
  printf("%s  %s:%s/%s  upload %s, %ld s old, %u parts (%s) stored\n", done,
         u->service, cli_safe(u->container), cli_safe(u->key),
         cli_safe(u->upload_id), age,
         (unsigned)u->parts, size);
  return 0;
}

static int cleanup_run(cli_global *g, const cli_cmd *self, int argc,
                       char **argv)
{
  struct cleanup c;
  store_error err;
  cli_args a;
  cli_target t;
  const char *val;
  int id, yes = 0, ex, rc;

  memset(&c, 0, sizeof c);
  memset(&t, 0, sizeof t);
  memset(&err, 0, sizeof err);
  cli_args_init(&a, g, self->name, argc, argv);
  while ((id = cli_args_next(&a, cleanup_opts, &val)) > 0)
    if (id == OPT_YES)
      yes = 1;
  if (id < 0)
    return cli_args_exit(self, id);
  if (a.npos != 1)
    return cli_usage_error(self->name, "expected SERVICE:CONTAINER");
  ex = cli_target_parse(self->name, a.pos[0], CLI_NEED_CONTAINER, &t);
  if (ex != CLI_EXIT_OK)
    return ex;
  /* The service is opened for the real name of a default (":c") and for
   * the aborts; a dry run sends nothing to it. */
  rc = cli_target_open(g, &t, &err);
  if (rc) {
    ex = cli_fail(self->name, rc, &err);
    goto out;
  }
  c.g = g;
  c.verb = self->name;
  c.svc = yes ? t.svc : NULL;
  if (g->json)
    cli_json_array_begin(g);
  rc = xtstore_uploads_list(xtstore_service_name(t.svc), t.a.container,
                            cleanup_one, &c, &err);
  if (rc) {
    ex = cli_fail(self->name, rc, &err);
    goto out;
  }
  if (!g->json && !g->quiet && c.n == 0)
    fprintf(stderr, "xtstore: cleanup: no unfinished uploads of %s\n",
            t.display);
  else if (!g->json && !g->quiet && !yes)
    fprintf(stderr, "xtstore: cleanup: dry run: run again with --yes to "
            "abort %s\n", c.n == 1 ? "it" : "them");
  ex = cli_tally_exit(&c.tally);
out:
  cli_target_free(&t);
  return ex;
}

const cli_cmd cli_cmd_cleanup = {
  "cleanup",
  "list (and with --yes abort) uploads that runs left unfinished",
  "Usage: xtstore cleanup SERVICE:CONTAINER [--yes]\n"
  "\n"
  "An upload from a file in parts is journaled under the user's state\n"
  "directory ($XDG_STATE_HOME/xtstore/uploads/, default\n"
  "~/.local/state/xtstore/uploads/) while it runs. A run that dies without\n"
  "aborting (kill -9, a crash, power loss, a network lost for good) leaves\n"
  "the journal and the parts already stored on the service; the next\n"
  "upload of the same, unchanged file to the same blob resumes it.\n"
  "'cleanup' lists those journals for SERVICE:CONTAINER (key, upload id,\n"
  "age, parts stored). It is a dry run unless --yes is given: then each\n"
  "upload is aborted on the service (its stored parts are discarded) and\n"
  "its journal removed. An upload a running xtstore is doing is shown as\n"
  "'active' and left alone. Only uploads journaled by this user on this\n"
  "machine are known. When some aborts fail, the exit code is 8.\n"
  "\n"
  "Options:\n"
  "  -y, --yes    abort the uploads listed and remove their journals\n"
  "  --json       print a JSON array with one element per upload\n"
  "  -h, --help   show this help\n"
  "\n"
  "Examples:\n"
  "  xtstore cleanup s3:backups\n"
  "  xtstore cleanup s3:backups --yes\n",
  cleanup_run,
};
