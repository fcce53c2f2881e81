/*
** tree.c -- the positioned YAML tree: the arena it lives in, errors that
** name a position, lookups, reading a file whole (fit for secrets),
** expanding a leading ~, and laying one layer over another, XT's way.
**
** Merging: maps are merged key by key, recursively, so a later layer can
** add one provider or change one property of a service without restating
** the rest. Sequences and scalars are replaced wholesale, together with the
** key's position, so positions follow the value that won. A null never
** erases a map (a section or entry whose lines are all commented out is
** null, and XT crashed on it), and a null top-level section is ignored
** whatever it overrides; elsewhere null replaces, e.g.
** `xt-services: {vault: null}`.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

/* ------------------------------------------------------------------ arena */

#define ST_ARENA_BLOCK 8192

struct st_arena_blk {
  st_arena_blk *next;
  size_t used, size;
  max_align_t mem[];
};

void *st_arena_alloc(st_arena *a, size_t n)
{
  const size_t al = alignof(max_align_t);
  st_arena_blk *b = a->head;
  void *p;

  if (n > SIZE_MAX / 2)
    return NULL;
  n = (n + al - 1) / al * al;
  if (!b || b->size - b->used < n) {
    size_t size = n > ST_ARENA_BLOCK ? n : ST_ARENA_BLOCK;
    b = malloc(sizeof(*b) + size);
    if (!b)
      return NULL;
    b->size = size;
    b->used = 0;
    b->next = a->head;
    a->head = b;
  }
  p = (char *)b->mem + b->used;
  b->used += n;
  memset(p, 0, n);
  return p;
}

char *st_arena_strndup(st_arena *a, const char *s, size_t n)
{
  char *p = st_arena_alloc(a, n + 1);

  if (p)
    memcpy(p, s, n);
  return p;
}

void *st_arena_grow(st_arena *a, void *arr, size_t n, size_t *cap,
                    size_t elsize)
{
  size_t ncap;
  void *p;

  if (n < *cap)
    return arr;
  ncap = *cap ? *cap * 2 : 4;
  if (ncap > SIZE_MAX / 2 / elsize)
    return NULL;
  p = st_arena_alloc(a, ncap * elsize);
  if (!p)
    return NULL;
  if (n)
    memcpy(p, arr, n * elsize);
  *cap = ncap;
  return p;
}

void st_arena_free(st_arena *a)
{
  while (a->head) {
    st_arena_blk *next = a->head->next;
    free(a->head);
    a->head = next;
  }
}

/* ------------------------------------------------------- errors and tree */

int st_cfg_error(char *err, size_t errlen, const st_cfg_pos *pos,
                 const char *fmt, ...)
{
  va_list ap;
  size_t n = 0;
  char *c;

  if (!err || !errlen)
    return -1;
  if (pos && !pos->file)
    pos = NULL;
  if (pos && pos->line > 0)
    n = (size_t)snprintf(err, errlen, "%s:%d:%d: ", pos->file, pos->line,
                         pos->col);
  else if (pos)
    n = (size_t)snprintf(err, errlen, "%s: ", pos->file);
  if (n < errlen) {
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - n, fmt, ap);
    va_end(ap);
  }
  /* Keys and file names come from users: keep the promise of one line. */
  for (c = err; *c; c++)
    if ((unsigned char)*c < 0x20)
      *c = '?';
  return -1;
}

const char *st_cfg_kind_name(st_cfg_kind kind)
{
  switch (kind) {
  case ST_CFG_MAP:
    return "a map";
  case ST_CFG_SEQ:
    return "a sequence";
  case ST_CFG_SCALAR:
    return "a scalar";
  case ST_CFG_NULL:
    break;
  }
  return "null";
}

size_t st_cfg_index(const st_cfg_node *map, const char *key)
{
  size_t i;

  for (i = 0; i < map->n; i++)
    if (strcmp(map->items[i].key, key) == 0)
      break;
  return i;
}

const st_cfg_entry *st_cfg_get(const st_cfg_node *map, const char *key)
{
  size_t i;

  if (!map || map->kind != ST_CFG_MAP)
    return NULL;
  i = st_cfg_index(map, key);
  return i < map->n ? &map->items[i] : NULL;
}

int st_cfg_null_text(const char *s)
{
  return !*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
         strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* ------------------------------------------------------------ file input */

int st_cfg_read_fd(int fd, size_t max, char **out, size_t *outlen)
{
  size_t len = 0, cap = 4096;
  char *buf = malloc(cap), *nbuf;
  ssize_t got;
  int rc = -1, saved;

  *out = NULL;
  *outlen = 0;
  if (!buf)
    return -1;
  for (;;) {
    if (len + 1 == cap) {
      if (cap > max) {
        errno = EFBIG;
        goto out;
      }
      nbuf = malloc(cap * 2);
      if (!nbuf)
        goto out;
      memcpy(nbuf, buf, len);
      explicit_bzero(buf, len);
      free(buf);
      buf = nbuf;
      cap *= 2;
    }
    got = read(fd, buf + len, cap - 1 - len);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      goto out;
    if (got == 0)
      break;
    len += (size_t)got;
  }
  if (len > max) {
    errno = EFBIG;
    goto out;
  }
  buf[len] = '\0';
  *out = buf;
  *outlen = len;
  buf = NULL;
  rc = 0;
out:
  saved = errno;
  if (buf) {
    explicit_bzero(buf, len);
    free(buf);
  }
  errno = saved;
  return rc;
}

int st_cfg_read_file(const char *path, size_t max, char **out, size_t *outlen)
{
  int fd, rc, saved;

  *out = NULL;
  *outlen = 0;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  rc = st_cfg_read_fd(fd, max, out, outlen);
  saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

int st_expand_home(const char *path, char *buf, size_t len)
{
  const char *home = "", *rest = path;
  int n;

  if (path[0] == '~' && (path[1] == '\0' || path[1] == '/')) {
    home = getenv("HOME");
    if (!home || !*home)
      return -1;
    rest = path + 1;
  }
  n = snprintf(buf, len, "%s%s", home, rest);
  return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* ----------------------------------------------------------------- merge */

static int merge_map(st_arena *a, st_cfg_node *base, const st_cfg_node *over,
                     int top)
{
  size_t i, j;
  int rc;

  for (i = 0; i < over->n; i++) {
    const st_cfg_entry *o = &over->items[i];
    st_cfg_entry *b;

    j = st_cfg_index(base, o->key);
    if (j == base->n) {
      st_cfg_entry *items = st_arena_grow(a, base->items, base->n, &base->cap,
                                          sizeof(*items));
      if (!items)
        return -1;
      base->items = items;
      base->items[base->n++] = *o;
      continue;
    }
    b = &base->items[j];
    if (b->val->kind == ST_CFG_MAP && o->val->kind == ST_CFG_MAP) {
      rc = merge_map(a, b->val, o->val, 0);
      if (rc)
        return rc;
    } else if (o->val->kind != ST_CFG_NULL ||
               (!top && b->val->kind != ST_CFG_MAP)) {
      *b = *o;
    }
  }
  return 0;
}

int st_cfg_merge(st_arena *a, st_cfg_node *base, const st_cfg_node *over)
{
  return merge_map(a, base, over, 1);
}
