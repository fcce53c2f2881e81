/*
** xtstore.h -- the public embedding API of libxtstore.
**
** A context reads the layered XT-style configuration; services are opened
** from it by name (lazily loading their provider plugin); every container
** and blob operation goes through host wrappers that validate arguments,
** serialise calls to plugins that are not thread-safe, and retry retryable
** failures when the request can be replayed.
**
** Conventions (the same as the plugin ABI, store_interface.h):
**   - Every function returns STORE_OK (0) or a STORE_E_* code and fills the
**     caller-owned `store_error *err` (which may be NULL). Host messages
**     name the service and object: "svc 'scratch': blob 'c/k': not found".
**   - Arguments are borrowed for the call; callback arguments for the
**     callback only. Objects returned through out-params are owned as the
**     function comment says; out-pointers are NULL on failure.
**   - Bodies are streamed: nothing holds a whole object in memory.
**   - Secrets are never returned, printed or put in messages.
**   - Threads: one context and its services may be used from several
**     threads at once (services open under the context's lock; calls into
**     a plugin that is not thread-safe are serialised per service), except
**     that xtstore_ctx_close must not race any other call on the context.
*/
#ifndef XTSTORE_H
#define XTSTORE_H

#include <stddef.h>
#include <stdint.h>
#include "store_interface.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define XTSTORE_API __attribute__((visibility("default")))
#else
#define XTSTORE_API
#endif

typedef struct xtstore_ctx xtstore_ctx;
typedef struct xtstore_svc xtstore_svc;

/* The library version ("0.1.0"). */
XTSTORE_API const char *xtstore_version(void);

/* ------------------------------------------------------------------------ */
/* Context                                                                  */
/* ------------------------------------------------------------------------ */
#define XTSTORE_CTX_NO_SYSTEM_CONFIG (1u << 0) /* skip /etc/xtstore/...     */
#define XTSTORE_CTX_NO_USER_CONFIG   (1u << 1) /* skip $XDG_CONFIG_HOME/... */
#define XTSTORE_CTX_NO_CWD_CONFIG    (1u << 2) /* skip ./xt_config.yaml     */
/* Read ./xt_config.yaml without the untrusted rules (it may then set
 * plugin paths, endpoints and secret references): --trust-cwd-config. */
#define XTSTORE_CTX_TRUST_CWD_CONFIG (1u << 3)

/* Log sink: level is STORE_LOG_*; msg is one line without newline. */
typedef void (*xtstore_log_fn)(void *ud, int32_t level, const char *msg);

typedef struct xtstore_ctx_opts {
  uint32_t struct_size;
  uint32_t flags;            /* XTSTORE_CTX_*                             */
  const char *config_path;   /* --config; NULL: $XTSTORE_CONFIG if set    */
  xtstore_log_fn log;        /* NULL: warnings and errors to stderr       */
  void *log_ud;
  int32_t log_level;         /* most verbose level passed to log          */
  uint32_t reserved;
} xtstore_ctx_opts;

/* Read the configuration and set up the plugin search path
 * ($XTSTORE_PLUGIN_PATH, then plugin-path: from config, then the user and
 * install plugin directories) and the memory budget ($XTSTORE_MEMORY:
 * xtstore_ctx_set_memory). opts may be NULL. Caller closes *out with
 * xtstore_ctx_close. Config errors: STORE_E_CONFIG, "FILE:LINE:COL: ...". */
XTSTORE_API int xtstore_ctx_open(const xtstore_ctx_opts *opts,
                                 xtstore_ctx **out, store_error *err);

/* Close every service, finalise plugins, free the context. NULL is fine. */
XTSTORE_API void xtstore_ctx_close(xtstore_ctx *ctx);

/* Ask running operations to stop (async-signal-safe). They return
 * STORE_E_ABORTED at the next chunk boundary. */
XTSTORE_API void xtstore_ctx_cancel(xtstore_ctx *ctx);

/* The memory budget that every transfer buffer of ctx shares, however
 * many transfers run at once: the part buffers of uploads from pipes and
 * of streamed copies, and the rings of streamed copies and fan-outs.
 * When it is spent, transfers wait for buffers or use fewer (less
 * concurrency, never a failure). Default 64 MiB, or $XTSTORE_MEMORY when
 * xtstore_ctx_open finds it set. `size` as the multipart keys take it:
 * bytes, or with a K, M, G or T suffix ("64M", "1G"). STORE_E_INVALID
 * (the budget unchanged) for anything else, or for a budget smaller than
 * one part buffer of a configured service (its multipart.part-size). Set
 * it before transfers start. */
XTSTORE_API int xtstore_ctx_set_memory(xtstore_ctx *ctx, const char *size,
                                       store_error *err);
/* The memory budget in bytes (0 for NULL). */
XTSTORE_API uint64_t xtstore_ctx_memory(xtstore_ctx *ctx);

/* The name of the default service (xt-services.storage), or NULL. */
XTSTORE_API const char *xtstore_default_service(const xtstore_ctx *ctx);

/* ------------------------------------------------------------------------ */
/* Introspection: services and plugins                                      */
/* ------------------------------------------------------------------------ */
typedef struct xtstore_service_info {
  uint32_t struct_size;
  uint32_t is_default;       /* it is xt-services.storage                 */
  const char *name;
  const char *type;          /* "storage", "vault", ... (may be NULL)     */
  const char *provider;      /* may be NULL                               */
  const char *file;          /* where it is defined                       */
  int32_t line;
  int32_t reserved;
  /* Configuration keys, secrets redacted: a literal secret value reads
   * "<redacted>"; a reference ("$env:NAME", "$vault") is shown as such. */
  const store_kv *kv;
  size_t nkv;
  /* Where kv[i] was set: the file of the layer whose value won the merge
   * (NULL: built-in) and its line. */
  const char *const *kv_file;
  const int32_t *kv_line;
} xtstore_service_info;

typedef int32_t (*xtstore_service_fn)(void *ud, const xtstore_service_info *s);

/* Every external-services entry in config order. A non-zero return from fn
 * stops with STORE_E_ABORTED. Plugins are not loaded unless needed to know
 * which keys are secret (a plugin that fails to load is not an error here;
 * common secret key names are redacted regardless). */
XTSTORE_API int xtstore_services_foreach(xtstore_ctx *ctx,
                                         xtstore_service_fn fn, void *ud,
                                         store_error *err);

typedef struct xtstore_plugin_info {
  uint32_t struct_size;
  uint32_t abi_major;        /* as the plugin was built                   */
  uint32_t abi_minor;
  uint32_t reserved;
  const char *provider;      /* providers.storage name (NULL for a file)  */
  const char *spec;          /* the config value (or the file)            */
  const char *path;          /* resolved file, NULL when not found        */
  const char *name;          /* plugin's own name; NULL when not loaded   */
  const char *version;
  const char *description;
  uint64_t capabilities;
  const store_config_key *config_keys;
  const store_limits *limits;
  const char *error;         /* NULL, or why it could not be loaded       */
} xtstore_plugin_info;

typedef int32_t (*xtstore_plugin_fn)(void *ud, const xtstore_plugin_info *p);

/* Load every providers.storage entry and report each (loaded or not). */
XTSTORE_API int xtstore_plugins_foreach(xtstore_ctx *ctx, xtstore_plugin_fn fn,
                                        void *ud, store_error *err);

/* Load and validate one plugin file; report it through fn on success. */
XTSTORE_API int xtstore_plugin_check(xtstore_ctx *ctx, const char *path,
                                     xtstore_plugin_fn fn, void *ud,
                                     store_error *err);

/* Validate `path`, copy it into the user plugin directory as
 * store-NAME.so (NAME = the plugin's own name), and register
 * providers.storage.NAME: "store-NAME" in the user config file. The
 * installed file's path goes to out_dest. */
/* Without XTSTORE_INSTALL_REPLACE, a name that is already a provider in
 * the configuration (built-in or any layer) or an installed user plugin is
 * refused with STORE_E_EXISTS: installing must never silently take over an
 * existing provider's services. */
#define XTSTORE_INSTALL_REPLACE (1u << 0)
XTSTORE_API int xtstore_plugin_install(xtstore_ctx *ctx, const char *path,
                                       uint32_t flags, char *out_dest,
                                       size_t cap, store_error *err);

/* "containers", "range-get", ... for one STORE_CAP_* bit, or NULL. */
XTSTORE_API const char *xtstore_capability_name(uint64_t bit);

/* ------------------------------------------------------------------------ */
/* Services                                                                 */
/* ------------------------------------------------------------------------ */

/* Open (once; later calls return the same handle) the service `name`, or
 * the default service (xt-services.storage) when name is NULL or "".
 * Resolves the provider plugin, checks the entry's keys against the
 * plugin's table (unknown: warning; missing required: error), resolves
 * secrets, and calls the plugin's open(). The handle belongs to the
 * context. */
XTSTORE_API int xtstore_service_open(xtstore_ctx *ctx, const char *name,
                                     xtstore_svc **out, store_error *err);

XTSTORE_API const char *xtstore_service_name(const xtstore_svc *svc);
XTSTORE_API uint64_t xtstore_service_caps(const xtstore_svc *svc);
/* The plugin's limits (never NULL: zeroed when the plugin has none). */
XTSTORE_API const store_limits *xtstore_service_limits(const xtstore_svc *svc);

/* ------------------------------------------------------------------------ */
/* Containers                                                               */
/* ------------------------------------------------------------------------ */
XTSTORE_API int xtstore_container_create(xtstore_svc *svc, const char *container,
                                         const store_kv *metadata, size_t n,
                                         store_error *err);
/* flags: STORE_CONTAINER_DELETE_RECURSIVE */
XTSTORE_API int xtstore_container_delete(xtstore_svc *svc, const char *container,
                                         uint32_t flags, store_error *err);
XTSTORE_API int xtstore_container_exists(xtstore_svc *svc, const char *container,
                                         int *out_exists, store_error *err);
XTSTORE_API int xtstore_container_list(xtstore_svc *svc, const char *prefix,
                                       store_entry_fn fn, void *ud,
                                       store_error *err);
XTSTORE_API int xtstore_container_head(xtstore_svc *svc, const char *container,
                                       store_entry_fn fn, void *ud,
                                       store_error *err);
XTSTORE_API int xtstore_container_set_metadata(xtstore_svc *svc,
                                               const char *container,
                                               const store_kv *metadata,
                                               size_t n, store_error *err);

/* ------------------------------------------------------------------------ */
/* Blobs                                                                    */
/* ------------------------------------------------------------------------ */

/* Re-position a body source at its start so a failed put can be retried.
 * Return 0 on success. */
typedef int32_t (*xtstore_rewind_fn)(void *ud);

/* Put from a callback. With `rewind` non-NULL a retryable failure is
 * retried after rewinding; without it the put is tried once. opts and out
 * may be NULL. The CRC-32C of the bytes read is computed as they stream:
 * opts->checksums/crc32c, when set, must be theirs (the plugin sends it
 * for the server to check), else the plugin is asked to send it as a
 * trailer; a CRC-32C the store reports must be theirs too. Any mismatch
 * removes the object and fails with STORE_E_IO naming the object and both
 * values (8 hex); one the store reported is sent again first when
 * `rewind` allows. out: set out->struct_size to sizeof(store_put_result)
 * of the header you build with; only the fields inside it are written
 * (those of ABI 1.0 at least), and it is left as you set it. */
XTSTORE_API int xtstore_blob_put(xtstore_svc *svc, const char *container,
                                 const char *key, const store_put_opts *opts,
                                 store_read_fn src, void *src_ud,
                                 xtstore_rewind_fn rewind,
                                 store_put_result *out, store_error *err);
/* Put from a file descriptor, reading from its current offset to EOF
 * (replayable when the fd is seekable). content_length in opts is filled
 * in from fstat for regular files when it is -1 or opts is NULL. To a
 * service with multipart, a body above its threshold or of unknown length
 * (a pipe) goes up in parts: a seekable fd's read by offset, several at
 * once, a pipe's in order. A wait for a pipe ends once the context is
 * cancelled. A regular file whose size, modification time or inode
 * changed by the time its last byte went fails with STORE_E_IO ("the file
 * changed while it was read"): an upload in parts is not completed, a
 * single put's object is removed. */
XTSTORE_API int xtstore_blob_put_fd(xtstore_svc *svc, const char *container,
                                    const char *key, const store_put_opts *opts,
                                    int fd, store_put_result *out,
                                    store_error *err);
XTSTORE_API int xtstore_blob_put_file(xtstore_svc *svc, const char *container,
                                      const char *key,
                                      const store_put_opts *opts,
                                      const char *path, store_put_result *out,
                                      store_error *err);

/* Get into a callback. A retryable failure before the first byte is
 * retried; after it, the rest is fetched with a range request when the
 * service supports ranges. opts may be NULL. A whole blob's bytes are
 * checked against its size and its CRC-32C (else its MD5) where the store
 * reports one: STORE_E_IO naming both values. */
XTSTORE_API int xtstore_blob_get(xtstore_svc *svc, const char *container,
                                 const char *key, const store_get_opts *opts,
                                 store_write_fn sink, void *sink_ud,
                                 store_error *err);
XTSTORE_API int xtstore_blob_get_fd(xtstore_svc *svc, const char *container,
                                    const char *key, const store_get_opts *opts,
                                    int fd, store_error *err);
/* Get into a local file atomically: a temp file beside `path`, renamed
 * into place only when complete; nothing is left behind on failure. A
 * directory marker blob creates no file. */
XTSTORE_API int xtstore_blob_get_file(xtstore_svc *svc, const char *container,
                                      const char *key,
                                      const store_get_opts *opts,
                                      const char *path, store_error *err);

XTSTORE_API int xtstore_blob_head(xtstore_svc *svc, const char *container,
                                  const char *key, const store_head_opts *opts,
                                  store_entry_fn fn, void *ud,
                                  store_error *err);
XTSTORE_API int xtstore_blob_exists(xtstore_svc *svc, const char *container,
                                    const char *key, int *out_exists,
                                    store_error *err);
XTSTORE_API int xtstore_blob_delete(xtstore_svc *svc, const char *container,
                                    const char *key,
                                    const store_delete_opts *opts,
                                    store_error *err);
/* The outcome of keys[index] of xtstore_blob_delete_many: code STORE_OK,
 * or the key's failure described by err. Non-zero stops the deleting. */
typedef int32_t (*xtstore_batch_fn)(void *ud, size_t index, int32_t code,
                                    const store_error *err);
/* Delete the blobs keys[0..n) of container, in batches where the provider
 * can (its blob_delete_batch: S3's DeleteObjects, Azure's Blob Batch, GCS's
 * batch), else one by one (8 at once for a thread-safe provider); each
 * key is reported once through fn, in any order (a key already gone may
 * be reported deleted). STORE_OK when every key was reported; otherwise
 * the failure that stopped it (cancelled, out of memory, fn), or a batch
 * call's own failure that would refuse every key alike (authentication,
 * permission, a missing container, invalid arguments): then keys may be
 * left unreported. */
XTSTORE_API int xtstore_blob_delete_many(xtstore_svc *svc,
                                         const char *container,
                                         const char *const *keys, size_t n,
                                         xtstore_batch_fn fn, void *ud,
                                         store_error *err);
XTSTORE_API int xtstore_blob_list(xtstore_svc *svc, const char *container,
                                  const store_list_opts *opts,
                                  store_entry_fn fn, void *ud,
                                  store_error *err);
XTSTORE_API int xtstore_blob_set_metadata(xtstore_svc *svc,
                                          const char *container,
                                          const char *key,
                                          const store_kv *metadata, size_t n,
                                          store_error *err);

/* Copy between any two services (src and dst may be the same). Server-side
 * when both are the same service and it has STORE_CAP_COPY; otherwise
 * streamed from a get into a put through a bounded buffer (no temp file).
 * Content type and metadata travel with the object unless opts says
 * STORE_COPY_REPLACE_METADATA. opts may be NULL. A streamed copy carries
 * the source's CRC-32C, when its entry reports one, to the target, and
 * the bytes stored are checked against it (else against the bytes
 * streamed): a wrong copy is removed. */
XTSTORE_API int xtstore_blob_copy(xtstore_svc *src, const char *src_container,
                                  const char *src_key, xtstore_svc *dst,
                                  const char *dst_container,
                                  const char *dst_key,
                                  const store_copy_opts *opts,
                                  store_error *err);

/* Optional ops: STORE_E_UNSUPPORTED (naming the service and the missing
 * capability) when the provider lacks them. */
XTSTORE_API int xtstore_blob_append(xtstore_svc *svc, const char *container,
                                    const char *key,
                                    const store_append_opts *opts,
                                    store_read_fn src, void *src_ud,
                                    store_error *err);
XTSTORE_API int xtstore_blob_snapshot(xtstore_svc *svc, const char *container,
                                      const char *key, char *out_id,
                                      size_t cap, store_error *err);
XTSTORE_API int xtstore_multipart_begin(xtstore_svc *svc, const char *container,
                                        const char *key,
                                        const store_put_opts *opts,
                                        char *out_id, size_t cap,
                                        store_error *err);
XTSTORE_API int xtstore_multipart_part(xtstore_svc *svc, const char *container,
                                       const char *key, const char *upload_id,
                                       uint32_t part_no, uint64_t length,
                                       store_read_fn src, void *src_ud,
                                       char *out_token, size_t cap,
                                       store_error *err);
/* opts: the options given to xtstore_multipart_begin, again (may be NULL). */
XTSTORE_API int xtstore_multipart_complete(xtstore_svc *svc,
                                           const char *container,
                                           const char *key,
                                           const char *upload_id,
                                           const store_put_opts *opts,
                                           const char *const *tokens,
                                           uint32_t nparts,
                                           store_put_result *out,
                                           store_error *err);
XTSTORE_API int xtstore_multipart_abort(xtstore_svc *svc, const char *container,
                                        const char *key, const char *upload_id,
                                        store_error *err);

/*
** Uploads left by runs that died (kill -9, a crash, power loss): an
** upload from a file in parts is journaled under the user's state
** directory ($XDG_STATE_HOME/xtstore/uploads/, default
** ~/.local/state/xtstore/uploads/) until it completes, fails or is
** cancelled, and the next upload of the same file to the same blob
** resumes it. xtstore_uploads_list passes fn each journal of
** service:container (strings borrowed for the call); a non-zero return
** from fn stops the listing and is returned. No journal is no error.
** xtstore_upload_forget removes the journal at `path` (as listed); abort
** its upload first (xtstore_multipart_abort), or it stays on the service.
*/
typedef struct xtstore_upload_info {
  const char *path;       /* the journal file                              */
  const char *service, *container, *key;
  const char *upload_id;
  int64_t created;        /* Unix seconds                                  */
  uint32_t parts;         /* parts recorded as stored                      */
  uint64_t bytes;         /* in them                                       */
  int active;             /* a running process is uploading it: leave it   */
} xtstore_upload_info;

typedef int (*xtstore_upload_fn)(void *ud, const xtstore_upload_info *u);

XTSTORE_API int xtstore_uploads_list(const char *service,
                                     const char *container,
                                     xtstore_upload_fn fn, void *ud,
                                     store_error *err);
XTSTORE_API int xtstore_upload_forget(const char *path, store_error *err);

/*
** The uploads in parts the service itself holds for container, whoever
** began them (this machine, another one, another tool such as aws or
** rclone; journaled or not), whose key starts with prefix (NULL or "":
** all): fn gets each (borrowed for the call; initiated is 0 when the
** service does not say). fn must not call svc: collect, then act. A
** non-zero return from fn stops the listing and is returned.
** STORE_E_UNSUPPORTED when the provider cannot list them (its
** multipart_list is NULL).
*/
typedef int (*xtstore_svc_upload_fn)(void *ud, const store_upload *u);

XTSTORE_API int xtstore_multipart_list(xtstore_svc *svc, const char *container,
                                       const char *prefix,
                                       xtstore_svc_upload_fn fn, void *ud,
                                       store_error *err);

/* ------------------------------------------------------------------------ */
/* Addresses: SERVICE:CONTAINER/KEY                                         */
/* ------------------------------------------------------------------------ */
#define XTSTORE_ADDR_LOCAL  0  /* a local file path                        */
#define XTSTORE_ADDR_REMOTE 1  /* SERVICE:CONTAINER[/KEY]                   */

typedef struct xtstore_addr {
  uint32_t kind;        /* XTSTORE_ADDR_*                                   */
  uint32_t reserved;
  char *service;        /* NULL: the default service (":C/K")               */
  char *container;      /* NULL when absent ("svc:")                        */
  char *key;            /* NULL when absent ("svc:c", "svc:c/")             */
  char *path;           /* XTSTORE_ADDR_LOCAL: the path                     */
} xtstore_addr;

/*
** Parse `text`. Remote when it contains ':' and the part before the first
** ':' is empty or a service name ([A-Za-z0-9_.-]+, no '/'); anything else
** is a local path. A key may contain '/' and ':'. Fills *out (caller frees
** the strings with xtstore_addr_free). STORE_E_INVALID with a message for
** an empty string or an empty container ("svc:/k").
*/
XTSTORE_API int xtstore_addr_parse(const char *text, xtstore_addr *out,
                                   store_error *err);
XTSTORE_API void xtstore_addr_free(xtstore_addr *a);

/* ------------------------------------------------------------------------ */
/* Bench and directories                                                    */
/* ------------------------------------------------------------------------ */

/*
** Directory markers. A flat store's "directory" is, by the cloud convention
** XT uses, a zero-length blob named "DIR/" with metadata hdi_isfolder=true.
** Listings (xtstore_blob_list) never report markers: providers with
** STORE_CAP_DIR_MARKERS hide them, and for the others the library drops
** zero-length entries named "DIR/" or carrying hdi_isfolder=true. Head and
** get report a marker with STORE_ENTRY_DIR_MARKER, and
** xtstore_blob_get_file creates no file for one.
**
** Create the marker of `dir` (a trailing '/' is optional) in the container.
** Idempotent: an existing marker is fine. The metadata is sent only to
** services with STORE_CAP_METADATA.
*/
XTSTORE_API int xtstore_dir_create(xtstore_svc *svc, const char *container,
                                   const char *dir, store_error *err);

/*
** Benchmark: cloudmesh-style put/get/list/delete timings. For each size,
** `count` objects of deterministic pseudo-random bytes are put under
** PREFIX/SIZE/NNNNNN (generated by a read callback: nothing is held
** whole), read back and verified byte for byte (into a discarding sink),
** listed (one recursive listing) and deleted, `transfers` operations at a
** time. One row per size and phase goes to the callback as each phase ends.
** The scratch prefix is emptied at the end -- also when an operation fails,
** which stops the bench with an error naming the operation and the key --
** unless XTSTORE_BENCH_KEEP. After xtstore_ctx_cancel nothing more can be
** deleted: the objects stay (the context's log says where).
*/
#define XTSTORE_BENCH_KEEP (1u << 0) /* keep the objects: no delete phase */

typedef struct xtstore_bench_opts {
  uint32_t struct_size;
  uint32_t flags;            /* XTSTORE_BENCH_*                           */
  const uint64_t *sizes;     /* object sizes in bytes; NULL: 4 KiB, 1 MiB,
                                64 MiB                                    */
  size_t nsizes;
  uint32_t count;            /* objects per size; 0: 10                   */
  uint32_t transfers;        /* operations in flight; 0: 1                */
  /* Scratch prefix (ending in '/'); NULL: "xtstore-bench/RUN-ID/", RUN-ID
   * being the UTC time, the process id and a counter. */
  const char *prefix;
} xtstore_bench_opts;

/* One phase of one size. Rates are derived: MB/s = bytes / 1e6 / seconds,
 * ops/s = count / seconds, with seconds = wall_ns / 1e9. */
typedef struct xtstore_bench_row {
  uint32_t struct_size;
  uint32_t transfers;        /* operations in flight                      */
  const char *op;            /* "put", "get", "list" or "delete"          */
  const char *prefix;        /* the run's scratch prefix                  */
  uint64_t object_size;      /* bytes per object                          */
  uint64_t count;            /* objects put, read, listed or deleted      */
  uint64_t bytes;            /* body bytes moved (0 for list and delete)  */
  uint64_t wall_ns;          /* wall-clock time of the phase              */
  uint64_t cpu_ns;           /* user + system CPU of the whole process
                                over the phase (getrusage RUSAGE_SELF)    */
  uint64_t max_rss_bytes;    /* the process's peak RSS so far (ru_maxrss) */
} xtstore_bench_row;

/* Borrowed for the call. Non-zero stops the bench (STORE_E_ABORTED). */
typedef int32_t (*xtstore_bench_fn)(void *ud, const xtstore_bench_row *row);

/* Run the benchmark in `container` of svc (it must exist). opts may be
 * NULL (defaults above). */
XTSTORE_API int xtstore_bench(xtstore_svc *svc, const char *container,
                              const xtstore_bench_opts *opts,
                              xtstore_bench_fn fn, void *ud,
                              store_error *err);

/* ------------------------------------------------------------------------ */
/* Workflows: copy -r, fan-out, migrate, sync, and their progress           */
/* ------------------------------------------------------------------------ */

/* Bytes moved by a transfer: n more. Called after each chunk, from the
 * calling thread or a transfer thread. */
typedef void (*xtstore_bytes_fn)(void *ud, uint64_t n);

/* xtstore_blob_get_file, xtstore_blob_copy and xtstore_blob_put_fd
 * reporting the bytes they move through on_bytes (may be NULL). A
 * server-side copy moves none; a put in parts reports what the service
 * took, a retried part once. */
XTSTORE_API int xtstore_blob_get_file_progress(xtstore_svc *svc,
                                               const char *container,
                                               const char *key,
                                               const store_get_opts *opts,
                                               const char *path,
                                               xtstore_bytes_fn on_bytes,
                                               void *ud, store_error *err);
XTSTORE_API int xtstore_blob_put_fd_progress(xtstore_svc *svc,
                                             const char *container,
                                             const char *key,
                                             const store_put_opts *opts,
                                             int fd, xtstore_bytes_fn on_bytes,
                                             void *ud, store_put_result *out,
                                             store_error *err);
XTSTORE_API int xtstore_blob_copy_progress(xtstore_svc *src,
                                           const char *src_container,
                                           const char *src_key,
                                           xtstore_svc *dst,
                                           const char *dst_container,
                                           const char *dst_key,
                                           const store_copy_opts *opts,
                                           xtstore_bytes_fn on_bytes,
                                           void *ud, store_error *err);

/* What became of one object. */
#define XTSTORE_OBJ_COPIED  0  /* copy -r, fan-out: transferred            */
#define XTSTORE_OBJ_NEW     1  /* absent at the target: copied             */
#define XTSTORE_OBJ_UPDATE  2  /* different at the target: copied over it  */
#define XTSTORE_OBJ_EQUAL   3  /* the same at the target: left alone       */
#define XTSTORE_OBJ_DELETED 4  /* sync --delete: the source lacks it       */
#define XTSTORE_OBJ_FAILED  5
#define XTSTORE_OBJ_NSTATUS 6

/* "copied", "new", "update", "equal", "deleted", "failed"; NULL else. */
XTSTORE_API const char *xtstore_object_status_name(uint32_t status);

/* Progress events. */
#define XTSTORE_EV_START  0    /* the workflow begins                      */
#define XTSTORE_EV_BYTES  1    /* more bytes moved                         */
#define XTSTORE_EV_OBJECT 2    /* one object finished (or, dry run, planned)*/
#define XTSTORE_EV_LISTED 3    /* listing complete: the totals are final    */
#define XTSTORE_EV_DONE   4    /* the workflow ends                        */

typedef struct xtstore_progress {
  uint32_t struct_size;
  uint32_t event;            /* XTSTORE_EV_*                              */
  uint64_t objects_total;    /* objects found so far (final once LISTED)  */
  uint64_t objects_done;     /* finished, whatever became of them         */
  uint64_t objects_failed;
  uint64_t bytes_total;      /* bytes to move, found so far               */
  uint64_t bytes_done;       /* moved so far (retried bytes count again)  */
  uint32_t totals_final;     /* the listing is complete                   */
  uint32_t reserved;
  /* XTSTORE_EV_OBJECT only; borrowed for the call. */
  const char *source;        /* "svc:c/key" or a local path; NULL: none   */
  const char *target;
  uint64_t size;             /* the object's bytes                        */
  uint32_t status;           /* XTSTORE_OBJ_*                             */
  uint32_t dry_run;          /* only planned (XTSTORE_WF_DRY_RUN)         */
  int32_t code;              /* XTSTORE_OBJ_FAILED: the STORE_E_* code     */
  const char *error;         /*   and the message                         */
} xtstore_progress;

/* Called for every event, never concurrently (the library serialises the
 * calls), from the calling thread or a worker thread. It must not wait
 * for the workflow it watches. */
typedef void (*xtstore_progress_fn)(void *ud, const xtstore_progress *p);

/* A content type for an upload from a local file to `key`; NULL: the
 * provider's default. */
typedef const char *(*xtstore_type_fn)(void *ud, const char *key);

#define XTSTORE_WF_DRY_RUN  (1u << 0) /* report the plan, change nothing    */
#define XTSTORE_WF_CHECKSUM (1u << 1) /* compare CRC-32Cs (else content MD5s)
                                         when both listings have them     */
#define XTSTORE_WF_DELETE   (1u << 2) /* sync: delete what the source lacks  */
/* A source with no objects is no mistake (see the workflows below). */
#define XTSTORE_WF_ALLOW_EMPTY_SOURCE (1u << 3)

/* A caller's stop: non-zero asks the workflow (or the watch) to stop
 * cleanly; see xtstore_wf_opts.stop and xtstore_watch_opts.stop. */
typedef int (*xtstore_stop_fn)(void *ud);

typedef struct xtstore_wf_opts {
  uint32_t struct_size;
  uint32_t flags;            /* XTSTORE_WF_*                              */
  uint32_t transfers;        /* objects in flight; 0: the default         */
  uint32_t reserved;
  /* With XTSTORE_WF_DELETE: when more than this many would be deleted,
   * delete none and fail (STORE_E_PRECONDITION). 0 allows none; the names
   * to delete (at most this many) are held until the copies are done. */
  uint64_t max_delete;
  xtstore_progress_fn progress;   /* may be NULL                          */
  void *progress_ud;
  xtstore_type_fn content_type;   /* uploads from local files; may be NULL */
  void *content_type_ud;
  /* migrate's run log: a local file (appended to), or the blob
   * log_svc:log_container/log_key; neither: no log. */
  const char *log_path;
  xtstore_svc *log_svc;
  const char *log_container;
  const char *log_key;
  /* Appended (read only within the caller's struct_size). Shards: with
   * shard_count > 0 the workflow handles only the objects whose name
   * relative to the tree (xtstore_tree) has xtstore_shard_of(name,
   * shard_count) == shard_index: copies, comparisons, sync's deletions and
   * its max_delete guard all count this shard's objects alone. 0: every
   * object (no shard). */
  uint32_t shard_index;
  uint32_t shard_count;
  /* migrate's run log: the run id every record carries (1-64 of
   * [A-Za-z0-9._:-], so that the shards of one run share it); NULL: a new
   * one from the clock. */
  const char *run_id;
  /* Appended. A clean stop (may be NULL): asked for each name of the
   * listings and before each object starts, from any of the workflow's
   * threads (so it must be thread-safe, cheap, and once non-zero stay
   * so). When it returns non-zero the workflow queues no new object, lets
   * the objects in flight finish (whole and verified, as usual), skips
   * those not yet started (not reported), does no deletion of sync's, and
   * returns STORE_E_ABORTED ("stopped") with stats of what was done.
   * migrate's run log has a record of each object that finished, and a
   * sharded run's "shard_end" record says not ok ("stopped"), so `xtstore
   * runlog summary` counts the shard incomplete. Unlike
   * xtstore_ctx_cancel, nothing in flight is abandoned. */
  xtstore_stop_fn stop;
  void *stop_ud;
} xtstore_wf_opts;

typedef struct xtstore_wf_stats {
  uint32_t struct_size;
  uint32_t reserved;
  uint64_t objects;          /* objects handled                           */
  uint64_t count[XTSTORE_OBJ_NSTATUS]; /* per XTSTORE_OBJ_* status        */
  uint64_t bytes;            /* bytes of the objects copied (dry run: to
                                be copied)                               */
  uint64_t extra;            /* sync: target objects the source lacks     */
  double seconds;            /* wall-clock time of the whole workflow     */
} xtstore_wf_stats;

/* One end of a tree workflow: every blob of svc:container whose key
 * starts with `prefix` (NULL or "": all; no wildcards), named relative to
 * the prefix up to its last '/' (prefixes "photos/" and "photos/2024"
 * both name "photos/2024-01.jpg" "2024-01.jpg"); or, with svc NULL, every
 * regular file under the local directory `path`, named by its relative
 * path. */
typedef struct xtstore_tree {
  uint32_t struct_size;
  uint32_t reserved;
  xtstore_svc *svc;          /* NULL: the local directory `path`          */
  const char *container;
  const char *prefix;
  const char *path;
} xtstore_tree;

/*
** Shards (workflow/shard.c; docs/sharding.md). The shard of an object is
** the 32-bit FNV-1a hash of its name relative to the tree (its bytes as
** they are, no normalisation), modulo count: the same on every machine and
** version. xtstore_shard_of(name, 0 or 1) is 0.
*/
XTSTORE_API uint32_t xtstore_shard_of(const char *name, uint32_t count);
/* A shard as written: "I/N" (0 <= I < N <= 65536), or "auto" / "auto/N":
 * I (and N) from the environment of a scheduler's array task --
 * JOB_COMPLETION_INDEX (Kubernetes Indexed Job; N from "auto/N" or
 * XTSTORE_SHARD_COUNT), (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) /
 * SLURM_ARRAY_TASK_STEP of SLURM_ARRAY_TASK_COUNT, AWS_BATCH_JOB_ARRAY_INDEX
 * (N as for Kubernetes).
 * Returns STORE_OK, or STORE_E_INVALID with err naming what is wrong. */
XTSTORE_API int xtstore_shard_parse(const char *text, uint32_t *out_index,
                                    uint32_t *out_count, store_error *err);

/* Objects in flight by default: 2 per CPU, at least 4, at most 16. */
XTSTORE_API uint32_t xtstore_default_transfers(void);

/*
** The workflows. Each lists the source (and the target) in name order as
** streams (all pages; memory bounded by queues, never by the number of
** objects), copies with `transfers` objects in flight -- server-side
** within one service that can, otherwise streamed through a bounded ring;
** local files are read and written through descriptors, downloads land
** atomically -- and reports every object through opts->progress. A failed
** object does not stop the others.
**
** Returns STORE_OK when everything succeeded; otherwise the code of the
** first failure (a listing, the --max-delete guard, or an object) with err
** describing it, and stats (may be NULL) says how many objects got which
** status. One of src and dst must be a service.
**
** A source with no objects fails with STORE_E_NOT_FOUND ("nothing under
** 'SRC'") once the listings are complete, before anything is copied or
** deleted, unless opts has XTSTORE_WF_ALLOW_EMPTY_SOURCE: a wrong or empty
** prefix would otherwise copy nothing and succeed, and sync with
** XTSTORE_WF_DELETE would empty the target.
**
**   xtstore_copy_tree: every source object to dst (XTSTORE_OBJ_COPIED).
**   xtstore_migrate:   list both ends; copy what is new or different; log
**                      one JSON record per object to opts' run log.
**   xtstore_sync:      migrate without a log, and with XTSTORE_WF_DELETE
**                      delete target objects the source lacks -- only after
**                      every copy succeeded, and none at all when more than
**                      opts->max_delete would go. Compares from listings
**                      alone: no per-object HEAD.
*/
XTSTORE_API int xtstore_copy_tree(xtstore_ctx *ctx, const xtstore_tree *src,
                                  const xtstore_tree *dst,
                                  const xtstore_wf_opts *opts,
                                  xtstore_wf_stats *stats, store_error *err);
XTSTORE_API int xtstore_migrate(xtstore_ctx *ctx, const xtstore_tree *src,
                                const xtstore_tree *dst,
                                const xtstore_wf_opts *opts,
                                xtstore_wf_stats *stats, store_error *err);
XTSTORE_API int xtstore_sync(xtstore_ctx *ctx, const xtstore_tree *src,
                             const xtstore_tree *dst,
                             const xtstore_wf_opts *opts,
                             xtstore_wf_stats *stats, store_error *err);

/*
** Continuous replication (`xtstore sync --watch`, docs/replication.md):
** xtstore_sync from src to dst, then again every interval. Each run is a
** "poll": both ends listed in full (streamed, as xtstore_sync lists them)
** and compared name by name from the listings alone -- no per-object
** HEAD; only what is new or changed is copied, and with XTSTORE_WF_DELETE
** what the source lacks is deleted, opts->max_delete applying to each
** poll on its own (more, and that poll deletes none and fails). Objects
** are reported through opts->progress as by xtstore_sync, polls through
** w->poll.
**
** Failures: until a poll of this pair has succeeded (in this call, or in
** an earlier one according to the state file), a poll whose listings
** failed ends the watch with its error -- a wrong address or credentials
** are said at once, not retried forever. Any other failed poll (a server
** down, failed objects, the max-delete guard, an empty source) is
** reported and retried an interval later; w->max_failures failed polls in
** a row (0: no limit) end the watch with the last one's code.
**
** The end: STORE_OK when w->stop says so (asked every 100 ms between
** polls, and during a poll as xtstore_wf_opts.stop is: the poll under way
** stops after its objects in flight, without its deletions, and is no
** poll for the state file; opts->stop, if any, stops it too), after
** w->max_polls polls (0: no limit; then the last poll's code), or
** STORE_E_ABORTED once xtstore_ctx_cancel was called (objects in flight
** are abandoned; none is left partial at the target).
**
** The state file (w->state_path; NULL: none), rewritten atomically after
** each poll, keeps the poll count, whether a poll of the pair succeeded,
** the time of the last success and cumulative counts; it names the two
** ends, and one naming others is not used (a warning). It does not make a
** poll cheaper: every poll lists both ends, and an object already copied
** compares equal with or without it.
*/
typedef struct xtstore_poll {
  uint32_t struct_size;
  uint32_t ended;            /* 0: the poll begins; 1: it ended           */
  uint64_t number;           /* 1, 2, ... continuing the state file's     */
  int32_t code;              /* ended: STORE_OK or the poll's failure     */
  uint32_t failures;         /* ended: failed polls in a row, this one in */
  const char *error;         /* ended, failed: the message (borrowed)     */
  const xtstore_wf_stats *stats; /* ended: the poll's counts (borrowed)   */
  uint64_t next_ms;          /* ended: until the next poll; 0: none       */
} xtstore_poll;

/* Called from the calling thread, never during a progress call. */
typedef void (*xtstore_poll_fn)(void *ud, const xtstore_poll *p);

typedef struct xtstore_watch_opts {
  uint32_t struct_size;
  uint32_t reserved;
  uint64_t interval_ms;      /* one poll's start to the next's; 0: 30 s   */
  uint64_t max_polls;        /* 0: no limit                               */
  uint64_t max_failures;     /* failed polls in a row that end it; 0: none */
  const char *state_path;    /* NULL: no state file                       */
  xtstore_stop_fn stop;      /* may be NULL; as xtstore_wf_opts.stop      */
  void *stop_ud;
  xtstore_poll_fn poll;      /* may be NULL                               */
  void *poll_ud;
} xtstore_watch_opts;

XTSTORE_API int xtstore_sync_watch(xtstore_ctx *ctx, const xtstore_tree *src,
                                   const xtstore_tree *dst,
                                   const xtstore_wf_opts *opts,
                                   const xtstore_watch_opts *w,
                                   store_error *err);

/*
** Fan-out: upload one body to container/key of every service named in
** services[0..n) (services NULL: every configured storage service),
** reading src ONCE: one reader feeds one bounded ring per destination and
** the uploads run in parallel. A destination that fails (to open or to
** store) is dropped without stopping the others; the successful uploads
** stay. Each service is reported through opts->progress (an OBJECT event,
** source `source_name`, target "svc:container/key"). The return value and
** stats are as for the tree workflows. opts may be NULL.
*/
XTSTORE_API int xtstore_put_fanout(xtstore_ctx *ctx,
                                   const char *const *services, size_t n,
                                   const char *container, const char *key,
                                   const store_put_opts *put_opts,
                                   store_read_fn src, void *src_ud,
                                   const char *source_name,
                                   const xtstore_wf_opts *opts,
                                   xtstore_wf_stats *stats, store_error *err);
/*
** A file's fan-out: as xtstore_put_fanout, src reading the file open on fd
** in order from its current offset. When fd is a regular file and
** put_opts->content_length is known, each destination that goes up in
** parts journals its upload as xtstore_blob_put_fd does (the file's size,
** modification time and inode), and the next run of the same unchanged
** file resumes it: the file is still read once for all, and a destination
** does not send again a part its journal has whose bytes have the
** CRC-32C recorded. A destination whose recorded upload is gone from the
** service starts over after the others, reading the file again by offset.
** fd -1: xtstore_put_fanout.
** src must return exactly what read(fd) returns from fd's current offset
** (nothing ties them: the restart reads fd itself). fd is borrowed, not
** closed; its offset is moved and left unspecified on return; the caller
** must not use fd concurrently during the call.
*/
XTSTORE_API int xtstore_put_fanout_file(xtstore_ctx *ctx,
                                        const char *const *services,
                                        size_t n, const char *container,
                                        const char *key,
                                        const store_put_opts *put_opts,
                                        store_read_fn src, void *src_ud,
                                        int fd, const char *source_name,
                                        const xtstore_wf_opts *opts,
                                        xtstore_wf_stats *stats,
                                        store_error *err);

/*
** Search (cloudmesh's `storage search`, as find(1)): every blob of
** svc:container whose key starts with `prefix` (NULL or "": all; no
** wildcards), listed recursively and passed to fn in key order as the
** listing streams by, when its last component (after the last '/')
** matches the shell glob name_glob and the whole key matches path_glob
** (fnmatch(3) without flags: '*' also matches '/', as find -path). A NULL
** glob matches anything. Directory markers are never reported. A
** non-zero return from fn stops the search with STORE_E_ABORTED. Finding
** nothing is no error.
*/
XTSTORE_API int xtstore_find(xtstore_svc *svc, const char *container,
                             const char *prefix, const char *name_glob,
                             const char *path_glob, store_entry_fn fn,
                             void *ud, store_error *err);

/*
** A URL for svc:container/key that anyone holding it may use, with no
** credentials, for one kind of request (opts->method: STORE_PRESIGN_GET or
** _PUT) until opts->expires_s seconds from now, 1 to
** XTSTORE_PRESIGN_MAX_S (10 years; a provider may allow less: S3 and GCS
** 7 days), STORE_E_INVALID otherwise (the provider's blob_presign,
** STORE_CAP_PRESIGN; STORE_E_UNSUPPORTED naming the service otherwise).
** opts->content_type (PUT) may have no control characters and must fit
** its "Content-Type: TYPE\n" line in STORE_PRESIGN_HEADERS_SIZE
** (STORE_E_INVALID); providers that cannot bind it (Azure, OCI) refuse it
** (STORE_E_UNSUPPORTED). The URL (NUL-terminated) goes into out_url[0..cap) (8192
** bytes is always enough for the first-party providers); out (may be NULL;
** set its struct_size) gets the expiry, the id of a server-side grant that
** can be revoked (OCI's pre-authenticated request id; "" for signed URLs,
** which cannot) and the headers a request through the URL must send. The
** URL is a credential: keep it out of logs.
*/
#define XTSTORE_PRESIGN_MAX_S (UINT32_C(10) * 366 * 86400)
XTSTORE_API int xtstore_blob_presign(xtstore_svc *svc, const char *container,
                                     const char *key,
                                     const store_presign_opts *opts,
                                     char *out_url, size_t cap,
                                     store_presign_result *out,
                                     store_error *err);

/* The provider's own server-side copy within svc: its blob_copy_checked
 * slot (ABI 1.1) called as is. "Checked" names the slot, not a check:
 * the host verifies NOTHING here (no head, no judging against the
 * source, no removal of a wrong copy; xtstore_blob_copy does all that).
 * out (struct_size set) gets the provider's answer, unverified: etag and
 * version_id ("" when it carries none), checksums, and size where it
 * carries one, else UINT64_MAX. Meant for the conformance suite and
 * plugin authors checking what their plugin reports.
 * STORE_E_UNSUPPORTED when the provider has no blob_copy_checked. */
XTSTORE_API int xtstore_blob_copy_checked(xtstore_svc *svc,
                                          const char *src_container,
                                          const char *src_key,
                                          const char *dst_container,
                                          const char *dst_key,
                                          const store_copy_opts *opts,
                                          store_put_result *out,
                                          store_error *err);

#ifdef __cplusplus
}
#endif
#endif /* XTSTORE_H */
