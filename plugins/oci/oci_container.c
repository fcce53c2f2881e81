/*
** oci_container.c -- buckets: CreateBucket (in the configured
** compartment, with metadata, versioned when `bucket-versioning` says
** so), DeleteBucket (recursively: every object version, eight at once,
** and every unfinished multipart upload first), ListBuckets (the
** compartment's, every page, filtered by prefix here: OCI has no prefix
** parameter), GetBucket and UpdateBucket (metadata).
*/
#include <stdlib.h>
#include <string.h>

#include "oci.h"

/* A bucket's JSON (ListBuckets' summary or GetBucket's) as an entry. */
static int32_t bucket_entry(const oci_target *t, json_t *b, oci_props *p,
                            store_error *err)
{
  memset(p, 0, sizeof(*p));
  p->e.struct_size = sizeof(p->e);
  p->e.flags = STORE_ENTRY_CONTAINER;
  p->e.name = json_string_value(json_object_get(b, "name"));
  p->e.mtime_ns = sdk_time_parse_iso8601(
    json_string_value(json_object_get(b, "timeCreated")));
  p->e.etag = json_string_value(json_object_get(b, "etag"));
  if (!p->e.name)
    return oci_fail(t, err, STORE_E_INTERNAL, "a bucket without a name");
  return oci_meta_from_json(t, json_object_get(b, "metadata"), p, err);
}

/* {"metadata": {...}} of checked metadata, for CreateBucket and
 * UpdateBucket; NULL on no memory. */
static json_t *metadata_body(const store_kv *md, size_t n)
{
  json_t *mdj = oci_meta_json("", md, n);

  return mdj ? json_pack("{s:o}", "metadata", mdj) : NULL;
}

int32_t oci_container_create(store_handle *h, const char *bucket,
                             const store_kv *metadata, size_t nmetadata,
                             store_error *err)
{
  oci_target t = {"create", bucket, NULL, NULL};
  json_t *body = NULL;
  int32_t rc;

  rc = oci_check_bucket(&t, err);
  if (!rc)
    rc = oci_meta_check(&t, NULL, metadata, nmetadata, err);
  if (rc)
    goto out;
  body = metadata_body(metadata, nmetadata);
  if (!body || json_object_set_new(body, "name", json_string(bucket)) ||
      json_object_set_new(body, "compartmentId",
                          json_string(h->compartment)) ||
      (h->versioning &&
       json_object_set_new(body, "versioning", json_string("Enabled")))) {
    rc = oci_nomem(&t, err);
    goto out;
  }
  rc = oci_exec(h, &t, "POST", OCI_P_BUCKETS, NULL, body, NULL, err);
out:
  json_decref(body);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* recursive delete                                                         */
/* ------------------------------------------------------------------------ */

/* Passes over a bucket's versions, and over its uploads, before a
 * recursive delete gives up: each pass deletes everything it lists, so
 * only a bucket written to meanwhile needs more than a few. */
#define PURGE_PASSES 16

/* Deletes one purge runs at once (OCI has no batch delete), and the
 * versions listed it holds before running them (a listing page's worth:
 * bounded memory; fewer are deleted when the listing ends). */
#define PURGE_THREADS 8
#define PURGE_BATCH 1000

typedef struct purge_item {
  char *key, *version;
  int deleted;                  /* not gone before it could be */
} purge_item;

typedef struct purge_ctx {
  store_handle *h;
  const char *bucket;
  store_error *err;
  int32_t rc;
  size_t n;                     /* versions this pass deleted (not those
                                   gone before it could)                 */
  purge_item items[PURGE_BATCH];
  size_t nitems;
} purge_ctx;

/* One version deleted (DeleteObject ?versionId=); runs on a thread of
 * sdk_parallel. */
static int32_t purge_one(void *ud, size_t i, store_error *err)
{
  purge_ctx *c = ud;
  purge_item *it = &c->items[i];
  oci_target t = {"delete", c->bucket, it->key, it->version};
  sdk_buf q = SDK_BUF_INIT;
  int32_t rc;

  rc = t.version ? oci_query_add(&t, &q, "versionId", t.version, err)
                 : STORE_OK;
  if (!rc)
    rc = oci_exec(c->h, &t, "DELETE", OCI_P_OBJECT, sdk_buf_str(&q), NULL,
                  NULL, err);
  if (rc == STORE_E_NOT_FOUND) { /* gone meanwhile */
    sdk_error_clear(err);
    rc = STORE_OK;
  } else if (!rc) {
    it->deleted = 1;
  }
  sdk_buf_free(&q);
  return rc;
}

/* The versions held let go of. */
static void purge_drop(purge_ctx *c)
{
  for (size_t i = 0; i < c->nitems; i++) {
    free(c->items[i].key);
    free(c->items[i].version);
  }
  c->nitems = 0;
}

/* The versions held deleted, PURGE_THREADS at once, and let go of. */
static int32_t purge_flush(purge_ctx *c)
{
  int32_t rc = sdk_parallel(c->nitems, PURGE_THREADS, purge_one, c, c->err);

  for (size_t i = 0; i < c->nitems; i++)
    c->n += (size_t)c->items[i].deleted;
  purge_drop(c);
  return rc;
}

/* One version of the listing held for the next flush. */
static int purge_version(void *ud, json_t *item)
{
  purge_ctx *c = ud;
  const char *key = json_string_value(json_object_get(item, "name"));
  const char *ver = json_string_value(json_object_get(item, "versionId"));
  purge_item *it = &c->items[c->nitems];
  oci_target t = {"delete", c->bucket, key, ver};

  if (!key)
    return 0;
  memset(it, 0, sizeof(*it));
  it->key = strdup(key);
  it->version = ver ? strdup(ver) : NULL;
  c->nitems++;
  if (!it->key || (ver && !it->version))
    c->rc = oci_nomem(&t, c->err);
  else if (c->nitems == PURGE_BATCH)
    c->rc = purge_flush(c);
  return c->rc ? 1 : 0;
}

/* Every unfinished multipart upload of the bucket aborted (OCI counts
 * them as content: the bucket would not be empty). */
static int32_t purge_uploads(store_handle *h, const oci_target *bt,
                             store_error *err)
{
  for (int pass = 0;; pass++) {
    sdk_response *resp = NULL;
    json_t *list = NULL, *u;
    size_t i, n = 0;
    int32_t rc;

    rc = oci_exec(h, bt, "GET", OCI_P_UPLOADS, "limit=1000", NULL, &resp,
                  err);
    if (!rc)
      rc = oci_json(bt, resp, &list, err);
    json_array_foreach(list, i, u)
    {
      oci_target t = {"abort upload of", bt->bucket,
                      json_string_value(json_object_get(u, "object")), NULL};
      const char *id = json_string_value(json_object_get(u, "uploadId"));
      if (rc || !t.key || !id)
        continue;
      rc = oci_multipart_abort(h, bt->bucket, t.key, id, err);
      if (rc == STORE_E_NOT_FOUND) {
        sdk_error_clear(err);
        rc = STORE_OK;
      } else if (!rc) {
        n++;
      }
    }
    json_decref(list);
    sdk_response_free(resp);
    /* Aborted uploads leave the listing: list again until a pass aborts
     * none. */
    if (rc || !n)
      return rc;
    if (pass + 1 == PURGE_PASSES)
      return oci_fail(bt, err, STORE_E_NOT_EMPTY,
                      "multipart uploads still begin in it after %d passes "
                      "aborting them: is something writing to it?",
                      PURGE_PASSES);
  }
}

int32_t oci_container_delete(store_handle *h, const char *bucket,
                             uint32_t flags, store_error *err)
{
  oci_target t = {"delete", bucket, NULL, NULL};
  purge_ctx *c = calloc(1, sizeof(*c));
  int32_t rc;

  rc = c ? oci_check_bucket(&t, err) : oci_nomem(&t, err);
  if (rc)
    goto out;
  c->h = h;
  c->bucket = bucket;
  c->err = err;
  /* Deleting under a paged listing can move later entries to pages
   * already read: list again until a pass finds nothing. */
  if (flags & STORE_CONTAINER_DELETE_RECURSIVE) {
    int pass = 0;
    do {
      c->n = 0;
      rc = oci_versions(h, &t, NULL, purge_version, c, err);
      if (c->rc)
        rc = c->rc;
      if (!rc && c->nitems)
        rc = purge_flush(c);
      purge_drop(c); /* what a failed pass still held */
      if (!rc && c->n && ++pass == PURGE_PASSES)
        rc = oci_fail(&t, err, STORE_E_NOT_EMPTY,
                      "objects still come into it after %d passes deleting "
                      "them: is something writing to it?", PURGE_PASSES);
    } while (!rc && c->n);
    if (!rc)
      rc = purge_uploads(h, &t, err);
    if (rc)
      goto out;
  }
  rc = oci_exec(h, &t, "DELETE", OCI_P_BUCKET, NULL, NULL, NULL, err);
out:
  free(c);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* list, head, metadata                                                     */
/* ------------------------------------------------------------------------ */

int32_t oci_container_list(store_handle *h, const char *prefix,
                           store_entry_fn cb, void *cb_ctx, store_error *err)
{
  oci_target t = {"list buckets in", NULL, NULL, NULL};
  sdk_buf q = SDK_BUF_INIT;
  char *page = NULL;
  size_t plen = prefix ? strlen(prefix) : 0;
  int32_t rc;

  if (!cb)
    return oci_fail(&t, err, STORE_E_INVALID, "no entry callback");
  do {
    sdk_response *resp = NULL;
    json_t *list = NULL, *b;
    const char *next;
    size_t i;

    sdk_buf_reset(&q);
    rc = oci_query_add(&t, &q, "compartmentId", h->compartment, err);
    if (!rc)
      rc = oci_query_add(&t, &q, "limit", "1000", err);
    if (!rc && page)
      rc = oci_query_add(&t, &q, "page", page, err);
    if (!rc)
      rc = oci_exec(h, &t, "GET", OCI_P_BUCKETS, sdk_buf_str(&q), NULL,
                    &resp, err);
    if (!rc)
      rc = oci_json(&t, resp, &list, err);
    if (!rc && !json_is_array(list))
      rc = oci_fail(&t, err, STORE_E_INTERNAL,
                    "ListBuckets did not answer a list");
    json_array_foreach(list, i, b)
    {
      oci_props p;
      if (rc)
        break;
      rc = bucket_entry(&t, b, &p, err);
      if (!rc && plen && strncmp(p.e.name, prefix, plen)) {
        oci_props_free(&p);
        continue;
      }
      if (!rc && cb(cb_ctx, &p.e))
        rc = oci_fail(&t, err, STORE_E_ABORTED, "the entry callback stopped");
      oci_props_free(&p);
    }
    free(page);
    page = NULL;
    next = rc ? NULL : sdk_response_header(resp, "opc-next-page");
    if (next && *next && !(page = strdup(next)))
      rc = oci_nomem(&t, err);
    json_decref(list);
    sdk_response_free(resp);
  } while (!rc && page);
  free(page);
  sdk_buf_free(&q);
  return rc;
}

/* GetBucket: *out its JSON (owned by the caller). */
static int32_t get_bucket(store_handle *h, const oci_target *t, json_t **out,
                          store_error *err)
{
  sdk_response *resp = NULL;
  int32_t rc;

  *out = NULL;
  rc = oci_check_bucket(t, err);
  if (!rc)
    rc = oci_exec(h, t, "GET", OCI_P_BUCKET, NULL, NULL, &resp, err);
  if (!rc)
    rc = oci_json(t, resp, out, err);
  sdk_response_free(resp);
  return rc;
}

int32_t oci_container_head(store_handle *h, const char *bucket,
                           store_entry_fn cb, void *cb_ctx, store_error *err)
{
  oci_target t = {"head", bucket, NULL, NULL};
  json_t *b = NULL;
  oci_props p = {0};
  int32_t rc;

  if (!cb)
    return oci_fail(&t, err, STORE_E_INVALID, "no entry callback");
  rc = get_bucket(h, &t, &b, err);
  if (!rc)
    rc = bucket_entry(&t, b, &p, err);
  if (!rc && cb(cb_ctx, &p.e))
    rc = oci_fail(&t, err, STORE_E_ABORTED, "the entry callback stopped");
  oci_props_free(&p);
  json_decref(b);
  return rc;
}

/* UpdateBucket with the whole new metadata. */
int32_t oci_container_set_metadata(store_handle *h, const char *bucket,
                                   const store_kv *metadata, size_t nmetadata,
                                   store_error *err)
{
  oci_target t = {"set metadata of", bucket, NULL, NULL};
  json_t *body = NULL;
  int32_t rc;

  rc = oci_check_bucket(&t, err);
  if (!rc)
    rc = oci_meta_check(&t, NULL, metadata, nmetadata, err);
  if (!rc && !(body = metadata_body(metadata, nmetadata)))
    rc = oci_nomem(&t, err);
  if (!rc)
    rc = oci_exec(h, &t, "POST", OCI_P_BUCKET, NULL, body, NULL, err);
  json_decref(body);
  return rc;
}

/* STORE_OK when the bucket keeps object versions; UNSUPPORTED, saying how
 * to turn them on, when it does not. */
int32_t oci_bucket_versioned(store_handle *h, const oci_target *t,
                             store_error *err)
{
  oci_target bt = {t->op, t->bucket, NULL, NULL};
  json_t *b = NULL;
  const char *v;
  int32_t rc;

  rc = get_bucket(h, &bt, &b, err);
  if (rc)
    goto out;
  v = json_string_value(json_object_get(b, "versioning"));
  if (!v || strcmp(v, "Enabled"))
    rc = oci_fail(t, err, STORE_E_UNSUPPORTED,
                  "versioning is %s on bucket '%.64s', and snapshots need "
                  "it (oci os bucket update --versioning Enabled; "
                  "bucket-versioning: true for new buckets)",
                  v ? v : "off", t->bucket);
out:
  json_decref(b);
  return rc;
}
