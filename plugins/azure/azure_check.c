/*
** azure_check.c -- every upload checked end to end: the bytes the service
** took are the bytes that were sent.
**
** A body held in memory carries its Content-MD5: the service refuses a
** body that does not match it (Md5Mismatch, azure_error.c). A streamed
** body is summed while it goes out (never read twice) and compared with
** what the response reports of the bytes received: Put Blob answers the
** Content-MD5 of the blob, Put Block (at AZ_API_VERSION, when the request
** carried no Content-MD5) only an x-ms-content-crc64. A mismatch is an
** IO error naming both values, retryable: a damaged transfer is worth
** sending again, if the host can read its source again. A body in memory
** that the service refused as damaged is sent again here, as it need not
** be read again (az_perform_md5).
*/
#include <inttypes.h>
#include <string.h>

#include "azure.h"
#include "sdk_azure.h"
#include "sdk_util.h"

/* The body's store_read_fn (ud is the az_sum): sdk_body_read, summing
 * what it passes on. */
static int32_t sum_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  az_sum *s = ud;
  int32_t rc = sdk_body_read(s->b, buf, cap, out_n);

  /* A source that gave more than asked (SDK_BODY_BAD) fails the request:
   * nothing past cap is read. */
  if (rc || !*out_n || *out_n > cap)
    return rc;
  /* The CRC-32C too, for the record kept with the blob (azure_meta.c):
   * with ISA-L a small fraction of the MD5's or CRC64's cost. */
  s->crc32c = sdk_crc32c(s->crc32c, buf, *out_n);
  if (s->kind == AZ_SUM_CRC64)
    s->crc = sdk_azure_crc64(s->crc, buf, *out_n);
  else if (sdk_digest_update(s->md5, buf, *out_n))
    return STORE_E_NOMEM;
  return STORE_OK;
}

int32_t az_sum_attach(const az_target *t, sdk_request *r, az_sum *s,
                      sdk_body *b, int kind, uint32_t crc32c,
                      store_error *err)
{
  memset(s, 0, sizeof(*s));
  s->crc32c = crc32c;
  s->b = b;
  s->kind = kind;
  if (kind == AZ_SUM_MD5 && sdk_digest_new(SDK_DIGEST_MD5, &s->md5))
    return az_nomem(t, err);
  sdk_request_body_stream(r, sum_read, s, (int64_t)b->want);
  return STORE_OK;
}

void az_sum_free(az_sum *s)
{
  sdk_digest_free(s->md5);
  s->md5 = NULL;
}

int32_t az_sum_compare(const az_target *t, const char *header,
                       const unsigned char *sent, size_t n,
                       const char *got_b64, uint64_t nbytes,
                       store_error *err)
{
  sdk_buf got = SDK_BUF_INIT;
  char want_hex[33], got_hex[33];
  int32_t rc = STORE_OK;

  /* No value, or not one of this kind: nothing learnt either way. */
  if (!got_b64 || n > 16 ||
      sdk_base64_decode(&got, got_b64, strlen(got_b64)) || got.len != n ||
      !memcmp(got.data, sent, n))
    goto out;
  sdk_hex(sent, n, want_hex);
  sdk_hex(got.data, n, got_hex);
  rc = az_fail(t, err, STORE_E_IO,
               "other bytes arrived than were sent (%s %s, "
               "%s of the %" PRIu64 " bytes sent %s)", header, got_hex,
               n == 16 ? "MD5" : "CRC64", nbytes, want_hex);
  if (err)
    err->flags |= STORE_ERR_RETRYABLE;
out:
  sdk_buf_free(&got);
  return rc;
}

int32_t az_sum_verify(const az_target *t, az_sum *s,
                      const sdk_response *resp, store_error *err)
{
  const char *header = s->kind == AZ_SUM_CRC64 ? "x-ms-content-crc64"
                                               : "Content-MD5";
  unsigned char sum[16];
  size_t n = 8;

  if (s->kind == AZ_SUM_CRC64) {
    for (int i = 0; i < 8; i++)
      sum[i] = (unsigned char)(s->crc >> (8 * i));
  } else {
    int bad = sdk_digest_final(s->md5, sum); /* frees it */
    s->md5 = NULL;
    if (bad)
      return az_nomem(t, err);
    n = 16;
  }
  return az_sum_compare(t, header, sum, n,
                        sdk_response_header(resp, header), s->b->sent, err);
}

int32_t az_md5_header(const az_target *t, sdk_request *r, const void *mem,
                      size_t n, store_error *err)
{
  unsigned char md5[16];
  sdk_buf b64 = SDK_BUF_INIT;
  int32_t rc;

  if (sdk_md5(mem, n, md5) || sdk_base64_encode(&b64, md5, sizeof(md5)))
    rc = az_nomem(t, err);
  else
    rc = az_header(t, r, "Content-MD5", sdk_buf_str(&b64), err);
  sdk_buf_free(&b64);
  return rc;
}

int32_t az_perform_md5(store_handle *h, const az_target *t, sdk_request *r,
                       sdk_response **out, store_error *err)
{
  int32_t rc;

  for (int i = 1;; i++) {
    rc = az_perform(h, t, r, out, err);
    if (!rc || i == AZ_MD5_SENDS || !err ||
        strcmp(err->provider_code, "Md5Mismatch"))
      return rc;
    sdk_error_clear(err);
  }
}
