/*
** test_azure_sdk.c -- sdk_azure.c beyond the public vectors: the cases the
** provider relies on (Azurite's path-style resource, the zero
** Content-Length rule, query decoding, a whole signed request), the SAS
** layouts of later versions, connection strings and SAS URLs. Expected
** signatures were computed independently (Python's hmac/hashlib over the
** strings written out here from Microsoft's documented layouts).
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sdk_azure.h"
#include "sdk_util.h"

#define ACCT "devstoreaccount1"

/* assert_string_equal, with a NULL got failing instead of crashing. */
#define assert_str(got, want)                                              \
  do {                                                                     \
    const char *got_ = (got);                                              \
    assert_non_null(got_);                                                 \
    assert_string_equal(got_, (want));                                     \
  } while (0)

static void assert_contains_at(const char *hay, const char *needle,
                               const char *file, int line)
{
  if (!strstr(hay, needle)) {
    print_error("'%s' does not contain '%s'\n", hay, needle);
    _fail(file, line);
  }
}
#define assert_contains(h, n) assert_contains_at((h), (n), __FILE__, __LINE__)

static void assert_lacks_at(const char *hay, const char *needle,
                            const char *file, int line)
{
  if (strstr(hay, needle)) {
    print_error("'%s' contains '%s'\n", hay, needle);
    _fail(file, line);
  }
}
#define assert_lacks(h, n) assert_lacks_at((h), (n), __FILE__, __LINE__)

static sdk_buf dev_key(void)
{
  sdk_buf k = SDK_BUF_INIT;

  assert_int_equal(sdk_azure_key_decode(SDK_AZURE_DEV_KEY, &k), 0);
  assert_int_equal(k.len, 64);
  return k;
}

static void test_resource(void **state)
{
  sdk_buf b = SDK_BUF_INIT;

  (void)state;
  /* Path-style (Azurite): the account appears twice; path stays encoded;
   * repeated parameters sorted and joined; names lowercased; values
   * decoded, '+' as a space. */
  assert_int_equal(sdk_azure_canonical_resource(
                     ACCT,
                     "http://127.0.0.1:10000/devstoreaccount1/c/k%20x?comp="
                     "list&prefix=a%2Fb&include=snapshots&Include=metadata&"
                     "q=a+b",
                     &b),
                   0);
  assert_str(sdk_buf_str(&b),
             "/devstoreaccount1/devstoreaccount1/c/k%20x\ncomp:list\n"
             "include:metadata,snapshots\nprefix:a/b\nq:a b");
  /* Service root: no path is '/'. */
  sdk_buf_reset(&b);
  assert_int_equal(sdk_azure_canonical_resource(
                     "acct", "https://acct.blob.core.windows.net", &b),
                   0);
  assert_str(sdk_buf_str(&b), "/acct/");
  /* Service list: a valueless parameter. */
  sdk_buf_reset(&b);
  assert_int_equal(sdk_azure_canonical_resource(
                     "acct", "https://acct.blob.core.windows.net/?"
                             "comp=list&marker=",
                     &b),
                   0);
  assert_str(sdk_buf_str(&b), "/acct/\ncomp:list\nmarker:");
  /* A bad escape is refused. */
  assert_int_not_equal(
    sdk_azure_canonical_resource("acct", "http://h/c?x=%zz", &b), 0);
  sdk_buf_free(&b);
}

/* Line i (from 0) of s, in a static buffer. */
static const char *line_of(const char *s, int i)
{
  static char out[256];

  while (i-- > 0 && s)
    s = (s = strchr(s, '\n')) ? s + 1 : NULL;
  snprintf(out, sizeof(out), "%.*s", s ? (int)strcspn(s, "\n") : 0,
           s ? s : "");
  return out;
}

static void test_headers_and_length(void **state)
{
  store_kv h[] = {
    {"X-MS-Version", " 2021-08-06 "}, {"x-ms-meta-b", "2"},
    {"Content-Length", "0"},          {"x-ms-meta-a", "1"},
    {"x-ms-blob-type", "BlockBlob"},  {"x-ms-blob-content-type", "t/x"},
    {"x-ms-meta-a", "again"},         {"Host", "ignored"},
    {"x-ms-date", "Sun, 22 Nov 2026 00:00:00 GMT"},
  };
  size_t n = sizeof(h) / sizeof(h[0]);
  sdk_buf b = SDK_BUF_INIT;

  (void)state;
  /* x-ms-* sorted, lowercased, trimmed, repeats joined. */
  assert_int_equal(sdk_azure_canonical_headers(h, n, &b), 0);
  assert_str(sdk_buf_str(&b),
             "x-ms-blob-content-type:t/x\nx-ms-blob-type:BlockBlob\n"
             "x-ms-date:Sun, 22 Nov 2026 00:00:00 GMT\nx-ms-meta-a:1,again\n"
             "x-ms-meta-b:2\nx-ms-version:2021-08-06\n");
  /* From 2015-02-21 a zero Content-Length is signed as "", before it as
   * "0". */
  sdk_buf_reset(&b);
  assert_int_equal(sdk_azure_string_to_sign("PUT", "http://h/a/c", h, n, "a",
                                            0, &b),
                   0);
  assert_str(line_of(sdk_buf_str(&b), 3), "");
  h[0].value = "2014-02-14";
  sdk_buf_reset(&b);
  assert_int_equal(sdk_azure_string_to_sign("PUT", "http://h/a/c", h, n, "a",
                                            0, &b),
                   0);
  assert_str(line_of(sdk_buf_str(&b), 3), "0");
  sdk_buf_free(&b);
}

static void test_sign_request(void **state)
{
  sdk_buf key = dev_key();
  sdk_request *r = sdk_request_new(
    "PUT", "http://127.0.0.1:10000/devstoreaccount1/photos/a%20b.txt"
           "?comp=metadata");

  (void)state;
  assert_non_null(r);
  sdk_request_set_header(r, "x-ms-date", "Sun, 22 Nov 2026 00:00:00 GMT");
  sdk_request_set_header(r, "x-ms-version", "2021-08-06");
  sdk_request_set_header(r, "x-ms-meta-Owner", "me");
  sdk_request_set_header(r, "Content-Type", "text/plain");
  sdk_request_body_mem(r, "hello", 5); /* sets Content-Length: 5 */
  assert_int_equal(sdk_azure_sign_request(r, ACCT, key.data, key.len), 0);
  /* HMAC of "PUT\n\n\n5\n\ntext/plain\n\n\n\n\n\n\nx-ms-date:Sun, 22 Nov
   * 2026 00:00:00 GMT\nx-ms-meta-owner:me\nx-ms-version:2021-08-06\n
   * /devstoreaccount1/devstoreaccount1/photos/a%20b.txt\ncomp:metadata" */
  assert_str(sdk_request_header(r, "Authorization"),
             "SharedKey devstoreaccount1:"
             "idLpa6EIOqlFDN8cqt3AEnptPyZrgKl5yVWE6K6R1U0=");
  sdk_request_free(r);
  sdk_buf_free(&key);
}

static void test_sas(void **state)
{
  sdk_buf key = dev_key(), sts = SDK_BUF_INIT, tok = SDK_BUF_INIT;
  sdk_azure_account_sas a = {"2021-08-06", "b", "sco", "rwdlacup", NULL,
                             "2030-01-01T00:00:00Z", NULL, "https,http",
                             NULL};
  sdk_azure_blob_sas s;

  (void)state;
  /* Account SAS from 2020-12-06: an encryption-scope line. */
  assert_int_equal(sdk_azure_account_sas_token(&a, ACCT, key.data, key.len,
                                               &sts, &tok),
                   0);
  assert_str(sdk_buf_str(&sts),
             "devstoreaccount1\nrwdlacup\nb\nsco\n\n2030-01-01T00:00:00Z\n\n"
             "https,http\n2021-08-06\n\n");
  assert_str(sdk_buf_str(&tok),
             "sv=2021-08-06&ss=b&srt=sco&sp=rwdlacup&se=2030-01-01T00%3A00%3A"
             "00Z&spr=https%2Chttp&sig=%2Fjo85Y8SUaFT7%2FXabTDedQyDBbn%2FGf1M6"
             "4aWERMtB%2B8%3D");

  /* Blob SAS, 2020-12-06 layout (sr, snapshot, ses lines). */
  memset(&s, 0, sizeof(s));
  s.version = "2021-08-06";
  s.resource = "b";
  s.container = "photos";
  s.blob = "a b.txt";
  s.permissions = "r";
  s.expiry = "2030-01-01T00:00:00Z";
  s.protocol = "https";
  sdk_buf_reset(&sts);
  sdk_buf_reset(&tok);
  assert_int_equal(sdk_azure_blob_sas_token(&s, ACCT, key.data, key.len,
                                            &sts, &tok),
                   0);
  assert_str(sdk_buf_str(&sts),
             "r\n\n2030-01-01T00:00:00Z\n/blob/devstoreaccount1/photos/a b.txt"
             "\n\n\nhttps\n2021-08-06\nb\n\n\n\n\n\n\n");
  assert_contains(sdk_buf_str(&tok),
                  "sig=491yr7j20sKOIK2HQJ6oCGeSuAfwo8c3sS6teGCgu6s%3D");

  /* Container SAS, 2018-11-09 layout (sr and snapshot, no ses). */
  memset(&s, 0, sizeof(s));
  s.version = "2019-02-02";
  s.resource = "c";
  s.container = "photos";
  s.permissions = "rl";
  s.expiry = "2030-01-01T00:00:00Z";
  sdk_buf_reset(&sts);
  sdk_buf_reset(&tok);
  assert_int_equal(sdk_azure_blob_sas_token(&s, ACCT, key.data, key.len,
                                            &sts, &tok),
                   0);
  assert_str(sdk_buf_str(&sts),
             "rl\n\n2030-01-01T00:00:00Z\n/blob/devstoreaccount1/photos\n\n\n"
             "\n2019-02-02\nc\n\n\n\n\n\n");
  assert_contains(sdk_buf_str(&tok),
                  "sig=bhbYSc%2BiNhPYAxPps4k07bTLIugui2YKbPEYLmm%2FHwk%3D");
  sdk_buf_free(&sts);
  sdk_buf_free(&tok);
  sdk_buf_free(&key);
}

static void test_url_sas(void **state)
{
  sdk_buf u = SDK_BUF_INIT;

  (void)state;
  /* After '?', which the token may bring itself. */
  sdk_buf_puts(&u, "http://h/a/c/k");
  assert_int_equal(sdk_azure_url_add_sas(&u, "?sv=1&sig=x"), 0);
  assert_str(sdk_buf_str(&u), "http://h/a/c/k?sv=1&sig=x");
  /* After '&' when the URL has a query. */
  sdk_buf_reset(&u);
  sdk_buf_puts(&u, "http://h/a/c?restype=container");
  assert_int_equal(sdk_azure_url_add_sas(&u, "sv=1&sig=x"), 0);
  assert_str(sdk_buf_str(&u), "http://h/a/c?restype=container&sv=1&sig=x");
  sdk_buf_free(&u);
}

static store_error new_err(void)
{
  store_error e;

  memset(&e, 0, sizeof(e));
  e.struct_size = sizeof(e);
  return e;
}

static void test_conn(void **state)
{
  sdk_azure_conn c;
  store_error e = new_err();

  (void)state;
  /* A full string: names case-insensitive, '=' inside the key kept, the
   * endpoint without its trailing '/'. */
  assert_int_equal(sdk_azure_conn_parse(
                     " DefaultEndpointsProtocol=http; accountname=acct1;"
                     "AccountKey=c2VjcmV0a2V5PT0=;BlobEndpoint="
                     "http://127.0.0.1:9/acct1/;QueueEndpoint=x;",
                     &c, &e),
                   0);
  assert_str(c.account, "acct1");
  assert_str(c.key, "c2VjcmV0a2V5PT0=");
  assert_str(c.blob_endpoint, "http://127.0.0.1:9/acct1");
  assert_null(c.sas);
  sdk_azure_conn_free(&c);

  /* The endpoint derived as https://ACCOUNT.blob.SUFFIX; the SAS without
   * its '?'. */
  assert_int_equal(sdk_azure_conn_parse(
                     "AccountName=acct2;SharedAccessSignature=?sv=1"
                     "&sig=x;EndpointSuffix=core.chinacloudapi.cn",
                     &c, &e),
                   0);
  assert_str(c.blob_endpoint, "https://acct2.blob.core.chinacloudapi.cn");
  assert_str(c.sas, "sv=1&sig=x");
  sdk_azure_conn_free(&c);

  /* Development storage. */
  assert_int_equal(sdk_azure_conn_parse("UseDevelopmentStorage=true", &c, &e),
                   0);
  assert_str(c.account, SDK_AZURE_DEV_ACCOUNT);
  assert_str(c.key, SDK_AZURE_DEV_KEY);
  assert_str(c.blob_endpoint, SDK_AZURE_DEV_BLOB_ENDPOINT);
  sdk_azure_conn_free(&c);

  /* A malformed part is refused; the message names the part, not its
   * text. */
  assert_int_equal(sdk_azure_conn_parse("AccountName=a;TopSecretKeyMaterial",
                                        &c, &e),
                   STORE_E_CONFIG);
  assert_contains(e.message, "part 2");
  assert_lacks(e.message, "TopSecret");
  sdk_azure_conn_free(&c);
  e = new_err();
  assert_int_equal(sdk_azure_conn_parse("", &c, &e), STORE_E_CONFIG);
  sdk_azure_conn_free(&c);
  e = new_err();
  assert_int_equal(sdk_azure_conn_parse("UseDevelopmentStorage=maybe", &c,
                                        &e),
                   STORE_E_CONFIG);
  sdk_azure_conn_free(&c);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_resource),
    cmocka_unit_test(test_headers_and_length),
    cmocka_unit_test(test_sign_request),
    cmocka_unit_test(test_sas),
    cmocka_unit_test(test_url_sas),
    cmocka_unit_test(test_conn),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
