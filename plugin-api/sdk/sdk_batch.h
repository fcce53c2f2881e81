/*
** sdk_batch.h -- a blob_delete_batch over multipart/mixed batch requests
** (sdk_mixed.h), the machinery Azure's Blob Batch and GCS's batch endpoint
** share: the keys in windows of at most `window` sub-requests, each
** window one POST whose answer is read as it arrives; each part matched to
** its key by Content-ID, each key reported once through the host's
** store_batch_fn; a key the answer leaves out (or whose part is a passing
** failure) stays unreported and the call fails retryable, so the host
** sends only those again.
**
** The plugin supplies the provider's parts: the sub-request of a key, the
** POST itself, and what a part's answer means for its key.
*/
#ifndef SDK_BATCH_H
#define SDK_BATCH_H

#include <stddef.h>

#include "store_interface.h"
#include "sdk_buf.h"
#include "sdk_http.h"
#include "sdk_mixed.h"

/* What a part says about its key (sdk_batch_classify_fn). */
#define SDK_BATCH_DONE    0  /* deleted, or already gone                */
#define SDK_BATCH_FAILED  1  /* that key's own failure (in *kerr); one
                                marked retryable (408, 429, 5xx) is left
                                unreported for the host's retry        */
#define SDK_BATCH_ABORT   2  /* the whole call fails with *kerr as it is */

/* The sub-request deleting keys[i]; *out owned by the caller, NULL on
 * failure (err set). */
typedef int32_t (*sdk_batch_request_fn)(void *ctx, size_t i,
                                        sdk_request **out, store_error *err);

/* Send one window: a POST of body with Content-Type content_type, rd
 * attached to it (sdk_batch_attach) before the perform. Returns the
 * perform's code: a refusal of the POST itself already in err, named and
 * classified by the plugin (STORE_E_UNSUPPORTED when the service has no
 * batches). */
typedef int32_t (*sdk_batch_send_fn)(void *ctx, const sdk_buf *body,
                                     const char *content_type,
                                     sdk_mixed_reader *rd, store_error *err);

/* The meaning of keys[i]'s part, resp its embedded response as a single
 * request's would be (an SDK_BATCH_ value); *kerr is a zeroed error to
 * fill for SDK_BATCH_FAILED and SDK_BATCH_ABORT. */
typedef int (*sdk_batch_classify_fn)(void *ctx, size_t i,
                                     const sdk_response *resp,
                                     store_error *kerr);

/* The call's error into err with the call named the plugin's way; its
 * code returned. resp non-NULL: the embedded response of a part of no key,
 * not 2xx (how services refuse a malformed batch as a whole), mapped as a
 * single request's; else code and msg. */
typedef int32_t (*sdk_batch_fail_fn)(void *ctx, const sdk_response *resp,
                                     int32_t code, const char *msg,
                                     store_error *err);

/* A provider's batches: constant, one per plugin. */
typedef struct sdk_batch_ops {
  size_t window;                /* sub-requests per POST (service limit)  */
  const char *boundary_prefix;  /* sdk_mixed_boundary's prefix            */
  sdk_batch_request_fn request_fn;
  sdk_batch_send_fn send_fn;
  sdk_batch_classify_fn classify_fn;
  sdk_batch_fail_fn fail_fn;
} sdk_batch_ops;

/* Delete keys[0..n) in windows, each key reported through fn (the
 * host's, with fn_ctx) at most once; ctx is the ops' callbacks'. STORE_OK
 * when every key was reported; else the call's failure into err (the keys
 * not reported are the host's to send again or one by one): a window the
 * answer left keys out of is STORE_E_INTERNAL, retryable; fn asking to
 * stop is STORE_E_ABORTED. */
int32_t sdk_batch_run(const sdk_batch_ops *ops, void *ctx,
                      const char *const *keys, size_t n, store_batch_fn fn,
                      void *fn_ctx, store_error *err);

/* In a send_fn: make the POST r's answer go through rd to the window's
 * parts. */
void sdk_batch_attach(sdk_request *r, sdk_mixed_reader *rd);

#endif /* SDK_BATCH_H */
