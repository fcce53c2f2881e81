/*
** sdk_json.c -- see sdk_json.h.
*/
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sdk_json.h"

int sdk_json_parse_object(const char *text, size_t len, const char *what,
                          int32_t code, json_t **out, store_error *err)
{
  json_error_t je;
  json_t *v;

  *out = NULL;
  v = json_loadb(text ? text : "", text ? len : 0, JSON_REJECT_DUPLICATES,
                 &je);
  if (!v)
    return store_error_set(err, code,
                           "%s is not JSON (line %d, column %d: %.80s)", what,
                           je.line, je.column, je.text);
  if (!json_is_object(v)) {
    json_decref(v);
    return store_error_set(err, code, "%s is JSON but not an object", what);
  }
  *out = v;
  return STORE_OK;
}

const char *sdk_json_str(const json_t *obj, const char *key)
{
  return json_string_value(json_object_get(obj, key));
}

/* A decimal string with an optional '-' into *neg and *mag: 0, or -1. */
static int parse_decimal(const char *s, int *neg, uint64_t *mag)
{
  char *end;

  *neg = *s == '-';
  if (*neg)
    s++;
  if (*s < '0' || *s > '9')
    return -1;
  errno = 0;
  *mag = strtoull(s, &end, 10);
  return errno || *end ? -1 : 0;
}

int sdk_json_int64(const json_t *obj, const char *key, int64_t *out)
{
  const json_t *v = json_object_get(obj, key);
  uint64_t mag;
  int neg;

  if (json_is_integer(v)) {
    *out = (int64_t)json_integer_value(v);
    return 0;
  }
  if (!json_is_string(v) || parse_decimal(json_string_value(v), &neg, &mag))
    return -1;
  if (neg ? mag > (uint64_t)INT64_MAX + 1 : mag > (uint64_t)INT64_MAX)
    return -1;
  *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
  return 0;
}

int sdk_json_uint64(const json_t *obj, const char *key, uint64_t *out)
{
  const json_t *v = json_object_get(obj, key);
  uint64_t mag;
  int neg;

  if (json_is_integer(v)) {
    if (json_integer_value(v) < 0)
      return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
  }
  if (!json_is_string(v) || parse_decimal(json_string_value(v), &neg, &mag) ||
      neg)
    return -1;
  *out = mag;
  return 0;
}

/* jansson's dump callback: append to the sdk_buf. */
static int dump_cb(const char *buf, size_t n, void *ud)
{
  return sdk_buf_append(ud, buf, n);
}

int sdk_json_dump(const json_t *v, sdk_buf *out)
{
  size_t before = out->len;

  if (json_dump_callback(v, dump_cb, out, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                            JSON_ENCODE_ANY)) {
    sdk_buf_truncate(out, before);
    return -1;
  }
  /* An empty object dumps nothing into a fresh buffer: still a string. */
  return sdk_buf_append(out, "", 0);
}

int sdk_json_set_str(json_t *obj, const char *key, const char *s)
{
  return json_object_set_new(obj, key, json_string(s ? s : ""));
}
