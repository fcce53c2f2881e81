/*
** azure_batch.c -- blob_delete_batch with Blob Batch: POST
** CONTAINER?restype=container&comp=batch, a multipart/mixed body of up to
** AZ_BATCH_MAX Delete Blob sub-requests (sdk_mixed.h), each dated and
** signed on its own as if sent alone (Shared Key), or carrying the SAS
** token in its URL. An account SAS posts to the service (?comp=batch)
** instead, the scope it grants. The 202 answer holds one sub-response per Content-ID:
** 202 is deleted, 404 was already gone, anything else is that key's own
** failure, classified like a single delete's (azure_error.c). A service
** that does not know Blob Batch (an older emulator, a proxy) refuses the
** POST itself: STORE_E_UNSUPPORTED, and the host deletes one by one.
*/
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "azure.h"
#include "sdk_azure.h"
#include "sdk_mixed.h"

/* Sub-requests of one Blob Batch (the service's limit). */
#define AZ_BATCH_MAX 256

/* One batch request's keys and the reports made from its answer. */
typedef struct az_batch {
  store_handle *h;
  const char *container;
  const char *const *keys;      /* this batch's: keys[0..n)                */
  size_t n, base;               /* base: index of keys[0] for fn           */
  unsigned char *seen;          /* reported                                */
  store_batch_fn fn;
  void *ctx;
} az_batch;

/* The Delete Blob of key as a sub-request: its own x-ms-date and Shared
 * Key signature (the batch's x-ms-version applies to it: none of its
 * own, as the service's SDKs send it). *out owned by the caller. */
static int32_t sub_request(store_handle *h, const az_target *t,
                           const char *date, sdk_request **out,
                           store_error *err)
{
  int32_t rc = az_request(h, t, "DELETE", NULL, out, err);

  if (!rc)
    rc = az_header(t, *out, "x-ms-version", NULL, err);
  if (!rc)
    rc = az_header(t, *out, "x-ms-date", date, err);
  if (!rc)
    rc = az_header(t, *out, "Content-Length", "0", err);
  if (!rc && h->key &&
      sdk_azure_sign_request(*out, h->account, h->key, h->keylen))
    rc = az_nomem(t, err);
  if (rc) {
    sdk_request_free(*out);
    *out = NULL;
  }
  return rc;
}

/* The multipart body of keys[0..n). It may carry the SAS token: the
 * caller wipes it. */
static int32_t build_body(store_handle *h, const az_target *bt,
                          const az_batch *b, const char *boundary,
                          sdk_buf *body, store_error *err)
{
  char date[30];
  int32_t rc = STORE_OK;

  sdk_time_format_http(time(NULL) + (time_t)atomic_load(&h->clock_offset),
                       date);
  for (size_t i = 0; !rc && i < b->n; i++) {
    az_target t = {"delete", b->container, b->keys[i], NULL};
    sdk_request *r = NULL;
    rc = sub_request(h, &t, date, &r, err);
    if (!rc && sdk_mixed_add(body, boundary, i, r))
      rc = az_nomem(bt, err);
    sdk_request_free(r);
  }
  if (!rc && sdk_mixed_end(body, boundary))
    rc = az_nomem(bt, err);
  return rc;
}

/* A sub-response as the response a single request would have had, for
 * azure_error.c. */
static int32_t part_error(const az_target *t, const sdk_mixed_part *part,
                          store_error *err)
{
  sdk_response *resp = sdk_mixed_part_response(part);
  int32_t rc = resp ? az_fail_response(t, resp, err) : az_nomem(t, err);

  sdk_response_free(resp);
  return rc;
}

static int32_t on_part(void *ctx, const sdk_mixed_part *part,
                       store_error *err)
{
  az_batch *b = ctx;
  az_target t = {"delete", b->container, NULL, NULL};
  store_error kerr;
  int32_t code = STORE_OK;
  size_t i;

  /* A part without a key's Content-ID answers the whole batch (how the
   * service refuses a malformed one): the call fails with it. */
  if (sdk_mixed_index(part->content_id, &i) || i >= b->n) {
    t.op = "delete batch";
    if (part->status >= 200 && part->status <= 299)
      return az_fail(&t, err, STORE_E_INTERNAL, "a sub-response for no "
                     "sub-request (Content-ID '%.40s')", part->content_id);
    return part_error(&t, part, err);
  }
  if (b->seen[i])
    return STORE_OK;
  b->seen[i] = 1;
  t.key = b->keys[i];
  memset(&kerr, 0, sizeof(kerr));
  kerr.struct_size = sizeof(kerr);
  if (part->status != 202) {
    code = part_error(&t, part, &kerr);
    /* A blob already gone is what a delete wants (the op's contract); a
     * missing container is every key's failure. */
    if (code == STORE_E_NOT_FOUND &&
        !strcmp(kerr.provider_code, "BlobNotFound"))
      code = STORE_OK;
    /* A passing failure (408, 429, 5xx, ServerBusy): left unreported, so
     * the call fails retryable and the host sends that key again. */
    if (code && (kerr.flags & STORE_ERR_RETRYABLE) && code != STORE_E_AUTH) {
      b->seen[i] = 0;
      return STORE_OK;
    }
    /* The batch itself was accepted, so the key is right: a refused
     * signature is a stale x-ms-date (the batch was sent again after a
     * clock correction). The call fails, retryable: the host sends the
     * keys not reported in a batch dated anew. */
    if (code == STORE_E_AUTH) {
      b->seen[i] = 0;
      if (err) {
        *err = kerr;
        err->flags |= STORE_ERR_RETRYABLE;
      }
      return code;
    }
  }
  if (b->fn(b->ctx, b->base + i, code, code ? &kerr : NULL))
    return az_fail(&t, err, STORE_E_ABORTED, "stopped by the callback");
  return STORE_OK;
}

/* Is this refusal of the batch POST the service not knowing Blob Batch? */
static int no_batch(const store_error *e)
{
  static const char *const codes[] = {
    "NotImplemented", "UnsupportedHttpVerb", "UnsupportedQueryParameter",
    "InvalidQueryParameterValue", "FeatureNotSupported",
  };

  if (e->http_status == 405 || e->http_status == 501)
    return 1;
  for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
    if (!strcmp(e->provider_code, codes[i]))
      return 1;
  return 0;
}

/* Is sas an account SAS (it has resource types, srt=)? It grants the
 * service-level batch; a container's SAS grants only the container's
 * (and Azurite refuses an account SAS there). */
static int account_sas(const char *sas)
{
  for (const char *p = sas; p; p = strchr(p, '&'))
    if (!strncmp(p += *p == '&', "srt=", 4))
      return 1;
  return 0;
}

/* The answer's outcome after its perform, into err with the call named
 * (a sub-response's own failure names its key already). */
static int32_t answer_result(sdk_mixed_reader *rd, const az_target *bt,
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
  rc = az_fail(bt, err, rc, "%s", perr.message);
  /* A cut or garbled answer: the keys not reported may go again. */
  if (err && rc != STORE_E_NOMEM)
    err->flags |= STORE_ERR_RETRYABLE;
  return rc;
}

/* One Blob Batch of b's keys; each key answered is reported. */
static int32_t batch_send(az_batch *b, store_error *err)
{
  az_target bt = {"delete batch", b->container, NULL, NULL};
  char boundary[SDK_MIXED_BOUNDARY_SIZE];
  sdk_buf body = SDK_BUF_INIT, ct = SDK_BUF_INIT;
  sdk_mixed_reader rd = {0};
  sdk_request *r = NULL;
  int32_t rc;

  if (sdk_mixed_boundary("batch_", boundary)) {
    rc = az_fail(&bt, err, STORE_E_INTERNAL, "no randomness for a "
                 "boundary");
    goto out;
  }
  rc = build_body(b->h, &bt, b, boundary, &body, err);
  if (!rc && account_sas(b->h->sas)) {
    az_target at = {bt.op, NULL, NULL, NULL};
    rc = az_request(b->h, &at, "POST", "comp=batch", &r, err);
  } else if (!rc) {
    rc = az_request(b->h, &bt, "POST", "restype=container&comp=batch", &r,
                    err);
  }
  if (!rc && sdk_mixed_content_type(boundary, &ct))
    rc = az_nomem(&bt, err);
  if (!rc)
    rc = az_header(&bt, r, "Content-Type", ct.data, err);
  if (rc)
    goto out;
  sdk_request_body_mem(r, body.data, body.len);
  sdk_mixed_attach(r, &rd, on_part, b);
  rc = az_perform(b->h, &bt, r, NULL, err);
  if (rc == STORE_E_ABORTED && rd.failed) {
    rc = answer_result(&rd, &bt, err);
    goto out;
  }
  if (rc) {
    if (err && no_batch(err)) {
      char code[STORE_ERR_CODE_SIZE];
      snprintf(code, sizeof(code), "%s", err->provider_code);
      rc = az_fail(&bt, err, STORE_E_UNSUPPORTED, "the service refuses "
                   "Blob Batch (HTTP %d%s%s): deleting one by one",
                   (int)err->http_status, *code ? " " : "", code);
    }
    goto out;
  }
  rc = answer_result(&rd, &bt, err);
out:
  sdk_mixed_reader_free(&rd);
  sdk_request_free(r);
  if (body.data)
    memset(body.data, 0, body.cap);
  sdk_buf_free(&body);
  sdk_buf_free(&ct);
  return rc;
}

int32_t az_blob_delete_batch(store_handle *h, const char *container,
                             const char *const *keys, size_t n,
                             store_batch_fn fn, void *ctx, store_error *err)
{
  az_batch b;
  int32_t rc = STORE_OK;

  memset(&b, 0, sizeof(b));
  b.h = h;
  b.container = container;
  b.fn = fn;
  b.ctx = ctx;

  for (size_t i = 0; !rc && i < n; i++) {
    az_target t = {"delete", container, keys[i], NULL};
    rc = az_check_key(&t, err);
  }
  if (rc)
    return rc;
  b.seen = calloc(AZ_BATCH_MAX, 1);
  if (!b.seen) {
    az_target t = {"delete batch", container, NULL, NULL};
    return az_nomem(&t, err);
  }
  for (size_t at = 0; !rc && at < n; at += AZ_BATCH_MAX) {
    b.keys = keys + at;
    b.base = at;
    b.n = n - at < AZ_BATCH_MAX ? n - at : AZ_BATCH_MAX;
    memset(b.seen, 0, AZ_BATCH_MAX);
    rc = batch_send(&b, err);
    for (size_t i = 0; !rc && i < b.n; i++)
      if (!b.seen[i]) {
        az_target t = {"delete batch", container, NULL, NULL};
        rc = az_fail(&t, err, STORE_E_INTERNAL, "the answer has no "
                     "sub-response for blob '%.200s'", b.keys[i]);
        if (err)
          err->flags |= STORE_ERR_RETRYABLE;
      }
  }
  free(b.seen);
  return rc;
}
