/*
** engine.h -- the engine layer (host/engine/), above core/: moving the
** bytes of one object. The single-object transfers between files,
** descriptors and services (transfer.c), uploads in parts (multipart.c),
** the journals that resume them across runs (journal.c), and the pieces
** they run on: a byte ring (ring.c), a bounded queue (queue.c) and a
** worker pool (pool.c). Everything here streams: memory is
** bounded by ring, part and queue sizes, never by the size of an object,
** and every part buffer and ring is taken from the context's memory
** budget (core/budget.c), never by the number of transfers either.
*/
#ifndef ST_ENGINE_H
#define ST_ENGINE_H

#include <pthread.h>
#include <stdint.h>

#include "core/core.h"

/* ------------------------------------------------------------------------ */
/* ring.c: a bounded single-producer single-consumer byte ring     */
/* ------------------------------------------------------------------------ */
typedef struct st_ring {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  char *buf;
  size_t cap, head, len;
  int eof;          /* the producer finished successfully */
  int failed;       /* the producer failed                */
  int closed;       /* the consumer stopped reading       */
} st_ring;

/* A ring of cap bytes. STORE_E_NOMEM (err filled) when it cannot be had.
 * st_ring_destroy is safe either way, and on a zeroed st_ring. */
int st_ring_init(st_ring *r, size_t cap, store_error *err);
void st_ring_destroy(st_ring *r);
/* store_write_fn: blocks while the ring is full; returns 1 once the
 * consumer closed it. */
int32_t st_ring_write(void *ring, const void *data, size_t len);
/* store_read_fn: blocks while empty; end of data after st_ring_end(r, 0);
 * returns 1 after st_ring_end(r, 1). */
int32_t st_ring_read(void *ring, void *out, size_t cap, size_t *out_n);
/* The producer is done (failed: non-zero when it failed). */
void st_ring_end(st_ring *r, int failed);
/* The consumer is done: writes from now on return 1. */
void st_ring_close(st_ring *r);

/* ------------------------------------------------------------------------ */
/* queue.c: a bounded blocking queue of pointers                   */
/* ------------------------------------------------------------------------ */
typedef struct st_bq {
  pthread_mutex_t mu;
  pthread_cond_t not_empty, not_full;
  void **items;
  size_t cap, head, len;
  int ended;        /* the producer will push no more  */
  int closed;       /* the consumer will pop no more   */
} st_bq;

int st_bq_init(st_bq *q, size_t cap, store_error *err);
/* Free what is still queued with free_item (may be NULL), then the queue. */
void st_bq_destroy(st_bq *q, void (*free_item)(void *));
/* Blocks while full. -1 once the consumer closed the queue (item is then
 * still the caller's). */
int st_bq_push(st_bq *q, void *item);
/* Blocks while empty. NULL once the producer ended and all was taken. */
void *st_bq_pop(st_bq *q);
void st_bq_end(st_bq *q);
void st_bq_close(st_bq *q);

/* ------------------------------------------------------------------------ */
/* pool.c: N worker threads over one bounded job queue             */
/* ------------------------------------------------------------------------ */

/* Run one job; the job is the function's to free. */
typedef void (*st_job_fn)(void *ud, void *job);

typedef struct st_pool {
  st_bq q;
  pthread_t *tids;
  unsigned nthreads;
  st_job_fn fn;
  void *ud;
  pthread_mutex_t mu;
  pthread_cond_t idle;
  size_t pending;   /* pushed and not yet finished */
  st_flow_user user;  /* its jobs' use of the services' windows */
} st_pool;

/* Start `threads` workers with a queue of 2 jobs per worker. */
int st_pool_start(st_pool *p, unsigned threads, st_job_fn fn, void *ud,
                  store_error *err);
/* Start `threads` workers of which `slots` run jobs at once (a queue of 2
 * jobs per slot); the others are spares that start a job while one sleeps
 * before a retry (core/flow.c: its slot is given back). st_pool_start is
 * slots == threads. */
int st_pool_start_spare(st_pool *p, unsigned slots, unsigned threads,
                        st_job_fn fn, void *ud, store_error *err);
/* Queue a job, blocking while the queue is full. */
void st_pool_push(st_pool *p, void *job);
/* Wait until every job pushed so far has finished. */
void st_pool_wait(st_pool *p);
/* Run what is queued, stop the workers and free the pool. */
void st_pool_stop(st_pool *p);

/* ------------------------------------------------------------------------ */
/* multipart.c: the transfer engine -- one object up in parts               */
/* ------------------------------------------------------------------------ */
/* Non-zero when a put of `length` bytes (-1: unknown) to svc goes through
 * the engine: svc has STORE_CAP_MULTIPART and the length is unknown or
 * above the threshold (or above limits.max_put_size, when smaller). */
int st_mp_wanted(const xtstore_svc *svc, int64_t length);
/* Parts the engine keeps in flight on svc. */
unsigned st_mp_inflight(const xtstore_svc *svc);
/* The part size of an upload of `length` bytes (-1: unknown) to svc: its
 * multipart.part-size within the provider's limits, grown to keep within
 * its most parts. A sequential source's part buffers have this size. */
uint64_t st_mp_part_size(const xtstore_svc *svc, int64_t length);

/* A random source's identity: a journal of its upload is used again only
 * while all of it is unchanged (st_mp_ident_same). A file's, or another
 * service's object's (service set; dev, ino, mtime_ns and start 0). Its
 * strings are borrowed: a journal's point into the journal's own copies. */
typedef struct st_mp_ident {
  uint64_t dev, ino, size;  /* the file's, as fstat says; an object's size */
  int64_t mtime_ns;
  uint64_t start;           /* where the body starts in it              */
  /* An object: where it is, and the version its entry reports (its etag,
   * to which every ranged get of the copy is pinned). NULL: a file. */
  const char *service, *container, *key, *version;
  const char *snapshot;     /* the object's snapshot read; NULL: the live one */
} st_mp_ident;

/* Non-zero when a and b are the identity of one unchanged source. */
int st_mp_ident_same(const st_mp_ident *a, const st_mp_ident *b);

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
  unsigned buffers;         /* a sequential source's part buffers at most,
                               so parts in flight (0: st_mp_inflight) */
  /* Bytes of the context's memory budget the caller took for a
   * sequential source's first part buffer (st_mp_part_size), together with
   * what else it holds for this transfer (a ring): a caller that holds
   * budget must not wait for more. st_mp_put gives them back, whatever it
   * returns. 0: it waits for its first buffer itself. */
  uint64_t reserved;
  const st_mp_ident *ident; /* a random source that is a file, or another
                               service's object pinned to its version, or
                               a sequential source of known length that
                               reads a file in order (the fan-out's): its
                               upload is journaled and resumed by the next
                               run (journal.c); NULL: none of these */
  /* A sequential source with an identity: set to 1 when the upload its
   * journal recorded is gone from the service (expired, aborted). The
   * journal is dropped and st_mp_put fails (STORE_E_NOT_FOUND): the bytes
   * it read are spent, so the caller starts over, from the file. May be
   * NULL. */
  int *gone;
  /* A random source whose bytes can be read twice cheaply (a file): the
   * CRC-32C of bytes [off, off+len) into *out, read ahead of a part's
   * send so the service can check the part, and to see that a journaled
   * part is unchanged. Non-zero (err filled) when reading failed. NULL:
   * a part's CRC-32C is known only as it is sent. */
  int (*crc)(void *ud, uint64_t off, uint64_t len, uint32_t *out,
             store_error *err);
  /* A random source whose bytes cost a fetch (another service's object,
   * by a ranged get pinned to its version): as crc, but called only to
   * see that a part on record of an earlier run (journal.c) is still the
   * source's, never ahead of a send. NULL: crc does that. */
  int (*crc_again)(void *ud, uint64_t off, uint64_t len, uint32_t *out,
                   store_error *err);
  /* A file source: non-zero, the cause in err's message, when the file is
   * no longer as it was when the upload began (its size, modification
   * time or inode), so the parts sent may mix its states: checked before
   * completion, which then does not happen. NULL: not a file. */
  int (*changed)(void *ud, store_error *err);
  /* Where a CRC-32C in the put's options came from (ST_KNOWN_*, core.h):
   * ST_KNOWN_COPY for a copy's source, whose mismatch is retryable. */
  int known;
  /* A sequential source: called once, on st_mp_put's thread, as soon as
   * the engine reads no more of it (every byte read, or the upload
   * failed), before what follows -- the parts in flight, a failed
   * upload's abort: round trips -- so that whoever feeds it (the fan-out's
   * tee) is not held by them. May be NULL. */
  void (*read_done)(void *ud);
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
** With src->ident, the upload is journaled as its parts complete and
** resumed by the next st_mp_put of the same source to the same target: the
** parts on record whose range of the source (a file, or an object of the
** same size and version; a sequential source's part buffer, read in order
** either way) still has the CRC-32C sent are not sent again
** (see journal.c). A completed, failed or cancelled upload leaves
** no journal.
**
** Checksums: every part's CRC-32C is computed as it is sent (read ahead
** with src->crc where the plugin has multipart_part_checked, or from a
** part buffer, and passed down for the service to check) and compared
** with the one read ahead (a file's part that differs: the file changed,
** the upload fails) and with what the service reports for the part (a
** mismatch fails that attempt, retryably); a file must be unchanged
** (src->changed) before complete, which gets the whole object's CRC-32C
** (combined from the parts'), which must equal a CRC-32C opts says was
** known (a copy's source: retryable), and the service's report of it is
** compared: a wrong object is removed (st_put_verify_cksum).
*/
int st_mp_put(xtstore_svc *svc, const char *container, const char *key,
              const store_put_opts *opts, const st_mp_src *src,
              store_put_result *out, store_error *err);

/* ------------------------------------------------------------------------ */
/* journal.c: the upload journals (resume across runs)                      */
/* ------------------------------------------------------------------------ */

/* fd's identity with the body starting at `start`; -1 when fd is not a
 * regular file. */
int st_mp_ident_fd(int fd, int64_t start, st_mp_ident *out);
/* Non-zero, the cause in err, when fd's identity now is not id (taken
 * with st_mp_ident_fd at `start`): the file changed. */
int st_mp_ident_fd_changed(int fd, int64_t start, const st_mp_ident *id,
                           store_error *err);
/* An object's identity, its strings borrowed from the arguments
 * (snapshot NULL or empty: the live object). */
void st_mp_ident_object(const char *service, const char *container,
                        const char *key, const char *version,
                        const char *snapshot, uint64_t size,
                        st_mp_ident *out);

typedef struct st_jpart {
  uint32_t no;
  uint64_t len;
  char *token;                /* owned */
  uint32_t crc;               /* CRC-32C of the bytes sent */
} st_jpart;

/* One journal: what its file says, and the descriptor parts are appended
 * through once it is written. */
typedef struct st_journal {
  char *path;
  int fd;                     /* -1 until st_journal_write */
  int64_t created;            /* Unix seconds */
  st_mp_ident ident;          /* its strings: the src_ ones below */
  char *src_service, *src_container, *src_key, *src_version,
      *src_snapshot;          /* owned */
  uint64_t part_size;
  char *service, *container, *key;
  char upload_id[STORE_ID_SIZE];
  st_jpart *parts;            /* in no particular order; one per part
                                 number, its last line's (a part sent
                                 again in a run appends the truth) */
  size_t nparts;
  uint64_t opts;              /* begin's put options' digest ...        */
  int has_opts;               /* ... when on record (0: an older
                                 xtstore's journal: not known)          */
  uint32_t kept;              /* runs in a row that kept the upload for
                                 the next storing no part               */
  int stored;                 /* this run appended a part (st_journal_add) */
} st_journal;

/* The journal file of a target (malloc'd; its directory created), NULL
 * when the user has no state directory to keep it in. */
char *st_journal_path(const char *service, const char *container,
                      const char *key);
/* Take the lock of path's journal (its file PATH.lock, created), held
 * through *out_fd until st_journal_unlock, or until the process ends.
 * Taken before the journal is read, held while the upload runs. 0: held;
 * 1: another process holds it (its upload of that target is running);
 * -1: it cannot be had (errno). */
int st_journal_lock(const char *path, int *out_fd);
/* Give up the lock taken by st_journal_lock (fd; -1: none), removing its
 * file. */
void st_journal_unlock(const char *path, int fd);
/* Read path into a new *out (free it with st_journal_free); 1 (NULL) when
 * there is no such file, -1 (NULL) when it cannot be read or is not a
 * journal (of another version, say). */
int st_journal_read(const char *path, st_journal **out);
/* A new journal of no parts yet, for path (not written), with copies of
 * ident's strings; NULL when out of memory. */
st_journal *st_journal_new(const char *path, const char *service,
                           const char *container, const char *key,
                           const char *upload_id, const st_mp_ident *ident,
                           uint64_t part_size);
/* (Re)write j's file atomically with its parts, and open it for
 * st_journal_add. The caller holds its lock (st_journal_lock). -1 on
 * failure (errno). */
int st_journal_write(st_journal *j);
/* Record a completed part and the CRC-32C of its bytes, durably. -1 on
 * failure. Not thread-safe. */
int st_journal_add(st_journal *j, uint32_t no, uint64_t len,
                   const char *token, uint32_t crc);
/* Record that this run keeps j's upload for the next without progress
 * (j->kept grows by one), durably; nothing when it stored a part
 * (st_journal_add: progress, the count 0). -1 on failure. */
int st_journal_kept(st_journal *j);
/* The digest of the put options an upload begins with (opts may be NULL),
 * for the journal's record of them (j->opts): of what begin sends and
 * every run knows alike, its content type and metadata (in any order):
 * equal ones, equal digests; a change in either changes it. */
uint64_t st_journal_opts_digest(const store_put_opts *opts);
/* Non-zero when another process holds the lock of path's journal: its
 * upload is running. */
int st_journal_busy(const char *path);
/* Delete j's file (j stays to be freed). Accepts NULL. */
void st_journal_remove(st_journal *j);
void st_journal_free(st_journal *j);

/* ------------------------------------------------------------------------ */
/* transfer.c: the single-object transfers, with a byte counter             */
/* ------------------------------------------------------------------------ */

/* The default ring of a streamed copy. */
#define ST_PIPE_BYTES (8u << 20)

/* xtstore_blob_copy through a ring of ring_bytes, calling on_bytes (may
 * be NULL) with each chunk the destination takes (once, however often the
 * copy is sent). A single put that fails retryably after it read from the
 * ring is sent again from a new get, per the destination's retry policy.
 * A server-side copy is checked by the target's head (size, and CRC-32C
 * or MD5 where both ends report one; an MD5 alone in doubt by reading the
 * target back) against the source's, headed before and after the copy:
 * a source that changed in between fails the copy unjudged, nothing
 * removed; a wrong copy is removed, unless it is the source itself. out
 * (may be NULL) gets what the target reports and was compared: the put's
 * result (its MD5 only when one went down with the put), or the head's
 * size and the checksums compared. */
int st_copy_blob(xtstore_svc *src, const char *sc, const char *sk,
                 xtstore_svc *dst, const char *dc, const char *dk,
                 const store_copy_opts *opts, size_t ring_bytes,
                 xtstore_bytes_fn on_bytes, void *ud, store_put_result *out,
                 store_error *err);
/* xtstore_blob_put_fd, calling on_bytes (may be NULL) per chunk read. */
int st_put_fd(xtstore_svc *svc, const char *container, const char *key,
              const store_put_opts *opts, int fd, xtstore_bytes_fn on_bytes,
              void *ud, store_put_result *out, store_error *err);
/* xtstore_blob_get_file, calling on_bytes (may be NULL) per chunk
 * written (never concurrently). An object above svc's multipart threshold,
 * on a service with ranges, conditional gets and several requests at once,
 * comes in ranges of the part size, st_mp_inflight at once, each pinned to
 * the etag of the first get (which stops at the headers) and written in
 * place; then the file's CRC-32C (the ranges' combined) or else its MD5
 * is checked against the store's, when it keeps one. */
int st_get_file(xtstore_svc *svc, const char *container, const char *key,
                const store_get_opts *opts, const char *path,
                xtstore_bytes_fn on_bytes, void *ud, uint32_t flags,
                store_error *err);
/* st_get_file's flags: ST_GET_NO_SYNC leaves the file and its directory
 * unsynced (no fsync before it is named, none of the directory after):
 * the caller syncs each filesystem written on once, for many files,
 * before it reports them durable (a tree download, run.c). */
#define ST_GET_NO_SYNC (1u << 0)
/* Append what fd holds from its current offset to the blob
 * (STORE_CAP_APPEND), creating it with content_type if missing; tried
 * once (appends are not idempotent). */
int st_append_fd(xtstore_svc *svc, const char *container, const char *key,
                 const char *content_type, int fd, store_error *err);

#endif /* ST_ENGINE_H */
