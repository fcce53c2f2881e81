/*
** s3_copy.c -- server-side copies: CopyObject (metadata COPY or REPLACE,
** from a version when a snapshot is named), and blob_set_metadata, which
** S3 only offers as a copy of the object onto itself with REPLACE.
** CopyObject takes sources up to 5 GiB (larger ones would need
** UploadPartCopy, which s3rver lacks; not offered).
*/
#include <stdio.h>
#include <string.h>

#include "s3.h"
#include "sdk_util.h"

/* x-amz-copy-source: /bucket/key, URL-encoded, ?versionId= for a version. */
static int copy_source(sdk_buf *out, const char *bucket, const char *key,
                       const char *version)
{
  return sdk_buf_putc(out, '/') ||
                 sdk_uri_encode(out, bucket, strlen(bucket), 0) ||
                 sdk_buf_putc(out, '/') ||
                 sdk_uri_encode(out, key, strlen(key), 1) ||
                 (version && (sdk_buf_puts(out, "?versionId=") ||
                              sdk_uri_encode(out, version, strlen(version),
                                             0)))
             ? -1
             : 0;
}

/* The copy as CopyObject's answer says (out may be NULL): the ETag of its
 * CopyObjectResult (as HEAD reports it, quotes and all), the version id
 * header, and a full-object ChecksumCRC32C when there is one. The answer
 * carries no size: out->size is left as it is. */
static void copy_result(const sdk_response *resp, const sdk_xml_node *root,
                        store_put_result *out)
{
  const char *crc = root ? sdk_xml_child_text(root, "ChecksumCRC32C") : NULL;
  const char *type = root ? sdk_xml_child_text(root, "ChecksumType") : NULL;
  uint32_t v;

  if (!out)
    return;
  s3_result_ids(resp, root ? sdk_xml_child_text(root, "ETag") : NULL, out);
  if (STORE_HAS_FIELD(store_put_result, crc32c, out->struct_size) &&
      s3_full_crc32c(crc, type, &v) == 0) {
    out->checksums |= STORE_CKSUM_CRC32C;
    out->crc32c = v;
  }
}

/* CopyObject src -> dst. replace: the content type and metadata given
 * replace the source's. if_match: copy only while the source has this
 * etag. tagging: NULL keeps the source's tags, else the new tags
 * ("k=v&k2=v2", URL-encoded; "" for none). out (may be NULL): the copy as
 * the answer says (copy_result). */
static int32_t copy_object(store_handle *h, const char *op,
                           const char *sbucket, const char *skey,
                           const char *version, const char *dbucket,
                           const char *dkey, int replace, const char *ct,
                           const store_kv *md, size_t nmd,
                           const char *if_match, const char *tagging,
                           store_put_result *out, store_error *err)
{
  sdk_buf src = SDK_BUF_INIT;
  sdk_response *resp = NULL;
  sdk_xml_node *root = NULL;
  s3_call c;
  int32_t rc = s3_call_init(&c, h, op, "PUT", dbucket, dkey, err);

  if (rc)
    return rc;
  if (copy_source(&src, sbucket, skey, version)) {
    rc = s3_fail_msg(&c, err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
  rc = s3_call_header(&c, "x-amz-copy-source", src.data, err);
  if (!rc)
    rc = s3_call_header(&c, "x-amz-metadata-directive",
                        replace ? "REPLACE" : "COPY", err);
  if (!rc && replace)
    rc = s3_call_meta(&c, ct, md, nmd, err);
  if (!rc && if_match)
    rc = s3_call_header(&c, "x-amz-copy-source-if-match", if_match, err);
  if (!rc && tagging)
    rc = s3_call_header(&c, "x-amz-tagging-directive", "REPLACE", err);
  if (!rc && tagging && *tagging)
    rc = s3_call_header(&c, "x-amz-tagging", tagging, err);
  if (!rc)
    rc = s3_perform_ok(&c, &resp, err);
  /* 200 and still failed: the error is in the body */
  if (!rc)
    rc = s3_fail_xml(&c, resp, err, &root);
  if (!rc)
    copy_result(resp, root, out);
out:
  sdk_xml_free(root);
  sdk_response_free(resp);
  sdk_buf_free(&src);
  s3_call_free(&c);
  return rc;
}

int32_t s3_blob_copy_checked(store_handle *h, const char *src_container,
                             const char *src_key, const char *dst_container,
                             const char *dst_key,
                             const store_copy_opts *opts,
                             store_put_result *out, store_error *err)
{
  uint32_t flags = STORE_OPT(opts, store_copy_opts, flags, 0);
  const char *ct = STORE_OPT(opts, store_copy_opts, content_type, NULL);
  const store_kv *md = STORE_OPT(opts, store_copy_opts, metadata, NULL);
  size_t nmd = STORE_OPT(opts, store_copy_opts, nmetadata, 0);
  char op[600];
  int32_t rc = s3_check_names(src_container, src_key, err);

  if (!rc)
    rc = s3_check_names(dst_container, dst_key, err);
  if (!rc && (flags & STORE_COPY_REPLACE_METADATA))
    rc = s3_check_meta("CopyObject", ct, md, nmd, err);
  if (rc)
    return rc;
  /* The source is part of the operation's name, so a missing source reads
   * "s3: CopyObject from 'a/b' to 'c/d': NoSuchKey: ...". */
  snprintf(op, sizeof(op), "CopyObject from '%.200s/%.200s' to",
           src_container, src_key);
  return copy_object(h, op, src_container, src_key,
                     STORE_OPT(opts, store_copy_opts, src_snapshot_id, NULL),
                     dst_container, dst_key,
                     (flags & STORE_COPY_REPLACE_METADATA) != 0, ct, md, nmd,
                     NULL, NULL, out, err);
}

int32_t s3_blob_copy(store_handle *h, const char *src_container,
                     const char *src_key, const char *dst_container,
                     const char *dst_key, const store_copy_opts *opts,
                     store_error *err)
{
  return s3_blob_copy_checked(h, src_container, src_key, dst_container,
                              dst_key, opts, NULL, err);
}

int32_t s3_blob_set_metadata(store_handle *h, const char *container,
                             const char *key, const store_kv *metadata,
                             size_t nmetadata, store_error *err)
{
  sdk_response *resp = NULL;
  s3_props p;
  int32_t rc = s3_check_names(container, key, err);

  if (!rc)
    rc = s3_check_meta("set metadata", NULL, metadata, nmetadata, err);
  if (!rc)
    rc = s3_head_object(h, container, key, NULL, NULL, 0, &p, &resp, err);
  if (rc)
    return rc;
  /* Keep the content type; copy only the object we looked at (a writer
   * in between makes this PRECONDITION, not a lost update). */
  rc = copy_object(h, "CopyObject (replace metadata)", container, key, NULL,
                   container, key, 1, p.e.content_type, metadata, nmetadata,
                   p.e.etag, NULL, NULL, err);
  s3_props_free(&p);
  sdk_response_free(resp);
  return rc;
}

/* A version of the object copied onto the object itself: a new current
 * version with the same bytes, content type and metadata (COPY), tagged
 * with `tagging` (see copy_object). S3 takes a copy onto itself without
 * changes only from a named version of a versioned bucket. */
int32_t s3_copy_version_onto_itself(store_handle *h, const char *bucket,
                                    const char *key, const char *version,
                                    const char *tagging, store_error *err)
{
  return copy_object(h, "CopyObject (keep the current version)", bucket,
                     key, version, bucket, key, 0, NULL, NULL, 0, NULL,
                     tagging, NULL, err);
}
