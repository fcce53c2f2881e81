/*
** config.h -- XT-style YAML configuration: layers, merge, positions, secrets.
**
** The config is read with libyaml into a small tree in which every scalar
** remembers the file, line and column it came from, so that every later
** error can point at it. Layers are merged XT's way (sequences replaced,
** maps merged key by key, recursively). Sections:
**
**   providers:          <category>: {<name>: <plugin spec>}
**   external-services:  <service>: {type: ..., provider: ..., <keys>...}
**   xt-services:        <role>: <service> | null
**   plugin-path:        a string (colon-separated) or a list of directories
**
** Unknown sections, categories and service types are kept and ignored.
** Secrets are resolved only on request (st_config_resolve), never printed.
**
** Status: every int function here returns 0 on success and -1 on failure
** (with one line in the caller's err buffer), except the iterators and
** predicates documented otherwise.
*/
#ifndef ST_CONFIG_H
#define ST_CONFIG_H

#include <stddef.h>

/* Where a value came from. `file` is owned by the config and lives as long
 * as it. line/col are 1-based; 0 when unknown (built-in defaults). */
typedef struct st_cfg_pos {
  const char *file;
  int line;
  int col;
} st_cfg_pos;

/* One key of a service entry, after merging. Nested maps are flattened to
 * "outer.inner"; a sequence value is an error at load time. A YAML null
 * gives value == NULL. */
typedef struct st_cfg_kv {
  const char *key;
  const char *value;      /* raw: "$env:X" etc. are NOT resolved here */
  st_cfg_pos pos;
} st_cfg_kv;

/* One external-services entry. All strings owned by the config. */
typedef struct st_service_cfg {
  const char *name;
  const char *type;       /* "storage", "vault", ... (NULL if missing) */
  const char *provider;   /* NULL if missing */
  st_cfg_pos pos;         /* position of the entry's key */
  const st_cfg_kv *kv;    /* every key except `type` and `provider` */
  size_t nkv;
} st_service_cfg;

typedef struct st_config st_config;

/* Flags for st_config_load. */
#define ST_CONFIG_NO_SYSTEM  (1u << 0)  /* skip /etc/xtstore/xt_config.yaml */
#define ST_CONFIG_NO_USER    (1u << 1)  /* skip $XDG_CONFIG_HOME/...        */
#define ST_CONFIG_NO_CWD     (1u << 2)  /* skip ./xt_config.yaml            */

/*
** Load the layered configuration into *out (caller frees with
** st_config_free). Layers, lowest first: the built-in defaults
** (st_config_builtin_yaml), /etc/xtstore/xt_config.yaml,
** $XDG_CONFIG_HOME/xtstore/xt_config.yaml (default ~/.config/...),
** ./xt_config.yaml, then `explicit_path` if non-NULL, else
** $XTSTORE_CONFIG if set. Missing optional layers are skipped; a missing
** explicit file is an error. On failure *out is NULL, and err holds one
** line: "FILE:LINE:COL: what was expected" (or "FILE: cause").
*/
int st_config_load(const char *explicit_path, unsigned flags,
                   st_config **out, char *err, size_t errlen);

/* Load exactly these files, lowest layer first, on top of the built-in
 * defaults when with_builtin is non-zero. Same error contract as above. */
int st_config_load_files(const char *const *paths, size_t npaths,
                         int with_builtin, st_config **out,
                         char *err, size_t errlen);

/* Load from a YAML string (tests, built-in layer). `name` is used as the
 * file name in positions and errors. */
int st_config_load_string(const char *yaml, const char *name,
                          st_config **out, char *err, size_t errlen);

void st_config_free(st_config *cfg);

/* The built-in default layer (the local provider registered, plus its
 * defaults). Static string. */
const char *st_config_builtin_yaml(void);

/* providers.<category>.<name>, or NULL. *out_pos may be NULL. */
const char *st_config_provider(const st_config *cfg, const char *category,
                               const char *name, st_cfg_pos *out_pos);

/* Iterate providers.<category>: the i-th name and spec; returns 0 past the
 * end. */
int st_config_provider_at(const st_config *cfg, const char *category,
                          size_t i, const char **out_name,
                          const char **out_spec, st_cfg_pos *out_pos);

/* external-services entries, in file order of first appearance. */
size_t st_config_service_count(const st_config *cfg);
const st_service_cfg *st_config_service_at(const st_config *cfg, size_t i);
const st_service_cfg *st_config_service(const st_config *cfg,
                                        const char *name);

/* The (flattened) key `key` of a service entry, or NULL. Borrowed. */
const st_cfg_kv *st_config_service_kv(const st_service_cfg *svc,
                                      const char *key);

/* xt-services.<role>: the service name, or NULL if unset or null. */
const char *st_config_role(const st_config *cfg, const char *role,
                           st_cfg_pos *out_pos);

/* plugin-path entries (directories, `~` expanded), in order. */
size_t st_config_plugin_path_count(const st_config *cfg);
const char *st_config_plugin_path_at(const st_config *cfg, size_t i);

/* The files that were actually loaded, lowest layer first. */
size_t st_config_file_count(const st_config *cfg);
const char *st_config_file_at(const st_config *cfg, size_t i);

/*
** Resolve one value of service `svc` (the raw value `raw` found at `pos`):
**   "$env:NAME"  -> getenv(NAME); unset or empty is an error
**   "$file:PATH" -> the file's content, `~` expanded, one trailing newline
**                   stripped
**   "$vault"     -> exactly that: the vault service named by
**                   xt-services.vault (type "vault", provider "file", key
**                   `path`) is a JSON object; the value is the member named
**                   after the service. The file must not be group/world
**                   readable.
**   anything else is returned as is.
** On success *out is a malloc'd copy the caller frees (st_secret_free wipes
** it first). On failure *out is NULL and err says which service, key and
** reference failed and why, naming file:line:col, WITHOUT the secret.
*/
int st_config_resolve(const st_config *cfg, const st_service_cfg *svc,
                      const char *key, const char *raw, const st_cfg_pos *pos,
                      char **out, char *err, size_t errlen);

/* Zero and free a string from st_config_resolve. NULL is fine. */
void st_secret_free(char *s);

/* Non-zero when `raw` is a secret reference ($env:, $file:, $vault). */
int st_config_is_reference(const char *raw);

/*
** Add (or replace) providers.<category>.<name>: <spec> in the YAML file at
** `path`, creating the file and its directory if missing. The rest of the
** document is kept (comments are not: the file is re-emitted with libyaml;
** the previous file is kept as PATH.bak). Error contract as above.
*/
int st_config_add_provider(const char *path, const char *category,
                           const char *name, const char *spec,
                           char *err, size_t errlen);

/* The user config file: $XDG_CONFIG_HOME/xtstore/xt_config.yaml, or
 * ~/.config/xtstore/xt_config.yaml. Writes into buf; returns 0 or -1 when
 * it does not fit / HOME is unset. */
int st_config_user_path(char *buf, size_t len);

/* Expand a leading "~" or "~/" with $HOME into buf ("~user" is left as
 * is). Returns 0, or -1 when it does not fit or HOME is needed but unset. */
int st_expand_home(const char *path, char *buf, size_t len);

/*
** Format one line of error text into err (truncated; line breaks in names
** become '?'): "FILE:LINE:COL: message", "FILE: message" when the line is
** unknown (0), or just the message when pos (or pos->file) is NULL.
** Returns -1, so that a failing path can `return st_cfg_error(...)`. Never
** pass a secret.
*/
int st_cfg_error(char *err, size_t errlen, const st_cfg_pos *pos,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif /* ST_CONFIG_H */
