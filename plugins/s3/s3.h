/*
** s3.h -- private interface of the `s3` storage provider (AWS S3 and
** S3-compatible servers) over the plugin SDK.
**
** Containers are buckets, blobs are objects. Every request is built as an
** s3_call (s3_request.c): operation name, method, bucket, key, decoded
** query, headers and body; s3_perform() turns it into a URL with the
** configured addressing, signs it with SigV4, sends it, and corrects the
** clock once on RequestTimeTooSkewed. Error responses become store_errors
** in s3_error.c, naming the S3 operation, the bucket and the key.
**
** Snapshots use bucket versioning: a snapshot id is a VersionId. Every
** noncurrent version of a key is one of its snapshots, and so is the
** current version once blob_snapshot tagged it (see s3_snapshot.c).
*/
#ifndef S3_H
#define S3_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "store_interface.h"
#include "sdk_body.h"
#include "sdk_buf.h"
#include "sdk_http.h"
#include "sdk_sigv4.h"
#include "sdk_util.h"
#include "sdk_xml.h"

typedef struct s3_chunked s3_chunked;

#define S3_MAX_PUT       (UINT64_C(5) << 30)  /* PutObject and part limit  */
#define S3_MIN_PART      (UINT64_C(5) << 20)  /* smallest non-last part    */
#define S3_MAX_PARTS     10000u
#define S3_MAX_OBJECT    (UINT64_C(5) << 40)
#define S3_STREAM_PART   ((size_t)8 << 20)    /* parts of unknown-length puts,
                                                 and the one buffer they use */
#define S3_CHUNK         ((size_t)64 << 10)   /* aws-chunked chunk size    */
#define S3_MAX_KEY       1024
#define S3_DELETE_BATCH  1000                 /* keys per DeleteObjects    */
#define S3_SNAPSHOT_TAG  "xtstore-snapshot"   /* marks a snapshotted version */
#define S3_META_PREFIX   "x-amz-meta-"        /* user metadata headers     */

/* Addressing of buckets. */
#define S3_ADDR_AUTO    0   /* virtual for AWS endpoints, path otherwise    */
#define S3_ADDR_PATH    1   /* http://host/bucket/key                       */
#define S3_ADDR_VIRTUAL 2   /* http://bucket.host/key                       */

/* How streamed bodies are signed (in-memory bodies always carry their
 * real SHA-256). */
#define S3_PAYLOAD_AUTO      0 /* UNSIGNED-PAYLOAD; checked by MD5 on http:// */
#define S3_PAYLOAD_UNSIGNED  1 /* UNSIGNED-PAYLOAD                          */
#define S3_PAYLOAD_STREAMING 2 /* aws-chunked, every 64 KiB chunk signed    */

/* How a handle sends streamed bodies now (store_handle.body): CHUNKED when
 * payload-signing asks for streaming, moved to UNSIGNED once, at run time,
 * when the server turns out not to decode aws-chunked bodies (it refuses
 * them, or stores the framing as data). */
#define S3_BODY_UNSIGNED   0 /* UNSIGNED-PAYLOAD                            */
#define S3_BODY_CHUNKED    1 /* aws-chunked, not yet seen stored right      */
#define S3_BODY_CHUNKED_OK 2 /* aws-chunked, seen stored right              */

/* Whether the server checks x-amz-checksum-crc32c against the body
 * (store_handle.crc_probe), learnt by one probe per handle. */
#define S3_CRC_UNPROBED  0
#define S3_CRC_PROBING   1 /* one thread's probe in flight               */
#define S3_CRC_CHECKS    2 /* it refused a wrong CRC-32C: it checks them */
#define S3_CRC_UNCHECKED 3 /* it took one, or the probe failed: MD5 kept */

/* The resolved configuration (s3_config.c). Strings are owned. */
typedef struct s3_settings {
  char *name;                   /* service name, for messages             */
  char *endpoint;               /* scheme://host[:port][/base]            */
  char *region;
  char *access_key;             /* NULL when anonymous                    */
  char *secret_key;             /* secret: never printed                  */
  char *session_token;          /* secret; NULL when none                 */
  char *ca_bundle;              /* NULL: the SDK's default                */
  int addressing;               /* S3_ADDR_*                              */
  int payload;                  /* S3_PAYLOAD_*                           */
  int anonymous;
  int verify_tls;
  int versioned_buckets;        /* container_create enables versioning    */
  char cred_source[192];        /* where the keys came from (no secrets)  */
} s3_settings;

/* Environment lookup, getenv() outside tests. */
typedef const char *(*s3_getenv_fn)(const char *name);

struct store_handle {
  s3_settings cfg;
  char *scheme;                 /* "http" or "https"                      */
  char *authority;              /* host[:port] of the endpoint            */
  char *base_path;              /* "" or "/base" (no trailing '/')        */
  int virtual_hosting;          /* addressing resolved for this endpoint  */
  _Atomic int body;             /* S3_BODY_*: how streamed bodies go out  */
  _Atomic int cksum_off;        /* the server refused x-amz-checksum-*
                                   headers: not sent from then on        */
  _Atomic int crc_probe;        /* S3_CRC_*: does the server check
                                   x-amz-checksum-crc32c (s3_crcprobe.c) */
  _Atomic int crc_checked;      /* the server answered an upload with the
                                   x-amz-checksum-crc32c it was sent: with
                                   crc_probe S3_CRC_CHECKS, bodies sent
                                   with a known one skip the MD5         */
  sdk_http *http;
  sdk_sigv4 *signer;            /* NULL when anonymous                    */
  _Atomic int_least64_t clock_offset; /* server minus local clock, s      */
  const store_host_api *host;
};

/* One S3 request being put together. The strings given to the s3_call_*
 * setters are borrowed until s3_perform returns, except headers (copied
 * into req). */
#define S3_MAX_QUERY 10
typedef struct s3_call {
  store_handle *h;
  const char *op;               /* "GetObject": names the call in errors  */
  const char *method;
  const char *bucket;           /* NULL: the service (ListBuckets)        */
  const char *key;              /* NULL: the bucket itself                */
  store_kv query[S3_MAX_QUERY]; /* decoded; value NULL for a bare name    */
  size_t nquery;
  sdk_request *req;             /* owned; headers live here               */
  const void *mem;              /* in-memory body, or NULL                */
  size_t mem_len;
  store_read_fn src;            /* streamed body, or NULL                 */
  void *src_ctx;
  int64_t src_len;              /* >= 0: streamed bodies have a length    */
  sdk_body body;                /* src as sent; body.sent: bytes taken
                                   from it (the replay check)             */
  int sent_as;                  /* S3_BODY_* of the last send of src      */
  sdk_digest *md5;              /* MD5 of src as sent, when the ETag is to
                                   be checked against it (s3_body.c)      */
  sdk_digest *md5_wire;         /* MD5 of the aws-chunked framing as sent,
                                   while aws-chunked is unproven          */
  struct s3_chunked *wire;      /* that framing's encoder                 */
  int crc_trailer;              /* an aws-chunked send of src computes its
                                   CRC-32C and sends it as a trailer      */
  int cksum_sent;               /* x-amz-checksum-* headers are on req    */
  int crc_known;                /* req carries the body's CRC-32C ...     */
  uint32_t crc_sent;            /* ... this one, known before sending     */
  int md5_skipped;              /* sent without an MD5: the server is
                                   proven to check the CRC-32C sent      */
} s3_call;

/* Parsed S3 error body (s3_error.c); strings point into `xml`. */
typedef struct s3_err_info {
  sdk_xml_node *xml;            /* owned, or NULL                         */
  const char *code;             /* "NoSuchKey", or NULL                   */
  const char *message;
  const char *request_id;
  const char *region;           /* where the bucket lives, when said      */
} s3_err_info;

/* s3.c */
void s3_log(const store_handle *h, int32_t level, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

/* s3_config.c */
int32_t s3_settings_resolve(const store_kv *kv, size_t n, s3_getenv_fn env,
                            s3_settings *out, store_error *err);
void s3_settings_free(s3_settings *s);

/* s3_request.c */
int32_t s3_call_init(s3_call *c, store_handle *h, const char *op,
                     const char *method, const char *bucket, const char *key,
                     store_error *err);
void s3_call_free(s3_call *c);
int32_t s3_call_query(s3_call *c, const char *name, const char *value,
                      store_error *err);
int32_t s3_call_header(s3_call *c, const char *name, const char *value,
                       store_error *err);
int32_t s3_call_meta(s3_call *c, const char *content_type,
                     const store_kv *md, size_t n, store_error *err);
void s3_call_body_mem(s3_call *c, const void *data, size_t len);
int32_t s3_call_body_xml(s3_call *c, const sdk_buf *xml, store_error *err);
void s3_call_body_stream(s3_call *c, store_read_fn fn, void *ctx,
                         int64_t len);
int32_t s3_perform(s3_call *c, sdk_response **out, store_error *err);
int32_t s3_perform_ok(s3_call *c, sdk_response **out, store_error *err);
const char *s3_object_name(const s3_call *c, char *buf, size_t cap);
int s3_is_2xx(const sdk_response *r);

/* s3_error.c */
void s3_err_parse(const sdk_response *resp, s3_err_info *info);
void s3_err_info_free(s3_err_info *info);
int32_t s3_fail(const s3_call *c, const sdk_response *resp, store_error *err);
int32_t s3_fail_msg(const s3_call *c, store_error *err, int32_t code,
                    const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
int32_t s3_fail_xml(const s3_call *c, const sdk_response *resp,
                    store_error *err, sdk_xml_node **out);
void s3_err_init(store_error *probe);
int32_t s3_check_names(const char *bucket, const char *key,
                       store_error *err);
/* The stricter rules of a bucket created today (after s3_check_names). */
int32_t s3_check_new_bucket(const char *bucket, store_error *err);

/* s3_meta.c: user metadata out, object properties from response headers */
typedef struct s3_props {
  store_entry e;
  store_kv *md;                 /* owned array; strings borrowed from resp */
  size_t nmd;
  const char *version_id;       /* NULL, or the x-amz-version-id          */
  char md5[33];                 /* e.content_md5, from an MD5 ETag        */
} s3_props;
int32_t s3_props_from_headers(const sdk_response *resp, const char *key,
                              s3_props *p, store_error *err);
void s3_props_free(s3_props *p);
int s3_version_is_real(const char *v);
/* An ETag that is an MD5: 32 hex digits, quoted or not, lowercased into
 * out. Returns 0 when it is one (a multipart ETag, "...-N", is not). */
int s3_etag_md5(const char *etag, char out[33]);
/* The same for a response's ETag, unless the response says the object is
 * encrypted with KMS or a customer key (whose ETag is no MD5). */
int s3_resp_md5(const sdk_response *resp, char out[33]);
int32_t s3_check_meta(const char *what, const char *content_type,
                      const store_kv *md, size_t n, store_error *err);

/* s3_container.c */
store_container_create_op s3_container_create;
store_container_delete_op s3_container_delete;
store_container_list_op s3_container_list;
store_container_head_op s3_container_head;

/* s3_blob.c */
int32_t s3_put_mem(store_handle *h, const char *bucket, const char *key,
                   const store_put_opts *opts, const void *data, size_t len,
                   store_put_result *out, store_error *err);
store_blob_put_op s3_blob_put;
store_blob_get_op s3_blob_get;
/* HeadObject of the key, or of its version; with if_match, of that ETag
 * only (412 otherwise); with_crc, asking for the stored CRC-32C. */
int32_t s3_head_object(store_handle *h, const char *bucket, const char *key,
                       const char *version, const char *if_match,
                       int with_crc, s3_props *p, sdk_response **resp,
                       store_error *err);
store_blob_head_op s3_blob_head;
store_blob_delete_op s3_blob_delete;
int32_t s3_delete_object(store_handle *h, const char *bucket, const char *key,
                         const char *version, const char *if_match,
                         store_error *err);

/* s3_list.c */
store_blob_list_op s3_blob_list;
/* One object version of ListObjectVersions. */
typedef struct s3_version {
  const char *key, *version_id, *etag;
  uint64_t size;
  int64_t mtime_ns;
  int is_latest, is_delete_marker;
} s3_version;
typedef int32_t (*s3_version_fn)(void *ctx, const s3_version *v);
int32_t s3_list_versions(store_handle *h, const char *bucket,
                         const char *prefix, s3_version_fn fn, void *ctx,
                         store_error *err);

/* s3_batch.c: DeleteObjects */
typedef struct s3_batch {
  store_handle *h;
  const char *bucket;
  sdk_buf xml;                  /* the <Delete> body being built          */
  size_t n;
  store_error failure;          /* where listing callbacks put theirs     */
} s3_batch;
void s3_batch_init(s3_batch *b, store_handle *h, const char *bucket);
int32_t s3_batch_add(s3_batch *b, const char *key, const char *version,
                     store_error *err);
int32_t s3_batch_flush(s3_batch *b, store_error *err);
int32_t s3_batch_failure(const s3_batch *b, store_error *err);
void s3_batch_free(s3_batch *b);
/* The interface's blob_delete_batch: DeleteObjects, each key reported;
 * STORE_E_UNSUPPORTED for a bucket that keeps versions. */
store_blob_delete_batch_op s3_blob_delete_batch;

/* s3_copy.c */
store_blob_copy_op s3_blob_copy;
store_blob_copy_checked_op s3_blob_copy_checked;
store_blob_set_metadata_op s3_blob_set_metadata;
int32_t s3_copy_version_onto_itself(store_handle *h, const char *bucket,
                                    const char *key, const char *version,
                                    const char *tagging, store_error *err);

/* s3_multipart.c */
store_multipart_begin_op s3_multipart_begin;
store_multipart_part_op s3_multipart_part;
store_multipart_part_checked_op s3_multipart_part_checked;
store_multipart_complete_op s3_multipart_complete;
store_multipart_abort_op s3_multipart_abort;
/* s3_uploads.c: ListMultipartUploads */
store_multipart_list_op s3_multipart_list;
/* After a completion that filled out (etag, version_id): its size and
 * CRC-32C read back by a HEAD of this upload's object only (its version,
 * else If-Match its ETag): another writer's object in between is not ours
 * to report, nor, by a CRC that looks wrong, to have the host remove. The
 * object is committed whatever the HEAD says: a failed HEAD, or one of
 * another object, leaves size (0) and CRC unreported, said in the log. */
void s3_multipart_readback(store_handle *h, const char *bucket,
                           const char *key, store_put_result *out);
int32_t s3_multipart_finish(store_handle *h, const char *bucket,
                            const char *key, const char *upload_id,
                            const char *const *tokens, uint32_t nparts,
                            const store_put_opts *opts, store_put_result *out,
                            store_error *err);

/* s3_upload.c: puts the host cannot hand to one PutObject */
int32_t s3_put_unknown(store_handle *h, const char *bucket, const char *key,
                       const store_put_opts *opts, store_read_fn src,
                       void *src_ctx, store_put_result *out,
                       store_error *err);

/* s3_presign.c: a presigned SigV4 URL (blob_presign) */
store_blob_presign_op s3_blob_presign;

/* s3_snapshot.c */
store_blob_snapshot_op s3_blob_snapshot;
int32_t s3_snap_is_tagged(store_handle *h, const char *bucket,
                          const char *key, const char *version, int *out,
                          store_error *err);
int32_t s3_delete_versioned(store_handle *h, const char *bucket,
                            const char *key, uint32_t flags,
                            const char *latest, store_error *err);
int32_t s3_delete_snapshot(store_handle *h, const char *bucket,
                           const char *key, const char *version,
                           store_error *err);

/* s3_checksum.c: the 1.1 checksum contract (x-amz-checksum-crc32c,
 * Content-MD5, trailers, what the server reports) */
#define S3_CRC_HEADER   "x-amz-checksum-crc32c"
#define S3_TOKEN_CRC    ";crc32c="            /* ETag;crc32c=BASE64 tokens */
/* Headers that make the server check the body against what opts know
 * before it is sent (x-amz-checksum-crc32c, Content-MD5), or, for a body in
 * memory, the CRC-32C opts->trailer_checksums asks for; for a streamed
 * body that asks for one, c->crc_trailer (sent as a trailer when the body
 * goes aws-chunked). Nothing of it once the service has fallen back. */
int32_t s3_call_checksums(s3_call *c, const store_put_opts *opts,
                          store_error *err);
/* x-amz-checksum-crc32c: base64(crc) alone (CompleteMultipartUpload). */
int32_t s3_call_crc32c(s3_call *c, uint32_t crc, store_error *err);
/* HeadObject / GetObject: ask for the stored checksums. */
int32_t s3_call_checksum_mode(s3_call *c, store_error *err);
/* A refusal of the checksum headers themselves (a server that does not
 * know them): stop sending them for this handle, said once. Non-zero when
 * c carried them and resp is such a refusal. */
int s3_cksum_refused(s3_call *c, const sdk_response *resp);
/* The same for a CompleteMultipartUpload whose XML named the parts'
 * checksums, refused as MalformedXML (Swift's s3api). */
int s3_cksum_xml_refused(s3_call *c, const sdk_response *resp);
/* c without its x-amz-checksum-* headers, for a resend after a refusal. */
void s3_call_drop_checksums(s3_call *c);
/* A HEAD with x-amz-checksum-mode answered by a bodiless 403 or 501: the
 * status (to send it once more without the header), else 0. After that
 * resend, s3_cksum_mode_settle stops the header for the handle when the
 * 501 turned into a 2xx (a 403 is the object's: SSE-KMS). */
long s3_cksum_mode_suspect(const s3_call *c, const sdk_response *resp);
void s3_cksum_mode_settle(s3_call *c, long first, const sdk_response *resp);
/* A response's full-object CRC-32C (x-amz-checksum-crc32c and -type,
 * s3_full_crc32c). 0 when there is one. */
int s3_resp_crc32c(const sdk_response *resp, uint32_t *out);
/* value (base64) with its ChecksumType (NULL: none given) into out when it
 * is the object's own CRC-32C, not a composite one (of the parts' CRCs:
 * "...-N", or type COMPOSITE). 0, or -1 when it is not one. */
int s3_full_crc32c(const char *value, const char *type, uint32_t *out);
/* out's checksums from a PutObject / UploadPart response: its CRC-32C,
 * and the MD5 its ETag is (s3_resp_md5). */
/* out's etag := etag ("" for NULL) and version_id := resp's
 * x-amz-version-id when it names a real version (else ""), the fields out
 * has (s3_blob.c). out may be NULL. */
void s3_result_ids(const sdk_response *resp, const char *etag,
                   store_put_result *out);
void s3_result_checksums(const sdk_response *resp, int with_md5,
                         store_put_result *out);
/* Did the server refuse the body because a checksum did not match? */
int s3_is_checksum_mismatch(const char *code, const char *message);
/* A multipart token: the part's ETag, then S3_TOKEN_CRC and the part's
 * CRC-32C when it has one. s3_token_split gives the ETag's length and the
 * CRC (base64, NUL-terminated in tokens; NULL when none). */
int32_t s3_token_make(const char *etag, int has_crc, uint32_t crc,
                      char *out, size_t cap);
size_t s3_token_split(const char *token, const char **crc_b64);

/* s3_crcprobe.c: does the server check x-amz-checksum-crc32c? */
#define S3_CRC_PROBE_MIN    ((int64_t)1 << 20) /* smaller bodies: MD5 */
#define S3_CRC_PROBE_PREFIX ".xtstore-crc-probe-"
/* Non-zero once the server has refused a PutObject into c's bucket sent
 * with a wrong x-amz-checksum-crc32c, a probe made once per handle by the
 * first caller (the others get 0 while it runs); a server that takes the
 * probe (the object is deleted) or answers anything else is never trusted
 * to check on this handle. Said once, at info. */
int s3_crc_proven(s3_call *c);

/* s3_body.c: request bodies from read callbacks, aws-chunked bodies */
/* With `trailer`, the CRC-32C of the data follows the final chunk as the
 * signed trailer x-amz-checksum-crc32c (S3_TRAILER_LEN more bytes). */
#define S3_TRAILER_LEN \
  (sizeof(S3_CRC_HEADER ":") - 1 + 8 + 2 + \
   sizeof("x-amz-trailer-signature:") - 1 + 64 + 2)
int32_t s3_chunked_new(store_handle *h, const sdk_sigv4_result *seed,
                       store_read_fn src, void *src_ctx, uint64_t len,
                       int trailer, s3_chunked **out, store_error *err);
int32_t s3_chunked_read(void *ctx, void *buf, size_t cap, size_t *out_n);
void s3_chunked_free(s3_chunked *c);
int32_t s3_fill(store_read_fn src, void *ctx, unsigned char *buf, size_t cap,
                size_t *n, const char *bucket, const char *key,
                store_error *err);
/* The store_read_fn of a streamed body whose MD5 is taken as it goes (ud:
 * the s3_call; reads c->body into c->md5). */
int32_t s3_md5_read(void *ud, void *buf, size_t cap, size_t *out_n);
/* The same for the aws-chunked framing (reads c->wire into c->md5_wire). */
int32_t s3_md5_wire_read(void *ud, void *buf, size_t cap, size_t *out_n);
/* After a 2xx PutObject or UploadPart: 0 when its ETag is the MD5 of the
 * bytes streamed (or no MD5 was taken, or the ETag is no MD5) and, for a
 * body sent without its MD5 because the server checks CRC-32Cs, the
 * answer confirms the CRC-32C sent; else the wrong object version removed
 * (PutObject), the handle's body mode changed when the ETag is the MD5 of
 * the aws-chunked framing (the server stored it), and err filled,
 * retryable. An answer that echoes the CRC-32C sent sets crc_checked. */
int32_t s3_body_verify(s3_call *c, const sdk_response *resp,
                       store_error *err);
/* The server refused an aws-chunked body (Swift's NotImplemented) or
 * stored its framing: send unsigned from now on (said once). Returns
 * non-zero when c was sent aws-chunked. */
int s3_body_fallback(s3_call *c, const char *why);

#endif /* S3_H */
