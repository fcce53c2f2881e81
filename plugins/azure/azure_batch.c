/*
** azure_batch.c -- blob_delete_batch with Blob Batch: POST
** CONTAINER?restype=container&comp=batch, a multipart/mixed body of up to
** AZ_BATCH_MAX Delete Blob sub-requests (the windows and the answer's
** reading are sdk_batch.h's), each dated and signed on its own as if sent
** alone (Shared Key), or carrying the SAS token in its URL. An account SAS
** posts to the service (?comp=batch) instead, the scope it grants. The 202
** answer holds one sub-response per Content-ID: 202 is deleted, 404
** BlobNotFound was already gone, a passing failure (408, 429, 5xx,
** ServerBusy) leaves the key to the host's retry, anything else is that
** key's own failure, classified like a single delete's (azure_error.c). A
** service that does not know Blob Batch (an older emulator, a proxy)
** refuses the POST itself: STORE_E_UNSUPPORTED, and the host deletes one
** by one.
*/
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "azure.h"
#include "sdk_azure.h"
#include "sdk_batch.h"

/* Sub-requests of one Blob Batch (the service's limit). */
#define AZ_BATCH_MAX 256

/* A call's container and keys, for the sdk_batch callbacks. */
typedef struct az_batch {
  store_handle *h;
  const char *container;
  const char *const *keys;
} az_batch;

/* The Delete Blob of keys[i] as a sub-request: its own x-ms-date and
 * Shared Key signature (the batch's x-ms-version applies to it: none of
 * its own, as the service's SDKs send it). *out owned by the caller. */
static int32_t sub_request(void *ctx, size_t i, sdk_request **out,
                           store_error *err)
{
  az_batch *b = ctx;
  store_handle *h = b->h;
  az_target t = {"delete", b->container, b->keys[i], NULL};
  char date[30];
  int32_t rc;

  sdk_time_format_http(time(NULL) + (time_t)atomic_load(&h->clock_offset),
                       date);
  rc = az_request(h, &t, "DELETE", NULL, out, err);
  if (!rc)
    rc = az_header(&t, *out, "x-ms-version", NULL, err);
  if (!rc)
    rc = az_header(&t, *out, "x-ms-date", date, err);
  if (!rc)
    rc = az_header(&t, *out, "Content-Length", "0", err);
  if (!rc && h->key &&
      sdk_azure_sign_request(*out, h->account, h->key, h->keylen))
    rc = az_nomem(&t, err);
  if (rc) {
    sdk_request_free(*out);
    *out = NULL;
  }
  return rc;
}

static int classify(void *ctx, size_t i, const sdk_response *resp,
                    store_error *kerr)
{
  az_batch *b = ctx;
  az_target t = {"delete", b->container, b->keys[i], NULL};
  int32_t code;

  if (sdk_response_status(resp) == 202)
    return SDK_BATCH_DONE;
  code = az_fail_response(&t, resp, kerr);
  /* A blob already gone is what a delete wants (the op's contract); a
   * missing container is every key's failure. */
  if (code == STORE_E_NOT_FOUND &&
      !strcmp(kerr->provider_code, "BlobNotFound"))
    return SDK_BATCH_DONE;
  /* The batch itself was accepted, so the key is right: a refused
   * signature is a stale x-ms-date (the batch was sent again after a
   * clock correction). The call fails, retryable: the host sends the keys
   * not reported in a batch dated anew. */
  if (code == STORE_E_AUTH) {
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
  az_batch *b = ctx;
  az_target t = {"delete batch", b->container, NULL, NULL};

  if (resp)
    return az_fail_response(&t, resp, err);
  return az_fail(&t, err, code, "%s", msg);
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

/* One Blob Batch POST of body. */
static int32_t send_batch(void *ctx, const sdk_buf *body,
                          const char *content_type, sdk_mixed_reader *rd,
                          store_error *err)
{
  az_batch *b = ctx;
  az_target bt = {"delete batch", b->container, NULL, NULL};
  sdk_request *r = NULL;
  int32_t rc;

  if (account_sas(b->h->sas)) {
    az_target at = {bt.op, NULL, NULL, NULL};
    rc = az_request(b->h, &at, "POST", "comp=batch", &r, err);
  } else {
    rc = az_request(b->h, &bt, "POST", "restype=container&comp=batch", &r,
                    err);
  }
  if (!rc)
    rc = az_header(&bt, r, "Content-Type", content_type, err);
  if (rc)
    goto out;
  sdk_request_body_mem(r, body->data, body->len);
  sdk_batch_attach(r, rd);
  rc = az_perform(b->h, &bt, r, NULL, err);
  if (rc && !(rc == STORE_E_ABORTED && rd->failed) && err && no_batch(err)) {
    char code[STORE_ERR_CODE_SIZE];
    snprintf(code, sizeof(code), "%s", err->provider_code);
    rc = az_fail(&bt, err, STORE_E_UNSUPPORTED, "the service refuses "
                 "Blob Batch (HTTP %d%s%s): deleting one by one",
                 (int)err->http_status, *code ? " " : "", code);
  }
out:
  sdk_request_free(r);
  return rc;
}

static const sdk_batch_ops az_batch_ops = {
  AZ_BATCH_MAX, "batch_", sub_request, send_batch, classify, fail,
};

int32_t az_blob_delete_batch(store_handle *h, const char *container,
                             const char *const *keys, size_t n,
                             store_batch_fn fn, void *ctx, store_error *err)
{
  az_batch ab = {h, container, keys};
  int32_t rc = STORE_OK;

  for (size_t i = 0; !rc && i < n; i++) {
    az_target t = {"delete", container, keys[i], NULL};
    rc = az_check_key(&t, err);
  }
  if (rc)
    return rc;
  return sdk_batch_run(&az_batch_ops, &ab, keys, n, fn, ctx, err);
}
