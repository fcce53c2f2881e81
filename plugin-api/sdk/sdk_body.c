/*
** sdk_body.c -- the bodies of sdk_body.h: from store_read_fn sources the
** exact-length reader with its end probe and sdk_fill; into a
** store_write_fn the range-cutting sink and the Range header it asks with,
** and a whole get's entry-then-body (sdk_get).
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
int32_t sdk_mem_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  sdk_mem_src *m = ud;

  *out_n = cap < m->left ? cap : m->left;
  if (*out_n) {
    memcpy(buf, m->p, *out_n);
    m->p = (const char *)m->p + *out_n;
    m->left -= *out_n;
  }
  return 0;
}

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

int32_t sdk_body_failure(int state, uint64_t short_by, char *why,
                         size_t cap)
{
  switch (state) {
  case SDK_BODY_ABORTED:
    snprintf(why, cap, "the read callback stopped the upload");
    return STORE_E_ABORTED;
  case SDK_BODY_SHORT:
    snprintf(why, cap, "short body: the source ended %" PRIu64
             " bytes before the declared length", short_by);
    return STORE_E_INVALID;
  case SDK_BODY_LONG:
    snprintf(why, cap, "body longer than the declared length");
    return STORE_E_INVALID;
  case SDK_BODY_BAD:
    snprintf(why, cap, "the read callback returned more bytes than asked "
             "for");
    return STORE_E_INTERNAL;
  default:
    return 0;
  }
}

void sdk_range_init(sdk_range *g, uint64_t off, uint64_t len,
                    store_write_fn sink, void *sink_ctx)
{
  memset(g, 0, sizeof(*g));
  g->off = off;
  g->len = len;
  g->sink = sink;
  g->sink_ctx = sink_ctx;
}

void sdk_range_header(uint64_t off, uint64_t len, char *out, size_t cap)
{
  if (len)
    snprintf(out, cap, "bytes=%" PRIu64 "-%" PRIu64, off, off + len - 1);
  else
    snprintf(out, cap, "bytes=%" PRIu64 "-", off);
}

int sdk_range_start(sdk_range *g, const sdk_response *resp)
{
  const char *cr = sdk_response_header(resp, "Content-Range");

  g->pos = 0;
  if (sdk_response_status(resp) == 206) {
    if (!cr || strncmp(cr, "bytes ", 6) || cr[6] < '0' || cr[6] > '9')
      return -1;
    g->pos = strtoull(cr + 6, NULL, 10);
  }
  return g->pos > g->off ? -1 : 0;
}

int32_t sdk_range_write(void *ud, const void *buf, size_t n)
{
  sdk_range *g = ud;
  const unsigned char *p = buf;
  uint64_t skip = g->pos < g->off ? g->off - g->pos : 0, take;

  g->pos += n;
  if (skip >= n)
    return 0;
  take = n - skip;
  if (g->len && take > g->len - g->delivered)
    take = g->len - g->delivered;
  if (take && g->sink(g->sink_ctx, p + skip, (size_t)take))
    return 1;
  g->delivered += take;
  if (g->len && g->delivered == g->len) {
    g->done = 1;
    return 1; /* the rest is surplus */
  }
  return 0;
}

void sdk_get_init(sdk_get *g, store_entry_fn on_entry, void *on_entry_ctx,
                  store_write_fn sink, void *sink_ctx, sdk_get_entry_fn entry,
                  void *entry_ud)
{
  memset(g, 0, sizeof(*g));
  g->on_entry = on_entry;
  g->on_entry_ctx = on_entry_ctx;
  g->sink = sink;
  g->sink_ctx = sink_ctx;
  g->entry = entry;
  g->entry_ud = entry_ud;
}

/* Headers are in: the entry to on_entry before the first byte. */
static int32_t get_headers(void *ud, const sdk_response *resp)
{
  sdk_get *g = ud;

  if (!g->on_entry)
    return 0;
  g->stop = g->entry(g->entry_ud, resp, g->on_entry, g->on_entry_ctx);
  return g->stop ? 1 : 0;
}

static int32_t get_write(void *ud, const void *buf, size_t len)
{
  sdk_get *g = ud;

  if (len == 0)
    return 0; /* the ABI promises sinks len > 0 */
  if (g->sink(g->sink_ctx, buf, len)) {
    g->stop = SDK_GET_SINK;
    return 1;
  }
  return 0;
}

void sdk_get_attach(sdk_request *r, sdk_get *g)
{
  sdk_request_on_headers(r, get_headers, g);
  sdk_request_sink(r, get_write, g);
}

int32_t sdk_get_stopped(const sdk_get *g, const char **out_why)
{
  switch (g->stop) {
  case SDK_GET_ENTRY:
    *out_why = "the entry callback stopped the download";
    return STORE_E_ABORTED;
  case SDK_GET_SINK:
    *out_why = "the write callback stopped the download";
    return STORE_E_ABORTED;
  case SDK_GET_NOMEM:
    *out_why = "out of memory";
    return STORE_E_NOMEM;
  default:
    *out_why = NULL;
    return 0;
  }
}
