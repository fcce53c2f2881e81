/*
** The upload journal's part lines (host/engine/journal.c) are read
** strictly: decimal numbers and 8 lowercase hex digits of CRC-32C only; a
** line strtoul would have taken (a sign, a 0x, upper case) is ignored, so
** its part is sent again rather than matched against a wrong CRC.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/engine.h"

static void test_part_lines_strict(void **state)
{
  char dir[] = "/tmp/xtstore-journal-XXXXXX", path[64], cmd[96];
  st_mp_ident id = {1, 2, 3, 4, 0};
  st_journal *j;
  FILE *f;
  (void)state;
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof(path), "%s/j", dir);
  j = st_journal_new(path, "svc", "c", "k", "up-1", &id, 1024);
  assert_non_null(j);
  assert_int_equal(st_journal_write(j), 0);
  assert_int_equal(st_journal_add(j, 1, 1024, "t1", 0x0000abcd), 0);
  st_journal_free(j);
  f = fopen(path, "a");
  assert_non_null(f);
  fputs("P 2 1024 t2 +000abcd\n"
        "P 3 1024 t3 0x00abcd\n"
        "P 4 1024 t4 0000ABCD\n"
        "P +5 1024 t5 0000abcd\n"
        "P 6 +1024 t6 0000abcd\n"
        "P 7 1024 t7 0000abcd\n", f);
  fclose(f);
  assert_int_equal(st_journal_read(path, &j), 0);
  assert_int_equal(j->nparts, 2);
  assert_int_equal(j->parts[0].no, 1);
  assert_int_equal(j->parts[0].crc, 0xabcd);
  assert_int_equal(j->parts[1].no, 7);
  st_journal_free(j);
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_part_lines_strict),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
