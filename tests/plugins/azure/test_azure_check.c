/*
** test_azure_check.c -- the end-to-end checks of uploads and downloads
** (azure_check.c, azure_error.c, azure_meta.c compiled in): Azure's CRC64,
** the comparison of what was sent with what the service reports, the
** service's own refusals, and which MD5 a GET's entry carries.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "azure.h"
#include "sdk_azure.h"

static const az_target put = {"put", "photos", "a/b.txt", NULL};
static const az_target get = {"get", "photos", "a/b.txt", NULL};

static store_error err_new(void)
{
  store_error e;

  memset(&e, 0, sizeof(e));
  e.struct_size = sizeof(e);
  return e;
}

static void assert_contains_at(const char *hay, const char *needle,
                               const char *file, int line)
{
  if (!strstr(hay, needle)) {
    print_error("'%s' does not contain '%s'\n", hay, needle);
    _fail(file, line);
  }
}
#define assert_contains(h, n) assert_contains_at((h), (n), __FILE__, __LINE__)

/* CRC-64/NVME's check value, chaining, and a value Azurite returned as
 * the x-ms-content-crc64 of a Put Block of "hello world" x 1000. */
static void test_crc64(void **state)
{
  char body[11000], b64[13];
  uint64_t c;

  (void)state;
  assert_true(sdk_azure_crc64(0, "123456789", 9) ==
              UINT64_C(0xAE8B14860A799888));
  assert_true(sdk_azure_crc64(sdk_azure_crc64(0, "1234", 4), "56789", 5) ==
              UINT64_C(0xAE8B14860A799888));
  assert_true(sdk_azure_crc64(0, "", 0) == 0);
  for (int i = 0; i < 1000; i++)
    memcpy(body + 11 * i, "hello world", 11);
  c = sdk_azure_crc64(0, body, 3);      /* unaligned pieces: same result */
  c = sdk_azure_crc64(c, body + 3, sizeof(body) - 3);
  assert_int_equal(sdk_azure_crc64_base64(c, b64), 0);
  assert_string_equal(b64, "C2sET4hADhY=");
}

static const unsigned char md5_sent[16] = {
  0x92, 0xae, 0x19, 0xf4, 0x8a, 0xb2, 0x76, 0xbe,
  0x74, 0xb6, 0xea, 0x59, 0x37, 0x7a, 0x3e, 0x3d};

/* The same value: fine; another: an IO error naming the object and both
 * values, retryable. */
static void test_compare(void **state)
{
  store_error e = err_new();

  (void)state;
  /* base64 of md5_sent */
  assert_int_equal(az_sum_compare(&put, "Content-MD5", md5_sent, 16,
                                  "kq4Z9Iqydr50tupZN3o+PQ==", 3145728, &e),
                   STORE_OK);
  assert_int_equal(az_sum_compare(&put, "Content-MD5", md5_sent, 16,
                                  "XoSpJ70hZnONe5V869zLqA==", 3145728, &e),
                   STORE_E_IO);
  assert_true(e.flags & STORE_ERR_RETRYABLE);
  assert_contains(e.message, "put blob 'photos/a/b.txt'");
  assert_contains(e.message, "Content-MD5 5e84a927bd2166738d7b957cebdccba8");
  assert_contains(e.message, "MD5 of the 3145728 bytes sent "
                             "92ae19f48ab276be74b6ea59377a3e3d");
}

/* A CRC64 as Put Block returns it; absent or malformed values say
 * nothing either way. */
static void test_compare_crc64(void **state)
{
  static const unsigned char crc[8] = {0x0b, 0x6b, 0x04, 0x4f,
                                       0x88, 0x40, 0x0e, 0x16};
  store_error e = err_new();

  (void)state;
  assert_int_equal(az_sum_compare(&put, "x-ms-content-crc64", crc, 8,
                                  "C2sET4hADhY=", 11000, &e), STORE_OK);
  assert_int_equal(az_sum_compare(&put, "x-ms-content-crc64", crc, 8,
                                  "C2sET4hADhc=", 11000, &e), STORE_E_IO);
  assert_contains(e.message, "x-ms-content-crc64 0b6b044f88400e17, CRC64 "
                             "of the 11000 bytes sent 0b6b044f88400e16");
  e = err_new();
  assert_int_equal(az_sum_compare(&put, "x-ms-content-crc64", crc, 8, NULL,
                                  11000, &e), STORE_OK);
  assert_int_equal(az_sum_compare(&put, "x-ms-content-crc64", crc, 8,
                                  "not base64!", 11000, &e), STORE_OK);
  assert_int_equal(az_sum_compare(&put, "Content-MD5", md5_sent, 16,
                                  "C2sET4hADhY=", 11000, &e), STORE_OK);
  assert_int_equal(e.code, STORE_OK);
}

/* az_sum_verify: the streamed body's sum against the response's header. */
static void test_verify(void **state)
{
  sdk_response *resp = sdk_response_new(201);
  store_error e = err_new();
  sdk_body b;
  az_sum s = {0};

  (void)state;
  assert_non_null(resp);
  sdk_response_add_header(resp, "x-ms-content-crc64", "C2sET4hADhY=");
  sdk_body_init(&b, NULL, NULL, 9, 0);
  b.sent = 9;
  s.b = &b;
  s.kind = AZ_SUM_CRC64;
  s.crc = sdk_azure_crc64(0, "123456789", 9);
  assert_int_equal(az_sum_verify(&put, &s, resp, &e), STORE_E_IO);
  assert_contains(e.message, "CRC64 of the 9 bytes sent 8898790a86148bae");
  sdk_response_free(resp);
}

/* The service's refusal of a body that does not match the checksum sent
 * with it: damage in flight, retryable, nothing stored. */
static void test_refused(void **state)
{
  static const char *codes[] = {"Md5Mismatch", "Crc64Mismatch"};

  (void)state;
  for (size_t i = 0; i < 2; i++) {
    sdk_response *resp = sdk_response_new(400);
    store_error e = err_new();
    char body[256];
    snprintf(body, sizeof(body), "<?xml version=\"1.0\"?><Error><Code>%s"
             "</Code><Message>did not match</Message></Error>", codes[i]);
    assert_non_null(resp);
    sdk_response_append_body(resp, body, strlen(body));
    az_fail_response(&put, resp, &e);
    sdk_response_free(resp);
    assert_int_equal(e.code, STORE_E_IO);
    assert_true(e.flags & STORE_ERR_RETRYABLE);
    assert_contains(e.message, "put blob 'photos/a/b.txt'");
    assert_contains(e.message, "nothing was stored");
  }
}

static const char *entry_md5(long status, ...)
{
  static char keep[33];
  sdk_response *resp = sdk_response_new(status);
  const char *name;
  az_props p;
  va_list ap;

  assert_non_null(resp);
  va_start(ap, status);
  while ((name = va_arg(ap, const char *)) != NULL)
    sdk_response_add_header(resp, name, va_arg(ap, const char *));
  va_end(ap);
  assert_int_equal(az_props_headers(&get, resp, &p, NULL), STORE_OK);
  snprintf(keep, sizeof(keep), "%s",
           p.e.content_md5 ? p.e.content_md5 : "(none)");
  az_props_free(&p);
  sdk_response_free(resp);
  return keep;
}

/* A GET's entry: the blob's MD5 (Content-MD5 of a whole-blob answer,
 * x-ms-blob-content-md5 of a ranged one), never the MD5 of a range. */
static void test_get_entry_md5(void **state)
{
  (void)state;
  assert_string_equal(entry_md5(200, "Content-Length", "3145728",
                                "Content-MD5", "kq4Z9Iqydr50tupZN3o+PQ==",
                                NULL),
                      "92ae19f48ab276be74b6ea59377a3e3d");
  assert_string_equal(entry_md5(206, "Content-Range", "bytes 0-99/3145728",
                                "Content-MD5", "XoSpJ70hZnONe5V869zLqA==",
                                "x-ms-blob-content-md5",
                                "kq4Z9Iqydr50tupZN3o+PQ==", NULL),
                      "92ae19f48ab276be74b6ea59377a3e3d");
  assert_string_equal(entry_md5(206, "Content-Range", "bytes 0-99/3145728",
                                "Content-MD5", "XoSpJ70hZnONe5V869zLqA==",
                                NULL),
                      "(none)");
}

/* The CRC-32C record of a GET's entry ("none" when not reported), and
 * the metadata left ("k=v;..."): blob type first, then the record's
 * value; other metadata x-ms-meta-owner: ana. */
static const char *entry_crc(const char *type, const char *name,
                             const char *value)
{
  static char keep[128];
  sdk_response *resp = sdk_response_new(200);
  uint32_t crc;
  az_props p;
  size_t n;

  assert_non_null(resp);
  sdk_response_add_header(resp, "Content-Length", "10");
  sdk_response_add_header(resp, "x-ms-blob-type", type);
  sdk_response_add_header(resp, "x-ms-meta-owner", "ana");
  sdk_response_add_header(resp, name, value);
  assert_int_equal(az_props_headers(&get, resp, &p, NULL), STORE_OK);
  n = (size_t)(store_entry_crc32c(&p.e, &crc)
                 ? snprintf(keep, sizeof(keep), "%08x", crc)
                 : snprintf(keep, sizeof(keep), "none"));
  for (size_t i = 0; i < p.e.nmetadata; i++)
    n += (size_t)snprintf(keep + n, sizeof(keep) - n, ";%s=%s",
                          p.e.metadata[i].key, p.e.metadata[i].value);
  az_props_free(&p);
  sdk_response_free(resp);
  return keep;
}

/* The record: 8 hex digits under xtstore_crc32c (any case), read on block
 * blobs only, never left among the metadata. */
static void test_get_entry_crc(void **state)
{
  (void)state;
  assert_string_equal(entry_crc("BlockBlob", "x-ms-meta-xtstore_crc32c",
                                "e3069283"), "e3069283;owner=ana");
  assert_string_equal(entry_crc("BlockBlob", "x-ms-meta-XTSTORE_CRC32C",
                                "E3069283"), "e3069283;owner=ana");
  /* An append blob's may predate an Append Block: hidden, not reported. */
  assert_string_equal(entry_crc("AppendBlob", "x-ms-meta-xtstore_crc32c",
                                "e3069283"), "none;owner=ana");
  assert_string_equal(entry_crc("PageBlob", "x-ms-meta-xtstore_crc32c",
                                "e3069283"), "none;owner=ana");
  /* Not 8 hex digits: no value, still hidden. */
  assert_string_equal(entry_crc("BlockBlob", "x-ms-meta-xtstore_crc32c",
                                "e306928"), "none;owner=ana");
  assert_string_equal(entry_crc("BlockBlob", "x-ms-meta-xtstore_crc32c",
                                "e30692830"), "none;owner=ana");
  assert_string_equal(entry_crc("BlockBlob", "x-ms-meta-xtstore_crc32c",
                                "0xe30692"), "none;owner=ana");
  assert_string_equal(entry_crc("BlockBlob", "x-ms-meta-xtstore_crc32c", ""),
                      "none;owner=ana");
  /* Other names are the user's. */
  assert_string_equal(entry_crc("BlockBlob", "x-ms-meta-xtstore_crc32",
                                "e3069283"),
                      "none;owner=ana;xtstore_crc32=e3069283");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_crc64),
    cmocka_unit_test(test_compare),
    cmocka_unit_test(test_compare_crc64),
    cmocka_unit_test(test_verify),
    cmocka_unit_test(test_refused),
    cmocka_unit_test(test_get_entry_md5),
    cmocka_unit_test(test_get_entry_crc),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
