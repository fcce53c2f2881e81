/*
** sdk_gcsv4.h -- Google Cloud Storage V4 signing (GOOG4-RSA-SHA256) with a
** service account's RSA key: signed URLs, whose query carries the
** credential, the time, the lifetime, the signed headers and the
** signature, so that anyone holding the URL may make that one request
** until it expires. Tested with every signed-URL case of Google's
** conformance vectors (tests/vectors/gcs-v4).
**
** The caller chooses the host and the path (path style
** "/BUCKET/OBJECT", virtual-hosted "/OBJECT" on BUCKET.storage..., or a
** bucket-bound hostname): the signer encodes the path, adds the host
** header (without its port, as GCS checks it), sorts and canonicalises
** headers and query, and signs.
*/
#ifndef SDK_GCSV4_H
#define SDK_GCSV4_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "store_interface.h"
#include "sdk_buf.h"
#include "sdk_rsa.h"

#define SDK_GCSV4_ALGORITHM "GOOG4-RSA-SHA256"
/* The longest lifetime GCS accepts: 7 days. */
#define SDK_GCSV4_MAX_EXPIRES 604800u

typedef struct sdk_gcsv4_url {
  uint32_t struct_size;         /* sizeof(sdk_gcsv4_url)                  */
  const char *method;           /* "GET", "PUT", "POST", ...              */
  const char *scheme;           /* "https" (NULL) or "http"               */
  const char *host;             /* "storage.googleapis.com", may end in
                                   ":PORT" (kept in the URL, not signed) */
  const char *path;             /* raw, starting with '/': encoded here   */
  const char *client_email;     /* the service account                    */
  time_t timestamp;             /* when the signature starts (UTC)        */
  uint32_t expires;             /* seconds, 1..SDK_GCSV4_MAX_EXPIRES      */
  uint32_t reserved;
  const store_kv *headers;      /* more headers to sign (raw names and
                                   values: lowercased, trimmed and
                                   collapsed here); may be NULL           */
  size_t nheaders;
  const store_kv *query;        /* more query parameters (raw); may be NULL */
  size_t nquery;
} sdk_gcsv4_url;

/*
** Sign: the URL into out_url; the canonical request and the string to sign
** into creq and sts when they are not NULL (for tests and debugging). The
** payload is UNSIGNED-PAYLOAD unless the headers carry
** x-goog-content-sha256. STORE_E_INVALID for a missing field, a path not
** starting with '/', or expires out of range; STORE_E_NOMEM, or
** STORE_E_INTERNAL when OpenSSL fails. Outputs are appended to.
*/
int sdk_gcsv4_sign_url(const sdk_rsa_key *key, const sdk_gcsv4_url *u,
                       sdk_buf *out_url, sdk_buf *creq, sdk_buf *sts,
                       store_error *err);

/* A POST policy: the form a browser posts to https://HOST/BUCKET/ (or the
 * bucket's own host) to upload `object`. */
typedef struct sdk_gcsv4_policy {
  uint32_t struct_size;         /* sizeof(sdk_gcsv4_policy)               */
  uint32_t expires;             /* seconds, 1..SDK_GCSV4_MAX_EXPIRES      */
  const char *bucket;
  const char *object;           /* the form's "key"                       */
  const char *client_email;
  time_t timestamp;
  const store_kv *fields;       /* more form fields, each also fixed by the
                                   policy, in this order; may be NULL     */
  size_t nfields;
  const json_t *conditions;     /* more conditions, first in the policy: a
                                   JSON array of them (["starts-with",
                                   "$acl", "public"], ["content-length-
                                   range", 0, 99]); NULL for none         */
} sdk_gcsv4_policy;

/*
** Sign a POST policy: *out is a new JSON object (json_decref) of the form's
** fields: key, the given fields, x-goog-algorithm, x-goog-credential,
** x-goog-date, x-goog-signature and policy (the base64 of the policy JSON,
** non-ASCII escaped as \uXXXX, which the signature covers); the policy's
** JSON text is appended to policy_text when it is not NULL. Errors as for
** sdk_gcsv4_sign_url.
*/
int sdk_gcsv4_post_policy(const sdk_rsa_key *key, const sdk_gcsv4_policy *p,
                          json_t **out, sdk_buf *policy_text,
                          store_error *err);

#endif /* SDK_GCSV4_H */
