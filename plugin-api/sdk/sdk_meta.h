/*
** sdk_meta.h -- user metadata carried in prefixed HTTP headers
** (x-amz-meta-NAME, x-ms-meta-NAME, ...): collected from a response,
** written to a request, the check a value needs to travel in a header,
** and the whole check of a request's metadata against a service's rules.
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

/* A service's rules for the metadata of one request (sdk_meta_check). */
typedef struct sdk_meta_rules {
  const char *service;           /* "Azure": named in the messages        */
  int (*name_ok)(const char *s); /* NULL: sdk_http_is_token               */
  const char *name_rule;         /* what name_ok wants, for the message   */
  const char *reserved;          /* a name the provider keeps, or NULL    */
  const char *reserved_why;      /* "xtstore marks its snapshots with it" */
} sdk_meta_rules;

/*
** Check a request's content type (may be NULL) and metadata md[0..n)
** before anything is sent: the content type and every value printable
** ASCII or tab (sdk_meta_value_ok), every name non-NULL and taken by
** rules->name_ok, none equal to rules->reserved (without regard to case),
** and no two names that differ only in case (header names have none, so
** they would silently become one). STORE_OK, or STORE_E_INVALID with the
** cause in why[0..cap) ("metadata name 'x': ..."), naming the entry.
*/
int32_t sdk_meta_check(const sdk_meta_rules *rules, const char *content_type,
                       const store_kv *md, size_t n, char *why, size_t cap);

#endif /* SDK_META_H */
