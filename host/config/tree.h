/*
** config_int.h -- private to host/config*.c: the positioned YAML tree, the
** arena it lives in, and the steps of a load (parse, merge, check).
*/
#ifndef ST_CONFIG_INT_H
#define ST_CONFIG_INT_H

#include <stddef.h>
#include <yaml.h>

#include "config.h"

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
** config_yaml.c: parse one YAML document from text[0..len) into a tree in
** `a`. Positions name `file` (borrowed; must outlive the tree) and are 0
** when `nopos`. *out is NULL for an empty stream. Anchors and aliases are
** rejected.
*/
int st_cfg_parse(st_arena *a, const char *text, size_t len, const char *file,
                 int nopos, st_cfg_node **out, char *err, size_t errlen);

/* A libyaml parser's failure as "FILE:LINE:COL: problem (context ...)". */
void st_cfg_yaml_error(const yaml_parser_t *p, const char *file, char *err,
                       size_t errlen);

/* config_merge.c: merge map `over` into map `base`, XT's way (sharing
 * over's nodes). Returns -1 only when out of memory. */
int st_cfg_merge(st_arena *a, st_cfg_node *base, const st_cfg_node *over);

/* config_view.c: check the merged tree's sections and build the service
 * and plugin-path views. */
int st_cfg_build_views(st_config *cfg, char *err, size_t errlen);

#endif /* ST_CONFIG_INT_H */
