/*
** write.c -- st_config_add_provider: register a plugin in a config
** file (`xtstore plugins install`).
**
** The file is first loaded like any layer, so a broken file is reported
** with its position rather than rewritten. It is then edited with libyaml's
** document API, which keeps every other node and its style (XT's flow maps
** stay flow maps; comments are lost), and replaced atomically: a temporary
** file in the same directory, fsync, the old file hard-linked to PATH.bak,
** rename.
*/
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

/* libyaml numbers nodes from 1 in the order they were added: the root
 * (loaded, or made by load_doc) is the first. */
#define ROOT_NODE 1

static int doc_oom(char *err, size_t errlen)
{
  return st_cfg_error(err, errlen, NULL, "out of memory");
}

static int is_null_node(const yaml_node_t *n)
{
  return n->type == YAML_SCALAR_NODE &&
         n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
         st_cfg_null_text((const char *)n->data.scalar.value);
}

/* The pair of mapping `map` whose key is `key`, or NULL. The pointer is
 * valid until the next node is added to the document. */
static yaml_node_pair_t *find_pair(yaml_document_t *doc, int map,
                                   const char *key)
{
  yaml_node_t *m = yaml_document_get_node(doc, map);
  yaml_node_pair_t *p;

  for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
    const yaml_node_t *k = yaml_document_get_node(doc, p->key);
    if (k->type == YAML_SCALAR_NODE &&
        strcmp((const char *)k->data.scalar.value, key) == 0)
      return p;
  }
  return NULL;
}

/* Set `key` of mapping `map` to node `val`: the value is replaced when the
 * key is there (the old node stays in the document, unreachable, and is
 * not emitted), else a pair is appended. */
static int set_pair(yaml_document_t *doc, int map, const char *key, int val)
{
  yaml_node_pair_t *p = find_pair(doc, map, key);
  int k;

  if (p) {
    p->value = val;
    return 0;
  }
  k = yaml_document_add_scalar(doc, NULL, (yaml_char_t *)key, -1,
                               YAML_ANY_SCALAR_STYLE);
  if (!k || !yaml_document_append_mapping_pair(doc, map, k, val))
    return -1;
  return 0;
}

/* The mapping under `key` in mapping `map` (*out, a node id), created when
 * the key is missing or null. `name` is the dotted name for errors. */
static int child_map(yaml_document_t *doc, int map, const char *key,
                     const char *file, const char *name, int *out, char *err,
                     size_t errlen)
{
  yaml_node_pair_t *p = find_pair(doc, map, key);
  yaml_node_t *v = p ? yaml_document_get_node(doc, p->value) : NULL;
  int id;

  *out = 0;
  if (v && v->type == YAML_MAPPING_NODE) {
    *out = p->value;
    return 0;
  }
  if (v && !is_null_node(v)) {
    const yaml_node_t *k = yaml_document_get_node(doc, p->key);
    st_cfg_pos pos = {file, (int)k->start_mark.line + 1,
                      (int)k->start_mark.column + 1};
    return st_cfg_error(err, errlen, &pos, "%s: expected a map, found %s",
                        name,
                        v->type == YAML_SEQUENCE_NODE ? "a sequence"
                                                      : "a scalar");
  }
  id = yaml_document_add_mapping(doc, NULL, YAML_ANY_MAPPING_STYLE);
  if (!id || set_pair(doc, map, key, id))
    return doc_oom(err, errlen);
  *out = id;
  return 0;
}

/* Load `text` as a document (a fresh empty map when it has none) into
 * *doc, which the caller deletes. */
static int load_doc(const char *text, size_t len, const char *file,
                    yaml_document_t *doc, char *err, size_t errlen)
{
  yaml_parser_t parser;
  yaml_node_t *root;
  int rc = 0;

  if (!yaml_parser_initialize(&parser))
    return doc_oom(err, errlen);
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  if (!yaml_parser_load(&parser, doc)) { /* which leaves doc empty */
    st_cfg_yaml_error(&parser, file, err, errlen);
    rc = -1;
    goto out;
  }
  root = yaml_document_get_root_node(doc);
  if (root && !is_null_node(root))
    goto out; /* a map: st_config_load_string checked it */
  yaml_document_delete(doc);
  if (!yaml_document_initialize(doc, NULL, NULL, NULL, 1, 1)) {
    rc = doc_oom(err, errlen);
  } else if (!yaml_document_add_mapping(doc, NULL, YAML_BLOCK_MAPPING_STYLE)) {
    yaml_document_delete(doc);
    rc = doc_oom(err, errlen);
  }
out:
  yaml_parser_delete(&parser);
  return rc;
}

/* mkdir -p the directory part of `path` (new directories 0700, as XDG
 * asks for config directories). */
static int make_parent(const char *path, char *err, size_t errlen)
{
  st_cfg_pos where = {path, 0, 0};
  char dir[PATH_MAX], *p, c;
  size_t len = strlen(path);

  if (len >= sizeof(dir))
    return st_cfg_error(err, errlen, &where, "path too long");
  memcpy(dir, path, len + 1);
  p = strrchr(dir, '/');
  if (!p || p == dir)
    return 0;
  *p = '\0';
  for (p = dir + 1;; p++) {
    if (*p && *p != '/')
      continue;
    c = *p;
    *p = '\0';
    if (mkdir(dir, 0700) && errno != EEXIST)
      return st_cfg_error(err, errlen, &where,
                          "cannot create directory %s: %s", dir,
                          strerror(errno));
    if (!c)
      return 0;
    *p = c;
  }
}

/* A growing output buffer for the emitter. */
typedef struct out_buf {
  char *p;
  size_t len, cap;
} out_buf;

static int out_write(void *data, unsigned char *bytes, size_t n)
{
  out_buf *o = data;
  char *p;

  if (n > o->cap - o->len) {
    size_t cap = o->cap ? o->cap : 4096;
    while (cap - o->len < n)
      cap *= 2;
    p = realloc(o->p, cap);
    if (!p)
      return 0;
    o->p = p;
    o->cap = cap;
  }
  memcpy(o->p + o->len, bytes, n);
  o->len += n;
  return 1;
}

/* Emit `doc` (consumed, even on failure) into *out (caller frees o->p). */
static int emit(yaml_document_t *doc, out_buf *out, char *err, size_t errlen)
{
  yaml_emitter_t em;
  int ok;

  if (!yaml_emitter_initialize(&em)) {
    yaml_document_delete(doc);
    return doc_oom(err, errlen);
  }
  yaml_emitter_set_output(&em, out_write, out);
  yaml_emitter_set_unicode(&em, 1);
  ok = yaml_emitter_dump(&em, doc) && yaml_emitter_close(&em) &&
       yaml_emitter_flush(&em);
  if (!ok)
    st_cfg_error(err, errlen, NULL, "cannot emit YAML: %s",
                 em.problem ? em.problem : "out of memory");
  yaml_emitter_delete(&em);
  return ok ? 0 : -1;
}

static int write_all(int fd, const char *p, size_t len)
{
  ssize_t n;

  while (len) {
    n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Replace `path` with text[0..len): temp file, PATH.bak, rename. `mode` is
 * the old file's (0 when there was none: the temp file's 0600 stays, as a
 * config may hold secrets). */
static int replace_file(const char *path, const char *text, size_t len,
                        mode_t mode, char *err, size_t errlen)
{
  st_cfg_pos where = {path, 0, 0};
  char tmp[PATH_MAX], bak[PATH_MAX];
  int n1 = snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
  int n2 = snprintf(bak, sizeof(bak), "%s.bak", path);
  int fd, rc;

  if (n1 < 0 || (size_t)n1 >= sizeof(tmp) || n2 < 0 ||
      (size_t)n2 >= sizeof(bak))
    return st_cfg_error(err, errlen, &where, "path too long");
  rc = make_parent(path, err, errlen);
  if (rc)
    return rc;
  fd = mkstemp(tmp);
  if (fd < 0)
    return st_cfg_error(err, errlen, &where,
                        "cannot create a temporary file: %s", strerror(errno));
  if ((mode && fchmod(fd, mode & 07777)) || write_all(fd, text, len) ||
      fsync(fd)) {
    rc = st_cfg_error(err, errlen, &where, "cannot write %s: %s", tmp,
                      strerror(errno));
    close(fd);
    goto out;
  }
  if (close(fd)) {
    rc = st_cfg_error(err, errlen, &where, "cannot write %s: %s", tmp,
                      strerror(errno));
    goto out;
  }
  /* A hard link keeps the old file whole until the rename. */
  if (mode && ((unlink(bak) && errno != ENOENT) || link(path, bak))) {
    rc = st_cfg_error(err, errlen, &where, "cannot keep the old file as %s: %s",
                      bak, strerror(errno));
    goto out;
  }
  if (rename(tmp, path))
    rc = st_cfg_error(err, errlen, &where, "cannot replace: %s",
                      strerror(errno));
out:
  if (rc)
    unlink(tmp);
  return rc;
}

int st_config_add_provider(const char *path, const char *category,
                           const char *name, const char *spec, char *err,
                           size_t errlen)
{
  st_cfg_pos where = {path, 0, 0};
  yaml_document_t doc;
  st_config *check = NULL;
  out_buf out = {NULL, 0, 0};
  char *text = NULL, dotted[512];
  struct stat st;
  size_t len = 0;
  mode_t mode = 0;
  int fd, have_doc = 0, providers, cat, val, rc = 0;

  if (!*category || !*name || !*spec)
    return st_cfg_error(err, errlen, &where,
                        "category, name and plugin spec must not be empty");
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno != ENOENT)
    return st_cfg_error(err, errlen, &where, "cannot read: %s",
                        strerror(errno));
  if (fd >= 0) {
    if (fstat(fd, &st) || st_cfg_read_fd(fd, ST_CFG_MAX_FILE, &text, &len))
      rc = st_cfg_error(err, errlen, &where, "cannot read: %s",
                        strerror(errno));
    close(fd);
    if (rc)
      goto out;
    mode = st.st_mode;
    /* Refuse to rewrite a file that would not load (with its position). */
    rc = st_config_load_string(text, path, &check, err, errlen);
    if (rc)
      goto out;
  }
  rc = load_doc(text ? text : "", len, path, &doc, err, errlen);
  if (rc)
    goto out;
  have_doc = 1;
  rc = child_map(&doc, ROOT_NODE, "providers", path, "providers", &providers,
                 err, errlen);
  if (rc)
    goto out;
  snprintf(dotted, sizeof(dotted), "providers.%s", category);
  rc = child_map(&doc, providers, category, path, dotted, &cat, err, errlen);
  if (rc)
    goto out;
  val = yaml_document_add_scalar(&doc, NULL, (yaml_char_t *)spec, -1,
                                 YAML_DOUBLE_QUOTED_SCALAR_STYLE);
  if (!val || set_pair(&doc, cat, name, val)) {
    rc = doc_oom(err, errlen);
    goto out;
  }
  have_doc = 0; /* emit() consumes it */
  rc = emit(&doc, &out, err, errlen);
  if (rc)
    goto out;
  rc = replace_file(path, out.p, out.len, mode, err, errlen);
out:
  if (have_doc)
    yaml_document_delete(&doc);
  free(out.p);
  st_config_free(check);
  free(text);
  return rc;
}
