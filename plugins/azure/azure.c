/*
** azure.c -- the `azure` provider: interface table, configuration,
** open/close. See azure.h for how a request flows.
*/
#include <stdlib.h>
#include <string.h>

#include "azure.h"
#include "sdk_util.h"

static const store_config_key config_keys[] = {
  {"name", "service name; the account name when 'account' is absent", 0, 0},
  {"account", "storage account name (default: $AZURE_STORAGE_ACCOUNT, "
              "else the service name)", 0, 0},
  {"key", "account key for Shared Key auth (default: $AZURE_STORAGE_KEY)",
   0, 1},
  {"sas-token", "SAS token (account or container SAS), appended to every "
                "URL; wins over 'key'", 0, 1},
  {"connection-string", "Azure connection string (default: "
                        "$AZURE_STORAGE_CONNECTION_STRING); 'account', "
                        "'key', 'sas-token' and 'endpoint' override its "
                        "parts", 0, 1},
  {"endpoint", "Blob service URL (default https://ACCOUNT.blob.core."
               "windows.net); path-style such as "
               "http://127.0.0.1:10000/devstoreaccount1 works", 0, 0},
  {"verify-tls", "true|false: verify the server's certificate (default "
                 "true)", 0, 0},
  {"ca-bundle", "PEM file of CA certificates to trust", 0, 0},
  {SDK_HTTP_STALL_KEY, SDK_HTTP_STALL_DESC, 0, 0},
  {NULL, NULL, 0, 0},
};

static const store_limits limits = {
  .struct_size = sizeof(store_limits),
  .max_parts = AZ_MAX_BLOCKS,
  .min_part_size = 1,
  .max_part_size = AZ_MAX_BLOCK,
  .max_object_size = (uint64_t)AZ_MAX_BLOCKS * AZ_MAX_BLOCK,
  .max_put_size = (uint64_t)AZ_MAX_BLOCKS * AZ_MAX_BLOCK,
  .list_page_size = AZ_PAGE_MAX,
  .equal_parts_required = 0,
  .max_key_length = AZ_MAX_KEY,
};

static store_close_op azure_close;
static void azure_close(store_handle *h)
{
  if (!h)
    return;
  az_uploads_free(h);
  pthread_mutex_destroy(&h->mu);
  sdk_http_free(h->http);
  /* Secrets are wiped before the memory goes back. */
  if (h->key)
    memset(h->key, 0, h->keylen);
  free(h->key);
  if (h->sas)
    memset(h->sas, 0, strlen(h->sas));
  free(h->sas);
  free(h->account);
  free(h->endpoint);
  free(h->name);
  free(h);
}

/* On success *out is a new handle owned by the caller (release it with
 * close()); on failure it is NULL. */
static store_open_op azure_open;
static int32_t azure_open(const store_host_api *host, const store_kv *config,
                          size_t nconfig, store_handle **out,
                          store_error *err)
{
  const char *name = sdk_kv_get(config, nconfig, "name");
  store_handle *h;
  int32_t rc;

  *out = NULL;
  h = calloc(1, sizeof(*h));
  if (!h)
    return store_error_set(err, STORE_E_NOMEM, "azure: open");
  if (pthread_mutex_init(&h->mu, NULL)) {
    free(h);
    return store_error_set(err, STORE_E_NOMEM, "azure: open");
  }
  h->host = host;
  h->name = strdup(name ? name : "azure");
  if (!h->name) {
    rc = store_error_set(err, STORE_E_NOMEM, "azure: open");
    goto out;
  }
  rc = az_config_open(h, config, nconfig, err);
  if (rc)
    goto out;
  rc = sdk_http_from_keys(config, nconfig, "azure", host, &h->http, err);
  if (rc)
    goto out;
  *out = h;
  h = NULL;
out:
  azure_close(h);
  return rc;
}

STORE_EXPORT const struct store_interface store_interface = {
  .abi_major = STORE_ABI_MAJOR,
  .abi_minor = STORE_ABI_MINOR,
  .struct_size = sizeof(struct store_interface),
  .reserved = 0,
  .name = "azure",
  .version = "1.0.0",
  .description = "Azure Blob Storage (REST API " AZ_API_VERSION
                 "; Shared Key or SAS)",
  .capabilities = STORE_CAP_CONTAINERS | STORE_CAP_CONTAINER_METADATA |
                  STORE_CAP_METADATA | STORE_CAP_CONTENT_TYPE |
                  STORE_CAP_RANGE_GET | STORE_CAP_APPEND |
                  STORE_CAP_SNAPSHOT | STORE_CAP_COPY | STORE_CAP_MULTIPART |
                  STORE_CAP_CONDITIONAL | STORE_CAP_THREADSAFE |
                  STORE_CAP_DIR_MARKERS | STORE_CAP_PRESIGN |
                  STORE_CAP_DELETE_IF_MATCH,
  .limits = &limits,
  .config_keys = config_keys,
  .module_init = NULL,
  .module_fini = NULL,
  .open = azure_open,
  .close = azure_close,
  .container_create = az_container_create,
  .container_delete = az_container_delete,
  .container_list = az_container_list,
  .container_head = az_container_head,
  .container_set_metadata = az_container_set_metadata,
  .blob_put = az_blob_put,
  .blob_get = az_blob_get,
  .blob_head = az_blob_head,
  .blob_delete = az_blob_delete,
  .blob_list = az_blob_list,
  .blob_set_metadata = az_blob_set_metadata,
  .blob_copy = az_blob_copy,
  .blob_copy_checked = az_blob_copy_checked,
  .blob_append = az_blob_append,
  .blob_snapshot = az_blob_snapshot,
  .multipart_begin = az_multipart_begin,
  .multipart_part = az_multipart_part,
  .multipart_complete = az_multipart_complete,
  .multipart_abort = az_multipart_abort,
  .blob_presign = az_blob_presign,
  .blob_delete_batch = az_blob_delete_batch,
};
