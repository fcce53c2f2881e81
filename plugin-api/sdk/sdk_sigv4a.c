/*
** sdk_sigv4a.c -- the SigV4a key: an ECDSA P-256 key derived from AWS
** credentials, signing and verification (OpenSSL 3 EVP).
**
** Derivation (the SigV4a specification, as implemented by aws-c-auth): a
** NIST SP 800-108 KDF in counter mode with HMAC-SHA256 keyed by
** "AWS4A" + secret, label "AWS4-ECDSA-P256-SHA256", context = access key
** id + one external counter byte; the first candidate c <= n - 2 (n the
** group order) gives the private key d = c + 1.
*/
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "sdk_sigv4.h"
#include "sdk_util.h"

#define P256_GROUP "prime256v1"

struct sdk_sigv4a_key {
  EVP_PKEY *pkey;
  unsigned char pub[65];        /* 0x04 || X || Y                          */
};

void sdk_sigv4a_key_free(sdk_sigv4a_key *k)
{
  if (!k)
    return;
  EVP_PKEY_free(k->pkey);
  free(k);
}

/* The candidate private scalar for one external counter value. */
static int kdf_candidate(const char *ak, const char *sk, unsigned counter,
                         unsigned char out[32])
{
  static const char label[] = "AWS4-ECDSA-P256-SHA256";
  sdk_buf key = SDK_BUF_INIT, in = SDK_BUF_INIT;
  static const unsigned char one[4] = {0, 0, 0, 1};
  static const unsigned char bits[4] = {0, 0, 1, 0}; /* L = 256 */
  int rc;

  rc = sdk_buf_puts(&key, "AWS4A") || sdk_buf_puts(&key, sk) ||
       sdk_buf_append(&in, one, 4) ||
       sdk_buf_append(&in, label, sizeof(label)) || /* label and 0x00 */
       sdk_buf_puts(&in, ak) || sdk_buf_putc(&in, (char)counter) ||
       sdk_buf_append(&in, bits, 4) ||
       sdk_hmac_sha256(key.data, key.len, in.data, in.len, out);
  if (key.data)
    OPENSSL_cleanse(key.data, key.len);
  sdk_buf_free(&key);
  sdk_buf_free(&in);
  return rc ? -1 : 0;
}

/* An EVP_PKEY of group P-256 from the private scalar d (may be NULL for a
 * public key) and the encoded public point. */
static EVP_PKEY *make_pkey(const BIGNUM *d, const unsigned char *pub,
                           size_t publen)
{
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM *params = NULL;
  EVP_PKEY_CTX *ctx = NULL;
  EVP_PKEY *pkey = NULL;

  if (!bld ||
      !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                       P256_GROUP, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub,
                                        publen) ||
      (d && !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d)))
    goto out;
  params = OSSL_PARAM_BLD_to_param(bld);
  ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
      EVP_PKEY_fromdata(ctx, &pkey,
                        d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                        params) <= 0)
    pkey = NULL;
out:
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  return pkey;
}

int sdk_sigv4a_key_derive(const char *access_key, const char *secret_key,
                          sdk_sigv4a_key **out)
{
  EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  BIGNUM *c = BN_secure_new(), *limit = BN_new();
  EC_POINT *pt = NULL;
  sdk_sigv4a_key *k = calloc(1, sizeof(*k));
  unsigned char cand[32];
  unsigned counter;
  int rc = -1;

  *out = NULL;
  if (!group || !c || !limit || !k ||
      !BN_copy(limit, EC_GROUP_get0_order(group)) ||
      !BN_sub_word(limit, 2))
    goto out;
  for (counter = 1; counter < 255; counter++) {
    if (kdf_candidate(access_key, secret_key, counter, cand) ||
        !BN_bin2bn(cand, sizeof(cand), c))
      goto out;
    if (BN_cmp(c, limit) <= 0)
      break;
  }
  if (counter == 255 || !BN_add_word(c, 1))
    goto out;
  pt = EC_POINT_new(group);
  if (!pt || !EC_POINT_mul(group, pt, c, NULL, NULL, NULL) ||
      EC_POINT_point2oct(group, pt, POINT_CONVERSION_UNCOMPRESSED, k->pub,
                         sizeof(k->pub), NULL) != sizeof(k->pub))
    goto out;
  k->pkey = make_pkey(c, k->pub, sizeof(k->pub));
  if (!k->pkey)
    goto out;
  *out = k;
  k = NULL;
  rc = 0;
out:
  OPENSSL_cleanse(cand, sizeof(cand));
  sdk_sigv4a_key_free(k);
  EC_POINT_free(pt);
  BN_clear_free(c);
  BN_free(limit);
  EC_GROUP_free(group);
  return rc;
}

int sdk_sigv4a_key_public(const sdk_sigv4a_key *k, char x[65], char y[65])
{
  if (!k)
    return -1;
  sdk_hex(k->pub + 1, 32, x);
  sdk_hex(k->pub + 33, 32, y);
  return 0;
}

int sdk_sigv4a_key_sign(const sdk_sigv4a_key *k, const char *data,
                        size_t len, char *hex, size_t cap)
{
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  unsigned char sig[80];
  size_t siglen = sizeof(sig);
  int rc = -1;

  if (md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k->pkey) > 0 &&
      EVP_DigestSign(md, sig, &siglen, (const unsigned char *)data, len) > 0 &&
      2 * siglen < cap) {
    sdk_hex(sig, siglen, hex);
    rc = 0;
  }
  EVP_MD_CTX_free(md);
  return rc;
}

/* Decode exactly n bytes of hex from s (NUL-terminated). 0 or -1. */
static int unhex(const char *s, unsigned char *out, size_t n)
{
  if (strlen(s) != 2 * n)
    return -1;
  for (size_t i = 0; i < n; i++) {
    int v = 0;
    for (int j = 0; j < 2; j++) {
      char ch = s[2 * i + (size_t)j];
      int d = ch >= '0' && ch <= '9'   ? ch - '0'
              : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
              : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                       : -1;
      if (d < 0)
        return -1;
      v = v * 16 + d;
    }
    out[i] = (unsigned char)v;
  }
  return 0;
}

int sdk_sigv4a_verify(const char *x_hex, const char *y_hex, const char *data,
                      size_t len, const char *sig_hex)
{
  unsigned char pub[65], sig[80];
  size_t siglen = strlen(sig_hex) / 2;
  EVP_PKEY *pkey = NULL;
  EVP_MD_CTX *md = NULL;
  int rc = -1;

  pub[0] = 0x04;
  if (siglen > sizeof(sig) || unhex(x_hex, pub + 1, 32) ||
      unhex(y_hex, pub + 33, 32) || unhex(sig_hex, sig, siglen))
    return -1;
  pkey = make_pkey(NULL, pub, sizeof(pub));
  md = EVP_MD_CTX_new();
  if (pkey && md &&
      EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) > 0)
    rc = EVP_DigestVerify(md, sig, siglen, (const unsigned char *)data,
                          len) == 1;
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(pkey);
  return rc;
}
