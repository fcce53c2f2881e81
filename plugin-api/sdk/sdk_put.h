/*
** sdk_put.h -- the choice of how one object goes up, for a provider that
** has a single-request put and a multipart one: a known length up to the
** cutoff is one request streamed from the source; beyond it, parts; an
** unknown length (or 0, to be sure the source agrees) has one part
** buffered first: a source that ends inside it is one request from
** memory, a longer one goes up in parts, the buffered one first. Memory
** is bounded by that one part buffer.
**
** The provider keeps its own requests, checks and messages: it passes
** its put functions and the one that words a failure the way its others
** are worded.
*/
#ifndef SDK_PUT_H
#define SDK_PUT_H

#include <stddef.h>
#include <stdint.h>

#include "store_interface.h"
#include "sdk_body.h"

/* One put's arguments, as the provider's put entry point got them (opts
 * and out may be NULL), and its own description of the object (bucket,
 * key and the like) as target. All borrowed. */
typedef struct sdk_put_call {
  store_handle *h;
  const void *target;
  const store_put_opts *opts;
  store_read_fn src;
  void *src_ctx;
  store_put_result *out;
  store_error *err;
} sdk_put_call;

/* One single-request put: its body streamed from b (which checks that
 * the source ends with it: SDK_BODY_PROBE_EOF), or, when b is NULL,
 * mem[0..memlen). */
typedef int32_t (*sdk_put_single_fn)(const sdk_put_call *c, sdk_body *b,
                                     const char *mem, size_t memlen);

/* A multipart put from c->src. buf is NULL for a known length beyond the
 * cutoff; else a part_size buffer the callee may reuse, whose first
 * first_len bytes are the start of a body of unknown length, the rest
 * still in the source. */
typedef int32_t (*sdk_put_parts_fn)(const sdk_put_call *c, char *buf,
                                    size_t first_len);

/* A failure of the put itself (no memory, a failing source, a body longer
 * than the declared 0 bytes) in the provider's words: code and why into
 * c->err. Returns code. */
typedef int32_t (*sdk_put_fail_fn)(const sdk_put_call *c, int32_t code,
                                   const char *why);

typedef struct sdk_put_ops {
  sdk_put_single_fn single;
  sdk_put_parts_fn parts;
  sdk_put_fail_fn fail;
  uint64_t cutoff;              /* the largest single-request put         */
  size_t part_size;             /* the buffered part (unknown length)     */
} sdk_put_ops;

/* Put the body of c->src, of c->opts->content_length bytes (-1, or no
 * opts: unknown; the caller has checked the source and the length), by
 * ops. Returns what its functions return. */
int32_t sdk_put(const sdk_put_ops *ops, const sdk_put_call *c);

#endif
