/*
** azure_body.c -- request bodies from the ABI's read callbacks: an exact
** number of bytes streamed into one request (checking the source has no
** more when it should be done), or a buffer filled up to its size for
** bodies whose length is unknown.
*/
#include <inttypes.h>

#include "azure.h"

void az_body_init(az_body *b, store_read_fn src, void *ctx, uint64_t want,
                  int check_eof)
{
  b->src = src;
  b->ctx = ctx;
  b->want = want;
  b->sent = 0;
  b->check_eof = check_eof;
  b->state = AZ_BODY_OK;
}

/* The SDK asks for at most what is left of `want`. Once the last byte is
 * in hand, a one-byte probe tells a source that is longer than declared:
 * the request is then stopped before the server could commit it. */
static int32_t body_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  az_body *b = ud;
  uint64_t left = b->want - b->sent;
  size_t n = 0;
  char probe;

  *out_n = 0;
  if (cap > left)
    cap = (size_t)left;
  if (cap == 0)
    return 0;
  if (b->src(b->ctx, buf, cap, &n)) {
    b->state = AZ_BODY_ABORTED;
    return 1;
  }
  if (n > cap) {
    b->state = AZ_BODY_BAD;
    return 1;
  }
  if (n == 0) {
    b->state = AZ_BODY_SHORT;
    return 1;
  }
  b->sent += n;
  if (b->sent == b->want && b->check_eof) {
    size_t extra = 0;
    if (b->src(b->ctx, &probe, 1, &extra)) {
      b->state = AZ_BODY_ABORTED;
      return 1;
    }
    if (extra) {
      b->state = AZ_BODY_LONG;
      return 1;
    }
  }
  *out_n = n;
  return 0;
}

void az_body_attach(sdk_request *r, az_body *b)
{
  sdk_request_body_stream(r, body_read, b, (int64_t)b->want);
}

/* What a failed request with a streamed body really failed of: the
 * source's own doing replaces the SDK's "stopped by the source". */
int32_t az_body_result(const az_target *t, const az_body *b, int32_t rc,
                       store_error *err)
{
  switch (rc ? b->state : AZ_BODY_OK) {
  case AZ_BODY_ABORTED:
    return az_fail(t, err, STORE_E_ABORTED,
                   "the read callback stopped the upload");
  case AZ_BODY_SHORT:
    return az_fail(t, err, STORE_E_INVALID,
                   "short body: the source ended %" PRIu64
                   " bytes before the declared length", b->want - b->sent);
  case AZ_BODY_LONG:
    return az_fail(t, err, STORE_E_INVALID,
                   "body longer than the declared length");
  case AZ_BODY_BAD:
    return az_fail(t, err, STORE_E_INTERNAL,
                   "the read callback returned more bytes than asked for");
  default:
    return rc;
  }
}

/* Read from src into buf until it is full or src ends (*out_eof = 1). */
int32_t az_fill(const az_target *t, store_read_fn src, void *ctx, char *buf,
                size_t cap, size_t *out_n, int *out_eof, store_error *err)
{
  size_t have = 0;

  *out_eof = 0;
  while (have < cap) {
    size_t n = 0;
    if (src(ctx, buf + have, cap - have, &n))
      return az_fail(t, err, STORE_E_ABORTED,
                     "the read callback stopped the upload");
    if (n > cap - have)
      return az_fail(t, err, STORE_E_INTERNAL,
                     "the read callback returned more bytes than asked for");
    if (n == 0) {
      *out_eof = 1;
      break;
    }
    have += n;
  }
  *out_n = have;
  return STORE_OK;
}

/* An upload's source: a read callback, and a length or -1 for unknown. */
int32_t az_check_source(const az_target *t, store_read_fn src, int64_t len,
                        store_error *err)
{
  if (!src || len < -1)
    return az_fail(t, err, STORE_E_INVALID,
                   "no read callback, or content_length %" PRId64
                   " below -1", len);
  return STORE_OK;
}
