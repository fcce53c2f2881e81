/*
** azure_body.c -- request bodies from the ABI's read callbacks (read by
** the SDK's sdk_body and sdk_fill): their failures as Azure errors, and
** the check of an upload's source.
*/
#include <inttypes.h>

#include "azure.h"

/* A source's failure (an SDK_BODY_* state) as this blob's error; short_by is
 * what a SHORT source lacked. rc when there is none. */
static int32_t source_fail(const az_target *t, int state, uint64_t short_by,
                           int32_t rc, store_error *err)
{
  char why[128];
  int32_t code = sdk_body_failure(state, short_by, why, sizeof(why));

  return code ? az_fail(t, err, code, "%s", why) : rc;
}

/* What a failed request with a streamed body really failed of: the
 * source's own doing, in Azure's words, replaces the SDK's message. */
int32_t az_body_result(const az_target *t, const sdk_body *b, int32_t rc,
                       store_error *err)
{
  return source_fail(t, rc ? b->state : SDK_BODY_OK, b->want - b->sent, rc,
                     err);
}

/* Read from src into buf until it is full or src ends (*out_eof = 1). */
int32_t az_fill(const az_target *t, store_read_fn src, void *ctx, char *buf,
                size_t cap, size_t *out_n, int *out_eof, store_error *err)
{
  return source_fail(t, sdk_fill(src, ctx, buf, cap, out_n, out_eof), 0,
                     STORE_OK, err);
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
