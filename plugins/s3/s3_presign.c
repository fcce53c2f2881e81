/*
** s3_presign.c -- blob_presign: a presigned SigV4 URL (query
** authentication, UNSIGNED-PAYLOAD) for GetObject or PutObject, built on
** the URL s3_call_init makes (so addressing is the provider's) and signed
** by the SDK's signer. Nothing is sent: the URL is good for as long as the
** keys that signed it (a session token's URL dies with the token).
*/
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "s3.h"
#include "sdk_presign.h"

/* X-Amz-Expires may not exceed 7 days. */
#define S3_PRESIGN_MAX 604800u

/* out_url and out belong to the caller. The signed URL is built in a
 * scratch buffer of ours, wiped before it is freed: it is a credential. */
int32_t s3_blob_presign(store_handle *h, const char *container,
                        const char *key, const store_presign_opts *opts,
                        char *out_url, size_t cap, store_presign_result *out,
                        store_error *err)
{
  sdk_presign_req q;
  store_kv hdr;
  sdk_buf url = SDK_BUF_INIT;
  char why[96];
  s3_call c;
  time_t now;
  int32_t rc;

  sdk_presign_read(opts, &q);
  hdr = (store_kv){"content-type", q.content_type};
  rc = s3_check_names(container, key, err);
  if (rc)
    return rc;
  rc = s3_call_init(&c, h,
                    q.method == STORE_PRESIGN_PUT ? "PresignPutObject"
                                                  : "PresignGetObject",
                    q.verb, container, key, err);
  if (rc)
    return rc;
  if (!h->signer) {
    rc = s3_fail_msg(&c, err, STORE_E_UNSUPPORTED,
                     "anonymous access has no keys to sign a URL with "
                     "(set access-key and secret-key)");
    goto out;
  }
  if (q.expires < 1 || q.expires > S3_PRESIGN_MAX) {
    rc = s3_fail_msg(&c, err, STORE_E_INVALID,
                     "a presigned URL lives 1 second to 7 days, not %u "
                     "seconds", q.expires);
    goto out;
  }
  /* The server's clock, as every signed request of this handle uses. */
  now = time(NULL) + (time_t)atomic_load(&h->clock_offset);
  if (sdk_sigv4_presign_url(h->signer, q.verb, sdk_request_url(c.req),
                            &hdr, q.content_type ? 1 : 0, now, q.expires, 0,
                            &url)) {
    rc = s3_fail_msg(&c, err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
  rc = sdk_presign_finish(&url, out_url, cap, (int64_t)now + q.expires,
                          q.content_type, out, why, sizeof(why));
  if (rc)
    s3_fail_msg(&c, err, rc, "%s", why);
out:
  sdk_presign_wipe(&url);
  s3_call_free(&c);
  return rc;
}
