/*
** test_error.c -- host messages that do not fit store_error's 256 bytes
** keep their cause: the middle of the longest quoted name goes first.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"

static void test_short_unchanged(void **state)
{
  char out[256];

  (void)state;
  st_fit_message(out, sizeof out, "local file 'a.txt': No such file");
  assert_string_equal(out, "local file 'a.txt': No such file");
}

static void test_long_name_elided(void **state)
{
  char name[600], msg[800], out[STORE_ERR_MSG_SIZE];
  store_error err;

  (void)state;
  memset(name, 'k', sizeof name - 1);
  name[sizeof name - 1] = '\0';
  name[0] = 'A';
  name[sizeof name - 2] = 'Z';
  snprintf(msg, sizeof msg, "get: local file '%s': Permission denied", name);
  st_fit_message(out, sizeof out, msg);
  assert_int_equal(strlen(out), sizeof out - 1);
  assert_non_null(strstr(out, "get: local file 'Akkk"));
  assert_non_null(strstr(out, "...kkk"));
  assert_non_null(strstr(out, "kkZ': Permission denied"));
  /* st_err and the service prefix keep the cause the same way. */
  memset(&err, 0, sizeof err);
  st_err(&err, STORE_E_IO, "blob 'c/%s': cause at the end", name);
  assert_non_null(strstr(err.message, "': cause at the end"));
  st_err_prefix_service(&err, "svc");
  assert_non_null(strstr(err.message, "service 'svc': blob 'c/Akk"));
  assert_non_null(strstr(err.message, "': cause at the end"));
}

static void test_two_names(void **state)
{
  char a[300], b[300], msg[700], out[256];

  (void)state;
  memset(a, 'a', sizeof a - 1);
  a[sizeof a - 1] = '\0';
  memset(b, 'b', sizeof b - 1);
  b[sizeof b - 1] = '\0';
  snprintf(msg, sizeof msg, "copy '%s' to '%s': refused", a, b);
  st_fit_message(out, sizeof out, msg);
  assert_non_null(strstr(out, "': refused"));
  assert_int_equal(strlen(out), sizeof out - 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_short_unchanged),
    cmocka_unit_test(test_long_name_elided),
    cmocka_unit_test(test_two_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
