/*
** write.c -- st_config_add_provider: register a plugin in a config
** file (`xtstore plugins install`).
**
** The file is first loaded like any layer, so a broken file is reported
** with its position rather than rewritten. The one entry is then edited in
** the text itself: libyaml's parse gives the byte positions of the nodes,
** and only the value of providers.CATEGORY.NAME is replaced, or one line
** (or, in a flow map, one pair) is inserted; every other byte, comments
** included, stays as it was. The file is replaced atomically (a temporary
** file beside it, fsync, rename); a symlinked config is followed, so the
** file it points to is the one edited; the previous version is kept as
** PATH.~N~, N one more than the last backup's.
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

/* A growing text. */
typedef struct text_buf {
  char *p;
  size_t len, cap;
} text_buf;

static int put(text_buf *t, const char *s, size_t n)
{
  char *p;

  if (!t->p || n > t->cap - t->len) {
    size_t cap = t->cap ? t->cap : 4096;
    while (cap - t->len < n)
      cap *= 2;
    p = realloc(t->p, cap + 1);
    if (!p)
      return -1;
    t->p = p;
    t->cap = cap;
  }
  memcpy(t->p + t->len, s, n);
  t->len += n;
  t->p[t->len] = '\0';
  return 0;
}

static int puts_(text_buf *t, const char *s)
{
  return put(t, s, strlen(s));
}

/* s as a YAML double-quoted scalar. */
static int put_quoted(text_buf *t, const char *s)
{
  char esc[8];
  int rc = put(t, "\"", 1);

  for (; !rc && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      esc[0] = '\\';
      esc[1] = (char)c;
      rc = put(t, esc, 2);
    } else if (c < 0x20 || c == 0x7f) {
      snprintf(esc, sizeof(esc), "\\x%02x", c);
      rc = put(t, esc, 4);
    } else {
      rc = put(t, (const char *)s, 1);
    }
  }
  return rc ? rc : put(t, "\"", 1);
}

static int indent(text_buf *t, size_t n)
{
  while (n--)
    if (put(t, " ", 1))
      return -1;
  return 0;
}

static int is_null_node(const yaml_node_t *n)
{
  return n->type == YAML_SCALAR_NODE &&
         n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
         st_cfg_null_text((const char *)n->data.scalar.value);
}

/* The pair of mapping node `map` whose key is `key`, or NULL. */
static yaml_node_pair_t *find_pair(yaml_document_t *doc, yaml_node_t *map,
                                   const char *key)
{
  yaml_node_pair_t *p;

  for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
       p++) {
    const yaml_node_t *k = yaml_document_get_node(doc, p->key);
    if (k->type == YAML_SCALAR_NODE &&
        strcmp((const char *)k->data.scalar.value, key) == 0)
      return p;
  }
  return NULL;
}

/* Where a new line goes after the block node n: after the end of the line
 * of its last scalar (its last pair's value, recursively). */
static size_t after_last_line(yaml_document_t *doc, yaml_node_t *n,
                              const char *text, size_t len)
{
  size_t at;

  while (n->type == YAML_MAPPING_NODE &&
         n->data.mapping.pairs.top > n->data.mapping.pairs.start)
    n = yaml_document_get_node(doc, (n->data.mapping.pairs.top - 1)->value);
  if (n->type == YAML_SEQUENCE_NODE &&
      n->data.sequence.items.top > n->data.sequence.items.start)
    n = yaml_document_get_node(doc, *(n->data.sequence.items.top - 1));
  at = n->end_mark.index;
  while (at < len && text[at] != '\n')
    at++;
  return at < len ? at + 1 : len;
}

/* The text of new entries: names[0..n) are the keys still missing, outer
 * first, the last one's value spec. Block style: a line each, the first at
 * column col, two more per level. Flow style: "a: {b: \"spec\"}". */
static int new_entries(text_buf *t, int flow, size_t col,
                       const char *const *names, size_t n, const char *spec)
{
  size_t i;
  int rc = 0;

  for (i = 0; !rc && i < n; i++) {
    if (flow)
      rc = puts_(t, names[i]) || puts_(t, i + 1 < n ? ": {" : ": ");
    else
      rc = indent(t, col + 2 * i) || puts_(t, names[i]) ||
           puts_(t, i + 1 < n ? ":\n" : ": ");
  }
  rc = rc || put_quoted(t, spec);
  for (i = 1; flow && !rc && i < n; i++)
    rc = puts_(t, "}");
  return rc || (!flow && puts_(t, "\n"));
}

/* out = text with add inserted at `at` (and the bytes [cut, cut_end)
 * before it removed). */
static int text_splice(text_buf *out, const char *text, size_t len, size_t cut,
                  size_t cut_end, size_t at, const text_buf *add)
{
  return put(out, text, cut) || put(out, text + cut_end, at - cut_end) ||
         put(out, add->p ? add->p : "", add->len) ||
         put(out, text + at, len - at);
}

/* Add the entries names[0..n) to the non-empty mapping `map`: a line after
 * its last entry for a block map, a pair before the closing brace for a
 * flow map. */
static int insert_into(yaml_document_t *doc, yaml_node_t *map,
                       const char *text, size_t len, const char *const *names,
                       size_t n, const char *spec, text_buf *out)
{
  yaml_node_pair_t *first = map->data.mapping.pairs.start;
  text_buf add = {NULL, 0, 0};
  size_t at;
  int rc;

  if (map->data.mapping.style == YAML_FLOW_MAPPING_STYLE) {
    at = map->end_mark.index;
    while (at > map->start_mark.index && text[at - 1] != '}')
      at--;
    at = at > map->start_mark.index ? at - 1 : map->end_mark.index;
    /* After a trailing comma ("a: b, }") no other one. */
    {
      size_t b = at;
      while (b > map->start_mark.index && strchr(" \t\r\n", text[b - 1]))
        b--;
      rc = (b == 0 || text[b - 1] != ',') && puts_(&add, ", ");
    }
    rc = rc || new_entries(&add, 1, 0, names, n, spec);
  } else {
    at = after_last_line(doc, map, text, len);
    rc = (at == len && len && text[len - 1] != '\n' && puts_(&add, "\n")) ||
         new_entries(&add, 0,
                     yaml_document_get_node(doc, first->key)->start_mark.column,
                     names, n, spec);
  }
  rc = rc || text_splice(out, text, len, at, at, at, &add);
  free(add.p);
  return rc;
}

/* Give the pair whose value is null or an empty flow map "{}" the entries
 * names[0..n): inside the braces, or as lines under the key. */
static int fill_value(yaml_document_t *doc, yaml_node_pair_t *pair,
                      const char *text, size_t len, const char *const *names,
                      size_t n, const char *spec, text_buf *out)
{
  yaml_node_t *k = yaml_document_get_node(doc, pair->key);
  yaml_node_t *v = yaml_document_get_node(doc, pair->value);
  text_buf add = {NULL, 0, 0};
  size_t at;
  int rc;

  if (v->type == YAML_MAPPING_NODE) {
    rc = puts_(&add, "{") || new_entries(&add, 1, 0, names, n, spec) ||
         puts_(&add, "}") ||
         text_splice(out, text, len, v->start_mark.index, v->end_mark.index,
                v->end_mark.index, &add);
  } else {
    /* The null's own text ("~", "null") goes; the lines go after the
     * key's line. */
    at = k->end_mark.index;
    while (at < len && text[at] != '\n')
      at++;
    at = at < len ? at + 1 : len;
    rc = (at == len && len && text[len - 1] != '\n' && puts_(&add, "\n")) ||
         new_entries(&add, 0, k->start_mark.column + 2, names, n, spec) ||
         text_splice(out, text, len, v->start_mark.index, v->end_mark.index, at,
                &add);
  }
  free(add.p);
  return rc;
}

/* The value of `key` in mapping `map`: *out_pair its pair (NULL: absent),
 * *out_map the mapping when it is one with entries. 1 when it is null or an
 * empty map (to be filled), 0 otherwise; -1 (err naming it) when it is
 * neither a map nor null. */
static int lookup(yaml_document_t *doc, yaml_node_t *map, const char *key,
                  const char *file, const char *dotted,
                  yaml_node_pair_t **out_pair, yaml_node_t **out_map,
                  char *err, size_t errlen)
{
  yaml_node_pair_t *p = find_pair(doc, map, key);
  yaml_node_t *v;

  *out_pair = p;
  *out_map = NULL;
  if (!p)
    return 0;
  v = yaml_document_get_node(doc, p->value);
  if (v->type == YAML_MAPPING_NODE &&
      v->data.mapping.pairs.top > v->data.mapping.pairs.start) {
    *out_map = v;
    return 0;
  }
  if (is_null_node(v) || v->type == YAML_MAPPING_NODE)
    return 1;
  {
    const yaml_node_t *k = yaml_document_get_node(doc, p->key);
    st_cfg_pos pos = {file, (int)k->start_mark.line + 1,
                      (int)k->start_mark.column + 1};
    return st_cfg_error(err, errlen, &pos, "%s: expected a map, found %s",
                        dotted, v->type == YAML_SEQUENCE_NODE ? "a sequence"
                                                              : "a scalar");
  }
}

/* The new text of the file: text[0..len) with providers.category.name set
 * to spec, every other byte kept. */
static int edit(const char *text, size_t len, const char *file,
                const char *category, const char *name, const char *spec,
                text_buf *out, char *err, size_t errlen)
{
  const char *names[3] = {"providers", category, name};
  yaml_parser_t parser;
  yaml_document_t doc;
  yaml_node_t *root, *prov, *cat, *v;
  yaml_node_pair_t *p;
  char dotted[256];
  int have_doc = 0, rc = 0, fill;

  if (!yaml_parser_initialize(&parser))
    return st_cfg_error(err, errlen, NULL, "out of memory");
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  if (!yaml_parser_load(&parser, &doc)) {
    st_cfg_yaml_error(&parser, file, err, errlen);
    rc = -1;
    goto out;
  }
  have_doc = 1;
  root = yaml_document_get_root_node(&doc);
  if (!root || root->type != YAML_MAPPING_NODE ||
      root->data.mapping.pairs.top == root->data.mapping.pairs.start) {
    /* An empty file (or only comments): the entries after what is there. */
    text_buf add = {NULL, 0, 0};
    rc = (len && text[len - 1] != '\n' && puts_(&add, "\n")) ||
         new_entries(&add, 0, 0, names, 3, spec) ||
         text_splice(out, text, len, len, len, len, &add);
    free(add.p);
    goto done;
  }
  fill = lookup(&doc, root, "providers", file, "providers", &p, &prov, err,
                errlen);
  if (fill < 0) {
    rc = -1;
    goto out;
  }
  if (!p) {
    rc = insert_into(&doc, root, text, len, names, 3, spec, out);
    goto done;
  }
  if (fill) {
    rc = fill_value(&doc, p, text, len, names + 1, 2, spec, out);
    goto done;
  }
  snprintf(dotted, sizeof(dotted), "providers.%s", category);
  fill = lookup(&doc, prov, category, file, dotted, &p, &cat, err, errlen);
  if (fill < 0) {
    rc = -1;
    goto out;
  }
  if (!p) {
    rc = insert_into(&doc, prov, text, len, names + 1, 2, spec, out);
    goto done;
  }
  if (fill) {
    rc = fill_value(&doc, p, text, len, names + 2, 1, spec, out);
    goto done;
  }
  p = find_pair(&doc, cat, name);
  if (!p) {
    rc = insert_into(&doc, cat, text, len, names + 2, 1, spec, out);
    goto done;
  }
  v = yaml_document_get_node(&doc, p->value);
  rc = put(out, text, v->start_mark.index) || put_quoted(out, spec) ||
       put(out, text + v->end_mark.index, len - v->end_mark.index);
done:
  if (rc)
    rc = st_cfg_error(err, errlen, NULL, "out of memory");
out:
  if (have_doc)
    yaml_document_delete(&doc);
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

/* Keep the file at path as PATH.~N~, N one more than any backup there
 * (a hard link: the old file stays whole until the rename). */
static int backup(const char *path, char *err, size_t errlen)
{
  st_cfg_pos where = {path, 0, 0};
  char bak[PATH_MAX];
  int n;

  for (n = 1; n < 10000; n++) {
    if (snprintf(bak, sizeof(bak), "%s.~%d~", path, n) >= (int)sizeof(bak))
      return st_cfg_error(err, errlen, &where, "path too long");
    if (link(path, bak) == 0)
      return 0;
    if (errno != EEXIST)
      return st_cfg_error(err, errlen, &where, "cannot keep the old file as "
                          "%s: %s", bak, strerror(errno));
  }
  return st_cfg_error(err, errlen, &where, "too many backups (%s.~N~)",
                      path);
}

/* Replace `path` with text[0..len): temp file, backup, rename. `mode` is
 * the old file's (0 when there was none: the temp file's 0600 stays, as a
 * config may hold secrets). */
static int replace_file(const char *path, const char *text, size_t len,
                        mode_t mode, char *err, size_t errlen)
{
  st_cfg_pos where = {path, 0, 0};
  char tmp[PATH_MAX];
  int n1 = snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
  int fd, rc;

  if (n1 < 0 || (size_t)n1 >= sizeof(tmp))
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
  if (mode && (rc = backup(path, err, errlen)) != 0)
    goto out;
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
  st_config *check = NULL;
  text_buf out = {NULL, 0, 0};
  char *text = NULL, real[PATH_MAX];
  struct stat st;
  size_t len = 0;
  mode_t mode = 0;
  int fd, rc = 0;

  if (!*category || !*name || !*spec)
    return st_cfg_error(err, errlen, &where,
                        "category, name and plugin spec must not be empty");
  /* A symlinked config: the file it names is the one to edit. */
  if (realpath(path, real))
    path = real;
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
  rc = edit(text ? text : "", len, path, category, name, spec, &out, err,
            errlen);
  if (rc)
    goto out;
  /* What is written must load, and say what was asked. */
  st_config_free(check);
  check = NULL;
  rc = st_config_load_string(out.p, path, &check, err, errlen);
  if (!rc && !(st_config_provider(check, category, name, NULL) &&
               strcmp(st_config_provider(check, category, name, NULL),
                      spec) == 0))
    rc = st_cfg_error(err, errlen, &where, "could not add providers.%s.%s "
                      "by a line edit; add it by hand", category, name);
  if (rc)
    goto out;
  rc = replace_file(path, out.p, out.len, mode, err, errlen);
out:
  free(out.p);
  st_config_free(check);
  free(text);
  return rc;
}
