/*
** sdk_error.h -- from an HTTP error response to a classified store_error.
** Providers parse their own error bodies (codes, messages) and call this to
** get the common part right: status -> STORE_E_*, retryability, the
** server's Retry-After hint and the request id. Also the message shape
** every provider uses, "OP WHAT: CAUSE" (sdk_error_describe, _fail).
*/
#ifndef SDK_ERROR_H
#define SDK_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#include "store_interface.h"
#include "sdk_http.h"

/* 400 INVALID, 401 AUTH, 403 PERMISSION, 404 NOT_FOUND, 405 UNSUPPORTED,
 * 408 TIMEOUT, 409 EXISTS, 412 PRECONDITION, 416 INVALID,
 * 429 THROTTLED, 501 UNSUPPORTED, 503 THROTTLED, other 5xx SERVER, anything
 * else INTERNAL. */
int32_t sdk_status_code(long status);
/* Non-zero for 408, 429, 500, 502, 503, 504. */
int sdk_status_retryable(long status);

/*
** Fill err for an error response: code from sdk_status_code(status) unless
** `code` is non-zero; RETRYABLE per sdk_status_retryable unless the caller
** adjusts flags afterwards; retry_after_ms from Retry-After (seconds or an
** HTTP date); request_id from the response header named `request_id_hdr`
** (may be NULL); provider_code copied (may be NULL); message formatted.
** The request id, provider code and message come out with every control
** byte replaced (sdk_text_clean): they quote the server. Returns err->code.
*/
int32_t sdk_error_http(store_error *err, const sdk_response *resp, int32_t code,
                       const char *provider_code, const char *request_id_hdr,
                       const char *fmt, ...)
  __attribute__((format(printf, 6, 7)));

/* Report `from` (the error of a probe the provider made itself, whose
 * failure turned out to be the answer) as err, writing no more of err
 * than its struct_size holds. err may be NULL. Returns from->code. */
int32_t sdk_error_copy(store_error *err, const store_error *from);

/* ---- a provider's error codes ------------------------------------------ */

/* One row of a provider's table of the service's error codes that say more
 * than their HTTP status. */
typedef struct sdk_error_code {
  const char *code;   /* the service's code ("BlobNotFound")             */
  int32_t rc;         /* STORE_E_*                                       */
  uint32_t retry;     /* non-zero: worth retrying, whatever the status   */
  const char *what;   /* the cause in words, or NULL (the provider's own) */
} sdk_error_code;

/* The row of table[0..n) whose code is `code` (exactly), or NULL (also
 * for a NULL code). */
const sdk_error_code *sdk_error_code_find(const sdk_error_code *table,
                                          size_t n, const char *code);

/*
** The message of a classified error response (all but failed
** authentication, whose hint is the provider's), through sdk_error_http:
**   "OP WHAT: CAUSE (CODE: FIRST LINE)"  when cause is not NULL, and
**   "OP WHAT: HTTP STATUS (CODE): FIRST LINE" otherwise,
** FIRST LINE being the first line of the server's message (left out with
** its ": " when smsg is NULL or ""), CODE left out when NULL. rc is the
** code (0: by status); retry non-zero sets RETRYABLE. Returns err->code.
*/
int32_t sdk_error_response(store_error *err, const sdk_response *resp,
                           int32_t rc, uint32_t retry, const char *code,
                           const char *request_id_hdr, const char *op,
                           const char *what, const char *cause,
                           const char *smsg);

/* Reset err after an error the caller expected and handled (a 404 before
 * a create), keeping its struct_size and writing no more than it holds.
 * err may be NULL. */
void sdk_error_clear(store_error *err);

/* ---- messages naming the operation and the object ---------------------- */

/* The words a provider's messages use for what a request is about. */
typedef struct sdk_nouns {
  const char *service;   /* no container: "the account", "the project"   */
  const char *container; /* "container", "bucket"                        */
  const char *object;    /* "blob", "object"                             */
  const char *version;   /* "snapshot", "generation", "version"          */
} sdk_nouns;

/* What a request was about, into out (NUL-terminated, cut to cap):
 * "the account" (container NULL), "container 'c'" (key NULL),
 * "blob 'c/k'", or "blob 'c/k' snapshot 'V'" (version non-NULL). Long
 * names are cut (64 bytes of the container, 96 of the key, 40 of the
 * version). */
void sdk_error_describe(const sdk_nouns *n, const char *container,
                        const char *key, const char *version, char *out,
                        size_t cap);

/* Set err to "OP WHAT: CAUSE", CAUSE formatted from fmt and cleaned of
 * control bytes (sdk_text_clean: it may quote the server). Returns code. */
int32_t sdk_error_fail(store_error *err, int32_t code, const char *op,
                       const char *what, const char *fmt, ...)
  __attribute__((format(printf, 5, 6)));
int32_t sdk_error_vfail(store_error *err, int32_t code, const char *op,
                        const char *what, const char *fmt, va_list ap)
  __attribute__((format(printf, 5, 0)));

#endif /* SDK_ERROR_H */
