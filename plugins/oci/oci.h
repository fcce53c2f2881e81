/*
** oci.h -- private interface of the `oci` storage provider.
**
** The provider speaks Oracle Cloud Infrastructure Object Storage's native
** REST API (/n/NAMESPACE/b/BUCKET/o/OBJECT) over the SDK's pooled libcurl
** client, every request signed with the user's RSA key (sdk_oci.h).
** Containers are buckets (created in the configured compartment), blobs
** are objects; large and unknown-length puts go up as multipart uploads.
**
** Requests: oci_config.c resolves the service's keys and ~/.oci/config
** into the handle's credentials, oci_request.c builds, dates, signs and
** performs a request (the namespace discovered once, the clock corrected
** once after a skew), oci_error.c turns an error response ({code,
** message}) into a store_error. Each op lives in its own file.
*/
#ifndef OCI_H
#define OCI_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store_interface.h"
#include "sdk_body.h"
#include "sdk_buf.h"
#include "sdk_error.h"
#include "sdk_http.h"
#include "sdk_parallel.h"
#include "sdk_rsa.h"
#include "sdk_util.h"

/* A put of known length up to this is one PutObject; beyond it, and for
 * an unknown length once it outgrows one buffer, a multipart upload. */
#define OCI_PUT_CUTOFF   ((uint64_t)64 << 20)
/* Part size of a put the provider splits itself (grown when 10,000 parts
 * would not hold the object); an unknown length buffers one at a time. */
#define OCI_PART         ((uint64_t)64 << 20)
#define OCI_BUFFER_PART  ((size_t)10 << 20)
#define OCI_MAX_PARTS    10000u
/* OCI's smallest part but the last. */
#define OCI_MIN_PART     ((uint64_t)10 << 20)
#define OCI_MAX_PART     ((uint64_t)50 << 30)
#define OCI_MAX_OBJECT   ((uint64_t)10 << 40)
#define OCI_PAGE_MAX     1000u
#define OCI_MAX_KEY      1024
#define OCI_DEFAULT_CT   "application/octet-stream"
/* User metadata in object headers and object JSON. */
#define OCI_META_PREFIX  "opc-meta-"
/* What a listing asks for (ListObjects' and ListObjectVersions' fields). */
#define OCI_LIST_FIELDS  "name,size,etag,md5,timeCreated,timeModified"
/* Work request polling of a copy: first wait, longest wait, and how long
 * in all before the copy is reported as still running. */
#define OCI_POLL_FIRST_MS 100u
#define OCI_POLL_MAX_MS   2000u
#define OCI_POLL_TOTAL_S  3600u

struct store_handle {
  char *name;                   /* service name; owned                     */
  char *endpoint;               /* base URL, no trailing '/'; owned        */
  char *key_id;                 /* TENANCY/USER/FINGERPRINT; owned         */
  char *compartment;            /* buckets are created and listed here     */
  char *region;                 /* owned; may be NULL with an endpoint     */
  int versioning;               /* buckets created with versioning on      */
  sdk_rsa_key *key;             /* owned, secret                           */
  sdk_http *http;               /* owned; thread-safe                      */
  const store_host_api *host;   /* valid for the life of the process       */
  pthread_mutex_t mu;           /* guards ns and skew                      */
  pthread_mutex_t ns_mu;        /* held while the namespace is asked for:
                                   one GET /n/ however many threads wait */
  char *ns;                     /* namespace: configured, or discovered
                                   by the first request that needs it     */
  int64_t skew;                 /* seconds the server's clock is ahead    */
};

/* Where a request goes, under /n/NS/b/BUCKET. */
#define OCI_P_NS       0        /* /n/                                     */
#define OCI_P_BUCKETS  1        /* /n/NS/b/                                */
#define OCI_P_BUCKET   2        /* /n/NS/b/BUCKET/                         */
#define OCI_P_OBJECTS  3        /* /n/NS/b/BUCKET/o                        */
#define OCI_P_OBJECT   4        /* /n/NS/b/BUCKET/o/KEY                    */
#define OCI_P_UPLOADS  5        /* /n/NS/b/BUCKET/u                        */
#define OCI_P_UPLOAD   6        /* /n/NS/b/BUCKET/u/KEY                    */
#define OCI_P_VERSIONS 7        /* /n/NS/b/BUCKET/objectversions           */
#define OCI_P_COPY     8        /* /n/NS/b/BUCKET/actions/copyObject       */
#define OCI_P_WORKREQ  9        /* /workRequests/ID (ID in t->version)     */
#define OCI_P_WORKERR  10       /* /workRequests/ID/errors                 */

/* What a request is about, for URLs and messages. Borrowed strings. */
typedef struct oci_target {
  const char *op;               /* "put", "list", ...                      */
  const char *bucket;           /* NULL: the namespace                     */
  const char *key;              /* NULL: the bucket itself                 */
  const char *version;          /* a version id (snapshot), or NULL        */
} oci_target;

/* oci_perform flags. */
#define OCI_OBJECT_BODY (1u << 0) /* an object's body: not signed          */

/* Properties of an object or bucket as an entry. The metadata array is
 * owned; strings are borrowed from the response or JSON they came from. */
typedef struct oci_props {
  store_entry e;
  store_kv *md;
  size_t nmd;
  char md5[33];
  int snap_copy;                /* the version carries OCI_SNAP_MARK       */
} oci_props;

/* The user metadata name (after opc-meta-) that marks the copy a snapshot
 * leaves as the current version (oci_snapshot.c): never shown as
 * metadata, and no user's metadata may take it. */
#define OCI_SNAP_MARK "xtstore-snapshot-copy"

/* oci_copy flags. */
#define OCI_COPY_REPLACE (1u << 0) /* content type and metadata given      */
#define OCI_COPY_MARK    (1u << 1) /* add OCI_SNAP_MARK to the metadata    */

/* oci_config.c */
int32_t oci_config_open(store_handle *h, const store_kv *cfg, size_t n,
                        store_error *err);

/* oci_error.c */
int32_t oci_fail(const oci_target *t, store_error *err, int32_t code,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int32_t oci_nomem(const oci_target *t, store_error *err);
int32_t oci_fail_response(const oci_target *t, const sdk_response *resp,
                          store_error *err);
const char *oci_error_code(const sdk_response *resp, char *buf, size_t cap);

/* oci_request.c */
int32_t oci_check_bucket(const oci_target *t, store_error *err);
int32_t oci_check_key(const oci_target *t, store_error *err);
int32_t oci_namespace(store_handle *h, char **out, store_error *err);
int32_t oci_request(store_handle *h, const oci_target *t, const char *method,
                    int path, const char *query, sdk_request **out,
                    store_error *err);
int32_t oci_header(const oci_target *t, sdk_request *r, const char *name,
                   const char *value, store_error *err);
int32_t oci_perform(store_handle *h, const oci_target *t, sdk_request *r,
                    uint32_t flags, sdk_response **out, store_error *err);
int32_t oci_exec_with(store_handle *h, const oci_target *t,
                      const char *method, int path, const char *query,
                      const store_kv *hdrs, size_t n, json_t *body,
                      sdk_response **out, store_error *err);
int32_t oci_exec(store_handle *h, const oci_target *t, const char *method,
                 int path, const char *query, json_t *body,
                 sdk_response **out, store_error *err);
int32_t oci_json(const oci_target *t, const sdk_response *resp, json_t **out,
                 store_error *err);
int32_t oci_query_add(const oci_target *t, sdk_buf *q, const char *name,
                      const char *value, store_error *err);

/* oci_body.c */
int32_t oci_body_result(const oci_target *t, const sdk_body *b, int32_t rc,
                        store_error *err);
int32_t oci_send_object(store_handle *h, const oci_target *t, sdk_request *r,
                        sdk_body *b, const char *mem, size_t memlen,
                        sdk_response **out, store_error *err);
int32_t oci_fill(const oci_target *t, store_read_fn src, void *ctx, char *buf,
                 size_t cap, size_t *out_n, int *out_eof, store_error *err);

/* oci_meta.c */
int32_t oci_meta_check(const oci_target *t, const char *content_type,
                       const store_kv *md, size_t n, store_error *err);
int32_t oci_meta_headers(const oci_target *t, sdk_request *r,
                         const store_kv *md, size_t n, store_error *err);
json_t *oci_meta_json(const char *prefix, const store_kv *md, size_t n);
int32_t oci_meta_from_json(const oci_target *t, json_t *obj, oci_props *p,
                           store_error *err);
void oci_md5_hex(const char *b64, char out[33]);
int32_t oci_props_headers(const oci_target *t, const sdk_response *resp,
                          oci_props *p, store_error *err);
void oci_props_free(oci_props *p);
int32_t oci_put_checksums(const oci_target *t, sdk_request *r,
                          const store_put_opts *opts, store_error *err);
void oci_put_result(const sdk_response *resp, uint64_t size, int whole_md5,
                    store_put_result *out);

/* oci_container.c */
store_container_create_op oci_container_create;
store_container_delete_op oci_container_delete;
store_container_list_op oci_container_list;
store_container_head_op oci_container_head;
store_container_set_metadata_op oci_container_set_metadata;
int32_t oci_bucket_versioned(store_handle *h, const oci_target *t,
                             store_error *err);

/* oci_blob.c */
int32_t oci_put_headers(const oci_target *t, sdk_request *r,
                        const store_put_opts *opts, store_error *err);
int32_t oci_put_condition(const oci_target *t, uint32_t flags, int32_t rc,
                          store_error *err);
store_blob_put_op oci_blob_put;
store_blob_get_op oci_blob_get;
int32_t oci_head(store_handle *h, const oci_target *t, sdk_response **out,
                 oci_props *p, store_error *err);
store_blob_head_op oci_blob_head;
store_blob_delete_op oci_blob_delete;

/* oci_list.c */
store_blob_list_op oci_blob_list;
int32_t oci_versions(store_handle *h, const oci_target *t, const char *prefix,
                     int (*fn)(void *ctx, json_t *item), void *ctx,
                     store_error *err);

/* oci_multipart.c */
int32_t oci_put_parts(store_handle *h, const oci_target *t,
                      const store_put_opts *opts, store_read_fn src,
                      void *src_ctx, char *buf, size_t first_len,
                      store_put_result *out, store_error *err);
store_multipart_begin_op oci_multipart_begin;
store_multipart_part_op oci_multipart_part;
store_multipart_part_checked_op oci_multipart_part_checked;
store_multipart_complete_op oci_multipart_complete;
store_multipart_abort_op oci_multipart_abort;
/* oci_uploads.c: ListMultipartUploads */
store_multipart_list_op oci_multipart_list;

/* oci_snapshot.c */
store_blob_snapshot_op oci_blob_snapshot;
int32_t oci_delete_versions(store_handle *h, const oci_target *t,
                            const char *marker, uint32_t flags,
                            store_error *err);
int32_t oci_list_snapshots(store_handle *h, const oci_target *t,
                           const store_list_opts *opts, store_entry_fn cb,
                           void *cb_ctx, store_error *err);

/* oci_copy.c */
int32_t oci_copy(store_handle *h, const oci_target *t, const char *dst_bucket,
                 const char *dst_key, const char *content_type,
                 const store_kv *md, size_t nmd, uint32_t flags,
                 store_error *err);
store_blob_copy_op oci_blob_copy;
store_blob_set_metadata_op oci_blob_set_metadata;

/* oci_presign.c: a pre-authenticated request (blob_presign) */
store_blob_presign_op oci_blob_presign;

#endif /* OCI_H */
