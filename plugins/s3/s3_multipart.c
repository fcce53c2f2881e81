/*
** s3_multipart.c -- the ABI's multipart operations over S3's multipart
** upload: CreateMultipartUpload (type and metadata given at begin),
** UploadPart (token = the part's ETag), CompleteMultipartUpload,
** AbortMultipartUpload. Conditions (If-None-Match, If-Match) belong to the
** completion in S3, which the ABI's complete cannot carry: a begin that
** asks for one is refused, not silently unconditional.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3.h"

int32_t s3_multipart_begin(store_handle *h, const char *container,
                           const char *key, const store_put_opts *opts,
                           char *out_id, size_t cap, store_error *err)
{
  sdk_response *resp = NULL;
  sdk_xml_node *root = NULL;
  const char *id;
  s3_call c;
  int32_t rc = s3_check_names(container, key, err);

  if (!rc)
    rc = s3_check_meta("CreateMultipartUpload",
                       S3_OPT(opts, store_put_opts, content_type, NULL),
                       S3_OPT(opts, store_put_opts, metadata, NULL),
                       S3_OPT(opts, store_put_opts, nmetadata, 0), err);
  if (rc)
    return rc;
  rc = s3_call_init(&c, h, "CreateMultipartUpload", "POST", container, key,
                    err);
  if (rc)
    return rc;
  rc = s3_call_query(&c, "uploads", NULL, err);
  if (!rc)
    rc = s3_call_meta(&c, S3_OPT(opts, store_put_opts, content_type, NULL),
                      S3_OPT(opts, store_put_opts, metadata, NULL),
                      S3_OPT(opts, store_put_opts, nmetadata, 0), err);
  if (!rc)
    rc = s3_perform_ok(&c, &resp, err);
  if (!rc)
    rc = s3_fail_xml(&c, resp, err, &root);
  if (rc)
    goto out;
  id = sdk_xml_child_text(root, "UploadId");
  if (!id || !*id)
    rc = s3_fail_msg(&c, err, STORE_E_INTERNAL, "no UploadId in the reply");
  else if (strlen(id) >= cap)
    rc = s3_fail_msg(&c, err, STORE_E_INTERNAL, "upload id of %zu bytes "
                     "does not fit the %zu-byte buffer", strlen(id), cap);
  else
    memcpy(out_id, id, strlen(id) + 1);
out:
  sdk_xml_free(root);
  sdk_response_free(resp);
  s3_call_free(&c);
  return rc;
}

int32_t s3_multipart_part(store_handle *h, const char *container,
                          const char *key, const char *upload_id,
                          uint32_t part_no, uint64_t length,
                          store_read_fn src, void *src_ctx, char *out_token,
                          size_t cap, store_error *err)
{
  sdk_response *resp = NULL;
  char num[16];
  const char *etag;
  s3_call c;
  int32_t rc = s3_check_names(container, key, err);

  if (rc)
    return rc;
  if (part_no < 1 || part_no > S3_MAX_PARTS || length > S3_MAX_PUT || !src)
    return store_error_set(err, STORE_E_INVALID, "s3: UploadPart '%s/%s': "
                           "part %" PRIu32 " of %" PRIu64 " bytes (S3 takes "
                           "parts 1..10000 of at most 5 GiB)%s", container,
                           key, part_no, length, src ? "" : ", no source");
  snprintf(num, sizeof(num), "%" PRIu32, part_no);
  rc = s3_call_init(&c, h, "UploadPart", "PUT", container, key, err);
  if (rc)
    return rc;
  rc = s3_call_query(&c, "partNumber", num, err);
  if (!rc)
    rc = s3_call_query(&c, "uploadId", upload_id, err);
  if (rc)
    goto out;
  s3_call_body_stream(&c, src, src_ctx, (int64_t)length);
  rc = s3_perform_ok(&c, &resp, err);
  if (rc)
    goto out;
  etag = sdk_response_header(resp, "ETag");
  if (!etag || !*etag)
    rc = s3_fail_msg(&c, err, STORE_E_INTERNAL, "no ETag for part %" PRIu32,
                     part_no);
  else if (strlen(etag) >= cap)
    rc = s3_fail_msg(&c, err, STORE_E_INTERNAL, "part ETag too long");
  else
    memcpy(out_token, etag, strlen(etag) + 1);
out:
  sdk_response_free(resp);
  s3_call_free(&c);
  return rc;
}

/* CompleteMultipartUpload with optional conditions (opts: flags and
 * if_match of blob_put). *etag_out gets the object's ETag (into cap). */
int32_t s3_multipart_finish(store_handle *h, const char *bucket,
                            const char *key, const char *upload_id,
                            const char *const *tokens, uint32_t nparts,
                            const store_put_opts *opts, store_put_result *out,
                            store_error *err)
{
  sdk_buf body = SDK_BUF_INIT;
  sdk_response *resp = NULL;
  sdk_xml_node *root = NULL;
  const char *etag;
  s3_call c;
  int32_t rc = s3_call_init(&c, h, "CompleteMultipartUpload", "POST", bucket,
                            key, err);

  if (rc)
    return rc;
  rc = s3_call_query(&c, "uploadId", upload_id, err);
  if (rc)
    goto out;
  if (sdk_buf_puts(&body, "<CompleteMultipartUpload xmlns=\"http://s3."
                          "amazonaws.com/doc/2006-03-01/\">"))
    goto nomem;
  for (uint32_t i = 0; i < nparts; i++)
    if (sdk_buf_printf(&body, "<Part><PartNumber>%" PRIu32 "</PartNumber>"
                       "<ETag>", i + 1) ||
        sdk_xml_escape(&body, tokens[i] ? tokens[i] : "") ||
        sdk_buf_puts(&body, "</ETag></Part>"))
      goto nomem;
  if (sdk_buf_puts(&body, "</CompleteMultipartUpload>"))
    goto nomem;
  s3_call_body_mem(&c, body.data, body.len);
  rc = s3_call_header(&c, "Content-Type", "application/xml", err);
  if (!rc && (S3_OPT(opts, store_put_opts, flags, 0) & STORE_PUT_IF_NONE_MATCH))
    rc = s3_call_header(&c, "If-None-Match", "*", err);
  if (!rc && S3_OPT(opts, store_put_opts, if_match, NULL))
    rc = s3_call_header(&c, "If-Match", opts->if_match, err);
  if (!rc)
    rc = s3_perform_ok(&c, &resp, err);
  if (rc == STORE_E_PRECONDITION &&
      (S3_OPT(opts, store_put_opts, flags, 0) & STORE_PUT_IF_NONE_MATCH))
    rc = s3_fail_msg(&c, err, STORE_E_EXISTS, "'%s/%s' already exists "
                     "(If-None-Match: *)", bucket, key);
  /* 200 can still carry an <Error> (S3 fails late while assembling) */
  if (!rc)
    rc = s3_fail_xml(&c, resp, err, &root);
  if (rc)
    goto out;
  etag = sdk_xml_child_text(root, "ETag");
  if (out && STORE_HAS_FIELD(store_put_result, etag, out->struct_size))
    snprintf(out->etag, sizeof(out->etag), "%s", etag ? etag : "");
  if (out && STORE_HAS_FIELD(store_put_result, version_id, out->struct_size)) {
    const char *vid = sdk_response_header(resp, "x-amz-version-id");
    snprintf(out->version_id, sizeof(out->version_id), "%s",
             s3_version_is_real(vid) ? vid : "");
  }
  goto out;
nomem:
  rc = s3_fail_msg(&c, err, STORE_E_NOMEM, "out of memory");
out:
  sdk_xml_free(root);
  sdk_response_free(resp);
  sdk_buf_free(&body);
  s3_call_free(&c);
  return rc;
}

int32_t s3_multipart_complete(store_handle *h, const char *container,
                              const char *key, const char *upload_id,
                              const store_put_opts *opts,
                              const char *const *tokens, uint32_t nparts,
                              store_put_result *out, store_error *err)
{
  sdk_response *resp = NULL;
  store_error probe;
  s3_props p;
  int32_t rc = s3_check_names(container, key, err);

  if (rc)
    return rc;
  if (nparts < 1 || nparts > S3_MAX_PARTS || !tokens)
    return store_error_set(err, STORE_E_INVALID, "s3: "
                           "CompleteMultipartUpload '%s/%s': %" PRIu32
                           " parts (1..10000 allowed)", container, key,
                           nparts);
  /* S3 checks conditions when the upload completes: begin's opts again. */
  rc = s3_multipart_finish(h, container, key, upload_id, tokens, nparts, opts,
                           out, err);
  if (rc || !out || !STORE_HAS_FIELD(store_put_result, size, out->struct_size))
    return rc;
  /* The reply has no size and the parts' sizes stayed with the host: ask.
   * The object is committed whatever the HEAD says: a failed HEAD leaves
   * the size unknown (0, which the host fills in from the parts it sent),
   * never a failure of the upload. */
  s3_err_init(&probe);
  if (s3_head_object(h, container, key, NULL, &p, &resp, &probe)) {
    out->size = 0;
    s3_log(h, STORE_LOG_WARN, "s3 '%s': CompleteMultipartUpload '%s/%s' "
           "succeeded, but its size could not be read back: %s",
           h->cfg.name, container, key, probe.message);
    return STORE_OK;
  }
  out->size = p.e.size;
  s3_props_free(&p);
  sdk_response_free(resp);
  return STORE_OK;
}

int32_t s3_multipart_abort(store_handle *h, const char *container,
                           const char *key, const char *upload_id,
                           store_error *err)
{
  sdk_response *resp = NULL;
  s3_call c;
  int32_t rc = s3_check_names(container, key, err);

  if (rc)
    return rc;
  rc = s3_call_init(&c, h, "AbortMultipartUpload", "DELETE", container, key,
                    err);
  if (!rc)
    rc = s3_call_query(&c, "uploadId", upload_id, err);
  if (!rc)
    rc = s3_perform_ok(&c, &resp, err);
  sdk_response_free(resp);
  s3_call_free(&c);
  return rc;
}
