/*
** gcs_container.c -- buckets: insert (in the service's project), delete
** (recursively: every generation of every object first), list (paged),
** get, and labels as the container's metadata (PATCH).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcs.h"

/* The project bucket list and insert need. */
static int32_t need_project(const store_handle *h, const gcs_target *t,
                            store_error *err)
{
  if (h->project)
    return STORE_OK;
  return gcs_fail(t, err, STORE_E_CONFIG, "no project: set the service's "
                  "'project' (or use a credentials file with project_id, or "
                  "$GOOGLE_CLOUD_PROJECT)");
}

/* A bucket resource as a container entry: labels are its metadata. md
 * (owned by the caller, free()) holds them. */
static int32_t bucket_entry(const gcs_target *t, const json_t *b,
                            store_entry *e, store_kv **md, store_error *err)
{
  const json_t *labels = json_object_get(b, "labels");
  const char *k, *v;
  json_t *val;

  memset(e, 0, sizeof(*e));
  *md = NULL;
  e->struct_size = sizeof(*e);
  e->flags = STORE_ENTRY_CONTAINER;
  e->name = sdk_json_str(b, "name");
  e->mtime_ns = STORE_MTIME_UNKNOWN;
  if ((v = sdk_json_str(b, "updated")) ||
      (v = sdk_json_str(b, "timeCreated")))
    e->mtime_ns = sdk_time_parse_iso8601(v);
  e->etag = sdk_json_str(b, "etag");
  if (!e->name)
    return gcs_fail(t, err, STORE_E_INTERNAL, "a bucket resource without "
                    "a name");
  if (json_object_size(labels)) {
    *md = calloc(json_object_size(labels), sizeof(**md));
    if (!*md)
      return gcs_nomem(t, err);
    json_object_foreach((json_t *)labels, k, val)
    {
      if (!json_is_string(val))
        continue;
      (*md)[e->nmetadata].key = k;
      (*md)[e->nmetadata++].value = json_string_value(val);
    }
    e->metadata = *md;
  }
  return STORE_OK;
}

/* {"k": "v", ...} of metadata, with null for every key of `drop` not in
 * md (a PATCH removes those). */
static int32_t labels_json(const gcs_target *t, const store_kv *md, size_t n,
                           const json_t *drop, json_t **out, store_error *err)
{
  json_t *l = json_object();
  const char *k;
  json_t *v;
  int bad = !l;

  json_object_foreach((json_t *)drop, k, v)
  {
    if (!bad)
      bad = json_object_set_new(l, k, json_null());
  }
  for (size_t i = 0; !bad && i < n; i++)
    bad = !md[i].key || sdk_json_set_str(l, md[i].key, md[i].value);
  if (bad) {
    json_decref(l);
    *out = NULL;
    return gcs_fail(t, err, STORE_E_INVALID, "a label name or value is "
                    "missing or not UTF-8 (or out of memory)");
  }
  *out = l;
  return STORE_OK;
}

int32_t gcs_container_create(store_handle *h, const char *bucket,
                             const store_kv *metadata, size_t nmetadata,
                             store_error *err)
{
  gcs_target t = {"create", bucket, NULL, NULL};
  sdk_buf url = SDK_BUF_INIT;
  json_t *body = NULL, *labels = NULL;
  gcs_target pt = {"create", NULL, NULL, NULL};
  int32_t rc;

  rc = gcs_check_bucket(&t, err);
  if (!rc)
    rc = need_project(h, &t, err);
  if (!rc)
    rc = labels_json(&t, metadata, nmetadata, NULL, &labels, err);
  if (rc)
    goto out;
  body = json_object();
  if (!body || sdk_json_set_str(body, "name", bucket) ||
      json_object_set(body, "labels", labels) ||
      (h->versioned_buckets &&
       json_object_set_new(body, "versioning",
                           json_pack("{s:b}", "enabled", 1)))) {
    rc = gcs_nomem(&t, err);
    goto out;
  }
  rc = gcs_url(h, &pt, GCS_API, &url, err);
  if (!rc)
    rc = gcs_query(&t, &url, "project", h->project, err);
  if (!rc)
    rc = gcs_json(h, &t, "POST", url.data, body, NULL, err);
out:
  json_decref(labels);
  json_decref(body);
  sdk_buf_free(&url);
  return rc;
}

/* Generations listed for a recursive container delete, deleted a window
 * at a time: through the batch endpoint (gcs_blob_delete_batch, by name,
 * which deletes the live generation) until it says the bucket keeps
 * versions; then one by one, by generation. A noncurrent generation (a
 * bucket whose versioning was turned off keeps those) is deleted at once
 * by its generation: a delete by name would not reach it. */
#define PURGE_WINDOW 1000

typedef struct purge {
  store_handle *h;
  const char *bucket;
  store_error *err;
  char *names[PURGE_WINDOW];    /* owned                                   */
  char *gens[PURGE_WINDOW];     /* owned, or NULL                          */
  size_t n;
  int singles;                  /* the bucket keeps versions               */
  int32_t failed;               /* a key's failure, in kerr                */
  store_error kerr;
} purge;

/* A key's outcome from the batch: the first failure stops it. */
static int32_t purge_seen(void *ctx, size_t index, int32_t code,
                          const store_error *kerr)
{
  purge *p = ctx;

  (void)index;
  if (!code)
    return 0;
  p->failed = code;
  if (kerr)
    p->kerr = *kerr;
  return 1;
}

/* Forget the window's generations. */
static void purge_drop(purge *p)
{
  for (size_t i = 0; i < p->n; i++) {
    free(p->names[i]);
    free(p->gens[i]);
  }
  p->n = 0;
}

static int32_t purge_flush(purge *p)
{
  int32_t rc = STORE_OK;
  size_t i;

  if (p->n && !p->singles) {
    rc = gcs_blob_delete_batch(p->h, p->bucket, (const char *const *)p->names,
                               p->n, purge_seen, p, p->err);
    if (rc == STORE_E_ABORTED && p->failed) {
      rc = p->failed;
      if (p->err)
        *p->err = p->kerr;
    }
    if (rc == STORE_E_UNSUPPORTED) {
      sdk_error_clear(p->err);
      p->singles = 1;
      rc = STORE_OK;
    } else if (!rc) {
      purge_drop(p);
    }
  }
  for (i = 0; !rc && p->singles && i < p->n; i++) {
    gcs_target t = {"delete", p->bucket, p->names[i], p->gens[i]};
    rc = gcs_delete_object(p->h, &t, p->err);
    /* Gone already (a concurrent delete) is what we wanted. */
    if (rc == STORE_E_NOT_FOUND) {
      sdk_error_clear(p->err);
      rc = STORE_OK;
    }
  }
  purge_drop(p);
  return rc;
}

static int32_t purge_one(void *ud, const gcs_obj *o)
{
  purge *p = ud;
  gcs_target t = {"delete", p->bucket, o->e.name, NULL};
  int32_t rc;

  if (o->noncurrent && o->generation) {
    gcs_target g = {"delete", p->bucket, o->e.name, o->generation};
    rc = gcs_delete_object(p->h, &g, p->err);
    if (rc == STORE_E_NOT_FOUND) { /* gone already: what we wanted */
      sdk_error_clear(p->err);
      rc = STORE_OK;
    }
    return rc;
  }

  p->names[p->n] = strdup(o->e.name);
  p->gens[p->n] = o->generation ? strdup(o->generation) : NULL;
  if (!p->names[p->n] || (o->generation && !p->gens[p->n])) {
    free(p->names[p->n]);
    free(p->gens[p->n]);
    return gcs_nomem(&t, p->err);
  }
  if (++p->n < PURGE_WINDOW)
    return STORE_OK;
  return purge_flush(p);
}

int32_t gcs_container_delete(store_handle *h, const char *bucket,
                             uint32_t flags, store_error *err)
{
  gcs_target t = {"delete", bucket, NULL, NULL};
  sdk_buf url = SDK_BUF_INIT;
  purge *p = NULL;
  int32_t rc;

  rc = gcs_check_bucket(&t, err);
  if (rc)
    goto out;
  if (flags & STORE_CONTAINER_DELETE_RECURSIVE) {
    p = calloc(1, sizeof(*p));
    if (!p) {
      rc = gcs_nomem(&t, err);
      goto out;
    }
    p->h = h;
    p->bucket = bucket;
    p->err = err;
    rc = gcs_list_objects(h, &t, NULL, GCS_LIST_VERSIONS, purge_one, p, err);
    if (!rc)
      rc = purge_flush(p);
    if (rc)
      goto out;
  }
  rc = gcs_url(h, &t, GCS_API, &url, err);
  if (!rc)
    rc = gcs_json(h, &t, "DELETE", url.data, NULL, NULL, err);
out:
  if (p) {
    purge_drop(p);
    free(p);
  }
  sdk_buf_free(&url);
  return rc;
}

int32_t gcs_container_list(store_handle *h, const char *prefix,
                           store_entry_fn cb, void *cb_ctx, store_error *err)
{
  gcs_target t = {"list buckets of", NULL, NULL, NULL};
  sdk_buf url = SDK_BUF_INIT;
  char *token = NULL;
  json_t *page = NULL;
  int32_t rc;

  rc = need_project(h, &t, err);
  if (!rc && !cb)
    rc = gcs_fail(&t, err, STORE_E_INVALID, "no entry callback");
  while (!rc) {
    const json_t *items, *b;
    const char *next;
    size_t i;
    sdk_buf_reset(&url);
    rc = gcs_url(h, &t, GCS_API, &url, err);
    if (!rc)
      rc = gcs_query(&t, &url, "project", h->project, err);
    if (!rc && prefix && *prefix)
      rc = gcs_query(&t, &url, "prefix", prefix, err);
    if (!rc && token)
      rc = gcs_query(&t, &url, "pageToken", token, err);
    if (!rc)
      rc = gcs_json(h, &t, "GET", url.data, NULL, &page, err);
    if (rc)
      break;
    items = json_object_get(page, "items");
    json_array_foreach(items, i, b)
    {
      store_entry e;
      store_kv *md = NULL;
      rc = bucket_entry(&t, b, &e, &md, err);
      if (!rc && cb(cb_ctx, &e))
        rc = gcs_fail(&t, err, STORE_E_ABORTED, "stopped by the callback");
      free(md);
      if (rc)
        break;
    }
    next = sdk_json_str(page, "nextPageToken");
    free(token);
    token = next && *next ? strdup(next) : NULL;
    if (!rc && next && *next && !token)
      rc = gcs_nomem(&t, err);
    json_decref(page);
    page = NULL;
    if (!token)
      break;
  }
  free(token);
  sdk_buf_free(&url);
  return rc;
}

/* GET the bucket resource. *out owned. */
static int32_t bucket_get(store_handle *h, const gcs_target *t, json_t **out,
                          store_error *err)
{
  gcs_target bt = {t->op, t->bucket, NULL, NULL};
  sdk_buf url = SDK_BUF_INIT;
  int32_t rc;

  rc = gcs_url(h, &bt, GCS_API, &url, err);
  if (!rc)
    rc = gcs_json(h, t, "GET", url.data, NULL, out, err);
  sdk_buf_free(&url);
  return rc;
}

int32_t gcs_container_head(store_handle *h, const char *bucket,
                           store_entry_fn cb, void *cb_ctx, store_error *err)
{
  gcs_target t = {"head", bucket, NULL, NULL};
  store_kv *md = NULL;
  json_t *b = NULL;
  store_entry e;
  int32_t rc;

  rc = gcs_check_bucket(&t, err);
  if (!rc && !cb)
    rc = gcs_fail(&t, err, STORE_E_INVALID, "no entry callback");
  if (!rc)
    rc = bucket_get(h, &t, &b, err);
  if (!rc)
    rc = bucket_entry(&t, b, &e, &md, err);
  if (!rc && cb(cb_ctx, &e))
    rc = gcs_fail(&t, err, STORE_E_ABORTED, "the entry callback stopped");
  free(md);
  json_decref(b);
  return rc;
}

int32_t gcs_container_set_metadata(store_handle *h, const char *bucket,
                                   const store_kv *metadata, size_t nmetadata,
                                   store_error *err)
{
  gcs_target t = {"set metadata of", bucket, NULL, NULL};
  json_t *b = NULL, *labels = NULL, *body = NULL;
  sdk_buf url = SDK_BUF_INIT;
  const char *mg;
  int32_t rc;

  rc = gcs_check_bucket(&t, err);
  if (!rc)
    rc = bucket_get(h, &t, &b, err);
  if (!rc)
    rc = labels_json(&t, metadata, nmetadata, json_object_get(b, "labels"),
                     &labels, err);
  if (rc)
    goto out;
  body = json_pack("{s:O}", "labels", labels);
  if (!body) {
    rc = gcs_nomem(&t, err);
    goto out;
  }
  rc = gcs_url(h, &(gcs_target){t.op, bucket, NULL, NULL}, GCS_API, &url,
               err);
  /* Labels are read, changed and written whole: guarded by the
   * metageneration read, so that a concurrent change is not undone (a
   * lost race is retried by the host, gcs_retry_race). */
  mg = sdk_json_str(b, "metageneration");
  if (!rc && mg)
    rc = gcs_query(&t, &url, "ifMetagenerationMatch", mg, err);
  if (!rc)
    rc = gcs_retry_race(gcs_json(h, &t, "PATCH", url.data, body, NULL, err),
                        err);
out:
  sdk_buf_free(&url);
  json_decref(body);
  json_decref(labels);
  json_decref(b);
  return rc;
}

int32_t gcs_bucket_versioned(store_handle *h, const gcs_target *t, int *out,
                             store_error *err)
{
  json_t *b = NULL;
  int32_t rc = bucket_get(h, t, &b, err);

  *out = 0;
  if (!rc)
    *out = json_is_true(
      json_object_get(json_object_get(b, "versioning"), "enabled"));
  json_decref(b);
  return rc;
}
