/*
** gcs.h -- private interface of the `gcs` storage provider.
**
** The provider speaks Google Cloud Storage's JSON API over the SDK's
** pooled libcurl client, authenticated with OAuth2 bearer tokens
** (sdk_oauth.h: a service account's JWT grant, an authorized_user's
** refresh token, a static token, or none for public buckets). Containers
** are buckets, blobs are objects; snapshots are object generations.
**
** Requests: gcs_request.c builds URLs, adds the token, performs (a 401
** refreshes the token once) and gcs_error.c turns Google's JSON error
** into a store_error. gcs_meta.c reads object resources into entries and
** writes the metadata JSON of uploads. Each op lives in its own file.
*/
#ifndef GCS_H
#define GCS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store_interface.h"
#include "sdk_body.h"
#include "sdk_buf.h"
#include "sdk_error.h"
#include "sdk_http.h"
#include "sdk_json.h"
#include "sdk_oauth.h"
#include "sdk_util.h"

#define GCS_DEFAULT_ENDPOINT "https://storage.googleapis.com"
#define GCS_SCOPE "https://www.googleapis.com/auth/devstorage.read_write"
#define GCS_DEFAULT_CT "application/octet-stream"

/* A put of known length up to this is one media (or multipart: metadata
 * + media) request; beyond it, a resumable session with the body streamed
 * in one PUT; for unknown lengths, a resumable session in chunks. */
#define GCS_SIMPLE_MAX ((uint64_t)16 << 20)
/* Chunk of an unknown-length upload: a multiple of 256 KiB (the
 * protocol's rule), buffered so that a broken connection resumes from
 * what the server kept. The only buffer of a put; known lengths have
 * none. */
#define GCS_CHUNK ((size_t)8 << 20)
#define GCS_CHUNK_UNIT ((size_t)256 << 10)
/* Times a resumable upload asks the server where it stands and goes on
 * after a broken connection or a retryable answer, within one put. */
#define GCS_RESUME_TRIES 5
/* Sources of one compose request (the service's limit). */
#define GCS_COMPOSE_MAX 32
#define GCS_MAX_KEY 1024
#define GCS_PAGE_MAX 1000u
/* Multipart parts live as temporary objects under this prefix (hidden
 * from listings): PREFIX UPLOAD-ID "/" PART. */
#define GCS_PARTS_PREFIX ".xtstore-parts/"
#define GCS_NONCE_HEX 32
/* Reserved user metadata: set on the current generation a snapshot was
 * taken of, so it is listed as a snapshot while it is still current.
 * Never reported as user metadata. */
#define GCS_SNAPSHOT_META "xtstore-snapshot"

struct store_handle {
  char *name;                   /* service name; owned                     */
  char *endpoint;               /* base URL, no trailing '/'; owned        */
  char *project;                /* for bucket list/insert; owned, or NULL  */
  char *cred_what;              /* where the credentials came from         */
  sdk_oauth *auth;              /* owned; NULL when anonymous              */
  int versioned_buckets;        /* container_create enables versioning    */
  sdk_http *http;               /* owned; thread-safe                      */
  const store_host_api *host;   /* valid for the life of the process       */
  /* gcs_batch.c: the last bucket whose versioning a batch delete read,
   * and the answer, kept for the handle's life (under that file's lock). */
  char versioning_bucket[223];  /* "" before any; a name is <= 222 bytes  */
  int versioning;
};

/* What a request is about, for URLs and messages. Borrowed strings. */
typedef struct gcs_target {
  const char *op;               /* "put", "list", ...                      */
  const char *bucket;           /* NULL: the project                       */
  const char *key;              /* NULL: the bucket itself                 */
  const char *generation;       /* NULL: the live object                   */
} gcs_target;

/* An object resource read into an entry. Strings are borrowed from the
 * JSON (which the caller keeps alive) or held in the struct; md is owned
 * (gcs_obj_free). */
typedef struct gcs_obj {
  store_entry e;
  store_kv *md;
  size_t nmd;
  char md5[33];
  const char *generation;       /* decimal, or NULL                        */
  int64_t metageneration;
  int snapshot_mark;            /* GCS_SNAPSHOT_META set                   */
  int noncurrent;               /* timeDeleted set (a listed old version)  */
} gcs_obj;

/* gcs_config.c */
int32_t gcs_config_open(store_handle *h, const store_kv *cfg, size_t n,
                        store_error *err);

/* gcs_error.c */
int32_t gcs_fail(const gcs_target *t, store_error *err, int32_t code,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int32_t gcs_nomem(const gcs_target *t, store_error *err);
int32_t gcs_fail_response(const gcs_target *t, const sdk_response *resp,
                          store_error *err);

/* gcs_request.c */
#define GCS_API    "/storage/v1"
#define GCS_UPLOAD "/upload/storage/v1"
int32_t gcs_check_bucket(const gcs_target *t, store_error *err);
int32_t gcs_check_key(const gcs_target *t, store_error *err);
int gcs_temp_name(const char *name);
int32_t gcs_check_dest(const gcs_target *t, store_error *err);
int32_t gcs_url(const store_handle *h, const gcs_target *t, const char *base,
                sdk_buf *out, store_error *err);
int32_t gcs_objects_url(const store_handle *h, const gcs_target *t,
                        const char *base, sdk_buf *out, store_error *err);
int32_t gcs_query(const gcs_target *t, sdk_buf *url, const char *name,
                  const char *value, store_error *err);
int32_t gcs_header(const gcs_target *t, sdk_request *r, const char *name,
                   const char *value, store_error *err);
/* Send r with the token. replay: the body can be sent again (none, or in
 * memory), so a 401 refreshes the token and sends once more; otherwise a
 * 401 drops the token and fails retryable. Any status is returned in
 * *out (owned); only transport failures are errors. */
int32_t gcs_send(store_handle *h, const gcs_target *t, sdk_request *r,
                 int replay, sdk_response **out, store_error *err);
/* gcs_send, and a non-2xx answer becomes err. *out (may be NULL) is the
 * 2xx response. */
int32_t gcs_perform(store_handle *h, const gcs_target *t, sdk_request *r,
                    int replay, sdk_response **out, store_error *err);
/* METHOD url with the JSON body (NULL: none; empty for POST); the 2xx
 * answer's JSON object into *out (may be NULL: not parsed; NULL too for
 * a 204). */
int32_t gcs_json(store_handle *h, const gcs_target *t, const char *method,
                 const char *url, const json_t *body, json_t **out,
                 store_error *err);
/* The JSON object in a 2xx response's body. */
int32_t gcs_parse(const gcs_target *t, const sdk_response *resp,
                  json_t **out, store_error *err);
/* ?name=... for the generation a target names, if any. */
int32_t gcs_query_generation(const gcs_target *t, sdk_buf *url,
                             store_error *err);

/* One line to the host's log (nothing when it has none). */
void gcs_log(const store_handle *h, int32_t level, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

/* gcs_meta.c */
void gcs_obj_init(gcs_obj *o);
int32_t gcs_obj_read(const gcs_target *t, const json_t *res, gcs_obj *o,
                     store_error *err);
void gcs_obj_free(gcs_obj *o);
/* x-goog-hash of a response into crc/md5 (bits in the return value:
 * STORE_CKSUM_*). */
uint32_t gcs_goog_hash(const sdk_response *resp, uint32_t *crc,
                       unsigned char md5[16]);
int32_t gcs_meta_check(const gcs_target *t, const store_kv *md, size_t n,
                       store_error *err);
/* {"name", "contentType", "metadata", "crc32c", "md5Hash"} for an upload
 * or a compose destination; name NULL leaves it out. *out owned. */
int32_t gcs_resource_json(const gcs_target *t, const char *name,
                          const char *ct, const store_kv *md, size_t nmd,
                          uint32_t cksums, uint32_t crc,
                          const unsigned char *md5, json_t **out,
                          store_error *err);
/* GET the object resource (metadata); one of a generation (t->generation)
 * is reported as a snapshot. */
int32_t gcs_obj_get(store_handle *h, const gcs_target *t, json_t **out,
                    gcs_obj *o, store_error *err);
/* Did the service store size bytes of CRC-32C crc (what says whose:
 * "the bytes sent")? STORE_E_IO if not (retryable for the CRC). */
int32_t gcs_obj_check(const gcs_target *t, const gcs_obj *o, uint64_t size,
                      uint32_t crc, const char *what, store_error *err);
/* rc of a read-modify-write guarded by what was read (metageneration):
 * a PRECONDITION is a lost race, and the whole call may be tried again,
 * so it is made retryable for the host (plugins do not retry). */
int32_t gcs_retry_race(int32_t rc, store_error *err);
/* A put result from the stored resource; sent_crc is the CRC-32C of the
 * bytes sent (checked against what the service stored). */
int32_t gcs_put_result(const gcs_target *t, const gcs_obj *o,
                       uint64_t sent_size, uint32_t sent_crc,
                       store_put_result *out, store_error *err);
/* ifGenerationMatch for a put's conditions (fail-if-exists, if_match). */
int32_t gcs_query_conditions(const gcs_target *t, sdk_buf *url,
                             uint32_t flags, const char *if_match,
                             store_error *err);

/* A fail-if-exists put refused by ifGenerationMatch=0 (412) is EXISTS. */
int32_t gcs_put_condition(const gcs_target *t, uint32_t flags, int32_t rc,
                          store_error *err);

/* gcs_upload.c */
int32_t gcs_upload(store_handle *h, const gcs_target *t,
                   const store_put_opts *opts, store_read_fn src,
                   void *src_ctx, store_put_result *out, store_error *err);

/* gcs_blob.c */
store_blob_put_op gcs_blob_put;
store_blob_get_op gcs_blob_get;
store_blob_head_op gcs_blob_head;
store_blob_set_metadata_op gcs_blob_set_metadata;
/* DELETE one generation (NULL: the live object). */
int32_t gcs_delete_object(store_handle *h, const gcs_target *t,
                          store_error *err);
/* gcs_delete_object, with if_match (NULL: none) only while the live
 * generation is if_match (ifGenerationMatch; else PRECONDITION). */
int32_t gcs_delete_object_if(store_handle *h, const gcs_target *t,
                             const char *if_match, store_error *err);
/* gcs_batch.c */
store_blob_delete_batch_op gcs_blob_delete_batch;

/* gcs_list.c */
/* One object of a listing: its resource as read. Return STORE_OK to go
 * on, or an error code (with err set) that ends the listing with it. */
typedef int32_t (*gcs_item_fn)(void *ctx, const gcs_obj *o);
/* gcs_list_objects flags: every generation (versions=true), not only
 * live objects; only the object named `prefix`. */
#define GCS_LIST_VERSIONS 1
#define GCS_LIST_EXACT    2
/* Every object of the bucket whose name starts with prefix (NULL: all),
 * in pages, each through fn. */
int32_t gcs_list_objects(store_handle *h, const gcs_target *t,
                         const char *prefix, int flags, gcs_item_fn fn,
                         void *ctx, store_error *err);
store_blob_list_op gcs_blob_list;

/* gcs_container.c */
store_container_create_op gcs_container_create;
store_container_delete_op gcs_container_delete;
store_container_list_op gcs_container_list;
store_container_head_op gcs_container_head;
store_container_set_metadata_op gcs_container_set_metadata;
int32_t gcs_bucket_versioned(store_handle *h, const gcs_target *t,
                             int *out, store_error *err);

/* gcs_multipart.c */
/* Compose srcs[0..n) (names, with generations when non-NULL) into t's
 * object, guarded by dest_if_gen (NULL: none; "0": must not exist), with
 * `dest` as the destination resource (NULL: the service's defaults). */
int32_t gcs_compose(store_handle *h, const gcs_target *t,
                    const char *const *names, const char *const *gens,
                    size_t n, const json_t *dest, const char *dest_if_gen,
                    json_t **out, store_error *err);
store_multipart_begin_op gcs_multipart_begin;
store_multipart_part_op gcs_multipart_part;
store_multipart_part_checked_op gcs_multipart_part_checked;
store_multipart_complete_op gcs_multipart_complete;
store_multipart_abort_op gcs_multipart_abort;
store_multipart_list_op gcs_multipart_list;

/* gcs_append.c */
store_blob_append_op gcs_blob_append;

/* gcs_copy.c */
/* rewriteTo loop from src (with its generation, if any) to dst, with
 * `dest` as the destination resource (NULL: copy the source's). */
int32_t gcs_rewrite(store_handle *h, const gcs_target *src,
                    const gcs_target *dst, const json_t *dest,
                    const char *dest_if_gen, json_t **out, store_error *err);
store_blob_copy_op gcs_blob_copy;
store_blob_copy_checked_op gcs_blob_copy_checked;

/* gcs_snapshot.c */
store_blob_snapshot_op gcs_blob_snapshot;
store_blob_delete_op gcs_blob_delete;

/* gcs_presign.c: a V4 signed URL (blob_presign) */
store_blob_presign_op gcs_blob_presign;

#endif /* GCS_H */
