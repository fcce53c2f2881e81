/*
** gcs.c -- the `gcs` provider: interface table, open/close. See gcs.h for
** how a request flows.
*/
#include <stdlib.h>
#include <string.h>

#include "gcs.h"

static const store_config_key config_keys[] = {
  {"name", "service name", 0, 0},
  {"project", "project id for bucket list and create (default: the "
              "credentials file's project_id, else $GOOGLE_CLOUD_PROJECT)",
   0, 0},
  {"credentials-file", "service-account or authorized_user JSON file "
                       "(default: $GOOGLE_APPLICATION_CREDENTIALS, else "
                       "~/.config/gcloud/application_default_credentials."
                       "json)", 0, 0},
  {"access-token", "a static OAuth2 bearer token (never refreshed); wins "
                   "over any credentials file", 0, 1},
  {"anonymous", "true|false: send no credentials (public buckets)", 0, 0},
  {"endpoint", "JSON API base URL (default $STORAGE_EMULATOR_HOST, else "
               GCS_DEFAULT_ENDPOINT ")", 0, 0},
  {"token-uri", "OAuth2 token endpoint, overriding the credentials file's",
   0, 0},
  {"verify-tls", "true|false: verify the server's certificate (default "
                 "true)", 0, 0},
  {"ca-bundle", "PEM file of CA certificates to trust", 0, 0},
  {"versioned-buckets", "true: buckets made by container_create keep "
                        "object versions, so snapshots work in them "
                        "(default false)", 0, 0},
  {SDK_HTTP_STALL_KEY, SDK_HTTP_STALL_DESC, 0, 0},
  {NULL, NULL, 0, 0},
};

/* Parts are composed 32 at a time, in a tree beyond that; the service
 * allows any number of components, so the limit is the engine's own. */
static const store_limits limits = {
  .struct_size = sizeof(store_limits),
  .max_parts = 10000,
  .min_part_size = 1,
  .max_part_size = (uint64_t)5 << 40,
  .max_object_size = (uint64_t)5 << 40,
  .max_put_size = (uint64_t)5 << 40,
  .list_page_size = GCS_PAGE_MAX,
  .equal_parts_required = 0,
  .max_key_length = GCS_MAX_KEY,
};

static store_close_op gcs_close;
static void gcs_close(store_handle *h)
{
  if (!h)
    return;
  sdk_http_free(h->http);
  sdk_oauth_free(h->auth);
  free(h->cred_what);
  free(h->project);
  free(h->endpoint);
  free(h->name);
  free(h);
}

/* On success *out is a new handle owned by the caller (release it with
 * close()); on failure it is NULL. No request is made: credentials are
 * used (and a token fetched) on the first operation. */
static store_open_op gcs_open;
static int32_t gcs_open(const store_host_api *host, const store_kv *config,
                        size_t nconfig, store_handle **out, store_error *err)
{
  const char *name = sdk_kv_get(config, nconfig, "name");
  store_handle *h;
  int32_t rc;

  *out = NULL;
  h = calloc(1, sizeof(*h));
  if (!h)
    return store_error_set(err, STORE_E_NOMEM, "gcs: open");
  h->host = host;
  h->name = strdup(name ? name : "gcs");
  if (!h->name) {
    rc = store_error_set(err, STORE_E_NOMEM, "gcs: open");
    goto out;
  }
  rc = gcs_config_open(h, config, nconfig, err);
  if (rc)
    goto out;
  rc = sdk_http_from_keys(config, nconfig, "gcs", host, &h->http, err);
  if (rc)
    goto out;
  *out = h;
  h = NULL;
out:
  gcs_close(h);
  return rc;
}

STORE_EXPORT const struct store_interface store_interface = {
  .abi_major = STORE_ABI_MAJOR,
  .abi_minor = STORE_ABI_MINOR,
  .struct_size = sizeof(struct store_interface),
  .reserved = 0,
  .name = "gcs",
  .version = "1.0.0",
  .description = "Google Cloud Storage (JSON API; OAuth2 service account, "
                 "user or static token)",
  .capabilities = STORE_CAP_CONTAINERS | STORE_CAP_CONTAINER_METADATA |
                  STORE_CAP_METADATA | STORE_CAP_CONTENT_TYPE |
                  STORE_CAP_RANGE_GET | STORE_CAP_APPEND |
                  STORE_CAP_SNAPSHOT | STORE_CAP_COPY | STORE_CAP_MULTIPART |
                  STORE_CAP_CONDITIONAL | STORE_CAP_THREADSAFE |
                  STORE_CAP_PRESIGN | STORE_CAP_DELETE_IF_MATCH,
  .limits = &limits,
  .config_keys = config_keys,
  .module_init = NULL,
  .module_fini = NULL,
  .open = gcs_open,
  .close = gcs_close,
  .container_create = gcs_container_create,
  .container_delete = gcs_container_delete,
  .container_list = gcs_container_list,
  .container_head = gcs_container_head,
  .container_set_metadata = gcs_container_set_metadata,
  .blob_put = gcs_blob_put,
  .blob_get = gcs_blob_get,
  .blob_head = gcs_blob_head,
  .blob_delete = gcs_blob_delete,
  .blob_list = gcs_blob_list,
  .blob_set_metadata = gcs_blob_set_metadata,
  .blob_copy = gcs_blob_copy,
  .blob_copy_checked = gcs_blob_copy_checked,
  .blob_append = gcs_blob_append,
  .blob_snapshot = gcs_blob_snapshot,
  .multipart_begin = gcs_multipart_begin,
  .multipart_part = gcs_multipart_part,
  .multipart_complete = gcs_multipart_complete,
  .multipart_abort = gcs_multipart_abort,
  .blob_delete_batch = gcs_blob_delete_batch,
  .multipart_part_checked = gcs_multipart_part_checked,
  .blob_presign = gcs_blob_presign,
  .multipart_list = gcs_multipart_list,
};
