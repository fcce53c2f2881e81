/*
** oci_meta.c -- object and bucket properties: user metadata and content
** types on their way out (opc-meta-* headers, a JSON "metadata" object
** for buckets, multipart uploads and copies), checksums sent with a body,
** and entries and put results read back from responses.
**
** Checksums: every object body goes with opc-checksum-algorithm: CRC32C,
** so OCI computes and keeps the object's CRC-32C besides its MD5 and
** reports both (opc-content-crc32c, Content-MD5 / opc-content-md5); a
** CRC-32C or MD5 the host knew before sending goes along too
** (opc-content-crc32c, Content-MD5), so OCI refuses a body that does not
** match them.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "oci.h"
#include "sdk_meta.h"


int32_t oci_meta_check(const oci_target *t, const char *content_type,
                       const store_kv *md, size_t n, store_error *err)
{
  static const sdk_meta_rules rules = {
    "OCI", NULL,
    "an HTTP header name's characters only (letters, digits, "
    "-_.!#$%&'*+^`|~)",
    OCI_SNAP_MARK, "xtstore marks the copies its snapshots leave with it"};
  char why[STORE_ERR_MSG_SIZE];

  if (sdk_meta_check(&rules, content_type, md, n, why, sizeof(why)))
    return oci_fail(t, err, STORE_E_INVALID, "%s", why);
  return STORE_OK;
}

int32_t oci_meta_headers(const oci_target *t, sdk_request *r,
                         const store_kv *md, size_t n, store_error *err)
{
  return sdk_meta_to_headers(r, OCI_META_PREFIX, md, n) ? oci_nomem(t, err)
                                                    : STORE_OK;
}

/* {"PREFIXname": "value", ...} of checked entries (an object's metadata
 * in JSON goes as opc-meta-NAME; a bucket's as NAME); NULL on no memory. */
json_t *oci_meta_json(const char *prefix, const store_kv *md, size_t n)
{
  json_t *o = json_object();
  sdk_buf name = SDK_BUF_INIT;

  for (size_t i = 0; o && i < n; i++) {
    sdk_buf_reset(&name);
    if (sdk_buf_puts(&name, prefix) || sdk_buf_puts(&name, md[i].key) ||
        json_object_set_new(o, sdk_buf_str(&name), json_string(md[i].value))) {
      json_decref(o);
      o = NULL;
    }
  }
  sdk_buf_free(&name);
  return o;
}

/* A JSON "metadata" object (may be NULL) as the entry's metadata; the
 * strings stay the JSON's. */
int32_t oci_meta_from_json(const oci_target *t, json_t *obj, oci_props *p,
                           store_error *err)
{
  const char *k;
  json_t *v;
  size_t n = json_object_size(obj);

  p->nmd = 0;
  if (!n)
    return STORE_OK;
  p->md = calloc(n, sizeof(*p->md));
  if (!p->md)
    return oci_nomem(t, err);
  json_object_foreach(obj, k, v)
  {
    if (!json_is_string(v))
      continue;
    p->md[p->nmd].key = k;
    p->md[p->nmd++].value = json_string_value(v);
  }
  p->e.metadata = p->md;
  p->e.nmetadata = p->nmd;
  return STORE_OK;
}

/* Base64 of 16 bytes as 32 lowercase hex digits; "" for anything else (a
 * multipart object's "md5-N" of its parts' digests). */
void oci_md5_hex(const char *b64, char out[33])
{
  sdk_buf raw = SDK_BUF_INIT;

  out[0] = '\0';
  if (b64 && !sdk_base64_decode(&raw, b64, strlen(b64)) && raw.len == 16)
    sdk_hex(raw.data, 16, out);
  sdk_buf_free(&raw);
}

void oci_props_free(oci_props *p)
{
  free(p->md);
  memset(p, 0, sizeof(*p));
}

/* The entry of the target from a GetObject or HeadObject response (which
 * must outlive p); free with oci_props_free. */
int32_t oci_props_headers(const oci_target *t, const sdk_response *resp,
                          oci_props *p, store_error *err)
{
  const char *crc = sdk_response_header(resp, "opc-content-crc32c");
  const char *md5 = sdk_response_header(resp, "Content-MD5");
  int ranged = sdk_response_header(resp, "Content-Range") != NULL;
  size_t kept = 0;

  memset(p, 0, sizeof(*p));
  if (sdk_meta_from_headers(resp, OCI_META_PREFIX, &p->md, &p->nmd))
    return oci_nomem(t, err);
  p->e.struct_size = sizeof(p->e);
  p->e.name = t->key;
  p->e.size = sdk_response_total_size(resp);
  p->e.mtime_ns =
    sdk_time_parse_http(sdk_response_header(resp, "Last-Modified"));
  p->e.etag = sdk_response_header(resp, "ETag");
  p->e.content_type = sdk_response_header(resp, "Content-Type");
  /* The snapshot mark is xtstore's, not the user's. */
  for (size_t i = 0; i < p->nmd; i++) {
    if (!strcasecmp(p->md[i].key, OCI_SNAP_MARK))
      p->snap_copy = 1;
    else
      p->md[kept++] = p->md[i];
  }
  p->nmd = kept;
  p->e.metadata = p->md;
  p->e.nmetadata = p->nmd;
  /* A ranged answer's Content-MD5 would be the range's; a multipart
   * object has none (opc-multipart-md5 is of its parts' digests). */
  if (!ranged) {
    oci_md5_hex(md5, p->md5);
    p->e.content_md5 = p->md5[0] ? p->md5 : NULL;
  }
  if (!ranged && crc && !sdk_crc32c_parse(crc, &p->e.crc32c))
    p->e.checksums |= STORE_CKSUM_CRC32C;
  if (t->version) {
    p->e.flags |= STORE_ENTRY_SNAPSHOT;
    p->e.snapshot_id = t->version;
  }
  return STORE_OK;
}

/* opc-checksum-algorithm, and the checksums the host knew before sending
 * (opts may be NULL). */
int32_t oci_put_checksums(const oci_target *t, sdk_request *r,
                          const store_put_opts *opts, store_error *err)
{
  uint32_t has = STORE_OPT(opts, store_put_opts, checksums, 0);
  sdk_buf v = SDK_BUF_INIT;
  int32_t rc;

  rc = oci_header(t, r, "opc-checksum-algorithm", "CRC32C", err);
  if (rc)
    goto out;
  if ((has & STORE_CKSUM_CRC32C) &&
      STORE_HAS_FIELD(store_put_opts, crc32c, opts->struct_size)) {
    if (sdk_crc32c_base64(opts->crc32c, &v)) {
      rc = oci_nomem(t, err);
      goto out;
    }
    rc = oci_header(t, r, "opc-content-crc32c", sdk_buf_str(&v), err);
    if (rc)
      goto out;
  }
  if ((has & STORE_CKSUM_MD5) &&
      STORE_HAS_FIELD(store_put_opts, md5, opts->struct_size)) {
    sdk_buf_reset(&v);
    if (sdk_base64_encode(&v, opts->md5, sizeof(opts->md5))) {
      rc = oci_nomem(t, err);
      goto out;
    }
    rc = oci_header(t, r, "Content-MD5", sdk_buf_str(&v), err);
  }
out:
  sdk_buf_free(&v);
  return rc;
}

/* What a PutObject, UploadPart or CommitMultipartUpload answered, into
 * out (may be NULL): etag, version, and the checksums OCI computed over
 * what it stored (opc-content-crc32c; opc-content-md5 when whole_md5: a
 * commit's MD5 is of the parts' digests). */
void oci_put_result(const sdk_response *resp, uint64_t size, int whole_md5,
                    store_put_result *out)
{
  const char *etag = sdk_response_header(resp, "ETag");
  const char *ver = sdk_response_header(resp, "version-id");
  const char *crc = sdk_response_header(resp, "opc-content-crc32c");
  const char *md5 = sdk_response_header(resp, "opc-content-md5");
  sdk_buf raw = SDK_BUF_INIT;

  if (!out)
    return;
  if (STORE_HAS_FIELD(store_put_result, size, out->struct_size))
    out->size = size;
  if (STORE_HAS_FIELD(store_put_result, etag, out->struct_size))
    snprintf(out->etag, sizeof(out->etag), "%s", etag ? etag : "");
  if (STORE_HAS_FIELD(store_put_result, version_id, out->struct_size))
    snprintf(out->version_id, sizeof(out->version_id), "%s",
             ver ? ver : "");
  if (crc && STORE_HAS_FIELD(store_put_result, crc32c, out->struct_size) &&
      !sdk_crc32c_parse(crc, &out->crc32c))
    out->checksums |= STORE_CKSUM_CRC32C;
  if (whole_md5 && md5 &&
      STORE_HAS_FIELD(store_put_result, md5, out->struct_size) &&
      !sdk_base64_decode(&raw, md5, strlen(md5)) && raw.len == 16) {
    memcpy(out->md5, raw.data, 16);
    out->checksums |= STORE_CKSUM_MD5;
  }
  sdk_buf_free(&raw);
}
