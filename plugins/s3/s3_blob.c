/*
** s3_blob.c -- PutObject (streamed with its length; from memory for
** the small unknown-length case), GetObject (ranges, on_entry before the
** first byte), HeadObject, DeleteObject.
**
** S3 deletes are idempotent (204 for a missing key), but the ABI promises
** NOT_FOUND for an absent blob: delete first asks HeadObject. The answer
** can be stale by the time the DELETE lands (another client); the object
** is gone either way.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3.h"
#include "sdk_error.h"

/* The headers every object write shares: type, metadata, conditions. */
static int32_t put_headers(s3_call *c, const store_put_opts *opts,
                           store_error *err)
{
  uint32_t flags = STORE_OPT(opts, store_put_opts, flags, 0);
  const char *if_match = STORE_OPT(opts, store_put_opts, if_match, NULL);
  int32_t rc = s3_call_meta(c, STORE_OPT(opts, store_put_opts, content_type,
                                      NULL),
                            STORE_OPT(opts, store_put_opts, metadata, NULL),
                            STORE_OPT(opts, store_put_opts, nmetadata, 0), err);

  if (!rc && (flags & STORE_PUT_IF_NONE_MATCH))
    rc = s3_call_header(c, "If-None-Match", "*", err);
  if (!rc && if_match)
    rc = s3_call_header(c, "If-Match", if_match, err);
  return rc;
}

/* A refused conditional write: If-None-Match means "exists". */
static int32_t put_failed(const s3_call *c, const store_put_opts *opts,
                          const sdk_response *resp, store_error *err)
{
  int32_t rc = s3_fail(c, resp, err);

  if (rc == STORE_E_PRECONDITION &&
      (STORE_OPT(opts, store_put_opts, flags, 0) & STORE_PUT_IF_NONE_MATCH) &&
      !STORE_OPT(opts, store_put_opts, if_match, NULL)) {
    char name[512];
    rc = s3_fail_msg(c, err, STORE_E_EXISTS, "'%s' already exists "
                     "(If-None-Match: *)", s3_object_name(c, name,
                                                          sizeof(name)));
    if (err)
      err->flags &= ~STORE_ERR_RETRYABLE;
  }
  return rc;
}

void s3_result_ids(const sdk_response *resp, const char *etag,
                   store_put_result *out)
{
  const char *vid = sdk_response_header(resp, "x-amz-version-id");

  if (!out)
    return;
  if (STORE_HAS_FIELD(store_put_result, etag, out->struct_size))
    snprintf(out->etag, sizeof(out->etag), "%s", etag ? etag : "");
  if (STORE_HAS_FIELD(store_put_result, version_id, out->struct_size))
    snprintf(out->version_id, sizeof(out->version_id), "%s",
             s3_version_is_real(vid) ? vid : "");
}

static void put_result(const sdk_response *resp, uint64_t size,
                       store_put_result *out)
{
  if (!out)
    return;
  if (STORE_HAS_FIELD(store_put_result, size, out->struct_size))
    out->size = size;
  s3_result_ids(resp, sdk_response_header(resp, "ETag"), out);
  s3_result_checksums(resp, 1, out);
}

/* PutObject with the body from memory or streamed (len bytes). */
static int32_t put_object(store_handle *h, const char *bucket,
                          const char *key, const store_put_opts *opts,
                          const void *data, store_read_fn src, void *src_ctx,
                          uint64_t len, store_put_result *out,
                          store_error *err)
{
  sdk_response *resp = NULL;
  s3_call c;
  int32_t rc = s3_call_init(&c, h, "PutObject", "PUT", bucket, key, err);

  if (rc)
    goto out;
  if (src)
    s3_call_body_stream(&c, src, src_ctx, (int64_t)len);
  else
    s3_call_body_mem(&c, data, (size_t)len);
  rc = put_headers(&c, opts, err);
  if (!rc)
    rc = s3_call_checksums(&c, opts, err);
  if (!rc)
    rc = s3_perform(&c, &resp, err);
  if (rc)
    goto out;
  if (!s3_is_2xx(resp))
    rc = put_failed(&c, opts, resp, err);
  else
    rc = s3_body_verify(&c, resp, err);
  if (!rc)
    put_result(resp, len, out);
out:
  sdk_response_free(resp);
  s3_call_free(&c);
  return rc;
}

int32_t s3_put_mem(store_handle *h, const char *bucket, const char *key,
                   const store_put_opts *opts, const void *data, size_t len,
                   store_put_result *out, store_error *err)
{
  return put_object(h, bucket, key, opts, data, NULL, NULL, len, out, err);
}

int32_t s3_blob_put(store_handle *h, const char *container, const char *key,
                    const store_put_opts *opts, store_read_fn src,
                    void *src_ctx, store_put_result *out, store_error *err)
{
  int64_t len = STORE_OPT(opts, store_put_opts, content_length, -1);
  int32_t rc = s3_check_names(container, key, err);

  if (!rc)
    rc = s3_check_meta("PutObject", STORE_OPT(opts, store_put_opts, content_type,
                                           NULL),
                       STORE_OPT(opts, store_put_opts, metadata, NULL),
                       STORE_OPT(opts, store_put_opts, nmetadata, 0), err);
  if (rc)
    return rc;
  if (!src)
    return store_error_set(err, STORE_E_INVALID, "s3: PutObject '%s/%s': no "
                           "read callback", container, key);
  /* One PutObject takes at most 5 GiB; beyond, and without a length,
   * the object goes up in parts. */
  if (len < 0 || (uint64_t)len > S3_MAX_PUT)
    return s3_put_unknown(h, container, key, opts, src, src_ctx, out, err);
  return put_object(h, container, key, opts, NULL, src, src_ctx,
                    (uint64_t)len, out, err);
}

/* ---- get ---------------------------------------------------------------- */

/* A GET delivers exactly bytes [off, off + len) (len 0: to the end) of
 * the object, whatever the server sent: a server that ignores Range (200
 * with the whole object) or widens it (s3rver answers "bytes=0-0" with
 * the whole object as a 206) has the surplus dropped by the SDK's range
 * sink, and the transfer stopped once the range is complete. */
typedef struct get_ctx {
  const char *key;
  const store_get_opts *opts;
  sdk_range range;              /* the range asked for, and the sink      */
  int32_t refused;              /* why on_headers stopped the transfer    */
  char why[160];
} get_ctx;

/* The final 2xx headers: where the body starts, and the object's
 * properties for on_entry, before the first body byte. */
static int32_t get_headers(void *ud, const sdk_response *resp)
{
  get_ctx *g = ud;
  store_entry_fn on_entry = STORE_OPT(g->opts, store_get_opts, on_entry, NULL);
  s3_props p;
  int32_t rc = 0;

  if (sdk_range_start(&g->range, resp)) {
    g->refused = STORE_E_INTERNAL;
    snprintf(g->why, sizeof(g->why), "the server answered the range from "
             "%" PRIu64 " with Content-Range '%.64s'", g->range.off,
             sdk_response_header(resp, "Content-Range")
               ? sdk_response_header(resp, "Content-Range")
               : "(none)");
    return 1;
  }
  if (!on_entry)
    return 0;
  if (s3_props_from_headers(resp, g->key, &p, NULL)) {
    g->refused = STORE_E_NOMEM;
    snprintf(g->why, sizeof(g->why), "out of memory");
    return 1;
  }
  if (STORE_OPT(g->opts, store_get_opts, snapshot_id, NULL)) {
    p.e.flags |= STORE_ENTRY_SNAPSHOT;
    p.e.snapshot_id = g->opts->snapshot_id;
  }
  rc = on_entry(STORE_OPT(g->opts, store_get_opts, on_entry_ctx, NULL), &p.e);
  s3_props_free(&p);
  if (rc) {
    g->refused = STORE_E_ABORTED;
    snprintf(g->why, sizeof(g->why), "stopped by on_entry");
  }
  return rc;
}

int32_t s3_blob_get(store_handle *h, const char *container, const char *key,
                    const store_get_opts *opts, store_write_fn sink,
                    void *sink_ctx, store_error *err)
{
  const char *snap = STORE_OPT(opts, store_get_opts, snapshot_id, NULL);
  const char *if_match = STORE_OPT(opts, store_get_opts, if_match, NULL);
  int ranged = (STORE_OPT(opts, store_get_opts, flags, 0) & STORE_GET_RANGE) != 0;
  get_ctx g;
  sdk_response *resp = NULL;
  char range[SDK_RANGE_HEADER_SIZE];
  s3_call c;
  int32_t rc = s3_check_names(container, key, err);

  memset(&c, 0, sizeof(c));
  if (rc)
    return rc;
  if (!sink)
    return store_error_set(err, STORE_E_INVALID, "s3: GetObject '%s/%s': no "
                           "write callback", container, key);
  memset(&g, 0, sizeof(g));
  g.key = key;
  g.opts = opts;
  sdk_range_init(&g.range,
                 ranged ? STORE_OPT(opts, store_get_opts, offset, 0) : 0,
                 ranged ? STORE_OPT(opts, store_get_opts, length, 0) : 0, sink,
                 sink_ctx);
  rc = s3_call_init(&c, h, "GetObject", "GET", container, key, err);
  if (!rc && snap)
    rc = s3_call_query(&c, "versionId", snap, err);
  /* bytes=0- is the whole object: sent without a Range, it also works on
   * an empty object (where any Range is unsatisfiable). */
  if (!rc && (g.range.off || g.range.len)) {
    sdk_range_header(g.range.off, g.range.len, range, sizeof(range));
    rc = s3_call_header(&c, "Range", range, err);
  }
  if (!rc && if_match)
    rc = s3_call_header(&c, "If-Match", if_match, err);
  if (!rc)
    rc = s3_call_checksum_mode(&c, err);
  if (rc)
    goto out;
  sdk_request_on_headers(c.req, get_headers, &g);
  sdk_request_sink(c.req, sdk_range_write, &g.range);
  rc = s3_perform(&c, &resp, err);
  if (rc && g.range.done)
    rc = STORE_OK;
  else if (rc && g.refused)
    rc = s3_fail_msg(&c, err, g.refused, "%s", g.why);
  else if (!rc && !s3_is_2xx(resp))
    rc = s3_fail(&c, resp, err);
out:
  sdk_response_free(resp);
  s3_call_free(&c);
  return rc;
}

/* ---- head --------------------------------------------------------------- */

/* HeadObject (of a version when given). On success *resp holds the
 * response p borrows its strings from: free p, then *resp. The checksum
 * mode only when the CRC is wanted: on AWS it makes a HEAD of an SSE-KMS
 * object need kms:Decrypt. */
int32_t s3_head_object(store_handle *h, const char *bucket, const char *key,
                       const char *version, const char *if_match,
                       int with_crc, s3_props *p, sdk_response **resp,
                       store_error *err)
{
  s3_call c;
  int32_t rc = s3_call_init(&c, h, "HeadObject", "HEAD", bucket, key, err);

  *resp = NULL;
  memset(p, 0, sizeof(*p));
  if (!rc && version)
    rc = s3_call_query(&c, "versionId", version, err);
  if (!rc && if_match)
    rc = s3_call_header(&c, "If-Match", if_match, err);
  if (!rc && with_crc)
    rc = s3_call_checksum_mode(&c, err);
  if (!rc)
    rc = s3_perform_ok(&c, resp, err);
  /* A bad version id is a 400 on AWS: no such snapshot, to the caller. */
  if (rc == STORE_E_INVALID && version)
    rc = s3_fail_msg(&c, err, STORE_E_NOT_FOUND, "no version '%s'", version);
  if (!rc)
    rc = s3_props_from_headers(*resp, key, p, err);
  if (rc) {
    sdk_response_free(*resp);
    *resp = NULL;
  }
  s3_call_free(&c);
  return rc;
}

int32_t s3_blob_head(store_handle *h, const char *container, const char *key,
                     const store_head_opts *opts, store_entry_fn cb,
                     void *cb_ctx, store_error *err)
{
  const char *snap = STORE_OPT(opts, store_head_opts, snapshot_id, NULL);
  sdk_response *resp = NULL;
  s3_props p;
  int32_t rc = s3_check_names(container, key, err);

  if (rc)
    return rc;
  rc = s3_head_object(h, container, key, snap, NULL, 1, &p, &resp, err);
  if (rc)
    return rc;
  if (snap) {
    p.e.flags |= STORE_ENTRY_SNAPSHOT;
    p.e.snapshot_id = snap;
  }
  if (cb && cb(cb_ctx, &p.e))
    rc = store_error_set(err, STORE_E_ABORTED, "s3: HeadObject '%s/%s': "
                         "stopped by the callback", container, key);
  s3_props_free(&p);
  sdk_response_free(resp);
  return rc;
}

/* ---- delete ------------------------------------------------------------- */

/* DeleteObject of the key, or of one version of it (permanent); with
 * if_match, only while the current object has that ETag (AWS: 412 else,
 * since 2025 in general purpose buckets too). */
int32_t s3_delete_object(store_handle *h, const char *bucket, const char *key,
                         const char *version, const char *if_match,
                         store_error *err)
{
  sdk_response *resp = NULL;
  s3_call c;
  int32_t rc = s3_call_init(&c, h, "DeleteObject", "DELETE", bucket, key,
                            err);

  if (!rc && version)
    rc = s3_call_query(&c, "versionId", version, err);
  if (!rc && if_match)
    rc = s3_call_header(&c, "If-Match", if_match, err);
  if (!rc)
    rc = s3_perform_ok(&c, &resp, err);
  sdk_response_free(resp);
  s3_call_free(&c);
  return rc;
}

/* Whether the ETag is a multipart one: its value ends in "-N". */
static int etag_is_multipart(const char *etag)
{
  size_t n = strlen(etag), digits = 0;

  if (n && etag[n - 1] == '"')
    n--;
  while (n && etag[n - 1] >= '0' && etag[n - 1] <= '9') {
    n--;
    digits++;
  }
  return digits && n && etag[n - 1] == '-';
}

/* DeleteObject with If-Match of an ETag the HEAD just matched. Swift's
 * s3api refuses If-Match on DELETE (412) for a multipart ("-N") ETag that
 * its HEAD matches: for such an ETag only, a 412 that a second conditional
 * HEAD contradicts is taken as the server's, and the delete follows that
 * HEAD unconditionally -- a window of one round trip in which another
 * writer's object is deleted (README). Any other 412 is a change. */
static int32_t delete_if_match(store_handle *h, const char *bucket,
                               const char *key, const char *if_match,
                               store_error *err)
{
  sdk_response *resp = NULL;
  store_error probe;
  s3_props p;
  int32_t rc = s3_delete_object(h, bucket, key, NULL, if_match, err);

  if (rc != STORE_E_PRECONDITION || !etag_is_multipart(if_match))
    return rc;
  s3_err_init(&probe);
  if (s3_head_object(h, bucket, key, NULL, if_match, 0, &p, &resp, &probe))
    return rc;
  s3_props_free(&p);
  sdk_response_free(resp);
  s3_log(h, STORE_LOG_DEBUG, "s3 '%s': DeleteObject '%s/%s': 412 for "
         "multipart If-Match %s, which a HEAD matches: deleted without it",
         h->cfg.name, bucket, key, if_match);
  sdk_error_clear(err);
  return s3_delete_object(h, bucket, key, NULL, NULL, err);
}

int32_t s3_blob_delete(store_handle *h, const char *container,
                       const char *key, const store_delete_opts *opts,
                       store_error *err)
{
  const char *snap = STORE_OPT(opts, store_delete_opts, snapshot_id, NULL);
  const char *if_match = STORE_OPT(opts, store_delete_opts, if_match, NULL);
  uint32_t flags = STORE_OPT(opts, store_delete_opts, flags, 0);
  sdk_response *resp = NULL;
  char *version = NULL;
  s3_props p;
  int32_t rc = s3_check_names(container, key, err);

  if (rc)
    return rc;
  /* With if_match the HEAD is conditional too: a server that ignores
   * If-Match on DELETE (see README) still refuses a changed object here,
   * one request before the delete. */
  rc = s3_head_object(h, container, key, snap, snap ? NULL : if_match, 0, &p,
                      &resp, err);
  if (rc)
    return rc;
  if (s3_version_is_real(p.version_id) && !(version = strdup(p.version_id)))
    rc = store_error_set(err, STORE_E_NOMEM, "s3: DeleteObject '%s/%s': out "
                         "of memory", container, key);
  s3_props_free(&p);
  sdk_response_free(resp);
  if (rc)
    return rc;
  if (snap)
    rc = s3_delete_snapshot(h, container, key, snap, err);
  /* In a versioned bucket a plain DELETE only hides the object behind a
   * delete marker and keeps it as a snapshot: delete versions instead
   * (with if_match, only while the version headed is still the latest:
   * deleting versions by id never touches a newer one). */
  else if (version)
    rc = s3_delete_versioned(h, container, key, flags,
                             if_match ? version : NULL, err);
  else if (if_match)
    rc = delete_if_match(h, container, key, if_match, err);
  else
    rc = s3_delete_object(h, container, key, NULL, NULL, err);
  free(version);
  return rc;
}
