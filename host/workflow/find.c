/*
** workflow_find.c -- xtstore_find, cloudmesh's `storage search` as
** find(1): a recursive listing under a prefix, filtered by shell globs on
** the key's last component and on the whole key, streamed to the caller
** as the listing goes (constant memory for any number of keys).
*/
#include <fnmatch.h>
#include <string.h>

#include "internal.h"

struct find {
  const char *name_glob;    /* NULL: any last component                   */
  const char *path_glob;    /* NULL: any key                              */
  store_entry_fn fn;
  void *ud;
};

static int32_t on_entry(void *ud, const store_entry *e)
{
  const struct find *f = ud;
  const char *slash;

  /* A recursive listing has no prefix entries, and xtstore_blob_list
   * drops markers; neither is a blob to report whatever a provider does. */
  if (!e->name || (e->flags & (STORE_ENTRY_PREFIX | STORE_ENTRY_DIR_MARKER)))
    return 0;
  slash = strrchr(e->name, '/');
  if (f->name_glob && fnmatch(f->name_glob, slash ? slash + 1 : e->name, 0))
    return 0;
  if (f->path_glob && fnmatch(f->path_glob, e->name, 0))
    return 0;
  return f->fn(f->ud, e);
}

int xtstore_find(xtstore_svc *svc, const char *container, const char *prefix,
                 const char *name_glob, const char *path_glob,
                 store_entry_fn fn, void *ud, store_error *err)
{
  struct find f = {name_glob, path_glob, fn, ud};
  store_list_opts lo;

  memset(&lo, 0, sizeof(lo));
  lo.struct_size = sizeof(lo);
  lo.prefix = prefix;
  return xtstore_blob_list(svc, container, &lo, on_entry, &f, err);
}
