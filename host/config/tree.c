/*
** config_merge.c -- lay one config layer over another, XT's way.
**
** Maps are merged key by key, recursively, so a later layer can add one
** provider or change one property of a service without restating the rest.
** Sequences and scalars are replaced wholesale, together with the key's
** position, so positions follow the value that won. A null never erases a
** map (a section or entry whose lines are all commented out is null, and
** XT crashed on it), and a null top-level section is ignored whatever it
** overrides; elsewhere null replaces, e.g. `xt-services: {vault: null}`.
*/
#include "config_int.h"

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
