/*
** sdk_body.c -- request bodies from store_read_fn sources (sdk_body.h):
** the exact-length reader with its end probe, and sdk_fill.
*/
#include "sdk_body.h"

void sdk_body_init(sdk_body *b, store_read_fn src, void *ctx, uint64_t want,
                   uint32_t flags)
{
  b->src = src;
  b->ctx = ctx;
  b->want = want;
  b->sent = 0;
  b->flags = flags;
  b->state = SDK_BODY_OK;
}

/* Once the last byte is in hand, a one-byte probe tells a source that is
 * longer than declared: the request is then stopped before the server
 * could commit it. */
int32_t sdk_body_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  sdk_body *b = ud;
  uint64_t left = b->want - b->sent;
  size_t n = 0, extra = 0;
  int32_t rc;
  char probe;

  *out_n = 0;
  if (cap > left)
    cap = (size_t)left;
  if (cap == 0)
    return 0;
  rc = b->src(b->ctx, buf, cap, &n);
  if (rc) {
    b->state = SDK_BODY_ABORTED;
    return rc;
  }
  *out_n = n;
  if (n > cap) {
    b->state = SDK_BODY_BAD;
    return 0;
  }
  if (n == 0) {
    b->state = SDK_BODY_SHORT;
    return 0;
  }
  b->sent += n;
  if (b->sent < b->want || !(b->flags & SDK_BODY_PROBE_EOF))
    return 0;
  if (b->src(b->ctx, &probe, 1, &extra)) {
    b->state = SDK_BODY_ABORTED;
    *out_n = 0;
    return 1;
  }
  if (extra) {
    b->state = SDK_BODY_LONG;
    *out_n = 0;
    return 1;
  }
  return 0;
}

void sdk_body_attach(sdk_request *r, sdk_body *b)
{
  sdk_request_body_stream(r, sdk_body_read, b, (int64_t)b->want);
}

int sdk_fill(store_read_fn src, void *ctx, void *buf, size_t cap,
             size_t *out_n, int *out_eof)
{
  unsigned char *p = buf;
  size_t have = 0;
  int state = SDK_BODY_OK;

  if (out_eof)
    *out_eof = 0;
  while (have < cap) {
    size_t n = 0;
    if (src(ctx, p + have, cap - have, &n)) {
      state = SDK_BODY_ABORTED;
      break;
    }
    if (n > cap - have) {
      state = SDK_BODY_BAD;
      break;
    }
    if (n == 0) {
      if (out_eof)
        *out_eof = 1;
      break;
    }
    have += n;
  }
  *out_n = have;
  return state;
}
