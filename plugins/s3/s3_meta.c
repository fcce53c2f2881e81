/*
** s3_meta.c -- an object's properties: user metadata and content types
** checked on their way out (x-amz-meta-* headers S3 keeps as given), and
** read back from HeadObject / GetObject response headers (size,
** Last-Modified, ETag, Content-Type, version id, x-amz-meta-*, the
** full-object x-amz-checksum-crc32c).
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

int s3_etag_md5(const char *etag, char out[33])
{
  size_t n, i;

  if (!etag)
    return -1;
  if (*etag == '"')
    etag++;
  n = strcspn(etag, "\"");
  if (n != 32)
    return -1;
  for (i = 0; i < 32; i++) {
    char ch = etag[i];
    if (ch >= 'A' && ch <= 'F')
      ch = (char)(ch - 'A' + 'a');
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
      return -1;
    out[i] = ch;
  }
  out[32] = '\0';
  return 0;
}

/* The ETag of an object put whole is the MD5 of its bytes, but for
 * server-side encryption with KMS or a customer key (a multipart object's
 * has a "-N": no MD5). */
int s3_resp_md5(const sdk_response *resp, char out[33])
{
  const char *v = sdk_response_header(resp, "x-amz-server-side-encryption");

  if ((v && !strncmp(v, "aws:kms", 7)) ||
      sdk_response_header(resp,
                          "x-amz-server-side-encryption-customer-algorithm"))
    return -1;
  return s3_etag_md5(sdk_response_header(resp, "ETag"), out);
}

int32_t s3_props_from_headers(const sdk_response *resp, const char *key,
                              s3_props *p, store_error *err)
{
  const char *v;

  memset(p, 0, sizeof(*p));
  p->e.struct_size = sizeof(p->e);
  p->e.name = key;
  p->e.size = sdk_response_total_size(resp);
  v = sdk_response_header(resp, "Last-Modified");
  p->e.mtime_ns = v ? sdk_time_parse_http(v) : STORE_MTIME_UNKNOWN;
  p->e.etag = sdk_response_header(resp, "ETag");
  if (s3_resp_md5(resp, p->md5) == 0)
    p->e.content_md5 = p->md5;
  if (s3_resp_crc32c(resp, &p->e.crc32c) == 0)
    p->e.checksums |= STORE_CKSUM_CRC32C;
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

/* Metadata travels as x-amz-meta-NAME headers: names are tokens, values
 * printable ASCII (what S3 keeps unencoded). */
int32_t s3_check_meta(const char *what, const char *content_type,
                      const store_kv *md, size_t n, store_error *err)
{
  if (content_type && strpbrk(content_type, "\r\n"))
    return store_error_set(err, STORE_E_INVALID, "s3: %s: content type has "
                           "a line break", what);
  for (size_t i = 0; i < n; i++) {
    const char *k = md[i].key, *v = md[i].value ? md[i].value : "";
    if (!k || !*k)
      return store_error_set(err, STORE_E_INVALID, "s3: %s: empty metadata "
                             "name", what);
    if (!sdk_http_is_token(k))
      return store_error_set(err, STORE_E_INVALID, "s3: %s: metadata name "
                             "'%.64s' is not an HTTP token (letters, "
                             "digits, -_.!#$%%&'*+^`|~)", what, k);
    if (!sdk_meta_value_ok(v, 0))
      return store_error_set(err, STORE_E_INVALID, "s3: %s: metadata "
                             "'%.64s' has a value that is not printable "
                             "ASCII (S3 keeps only that)", what, k);
  }
  return STORE_OK;
}
