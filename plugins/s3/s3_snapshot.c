/*
** s3_snapshot.c -- snapshots as S3 object versions (buckets with
** versioning enabled).
**
** A snapshot id is a VersionId. blob_snapshot returns the current
** version's id and tags that version (xtstore-snapshot=1, added to its
** tags) so it stays listed as a snapshot while it is also the current
** object. When the object is overwritten, S3 keeps the old version: every
** noncurrent version of a key is one of its snapshots. get/head/delete
** with a snapshot id address that version (?versionId=). Deleting a
** snapshot that is still the current version (taken and not overwritten
** since) must leave the object as it is (ABI), while DELETE ?versionId=
** of the current version would take the object with it: the version is
** first copied onto itself (a new current version, same bytes, type and
** metadata; its tags without ours), then deleted. Deleting a blob
** deletes its versions for good (a plain DELETE would only add a delete
** marker and keep everything), refused with NOT_EMPTY while snapshots
** exist unless STORE_DELETE_SNAPSHOTS. Unversioned buckets have no
** versions to keep: snapshots are refused there with UNSUPPORTED and how
** to enable versioning.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3.h"
#include "sdk_error.h"
#include "sdk_util.h"

/* GetObjectTagging of one version: *out is the parsed reply (owned). */
static int32_t get_tags(store_handle *h, const char *bucket, const char *key,
                        const char *version, sdk_xml_node **out,
                        store_error *err)
{
  sdk_response *resp = NULL;
  s3_call c;
  int32_t rc = s3_call_init(&c, h, "GetObjectTagging", "GET", bucket, key,
                            err);

  *out = NULL;
  if (!rc)
    rc = s3_call_query(&c, "tagging", NULL, err);
  if (!rc)
    rc = s3_call_query(&c, "versionId", version, err);
  if (!rc)
    rc = s3_perform_ok(&c, &resp, err);
  if (!rc)
    rc = s3_fail_xml(&c, resp, err, out);
  sdk_response_free(resp);
  s3_call_free(&c);
  return rc;
}

static int has_snapshot_tag(const sdk_xml_node *tagging)
{
  for (sdk_xml_node *t = sdk_xml_path(tagging, "TagSet/Tag"); t;
       t = sdk_xml_next(t, "Tag")) {
    const char *k = sdk_xml_child_text(t, "Key");
    if (k && !strcmp(k, S3_SNAPSHOT_TAG))
      return 1;
  }
  return 0;
}

int32_t s3_snap_is_tagged(store_handle *h, const char *bucket,
                          const char *key, const char *version, int *out,
                          store_error *err)
{
  sdk_xml_node *tags = NULL;
  int32_t rc = get_tags(h, bucket, key, version, &tags, err);

  *out = !rc && has_snapshot_tag(tags);
  sdk_xml_free(tags);
  return rc;
}

/* PutObjectTagging of the version: its tags plus ours. */
static int32_t tag_version(store_handle *h, const char *bucket,
                           const char *key, const char *version,
                           store_error *err)
{
  sdk_xml_node *tags = NULL;
  sdk_buf body = SDK_BUF_INIT;
  sdk_response *resp = NULL;
  s3_call c;
  int32_t rc = get_tags(h, bucket, key, version, &tags, err);

  memset(&c, 0, sizeof(c));
  if (rc || has_snapshot_tag(tags))
    goto out;
  rc = s3_call_init(&c, h, "PutObjectTagging", "PUT", bucket, key, err);
  if (!rc)
    rc = s3_call_query(&c, "tagging", NULL, err);
  if (!rc)
    rc = s3_call_query(&c, "versionId", version, err);
  if (rc)
    goto out;
  if (sdk_buf_puts(&body, "<Tagging xmlns=\"http://s3.amazonaws.com/doc/"
                          "2006-03-01/\"><TagSet>"))
    goto nomem;
  for (sdk_xml_node *t = sdk_xml_path(tags, "TagSet/Tag"); t;
       t = sdk_xml_next(t, "Tag")) {
    const char *k = sdk_xml_child_text(t, "Key");
    const char *v = sdk_xml_child_text(t, "Value");
    if (sdk_buf_puts(&body, "<Tag><Key>") ||
        sdk_xml_escape(&body, k ? k : "") ||
        sdk_buf_puts(&body, "</Key><Value>") ||
        sdk_xml_escape(&body, v ? v : "") ||
        sdk_buf_puts(&body, "</Value></Tag>"))
      goto nomem;
  }
  if (sdk_buf_puts(&body, "<Tag><Key>" S3_SNAPSHOT_TAG "</Key><Value>1"
                          "</Value></Tag></TagSet></Tagging>"))
    goto nomem;
  rc = s3_call_body_xml(&c, &body, err);
  if (!rc)
    rc = s3_perform_ok(&c, &resp, err);
  goto out;
nomem:
  rc = s3_fail_msg(&c, err, STORE_E_NOMEM, "out of memory");
out:
  sdk_xml_free(tags);
  sdk_response_free(resp);
  sdk_buf_free(&body);
  s3_call_free(&c);
  return rc;
}

int32_t s3_blob_snapshot(store_handle *h, const char *container,
                         const char *key, char *out_id, size_t cap,
                         store_error *err)
{
  sdk_response *resp = NULL;
  s3_props p;
  int32_t rc = s3_check_names(container, key, err);

  if (rc)
    return rc;
  rc = s3_head_object(h, container, key, NULL, NULL, 0, &p, &resp, err);
  if (rc)
    return rc;
  if (!s3_version_is_real(p.version_id))
    rc = store_error_set(err, STORE_E_UNSUPPORTED, "s3: snapshot '%s/%s': "
                         "bucket '%s' is not versioned: enable versioning on "
                         "bucket %s (aws s3api put-bucket-versioning "
                         "--bucket %s --versioning-configuration "
                         "Status=Enabled) to take snapshots", container, key,
                         container, container, container);
  else if (strlen(p.version_id) >= cap)
    rc = store_error_set(err, STORE_E_INTERNAL, "s3: snapshot '%s/%s': "
                         "version id longer than the %zu-byte buffer",
                         container, key, cap);
  if (!rc)
    rc = tag_version(h, container, key, p.version_id, err);
  if (!rc)
    memcpy(out_id, p.version_id, strlen(p.version_id) + 1);
  s3_props_free(&p);
  sdk_response_free(resp);
  return rc;
}

/* ---- deleting one snapshot ---------------------------------------------- */

/* The x-amz-tagging value of a version's tags, ours left out: "k=v&k2=v2",
 * URL-encoded ("" when none). -1 when memory runs out. */
static int tagging_without_ours(const sdk_xml_node *tagging, sdk_buf *out)
{
  for (sdk_xml_node *t = sdk_xml_path(tagging, "TagSet/Tag"); t;
       t = sdk_xml_next(t, "Tag")) {
    const char *k = sdk_xml_child_text(t, "Key");
    const char *v = sdk_xml_child_text(t, "Value");
    if (!k || !strcmp(k, S3_SNAPSHOT_TAG))
      continue;
    if (!v)
      v = "";
    if ((out->len && sdk_buf_putc(out, '&')) ||
        sdk_uri_encode(out, k, strlen(k), 0) || sdk_buf_putc(out, '=') ||
        sdk_uri_encode(out, v, strlen(v), 0))
      return -1;
  }
  return 0;
}

/* The version made current again by a copy of itself, so that deleting
 * it leaves the object alone. A writer that lands between our HEAD and
 * the copy loses nothing: its version stays, as a noncurrent version (a
 * snapshot). */
static int32_t keep_current(store_handle *h, const char *bucket,
                            const char *key, const char *version,
                            store_error *err)
{
  sdk_xml_node *tags = NULL;
  sdk_buf tagging = SDK_BUF_INIT;
  int32_t rc = get_tags(h, bucket, key, version, &tags, err);

  if (!rc && tagging_without_ours(tags, &tagging))
    rc = store_error_set(err, STORE_E_NOMEM, "s3: out of memory");
  if (!rc)
    rc = s3_copy_version_onto_itself(h, bucket, key, version,
                                     sdk_buf_str(&tagging), err);
  if (!rc)
    s3_log(h, STORE_LOG_DEBUG, "s3 '%s': snapshot '%s' of '%s/%s' is the "
           "current version: copied onto itself before its deletion",
           h->cfg.name, version, bucket, key);
  sdk_xml_free(tags);
  sdk_buf_free(&tagging);
  return rc;
}

/* DeleteObject of one version that exists, the object left as it is. */
int32_t s3_delete_snapshot(store_handle *h, const char *bucket,
                           const char *key, const char *version,
                           store_error *err)
{
  sdk_response *resp = NULL;
  store_error probe;
  s3_props p;
  int current;
  int32_t rc;

  /* The current version (none: a delete marker is on top). */
  s3_err_init(&probe);
  rc = s3_head_object(h, bucket, key, NULL, NULL, 0, &p, &resp, &probe);
  if (rc && rc != STORE_E_NOT_FOUND)
    return sdk_error_copy(err, &probe);
  current = !rc && p.version_id && !strcmp(p.version_id, version);
  if (!rc) {
    s3_props_free(&p);
    sdk_response_free(resp);
  }
  rc = current ? keep_current(h, bucket, key, version, err) : STORE_OK;
  if (!rc)
    rc = s3_delete_object(h, bucket, key, version, NULL, err);
  return rc;
}

/* ---- deleting a versioned object --------------------------------------- */

typedef struct key_versions {
  const char *key;
  char **ids;                   /* every version and delete marker        */
  size_t n;
  size_t noncurrent;            /* data versions other than the latest    */
  char *latest;                 /* the latest data version, or NULL       */
  store_error *err;
} key_versions;

static int32_t collect(void *ctx, const s3_version *v)
{
  key_versions *kv = ctx;
  char **ids;

  if (strcmp(v->key, kv->key) || !v->version_id)
    return STORE_OK; /* a longer key under the same prefix */
  ids = realloc(kv->ids, (kv->n + 1) * sizeof(*ids));
  if (!ids || !(ids[kv->n] = strdup(v->version_id))) {
    if (ids)
      kv->ids = ids;
    return store_error_set(kv->err, STORE_E_NOMEM, "s3: out of memory");
  }
  kv->ids = ids;
  if (!v->is_delete_marker && v->is_latest)
    kv->latest = ids[kv->n];
  else if (!v->is_delete_marker)
    kv->noncurrent++;
  kv->n++;
  return STORE_OK;
}

/* Delete every version of key (by id, in batches); with `latest`, only
 * while that is still its latest data version, else PRECONDITION. */
int32_t s3_delete_versioned(store_handle *h, const char *bucket,
                            const char *key, uint32_t flags,
                            const char *latest, store_error *err)
{
  key_versions kv = {key, NULL, 0, 0, NULL, err};
  int tagged = 0;
  s3_batch b;
  int32_t rc;

  s3_batch_init(&b, h, bucket);
  rc = s3_list_versions(h, bucket, key, collect, &kv, err);
  if (!rc && latest && (!kv.latest || strcmp(kv.latest, latest)))
    rc = store_error_set(err, STORE_E_PRECONDITION, "s3: DeleteObject "
                         "'%s/%s': if_match: the object changed since "
                         "(version '%s' is no longer the latest)", bucket,
                         key, latest);
  if (!rc && kv.latest && !kv.noncurrent &&
      !(flags & STORE_DELETE_SNAPSHOTS))
    rc = s3_snap_is_tagged(h, bucket, key, kv.latest, &tagged, err);
  if (!rc && (kv.noncurrent || tagged) && !(flags & STORE_DELETE_SNAPSHOTS))
    rc = store_error_set(err, STORE_E_NOT_EMPTY, "s3: DeleteObject '%s/%s': "
                         "the object has %zu snapshot(s) (versions): delete "
                         "them with it, or one by one by id", bucket, key, kv.noncurrent + (size_t)tagged);
  for (size_t i = 0; !rc && i < kv.n; i++)
    rc = s3_batch_add(&b, key, kv.ids[i], err);
  if (!rc)
    rc = s3_batch_flush(&b, err);
  for (size_t i = 0; i < kv.n; i++)
    free(kv.ids[i]);
  free(kv.ids);
  s3_batch_free(&b);
  return rc;
}
