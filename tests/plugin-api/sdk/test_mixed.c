/*
** test_mixed.c -- sdk/mixed: sdk_mixed.h. Bodies built from signed
** requests byte for byte; responses as Azure's Blob Batch reference and
** GCS's batch guide show them (and as Azurite sends them) parsed fed
** whole and one byte at a time; malformed, oversized and cut responses
** refused with a reason; a part as a standalone response; Content-IDs
** read in every form services echo.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdk_mixed.h"

static void test_build(void **state)
{
  sdk_buf body = SDK_BUF_INIT, ct = SDK_BUF_INIT;
  char b[SDK_MIXED_BOUNDARY_SIZE], b2[SDK_MIXED_BOUNDARY_SIZE];
  sdk_request *r;

  (void)state;
  assert_int_equal(sdk_mixed_boundary("batch_", b), 0);
  assert_int_equal(strlen(b), 6 + 32);
  assert_int_equal(sdk_mixed_boundary("batch_", b2), 0);
  assert_string_not_equal(b, b2);
  assert_int_equal(sdk_mixed_boundary("a b", b2), -1);
  assert_int_equal(sdk_mixed_boundary("0123456789012345678901234567890123"
                                       "456789", b2), -1);
  assert_int_equal(sdk_mixed_content_type("XYZ", &ct), 0);
  assert_string_equal(sdk_buf_str(&ct), "multipart/mixed; boundary=XYZ");

  r = sdk_request_new("DELETE", "http://127.0.0.1:10000/acct/c/a%20b?sv=1&"
                      "sig=x");
  assert_non_null(r);
  assert_int_equal(sdk_request_set_header(r, "x-ms-date", "D"), 0);
  assert_int_equal(sdk_request_set_header(r, "Authorization", "SharedKey "
                                          "a:s"), 0);
  assert_int_equal(sdk_mixed_add(&body, "XYZ", 0, r), 0);
  sdk_request_free(r);
  r = sdk_request_new("DELETE", "https://h/storage/v1/b/bk/o/k%2F1");
  assert_non_null(r);
  assert_int_equal(sdk_mixed_add(&body, "XYZ", 1, r), 0);
  assert_int_equal(sdk_mixed_end(&body, "XYZ"), 0);
  assert_string_equal(sdk_buf_str(&body),
    "--XYZ\r\nContent-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\nContent-ID: 0\r\n\r\n"
    "DELETE /acct/c/a%20b?sv=1&sig=x HTTP/1.1\r\n"
    "x-ms-date: D\r\nAuthorization: SharedKey a:s\r\n\r\n"
    "\r\n--XYZ\r\nContent-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n"
    "DELETE /storage/v1/b/bk/o/k%2F1 HTTP/1.1\r\n\r\n"
    "\r\n--XYZ--\r\n");
  sdk_request_free(r);
  /* No path: refused, body unchanged. */
  r = sdk_request_new("DELETE", "nonsense");
  assert_non_null(r);
  {
    size_t len = body.len;
    assert_int_equal(sdk_mixed_add(&body, "XYZ", 2, r), -1);
    assert_int_equal(body.len, len);
  }
  sdk_request_free(r);
  sdk_buf_free(&body);
  sdk_buf_free(&ct);
}

/* What the parts said, one line each: "ID STATUS code=X body=..." */
typedef struct seen {
  char text[2048];
  int stop_at;                  /* part number whose callback fails, or 0 */
  int n;
} seen;

static int32_t record(void *ctx, const sdk_mixed_part *part, store_error *err)
{
  seen *s = ctx;
  size_t used = strlen(s->text);
  const char *code = sdk_mixed_header(part, "x-ms-error-code");

  snprintf(s->text + used, sizeof(s->text) - used, "%s %ld %s code=%s "
           "body=%.*s|\n", part->content_id, part->status, part->reason,
           code ? code : "-", (int)part->body_len, part->body);
  if (++s->n == s->stop_at)
    return store_error_set(err, STORE_E_ABORTED, "stop");
  return STORE_OK;
}

/* Azure's Blob Batch response, as the REST reference shows it (preamble
 * none, CRLF everywhere, a 404 with its XML error). */
static const char azure_resp[] =
  "--batchresponse_66925647-d0cb-4109-b6d3-28efe3e1e5ed\r\n"
  "Content-Type: application/http\r\n"
  "Content-ID: 0\r\n"
  "\r\n"
  "HTTP/1.1 202 Accepted\r\n"
  "x-ms-delete-type-permanent: true\r\n"
  "x-ms-request-id: 778fdc83-801e-0000-62ff-0334671e284f\r\n"
  "x-ms-version: 2018-11-09\r\n"
  "\r\n"
  "--batchresponse_66925647-d0cb-4109-b6d3-28efe3e1e5ed\r\n"
  "Content-Type: application/http\r\n"
  "Content-ID: 1\r\n"
  "\r\n"
  "HTTP/1.1 404 The specified blob does not exist.\r\n"
  "x-ms-error-code: BlobNotFound\r\n"
  "x-ms-version: 2018-11-09\r\n"
  "Content-Length: 22\r\n"
  "Content-Type: application/xml\r\n"
  "\r\n"
  "<Error>BlobNotFound..>\r\n"
  "--batchresponse_66925647-d0cb-4109-b6d3-28efe3e1e5ed--";

static const char azure_want[] =
  "0 202 Accepted code=- body=|\n"
  "1 404 The specified blob does not exist. code=BlobNotFound "
  "body=<Error>BlobNotFound..>|\n";

/* GCS's, as the batch guide shows it: a quoted boundary holding '=', a
 * preamble-free body, Content-IDs echoed as <response-...>, and an
 * epilogue after the close delimiter. */
static const char gcs_ct[] = "multipart/mixed; boundary=\"batch_pK7JBAk73-E="
                             "_AA5eFwv4m2Q=\"";
static const char gcs_resp[] =
  "--batch_pK7JBAk73-E=_AA5eFwv4m2Q=\r\n"
  "Content-Type: application/http\r\n"
  "Content-ID: <response-7>\r\n"
  "\r\n"
  "HTTP/1.1 204 No Content\r\n"
  "Content-Length: 0\r\n"
  "\r\n"
  "\r\n"
  "--batch_pK7JBAk73-E=_AA5eFwv4m2Q=\r\n"
  "Content-Type: application/http\r\n"
  "Content-ID: <response-8>\r\n"
  "\r\n"
  "HTTP/1.1 403 Forbidden\r\n"
  "Content-Type: application/json; charset=UTF-8\r\n"
  "\r\n"
  "{\"error\":{\"code\":403}}\r\n"
  "\r\n"
  "--batch_pK7JBAk73-E=_AA5eFwv4m2Q=--\r\nepilogue";

static const char gcs_want[] =
  "<response-7> 204 No Content code=- body=|\n"
  "<response-8> 403 Forbidden code=- body={\"error\":{\"code\":403}}\r\n|\n";

/* Parse text with the parser fed in chunks of `step` bytes. */
static int32_t parse(const char *ct, const char *text, size_t step, seen *s,
                     store_error *err)
{
  sdk_mixed_parser *p = NULL;
  size_t n = strlen(text);
  int32_t rc = sdk_mixed_parser_new(ct, record, s, &p, err);

  if (rc)
    return rc;
  for (size_t at = 0; at < n; at += step) {
    size_t m = n - at < step ? n - at : step;
    if (sdk_mixed_write(p, text + at, m))
      break;
  }
  rc = sdk_mixed_parser_finish(p, err);
  sdk_mixed_parser_free(p);
  return rc;
}

static void test_parse(void **state)
{
  static const size_t steps[] = {1, 2, 7, 64, 100000};
  store_error err;

  (void)state;
  for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
    seen s;
    memset(&s, 0, sizeof(s));
    memset(&err, 0, sizeof(err));
    assert_int_equal(parse("multipart/mixed; boundary=batchresponse_66925647-"
                           "d0cb-4109-b6d3-28efe3e1e5ed", azure_resp,
                           steps[i], &s, &err), STORE_OK);
    assert_string_equal(s.text, azure_want);
    memset(&s, 0, sizeof(s));
    assert_int_equal(parse(gcs_ct, gcs_resp, steps[i], &s, &err), STORE_OK);
    assert_string_equal(s.text, gcs_want);
  }
}

/* A line that starts like a delimiter but goes on with other text is the
 * part's content (RFC 2046: only padding may follow a boundary); a real
 * one may have padding before its line end. */
static const char lookalike_resp[] =
  "--bb \t\r\n"
  "Content-ID: 0\r\n"
  "\r\n"
  "HTTP/1.1 404 X\r\n"
  "\r\n"
  "a\r\n--bbc not a delimiter\r\n--bb--\r\n";

static const char lookalike_want[] =
  "0 404 X code=- body=a\r\n--bbc not a delimiter|\n";

static void test_parse_lookalike(void **state)
{
  static const size_t steps[] = {1, 3, 100000};
  store_error err;

  (void)state;
  for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
    seen s;
    memset(&s, 0, sizeof(s));
    memset(&err, 0, sizeof(err));
    assert_int_equal(parse("multipart/mixed; boundary=bb", lookalike_resp,
                           steps[i], &s, &err), STORE_OK);
    assert_string_equal(s.text, lookalike_want);
  }
}

static void test_parse_bad(void **state)
{
  store_error err;
  seen s;
  char *big;

  (void)state;
  memset(&s, 0, sizeof(s));
  memset(&err, 0, sizeof(err));
  /* Not multipart, or no boundary. */
  assert_int_equal(parse("application/xml", "x", 1, &s, &err),
                   STORE_E_INTERNAL);
  assert_non_null(strstr(err.message, "not multipart/mixed"));
  assert_int_equal(parse("multipart/mixed", "x", 1, &s, &err),
                   STORE_E_INTERNAL);
  /* Cut before the close delimiter: the first part only. */
  memset(&s, 0, sizeof(s));
  assert_int_equal(parse(gcs_ct, "--batch_pK7JBAk73-E=_AA5eFwv4m2Q=\r\n"
                         "Content-ID: 1\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"
                         "\r\n--batch_pK7JBAk73-E=_AA5eFwv4m2Q=\r\nContent-ID:"
                         " 2\r\n\r\nHTTP/1.1 204", 5, &s, &err),
                   STORE_E_INTERNAL);
  assert_string_equal(s.text, "1 204 No Content code=- body=|\n");
  assert_non_null(strstr(err.message, "ended before its last part"));
  /* No status line. */
  memset(&s, 0, sizeof(s));
  assert_int_equal(parse("multipart/mixed; boundary=B", "--B\r\nContent-ID: 0"
                         "\r\n\r\nhello\r\n--B--", 3, &s, &err),
                   STORE_E_INTERNAL);
  assert_non_null(strstr(err.message, "part 1: no HTTP status line"));
  /* A Content-Length beyond the part. */
  assert_int_equal(parse("multipart/mixed; boundary=B", "--B\r\n\r\nHTTP/1.1 "
                         "400 Bad\r\nContent-Length: 99\r\n\r\nab\r\n--B--",
                         100, &s, &err), STORE_E_INTERNAL);
  assert_non_null(strstr(err.message, "Content-Length"));
  /* A part over the limit. */
  big = malloc(SDK_MIXED_PART_MAX + 100);
  assert_non_null(big);
  memset(big, 'a', SDK_MIXED_PART_MAX + 99);
  memcpy(big, "--B\r\n", 5);
  big[SDK_MIXED_PART_MAX + 99] = '\0';
  memset(&s, 0, sizeof(s));
  assert_int_equal(parse("multipart/mixed; boundary=B", big, 4096, &s, &err),
                   STORE_E_INTERNAL);
  assert_non_null(strstr(err.message, "larger than the limit"));
  free(big);
  /* The callback's failure stops the parse with its own error. */
  memset(&s, 0, sizeof(s));
  s.stop_at = 1;
  assert_int_equal(parse(gcs_ct, gcs_resp, 3, &s, &err), STORE_E_ABORTED);
  assert_string_equal(err.message, "stop");
  assert_int_equal(s.n, 1);
}

/* A part as a standalone response, for providers' error mapping. */
static int32_t keep_response(void *ctx, const sdk_mixed_part *part,
                             store_error *err)
{
  sdk_response **out = ctx;

  (void)err;
  if (part->status == 404)
    *out = sdk_mixed_part_response(part);
  return STORE_OK;
}

static void test_part_response(void **state)
{
  sdk_response *resp = NULL;
  sdk_mixed_parser *p = NULL;
  store_error err;
  size_t len = 0;

  (void)state;
  memset(&err, 0, sizeof(err));
  assert_int_equal(sdk_mixed_parser_new("multipart/mixed; boundary="
                                        "batchresponse_66925647-d0cb-4109-"
                                        "b6d3-28efe3e1e5ed", keep_response,
                                        &resp, &p, &err), STORE_OK);
  assert_int_equal(sdk_mixed_write(p, azure_resp, strlen(azure_resp)),
                   STORE_OK);
  assert_int_equal(sdk_mixed_parser_finish(p, &err), STORE_OK);
  sdk_mixed_parser_free(p);
  assert_non_null(resp);
  assert_int_equal(sdk_response_status(resp), 404);
  assert_string_equal(sdk_response_header(resp, "x-ms-error-code"),
                      "BlobNotFound");
  assert_string_equal(sdk_response_body(resp, &len), "<Error>BlobNotFound..>");
  assert_int_equal(len, 22);
  sdk_response_free(resp);
}

static void test_index(void **state)
{
  size_t v = 99;

  (void)state;
  assert_int_equal(sdk_mixed_index("0", &v), 0);
  assert_int_equal(v, 0);
  assert_int_equal(sdk_mixed_index("<12>", &v), 0);
  assert_int_equal(v, 12);
  assert_int_equal(sdk_mixed_index("response-255", &v), 0);
  assert_int_equal(v, 255);
  assert_int_equal(sdk_mixed_index("<response-3>", &v), 0);
  assert_int_equal(v, 3);
  assert_int_equal(sdk_mixed_index("", &v), -1);
  assert_int_equal(sdk_mixed_index("<3", &v), -1);
  assert_int_equal(sdk_mixed_index("3x", &v), -1);
  assert_int_equal(sdk_mixed_index("<b29c5de2+1>", &v), -1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_build),
    cmocka_unit_test(test_parse),
    cmocka_unit_test(test_parse_lookalike),
    cmocka_unit_test(test_parse_bad),
    cmocka_unit_test(test_part_response),
    cmocka_unit_test(test_index),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
