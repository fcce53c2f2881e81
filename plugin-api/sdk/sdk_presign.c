/*
** sdk_presign.c -- what every blob_presign shares (sdk_presign.h).
*/
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "sdk_presign.h"

void sdk_presign_read(const store_presign_opts *opts, sdk_presign_req *out)
{
  out->method = STORE_OPT(opts, store_presign_opts, method, 0);
  out->expires = STORE_OPT(opts, store_presign_opts, expires_s, 0);
  out->verb = out->method == STORE_PRESIGN_PUT ? "PUT" : "GET";
  out->content_type =
    out->method == STORE_PRESIGN_PUT
      ? STORE_OPT(opts, store_presign_opts, content_type, NULL)
      : NULL;
}

int32_t sdk_presign_finish(const sdk_buf *url, char *out_url, size_t cap,
                           int64_t expires_at, const char *content_type,
                           store_presign_result *out, char *why,
                           size_t whycap)
{
  int has_headers = out && STORE_HAS_FIELD(store_presign_result, headers,
                                           out->struct_size);
  int n = 0;

  if (url->len >= cap) {
    snprintf(why, whycap, "the URL (%zu bytes) does not fit in %zu",
             url->len, cap);
    return STORE_E_INVALID;
  }
  if (content_type && has_headers) {
    n = snprintf(out->headers, sizeof(out->headers), "Content-Type: %s\n",
                 content_type);
    /* The host refuses such a type first; a cut header line would make
     * every upload through the URL fail. */
    if (n < 0 || (size_t)n >= sizeof(out->headers)) {
      out->headers[0] = '\0';
      snprintf(why, whycap, "the Content-Type does not fit in %zu bytes",
               sizeof(out->headers));
      return STORE_E_INVALID;
    }
  }
  memcpy(out_url, url->data ? url->data : "", url->len + 1);
  if (out && STORE_HAS_FIELD(store_presign_result, expires_at,
                             out->struct_size))
    out->expires_at = expires_at;
  return STORE_OK;
}

void sdk_presign_wipe(sdk_buf *b)
{
  if (b->data)
    OPENSSL_cleanse(b->data, b->cap);
  sdk_buf_free(b);
}
