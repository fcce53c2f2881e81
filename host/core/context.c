/*
** context.c -- the xtstore_ctx: configuration, plugin search path, logging,
** cancellation, and the life of every service opened from it.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#ifndef XTSTORE_VERSION
#define XTSTORE_VERSION "0.0.0"
#endif

const char *xtstore_version(void)
{
  return XTSTORE_VERSION;
}

static void default_log(void *ud, int32_t level, const char *msg)
{
  static const char *const names[] = {"error", "warning", "info", "debug"};
  (void)ud;
  if (level < 0 || level > STORE_LOG_DEBUG)
    level = STORE_LOG_DEBUG;
  fprintf(stderr, "xtstore: %s: %s\n", names[level], msg);
}

void st_log(xtstore_ctx *ctx, int32_t level, const char *fmt, ...)
{
  char line[1024];
  va_list ap;
  if (!ctx || level > ctx->log_level)
    return;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  ctx->log(ctx->log_ud, level, line);
}

/* The plugins' view of the host: log and is_cancelled. */
static void host_log(void *host_ctx, int32_t level, const char *msg)
{
  st_log(host_ctx, level, "%s", msg ? msg : "");
}

static int32_t host_is_cancelled(void *host_ctx)
{
  return st_cancelled(host_ctx);
}

/* The context whose cancellation this thread does not see (st_shield). */
static _Thread_local const xtstore_ctx *shielded;

int st_cancelled(const xtstore_ctx *ctx)
{
  return ctx && ctx->cancelled && ctx != shielded;
}

const xtstore_ctx *st_shield(const xtstore_ctx *ctx)
{
  const xtstore_ctx *prev = shielded;
  shielded = ctx;
  return prev;
}

void st_unshield(const xtstore_ctx *prev)
{
  shielded = prev;
}

void xtstore_ctx_cancel(xtstore_ctx *ctx)
{
  if (ctx)
    ctx->cancelled = 1;
}

/* Search path, in order: $XTSTORE_PLUGIN_PATH, plugin-path: from config,
 * then the user, build-tree/install and compiled-in directories. */
static int setup_search_path(xtstore_ctx *ctx, store_error *err)
{
  const char *env = getenv("XTSTORE_PLUGIN_PATH");
  size_t i;
  if (env && st_registry_add_path_list(ctx->reg, env))
    return st_err(err, STORE_E_NOMEM, "out of memory setting the plugin path");
  for (i = 0; i < st_config_plugin_path_count(ctx->cfg); i++)
    if (st_registry_add_dir(ctx->reg, st_config_plugin_path_at(ctx->cfg, i)))
      return st_err(err, STORE_E_NOMEM, "out of memory setting the plugin path");
  if (st_registry_add_defaults(ctx->reg))
    return st_err(err, STORE_E_NOMEM, "out of memory setting the plugin path");
  return STORE_OK;
}

int xtstore_ctx_open(const xtstore_ctx_opts *opts, xtstore_ctx **out,
                     store_error *err)
{
  xtstore_ctx *ctx = NULL;
  char msg[STORE_ERR_MSG_SIZE];
  unsigned cflags = 0;
  const char *path = NULL;
  int rc;

  *out = NULL;
  st_err_reset(err);
  ctx = calloc(1, sizeof(*ctx));
  if (!ctx)
    return st_err(err, STORE_E_NOMEM, "out of memory");
  pthread_mutex_init(&ctx->lock, NULL);
  ctx->log = default_log;
  ctx->log_level = STORE_LOG_WARN;
  if (opts) {
    if (opts->flags & XTSTORE_CTX_NO_SYSTEM_CONFIG)
      cflags |= ST_CONFIG_NO_SYSTEM;
    if (opts->flags & XTSTORE_CTX_NO_USER_CONFIG)
      cflags |= ST_CONFIG_NO_USER;
    if (opts->flags & XTSTORE_CTX_NO_CWD_CONFIG)
      cflags |= ST_CONFIG_NO_CWD;
    path = opts->config_path;
    if (opts->log) {
      ctx->log = opts->log;
      ctx->log_ud = opts->log_ud;
    }
    ctx->log_level = opts->log_level;
  }
  ctx->host.struct_size = sizeof(ctx->host);
  ctx->host.abi_major = STORE_ABI_MAJOR;
  ctx->host.abi_minor = STORE_ABI_MINOR;
  ctx->host.host_ctx = ctx;
  ctx->host.log = host_log;
  ctx->host.is_cancelled = host_is_cancelled;

  msg[0] = '\0';
  if (st_config_load(path, cflags, &ctx->cfg, msg, sizeof(msg))) {
    rc = st_err(err, STORE_E_CONFIG, "%s", msg);
    goto out;
  }
  if (st_registry_new(&ctx->host, &ctx->reg)) {
    rc = st_err(err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
  rc = setup_search_path(ctx, err);
  if (rc)
    goto out;
  *out = ctx;
  ctx = NULL;
out:
  xtstore_ctx_close(ctx);
  return rc;
}

void xtstore_ctx_close(xtstore_ctx *ctx)
{
  xtstore_svc *s, *next;
  if (!ctx)
    return;
  for (s = ctx->services; s; s = next) {
    next = s->next;
    if (s->ops && s->ops->close)
      s->ops->close(s->h);
    pthread_mutex_destroy(&s->serial);
    free(s->name);
    free(s);
  }
  st_registry_free(ctx->reg);
  st_config_free(ctx->cfg);
  pthread_mutex_destroy(&ctx->lock);
  free(ctx);
}

const char *xtstore_default_service(const xtstore_ctx *ctx)
{
  return ctx ? st_config_role(ctx->cfg, "storage", NULL) : NULL;
}
