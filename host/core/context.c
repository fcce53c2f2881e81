/*
** context.c -- the xtstore_ctx: configuration, plugin search path, logging,
** cancellation, the memory budget (budget.c) and the life of every
** service opened from it.
*/
#include <inttypes.h>
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
  char line[1024];

  snprintf(line, sizeof(line), "%s", msg ? msg : "");
  st_redact_urls(line, sizeof(line));
  st_log(host_ctx, level, "%s", line);
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

/* The largest multipart.part-size of the configured storage services
 * (the default where unset) into *out (0: none), and that service's
 * name. A pipe's upload to it needs one part buffer of that size. */
static void largest_part(const st_config *cfg, uint64_t *out,
                         const char **out_name)
{
  st_mp_policy p;
  const st_service_cfg *sc;
  const st_cfg_kv *kv;
  char msg[16];
  size_t i;

  *out = 0;
  *out_name = NULL;
  for (i = 0; i < st_config_service_count(cfg); i++) {
    sc = st_config_service_at(cfg, i);
    if (!sc->type || strcmp(sc->type, "storage"))
      continue;
    st_mp_default(&p);
    kv = st_config_service_kv(sc, "multipart.part-size");
    /* A bad value is the service's error, when it is opened. */
    if (kv && st_mp_parse(&p, kv->key, kv->value, msg, sizeof(msg)))
      continue;
    if (p.part_size > *out) {
      *out = p.part_size;
      *out_name = sc->name;
    }
  }
}

/* The budget's owner hooks: a take waits on the taking thread, so the
 * shield (st_shield) applies; -v hears once that it limited a transfer. */
static int budget_cancelled(void *ud)
{
  return st_cancelled(ud);
}

static void budget_limited(void *ud, uint64_t total)
{
  char size[32];

  st_log(ud, STORE_LOG_INFO, "memory budget of %s (--memory, XTSTORE_MEMORY) "
         "is spent: transfers wait for buffers, fewer run at once",
         st_size_text(total, size, sizeof(size)));
}

int xtstore_ctx_set_memory(xtstore_ctx *ctx, const char *size,
                           store_error *err)
{
  st_mp_policy p;
  const char *svc;
  char msg[200], a[32], b[32];
  uint64_t part;

  st_err_reset(err);
  if (!ctx || !size)
    return st_err(err, STORE_E_INVALID, "memory budget: no context or size");
  /* The multipart keys' size syntax, by their own parser. */
  st_mp_default(&p);
  if (st_mp_parse(&p, "multipart.threshold", size, msg, sizeof(msg)) ||
      p.threshold == 0)
    return st_err(err, STORE_E_INVALID, "memory budget '%.40s' (--memory, "
                  "XTSTORE_MEMORY): not a size (bytes, or with a K, M, G or T "
                  "suffix: 64M)", size);
  largest_part(ctx->cfg, &part, &svc);
  if (p.threshold < part)
    return st_err(err, STORE_E_INVALID, "memory budget '%.40s' (--memory, "
                  "XTSTORE_MEMORY) is smaller than one part buffer of %s "
                  "(multipart.part-size of service '%s'): give at least %s, "
                  "or lower that service's multipart.part-size", size,
                  st_size_text(part, a, sizeof(a)), svc, st_size_text(part, b, sizeof(b)));
  st_budget_set(&ctx->budget, p.threshold);
  st_log(ctx, STORE_LOG_DEBUG, "memory budget: %s",
         st_size_text(p.threshold, a, sizeof(a)));
  return STORE_OK;
}

uint64_t xtstore_ctx_memory(xtstore_ctx *ctx)
{
  return ctx ? st_budget_total(&ctx->budget) : 0;
}

int xtstore_ctx_open(const xtstore_ctx_opts *opts, xtstore_ctx **out,
                     store_error *err)
{
  xtstore_ctx *ctx = NULL;
  char msg[STORE_ERR_MSG_SIZE];
  unsigned cflags = 0;
  const char *path = NULL, *env;
  size_t i;
  int rc;

  *out = NULL;
  st_err_reset(err);
  ctx = calloc(1, sizeof(*ctx));
  if (!ctx)
    return st_err(err, STORE_E_NOMEM, "out of memory");
  pthread_mutex_init(&ctx->lock, NULL);
  st_budget_init(&ctx->budget, ST_MEMORY_DEFAULT);
  ctx->budget.cancelled = budget_cancelled;
  ctx->budget.on_limited = budget_limited;
  ctx->budget.ud = ctx;
  ctx->log = default_log;
  ctx->log_level = STORE_LOG_WARN;
  if (opts) {
    if (opts->flags & XTSTORE_CTX_NO_SYSTEM_CONFIG)
      cflags |= ST_CONFIG_NO_SYSTEM;
    if (opts->flags & XTSTORE_CTX_NO_USER_CONFIG)
      cflags |= ST_CONFIG_NO_USER;
    if (opts->flags & XTSTORE_CTX_NO_CWD_CONFIG)
      cflags |= ST_CONFIG_NO_CWD;
    if (opts->flags & XTSTORE_CTX_TRUST_CWD_CONFIG)
      cflags |= ST_CONFIG_TRUST_CWD;
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
  for (i = 0; i < st_config_file_count(ctx->cfg); i++)
    st_log(ctx, STORE_LOG_INFO, "config: read %s%s",
           st_config_file_at(ctx->cfg, i),
           st_config_file_restricted(ctx->cfg, i) ? " (the current "
           "directory's, untrusted: no plugin paths, endpoints or secret "
           "references; --trust-cwd-config lifts that)" : "");
  if (st_registry_new(&ctx->host, &ctx->reg)) {
    rc = st_err(err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
  rc = setup_search_path(ctx, err);
  if (!rc && (env = getenv("XTSTORE_MEMORY")) != NULL && env[0])
    rc = xtstore_ctx_set_memory(ctx, env, err);
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
  st_budget_destroy(&ctx->budget);
  pthread_mutex_destroy(&ctx->lock);
  free(ctx);
}

const char *xtstore_default_service(const xtstore_ctx *ctx)
{
  return ctx ? st_config_role(ctx->cfg, "storage", NULL) : NULL;
}
