/*
** session.c -- what every verb shares for one run: the library context,
** opened on first use with the global options' log level, and ^C, which
** cancels it (the second ^C kills at once).
*/
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

volatile sig_atomic_t cli_interrupted;

/* The context the SIGINT handler cancels. Written only by the main thread
 * with SIGINT able to arrive at any point, hence volatile; a pointer store
 * is atomic on every platform this builds for. */
static xtstore_ctx *volatile cli_sig_ctx;

static void cli_on_sigint(int sig)
{
  xtstore_ctx *ctx = cli_sig_ctx;

  (void)sig;
  cli_interrupted = 1;
  if (ctx)
    xtstore_ctx_cancel(ctx);
}

/* Without SA_RESTART a blocking read of stdin returns EINTR so the body
 * source notices ^C; SA_RESETHAND makes a second ^C kill at once. An
 * inherited SIG_IGN (a background job of a non-interactive shell, nohup)
 * is kept, as the shell expects. */
void cli_sigint_install(void)
{
  struct sigaction sa;

  if (sigaction(SIGINT, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
    return;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = cli_on_sigint;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
}

static void cli_log(void *ud, int32_t level, const char *msg)
{
  static const char *const names[] = { "error", "warning", "info", "debug" };
  const char *name = level >= 0 && level <= STORE_LOG_DEBUG ? names[level]
                                                            : "log";

  (void)ud;
  fprintf(stderr, "xtstore: %s: %s\n", name, cli_safe(msg));
}

int cli_ctx(cli_global *g, xtstore_ctx **out, store_error *err)
{
  xtstore_ctx_opts o;
  int rc;

  *out = NULL;
  if (!g->ctx) {
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.config_path = g->config_path;
    if (g->trust_cwd)
      o.flags |= XTSTORE_CTX_TRUST_CWD_CONFIG;
    o.log = cli_log;
    o.log_ud = g;
    if (g->quiet)
      o.log_level = STORE_LOG_ERROR;
    else if (g->verbose >= 2)
      o.log_level = STORE_LOG_DEBUG;
    else if (g->verbose == 1)
      o.log_level = STORE_LOG_INFO;
    else
      o.log_level = STORE_LOG_WARN;
    rc = xtstore_ctx_open(&o, &g->ctx, err);
    if (rc)
      return rc;
    cli_sig_ctx = g->ctx;
    /* ^C before the context existed still has to stop what follows. */
    if (cli_interrupted)
      xtstore_ctx_cancel(g->ctx);
  }
  *out = g->ctx;
  return STORE_OK;
}

void cli_ctx_close(cli_global *g)
{
  cli_sig_ctx = NULL;
  xtstore_ctx_close(g->ctx);
  g->ctx = NULL;
}
