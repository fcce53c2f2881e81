/*
** yaml.c -- libyaml events to the positioned tree of config.h.
**
** The event API (rather than the document API) is used because it gives
** the mark of every key, lets duplicate keys be caught where they occur,
** and tells a plain `null` from a quoted "null". Anchors and aliases are
** rejected: libyaml's document API would let `&a [*a]` build a cycle, and
** nothing in an XT config needs them.
*/
#include <stdarg.h>
#include <string.h>

#include "config.h"

/* Deeper than any config; bounds the recursion on hostile input. */
#define ST_CFG_MAX_DEPTH 64

typedef struct yctx {
  yaml_parser_t parser;
  yaml_event_t ev;       /* the current event; zeroed when none */
  st_arena *arena;
  const char *file;
  int nopos;
  char *err;
  size_t errlen;
} yctx;

void st_cfg_yaml_error(const yaml_parser_t *p, const char *file, char *err,
                       size_t errlen)
{
  st_cfg_pos pos = {file, (int)p->problem_mark.line + 1,
                    (int)p->problem_mark.column + 1};
  const char *problem = p->problem ? p->problem : "syntax error";

  switch (p->error) {
  case YAML_MEMORY_ERROR:
    st_cfg_error(err, errlen, NULL, "out of memory");
    break;
  case YAML_READER_ERROR:
    /* The reader has no line yet, only a byte offset. */
    pos.line = 0;
    st_cfg_error(err, errlen, &pos, "byte %zu: %s (#%X)", p->problem_offset,
                 problem, (unsigned)p->problem_value);
    break;
  default:
    if (p->context)
      st_cfg_error(err, errlen, &pos, "%s (%s at line %zu, column %zu)",
                   problem, p->context, p->context_mark.line + 1,
                   p->context_mark.column + 1);
    else
      st_cfg_error(err, errlen, &pos, "%s", problem);
    break;
  }
}

static st_cfg_pos mark_pos(const yctx *c, yaml_mark_t m)
{
  st_cfg_pos pos = {c->file, 0, 0};

  if (!c->nopos) {
    pos.line = (int)m.line + 1;
    pos.col = (int)m.column + 1;
  }
  return pos;
}

/* Replace the current event with the next one. */
static int next_event(yctx *c)
{
  yaml_event_delete(&c->ev);
  if (!yaml_parser_parse(&c->parser, &c->ev)) {
    memset(&c->ev, 0, sizeof(c->ev));
    st_cfg_yaml_error(&c->parser, c->file, c->err, c->errlen);
    return -1;
  }
  return 0;
}

static int no_anchor(yctx *c, const yaml_char_t *anchor)
{
  st_cfg_pos pos;

  if (!anchor)
    return 0;
  pos = mark_pos(c, c->ev.start_mark);
  return st_cfg_error(c->err, c->errlen, &pos,
                      "anchors (&%s) are not supported; repeat the value",
                      (const char *)anchor);
}

static int oom(yctx *c)
{
  return st_cfg_error(c->err, c->errlen, NULL, "out of memory");
}

static int parse_node(yctx *c, int depth, st_cfg_node **out);

/* Append the node of the current event to collection `node`, under key
 * `key` (NULL in a sequence). */
static int add_item(yctx *c, int depth, st_cfg_node *node, const char *key,
                    st_cfg_pos key_pos)
{
  st_cfg_entry *items;
  st_cfg_node *val;
  int rc;

  rc = parse_node(c, depth + 1, &val);
  if (rc)
    return rc;
  items = st_arena_grow(c->arena, node->items, node->n, &node->cap,
                        sizeof(*items));
  if (!items)
    return oom(c);
  node->items = items;
  items[node->n].key = key;
  items[node->n].key_pos = key_pos;
  items[node->n].val = val;
  node->n++;
  return 0;
}

/* The current event is a key: check and copy it, then read its value. */
static int map_entry(yctx *c, int depth, st_cfg_node *map)
{
  st_cfg_pos pos = mark_pos(c, c->ev.start_mark);
  const yaml_event_t *ev = &c->ev;
  const st_cfg_entry *dup;
  char *key;
  int rc;

  if (ev->type == YAML_ALIAS_EVENT)
    return st_cfg_error(c->err, c->errlen, &pos,
                        "aliases (*%s) are not supported; repeat the value",
                        (const char *)ev->data.alias.anchor);
  if (ev->type != YAML_SCALAR_EVENT)
    return st_cfg_error(c->err, c->errlen, &pos,
                        "expected a plain key, found %s",
                        ev->type == YAML_SEQUENCE_START_EVENT ? "a sequence"
                                                              : "a map");
  rc = no_anchor(c, ev->data.scalar.anchor);
  if (rc)
    return rc;
  key = st_arena_strndup(c->arena, (const char *)ev->data.scalar.value,
                         ev->data.scalar.length);
  if (!key)
    return oom(c);
  dup = st_cfg_get(map, key);
  if (dup) {
    if (c->nopos)
      return st_cfg_error(c->err, c->errlen, &pos, "duplicate key '%s'", key);
    return st_cfg_error(c->err, c->errlen, &pos,
                        "duplicate key '%s' (first at line %d, column %d)",
                        key, dup->key_pos.line, dup->key_pos.col);
  }
  rc = next_event(c);
  if (rc)
    return rc;
  return add_item(c, depth, map, key, pos);
}

/* Build the node that starts with the current event; for a collection,
 * consume events up to and including its end. */
static int parse_node(yctx *c, int depth, st_cfg_node **out)
{
  const yaml_event_t *ev = &c->ev;
  st_cfg_node *node;
  int rc;

  *out = NULL;
  node = st_arena_alloc(c->arena, sizeof(*node));
  if (!node)
    return oom(c);
  node->pos = mark_pos(c, ev->start_mark);
  if (depth > ST_CFG_MAX_DEPTH)
    return st_cfg_error(c->err, c->errlen, &node->pos,
                        "nested deeper than %d levels", ST_CFG_MAX_DEPTH);
  switch (ev->type) {
  case YAML_SCALAR_EVENT: {
    const char *tag = (const char *)ev->data.scalar.tag;
    const char *text = (const char *)ev->data.scalar.value;
    rc = no_anchor(c, ev->data.scalar.anchor);
    if (rc)
      return rc;
    if (memchr(text, '\0', ev->data.scalar.length))
      return st_cfg_error(c->err, c->errlen, &node->pos,
                          "a string may not contain a NUL character");
    /* Only an untagged plain scalar (or an explicit !!null) is null, so
     * a quoted "null" stays a string. */
    if (tag ? strcmp(tag, YAML_NULL_TAG) == 0
            : ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                st_cfg_null_text(text)) {
      node->kind = ST_CFG_NULL;
      break;
    }
    node->kind = ST_CFG_SCALAR;
    node->str = st_arena_strndup(c->arena, text, ev->data.scalar.length);
    if (!node->str)
      return oom(c);
    break;
  }
  case YAML_SEQUENCE_START_EVENT:
    node->kind = ST_CFG_SEQ;
    rc = no_anchor(c, ev->data.sequence_start.anchor);
    while (!rc) {
      rc = next_event(c);
      if (rc || c->ev.type == YAML_SEQUENCE_END_EVENT)
        break;
      rc = add_item(c, depth, node, NULL, mark_pos(c, c->ev.start_mark));
    }
    if (rc)
      return rc;
    break;
  case YAML_MAPPING_START_EVENT:
    node->kind = ST_CFG_MAP;
    rc = no_anchor(c, ev->data.mapping_start.anchor);
    while (!rc) {
      rc = next_event(c);
      if (rc || c->ev.type == YAML_MAPPING_END_EVENT)
        break;
      rc = map_entry(c, depth, node);
    }
    if (rc)
      return rc;
    break;
  case YAML_ALIAS_EVENT:
    return st_cfg_error(c->err, c->errlen, &node->pos,
                        "aliases (*%s) are not supported; repeat the value",
                        (const char *)ev->data.alias.anchor);
  default:
    /* libyaml only starts a node with the events above. */
    return st_cfg_error(c->err, c->errlen, &node->pos, "unexpected YAML event");
  }
  *out = node;
  return 0;
}

int st_cfg_parse(st_arena *a, const char *text, size_t len, const char *file,
                 int nopos, st_cfg_node **out, char *err, size_t errlen)
{
  yctx c;
  st_cfg_node *root = NULL;
  st_cfg_pos pos;
  int rc;

  *out = NULL;
  memset(&c, 0, sizeof(c));
  if (!yaml_parser_initialize(&c.parser))
    return st_cfg_error(err, errlen, NULL, "out of memory");
  yaml_parser_set_input_string(&c.parser, (const unsigned char *)text, len);
  c.arena = a;
  c.file = file;
  c.nopos = nopos;
  c.err = err;
  c.errlen = errlen;

  rc = next_event(&c); /* STREAM-START */
  if (rc)
    goto out;
  rc = next_event(&c);
  if (rc || c.ev.type == YAML_STREAM_END_EVENT)
    goto out; /* an empty stream: no document, root stays NULL */
  rc = next_event(&c); /* past DOCUMENT-START */
  if (rc)
    goto out;
  rc = parse_node(&c, 0, &root);
  if (rc)
    goto out;
  rc = next_event(&c); /* DOCUMENT-END */
  if (rc)
    goto out;
  rc = next_event(&c);
  if (rc)
    goto out;
  if (c.ev.type != YAML_STREAM_END_EVENT) {
    pos = mark_pos(&c, c.ev.start_mark);
    rc = st_cfg_error(err, errlen, &pos,
                      "expected a single YAML document, found another");
    goto out;
  }
  *out = root;
out:
  yaml_event_delete(&c.ev);
  yaml_parser_delete(&c.parser);
  return rc;
}
