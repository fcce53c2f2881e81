/*
** sdk_range.h -- a response body sink that delivers exactly the byte
** range that was asked for, whatever the server sent: a server that
** ignores Range (200 with the whole object) or widens it (a 206 that
** starts earlier or ends later) has the surplus dropped here, and the
** transfer is stopped once the range is complete.
**
** Use: sdk_range_init, then from the request's on_headers callback
** sdk_range_start on the final 2xx response, and sdk_range_write as the
** request's sink (sdk_request_sink(r, sdk_range_write, &range)). When the
** perform fails and range.done is set, the failure is only the stop after
** the last wanted byte: the get succeeded.
*/
#ifndef SDK_RANGE_H
#define SDK_RANGE_H

#include <stddef.h>
#include <stdint.h>

#include "store_interface.h"
#include "sdk_http.h"

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

#endif /* SDK_RANGE_H */
