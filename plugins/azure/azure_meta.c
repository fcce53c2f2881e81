/*
** azure_meta.c -- blob and container properties: user metadata and
** content types on their way out (x-ms-meta-* request headers, checked so
** Azure takes them) and entries built from response headers on their way
** in; directory markers; the CRC-32C xtstore records with a blob.
**
** The record (AZ_CRC_META, README.md "Integrity") is user metadata to
** Azure, set only by the request that commits a block blob's content
** (Put Blob, Put Block List), so it describes the content it came with:
** every later write of content replaces all metadata. It is read only on
** block blobs (Append Block changes content and keeps metadata), never
** shown as metadata, and a user's metadata may not take its name.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azure.h"
#include "sdk_meta.h"
#include "sdk_util.h"

#define META_PREFIX "x-ms-meta-"

/* Azure metadata names are C# identifiers. */
static int meta_name_ok(const char *s)
{
  if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
    return 0;
  for (s++; *s; s++)
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
          (*s >= '0' && *s <= '9') || *s == '_'))
      return 0;
  return 1;
}

int32_t az_meta_check(const az_target *t, const char *content_type,
                      const store_kv *md, size_t n, store_error *err)
{
  /* A container's metadata may use the name: only blobs carry the CRC. */
  sdk_meta_rules rules = {
    "Azure", meta_name_ok,
    "Azure wants a C# identifier (letters, digits and '_', not starting "
    "with a digit)",
    t->key ? AZ_CRC_META : NULL,
    "xtstore records the blob's CRC-32C under it"};
  char why[STORE_ERR_MSG_SIZE];

  if (sdk_meta_check(&rules, content_type, md, n, why, sizeof(why)))
    return az_fail(t, err, STORE_E_INVALID, "%s", why);
  return STORE_OK;
}

/* x-ms-meta-* headers of entries az_meta_check accepted. */
int32_t az_meta_headers(const az_target *t, sdk_request *r,
                        const store_kv *md, size_t n, store_error *err)
{
  return sdk_meta_to_headers(r, META_PREFIX, md, n) ? az_nomem(t, err)
                                                    : STORE_OK;
}

/* The record of crc, when there is one. */
int32_t az_crc_header(const az_target *t, sdk_request *r, az_crc crc,
                      store_error *err)
{
  char hex[9];

  if (!crc.has)
    return STORE_OK;
  snprintf(hex, sizeof(hex), "%08" PRIx32, crc.crc);
  return az_header(t, r, META_PREFIX AZ_CRC_META, hex, err);
}

/* 8 hex digits, nothing else. */
static int crc_parse(const char *s, uint32_t *out)
{
  unsigned char be[4];

  if (sdk_unhex(s, be, sizeof(be)))
    return 0;
  *out = (uint32_t)be[0] << 24 | (uint32_t)be[1] << 16 |
         (uint32_t)be[2] << 8 | be[3];
  return 1;
}

/* Take the record out of a blob's metadata (p->md, p->blob_type set) and
 * into its entry's CRC-32C, on a block blob only: an append blob's could
 * predate an Append Block (another tool may have set one). */
void az_props_crc(az_props *p)
{
  size_t k = 0;
  uint32_t crc;

  for (size_t i = 0; i < p->nmd; i++) {
    if (strcasecmp(p->md[i].key, AZ_CRC_META)) {
      p->md[k++] = p->md[i];
      continue;
    }
    if (p->blob_type && !strcmp(p->blob_type, "BlockBlob") &&
        crc_parse(p->md[i].value, &crc)) {
      p->e.checksums |= STORE_CKSUM_CRC32C;
      p->e.crc32c = crc;
    }
  }
  p->nmd = k;
  p->e.metadata = p->md;
  p->e.nmetadata = k;
}

void az_md5_hex(const char *b64, char out[33])
{
  sdk_buf raw = SDK_BUF_INIT;

  out[0] = '\0';
  if (b64 && !sdk_base64_decode(&raw, b64, strlen(b64)) && raw.len == 16)
    sdk_hex(raw.data, 16, out);
  sdk_buf_free(&raw);
}

/* A directory marker: an empty blob with metadata hdi_isfolder=true (XT's
 * and ADLS's flag), or an empty blob named "DIR/" (what S3 consoles and
 * the host's mkdir write). The host's rule (host/core/blob.c), kept here
 * because STORE_CAP_DIR_MARKERS makes hiding them the provider's job. */
int az_is_dir_marker(const store_entry *e)
{
  size_t len = e->name ? strlen(e->name) : 0;

  if (e->size != 0)
    return 0;
  if (len > 0 && e->name[len - 1] == '/')
    return 1;
  for (size_t i = 0; i < e->nmetadata; i++)
    if (!strcasecmp(e->metadata[i].key, "hdi_isfolder") &&
        !strcasecmp(e->metadata[i].value, "true"))
      return 1;
  return 0;
}

void az_props_free(az_props *p)
{
  free(p->md);
  memset(p, 0, sizeof(*p));
}

/* The entry of the target from a GET or HEAD response (which must outlive
 * p); free with az_props_free. */
int32_t az_props_headers(const az_target *t, const sdk_response *resp,
                         az_props *p, store_error *err)
{
  const char *md5 = sdk_response_header(resp, "x-ms-blob-content-md5");

  memset(p, 0, sizeof(*p));
  if (sdk_meta_from_headers(resp, META_PREFIX, &p->md, &p->nmd))
    return az_nomem(t, err);
  p->e.struct_size = sizeof(p->e);
  p->e.name = t->key ? t->key : t->container;
  p->e.mtime_ns =
    sdk_time_parse_http(sdk_response_header(resp, "Last-Modified"));
  p->e.etag = sdk_response_header(resp, "ETag");
  p->e.metadata = p->md;
  p->e.nmetadata = p->nmd;
  if (!t->key) {
    p->e.flags = STORE_ENTRY_CONTAINER;
    return STORE_OK;
  }
  p->e.size = sdk_response_total_size(resp);
  p->e.content_type = sdk_response_header(resp, "Content-Type");
  /* A ranged answer's Content-MD5 would be the range's, not the blob's. */
  if (!md5 && !sdk_response_header(resp, "Content-Range"))
    md5 = sdk_response_header(resp, "Content-MD5");
  az_md5_hex(md5, p->md5);
  p->e.content_md5 = p->md5[0] ? p->md5 : NULL;
  p->blob_type = sdk_response_header(resp, "x-ms-blob-type");
  az_props_crc(p);
  if (t->snapshot) {
    p->e.flags |= STORE_ENTRY_SNAPSHOT;
    p->e.snapshot_id = t->snapshot;
  }
  if (az_is_dir_marker(&p->e))
    p->e.flags |= STORE_ENTRY_DIR_MARKER;
  return STORE_OK;
}

int32_t az_put_metadata(store_handle *h, const az_target *t, const char *query,
                        const store_kv *md, size_t n, az_crc crc,
                        const char *if_match, store_error *err)
{
  sdk_request *r = NULL;
  int32_t rc;

  rc = az_meta_check(t, NULL, md, n, err);
  if (rc)
    goto out;
  rc = az_request(h, t, "PUT", query, &r, err);
  if (rc)
    goto out;
  rc = az_meta_headers(t, r, md, n, err);
  if (!rc)
    rc = az_crc_header(t, r, crc, err);
  if (!rc && if_match)
    rc = az_header(t, r, "If-Match", if_match, err);
  if (rc)
    goto out;
  sdk_request_body_mem(r, "", 0);
  rc = az_perform(h, t, r, NULL, err);
out:
  sdk_request_free(r);
  return rc;
}
