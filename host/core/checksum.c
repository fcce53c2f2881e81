/*
** checksum.c -- CRC-32C for end-to-end checks: computed while bytes stream
** (ISA-L's crc32_iscsi, hardware speed), and combined across parts that
** were summed apart (parallel multipart uploads and ranged downloads).
*/
#include <limits.h>

#include <isa-l/crc.h>

#include "core/core.h"

uint32_t st_crc32c(uint32_t crc, const void *data, size_t len)
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

uint32_t st_crc32c_combine(uint32_t crc1, uint32_t crc2, uint64_t len2)
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
