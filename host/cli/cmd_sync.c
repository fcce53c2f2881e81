/*
** cmd_sync.c -- `xtstore sync`, and the run it shares with `xtstore
** migrate` (cmd_migrate.c): compare two trees from their listings and
** copy what is new or different; sync may delete what the source lacks,
** migrate keeps a run log.
*/
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Deletions sync makes unless told otherwise: more means a mistake (an
 * empty or wrong source) far more often than intent. */
#define CLI_MAX_DELETE_DEFAULT 1000

enum { OPT_DRY_RUN = 1, OPT_CHECKSUM, OPT_TRANSFERS, OPT_PROGRESS,
       OPT_NO_PROGRESS, OPT_DELETE, OPT_MAX_DELETE, OPT_LOG,
       OPT_ALLOW_EMPTY, OPT_SHARD, OPT_RUN_ID };

static const cli_opt compare_opts[] = {
  { "dry-run", 0, 0, OPT_DRY_RUN },
  { "checksum", 'c', 0, OPT_CHECKSUM },
  { "transfers", 0, 1, OPT_TRANSFERS },
  { "progress", 0, 0, OPT_PROGRESS },
  { "no-progress", 0, 0, OPT_NO_PROGRESS },
  { "delete", 0, 0, OPT_DELETE },
  { "max-delete", 0, 1, OPT_MAX_DELETE },
  { "log", 0, 1, OPT_LOG },
  { "allow-empty-source", 0, 0, OPT_ALLOW_EMPTY },
  { "shard", 0, 1, OPT_SHARD },
  { "run-id", 0, 1, OPT_RUN_ID },
  { NULL, 0, 0, 0 },
};

/* --log FILE or --log SERVICE:CONTAINER/KEY into o. Returns an exit
 * code. */
static int open_log(cli_global *g, const char *verb, const char *text,
                    cli_target *t, xtstore_wf_opts *o)
{
  store_error err;
  int ex, rc;

  ex = cli_target_parse(verb, text, CLI_NEED_LOCAL_OK | CLI_NEED_KEY, t);
  if (ex)
    return ex;
  if (t->a.kind == XTSTORE_ADDR_LOCAL) {
    o->log_path = t->a.path;
    return CLI_EXIT_OK;
  }
  memset(&err, 0, sizeof err);
  rc = cli_target_open(g, t, &err);
  if (rc)
    return cli_fail(verb, rc, &err);
  o->log_svc = t->svc;
  o->log_container = t->a.container;
  o->log_key = t->a.key;
  return CLI_EXIT_OK;
}

int cli_compare_run(cli_global *g, const cli_cmd *self, int argc,
                    char **argv, int migrate)
{
  cli_args a;
  cli_target log;
  xtstore_wf_opts o;
  const char *val, *log_text = NULL, *shard = NULL;
  store_error serr;
  uint64_t n;
  int id = 0, ex = CLI_EXIT_OK, progress = CLI_PROGRESS_AUTO, max_given = 0;
  int allow_empty = 0;

  memset(&log, 0, sizeof log);
  memset(&o, 0, sizeof o);
  o.max_delete = CLI_MAX_DELETE_DEFAULT;
  cli_args_init(&a, g, self->name, argc, argv);
  while (!ex && (id = cli_args_next(&a, compare_opts, &val)) > 0) {
    switch (id) {
    case OPT_DRY_RUN:
      o.flags |= XTSTORE_WF_DRY_RUN;
      break;
    case OPT_CHECKSUM:
      o.flags |= XTSTORE_WF_CHECKSUM;
      break;
    case OPT_TRANSFERS:
      ex = cli_parse_number(self->name, "--transfers", val, 1, 256, &n);
      o.transfers = (uint32_t)n;
      break;
    case OPT_PROGRESS:
      progress = CLI_PROGRESS_ON;
      break;
    case OPT_NO_PROGRESS:
      progress = CLI_PROGRESS_OFF;
      break;
    case OPT_DELETE:
      o.flags |= XTSTORE_WF_DELETE;
      break;
    case OPT_MAX_DELETE:
      ex = cli_parse_number(self->name, "--max-delete", val, 0, UINT64_MAX,
                            &o.max_delete);
      max_given = 1;
      break;
    case OPT_LOG:
      log_text = val;
      break;
    case OPT_ALLOW_EMPTY:
      allow_empty = 1;
      break;
    case OPT_SHARD:
      shard = val;
      break;
    case OPT_RUN_ID:
      o.run_id = val;
      break;
    }
  }
  if (ex)
    return ex;
  if (id < 0)
    return cli_args_exit(self, id);
  if (migrate && ((o.flags & XTSTORE_WF_DELETE) || max_given))
    return cli_usage_error(self->name, "migrate deletes nothing: --delete "
                                       "and --max-delete are sync's");
  if (!migrate && log_text)
    return cli_usage_error(self->name, "--log is migrate's");
  if (!migrate && o.run_id)
    return cli_usage_error(self->name, "--run-id is migrate's");
  /* The shards of one run share its id: the scheduler's job sets it. */
  if (migrate && !o.run_id && (val = getenv("XTSTORE_RUN_ID")) && val[0])
    o.run_id = val;
  if (shard && xtstore_shard_parse(shard, &o.shard_index, &o.shard_count,
                                   &serr))
    return cli_usage_error(self->name, "%s", serr.message);
  if (a.npos != 2)
    return cli_usage_error(self->name, "expected SRC and DST, got %d "
                                       "arguments",
                           a.npos);
  if (log_text)
    ex = open_log(g, self->name, log_text, &log, &o);
  if (!ex)
    ex = cli_tree_run(g, self->name, a.pos[0], a.pos[1],
                      migrate ? xtstore_migrate : xtstore_sync, &o, progress,
                      !allow_empty);
  cli_target_free(&log);
  return ex;
}

static int sync_run(cli_global *g, const cli_cmd *self, int argc,
                    char **argv)
{
  return cli_compare_run(g, self, argc, argv, 0);
}

const cli_cmd cli_cmd_sync = {
  "sync",
  "make a target tree like a source tree (copy what differs, --delete)",
  "Usage: xtstore sync [OPTIONS] SRC DST\n"
  "\n"
  "Make DST like SRC. Both are trees: SERVICE:CONTAINER[/PREFIX] (ls's\n"
  "prefix rule) or a local directory (not both local). Both are listed\n"
  "completely, in name order, and compared name by name from the listings\n"
  "alone (no per-object request): an object is 'new' when DST lacks it,\n"
  "'update' when the sizes differ, or with --checksum when both listings\n"
  "carry CRC-32Cs (else MD5s) that differ, or else when both carry times\n"
  "and the source's is newer (whole seconds); otherwise 'equal'. New and\n"
  "updated objects are copied as cp -r copies them; equal ones are left\n"
  "alone (shown with -v).\n"
  "\n"
  "With --delete, objects only DST has are deleted too -- after every copy\n"
  "succeeded, and not at all when more than --max-delete would go (exit 5,\n"
  "nothing deleted) or when anything failed.\n"
  "\n"
  "A SRC with no objects is refused (exit 4, nothing copied or deleted): a\n"
  "wrong or empty prefix would otherwise copy nothing and, with --delete,\n"
  "delete everything at DST. --allow-empty-source runs it anyway.\n"
  "\n"
  "Options:\n"
  "  --delete              delete DST objects that SRC lacks\n"
  "  --max-delete N        refuse to delete more than N (default 1000);\n"
  "                        the names to delete are held in memory; with\n"
  "                        --shard, N is per shard\n"
  "  --shard I/N|auto[/N]  handle only shard I of N (the FNV-1a hash of\n"
  "                        each name, docs/sharding.md); --delete deletes\n"
  "                        only this shard's objects\n"
  "  --allow-empty-source  run even when SRC has no objects (with --delete:\n"
  "                        delete everything at DST)\n"
  "  -c, --checksum        compare CRC-32Cs where both listings have them,\n"
  "                        else MD5s where both have them\n"
  "  --dry-run             print the plan; copy and delete nothing\n"
  "  --transfers N         objects in flight, 1-256 (default: 2 per CPU,\n"
  "                        at least 4, at most 16)\n"
  CLI_PROGRESS_OPTIONS_HELP
  "  --json                a JSON array: one element per object (action,\n"
  "                        source, target, size, dry_run, status, error)\n"
  "                        and a summary element\n"
  "  -h, --help            show this help\n"
  "\n"
  "Output: one line per object copied or deleted ('new: SRC -> DST (N\n"
  "bytes)', 'update: ...', 'delete: DST'), failures on stderr, then a\n"
  "summary. Exit 8 when some objects failed.\n"
  "\n"
  CLI_PROGRESS_HELP
  "\n"
  "Examples:\n"
  "  xtstore sync ./site scratch:www/\n"
  "  xtstore sync --delete --dry-run scratch:data/ archive:data/\n",
  sync_run,
};
