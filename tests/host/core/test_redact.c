/*
** test_redact.c -- secrets inside text: URL userinfo and signature query
** fields redacted wherever they stand in a message, the rest kept; key
** names judged secret whatever their spelling.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"

static void check(const char *in, const char *want)
{
  char buf[512];

  snprintf(buf, sizeof buf, "%s", in);
  st_redact_urls(buf, sizeof buf);
  assert_string_equal(buf, want);
}

static void test_urls(void **state)
{
  (void)state;
  check("no url here", "no url here");
  check("GET https://acct.blob.core.windows.net/c/k: 403",
        "GET https://acct.blob.core.windows.net/c/k: 403");
  /* An Azure Blob SAS URL pasted as an endpoint. */
  check("endpoint 'https://acct.blob.core.windows.net/?sv=2022-11-02&ss=b"
        "&sig=abc%2Bdef%3D&se=2030-01-01' is bad",
        "endpoint 'https://acct.blob.core.windows.net/?sv=2022-11-02&ss=b"
        "&sig=<redacted>&se=2030-01-01' is bad");
  check("http://user:pa55@127.0.0.1:9000/b/k refused",
        "http://<redacted>@127.0.0.1:9000/b/k refused");
  check("see https://h/o?X-Amz-Signature=deadbeef&X-Amz-Security-Token=t0k"
        "&X-Amz-Date=20260101T000000Z",
        "see https://h/o?X-Amz-Signature=<redacted>&X-Amz-Security-Token="
        "<redacted>&X-Amz-Date=20260101T000000Z");
  check("two: a://u@h?token=1 and b://h/p?x=1&access_token=2.",
        "two: a://<redacted>@h?token=<redacted> and b://h/p?x=1&"
        "access_token=<redacted>.");
  check("an '@' in the path is no userinfo: s3://h/a@b?sig=s",
        "an '@' in the path is no userinfo: s3://h/a@b?sig=<redacted>");
  check(":// alone", ":// alone");
}

static void test_small_buffer(void **state)
{
  char buf[24];

  (void)state;
  snprintf(buf, sizeof buf, "x http://u:p@h/?sig=s");
  st_redact_urls(buf, sizeof buf);
  assert_null(strstr(buf, "u:p"));
  assert_int_equal(strlen(buf), sizeof buf - 1);
}

static void test_key_names(void **state)
{
  (void)state;
  assert_true(st_key_looks_secret("connection-string"));
  assert_true(st_key_looks_secret("connection_string"));
  assert_true(st_key_looks_secret("ConnectionString"));
  assert_true(st_key_looks_secret("pass-phrase"));
  assert_true(st_key_looks_secret("options.sas_token"));
  assert_false(st_key_looks_secret("endpoint"));
  assert_false(st_key_looks_secret("path"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_urls),
    cmocka_unit_test(test_small_buffer),
    cmocka_unit_test(test_key_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
