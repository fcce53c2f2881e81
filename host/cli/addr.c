/*
** addr.c -- command-line addresses: parsing and checking what a verb
** needs, opening the named service, and the names shown in messages.
*/
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

char *cli_strdupf(const char *fmt, ...)
{
  va_list ap;
  char *s;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return NULL;
  s = malloc((size_t)n + 1);
  if (!s)
    return NULL;
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

char *cli_remote_name(const char *svc, const char *container,
                      const char *key)
{
  if (!container)
    return cli_strdupf("%s:", svc ? svc : "");
  if (!key)
    return cli_strdupf("%s:%s", svc ? svc : "", container);
  return cli_strdupf("%s:%s/%s", svc ? svc : "", container, key);
}

const char *cli_basename(const char *path)
{
  const char *slash = strrchr(path, '/');

  return slash ? slash + 1 : path;
}

char *cli_list_prefix(const char *key)
{
  size_t len = key ? strlen(key) : 0;

  if (len == 0)
    return strdup("");
  if (key[len - 1] == '*')
    return strndup(key, len - 1);
  if (key[len - 1] == '/')
    return strdup(key);
  return cli_strdupf("%s/", key);
}

int cli_target_parse(const char *verb, const char *text, uint32_t need,
                     cli_target *t)
{
  store_error err;
  int rc;

  memset(t, 0, sizeof *t);
  memset(&err, 0, sizeof err);
  err.struct_size = sizeof err;
  rc = xtstore_addr_parse(text, &t->a, &err);
  if (rc) {
    memset(&t->a, 0, sizeof t->a);
    if (rc == STORE_E_INVALID)
      return cli_usage_error(verb, "%s",
                             err.message[0] ? err.message
                                            : "invalid address");
    return cli_fail(verb, rc, &err);
  }
  if (t->a.kind != XTSTORE_ADDR_REMOTE) {
    if (need & CLI_NEED_LOCAL_OK)
      return 0;
    rc = cli_usage_error(verb,
                         "'%s' is not a service address (expected "
                         "SERVICE:CONTAINER%s)",
                         text, (need & CLI_NEED_KEY) ? "/KEY" : "[/KEY]");
    goto fail;
  }
  if ((need & (CLI_NEED_CONTAINER | CLI_NEED_KEY)) && !t->a.container) {
    rc = cli_usage_error(verb, "'%s' names no container (expected "
                               "SERVICE:CONTAINER%s)",
                         text, (need & CLI_NEED_KEY) ? "/KEY" : "");
    goto fail;
  }
  if ((need & CLI_NEED_KEY) && (!t->a.key || !t->a.key[0])) {
    rc = cli_usage_error(verb, "'%s' names no key (expected "
                               "SERVICE:CONTAINER/KEY)",
                         text);
    goto fail;
  }
  return 0;

fail:
  cli_target_free(t);
  return rc;
}

static int cli_target_rename(cli_target *t, store_error *err)
{
  free(t->display);
  t->display = cli_remote_name(xtstore_service_name(t->svc), t->a.container,
                               t->a.key);
  if (!t->display)
    return store_error_set(err, STORE_E_NOMEM, "out of memory");
  return STORE_OK;
}

int cli_target_open(cli_global *g, cli_target *t, store_error *err)
{
  xtstore_ctx *ctx;
  int rc;

  rc = cli_ctx(g, &ctx, err);
  if (rc)
    return rc;
  rc = xtstore_service_open(ctx, t->a.service, &t->svc, err);
  if (rc)
    return rc;
  return cli_target_rename(t, err);
}

int cli_target_set_key(cli_target *t, const char *key, store_error *err)
{
  char *k = strdup(key);

  if (!k)
    return store_error_set(err, STORE_E_NOMEM, "out of memory");
  free(t->a.key);
  t->a.key = k;
  return t->svc ? cli_target_rename(t, err) : STORE_OK;
}

void cli_target_free(cli_target *t)
{
  xtstore_addr_free(&t->a);
  free(t->display);
  memset(t, 0, sizeof *t);
}
