/*
** sdk_digest.c -- SHA-256, MD5 and HMAC-SHA256 through OpenSSL's EVP, one
** shot and incremental (for bodies that stream); CRC-32C through ISA-L,
** and the combination of two CRC-32Cs summed apart (the host's and the
** providers' one implementation of it).
*/
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/crc.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sdk_util.h"

struct sdk_digest {
  EVP_MD_CTX *ctx;
};

/* OpenSSL wants a valid pointer even for zero bytes. */
static const void *nonnull(const void *p)
{
  return p ? p : "";
}

static int digest_once(const EVP_MD *md, const void *data, size_t len,
                       unsigned char *out)
{
  unsigned int n;

  /* md is NULL when the algorithm is unavailable (MD5 in FIPS mode). */
  if (!md || EVP_Digest(nonnull(data), len, out, &n, md, NULL) != 1)
    return -1;
  return 0;
}

int sdk_sha256(const void *data, size_t len, unsigned char out[32])
{
  return digest_once(EVP_sha256(), data, len, out);
}

int sdk_sha256_hex(const void *data, size_t len, char out[65])
{
  unsigned char raw[32];

  if (sdk_sha256(data, len, raw))
    return -1;
  sdk_hex(raw, sizeof(raw), out);
  return 0;
}

int sdk_md5(const void *data, size_t len, unsigned char out[16])
{
  return digest_once(EVP_md5(), data, len, out);
}

int sdk_hmac_sha256(const void *key, size_t keylen, const void *data,
                    size_t len, unsigned char out[32])
{
  unsigned int n;

  if (keylen > INT_MAX)
    return -1;
  if (!HMAC(EVP_sha256(), nonnull(key), (int)keylen, nonnull(data), len, out,
            &n))
    return -1;
  return 0;
}

/* *out is the new digest (free with sdk_digest_free or _final), or NULL
 * on an unknown kind or no memory. */
int sdk_digest_new(int kind, sdk_digest **out)
{
  const EVP_MD *md = NULL;
  sdk_digest *d = NULL;
  int rc = -1;

  *out = NULL;
  if (kind == SDK_DIGEST_SHA256)
    md = EVP_sha256();
  else if (kind == SDK_DIGEST_MD5)
    md = EVP_md5();
  if (!md)
    goto out;
  d = calloc(1, sizeof(*d));
  if (!d)
    goto out;
  d->ctx = EVP_MD_CTX_new();
  if (!d->ctx || EVP_DigestInit_ex(d->ctx, md, NULL) != 1)
    goto out;
  *out = d;
  d = NULL;
  rc = 0;
out:
  sdk_digest_free(d);
  return rc;
}

int sdk_digest_update(sdk_digest *d, const void *data, size_t len)
{
  return EVP_DigestUpdate(d->ctx, nonnull(data), len) == 1 ? 0 : -1;
}

/* Frees d whatever happens, so the caller never frees it twice. */
int sdk_digest_final(sdk_digest *d, unsigned char *out)
{
  unsigned int n;
  int rc;

  rc = EVP_DigestFinal_ex(d->ctx, out, &n) == 1 ? 0 : -1;
  sdk_digest_free(d);
  return rc;
}

void sdk_digest_free(sdk_digest *d)
{
  if (!d)
    return;
  EVP_MD_CTX_free(d->ctx);
  free(d);
}

uint32_t sdk_crc32c(uint32_t crc, const void *data, size_t len)
{
  const unsigned char *p = data;
  size_t n;

  /* crc32_iscsi neither pre- nor post-inverts, and takes an int length. */
  crc = ~crc;
  while (len) {
    n = len > INT_MAX / 2 ? INT_MAX / 2 : len;
    crc = crc32_iscsi((unsigned char *)p, (int)n, crc);
    p += n;
    len -= n;
  }
  return ~crc;
}

/* zlib's crc32_combine, for the Castagnoli polynomial: appending len2 zero
 * bytes to crc1 is a linear map over GF(2), applied by repeated squaring
 * of the one-zero-bit operator. */
static uint32_t gf2_times(const uint32_t *mat, uint32_t vec)
{
  uint32_t sum = 0;

  for (; vec; vec >>= 1, mat++)
    if (vec & 1)
      sum ^= *mat;
  return sum;
}

static void gf2_square(uint32_t *square, const uint32_t *mat)
{
  int n;

  for (n = 0; n < 32; n++)
    square[n] = gf2_times(mat, mat[n]);
}

uint32_t sdk_crc32c_combine(uint32_t crc1, uint32_t crc2, uint64_t len2)
{
  uint32_t even[32], odd[32], row = 1;
  int n;

  if (!len2)
    return crc1;
  odd[0] = 0x82f63b78u; /* the reflected polynomial: one zero bit */
  for (n = 1; n < 32; n++) {
    odd[n] = row;
    row <<= 1;
  }
  gf2_square(even, odd); /* two zero bits */
  gf2_square(odd, even); /* four */
  do {
    gf2_square(even, odd); /* first pass: one zero byte */
    if (len2 & 1)
      crc1 = gf2_times(even, crc1);
    len2 >>= 1;
    if (!len2)
      break;
    gf2_square(odd, even);
    if (len2 & 1)
      crc1 = gf2_times(odd, crc1);
    len2 >>= 1;
  } while (len2);
  return crc1 ^ crc2;
}

int sdk_crc32c_base64(uint32_t crc, sdk_buf *out)
{
  unsigned char be[4] = { (unsigned char)(crc >> 24), (unsigned char)(crc >> 16),
                          (unsigned char)(crc >> 8), (unsigned char)crc };

  return sdk_base64_encode(out, be, sizeof be);
}

int sdk_crc32c_parse(const char *s, uint32_t *out)
{
  sdk_buf b = SDK_BUF_INIT;
  const unsigned char *p;
  int rc = -1;

  if (s && !sdk_base64_decode(&b, s, strlen(s)) && b.len == 4) {
    p = (const unsigned char *)b.data;
    *out = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    rc = 0;
  }
  sdk_buf_free(&b);
  return rc;
}
