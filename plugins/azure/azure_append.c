/*
** azure_append.c -- append: append blobs, created when missing (Put Blob
** with x-ms-blob-type: AppendBlob), extended with Append Block.
**
** Only append blobs take Append Block; appending to a block blob (what
** put makes) is a PRECONDITION error naming the blob's type. Append Block
** takes at most AZ_APPEND_BLOCK bytes at AZ_API_VERSION, so the body goes
** up in pieces of that size: each is atomic, the whole append is not (a
** failure part way leaves the pieces that made it). Each piece carries
** its Content-MD5, so the service appends only the bytes that were sent.
*/
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "azure.h"
#include "sdk_error.h"

/* Create the append blob if it is missing; refuse other blob types. */
static int32_t ensure_append_blob(store_handle *h, const az_target *t,
                                  const char *ct, store_error *err)
{
  store_kv create[] = {{"x-ms-blob-type", "AppendBlob"},
                       {"x-ms-blob-content-type", ct ? ct : AZ_DEFAULT_CT},
                       {"If-None-Match", "*"}};
  sdk_response *resp = NULL;
  store_error probe;
  az_props p = {0};
  int32_t rc;

  memset(&probe, 0, sizeof(probe));
  probe.struct_size = sizeof(probe);
  rc = az_head(h, t, &resp, &p, &probe);
  if (rc == STORE_OK) {
    if (p.blob_type && strcmp(p.blob_type, "AppendBlob"))
      rc = az_fail(t, err, STORE_E_PRECONDITION,
                   "it is a %.32s, not an AppendBlob: only append blobs "
                   "(which append creates) can be appended to",
                   p.blob_type);
    goto out;
  }
  if (rc != STORE_E_NOT_FOUND ||
      !strcmp(probe.provider_code, "ContainerNotFound")) {
    sdk_error_copy(err, &probe);
    goto out;
  }
  rc = az_exec(h, t, "PUT", NULL, create, 3, NULL, err);
  /* Someone else created it first: fine, Append Block checks its type. */
  if (rc == STORE_E_EXISTS) {
    sdk_error_clear(err);
    rc = STORE_OK;
  }
out:
  az_props_free(&p);
  sdk_response_free(resp);
  return rc;
}

static int32_t append_block(store_handle *h, const az_target *t,
                            const char *buf, size_t n, store_error *err)
{
  sdk_request *r = NULL;
  int32_t rc;

  rc = az_request(h, t, "PUT", "comp=appendblock", &r, err);
  if (rc)
    goto out;
  sdk_request_body_mem(r, buf, n);
  /* Checked by the service: a damaged block is refused, not appended. */
  rc = az_md5_header(t, r, buf, n, err);
  if (rc)
    goto out;
  rc = az_perform_md5(h, t, r, NULL, err);
out:
  sdk_request_free(r);
  return rc;
}

int32_t az_blob_append(store_handle *h, const char *container,
                       const char *key, const store_append_opts *opts,
                       store_read_fn src, void *src_ctx, store_error *err)
{
  az_target t = {"append to", container, key, NULL};
  int64_t len = STORE_OPT(opts, store_append_opts, content_length, -1);
  const char *ct = STORE_OPT(opts, store_append_opts, content_type, NULL);
  uint64_t total = 0;
  char *buf = NULL;
  size_t n = 0;
  int eof = 0;
  int32_t rc;

  rc = az_check_key(&t, err);
  if (rc)
    goto out;
  rc = az_check_source(&t, src, len, err);
  if (rc)
    goto out;
  rc = az_meta_check(&t, ct, NULL, 0, err);
  if (rc)
    goto out;
  buf = malloc(AZ_APPEND_BLOCK);
  if (!buf) {
    rc = az_nomem(&t, err);
    goto out;
  }
  rc = ensure_append_blob(h, &t, ct, err);
  if (rc)
    goto out;
  while (!eof) {
    rc = az_fill(&t, src, src_ctx, buf, AZ_APPEND_BLOCK, &n, &eof, err);
    if (rc)
      goto out;
    if (len >= 0 && total + n > (uint64_t)len) {
      rc = az_fail(&t, err, STORE_E_INVALID,
                   "body longer than the declared %" PRId64 " bytes", len);
      goto out;
    }
    if (n) {
      rc = append_block(h, &t, buf, n, err);
      if (rc)
        goto out;
    }
    total += n;
  }
  if (len >= 0 && total != (uint64_t)len)
    rc = az_fail(&t, err, STORE_E_INVALID,
                 "short body: got %" PRIu64 " of the declared %" PRId64
                 " bytes", total, len);
out:
  free(buf);
  return rc;
}
