/*
** config.h -- the config layer (host/config/), the lowest of the host:
** XT-style YAML configuration: layers, merge, positions, secrets.
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
#define ST_CONFIG_TRUST_CWD  (1u << 3)  /* ./xt_config.yaml unrestricted    */

/*
** Load the layered configuration into *out (caller frees with
** st_config_free). Layers, lowest first: the built-in defaults
** (st_config_builtin_yaml), /etc/xtstore/xt_config.yaml,
** $XDG_CONFIG_HOME/xtstore/xt_config.yaml (default ~/.config/...),
** ./xt_config.yaml, then `explicit_path` if non-NULL, else
** $XTSTORE_CONFIG if set. Missing optional layers are skipped; a missing
** explicit file is an error. On failure *out is NULL, and err holds one
** line: "FILE:LINE:COL: what was expected" (or "FILE: cause").
**
** Trust (trust.c): the layers read without being named (/etc, the user's,
** ./xt_config.yaml) must be owned by the user or root and writable by
** nobody else. ./xt_config.yaml is skipped when it is the explicit file,
** and unless ST_CONFIG_TRUST_CWD or `trust-cwd-config: true` in a layer
** below it, it may not set plugin-path, provider files, a service's
** endpoint or an existing service's provider, nor hold $file:, $env: or
** $vault references: each is refused naming its file:line:col.
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
/* Non-zero when file i is ./xt_config.yaml read with the untrusted rules. */
int st_config_file_restricted(const st_config *cfg, size_t i);

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
** document is kept byte for byte, comments included (a line edit;
** the previous version is kept as PATH.~N~; a symlink is followed).
** Error contract as above.
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


/* ------------------------------------------------------------------------ */
/* Inside host/config/ only: the positioned YAML tree, the arena it lives   */
/* in (tree.c), and the steps of a load (yaml.c parses, tree.c merges,      */
/* view.c checks and builds the views).                                     */
/* ------------------------------------------------------------------------ */
#include <yaml.h>

/* Largest config or secret file read (a guard against /dev/zero & co). */
#define ST_CFG_MAX_FILE (16u * 1024 * 1024)

/*
** Everything a config owns lives in one arena, freed at once: merging layers
** then only moves pointers, and a subtree that lost a merge needs no free.
** Allocations are zero-filled; they return NULL when out of memory.
*/
typedef struct st_arena_blk st_arena_blk;
typedef struct st_arena {
  st_arena_blk *head;
} st_arena;

void *st_arena_alloc(st_arena *a, size_t n);
char *st_arena_strndup(st_arena *a, const char *s, size_t n);
/* Room for element `n` of an array of `*cap` elements of `elsize` bytes:
 * returns `arr` or a larger copy (updating *cap), or NULL. */
void *st_arena_grow(st_arena *a, void *arr, size_t n, size_t *cap,
                    size_t elsize);
void st_arena_free(st_arena *a);

typedef enum { ST_CFG_NULL, ST_CFG_SCALAR, ST_CFG_SEQ, ST_CFG_MAP } st_cfg_kind;

typedef struct st_cfg_node st_cfg_node;

/* A map entry or (key == NULL) a sequence item. */
typedef struct st_cfg_entry {
  const char *key;
  st_cfg_pos key_pos;
  st_cfg_node *val;
} st_cfg_entry;

struct st_cfg_node {
  st_cfg_kind kind;
  st_cfg_pos pos;
  const char *str;       /* ST_CFG_SCALAR: the raw text */
  st_cfg_entry *items;   /* ST_CFG_MAP / ST_CFG_SEQ, in file order */
  size_t n, cap;
};

struct st_config {
  st_arena arena;
  st_cfg_node *root;     /* the merged layers: always a map */
  const char **files;    /* loaded files; also every pos.file but built-in */
  size_t nfiles, capfiles;
  st_service_cfg *svcs;  /* views built from root by st_cfg_build_views */
  size_t nsvcs;
  const char **paths;
  size_t npaths;
  const char *cwd_file;  /* ./xt_config.yaml when it was read, else NULL */
  int cwd_restricted;    /* ... and read with the untrusted rules       */
};

/* "a map", "a sequence", "a scalar", "null": for "found ..." messages. */
const char *st_cfg_kind_name(st_cfg_kind kind);

/* Index of `key` in map node `map`, or map->n when absent. */
size_t st_cfg_index(const st_cfg_node *map, const char *key);

/* The entry `key` of `map`, or NULL when map is NULL, not a map, or has no
 * such key. */
const st_cfg_entry *st_cfg_get(const st_cfg_node *map, const char *key);

/* Non-zero for the plain-scalar spellings of YAML null ("", ~, null...). */
int st_cfg_null_text(const char *s);

/*
** Read a whole file (at most `max` bytes) into a malloc'd, NUL-terminated
** buffer (*out, caller frees; length in *outlen). Buffers outgrown on the
** way are wiped, so this is fit for secrets. Returns 0, or -1 with errno
** set (EFBIG when larger than max) and *out NULL.
*/
int st_cfg_read_fd(int fd, size_t max, char **out, size_t *outlen);
int st_cfg_read_file(const char *path, size_t max, char **out,
                     size_t *outlen);

/*
** yaml.c: parse one YAML document from text[0..len) into a tree in
** `a`. Positions name `file` (borrowed; must outlive the tree) and are 0
** when `nopos`. *out is NULL for an empty stream. Anchors and aliases are
** rejected.
*/
int st_cfg_parse(st_arena *a, const char *text, size_t len, const char *file,
                 int nopos, st_cfg_node **out, char *err, size_t errlen);

/* A libyaml parser's failure as "FILE:LINE:COL: problem (context ...)". */
void st_cfg_yaml_error(const yaml_parser_t *p, const char *file, char *err,
                       size_t errlen);

/* tree.c: merge map `over` into map `base`, XT's way (sharing
 * over's nodes). Returns -1 only when out of memory. */
int st_cfg_merge(st_arena *a, st_cfg_node *base, const st_cfg_node *over);

/* trust.c: refuse (-1, one line in err naming path) a layer file that fd
 * holds when it is owned by neither the user nor root, or writable by
 * group or others. */
int st_cfg_check_owner(int fd, const char *path, char *err, size_t errlen);
/* Non-zero when root (the layers so far) says trust-cwd-config: true. */
int st_cfg_trusts_cwd(const st_cfg_node *root);
/* Refuse what an untrusted `layer` may not say over `base` (see
 * st_config_load); hint ends each message with how to trust it. */
int st_cfg_check_untrusted(const st_cfg_node *base, const st_cfg_node *layer,
                           const char *hint, char *err, size_t errlen);

/* view.c: check the merged tree's sections and build the service
 * and plugin-path views. */
int st_cfg_build_views(st_config *cfg, char *err, size_t errlen);

#endif /* ST_CONFIG_H */
