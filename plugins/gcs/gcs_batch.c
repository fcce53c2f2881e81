/*
** gcs_batch.c -- blob_delete_batch through the JSON API's batch endpoint:
** POST /batch/storage/v1, a multipart/mixed body of up to GCS_BATCH_MAX
** "DELETE /storage/v1/b/BUCKET/o/NAME" calls (the windows and the
** answer's reading are sdk_batch.h's). The calls carry no Authorization:
** the batch request's applies to each. The answer holds one response per
** Content-ID: 204 is deleted, 404 "No such object" was already gone, a
** 404 for the bucket fails the call, a passing failure (408, 429, 5xx) is
** left to the host's retry, anything else is that key's own failure,
** classified like a single delete's (gcs_error.c). A call refused 401
** means the token went stale mid-batch: the token is dropped and the call
** fails retryable, so the host sends the keys not reported again with a
** new one.
**
** Objects of a bucket with versioning are deleted one by one
** (STORE_E_UNSUPPORTED): a plain DELETE there keeps the data as a
** noncurrent generation, where blob_delete refuses objects with
** snapshots and deletes every generation otherwise. Whether it has
** versioning is read once per handle and bucket: a recursive delete makes
** a call per 1000 keys.
*/
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "gcs.h"
#include "sdk_batch.h"

/* Calls of one batch request (the service's limit). */
#define GCS_BATCH_MAX 100

/* A call's bucket and keys, for the sdk_batch callbacks. */
typedef struct gcs_batch {
  store_handle *h;
  const char *bucket;
  const char *const *keys;
  sdk_buf token;                /* the bearer token sent, or empty: the one
                                   a call refused 401 makes stale         */
} gcs_batch;

/* The DELETE of keys[i] as a call. No Authorization of its own: the
 * batch request's applies to every call in it (Google's batch documentation),
 * so the token is not written in the body. */
static int32_t sub_request(void *ctx, size_t i, sdk_request **out,
                           store_error *err)
{
  gcs_batch *b = ctx;
  gcs_target t = {"delete", b->bucket, b->keys[i], NULL};
  sdk_buf url = SDK_BUF_INIT;
  int32_t rc;

  *out = NULL;
  rc = gcs_url(b->h, &t, GCS_API, &url, err);
  if (!rc && !(*out = sdk_request_new("DELETE", url.data)))
    rc = gcs_nomem(&t, err);
  sdk_buf_free(&url);
  return rc;
}

/* Does resp's body hold text? */
static int says(const sdk_response *resp, const char *text)
{
  size_t len = 0;
  const char *body = sdk_response_body(resp, &len);

  return body && memmem(body, len, text, strlen(text)) != NULL;
}

static int classify(void *ctx, size_t i, const sdk_response *resp,
                    store_error *kerr)
{
  gcs_batch *b = ctx;
  gcs_target t = {"delete", b->bucket, b->keys[i], NULL};
  long status = sdk_response_status(resp);
  size_t len = 0;

  if (status == 204 || status == 200)
    return SDK_BATCH_DONE;
  gcs_fail_response(&t, resp, kerr);
  if (status == 404) {
    /* The object already gone is what a delete wants (the op's
     * contract); a missing bucket fails the call, once. Both are reason
     * notFound: the message tells them apart. */
    if (says(resp, "bucket does not exist")) {
      gcs_target bt = {"delete batch", b->bucket, NULL, NULL};
      gcs_fail(&bt, kerr, STORE_E_NOT_FOUND, "bucket '%s' does not exist",
               b->bucket);
      return SDK_BATCH_ABORT;
    }
    if (says(resp, "No such object") || !sdk_response_body(resp, &len) ||
        !len)
      return SDK_BATCH_DONE;
  }
  if (status == 401) {
    /* Stale token: the call fails, the host sends the rest again. */
    if (b->token.len)
      sdk_oauth_reject(b->h->auth, b->token.data);
    kerr->flags |= STORE_ERR_RETRYABLE;
    return SDK_BATCH_ABORT;
  }
  return SDK_BATCH_FAILED;
}

/* The call's error: a part without a key's Content-ID answers the whole
 * batch (how the service refuses a malformed one), or code and msg. */
static int32_t fail(void *ctx, const sdk_response *resp, int32_t code,
                    const char *msg, store_error *err)
{
  gcs_batch *b = ctx;
  gcs_target t = {"delete batch", b->bucket, NULL, NULL};

  if (resp)
    return gcs_fail_response(&t, resp, err);
  return gcs_fail(&t, err, code, "%s", msg);
}

/* One batch POST of body. */
static int32_t send_batch(void *ctx, const sdk_buf *body,
                          const char *content_type, sdk_mixed_reader *rd,
                          store_error *err)
{
  gcs_batch *b = ctx;
  gcs_target bt = {"delete batch", b->bucket, NULL, NULL};
  sdk_buf url = SDK_BUF_INIT;
  sdk_response *resp = NULL;
  sdk_request *r = NULL;
  int32_t rc = STORE_OK;

  if (sdk_buf_puts(&url, b->h->endpoint) ||
      sdk_buf_puts(&url, "/batch/storage/v1") ||
      !(r = sdk_request_new("POST", url.data)))
    rc = gcs_nomem(&bt, err);
  if (!rc)
    rc = gcs_header(&bt, r, "Content-Type", content_type, err);
  if (!rc) {
    sdk_request_body_mem(r, body->data, body->len);
    sdk_batch_attach(r, rd);
    /* Not replayed on a 401: the host's retry fetches a new token for
     * the keys not reported. */
    rc = gcs_perform(b->h, &bt, r, 0, &resp, err);
  }
  sdk_response_free(resp);
  sdk_request_free(r);
  sdk_buf_free(&url);
  return rc;
}

/* Guards every handle's versioning_bucket and versioning (gcs.h): one
 * lock for all, as it is taken once per call of up to 1000 keys. */
static pthread_mutex_t versioning_mu = PTHREAD_MUTEX_INITIALIZER;

/* Whether the bucket keeps versions: the handle's answer if it has the
 * bucket's, else the bucket's GET, remembered when it answers. */
static int32_t bucket_versioned(store_handle *h, const gcs_target *bt,
                                int *out, store_error *err)
{
  int known;
  int32_t rc;

  pthread_mutex_lock(&versioning_mu);
  known = !strcmp(h->versioning_bucket, bt->bucket);
  *out = h->versioning;
  pthread_mutex_unlock(&versioning_mu);
  if (known)
    return STORE_OK;
  rc = gcs_bucket_versioned(h, bt, out, err);
  if (rc)
    return rc;
  pthread_mutex_lock(&versioning_mu);
  snprintf(h->versioning_bucket, sizeof(h->versioning_bucket), "%s",
           bt->bucket);
  h->versioning = *out;
  pthread_mutex_unlock(&versioning_mu);
  return STORE_OK;
}

static const sdk_batch_ops gcs_batch_ops = {
  GCS_BATCH_MAX, "batch_", sub_request, send_batch, classify, fail,
};

int32_t gcs_blob_delete_batch(store_handle *h, const char *bucket,
                              const char *const *keys, size_t n,
                              store_batch_fn fn, void *ctx, store_error *err)
{
  gcs_target bt = {"delete batch", bucket, NULL, NULL};
  gcs_batch gb = {h, bucket, keys, SDK_BUF_INIT};
  int versioned = 0;
  int32_t rc = gcs_check_bucket(&bt, err);

  for (size_t i = 0; !rc && i < n; i++) {
    gcs_target t = {"delete", bucket, keys[i], NULL};
    rc = gcs_check_key(&t, err);
  }
  if (!rc)
    rc = bucket_versioned(h, &bt, &versioned, err);
  /* Whether a plain DELETE would keep the data needs storage.buckets.get,
   * which a role that may delete objects need not have: unknown, so one
   * by one (each delete finds its own generations). */
  if (rc == STORE_E_PERMISSION)
    return gcs_fail(&bt, err, STORE_E_UNSUPPORTED, "the bucket's versioning "
                    "cannot be read (storage.buckets.get denied): its "
                    "objects are deleted one by one");
  if (rc)
    return rc;
  if (versioned)
    return gcs_fail(&bt, err, STORE_E_UNSUPPORTED, "the bucket keeps "
                    "versions: its objects are deleted one by one, with "
                    "their snapshots' rules");
  if (h->auth) {
    rc = sdk_oauth_token(h->auth, h->http, &gb.token, err);
    if (rc) {
      char msg[STORE_ERR_MSG_SIZE];
      snprintf(msg, sizeof(msg), "%s", err ? err->message : "");
      rc = gcs_fail(&bt, err, rc, "%s", msg);
      goto out;
    }
  }
  rc = sdk_batch_run(&gcs_batch_ops, &gb, keys, n, fn, ctx, err);
out:
  if (gb.token.data)
    memset(gb.token.data, 0, gb.token.cap);
  sdk_buf_free(&gb.token);
  return rc;
}
