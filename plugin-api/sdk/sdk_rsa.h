/*
** sdk_rsa.h -- RSA private keys and RSASSA-PKCS1-v1_5 / SHA-256 signatures
** (OpenSSL), as Google's OAuth2 JWTs and V4 signed URLs (RS256) and OCI's
** request signatures (rsa-sha256) use them.
**
** A loaded key is read-only: one key may sign from several threads at once.
** No message ever quotes a key or its pass phrase.
*/
#ifndef SDK_RSA_H
#define SDK_RSA_H

#include <stddef.h>

#include "store_interface.h"
#include "sdk_buf.h"

typedef struct sdk_rsa_key sdk_rsa_key;

/*
** Load an RSA private key from PEM text pem[0..len) (PKCS#1 "RSA PRIVATE
** KEY" or PKCS#8, encrypted or not; pass may be NULL for an unencrypted
** key). `what` names the key's origin in messages (a file path, or
** "service 'x' key"). On failure *out is NULL and err says, with
** STORE_E_CONFIG: not a PEM private key, encrypted and no pass phrase
** given, wrong pass phrase, or not an RSA key. Caller frees *out with
** sdk_rsa_key_free.
*/
int sdk_rsa_key_load_pem(const char *pem, size_t len, const char *pass,
                         const char *what, sdk_rsa_key **out,
                         store_error *err);
/* The same for the key in file `path` (named in messages; unreadable is
 * STORE_E_CONFIG with the system's reason). */
int sdk_rsa_key_load_file(const char *path, const char *pass,
                          sdk_rsa_key **out, store_error *err);
/* NULL is fine. */
void sdk_rsa_key_free(sdk_rsa_key *k);

#define SDK_RSA_B64    0 /* standard base64 with padding (OCI)           */
#define SDK_RSA_B64URL 1 /* base64url without padding (JWT, RFC 7515)     */
#define SDK_RSA_HEX    2 /* lowercase hex (GCS V4 signed URLs)            */
/* Sign data[0..len) with RSASSA-PKCS1-v1_5 over SHA-256 and append the
 * signature to out in `form` (SDK_RSA_*). 0, or -1 (OpenSSL or memory
 * failure; out unchanged). */
int sdk_rsa_sign_sha256(const sdk_rsa_key *k, const void *data, size_t len,
                        int form, sdk_buf *out);

/* Append base64url without padding of data[0..len) (JWT segments). 0/-1. */
int sdk_base64url_encode(sdk_buf *out, const void *data, size_t len);

#endif /* SDK_RSA_H */
