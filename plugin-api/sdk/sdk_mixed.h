/*
** sdk_mixed.h -- multipart/mixed batches of HTTP sub-requests (RFC 2046
** framing, application/http parts), as Azure's Blob Batch and GCS's batch
** endpoint use them.
**
** Building: a body of sub-requests, each an sdk_request already signed as
** if sent alone, written as "METHOD PATH?QUERY HTTP/1.1" plus its headers
** (the URL's scheme and host left out), with Content-ID: its index. The
** body is in memory: a batch is small (at most a few hundred bodiless
** sub-requests), and must be replayable.
**
** Parsing: the response body is fed in chunks as it arrives (the parser's
** sdk_mixed_write is a store_write_fn for sdk_request_sink); each complete
** part is handed to a callback with its Content-ID and the embedded HTTP
** response's status, headers and body. Only the part being read is held,
** up to SDK_MIXED_PART_MAX bytes.
*/
#ifndef SDK_MIXED_H
#define SDK_MIXED_H

#include <stddef.h>

#include "store_interface.h"
#include "sdk_buf.h"
#include "sdk_http.h"

/* A boundary: the prefix, then 32 random hex digits. RFC 2046 allows 70. */
#define SDK_MIXED_BOUNDARY_SIZE 71
/* The largest part a parser holds (sub-responses are headers and a short
 * error document). */
#define SDK_MIXED_PART_MAX ((size_t)64 << 10)
/* Headers of one embedded response beyond this fail the parse. */
#define SDK_MIXED_HEADERS_MAX 64

/* ---- building ---------------------------------------------------------- */

/* A fresh boundary "PREFIX" + 32 hex digits into out (NUL-terminated);
 * prefix of at most 38 characters from RFC 2046's bchars, no space. 0, or
 * -1 when the system has no randomness or the prefix is too long. */
int sdk_mixed_boundary(const char *prefix, char out[SDK_MIXED_BOUNDARY_SIZE]);

/* "multipart/mixed; boundary=B" appended to out. 0 or -1 (memory). */
int sdk_mixed_content_type(const char *boundary, sdk_buf *out);

/* Append one part to body: the delimiter, Content-Type: application/http,
 * Content-Transfer-Encoding: binary, Content-ID: id, then r as a request
 * line with the path and query of r's URL, r's headers and an empty line.
 * r's body is not sent (batches here carry none). 0, or -1 on memory or a
 * URL without a path. */
int sdk_mixed_add(sdk_buf *body, const char *boundary, size_t id,
                  const sdk_request *r);

/* Append the close delimiter. 0 or -1 (memory). */
int sdk_mixed_end(sdk_buf *body, const char *boundary);

/* ---- parsing ----------------------------------------------------------- */

/* One part of a response. Strings are NUL-terminated and borrowed for the
 * callback only. */
typedef struct sdk_mixed_part {
  const char *content_id;       /* the part's Content-ID, "" when none     */
  long status;                  /* of the embedded HTTP response           */
  const char *reason;           /* its reason phrase, maybe ""             */
  const store_kv *headers;      /* the embedded response's headers         */
  size_t nheaders;
  const char *body;             /* its body (Content-Length bytes when it
                                   says, else up to the delimiter)        */
  size_t body_len;
} sdk_mixed_part;

/* STORE_OK to go on; anything else stops the parse with that code (err
 * set by the callback). */
typedef int32_t (*sdk_mixed_part_fn)(void *ctx, const sdk_mixed_part *part,
                                     store_error *err);

typedef struct sdk_mixed_parser sdk_mixed_parser;

/* A parser for a response whose Content-Type is content_type (its
 * boundary parameter, quoted or not, is what delimits the parts). *out is
 * owned by the caller (sdk_mixed_parser_free), NULL on failure:
 * STORE_E_INTERNAL naming the Content-Type when it is not multipart/mixed
 * with a boundary, STORE_E_NOMEM. err may be NULL. */
int32_t sdk_mixed_parser_new(const char *content_type, sdk_mixed_part_fn fn,
                             void *ctx, sdk_mixed_parser **out,
                             store_error *err);
void sdk_mixed_parser_free(sdk_mixed_parser *p);

/* Feed len bytes; parts are delivered as soon as their end is seen. A
 * store_write_fn: a failure returns its code and keeps the cause for
 * sdk_mixed_parser_finish (malformed part, part over SDK_MIXED_PART_MAX,
 * or the callback's failure). Bytes after the close delimiter are
 * ignored. */
int32_t sdk_mixed_write(void *parser, const void *data, size_t len);

/* After the last byte: STORE_OK when the close delimiter was seen and
 * nothing failed; else the failure (a body that stopped early is
 * STORE_E_INTERNAL: "the batch response ended before its last part"),
 * into err. */
int32_t sdk_mixed_parser_finish(sdk_mixed_parser *p, store_error *err);

/* Number of parts delivered so far. */
size_t sdk_mixed_parser_parts(const sdk_mixed_parser *p);

/* ---- a batch answer read as it arrives --------------------------------- */

/* Set on a request by sdk_mixed_attach: a 2xx answer's body is parsed
 * into fn's parts while it arrives (a parser per answer, made from its
 * Content-Type when its headers are in). Zeroed by attach; the caller
 * frees it with sdk_mixed_reader_free. */
typedef struct sdk_mixed_reader {
  sdk_mixed_part_fn fn;
  void *ctx;
  sdk_mixed_parser *parser;     /* the current answer's; owned            */
  store_error err;              /* why no parser could be made            */
  int failed;                   /* the parse failed: a perform's ABORTED
                                   came from it, not from a cancellation  */
} sdk_mixed_reader;

/* Make r's 2xx answer go through rd to fn (sdk_request_on_headers and
 * sdk_request_sink of r). rd must outlive the perform. */
void sdk_mixed_attach(sdk_request *r, sdk_mixed_reader *rd,
                      sdk_mixed_part_fn fn, void *ctx);
/* After the perform of r answered 2xx, or failed with STORE_E_ABORTED
 * while rd->failed: STORE_OK when the whole multipart answer was read;
 * else the failure into err (may be NULL), and *out_in_part says whether
 * fn stopped it (its own error, naming what it was about) rather than the
 * answer's framing or size. */
int32_t sdk_mixed_reader_finish(sdk_mixed_reader *rd, int *out_in_part,
                                store_error *err);
void sdk_mixed_reader_free(sdk_mixed_reader *rd);

/* A part's embedded response as a standalone sdk_response (status,
 * headers, body), for a provider's error mapping of single requests.
 * Owned by the caller (sdk_response_free); NULL on no memory. */
sdk_response *sdk_mixed_part_response(const sdk_mixed_part *part);

/* A header of the part's embedded response (case-insensitive), or NULL. */
const char *sdk_mixed_header(const sdk_mixed_part *part, const char *name);

/* The index a Content-ID carries: "N", "<N>", "response-N" or
 * "<response-N>" (as services echo the request's). 0, or -1 when it holds
 * no index. */
int sdk_mixed_index(const char *content_id, size_t *out);

#endif /* SDK_MIXED_H */
