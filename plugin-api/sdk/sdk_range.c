/*
** sdk_range.c -- the range-cutting body sink of sdk_range.h.
*/
#include <stdlib.h>
#include <string.h>

#include "sdk_range.h"

void sdk_range_init(sdk_range *g, uint64_t off, uint64_t len,
                    store_write_fn sink, void *sink_ctx)
{
  memset(g, 0, sizeof(*g));
  g->off = off;
  g->len = len;
  g->sink = sink;
  g->sink_ctx = sink_ctx;
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
