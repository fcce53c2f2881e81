/*
** oci_copy.c -- server-side copies (CopyObject, within the service's
** region and namespace) and the work request that carries each out:
** polled (GetWorkRequest) until it completes, fails or is cancelled.
**
** blob_set_metadata is a copy of the object onto itself with the new
** metadata: OCI has no call that changes an object's metadata in place.
** A copy keeps the source's content headers (Content-Type, -Encoding,
** -Language, -Disposition, Cache-Control): CopyObjectDetails has no field
** for them, and its destinationObjectMetadata holds opc-meta-* keys only
** (OCI's API reference). Given, that map replaces the source's user
** metadata; empty or absent, the copy inherits it. So a copy cannot
** change the content type, nor drop all metadata: both are refused
** (UNSUPPORTED) rather than silently not done.
**
** A copy onto itself (set_metadata, snapshot) lands in the background,
** after the HEAD that read what it copies: it goes with
** destinationObjectIfMatchETag, the ETag of that HEAD, so that a write
** that came in meanwhile is never undone (the copy fails instead).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oci.h"

static void sleep_ms(uint32_t ms)
{
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* The first error a failed work request recorded, into msg; its code
 * into code. */
static void wr_error(store_handle *h, const oci_target *wt, char *msg,
                     size_t cap, char *code_out, size_t code_cap)
{
  sdk_response *resp = NULL;
  json_t *list = NULL, *e;
  const char *code, *text;
  store_error err;

  snprintf(msg, cap, "no reason given");
  snprintf(code_out, code_cap, "%s", "");
  memset(&err, 0, sizeof(err));
  err.struct_size = sizeof(err);
  if (!oci_exec(h, wt, "GET", OCI_P_WORKERR, NULL, NULL, &resp, &err) &&
      !oci_json(wt, resp, &list, &err)) {
    e = json_array_get(list, 0);
    code = json_string_value(json_object_get(e, "code"));
    text = json_string_value(json_object_get(e, "message"));
    if (text)
      snprintf(msg, cap, "%s: %s", code ? code : "error", text);
    if (code)
      snprintf(code_out, code_cap, "%s", code);
  }
  json_decref(list);
  sdk_response_free(resp);
}

/* Poll work request `id` of t's copy until it is done. */
static int32_t wait_work(store_handle *h, const oci_target *t,
                         const char *id, store_error *err)
{
  oci_target wt = {t->op, t->bucket, t->key, id};
  uint32_t wait = OCI_POLL_FIRST_MS;
  time_t until = time(NULL) + OCI_POLL_TOTAL_S;

  for (;;) {
    sdk_response *resp = NULL;
    json_t *wr = NULL;
    const char *st;
    int32_t rc;

    rc = oci_exec(h, &wt, "GET", OCI_P_WORKREQ, NULL, NULL, &resp, err);
    if (!rc)
      rc = oci_json(t, resp, &wr, err);
    st = json_string_value(json_object_get(wr, "status"));
    if (!rc && !st)
      rc = oci_fail(t, err, STORE_E_INTERNAL,
                    "work request '%.64s' has no status", id);
    if (!rc && !strcmp(st, "COMPLETED")) {
      json_decref(wr);
      sdk_response_free(resp);
      return STORE_OK;
    }
    if (!rc && (!strcmp(st, "FAILED") || !strcmp(st, "CANCELED") ||
                !strcmp(st, "CANCELING"))) {
      char why[STORE_ERR_MSG_SIZE], code[64];
      int failed = !strcmp(st, "FAILED");
      wr_error(h, &wt, why, sizeof(why), code, sizeof(code));
      /* The destination's ETag condition, checked as the copy lands. */
      rc = oci_fail(t, err,
                    !failed ? STORE_E_ABORTED
                    : !strcmp(code, "IfMatchFailed") ? STORE_E_PRECONDITION
                                                     : STORE_E_SERVER,
                    "copy %s (work request '%.64s'): %s",
                    failed ? "failed" : "cancelled", id, why);
    }
    json_decref(wr);
    sdk_response_free(resp);
    if (rc)
      return rc;
    if (time(NULL) > until)
      return oci_fail(t, err, STORE_E_TIMEOUT,
                      "copy still running after %u s (work request "
                      "'%.64s')", OCI_POLL_TOTAL_S, id);
    if (sdk_host_cancelled(h->host))
      return oci_fail(t, err, STORE_E_ABORTED,
                      "cancelled while the copy runs on (work request "
                      "'%.64s')", id);
    sleep_ms(wait);
    wait = wait * 2 > OCI_POLL_MAX_MS ? OCI_POLL_MAX_MS : wait * 2;
  }
}

/* The copy itself; see oci_copy. guard: t's key onto itself, only while
 * it is still what the HEAD read. */
static int32_t copy_object(store_handle *h, const oci_target *t,
                           const char *dst_bucket, const char *dst_key,
                           const char *content_type, const store_kv *md,
                           size_t nmd, uint32_t flags, int guard,
                           store_error *err)
{
  int replace = (flags & OCI_COPY_REPLACE) != 0;
  sdk_response *resp = NULL, *head = NULL;
  json_t *body = NULL, *meta = NULL;
  oci_props p = {0};
  char *ns = NULL;
  const char *wr, *src_ct;
  int32_t rc;

  if (!h->region)
    return oci_fail(t, err, STORE_E_CONFIG,
                    "a copy names its region: set 'region' (or region in "
                    "the profile)");
  rc = oci_meta_check(t, content_type, md, replace ? nmd : 0, err);
  if (!rc)
    rc = oci_namespace(h, &ns, err);
  if (!rc && (replace || guard))
    rc = oci_head(h, t, &head, &p, err);
  if (rc)
    goto out;
  src_ct = p.e.content_type ? p.e.content_type : OCI_DEFAULT_CT;
  if (replace && content_type && strcmp(content_type, src_ct)) {
    rc = oci_fail(t, err, STORE_E_UNSUPPORTED,
                  "OCI's CopyObject keeps the source's content type ('%s'): "
                  "it cannot set '%s'", src_ct, content_type);
    goto out;
  }
  if (replace && !nmd && !(flags & OCI_COPY_MARK) && p.nmd) {
    rc = oci_fail(t, err, STORE_E_UNSUPPORTED,
                  "OCI's CopyObject cannot drop all metadata (a copy without "
                  "any keeps the source's %zu name(s))", p.nmd);
    goto out;
  }
  if (guard && (!p.e.etag || !*p.e.etag)) {
    rc = oci_fail(t, err, STORE_E_INTERNAL, "HeadObject answered no ETag");
    goto out;
  }
  body = json_pack("{s:s, s:s, s:s, s:s, s:s}", "sourceObjectName", t->key,
                   "destinationRegion", h->region, "destinationNamespace", ns,
                   "destinationBucket", dst_bucket, "destinationObjectName",
                   dst_key);
  if (body && replace && (nmd || (flags & OCI_COPY_MARK))) {
    meta = oci_meta_json(OCI_META_PREFIX, md, nmd);
    if ((flags & OCI_COPY_MARK) && meta &&
        json_object_set_new(meta, OCI_META_PREFIX OCI_SNAP_MARK,
                            json_string("1"))) {
      json_decref(meta);
      meta = NULL;
    }
    if (!meta ||
        json_object_set_new(body, "destinationObjectMetadata", meta)) {
      json_decref(body);
      body = NULL;
    }
  }
  if (body && guard &&
      json_object_set_new(body, "destinationObjectIfMatchETag",
                          json_string(p.e.etag))) {
    json_decref(body);
    body = NULL;
  }
  if (body && t->version &&
      json_object_set_new(body, "sourceVersionId", json_string(t->version))) {
    json_decref(body);
    body = NULL;
  }
  if (!body) {
    rc = oci_nomem(t, err);
    goto out;
  }
  rc = oci_exec(h, t, "POST", OCI_P_COPY, NULL, body, &resp, err);
  if (rc)
    goto out;
  wr = sdk_response_header(resp, "opc-work-request-id");
  if (!wr || !*wr) {
    rc = oci_fail(t, err, STORE_E_INTERNAL,
                  "CopyObject answered no opc-work-request-id");
    goto out;
  }
  rc = wait_work(h, t, wr, err);
out:
  oci_props_free(&p);
  sdk_response_free(head);
  json_decref(body);
  sdk_response_free(resp);
  return rc;
}

/* CopyObject of t (t->version: that version) to dst_bucket/dst_key and
 * waited for. With replace, the destination gets md (names without their
 * opc-meta- prefix) as its user metadata, and keeps the source's content
 * type (content_type: NULL, or that same type); without, it keeps the
 * source's metadata too. OCI_COPY_MARK (a snapshot: t's current version
 * onto itself) adds the mark and the ETag condition: PRECONDITION when
 * the key was written since. */
int32_t oci_copy(store_handle *h, const oci_target *t, const char *dst_bucket,
                 const char *dst_key, const char *content_type,
                 const store_kv *md, size_t nmd, uint32_t flags,
                 store_error *err)
{
  return copy_object(h, t, dst_bucket, dst_key, content_type, md, nmd,
                     flags, (flags & OCI_COPY_MARK) != 0, err);
}

int32_t oci_blob_copy(store_handle *h, const char *src_bucket,
                      const char *src_key, const char *dst_bucket,
                      const char *dst_key, const store_copy_opts *opts,
                      store_error *err)
{
  const char *ver = STORE_OPT(opts, store_copy_opts, src_snapshot_id, NULL);
  oci_target t = {"copy", src_bucket, src_key, ver};
  oci_target dt = {"copy to", dst_bucket, dst_key, NULL};
  uint32_t flags = (STORE_OPT(opts, store_copy_opts, flags, 0) &
                    STORE_COPY_REPLACE_METADATA)
                     ? OCI_COPY_REPLACE
                     : 0;
  int32_t rc;

  rc = oci_check_key(&t, err);
  if (!rc)
    rc = oci_check_key(&dt, err);
  if (!rc)
    rc = oci_copy(h, &t, dst_bucket, dst_key,
                  STORE_OPT(opts, store_copy_opts, content_type, NULL),
                  STORE_OPT(opts, store_copy_opts, metadata, NULL),
                  STORE_OPT(opts, store_copy_opts, nmetadata, 0), flags, err);
  return rc;
}

int32_t oci_blob_set_metadata(store_handle *h, const char *bucket,
                              const char *key, const store_kv *metadata,
                              size_t nmetadata, store_error *err)
{
  oci_target t = {"set metadata of", bucket, key, NULL};
  int32_t rc;

  rc = oci_check_key(&t, err);
  if (!rc)
    rc = copy_object(h, &t, bucket, key, NULL, metadata, nmetadata,
                     OCI_COPY_REPLACE, 1, err);
  if (rc == STORE_E_PRECONDITION)
    rc = oci_fail(&t, err, STORE_E_PRECONDITION,
                  "it was written while its metadata was being set: "
                  "nothing changed, the newer write stays");
  return rc;
}
