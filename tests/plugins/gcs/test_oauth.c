/*
** test_oauth.c -- the SDK's OAuth2 tokens (sdk_oauth.c): the JWT a service
** account signs (its header and claims, and its RS256 signature verified
** with the public half of the key), the refusals of bad credentials files,
** and, against the GCS test server ($XTSTORE_GCS_DIR), real grants: the
** token is cached for every thread, renewed before it expires and after a
** rejection, and the token endpoint's refusal names the file and the
** cause without quoting a secret.
**
**   XTSTORE_GCS_DIR=DIR test_oauth VECTORS_DIR   (run-oauth.sh starts DIR)
*/
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "sdk_http.h"
#include "sdk_oauth.h"
#include "sdk_util.h"

#define SCOPE "https://www.googleapis.com/auth/devstorage.read_write"

static const char *g_vectors, *g_dir;

static char *slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  sdk_buf b = SDK_BUF_INIT;
  char chunk[4096];
  size_t n;

  assert_non_null(f);
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
    assert_int_equal(sdk_buf_append(&b, chunk, n), 0);
  fclose(f);
  return b.data;
}

static store_error new_err(void)
{
  store_error e;

  memset(&e, 0, sizeof(e));
  e.struct_size = sizeof(e);
  return e;
}

/* base64url (no padding) decoded into out. */
static void b64url_decode(const char *s, size_t n, sdk_buf *out)
{
  sdk_buf t = SDK_BUF_INIT;

  for (size_t i = 0; i < n; i++)
    assert_int_equal(sdk_buf_putc(&t, s[i] == '-' ? '+' : s[i] == '_' ? '/'
                                                                      : s[i]),
                     0);
  while (t.len % 4)
    assert_int_equal(sdk_buf_putc(&t, '='), 0);
  assert_int_equal(sdk_base64_decode(out, t.data, t.len), 0);
  sdk_buf_free(&t);
}

/* The vectors' service account, with token_uri pointing at `uri`. */
static char *account_json(const char *uri)
{
  char path[4096], *text;
  json_t *j;

  snprintf(path, sizeof(path),
           "%s/gcs-v4/test_service_account.not-a-test.json", g_vectors);
  j = json_load_file(path, 0, NULL);
  assert_non_null(j);
  json_object_set_new(j, "token_uri", json_string(uri));
  text = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  return text;
}

static void test_jwt(void **state)
{
  char *text = account_json("https://oauth2.example/token");
  json_t *acct = json_loads(text, 0, NULL), *hdr, *claims;
  sdk_buf jwt = SDK_BUF_INIT, h = SDK_BUF_INIT, c = SDK_BUF_INIT,
          sig = SDK_BUF_INIT;
  const char *pem = json_string_value(json_object_get(acct, "private_key"));
  store_error err = new_err();
  sdk_oauth *o = NULL;
  EVP_PKEY *key;
  EVP_MD_CTX *md;
  BIO *bio;
  char *d1, *d2;

  (void)state;
  assert_int_equal(sdk_oauth_from_json(text, strlen(text), "sa.json", SCOPE,
                                       NULL, &o, &err), STORE_OK);
  assert_int_equal(sdk_oauth_kind(o), SDK_OAUTH_SERVICE_ACCOUNT);
  assert_string_equal(sdk_oauth_project(o), "dummy-project-id");
  assert_string_equal(sdk_oauth_token_uri(o), "https://oauth2.example/token");
  assert_int_equal(sdk_oauth_jwt(o, 1700000000, &jwt, &err), STORE_OK);
  d1 = strchr(jwt.data, '.');
  assert_non_null(d1);
  d2 = strchr(d1 + 1, '.');
  assert_non_null(d2);
  b64url_decode(jwt.data, (size_t)(d1 - jwt.data), &h);
  b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &c);
  b64url_decode(d2 + 1, strlen(d2 + 1), &sig);
  hdr = json_loadb(h.data, h.len, 0, NULL);
  claims = json_loadb(c.data, c.len, 0, NULL);
  assert_non_null(hdr);
  assert_non_null(claims);
  assert_string_equal(json_string_value(json_object_get(hdr, "alg")), "RS256");
  assert_string_equal(json_string_value(json_object_get(hdr, "typ")), "JWT");
  assert_string_equal(json_string_value(json_object_get(hdr, "kid")),
                      json_string_value(
                        json_object_get(acct, "private_key_id")));
  assert_string_equal(json_string_value(json_object_get(claims, "iss")),
                      json_string_value(json_object_get(acct,
                                                        "client_email")));
  assert_string_equal(json_string_value(json_object_get(claims, "scope")),
                      SCOPE);
  assert_string_equal(json_string_value(json_object_get(claims, "aud")),
                      "https://oauth2.example/token");
  assert_int_equal(json_integer_value(json_object_get(claims, "iat")),
                   1700000000);
  assert_int_equal(json_integer_value(json_object_get(claims, "exp")),
                   1700000000 + 3600);
  /* RS256 over "header.claims", checked with the key's public half. */
  bio = BIO_new_mem_buf(pem, -1);
  key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
  assert_non_null(key);
  md = EVP_MD_CTX_new();
  assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key), 1);
  assert_int_equal(EVP_DigestVerify(md, (unsigned char *)sig.data, sig.len,
                                    (unsigned char *)jwt.data,
                                    (size_t)(d2 - jwt.data)), 1);
  /* ... and a changed claim does not verify. */
  jwt.data[d1 - jwt.data + 3] ^= 1;
  assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key), 1);
  assert_int_not_equal(EVP_DigestVerify(md, (unsigned char *)sig.data,
                                        sig.len, (unsigned char *)jwt.data,
                                        (size_t)(d2 - jwt.data)), 1);
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(key);
  BIO_free(bio);
  json_decref(hdr);
  json_decref(claims);
  json_decref(acct);
  sdk_buf_free(&jwt);
  sdk_buf_free(&h);
  sdk_buf_free(&c);
  sdk_buf_free(&sig);
  sdk_oauth_free(o);
  free(text);
}

/* Each bad file: CONFIG, a message naming the file and the cause, and no
 * secret of it. */
static void refused(const char *text, const char *cause)
{
  store_error err = new_err();
  sdk_oauth *o = (sdk_oauth *)1;

  assert_int_equal(sdk_oauth_from_json(text, strlen(text), "/x/cred.json",
                                       SCOPE, NULL, &o, &err),
                   STORE_E_CONFIG);
  assert_null(o);
  if (!strstr(err.message, "/x/cred.json") || !strstr(err.message, cause))
    fail_msg("message '%s' lacks the file or '%s'", err.message, cause);
  assert_null(strstr(err.message, "s3cr3t"));
  assert_null(strstr(err.message, "PRIVATE KEY"));
}

static void test_refusals(void **state)
{
  store_error err = new_err();
  sdk_oauth *o = NULL;

  (void)state;
  refused("{not json", "not JSON");
  refused("[1]", "not an object");
  refused("{\"type\": \"external_account\"}", "external_account");
  refused("{\"type\": \"service_account\", \"client_email\": \"a@b\"}",
          "private_key");
  refused("{\"type\": \"service_account\", \"client_email\": \"a@b\", "
          "\"private_key\": \"-----BEGIN PRIVATE KEY-----\\ns3cr3t\\n"
          "-----END PRIVATE KEY-----\\n\"}", "not a PEM private key");
  refused("{\"type\": \"authorized_user\", \"client_id\": \"c\", "
          "\"client_secret\": \"s3cr3t\"}", "refresh_token");
  assert_int_equal(sdk_oauth_from_file("/nonexistent/cred.json", SCOPE, NULL,
                                       &o, &err), STORE_E_CONFIG);
  assert_non_null(strstr(err.message, "/nonexistent/cred.json"));
  assert_non_null(strstr(err.message, "No such file"));
  assert_int_equal(sdk_oauth_from_token("two words", &o, &err),
                   STORE_E_CONFIG);
  assert_int_equal(sdk_oauth_from_token("ya29.static", &o, &err), STORE_OK);
  assert_int_equal(sdk_oauth_reject(o, "ya29.static"), 0);
  sdk_oauth_free(o);
}

/* ---- against the test server ------------------------------------------- */

static sdk_http *new_http(void)
{
  sdk_http *h = NULL;
  store_error err = new_err();

  assert_int_equal(sdk_http_new(NULL, &h, &err), STORE_OK);
  return h;
}

static char *fixture(const char *name)
{
  char path[4096];
  char *text;
  size_t n;

  snprintf(path, sizeof(path), "%s/%s", g_dir, name);
  text = slurp(path);
  n = strlen(text);
  while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
    text[--n] = '\0';
  return text;
}

/* POST a test hook (no auth). */
static void hook(sdk_http *http, const char *path, const char *body)
{
  char *ep = fixture("endpoint"), url[512];
  store_error err = new_err();
  sdk_response *resp = NULL;
  sdk_request *r;

  snprintf(url, sizeof(url), "%s%s", ep, path);
  r = sdk_request_new("POST", url);
  assert_non_null(r);
  sdk_request_set_header(r, "Content-Type", "application/json");
  sdk_request_body_mem(r, body, strlen(body));
  assert_int_equal(sdk_http_perform(http, r, &resp, &err), STORE_OK);
  assert_int_equal(sdk_response_status(resp), 200);
  sdk_response_free(resp);
  sdk_request_free(r);
  free(ep);
}

typedef struct racer {
  sdk_oauth *o;
  sdk_http *http;
  int rc;
  char token[256];
} racer;

static void *race(void *ud)
{
  racer *r = ud;
  sdk_buf t = SDK_BUF_INIT;
  store_error err = new_err();

  r->rc = sdk_oauth_token(r->o, r->http, &t, &err);
  snprintf(r->token, sizeof(r->token), "%s", t.data ? t.data : "");
  sdk_buf_free(&t);
  return NULL;
}

static void test_cache(void **state)
{
  char path[4096];
  sdk_http *http = new_http();
  store_error err = new_err();
  sdk_buf t1 = SDK_BUF_INIT, t2 = SDK_BUF_INIT;
  racer r[8];
  pthread_t th[8];
  sdk_oauth *o = NULL;

  (void)state;
  snprintf(path, sizeof(path), "%s/sa.json", g_dir);
  assert_int_equal(sdk_oauth_from_file(path, SCOPE, NULL, &o, &err),
                   STORE_OK);
  /* Eight threads at once: one grant, one token for all. */
  for (int i = 0; i < 8; i++) {
    r[i] = (racer){o, http, -1, ""};
    assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
  }
  for (int i = 0; i < 8; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(r[i].rc, STORE_OK);
    assert_string_equal(r[i].token, r[0].token);
  }
  assert_int_equal(sdk_oauth_grants(o), 1);
  /* A token the service refused is dropped: the next call fetches one. */
  assert_int_equal(sdk_oauth_reject(o, r[0].token), 1);
  assert_int_equal(sdk_oauth_token(o, http, &t1, &err), STORE_OK);
  assert_int_equal(sdk_oauth_grants(o), 2);
  assert_string_not_equal(t1.data, r[0].token);
  /* A stale rejection (of a token already replaced) changes nothing. */
  assert_int_equal(sdk_oauth_reject(o, r[0].token), 1);
  assert_int_equal(sdk_oauth_token(o, http, &t2, &err), STORE_OK);
  assert_string_equal(t1.data, t2.data);
  assert_int_equal(sdk_oauth_grants(o), 2);
  sdk_buf_free(&t1);
  sdk_buf_free(&t2);
  sdk_oauth_free(o);
  sdk_http_free(http);
}

/* A token that lives 8 s is renewed before it expires (after 6 s: a
 * quarter of its life early). */
static void test_renew_before_expiry(void **state)
{
  char path[4096];
  sdk_http *http = new_http();
  store_error err = new_err();
  sdk_buf t = SDK_BUF_INIT;
  sdk_oauth *o = NULL;

  (void)state;
  snprintf(path, sizeof(path), "%s/sa.json", g_dir);
  assert_int_equal(sdk_oauth_from_file(path, SCOPE, NULL, &o, &err),
                   STORE_OK);
  hook(http, "/_test/config", "{\"token_ttl\": 8}");
  assert_int_equal(sdk_oauth_token(o, http, &t, &err), STORE_OK);
  hook(http, "/_test/config", "{\"token_ttl\": null}");
  sdk_buf_reset(&t);
  assert_int_equal(sdk_oauth_token(o, http, &t, &err), STORE_OK);
  assert_int_equal(sdk_oauth_grants(o), 1);
  sleep(7);
  sdk_buf_reset(&t);
  assert_int_equal(sdk_oauth_token(o, http, &t, &err), STORE_OK);
  assert_int_equal(sdk_oauth_grants(o), 2);
  sdk_buf_free(&t);
  sdk_oauth_free(o);
  sdk_http_free(http);
}

static void test_refresh_grant(void **state)
{
  char path[4096], uri[512];
  char *ep = fixture("endpoint");
  sdk_http *http = new_http();
  store_error err = new_err();
  sdk_buf t = SDK_BUF_INIT;
  sdk_oauth *o = NULL;

  (void)state;
  snprintf(path, sizeof(path), "%s/user.json", g_dir);
  snprintf(uri, sizeof(uri), "%s/token", ep);
  assert_int_equal(sdk_oauth_from_file(path, SCOPE, uri, &o, &err),
                   STORE_OK);
  assert_int_equal(sdk_oauth_kind(o), SDK_OAUTH_AUTHORIZED_USER);
  assert_int_equal(sdk_oauth_token(o, http, &t, &err), STORE_OK);
  assert_true(t.len > 0);
  sdk_buf_free(&t);
  sdk_oauth_free(o);
  sdk_http_free(http);
  free(ep);
}

/* Another key under the server's service account: the endpoint refuses
 * the signature, and the message says who and why, quoting no secret. */
static void test_endpoint_refuses(void **state)
{
  char *sa = fixture("sa.json"), *mine, *ep = fixture("endpoint"), uri[512];
  json_t *real = json_loads(sa, 0, NULL), *fake;
  sdk_http *http = new_http();
  store_error err = new_err();
  sdk_buf t = SDK_BUF_INIT;
  sdk_oauth *o = NULL;

  (void)state;
  snprintf(uri, sizeof(uri), "%s/token", ep);
  mine = account_json(uri);
  fake = json_loads(mine, 0, NULL);
  json_object_set(fake, "client_email", json_object_get(real, "client_email"));
  json_object_del(fake, "private_key_id");
  free(mine);
  mine = json_dumps(fake, JSON_COMPACT);
  assert_int_equal(sdk_oauth_from_json(mine, strlen(mine), "fake-sa.json",
                                       SCOPE, NULL, &o, &err), STORE_OK);
  assert_int_equal(sdk_oauth_token(o, http, &t, &err), STORE_E_AUTH);
  if (!strstr(err.message, "fake-sa.json") ||
      !strstr(err.message, "invalid_grant") || !strstr(err.message, "400"))
    fail_msg("message: %s", err.message);
  assert_null(strstr(err.message, "PRIVATE"));
  assert_int_equal(err.flags & STORE_ERR_RETRYABLE, 0);
  assert_null(t.data);
  sdk_oauth_free(o);
  /* An endpoint that is not there: a retryable transport error. */
  json_object_set_new(fake, "token_uri",
                      json_string("http://127.0.0.1:1/token"));
  free(mine);
  mine = json_dumps(fake, JSON_COMPACT);
  assert_int_equal(sdk_oauth_from_json(mine, strlen(mine), "fake-sa.json",
                                       SCOPE, NULL, &o, &err), STORE_OK);
  err = new_err();
  assert_int_equal(sdk_oauth_token(o, http, &t, &err), STORE_E_IO);
  assert_true(err.flags & STORE_ERR_RETRYABLE);
  assert_non_null(strstr(err.message, "fake-sa.json"));
  sdk_oauth_free(o);
  json_decref(fake);
  json_decref(real);
  free(mine);
  free(sa);
  free(ep);
  sdk_http_free(http);
}

int main(int argc, char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_jwt),
    cmocka_unit_test(test_refusals),
    cmocka_unit_test(test_cache),
    cmocka_unit_test(test_renew_before_expiry),
    cmocka_unit_test(test_refresh_grant),
    cmocka_unit_test(test_endpoint_refuses),
  };

  g_vectors = argc > 1 ? argv[1] : NULL;
  g_dir = getenv("XTSTORE_GCS_DIR");
  if (!g_vectors || !g_dir) {
    printf("usage: XTSTORE_GCS_DIR=DIR test_oauth VECTORS_DIR\n");
    return 1;
  }
  return cmocka_run_group_tests(tests, NULL, NULL);
}
