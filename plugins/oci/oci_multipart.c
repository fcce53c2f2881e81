/*
** oci_multipart.c -- multipart uploads: the ABI's begin / part / complete
** / abort (CreateMultipartUpload, UploadPart, CommitMultipartUpload,
** AbortMultipartUpload), and a put the provider splits itself (a known
** length beyond the cutoff, or a body of unknown length that outgrew one
** buffer), aborted when any step fails.
**
** A part's token is the ETag UploadPart answered; the commit lists
** (partNum, etag) for parts 1..n. The content type and metadata go with
** the create, the conditions (if-match, if-none-match) with the commit,
** where OCI applies them. A commit reports the whole object's CRC-32C
** (opc-content-crc32c: OCI's is of the reconstructed object, not of the
** parts') and no MD5 (opc-multipart-md5 is of the parts' digests); the
** size is read back with a HEAD of the new object.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci.h"

static int32_t upload_query(const oci_target *t, sdk_buf *q, const char *id,
                            uint32_t part_no, store_error *err)
{
  char num[16];
  int32_t rc = oci_query_add(t, q, "uploadId", id, err);

  if (!rc && part_no) {
    snprintf(num, sizeof(num), "%" PRIu32, part_no);
    rc = oci_query_add(t, q, "uploadPartNum", num, err);
  }
  return rc;
}

static int32_t check_id(const oci_target *t, const char *id, store_error *err)
{
  if (!id || !*id || strlen(id) >= STORE_ID_SIZE)
    return oci_fail(t, err, STORE_E_INVALID, "no upload id, or too long");
  return STORE_OK;
}

/* CreateMultipartUpload; the id goes to out_id[0..cap). */
static int32_t create(store_handle *h, const oci_target *t,
                      const store_put_opts *opts, char *out_id, size_t cap,
                      store_error *err)
{
  static const store_kv crc32c[] = {{"opc-checksum-algorithm", "CRC32C"}};
  const char *ct = STORE_OPT(opts, store_put_opts, content_type, NULL);
  const store_kv *md = STORE_OPT(opts, store_put_opts, metadata, NULL);
  size_t nmd = STORE_OPT(opts, store_put_opts, nmetadata, 0);
  sdk_response *resp = NULL;
  json_t *body = NULL, *reply = NULL, *mdj;
  const char *id;
  int32_t rc;

  rc = oci_meta_check(t, ct, md, nmd, err);
  if (rc)
    goto out;
  mdj = oci_meta_json(OCI_META_PREFIX, md, nmd);
  body = mdj ? json_pack("{s:s, s:s, s:o}", "object", t->key, "contentType",
                         ct ? ct : OCI_DEFAULT_CT, "metadata", mdj)
             : NULL;
  if (!body) {
    rc = oci_nomem(t, err);
    goto out;
  }
  rc = oci_exec_with(h, t, "POST", OCI_P_UPLOADS, NULL, crc32c, 1, body,
                     &resp, err);
  if (!rc)
    rc = oci_json(t, resp, &reply, err);
  if (rc)
    goto out;
  id = json_string_value(json_object_get(reply, "uploadId"));
  if (!id || !*id || strlen(id) >= cap) {
    rc = oci_fail(t, err, STORE_E_INTERNAL,
                  "CreateMultipartUpload answered no usable uploadId");
    goto out;
  }
  snprintf(out_id, cap, "%s", id);
out:
  json_decref(reply);
  json_decref(body);
  sdk_response_free(resp);
  return rc;
}

int32_t oci_multipart_begin(store_handle *h, const char *bucket,
                            const char *key, const store_put_opts *opts,
                            char *out_id, size_t cap, store_error *err)
{
  oci_target t = {"begin upload of", bucket, key, NULL};
  int32_t rc;

  if (out_id && cap)
    out_id[0] = '\0';
  rc = oci_check_key(&t, err);
  if (!rc && (!out_id || !cap))
    rc = oci_fail(&t, err, STORE_E_INVALID, "no buffer for the upload id");
  if (!rc)
    rc = create(h, &t, opts, out_id, cap, err);
  return rc;
}

/* UploadPart of part_no, from b or mem[0..memlen); its ETag to
 * out_token[0..cap), what OCI says it stored to out (may be NULL). */
static int32_t upload_part(store_handle *h, const oci_target *t,
                           const char *id, uint32_t part_no,
                           const store_put_opts *opts, sdk_body *b,
                           const char *mem, size_t memlen, char *out_token,
                           size_t cap, store_put_result *out,
                           store_error *err)
{
  sdk_response *resp = NULL;
  sdk_request *r = NULL;
  sdk_buf q = SDK_BUF_INIT;
  const char *etag;
  int32_t rc;

  rc = upload_query(t, &q, id, part_no, err);
  if (!rc)
    rc = oci_request(h, t, "PUT", OCI_P_UPLOAD, sdk_buf_str(&q), &r, err);
  if (!rc)
    rc = oci_put_checksums(t, r, opts, err);
  if (!rc)
    rc = oci_send_object(h, t, r, b, mem, memlen, &resp, err);
  if (rc)
    goto out;
  etag = sdk_response_header(resp, "ETag");
  if (!etag || !*etag || strlen(etag) >= cap) {
    rc = oci_fail(t, err, STORE_E_INTERNAL,
                  "UploadPart %" PRIu32 " answered no usable ETag", part_no);
    goto out;
  }
  snprintf(out_token, cap, "%s", etag);
  oci_put_result(resp, b ? b->want : memlen, 1, out);
out:
  sdk_buf_free(&q);
  sdk_response_free(resp);
  sdk_request_free(r);
  return rc;
}

int32_t oci_multipart_part_checked(store_handle *h, const char *bucket,
                                   const char *key, const char *upload_id,
                                   uint32_t part_no, uint64_t length,
                                   const store_put_opts *opts,
                                   store_read_fn src, void *src_ctx,
                                   char *out_token, size_t cap,
                                   store_put_result *out, store_error *err)
{
  oci_target t = {"upload part of", bucket, key, NULL};
  sdk_body b;
  int32_t rc;

  if (out_token && cap)
    out_token[0] = '\0';
  rc = oci_check_key(&t, err);
  if (!rc)
    rc = check_id(&t, upload_id, err);
  if (rc)
    return rc;
  if (!src || !out_token || !cap || part_no < 1 || part_no > OCI_MAX_PARTS)
    return oci_fail(&t, err, STORE_E_INVALID,
                    "part %" PRIu32 ": no source or token buffer, or not "
                    "1..%u", part_no, OCI_MAX_PARTS);
  sdk_body_init(&b, src, src_ctx, length, 0);
  return upload_part(h, &t, upload_id, part_no, opts, &b, NULL, 0, out_token,
                     cap, out, err);
}

int32_t oci_multipart_part(store_handle *h, const char *bucket,
                           const char *key, const char *upload_id,
                           uint32_t part_no, uint64_t length,
                           store_read_fn src, void *src_ctx, char *out_token,
                           size_t cap, store_error *err)
{
  return oci_multipart_part_checked(h, bucket, key, upload_id, part_no,
                                    length, NULL, src, src_ctx, out_token,
                                    cap, NULL, err);
}

/* CommitMultipartUpload of tokens[0..n) as parts 1..n, under the
 * conditions of opts, then the new object's size from a HEAD. */
static int32_t commit(store_handle *h, const oci_target *t, const char *id,
                      const store_put_opts *opts, const char *const *tokens,
                      uint32_t n, store_put_result *out, store_error *err)
{
  uint32_t flags = STORE_OPT(opts, store_put_opts, flags, 0);
  const char *if_match = STORE_OPT(opts, store_put_opts, if_match, NULL);
  store_kv cond[2];
  size_t ncond = 0;
  sdk_response *resp = NULL, *hresp = NULL;
  json_t *body = NULL, *parts = json_array();
  oci_target ht = {"read back the upload of", t->bucket, t->key, NULL};
  oci_props p = {0};
  sdk_buf q = SDK_BUF_INIT;
  int32_t rc = STORE_OK;

  for (uint32_t i = 0; parts && i < n; i++)
    if (!tokens[i] ||
        json_array_append_new(parts, json_pack("{s:I, s:s}", "partNum",
                                               (json_int_t)i + 1, "etag",
                                               tokens[i]))) {
      rc = tokens[i] ? oci_nomem(t, err)
                     : oci_fail(t, err, STORE_E_INVALID,
                                "no token for part %" PRIu32, i + 1);
      goto out;
    }
  body = parts ? json_pack("{s:O}", "partsToCommit", parts) : NULL;
  if (!body) {
    rc = oci_nomem(t, err);
    goto out;
  }
  if (flags & STORE_PUT_IF_NONE_MATCH)
    cond[ncond++] = (store_kv){"if-none-match", "*"};
  if (if_match)
    cond[ncond++] = (store_kv){"if-match", if_match};
  rc = upload_query(t, &q, id, 0, err);
  if (!rc)
    rc = oci_put_condition(t, flags,
                           oci_exec_with(h, t, "POST", OCI_P_UPLOAD,
                                         sdk_buf_str(&q), cond, ncond, body,
                                         &resp, err),
                           err);
  if (!rc && out)
    rc = oci_head(h, &ht, &hresp, &p, err);
  if (!rc)
    oci_put_result(resp, p.e.size, 0, out);
out:
  oci_props_free(&p);
  sdk_buf_free(&q);
  json_decref(parts);
  json_decref(body);
  sdk_response_free(hresp);
  sdk_response_free(resp);
  return rc;
}

int32_t oci_multipart_complete(store_handle *h, const char *bucket,
                               const char *key, const char *upload_id,
                               const store_put_opts *opts,
                               const char *const *tokens, uint32_t nparts,
                               store_put_result *out, store_error *err)
{
  oci_target t = {"complete upload of", bucket, key, NULL};
  int32_t rc;

  rc = oci_check_key(&t, err);
  if (!rc)
    rc = check_id(&t, upload_id, err);
  if (!rc && (!nparts || !tokens))
    rc = oci_fail(&t, err, STORE_E_INVALID, "no parts to commit");
  if (!rc)
    rc = commit(h, &t, upload_id, opts, tokens, nparts, out, err);
  return rc;
}

int32_t oci_multipart_abort(store_handle *h, const char *bucket,
                            const char *key, const char *upload_id,
                            store_error *err)
{
  oci_target t = {"abort upload of", bucket, key, NULL};
  sdk_buf q = SDK_BUF_INIT;
  int32_t rc;

  rc = oci_check_key(&t, err);
  if (!rc)
    rc = check_id(&t, upload_id, err);
  if (!rc)
    rc = upload_query(&t, &q, upload_id, 0, err);
  if (!rc)
    rc = oci_exec(h, &t, "DELETE", OCI_P_UPLOAD, sdk_buf_str(&q), NULL, NULL,
                  err);
  sdk_buf_free(&q);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* a put in parts                                                           */
/* ------------------------------------------------------------------------ */

/* The parts' tokens, grown as parts go up. */
typedef struct tokens {
  char **v;
  uint32_t n, cap;
} tokens;

static int tokens_add(tokens *tk, const char *s)
{
  if (tk->n == tk->cap) {
    uint32_t cap = tk->cap ? tk->cap * 2 : 16;
    char **v = realloc(tk->v, cap * sizeof(*v));
    if (!v)
      return -1;
    tk->v = v;
    tk->cap = cap;
  }
  tk->v[tk->n] = strdup(s);
  return tk->v[tk->n] ? (tk->n++, 0) : -1;
}

static void tokens_free(tokens *tk)
{
  for (uint32_t i = 0; i < tk->n; i++)
    free(tk->v[i]);
  free(tk->v);
}

/* Every part after the buffered first one (buf[0..first_len), when buf is
 * set): a known length streamed part by part, an unknown one through buf
 * (OCI_BUFFER_PART bytes) until the source ends. */
static int32_t send_parts(store_handle *h, const oci_target *t,
                          const char *id, int64_t len, store_read_fn src,
                          void *src_ctx, char *buf, size_t first_len,
                          tokens *tk, store_error *err)
{
  char token[STORE_ID_SIZE];
  uint64_t part = OCI_PART, sent = 0;
  int eof = 0;
  int32_t rc;

  if (len > 0 && (uint64_t)len / OCI_MAX_PARTS >= part)
    part = (uint64_t)len / OCI_MAX_PARTS + 1;
  if (buf) {
    rc = upload_part(h, t, id, 1, NULL, NULL, buf, first_len, token,
                     sizeof(token), NULL, err);
    if (rc || tokens_add(tk, token))
      return rc ? rc : oci_nomem(t, err);
  }
  while (len >= 0 ? sent < (uint64_t)len : !eof) {
    uint32_t no = tk->n + 1;
    if (no > OCI_MAX_PARTS)
      return oci_fail(t, err, STORE_E_INVALID,
                      "more than %u parts of %zu bytes: too large",
                      OCI_MAX_PARTS, OCI_BUFFER_PART);
    if (sdk_host_cancelled(h->host))
      return oci_fail(t, err, STORE_E_ABORTED, "cancelled");
    if (len >= 0) {
      sdk_body b;
      uint64_t n = (uint64_t)len - sent < part ? (uint64_t)len - sent : part;
      sdk_body_init(&b, src, src_ctx, n,
                    sent + n == (uint64_t)len ? SDK_BODY_PROBE_EOF : 0);
      rc = upload_part(h, t, id, no, NULL, &b, NULL, 0, token, sizeof(token),
                       NULL, err);
      sent += n;
    } else {
      size_t n = 0;
      rc = oci_fill(t, src, src_ctx, buf, OCI_BUFFER_PART, &n, &eof, err);
      if (rc)
        return rc;
      if (!n)
        break;
      rc = upload_part(h, t, id, no, NULL, NULL, buf, n, token,
                       sizeof(token), NULL, err);
    }
    if (rc || tokens_add(tk, token))
      return rc ? rc : oci_nomem(t, err);
  }
  return STORE_OK;
}

int32_t oci_put_parts(store_handle *h, const oci_target *t,
                      const store_put_opts *opts, store_read_fn src,
                      void *src_ctx, char *buf, size_t first_len,
                      store_put_result *out, store_error *err)
{
  int64_t len = buf ? -1 : STORE_OPT(opts, store_put_opts, content_length, -1);
  char id[STORE_ID_SIZE];
  tokens tk = {NULL, 0, 0};
  store_put_opts whole;
  int32_t rc;

  /* The checksums the host gave are the whole object's: no part has
   * them, and OCI has no whole-object check of a multipart upload. */
  memset(&whole, 0, sizeof(whole));
  whole.struct_size = sizeof(whole);
  whole.flags = STORE_OPT(opts, store_put_opts, flags, 0);
  whole.content_type = STORE_OPT(opts, store_put_opts, content_type, NULL);
  whole.metadata = STORE_OPT(opts, store_put_opts, metadata, NULL);
  whole.nmetadata = STORE_OPT(opts, store_put_opts, nmetadata, 0);
  whole.if_match = STORE_OPT(opts, store_put_opts, if_match, NULL);
  rc = create(h, t, &whole, id, sizeof(id), err);
  if (rc)
    return rc;
  rc = send_parts(h, t, id, len, src, src_ctx, buf, first_len, &tk, err);
  if (!rc)
    rc = commit(h, t, id, &whole, (const char *const *)tk.v, tk.n, out, err);
  if (rc) {
    store_error aerr;
    memset(&aerr, 0, sizeof(aerr));
    aerr.struct_size = sizeof(aerr);
    oci_multipart_abort(h, t->bucket, t->key, id, &aerr);
  }
  tokens_free(&tk);
  return rc;
}
