/*
** sdk_util.h -- small protocol helpers shared by HTTP providers: URI
** encoding, hex, base64, digests and HMAC (OpenSSL), times, config lookup.
*/
#ifndef SDK_UTIL_H
#define SDK_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store_interface.h"
#include "sdk_buf.h"

/* Percent-encode s[0..len) per RFC 3986: unreserved A-Z a-z 0-9 - . _ ~
 * stay, everything else becomes %XX (uppercase hex). With keep_slash '/'
 * stays too (object keys in paths). Appends to out. 0 or -1 (memory). */
int sdk_uri_encode(sdk_buf *out, const char *s, size_t len, int keep_slash);
/* Decode %XX (and '+' as ' ' when plus_is_space) into out. -1 on a bad
 * escape or memory. */
int sdk_uri_decode(sdk_buf *out, const char *s, size_t len, int plus_is_space);
/* sdk_uri_decode for a name a listing sent encoded, to be used as a C
 * string: 1 (out holds the bytes) when it decodes to a NUL byte (%00), so
 * that the provider skips that entry, with sdk_log, rather than report the
 * name cut at the NUL, which names another object. */
int sdk_uri_decode_name(sdk_buf *out, const char *s, size_t len,
                        int plus_is_space);

/* Lowercase hex of data into out (2*len+1 bytes). */
void sdk_hex(const void *data, size_t len, char *out);
/* The len bytes that the string hex spells in exactly 2*len hex digits
 * (either case, nothing after them) into out: 0, or -1 (out unchanged). */
int sdk_unhex(const char *hex, void *out, size_t len);

/* Standard base64 with padding. Append to out. 0 or -1. */
int sdk_base64_encode(sdk_buf *out, const void *data, size_t len);
/* Decode into out. -1 on invalid input or memory. */
int sdk_base64_decode(sdk_buf *out, const char *s, size_t len);

/* Digests. out sizes: SHA-256 32 bytes, MD5 16 bytes. 0 or -1. */
int sdk_sha256(const void *data, size_t len, unsigned char out[32]);
int sdk_sha256_hex(const void *data, size_t len, char out[65]);
int sdk_hmac_sha256(const void *key, size_t keylen, const void *data,
                    size_t len, unsigned char out[32]);
int sdk_md5(const void *data, size_t len, unsigned char out[16]);

/* Incremental SHA-256 / MD5 for streamed bodies (OpenSSL EVP inside). */
typedef struct sdk_digest sdk_digest;
#define SDK_DIGEST_SHA256 1
#define SDK_DIGEST_MD5    2
int sdk_digest_new(int kind, sdk_digest **out);
int sdk_digest_update(sdk_digest *d, const void *data, size_t len);
/* Writes the raw digest (32 or 16 bytes) and frees d. */
int sdk_digest_final(sdk_digest *d, unsigned char *out);
void sdk_digest_free(sdk_digest *d);

/* CRC-32C (Castagnoli) of data, continuing from crc (0 to start), as S3,
 * GCS and OCI use it: sdk_crc32c(0, "123456789", 9) == 0xe3069283. ISA-L
 * inside. */
uint32_t sdk_crc32c(uint32_t crc, const void *data, size_t len);
/* The CRC-32C of A then B, from crc1 = CRC-32C of A, crc2 = CRC-32C of B
 * and len2 = B's length in bytes (parts summed apart: multipart uploads,
 * ranged downloads). O(log len2); crc1 when len2 is 0. */
uint32_t sdk_crc32c_combine(uint32_t crc1, uint32_t crc2, uint64_t len2);
/* base64 of the CRC's 4 big-endian bytes, as x-amz-checksum-crc32c,
 * x-goog-hash and opc-content-crc32c carry it ("4waSgw=="); 0 or -1. */
int sdk_crc32c_base64(uint32_t crc, sdk_buf *out);
/* Parse that form; 0, or -1 when s is not 4 bytes of base64. */
int sdk_crc32c_parse(const char *s, uint32_t *out);

/* Times. Parsers return Unix nanoseconds, or STORE_MTIME_UNKNOWN. */
int64_t sdk_time_parse_iso8601(const char *s); /* 2026-11-22T00:50:55.123Z */
int64_t sdk_time_parse_http(const char *s);    /* Sun, 22 Nov 2026 00:50:55 GMT */
/* Formatters write UTC, and "" when t's year is not 0..9999. */
/* "20150830T123600Z" (17 bytes with NUL) and "20150830" (9). */
void sdk_time_format_amz(time_t t, char out[17]);
void sdk_time_format_ymd(time_t t, char out[9]);
/* "Sun, 30 Aug 2015 12:36:00 GMT" (30 bytes with NUL). */
void sdk_time_format_http(time_t t, char out[30]);
/* "2015-08-30T12:36:00Z" (21 bytes with NUL). */
void sdk_time_format_iso8601(time_t t, char out[21]);

/* Configuration helpers over open()'s key/value list. */
const char *sdk_kv_get(const store_kv *kv, size_t n, const char *key);
/* "true/false/yes/no/1/0/on/off" -> 1/0. -1 if not a boolean. */
int sdk_parse_bool(const char *s);

/* Text a server sent (an error's code or message, a header) made safe for
 * a store_error or a log line: every control byte of s (below 0x20, and
 * 0x7f) replaced by '?', in place, so that no server can end a line or
 * send terminal escapes through our output. Returns s (NULL stays NULL).
 * sdk_error_http applies it to what it writes. */
char *sdk_text_clean(char *s);

/* One line to the host's log (sdk_log.c): printf-formatted, cut at 511
 * bytes, control bytes replaced (sdk_text_clean); nothing when host has
 * no log function. Never pass a secret. */
void sdk_log(const store_host_api *host, int32_t level, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

#endif /* SDK_UTIL_H */
