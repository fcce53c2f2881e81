/*
** test_azure_sdk.c -- sdk_azure.c beyond the public vectors: the cases the
** provider relies on (Azurite's path-style resource, the zero
** Content-Length rule, query decoding, a whole signed request), the SAS
** layouts of later versions, connection strings and SAS URLs. Expected
** signatures were computed independently (Python's hmac/hashlib over the
** strings written out here from Microsoft's documented layouts).
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdk_azure.h"
#include "sdk_util.h"

#define ACCT "devstoreaccount1"

static int g_failures, g_checks;

static void expect_str(int line, const char *what, const char *got,
                       const char *want)
{
  g_checks++;
  if (got && want && !strcmp(got, want))
    return;
  g_failures++;
  printf("FAIL line %d: %s\n--- expected\n%s\n--- got\n%s\n---\n", line, what,
         want ? want : "(null)", got ? got : "(null)");
}

static void expect_true(int line, const char *what, int ok)
{
  g_checks++;
  if (ok)
    return;
  g_failures++;
  printf("FAIL line %d: %s\n", line, what);
}

#define EXPECT_STR(what, got, want) expect_str(__LINE__, what, got, want)
#define EXPECT(what, ok) expect_true(__LINE__, what, ok)

static sdk_buf dev_key(void)
{
  sdk_buf k = SDK_BUF_INIT;

  if (sdk_azure_key_decode(SDK_AZURE_DEV_KEY, &k) || k.len != 64)
    abort();
  return k;
}

static void test_resource(void)
{
  sdk_buf b = SDK_BUF_INIT;

  /* Path-style (Azurite): the account appears twice; path stays encoded;
   * repeated parameters sorted and joined; names lowercased; values
   * decoded, '+' as a space. */
  EXPECT("canonical_resource path-style",
         !sdk_azure_canonical_resource(
           ACCT,
           "http://127.0.0.1:10000/devstoreaccount1/c/k%20x?comp=list&"
           "prefix=a%2Fb&include=snapshots&Include=metadata&q=a+b",
           &b));
  EXPECT_STR("path-style resource", sdk_buf_str(&b),
             "/devstoreaccount1/devstoreaccount1/c/k%20x\ncomp:list\n"
             "include:metadata,snapshots\nprefix:a/b\nq:a b");
  sdk_buf_reset(&b);
  EXPECT("service root", !sdk_azure_canonical_resource(
                           "acct", "https://acct.blob.core.windows.net", &b));
  EXPECT_STR("no path is '/'", sdk_buf_str(&b), "/acct/");
  sdk_buf_reset(&b);
  EXPECT("service list", !sdk_azure_canonical_resource(
                           "acct", "https://acct.blob.core.windows.net/?"
                                   "comp=list&marker=",
                           &b));
  EXPECT_STR("valueless parameter", sdk_buf_str(&b),
             "/acct/\ncomp:list\nmarker:");
  sdk_buf_reset(&b);
  EXPECT("bad escape refused",
         sdk_azure_canonical_resource("acct", "http://h/c?x=%zz", &b) != 0);
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

static void test_headers_and_length(void)
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

  EXPECT("canonical_headers", !sdk_azure_canonical_headers(h, n, &b));
  EXPECT_STR("x-ms-* sorted, lowercased, trimmed, repeats joined",
             sdk_buf_str(&b),
             "x-ms-blob-content-type:t/x\nx-ms-blob-type:BlockBlob\n"
             "x-ms-date:Sun, 22 Nov 2026 00:00:00 GMT\nx-ms-meta-a:1,again\n"
             "x-ms-meta-b:2\nx-ms-version:2021-08-06\n");
  sdk_buf_reset(&b);
  /* From 2015-02-21 a zero Content-Length is signed as "". */
  EXPECT("string_to_sign", !sdk_azure_string_to_sign(
                             "PUT", "http://h/a/c", h, n, "a", 0, &b));
  EXPECT_STR("zero length signed empty", line_of(sdk_buf_str(&b), 3), "");
  h[0].value = "2014-02-14";
  sdk_buf_reset(&b);
  EXPECT("string_to_sign old version", !sdk_azure_string_to_sign(
                                         "PUT", "http://h/a/c", h, n, "a", 0,
                                         &b));
  EXPECT_STR("zero length signed '0' before 2015-02-21",
             line_of(sdk_buf_str(&b), 3), "0");
  sdk_buf_free(&b);
}

static void test_sign_request(void)
{
  sdk_buf key = dev_key();
  sdk_request *r = sdk_request_new(
    "PUT", "http://127.0.0.1:10000/devstoreaccount1/photos/a%20b.txt"
           "?comp=metadata");

  if (!r)
    abort();
  sdk_request_set_header(r, "x-ms-date", "Sun, 22 Nov 2026 00:00:00 GMT");
  sdk_request_set_header(r, "x-ms-version", "2021-08-06");
  sdk_request_set_header(r, "x-ms-meta-Owner", "me");
  sdk_request_set_header(r, "Content-Type", "text/plain");
  sdk_request_body_mem(r, "hello", 5); /* sets Content-Length: 5 */
  EXPECT("sign_request", !sdk_azure_sign_request(r, ACCT, key.data, key.len));
  /* HMAC of "PUT\n\n\n5\n\ntext/plain\n\n\n\n\n\n\nx-ms-date:Sun, 22 Nov
   * 2026 00:00:00 GMT\nx-ms-meta-owner:me\nx-ms-version:2021-08-06\n
   * /devstoreaccount1/devstoreaccount1/photos/a%20b.txt\ncomp:metadata" */
  EXPECT_STR("Authorization of a signed request",
             sdk_request_header(r, "Authorization"),
             "SharedKey devstoreaccount1:"
             "idLpa6EIOqlFDN8cqt3AEnptPyZrgKl5yVWE6K6R1U0=");
  sdk_request_free(r);
  sdk_buf_free(&key);
}

static void test_sas(void)
{
  sdk_buf key = dev_key(), sts = SDK_BUF_INIT, tok = SDK_BUF_INIT;
  sdk_azure_account_sas a = {"2021-08-06", "b", "sco", "rwdlacup", NULL,
                             "2030-01-01T00:00:00Z", NULL, "https,http",
                             NULL};
  sdk_azure_blob_sas s;

  /* Account SAS from 2020-12-06: an encryption-scope line. */
  EXPECT("account sas", !sdk_azure_account_sas_token(&a, ACCT, key.data,
                                                      key.len, &sts, &tok));
  EXPECT_STR("account sas 2021-08-06 string", sdk_buf_str(&sts),
             "devstoreaccount1\nrwdlacup\nb\nsco\n\n2030-01-01T00:00:00Z\n\n"
             "https,http\n2021-08-06\n\n");
  EXPECT_STR("account sas token", sdk_buf_str(&tok),
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
  EXPECT("blob sas", !sdk_azure_blob_sas_token(&s, ACCT, key.data, key.len,
                                                &sts, &tok));
  EXPECT_STR("blob sas 2020-12-06 string", sdk_buf_str(&sts),
             "r\n\n2030-01-01T00:00:00Z\n/blob/devstoreaccount1/photos/a b.txt"
             "\n\n\nhttps\n2021-08-06\nb\n\n\n\n\n\n\n");
  EXPECT("blob sas signature", strstr(sdk_buf_str(&tok),
                                      "sig=491yr7j20sKOIK2HQJ6oCGeSuAfwo8c3"
                                      "sS6teGCgu6s%3D") != NULL);

  /* Container SAS, 2018-11-09 layout (sr and snapshot, no ses). */
  memset(&s, 0, sizeof(s));
  s.version = "2019-02-02";
  s.resource = "c";
  s.container = "photos";
  s.permissions = "rl";
  s.expiry = "2030-01-01T00:00:00Z";
  sdk_buf_reset(&sts);
  sdk_buf_reset(&tok);
  EXPECT("container sas", !sdk_azure_blob_sas_token(&s, ACCT, key.data,
                                                     key.len, &sts, &tok));
  EXPECT_STR("container sas 2018-11-09 string", sdk_buf_str(&sts),
             "rl\n\n2030-01-01T00:00:00Z\n/blob/devstoreaccount1/photos\n\n\n"
             "\n2019-02-02\nc\n\n\n\n\n\n");
  EXPECT("container sas signature",
         strstr(sdk_buf_str(&tok), "sig=bhbYSc%2BiNhPYAxPps4k07bTLIugui2YKbPE"
                                   "YLmm%2FHwk%3D") != NULL);
  sdk_buf_free(&sts);
  sdk_buf_free(&tok);
  sdk_buf_free(&key);
}

static void test_url_sas(void)
{
  sdk_buf u = SDK_BUF_INIT;

  sdk_buf_puts(&u, "http://h/a/c/k");
  EXPECT("add sas", !sdk_azure_url_add_sas(&u, "?sv=1&sig=x"));
  EXPECT_STR("sas after '?'", sdk_buf_str(&u), "http://h/a/c/k?sv=1&sig=x");
  sdk_buf_reset(&u);
  sdk_buf_puts(&u, "http://h/a/c?restype=container");
  EXPECT("add sas", !sdk_azure_url_add_sas(&u, "sv=1&sig=x"));
  EXPECT_STR("sas after '&'", sdk_buf_str(&u),
             "http://h/a/c?restype=container&sv=1&sig=x");
  sdk_buf_free(&u);
}

static store_error new_err(void)
{
  store_error e;

  memset(&e, 0, sizeof(e));
  e.struct_size = sizeof(e);
  return e;
}

static void test_conn(void)
{
  sdk_azure_conn c;
  store_error e = new_err();

  EXPECT("full string", !sdk_azure_conn_parse(
                          " DefaultEndpointsProtocol=http; accountname=acct1;"
                          "AccountKey=c2VjcmV0a2V5PT0=;BlobEndpoint="
                          "http://127.0.0.1:9/acct1/;QueueEndpoint=x;",
                          &c, &e));
  EXPECT_STR("account", c.account, "acct1");
  EXPECT_STR("key, '=' inside kept", c.key, "c2VjcmV0a2V5PT0=");
  EXPECT_STR("endpoint without trailing '/'", c.blob_endpoint,
             "http://127.0.0.1:9/acct1");
  EXPECT("no sas", c.sas == NULL);
  sdk_azure_conn_free(&c);

  EXPECT("derived endpoint", !sdk_azure_conn_parse(
                               "AccountName=acct2;SharedAccessSignature=?sv=1"
                               "&sig=x;EndpointSuffix=core.chinacloudapi.cn",
                               &c, &e));
  EXPECT_STR("https://ACCOUNT.blob.SUFFIX", c.blob_endpoint,
             "https://acct2.blob.core.chinacloudapi.cn");
  EXPECT_STR("sas without '?'", c.sas, "sv=1&sig=x");
  sdk_azure_conn_free(&c);

  EXPECT("development storage",
         !sdk_azure_conn_parse("UseDevelopmentStorage=true", &c, &e));
  EXPECT_STR("dev account", c.account, SDK_AZURE_DEV_ACCOUNT);
  EXPECT_STR("dev key", c.key, SDK_AZURE_DEV_KEY);
  EXPECT_STR("dev endpoint", c.blob_endpoint, SDK_AZURE_DEV_BLOB_ENDPOINT);
  sdk_azure_conn_free(&c);

  EXPECT("malformed part refused",
         sdk_azure_conn_parse("AccountName=a;TopSecretKeyMaterial",
                              &c, &e) == STORE_E_CONFIG);
  EXPECT("the message names the part, not its text",
         strstr(e.message, "part 2") && !strstr(e.message, "TopSecret"));
  sdk_azure_conn_free(&c);
  e = new_err();
  EXPECT("empty refused", sdk_azure_conn_parse("", &c, &e) == STORE_E_CONFIG);
  sdk_azure_conn_free(&c);
  e = new_err();
  EXPECT("bad UseDevelopmentStorage refused",
         sdk_azure_conn_parse("UseDevelopmentStorage=maybe", &c, &e) ==
           STORE_E_CONFIG);
  sdk_azure_conn_free(&c);
}

int main(void)
{
  test_resource();
  test_headers_and_length();
  test_sign_request();
  test_sas();
  test_url_sas();
  test_conn();
  printf("%s: %d checks, %d failure(s)\n", g_failures ? "FAILED" : "ok",
         g_checks, g_failures);
  return g_failures ? 1 : 0;
}
