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
                       STORE_OPT(opts, store_put_opts, content_type, NULL),
                       STORE_OPT(opts, store_put_opts, metadata, NULL),
                       STORE_OPT(opts, store_put_opts, nmetadata, 0), err);
  if (rc)
    return rc;
  rc = s3_call_init(&c, h, "CreateMultipartUpload", "POST", container, key,
                    err);
  if (rc)
    return rc;
  rc = s3_call_query(&c, "uploads", NULL, err);
  if (!rc)
    rc = s3_call_meta(&c, STORE_OPT(opts, store_put_opts, content_type, NULL),
                      STORE_OPT(opts, store_put_opts, metadata, NULL),
                      STORE_OPT(opts, store_put_opts, nmetadata, 0), err);
  /* Always declared (begin's opts cannot tell: the host knows the whole
   * CRC only at complete): AWS refuses a part with x-amz-checksum-crc32c
   * of an upload begun without it ("Checksum Type mismatch"). S3 then
   * keeps one CRC-32C of the whole object (FULL_OBJECT, not a checksum of
   * the parts' checksums), checked against complete's when it has one. */
  if (!rc && !atomic_load(&h->cksum_off)) {
    rc = s3_call_header(&c, "x-amz-checksum-algorithm", "CRC32C", err);
    if (!rc)
      rc = s3_call_header(&c, "x-amz-checksum-type", "FULL_OBJECT", err);
    c.cksum_sent = !rc;
  }
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

/* UploadPart; the token is the part's ETag, with the part's CRC-32C
 * (as the server reports it, else as sent) for the completion's XML. */
int32_t s3_multipart_part_checked(store_handle *h, const char *container,
                                  const char *key, const char *upload_id,
                                  uint32_t part_no, uint64_t length,
                                  const store_put_opts *opts,
                                  store_read_fn src, void *src_ctx,
                                  char *out_token, size_t cap,
                                  store_put_result *out, store_error *err)
{
  sdk_response *resp = NULL;
  store_put_result got;
  char num[16];
  const char *etag;
  s3_call c;
  int has_crc;
  uint32_t crc;
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
  rc = s3_call_checksums(&c, opts, err);
  if (!rc)
    rc = s3_perform_ok(&c, &resp, err);
  if (rc)
    goto out;
  memset(&got, 0, sizeof(got));
  got.struct_size = sizeof(got);
  s3_result_checksums(resp, 1, &got);
  has_crc = (got.checksums & STORE_CKSUM_CRC32C) != 0;
  crc = got.crc32c;
  if (!has_crc && c.cksum_sent &&
      (STORE_OPT(opts, store_put_opts, checksums, 0) & STORE_CKSUM_CRC32C)) {
    has_crc = 1;
    crc = opts->crc32c;
  }
  etag = sdk_response_header(resp, "ETag");
  if (!etag || !*etag)
    rc = s3_fail_msg(&c, err, STORE_E_INTERNAL, "no ETag for part %" PRIu32,
                     part_no);
  else if (s3_token_make(etag, has_crc, crc, out_token, cap))
    rc = s3_fail_msg(&c, err, STORE_E_INTERNAL, "part token too long");
  if (rc)
    goto out;
  if (out && STORE_HAS_FIELD(store_put_result, size, out->struct_size))
    out->size = length;
  if (out && STORE_HAS_FIELD(store_put_result, etag, out->struct_size))
    snprintf(out->etag, sizeof(out->etag), "%s", etag);
  if (out && STORE_HAS_FIELD(store_put_result, md5, out->struct_size)) {
    out->checksums = got.checksums;
    out->crc32c = got.crc32c;
    memcpy(out->md5, got.md5, sizeof(out->md5));
  }
out:
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
  return s3_multipart_part_checked(h, container, key, upload_id, part_no,
                                   length, NULL, src, src_ctx, out_token, cap,
                                   NULL, err);
}

/* The assembled object's CRC-32C, from the reply's header or its XML
 * (ChecksumCRC32C), when it is a full-object one. No MD5: a multipart
 * ETag is none. */
static void complete_crc(const sdk_response *resp, const sdk_xml_node *root,
                         store_put_result *out)
{
  const char *v = sdk_xml_child_text(root, "ChecksumCRC32C");
  const char *type = sdk_xml_child_text(root, "ChecksumType");
  uint32_t crc;

  if (!out || !STORE_HAS_FIELD(store_put_result, md5, out->struct_size))
    return;
  s3_result_checksums(resp, 0, out);
  if ((out->checksums & STORE_CKSUM_CRC32C) ||
      s3_full_crc32c(v, type, &crc))
    return;
  out->checksums |= STORE_CKSUM_CRC32C;
  out->crc32c = crc;
}

/* The completion's XML: each part's ETag and, with_crc, its CRC-32C
 * when its token has one. 0 or -1. */
static int complete_xml(sdk_buf *body, const char *const *tokens,
                        uint32_t nparts, int with_crc)
{
  if (sdk_buf_puts(body, "<CompleteMultipartUpload xmlns=\"http://s3."
                         "amazonaws.com/doc/2006-03-01/\">"))
    return -1;
  for (uint32_t i = 0; i < nparts; i++) {
    const char *t = tokens[i] ? tokens[i] : "", *crc;
    size_t n = s3_token_split(t, &crc);
    char etag[STORE_ID_SIZE];
    snprintf(etag, sizeof(etag), "%.*s", (int)n, t);
    if (sdk_buf_printf(body, "<Part><PartNumber>%" PRIu32 "</PartNumber>"
                       "<ETag>", i + 1) ||
        sdk_xml_escape(body, etag) || sdk_buf_puts(body, "</ETag>") ||
        (crc && with_crc &&
         sdk_buf_printf(body, "<ChecksumCRC32C>%s</ChecksumCRC32C>", crc)) ||
        sdk_buf_puts(body, "</Part>"))
      return -1;
  }
  return sdk_buf_puts(body, "</CompleteMultipartUpload>");
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
  s3_call c;
  int32_t rc = s3_call_init(&c, h, "CompleteMultipartUpload", "POST", bucket,
                            key, err);

  if (rc)
    return rc;
  rc = s3_call_query(&c, "uploadId", upload_id, err);
  if (rc)
    goto out;
  if (complete_xml(&body, tokens, nparts, !atomic_load(&h->cksum_off)))
    goto nomem;
  s3_call_body_mem(&c, body.data, body.len);
  rc = s3_call_header(&c, "Content-Type", "application/xml", err);
  if (!rc && (STORE_OPT(opts, store_put_opts, flags, 0) & STORE_PUT_IF_NONE_MATCH))
    rc = s3_call_header(&c, "If-None-Match", "*", err);
  if (!rc && STORE_OPT(opts, store_put_opts, if_match, NULL))
    rc = s3_call_header(&c, "If-Match", opts->if_match, err);
  /* The whole object's CRC, for the server to check what it assembled. */
  if (!rc && (STORE_OPT(opts, store_put_opts, checksums, 0) &
              STORE_CKSUM_CRC32C) && !atomic_load(&h->cksum_off)) {
    rc = s3_call_crc32c(&c, opts->crc32c, err);
    if (!rc)
      rc = s3_call_header(&c, "x-amz-checksum-type", "FULL_OBJECT", err);
  }
  if (!rc)
    rc = s3_perform(&c, &resp, err);
  /* A server that knows no part checksums may refuse their XML: once more
   * without them (the body is ours, in memory). */
  if (!rc && !s3_is_2xx(resp) && strstr(body.data, "<ChecksumCRC32C>") &&
      s3_cksum_xml_refused(&c, resp)) {
    sdk_response_free(resp);
    resp = NULL;
    sdk_buf_free(&body);
    if (complete_xml(&body, tokens, nparts, 0))
      goto nomem;
    s3_call_body_mem(&c, body.data, body.len);
    s3_call_drop_checksums(&c);
    rc = s3_perform(&c, &resp, err);
  }
  if (!rc && !s3_is_2xx(resp))
    rc = s3_fail(&c, resp, err);
  if (rc == STORE_E_PRECONDITION &&
      (STORE_OPT(opts, store_put_opts, flags, 0) & STORE_PUT_IF_NONE_MATCH))
    rc = s3_fail_msg(&c, err, STORE_E_EXISTS, "'%s/%s' already exists "
                     "(If-None-Match: *)", bucket, key);
  /* 200 can still carry an <Error> (S3 fails late while assembling) */
  if (!rc)
    rc = s3_fail_xml(&c, resp, err, &root);
  if (rc)
    goto out;
  s3_result_ids(resp, sdk_xml_child_text(root, "ETag"), out);
  complete_crc(resp, root, out);
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

/* The HEAD after a completion saw the object the completion made: the
 * same ETag (a server may ignore If-Match) and, when both have one, the
 * same version. */
static int same_object(const store_put_result *out, const s3_props *p)
{
  const char *a = p->e.etag ? p->e.etag : "", *b = out->etag;
  size_t na = strlen(a), nb = strlen(b);

  /* "abc-3" and abc-3 alike */
  if (na >= 2 && *a == '"' && a[na - 1] == '"')
    a++, na -= 2;
  if (nb >= 2 && *b == '"' && b[nb - 1] == '"')
    b++, nb -= 2;
  if (!na || na != nb || memcmp(a, b, na))
    return 0;
  return !s3_version_is_real(out->version_id) ||
         (p->version_id && !strcmp(p->version_id, out->version_id));
}

void s3_multipart_readback(store_handle *h, const char *bucket,
                           const char *key, store_put_result *out)
{
  sdk_response *resp = NULL;
  store_error probe;
  const char *real = s3_version_is_real(out->version_id) ? out->version_id
                                                         : NULL;
  s3_props p;

  s3_err_init(&probe);
  if (s3_head_object(h, bucket, key, real,
                     real || !out->etag[0] ? NULL : out->etag, 1, &p, &resp,
                     &probe)) {
    out->size = 0;
    s3_log(h, STORE_LOG_WARN, "s3 '%s': CompleteMultipartUpload '%s/%s' "
           "succeeded, but its size could not be read back: %s",
           h->cfg.name, bucket, key, probe.message);
    return;
  }
  if (!same_object(out, &p)) {
    out->size = 0;
    s3_log(h, STORE_LOG_WARN, "s3 '%s': CompleteMultipartUpload '%s/%s' "
           "succeeded, but the object read back is another one (ETag %s, "
           "not %s): its size and CRC-32C are not reported", h->cfg.name,
           bucket, key, p.e.etag ? p.e.etag : "none", out->etag);
  } else {
    out->size = p.e.size;
    if (STORE_HAS_FIELD(store_put_result, md5, out->struct_size) &&
        !(out->checksums & STORE_CKSUM_CRC32C) &&
        (p.e.checksums & STORE_CKSUM_CRC32C)) {
      out->checksums |= STORE_CKSUM_CRC32C;
      out->crc32c = p.e.crc32c;
    }
  }
  s3_props_free(&p);
  sdk_response_free(resp);
}

int32_t s3_multipart_complete(store_handle *h, const char *container,
                              const char *key, const char *upload_id,
                              const store_put_opts *opts,
                              const char *const *tokens, uint32_t nparts,
                              store_put_result *out, store_error *err)
{
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
  /* The reply has no size, and the parts' sizes stayed with the host. */
  if (!rc && out &&
      STORE_HAS_FIELD(store_put_result, version_id, out->struct_size))
    s3_multipart_readback(h, container, key, out);
  return rc;
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
