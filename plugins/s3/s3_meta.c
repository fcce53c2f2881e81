/*
** s3_entry.c -- an object's properties from HeadObject / GetObject
** response headers: size, Last-Modified, ETag, Content-Type, version id
** and the x-amz-meta-* user metadata.
*/
#include <stdlib.h>
#include <string.h>

#include "s3.h"
#include "sdk_meta.h"
#include "sdk_util.h"

/* A version id a snapshot can be: unversioned objects report none, or
 * "null" (versioning suspended). */
int s3_version_is_real(const char *v)
{
  return v && *v && strcmp(v, "null");
}

/* The object's full size: the total of a Content-Range ("bytes 0-9/1000"),
 * else the Content-Length. */
static uint64_t object_size(const sdk_response *resp)
{
  const char *v = sdk_response_header(resp, "Content-Range");
  const char *slash = v ? strrchr(v, '/') : NULL;

  if (slash && slash[1] != '*')
    return strtoull(slash + 1, NULL, 10);
  v = sdk_response_header(resp, "Content-Length");
  return v ? strtoull(v, NULL, 10) : 0;
}

int32_t s3_props_from_headers(const sdk_response *resp, const char *key,
                              s3_props *p, store_error *err)
{
  const char *v;

  memset(p, 0, sizeof(*p));
  p->e.struct_size = sizeof(p->e);
  p->e.name = key;
  p->e.size = object_size(resp);
  v = sdk_response_header(resp, "Last-Modified");
  p->e.mtime_ns = v ? sdk_time_parse_http(v) : STORE_MTIME_UNKNOWN;
  p->e.etag = sdk_response_header(resp, "ETag");
  p->e.content_type = sdk_response_header(resp, "Content-Type");
  p->version_id = sdk_response_header(resp, "x-amz-version-id");
  if (sdk_meta_from_headers(resp, S3_META_PREFIX, &p->md, &p->nmd))
    return store_error_set(err, STORE_E_NOMEM, "s3: out of memory");
  p->e.metadata = p->md;
  p->e.nmetadata = p->nmd;
  return STORE_OK;
}

void s3_props_free(s3_props *p)
{
  free(p->md);
  p->md = NULL;
  p->nmd = 0;
}
