/*
** sdk_put.c -- one object's put: single request, parts, or one part
** buffered first to tell which (sdk_put.h).
*/
#include <stdlib.h>

#include "sdk_put.h"

/* Unknown length, or 0: buffer one part (one byte for 0, enough to see a
 * source that disagrees) and let where the source ends choose. */
static int32_t put_buffered(const sdk_put_ops *ops, const sdk_put_call *c,
                            int64_t len)
{
  size_t n = 0, cap = len == 0 ? 1 : ops->part_size;
  char *buf = malloc(cap);
  char why[128];
  int eof = 0;
  int32_t rc;

  if (!buf)
    return ops->fail(c, STORE_E_NOMEM, "out of memory");
  rc = sdk_body_failure(sdk_fill(c->src, c->src_ctx, buf, cap, &n, &eof), 0,
                        why, sizeof(why));
  if (rc) {
    rc = ops->fail(c, rc, why);
    goto out;
  }
  if (len == 0 && n) {
    rc = ops->fail(c, STORE_E_INVALID,
                   "body longer than the declared 0 bytes");
    goto out;
  }
  if (eof)
    rc = ops->single(c, NULL, buf, n);
  else
    rc = ops->parts(c, buf, n);
out:
  free(buf);
  return rc;
}

int32_t sdk_put(const sdk_put_ops *ops, const sdk_put_call *c)
{
  int64_t len = STORE_OPT(c->opts, store_put_opts, content_length, -1);
  sdk_body b;

  if (len > 0 && (uint64_t)len > ops->cutoff)
    return ops->parts(c, NULL, 0);
  if (len <= 0)
    return put_buffered(ops, c, len);
  sdk_body_init(&b, c->src, c->src_ctx, (uint64_t)len, SDK_BODY_PROBE_EOF);
  return ops->single(c, &b, NULL, 0);
}
