/*
** sdk_meta.c -- metadata in prefixed headers (sdk_meta.h).
*/
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sdk_buf.h"
#include "sdk_meta.h"

int sdk_meta_from_headers(const sdk_response *resp, const char *prefix,
                          store_kv **out, size_t *nout)
{
  size_t n = sdk_response_header_count(resp), plen = strlen(prefix), i, k = 0;
  store_kv *md;

  *out = NULL;
  *nout = 0;
  for (i = 0; i < n; i++)
    k += !strncasecmp(sdk_response_header_name(resp, i), prefix, plen);
  if (!k)
    return 0;
  md = calloc(k, sizeof(*md));
  if (!md)
    return -1;
  for (i = 0, k = 0; i < n; i++) {
    const char *name = sdk_response_header_name(resp, i);
    if (strncasecmp(name, prefix, plen))
      continue;
    md[k].key = name + plen;
    md[k++].value = sdk_response_header_value(resp, i);
  }
  *out = md;
  *nout = k;
  return 0;
}

int sdk_meta_to_headers(sdk_request *r, const char *prefix,
                        const store_kv *md, size_t n)
{
  sdk_buf name = SDK_BUF_INIT;
  int rc = 0;

  for (size_t i = 0; i < n && !rc; i++) {
    sdk_buf_reset(&name);
    rc = sdk_buf_puts(&name, prefix) || sdk_buf_puts(&name, md[i].key) ||
         sdk_request_set_header(r, name.data,
                                md[i].value ? md[i].value : "")
           ? -1
           : 0;
  }
  sdk_buf_free(&name);
  return rc;
}

int sdk_meta_value_ok(const char *s, uint32_t flags)
{
  for (; *s; s++)
    if (((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) &&
        !(*s == '\t' && (flags & SDK_META_ALLOW_TAB)))
      return 0;
  return 1;
}
