/*
** sdk_body.h -- bodies between the ABI's callbacks and HTTP.
**
** Request bodies from a store_read_fn: an exact number of bytes streamed
** into one request (optionally checking that the source has nothing more
** once they are in), and a buffer filled from a source until it is full
** or the source ends, for bodies of unknown length.
**
** Response bodies into a store_write_fn (sdk_range): a sink that delivers
** exactly the byte range that was asked for, whatever the server sent: a
** server that ignores Range (200 with the whole object) or widens it (a
** 206 that starts earlier or ends later) has the surplus dropped, and the
** transfer is stopped once the range is complete. Use: sdk_range_init,
** then from the request's on_headers callback sdk_range_start on the
** final 2xx response, and sdk_range_write as the request's sink
** (sdk_request_sink(r, sdk_range_write, &range)). When the perform fails
** and range.done is set, the failure is only the stop after the last
** wanted byte: the get succeeded.
**
** A whole get (sdk_get): the provider's entry to on_entry before the first
** byte, then the body to the sink, and why either stopped it.
*/
#ifndef SDK_BODY_H
#define SDK_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "store_interface.h"
#include "sdk_http.h"

/* What a body reader or sdk_fill found out about its source. */
#define SDK_BODY_OK      0
#define SDK_BODY_ABORTED 1  /* the source returned non-zero               */
#define SDK_BODY_SHORT   2  /* it ended before `want` bytes               */
#define SDK_BODY_LONG    3  /* it had more than `want` (SDK_BODY_PROBE_EOF) */
#define SDK_BODY_BAD     4  /* it gave more bytes than it was asked for   */

/* sdk_body_init flags: once the last of `want` bytes is in, ask the
 * source for one more byte; any is SDK_BODY_LONG and stops the request
 * before the server can commit it. Leave it out when the source goes on
 * past this body (a part of a larger upload). */
#define SDK_BODY_PROBE_EOF (1u << 0)

/* Exactly `want` bytes of a source. All fields may be read; set them with
 * sdk_body_init. The source and ctx are borrowed. */
typedef struct sdk_body {
  store_read_fn src;
  void *ctx;
  uint64_t want;                /* the body's length                      */
  uint64_t sent;                /* bytes taken from src so far            */
  uint32_t flags;               /* SDK_BODY_PROBE_EOF or 0                */
  int state;                    /* SDK_BODY_*: why the reading stopped    */
} sdk_body;

void sdk_body_init(sdk_body *b, store_read_fn src, void *ctx, uint64_t want,
                   uint32_t flags);

/*
** The store_read_fn of a body (ud is the sdk_body). It asks the source for
** at most what is left of `want` and counts what it got. It passes the
** source's answers on unchanged, recording them in b->state: a refusal
** (its non-zero return; ABORTED), an end before `want` (0 bytes; SHORT)
** and more bytes than asked for (that count; BAD), so that
** sdk_http_perform refuses each with its own message. It stops a request
** by itself (returns 1) only for the end probe: a source with more than
** `want` bytes (LONG), or one that refuses the probe (ABORTED).
** A consumer that asks for more than is left sees a BAD source's count as
** plausible: check b->state, or ask for at most want - sent (as
** sdk_http_perform does for a body set with sdk_body_attach).
*/
int32_t sdk_body_read(void *ud, void *buf, size_t cap, size_t *out_n);

/* Bytes in memory as a store_read_fn source (a part or a small body the
 * provider buffered): sdk_mem_read(&m, ...) hands out p[0..left) and ends. */
typedef struct sdk_mem_src {
  const void *p;
  size_t left;
} sdk_mem_src;
int32_t sdk_mem_read(void *ud, void *buf, size_t cap, size_t *out_n);

/* Make b the body of r: streamed with Content-Length b->want. b must live
 * until the perform returns. */
void sdk_body_attach(sdk_request *r, sdk_body *b);

/*
** Read from src into buf[0..cap) until it is full or src reports 0 bytes
** (*out_eof = 1 then; out_eof may be NULL). A full buffer does not probe
** for the end: *out_eof stays 0 even when nothing follows. *out_n is the
** count read, also after a failure. Returns SDK_BODY_OK, SDK_BODY_ABORTED
** (src returned non-zero) or SDK_BODY_BAD (src gave more than it was asked
** for; nothing after that count is trusted). The provider turns a failure
** into its own message.
*/
int sdk_fill(store_read_fn src, void *ctx, void *buf, size_t cap,
             size_t *out_n, int *out_eof);

/* A source's failure (an SDK_BODY_* state) as the error code for it and
 * its cause into why[0..cap) ("short body: the source ended N bytes
 * before the declared length"; short_by is what a SHORT source lacked),
 * for the provider's message. 0 for SDK_BODY_OK (why untouched). */
int32_t sdk_body_failure(int state, uint64_t short_by, char *why,
                         size_t cap);

/* ---- response bodies: the range asked for ------------------------------ */

/* All fields may be read; set them with sdk_range_init. The sink and its
 * context are borrowed. */
typedef struct sdk_range {
  uint64_t off, len;            /* the range asked for; len 0: to the end */
  uint64_t pos;                 /* object offset of the next body byte    */
  uint64_t delivered;           /* bytes handed to the sink               */
  int done;                     /* the range is complete: the transfer was
                                   stopped on purpose, not an error       */
  store_write_fn sink;
  void *sink_ctx;
} sdk_range;

/* Bytes [off, off + len) of the object (len 0: from off to the end) go to
 * sink. */
void sdk_range_init(sdk_range *g, uint64_t off, uint64_t len,
                    store_write_fn sink, void *sink_ctx);

/* The Range header's value for bytes [off, off + len): "bytes=OFF-LAST",
 * or "bytes=OFF-" to the end when len is 0. out holds
 * SDK_RANGE_HEADER_SIZE bytes. */
#define SDK_RANGE_HEADER_SIZE 48
void sdk_range_header(uint64_t off, uint64_t len, char *out, size_t cap);

/* Where the body of the final 2xx response starts: the first byte of its
 * Content-Range ("bytes FIRST-LAST/TOTAL") for a 206, 0 for any other
 * status. 0, or -1 when a 206 has no Content-Range starting with a digit
 * after "bytes ", or when the body starts after `off` (the bytes wanted
 * first would be missing): refuse the response then. */
int sdk_range_start(sdk_range *g, const sdk_response *resp);

/* The sink (ud is the sdk_range): drops what comes before off and after
 * off + len, hands the rest to g->sink (never with 0 bytes). Returns 1
 * when the sink refuses (done stays 0) and when the range is complete
 * (done = 1: the rest is surplus); else 0. */
int32_t sdk_range_write(void *ud, const void *buf, size_t n);

/* ---- response bodies: a whole get with its entry first ------------------ */

/* Why an sdk_get stopped the download (sdk_get.stop). */
#define SDK_GET_ENTRY 1 /* on_entry returned non-zero                     */
#define SDK_GET_SINK  2 /* the sink returned non-zero                     */
#define SDK_GET_NOMEM 3 /* the entry could not be made                    */

/* The provider's part of an sdk_get: make the entry of a 2xx response
 * (from its headers) and hand it to cb. 0 to go on, SDK_GET_ENTRY when cb
 * returned non-zero, SDK_GET_NOMEM when the entry could not be made. */
typedef int (*sdk_get_entry_fn)(void *ud, const sdk_response *resp,
                                store_entry_fn cb, void *cb_ctx);

/* A get's body to its sink, after the entry to on_entry (when not NULL)
 * before the first byte. Set with sdk_get_init; everything is borrowed. */
typedef struct sdk_get {
  store_entry_fn on_entry;
  void *on_entry_ctx;
  store_write_fn sink;
  void *sink_ctx;
  sdk_get_entry_fn entry;
  void *entry_ud;
  int stop;                     /* 0, or SDK_GET_*: why it stopped        */
} sdk_get;

void sdk_get_init(sdk_get *g, store_entry_fn on_entry, void *on_entry_ctx,
                  store_write_fn sink, void *sink_ctx, sdk_get_entry_fn entry,
                  void *entry_ud);
/* Make g the on-headers callback and sink of r. g must live until the
 * perform returns. */
void sdk_get_attach(sdk_request *r, sdk_get *g);
/* When the perform failed because g stopped it: the error code for it
 * (STORE_E_ABORTED, or STORE_E_NOMEM) and *out_why, the cause for the
 * provider's message ("the write callback stopped the download"). 0 when
 * g did not stop it (the perform's own error stands). */
int32_t sdk_get_stopped(const sdk_get *g, const char **out_why);

#endif /* SDK_BODY_H */
