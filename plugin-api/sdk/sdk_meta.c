/*
** sdk_meta.c -- metadata in prefixed headers, and checking it against a
** service's rules (sdk_meta.h).
*/
#include <stdio.h>
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

int32_t sdk_meta_check(const sdk_meta_rules *rules, const char *content_type,
                       const store_kv *md, size_t n, char *why, size_t cap)
{
  int (*name_ok)(const char *) = rules->name_ok ? rules->name_ok
                                                : sdk_http_is_token;

  if (content_type && !sdk_meta_value_ok(content_type, SDK_META_ALLOW_TAB)) {
    snprintf(why, cap, "content type: only printable ASCII is allowed");
    return STORE_E_INVALID;
  }
  if (n && !md) {
    snprintf(why, cap, "metadata count without array");
    return STORE_E_INVALID;
  }
  for (size_t i = 0; i < n; i++) {
    if (rules->reserved && md[i].key &&
        !strcasecmp(md[i].key, rules->reserved)) {
      snprintf(why, cap, "metadata name '%.64s' is reserved: %s", md[i].key,
               rules->reserved_why);
      return STORE_E_INVALID;
    }
    if (!md[i].key || !name_ok(md[i].key)) {
      snprintf(why, cap, "metadata name '%.64s': %s",
               md[i].key ? md[i].key : "(null)", rules->name_rule);
      return STORE_E_INVALID;
    }
    if (!md[i].value || !sdk_meta_value_ok(md[i].value, SDK_META_ALLOW_TAB)) {
      snprintf(why, cap, "metadata '%.64s': the value must be printable "
               "ASCII (%s carries it in an HTTP header)", md[i].key,
               rules->service);
      return STORE_E_INVALID;
    }
    for (size_t j = 0; j < i; j++)
      if (!strcasecmp(md[i].key, md[j].key)) {
        snprintf(why, cap, "metadata names '%.64s' and '%.64s' differ only "
                 "in case, which %s does not keep apart", md[j].key,
                 md[i].key, rules->service);
        return STORE_E_INVALID;
      }
  }
  return STORE_OK;
}
