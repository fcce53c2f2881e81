/*
** core.h -- the core layer (host/core/), above plugin/ and config/: the
** context, opened services, calls into a plugin with their retries, errors,
** addresses, container and blob operations, directory markers, and the
** plugin listing/install API. The engine and the workflows build on it.
*/
#ifndef ST_CORE_H
#define ST_CORE_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "xtstore.h"
#include "config/config.h"
#include "plugin/plugin.h"

/* ------------------------------------------------------------------------ */
/* policy.c: the retry policy. Plugins classify errors (STORE_ERR_RETRYABLE, */
/* retry_after_ms); this decides whether and when to try again: exponential  */
/* backoff with full jitter, honouring the server's Retry-After hint, only   */
/* for retryable errors and only when the request body can be replayed.     */
/* ------------------------------------------------------------------------ */
typedef struct st_retry_policy {
  uint32_t attempts;   /* failed tries that moved nothing, >= 1 (1 =
                          never retry); throttling has its own budget  */
  uint32_t base_ms;    /* first backoff ceiling                     */
  uint32_t max_ms;     /* ceiling for any one wait                  */
  uint32_t throttle_s; /* throttling is waited out this long from the
                          op's first try (0: only within attempts)  */
} st_retry_policy;

#define ST_RETRY_DEFAULT_ATTEMPTS   5
#define ST_RETRY_DEFAULT_BASE_MS    200
#define ST_RETRY_DEFAULT_MAX_MS     20000
#define ST_RETRY_DEFAULT_THROTTLE_S 300
#define ST_RETRY_MAX_HINT_MS        120000 /* cap on honoured Retry-After */
/* Attempts that made progress are free, up to this many per attempt. */
#define ST_RETRY_PROGRESS_FACTOR    100

/* The defaults above. */
void st_retry_default(st_retry_policy *p);

/*
** Parse a service's `retry` setting from flattened config keys: either
** `retry: N` (attempts) or `retry: {attempts: N, base-ms: N, max-ms: N,
** throttle-s: N}` (keys "retry.attempts" ...). `key` is the flattened key, `value` its
** text. Unknown sub-keys and bad numbers are errors. Returns 0, or -1 with
** a message (without position; the caller adds file:line:col).
*/
int st_retry_parse(st_retry_policy *p, const char *key, const char *value,
                   char *err, size_t errlen);

/* Non-zero when, after `tries` attempts that failed with `err`, another
 * attempt should be made. `replayable` is zero when the request body has
 * been (partly) consumed and cannot be produced again. */
int st_retry_should(const st_retry_policy *p, uint32_t tries,
                    const store_error *err, int replayable);

/* Sleep ms (never less), waking early when svc's context is cancelled:
 * STORE_OK, or STORE_E_ABORTED when cancelled. */
int st_backoff_sleep(const xtstore_svc *svc, uint32_t ms);
/* Milliseconds on the monotonic clock, for a retry's elapsed time. */
uint64_t st_now_ms(void);

/* Milliseconds to wait before attempt tries+1: full jitter over
 * min(max_ms, base_ms * 2^(tries-1)); or, when err has retry_after_ms,
 * h = max(hint capped at ST_RETRY_MAX_HINT_MS, base_ms) and a wait in
 * [h, 1.25 h] (policy.c says why). `rng` is the caller's state (any
 * seed, 0 included). */
uint32_t st_retry_delay_ms(const st_retry_policy *p, uint32_t tries,
                           const store_error *err, uint64_t *rng);
/* The calling thread's jitter state, seeded from `seed` on its first use. */
uint64_t *st_retry_rng(uint64_t seed);

/* One op's retries so far (st_retry_next). */
typedef struct st_retry_state {
  uint64_t t0;         /* the op's first try, st_now_ms()               */
  uint32_t counted;    /* failures that used up attempts                */
  uint32_t throttled;  /* throttled failures waited out                 */
} st_retry_state;

void st_retry_start(st_retry_state *s, uint64_t now_ms);
/* After a retryable failure `err` of an op that can be sent again and
 * moved nothing, at now_ms (st_now_ms(); a test passes its own clock):
 * non-zero with *out_ms the wait before the next attempt and `why` what
 * the log says of it ("attempt 3 of 5"), or 0: give up, err stands.
 * Throttling (STORE_E_THROTTLED, retryable, retries on, throttle_s > 0)
 * is waited out until throttle_s after s->t0 and not counted against
 * attempts; it gives up when that has passed or when the server's hint
 * would end past it, saying so in err and clearing STORE_ERR_RETRYABLE
 * (no caller starts the wait over). No wait ends past that deadline. */
int st_retry_next(const st_retry_policy *p, st_retry_state *s,
                  uint64_t now_ms, store_error *err, uint64_t *rng,
                  uint32_t *out_ms, char *why, size_t whylen);


/* policy.c: a service's `multipart` settings (used by engine/multipart.c). */
typedef struct st_mp_policy {
  uint64_t threshold;   /* known lengths above this go up in parts       */
  uint64_t part_size;   /* wanted part size (grown to fit max_parts)     */
  uint32_t concurrency; /* parts in flight; 0: 4, or 1 when the provider
                           is not thread-safe                            */
} st_mp_policy;

/* ------------------------------------------------------------------------ */
/* budget.c: the memory budget of a context, a byte semaphore that every    */
/* transfer buffer (part buffers, rings) is taken from and given back to.   */
/* ------------------------------------------------------------------------ */
typedef struct st_budget {
  pthread_mutex_t mu;
  pthread_cond_t cv;            /* bytes were given back, or total grew   */
  uint64_t total;               /* bytes in all                           */
  uint64_t used;                /* taken and not given back               */
  uint64_t peak;                /* the most ever taken at once            */
  unsigned waiting;             /* takes waiting                          */
  int limited;                  /* it made a transfer wait (said once)    */
  /* The owner's (context.c): whether a waiting take stops, asked on the
   * taking thread; what to say the first time the budget limits a
   * transfer. Either may be NULL. */
  int (*cancelled)(void *ud);
  void (*on_limited)(void *ud, uint64_t total);
  void *ud;
} st_budget;

/* The default: --memory, XTSTORE_MEMORY and xtstore_ctx_set_memory
 * change it. */
#define ST_MEMORY_DEFAULT (UINT64_C(64) << 20)

void st_budget_init(st_budget *b, uint64_t total);
void st_budget_destroy(st_budget *b);
/* A new total; takes waiting for room see it at once. */
void st_budget_set(st_budget *b, uint64_t total);
uint64_t st_budget_total(st_budget *b);
/* Take n bytes, waiting while they do not fit; more than the total is
 * granted alone, when nothing else is held. Only for what a transfer
 * cannot go without, taken while it holds nothing else of the budget (its
 * minimum in one take): that is what keeps takes from deadlocking.
 * STORE_E_ABORTED (err filled) once b->cancelled says so. */
int st_budget_take(st_budget *b, uint64_t n, store_error *err);
/* Take n bytes if they fit now: 0, else -1 and nothing is taken. Never
 * waits: for what a transfer can do without (another part buffer). */
int st_budget_try(st_budget *b, uint64_t n);
/* Give back n bytes taken before. */
void st_budget_give(st_budget *b, uint64_t n);
/* Non-zero while a take waits: a transfer that holds spare buffers gives
 * them back rather than keeping them. */
int st_budget_contended(st_budget *b);
/* n as people read it ("64 MiB", "300 bytes") into buf; returns buf. */
const char *st_size_text(uint64_t n, char *buf, size_t cap);

/* ------------------------------------------------------------------------ */
/* flow.c: a service's window of requests in flight (AIMD). It starts at   */
/* the slots the pools using the service ask for (--transfers, multipart  */
/* concurrency), halves on throttling (at most once per old window's     */
/* worth of completions -- the window before the halving -- never below  */
/* 1) and grows by about one per window's worth of successes, back up to  */
/* that. Zero-filled: no pool, no limit.                                  */
/* ------------------------------------------------------------------------ */
typedef struct st_flow {
  uint32_t limit;      /* slots the pools on the service asked for; 0:
                          none, nothing waits                           */
  uint32_t window;     /* slots granted now, 1..limit                   */
  uint32_t inflight;   /* slots held                                    */
  uint32_t done;       /* completions since the window last halved      */
  uint32_t recover;    /* the window before it last halved: that many
                          completions since are the same episode       */
  uint32_t grown;      /* successes since it last grew                  */
  uint32_t lowest;     /* the lowest window of the run (0: not cut)     */
  uint32_t cuts;       /* halvings this run                             */
  uint32_t said;       /* the first halving was logged                  */
  uint64_t throttled;  /* throttled replies this run                    */
} st_flow;

/* What an attempt came to, for st_flow_outcome. */
#define ST_FLOW_OK        0
#define ST_FLOW_THROTTLED 1 /* STORE_E_THROTTLED                          */
#define ST_FLOW_FAILED    2 /* any other failure: completes, grows nothing */

/* A pool now uses f with `slots` more (a new run on an idle flow starts
 * with an open window and a fresh report); st_flow_leave undoes it. */
void st_flow_join(st_flow *f, uint32_t slots);
void st_flow_leave(st_flow *f, uint32_t slots);
/* Take a slot: st_flow_try never waits (non-zero: taken); st_flow_acquire
 * waits while the window is full, STORE_E_ABORTED once ctx (may be NULL)
 * is cancelled. A flow nobody joined never waits. */
int st_flow_try(st_flow *f);
int st_flow_acquire(st_flow *f, const xtstore_ctx *ctx);
void st_flow_release(st_flow *f);
/* Feed one attempt's outcome (ST_FLOW_*). Non-zero the first time this
 * run that throttling halved the window: the caller says so, once. */
int st_flow_outcome(st_flow *f, int outcome);
/* A consistent copy of f. */
void st_flow_get(st_flow *f, st_flow *out);

/* One pool's use of the windows (engine/pool.c holds one): its slots, the
 * services it joined, and its jobs running and parked (sleeping before a
 * retry, slot given back), so that a spare worker can start another job
 * while one sleeps. */
#define ST_FLOW_USER_MAX 4
typedef struct st_flow_user {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  uint32_t slots;      /* jobs at once, and slots asked of each service */
  uint32_t running, parked;
  int closing;         /* st_flow_close: admit everyone                 */
  struct xtstore_svc *joined[ST_FLOW_USER_MAX];
  unsigned njoined;
} st_flow_user;

void st_flow_user_init(st_flow_user *u, uint32_t slots);
/* Leave every service joined (logging, at info, how throttling went on a
 * service when its last pool leaves) and free u. */
void st_flow_user_done(st_flow_user *u);
/* A worker may take a job: waits while u->slots workers are admitted
 * that are not parked (or until st_flow_close). st_flow_finish: it is done
 * with the job (or found none). */
void st_flow_admit(st_flow_user *u);
void st_flow_finish(st_flow_user *u);
/* After a job: non-zero while the worker may take the next one at once;
 * 0 when more workers are admitted than may run now (a spare was let in
 * while a job slept before a retry, and that job is awake again): the
 * worker then gives its place back (st_flow_finish). */
int st_flow_keep(st_flow_user *u);
/* The pool stops: admission waits no more, so every worker sees the end. */
void st_flow_close(st_flow_user *u);
/* The calling thread works for u (NULL: for nobody; its calls pass
 * ungated). */
void st_flow_thread(st_flow_user *u);
/* Non-zero when the calling thread is a pool's worker. */
int st_flow_gated(void);
/* Give back the slot the calling thread holds, if any. */
void st_flow_drop(void);
/* Before an attempt on svc (call.c): a pool's worker takes a slot of
 * svc's window unless it holds one (giving back one of another service
 * first). STORE_E_ABORTED when cancelled while waiting. */
int st_flow_take(struct xtstore_svc *svc);
/* Around a sleep before a retry: parked (non-zero) gives back the slot
 * and lets the pool start another job; then 0 when awake (st_flow_take
 * and st_flow_job_end also wake a parked thread). Repeats are no-ops. */
void st_flow_park(int parked);
/* A pool's worker finished a job: awake, and no slot held. */
void st_flow_job_end(void);

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
  st_budget budget;             /* every transfer buffer (budget.c)     */
};

struct xtstore_svc {
  xtstore_ctx *ctx;
  char *name;
  const st_module *mod;
  const struct store_interface *ops;   /* == &mod->iface                       */
  store_handle *h;
  st_retry_policy retry;
  st_mp_policy multipart;       /* the `multipart` settings (policy.c)    */
  store_limits limits;          /* zero-filled copy of the plugin's     */
  int threadsafe;
  pthread_mutex_t serial;       /* held around ops when !threadsafe     */
  uint64_t rng;                 /* jitter seed, set at open: each thread
                                   jitters with its own state from it
                                   (st_retry_rng)                       */
  st_flow flow;                 /* requests in flight (flow.c; its own
                                   lock)                                */
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
/* Before another attempt, whether the request can be sent again: an
 * st_replay_fn returns one of these. May be NULL: always ST_REPLAY_OK. */
#define ST_REPLAY_OK       0 /* it can                                      */
#define ST_REPLAY_NO       1 /* it cannot: the last error stands            */
#define ST_REPLAY_PROGRESS 2 /* it can, and the failed attempt moved the op
                                on (a get resumes after the bytes it
                                delivered): it does not use up attempts     */
typedef int (*st_replay_fn)(void *args);

/*
** Run attempt(svc, args, err) under the service's serialisation rule,
** retrying retryable failures per the service's policy while replay(args)
** allows: `attempts` failures that moved nothing, any number that made
** progress, and throttling until the policy's throttle_s has passed. Normalises the plugin's error (code set, message non-empty,
** unknown codes -> STORE_E_INTERNAL) and prefixes the service name.
*/
int st_svc_call(xtstore_svc *svc, st_attempt_fn attempt, st_replay_fn replay,
                void *args, store_error *err);

/* After a put reported success: `sent` bytes went to the provider, of a
** body declared `declared` bytes long (-1: unknown), and it reports
** out->size stored (0: says nothing). When the provider took a different
** number of bytes than declared, or reports another size than was sent,
** the object is removed (st_remove_wrong, opts the put's, may be NULL) and
** STORE_E_INTERNAL names the object, both numbers and the removal;
** otherwise out->size is set to `sent`. */
int st_put_verify(xtstore_svc *svc, const char *container, const char *key,
                  uint64_t sent, int64_t declared, const store_put_opts *opts,
                  store_put_result *out, store_error *err);

/* blob.c, after a put reported success: st_cksum_mismatch (known: where
 * opts' CRC-32C came from, ST_KNOWN_*), and on a mismatch the object is
 * removed (st_remove_wrong) and STORE_E_IO names the object, both values
 * and the cause, flagged retryable when st_cksum_retryable says so. */
int st_put_verify_cksum(xtstore_svc *svc, const char *container,
                        const char *key, const store_put_opts *opts,
                        int known, uint32_t crc, const store_put_result *out,
                        store_error *err);

/* xtstore_blob_put, with `known` (ST_KNOWN_*) saying where a CRC-32C in
 * opts came from: the cause a mismatch names, and whether it is retried.
 * A put the store reports wrong is removed and, with `rewind`, sent
 * again. */
int st_blob_put(xtstore_svc *svc, const char *container, const char *key,
                const store_put_opts *opts, int known, store_read_fn src,
                void *src_ud, xtstore_rewind_fn rewind,
                store_put_result *out, store_error *err);

/* Copy a result the library filled (res, full size) into the caller's
 * out (may be NULL): only the fields inside out->struct_size (the 1.0
 * struct's at least), out->struct_size kept. */
void st_put_result_give(store_put_result *out, const store_put_result *res);

/* Copy the caller's put options (NULL: none; an older caller's shorter
 * struct: its fields) into o, this host's size; NULL gives content_length
 * -1 (unknown). */
void st_put_opts_copy(store_put_opts *o, const store_put_opts *opts);

/* CRC-32C (Castagnoli) of data, continuing from crc (0 to start):
 * st_crc32c(0, "123456789", 9) == 0xe3069283. */
uint32_t st_crc32c(uint32_t crc, const void *data, size_t len);
/* The CRC-32C of A followed by B, from crc1 = CRC(A), crc2 = CRC(B) and
 * len2 = B's length: parts summed apart give the whole object's. */
uint32_t st_crc32c_combine(uint32_t crc1, uint32_t crc2, uint64_t len2);
/* The CRC-32C of the bytes received of a blob (got) against the blob's
 * (want): STORE_OK, or STORE_E_IO naming the blob and both values (8
 * lowercase hex), flagged retryable (another get may be right). */
int st_crc32c_verify(const xtstore_svc *svc, const char *container,
                     const char *key, uint32_t got, uint32_t want,
                     store_error *err);
/* Where a CRC-32C known before sending came from: the cause a mismatch
 * names, and whether sending again can mend it (st_cksum_retryable). */
#define ST_KNOWN_GIVEN 0  /* the caller's (xtstore_blob_put's opts)        */
#define ST_KNOWN_FILE  1  /* a file's, read ahead: the file changed        */
#define ST_KNOWN_COPY  2  /* a copy source's record: changed on the way    */
/* st_cksum_mismatch's answers. */
#define ST_MISMATCH_KNOWN 1 /* the bytes sent are not the known CRC-32C's  */
#define ST_MISMATCH_STORE 2 /* the store reports other bytes than sent     */
/* Non-zero (ST_MISMATCH_*), with the cause in why, when the bytes a put
 * (or a part) sent, of CRC-32C crc, are not what they must be: not the
 * CRC-32C opts (may be NULL) says was known before sending (from `known`,
 * ST_KNOWN_*), or not what the store reports in out (may be NULL) -- its
 * CRC-32C, or its MD5 where opts had one. Reads only the fields inside
 * each struct_size. */
int st_cksum_mismatch(const store_put_opts *opts, int known, uint32_t crc,
                      const store_put_result *out, char *why, size_t cap);
/* Non-zero when sending again can mend a mismatch of st_cksum_mismatch:
 * the store's report (its bytes went wrong on the way or at rest), or a
 * copy source's CRC-32C (the get may be right next time); not the bytes
 * of a file that changed, nor a CRC-32C the caller gave. */
int st_cksum_retryable(int mismatch, int known);

/* Finish md, an MD5 of the bytes received of a blob (md stays the
 * caller's to free), and compare it with want, the blob's MD5 (lowercase
 * hex): STORE_OK, or STORE_E_IO naming the blob and both values, flagged
 * retryable (another get may be right). */
int st_md5_verify(const xtstore_svc *svc, const char *container,
                  const char *key, EVP_MD_CTX *md, const char *want,
                  store_error *err);

/* Delete the blob a write left wrong, and say so at the end of err's
 * message: that it was removed and, unless opts (the put's, may be NULL)
 * made it create-only, that any unversioned object it replaced is gone
 * too (a versioned bucket keeps it); else why removing it failed too. The
 * deletion happens whether or not err is given. etag is the wrong
 * object's (the put result's or the head's; NULL or "": not known): with
 * STORE_CAP_DELETE_IF_MATCH the delete is conditional on it, so an object
 * another writer put there since stays, and err then says it was NOT
 * removed (it changed since); without the capability or an ETag the
 * delete is unconditional. */
void st_remove_wrong(xtstore_svc *svc, const char *container,
                     const char *key, const store_put_opts *opts,
                     const char *etag, store_error *err);

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
 * token, sas, connection-string / connection_string, ...), for redaction
 * when no loaded plugin declares the key (redact.c). */
int st_key_looks_secret(const char *key);
/* The plugin spec to load for storage provider `provider`, configured as
 * `spec` (NULL: not in providers.storage): XT's class paths and provider
 * names map to the native plugins (xtcompat.c); any other spec is itself.
 * NULL with *out_python set when spec is another Python class path. */
const char *st_xt_plugin_spec(const char *provider, const char *spec,
                              int *out_python);
/* src into dst (size bytes): when it does not fit, the middle of its
 * longest '...'-quoted names is elided ("abc...xyz") before anything is
 * cut, so that the cause at the end of a message stays (error.c). */
void st_fit_message(char *dst, size_t size, const char *src);
/* In place, within msg's size: every URL's userinfo and the values of its
 * signature-bearing query fields (sig, X-Amz-Signature, token, ...) become
 * "<redacted>" (redact.c). */
void st_redact_urls(char *msg, size_t size);

/* Non-zero once the context was cancelled. */
int st_cancelled(const xtstore_ctx *ctx);

/* blob.c: what a HEAD says of an object, to tell whether a put or an
 * upload whose answer was lost landed: st_head_seen_fn fills it. */
typedef struct st_head_seen {
  int seen;          /* the store reported the object                   */
  uint64_t size;
  int has_crc;       /* crc is the object's CRC-32C                     */
  uint32_t crc;
} st_head_seen;
int32_t st_head_seen_fn(void *seen, const store_entry *e);

/* The metadata flag of a directory marker (blob.c). */
#define ST_MARKER_META "hdi_isfolder"

/* blob.c: non-zero when e is a directory marker: flagged
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
/* entry.c: a caller's entry callback as handed to a plugin                 */
/* ------------------------------------------------------------------------ */
/* Counts deliveries and holds a stop: a plugin that calls again after the
 * caller's callback asked to stop never reaches the caller (whose buffer
 * may be full); those calls are counted as ignored. */
typedef struct st_entry_guard {
  store_entry_fn fn;
  void *ud;
  int calls;        /* entries delivered: a listing is not replayed after */
  int stopped;      /* the caller's callback asked to stop               */
  int ignored;      /* calls the plugin made after the stop              */
} st_entry_guard;
/* The store_entry_fn to hand to the plugin, with the guard as its ud. */
int32_t st_entry_guard_fn(void *guard, const store_entry *e);
/* The call's status: a stopped call is STORE_E_ABORTED even if the plugin
 * reported success; a plugin that went on after the stop is named in the
 * message ("... the plugin went on after the stop") and logged once. */
int st_entry_guard_result(const st_entry_guard *g, const xtstore_svc *svc,
                          int rc, store_error *err);

/* ------------------------------------------------------------------------ */
/* policy.c: the multipart settings                                         */
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

#endif /* ST_CORE_H */
