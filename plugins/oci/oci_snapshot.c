/*
** oci_snapshot.c -- snapshots as object versions (buckets with versioning
** enabled; elsewhere a snapshot is refused with UNSUPPORTED and how to
** enable it).
**
** A snapshot id is a version id. OCI keeps no per-version state a client
** could set afterwards (no tags), so blob_snapshot makes the version it
** freezes noncurrent at once: it copies the object onto itself (same
** bytes, content headers and metadata, plus the hidden mark
** OCI_SNAP_MARK), on the condition that the key still holds that version
** (its ETag), and returns the id of the version that was current. A
** write that came in before the copy landed made it noncurrent already. Every noncurrent
** version of a key without the mark is one of its snapshots: the
** versions a snapshot froze, and those that overwrites kept; the marked
** copies, once overwritten, are not. A snapshot is thus never the current
** version, and deleting one (DeleteObject ?versionId=) leaves the object.
**
** Deleting an object on a versioned bucket leaves a delete marker and
** keeps every version: after that DELETE the provider finishes the job,
** deleting every version for good, unless snapshots remain without
** STORE_DELETE_SNAPSHOTS: then the delete marker goes again (the object
** is back) and the answer is NOT_EMPTY. On other buckets the one DELETE
** is all.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci.h"
#include "sdk_list.h"

int32_t oci_blob_snapshot(store_handle *h, const char *bucket,
                          const char *key, char *out_id, size_t cap,
                          store_error *err)
{
  oci_target t = {"snapshot", bucket, key, NULL};
  sdk_response *resp = NULL;
  oci_props p = {0};
  const char *vid;
  int32_t rc;

  if (out_id && cap)
    out_id[0] = '\0';
  rc = oci_check_key(&t, err);
  if (!rc && (!out_id || !cap))
    rc = oci_fail(&t, err, STORE_E_INVALID, "no buffer for the snapshot id");
  if (!rc)
    rc = oci_head(h, &t, &resp, &p, err);
  if (!rc)
    rc = oci_bucket_versioned(h, &t, err);
  if (rc)
    goto out;
  vid = sdk_response_header(resp, "version-id");
  if (!vid || !*vid || strlen(vid) >= cap) {
    rc = oci_fail(&t, err, STORE_E_INTERNAL,
                  "HeadObject answered no usable version-id");
    goto out;
  }
  /* The copy of exactly that version becomes the current one, unless the
   * key was written since: then that version is noncurrent already, and
   * frozen as it is. */
  t.version = vid;
  rc = oci_copy(h, &t, bucket, key, NULL, p.md, p.nmd,
                OCI_COPY_REPLACE | OCI_COPY_MARK, err);
  if (rc == STORE_E_PRECONDITION) {
    sdk_error_clear(err);
    rc = STORE_OK;
  }
  if (!rc)
    snprintf(out_id, cap, "%s", vid);
out:
  oci_props_free(&p);
  sdk_response_free(resp);
  return rc;
}

/* Non-zero when version vid of t's key carries the snapshot mark (a HEAD
 * of it; *rc set on failure). */
static int marked(store_handle *h, const oci_target *t, const char *vid,
                  int32_t *rc, store_error *err)
{
  oci_target vt = {t->op, t->bucket, t->key, vid};
  sdk_response *resp = NULL;
  oci_props p = {0};
  int m;

  *rc = oci_head(h, &vt, &resp, &p, err);
  m = !*rc && p.snap_copy;
  oci_props_free(&p);
  sdk_response_free(resp);
  return m;
}

/* The versions of exactly one key, newest first. */
typedef struct key_versions {
  store_handle *h;
  const oci_target *t;
  json_t *items;                /* owned: copies of the listing's items   */
  int nomem;
} key_versions;

static int collect(void *ud, json_t *item)
{
  key_versions *kv = ud;
  const char *name = json_string_value(json_object_get(item, "name"));

  if (name && !strcmp(name, kv->t->key) &&
      json_array_append(kv->items, item)) {
    kv->nomem = 1;
    return 1;
  }
  return 0;
}

/* After the DELETE of t's key left delete marker `marker` (version id):
 * every version goes, or with snapshots and without
 * STORE_DELETE_SNAPSHOTS in flags, the marker goes and NOT_EMPTY. Only
 * the marker and what is older: a version listed before it (newest
 * first) was written since, by another writer, and stays. A marker the
 * listing lacks, or none named (NULL), fails (INTERNAL), deleting nothing
 * more. */
int32_t oci_delete_versions(store_handle *h, const oci_target *t,
                            const char *marker, uint32_t flags,
                            store_error *err)
{
  key_versions kv = {h, t, json_array(), 0};
  int32_t rc;
  json_t *it;
  size_t i, from = 0;
  int seen_current = 0, snapshots = 0, found = 0;

  if (!kv.items)
    return oci_nomem(t, err);
  /* No marker id: nothing would tell our versions from another writer's
   * (see below). */
  if (!marker) {
    json_decref(kv.items);
    return oci_fail(t, err, STORE_E_INTERNAL, "the service named no "
                    "version id for the delete marker it left: no version "
                    "deleted (they stay, as snapshots: delete them by "
                    "id)");
  }
  rc = oci_versions(h, t, t->key, collect, &kv, err);
  if (kv.nomem)
    rc = oci_nomem(t, err);
  json_array_foreach(kv.items, i, it)
  {
    const char *vid = json_string_value(json_object_get(it, "versionId"));
    if (vid && !strcmp(vid, marker)) {
      from = i;
      found = 1;
      break;
    }
  }
  /* Without the marker in the listing nothing tells our versions from
   * those another writer put since: delete none of them. */
  if (!rc && !found)
    rc = oci_fail(t, err, STORE_E_INTERNAL, "the delete marker '%s' it "
                  "left is not in the version listing: no version deleted "
                  "(they stay, as snapshots: delete them by id)", marker);
  /* The newest real version was the object; older unmarked ones are its
   * snapshots. */
  json_array_foreach(kv.items, i, it)
  {
    const char *vid = json_string_value(json_object_get(it, "versionId"));
    if (rc || i < from || !vid ||
        json_is_true(json_object_get(it, "isDeleteMarker")))
      continue;
    if (!seen_current) {
      seen_current = 1;
      continue;
    }
    if (!marked(h, t, vid, &rc, err) && !rc)
      snapshots++;
  }
  if (!rc && snapshots && !(flags & STORE_DELETE_SNAPSHOTS)) {
    oci_target mt = {t->op, t->bucket, t->key, marker};
    sdk_buf q = SDK_BUF_INIT;
    rc = oci_query_add(&mt, &q, "versionId", marker, err);
    if (!rc)
      rc = oci_exec(h, &mt, "DELETE", OCI_P_OBJECT, sdk_buf_str(&q), NULL,
                    NULL, err);
    sdk_buf_free(&q);
    if (!rc)
      rc = oci_fail(t, err, STORE_E_NOT_EMPTY,
                    "it has %d snapshot(s): delete them with it, or one by "
                    "one by id", snapshots);
  }
  json_array_foreach(kv.items, i, it)
  {
    oci_target vt = {t->op, t->bucket, t->key,
                     json_string_value(json_object_get(it, "versionId"))};
    sdk_buf q = SDK_BUF_INIT;
    if (rc || i < from || !vt.version)
      continue;
    rc = oci_query_add(&vt, &q, "versionId", vt.version, err);
    if (!rc)
      rc = oci_exec(h, &vt, "DELETE", OCI_P_OBJECT, sdk_buf_str(&q), NULL,
                    NULL, err);
    if (rc == STORE_E_NOT_FOUND) { /* gone meanwhile */
      sdk_error_clear(err);
      rc = STORE_OK;
    }
    sdk_buf_free(&q);
  }
  json_decref(kv.items);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* listing with snapshots                                                   */
/* ------------------------------------------------------------------------ */

typedef struct snap_list {
  store_handle *h;
  const oci_target *t;
  store_entry_fn cb;
  void *cb_ctx;
  store_error *err;
  int32_t rc;
  sdk_list_filter f;
  char *last;                   /* the key whose versions are being read  */
  size_t plen;                  /* the prefix's length                    */
  const char *delim;
} snap_list;

/* One version of the listing (newest first per key): the first real
 * version of a key is the object, later unmarked ones its snapshots. */
static int snap_item(void *ud, json_t *item)
{
  snap_list *s = ud;
  const char *name = json_string_value(json_object_get(item, "name"));
  const char *vid = json_string_value(json_object_get(item, "versionId"));
  oci_target kt = {s->t->op, s->t->bucket, name, NULL};
  const char *mod = json_string_value(json_object_get(item, "timeModified"));
  int first = !s->last || strcmp(s->last, name ? name : "");
  char md5[33];
  store_entry e;

  if (!name || !vid)
    return 0;
  if (first) {
    free(s->last);
    s->last = strdup(name);
    if (!s->last) {
      s->rc = oci_nomem(s->t, s->err);
      return 1;
    }
  }
  /* Under a delimiter, deeper keys are one prefix entry each. */
  if (s->delim) {
    const char *d = strstr(name + s->plen, s->delim);
    if (d) {
      int r;
      if (!first)
        return 0;
      r = sdk_list_new_prefix(&s->f, name, (size_t)(d - name) + 1);
      if (r < 0) {
        s->rc = oci_nomem(s->t, s->err);
        return 1;
      }
      if (!r || !sdk_list_after(&s->f, s->f.last_prefix))
        return 0;
      memset(&e, 0, sizeof(e));
      e.struct_size = sizeof(e);
      e.flags = STORE_ENTRY_PREFIX;
      e.name = s->f.last_prefix;
      e.mtime_ns = STORE_MTIME_UNKNOWN;
      goto report;
    }
  }
  if (json_is_true(json_object_get(item, "isDeleteMarker")) ||
      !sdk_list_after(&s->f, name))
    return 0;
  memset(&e, 0, sizeof(e));
  e.struct_size = sizeof(e);
  e.name = name;
  e.size = (uint64_t)json_integer_value(json_object_get(item, "size"));
  e.mtime_ns = sdk_time_parse_iso8601(mod);
  e.etag = json_string_value(json_object_get(item, "etag"));
  oci_md5_hex(json_string_value(json_object_get(item, "md5")), md5);
  e.content_md5 = md5[0] ? md5 : NULL;
  if (first && !json_is_true(json_object_get(item, "isDeleteMarker")))
    goto report;
  if (marked(s->h, &kt, vid, &s->rc, s->err) || s->rc)
    return s->rc ? 1 : 0;
  e.flags = STORE_ENTRY_SNAPSHOT;
  e.snapshot_id = vid;
report:
  if (s->cb(s->cb_ctx, &e)) {
    s->rc = oci_fail(s->t, s->err, STORE_E_ABORTED,
                     "the entry callback stopped");
    return 1;
  }
  return 0;
}

int32_t oci_list_snapshots(store_handle *h, const oci_target *t,
                           const store_list_opts *opts, store_entry_fn cb,
                           void *cb_ctx, store_error *err)
{
  const char *prefix = STORE_OPT(opts, store_list_opts, prefix, NULL);
  const char *delim = STORE_OPT(opts, store_list_opts, delimiter, NULL);
  snap_list s = {h, t, cb, cb_ctx, err, STORE_OK, {NULL, NULL}, NULL,
                 prefix ? strlen(prefix) : 0,
                 delim && *delim ? delim : NULL};
  int32_t rc;

  sdk_list_filter_init(&s.f, STORE_OPT(opts, store_list_opts, start_after,
                                     NULL));
  rc = oci_versions(h, t, prefix, snap_item, &s, err);
  if (s.rc)
    rc = s.rc;
  free(s.last);
  sdk_list_filter_free(&s.f);
  return rc;
}
