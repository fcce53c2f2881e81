/*
** sdk_rsa.c -- RSA keys and SHA-256 signatures for sdk_rsa.h, on OpenSSL's
** EVP layer (PEM decoding with pass phrases, PKCS#1 v1.5 signing).
*/
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "sdk_rsa.h"
#include "sdk_util.h"

#define RSA_PEM_MAX (64u << 10) /* a PEM private key is a few KiB */

struct sdk_rsa_key {
  EVP_PKEY *pkey;
};

/* Pass phrase callback: the given phrase, or a refusal that tells the
 * loader one was needed (*(int *)flag set). */
typedef struct pass_ctx {
  const char *pass;
  int asked;
} pass_ctx;

static int pass_cb(char *buf, int size, int rwflag, void *ud)
{
  pass_ctx *pc = ud;
  size_t n;

  (void)rwflag;
  pc->asked = 1;
  if (!pc->pass)
    return -1;
  n = strlen(pc->pass);
  if (n > (size_t)size)
    return -1;
  memcpy(buf, pc->pass, n);
  return (int)n;
}

int sdk_rsa_key_load_pem(const char *pem, size_t len, const char *pass,
                         const char *what, sdk_rsa_key **out,
                         store_error *err)
{
  pass_ctx pc = {pass, 0};
  sdk_rsa_key *k = NULL;
  EVP_PKEY *pkey = NULL;
  BIO *bio = NULL;
  int rc = STORE_E_CONFIG;

  *out = NULL;
  if (len > INT32_MAX || !(bio = BIO_new_mem_buf(pem, (int)len))) {
    rc = store_error_set(err, STORE_E_NOMEM, "%s: out of memory", what);
    goto out;
  }
  pkey = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, &pc);
  ERR_clear_error(); /* nothing of OpenSSL's queue may leak into a later call */
  if (!pkey) {
    if (pc.asked && !pass)
      store_error_set(err, rc, "%s: the private key is encrypted and no pass "
                      "phrase was given", what);
    else if (pc.asked)
      store_error_set(err, rc, "%s: the pass phrase does not decrypt the "
                      "private key", what);
    else
      store_error_set(err, rc, "%s: not a PEM private key", what);
    goto out;
  }
  if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
    store_error_set(err, rc, "%s: the private key is not an RSA key", what);
    goto out;
  }
  if (!(k = calloc(1, sizeof(*k)))) {
    rc = store_error_set(err, STORE_E_NOMEM, "%s: out of memory", what);
    goto out;
  }
  k->pkey = pkey;
  pkey = NULL;
  *out = k;
  rc = STORE_OK;
out:
  EVP_PKEY_free(pkey);
  BIO_free(bio);
  return rc;
}

int sdk_rsa_key_load_file(const char *path, const char *pass,
                          sdk_rsa_key **out, store_error *err)
{
  sdk_buf pem = SDK_BUF_INIT;
  char chunk[4096];
  FILE *f;
  size_t n;
  int rc;

  *out = NULL;
  if (!(f = fopen(path, "rb")))
    return store_error_set(err, STORE_E_CONFIG, "%s: cannot read the private "
                           "key: %s", path, strerror(errno));
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
    if (pem.len + n > RSA_PEM_MAX) {
      rc = store_error_set(err, STORE_E_CONFIG, "%s: too big for a PEM "
                           "private key", path);
      goto out;
    }
    if (sdk_buf_append(&pem, chunk, n)) {
      rc = store_error_set(err, STORE_E_NOMEM, "%s: out of memory", path);
      goto out;
    }
  }
  if (ferror(f)) {
    rc = store_error_set(err, STORE_E_CONFIG, "%s: cannot read the private "
                         "key: read error", path);
    goto out;
  }
  rc = sdk_rsa_key_load_pem(sdk_buf_str(&pem), pem.len, pass, path, out, err);
out:
  fclose(f);
  OPENSSL_cleanse(pem.data, pem.cap); /* the key text is a secret */
  sdk_buf_free(&pem);
  return rc;
}

void sdk_rsa_key_free(sdk_rsa_key *k)
{
  if (!k)
    return;
  EVP_PKEY_free(k->pkey);
  free(k);
}

int sdk_base64url_encode(sdk_buf *out, const void *data, size_t len)
{
  size_t start = out->len, i;

  if (sdk_base64_encode(out, data, len))
    return -1;
  while (out->len > start && out->data[out->len - 1] == '=')
    out->len--;
  if (out->data)
    out->data[out->len] = '\0';
  for (i = start; i < out->len; i++) {
    if (out->data[i] == '+')
      out->data[i] = '-';
    else if (out->data[i] == '/')
      out->data[i] = '_';
  }
  return 0;
}

int sdk_rsa_sign_sha256(const sdk_rsa_key *k, const void *data, size_t len,
                        int form, sdk_buf *out)
{
  unsigned char sig[1024]; /* up to RSA-8192 */
  size_t siglen = sizeof(sig);
  char hex[2 * sizeof(sig) + 1];
  EVP_MD_CTX *md = NULL;
  int rc = -1;

  if (!(md = EVP_MD_CTX_new()) ||
      EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k->pkey) != 1 ||
      EVP_PKEY_get_size(k->pkey) > (int)sizeof(sig) ||
      EVP_DigestSign(md, sig, &siglen, data, len) != 1)
    goto out;
  switch (form) {
  case SDK_RSA_B64:
    rc = sdk_base64_encode(out, sig, siglen);
    break;
  case SDK_RSA_B64URL:
    rc = sdk_base64url_encode(out, sig, siglen);
    break;
  case SDK_RSA_HEX:
    sdk_hex(sig, siglen, hex);
    rc = sdk_buf_puts(out, hex);
    break;
  }
out:
  ERR_clear_error();
  EVP_MD_CTX_free(md);
  return rc;
}
