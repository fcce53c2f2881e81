/*
** sdk_meta.h -- user metadata carried in prefixed HTTP headers
** (x-amz-meta-NAME, x-ms-meta-NAME, ...): collected from a response,
** written to a request, and the check a value needs to travel in a header.
** Which names a service takes is the provider's rule; sdk_http_is_token
** (sdk_http.h) is what HTTP itself allows.
*/
#ifndef SDK_META_H
#define SDK_META_H

#include <stddef.h>
#include <stdint.h>

#include "store_interface.h"
#include "sdk_http.h"

/* The headers of resp whose names start with prefix (compared without
 * regard to case), in response order, as metadata: key is the name after
 * the prefix, value the header's value, both borrowed from resp (valid
 * while it lives). *out is NULL when there is none, else an array the
 * caller frees with free(). 0, or -1 when memory runs out (*out NULL,
 * *nout 0). */
int sdk_meta_from_headers(const sdk_response *resp, const char *prefix,
                          store_kv **out, size_t *nout);

/* Set one header PREFIX+KEY per entry of md[0..n) on r, with the entry's
 * value (NULL is sent as ""). Keys must not be NULL: check the entries
 * first. 0, or -1 when memory runs out (the entries before stay set). */
int sdk_meta_to_headers(sdk_request *r, const char *prefix,
                        const store_kv *md, size_t n);

/* sdk_meta_value_ok flags: a tab is allowed too. */
#define SDK_META_ALLOW_TAB (1u << 0)

/* Non-zero when every byte of s is printable ASCII (0x20..0x7e), or a tab
 * with SDK_META_ALLOW_TAB: a value every service keeps as it was sent,
 * and nothing a header could be split or smuggled with. "" is fine. */
int sdk_meta_value_ok(const char *s, uint32_t flags);

#endif /* SDK_META_H */
