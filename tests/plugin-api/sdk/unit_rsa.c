/*
** unit_rsa.c -- sdk_rsa.h: keys made here by OpenSSL (PKCS#1, PKCS#8,
** encrypted, EC) loaded or refused with the right message; a signature
** that verifies with the public key in each output form; base64url.
*/
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "unit.h"
#include "sdk_rsa.h"
#include "sdk_util.h"

static EVP_PKEY *g_rsa;

/* PEM text of key k (encrypted with pass when not NULL; PKCS#1 when
 * trad). Caller frees. */
static char *pem_of(EVP_PKEY *k, const char *pass, int trad)
{
  BIO *b = BIO_new(BIO_s_mem());
  char *data, *s;
  long n;
  int ok;

  if (trad)
    ok = PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0, NULL,
                                              NULL);
  else
    ok = PEM_write_bio_PrivateKey(b, k, pass ? EVP_aes_256_cbc() : NULL,
                                  NULL, 0, NULL, (void *)pass);
  assert_int_equal(ok, 1);
  n = BIO_get_mem_data(b, &data);
  s = strndup(data, (size_t)n);
  BIO_free(b);
  return s;
}

static int setup(void **state)
{
  (void)state;
  g_rsa = EVP_RSA_gen(2048);
  return g_rsa ? 0 : -1;
}

static int teardown(void **state)
{
  (void)state;
  EVP_PKEY_free(g_rsa);
  return 0;
}

static void assert_load_fails(const char *pem, const char *pass,
                              const char *want)
{
  store_error err;
  sdk_rsa_key *k = (sdk_rsa_key *)1;

  UNIT_ERR(err);
  assert_int_equal(sdk_rsa_key_load_pem(pem, strlen(pem), pass, "k.pem", &k,
                                        &err), STORE_E_CONFIG);
  assert_null(k);
  assert_non_null(strstr(err.message, "k.pem: "));
  assert_non_null(strstr(err.message, want));
  if (pass)
    assert_null(strstr(err.message, pass));
}

static void test_refusals(void **state)
{
  EVP_PKEY *ec = EVP_EC_gen("P-256");
  char *enc = pem_of(g_rsa, "s3cret-phrase", 0);
  char *ecpem;

  (void)state;
  assert_non_null(ec);
  ecpem = pem_of(ec, NULL, 0);
  assert_load_fails("hello", NULL, "not a PEM private key");
  assert_load_fails(enc, NULL, "encrypted and no pass phrase");
  assert_load_fails(enc, "wrong-phrase", "pass phrase does not decrypt");
  assert_load_fails(ecpem, NULL, "not an RSA key");
  free(enc);
  free(ecpem);
  EVP_PKEY_free(ec);
}

static void test_missing_file(void **state)
{
  store_error err;
  sdk_rsa_key *k = (sdk_rsa_key *)1;

  (void)state;
  UNIT_ERR(err);
  assert_int_equal(sdk_rsa_key_load_file("/nonexistent/k.pem", NULL, &k,
                                         &err), STORE_E_CONFIG);
  assert_null(k);
  assert_non_null(strstr(err.message, "/nonexistent/k.pem: cannot read"));
}

/* Sign with a key loaded from pem (pass), verify with g_rsa's public half
 * in every form. */
static void sign_and_verify(const char *pem, const char *pass)
{
  static const char msg[] = "GET /n/\nhost: 127.0.0.1";
  sdk_buf sig = SDK_BUF_INIT, raw = SDK_BUF_INIT, tmp = SDK_BUF_INIT;
  unsigned char bin[512];
  EVP_MD_CTX *md;
  store_error err;
  sdk_rsa_key *k;

  UNIT_ERR(err);
  assert_int_equal(sdk_rsa_key_load_pem(pem, strlen(pem), pass, "k", &k,
                                        &err), STORE_OK);
  assert_int_equal(sdk_rsa_sign_sha256(k, msg, strlen(msg), SDK_RSA_B64,
                                       &sig), 0);
  assert_int_equal(sdk_base64_decode(&raw, sig.data, sig.len), 0);
  assert_int_equal(raw.len, 256);
  md = EVP_MD_CTX_new();
  assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, g_rsa),
                   1);
  assert_int_equal(EVP_DigestVerify(md, (unsigned char *)raw.data, raw.len,
                                    (const unsigned char *)msg, strlen(msg)),
                   1);
  EVP_MD_CTX_free(md);
  /* PKCS#1 v1.5 is deterministic: the other forms spell the same bytes. */
  assert_int_equal(sdk_rsa_sign_sha256(k, msg, strlen(msg), SDK_RSA_HEX,
                                       &tmp), 0);
  assert_int_equal(tmp.len, 512);
  assert_int_equal(sdk_unhex(tmp.data, bin, 256), 0);
  assert_memory_equal(bin, raw.data, 256);
  sdk_buf_reset(&tmp);
  assert_int_equal(sdk_rsa_sign_sha256(k, msg, strlen(msg), SDK_RSA_B64URL,
                                       &tmp), 0);
  assert_null(strpbrk(tmp.data, "+/="));
  sdk_buf_free(&sig);
  assert_int_equal(sdk_base64url_encode(&sig, raw.data, raw.len), 0);
  assert_string_equal(tmp.data, sig.data);
  sdk_rsa_key_free(k);
  sdk_buf_free(&sig);
  sdk_buf_free(&raw);
  sdk_buf_free(&tmp);
}

static void test_sign(void **state)
{
  char *p8 = pem_of(g_rsa, NULL, 0), *p1 = pem_of(g_rsa, NULL, 1);
  char *enc = pem_of(g_rsa, "s3cret-phrase", 0);

  (void)state;
  assert_non_null(strstr(p1, "BEGIN RSA PRIVATE KEY"));
  sign_and_verify(p8, NULL);
  sign_and_verify(p1, NULL);
  sign_and_verify(enc, "s3cret-phrase");
  free(p8);
  free(p1);
  free(enc);
}

static void test_base64url(void **state)
{
  sdk_buf b = SDK_BUF_INIT;

  (void)state;
  assert_int_equal(sdk_base64url_encode(&b, "\xfb\xff", 2), 0);
  assert_string_equal(b.data, "-_8");
  sdk_buf_reset(&b);
  assert_int_equal(sdk_base64url_encode(&b, "{\"alg\":\"RS256\"}", 15), 0);
  assert_string_equal(b.data, "eyJhbGciOiJSUzI1NiJ9");
  sdk_buf_free(&b);
}

int unit_rsa(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_refusals),
    cmocka_unit_test(test_missing_file),
    cmocka_unit_test(test_sign),
    cmocka_unit_test(test_base64url),
  };
  return cmocka_run_group_tests_name("sdk_rsa", tests, setup, teardown);
}
