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

/* X-Amz-Expires may not exceed 7 days. */
#define S3_PRESIGN_MAX 604800u

/* The Host header value of url (the scheme's default port dropped, as
 * curl sends it) and its path, decoded, for the signer. -1 on memory. */
static int url_host_path(const char *url, sdk_buf *host, sdk_buf *path)
{
  const char *auth = strstr(url, "://"), *end;
  size_t n;

  if (!auth)
    return -1;
  auth += 3;
  end = auth + strcspn(auth, "/?");
  n = (size_t)(end - auth);
  if (!strncmp(url, "https", 5) && n > 4 && !strncmp(end - 4, ":443", 4))
    n -= 4;
  else if (!strncmp(url, "http:", 5) && n > 3 && !strncmp(end - 3, ":80", 3))
    n -= 3;
  if (sdk_buf_append(host, auth, n))
    return -1;
  return sdk_uri_decode(path, end, strcspn(end, "?"), 0);
}

int32_t s3_blob_presign(store_handle *h, const char *container,
                        const char *key, const store_presign_opts *opts,
                        char *out_url, size_t cap, store_presign_result *out,
                        store_error *err)
{
  uint32_t method = STORE_OPT(opts, store_presign_opts, method, 0);
  uint32_t expires = STORE_OPT(opts, store_presign_opts, expires_s, 0);
  const char *ctype = STORE_OPT(opts, store_presign_opts, content_type, NULL);
  const char *verb = method == STORE_PRESIGN_PUT ? "PUT" : "GET";
  sdk_sigv4_result res = SDK_SIGV4_RESULT_INIT;
  sdk_buf host = SDK_BUF_INIT, path = SDK_BUF_INIT, url = SDK_BUF_INIT;
  sdk_sigv4_msg m = {0};
  store_kv hdrs[2];
  s3_call c;
  time_t now;
  int32_t rc;

  rc = s3_check_names(container, key, err);
  if (rc)
    return rc;
  rc = s3_call_init(&c, h, method == STORE_PRESIGN_PUT ? "PresignPutObject"
                                                       : "PresignGetObject",
                    verb, container, key, err);
  if (rc)
    return rc;
  if (!h->signer) {
    rc = s3_fail_msg(&c, err, STORE_E_UNSUPPORTED,
                     "anonymous access has no keys to sign a URL with "
                     "(set access-key and secret-key)");
    goto out;
  }
  if (expires < 1 || expires > S3_PRESIGN_MAX) {
    rc = s3_fail_msg(&c, err, STORE_E_INVALID,
                     "a presigned URL lives 1 second to 7 days, not %u "
                     "seconds", expires);
    goto out;
  }
  if (url_host_path(sdk_request_url(c.req), &host, &path)) {
    rc = s3_fail_msg(&c, err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
  hdrs[0] = (store_kv){"host", host.data};
  m.nheaders = 1;
  if (method == STORE_PRESIGN_PUT && ctype)
    hdrs[m.nheaders++] = (store_kv){"content-type", ctype};
  m.method = verb;
  m.path = path.data;
  m.headers = hdrs;
  m.payload_hash = SDK_SIGV4_UNSIGNED_PAYLOAD;
  /* The server's clock, as every signed request of this handle uses. */
  now = time(NULL) + (time_t)atomic_load(&h->clock_offset);
  if (sdk_sigv4_presign(h->signer, &m, now, expires, 0, &res) ||
      sdk_buf_printf(&url, "%s?%s", sdk_request_url(c.req),
                     sdk_buf_str(&res.query))) {
    rc = s3_fail_msg(&c, err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
  if (url.len >= cap) {
    rc = s3_fail_msg(&c, err, STORE_E_INVALID,
                     "the URL (%zu bytes) does not fit in %zu", url.len, cap);
    goto out;
  }
  memcpy(out_url, url.data, url.len + 1);
  if (out && STORE_HAS_FIELD(store_presign_result, expires_at,
                             out->struct_size))
    out->expires_at = (int64_t)now + expires;
  if (out && ctype && method == STORE_PRESIGN_PUT &&
      STORE_HAS_FIELD(store_presign_result, headers, out->struct_size))
    snprintf(out->headers, sizeof(out->headers), "Content-Type: %s\n", ctype);
out:
  sdk_sigv4_result_free(&res);
  sdk_buf_free(&host);
  sdk_buf_free(&path);
  sdk_buf_free(&url);
  s3_call_free(&c);
  return rc;
}
