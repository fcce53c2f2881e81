/*
** azure_upload.c -- blob_put for what one Put Blob should not take:
** bodies of unknown length and bodies over AZ_PUT_CUTOFF, put as blocks
** and committed with one Put Block List (azure_multipart.c), so nothing
** is visible under the key before the whole body is up.
**
** Known length: the blocks stream straight from the source. Unknown
** length: the body goes up one AZ_BUFFER_BLOCK buffer at a time, so
** memory stays one block whatever the size. Either way the CRC-32C of the
** bytes sent is taken on the way and recorded by the commit (a CRC-32C the
** caller gave must be that one, or nothing is committed).
*/
#include <inttypes.h>
#include <string.h>

#include "azure.h"
#include "sdk_error.h"

/* A fail-if-exists put fails before any block goes up when the blob is
 * there already (the commit checks again: it decides). */
static int32_t precheck(store_handle *h, const az_target *t, uint32_t flags,
                        store_error *err)
{
  az_target ht = {t->op, t->container, t->key, NULL};
  sdk_response *resp = NULL;
  store_error probe;
  az_props p = {0};
  int32_t rc;

  if (!(flags & STORE_PUT_IF_NONE_MATCH))
    return STORE_OK;
  memset(&probe, 0, sizeof(probe));
  probe.struct_size = sizeof(probe);
  rc = az_head(h, &ht, &resp, &p, &probe);
  if (rc == STORE_OK)
    rc = az_fail(t, err, STORE_E_EXISTS,
                 "already exists (fail-if-exists put)");
  else if (rc == STORE_E_NOT_FOUND && !strcmp(probe.provider_code,
                                              "BlobNotFound"))
    rc = STORE_OK;
  else
    sdk_error_copy(err, &probe);
  az_props_free(&p);
  sdk_response_free(resp);
  return rc;
}

/* Known length: blocks streamed straight from the source, as few as the
 * block limit allows with blocks of at least AZ_STREAM_BLOCK. */
static int32_t put_known(store_handle *h, const az_target *t,
                         const char *nonce, uint64_t len, store_read_fn src,
                         void *src_ctx, uint32_t *nblocks, uint32_t *crc,
                         store_error *err)
{
  uint64_t bs = AZ_STREAM_BLOCK, done = 0;
  char id[AZ_BLOCK_ID_SIZE];
  sdk_body b;
  uint32_t i = 0;
  int32_t rc = STORE_OK;

  while (bs < AZ_MAX_BLOCK && len / bs >= AZ_MAX_BLOCKS)
    bs *= 2;
  if (bs > AZ_MAX_BLOCK)
    bs = AZ_MAX_BLOCK;
  if ((len + bs - 1) / bs > AZ_MAX_BLOCKS)
    return az_fail(t, err, STORE_E_INVALID,
                   "%" PRIu64 " bytes is more than a block blob holds", len);
  while (done < len) {
    uint64_t want = len - done < bs ? len - done : bs;
    az_block_id(nonce, ++i, id);
    sdk_body_init(&b, src, src_ctx, want,
                  done + want == len ? SDK_BODY_PROBE_EOF : 0);
    rc = az_put_block(h, t, id, &b, NULL, 0, crc, err);
    if (rc)
      goto out;
    done += want;
  }
out:
  *nblocks = i;
  return rc;
}

/* Unknown length: buf (AZ_BUFFER_BLOCK bytes, the first first_len of them
 * already read) goes up block by block until the source ends. */
static int32_t put_unknown(store_handle *h, const az_target *t,
                           const char *nonce, char *buf, size_t first_len,
                           store_read_fn src, void *src_ctx,
                           uint32_t *nblocks, uint64_t *total,
                           uint32_t *crc, store_error *err)
{
  char id[AZ_BLOCK_ID_SIZE];
  size_t n = first_len;
  uint32_t i = 0;
  int eof = 0;
  int32_t rc = STORE_OK;

  *total = 0;
  while (n > 0) {
    if (i == AZ_MAX_BLOCKS) {
      rc = az_fail(t, err, STORE_E_INVALID,
                   "a put of unknown length holds at most %u blocks of "
                   "%zu MiB", AZ_MAX_BLOCKS, AZ_BUFFER_BLOCK >> 20);
      goto out;
    }
    az_block_id(nonce, ++i, id);
    rc = az_put_block(h, t, id, NULL, buf, n, crc, err);
    if (rc)
      goto out;
    *total += n;
    if (eof)
      break;
    rc = az_fill(t, src, src_ctx, buf, AZ_BUFFER_BLOCK, &n, &eof, err);
    if (rc)
      goto out;
  }
out:
  *nblocks = i;
  return rc;
}

/* The body as blocks, then one commit. buf is NULL for a known length
 * (streamed from src), else AZ_BUFFER_BLOCK bytes whose first first_len
 * are the start of a body of unknown length. */
int32_t az_put_blocks(store_handle *h, const az_target *t,
                      const store_put_opts *opts, store_read_fn src,
                      void *src_ctx, char *buf, size_t first_len,
                      store_put_result *out, store_error *err)
{
  az_block_list_opts co = {
    STORE_OPT(opts, store_put_opts, content_type, NULL),
    STORE_OPT(opts, store_put_opts, metadata, NULL),
    STORE_OPT(opts, store_put_opts, nmetadata, 0), {1, 0},
    STORE_OPT(opts, store_put_opts, flags, 0),
    STORE_OPT(opts, store_put_opts, if_match, NULL)};
  int64_t len = STORE_OPT(opts, store_put_opts, content_length, -1);
  char nonce[AZ_NONCE_HEX + 1];
  uint64_t total = (uint64_t)len;
  uint32_t n = 0;
  int32_t rc;

  rc = az_nonce_new(t, nonce, err);
  if (rc)
    goto out;
  rc = precheck(h, t, co.flags, err);
  if (rc)
    goto out;
  if (buf)
    rc = put_unknown(h, t, nonce, buf, first_len, src, src_ctx, &n, &total,
                     &co.crc.crc, err);
  else
    rc = put_known(h, t, nonce, total, src, src_ctx, &n, &co.crc.crc, err);
  if (rc)
    goto out;
  rc = az_crc_compare(t, az_opts_crc(opts), co.crc.crc, total, err);
  if (rc)
    goto out;
  rc = az_put_block_list(h, t, nonce, n, &co, total, out, err);
out:
  return rc;
}
