/*
** internal.h -- libxtstore's private types shared between host modules.
*/
#ifndef ST_INTERNAL_H
#define ST_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include "xtstore.h"
#include "config.h"
#include "registry.h"
#include "retry.h"

/* A service's `multipart` settings (parsed by multipart.c). */
typedef struct st_mp_policy {
  uint64_t threshold;   /* known lengths above this go up in parts       */
  uint64_t part_size;   /* wanted part size (grown to fit max_parts)     */
  uint32_t concurrency; /* parts in flight; 0: 4, or 1 when the provider
                           is not thread-safe                            */
} st_mp_policy;

struct xtstore_ctx {
  st_config *cfg;
  st_registry *reg;
  store_host_api host;          /* handed to every plugin               */
  xtstore_log_fn log;
  void *log_ud;
  int32_t log_level;
  volatile sig_atomic_t cancelled;
  pthread_mutex_t lock;         /* guards `services`                    */
  struct xtstore_svc *services; /* opened services, newest first        */
};

struct xtstore_svc {
  xtstore_ctx *ctx;
  char *name;
  const st_module *mod;
  const struct store_interface *ops;   /* == &mod->iface                       */
  store_handle *h;
  st_retry_policy retry;
  st_mp_policy multipart;       /* the `multipart` settings (multipart.c) */
  store_limits limits;          /* zero-filled copy of the plugin's     */
  int threadsafe;
  pthread_mutex_t serial;       /* held around ops when !threadsafe     */
  uint64_t rng;                 /* jitter state (guarded by serial or
                                   racy-but-harmless when threadsafe)   */
  struct xtstore_svc *next;
};

/* Log through the context's sink when level <= ctx->log_level. */
void st_log(xtstore_ctx *ctx, int32_t level, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

/* Reset a caller's error (may be NULL) before an attempt. */
void st_err_reset(store_error *err);

/* Fill err for a host-side failure. Returns code. */
int st_err(store_error *err, int32_t code, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

/* Prefix err->message with "service 'NAME': " (once). */
void st_err_prefix_service(store_error *err, const char *service);

/* One attempt of an operation on svc; retried by st_svc_call. */
typedef int (*st_attempt_fn)(xtstore_svc *svc, void *args, store_error *err);
/* Before another attempt: non-zero means the request cannot be replayed
 * (and the last error stands). May be NULL: always replayable. */
typedef int (*st_replay_fn)(void *args);

/*
** Run attempt(svc, args, err) under the service's serialisation rule,
** retrying retryable failures per the service's policy while replay(args)
** succeeds. Normalises the plugin's error (code set, message non-empty,
** unknown codes -> STORE_E_INTERNAL) and prefixes the service name.
*/
int st_svc_call(xtstore_svc *svc, st_attempt_fn attempt, st_replay_fn replay,
                void *args, store_error *err);

/* Check a container name / key is present and not absurd before the plugin
 * sees it. Returns 0 or fills err (STORE_E_INVALID). */
int st_check_container(const xtstore_svc *svc, const char *container,
                       store_error *err);
int st_check_key(const xtstore_svc *svc, const char *container,
                 const char *key, store_error *err);

/* STORE_E_UNSUPPORTED naming the service and capability when svc lacks
 * `cap`. */
int st_require_cap(const xtstore_svc *svc, uint64_t cap, store_error *err);

/* Non-zero when the key name looks like a secret (key, secret, password,
 * token, sas, connection-string, ...), for redaction without a plugin. */
int st_key_looks_secret(const char *key);

/* Non-zero once the context was cancelled. */
int st_cancelled(const xtstore_ctx *ctx);

/* dirmarker.c: non-zero when e is a directory marker: flagged
 * STORE_ENTRY_DIR_MARKER, or a zero-length object named "DIR/" (key when e
 * has no name) or carrying metadata hdi_isfolder=true. */
int st_entry_is_dir_marker(const store_entry *e, const char *key);
/* e itself, or -- when svc lacks STORE_CAP_DIR_MARKERS and e is an
 * unflagged marker -- *tmp filled with a copy of e that has
 * STORE_ENTRY_DIR_MARKER set (borrowing e's strings). */
const store_entry *st_entry_flag_dir_marker(const xtstore_svc *svc,
                                            const store_entry *e,
                                            const char *key,
                                            store_entry *tmp);

/* ------------------------------------------------------------------------ */
/* multipart.c: the transfer engine -- one object up in parts               */
/* ------------------------------------------------------------------------ */
#define ST_MP_THRESHOLD   (UINT64_C(64) << 20)
#define ST_MP_PART_SIZE   (UINT64_C(8) << 20)
#define ST_MP_CONCURRENCY 4u

/* The defaults above (concurrency 0: decided per provider). */
void st_mp_default(st_mp_policy *p);
/* Parse one flattened `multipart` key ("multipart.threshold",
 * "multipart.part-size", "multipart.concurrency"; sizes take K, M, G, T
 * suffixes, binary). Returns 0, or -1 with a message (without position). */
int st_mp_parse(st_mp_policy *p, const char *key, const char *value,
                char *err, size_t errlen);
/* Non-zero when a put of `length` bytes (-1: unknown) to svc goes through
 * the engine: svc has STORE_CAP_MULTIPART and the length is unknown or
 * above the threshold (or above limits.max_put_size, when smaller). */
int st_mp_wanted(const xtstore_svc *svc, int64_t length);
/* Parts the engine keeps in flight on svc. */
unsigned st_mp_inflight(const xtstore_svc *svc);

/* Where an upload's bytes come from (transfer.c makes them). */
typedef struct st_mp_src {
  int64_t length;           /* bytes; -1: unknown (sequential sources only) */
  /* Random access, NULL for a sequential source. open: a reader of bytes
   * [off, off+len) into *out (several may be open at once, on any thread);
   * `read` takes the reader as its ud. close: frees the reader and returns
   * its own failure (err filled) when reading failed, else STORE_OK. */
  int (*open)(void *ud, uint64_t off, uint64_t len, void **out,
              store_error *err);
  int (*close)(void *reader, store_error *err);
  /* A random source's reads (ud: a reader), or a sequential source's
   * (ud: `ud`), which the engine calls in order from one thread and never
   * rewinds: it keeps what a part needs in that part's buffer. */
  store_read_fn read;
  void *ud;
  xtstore_bytes_fn on_bytes;   /* bytes the service took, each counted once
                                  (a retried part is not counted again);
                                  may be NULL; never called concurrently */
  void *bytes_ud;
} st_mp_src;

/*
** Put src to container/key of svc in parts: the part size from svc's
** `multipart` settings and limits, st_mp_inflight parts at once, each
** retried on its own per the service's retry policy, then complete with
** opts (begin's options; may be NULL). On any final failure or
** cancellation the upload is aborted and err names the part: "service
** 'S': blob 'C/K': part 7 of 40: CAUSE". A sequential source that ends
** within its first part, below the threshold, goes up as one put. A
** sequential source that stops (its read returns non-zero) gives
** STORE_E_ABORTED: the caller knows the cause. out (may be NULL) gets the
** result; its size is the bytes sent when the provider leaves it 0.
*/
int st_mp_put(xtstore_svc *svc, const char *container, const char *key,
              const store_put_opts *opts, const st_mp_src *src,
              store_put_result *out, store_error *err);

/* ------------------------------------------------------------------------ */
/* context.c: the cancellation shield                                       */
/* ------------------------------------------------------------------------ */

/* From now on the calling thread does not see ctx's cancellation:
 * st_cancelled(ctx) is 0 on it, and so is the plugins' is_cancelled asked
 * from it, until st_unshield. For what must still happen after ^C (the
 * run log's upload); other threads stay cancelled. Returns the previous
 * shield, to give back to st_unshield. */
const xtstore_ctx *st_shield(const xtstore_ctx *ctx);
void st_unshield(const xtstore_ctx *prev);

#endif /* ST_INTERNAL_H */
