/*
** store_interface.h -- the xtstore storage-provider ABI, version 1.1.
**
** This is the only header a plugin must include. A plugin is a shared object
** that exports one data symbol, literally named `store_interface`, of type
** `struct store_interface`:
**
**   STORE_EXPORT const struct store_interface store_interface = {
**     .abi_major = STORE_ABI_MAJOR, .abi_minor = STORE_ABI_MINOR,
**     .struct_size = sizeof(struct store_interface), .name = "acme", ...
**   };
** The host (libxtstore) dlopen()s it, validates it,
** copies the table and drives it. Plugins never link against host symbols:
** everything they need from the host arrives in `struct store_host_api`.
**
** ---------------------------------------------------------------------------
** VERSIONING
**   - The first four fields of `struct store_interface` never change in any
**     version: abi_major, abi_minor, struct_size, reserved.
**   - The host rejects a plugin whose abi_major differs from its own, and one
**     whose abi_minor is newer than its own. It copies
**     min(struct_size, sizeof(host table)) bytes into a zeroed host-side
**     table, so fields a plugin's older header lacks read as NULL / 0.
**   - Every later 1.x version only APPENDS fields, to the end of a struct,
**     each marked "since 1.N". Nothing is reordered, retyped or removed.
**   - Every boundary struct that can grow starts with `uint32_t struct_size`.
**     Input structs (options, entries): the writer sets it; the reader
**     touches only fields that lie inside it (use STORE_HAS_FIELD).
**     Output structs the caller provides for the callee to fill
**     (store_error, store_put_result): the caller sets it to its capacity;
**     the callee writes only fields that lie inside it.
**   - Only ABI-safe types cross the boundary: fixed-width integers, pointers,
**     size_t and char arrays. No enum, bool, bitfield, long, off_t, time_t.
**
** ERRORS
**   Every operation returns STORE_OK (0) or one STORE_E_* code and, on
**   failure, fills the caller-owned `store_error` (err->code == return
**   value). The host zeroes the error and sets err->struct_size before each
**   call. A message names the object and the cause ("container 'logs': not
**   found"), is NUL-terminated and is truncated, never overflowed (use
**   store_error_set). Secrets never appear in a message.
**   The plugin CLASSIFIES (STORE_ERR_RETRYABLE, http_status, retry_after_ms);
**   the HOST DECIDES (attempts, backoff, jitter). Plugins do not retry on
**   their own. When an op that takes a callback fails before starting, the
**   callback was never called.
**
** MEMORY
**   Arguments are borrowed for the duration of the call; callback arguments
**   for the duration of that callback only. Neither side frees memory the
**   other allocated: outputs go into caller-owned structs and buffers or
**   through callbacks. The store_handle returned by open() is the only
**   plugin object that lives across calls; close() releases it. The
**   interface table, its strings, limits and config_keys are static.
**   Plugins copy any configuration strings they keep.
**
** STREAMING
**   blob_put / blob_append / multipart_part PULL bytes through a
**   store_read_fn until it reports 0 bytes (EOF). blob_get PUSHES bytes into
**   a store_write_fn. Chunks are bounded (the host uses <= 8 MiB), so no op
**   ever holds a whole object in memory. A callback returning non-zero stops
**   the op: the op returns STORE_E_ABORTED and never calls back again. A
**   failed or aborted put leaves no partial object visible.
**
** THREADS
**   With STORE_CAP_THREADSAFE the host may call ops on one handle from
**   several threads at once; without it the host serialises calls per
**   handle. module_init / module_fini / open / close are never concurrent
**   with other calls on the same handle.
**
** LIFE CYCLE
**   dlopen -> validate -> module_init (optional) -> open (per configured
**   service) -> ops -> close -> module_fini (optional). module_init runs
**   before the first open() of a process and module_fini after the last
**   close(), once each; a host that later opens the module again (a new
**   context) runs module_init again first. Modules stay resident.
**
** CONFIGURATION
**   open() receives the service's configuration entry as key/value strings:
**   every key of the YAML entry except `type`, `provider`, and `retry` and
**   `multipart` with their nested keys (owned by the host: its retry policy
**   and transfer engine), with secret references already resolved, plus
**   `name` (the
**   service name) unless the entry sets it. Nested maps arrive flattened as
**   "outer.inner". The host checks the keys against `config_keys`: unknown
**   keys give a warning, missing required keys an error, and values of
**   secret keys are never printed.
** ---------------------------------------------------------------------------
*/
#ifndef STORE_INTERFACE_H
#define STORE_INTERFACE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STORE_ABI_MAJOR 1
#define STORE_ABI_MINOR 1
#define STORE_INTERFACE_SYMBOL "store_interface"

#if defined(__GNUC__)
#define STORE_EXPORT __attribute__((visibility("default")))
#else
#define STORE_EXPORT
#endif

/* True when a struct whose struct_size is `sz` contains field `f`. */
#define STORE_HAS_FIELD(type, f, sz) \
  ((size_t)(sz) >= offsetof(type, f) + sizeof(((type *)0)->f))
/* since 1.1: member f of the struct_size-led struct p (of type t) that the
 * other side may have built against an older header: its value when p is
 * not NULL and its struct_size holds f, else dflt. */
#define STORE_OPT(p, t, f, dflt) \
  ((p) && STORE_HAS_FIELD(t, f, (p)->struct_size) ? (p)->f : (dflt))

/* ------------------------------------------------------------------------ */
/* Status codes. Values are fixed forever; new ones are appended. A host    */
/* treats a code it does not know as STORE_E_INTERNAL.                      */
/* ------------------------------------------------------------------------ */
#define STORE_OK              0
#define STORE_E_NOT_FOUND     1  /* container, blob or snapshot missing     */
#define STORE_E_EXISTS        2  /* already exists (fail-if-exists, create) */
#define STORE_E_PERMISSION    3  /* authenticated but not allowed (403)     */
#define STORE_E_INVALID       4  /* malformed name, key or argument         */
#define STORE_E_UNSUPPORTED   5  /* op or option not offered by this store  */
#define STORE_E_PRECONDITION  6  /* if-match failed, wrong blob type, ...   */
#define STORE_E_THROTTLED     7  /* 429, 503 SlowDown, ServerBusy           */
#define STORE_E_TIMEOUT       8  /* request or connection timed out         */
#define STORE_E_IO            9  /* local I/O or network failure            */
#define STORE_E_NOMEM        10  /* allocation failed                       */
#define STORE_E_ABORTED      11  /* a callback asked to stop, or cancelled  */
#define STORE_E_INTERNAL     12  /* bug, or an unexpected server reply      */
#define STORE_E_AUTH         13  /* bad or missing credentials (401, sig)   */
#define STORE_E_CONFIG       14  /* bad service configuration at open()     */
#define STORE_E_NOT_EMPTY    15  /* container not empty; blob has snapshots */
#define STORE_E_SERVER       16  /* server-side failure (5xx)               */

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */
#define STORE_ERR_RETRYABLE  (1u << 0) /* the same request may succeed later */

#define STORE_ERR_MSG_SIZE   256
#define STORE_ERR_CODE_SIZE  64
#define STORE_ERR_REQID_SIZE 64

/* Caller-owned. The host zeroes it and sets struct_size before each call. */
typedef struct store_error {
  uint32_t struct_size;
  int32_t  code;            /* == the op's return value                    */
  int32_t  http_status;     /* 0 when not HTTP-backed                      */
  uint32_t flags;           /* STORE_ERR_RETRYABLE                         */
  int32_t  sys_errno;       /* 0 when none                                 */
  uint32_t retry_after_ms;  /* server's hint (Retry-After); 0 = none       */
  char     provider_code[STORE_ERR_CODE_SIZE];  /* "SlowDown", "ENOENT"    */
  char     request_id[STORE_ERR_REQID_SIZE];    /* backend request id      */
  char     message[STORE_ERR_MSG_SIZE];         /* NUL-terminated          */
} store_error;

/* ------------------------------------------------------------------------ */
/* Host services. Plugins reach the host only through this table. The one   */
/* passed to module_init is valid for the life of the process; the one      */
/* passed to open() until that handle is closed.                            */
/* ------------------------------------------------------------------------ */
#define STORE_LOG_ERROR 0
#define STORE_LOG_WARN  1
#define STORE_LOG_INFO  2
#define STORE_LOG_DEBUG 3

typedef struct store_host_api {
  uint32_t struct_size;
  uint32_t abi_major;       /* the host's ABI version                      */
  uint32_t abi_minor;
  uint32_t reserved;
  void *host_ctx;           /* pass back to the functions below            */
  /* Log one line (no trailing newline needed). Never log secrets. */
  void (*log)(void *host_ctx, int32_t level, const char *msg);
  /* Non-zero once the user asked to stop; long ops should poll it between
   * chunks and return STORE_E_ABORTED. */
  int32_t (*is_cancelled)(void *host_ctx);
} store_host_api;

/* ------------------------------------------------------------------------ */
/* Small shared types                                                       */
/* ------------------------------------------------------------------------ */
typedef struct store_handle store_handle;  /* opaque, plugin-defined */

typedef struct store_kv {
  const char *key;
  const char *value;
} store_kv;

/* One configuration key a plugin understands. Tables end with name==NULL. */
typedef struct store_config_key {
  const char *name;         /* e.g. "path", "access-key"                   */
  const char *description;  /* one line, shown by `xtstore plugins`        */
  uint32_t required;        /* non-zero: open() fails without it           */
  uint32_t secret;          /* non-zero: value is never printed or logged  */
} store_config_key;

/* Service limits, so the host's transfer engine can plan multipart uploads
 * and listing. 0 means "no limit / not applicable". */
typedef struct store_limits {
  uint32_t struct_size;
  uint32_t max_parts;             /* multipart: most parts per upload      */
  uint64_t min_part_size;         /* multipart: smallest non-last part     */
  uint64_t max_part_size;         /* multipart: largest part               */
  uint64_t max_object_size;       /* largest object                        */
  uint64_t max_put_size;          /* largest single blob_put               */
  uint32_t list_page_size;        /* entries per listing page              */
  uint32_t equal_parts_required;  /* non-zero: all parts but the last equal */
  uint32_t max_key_length;        /* bytes                                 */
  uint32_t reserved;
} store_limits;

/* ------------------------------------------------------------------------ */
/* Entries: what listings and head report. Borrowed for the callback only.  */
/* ------------------------------------------------------------------------ */
#define STORE_ENTRY_PREFIX     (1u << 0) /* a "dir/" from a delimiter listing */
#define STORE_ENTRY_SNAPSHOT   (1u << 1) /* a snapshot; snapshot_id is set    */
#define STORE_ENTRY_DIR_MARKER (1u << 2) /* a directory marker object         */
#define STORE_ENTRY_CONTAINER  (1u << 3) /* a container (container_list/head) */

#define STORE_MTIME_UNKNOWN INT64_MIN

/* since 1.1: checksum kinds, as bits. A value is reported or passed only
 * with its bit set, and always covers the WHOLE body it belongs to (the
 * object, or the part): a composite "checksum of checksums" (S3 multipart
 * COMPOSITE type, "...-N") is never reported as one of these. */
#define STORE_CKSUM_CRC32C (1u << 0) /* CRC-32C (Castagnoli), as S3, GCS and
                                        OCI use it; the usual value, e.g.
                                        "123456789" -> 0xe3069283           */
#define STORE_CKSUM_MD5    (1u << 1) /* MD5 digest, 16 bytes                */

typedef struct store_entry {
  uint32_t struct_size;
  uint32_t flags;               /* STORE_ENTRY_*                           */
  const char *name;             /* container name, or the blob's full key
                                   relative to its container; a PREFIX
                                   entry ends in the delimiter             */
  uint64_t size;                /* bytes; 0 for prefixes and containers    */
  int64_t  mtime_ns;            /* Unix ns, or STORE_MTIME_UNKNOWN         */
  const char *etag;             /* may be NULL                             */
  const char *content_type;     /* may be NULL                             */
  const char *snapshot_id;      /* NULL unless STORE_ENTRY_SNAPSHOT        */
  const char *content_md5;      /* lowercase hex, or NULL when unknown     */
  const store_kv *metadata;     /* user metadata; may be NULL when listing
                                   without STORE_LIST_METADATA            */
  size_t nmetadata;
  /* since 1.1: checksums of the object as the store keeps them (read them
   * with store_entry_crc32c). The MD5 stays in content_md5. */
  uint32_t checksums;           /* STORE_CKSUM_CRC32C when crc32c is set   */
  uint32_t crc32c;
} store_entry;

/* ------------------------------------------------------------------------ */
/* Callbacks. Return 0 to go on; non-zero stops the op with STORE_E_ABORTED */
/* ------------------------------------------------------------------------ */

/* Fill buf with up to cap bytes; *out_n = 0 means end of data. */
typedef int32_t (*store_read_fn)(void *ctx, void *buf, size_t cap,
                                 size_t *out_n);
/* Consume len bytes (len > 0). */
typedef int32_t (*store_write_fn)(void *ctx, const void *buf, size_t len);
/* One entry of a listing, or the properties of one object. */
typedef int32_t (*store_entry_fn)(void *ctx, const store_entry *entry);
/* since 1.1: the outcome of keys[index] of a blob_delete_batch: code is
 * STORE_OK or the key's own failure, described by err (NULL when OK). */
typedef int32_t (*store_batch_fn)(void *ctx, size_t index, int32_t code,
                                  const store_error *err);

/* ------------------------------------------------------------------------ */
/* Options. Every pointer may be NULL where it means "none".                */
/* ------------------------------------------------------------------------ */
#define STORE_PUT_IF_NONE_MATCH (1u << 0) /* fail with EXISTS if present   */

typedef struct store_put_opts {
  uint32_t struct_size;
  uint32_t flags;                 /* STORE_PUT_*                           */
  int64_t  content_length;        /* bytes, or -1 when unknown (read to EOF)*/
  const char *content_type;       /* NULL: provider default                */
  const store_kv *metadata;       /* user metadata (names without prefix)  */
  size_t nmetadata;
  const char *if_match;           /* etag; NULL = unconditional            */
  /* since 1.1: checksums of the body the host knows BEFORE sending it (bits
   * in `checksums`). A plugin sends those its protocol carries, so that the
   * server refuses a body that does not match (S3 x-amz-checksum-crc32c,
   * GCS x-goog-hash, OCI opc-content-crc32c, Content-MD5). For
   * multipart_begin and multipart_complete they are the whole object's,
   * known to the host by complete; for multipart_part_checked, the part's. */
  uint32_t checksums;             /* STORE_CKSUM_* set below               */
  uint32_t crc32c;
  uint8_t  md5[16];
  /* since 1.1: checksums the host asks the plugin to compute WHILE the body
   * streams and send after it (an S3 trailer), for bodies whose checksum is
   * not known in advance (pipes). A plugin that cannot ignores the bits;
   * either way the host compares what the result reports with its own. */
  uint32_t trailer_checksums;     /* STORE_CKSUM_*                         */
  uint32_t reserved1;
} store_put_opts;

typedef struct store_put_result {
  uint32_t struct_size;
  uint32_t reserved;
  uint64_t size;                  /* bytes stored                          */
  char etag[128];                 /* "" when the store has none            */
  char version_id[128];           /* "" when not versioned                 */
  /* since 1.1: checksums of what was stored, AS THE STORE REPORTS THEM (a
   * server's response header or body; a store without a server, such as
   * local files, computes them over the bytes it wrote), never copied from
   * opts: the host compares them with its own to prove that the stored
   * bytes are the bytes it supplied. Bits only for values the store gave. */
  uint32_t checksums;             /* STORE_CKSUM_* set below               */
  uint32_t crc32c;
  uint8_t  md5[16];
} store_put_result;

#define STORE_GET_RANGE (1u << 0) /* offset/length are meaningful         */

typedef struct store_get_opts {
  uint32_t struct_size;
  uint32_t flags;                 /* STORE_GET_*                           */
  uint64_t offset;                /* with STORE_GET_RANGE                  */
  uint64_t length;                /* with STORE_GET_RANGE; 0 = to the end  */
  const char *snapshot_id;        /* read this snapshot; NULL = current    */
  const char *if_match;           /* etag; NULL = unconditional            */
  /* Called once, before the first byte, with the object's properties.
   * May be NULL. */
  store_entry_fn on_entry;
  void *on_entry_ctx;
} store_get_opts;

typedef struct store_head_opts {
  uint32_t struct_size;
  uint32_t reserved;
  const char *snapshot_id;        /* NULL = current                        */
} store_head_opts;

#define STORE_DELETE_SNAPSHOTS (1u << 0) /* also delete the blob's snapshots */

typedef struct store_delete_opts {
  uint32_t struct_size;
  uint32_t flags;                 /* STORE_DELETE_*                        */
  /* Delete ONLY this snapshot and leave the base blob alone. */
  const char *snapshot_id;
  /* since 1.1: delete only while the blob's ETag is this (as the store
   * reports it in entries and put results); refused STORE_E_PRECONDITION
   * otherwise. NULL = unconditional. The host passes it only to a plugin
   * with STORE_CAP_DELETE_IF_MATCH, and never with snapshot_id. */
  const char *if_match;
} store_delete_opts;

#define STORE_LIST_SNAPSHOTS (1u << 0) /* include snapshots as entries     */
#define STORE_LIST_METADATA  (1u << 1) /* fill entry metadata if possible  */

typedef struct store_list_opts {
  uint32_t struct_size;
  uint32_t flags;                 /* STORE_LIST_*                          */
  const char *prefix;             /* NULL or "": everything                */
  /* NULL or "": recursive flat listing of every key under prefix. "/":
   * keys directly under prefix, and one PREFIX entry "prefix.../" per
   * deeper level (XT's non-recursive view). */
  const char *delimiter;
  const char *start_after;        /* only keys sorting after this one      */
  uint32_t page_size;             /* hint; 0 = provider default            */
  uint32_t reserved;
} store_list_opts;
/* Listings report entries in byte-wise ascending order of name. */

#define STORE_CONTAINER_DELETE_RECURSIVE (1u << 0) /* delete contents too */

#define STORE_COPY_REPLACE_METADATA (1u << 0) /* use opts' type/metadata   */

typedef struct store_copy_opts {
  uint32_t struct_size;
  uint32_t flags;                 /* STORE_COPY_*                          */
  const char *src_snapshot_id;    /* copy from this snapshot; NULL = current */
  const char *content_type;       /* with STORE_COPY_REPLACE_METADATA      */
  const store_kv *metadata;       /* with STORE_COPY_REPLACE_METADATA      */
  size_t nmetadata;
} store_copy_opts;

typedef struct store_append_opts {
  uint32_t struct_size;
  uint32_t reserved;
  int64_t  content_length;        /* bytes, or -1 when unknown             */
  const char *content_type;       /* used only when the blob is created    */
} store_append_opts;

#define STORE_ID_SIZE 256  /* buffers for snapshot ids, upload ids, part tokens */

/* ------------------------------------------------------------------------ */
/* Capabilities. Each bit promises behaviour and, where listed, ops that    */
/* the host checks are non-NULL.                                            */
/* ------------------------------------------------------------------------ */
#define STORE_CAP_CONTAINERS  (UINT64_C(1) << 0) /* container_create, _delete,
                                                    _list, _head           */
#define STORE_CAP_RANGE_GET   (UINT64_C(1) << 1) /* blob_get honours ranges */
#define STORE_CAP_METADATA    (UINT64_C(1) << 2) /* user metadata on blobs:
                                                    kept from put, reported
                                                    by head/get; and
                                                    blob_set_metadata      */
#define STORE_CAP_APPEND      (UINT64_C(1) << 3) /* blob_append            */
#define STORE_CAP_SNAPSHOT    (UINT64_C(1) << 4) /* blob_snapshot; snapshot
                                                    ids in get/head/delete */
#define STORE_CAP_COPY        (UINT64_C(1) << 5) /* blob_copy, same service */
#define STORE_CAP_MULTIPART   (UINT64_C(1) << 6) /* multipart_begin, _part,
                                                    _complete, _abort      */
#define STORE_CAP_CONDITIONAL (UINT64_C(1) << 7) /* IF_NONE_MATCH, if_match */
#define STORE_CAP_THREADSAFE  (UINT64_C(1) << 8) /* concurrent ops, 1 handle */
#define STORE_CAP_CONTENT_TYPE (UINT64_C(1) << 9) /* stores content types   */
#define STORE_CAP_DIR_MARKERS (UINT64_C(1) << 10) /* hides directory markers */
#define STORE_CAP_CONTAINER_METADATA (UINT64_C(1) << 11) /* metadata on
                                                    containers: create keeps
                                                    it, head reports it, and
                                                    container_set_metadata */
#define STORE_CAP_PRESIGN     (UINT64_C(1) << 12) /* since 1.1:
                                                    blob_presign           */
#define STORE_CAP_DELETE_IF_MATCH (UINT64_C(1) << 13) /* since 1.1:
                                                    blob_delete honours
                                                    store_delete_opts.
                                                    if_match               */

/* since 1.1: what blob_presign is asked for. */
#define STORE_PRESIGN_GET 0  /* a URL that reads the blob                */
#define STORE_PRESIGN_PUT 1  /* a URL that creates or replaces the blob  */

typedef struct store_presign_opts {
  uint32_t struct_size;
  uint32_t method;                /* STORE_PRESIGN_*                       */
  uint32_t expires_s;             /* lifetime in seconds, >= 1; a store
                                     that allows less refuses (INVALID)   */
  uint32_t reserved;
  const char *content_type;       /* PUT: the Content-Type the upload must
                                     send, where the store can bind it;
                                     NULL: none required                  */
} store_presign_opts;

#define STORE_PRESIGN_HEADERS_SIZE 256

/* Filled by blob_presign (the caller sets struct_size to its capacity). */
typedef struct store_presign_result {
  uint32_t struct_size;
  uint32_t reserved;
  int64_t  expires_at;            /* Unix seconds the URL stops working at */
  char     id[STORE_ID_SIZE];     /* the store's id of the grant, to revoke
                                     it (OCI's PAR id); "" when none      */
  char     headers[STORE_PRESIGN_HEADERS_SIZE]; /* "Name: value" lines
                                     (each ending in '\n') a request
                                     through the URL must send; "" none   */
} store_presign_result;

/* since 1.1: one upload in parts that was begun and neither completed nor
 * aborted, as multipart_list reports it. Borrowed for the callback only. */
typedef struct store_upload {
  uint32_t struct_size;
  uint32_t reserved;
  const char *key;                /* the blob it will create              */
  const char *upload_id;          /* as multipart_begin gave it: what
                                     multipart_abort takes                */
  int64_t  initiated;             /* Unix seconds it began; 0 unknown     */
  int64_t  last_activity;         /* since 1.1: Unix seconds of its newest
                                     part (else of its begin); 0 unknown.
                                     An upload another machine is still
                                     writing is young by this, however old
                                     `initiated` is                       */
} store_upload;

/* since 1.1: one upload of a multipart_list. Return 0 to go on; non-zero
 * stops the listing with STORE_E_ABORTED. */
typedef int32_t (*store_upload_fn)(void *ctx, const store_upload *upload);

/* ------------------------------------------------------------------------ */
/* Op types                                                                 */
/* ------------------------------------------------------------------------ */
/* One function type per slot of struct store_interface, named
 * store_<slot>_op (the _fn names above are callbacks). The table's members
 * are pointers to them, and a plugin declares its ops with them, so the
 * compiler checks each definition against its slot:
 *   static store_blob_put_op acme_blob_put;
 * What each op does is said at its slot in the table below. */
typedef int32_t store_module_init_op(const store_host_api *host,
                                     store_error *err);
typedef void store_module_fini_op(void);
typedef int32_t store_open_op(const store_host_api *host,
                              const store_kv *config, size_t nconfig,
                              store_handle **out_handle, store_error *err);
typedef void store_close_op(store_handle *h);
typedef int32_t store_container_create_op(store_handle *h,
                                          const char *container,
                                          const store_kv *metadata,
                                          size_t nmetadata, store_error *err);
typedef int32_t store_container_delete_op(store_handle *h,
                                          const char *container,
                                          uint32_t flags, store_error *err);
typedef int32_t store_container_list_op(store_handle *h, const char *prefix,
                                        store_entry_fn cb, void *cb_ctx,
                                        store_error *err);
typedef int32_t store_container_head_op(store_handle *h,
                                        const char *container,
                                        store_entry_fn cb, void *cb_ctx,
                                        store_error *err);
typedef int32_t store_container_set_metadata_op(store_handle *h,
                                                const char *container,
                                                const store_kv *metadata,
                                                size_t nmetadata,
                                                store_error *err);
typedef int32_t store_blob_put_op(store_handle *h, const char *container,
                                  const char *key, const store_put_opts *opts,
                                  store_read_fn src, void *src_ctx,
                                  store_put_result *out, store_error *err);
typedef int32_t store_blob_get_op(store_handle *h, const char *container,
                                  const char *key, const store_get_opts *opts,
                                  store_write_fn sink, void *sink_ctx,
                                  store_error *err);
typedef int32_t store_blob_head_op(store_handle *h, const char *container,
                                   const char *key,
                                   const store_head_opts *opts,
                                   store_entry_fn cb, void *cb_ctx,
                                   store_error *err);
typedef int32_t store_blob_delete_op(store_handle *h, const char *container,
                                     const char *key,
                                     const store_delete_opts *opts,
                                     store_error *err);
typedef int32_t store_blob_list_op(store_handle *h, const char *container,
                                   const store_list_opts *opts,
                                   store_entry_fn cb, void *cb_ctx,
                                   store_error *err);
typedef int32_t store_blob_set_metadata_op(store_handle *h,
                                           const char *container,
                                           const char *key,
                                           const store_kv *metadata,
                                           size_t nmetadata,
                                           store_error *err);
typedef int32_t store_blob_copy_op(store_handle *h, const char *src_container,
                                   const char *src_key,
                                   const char *dst_container,
                                   const char *dst_key,
                                   const store_copy_opts *opts,
                                   store_error *err);
typedef int32_t store_blob_append_op(store_handle *h, const char *container,
                                     const char *key,
                                     const store_append_opts *opts,
                                     store_read_fn src, void *src_ctx,
                                     store_error *err);
typedef int32_t store_blob_snapshot_op(store_handle *h, const char *container,
                                       const char *key, char *out_id,
                                       size_t cap, store_error *err);
typedef int32_t store_multipart_begin_op(store_handle *h,
                                         const char *container,
                                         const char *key,
                                         const store_put_opts *opts,
                                         char *out_id, size_t cap,
                                         store_error *err);
typedef int32_t store_multipart_part_op(store_handle *h,
                                        const char *container,
                                        const char *key,
                                        const char *upload_id,
                                        uint32_t part_no, uint64_t length,
                                        store_read_fn src, void *src_ctx,
                                        char *out_token, size_t cap,
                                        store_error *err);
typedef int32_t store_multipart_complete_op(store_handle *h,
                                            const char *container,
                                            const char *key,
                                            const char *upload_id,
                                            const store_put_opts *opts,
                                            const char *const *tokens,
                                            uint32_t nparts,
                                            store_put_result *out,
                                            store_error *err);
typedef int32_t store_multipart_abort_op(store_handle *h,
                                         const char *container,
                                         const char *key,
                                         const char *upload_id,
                                         store_error *err);
/* since 1.1 */
typedef int32_t store_multipart_part_checked_op(store_handle *h,
                                                const char *container,
                                                const char *key,
                                                const char *upload_id,
                                                uint32_t part_no,
                                                uint64_t length,
                                                const store_put_opts *opts,
                                                store_read_fn src,
                                                void *src_ctx,
                                                char *out_token, size_t cap,
                                                store_put_result *out,
                                                store_error *err);
/* since 1.1 */
typedef int32_t store_blob_delete_batch_op(store_handle *h,
                                           const char *container,
                                           const char *const *keys, size_t n,
                                           store_batch_fn fn, void *ctx,
                                           store_error *err);
/* since 1.1 */
typedef int32_t store_blob_presign_op(store_handle *h, const char *container,
                                      const char *key,
                                      const store_presign_opts *opts,
                                      char *out_url, size_t cap,
                                      store_presign_result *out,
                                      store_error *err);
/* since 1.1 */
typedef int32_t store_multipart_list_op(store_handle *h,
                                        const char *container,
                                        const char *prefix,
                                        store_upload_fn cb, void *cb_ctx,
                                        store_error *err);
/* since 1.1 */
typedef int32_t store_blob_copy_checked_op(store_handle *h,
                                           const char *src_container,
                                           const char *src_key,
                                           const char *dst_container,
                                           const char *dst_key,
                                           const store_copy_opts *opts,
                                           store_put_result *out,
                                           store_error *err);

/* ------------------------------------------------------------------------ */
/* The interface table                                                      */
/* ------------------------------------------------------------------------ */
/* No typedef: the exported variable itself is named store_interface, and a
 * typedef of that name would clash with it. */
struct store_interface {
  /* --- header: identical in every 1.x; never changes ------------------- */
  uint32_t abi_major;       /* STORE_ABI_MAJOR the plugin was built with   */
  uint32_t abi_minor;       /* STORE_ABI_MINOR the plugin was built with   */
  uint32_t struct_size;     /* sizeof(struct store_interface) as built     */
  uint32_t reserved;        /* must be 0                                   */

  /* --- descriptor ------------------------------------------------------ */
  const char *name;         /* [a-z0-9_-]{1,64}, unique among loaded plugins */
  const char *version;      /* the plugin's own version, e.g. "1.2.0"      */
  const char *description;  /* one line                                    */
  uint64_t capabilities;    /* STORE_CAP_*                                 */
  const store_limits *limits;             /* may be NULL                   */
  const store_config_key *config_keys;    /* name==NULL terminated; may be NULL */

  /* --- life cycle ------------------------------------------------------ */
  /* Optional. After validation, before the first open() (see LIFE CYCLE). */
  store_module_init_op *module_init;
  /* Optional. After the last close() (see LIFE CYCLE). */
  store_module_fini_op *module_fini;
  /* Required. Open one configured service. On success *out_handle is set;
   * on failure it is NULL and err says why (STORE_E_CONFIG for bad keys). */
  store_open_op *open;
  /* Required. Release everything open() acquired. h may be NULL. */
  store_close_op *close;

  /* --- containers (STORE_CAP_CONTAINERS) ------------------------------- */
  /* EXISTS when it already exists. */
  store_container_create_op *container_create;
  /* NOT_EMPTY unless empty or flags has STORE_CONTAINER_DELETE_RECURSIVE. */
  store_container_delete_op *container_delete;
  /* One STORE_ENTRY_CONTAINER entry per container, in name order. */
  store_container_list_op *container_list;
  /* Properties and metadata through cb (called once); NOT_FOUND if absent. */
  store_container_head_op *container_head;
  /* Replace the container's user metadata (STORE_CAP_CONTAINER_METADATA). */
  store_container_set_metadata_op *container_set_metadata;

  /* --- blobs (required) ------------------------------------------------ */
  /* Create or replace. Pulls the body from src until EOF. Atomic: readers
   * see the old object or the complete new one, never a part. out may be
   * NULL. */
  store_blob_put_op *blob_put;
  /* Push the body (or the requested range) into sink. opts may be NULL. */
  store_blob_get_op *blob_get;
  /* Properties and user metadata through cb (called once). opts may be NULL. */
  store_blob_head_op *blob_head;
  /* NOT_FOUND if absent. NOT_EMPTY when the blob has snapshots and flags
   * lacks STORE_DELETE_SNAPSHOTS (stores that keep them). opts may be NULL. */
  store_blob_delete_op *blob_delete;
  /* Every matching entry through cb, all pages, in name order. */
  store_blob_list_op *blob_list;

  /* --- optional, by capability ----------------------------------------- */
  /* STORE_CAP_METADATA: replace the blob's user metadata. */
  store_blob_set_metadata_op *blob_set_metadata;
  /* STORE_CAP_COPY: server-side copy within this service. */
  store_blob_copy_op *blob_copy;
  /* STORE_CAP_APPEND: append src to the blob, creating it if missing. */
  store_blob_append_op *blob_append;
  /* STORE_CAP_SNAPSHOT: freeze the current blob; the id (NUL-terminated)
   * goes into out_id[0..cap). */
  store_blob_snapshot_op *blob_snapshot;
  /* STORE_CAP_MULTIPART: start an upload; the upload id goes to out_id.
   * Nothing is visible under key until multipart_complete succeeds. */
  store_multipart_begin_op *multipart_begin;
  /* Upload part number part_no (1-based) of exactly `length` bytes pulled
   * from src; the part's token goes to out_token. Parts may be uploaded in
   * any order and concurrently (with THREADSAFE); re-uploading a part
   * number replaces it. */
  store_multipart_part_op *multipart_part;
  /* Assemble parts 1..nparts (tokens[i] is part i+1) atomically. opts are
   * the options given to multipart_begin, passed again (may be NULL):
   * stores that apply conditions or properties only when an upload is
   * committed use them here and need keep no state between calls. */
  store_multipart_complete_op *multipart_complete;
  /* Discard the upload and every part of it. */
  store_multipart_abort_op *multipart_abort;

  /* --- since 1.1: append new fields below, each marked ----------------- */
  /* since 1.1. Optional (STORE_CAP_MULTIPART). multipart_part with the
   * part's checksums: opts->checksums are known before sending (send them
   * for the server to check), opts->trailer_checksums asked for while
   * streaming; out reports what the server says it stored, like blob_put.
   * opts and out may be NULL. When this is NULL the host calls
   * multipart_part and checks the part by size only. */
  store_multipart_part_checked_op *multipart_part_checked;
  /* since 1.1. Optional. Delete the blobs keys[0..n) of container (their
   * current versions, as blob_delete without options does) in as few
   * requests as the service allows, reporting each key once through fn
   * (index into keys, in any order; a key already gone is STORE_OK). Returns
   * STORE_OK when every key was reported; any other status is a failure of
   * the call itself, and keys not reported may or may not be deleted: the
   * host deletes those one by one, unless the failure would refuse each of
   * them too (AUTH, PERMISSION, NOT_FOUND, INVALID, NOMEM: the call's error
   * is then the result). STORE_E_UNSUPPORTED when this container
   * cannot be deleted in batches (say, a versioned bucket, where a plain
   * delete keeps the data): the host then deletes every key one by one.
   * The host passes at most 1000 keys per call. */
  store_blob_delete_batch_op *blob_delete_batch;
  /* since 1.1. Optional (STORE_CAP_PRESIGN). A URL that lets anyone who
   * holds it, with no credentials, make one kind of request on the blob
   * (opts->method) until opts->expires_s from now (the host passes 1 to
   * 10 years, XTSTORE_PRESIGN_MAX_S; a store allowing less refuses it,
   * INVALID, naming its limit; a content_type it checked for control
   * characters and size, which a store that cannot bind it refuses,
   * UNSUPPORTED): the URL (NUL-terminated)
   * into out_url[0..cap), expiry, grant id and required headers into out
   * (may be NULL). The URL carries a signature or token: plugins never log
   * it. A store that creates a server-side grant (OCI) returns its id.
   * INVALID when the URL does not fit in cap; UNSUPPORTED (naming the
   * reason) when these credentials cannot sign one. */
  store_blob_presign_op *blob_presign;
  /* since 1.1. Optional (STORE_CAP_MULTIPART). Every upload in parts of
   * container that was begun and is neither completed nor aborted, by
   * whoever began it (this host, another machine, another tool), whose key
   * starts with prefix (NULL or "": all), through cb, all pages, in any
   * order (a store that keeps nothing of an upload before its first part
   * lists it from then on). An upload can be listed for a moment after it
   * completes or is aborted; multipart_abort of one already gone is
   * NOT_FOUND where the store can tell (S3, OCI, local), else OK (GCS:
   * an upload is only its parts, and none left is the same as none yet).
   * NOT_FOUND when the container does not exist. NULL when the
   * store cannot list them: the host then knows only the uploads it
   * journaled itself. */
  store_multipart_list_op *multipart_list;
  /* since 1.1. Optional (STORE_CAP_COPY). blob_copy that reports the copy
   * it made AS THE STORE'S ANSWER TO THE COPY REQUEST SAYS, never from a
   * head afterwards (which could see another writer's object): out->etag
   * (the target's new ETag or generation, as blob_head would report it;
   * "" when the answer carries none), out->version_id, and out->size and
   * out->checksums where the answer carries them: leave out->size as the
   * host set it (UINT64_MAX) when the answer carries none, and set
   * checksum bits only for values given. out may be NULL. The
   * host pins what it does to the target after the copy (removing a wrong
   * copy) to that ETag, so an object another writer put there since is
   * never removed as the copy. When this is NULL the host calls
   * blob_copy. */
  store_blob_copy_checked_op *blob_copy_checked;
};

/* Smallest struct_size a 1.0 host accepts: the table through multipart_abort. */
#define STORE_INTERFACE_V1_0_SIZE \
  (offsetof(struct store_interface, multipart_abort) + sizeof(void (*)(void)))
/* Smallest struct_size a plugin built for 1.1 may export. */
#define STORE_INTERFACE_V1_1_SIZE                                     \
  (offsetof(struct store_interface, multipart_part_checked) +          \
   sizeof(void (*)(void)))

/* ------------------------------------------------------------------------ */
/* Inline helpers (header-only, so plugins still link nothing of the host). */
/* ------------------------------------------------------------------------ */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Fill err: code and a printf-style message, truncated to fit (set
 * err->flags, http_status etc. yourself). Returns code, so
 * `return store_error_set(err, ...)`. */
static inline int32_t store_error_set(store_error *err, int32_t code,
                                      const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 3, 4)))
#endif
  ;
static inline int32_t store_error_set(store_error *err, int32_t code,
                                      const char *fmt, ...)
{
  va_list ap;
  if (!err)
    return code;
  err->code = code;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof(err->message), fmt, ap);
  va_end(ap);
  return code;
}

/* since 1.1: the entry's CRC-32C into *out (when e reports one: a 1.0
 * plugin's entries are shorter and never do). Returns non-zero if set. */
static inline int store_entry_crc32c(const store_entry *e, uint32_t *out)
{
  if (!e || !STORE_HAS_FIELD(store_entry, crc32c, e->struct_size) ||
      !(e->checksums & STORE_CKSUM_CRC32C))
    return 0;
  *out = e->crc32c;
  return 1;
}

/* A short description of a status code ("not found"). */
static inline const char *store_strerror(int32_t code)
{
  switch (code) {
  case STORE_OK: return "ok";
  case STORE_E_NOT_FOUND: return "not found";
  case STORE_E_EXISTS: return "already exists";
  case STORE_E_PERMISSION: return "permission denied";
  case STORE_E_INVALID: return "invalid argument";
  case STORE_E_UNSUPPORTED: return "unsupported";
  case STORE_E_PRECONDITION: return "precondition failed";
  case STORE_E_THROTTLED: return "throttled";
  case STORE_E_TIMEOUT: return "timed out";
  case STORE_E_IO: return "I/O error";
  case STORE_E_NOMEM: return "out of memory";
  case STORE_E_ABORTED: return "aborted";
  case STORE_E_AUTH: return "authentication failed";
  case STORE_E_CONFIG: return "configuration error";
  case STORE_E_NOT_EMPTY: return "not empty";
  case STORE_E_SERVER: return "server error";
  default: return "internal error";
  }
}

#ifdef __cplusplus
}
#endif
#endif /* STORE_INTERFACE_H */
