/*
** azure_blob.c -- blob put (Put Blob, or blocks beyond the cutoff), get
** (Get Blob, with x-ms-range), head (Get Blob Properties), delete and
** set-metadata.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure.h"
#include "sdk_put.h"

/* The headers a Put Blob and a Put Block List share: content type,
 * metadata, the CRC-32C record and the conditions. */
int32_t az_put_headers(const az_target *t, sdk_request *r, const char *ct,
                       const store_kv *md, size_t nmd, az_crc crc,
                       uint32_t flags, const char *if_match,
                       store_error *err)
{
  int32_t rc;

  rc = az_header(t, r, "x-ms-blob-content-type", ct ? ct : AZ_DEFAULT_CT,
                 err);
  if (rc)
    goto out;
  rc = az_meta_headers(t, r, md, nmd, err);
  if (rc)
    goto out;
  rc = az_crc_header(t, r, crc, err);
  if (rc)
    goto out;
  if (flags & STORE_PUT_IF_NONE_MATCH) {
    rc = az_header(t, r, "If-None-Match", "*", err);
    if (rc)
      goto out;
  }
  if (if_match)
    rc = az_header(t, r, "If-Match", if_match, err);
out:
  return rc;
}

/* The whole body's CRC-32C the caller passed down, if any. */
az_crc az_opts_crc(const store_put_opts *opts)
{
  az_crc c = {0, 0};

  if ((STORE_OPT(opts, store_put_opts, checksums, 0) & STORE_CKSUM_CRC32C) &&
      STORE_HAS_FIELD(store_put_opts, crc32c, opts->struct_size)) {
    c.has = 1;
    c.crc = opts->crc32c;
  }
  return c;
}

/* The CRC-32C of the bytes sent against the one given with them (and
 * recorded with the blob): a retryable IO error naming both. */
int32_t az_crc_compare(const az_target *t, az_crc given, uint32_t sent,
                       uint64_t nbytes, store_error *err)
{
  int32_t rc;

  if (!given.has || given.crc == sent)
    return STORE_OK;
  rc = az_fail(t, err, STORE_E_IO,
               "the %" PRIu64 " bytes sent have CRC-32C %08" PRIx32
               ", not the %08" PRIx32 " given with them (the source changed "
               "while it was read?)", nbytes, sent, given.crc);
  if (err)
    err->flags |= STORE_ERR_RETRYABLE;
  return rc;
}

/* The result of a committed put (etag from the response). out may be
 * NULL. */
int32_t az_put_result(const az_target *t, const sdk_response *resp,
                      uint64_t size, store_put_result *out, store_error *err)
{
  const char *etag = sdk_response_header(resp, "ETag");

  if (!out)
    return STORE_OK;
  if (STORE_HAS_FIELD(store_put_result, size, out->struct_size))
    out->size = size;
  if (STORE_HAS_FIELD(store_put_result, etag, out->struct_size) &&
      snprintf(out->etag, sizeof(out->etag), "%s", etag ? etag : "") >=
        (int)sizeof(out->etag))
    return az_fail(t, err, STORE_E_INTERNAL, "etag longer than %zu bytes",
                   sizeof(out->etag) - 1);
  return STORE_OK;
}

/* Put Blob answers the Content-MD5 of the blob it stored, computed by the
 * service: report it (STORE_CKSUM_MD5), for the host to compare with an
 * MD5 it passed down. Not for Put Block List, whose Content-MD5 is of the
 * block list. Nothing is reported without a 16-byte value. */
static void put_md5(const sdk_response *resp, store_put_result *out)
{
  const char *b64 = sdk_response_header(resp, "Content-MD5");
  sdk_buf md5 = SDK_BUF_INIT;

  if (out && b64 && STORE_HAS_FIELD(store_put_result, md5, out->struct_size) &&
      !sdk_base64_decode(&md5, b64, strlen(b64)) && md5.len == 16) {
    memcpy(out->md5, md5.data, 16);
    out->checksums |= STORE_CKSUM_MD5;
  }
  sdk_buf_free(&md5);
}

/* A refused fail-if-exists put is EXISTS, whichever status the service
 * chose for it (409 BlobAlreadyExists, or 412). */
int32_t az_put_condition(const az_target *t, uint32_t flags, int32_t rc,
                         store_error *err)
{
  if (rc != STORE_E_PRECONDITION || !(flags & STORE_PUT_IF_NONE_MATCH))
    return rc;
  az_fail(t, err, STORE_E_EXISTS, "already exists (fail-if-exists put)");
  if (err)
    err->flags &= ~STORE_ERR_RETRYABLE;
  return STORE_E_EXISTS;
}

/* Remove the blob a Put Blob stored with other bytes than were sent (only
 * that blob: If-Match its ETag), saying so in err's message, and what it
 * replaced: Put Blob overwrites, so an older blob is gone either way. */
static void remove_wrong(store_handle *h, const az_target *t,
                         const sdk_response *resp, uint32_t flags,
                         store_error *err)
{
  const char *etag = sdk_response_header(resp, "ETag");
  store_kv cond[] = {{"If-Match", etag}};
  az_target dt = {"delete", t->container, t->key, NULL};
  store_error derr;
  size_t used;
  int32_t rc;

  memset(&derr, 0, sizeof(derr));
  derr.struct_size = sizeof(derr);
  rc = az_exec(h, &dt, "DELETE", NULL, cond, etag ? 1 : 0, NULL, &derr);
  if (!err)
    return;
  used = strlen(err->message);
  if (used < sizeof(err->message))
    snprintf(err->message + used, sizeof(err->message) - used, "%s%.160s",
             rc ? "; removing it failed too: " : "; removed",
             rc ? derr.message
                : flags & STORE_PUT_IF_NONE_MATCH
                  ? ""
                  : ", as is any blob it overwrote");
}

/* One Put Blob, its body streamed from b or taken from mem[0..memlen),
 * and checked (azure_check.c): from memory by the Content-MD5 sent with
 * it, streamed by the Content-MD5 the service answers. The CRC-32C
 * recorded with it: a body in memory's own (the caller's must agree), a
 * streamed one's the caller's, if given, then compared with the bytes
 * sent (a blob whose record does not describe it is removed). */
static int32_t put_single(const sdk_put_call *c, sdk_body *b,
                          const char *mem, size_t memlen)
{
  const store_put_opts *opts = c->opts;
  const az_target *t = c->target;
  store_put_result *out = c->out;
  store_error *err = c->err;
  store_handle *h = c->h;
  uint32_t flags = STORE_OPT(opts, store_put_opts, flags, 0);
  az_crc crc = az_opts_crc(opts);
  sdk_response *resp = NULL;
  sdk_request *r = NULL;
  az_sum sum = {0};
  int32_t rc;

  if (!b) {
    uint32_t own = sdk_crc32c(0, mem, memlen);
    rc = az_crc_compare(t, crc, own, memlen, err);
    if (rc)
      goto out;
    crc.has = 1;
    crc.crc = own;
  }
  rc = az_request(h, t, "PUT", NULL, &r, err);
  if (rc)
    goto out;
  rc = az_header(t, r, "x-ms-blob-type", "BlockBlob", err);
  if (rc)
    goto out;
  rc = az_put_headers(t, r, STORE_OPT(opts, store_put_opts, content_type, NULL),
                      STORE_OPT(opts, store_put_opts, metadata, NULL),
                      STORE_OPT(opts, store_put_opts, nmetadata, 0), crc, flags,
                      STORE_OPT(opts, store_put_opts, if_match, NULL), err);
  if (rc)
    goto out;
  if (b) {
    rc = az_sum_attach(t, r, &sum, b, AZ_SUM_MD5, 0, err);
    if (!rc)
      rc = az_body_result(t, b, az_perform(h, t, r, &resp, err), err);
  } else {
    sdk_request_body_mem(r, mem, memlen);
    rc = az_md5_header(t, r, mem, memlen, err);
    if (!rc)
      rc = az_perform_md5(h, t, r, &resp, err);
  }
  rc = az_put_condition(t, flags, rc, err);
  if (rc)
    goto out;
  if (b)
    rc = az_sum_verify(t, &sum, resp, err);
  if (b && !rc)
    rc = az_crc_compare(t, crc, sum.crc32c, b->sent, err);
  if (rc) {
    remove_wrong(h, t, resp, flags, err);
    goto out;
  }
  rc = az_put_result(t, resp, b ? b->want : memlen, out, err);
  if (!rc)
    put_md5(resp, out);
out:
  az_sum_free(&sum);
  sdk_response_free(resp);
  sdk_request_free(r);
  return rc;
}

/* The body as blocks (sdk_put_parts_fn). */
static int32_t put_blocks(const sdk_put_call *c, char *buf, size_t first_len)
{
  return az_put_blocks(c->h, c->target, c->opts, c->src, c->src_ctx, buf,
                       first_len, c->out, c->err);
}

static int32_t put_fail(const sdk_put_call *c, int32_t code, const char *why)
{
  return az_fail(c->target, c->err, code, "%s", why);
}

/* Put Blob up to the cutoff, blocks beyond it; an unknown length has one
 * block buffered to tell which (sdk_put.h). */
int32_t az_blob_put(store_handle *h, const char *container, const char *key,
                    const store_put_opts *opts, store_read_fn src,
                    void *src_ctx, store_put_result *out, store_error *err)
{
  static const sdk_put_ops ops = {put_single, put_blocks, put_fail,
                                  AZ_PUT_CUTOFF, AZ_BUFFER_BLOCK};
  az_target t = {"put", container, key, NULL};
  sdk_put_call c = {h, &t, opts, src, src_ctx, out, err};
  int32_t rc;

  rc = az_check_key(&t, err);
  if (rc)
    goto out;
  rc = az_check_source(&t, src,
                       STORE_OPT(opts, store_put_opts, content_length, -1),
                       err);
  if (rc)
    goto out;
  rc = az_meta_check(&t, STORE_OPT(opts, store_put_opts, content_type, NULL),
                     STORE_OPT(opts, store_put_opts, metadata, NULL),
                     STORE_OPT(opts, store_put_opts, nmetadata, 0), err);
  if (rc)
    goto out;
  rc = sdk_put(&ops, &c);
out:
  return rc;
}

/* ------------------------------------------------------------------------ */
/* get                                                                      */
/* ------------------------------------------------------------------------ */

/* The blob's entry from the response headers, to cb (an sdk_get_entry_fn;
 * ud is the target). */
static int get_entry(void *ud, const sdk_response *resp, store_entry_fn cb,
                     void *cb_ctx)
{
  az_props p;
  int32_t r;

  if (az_props_headers(ud, resp, &p, NULL))
    return SDK_GET_NOMEM;
  r = cb(cb_ctx, &p.e);
  az_props_free(&p);
  return r ? SDK_GET_ENTRY : 0;
}

int32_t az_blob_get(store_handle *h, const char *container, const char *key,
                    const store_get_opts *opts, store_write_fn sink,
                    void *sink_ctx, store_error *err)
{
  az_target t = {"get", container, key,
                 STORE_OPT(opts, store_get_opts, snapshot_id, NULL)};
  const char *if_match = STORE_OPT(opts, store_get_opts, if_match, NULL);
  const char *why;
  int32_t stop;
  sdk_get g;
  sdk_request *r = NULL;
  char range[SDK_RANGE_HEADER_SIZE];
  int32_t rc;

  rc = az_check_key(&t, err);
  if (rc)
    goto out;
  if (!sink) {
    rc = az_fail(&t, err, STORE_E_INVALID, "no write callback");
    goto out;
  }
  sdk_get_init(&g, STORE_OPT(opts, store_get_opts, on_entry, NULL),
               STORE_OPT(opts, store_get_opts, on_entry_ctx, NULL), sink,
               sink_ctx, get_entry, &t);
  rc = az_request(h, &t, "GET", NULL, &r, err);
  if (rc)
    goto out;
  if (STORE_OPT(opts, store_get_opts, flags, 0) & STORE_GET_RANGE) {
    sdk_range_header(STORE_OPT(opts, store_get_opts, offset, 0),
                     STORE_OPT(opts, store_get_opts, length, 0), range,
                     sizeof(range));
    rc = az_header(&t, r, "x-ms-range", range, err);
    if (rc)
      goto out;
  }
  if (if_match) {
    rc = az_header(&t, r, "If-Match", if_match, err);
    if (rc)
      goto out;
  }
  sdk_get_attach(r, &g);
  rc = az_perform(h, &t, r, NULL, err);
  stop = rc ? sdk_get_stopped(&g, &why) : 0;
  if (stop)
    rc = az_fail(&t, err, stop, "%s", why);
out:
  sdk_request_free(r);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* head, delete, metadata                                                   */
/* ------------------------------------------------------------------------ */

/* Get Blob Properties. On success *out is the response (owned by the
 * caller) and p describes the blob from it (az_props_free). */
int32_t az_head(store_handle *h, const az_target *t, sdk_response **out,
                az_props *p, store_error *err)
{
  int32_t rc;

  rc = az_exec(h, t, "HEAD", NULL, NULL, 0, out, err);
  if (rc)
    goto out;
  rc = az_props_headers(t, *out, p, err);
  if (rc) {
    sdk_response_free(*out);
    *out = NULL;
  }
out:
  return rc;
}

int32_t az_blob_head(store_handle *h, const char *container, const char *key,
                     const store_head_opts *opts, store_entry_fn cb,
                     void *cb_ctx, store_error *err)
{
  az_target t = {"head", container, key,
                 STORE_OPT(opts, store_head_opts, snapshot_id, NULL)};
  sdk_response *resp = NULL;
  az_props p = {0};
  int32_t rc;

  rc = az_check_key(&t, err);
  if (rc)
    goto out;
  if (!cb) {
    rc = az_fail(&t, err, STORE_E_INVALID, "no entry callback");
    goto out;
  }
  rc = az_head(h, &t, &resp, &p, err);
  if (rc)
    goto out;
  if (cb(cb_ctx, &p.e))
    rc = az_fail(&t, err, STORE_E_ABORTED, "the entry callback stopped");
out:
  az_props_free(&p);
  sdk_response_free(resp);
  return rc;
}

/* With a snapshot id only that snapshot goes (XT's own provider deleted
 * the base blob and every snapshot instead). Without one, Azure refuses a
 * blob that has snapshots (SnapshotsPresent: NOT_EMPTY) unless asked to
 * take them along. With if_match, Delete Blob's If-Match: another ETag is
 * 412 ConditionNotMet (PRECONDITION). */
int32_t az_blob_delete(store_handle *h, const char *container,
                       const char *key, const store_delete_opts *opts,
                       store_error *err)
{
  az_target t = {"delete", container, key,
                 STORE_OPT(opts, store_delete_opts, snapshot_id, NULL)};
  const char *if_match = STORE_OPT(opts, store_delete_opts, if_match, NULL);
  uint32_t flags = STORE_OPT(opts, store_delete_opts, flags, 0);
  store_kv hdrs[2];
  size_t n = 0;
  int32_t rc;

  rc = az_check_key(&t, err);
  if (rc)
    goto out;
  if (!t.snapshot && (flags & STORE_DELETE_SNAPSHOTS))
    hdrs[n++] = (store_kv){"x-ms-delete-snapshots", "include"};
  if (if_match)
    hdrs[n++] = (store_kv){"If-Match", if_match};
  rc = az_exec(h, &t, "DELETE", NULL, hdrs, n, NULL, err);
out:
  return rc;
}

/* Set Blob Metadata replaces all metadata, the CRC-32C record included,
 * and leaves the content: the record goes along, read from the blob and
 * written If-Match the ETag it was read with, so that it lands only on
 * the content it describes (any write since changes the ETag). After
 * SET_MD_TRIES refusals (the blob keeps changing) the metadata is set
 * without it: a record dropped leaves a size check, a stale one would
 * fail good downloads. */
#define SET_MD_TRIES 3

static int32_t set_metadata(store_handle *h, const az_target *t,
                            const store_kv *md, size_t n, int keep,
                            store_error *err)
{
  sdk_response *hresp = NULL;
  az_crc crc = {0, 0};
  az_props p = {0};
  int32_t rc;

  if (keep) {
    rc = az_head(h, t, &hresp, &p, err);
    if (rc)
      goto out;
    crc.has = store_entry_crc32c(&p.e, &crc.crc);
  }
  rc = az_put_metadata(h, t, "comp=metadata", md, n, crc,
                       crc.has ? p.e.etag : NULL, err);
out:
  az_props_free(&p);
  sdk_response_free(hresp);
  return rc;
}

int32_t az_blob_set_metadata(store_handle *h, const char *container,
                             const char *key, const store_kv *metadata,
                             size_t nmetadata, store_error *err)
{
  az_target t = {"set metadata of", container, key, NULL};
  int32_t rc;

  rc = az_check_key(&t, err);
  if (rc)
    goto out;
  rc = az_meta_check(&t, NULL, metadata, nmetadata, err);
  if (rc)
    goto out;
  for (int i = 1;; i++) {
    rc = set_metadata(h, &t, metadata, nmetadata, i <= SET_MD_TRIES, err);
    if (rc != STORE_E_PRECONDITION || i > SET_MD_TRIES)
      break;
    sdk_error_clear(err);
  }
out:
  return rc;
}
