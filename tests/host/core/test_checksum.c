/*
** test_checksum.c -- the host's CRC-32C: published vectors, and parts
** combined into the whole (as parallel parts and ranges are).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"

static void test_vectors(void **state)
{
  unsigned char zeros[32] = { 0 };

  (void)state;
  assert_int_equal(st_crc32c(0, "123456789", 9), 0xe3069283);
  assert_int_equal(st_crc32c(0, zeros, sizeof zeros), 0x8a9136aa);
  assert_int_equal(st_crc32c(st_crc32c(0, "123", 3), "456789", 6),
                   0xe3069283);
}

static void test_combine_equals_whole(void **state)
{
  static unsigned char buf[300000];
  uint32_t whole, a, b;
  size_t i, cuts[] = { 0, 1, 7, 4096, 65537, 299999, 300000 };

  (void)state;
  for (i = 0; i < sizeof buf; i++)
    buf[i] = (unsigned char)(i * 2654435761u >> 13);
  whole = st_crc32c(0, buf, sizeof buf);
  for (i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    a = st_crc32c(0, buf, cuts[i]);
    b = st_crc32c(0, buf + cuts[i], sizeof buf - cuts[i]);
    assert_int_equal(st_crc32c_combine(a, b, sizeof buf - cuts[i]), whole);
  }
  /* A different part does not combine to the whole. */
  b = st_crc32c(0, buf + 1, sizeof buf - 1);
  assert_int_not_equal(st_crc32c_combine(st_crc32c(0, buf, 1) ^ 1, b,
                                         sizeof buf - 1), whole);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_vectors),
    cmocka_unit_test(test_combine_equals_whole),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
