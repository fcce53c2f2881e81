/*
** sdk_http.h -- HTTP for providers, over libcurl.
**
** One sdk_http client per service handle. It is safe to call
** sdk_http_perform from several threads at once on one client: easy handles
** come from a pool (LIFO) and each keeps its connections open between
** requests, while DNS and TLS sessions are shared by all of them through
** one CURLSH with locking; so connections are reused across requests and
** threads. (The connection cache itself is not put in the CURLSH: curl
** does not support sharing it between concurrent threads.)
**
** Bodies stream both ways through the ABI's callbacks: a request body is
** pulled from a store_read_fn, a 2xx response body is pushed to a
** store_write_fn. Nothing is held whole, except error bodies (bounded) and
** bodies of requests that set no sink (bounded; listing pages, XML).
**
** A perform returns STORE_OK whenever an HTTP response arrived, whatever
** its status: the provider reads the status and maps errors (with the help
** of sdk_error.h). Transport failures are errors of the perform itself.
*/
#ifndef SDK_HTTP_H
#define SDK_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "store_interface.h"

typedef struct sdk_http sdk_http;
typedef struct sdk_request sdk_request;
typedef struct sdk_response sdk_response;

/* verify_tls: 0 (a zeroed struct) and 1 verify the server's certificate;
 * only SDK_HTTP_TLS_NO_VERIFY turns verification off. */
#define SDK_HTTP_TLS_VERIFY    1
#define SDK_HTTP_TLS_NO_VERIFY 2

/* struct_size must be set (sizeof(sdk_http_config)): only fields inside it
 * are read, and 0 is refused (STORE_E_INVALID) as a forgotten init. */
typedef struct sdk_http_config {
  uint32_t struct_size;
  uint32_t verify_tls;         /* see above: verified unless NO_VERIFY     */
  const char *ca_bundle;       /* NULL: $CURL_CA_BUNDLE, else curl default   */
  uint32_t connect_timeout_ms; /* 0: 10000                                   */
  uint32_t stall_timeout_s;    /* abort below 1 byte/s for this long; 0: 60  */
  uint32_t pool_size;          /* idle easy handles kept; 0: 16             */
  uint32_t reserved;
  const char *user_agent;      /* NULL: "xtstore/1"                          */
  const store_host_api *host;  /* is_cancelled is polled; may be NULL        */
} sdk_http_config;

/* The service key every HTTP provider takes for its client, and its line
 * for the provider's config_keys table. */
#define SDK_HTTP_STALL_KEY "stall-timeout"
#define SDK_HTTP_STALL_DESC "seconds a request may move no byte before it " \
  "is abandoned as stalled and retried, a download resuming where it " \
  "stopped (1..3600, default 60); no total deadline ends a slow transfer"
/* Read SDK_HTTP_STALL_KEY from a service's keys into cfg->stall_timeout_s.
 * STORE_OK, or STORE_E_CONFIG naming `who` (the provider), the key and the
 * value. */
int sdk_http_config_keys(sdk_http_config *cfg, const store_kv *kv, size_t n,
                         const char *who, store_error *err);

/* New client. cfg may be NULL (all defaults, TLS verified). Its strings are
 * copied. *out NULL on failure. */
int sdk_http_new(const sdk_http_config *cfg, sdk_http **out, store_error *err);
/* New client from a service's keys, as every HTTP provider configures it:
 * verify-tls (true/false, default true), ca-bundle and SDK_HTTP_STALL_KEY;
 * User-Agent "xtstore-WHO/1.0"; host is polled for cancellation (may be
 * NULL). A bad value is STORE_E_CONFIG naming `who`, the key and the value.
 * *out is the client (free with sdk_http_free), or NULL on failure. */
int sdk_http_from_keys(const store_kv *kv, size_t n, const char *who,
                       const store_host_api *host, sdk_http **out,
                       store_error *err);
/* Free the client and every pooled handle. NULL is fine. */
void sdk_http_free(sdk_http *h);

/* ---- cancellation ------------------------------------------------------ */

/* Non-zero once the host asks the running operation to stop: its
 * is_cancelled said so. 0 when host is NULL, or its table has no
 * is_cancelled (older minor, or NULL). The client polls it during every
 * transfer; poll it between requests and chunks of long operations too. */
int sdk_host_cancelled(const store_host_api *host);

/* ---- requests ---------------------------------------------------------- */

/* A request for METHOD on url (absolute, already percent-encoded). The
 * strings are copied. Free with sdk_request_free. NULL on no memory. */
sdk_request *sdk_request_new(const char *method, const char *url);
void sdk_request_free(sdk_request *r);

/* Set a header, replacing any of the same name (case-insensitive). A NULL
 * value removes it. 0 or -1 (memory). */
int sdk_request_set_header(sdk_request *r, const char *name, const char *value);
/* Non-zero when s is an RFC 9110 token (1 or more of A-Z a-z 0-9 and
 * !#$%&'*+-.^_`|~): what a header name may be. */
int sdk_http_is_token(const char *s);
/* The value of a header, or NULL. */
const char *sdk_request_header(const sdk_request *r, const char *name);
/* Iterate headers in insertion order (for signers). */
size_t sdk_request_header_count(const sdk_request *r);
const char *sdk_request_header_name(const sdk_request *r, size_t i);
const char *sdk_request_header_value(const sdk_request *r, size_t i);
const char *sdk_request_method(const sdk_request *r);
const char *sdk_request_url(const sdk_request *r);
/* Replace the URL (e.g. after adding a presigned query). 0 or -1. */
int sdk_request_set_url(sdk_request *r, const char *url);

/* Non-zero when r can be sent again as it is: no body, or one in memory
 * (a streamed body is consumed by the first send). */
int sdk_request_body_replayable(const sdk_request *r);
/* Send r on a new connection. For a request that must not reach the server
 * twice (a create whose repeat makes a second resource): on a reused
 * connection that died before any answer, libcurl re-sends a request by
 * itself, below every retry policy; on a fresh one it reports the failure. */
void sdk_request_fresh_connection(sdk_request *r);
/* Body from memory (borrowed until perform returns). Sets Content-Length. */
void sdk_request_body_mem(sdk_request *r, const void *data, size_t len);
/* Body pulled from fn; len >= 0 sets Content-Length, -1 sends chunked.
 * A non-zero return from fn aborts the transfer (STORE_E_ABORTED). */
void sdk_request_body_stream(sdk_request *r, store_read_fn fn, void *ud,
                             int64_t len);

/* Called once, when a 2xx response's headers are complete and before its
 * first body byte. A non-zero return aborts (STORE_E_ABORTED). */
typedef int32_t (*sdk_headers_fn)(void *ud, const sdk_response *resp);
void sdk_request_on_headers(sdk_request *r, sdk_headers_fn fn, void *ud);
/* Where a 2xx response body goes. Without a sink it is buffered (up to
 * 16 MiB; beyond that the perform fails with STORE_E_INTERNAL). Non-2xx
 * bodies are always buffered, up to 64 KiB (the rest is dropped). */
void sdk_request_sink(sdk_request *r, store_write_fn fn, void *ud);

/* ---- perform ----------------------------------------------------------- */

/*
** Send r and wait for the response. STORE_OK means a response arrived:
** *out holds it (caller frees with sdk_response_free). Otherwise *out is
** NULL and err says why, naming "METHOD URL-without-query":
**   connection refused / reset / DNS / TLS  -> STORE_E_IO, retryable
**   timeouts and stalls                     -> STORE_E_TIMEOUT, retryable
**   a callback returned non-zero, or the host's is_cancelled -> ABORTED
** A request body that was (partly) sent cannot be re-sent by the SDK.
**
** On the wire: HTTP/1.1; the request's headers, plus Host, User-Agent
** (unless set) and the body framing; curl's own Accept, Expect and POST
** Content-Type are left out unless the request sets them; the path goes
** as given (no "." / ".." removal); redirects are returned, not followed.
** A header name that is not an RFC 9110 token, or a value holding CR or
** LF, fails the perform with STORE_E_INVALID before anything is sent.
*/
int sdk_http_perform(sdk_http *h, sdk_request *r, sdk_response **out,
                     store_error *err);

long sdk_response_status(const sdk_response *resp);
/* Header value (case-insensitive; the last one when repeated), or NULL. */
const char *sdk_response_header(const sdk_response *resp, const char *name);
/* Iterate response headers in order. */
size_t sdk_response_header_count(const sdk_response *resp);
const char *sdk_response_header_name(const sdk_response *resp, size_t i);
const char *sdk_response_header_value(const sdk_response *resp, size_t i);
/* The object's full size from a GET or HEAD response: the total of its
 * Content-Range ("bytes 0-9/1000"), else (no range, or a total of "*")
 * its Content-Length; 0 when neither says. */
uint64_t sdk_response_total_size(const sdk_response *resp);
/* The buffered body, NUL-terminated ("" when none); *len may be NULL. */
const char *sdk_response_body(const sdk_response *resp, size_t *len);
void sdk_response_free(sdk_response *resp);

/* Build a response by hand, for providers' unit tests of their error and
 * listing parsers (no server needed). NULL / -1 when memory runs out.
 * Free with sdk_response_free. */
sdk_response *sdk_response_new(long status);
int sdk_response_add_header(sdk_response *resp, const char *name,
                            const char *value);
int sdk_response_append_body(sdk_response *resp, const void *data,
                             size_t len);

#endif /* SDK_HTTP_H */
