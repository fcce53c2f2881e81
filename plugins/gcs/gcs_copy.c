/*
** gcs_copy.c -- server-side copy with objects.rewrite: the service copies
** up to some amount per call and answers done=false with a rewriteToken
** until the whole object is across (large objects, other locations or
** storage classes); the loop sends the token back until done.
*/
#include <stdio.h>
#include <string.h>

#include "gcs.h"

/* How many rewrite calls one copy may take before the service is deemed
 * stuck (GCS moves at least 1 GiB per call in practice). */
#define REWRITE_MAX_CALLS 100000

int32_t gcs_rewrite(store_handle *h, const gcs_target *src,
                    const gcs_target *dst, const json_t *dest,
                    const char *dest_if_gen, json_t **out, store_error *err)
{
  sdk_buf base = SDK_BUF_INIT, url = SDK_BUF_INIT;
  json_t *empty = json_object(), *resp = NULL;
  char *token = NULL;
  int32_t rc = STORE_OK;

  *out = NULL;
  if (!empty)
    rc = gcs_nomem(dst, err);
  if (!rc)
    rc = gcs_url(h, src, GCS_API, &base, err);
  if (!rc && (sdk_buf_puts(&base, "/rewriteTo/b/") ||
              sdk_uri_encode(&base, dst->bucket, strlen(dst->bucket), 0) ||
              sdk_buf_puts(&base, "/o/") ||
              sdk_uri_encode(&base, dst->key, strlen(dst->key), 0)))
    rc = gcs_nomem(dst, err);
  if (!rc && src->generation)
    rc = gcs_query(dst, &base, "sourceGeneration", src->generation, err);
  if (!rc && dest_if_gen)
    rc = gcs_query(dst, &base, "ifGenerationMatch", dest_if_gen, err);
  for (int calls = 0; !rc; calls++) {
    json_t *res;
    sdk_buf_reset(&url);
    if (sdk_buf_puts(&url, base.data)) {
      rc = gcs_nomem(dst, err);
      break;
    }
    if (token)
      rc = gcs_query(dst, &url, "rewriteToken", token, err);
    if (!rc)
      rc = gcs_json(h, dst, "POST", url.data, dest ? dest : empty, &resp,
                    err);
    if (rc)
      break;
    if (json_is_true(json_object_get(resp, "done"))) {
      res = json_object_get(resp, "resource");
      if (!json_is_object(res)) {
        rc = gcs_fail(dst, err, STORE_E_INTERNAL, "the finished rewrite "
                      "has no resource");
        break;
      }
      *out = json_incref(res);
      break;
    }
    free(token);
    token = NULL;
    if (!sdk_json_str(resp, "rewriteToken") ||
        !(token = strdup(sdk_json_str(resp, "rewriteToken")))) {
      rc = gcs_fail(dst, err, STORE_E_INTERNAL, "an unfinished rewrite "
                    "without a rewriteToken (or out of memory)");
      break;
    }
    json_decref(resp);
    resp = NULL;
    if (calls >= REWRITE_MAX_CALLS || sdk_host_cancelled(h->host))
      rc = gcs_fail(dst, err, STORE_E_ABORTED, "the rewrite was stopped "
                    "after %d calls", calls + 1);
  }
  free(token);
  json_decref(resp);
  json_decref(empty);
  sdk_buf_free(&url);
  sdk_buf_free(&base);
  return rc;
}

/* out: the copy as the finished rewrite's resource says (as a put's
 * result: etag and version_id the generation, size, crc32c, md5Hash). */
int32_t gcs_blob_copy_checked(store_handle *h, const char *src_bucket,
                              const char *src_key, const char *dst_bucket,
                              const char *dst_key,
                              const store_copy_opts *opts,
                              store_put_result *out, store_error *err)
{
  gcs_target src = {"copy", src_bucket, src_key,
                    STORE_OPT(opts, store_copy_opts, src_snapshot_id, NULL)};
  gcs_target dst = {"copy to", dst_bucket, dst_key, NULL};
  uint32_t flags = STORE_OPT(opts, store_copy_opts, flags, 0);
  json_t *sres = NULL, *dest = NULL, *res = NULL;
  gcs_obj o, ro;
  int32_t rc;

  gcs_obj_init(&o);
  gcs_obj_init(&ro);
  rc = gcs_check_key(&src, err);
  if (!rc)
    rc = gcs_check_dest(&dst, err);
  /* The source's resource: its size and CRC-32C check the copy. */
  if (!rc)
    rc = gcs_obj_get(h, &src, &sres, &o, err);
  if (rc)
    goto out;
  if (flags & STORE_COPY_REPLACE_METADATA) {
    rc = gcs_meta_check(&dst, STORE_OPT(opts, store_copy_opts, metadata, NULL),
                        STORE_OPT(opts, store_copy_opts, nmetadata, 0), err);
    if (!rc)
      rc = gcs_resource_json(&dst, NULL,
                             STORE_OPT(opts, store_copy_opts, content_type,
                                     NULL),
                             STORE_OPT(opts, store_copy_opts, metadata, NULL),
                             STORE_OPT(opts, store_copy_opts, nmetadata, 0), 0,
                             0, NULL, &dest, err);
  } else {
    /* The source's type and metadata travel with it, except our snapshot
     * mark: a copy is not a snapshot. */
    if (o.snapshot_mark)
      rc = gcs_resource_json(&dst, NULL, o.e.content_type, o.md, o.nmd, 0, 0,
                             NULL, &dest, err);
  }
  /* Of the generation read, so that the check holds against a writer. */
  if (!rc && !src.generation)
    src.generation = o.generation;
  if (!rc)
    rc = gcs_rewrite(h, &src, &dst, dest, NULL, &res, err);
  if (!rc)
    rc = gcs_obj_read(&dst, res, &ro, err);
  if (!rc)
    rc = gcs_obj_check(&dst, &ro, o.e.size, (o.e.checksums &
                       STORE_CKSUM_CRC32C) ? o.e.crc32c : ro.e.crc32c,
                       "the source's", err);
  /* Checked above against the source: this only fills out. */
  if (!rc)
    rc = gcs_put_result(&dst, &ro, ro.e.size, ro.e.crc32c, out, err);
out:
  gcs_obj_free(&ro);
  gcs_obj_free(&o);
  json_decref(res);
  json_decref(dest);
  json_decref(sres);
  return rc;
}

int32_t gcs_blob_copy(store_handle *h, const char *src_bucket,
                      const char *src_key, const char *dst_bucket,
                      const char *dst_key, const store_copy_opts *opts,
                      store_error *err)
{
  return gcs_blob_copy_checked(h, src_bucket, src_key, dst_bucket, dst_key,
                               opts, NULL, err);
}
