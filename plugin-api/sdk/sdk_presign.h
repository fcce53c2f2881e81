/*
** sdk_presign.h -- what every blob_presign shares: its options read, the
** URL into the caller's buffer, the expiry and the Content-Type line into
** store_presign_result, and wiping the URL's scratch copies (a presigned
** URL is a credential). Part of the xtstore plugin SDK.
*/
#ifndef SDK_PRESIGN_H
#define SDK_PRESIGN_H

#include <stddef.h>
#include <stdint.h>

#include "store_interface.h"
#include "sdk_buf.h"

/* What blob_presign is asked for, read from opts whatever its size. */
typedef struct sdk_presign_req {
  uint32_t method;              /* STORE_PRESIGN_GET or _PUT              */
  uint32_t expires;             /* seconds                                */
  const char *verb;             /* "GET" or "PUT"                         */
  const char *content_type;     /* a PUT's type to bind; NULL: none (and
                                   always for a GET)                      */
} sdk_presign_req;

void sdk_presign_read(const store_presign_opts *opts, sdk_presign_req *out);

/* Copy url (with its NUL) into out_url[0..cap), and into out (may be NULL;
 * each field only when out's struct_size has it) expires_at and, when
 * content_type is not NULL, the line "Content-Type: TYPE\n" the upload
 * must send. STORE_OK, or STORE_E_INVALID when the URL or the line does
 * not fit, with the cause in why[0..whycap) for the provider's message
 * naming the blob (out_url is then left alone). */
int32_t sdk_presign_finish(const sdk_buf *url, char *out_url, size_t cap,
                           int64_t expires_at, const char *content_type,
                           store_presign_result *out, char *why,
                           size_t whycap);

/* Zero b's memory, then free it (sdk_buf_free). */
void sdk_presign_wipe(sdk_buf *b);

#endif /* SDK_PRESIGN_H */
