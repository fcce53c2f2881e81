/*
** sdk_oci.h -- Oracle Cloud Infrastructure request signatures (OCI's
** "Signature version 1": draft-cavage HTTP signatures, rsa-sha256), for any
** provider that speaks an OCI REST API.
**
** Every request signs a date (`x-date` as oci-common sends it, or `date`),
** `(request-target)` (lowercase method, space, path and query exactly as
** sent) and `host`. A POST, PUT or PATCH with a JSON body also signs
** `content-type`, `content-length` and `x-content-sha256` (base64 SHA-256
** of the body); object bodies (PutObject, UploadPart) are left out of the
** signature, as the SDKs do, so they can stream.
**
** The header lists below are oci-common's (npm, 2.x), names and order, so
** that our Authorization header is byte-identical to what its
** DefaultRequestSigner writes for the same request, date and key. The
** service accepts any list that holds the required headers. Nothing here
** logs or quotes a key.
*/
#ifndef SDK_OCI_H
#define SDK_OCI_H

#include <stddef.h>
#include <stdint.h>

#include "sdk_buf.h"
#include "sdk_http.h"
#include "sdk_rsa.h"

/* What every request signs, and what a request with a JSON body signs. */
#define SDK_OCI_HEADERS "x-date (request-target) host"
#define SDK_OCI_BODY_HEADERS \
  SDK_OCI_HEADERS " Content-Type Content-Length x-content-sha256"

/*
** The signing string of r over `headers` (names separated by single
** spaces, in any case; "(request-target)" is the pseudo-header): one
** "name: value" line per name, lowercased name, joined with "\n". `host`
** is the request's Host header when it has one, else the URL's authority
** (host[:port]). Appends to out. 0, or -1 when a listed header is missing
** from r, the URL has no authority, or memory runs out.
*/
int sdk_oci_signing_string(const sdk_request *r, const char *headers,
                           sdk_buf *out);

/* The Authorization header value, as oci-common writes it:
 * Signature version="1",keyId="K",algorithm="rsa-sha256",headers="H",
 * signature="S". Appends to out. 0 or -1. */
int sdk_oci_authorization(const char *key_id, const char *headers,
                          const char *signature, sdk_buf *out);

/* Flags of sdk_oci_sign_request. */
#define SDK_OCI_SIGN_NO_BODY (1u << 0) /* an object body: not signed      */

/*
** Sign r in place: set `host` from the URL when r has none, then
** `Authorization`. The date header (x-date or date, per `headers`) must be
** set already: the caller owns the clock (and its correction after a
** skew). headers NULL picks SDK_OCI_BODY_HEADERS for POST, PUT and PATCH
** unless flags has SDK_OCI_SIGN_NO_BODY, else SDK_OCI_HEADERS. When the
** list holds x-content-sha256, the body (a memory body, or none: an empty
** one) is hashed into that header, Content-Length is set from it and
** Content-Type defaults to application/json. 0, or -1 (a missing header,
** a streamed body asked to be signed, a signing failure or memory).
*/
int sdk_oci_sign_request(sdk_request *r, const sdk_rsa_key *key,
                         const char *key_id, const char *headers,
                         uint32_t flags);

#endif /* SDK_OCI_H */
