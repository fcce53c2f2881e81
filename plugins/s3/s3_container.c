/*
** s3_container.c -- containers are buckets: CreateBucket (LocationConstraint
** outside us-east-1), DeleteBucket (emptied first when recursive, object
** versions included), ListBuckets (the prefix filtered here), HeadBucket.
** Buckets have no user metadata in S3 (tags are a different thing), so
** STORE_CAP_CONTAINER_METADATA is not declared.
*/
#include <stdlib.h>
#include <string.h>

#include "s3.h"
#include "sdk_util.h"

/* HeadBucket. 200 OK; otherwise the mapped error (404 NOT_FOUND). */
static int32_t head_bucket(store_handle *h, const char *bucket,
                           store_error *err)
{
  sdk_response *resp = NULL;
  s3_call c;
  int32_t rc = s3_call_init(&c, h, "HeadBucket", "HEAD", bucket, NULL, err);

  if (!rc)
    rc = s3_perform_ok(&c, &resp, err);
  sdk_response_free(resp);
  s3_call_free(&c);
  return rc;
}

int32_t s3_container_head(store_handle *h, const char *container,
                          store_entry_fn cb, void *cb_ctx, store_error *err)
{
  store_entry e;
  int32_t rc = s3_check_names(container, NULL, err);

  if (!rc)
    rc = head_bucket(h, container, err);
  if (rc)
    return rc;
  memset(&e, 0, sizeof(e));
  e.struct_size = sizeof(e);
  e.flags = STORE_ENTRY_CONTAINER;
  e.name = container;
  e.mtime_ns = STORE_MTIME_UNKNOWN; /* HeadBucket does not say */
  if (cb && cb(cb_ctx, &e))
    return store_error_set(err, STORE_E_ABORTED, "s3: HeadBucket '%s': "
                           "stopped by the callback", container);
  return STORE_OK;
}

static int32_t delete_bucket(store_handle *h, const char *bucket,
                             store_error *err);

/* A bucket made for versioned-buckets whose versioning could not be
 * enabled is removed again (it is new and empty), and err says which: an
 * unversioned bucket must not pass for a versioned one. */
static void undo_create(store_handle *h, const char *bucket, store_error *err)
{
  store_error derr;
  size_t used;

  s3_err_init(&derr);
  used = err ? strlen(err->message) : 0;
  if (delete_bucket(h, bucket, &derr) == STORE_OK) {
    if (err && used < sizeof(err->message))
      snprintf(err->message + used, sizeof(err->message) - used, "; "
               "versioned-buckets needs a server with versioning: bucket "
               "'%s' was removed again", bucket);
  } else if (err && used < sizeof(err->message)) {
    snprintf(err->message + used, sizeof(err->message) - used, "; bucket "
             "'%s' was created but is NOT versioned (removing it failed "
             "too)", bucket);
  }
}

/* PutBucketVersioning Enabled: what snapshots need (versioned-buckets). */
static int32_t enable_versioning(store_handle *h, const char *bucket,
                                 store_error *err)
{
  sdk_buf body = SDK_BUF_INIT;
  sdk_response *resp = NULL;
  s3_call c;
  int32_t rc = s3_call_init(&c, h, "PutBucketVersioning", "PUT", bucket,
                            NULL, err);

  if (!rc)
    rc = s3_call_query(&c, "versioning", NULL, err);
  if (!rc && sdk_buf_puts(&body, "<VersioningConfiguration xmlns=\"http://s3."
                          "amazonaws.com/doc/2006-03-01/\"><Status>Enabled"
                          "</Status></VersioningConfiguration>"))
    rc = s3_fail_msg(&c, err, STORE_E_NOMEM, "out of memory");
  if (!rc)
    rc = s3_call_body_xml(&c, &body, err);
  if (!rc)
    rc = s3_perform_ok(&c, &resp, err);
  sdk_response_free(resp);
  sdk_buf_free(&body);
  s3_call_free(&c);
  return rc;
}

int32_t s3_container_create(store_handle *h, const char *container,
                            const store_kv *metadata, size_t nmetadata,
                            store_error *err)
{
  sdk_response *resp = NULL;
  sdk_buf body = SDK_BUF_INIT;
  s3_call c;
  int32_t rc = s3_check_names(container, NULL, err);

  memset(&c, 0, sizeof(c));
  if (!rc)
    rc = s3_check_new_bucket(container, err);
  if (rc)
    return rc;
  if (nmetadata)
    return store_error_set(err, STORE_E_UNSUPPORTED, "s3: CreateBucket "
                           "'%s': buckets have no user metadata", container);
  /* In us-east-1, S3 answers 200 to creating a bucket you already own:
   * ask first, so "exists" is reported the same everywhere. */
  rc = head_bucket(h, container, err);
  if (rc == STORE_OK)
    return store_error_set(err, STORE_E_EXISTS, "s3: CreateBucket '%s': the "
                           "bucket already exists", container);
  if (rc != STORE_E_NOT_FOUND && rc != STORE_E_PERMISSION &&
      rc != STORE_E_CONFIG)
    return rc;
  rc = s3_call_init(&c, h, "CreateBucket", "PUT", container, NULL, err);
  if (rc)
    goto out;
  if (strcmp(h->cfg.region, "us-east-1")) {
    if (sdk_buf_printf(&body, "<CreateBucketConfiguration xmlns=\"http://s3."
                       "amazonaws.com/doc/2006-03-01/\"><LocationConstraint>"
                       "%s</LocationConstraint></CreateBucketConfiguration>",
                       h->cfg.region)) {
      rc = s3_fail_msg(&c, err, STORE_E_NOMEM, "out of memory");
      goto out;
    }
    s3_call_body_mem(&c, body.data, body.len);
    rc = s3_call_header(&c, "Content-Type", "application/xml", err);
    if (rc)
      goto out;
  }
  rc = s3_perform_ok(&c, &resp, err);
  if (!rc && h->cfg.versioned_buckets) {
    rc = enable_versioning(h, container, err);
    if (rc)
      undo_create(h, container, err);
  }
out:
  sdk_response_free(resp);
  s3_call_free(&c);
  sdk_buf_free(&body);
  return rc;
}

/* ---- deleting ----------------------------------------------------------- */

static int32_t delete_bucket(store_handle *h, const char *bucket,
                             store_error *err)
{
  sdk_response *resp = NULL;
  s3_call c;
  int32_t rc = s3_call_init(&c, h, "DeleteBucket", "DELETE", bucket, NULL,
                            err);

  if (!rc)
    rc = s3_perform_ok(&c, &resp, err);
  sdk_response_free(resp);
  s3_call_free(&c);
  return rc;
}

/* Listing callbacks feed the batch; it flushes every 1000 keys. A
 * failure stops the listing and is kept in the batch, so the listing's
 * "stopped by the callback" does not hide it. */
static int32_t batch_entry(void *ctx, const store_entry *e)
{
  s3_batch *b = ctx;

  return s3_batch_add(b, e->name, NULL, &b->failure) ? 1 : 0;
}

static int32_t batch_version(void *ctx, const s3_version *v)
{
  s3_batch *b = ctx;

  return s3_batch_add(b, v->key, v->version_id, &b->failure) ? 1 : 0;
}

/* Delete every object (pass 0) or every version and delete marker
 * (pass 1) of the bucket. */
static int32_t empty_bucket(store_handle *h, const char *bucket, int versions,
                            store_error *err)
{
  store_list_opts lo;
  s3_batch b;
  int32_t rc;

  s3_batch_init(&b, h, bucket);
  memset(&lo, 0, sizeof(lo));
  lo.struct_size = sizeof(lo);
  if (versions)
    rc = s3_list_versions(h, bucket, NULL, batch_version, &b, err);
  else
    rc = s3_blob_list(h, bucket, &lo, batch_entry, &b, err);
  if (rc == STORE_E_ABORTED && b.failure.code)
    rc = s3_batch_failure(&b, err);
  else if (!rc)
    rc = s3_batch_flush(&b, err);
  s3_batch_free(&b);
  return rc;
}

int32_t s3_container_delete(store_handle *h, const char *container,
                            uint32_t flags, store_error *err)
{
  int32_t rc = s3_check_names(container, NULL, err);

  if (rc)
    return rc;
  rc = delete_bucket(h, container, err);
  if (rc != STORE_E_NOT_EMPTY || !(flags & STORE_CONTAINER_DELETE_RECURSIVE))
    return rc;
  /* Objects first; versions only if the bucket still is not empty
   * (versioned buckets; unversioned servers may lack ?versions). */
  for (int versions = 0; versions < 2 && rc == STORE_E_NOT_EMPTY;
       versions++) {
    rc = empty_bucket(h, container, versions, err);
    if (!rc)
      rc = delete_bucket(h, container, err);
  }
  return rc;
}

/* ---- listing ------------------------------------------------------------ */

typedef struct bucket_item {
  char *name;
  int64_t mtime_ns;
} bucket_item;

static int item_cmp(const void *a, const void *b)
{
  return strcmp(((const bucket_item *)a)->name,
                ((const bucket_item *)b)->name);
}

/* One ListBuckets page: matching buckets appended to *items. *next is the
 * continuation token (owned) or NULL. */
static int32_t list_page(store_handle *h, const char *prefix,
                         const char *token, bucket_item **items, size_t *n,
                         char **next, store_error *err)
{
  sdk_response *resp = NULL;
  sdk_xml_node *root = NULL, *b;
  const char *t;
  s3_call c;
  int32_t rc = s3_call_init(&c, h, "ListBuckets", "GET", NULL, NULL, err);

  *next = NULL;
  if (!rc && token)
    rc = s3_call_query(&c, "continuation-token", token, err);
  if (!rc)
    rc = s3_perform_ok(&c, &resp, err);
  if (!rc)
    rc = s3_fail_xml(&c, resp, err, &root);
  if (rc)
    goto out;
  for (b = sdk_xml_path(root, "Buckets/Bucket"); b;
       b = sdk_xml_next(b, "Bucket")) {
    const char *name = sdk_xml_child_text(b, "Name");
    const char *date = sdk_xml_child_text(b, "CreationDate");
    bucket_item *v;
    if (!name || (prefix && strncmp(name, prefix, strlen(prefix))))
      continue;
    v = realloc(*items, (*n + 1) * sizeof(**items));
    if (!v || !(v[*n].name = strdup(name))) {
      if (v)
        *items = v;
      rc = s3_fail_msg(&c, err, STORE_E_NOMEM, "out of memory");
      goto out;
    }
    v[*n].mtime_ns = date ? sdk_time_parse_iso8601(date) : STORE_MTIME_UNKNOWN;
    *items = v;
    (*n)++;
  }
  t = sdk_xml_child_text(root, "ContinuationToken");
  if (t && *t && !(*next = strdup(t)))
    rc = s3_fail_msg(&c, err, STORE_E_NOMEM, "out of memory");
out:
  sdk_xml_free(root);
  sdk_response_free(resp);
  s3_call_free(&c);
  return rc;
}

int32_t s3_container_list(store_handle *h, const char *prefix,
                          store_entry_fn cb, void *cb_ctx, store_error *err)
{
  bucket_item *items = NULL;
  char *token = NULL, *next = NULL;
  size_t n = 0, i;
  int32_t rc;

  do {
    rc = list_page(h, prefix, token, &items, &n, &next, err);
    free(token);
    token = next;
  } while (!rc && token);
  if (!rc && n)
    qsort(items, n, sizeof(*items), item_cmp);
  for (i = 0; !rc && i < n; i++) {
    store_entry e;
    memset(&e, 0, sizeof(e));
    e.struct_size = sizeof(e);
    e.flags = STORE_ENTRY_CONTAINER;
    e.name = items[i].name;
    e.mtime_ns = items[i].mtime_ns;
    if (cb(cb_ctx, &e))
      rc = store_error_set(err, STORE_E_ABORTED, "s3: ListBuckets: stopped "
                           "by the callback");
  }
  for (i = 0; i < n; i++)
    free(items[i].name);
  free(items);
  free(token);
  return rc;
}
