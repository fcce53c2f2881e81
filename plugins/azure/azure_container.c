/*
** azure_container.c -- containers: create, delete, list, properties and
** metadata (restype=container).
*/
#include <stdlib.h>
#include <string.h>

#include "azure.h"
#include "sdk_util.h"

int32_t az_container_create(store_handle *h, const char *container,
                            const store_kv *metadata, size_t nmetadata,
                            store_error *err)
{
  az_target t = {"create", container, NULL, NULL};
  int32_t rc;

  rc = az_check_container(&t, err);
  if (rc)
    goto out;
  rc = az_put_metadata(h, &t, "restype=container", metadata, nmetadata,
                       (az_crc){0, 0}, NULL, err);
out:
  return rc;
}

/* Stops the emptiness probe at the first visible blob. */
static int32_t found_one(void *ctx, const store_entry *e)
{
  *(int *)ctx = 1;
  return 1;
}

/* Delete Container removes the contents server-side, so "recursive" is one
 * request. Without the flag the container must look empty first: a blob
 * the listing shows makes it NOT_EMPTY; directory markers do not count,
 * as listings hide them. (Check and delete are two requests: a blob put
 * in between goes with the container.) */
int32_t az_container_delete(store_handle *h, const char *container,
                            uint32_t flags, store_error *err)
{
  az_target t = {"delete", container, NULL, NULL};
  store_list_opts lo;
  int found = 0;
  int32_t rc;

  rc = az_check_container(&t, err);
  if (rc)
    goto out;
  if (!(flags & STORE_CONTAINER_DELETE_RECURSIVE)) {
    memset(&lo, 0, sizeof(lo));
    lo.struct_size = sizeof(lo);
    lo.page_size = 100;
    rc = az_list(h, &t, &lo, found_one, &found, err);
    if (found) {
      rc = az_fail(&t, err, STORE_E_NOT_EMPTY,
                   "not empty (delete recursively to remove its blobs)");
      goto out;
    }
    if (rc)
      goto out;
  }
  rc = az_exec(h, &t, "DELETE", "restype=container", NULL, 0, NULL, err);
out:
  return rc;
}

typedef struct clist_ctx {
  const az_target *t;
  store_entry_fn cb;
  void *ctx;
} clist_ctx;

static int32_t container_page(void *ctx, const sdk_xml_node *root,
                              store_error *err)
{
  clist_ctx *c = ctx;
  const sdk_xml_node *n = sdk_xml_path(root, "Containers/Container");
  int32_t rc = STORE_OK;

  for (; n; n = sdk_xml_next(n, "Container")) {
    const sdk_xml_node *props = sdk_xml_child(n, "Properties");
    az_props p;
    memset(&p, 0, sizeof(p));
    p.e.struct_size = sizeof(p.e);
    p.e.flags = STORE_ENTRY_CONTAINER;
    p.e.name = sdk_xml_child_text(n, "Name");
    p.e.mtime_ns = STORE_MTIME_UNKNOWN;
    if (!p.e.name)
      continue;
    if (props) {
      p.e.mtime_ns =
        sdk_time_parse_http(sdk_xml_child_text(props, "Last-Modified"));
      p.e.etag = az_xml_etag(sdk_xml_child_text(props, "Etag"), &p);
    }
    rc = az_xml_metadata(c->t, sdk_xml_child(n, "Metadata"), &p, err);
    if (!rc && c->cb(c->ctx, &p.e))
      rc = az_fail(c->t, err, STORE_E_ABORTED,
                   "the entry callback stopped the listing");
    az_props_free(&p);
    if (rc)
      goto out;
  }
out:
  return rc;
}

int32_t az_container_list(store_handle *h, const char *prefix,
                          store_entry_fn cb, void *cb_ctx, store_error *err)
{
  az_target t = {"list containers of", NULL, NULL, NULL};
  clist_ctx c = {&t, cb, cb_ctx};
  sdk_buf q = SDK_BUF_INIT;
  int32_t rc;

  if (!cb) {
    rc = az_fail(&t, err, STORE_E_INVALID, "no entry callback");
    goto out;
  }
  if (sdk_buf_puts(&q, "comp=list&include=metadata") ||
      (prefix && *prefix &&
       (sdk_buf_puts(&q, "&prefix=") ||
        sdk_uri_encode(&q, prefix, strlen(prefix), 0)))) {
    rc = az_nomem(&t, err);
    goto out;
  }
  rc = az_pages(h, &t, sdk_buf_str(&q), 0, container_page, &c, err);
out:
  sdk_buf_free(&q);
  return rc;
}

int32_t az_container_head(store_handle *h, const char *container,
                          store_entry_fn cb, void *cb_ctx, store_error *err)
{
  az_target t = {"head", container, NULL, NULL};
  sdk_response *resp = NULL;
  az_props p = {0};
  int32_t rc;

  rc = az_check_container(&t, err);
  if (rc)
    goto out;
  if (!cb) {
    rc = az_fail(&t, err, STORE_E_INVALID, "no entry callback");
    goto out;
  }
  rc = az_exec(h, &t, "HEAD", "restype=container", NULL, 0, &resp, err);
  if (rc)
    goto out;
  rc = az_props_headers(&t, resp, &p, err);
  if (rc)
    goto out;
  if (cb(cb_ctx, &p.e))
    rc = az_fail(&t, err, STORE_E_ABORTED, "the entry callback stopped");
out:
  az_props_free(&p);
  sdk_response_free(resp);
  return rc;
}

int32_t az_container_set_metadata(store_handle *h, const char *container,
                                  const store_kv *metadata, size_t nmetadata,
                                  store_error *err)
{
  az_target t = {"set metadata of", container, NULL, NULL};
  int32_t rc;

  rc = az_check_container(&t, err);
  if (rc)
    goto out;
  rc = az_put_metadata(h, &t, "restype=container&comp=metadata", metadata,
                       nmetadata, (az_crc){0, 0}, NULL, err);
out:
  return rc;
}
