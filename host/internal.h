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

#endif /* ST_INTERNAL_H */
