/*
** sdk_list.c -- listing pages in byte order, and what a listing hides
** (sdk_list.h).
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sdk_list.h"

int sdk_list_page_add(sdk_list_page *p, const char *name, uint32_t kind,
                      const void *node)
{
  sdk_list_item *it;

  if (p->n == p->cap) {
    size_t cap = p->cap ? 2 * p->cap : 64;
    sdk_list_item *v;
    if (cap > SIZE_MAX / sizeof(*v))
      return -1;
    v = realloc(p->items, cap * sizeof(*v));
    if (!v)
      return -1;
    p->items = v;
    p->cap = cap;
  }
  it = &p->items[p->n];
  it->name = name;
  it->kind = kind;
  it->node = node;
  it->owned = NULL;
  it->seq = p->n++;
  return 0;
}

int sdk_list_page_take(sdk_list_page *p, char *name, uint32_t kind,
                       const void *node)
{
  if (sdk_list_page_add(p, name, kind, node)) {
    free(name);
    return -1;
  }
  p->items[p->n - 1].owned = name;
  return 0;
}

static int item_cmp(const void *a, const void *b)
{
  const sdk_list_item *x = a, *y = b;
  int c = strcmp(x->name, y->name);

  if (c)
    return c;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void sdk_list_page_sort(sdk_list_page *p)
{
  if (p->n > 1)
    qsort(p->items, p->n, sizeof(*p->items), item_cmp);
}

void sdk_list_page_reset(sdk_list_page *p)
{
  for (size_t i = 0; i < p->n; i++)
    free(p->items[i].owned);
  p->n = 0;
}

void sdk_list_page_free(sdk_list_page *p)
{
  sdk_list_page_reset(p);
  free(p->items);
  p->items = NULL;
  p->cap = 0;
}

void sdk_list_filter_init(sdk_list_filter *f, const char *start_after)
{
  f->after = start_after && *start_after ? start_after : NULL;
  f->last_prefix = NULL;
}

void sdk_list_filter_free(sdk_list_filter *f)
{
  free(f->last_prefix);
  f->last_prefix = NULL;
}

int sdk_list_after(const sdk_list_filter *f, const char *name)
{
  return !f->after || strcmp(name, f->after) > 0;
}

int sdk_list_new_prefix(sdk_list_filter *f, const char *name, size_t len)
{
  char *copy;

  if (f->last_prefix && strlen(f->last_prefix) == len &&
      !strncmp(f->last_prefix, name, len))
    return 0;
  copy = strndup(name, len);
  if (!copy)
    return -1;
  free(f->last_prefix);
  f->last_prefix = copy;
  return 1;
}

int sdk_list_page_next(sdk_list_page *p, size_t *pos, sdk_list_filter *f,
                       const sdk_list_item **out)
{
  while (*pos < p->n) {
    const sdk_list_item *it = &p->items[(*pos)++];
    int fresh;

    if (f && !sdk_list_after(f, it->name))
      continue;
    if (f && it->kind == SDK_LIST_PREFIX) {
      fresh = sdk_list_new_prefix(f, it->name, strlen(it->name));
      if (fresh < 0)
        return -1;
      if (!fresh)
        continue;
    }
    *out = it;
    return 1;
  }
  return 0;
}
