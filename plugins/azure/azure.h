/*
** azure.h -- private interface of the `azure` storage provider.
**
** The provider speaks the Azure Blob service REST API (pinned to
** AZ_API_VERSION) over the SDK's pooled libcurl client. Containers are
** Blob containers; blobs are block blobs, except that blob_append creates
** and extends append blobs. Authentication is Shared Key (the account key)
** or a SAS token appended to every URL; SAS wins when both are configured.
**
** Requests: azure_request.c builds the URL and the request, authenticates
** it with what azure_config.c resolved, performs it, and azure_error.c
** turns an error response into a store_error. Each op lives in its own
** file.
*/
#ifndef AZURE_H
#define AZURE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "store_interface.h"
#include "sdk_body.h"
#include "sdk_buf.h"
#include "sdk_error.h"
#include "sdk_http.h"
#include "sdk_util.h"
#include "sdk_xml.h"

/* The REST API version every request asks for (x-ms-version). */
#define AZ_API_VERSION "2021-08-06"

/* A blob_put of known length up to this is one Put Blob; beyond it, Put
 * Block + Put Block List. (Put Blob takes up to 5000 MiB, but a failed
 * request resends the whole body; 64 MiB keeps that cost bounded.) */
#define AZ_PUT_CUTOFF    ((uint64_t)64 << 20)
/* Block size of a known-length put beyond the cutoff (streamed, never
 * buffered), grown when 50,000 blocks would not hold the blob. */
#define AZ_STREAM_BLOCK  ((uint64_t)64 << 20)
/* An unknown-length put buffers one block of this size at a time. */
#define AZ_BUFFER_BLOCK  ((size_t)8 << 20)
/* Append Block takes at most 4 MiB at AZ_API_VERSION. */
#define AZ_APPEND_BLOCK  ((size_t)4 << 20)
#define AZ_MAX_BLOCKS    50000u
#define AZ_MAX_BLOCK     ((uint64_t)4000 << 20)
#define AZ_PAGE_MAX      5000u
#define AZ_MAX_KEY       1024
#define AZ_NONCE_HEX     32     /* upload ids: 16 random bytes in hex     */
/* Block ids: base64("NONCE-PPPPP"), NUL included (azure_multipart.c). */
#define AZ_BLOCK_ID_SIZE ((AZ_NONCE_HEX + 1 + 5 + 2) / 3 * 4 + 1)
#define AZ_DEFAULT_CT    "application/octet-stream"

/* A multipart upload this handle began or aborted (azure_multipart.c):
 * the part sizes it saw, so a commit needs no HEAD, or that it was
 * aborted. Strings owned. */
typedef struct az_upload {
  struct az_upload *next;
  char id[AZ_NONCE_HEX + 1];
  char *container, *key;
  int aborted;                  /* parts and complete refuse it            */
  uint64_t *sizes;              /* sizes[i]: part i+1, UINT64_MAX unknown  */
  uint32_t nsizes;
} az_upload;

struct store_handle {
  char *name;                   /* service name; owned                     */
  char *account;                /* owned                                   */
  char *endpoint;               /* base URL, no trailing '/'; owned        */
  unsigned char *key;           /* Shared Key bytes; owned, secret; NULL
                                   when the SAS token is used             */
  size_t keylen;
  char *sas;                    /* SAS token without '?'; owned, secret   */
  sdk_http *http;               /* owned; thread-safe                      */
  const store_host_api *host;   /* valid for the life of the process       */
  pthread_mutex_t mu;           /* guards uploads                          */
  az_upload *uploads;           /* owned                                   */
  /* The server's clock minus ours, in seconds, once a 403 showed them
   * apart: every later x-ms-date of this handle is on the server's. */
  _Atomic int_least64_t clock_offset;
};

/* What a request is about, for URLs and messages. Borrowed strings. */
typedef struct az_target {
  const char *op;               /* "put", "list", ...                      */
  const char *container;        /* NULL: the account                       */
  const char *key;              /* NULL: the container itself              */
  const char *snapshot;         /* NULL: the current blob                  */
} az_target;

/* Properties of a blob or container as an entry. The metadata array is
 * owned; every string is borrowed from the response or XML it came from. */
typedef struct az_props {
  store_entry e;
  store_kv *md;
  size_t nmd;
  char md5[33];
  char etag[80];                /* a listed etag, quoted like ETag headers */
  const char *blob_type;        /* "BlockBlob", "AppendBlob", ... or NULL  */
} az_props;

/* The blob's CRC-32C as xtstore records it: reserved user metadata, set
 * by the request that commits the content (azure_meta.c). Value: 8 hex
 * digits. */
#define AZ_CRC_META "xtstore_crc32c"

/* A CRC-32C to record with a blob (has: 0 for none). */
typedef struct az_crc {
  int has;
  uint32_t crc;
} az_crc;

/* azure_config.c */
int32_t az_config_open(store_handle *h, const store_kv *cfg, size_t n,
                       store_error *err);

/* azure_error.c */
int32_t az_fail(const az_target *t, store_error *err, int32_t code,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int32_t az_nomem(const az_target *t, store_error *err);
int32_t az_fail_response(const az_target *t, const sdk_response *resp,
                         store_error *err);

/* azure_request.c */
int32_t az_check_container(const az_target *t, store_error *err);
int32_t az_check_key(const az_target *t, store_error *err);
int32_t az_url(const store_handle *h, const az_target *t, const char *query,
               sdk_buf *out, store_error *err);
int32_t az_request(const store_handle *h, const az_target *t,
                   const char *method, const char *query, sdk_request **out,
                   store_error *err);
int32_t az_header(const az_target *t, sdk_request *r, const char *name,
                  const char *value, store_error *err);
int32_t az_perform(store_handle *h, const az_target *t, sdk_request *r,
                   sdk_response **out, store_error *err);
int32_t az_exec(store_handle *h, const az_target *t, const char *method,
                const char *query, const store_kv *hdrs, size_t nhdrs,
                sdk_response **out, store_error *err);

/* azure_body.c */
int32_t az_body_result(const az_target *t, const sdk_body *b, int32_t rc,
                       store_error *err);
int32_t az_fill(const az_target *t, store_read_fn src, void *ctx, char *buf,
                size_t cap, size_t *out_n, int *out_eof, store_error *err);
int32_t az_check_source(const az_target *t, store_read_fn src, int64_t len,
                        store_error *err);

/* azure_check.c: a streamed body summed while it is sent (az_sum_attach
 * makes b the body of r through the sum), then compared with what the
 * response reports (az_sum_verify); a body in memory carries its own
 * Content-MD5 (az_md5_header) and is sent with az_perform_md5. */
#define AZ_SUM_MD5   1          /* Put Blob: the response's Content-MD5   */
#define AZ_SUM_CRC64 2          /* Put Block: its x-ms-content-crc64      */

typedef struct az_sum {
  sdk_body *b;                  /* borrowed                               */
  int kind;                     /* AZ_SUM_*                               */
  sdk_digest *md5;              /* owned (az_sum_free)                    */
  uint64_t crc;
  uint32_t crc32c;              /* of the bytes sent, continuing from the
                                   value it was attached with             */
} az_sum;

int32_t az_sum_attach(const az_target *t, sdk_request *r, az_sum *s,
                      sdk_body *b, int kind, uint32_t crc32c,
                      store_error *err);
void az_sum_free(az_sum *s);
int32_t az_sum_verify(const az_target *t, az_sum *s,
                      const sdk_response *resp, store_error *err);
/* sent[0..n) (16 bytes: MD5, 8: CRC64, least significant byte first)
 * against the base64 value of header got_b64 (may be NULL: nothing to
 * compare) for a body of nbytes: a retryable IO error naming both. */
int32_t az_sum_compare(const az_target *t, const char *header,
                       const unsigned char *sent, size_t n,
                       const char *got_b64, uint64_t nbytes,
                       store_error *err);
int32_t az_md5_header(const az_target *t, sdk_request *r, const void *mem,
                      size_t n, store_error *err);
/* az_perform of a request whose body is in memory with its Content-MD5:
 * sent up to AZ_MD5_SENDS times while the service refuses it as damaged
 * (Md5Mismatch). */
#define AZ_MD5_SENDS 3
int32_t az_perform_md5(store_handle *h, const az_target *t, sdk_request *r,
                       sdk_response **out, store_error *err);

/* azure_meta.c */
int32_t az_meta_check(const az_target *t, const char *content_type,
                      const store_kv *md, size_t n, store_error *err);
int32_t az_meta_headers(const az_target *t, sdk_request *r,
                        const store_kv *md, size_t n, store_error *err);
/* PUT `query` on t with md as x-ms-meta-* headers and an empty body:
 * create a container, or set a container's or a blob's metadata. A blob's
 * CRC-32C record (crc.has) goes along, and if_match (NULL: none) makes the
 * PUT conditional. */
int32_t az_put_metadata(store_handle *h, const az_target *t, const char *query,
                        const store_kv *md, size_t n, az_crc crc,
                        const char *if_match, store_error *err);
int32_t az_crc_header(const az_target *t, sdk_request *r, az_crc crc,
                      store_error *err);
void az_props_crc(az_props *p);
int32_t az_props_headers(const az_target *t, const sdk_response *resp,
                         az_props *p, store_error *err);
void az_props_free(az_props *p);
void az_md5_hex(const char *b64, char out[33]);
int az_is_dir_marker(const store_entry *e);

/* azure_list.c */
typedef int32_t (*az_page_fn)(void *ctx, const sdk_xml_node *root,
                              store_error *err);
int32_t az_pages(store_handle *h, const az_target *t, const char *query,
                 uint32_t page_size, az_page_fn fn, void *ctx,
                 store_error *err);
int32_t az_xml_metadata(const az_target *t, const sdk_xml_node *node,
                        az_props *p, store_error *err);
const char *az_xml_etag(const char *etag, az_props *p);
int32_t az_list(store_handle *h, const az_target *t,
                const store_list_opts *opts, store_entry_fn cb, void *cb_ctx,
                store_error *err);
store_blob_list_op az_blob_list;

/* azure_container.c */
store_container_create_op az_container_create;
store_container_delete_op az_container_delete;
store_container_list_op az_container_list;
store_container_head_op az_container_head;
store_container_set_metadata_op az_container_set_metadata;

/* azure_blob.c */
int32_t az_put_headers(const az_target *t, sdk_request *r, const char *ct,
                       const store_kv *md, size_t nmd, az_crc crc,
                       uint32_t flags, const char *if_match,
                       store_error *err);
az_crc az_opts_crc(const store_put_opts *opts);
int32_t az_crc_compare(const az_target *t, az_crc given, uint32_t sent,
                       uint64_t nbytes, store_error *err);
int32_t az_put_result(const az_target *t, const sdk_response *resp,
                      uint64_t size, store_put_result *out, store_error *err);
int32_t az_put_condition(const az_target *t, uint32_t flags, int32_t rc,
                         store_error *err);
store_blob_put_op az_blob_put;
store_blob_get_op az_blob_get;
int32_t az_head(store_handle *h, const az_target *t, sdk_response **out,
                az_props *p, store_error *err);
store_blob_head_op az_blob_head;
store_blob_delete_op az_blob_delete;
store_blob_set_metadata_op az_blob_set_metadata;
/* azure_batch.c */
store_blob_delete_batch_op az_blob_delete_batch;

/* azure_upload.c */
int32_t az_put_blocks(store_handle *h, const az_target *t,
                      const store_put_opts *opts, store_read_fn src,
                      void *src_ctx, char *buf, size_t first_len,
                      store_put_result *out, store_error *err);

/* azure_multipart.c */
/* What a commit writes besides the blocks. Borrowed strings. */
typedef struct az_block_list_opts {
  const char *content_type;
  const store_kv *md;
  size_t nmd;
  az_crc crc;                   /* the whole blob's, recorded with it      */
  uint32_t flags;
  const char *if_match;
} az_block_list_opts;

int32_t az_nonce_new(const az_target *t, char out[AZ_NONCE_HEX + 1],
                     store_error *err);
void az_block_id(const char *nonce, uint32_t part, char *out);
int32_t az_put_block(store_handle *h, const az_target *t, const char *id,
                     sdk_body *b, const char *mem, size_t memlen,
                     uint32_t *io_crc32c, store_error *err);
int32_t az_put_block_list(store_handle *h, const az_target *t,
                          const char *nonce, uint32_t n,
                          const az_block_list_opts *co, uint64_t size,
                          store_put_result *out, store_error *err);
store_multipart_begin_op az_multipart_begin;
store_multipart_part_op az_multipart_part;
store_multipart_complete_op az_multipart_complete;
store_multipart_abort_op az_multipart_abort;
void az_uploads_free(store_handle *h);

/* azure_append.c */
store_blob_append_op az_blob_append;

/* azure_snapshot.c */
store_blob_snapshot_op az_blob_snapshot;

/* azure_presign.c: a service SAS for one blob (blob_presign) */
store_blob_presign_op az_blob_presign;

/* azure_copy.c */
store_blob_copy_op az_blob_copy;
store_blob_copy_checked_op az_blob_copy_checked;

#endif /* AZURE_H */
