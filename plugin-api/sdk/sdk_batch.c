/*
** sdk_batch.c -- a blob_delete_batch over multipart/mixed batch requests,
** window by window. See sdk_batch.h.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdk_batch.h"

/* One window's keys and what its answer reported. */
struct window {
  const sdk_batch_ops *b;
  void *ctx;                    /* the ops' callbacks'                     */
  const char *const *keys;
  store_batch_fn fn;
  void *fn_ctx;
  size_t base, n;               /* keys[base..base+n)                      */
  unsigned char *seen;          /* reported, by index in the window        */
};

static int32_t on_part(void *ctx, const sdk_mixed_part *part,
                       store_error *err)
{
  struct window *w = ctx;
  const sdk_batch_ops *b = w->b;
  sdk_response *resp = NULL;
  store_error kerr;
  char msg[96];
  int32_t rc = STORE_OK;
  size_t i;
  int verdict, keyless;

  keyless = sdk_mixed_index(part->content_id, &i) || i >= w->n;
  if (keyless && part->status >= 200 && part->status <= 299) {
    snprintf(msg, sizeof(msg), "a sub-response for no sub-request "
             "(Content-ID '%.40s')", part->content_id);
    return b->fail_fn(w->ctx, NULL, STORE_E_INTERNAL, msg, err);
  }
  if (!keyless && w->seen[i])
    return STORE_OK;
  if (!(resp = sdk_mixed_part_response(part)))
    return b->fail_fn(w->ctx, NULL, STORE_E_NOMEM, "out of memory", err);
  if (keyless) {
    rc = b->fail_fn(w->ctx, resp, 0, NULL, err);
    goto out;
  }
  memset(&kerr, 0, sizeof(kerr));
  kerr.struct_size = sizeof(kerr);
  verdict = b->classify_fn(w->ctx, w->base + i, resp, &kerr);
  /* A passing failure is not the key's outcome: left unreported, the
   * call fails retryable and the host sends that key again. */
  if (verdict == SDK_BATCH_FAILED && (kerr.flags & STORE_ERR_RETRYABLE))
    goto out;
  if (verdict == SDK_BATCH_ABORT) {
    rc = kerr.code ? kerr.code : STORE_E_INTERNAL;
    if (err) {
      *err = kerr;
      err->code = rc;
    }
    goto out;
  }
  w->seen[i] = 1;
  if (verdict == SDK_BATCH_FAILED && !kerr.code)
    kerr.code = STORE_E_INTERNAL;
  if (verdict != SDK_BATCH_FAILED)
    rc = w->fn(w->fn_ctx, w->base + i, STORE_OK, NULL);
  else
    rc = w->fn(w->fn_ctx, w->base + i, kerr.code, &kerr);
  if (rc)
    rc = b->fail_fn(w->ctx, NULL, STORE_E_ABORTED, "stopped by the "
                    "callback", err);
out:
  sdk_response_free(resp);
  return rc;
}

/* The answer's outcome after its perform, into err with the call named
 * (a part's own failure names its key already). */
static int32_t answer_result(const struct window *w, sdk_mixed_reader *rd,
                             store_error *err)
{
  store_error perr;
  int in_part;
  int32_t rc;

  memset(&perr, 0, sizeof(perr));
  perr.struct_size = sizeof(perr);
  rc = sdk_mixed_reader_finish(rd, &in_part, &perr);
  if (!rc)
    return STORE_OK;
  if (in_part) {
    if (err)
      *err = perr;
    return rc;
  }
  rc = w->b->fail_fn(w->ctx, NULL, rc, perr.message, err);
  /* A cut or garbled answer: the keys not reported may go again. */
  if (err && rc != STORE_E_NOMEM)
    err->flags |= STORE_ERR_RETRYABLE;
  return rc;
}

/* One POST of w's keys; each key answered is reported. */
static int32_t window_send(struct window *w, store_error *err)
{
  const sdk_batch_ops *b = w->b;
  char boundary[SDK_MIXED_BOUNDARY_SIZE];
  sdk_buf body = SDK_BUF_INIT, ct = SDK_BUF_INIT;
  sdk_mixed_reader rd = {0};
  int32_t rc = STORE_OK;

  if (sdk_mixed_boundary(b->boundary_prefix, boundary))
    return b->fail_fn(w->ctx, NULL, STORE_E_INTERNAL, "no randomness for a "
                      "boundary", err);
  for (size_t i = 0; !rc && i < w->n; i++) {
    sdk_request *r = NULL;
    rc = b->request_fn(w->ctx, w->base + i, &r, err);
    if (!rc && sdk_mixed_add(&body, boundary, i, r))
      rc = b->fail_fn(w->ctx, NULL, STORE_E_NOMEM, "out of memory", err);
    sdk_request_free(r);
  }
  if (!rc && (sdk_mixed_end(&body, boundary) ||
              sdk_mixed_content_type(boundary, &ct)))
    rc = b->fail_fn(w->ctx, NULL, STORE_E_NOMEM, "out of memory", err);
  if (rc)
    goto out;
  /* The reader is attached to the POST by send_fn (sdk_batch_attach). */
  rd.fn = on_part;
  rd.ctx = w;
  rc = b->send_fn(w->ctx, &body, ct.data, &rd, err);
  if (!rc || (rc == STORE_E_ABORTED && rd.failed))
    rc = answer_result(w, &rd, err);
  for (size_t i = 0; !rc && i < w->n; i++)
    if (!w->seen[i]) {
      char msg[320];
      snprintf(msg, sizeof(msg), "the answer left key '%.200s' without an "
               "outcome (no sub-response, or a passing failure)",
               w->keys[w->base + i]);
      rc = b->fail_fn(w->ctx, NULL, STORE_E_INTERNAL, msg, err);
      if (err)
        err->flags |= STORE_ERR_RETRYABLE;
    }
out:
  sdk_mixed_reader_free(&rd);
  /* The body may carry credentials (a SAS token, a bearer token). */
  if (body.data)
    memset(body.data, 0, body.cap);
  sdk_buf_free(&body);
  sdk_buf_free(&ct);
  return rc;
}

void sdk_batch_attach(sdk_request *r, sdk_mixed_reader *rd)
{
  sdk_mixed_attach(r, rd, rd->fn, rd->ctx);
}

int32_t sdk_batch_run(const sdk_batch_ops *ops, void *ctx,
                      const char *const *keys, size_t n, store_batch_fn fn,
                      void *fn_ctx, store_error *err)
{
  struct window w;
  int32_t rc = STORE_OK;

  memset(&w, 0, sizeof(w));
  w.b = ops;
  w.ctx = ctx;
  w.keys = keys;
  w.fn = fn;
  w.fn_ctx = fn_ctx;
  w.seen = calloc(ops->window, 1);
  if (!w.seen)
    return ops->fail_fn(ctx, NULL, STORE_E_NOMEM, "out of memory", err);
  for (size_t at = 0; !rc && at < n; at += ops->window) {
    w.base = at;
    w.n = n - at < ops->window ? n - at : ops->window;
    memset(w.seen, 0, ops->window);
    rc = window_send(&w, err);
  }
  free(w.seen);
  return rc;
}
