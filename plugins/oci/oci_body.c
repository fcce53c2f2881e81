/*
** oci_body.c -- request bodies from the ABI's read callbacks (read by the
** SDK's sdk_body and sdk_fill): what a failure of the source was, in this
** provider's messages; an object body sent.
*/
#include <inttypes.h>

#include "oci.h"

/* A source's failure (an SDK_BODY_* state); short_by is what a SHORT
 * source lacked. rc when there is none. */
static int32_t source_fail(const oci_target *t, int state, uint64_t short_by,
                           int32_t rc, store_error *err)
{
  char why[128];
  int32_t code = sdk_body_failure(state, short_by, why, sizeof(why));

  return code ? oci_fail(t, err, code, "%s", why) : rc;
}

/* What a failed request with a streamed body really failed of: the
 * source's own doing replaces the SDK's message. */
int32_t oci_body_result(const oci_target *t, const sdk_body *b, int32_t rc,
                        store_error *err)
{
  return source_fail(t, rc ? b->state : SDK_BODY_OK, b->want - b->sent, rc,
                     err);
}

/* Send r with an object body (PutObject, UploadPart; not signed):
 * streamed from b, or mem[0..memlen) when b is NULL. See oci_perform for
 * *out. */
int32_t oci_send_object(store_handle *h, const oci_target *t, sdk_request *r,
                        sdk_body *b, const char *mem, size_t memlen,
                        sdk_response **out, store_error *err)
{
  if (!b) {
    sdk_request_body_mem(r, mem, memlen);
    return oci_perform(h, t, r, OCI_OBJECT_BODY, out, err);
  }
  sdk_body_attach(r, b);
  return oci_body_result(t, b,
                         oci_perform(h, t, r, OCI_OBJECT_BODY, out, err),
                         err);
}

/* Read from src into buf until it is full or src ends (*out_eof = 1). */
int32_t oci_fill(const oci_target *t, store_read_fn src, void *ctx, char *buf,
                 size_t cap, size_t *out_n, int *out_eof, store_error *err)
{
  return source_fail(t, sdk_fill(src, ctx, buf, cap, out_n, out_eof), 0,
                     STORE_OK, err);
}
