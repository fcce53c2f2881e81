/*
** view.c -- check the sections of the merged tree and build the
** views the accessors hand out (services with flattened keys, plugin path).
**
** Only what the host itself reads is checked; unknown sections, provider
** categories and service types are kept and left alone. A service without
** `provider` is not an error here: it fails only when used (lazy, as XT).
** Errors point at the key whose value is of the wrong kind, and never
** quote a value (it could be a secret).
*/
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

/* Dotted names for messages, e.g. "external-services.lake.tls.verify". */
#define ST_CFG_NAME_MAX 512

static int expected(char *err, size_t errlen, const st_cfg_entry *e,
                    const char *name, const char *what)
{
  return st_cfg_error(err, errlen, &e->key_pos, "%s: expected %s, found %s",
                      name, what, st_cfg_kind_name(e->val->kind));
}

static int oom(char *err, size_t errlen)
{
  return st_cfg_error(err, errlen, NULL, "out of memory");
}

/* The top-level section `name` into *out: NULL when absent or null, an
 * error when it is not a map. */
static int map_section(const st_config *cfg, const char *name,
                       const char *what, const st_cfg_entry **out, char *err,
                       size_t errlen)
{
  const st_cfg_entry *e = st_cfg_get(cfg->root, name);

  *out = NULL;
  if (!e || e->val->kind == ST_CFG_NULL)
    return 0;
  if (e->val->kind != ST_CFG_MAP)
    return expected(err, errlen, e, name, what);
  *out = e;
  return 0;
}

static int check_providers(const st_config *cfg, char *err, size_t errlen)
{
  const st_cfg_entry *sec, *cat;
  char name[ST_CFG_NAME_MAX];
  size_t i;
  int rc;

  rc = map_section(cfg, "providers", "a map {category: {name: plugin}}", &sec,
                   err, errlen);
  if (rc || !sec)
    return rc;
  cat = st_cfg_get(sec->val, "storage");
  if (!cat || cat->val->kind == ST_CFG_NULL)
    return 0;
  if (cat->val->kind != ST_CFG_MAP)
    return expected(err, errlen, cat, "providers.storage",
                    "a map {name: plugin}");
  for (i = 0; i < cat->val->n; i++) {
    const st_cfg_entry *e = &cat->val->items[i];
    if (e->val->kind == ST_CFG_SCALAR)
      continue;
    snprintf(name, sizeof(name), "providers.storage.%s", e->key);
    return expected(err, errlen, e, name, "a plugin name or path");
  }
  return 0;
}

/* A growing array of one service's keys. */
typedef struct kv_vec {
  st_cfg_kv *kv;
  size_t n, cap;
} kv_vec;

/* Add entry `e` of service `svc` under `prefix` (NULL at the top level):
 * a scalar or null as one key, a map flattened to "prefix.key". */
static int add_kv(st_config *cfg, const char *svc, const char *prefix,
                  const st_cfg_entry *e, kv_vec *v, char *err, size_t errlen)
{
  char key[ST_CFG_NAME_MAX], name[2 * ST_CFG_NAME_MAX];
  const st_cfg_kv *dup = NULL;
  st_cfg_kv *kv;
  size_t i;
  int rc, n;

  n = snprintf(key, sizeof(key), "%s%s%s", prefix ? prefix : "",
               prefix ? "." : "", e->key);
  snprintf(name, sizeof(name), "external-services.%s.%s", svc, key);
  if (n < 0 || (size_t)n >= sizeof(key))
    return st_cfg_error(err, errlen, &e->key_pos, "%s...: key too long",
                        name);
  switch (e->val->kind) {
  case ST_CFG_MAP:
    for (i = 0; i < e->val->n; i++) {
      rc = add_kv(cfg, svc, key, &e->val->items[i], v, err, errlen);
      if (rc)
        return rc;
    }
    return 0;
  case ST_CFG_SEQ:
    return expected(err, errlen, e, name,
                    "a string or a map (lists are not allowed in a service)");
  case ST_CFG_SCALAR:
  case ST_CFG_NULL:
    break;
  }
  /* `tls: {verify: ..}` next to a literal `tls.verify: ..`. */
  for (i = 0; i < v->n && !dup; i++)
    if (strcmp(v->kv[i].key, key) == 0)
      dup = &v->kv[i];
  if (dup)
    return st_cfg_error(err, errlen, &e->key_pos,
                        "%s: given twice (also at line %d, column %d)", name,
                        dup->pos.line, dup->pos.col);
  kv = st_arena_grow(&cfg->arena, v->kv, v->n, &v->cap, sizeof(*kv));
  if (!kv)
    return oom(err, errlen);
  v->kv = kv;
  kv[v->n].key = st_arena_strndup(&cfg->arena, key, strlen(key));
  if (!kv[v->n].key)
    return oom(err, errlen);
  kv[v->n].value = e->val->str;
  kv[v->n].pos = e->val->pos;
  v->n++;
  return 0;
}

static int build_service(st_config *cfg, const st_cfg_entry *e,
                         st_service_cfg *svc, char *err, size_t errlen)
{
  char name[ST_CFG_NAME_MAX];
  kv_vec v = {NULL, 0, 0};
  size_t i;
  int rc;

  snprintf(name, sizeof(name), "external-services.%s", e->key);
  if (e->val->kind != ST_CFG_MAP)
    return expected(err, errlen, e, name, "a map {type: ..., provider: ...}");
  svc->name = e->key;
  svc->pos = e->key_pos;
  for (i = 0; i < e->val->n; i++) {
    const st_cfg_entry *it = &e->val->items[i];
    const char **field = NULL;

    if (strcmp(it->key, "type") == 0)
      field = &svc->type;
    else if (strcmp(it->key, "provider") == 0)
      field = &svc->provider;
    if (!field) {
      rc = add_kv(cfg, e->key, NULL, it, &v, err, errlen);
      if (rc)
        return rc;
      continue;
    }
    if (it->val->kind == ST_CFG_MAP || it->val->kind == ST_CFG_SEQ) {
      snprintf(name, sizeof(name), "external-services.%s.%s", e->key,
               it->key);
      return expected(err, errlen, it, name, "a string");
    }
    *field = it->val->str; /* NULL for a YAML null: as if missing */
  }
  svc->kv = v.kv;
  svc->nkv = v.n;
  return 0;
}

static int build_services(st_config *cfg, char *err, size_t errlen)
{
  const st_cfg_entry *sec;
  size_t i;
  int rc;

  rc = map_section(cfg, "external-services",
                   "a map {service: {type: ..., provider: ...}}", &sec, err,
                   errlen);
  if (rc || !sec || !sec->val->n)
    return rc;
  cfg->svcs = st_arena_alloc(&cfg->arena, sec->val->n * sizeof(*cfg->svcs));
  if (!cfg->svcs)
    return oom(err, errlen);
  for (i = 0; i < sec->val->n; i++) {
    rc = build_service(cfg, &sec->val->items[i], &cfg->svcs[i], err, errlen);
    if (rc)
      return rc;
    cfg->nsvcs++;
  }
  return 0;
}

static int check_roles(const st_config *cfg, char *err, size_t errlen)
{
  const st_cfg_entry *sec;
  char name[ST_CFG_NAME_MAX];
  size_t i;
  int rc;

  rc = map_section(cfg, "xt-services", "a map {role: service}", &sec, err,
                   errlen);
  if (rc || !sec)
    return rc;
  for (i = 0; i < sec->val->n; i++) {
    const st_cfg_entry *e = &sec->val->items[i];
    if (e->val->kind == ST_CFG_SCALAR || e->val->kind == ST_CFG_NULL)
      continue;
    snprintf(name, sizeof(name), "xt-services.%s", e->key);
    return expected(err, errlen, e, name, "a service name or null");
  }
  return 0;
}

/* Append directory text[0..len) to the plugin path, `~` expanded. */
static int add_dir(st_config *cfg, size_t *cap, const char *text, size_t len,
                   const st_cfg_pos *pos, char *err, size_t errlen)
{
  char raw[PATH_MAX], dir[PATH_MAX];
  const char **paths;

  if (len < sizeof(raw)) {
    memcpy(raw, text, len);
    raw[len] = '\0';
  }
  if (len >= sizeof(raw) || st_expand_home(raw, dir, sizeof(dir)))
    return st_cfg_error(err, errlen, pos,
                        "plugin-path: a directory name is too long, or "
                        "needs HOME");
  paths = st_arena_grow(&cfg->arena, cfg->paths, cfg->npaths, cap,
                        sizeof(*paths));
  if (!paths)
    return oom(err, errlen);
  cfg->paths = paths;
  paths[cfg->npaths] = st_arena_strndup(&cfg->arena, dir, strlen(dir));
  if (!paths[cfg->npaths])
    return oom(err, errlen);
  cfg->npaths++;
  return 0;
}

static int build_plugin_path(st_config *cfg, char *err, size_t errlen)
{
  const st_cfg_entry *e = st_cfg_get(cfg->root, "plugin-path");
  const char *s, *colon;
  size_t cap = 0, i;
  int rc;

  if (!e || e->val->kind == ST_CFG_NULL)
    return 0;
  if (e->val->kind == ST_CFG_MAP)
    return expected(err, errlen, e, "plugin-path",
                    "a string (dir:dir:...) or a list of strings");
  if (e->val->kind == ST_CFG_SCALAR) {
    for (s = e->val->str;; s = colon + 1) {
      colon = strchrnul(s, ':');
      if (colon > s) { /* "a::b" and a trailing ':' add nothing */
        rc = add_dir(cfg, &cap, s, (size_t)(colon - s), &e->val->pos, err,
                     errlen);
        if (rc)
          return rc;
      }
      if (!*colon)
        return 0;
    }
  }
  for (i = 0; i < e->val->n; i++) {
    const st_cfg_entry *it = &e->val->items[i];
    if (it->val->kind != ST_CFG_SCALAR)
      return st_cfg_error(err, errlen, &it->val->pos,
                          "plugin-path[%zu]: expected a string, found %s", i,
                          st_cfg_kind_name(it->val->kind));
    rc = add_dir(cfg, &cap, it->val->str, strlen(it->val->str), &it->val->pos,
                 err, errlen);
    if (rc)
      return rc;
  }
  return 0;
}

int st_cfg_build_views(st_config *cfg, char *err, size_t errlen)
{
  int rc;

  rc = check_providers(cfg, err, errlen);
  if (rc)
    return rc;
  rc = build_services(cfg, err, errlen);
  if (rc)
    return rc;
  rc = check_roles(cfg, err, errlen);
  if (rc)
    return rc;
  return build_plugin_path(cfg, err, errlen);
}
