/*
** local.c -- the `local` provider: interface table, configuration,
** open/close. Blobs are files under a root directory; see local.h for the
** layout.
*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "local.h"

static const store_config_key config_keys[] = {
  {"path", "root directory; containers are its subdirectories (~ expands "
           "to $HOME)", 1, 0},
  {"name", "service name (informational)", 0, 0},
  {"fsync", "true|false: fsync data and directories on every write "
            "(default true)", 0, 0},
  {"metadata", "auto|xattr|sidecar: where metadata and content types are "
               "kept (default auto: xattrs, sidecar files where unsupported)",
   0, 0},
  {NULL, NULL, 0, 0},
};

static const store_limits limits = {
  .struct_size = sizeof(store_limits),
  .max_parts = LP_MAX_PARTS,
  .min_part_size = 1,
  .list_page_size = 1000,
  .max_key_length = LP_MAX_KEY,
};

/* Non-zero once the host asked us to stop (polled between chunks). */
int lp_cancelled(const store_handle *h)
{
  const store_host_api *a = h->host;

  if (!a || !STORE_HAS_FIELD(store_host_api, is_cancelled, a->struct_size) ||
      !a->is_cancelled)
    return 0;
  return a->is_cancelled(a->host_ctx) != 0;
}

static const char *config_get(const store_kv *kv, size_t n, const char *key)
{
  for (size_t i = 0; i < n; i++)
    if (kv[i].key && !strcmp(kv[i].key, key))
      return kv[i].value;
  return NULL;
}

/* Parse a boolean config value; returns 0/1, or -1 when it is not one. */
static int parse_bool(const char *v)
{
  static const char *const yes[] = {"true", "yes", "on", "1"};
  static const char *const no[] = {"false", "no", "off", "0"};

  for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
    if (!strcasecmp(v, yes[i]))
      return 1;
    if (!strcasecmp(v, no[i]))
      return 0;
  }
  return -1;
}

static store_close_op local_close;
static void local_close(store_handle *h)
{
  if (!h)
    return;
  free(h->root);
  free(h->name);
  free(h);
}

/* On success *out is a new handle owned by the caller (release it with
 * close()); on failure it is NULL. */
static store_open_op local_open;
static int32_t local_open(const store_host_api *host, const store_kv *config,
                          size_t nconfig, store_handle **out, store_error *err)
{
  store_handle *h;
  const char *v;
  struct stat st;
  int32_t rc;

  *out = NULL;
  h = calloc(1, sizeof(*h));
  if (!h)
    return lp_fail(err, STORE_E_NOMEM, ENOMEM, "local: open");
  h->host = host;
  h->fsync = 1;
  rc = lp_expand_root(config_get(config, nconfig, "path"), &h->root, err);
  if (rc)
    goto out;
  /* The root may not exist yet (container_create makes it), but when it
   * does it must be a directory. */
  if (stat(h->root, &st) == 0 && !S_ISDIR(st.st_mode)) {
    rc = lp_fail(err, STORE_E_CONFIG, 0,
                 "local: path '%.128s' is not a directory", h->root);
    goto out;
  }
  v = config_get(config, nconfig, "name");
  h->name = strdup(v ? v : "local");
  if (!h->name) {
    rc = lp_fail(err, STORE_E_NOMEM, ENOMEM, "local: open");
    goto out;
  }
  v = config_get(config, nconfig, "fsync");
  if (v && (h->fsync = parse_bool(v)) < 0) {
    rc = lp_fail(err, STORE_E_CONFIG, 0,
                 "local: config key 'fsync': '%.64s' is not true or false", v);
    goto out;
  }
  v = config_get(config, nconfig, "metadata");
  if (!v || !strcmp(v, "auto"))
    h->meta_mode = LP_META_AUTO;
  else if (!strcmp(v, "xattr"))
    h->meta_mode = LP_META_XATTR;
  else if (!strcmp(v, "sidecar"))
    h->meta_mode = LP_META_SIDECAR;
  else {
    rc = lp_fail(err, STORE_E_CONFIG, 0,
                 "local: config key 'metadata': '%.64s' is not auto, xattr "
                 "or sidecar", v);
    goto out;
  }
  *out = h;
  h = NULL;
out:
  local_close(h);
  return rc;
}

STORE_EXPORT const struct store_interface store_interface = {
  .abi_major = STORE_ABI_MAJOR,
  .abi_minor = STORE_ABI_MINOR,
  .struct_size = sizeof(struct store_interface),
  .reserved = 0,
  .name = "local",
  .version = "1.0.0",
  .description = "local filesystem: containers are directories, blobs files",
  .capabilities = STORE_CAP_CONTAINERS | STORE_CAP_RANGE_GET |
                  STORE_CAP_METADATA | STORE_CAP_APPEND | STORE_CAP_SNAPSHOT |
                  STORE_CAP_COPY | STORE_CAP_MULTIPART |
                  STORE_CAP_CONDITIONAL | STORE_CAP_THREADSAFE |
                  STORE_CAP_CONTENT_TYPE | STORE_CAP_CONTAINER_METADATA |
                  STORE_CAP_DIR_MARKERS | STORE_CAP_DELETE_IF_MATCH,
  .limits = &limits,
  .config_keys = config_keys,
  .module_init = NULL,
  .module_fini = NULL,
  .open = local_open,
  .close = local_close,
  .container_create = lp_container_create,
  .container_delete = lp_container_delete,
  .container_list = lp_container_list,
  .container_head = lp_container_head,
  .container_set_metadata = lp_container_set_metadata,
  .blob_put = lp_blob_put,
  .blob_get = lp_blob_get,
  .blob_head = lp_blob_head,
  .blob_delete = lp_blob_delete,
  .blob_list = lp_blob_list,
  .blob_set_metadata = lp_blob_set_metadata,
  .blob_copy = lp_blob_copy,
  .blob_copy_checked = lp_blob_copy_checked,
  .blob_append = lp_blob_append,
  .blob_snapshot = lp_blob_snapshot,
  .multipart_begin = lp_multipart_begin,
  .multipart_part = lp_multipart_part,
  .multipart_complete = lp_multipart_complete,
  .multipart_abort = lp_multipart_abort,
  .multipart_part_checked = lp_multipart_part_checked,
  .multipart_list = lp_multipart_list,
};
