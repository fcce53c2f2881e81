/*
** gcs_meta.c -- object resources: read into entries (size and
** generation as the decimal strings Google sends, md5Hash and crc32c in
** base64, the user `metadata` map), written for uploads and composes;
** x-goog-hash of downloads; put results and conditions.
**
** The entry's etag is the object's generation: what if_match compares
** (an ifGenerationMatch precondition), and what changes exactly when the
** bytes do (a metadata patch changes GCS's own etag, not the content).
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcs.h"

void gcs_obj_init(gcs_obj *o)
{
  memset(o, 0, sizeof(*o));
  o->e.struct_size = sizeof(o->e);
  o->e.mtime_ns = STORE_MTIME_UNKNOWN;
}

void gcs_obj_free(gcs_obj *o)
{
  free(o->md);
  o->md = NULL;
  o->nmd = 0;
}

/* The user metadata map, without the reserved snapshot mark. */
static int32_t read_metadata(const gcs_target *t, const json_t *map,
                             gcs_obj *o, store_error *err)
{
  const char *k;
  json_t *v;

  if (!json_is_object(map) || !json_object_size(map))
    return STORE_OK;
  o->md = calloc(json_object_size(map), sizeof(*o->md));
  if (!o->md)
    return gcs_nomem(t, err);
  json_object_foreach((json_t *)map, k, v)
  {
    if (!strcmp(k, GCS_SNAPSHOT_META)) {
      o->snapshot_mark = 1;
      continue;
    }
    if (!json_is_string(v))
      continue;
    o->md[o->nmd].key = k;
    o->md[o->nmd].value = json_string_value(v);
    o->nmd++;
  }
  o->e.metadata = o->md;
  o->e.nmetadata = o->nmd;
  return STORE_OK;
}

int32_t gcs_obj_read(const gcs_target *t, const json_t *res, gcs_obj *o,
                     store_error *err)
{
  const char *v;
  sdk_buf md5 = SDK_BUF_INIT;

  gcs_obj_init(o);
  o->e.name = sdk_json_str(res, "name");
  if (!o->e.name || sdk_json_uint64(res, "size", &o->e.size))
    return gcs_fail(t, err, STORE_E_INTERNAL,
                    "the service's object resource has no name or size");
  if ((v = sdk_json_str(res, "updated")))
    o->e.mtime_ns = sdk_time_parse_iso8601(v);
  o->generation = sdk_json_str(res, "generation");
  o->e.etag = o->generation;
  if (sdk_json_int64(res, "metageneration", &o->metageneration))
    o->metageneration = 0;
  o->e.content_type = sdk_json_str(res, "contentType");
  if ((v = sdk_json_str(res, "md5Hash")) &&
      !sdk_base64_decode(&md5, v, strlen(v)) && md5.len == 16) {
    sdk_hex(md5.data, 16, o->md5);
    o->e.content_md5 = o->md5;
  }
  sdk_buf_free(&md5);
  if ((v = sdk_json_str(res, "crc32c")) && !sdk_crc32c_parse(v, &o->e.crc32c))
    o->e.checksums |= STORE_CKSUM_CRC32C;
  o->noncurrent = json_object_get(res, "timeDeleted") != NULL;
  return read_metadata(t, json_object_get(res, "metadata"), o, err);
}

/* x-goog-hash: "crc32c=B64,md5=B64", or one header per hash. */
uint32_t gcs_goog_hash(const sdk_response *resp, uint32_t *crc,
                       unsigned char md5[16])
{
  uint32_t got = 0;

  for (size_t i = 0; i < sdk_response_header_count(resp); i++) {
    const char *v = sdk_response_header_value(resp, i);
    if (strcasecmp(sdk_response_header_name(resp, i), "x-goog-hash"))
      continue;
    while (v && *v) {
      size_t n = strcspn(v, ",");
      char item[64];
      snprintf(item, sizeof(item), "%.*s", (int)n, v);
      char *p = item + strspn(item, " ");
      if (!strncmp(p, "crc32c=", 7) && !sdk_crc32c_parse(p + 7, crc))
        got |= STORE_CKSUM_CRC32C;
      if (!strncmp(p, "md5=", 4)) {
        sdk_buf b = SDK_BUF_INIT;
        if (!sdk_base64_decode(&b, p + 4, strlen(p + 4)) && b.len == 16) {
          memcpy(md5, b.data, 16);
          got |= STORE_CKSUM_MD5;
        }
        sdk_buf_free(&b);
      }
      v += n;
      if (*v == ',')
        v++;
    }
  }
  return got;
}

int32_t gcs_meta_check(const gcs_target *t, const store_kv *md, size_t n,
                       store_error *err)
{
  for (size_t i = 0; i < n; i++) {
    if (!md[i].key || !*md[i].key)
      return gcs_fail(t, err, STORE_E_INVALID, "metadata entry %zu has an "
                      "empty name", i);
    if (!strcmp(md[i].key, GCS_SNAPSHOT_META))
      return gcs_fail(t, err, STORE_E_INVALID, "metadata name '%s' is "
                      "reserved by xtstore", GCS_SNAPSHOT_META);
  }
  return STORE_OK;
}

int32_t gcs_resource_json(const gcs_target *t, const char *name,
                          const char *ct, const store_kv *md, size_t nmd,
                          uint32_t cksums, uint32_t crc,
                          const unsigned char *md5, json_t **out,
                          store_error *err)
{
  json_t *o = json_object(), *m = NULL;
  sdk_buf b = SDK_BUF_INIT;
  int bad = !o;

  *out = NULL;
  if (!bad && name)
    bad = sdk_json_set_str(o, "name", name);
  if (!bad)
    bad = sdk_json_set_str(o, "contentType", ct ? ct : GCS_DEFAULT_CT);
  if (!bad && nmd) {
    bad = !(m = json_object()) || json_object_set_new(o, "metadata", m);
    for (size_t i = 0; !bad && i < nmd; i++)
      bad = sdk_json_set_str(m, md[i].key, md[i].value);
  }
  if (!bad && (cksums & STORE_CKSUM_CRC32C))
    bad = sdk_crc32c_base64(crc, &b) || sdk_json_set_str(o, "crc32c", b.data);
  sdk_buf_reset(&b);
  if (!bad && (cksums & STORE_CKSUM_MD5))
    bad = sdk_base64_encode(&b, md5, 16) ||
          sdk_json_set_str(o, "md5Hash", b.data);
  sdk_buf_free(&b);
  if (bad) {
    json_decref(o);
    /* jansson refuses names and values that are not UTF-8 */
    return gcs_fail(t, err, STORE_E_INVALID, "the content type or a "
                    "metadata name or value is not UTF-8 (or out of "
                    "memory)");
  }
  *out = o;
  return STORE_OK;
}

int32_t gcs_obj_get(store_handle *h, const gcs_target *t, json_t **out,
                    gcs_obj *o, store_error *err)
{
  sdk_buf url = SDK_BUF_INIT;
  int32_t rc;

  *out = NULL;
  rc = gcs_url(h, t, GCS_API, &url, err);
  if (!rc)
    rc = gcs_query_generation(t, &url, err);
  if (!rc)
    rc = gcs_json(h, t, "GET", url.data, NULL, out, err);
  if (!rc) {
    rc = gcs_obj_read(t, *out, o, err);
    if (rc) {
      json_decref(*out);
      *out = NULL;
    }
  }
  /* A generation asked for by id is a snapshot. */
  if (!rc && t->generation) {
    o->e.flags |= STORE_ENTRY_SNAPSHOT;
    o->e.snapshot_id = t->generation;
  }
  sdk_buf_free(&url);
  return rc;
}

int32_t gcs_obj_check(const gcs_target *t, const gcs_obj *o, uint64_t size,
                      uint32_t crc, const char *what, store_error *err)
{
  int32_t rc;

  if (o->e.size != size)
    return gcs_fail(t, err, STORE_E_IO, "the service stored %" PRIu64
                    " bytes, %s are %" PRIu64, o->e.size, what, size);
  if ((o->e.checksums & STORE_CKSUM_CRC32C) && o->e.crc32c != crc) {
    rc = gcs_fail(t, err, STORE_E_IO, "the service stored CRC-32C %08" PRIx32
                  ", %s (%" PRIu64 " bytes) have %08" PRIx32,
                  o->e.crc32c, what, size, crc);
    if (err)
      err->flags |= STORE_ERR_RETRYABLE;
    return rc;
  }
  return STORE_OK;
}

int32_t gcs_put_result(const gcs_target *t, const gcs_obj *o,
                       uint64_t sent_size, uint32_t sent_crc,
                       store_put_result *out, store_error *err)
{
  int32_t rc = gcs_obj_check(t, o, sent_size, sent_crc, "the bytes sent",
                             err);

  if (rc || !out)
    return rc;
  if (STORE_HAS_FIELD(store_put_result, size, out->struct_size))
    out->size = o->e.size;
  if (STORE_HAS_FIELD(store_put_result, version_id, out->struct_size)) {
    snprintf(out->etag, sizeof(out->etag), "%s",
             o->generation ? o->generation : "");
    snprintf(out->version_id, sizeof(out->version_id), "%s",
             o->generation ? o->generation : "");
  }
  if (STORE_HAS_FIELD(store_put_result, md5, out->struct_size)) {
    if (o->e.checksums & STORE_CKSUM_CRC32C) {
      out->crc32c = o->e.crc32c;
      out->checksums |= STORE_CKSUM_CRC32C;
    }
    if (o->e.content_md5 && !sdk_unhex(o->e.content_md5, out->md5, 16))
      out->checksums |= STORE_CKSUM_MD5;
  }
  return STORE_OK;
}

int32_t gcs_query_conditions(const gcs_target *t, sdk_buf *url,
                             uint32_t flags, const char *if_match,
                             store_error *err)
{
  if (flags & STORE_PUT_IF_NONE_MATCH)
    return gcs_query(t, url, "ifGenerationMatch", "0", err);
  if (!if_match)
    return STORE_OK;
  if (!*if_match || strspn(if_match, "0123456789") != strlen(if_match))
    return gcs_fail(t, err, STORE_E_PRECONDITION, "etag '%.64s' is not a "
                    "generation of a GCS object: condition not met",
                    if_match);
  return gcs_query(t, url, "ifGenerationMatch", if_match, err);
}

int32_t gcs_put_condition(const gcs_target *t, uint32_t flags, int32_t rc,
                          store_error *err)
{
  if (rc != STORE_E_PRECONDITION || !(flags & STORE_PUT_IF_NONE_MATCH))
    return rc;
  gcs_fail(t, err, STORE_E_EXISTS, "already exists (fail-if-exists put)");
  if (err)
    err->flags &= ~STORE_ERR_RETRYABLE;
  return STORE_E_EXISTS;
}

int32_t gcs_retry_race(int32_t rc, store_error *err)
{
  if (rc == STORE_E_PRECONDITION && err)
    err->flags |= STORE_ERR_RETRYABLE;
  return rc;
}
