/*
** gcs_batch.c -- blob_delete_batch through the JSON API's batch endpoint:
** POST /batch/storage/v1, a multipart/mixed body (sdk_mixed.h) of up to
** GCS_BATCH_MAX "DELETE /storage/v1/b/BUCKET/o/NAME" calls, each with its
** own Authorization (the token of the whole request). The answer holds
** one response per Content-ID: 204 is deleted, 404 was already gone,
** anything else is that key's own failure, classified like a single
** delete's (gcs_error.c). A call refused 401 means the token went stale
** mid-batch: the token is dropped and the call fails retryable, so the
** host sends the keys not reported again with a new one.
**
** Objects of a bucket with versioning are deleted one by one
** (STORE_E_UNSUPPORTED): a plain DELETE there keeps the data as a
** noncurrent generation, where blob_delete refuses objects with
** snapshots and deletes every generation otherwise.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcs.h"
#include "sdk_mixed.h"

/* Calls of one batch request (the service's limit). */
#define GCS_BATCH_MAX 100

/* One batch request's keys and the reports made from its answer. */
typedef struct gcs_batch {
  store_handle *h;
  const char *bucket;
  const char *const *keys;      /* this batch's: keys[0..n)                */
  size_t n, base;               /* base: index of keys[0] for fn           */
  unsigned char *seen;          /* reported                                */
  store_batch_fn fn;
  void *ctx;
  const char *token;            /* the calls' bearer token, or NULL        */
} gcs_batch;

/* The multipart body of the batch's DELETE calls. */
static int32_t build_body(const gcs_batch *b, const gcs_target *bt,
                          const char *boundary, sdk_buf *body,
                          store_error *err)
{
  sdk_buf url = SDK_BUF_INIT, auth = SDK_BUF_INIT;
  int32_t rc = STORE_OK;

  if (b->token && (sdk_buf_puts(&auth, "Bearer ") ||
                   sdk_buf_puts(&auth, b->token)))
    rc = gcs_nomem(bt, err);
  for (size_t i = 0; !rc && i < b->n; i++) {
    gcs_target t = {"delete", b->bucket, b->keys[i], NULL};
    sdk_request *r = NULL;
    sdk_buf_reset(&url);
    rc = gcs_url(b->h, &t, GCS_API, &url, err);
    if (!rc && !(r = sdk_request_new("DELETE", url.data)))
      rc = gcs_nomem(bt, err);
    if (!rc && b->token)
      rc = gcs_header(bt, r, "Authorization", auth.data, err);
    if (!rc && sdk_mixed_add(body, boundary, i, r))
      rc = gcs_nomem(bt, err);
    sdk_request_free(r);
  }
  if (!rc && sdk_mixed_end(body, boundary))
    rc = gcs_nomem(bt, err);
  if (auth.data)
    memset(auth.data, 0, auth.cap);
  sdk_buf_free(&auth);
  sdk_buf_free(&url);
  return rc;
}

/* A call's response as the response a single request would have had, for
 * gcs_error.c. */
static int32_t part_error(const gcs_target *t, const sdk_mixed_part *part,
                          store_error *err)
{
  sdk_response *resp = sdk_mixed_part_response(part);
  int32_t rc = resp ? gcs_fail_response(t, resp, err) : gcs_nomem(t, err);

  sdk_response_free(resp);
  return rc;
}

static int32_t on_part(void *ctx, const sdk_mixed_part *part,
                       store_error *err)
{
  gcs_batch *b = ctx;
  gcs_target t = {"delete batch", b->bucket, NULL, NULL};
  store_error kerr;
  int32_t code = STORE_OK;
  size_t i;

  if (sdk_mixed_index(part->content_id, &i) || i >= b->n) {
    if (part->status >= 200 && part->status <= 299)
      return gcs_fail(&t, err, STORE_E_INTERNAL, "a response for no call "
                      "(Content-ID '%.40s')", part->content_id);
    return part_error(&t, part, err);
  }
  t.op = "delete";
  t.key = b->keys[i];
  if (part->status == 401) {
    /* Stale token: the call fails, the host sends the rest again. */
    if (b->token)
      sdk_oauth_reject(b->h->auth, b->token);
    code = part_error(&t, part, err);
    if (err)
      err->flags |= STORE_ERR_RETRYABLE;
    return code;
  }
  if (b->seen[i])
    return STORE_OK;
  b->seen[i] = 1;
  memset(&kerr, 0, sizeof(kerr));
  kerr.struct_size = sizeof(kerr);
  /* 404: already gone, what a delete wants (the op's contract). */
  if (part->status != 204 && part->status != 200 && part->status != 404)
    code = part_error(&t, part, &kerr);
  /* A passing failure (408, 429, 5xx): left unreported, so the call fails
   * retryable and the host sends that key again. */
  if (code && (kerr.flags & STORE_ERR_RETRYABLE)) {
    b->seen[i] = 0;
    return STORE_OK;
  }
  if (b->fn(b->ctx, b->base + i, code, code ? &kerr : NULL))
    return gcs_fail(&t, err, STORE_E_ABORTED, "stopped by the callback");
  return STORE_OK;
}

/* The answer's outcome after its perform, into err with the call named
 * (a call's own failure names its key already). */
static int32_t answer_result(sdk_mixed_reader *rd, const gcs_target *bt,
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
  rc = gcs_fail(bt, err, rc, "%s", perr.message);
  /* A cut or garbled answer: the keys not reported may go again. */
  if (err && rc != STORE_E_NOMEM)
    err->flags |= STORE_ERR_RETRYABLE;
  return rc;
}

/* One batch request of b's keys; each key answered is reported. */
static int32_t batch_send(gcs_batch *b, store_error *err)
{
  gcs_target bt = {"delete batch", b->bucket, NULL, NULL};
  char boundary[SDK_MIXED_BOUNDARY_SIZE];
  sdk_buf body = SDK_BUF_INIT, ct = SDK_BUF_INIT, url = SDK_BUF_INIT;
  sdk_buf tok = SDK_BUF_INIT;
  sdk_mixed_reader rd = {0};
  sdk_response *resp = NULL;
  sdk_request *r = NULL;
  int32_t rc = STORE_OK;

  b->token = NULL;
  if (b->h->auth) {
    rc = sdk_oauth_token(b->h->auth, b->h->http, &tok, err);
    if (rc) {
      char msg[STORE_ERR_MSG_SIZE];
      snprintf(msg, sizeof(msg), "%s", err ? err->message : "");
      rc = gcs_fail(&bt, err, rc, "%s", msg);
      goto out;
    }
    b->token = tok.data;
  }
  if (sdk_mixed_boundary("batch_", boundary)) {
    rc = gcs_fail(&bt, err, STORE_E_INTERNAL, "no randomness for a "
                  "boundary");
    goto out;
  }
  rc = build_body(b, &bt, boundary, &body, err);
  if (!rc && (sdk_buf_puts(&url, b->h->endpoint) ||
              sdk_buf_puts(&url, "/batch/storage/v1") ||
              sdk_mixed_content_type(boundary, &ct) ||
              !(r = sdk_request_new("POST", url.data))))
    rc = gcs_nomem(&bt, err);
  if (!rc)
    rc = gcs_header(&bt, r, "Content-Type", ct.data, err);
  if (rc)
    goto out;
  sdk_request_body_mem(r, body.data, body.len);
  sdk_mixed_attach(r, &rd, on_part, b);
  /* Not replayed on a 401: the calls inside carry the refused token. The
   * host's retry builds them again with a new one. */
  rc = gcs_perform(b->h, &bt, r, 0, &resp, err);
  if (!rc || (rc == STORE_E_ABORTED && rd.failed))
    rc = answer_result(&rd, &bt, err);
out:
  sdk_mixed_reader_free(&rd);
  b->token = NULL;
  sdk_response_free(resp);
  sdk_request_free(r);
  /* The body and tok hold the bearer token. */
  if (body.data)
    memset(body.data, 0, body.cap);
  if (tok.data)
    memset(tok.data, 0, tok.cap);
  sdk_buf_free(&body);
  sdk_buf_free(&tok);
  sdk_buf_free(&ct);
  sdk_buf_free(&url);
  return rc;
}

int32_t gcs_blob_delete_batch(store_handle *h, const char *bucket,
                              const char *const *keys, size_t n,
                              store_batch_fn fn, void *ctx, store_error *err)
{
  gcs_target bt = {"delete batch", bucket, NULL, NULL};
  gcs_batch b;
  int versioned = 0;
  int32_t rc = gcs_check_bucket(&bt, err);

  for (size_t i = 0; !rc && i < n; i++) {
    gcs_target t = {"delete", bucket, keys[i], NULL};
    rc = gcs_check_key(&t, err);
  }
  if (!rc)
    rc = gcs_bucket_versioned(h, &bt, &versioned, err);
  if (rc)
    return rc;
  if (versioned)
    return gcs_fail(&bt, err, STORE_E_UNSUPPORTED, "the bucket keeps "
                    "versions: its objects are deleted one by one, with "
                    "their snapshots' rules");
  memset(&b, 0, sizeof(b));
  b.h = h;
  b.bucket = bucket;
  b.fn = fn;
  b.ctx = ctx;
  b.seen = calloc(GCS_BATCH_MAX, 1);
  if (!b.seen)
    return gcs_nomem(&bt, err);
  for (size_t at = 0; !rc && at < n; at += GCS_BATCH_MAX) {
    b.keys = keys + at;
    b.base = at;
    b.n = n - at < GCS_BATCH_MAX ? n - at : GCS_BATCH_MAX;
    memset(b.seen, 0, GCS_BATCH_MAX);
    rc = batch_send(&b, err);
    for (size_t i = 0; !rc && i < b.n; i++)
      if (!b.seen[i]) {
        rc = gcs_fail(&bt, err, STORE_E_INTERNAL, "the answer has no "
                      "response for object '%.200s'", b.keys[i]);
        if (err)
          err->flags |= STORE_ERR_RETRYABLE;
      }
  }
  free(b.seen);
  return rc;
}
