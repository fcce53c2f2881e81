/*
** sdk_azure.h -- Azure Storage credentials, for any provider that speaks an
** Azure-compatible REST API: Shared Key request signing (the 2009-09-19
** and later canonicalization), account and service SAS generation, and
** connection strings.
**
** Every signature is base64(HMAC-SHA256(key bytes, UTF-8 string-to-sign)).
** Keys are passed as raw bytes: decode an account key with
** sdk_azure_key_decode. Nothing here logs a secret or puts one (a key, a
** SAS token, a connection string) into an error message.
*/
#ifndef SDK_AZURE_H
#define SDK_AZURE_H

#include <stddef.h>
#include <stdint.h>

#include "store_interface.h"
#include "sdk_buf.h"
#include "sdk_http.h"

/* The storage emulator's well-known account (public and documented by
 * Microsoft; what UseDevelopmentStorage=true means). */
#define SDK_AZURE_DEV_ACCOUNT "devstoreaccount1"
#define SDK_AZURE_DEV_KEY                                                  \
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFP" \
  "TOtr/KBHBeksoGMGw=="
#define SDK_AZURE_DEV_BLOB_ENDPOINT "http://127.0.0.1:10000/devstoreaccount1"

/* Decode a base64 account key into its raw bytes (out is reset first).
 * 0, or -1 when s is not base64 or memory runs out. */
int sdk_azure_key_decode(const char *s, sdk_buf *out);

/* Append base64(HMAC-SHA256(key, s[0..len))) to out. 0 or -1 (memory). */
int sdk_azure_hmac_b64(const void *key, size_t keylen, const char *s,
                       size_t len, sdk_buf *out);

/* ---- Shared Key ---------------------------------------------------------
** The pieces are public so they can be tested one by one against the
** documented examples. Headers are name/value pairs (store_kv, names in any
** case).
*/

/* The x-ms-* headers, lowercased, sorted byte-wise by name (repeats joined
 * with ','), values trimmed, each as "name:value\n". Appends to out. */
int sdk_azure_canonical_headers(const store_kv *hdrs, size_t n, sdk_buf *out);

/* "/ACCOUNT/PATH" then "\nname:value" per query parameter: names
 * lowercased and sorted, values percent-decoded, repeated names' values
 * sorted and joined with ','. PATH is url's path exactly as sent (still
 * percent-encoded), so a path-style endpoint such as Azurite's
 * http://127.0.0.1:10000/devstoreaccount1 puts the account in twice:
 * "/devstoreaccount1/devstoreaccount1/container/blob". Appends to out;
 * -1 on memory or a bad %-escape in the query. */
int sdk_azure_canonical_resource(const char *account, const char *url,
                                 sdk_buf *out);

/* Sign a zero Content-Length as "0", as versions before 2015-02-21 did.
 * Without it the rule follows the request's x-ms-version header. */
#define SDK_AZURE_SIGN_LEGACY_LENGTH (1u << 0)

/* The Shared Key string-to-sign of a request: the verb, the 11 standard
 * headers (Content-Encoding, Content-Language, Content-Length,
 * Content-MD5, Content-Type, Date, If-Modified-Since, If-Match,
 * If-None-Match, If-Unmodified-Since, Range), then the canonicalized
 * headers and resource. Appends to out. 0 or -1. */
int sdk_azure_string_to_sign(const char *method, const char *url,
                             const store_kv *hdrs, size_t n,
                             const char *account, uint32_t flags,
                             sdk_buf *out);

/* Sign r in place: sets "Authorization: SharedKey ACCOUNT:SIGNATURE" over
 * r's method, URL and headers as they are now. Set every header first
 * (x-ms-date, x-ms-version, Content-Length of a body). 0 or -1 (memory). */
int sdk_azure_sign_request(sdk_request *r, const char *account,
                           const void *key, size_t keylen);

/* ---- SAS ---------------------------------------------------------------
** Generators return the token as a query string without a leading '?':
** "sv=...&...&sig=..." with every value percent-encoded. NULL or "" fields
** are left out. string_to_sign may be NULL; when given, the exact string
** that was signed is appended to it (for tests and debugging).
*/

/* An account SAS (string-to-sign "account\nsp\nss\nsrt\nst\nse\nsip\nspr\n
 * sv\n", plus "ses\n" from version 2020-12-06). */
typedef struct sdk_azure_account_sas {
  const char *version;          /* sv, e.g. "2021-08-06"; required      */
  const char *services;         /* ss, e.g. "b"; required               */
  const char *resource_types;   /* srt, e.g. "sco"; required            */
  const char *permissions;      /* sp, e.g. "rwdlacup"; required        */
  const char *start;            /* st, ISO 8601 UTC; optional           */
  const char *expiry;           /* se, ISO 8601 UTC; required           */
  const char *ip;               /* sip; optional                        */
  const char *protocol;         /* spr, "https" or "https,http"; optional */
  const char *encryption_scope; /* ses (from 2020-12-06); optional      */
} sdk_azure_account_sas;

int sdk_azure_account_sas_token(const sdk_azure_account_sas *p,
                                const char *account, const void *key,
                                size_t keylen, sdk_buf *string_to_sign,
                                sdk_buf *token);

/* A Blob service SAS for a container (sr=c), a blob (sr=b) or a snapshot
 * (sr=bs). Three string-to-sign layouts, by version: before 2018-11-09;
 * 2018-11-09 (adds sr and the snapshot time); 2020-12-06 (adds ses). */
typedef struct sdk_azure_blob_sas {
  const char *version;          /* sv; required                         */
  const char *resource;         /* sr: "c", "b" or "bs"; required from
                                   2018-11-09                           */
  const char *container;        /* required                             */
  const char *blob;             /* NULL for a container SAS             */
  const char *permissions;      /* sp; required unless identifier       */
  const char *start;            /* st                                   */
  const char *expiry;           /* se; required unless identifier       */
  const char *identifier;       /* si: a stored access policy           */
  const char *ip;               /* sip                                  */
  const char *protocol;         /* spr                                  */
  const char *snapshot;         /* the snapshot time, with sr=bs        */
  const char *encryption_scope; /* ses                                  */
  const char *cache_control;    /* rscc                                 */
  const char *content_disposition; /* rscd                              */
  const char *content_encoding; /* rsce                                 */
  const char *content_language; /* rscl                                 */
  const char *content_type;     /* rsct                                 */
} sdk_azure_blob_sas;

int sdk_azure_blob_sas_token(const sdk_azure_blob_sas *p, const char *account,
                             const void *key, size_t keylen,
                             sdk_buf *string_to_sign, sdk_buf *token);

/* Append a SAS token (with or without its leading '?') to url: after '?'
 * when url has no query yet, else after '&'. 0 or -1 (memory). */
int sdk_azure_url_add_sas(sdk_buf *url, const char *sas);

/* ---- CRC64 ----------------------------------------------------------------
** Azure's x-ms-content-crc64: CRC-64/NVME (reflected polynomial
** 0x9A6C9329AC4BC9B5, initial value and final xor all ones), sent and
** returned as base64 of its 8 bytes, least significant first. Start with
** crc 0 and chain: sdk_azure_crc64(sdk_azure_crc64(0, a, n), b, m) is the
** CRC of a then b. "123456789" gives 0xAE8B14860A799888.
*/
uint64_t sdk_azure_crc64(uint64_t crc, const void *data, size_t len);

/* The header form of crc into out: 12 base64 characters and a NUL. 0, or
 * -1 (memory; out is "" then). */
int sdk_azure_crc64_base64(uint64_t crc, char out[13]);

/* ---- connection strings ------------------------------------------------
** "Key=Value;Key=Value;..." with keys matched case-insensitively. Read:
** AccountName, AccountKey, SharedAccessSignature, BlobEndpoint,
** DefaultEndpointsProtocol, EndpointSuffix, UseDevelopmentStorage (true:
** the emulator's account, key and endpoint for whatever is not given).
** Other keys (QueueEndpoint, ...) are ignored.
*/
typedef struct sdk_azure_conn {
  char *account;        /* NULL when absent                             */
  char *key;            /* base64 account key as given; secret; or NULL */
  char *sas;            /* without a leading '?'; secret; or NULL       */
  char *blob_endpoint;  /* BlobEndpoint without a trailing '/', or built
                           as PROTOCOL://ACCOUNT.blob.SUFFIX (https,
                           core.windows.net by default); NULL when
                           neither it nor the account is given          */
} sdk_azure_conn;

/* Parse s into *out (zeroed first; free with sdk_azure_conn_free, also
 * after a failure). On a malformed string err says which part (by
 * position and key name, never a value): STORE_E_CONFIG. */
int32_t sdk_azure_conn_parse(const char *s, sdk_azure_conn *out,
                             store_error *err);
void sdk_azure_conn_free(sdk_azure_conn *c);

#endif /* SDK_AZURE_H */
