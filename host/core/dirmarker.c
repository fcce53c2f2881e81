/*
** dirmarker.c -- directory markers: the cloud convention for a "directory"
** on a flat object store, a zero-length blob named "DIR/" with metadata
** hdi_isfolder=true (Azure's and ADLS's flag, which XT uses; S3 consoles
** write the same zero-length "DIR/" without it).
**
** Providers with STORE_CAP_DIR_MARKERS hide markers themselves. For the
** others the library recognises them here: listings drop them, and head
** and get flag them with STORE_ENTRY_DIR_MARKER so that nothing downstream
** (xtstore_blob_get_file, stat) mistakes one for an empty file.
*/
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

#define ST_MARKER_META "hdi_isfolder"

/* The body of a marker: nothing, and replayable for retries. */
static int32_t st_empty_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  (void)ud;
  (void)buf;
  (void)cap;
  *out_n = 0;
  return 0;
}

static int32_t st_empty_rewind(void *ud)
{
  (void)ud;
  return 0;
}

int st_entry_is_dir_marker(const store_entry *e, const char *key)
{
  const char *name = e->name ? e->name : key;
  size_t i, len = name ? strlen(name) : 0;

  if (e->flags & STORE_ENTRY_DIR_MARKER)
    return 1;
  /* A PREFIX entry ("dir/" of a delimiter listing) is no object at all. */
  if ((e->flags & STORE_ENTRY_PREFIX) || e->size != 0)
    return 0;
  if (len > 0 && name[len - 1] == '/')
    return 1;
  for (i = 0; e->metadata && i < e->nmetadata; i++)
    if (e->metadata[i].key && e->metadata[i].value &&
        strcasecmp(e->metadata[i].key, ST_MARKER_META) == 0 &&
        strcasecmp(e->metadata[i].value, "true") == 0)
      return 1;
  return 0;
}

const store_entry *st_entry_flag_dir_marker(const xtstore_svc *svc,
                                            const store_entry *e,
                                            const char *key,
                                            store_entry *tmp)
{
  size_t n;

  if ((svc->ops->capabilities & STORE_CAP_DIR_MARKERS) ||
      (e->flags & STORE_ENTRY_DIR_MARKER) || !st_entry_is_dir_marker(e, key))
    return e;
  /* Only the bytes the plugin's (possibly older, smaller) struct has. */
  n = e->struct_size < sizeof(*tmp) ? e->struct_size : sizeof(*tmp);
  memset(tmp, 0, sizeof(*tmp));
  memcpy(tmp, e, n);
  tmp->struct_size = (uint32_t)n;
  tmp->flags |= STORE_ENTRY_DIR_MARKER;
  return tmp;
}

int xtstore_dir_create(xtstore_svc *svc, const char *container,
                       const char *dir, store_error *err)
{
  static const store_kv meta[] = { { ST_MARKER_META, "true" } };
  size_t len = dir ? strlen(dir) : 0;
  store_put_opts po;
  char *key = NULL; /* owned: DIR with exactly one trailing '/' */
  int rc;

  while (len > 0 && dir[len - 1] == '/')
    len--;
  if (len == 0) {
    rc = st_err(err, STORE_E_INVALID,
                "service '%s': container '%s': no directory name given",
                svc->name, container ? container : "");
    goto out;
  }
  key = malloc(len + 2);
  if (!key) {
    rc = st_err(err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
  memcpy(key, dir, len);
  key[len] = '/';
  key[len + 1] = '\0';
  memset(&po, 0, sizeof(po));
  po.struct_size = sizeof(po);
  po.content_length = 0;
  /* The name alone marks it where a store keeps no metadata. */
  if (svc->ops->capabilities & STORE_CAP_METADATA) {
    po.metadata = meta;
    po.nmetadata = sizeof(meta) / sizeof(meta[0]);
  }
  rc = xtstore_blob_put(svc, container, key, &po, st_empty_read, NULL,
                        st_empty_rewind, NULL, err);
out:
  free(key);
  return rc;
}
