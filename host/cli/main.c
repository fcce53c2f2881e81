/*
** main.c -- the xtstore command line: global options, the verb table,
** dispatch and the exit status (the context and ^C: session.c).
**
** Exit codes (the same table is printed by `xtstore --help`, see cli.h):
**   0 ok, 1 failure, 2 usage, 3 config, 4 not found, 5 exists/conflict,
**   6 auth/permission, 7 unsupported, 8 partial failure, 130 interrupted.
*/
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_cmd *const cli_cmds[] = {
  &cli_cmd_ls, &cli_cmd_put, &cli_cmd_get, &cli_cmd_cat, &cli_cmd_cp,
  &cli_cmd_rm, &cli_cmd_stat, &cli_cmd_meta, &cli_cmd_mb, &cli_cmd_rb,
  &cli_cmd_append, &cli_cmd_snapshot, &cli_cmd_services, &cli_cmd_plugins,
  &cli_cmd_sync, &cli_cmd_migrate,
  &cli_cmd_find, &cli_cmd_mkdir, &cli_cmd_bench,
  &cli_cmd_cleanup,
  &cli_cmd_presign,
  &cli_cmd_runlog,
};
#define CLI_NCMDS (sizeof(cli_cmds) / sizeof(cli_cmds[0]))

static const char cli_main_usage[] =
  "Usage: xtstore [GLOBAL OPTIONS] VERB [ARGS...]\n";

static const char cli_main_help_tail[] =
  "  help VERB   show the help of VERB (same as 'xtstore VERB --help')\n"
  "\n"
  "Addresses:\n"
  "  SERVICE:CONTAINER/KEY   a blob of a service from external-services\n"
  "  SERVICE:CONTAINER       a container (SERVICE:CONTAINER/PREFIX to list)\n"
  "  SERVICE:                the service itself (ls lists its containers)\n"
  "  :CONTAINER/KEY          the default service (xt-services.storage)\n"
  "  PATH                    a local file; '-' is stdin or stdout\n"
  "\n"
  "Global options (before the verb):\n"
  "  --config FILE    read FILE over the other layers (also $XTSTORE_CONFIG)\n"
  "  --trust-cwd-config\n"
  "                   let ./xt_config.yaml set plugin paths, endpoints and\n"
  "                   $file:/$env:/$vault references (refused by default:\n"
  "                   a directory you cd into is not trusted; or set\n"
  "                   trust-cwd-config: true in the user config)\n"
  "  --json           machine-readable output on stdout (also after the verb)\n"
  "  --memory SIZE    memory for transfer buffers, shared by every transfer\n"
  "                   (default 64M; K, M, G suffixes; also $XTSTORE_MEMORY);\n"
  "                   a smaller budget means fewer parts in flight, not failure\n"
  "  -v, --verbose    log more (-vv: debug)\n"
  "  -q, --quiet      print only errors\n"
  "  -h, --help       show this help\n"
  "  --version        print the version\n"
  "\n"
  "JSON output (--json):\n"
  "  stdout carries one JSON document. Listings (ls, find, services,\n"
  "  plugins), bench rows and the actions of mutating verbs (put, get, cp,\n"
  "  rm, mb, rb, mkdir, append, meta --set, plugins install) are a JSON\n"
  "  array printed one element per line,\n"
  "  streamed and closed with ']' even when a later object fails. stat, meta\n"
  "  and snapshot print one object. ls elements: {name, size, mtime (ISO\n"
  "  8601 UTC or null), etag, content_type, is_prefix, snapshot_id}; action\n"
  "  elements: {action, source, target, size, dry_run}. Errors stay on\n"
  "  stderr as text.\n"
  "\n"
  "Exit codes:\n"
  "  0    success\n"
  "  1    failure\n"
  "  2    usage error (bad option or argument)\n"
  "  3    configuration error\n"
  "  4    not found\n"
  "  5    already exists, not empty or precondition failed\n"
  "  6    authentication failed or permission denied\n"
  "  7    not supported by the service\n"
  "  8    partial failure: some of several objects failed\n"
  "  130  interrupted\n"
  "\n"
  "Every error is one line on stderr: 'xtstore: VERB: MESSAGE'.\n";

static void cli_main_help(FILE *f)
{
  size_t i;

  fputs(cli_main_usage, f);
  fputs("\nMove data between object-storage services described in an "
        "XT-style config.\n\nVerbs:\n", f);
  for (i = 0; i < CLI_NCMDS; i++)
    fprintf(f, "  %-10s  %s\n", cli_cmds[i]->name, cli_cmds[i]->summary);
  fputs(cli_main_help_tail, f);
}

static const cli_cmd *cli_find_cmd(const char *name)
{
  size_t i;

  for (i = 0; i < CLI_NCMDS; i++)
    if (strcmp(cli_cmds[i]->name, name) == 0)
      return cli_cmds[i];
  return NULL;
}

/* `xtstore help [VERB]` */
static int cli_help_verb(int argc, char **argv)
{
  const cli_cmd *cmd;

  if (argc == 0 || strcmp(argv[0], "--help") == 0 ||
      strcmp(argv[0], "-h") == 0) {
    cli_main_help(stdout);
    return CLI_EXIT_OK;
  }
  if (argc > 1)
    return cli_usage_error(NULL, "help: expected one verb, got %d arguments",
                           argc);
  cmd = cli_find_cmd(argv[0]);
  if (!cmd)
    return cli_usage_error(NULL, "help: unknown verb '%s'", argv[0]);
  fputs(cmd->help, stdout);
  return CLI_EXIT_OK;
}

enum { OPT_CONFIG = 1, OPT_MEMORY, OPT_VERBOSE, OPT_QUIET, OPT_VERSION,
       OPT_TRUST_CWD };

static const cli_opt cli_global_opts[] = {
  { "config", 0, 1, OPT_CONFIG },
  { "memory", 0, 1, OPT_MEMORY },
  { "verbose", 'v', 0, OPT_VERBOSE },
  { "quiet", 'q', 0, OPT_QUIET },
  { "version", 0, 0, OPT_VERSION },
  { "trust-cwd-config", 0, 0, OPT_TRUST_CWD },
  { NULL, 0, 0, 0 },
};

int main(int argc, char **argv)
{
  cli_global g;
  cli_args a;
  const cli_cmd *cmd;
  const char *val;
  int id, rc;

  memset(&g, 0, sizeof g);
  cli_sigint_install();

  cli_args_init(&a, &g, NULL, argc - 1, argv + 1);
  a.stop_at_positional = 1;
  for (;;) {
    id = cli_args_next(&a, cli_global_opts, &val);
    if (id <= 0)
      break;
    switch (id) {
    case OPT_CONFIG:
      g.config_path = val;
      break;
    case OPT_MEMORY:
      /* The library reads it when it opens the context, and names it
       * with the fix when it is no size or too small. */
      if (setenv("XTSTORE_MEMORY", val, 1) != 0)
        return cli_usage_error(NULL, "--memory '%s': %s", val,
                               strerror(errno));
      break;
    case OPT_VERBOSE:
      g.verbose++;
      break;
    case OPT_QUIET:
      g.quiet = 1;
      break;
    case OPT_TRUST_CWD:
      g.trust_cwd = 1;
      break;
    case OPT_VERSION:
      printf("xtstore %s (plugin ABI %d.%d)\n", xtstore_version(),
             STORE_ABI_MAJOR, STORE_ABI_MINOR);
      return CLI_EXIT_OK;
    }
  }
  if (id == CLI_ARGS_HELP) {
    cli_main_help(stdout);
    return CLI_EXIT_OK;
  }
  if (id == CLI_ARGS_ERROR)
    return CLI_EXIT_USAGE;
  if (a.next >= a.argc) {
    fputs(cli_main_usage, stderr);
    fputs("xtstore: no verb given; try 'xtstore --help'\n", stderr);
    return CLI_EXIT_USAGE;
  }

  if (strcmp(a.argv[a.next], "help") == 0) {
    rc = cli_help_verb(a.argc - a.next - 1, a.argv + a.next + 1);
    goto out;
  }
  cmd = cli_find_cmd(a.argv[a.next]);
  if (!cmd) {
    fprintf(stderr, "xtstore: unknown verb '%s'; try 'xtstore --help'\n",
            a.argv[a.next]);
    return CLI_EXIT_USAGE;
  }
  rc = cmd->run(&g, cmd, a.argc - a.next - 1, a.argv + a.next + 1);

out:
  cli_json_array_end(&g);
  /* Output that could not be written (a full disk, a closed pipe) is a
   * failure even when every storage operation succeeded. */
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "xtstore: cannot write standard output: %s\n",
            strerror(errno));
    if (rc == CLI_EXIT_OK)
      rc = CLI_EXIT_FAILURE;
  }
  cli_ctx_close(&g);
  if (cli_interrupted)
    rc = CLI_EXIT_INTERRUPTED;
  return rc;
}
