/*
** sdk_sigv4.h -- AWS Signature Version 4 request signing, for any
** provider that speaks an AWS-style API (S3 and its compatibles, ...).
**
** Two layers:
**   - pure functions for each step of the algorithm (canonical URI, query,
**     headers and request; string to sign; signing key; signature), so the
**     public test suites can check every intermediate result;
**   - a signer object (credentials, region, service, a cached signing key)
**     that signs a whole request: header authentication, presigned URLs
**     (query authentication) and aws-chunked streaming payloads, and a
**     helper that signs an sdk_request in place.
**
** Inputs are DECODED: paths, query names and values are raw bytes and the
** signer does the single URI encoding of the canonical form itself, so a
** URL and its signature cannot disagree about encoding as long as the URL
** was built with sdk_uri_encode() too.
**
** Secrets (secret key, derived keys, session token) are never put into a
** message or log by this module; callers must not log the Authorization
** value or a presigned query either.
*/
#ifndef SDK_SIGV4_H
#define SDK_SIGV4_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store_interface.h"
#include "sdk_buf.h"
#include "sdk_http.h"

#define SDK_SIGV4_ALGORITHM  "AWS4-HMAC-SHA256"
#define SDK_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define SDK_SIGV4_STREAMING_PAYLOAD "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
#define SDK_SIGV4_STREAMING_PAYLOAD_TRAILER \
  "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
#define SDK_SIGV4_EMPTY_SHA256 \
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Flags for signing. */
/* Generic AWS services: remove dot segments and collapse "//" in the path
 * before encoding it. S3 must NOT set it: keys are taken literally. */
#define SDK_SIGV4_NORMALIZE_PATH (1u << 0)
/* Attach the session token but leave it out of the signature (services
 * that want it added after signing). */
#define SDK_SIGV4_OMIT_TOKEN     (1u << 1)
/* Also send and sign x-amz-content-sha256: <payload hash> (S3 needs it). */
#define SDK_SIGV4_CONTENT_SHA256 (1u << 2)

/* One request as the signer sees it. Borrowed for the call. */
typedef struct sdk_sigv4_msg {
  const char *method;
  const char *path;           /* decoded; NULL or "" means "/"            */
  const store_kv *query;      /* decoded; value NULL: a bare key ("acl")  */
  size_t nquery;
  const store_kv *headers;    /* every header to sign, host included;
                                 names in any case, repeats allowed       */
  size_t nheaders;
  const char *payload_hash;   /* lowercase hex SHA-256 of the body,
                                 UNSIGNED-PAYLOAD or STREAMING-...; NULL:
                                 the hash of an empty body                */
} sdk_sigv4_msg;

/* ---- the algorithm, step by step (pure; append to out; 0 or -1) ------- */

/* The canonical URI: the path URI-encoded once ('/' kept), after RFC 3986
 * dot-segment removal and "//" collapsing when SDK_SIGV4_NORMALIZE_PATH. */
int sdk_sigv4_canonical_uri(sdk_buf *out, const char *path, uint32_t flags);
/* name=value pairs URI-encoded, sorted by encoded name then value, joined
 * with '&'; a bare key becomes "key=". */
int sdk_sigv4_canonical_query(sdk_buf *out, const store_kv *q, size_t n);
/* "name:value\n" per distinct lowercase name in sorted order; values
 * trimmed, runs of whitespace (folded lines included) made one space,
 * repeated names joined with ',' in their original order. The sorted
 * ';'-joined names go to signed (may be NULL). */
int sdk_sigv4_canonical_headers(sdk_buf *out, sdk_buf *signed_names,
                                const store_kv *h, size_t n);
/* "ALGORITHM\nAMZDATE\nSCOPE\nhex(sha256(canonical_request))". */
int sdk_sigv4_string_to_sign(sdk_buf *out, const char *algorithm,
                             const char *amz_date, const char *scope,
                             const char *canonical_request);
/* kSigning = HMAC chain over "AWS4"+secret, date (YYYYMMDD), region,
 * service, "aws4_request". 0 or -1. */
int sdk_sigv4_signing_key(const char *secret, const char *ymd,
                          const char *region, const char *service,
                          unsigned char key[32]);
/* hex(HMAC(key, string_to_sign)) into hex[65]. 0 or -1. */
int sdk_sigv4_hmac_hex(const unsigned char key[32], const char *data,
                       size_t len, char hex[65]);

/* ---- the signer ------------------------------------------------------- */

typedef struct sdk_sigv4 sdk_sigv4;

typedef struct sdk_sigv4_config {
  uint32_t struct_size;
  const char *access_key;     /* required                                 */
  const char *secret_key;     /* required; copied, wiped on free          */
  const char *session_token;  /* NULL when none                           */
  const char *region;         /* e.g. "us-east-1"                         */
  const char *service;        /* e.g. "s3"                                */
} sdk_sigv4_config;

/* A new signer owning copies of cfg's strings; free with sdk_sigv4_free.
 * It may be used from several threads at once. 0, or -1 (memory, or a
 * missing field). */
int sdk_sigv4_new(const sdk_sigv4_config *cfg, sdk_sigv4 **out);
void sdk_sigv4_free(sdk_sigv4 *s);

/* What one signing produced. Owned by the caller: sdk_sigv4_result_free.
 * add[0..nadd) are the headers to send on top of the request's own, in
 * order (X-Amz-Security-Token, X-Amz-Date, x-amz-content-sha256,
 * Authorization); their strings live in this struct.
 * For a presign, query holds the parameters to append instead (encoded,
 * '&'-joined, X-Amz-Signature last) and add is empty. */
typedef struct sdk_sigv4_result {
  sdk_buf canonical_request;
  sdk_buf string_to_sign;
  sdk_buf signed_headers;      /* "host;x-amz-date"                         */
  sdk_buf authorization;       /* header auth: the Authorization value      */
  sdk_buf query;               /* presign: parameters to append             */
  char amz_date[17];           /* "20150830T123600Z"                        */
  char scope[128];             /* "20150830/us-east-1/s3/aws4_request"      */
  char signature[65];          /* hex HMAC-SHA256                           */
  store_kv add[4];
  size_t nadd;
} sdk_sigv4_result;

#define SDK_SIGV4_RESULT_INIT \
  {SDK_BUF_INIT, SDK_BUF_INIT, SDK_BUF_INIT, SDK_BUF_INIT, SDK_BUF_INIT, \
   "", "", "", {{NULL, NULL}}, 0}

void sdk_sigv4_result_free(sdk_sigv4_result *r);

/* Header authentication of m at time `when` (the x-amz-date header of m
 * wins when present). 0, or -1 (memory). */
int sdk_sigv4_sign(sdk_sigv4 *s, const sdk_sigv4_msg *m, time_t when,
                   uint32_t flags, sdk_sigv4_result *out);
/* Query authentication (a presigned URL valid for expires_s seconds):
 * out->query gets the X-Amz-* parameters to append to m's query. Only
 * the headers in m are signed (normally just host). 0 or -1. */
int sdk_sigv4_presign(sdk_sigv4 *s, const sdk_sigv4_msg *m, time_t when,
                      uint32_t expires_s, uint32_t flags,
                      sdk_sigv4_result *out);

/* A presigned URL for `method` on url (absolute, no user info): its host
 * (always signed), decoded path and query parameters, and the headers
 * h[0..nh) a request through it must send, signed with payload
 * UNSIGNED-PAYLOAD; url with the X-Amz-* parameters appended goes into
 * out (appended to). The signer's working copy of the query is wiped. 0,
 * or -1 (memory, or a URL that cannot be parsed). */
int sdk_sigv4_presign_url(sdk_sigv4 *s, const char *method, const char *url,
                          const store_kv *h, size_t nh, time_t when,
                          uint32_t expires_s, uint32_t flags, sdk_buf *out);

/* Sign an sdk_request in place for header authentication: the URL is
 * parsed (host, decoded path and query), every header already set on r is
 * signed together with host, and the headers of sdk_sigv4_sign are set on
 * r. payload_hash as in sdk_sigv4_msg. When seed is not NULL the result is
 * kept there (for aws-chunked bodies); otherwise it is freed. 0, or a
 * STORE_E_* code with err filled (never naming a secret). */
int sdk_sigv4_sign_request(sdk_sigv4 *s, sdk_request *r,
                           const char *payload_hash, time_t when,
                           uint32_t flags, sdk_sigv4_result *seed,
                           store_error *err);

/* ---- aws-chunked streaming payloads ----------------------------------- */

/* The state that chains chunk signatures from a seed signature. Holds a
 * copy of the signing key: finish with sdk_sigv4_chunk_end (wipes it). */
typedef struct sdk_sigv4_chunker {
  unsigned char key[32];
  char amz_date[17];
  char scope[128];
  char prev[65];              /* the previous signature (seed first)      */
} sdk_sigv4_chunker;

/* Start from the seed signature of a request signed with payload hash
 * SDK_SIGV4_STREAMING_PAYLOAD(_TRAILER). 0 or -1. */
int sdk_sigv4_chunk_begin(sdk_sigv4 *s, const sdk_sigv4_result *seed,
                          sdk_sigv4_chunker *c);
/* Signature of the next chunk (len 0: the final chunk) into sig[65]. */
int sdk_sigv4_chunk_sign(sdk_sigv4_chunker *c, const void *data, size_t len,
                         char sig[65]);
/* Signature of the trailing headers after the final chunk: canonical
 * trailers are "name:value\n" each (names lowercased, in order given). */
int sdk_sigv4_trailer_sign(sdk_sigv4_chunker *c, const store_kv *trailers,
                           size_t n, char sig[65]);
void sdk_sigv4_chunk_end(sdk_sigv4_chunker *c);
/* The framing before a chunk's data: hex(len) ";chunk-signature=" sig
 * CRLF (the data is followed by CRLF). Returns its length. */
#define SDK_SIGV4_CHUNK_HDR_MAX 128
size_t sdk_sigv4_chunk_header(size_t len, const char sig[65],
                              char hdr[SDK_SIGV4_CHUNK_HDR_MAX]);
/* Content-Length of an aws-chunked body carrying `decoded` bytes in
 * chunks of chunk_size (the last one shorter), the final 0-length chunk
 * included. */
uint64_t sdk_sigv4_chunked_length(uint64_t decoded, size_t chunk_size);

#endif /* SDK_SIGV4_H */
