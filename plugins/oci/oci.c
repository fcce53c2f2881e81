/*
** oci.c -- the `oci` provider: interface table, configuration keys,
** open/close. See oci.h for how a request flows.
*/
#include <stdlib.h>
#include <string.h>

#include "oci.h"

static const store_config_key config_keys[] = {
  {"name", "service name", 0, 0},
  {"config-file", "OCI config file (default: $OCI_CONFIG_FILE, else "
                  "~/.oci/config); read for what the keys below leave out",
   0, 0},
  {"profile", "profile of the config file (default: $OCI_CLI_PROFILE, "
              "else DEFAULT); its missing values come from [DEFAULT]", 0, 0},
  {"user", "user OCID (default: the profile's user)", 0, 0},
  {"tenancy", "tenancy OCID (default: the profile's tenancy)", 0, 0},
  {"fingerprint", "fingerprint of the API signing key (default: the "
                  "profile's)", 0, 0},
  {"key-file", "PEM file of the API signing key (default: the profile's "
               "key_file, relative to the config file's directory)", 0, 0},
  {"key", "the API signing key itself, PEM text (wins over key-file)", 0, 1},
  {"pass-phrase", "pass phrase of an encrypted key (default: the "
                  "profile's pass_phrase)", 0, 1},
  {"region", "region identifier such as us-ashburn-1 (default: the "
             "profile's); names the endpoint and copy destinations", 0, 0},
  {"namespace", "Object Storage namespace (default: asked for with "
                "GET /n/ once)", 0, 0},
  {"compartment", "compartment OCID buckets are created and listed in "
                  "(default: the tenancy)", 0, 0},
  {"endpoint", "Object Storage URL (default https://objectstorage.REGION."
               "oraclecloud.com)", 0, 0},
  {"bucket-versioning", "true|false: create buckets with object versioning "
                        "on, which snapshots need (default false)", 0, 0},
  {"verify-tls", "true|false: verify the server's certificate (default "
                 "true)", 0, 0},
  {"ca-bundle", "PEM file of CA certificates to trust", 0, 0},
  {SDK_HTTP_STALL_KEY, SDK_HTTP_STALL_DESC, 0, 0},
  {NULL, NULL, 0, 0},
};

static const store_limits limits = {
  .struct_size = sizeof(store_limits),
  .max_parts = OCI_MAX_PARTS,
  .min_part_size = OCI_MIN_PART,
  .max_part_size = OCI_MAX_PART,
  .max_object_size = OCI_MAX_OBJECT,
  .max_put_size = OCI_MAX_PART,
  .list_page_size = OCI_PAGE_MAX,
  .equal_parts_required = 0,
  .max_key_length = OCI_MAX_KEY,
};

static store_close_op oci_close;
static void oci_close(store_handle *h)
{
  if (!h)
    return;
  pthread_mutex_destroy(&h->ns_mu);
  pthread_mutex_destroy(&h->mu);
  sdk_http_free(h->http);
  sdk_rsa_key_free(h->key);
  free(h->ns);
  free(h->region);
  free(h->compartment);
  free(h->key_id);
  free(h->endpoint);
  free(h->name);
  free(h);
}

/* On success *out is a new handle owned by the caller (release it with
 * close()); on failure it is NULL. */
static store_open_op oci_open;
static int32_t oci_open(const store_host_api *host, const store_kv *config,
                        size_t nconfig, store_handle **out, store_error *err)
{
  const char *name = sdk_kv_get(config, nconfig, "name");
  store_handle *h;
  int32_t rc;

  *out = NULL;
  h = calloc(1, sizeof(*h));
  if (!h)
    return store_error_set(err, STORE_E_NOMEM, "oci: open");
  if (pthread_mutex_init(&h->mu, NULL)) {
    free(h);
    return store_error_set(err, STORE_E_NOMEM, "oci: open");
  }
  if (pthread_mutex_init(&h->ns_mu, NULL)) {
    pthread_mutex_destroy(&h->mu);
    free(h);
    return store_error_set(err, STORE_E_NOMEM, "oci: open");
  }
  h->host = host;
  h->name = strdup(name ? name : "oci");
  if (!h->name) {
    rc = store_error_set(err, STORE_E_NOMEM, "oci: open");
    goto out;
  }
  rc = oci_config_open(h, config, nconfig, err);
  if (rc)
    goto out;
  rc = sdk_http_from_keys(config, nconfig, "oci", host, &h->http, err);
  if (rc)
    goto out;
  *out = h;
  h = NULL;
out:
  oci_close(h);
  return rc;
}

STORE_EXPORT const struct store_interface store_interface = {
  .abi_major = STORE_ABI_MAJOR,
  .abi_minor = STORE_ABI_MINOR,
  .struct_size = sizeof(struct store_interface),
  .reserved = 0,
  .name = "oci",
  .version = "1.0.0",
  .description = "Oracle Cloud Infrastructure Object Storage (native API, "
                 "OCI request signatures)",
  .capabilities = STORE_CAP_CONTAINERS | STORE_CAP_CONTAINER_METADATA |
                  STORE_CAP_METADATA | STORE_CAP_CONTENT_TYPE |
                  STORE_CAP_RANGE_GET | STORE_CAP_COPY | STORE_CAP_MULTIPART |
                  STORE_CAP_SNAPSHOT |
                  STORE_CAP_CONDITIONAL | STORE_CAP_THREADSAFE |
                  STORE_CAP_PRESIGN | STORE_CAP_DELETE_IF_MATCH,
  .limits = &limits,
  .config_keys = config_keys,
  .module_init = NULL,
  .module_fini = NULL,
  .open = oci_open,
  .close = oci_close,
  .container_create = oci_container_create,
  .container_delete = oci_container_delete,
  .container_list = oci_container_list,
  .container_head = oci_container_head,
  .container_set_metadata = oci_container_set_metadata,
  .blob_put = oci_blob_put,
  .blob_get = oci_blob_get,
  .blob_head = oci_blob_head,
  .blob_delete = oci_blob_delete,
  .blob_list = oci_blob_list,
  .blob_set_metadata = oci_blob_set_metadata,
  .blob_copy = oci_blob_copy,
  .blob_snapshot = oci_blob_snapshot,
  .multipart_begin = oci_multipart_begin,
  .multipart_part = oci_multipart_part,
  .multipart_complete = oci_multipart_complete,
  .multipart_abort = oci_multipart_abort,
  .multipart_part_checked = oci_multipart_part_checked,
  .blob_presign = oci_blob_presign,
  .multipart_list = oci_multipart_list,
};
