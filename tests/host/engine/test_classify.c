/*
** st_plan_classify (host/workflow/plan.c), which migrate and sync decide
** by: with --checksum the CRC-32Cs when both listings have them (an MD5
** that differs does not matter then), else the MD5s, else the times.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "workflow/workflow.h"

static st_wf_entry *entry(uint64_t size, const char *md5, int has_crc,
                          uint32_t crc)
{
  st_wf_entry *e = calloc(1, sizeof(*e) + 2);
  assert_non_null(e);
  e->size = size;
  e->mtime_ns = STORE_MTIME_UNKNOWN;
  snprintf(e->md5, sizeof(e->md5), "%s", md5);
  e->has_crc = has_crc;
  e->crc32c = crc;
  strcpy(e->name, "k");
  return e;
}

static void test_crc_preferred(void **state)
{
  st_wf_entry *a = entry(9, "aa", 1, 0xe3069283), *b = entry(9, "bb", 1,
                                                              0xe3069283);
  (void)state;
  /* the same CRC-32C, other MD5s (one side a multipart ETag): equal */
  assert_int_equal(st_plan_classify(a, b, 1), XTSTORE_OBJ_EQUAL);
  b->crc32c ^= 1;
  assert_int_equal(st_plan_classify(a, b, 1), XTSTORE_OBJ_UPDATE);
  /* without --checksum, neither is looked at */
  assert_int_equal(st_plan_classify(a, b, 0), XTSTORE_OBJ_EQUAL);
  /* one side without a CRC-32C: the MD5s decide */
  b->has_crc = 0;
  assert_int_equal(st_plan_classify(a, b, 1), XTSTORE_OBJ_UPDATE);
  snprintf(b->md5, sizeof(b->md5), "aa");
  assert_int_equal(st_plan_classify(a, b, 1), XTSTORE_OBJ_EQUAL);
  free(a);
  free(b);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_crc_preferred),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
