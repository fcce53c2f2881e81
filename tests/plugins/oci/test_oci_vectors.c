/*
** test_oci_vectors.c -- the SDK's OCI request signer (sdk_oci.c) against
** every case of oci/oci_cases.json in the shared vectors directory (the
** OCI docs' "Request Signatures" test values): for each case the request
** is built from its method, URL, headers and body, and
**   - the signing string over the case's signed_headers is byte-identical
**     to expected_signing_string;
**   - the signature of that string with the docs' key is byte-identical to
**     expected_signature (when the case has one);
**   - sdk_oci_sign_request with the case's header list adds the
**     expected_added_headers (x-content-sha256 of the body) and writes an
**     Authorization whose signature and headers are the case's.
** A case the test cannot check fails it.
**
**   test_oci_vectors VECTORS_DIR
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "sdk_oci.h"
#include "sdk_rsa.h"
#include "sdk_util.h"

static const char *g_dir;

static const char *str(json_t *o, const char *k)
{
  return json_string_value(json_object_get(o, k));
}

static json_t *load_cases(sdk_rsa_key **key)
{
  char path[4096];
  json_error_t jerr;
  json_t *root;
  store_error err;
  const char *kf;

  snprintf(path, sizeof(path), "%s/oci/oci_cases.json", g_dir);
  root = json_load_file(path, 0, &jerr);
  if (!root)
    fail_msg("%s: %s (line %d)", path, jerr.text, jerr.line);
  kf = str(root, "private_key_file");
  assert_non_null(kf);
  snprintf(path, sizeof(path), "%s/oci/%s", g_dir, kf);
  memset(&err, 0, sizeof(err));
  err.struct_size = sizeof(err);
  if (sdk_rsa_key_load_file(path, NULL, key, &err))
    fail_msg("%s", err.message);
  return root;
}

/* The case's request: method, URL, headers and (when set) body. */
static sdk_request *build(json_t *c)
{
  sdk_request *r = sdk_request_new(str(c, "method"), str(c, "url"));
  const char *body = str(c, "body");
  json_t *pair;
  size_t i;

  assert_non_null(r);
  json_array_foreach(json_object_get(c, "headers"), i, pair)
  {
    /* Content-Length comes from the body, as it does on the wire. */
    if (body && !strcmp(json_string_value(json_array_get(pair, 0)),
                        "content-length"))
      continue;
    assert_int_equal(sdk_request_set_header(
                       r, json_string_value(json_array_get(pair, 0)),
                       json_string_value(json_array_get(pair, 1))),
                     0);
  }
  if (body)
    sdk_request_body_mem(r, body, strlen(body));
  return r;
}

/* The value of parameter `name` in an Authorization header. */
static char *auth_param(const char *auth, const char *name)
{
  char pat[64];
  const char *p, *e;

  snprintf(pat, sizeof(pat), "%s=\"", name);
  p = strstr(auth, pat);
  if (!p)
    return NULL;
  p += strlen(pat);
  e = strchr(p, '"');
  return e ? strndup(p, (size_t)(e - p)) : NULL;
}

static void check_case(json_t *root, json_t *c, const sdk_rsa_key *key)
{
  const char *name = str(c, "name"), *hdrs = str(c, "signed_headers");
  const char *want_sts = str(c, "expected_signing_string");
  const char *want_sig = str(c, "expected_signature");
  sdk_buf sts = SDK_BUF_INIT, sig = SDK_BUF_INIT;
  sdk_request *r = build(c);
  json_t *pair;
  size_t i;

  print_message("case %s\n", name);
  assert_non_null(hdrs);
  assert_non_null(want_sts);
  /* The pieces: signing string, then its signature. The body headers are
   * what sdk_oci_sign_request adds; the docs list them as given. */
  json_array_foreach(json_object_get(c, "expected_added_headers"), i, pair)
    assert_int_equal(sdk_request_set_header(
                       r, json_string_value(json_array_get(pair, 0)),
                       json_string_value(json_array_get(pair, 1))),
                     0);
  assert_int_equal(sdk_oci_signing_string(r, hdrs, &sts), 0);
  assert_string_equal(sdk_buf_str(&sts), want_sts);
  if (want_sig) {
    assert_int_equal(
      sdk_rsa_sign_sha256(key, sts.data, sts.len, SDK_RSA_B64, &sig), 0);
    assert_string_equal(sdk_buf_str(&sig), want_sig);
  }
  sdk_request_free(r);

  /* The whole: a fresh request signed in place. */
  r = build(c);
  assert_int_equal(sdk_oci_sign_request(r, key, str(root, "key_id"), hdrs, 0),
                   0);
  json_array_foreach(json_object_get(c, "expected_added_headers"), i, pair)
  {
    const char *got =
      sdk_request_header(r, json_string_value(json_array_get(pair, 0)));
    assert_non_null(got);
    assert_string_equal(got, json_string_value(json_array_get(pair, 1)));
  }
  if (want_sig) {
    const char *auth = sdk_request_header(r, "Authorization");
    char *s = auth_param(auth, "signature"), *h = auth_param(auth, "headers");
    char *k = auth_param(auth, "keyId"), *v = auth_param(auth, "version");
    char *a = auth_param(auth, "algorithm");
    assert_non_null(s);
    assert_string_equal(s, want_sig);
    assert_string_equal(h, hdrs);
    assert_string_equal(k, str(root, "key_id"));
    assert_string_equal(v, "1");
    assert_string_equal(a, "rsa-sha256");
    free(s);
    free(h);
    free(k);
    free(v);
    free(a);
  }
  sdk_request_free(r);
  sdk_buf_free(&sig);
  sdk_buf_free(&sts);
}

static void every_case(void **state)
{
  sdk_rsa_key *key = NULL;
  json_t *root = load_cases(&key), *c;
  size_t i, n = 0;

  (void)state;
  json_array_foreach(json_object_get(root, "cases"), i, c)
  {
    check_case(root, c, key);
    n++;
  }
  print_message("%zu case(s) checked\n", n);
  assert_true(n >= 3);
  sdk_rsa_key_free(key);
  json_decref(root);
}

/* What the provider relies on beyond the vectors: the default lists by
 * method, the body headers of a JSON POST, an object PUT signed without
 * them, and a missing date refused. */
static void defaults(void **state)
{
  sdk_rsa_key *key = NULL;
  json_t *root = load_cases(&key);
  sdk_request *r;
  char *h;

  (void)state;
  r = sdk_request_new("POST", "http://127.0.0.1:9/n/ns/b/");
  sdk_request_set_header(r, "x-date", "Thu, 05 Jan 2014 21:31:40 GMT");
  sdk_request_body_mem(r, "{}", 2);
  assert_int_equal(sdk_oci_sign_request(r, key, "k", NULL, 0), 0);
  h = auth_param(sdk_request_header(r, "Authorization"), "headers");
  assert_string_equal(h, SDK_OCI_BODY_HEADERS);
  free(h);
  assert_string_equal(sdk_request_header(r, "host"), "127.0.0.1:9");
  assert_string_equal(sdk_request_header(r, "content-type"),
                      "application/json");
  assert_string_equal(sdk_request_header(r, "content-length"), "2");
  /* base64(sha256("{}")) */
  assert_string_equal(sdk_request_header(r, "x-content-sha256"),
                      "RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o=");
  sdk_request_free(r);

  r = sdk_request_new("PUT", "http://h/n/ns/b/c/o/a%20b");
  sdk_request_set_header(r, "x-date", "Thu, 05 Jan 2014 21:31:40 GMT");
  sdk_request_body_stream(r, NULL, NULL, 10);
  assert_int_equal(
    sdk_oci_sign_request(r, key, "k", NULL, SDK_OCI_SIGN_NO_BODY), 0);
  h = auth_param(sdk_request_header(r, "Authorization"), "headers");
  assert_string_equal(h, SDK_OCI_HEADERS);
  free(h);
  assert_null(sdk_request_header(r, "x-content-sha256"));
  /* A streamed body cannot be hashed into the signature. */
  assert_int_equal(sdk_oci_sign_request(r, key, "k", NULL, 0), -1);
  sdk_request_free(r);

  r = sdk_request_new("GET", "http://h/n/");
  assert_int_equal(sdk_oci_sign_request(r, key, "k", NULL, 0), -1);
  sdk_request_free(r);
  sdk_rsa_key_free(key);
  json_decref(root);
}

int main(int argc, char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(every_case),
    cmocka_unit_test(defaults),
  };

  if (argc != 2) {
    fprintf(stderr, "usage: test_oci_vectors VECTORS_DIR\n");
    return 2;
  }
  g_dir = argv[1];
  return cmocka_run_group_tests(tests, NULL, NULL);
}
