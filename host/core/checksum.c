/*
** checksum.c -- CRC-32C for end-to-end checks: computed while bytes stream
** (ISA-L's crc32_iscsi, hardware speed), and combined across parts that
** were summed apart (parallel multipart uploads and ranged downloads), by
** the plugin SDK's functions, linked in; and the comparisons of a put's
** checksums with what the store reports.
*/
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "sdk_util.h"

/* The SDK's, so that the CRC math exists once: plugin-api/sdk/sdk_digest.c. */
uint32_t st_crc32c(uint32_t crc, const void *data, size_t len)
{
  return sdk_crc32c(crc, data, len);
}

uint32_t st_crc32c_combine(uint32_t crc1, uint32_t crc2, uint64_t len2)
{
  return sdk_crc32c_combine(crc1, crc2, len2);
}

int st_crc32c_verify(const xtstore_svc *svc, const char *container,
                     const char *key, uint32_t got, uint32_t want,
                     store_error *err)
{
  int rc;

  if (got == want)
    return STORE_OK;
  rc = st_err(err, STORE_E_IO, "service '%s': blob '%s/%s': the bytes "
              "received differ from the blob (CRC-32C %08x, the blob's "
              "%08x): changed on the way, or the CRC-32C stored with the "
              "blob is wrong", svc->name, container, key, got, want);
  /* Another get may well be right: the caller decides. */
  if (err)
    err->flags |= STORE_ERR_RETRYABLE;
  return rc;
}

static void hex16(const uint8_t *md5, char *out)
{
  int i;

  for (i = 0; i < 16; i++)
    snprintf(out + 2 * i, 3, "%02x", md5[i]);
}

int st_cksum_mismatch(const store_put_opts *opts, int known, uint32_t crc,
                      const store_put_result *out, char *why, size_t cap)
{
  char a[33], b[33];

  /* Known before sending: the bytes that went must be those. */
  if (opts && STORE_HAS_FIELD(store_put_opts, crc32c, opts->struct_size) &&
      (opts->checksums & STORE_CKSUM_CRC32C) && opts->crc32c != crc) {
    if (known == ST_KNOWN_FILE)
      snprintf(why, cap, "the bytes sent have CRC-32C %08x, the file's was "
               "%08x when read ahead: the file changed while it was read",
               crc, opts->crc32c);
    else if (known == ST_KNOWN_COPY)
      snprintf(why, cap, "the bytes sent have CRC-32C %08x, the copy "
               "source's CRC-32C is %08x: they changed on the way from the "
               "source", crc, opts->crc32c);
    else
      snprintf(why, cap, "the bytes sent have CRC-32C %08x, the CRC-32C "
               "given for them is %08x", crc, opts->crc32c);
    return ST_MISMATCH_KNOWN;
  }
  if (!out)
    return 0;
  if (STORE_HAS_FIELD(store_put_result, crc32c, out->struct_size) &&
      (out->checksums & STORE_CKSUM_CRC32C) && out->crc32c != crc) {
    snprintf(why, cap, "the store reports CRC-32C %08x for the bytes "
             "stored, the bytes sent have %08x", out->crc32c, crc);
    return ST_MISMATCH_STORE;
  }
  /* An MD5 only where the host had one to compare with. */
  if (opts && STORE_HAS_FIELD(store_put_opts, md5, opts->struct_size) &&
      (opts->checksums & STORE_CKSUM_MD5) &&
      STORE_HAS_FIELD(store_put_result, md5, out->struct_size) &&
      (out->checksums & STORE_CKSUM_MD5) &&
      memcmp(out->md5, opts->md5, sizeof(out->md5))) {
    hex16(out->md5, a);
    hex16(opts->md5, b);
    snprintf(why, cap, "the store reports MD5 %s for the bytes stored, the "
             "bytes sent have %s", a, b);
    return ST_MISMATCH_STORE;
  }
  return 0;
}

int st_cksum_retryable(int mismatch, int known)
{
  return mismatch == ST_MISMATCH_STORE ||
         (mismatch == ST_MISMATCH_KNOWN && known == ST_KNOWN_COPY);
}
