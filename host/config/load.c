/*
** load.c -- the configuration object: the layers of a load (built-in,
** files, strings), the read-only accessors, and the user's paths.
*/
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

/* ---------------------------------------------------------------- layers */

/* Every first-party provider is registered; loading is lazy, so a provider
 * that is not installed costs nothing until a service uses it. */
static const char builtin_yaml[] =
  "providers:\n"
  "  storage:\n"
  "    local: \"store-local\"\n"
  "    s3: \"store-s3\"\n"
  "    azure: \"store-azure\"\n"
  "    gcs: \"store-gcs\"\n"
  "    oci: \"store-oci\"\n"
  "xt-services:\n"
  "  storage: null\n"
  "  vault: null\n";

/* Built-in positions name this static string, with line 0. */
static const char builtin_name[] = "<built-in>";

const char *st_config_builtin_yaml(void)
{
  return builtin_yaml;
}

/* A new config with an empty root map. *out is NULL on failure. */
static int config_new(st_config **out, char *err, size_t errlen)
{
  st_config *cfg = calloc(1, sizeof(*cfg));

  *out = NULL;
  if (cfg)
    cfg->root = st_arena_alloc(&cfg->arena, sizeof(*cfg->root));
  if (!cfg || !cfg->root) {
    st_config_free(cfg);
    return st_cfg_error(err, errlen, NULL, "out of memory");
  }
  cfg->root->kind = ST_CFG_MAP;
  cfg->root->pos.file = builtin_name;
  *out = cfg;
  return 0;
}

/* Record `path` as loaded; *out is the config's copy, for positions. */
static int add_file(st_config *cfg, const char *path, const char **out,
                    char *err, size_t errlen)
{
  const char **files;
  char *copy;

  files = st_arena_grow(&cfg->arena, cfg->files, cfg->nfiles, &cfg->capfiles,
                        sizeof(*files));
  copy = st_arena_strndup(&cfg->arena, path, strlen(path));
  if (!files || !copy)
    return st_cfg_error(err, errlen, NULL, "out of memory");
  cfg->files = files;
  cfg->files[cfg->nfiles++] = copy;
  *out = copy;
  return 0;
}

/* Parse text as one layer named `name` and merge it over cfg->root. With
 * `untrusted` (the hint for the message), first refuse what an untrusted
 * layer may not say (trust.c). */
static int add_layer(st_config *cfg, const char *text, size_t len,
                     const char *name, int nopos, const char *untrusted,
                     char *err, size_t errlen)
{
  st_cfg_node *root;
  int rc;

  rc = st_cfg_parse(&cfg->arena, text, len, name, nopos, &root, err, errlen);
  if (rc)
    return rc;
  if (!root || root->kind == ST_CFG_NULL)
    return 0; /* an empty file adds nothing */
  if (root->kind != ST_CFG_MAP)
    return st_cfg_error(err, errlen, &root->pos,
                        "expected a map of sections (providers:, "
                        "external-services:, xt-services:), found %s",
                        st_cfg_kind_name(root->kind));
  if (untrusted) {
    rc = st_cfg_check_untrusted(cfg->root, root, untrusted, err, errlen);
    if (rc)
      return rc;
  }
  rc = st_cfg_merge(&cfg->arena, cfg->root, root);
  if (rc)
    return st_cfg_error(err, errlen, NULL, "out of memory");
  return 0;
}

/* One file layer and how it is read. */
typedef struct layer_file {
  const char *path;
  int implicit;     /* read without being named: optional, owner checked */
  int cwd;          /* ./xt_config.yaml: restricted unless trusted       */
} layer_file;

/* Read and merge the file of `lf`; a missing implicit one is skipped, and
 * so is the cwd file when it is `named` (read as that layer instead). */
static int add_file_layer(st_config *cfg, const layer_file *lf,
                          const struct stat *named, unsigned flags,
                          char *err, size_t errlen)
{
  st_cfg_pos where = {lf->path, 0, 0};
  static const char hint[] = "--trust-cwd-config or trust-cwd-config: "
                             "true in the user config allows it";
  const char *name, *untrusted = NULL;
  char *text = NULL;
  struct stat sb;
  size_t len;
  int fd, rc;

  fd = open(lf->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (lf->implicit && (errno == ENOENT || errno == ENOTDIR))
      return 0;
    return st_cfg_error(err, errlen, &where, "cannot read: %s",
                        strerror(errno));
  }
  rc = 0;
  if (lf->cwd && named && fstat(fd, &sb) == 0 && sb.st_dev == named->st_dev &&
      sb.st_ino == named->st_ino)
    goto out;
  if (lf->implicit) {
    rc = st_cfg_check_owner(fd, lf->path, err, errlen);
    if (rc)
      goto out;
  }
  if (lf->cwd && !(flags & ST_CONFIG_TRUST_CWD) &&
      !st_cfg_trusts_cwd(cfg->root))
    untrusted = hint;
  rc = st_cfg_read_fd(fd, ST_CFG_MAX_FILE, &text, &len);
  if (rc) {
    rc = st_cfg_error(err, errlen, &where, "cannot read: %s",
                      strerror(errno));
    goto out;
  }
  rc = add_file(cfg, lf->path, &name, err, errlen);
  if (rc)
    goto out;
  if (lf->cwd) {
    cfg->cwd_file = name;
    cfg->cwd_restricted = untrusted != NULL;
  }
  rc = add_layer(cfg, text, len, name, 0, untrusted, err, errlen);
out:
  free(text);
  close(fd);
  return rc;
}

/* Built-in layer (when asked), then the files, then the checks. */
static int load_layers(const layer_file *files, size_t n, int with_builtin,
                       const struct stat *named, unsigned flags,
                       st_config **out, char *err, size_t errlen)
{
  st_config *cfg = NULL;
  size_t i;
  int rc;

  *out = NULL;
  rc = config_new(&cfg, err, errlen);
  if (rc)
    goto out;
  if (with_builtin) {
    rc = add_layer(cfg, builtin_yaml, sizeof(builtin_yaml) - 1, builtin_name,
                   1, NULL, err, errlen);
    if (rc)
      goto out;
  }
  for (i = 0; i < n; i++) {
    rc = add_file_layer(cfg, &files[i], named, flags, err, errlen);
    if (rc)
      goto out;
  }
  rc = st_cfg_build_views(cfg, err, errlen);
  if (rc)
    goto out;
  *out = cfg;
  cfg = NULL;
out:
  st_config_free(cfg);
  return rc;
}

int st_config_load(const char *explicit_path, unsigned flags,
                   st_config **out, char *err, size_t errlen)
{
  layer_file files[4];
  char user[PATH_MAX];
  struct stat named, *pnamed = NULL;
  size_t n = 0;

  memset(files, 0, sizeof(files));
  if (!(flags & ST_CONFIG_NO_SYSTEM)) {
    files[n].path = "/etc/xtstore/xt_config.yaml";
    files[n++].implicit = 1;
  }
  /* No HOME and no XDG_CONFIG_HOME: there is no user layer to read. */
  if (!(flags & ST_CONFIG_NO_USER) &&
      st_config_user_path(user, sizeof(user)) == 0) {
    files[n].path = user;
    files[n++].implicit = 1;
  }
  if (!explicit_path) {
    explicit_path = getenv("XTSTORE_CONFIG");
    if (explicit_path && !*explicit_path)
      explicit_path = NULL;
  }
  if (explicit_path && stat(explicit_path, &named) == 0)
    pnamed = &named;
  if (!(flags & ST_CONFIG_NO_CWD)) {
    files[n].path = "./xt_config.yaml";
    files[n].implicit = 1;
    files[n++].cwd = 1;
  }
  if (explicit_path)
    files[n++].path = explicit_path;
  return load_layers(files, n, 1, pnamed, flags, out, err, errlen);
}

int st_config_load_files(const char *const *paths, size_t npaths,
                         int with_builtin, st_config **out, char *err,
                         size_t errlen)
{
  layer_file *files = calloc(npaths ? npaths : 1, sizeof(*files));
  size_t i;
  int rc;

  *out = NULL;
  if (!files)
    return st_cfg_error(err, errlen, NULL, "out of memory");
  for (i = 0; i < npaths; i++)
    files[i].path = paths[i];
  rc = load_layers(files, npaths, with_builtin, NULL, ST_CONFIG_TRUST_CWD,
                   out, err, errlen);
  free(files);
  return rc;
}

int st_config_load_string(const char *yaml, const char *name,
                          st_config **out, char *err, size_t errlen)
{
  st_config *cfg = NULL;
  int rc;

  *out = NULL;
  rc = config_new(&cfg, err, errlen);
  if (rc)
    goto out;
  rc = add_file(cfg, name ? name : "<string>", &name, err, errlen);
  if (rc)
    goto out;
  rc = add_layer(cfg, yaml, strlen(yaml), name, 0, NULL, err, errlen);
  if (rc)
    goto out;
  rc = st_cfg_build_views(cfg, err, errlen);
  if (rc)
    goto out;
  *out = cfg;
  cfg = NULL;
out:
  st_config_free(cfg);
  return rc;
}

void st_config_free(st_config *cfg)
{
  if (!cfg)
    return;
  st_arena_free(&cfg->arena);
  free(cfg);
}

/* ------------------------------------------------------------- accessors */

static const st_cfg_node *section(const st_config *cfg, const char *name)
{
  const st_cfg_entry *e = st_cfg_get(cfg->root, name);

  return e ? e->val : NULL;
}

const char *st_config_provider(const st_config *cfg, const char *category,
                               const char *name, st_cfg_pos *out_pos)
{
  const st_cfg_entry *e = st_cfg_get(section(cfg, "providers"), category);

  e = e ? st_cfg_get(e->val, name) : NULL;
  if (!e || e->val->kind != ST_CFG_SCALAR)
    return NULL;
  if (out_pos)
    *out_pos = e->val->pos;
  return e->val->str;
}

int st_config_provider_at(const st_config *cfg, const char *category,
                          size_t i, const char **out_name,
                          const char **out_spec, st_cfg_pos *out_pos)
{
  const st_cfg_entry *cat = st_cfg_get(section(cfg, "providers"), category);
  const st_cfg_entry *e;

  *out_name = NULL;
  *out_spec = NULL;
  if (!cat || cat->val->kind != ST_CFG_MAP || i >= cat->val->n)
    return 0;
  e = &cat->val->items[i];
  *out_name = e->key;
  /* Only providers.storage is checked to hold strings; in other
   * categories a non-string entry gives a NULL spec. */
  if (e->val->kind == ST_CFG_SCALAR)
    *out_spec = e->val->str;
  if (out_pos)
    *out_pos = e->val->pos;
  return 1;
}

size_t st_config_service_count(const st_config *cfg)
{
  return cfg->nsvcs;
}

const st_service_cfg *st_config_service_at(const st_config *cfg, size_t i)
{
  return i < cfg->nsvcs ? &cfg->svcs[i] : NULL;
}

const st_service_cfg *st_config_service(const st_config *cfg,
                                        const char *name)
{
  size_t i;

  for (i = 0; i < cfg->nsvcs; i++)
    if (strcmp(cfg->svcs[i].name, name) == 0)
      return &cfg->svcs[i];
  return NULL;
}

const st_cfg_kv *st_config_service_kv(const st_service_cfg *svc,
                                      const char *key)
{
  size_t i;

  for (i = 0; i < svc->nkv; i++)
    if (strcmp(svc->kv[i].key, key) == 0)
      return &svc->kv[i];
  return NULL;
}

const char *st_config_role(const st_config *cfg, const char *role,
                           st_cfg_pos *out_pos)
{
  const st_cfg_entry *e = st_cfg_get(section(cfg, "xt-services"), role);
  static const st_cfg_pos none = {NULL, 0, 0};

  if (out_pos)
    *out_pos = e ? e->val->pos : none;
  return e && e->val->kind == ST_CFG_SCALAR ? e->val->str : NULL;
}

size_t st_config_plugin_path_count(const st_config *cfg)
{
  return cfg->npaths;
}

const char *st_config_plugin_path_at(const st_config *cfg, size_t i)
{
  return i < cfg->npaths ? cfg->paths[i] : NULL;
}

size_t st_config_file_count(const st_config *cfg)
{
  return cfg->nfiles;
}

const char *st_config_file_at(const st_config *cfg, size_t i)
{
  return i < cfg->nfiles ? cfg->files[i] : NULL;
}

int st_config_file_restricted(const st_config *cfg, size_t i)
{
  return i < cfg->nfiles && cfg->files[i] == cfg->cwd_file &&
         cfg->cwd_restricted;
}

/* ----------------------------------------------------------------- paths */

int st_config_user_path(char *buf, size_t len)
{
  const char *xdg = getenv("XDG_CONFIG_HOME"), *home;
  int n;

  /* The XDG spec says a relative XDG_CONFIG_HOME is to be ignored. */
  if (xdg && xdg[0] == '/') {
    n = snprintf(buf, len, "%s/xtstore/xt_config.yaml", xdg);
  } else {
    home = getenv("HOME");
    if (!home || !*home)
      return -1;
    n = snprintf(buf, len, "%s/.config/xtstore/xt_config.yaml", home);
  }
  return n < 0 || (size_t)n >= len ? -1 : 0;
}
