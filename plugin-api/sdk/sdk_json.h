/*
** sdk_json.h -- small helpers over jansson for the JSON providers (GCS,
** OCI): a response body parsed as an object with a message that names it,
** members read the way Google-style APIs send them (64-bit integers as
** decimal strings), and compact serialisation into an sdk_buf. The json_t
** values are jansson's own: use its API for anything else.
*/
#ifndef SDK_JSON_H
#define SDK_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store_interface.h"
#include "sdk_buf.h"

/* Parse text[0..len) as a JSON object. On success *out is a new reference
 * (json_decref); on failure it is NULL and err says, with `code`, that
 * `what` (e.g. "bucket 'b': the service's answer") is not a JSON object,
 * quoting jansson's line and column. */
int sdk_json_parse_object(const char *text, size_t len, const char *what,
                          int32_t code, json_t **out, store_error *err);

/* The string member `key` of obj, or NULL when obj is not an object, or
 * the member is absent or not a string. Borrowed from obj. */
const char *sdk_json_str(const json_t *obj, const char *key);

/* The integer member `key` of obj, sent either as a JSON integer or as a
 * decimal string (as Google sends int64 and uint64 fields). 0 with *out
 * set, or -1 when it is absent or neither (*out unchanged). */
int sdk_json_int64(const json_t *obj, const char *key, int64_t *out);
/* The same for unsigned values up to UINT64_MAX. */
int sdk_json_uint64(const json_t *obj, const char *key, uint64_t *out);

/* Append the compact serialisation of v (keys in insertion order, no
 * spaces) to out. 0, or -1 when memory runs out (out unchanged). */
int sdk_json_dump(const json_t *v, sdk_buf *out);

/* Set obj[key] to the string s (copied; "" for NULL). 0, or -1 when
 * memory runs out or s is not UTF-8. */
int sdk_json_set_str(json_t *obj, const char *key, const char *s);

#endif /* SDK_JSON_H */
