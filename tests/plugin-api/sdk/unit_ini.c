/*
** unit_ini.c -- sdk_ini.h on OCI's ~/.oci/config layout and the reader's
** edges: keys before any section, '=' inside values, CRLF, the last of a
** repeated key, files missing, unreadable and too big.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "sdk_ini.h"

static char g_dir[64];
static char g_path[128];

static int setup(void **state)
{
  (void)state;
  snprintf(g_dir, sizeof(g_dir), "/tmp/sdk-ini-XXXXXX");
  if (!mkdtemp(g_dir))
    return -1;
  snprintf(g_path, sizeof(g_path), "%s/config", g_dir);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  chmod(g_path, 0600);
  unlink(g_path);
  rmdir(g_dir);
  return 0;
}

static void write_config(const char *text)
{
  FILE *f = fopen(g_path, "wb");

  assert_non_null(f);
  assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
  assert_int_equal(fclose(f), 0);
}

static void test_ini_oci_config(void **state)
{
  sdk_ini *ini = NULL;

  (void)state;
  write_config("[DEFAULT]\r\n"
               "user=ocid1.user.oc1..aaaa\r\n"
               "fingerprint=20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34\n"
               "key_file=~/.oci/oci_api_key.pem\n"
               "tenancy=ocid1.tenancy.oc1..bbbb\n"
               "region=us-ashburn-1\n"
               "\n"
               "[ADMIN_USER]\n"
               "user=ocid1.user.oc1..cccc\n"
               "pass_phrase = a=b ; not a comment\n"
               "key_file=k.pem   # nor this\n");
  assert_int_equal(sdk_ini_load(g_path, &ini), 0);
  assert_non_null(ini);
  assert_string_equal(sdk_ini_get(ini, "DEFAULT", "user"),
                      "ocid1.user.oc1..aaaa");
  assert_string_equal(sdk_ini_get(ini, "DEFAULT", "fingerprint"),
                      "20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34");
  assert_string_equal(sdk_ini_get(ini, "DEFAULT", "region"), "us-ashburn-1");
  /* section names exactly, keys in any case */
  assert_null(sdk_ini_get(ini, "default", "user"));
  assert_string_equal(sdk_ini_get(ini, "ADMIN_USER", "USER"),
                      "ocid1.user.oc1..cccc");
  /* the first '=' splits; the rest of the line is the value */
  assert_string_equal(sdk_ini_get(ini, "ADMIN_USER", "pass_phrase"),
                      "a=b ; not a comment");
  /* nor is a '#' after a value: Python's configparser as the OCI SDK uses
   * it (no inline_comment_prefixes), oci-common and botocore keep it */
  assert_string_equal(sdk_ini_get(ini, "ADMIN_USER", "key_file"),
                      "k.pem   # nor this");
  assert_null(sdk_ini_get(ini, "ADMIN_USER", "region"));
  assert_true(sdk_ini_has_section(ini, "ADMIN_USER"));
  assert_false(sdk_ini_has_section(ini, "admin_user"));
  sdk_ini_free(ini);
}

static void test_ini_edges(void **state)
{
  sdk_ini *ini = NULL;

  (void)state;
  write_config("top = 1\n"
               "[s]\n"
               "k = first\n"
               "   # an indented comment\n"
               "k = second\n"
               "[t]\n"
               "[ u   v ]\n"
               "x =\n");
  assert_int_equal(sdk_ini_load(g_path, &ini), 0);
  assert_string_equal(sdk_ini_get(ini, "", "top"), "1");
  assert_string_equal(sdk_ini_get(ini, "s", "k"), "second");
  /* a header alone makes no section; "[ u   v ]" is "u v" */
  assert_false(sdk_ini_has_section(ini, "t"));
  assert_true(sdk_ini_has_section(ini, "u v"));
  assert_string_equal(sdk_ini_get(ini, "u v", "x"), "");
  sdk_ini_free(ini);
  sdk_ini_free(NULL);
}

static void test_ini_load_errors(void **state)
{
  sdk_ini *ini = (sdk_ini *)1;
  char *big;
  FILE *f;

  (void)state;
  /* missing: no error, nothing read */
  assert_int_equal(sdk_ini_load("/nonexistent-dir/config", &ini), 0);
  assert_null(ini);

  /* a directory cannot be read as a file */
  ini = (sdk_ini *)1;
  assert_int_equal(sdk_ini_load(g_dir, &ini), -1);
  assert_null(ini);

  /* over 1 MiB: EFBIG */
  big = malloc((1u << 20) + 2);
  assert_non_null(big);
  memset(big, '#', (1u << 20) + 1);
  big[(1u << 20) + 1] = '\0';
  f = fopen(g_path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(big, 1, (1u << 20) + 1, f), (1u << 20) + 1);
  assert_int_equal(fclose(f), 0);
  free(big);
  ini = (sdk_ini *)1;
  errno = 0;
  assert_int_equal(sdk_ini_load(g_path, &ini), -1);
  assert_int_equal(errno, EFBIG);
  assert_null(ini);

  /* exactly 1 MiB is still read */
  assert_int_equal(truncate(g_path, 1u << 20), 0);
  assert_int_equal(sdk_ini_load(g_path, &ini), 0);
  assert_non_null(ini);
  sdk_ini_free(ini);
}

int unit_ini(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_ini_oci_config, setup, teardown),
    cmocka_unit_test_setup_teardown(test_ini_edges, setup, teardown),
    cmocka_unit_test_setup_teardown(test_ini_load_errors, setup, teardown),
  };
  return cmocka_run_group_tests_name("sdk/ini", tests, NULL, NULL);
}
