/*
** unit_digest.c -- SHA-256, MD5 and HMAC-SHA256 against published vectors;
** the incremental digests against the one-shot ones; CRC-32C against its
** vectors, and CRCs of parts combined into the whole's.
*/
#include <string.h>

#include "unit.h"
#include "sdk_buf.h"
#include "sdk_util.h"

static void hex_of(const unsigned char *raw, size_t n, char *out)
{
  sdk_hex(raw, n, out);
}

static void test_sha256_vectors(void **state)
{
  char hex[65];

  (void)state;
  /* FIPS 180-2 examples. */
  assert_int_equal(sdk_sha256_hex("", 0, hex), 0);
  assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
                           "27ae41e4649b934ca495991b7852b855");
  assert_int_equal(sdk_sha256_hex(NULL, 0, hex), 0);
  assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
                           "27ae41e4649b934ca495991b7852b855");
  assert_int_equal(sdk_sha256_hex("abc", 3, hex), 0);
  assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
                           "b00361a396177a9cb410ff61f20015ad");
}

static void test_md5_vectors(void **state)
{
  unsigned char raw[16];
  char hex[33];

  (void)state;
  /* RFC 1321 appendix A.5. */
  assert_int_equal(sdk_md5("", 0, raw), 0);
  hex_of(raw, 16, hex);
  assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
  assert_int_equal(sdk_md5("abc", 3, raw), 0);
  hex_of(raw, 16, hex);
  assert_string_equal(hex, "900150983cd24fb0d6963f7d28e17f72");
}

static void test_hmac_rfc4231(void **state)
{
  unsigned char mac[32], key[20];
  char hex[65];

  (void)state;
  /* RFC 4231 test case 2. */
  assert_int_equal(sdk_hmac_sha256("Jefe", 4, "what do ya want for nothing?",
                                   28, mac), 0);
  hex_of(mac, 32, hex);
  assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c7"
                           "5a003f089d2739839dec58b964ec3843");
  /* Test case 1: 20 bytes of 0x0b, "Hi There". */
  memset(key, 0x0b, sizeof(key));
  assert_int_equal(sdk_hmac_sha256(key, sizeof(key), "Hi There", 8, mac), 0);
  hex_of(mac, 32, hex);
  assert_string_equal(hex, "b0344c61d8db38535ca8afceaf0bf12b"
                           "881dc200c9833da726e9376c2e32cff7");
}

/* Feed data in uneven pieces; compare with the one-shot digest. */
static void check_incremental(int kind, const unsigned char *data, size_t len)
{
  unsigned char inc[32], once[32];
  size_t off = 0, step = 1, outlen = kind == SDK_DIGEST_MD5 ? 16 : 32;
  sdk_digest *d;

  assert_int_equal(sdk_digest_new(kind, &d), 0);
  assert_non_null(d);
  while (off < len) {
    size_t n = len - off < step ? len - off : step;

    assert_int_equal(sdk_digest_update(d, data + off, n), 0);
    off += n;
    step = step * 3 + 1;
  }
  assert_int_equal(sdk_digest_final(d, inc), 0);
  if (kind == SDK_DIGEST_MD5)
    assert_int_equal(sdk_md5(data, len, once), 0);
  else
    assert_int_equal(sdk_sha256(data, len, once), 0);
  assert_memory_equal(inc, once, outlen);
}

static void test_incremental_equals_one_shot(void **state)
{
  static unsigned char data[1 << 20];
  uint32_t x = 7;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(data); i++) {
    x = x * 1664525u + 1013904223u;
    data[i] = (unsigned char)(x >> 24);
  }
  check_incremental(SDK_DIGEST_SHA256, data, sizeof(data));
  check_incremental(SDK_DIGEST_MD5, data, sizeof(data));
  check_incremental(SDK_DIGEST_SHA256, data, 0);
  check_incremental(SDK_DIGEST_MD5, data, 0);
}

static void test_digest_bad_kind(void **state)
{
  sdk_digest *d = (sdk_digest *)&d;

  (void)state;
  assert_int_equal(sdk_digest_new(99, &d), -1);
  assert_null(d);
  sdk_digest_free(NULL);
}

static void test_crc32c_vectors(void **state)
{
  unsigned char zeros[32] = { 0 }, ones[32];
  sdk_buf b = SDK_BUF_INIT;
  uint32_t v = 0;

  (void)state;
  /* RFC 3720 B.4, and the usual check value. */
  memset(ones, 0xff, sizeof ones);
  assert_int_equal(sdk_crc32c(0, zeros, sizeof zeros), 0x8a9136aa);
  assert_int_equal(sdk_crc32c(0, ones, sizeof ones), 0x62a8ab43);
  assert_int_equal(sdk_crc32c(0, "123456789", 9), 0xe3069283);
  /* Continued across two calls. */
  assert_int_equal(sdk_crc32c(sdk_crc32c(0, "1234", 4), "56789", 5),
                   0xe3069283);
  assert_int_equal(sdk_crc32c(0, NULL, 0), 0);
  /* The wire form: base64 of the big-endian bytes. */
  assert_int_equal(sdk_crc32c_base64(0xe3069283, &b), 0);
  assert_string_equal(sdk_buf_str(&b), "4waSgw==");
  assert_int_equal(sdk_crc32c_parse("4waSgw==", &v), 0);
  assert_int_equal(v, 0xe3069283);
  assert_int_equal(sdk_crc32c_parse("4waSg3Q=", &v), -1); /* 5 bytes */
  assert_int_equal(sdk_crc32c_parse("not base64!", &v), -1);
  assert_int_equal(sdk_crc32c_parse(NULL, &v), -1);
  sdk_buf_free(&b);
}

/* Every cut of a buffer: the parts' CRCs combine into the whole's, across
 * the lengths the combination handles specially (0, odd and even bit
 * counts of the length, many bytes). */
static void test_crc32c_combine(void **state)
{
  static unsigned char buf[300000];
  static const size_t cuts[] = { 0, 1, 2, 3, 7, 8, 4096, 65537, 299999,
                                 300000 };
  uint32_t whole, a, b;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof buf; i++)
    buf[i] = (unsigned char)(i * 2654435761u >> 13);
  whole = sdk_crc32c(0, buf, sizeof buf);
  for (i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    a = sdk_crc32c(0, buf, cuts[i]);
    b = sdk_crc32c(0, buf + cuts[i], sizeof buf - cuts[i]);
    assert_int_equal(sdk_crc32c_combine(a, b, sizeof buf - cuts[i]), whole);
  }
  /* The usual check value from two pieces; an empty second part. */
  assert_int_equal(sdk_crc32c_combine(sdk_crc32c(0, "1234", 4),
                                      sdk_crc32c(0, "56789", 5), 5),
                   0xe3069283);
  assert_int_equal(sdk_crc32c_combine(0xe3069283, 0, 0), 0xe3069283);
  /* Three parts, combined left to right, as multipart completes do. */
  a = sdk_crc32c(0, buf, 100000);
  a = sdk_crc32c_combine(a, sdk_crc32c(0, buf + 100000, 100000), 100000);
  a = sdk_crc32c_combine(a, sdk_crc32c(0, buf + 200000, 100000), 100000);
  assert_int_equal(a, whole);
  /* A part with one bit changed, or a wrong length, is not the whole. */
  b = sdk_crc32c(0, buf + 1, sizeof buf - 1);
  assert_int_not_equal(sdk_crc32c_combine(sdk_crc32c(0, buf, 1) ^ 1, b,
                                          sizeof buf - 1), whole);
  assert_int_not_equal(sdk_crc32c_combine(sdk_crc32c(0, buf, 1), b,
                                          sizeof buf - 2), whole);
}

int unit_digest(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sha256_vectors),
    cmocka_unit_test(test_md5_vectors),
    cmocka_unit_test(test_hmac_rfc4231),
    cmocka_unit_test(test_incremental_equals_one_shot),
    cmocka_unit_test(test_digest_bad_kind),
    cmocka_unit_test(test_crc32c_vectors),
    cmocka_unit_test(test_crc32c_combine),
  };

  return cmocka_run_group_tests_name("sdk digests", tests, NULL, NULL);
}
