/*
** service.c -- from a configured external-services entry to an open plugin
** handle: provider resolution (lazy), key checks against the plugin's
** table, secret resolution, retry and multipart settings, and the redacted
** view of services.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* Non-zero when key is `name` or one of its "name." sub-keys. */
static int key_in(const char *key, const char *name)
{
  size_t n = strlen(name);
  return strncmp(key, name, n) == 0 && (key[n] == '\0' || key[n] == '.');
}

/* Keys the host owns and never passes to a plugin. */
static int host_owned_key(const char *key)
{
  return key_in(key, "retry") || key_in(key, "multipart");
}

/* Parse a host-owned key into svc. Returns 0, or -1 with a message. */
static int host_key_parse(xtstore_svc *svc, const char *key, const char *value,
                          char *msg, size_t len)
{
  if (key_in(key, "retry"))
    return st_retry_parse(&svc->retry, key, value, msg, len);
  return st_mp_parse(&svc->multipart, key, value, msg, len);
}

static const store_config_key *find_key(const store_config_key *keys,
                                        const char *name)
{
  for (; keys && keys->name; keys++)
    if (strcmp(keys->name, name) == 0)
      return keys;
  return NULL;
}

/* "FILE:LINE:COL: " for a position, or "" for built-in values. */
static void pos_text(const st_cfg_pos *pos, char *buf, size_t len)
{
  if (pos && pos->file && pos->line > 0)
    snprintf(buf, len, "%s:%d:%d: ", pos->file, pos->line, pos->col);
  else if (pos && pos->file)
    snprintf(buf, len, "%s: ", pos->file);
  else
    buf[0] = '\0';
}

/* Names of all storage services, for "unknown service" messages. */
static void list_storage_services(const st_config *cfg, char *buf, size_t len)
{
  size_t i, used = 0;
  buf[0] = '\0';
  for (i = 0; i < st_config_service_count(cfg) && used < len; i++) {
    const st_service_cfg *s = st_config_service_at(cfg, i);
    int n;
    if (!s->type || strcmp(s->type, "storage") != 0)
      continue;
    n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", s->name);
    if (n < 0)
      break;
    used += (size_t)n;
  }
  if (!buf[0])
    snprintf(buf, len, "none");
}

/*
** Find the entry and load its provider. *out_cfg and *out_mod are borrowed
** from the context. Errors name the config position.
*/
static int resolve_provider(xtstore_ctx *ctx, const char *name,
                            const st_service_cfg **out_cfg,
                            const st_module **out_mod, store_error *err)
{
  const st_service_cfg *sc;
  const char *spec;
  st_cfg_pos ppos;
  char where[512], msg[STORE_ERR_MSG_SIZE], names[160];
  int python;

  *out_cfg = NULL;
  *out_mod = NULL;
  sc = st_config_service(ctx->cfg, name);
  if (!sc) {
    list_storage_services(ctx->cfg, names, sizeof(names));
    return st_err(err, STORE_E_CONFIG,
                  "unknown service '%s' (configured storage services: %s)",
                  name, names);
  }
  pos_text(&sc->pos, where, sizeof(where));
  if (!sc->type || strcmp(sc->type, "storage") != 0)
    return st_err(err, STORE_E_CONFIG,
                  "%sservice '%s' is of type '%s', not a storage service",
                  where, name, sc->type ? sc->type : "(none)");
  if (!sc->provider || !sc->provider[0])
    return st_err(err, STORE_E_CONFIG, "%sservice '%s' has no provider", where,
                  name);
  spec = st_config_provider(ctx->cfg, "storage", sc->provider, &ppos);
  if (!spec)
    ppos = sc->pos;
  spec = st_xt_plugin_spec(sc->provider, spec, &python);
  if (python) {
    pos_text(&ppos, where, sizeof(where));
    return st_err(err, STORE_E_CONFIG,
                  "%sservice '%s': provider '%s' is a Python class; xtstore "
                  "loads shared objects: build or install a plugin "
                  "(xtstore plugins install FILE.so)", where, name,
                  sc->provider);
  }
  if (!spec)
    return st_err(err, STORE_E_CONFIG,
                  "%sservice '%s': provider '%s' is not registered in "
                  "providers.storage",
                  where, name, sc->provider);
  msg[0] = '\0';
  if (st_registry_load(ctx->reg, spec, out_mod, msg, sizeof(msg))) {
    pos_text(&ppos, where, sizeof(where));
    return st_err(err, STORE_E_CONFIG, "%sservice '%s': %s", where, name, msg);
  }
  *out_cfg = sc;
  return STORE_OK;
}

/*
** Build the plugin's key/value list: every key but the host's, secrets
** resolved, `name` added. Fills *out_kv (caller frees with free_kv) and
** parses the retry policy into svc.
*/
static int build_kv(xtstore_ctx *ctx, const st_service_cfg *sc,
                    const st_module *mod, xtstore_svc *svc, store_kv **out_kv,
                    size_t *out_n, store_error *err)
{
  const store_config_key *keys = mod->iface.config_keys, *k;
  store_kv *kv = NULL;
  size_t i, n = 0;
  int has_name = 0, rc = STORE_OK;
  char where[512], msg[STORE_ERR_MSG_SIZE];

  *out_kv = NULL;
  *out_n = 0;
  kv = calloc(sc->nkv + 1, sizeof(*kv));
  if (!kv)
    return st_err(err, STORE_E_NOMEM, "out of memory");
  for (i = 0; i < sc->nkv; i++) {
    const st_cfg_kv *e = &sc->kv[i];
    char *value = NULL;
    pos_text(&e->pos, where, sizeof(where));
    if (host_owned_key(e->key)) {
      if (host_key_parse(svc, e->key, e->value ? e->value : "", msg,
                         sizeof(msg))) {
        rc = st_err(err, STORE_E_CONFIG, "%sservice '%s': %s", where, sc->name,
                    msg);
        goto out;
      }
      continue;
    }
    if (keys && !find_key(keys, e->key) && strcmp(e->key, "name") != 0)
      st_log(ctx, STORE_LOG_WARN,
             "%sservice '%s': key '%s' is not known to provider '%s' (ignored "
             "by it)",
             where, sc->name, e->key, mod->iface.name);
    if (!e->value)
      continue; /* YAML null: as if absent */
    msg[0] = '\0';
    if (st_config_resolve(ctx->cfg, sc, e->key, e->value, &e->pos, &value, msg,
                          sizeof(msg))) {
      rc = st_err(err, STORE_E_CONFIG, "%s", msg);
      goto out;
    }
    kv[n].key = e->key;
    kv[n].value = value;
    n++;
    if (strcmp(e->key, "name") == 0)
      has_name = 1;
  }
  for (k = keys; k && k->name; k++) {
    size_t j;
    int found = 0;
    if (!k->required)
      continue;
    for (j = 0; j < n; j++)
      if (strcmp(kv[j].key, k->name) == 0)
        found = 1;
    if (!found && !(strcmp(k->name, "name") == 0)) {
      pos_text(&sc->pos, where, sizeof(where));
      rc = st_err(err, STORE_E_CONFIG,
                  "%sservice '%s': missing required key '%s' for provider '%s' "
                  "(%s)",
                  where, sc->name, k->name, mod->iface.name,
                  k->description ? k->description : "");
      goto out;
    }
  }
  if (!has_name) {
    char *copy = strdup(sc->name);
    if (!copy) {
      rc = st_err(err, STORE_E_NOMEM, "out of memory");
      goto out;
    }
    kv[n].key = "name";
    kv[n].value = copy;
    n++;
  }
  *out_kv = kv;
  *out_n = n;
  kv = NULL;
out:
  if (kv) {
    for (i = 0; i < n; i++)
      st_secret_free((char *)kv[i].value);
    free(kv);
  }
  return rc;
}

static void free_kv(store_kv *kv, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    st_secret_free((char *)kv[i].value);
  free(kv);
}

static xtstore_svc *find_open(xtstore_ctx *ctx, const char *name)
{
  xtstore_svc *s;
  for (s = ctx->services; s; s = s->next)
    if (strcmp(s->name, name) == 0)
      return s;
  return NULL;
}

int xtstore_service_open(xtstore_ctx *ctx, const char *name, xtstore_svc **out,
                         store_error *err)
{
  const st_service_cfg *sc;
  const st_module *mod;
  xtstore_svc *svc = NULL;
  store_kv *kv = NULL;
  size_t nkv = 0;
  store_error perr;
  int rc;

  *out = NULL;
  st_err_reset(err);
  if (!name || !name[0]) {
    name = xtstore_default_service(ctx);
    if (!name)
      return st_err(err, STORE_E_CONFIG,
                    "no default service: set xt-services.storage in the "
                    "config or name a service (SERVICE:CONTAINER/KEY)");
  }
  pthread_mutex_lock(&ctx->lock);
  svc = find_open(ctx, name);
  if (svc) {
    *out = svc;
    pthread_mutex_unlock(&ctx->lock);
    return STORE_OK;
  }
  rc = resolve_provider(ctx, name, &sc, &mod, err);
  if (rc)
    goto out;
  svc = calloc(1, sizeof(*svc));
  if (!svc || !(svc->name = strdup(name))) {
    rc = st_err(err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
  svc->ctx = ctx;
  svc->mod = mod;
  svc->ops = &mod->iface;
  svc->threadsafe = (mod->iface.capabilities & STORE_CAP_THREADSAFE) != 0;
  svc->rng = (uint64_t)(uintptr_t)svc ^ 0x9e3779b97f4a7c15ULL;
  pthread_mutex_init(&svc->serial, NULL);
  st_retry_default(&svc->retry);
  st_mp_default(&svc->multipart);
  if (mod->iface.limits) {
    size_t sz = mod->iface.limits->struct_size;
    memcpy(&svc->limits, mod->iface.limits,
           sz < sizeof(svc->limits) ? sz : sizeof(svc->limits));
  }
  svc->limits.struct_size = sizeof(svc->limits);
  rc = build_kv(ctx, sc, mod, svc, &kv, &nkv, err);
  if (rc)
    goto out;
  st_err_reset(&perr);
  rc = mod->iface.open(&ctx->host, kv, nkv, &svc->h, &perr);
  if (rc) {
    char where[512];
    pos_text(&sc->pos, where, sizeof(where));
    st_redact_urls(perr.message, sizeof(perr.message));
    if (rc < 0 || rc > STORE_E_SERVER)
      rc = STORE_E_INTERNAL;
    st_err(err, rc, "%sservice '%s': provider '%s' could not open it: %s",
           where, name, mod->iface.name,
           perr.message[0] ? perr.message : store_strerror(rc));
    if (err) {
      memcpy(err->provider_code, perr.provider_code, sizeof(err->provider_code));
      err->http_status = perr.http_status;
    }
    svc->h = NULL;
    goto out;
  }
  svc->next = ctx->services;
  ctx->services = svc;
  *out = svc;
  svc = NULL;
out:
  pthread_mutex_unlock(&ctx->lock);
  free_kv(kv, nkv);
  if (svc) {
    pthread_mutex_destroy(&svc->serial);
    free(svc->name);
    free(svc);
  }
  return rc;
}

const char *xtstore_service_name(const xtstore_svc *svc)
{
  return svc->name;
}

uint64_t xtstore_service_caps(const xtstore_svc *svc)
{
  return svc->ops->capabilities;
}

const store_limits *xtstore_service_limits(const xtstore_svc *svc)
{
  return &svc->limits;
}

/* Is `key` secret for this service? The plugin's table decides for the
 * keys it declares; a key it does not declare, or any key when the
 * provider cannot load, is judged by its name. */
static int is_secret(xtstore_ctx *ctx, const st_service_cfg *sc,
                     const char *key)
{
  const char *spec;
  const st_module *mod = NULL;
  const store_config_key *k;
  char msg[STORE_ERR_MSG_SIZE];
  int python;

  spec = sc->provider ? st_config_provider(ctx->cfg, "storage", sc->provider,
                                          NULL) : NULL;
  spec = sc->provider ? st_xt_plugin_spec(sc->provider, spec, &python) : NULL;
  if (spec && st_registry_load(ctx->reg, spec, &mod, msg, sizeof(msg)) == 0 &&
      (k = find_key(mod->iface.config_keys, key)) != NULL)
    return k->secret != 0;
  return st_key_looks_secret(key);
}

/* A copy of the URL v with its secrets redacted (caller frees), or NULL
 * when nothing changed or memory ran out. */
static char *redacted_url(const char *v)
{
  size_t size = 2 * strlen(v) + 64;
  char *s = malloc(size);

  if (!s)
    return NULL;
  snprintf(s, size, "%s", v);
  st_redact_urls(s, size);
  if (strcmp(s, v) == 0) {
    free(s);
    return NULL;
  }
  return s;
}

int xtstore_services_foreach(xtstore_ctx *ctx, xtstore_service_fn fn, void *ud,
                             store_error *err)
{
  const char *def = xtstore_default_service(ctx);
  size_t i, j;
  int rc = STORE_OK;

  st_err_reset(err);
  for (i = 0; i < st_config_service_count(ctx->cfg); i++) {
    const st_service_cfg *sc = st_config_service_at(ctx->cfg, i);
    xtstore_service_info info;
    store_kv *kv = calloc(sc->nkv + 1, sizeof(*kv));
    const char **kv_file = calloc(sc->nkv + 1, sizeof(*kv_file));
    int32_t *kv_line = calloc(sc->nkv + 1, sizeof(*kv_line));
    char **owned = calloc(sc->nkv + 1, sizeof(*owned));
    if (!kv || !kv_file || !kv_line || !owned) {
      free(kv);
      free(kv_file);
      free(kv_line);
      free(owned);
      return st_err(err, STORE_E_NOMEM, "out of memory");
    }
    for (j = 0; j < sc->nkv; j++) {
      const char *v = sc->kv[j].value;
      kv[j].key = sc->kv[j].key;
      kv_file[j] = sc->kv[j].pos.line ? sc->kv[j].pos.file : NULL;
      kv_line[j] = sc->kv[j].pos.line;
      if (v && !st_config_is_reference(v) && is_secret(ctx, sc, sc->kv[j].key))
        v = "<redacted>";
      else if (v && strstr(v, "://") && (owned[j] = redacted_url(v)) != NULL)
        v = owned[j]; /* a SAS URL pasted as an endpoint */
      kv[j].value = v;
    }
    memset(&info, 0, sizeof(info));
    info.struct_size = sizeof(info);
    info.is_default = def && strcmp(def, sc->name) == 0;
    info.name = sc->name;
    info.type = sc->type;
    info.provider = sc->provider;
    info.file = sc->pos.file;
    info.line = sc->pos.line;
    info.kv = kv;
    info.nkv = sc->nkv;
    info.kv_file = kv_file;
    info.kv_line = kv_line;
    rc = fn(ud, &info);
    for (j = 0; j < sc->nkv; j++)
      free(owned[j]);
    free(owned);
    free(kv);
    free(kv_file);
    free(kv_line);
    if (rc)
      return st_err(err, STORE_E_ABORTED, "listing services stopped");
  }
  return STORE_OK;
}
