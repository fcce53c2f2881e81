/*
** multipart.c -- the transfer engine: one object up in parts.
**
** The part size comes from the service's `multipart` settings, grown to
** keep within limits.max_parts and kept within min/max_part_size; every
** part but the last has that size, so stores that want equal parts get
** them. Up to st_mp_inflight() parts go up at once on a worker pool
** (pool.c), each retried on its own per the service's retry
** policy: a part's body can always be produced again, because it is either
** read by offset from a random-access source (a file by pread, another
** service by ranged gets: no buffer of ours) or held in one of the upload's
** part buffers (a pipe, a stream: at most parts-in-flight of them, taken
** from the context's memory budget: the first waited for, the others only
** while the budget has room, so a spent budget means fewer parts in
** flight, never a failure or a deadlock; spares go back to the budget
** while another transfer waits for it). The
** upload completes with begin's options; on a final failure or on
** cancellation it is aborted, so nothing becomes visible and nothing stays
** behind (but see below: a journaled upload outlives a lost network), and
** the error names the part.
**
** Checksums: each part's CRC-32C, read ahead where its bytes are at hand
** (a part buffer, a file's range), goes down with the part for the
** service to check, and what the service reports is compared with the
** bytes sent (a wrong part is sent again); the parts' CRCs combined are
** the whole object's, which complete gets and the service's report of
** it is compared with (engine.h, st_mp_put).
**
** Resume within one run: a failed part is sent again alone and the parts
** already up are kept. Across runs, for a file or another service's object
** pinned to its version (src->ident): the upload id and each completed
** part's token are journaled (journal.c), so a run that dies where it
** cannot abort (kill -9, a crash, power loss) is resumed by the next
** upload of the same, unchanged source to the same blob, which sends only
** the parts not on record or whose range of the source no longer has the
** CRC-32C recorded (the workers read the parts on record again, in
** parallel: a file's by offset, an object's by ranged gets pinned to its
** version, which is not its bytes; a file read in order, the fan-out's,
** has every part in a buffer anyway, whose CRC-32C is checked). ABI 1.0
** cannot list a server's parts, so the journal is the record, and the
** service checks the tokens at completion; an upload the service no
** longer has (expired, aborted) is started over once (a file read in
** order by its caller, from the file: src->gone). One run at a time holds
** a target's journal (its lock, taken before it is read); another one at
** once uploads unjournaled.
** A final failure of the network or the service (no connection, a cut, a
** timeout, throttling or a 5xx: retryable, retries spent) keeps the upload
** and its journal for the next run, as kill -9 would, even where an abort
** could reach the service now; any other failure (the source's, a file
** changed, a part the host finds stored wrong, a refusal, one no retry
** mends) or ^C aborts the upload and drops the journal, as a deliberate
** stop (kept_for_next_run). An upload kept by ST_MP_KEPT_RUNS runs in a
** row that stored no part is one the service refuses the same way
** each time (s3rver answers 500 to completing an upload it no longer
** has): the next run aborts it and starts over. So does a run whose put
** options (content type, metadata: begin's, which complete cannot change)
** are not the ones the upload began with.
*/
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define ST_MP_READ_CHUNK      ((size_t)1 << 20)   /* one read of a stream   */
#define ST_MP_KEPT_RUNS       3u    /* kept this often in a row: start over */

/* ------------------------------------------------------------------------ */
/* the service's settings applied                                           */
/* ------------------------------------------------------------------------ */
unsigned st_mp_inflight(const xtstore_svc *svc)
{
  /* Calls to a provider that is not thread-safe are serialised anyway. */
  if (!svc->threadsafe)
    return 1;
  return svc->multipart.concurrency ? svc->multipart.concurrency
                                    : ST_MP_CONCURRENCY;
}

int st_mp_wanted(const xtstore_svc *svc, int64_t length)
{
  uint64_t limit = svc->multipart.threshold;

  if (!(svc->ops->capabilities & STORE_CAP_MULTIPART))
    return 0;
  if (length < 0)
    return 1;
  if (svc->limits.max_put_size && svc->limits.max_put_size < limit)
    limit = svc->limits.max_put_size;
  return (uint64_t)length > limit;
}

/* ------------------------------------------------------------------------ */
/* one upload                                                               */
/* ------------------------------------------------------------------------ */
struct mp {
  xtstore_svc *svc;
  const char *container, *key;
  const store_put_opts *opts;   /* the caller's: begin's and complete's   */
  const st_mp_src *src;
  char id[STORE_ID_SIZE];       /* the upload id, "" before begin         */
  uint64_t part_size;
  uint32_t max_parts;
  uint32_t nparts;              /* planned for a known length, else 0     */
  uint32_t sent;                /* parts queued so far                    */
  uint64_t bytes;               /* bytes in them                          */
  unsigned inflight;
  unsigned maxbufs;             /* part buffers at most (src->buffers)    */
  st_pool pool;
  pthread_mutex_t mu;           /* guards what follows, and on_bytes      */
  pthread_cond_t freed;         /* a part buffer came back, or a failure  */
  char **tokens;                /* tokens[i]: part i+1's (owned)          */
  uint32_t *crcs;               /* crcs[i]: part i+1's CRC-32C, as sent   */
  uint32_t ntokens;             /* room in tokens and crcs                */
  char **spare;                 /* part buffers not in use (owned)        */
  unsigned nspare, nbufs;       /* spare ones; allocated in all           */
  st_budget *budget;            /* the context's, which they come from    */
  uint64_t held;                /* bytes of it this upload holds          */
  atomic_int failed;            /* a failure is on record: stop           */
  int rc;                       /* the first failure                      */
  int rc_service;               /* ... is the service's (p->svc_failed)   */
  store_error err;
  st_journal *journal;          /* a journaled upload's record (owned)    */
  char *jpath;                  /* its path, once looked for (owned)      */
  int lock;                     /* its lock held (st_journal_lock), or -1:
                                   no record of this run                  */
  uint32_t resumed;             /* parts a journal had: not sent again    */
  int read_ended;               /* src->read_done was called              */
};

struct part {
  struct mp *m;
  uint32_t no;
  uint64_t off, len;
  uint64_t pos;                 /* bytes the service took this attempt    */
  uint64_t counted;             /* bytes reported, over all attempts      */
  uint64_t furthest;            /* the most an attempt cut short read     */
  int cut;                      /* the last attempt got no answer         */
  uint32_t crc;                 /* CRC-32C of the bytes sent this attempt */
  int known;                    /* want: the part's CRC-32C, read ahead   */
  uint32_t want;
  char *buf;                    /* a stream's bytes (a part buffer), or   */
  void *reader;                 /* a random source's reader, per attempt  */
  int on_record;                /* a journal's: sent only if it changed   */
  int ended_early;              /* the reader ended before len            */
  int svc_failed;               /* this attempt failed in the service     */
  char token[STORE_ID_SIZE];
};

static int stopped(struct mp *m)
{
  return atomic_load(&m->failed) || st_cancelled(m->svc->ctx);
}

/* "service 'S': blob 'C/K': part N of M: CAUSE", CAUSE without its own
 * "service 'S': ". */
static void name_part(const struct mp *m, uint32_t no, store_error *e)
{
  char buf[STORE_ERR_MSG_SIZE], prefix[96], of[24] = "";
  const char *msg = e->message;
  int n = snprintf(prefix, sizeof(prefix), "service '%s': ", m->svc->name);

  if (n > 0 && (size_t)n < sizeof(prefix) && !strncmp(msg, prefix, (size_t)n))
    msg += n;
  if (m->nparts)
    snprintf(of, sizeof(of), " of %" PRIu32, m->nparts);
  /* Truncation is the contract: the message is cut, never overflowed. */
  if (snprintf(buf, sizeof(buf), "service '%s': blob '%s/%s': part %" PRIu32
               "%s: %s", m->svc->name, m->container, m->key, no, of, msg) < 0)
    return;
  memcpy(e->message, buf, sizeof(buf));
}

/* Record the first failure (of part `no`; 0: not a part's; `service`:
 * the service's, see rc_service) and wake the dispatcher: everything else
 * stops at its next chunk. */
static void fail(struct mp *m, uint32_t no, int rc, int service,
                 const store_error *e)
{
  pthread_mutex_lock(&m->mu);
  if (!atomic_load(&m->failed)) {
    m->rc = rc;
    m->rc_service = service;
    if (e)
      m->err = *e;
    else
      st_err(&m->err, rc, "%s", store_strerror(rc));
    if (no)
      name_part(m, no, &m->err);
    atomic_store(&m->failed, 1);
  }
  pthread_cond_broadcast(&m->freed);
  pthread_mutex_unlock(&m->mu);
}

/* The upload's first part buffer: its minimum. Taken from the caller's
 * reservation (src->reserved, which is this size), else waited for: the
 * upload holds nothing else of the budget then, so it cannot wait on
 * itself. */
static int first_buffer(struct mp *m, char **out, store_error *err)
{
  int rc = STORE_OK;

  if (m->held < m->part_size)
    rc = st_budget_take(m->budget, m->part_size - m->held, err);
  if (rc)
    return rc;
  pthread_mutex_lock(&m->mu);
  if (m->held < m->part_size)
    m->held = m->part_size;
  if ((*out = malloc(m->part_size)) != NULL)
    m->nbufs++;
  else
    rc = st_err(err, STORE_E_NOMEM, "out of memory for a %" PRIu64
                "-byte part buffer", m->part_size);
  pthread_mutex_unlock(&m->mu);
  return rc;
}

/* A part buffer: a spare one; a new one while fewer than maxbufs exist
 * and the budget has room now; else wait for one of ours to come back
 * (give_buffer keeps one at least, so one is in flight). STORE_E_ABORTED
 * once a failure is on record. */
static int take_buffer(struct mp *m, char **out, store_error *err)
{
  int rc = STORE_OK;

  *out = NULL;
  pthread_mutex_lock(&m->mu);
  if (m->nbufs == 0) {
    pthread_mutex_unlock(&m->mu);
    return first_buffer(m, out, err);
  }
  for (;;) {
    if (atomic_load(&m->failed)) {
      rc = STORE_E_ABORTED;
      break;
    }
    if (m->nspare) {
      *out = m->spare[--m->nspare];
      break;
    }
    if (m->nbufs < m->maxbufs &&
        !st_budget_try(m->budget, m->part_size)) {
      if ((*out = malloc(m->part_size)) != NULL) {
        m->nbufs++;
        m->held += m->part_size;
      } else {
        st_budget_give(m->budget, m->part_size);
        rc = st_err(err, STORE_E_NOMEM, "out of memory for a %" PRIu64
                    "-byte part buffer", m->part_size);
      }
      break;
    }
    pthread_cond_wait(&m->freed, &m->mu);
  }
  pthread_mutex_unlock(&m->mu);
  return rc;
}

/* A part buffer back: kept for the next part, or -- while another
 * transfer waits for the budget and this upload has more than one --
 * freed and its bytes given back, so that one can start. */
static void give_buffer(struct mp *m, char *buf)
{
  if (!buf)
    return;
  pthread_mutex_lock(&m->mu);
  if (m->nbufs > 1 && st_budget_contended(m->budget)) {
    free(buf);
    m->nbufs--;
    m->held -= m->part_size;
    st_budget_give(m->budget, m->part_size);
  } else {
    m->spare[m->nspare++] = buf;
  }
  pthread_cond_broadcast(&m->freed);
  pthread_mutex_unlock(&m->mu);
}

/* ------------------------------------------------------------------------ */
/* a part's body                                                            */
/* ------------------------------------------------------------------------ */

/* Report what the service took beyond what was reported already. */
static void count(struct part *p)
{
  const st_mp_src *s = p->m->src;

  if (p->pos <= p->counted)
    return;
  if (s->on_bytes) {
    pthread_mutex_lock(&p->m->mu);
    s->on_bytes(s->bytes_ud, p->pos - p->counted);
    pthread_mutex_unlock(&p->m->mu);
  }
  p->counted = p->pos;
}

/* store_read_fn of a part: never more than the part's length. */
static int32_t part_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  struct part *p = ud;
  uint64_t left = p->len - p->pos;
  size_t n = 0;

  *out_n = 0;
  if (stopped(p->m))
    return 1;
  if (cap > left)
    cap = (size_t)left;
  if (cap == 0)
    return 0;
  if (p->buf) {
    memcpy(buf, p->buf + p->pos, cap);
    n = cap;
  } else if (p->m->src->read(p->reader, buf, cap, &n)) {
    return 1;
  } else if (n == 0) {
    p->ended_early = 1;
    return 1;
  }
  /* A part buffer's bytes cannot change: their CRC-32C is the one read
   * ahead (do_part). */
  if (!p->buf)
    p->crc = st_crc32c(p->crc, buf, n);
  p->pos += n;
  count(p);
  *out_n = n;
  return 0;
}

/* Ready the part for an attempt: from its first byte. */
static int part_open(struct part *p, store_error *err)
{
  const st_mp_src *s = p->m->src;

  p->pos = 0;
  p->crc = 0;
  p->ended_early = 0;
  if (p->buf || !s->open)
    return STORE_OK;
  return s->open(s->ud, p->off, p->len, &p->reader, err);
}

/* A failure another run may not meet: the network's or a service's own,
 * retryable, retries spent: no connection, a cut or empty reply, a
 * timeout, throttling, a 5xx. */
static int transient(int rc, const store_error *e)
{
  return e && (e->flags & STORE_ERR_RETRYABLE) &&
         (rc == STORE_E_IO || rc == STORE_E_TIMEOUT ||
          rc == STORE_E_THROTTLED || rc == STORE_E_SERVER);
}

/* A copy's source that failed with rc (e): a transient failure of its
 * service is one the next run may not meet (p->svc_failed: keep); one
 * that says the source is gone or replaced (not found, a precondition),
 * or a file's, is not. */
static void source_failed(struct part *p, int rc, const store_error *e)
{
  const st_mp_ident *id = p->m->src->ident;

  p->svc_failed = id && id->service && transient(rc, e);
}

/* After an attempt that ended with rc: close the reader. A part the
 * service gave up on because its body stopped (STORE_E_ABORTED) gets the
 * body's own failure. */
static int part_close(struct part *p, int rc, store_error *err)
{
  store_error rerr;
  int rrc = STORE_OK;

  if (p->reader) {
    st_err_reset(&rerr);
    rrc = p->m->src->close(p->reader, &rerr);
    p->reader = NULL;
  }
  if (rc != STORE_E_ABORTED)
    return rc;
  if (rrc) {
    source_failed(p, rrc, &rerr);
    if (err)
      *err = rerr;
    return rrc;
  }
  if (p->ended_early)
    return st_err(err, STORE_E_IO,
                  "the source ended %" PRIu64 " bytes into the part's %"
                  PRIu64, p->pos, p->len);
  if (st_cancelled(p->m->svc->ctx))
    return st_err(err, STORE_E_ABORTED, "cancelled");
  return rc;
}

/* st_replay_fn: a part can always be sent again from its first byte --
 * unless its source cannot be read again: then that failure decides
 * whether the upload is kept (source_failed). An attempt cut short (no
 * answer) further into the part than any before it moved it on:
 * progress, which does not use up an attempt (as a single put's,
 * core/blob.c); one that read the whole part was not cut short in it. */
static int part_replay(void *arg)
{
  struct part *p = arg;
  store_error e;
  int progress = p->cut && p->pos > p->furthest && p->pos < p->len;
  int rc;

  if (p->pos == 0)
    return ST_REPLAY_OK;
  if (progress)
    p->furthest = p->pos;
  part_close(p, STORE_OK, NULL);
  st_err_reset(&e);
  rc = part_open(p, &e);
  if (rc) {
    source_failed(p, rc, &e);
    return ST_REPLAY_NO;
  }
  return progress ? ST_REPLAY_PROGRESS : ST_REPLAY_OK;
}

static int32_t part_rewind(void *ud)
{
  return part_replay(ud) == ST_REPLAY_NO;
}

/* The plugin's multipart_part_checked, when it has one (a 1.1 plugin). */
static int has_checked(const xtstore_svc *s)
{
  return STORE_HAS_FIELD(struct store_interface, multipart_part_checked,
                         s->ops->struct_size) &&
         s->ops->multipart_part_checked != NULL;
}

/* The CRC-32C of the bytes this attempt sent: a part buffer's is the one
 * read ahead when all of it went. */
static void sent_crc(struct part *p)
{
  if (p->buf)
    p->crc = p->pos == p->len ? p->want : st_crc32c(0, p->buf, p->pos);
}

/* One attempt. Not xtstore_multipart_part: that wrapper replays only a
 * part whose body was never read, and ours can be rewound. With
 * multipart_part_checked the part's CRC-32C goes along (read ahead: for
 * the service to check; else as a trailer, if the plugin can), and what
 * the service reports it stored is compared with the bytes sent: a wrong
 * part fails this attempt, retryably, so it is sent again like any
 * failed part. Bytes sent that are not the CRC-32C read ahead are a file
 * that changed while it was read: no attempt mends that. */
static int do_part(xtstore_svc *s, void *arg, store_error *err)
{
  struct part *p = arg;
  struct mp *m = p->m;
  store_put_opts o;
  store_put_result res, *out = NULL;
  char why[200];
  int rc, mismatch;

  p->token[0] = '\0';
  memset(&o, 0, sizeof(o));
  o.struct_size = sizeof(o);
  o.content_length = (int64_t)p->len;
  if (p->known) {
    o.checksums = STORE_CKSUM_CRC32C;
    o.crc32c = p->want;
  } else {
    o.trailer_checksums = STORE_CKSUM_CRC32C;
  }
  if (!has_checked(s)) {
    rc = s->ops->multipart_part(s->h, m->container, m->key, m->id, p->no,
                                p->len, part_read, p, p->token,
                                sizeof(p->token), err);
  } else {
    memset(&res, 0, sizeof(res));
    res.struct_size = sizeof(res);
    out = &res;
    rc = s->ops->multipart_part_checked(s->h, m->container, m->key, m->id,
                                        p->no, p->len, &o, part_read, p,
                                        p->token, sizeof(p->token), out,
                                        err);
  }
  p->cut = rc == STORE_E_IO || rc == STORE_E_TIMEOUT;
  /* Not the body's failure (STORE_E_ABORTED: the source's, or ^C). */
  p->svc_failed = rc != STORE_OK && rc != STORE_E_ABORTED;
  /* A store that checks the CRC-32C read ahead refuses a file's part
   * whose bytes changed since (retryably: to it, bytes hurt in flight);
   * every attempt would send that CRC again: the file's failure. */
  if (p->svc_failed && !p->buf && p->known && p->pos == p->len &&
      p->crc != p->want) {
    char said[STORE_ERR_MSG_SIZE] = "";

    if (err)
      memcpy(said, err->message, sizeof(said));
    said[sizeof(said) - 1] = '\0';
    p->svc_failed = 0;
    return st_err(err, STORE_E_IO, "the file changed while it was read "
                  "(CRC-32C %08" PRIx32 " sent, %08" PRIx32 " read ahead); "
                  "the service refused the part: %s", p->crc, p->want, said);
  }
  /* A provider that stops reading early stored no whole part. */
  if (!rc && p->pos != p->len)
    return st_err(err, STORE_E_INTERNAL, "the provider took %" PRIu64 " of "
                  "the part's %" PRIu64 " bytes and reported it stored",
                  p->pos, p->len);
  sent_crc(p);
  if (rc || !(mismatch = st_cksum_mismatch(&o, ST_KNOWN_FILE, p->crc, out,
                                           why, sizeof(why))))
    return rc;
  rc = st_err(err, STORE_E_IO, "%s", why);
  if (err && st_cksum_retryable(mismatch, ST_KNOWN_FILE))
    err->flags |= STORE_ERR_RETRYABLE;
  return rc;
}

/* Keep part p's token and CRC-32C, and record them in the journal. A
 * journal that cannot be written only costs the next run its resume: say
 * so, go on. */
static int keep_token(struct mp *m, const struct part *p, store_error *err)
{
  char *t = strdup(p->token);

  if (!t)
    return st_err(err, STORE_E_NOMEM, "out of memory");
  pthread_mutex_lock(&m->mu);
  m->tokens[p->no - 1] = t;
  m->crcs[p->no - 1] = p->crc;
  if (m->journal && st_journal_add(m->journal, p->no, p->len, p->token,
                                   p->crc)) {
    st_log(m->svc->ctx, STORE_LOG_WARN, "service '%s': blob '%s/%s': "
           "upload journal '%s': %s: this upload cannot be resumed",
           m->svc->name, m->container, m->key, m->journal->path,
           strerror(errno));
    st_journal_free(m->journal);
    m->journal = NULL;
  }
  pthread_mutex_unlock(&m->mu);
  return STORE_OK;
}

/* The part's CRC-32C before it is sent, where its bytes are at hand: a
 * buffered part's (summed once: the bytes sent are these), or a file's
 * range read ahead (page-cached for the send) where the plugin takes it
 * for the service to check (multipart_part_checked); a plugin that cannot
 * has the file's size and time checked before completion instead
 * (src->changed). Otherwise the bytes' own CRC is summed as they go. */
static int part_crc(struct part *p, store_error *err)
{
  const st_mp_src *s = p->m->src;

  if (p->buf) {
    p->want = st_crc32c(0, p->buf, (size_t)p->len);
    p->known = 1;
  } else if (s->crc && has_checked(p->m->svc)) {
    if (s->crc(s->ud, p->off, p->len, &p->want, err))
      return STORE_E_IO;
    p->known = 1;
  }
  return STORE_OK;
}

/* Count len bytes of a part not sent (on record) as moved. */
static void count_whole(struct mp *m, uint64_t len)
{
  const st_mp_src *s = m->src;

  if (s->on_bytes) {
    pthread_mutex_lock(&m->mu);
    s->on_bytes(s->bytes_ud, len);
    pthread_mutex_unlock(&m->mu);
  }
}

/* Non-zero when part p of the source, as it is now, has the CRC-32C the
 * journal recorded for the part stored (m->crcs): it stays. Else the
 * journal's token goes and the part is sent again. On a worker, so the
 * parts on record are read in parallel. A sequential source's part is in
 * its buffer already (read in order for every part, skipped or not: the
 * fan-out's ring); a file's range is read again
 * (src->crc), and so is an object's, by a ranged get pinned to the
 * version on record (src->crc_again): a version is not the bytes (the
 * local provider's etag is the file's inode, time and size, which a
 * rewrite in place can keep), so an unchanged etag only lets the journal
 * apply (resume). */
static int part_unchanged(struct mp *m, const struct part *p)
{
  const st_mp_src *s = m->src;
  int (*crc)(void *, uint64_t, uint64_t, uint32_t *, store_error *) =
      s->crc ? s->crc : s->crc_again;
  store_error e;
  uint32_t now;
  int same;

  st_err_reset(&e);
  if (p->buf)
    same = st_crc32c(0, p->buf, (size_t)p->len) == m->crcs[p->no - 1];
  else
    same = crc && !crc(s->ud, p->off, p->len, &now, &e) &&
           now == m->crcs[p->no - 1];
  if (!same) {
    pthread_mutex_lock(&m->mu);
    free(m->tokens[p->no - 1]);
    m->tokens[p->no - 1] = NULL;
    m->resumed--;
    pthread_mutex_unlock(&m->mu);
    st_log(m->svc->ctx, STORE_LOG_INFO, "service '%s': blob '%s/%s': part "
           "%" PRIu32 " on record: its range of the %s is not what was "
           "stored%s%s: sending it again", m->svc->name, m->container,
           m->key, p->no, s->ident->service ? "source object" : "file",
           e.message[0] ? ": " : "", e.message);
  }
  return same;
}

/* st_job_fn: one part, all its attempts. Frees the part. */
static void run_part(void *ud, void *job)
{
  struct mp *m = ud;
  struct part *p = job;
  store_error e;
  int rc;

  st_err_reset(&e);
  if (p->on_record && !stopped(m) && part_unchanged(m, p)) {
    count_whole(m, p->len);
  } else if (!stopped(m)) {
    rc = part_crc(p, &e);
    if (!rc)
      rc = part_open(p, &e);
    if (!rc)
      rc = st_svc_call(m->svc, do_part, part_replay, p, &e);
    rc = part_close(p, rc, &e);
    if (!rc)
      rc = keep_token(m, p, &e);
    if (rc)
      fail(m, p->no, rc, p->svc_failed, &e);
  }
  give_buffer(m, p->buf);
  free(p);
}

/* ------------------------------------------------------------------------ */
/* dispatching the parts                                                    */
/* ------------------------------------------------------------------------ */

/* Room for the token of part `no`. Only the dispatcher grows the array;
 * workers write into it under the lock. */
static int room_for(struct mp *m, uint32_t no, store_error *err)
{
  uint64_t cap = m->ntokens ? (uint64_t)m->ntokens * 2 : 16;
  uint32_t *c;
  char **t;

  if (no <= m->ntokens)
    return STORE_OK;
  if (cap < no)
    cap = no;
  if (cap > m->max_parts)
    cap = m->max_parts;
  pthread_mutex_lock(&m->mu);
  c = realloc(m->crcs, (size_t)cap * sizeof(*c));
  if (c)
    m->crcs = c;
  t = c ? realloc(m->tokens, (size_t)cap * sizeof(*t)) : NULL;
  if (t) {
    memset(t + m->ntokens, 0, (size_t)(cap - m->ntokens) * sizeof(*t));
    memset(c + m->ntokens, 0, (size_t)(cap - m->ntokens) * sizeof(*c));
    m->tokens = t;
    m->ntokens = (uint32_t)cap;
  }
  pthread_mutex_unlock(&m->mu);
  return t ? STORE_OK : st_err(err, STORE_E_NOMEM, "out of memory");
}

/* Queue part `no`, bytes [off, off+len), with its buffer (taken, also on
 * failure) or NULL for a random source. */
static int push_part(struct mp *m, uint32_t no, uint64_t off, uint64_t len,
                     char *buf, store_error *err)
{
  struct part *p = NULL;
  int rc = room_for(m, no, err);

  if (!rc && !(p = calloc(1, sizeof(*p))))
    rc = st_err(err, STORE_E_NOMEM, "out of memory");
  if (rc) {
    give_buffer(m, buf);
    return rc;
  }
  p->m = m;
  p->no = no;
  p->off = off;
  p->len = len;
  p->buf = buf;
  pthread_mutex_lock(&m->mu);
  p->on_record = m->tokens[no - 1] != NULL;
  pthread_mutex_unlock(&m->mu);
  m->sent = no;
  m->bytes += len;
  st_pool_push(&m->pool, p);
  return STORE_OK;
}

/* The length of the part starting at byte off. */
static uint64_t part_len(const struct mp *m, uint64_t off)
{
  uint64_t left;

  if (m->src->length < 0)
    return m->part_size;
  left = (uint64_t)m->src->length - off;
  return left < m->part_size ? left : m->part_size;
}

/* A random source: every planned part, by offset; those a journal has go
 * to the workers too, which send them only if their range changed. */
static int dispatch_ranges(struct mp *m, store_error *err)
{
  uint64_t off = 0, len;
  uint32_t no;
  int rc = STORE_OK;

  for (no = 1; no <= m->nparts && !rc && !stopped(m); no++) {
    len = part_len(m, off);
    rc = push_part(m, no, off, len, NULL, err);
    off += len;
  }
  return rc;
}

/* Fill buf with the part starting at byte off of a sequential source:
 * *got is its length, short of part_size only where the source ended (and
 * for a known length exactly the part's). */
static int fill_part(struct mp *m, char *buf, uint64_t off, uint64_t *got,
                     store_error *err)
{
  const st_mp_src *s = m->src;
  uint64_t want = part_len(m, off);
  size_t n, cap;

  *got = 0;
  while (*got < want) {
    if (st_cancelled(m->svc->ctx))
      return st_err(err, STORE_E_ABORTED, "service '%s': cancelled",
                    m->svc->name);
    cap = want - *got < ST_MP_READ_CHUNK ? (size_t)(want - *got)
                                         : ST_MP_READ_CHUNK;
    n = 0;
    if (s->read(s->ud, buf + *got, cap, &n))
      return st_err(err, STORE_E_ABORTED,
                    "service '%s': blob '%s/%s': reading the source stopped",
                    m->svc->name, m->container, m->key);
    if (n == 0)
      break;
    *got += n;
  }
  if (s->length >= 0 && *got < want)
    return st_err(err, STORE_E_IO,
                  "service '%s': blob '%s/%s': the source ended after %"
                  PRIu64 " of its %" PRId64 " bytes", m->svc->name,
                  m->container, m->key, off + *got, s->length);
  return STORE_OK;
}

/* A sequential source: part by part, each read into a part buffer while
 * the parts before it go up. The first part is in *first already (taken). */
static int dispatch_stream(struct mp *m, char **first, uint64_t got,
                           store_error *err)
{
  const st_mp_src *s = m->src;
  char *buf = *first;
  uint64_t off = 0;
  uint32_t no;
  int rc;

  *first = NULL;
  for (no = 1;; no++) {
    rc = push_part(m, no, off, got, buf, err);
    off += got;
    if (rc || stopped(m) ||
        (s->length >= 0 ? off == (uint64_t)s->length : got < m->part_size))
      return rc;
    rc = take_buffer(m, &buf, err);
    if (!rc)
      rc = fill_part(m, buf, off, &got, err);
    if (!rc && got > 0 && no == m->max_parts)
      rc = st_err(err, STORE_E_INVALID,
                  "service '%s': blob '%s/%s': the source is longer than %"
                  PRIu32 " parts of %" PRIu64 " bytes (the service's most); "
                  "raise multipart.part-size", m->svc->name, m->container,
                  m->key, m->max_parts, m->part_size);
    if (rc || got == 0) {
      give_buffer(m, buf);
      return rc;
    }
  }
}

/* ------------------------------------------------------------------------ */
/* the upload                                                               */
/* ------------------------------------------------------------------------ */

/* A sequential source is read no more: say so, once (src->read_done). */
static void end_reading(struct mp *m)
{
  if (m->src->open || !m->src->read_done || m->read_ended)
    return;
  m->read_ended = 1;
  m->src->read_done(m->src->ud);
}

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
  return a / b + (a % b != 0);
}

uint64_t st_mp_part_size(const xtstore_svc *svc, int64_t length)
{
  const store_limits *l = &svc->limits;
  uint64_t ps = svc->multipart.part_size;
  uint32_t max_parts = l->max_parts ? l->max_parts : UINT32_MAX;

  if (ps < l->min_part_size)
    ps = l->min_part_size;
  if (l->max_part_size && ps > l->max_part_size)
    ps = l->max_part_size;
  if (length >= 0 && ceil_div((uint64_t)length, ps) > max_parts) {
    ps = ceil_div((uint64_t)length, max_parts);
    if (l->max_part_size && ps > l->max_part_size)
      ps = l->max_part_size;
  }
  return ps;
}

/* The part size (and for a known length the number of parts) within the
 * service's limits. */
static int plan(struct mp *m, store_error *err)
{
  const store_limits *l = &m->svc->limits;
  uint64_t ps = st_mp_part_size(m->svc, m->src->length), len, n;

  m->max_parts = l->max_parts ? l->max_parts : UINT32_MAX;
  m->part_size = ps;
  if (m->src->length < 0)
    return STORE_OK;
  len = (uint64_t)m->src->length;
  if (l->max_object_size && len > l->max_object_size)
    return st_err(err, STORE_E_INVALID,
                  "service '%s': blob '%s/%s': %" PRIu64 " bytes are more "
                  "than the service's largest object (%" PRIu64 " bytes)",
                  m->svc->name, m->container, m->key, len,
                  l->max_object_size);
  n = ceil_div(len, ps);
  if (n > m->max_parts)
    return st_err(err, STORE_E_INVALID,
                  "service '%s': blob '%s/%s': %" PRIu64 " bytes need more "
                  "than %" PRIu32 " parts of %" PRIu64 " bytes (the "
                  "service's most)", m->svc->name, m->container, m->key,
                  len, m->max_parts, ps);
  m->part_size = ps;
  m->nparts = n ? (uint32_t)n : 1;
  return room_for(m, m->nparts, err);
}

static int mp_init(struct mp *m, xtstore_svc *svc, const char *container,
                   const char *key, const store_put_opts *opts,
                   const st_mp_src *src, store_error *err)
{
  int rc;

  memset(m, 0, sizeof(*m));
  m->svc = svc;
  m->container = container;
  m->key = key;
  m->opts = opts;
  m->src = src;
  m->inflight = st_mp_inflight(svc);
  m->maxbufs = src->buffers && src->buffers < m->inflight ? src->buffers
                                                         : m->inflight;
  m->budget = &svc->ctx->budget;
  m->held = src->reserved;
  m->lock = -1;
  atomic_init(&m->failed, 0);
  pthread_mutex_init(&m->mu, NULL);
  pthread_cond_init(&m->freed, NULL);
  rc = st_check_key(svc, container, key, err);
  if (!rc)
    rc = st_require_cap(svc, STORE_CAP_MULTIPART, err);
  if (!rc && opts && ((opts->flags & STORE_PUT_IF_NONE_MATCH) || opts->if_match))
    rc = st_require_cap(svc, STORE_CAP_CONDITIONAL, err);
  if (!rc && !(m->spare = calloc(m->inflight, sizeof(*m->spare))))
    rc = st_err(err, STORE_E_NOMEM, "out of memory");
  if (!rc)
    rc = plan(m, err);
  return rc;
}

static void mp_free(struct mp *m)
{
  uint32_t i;

  st_journal_free(m->journal);
  if (m->jpath)
    st_journal_unlock(m->jpath, m->lock);
  free(m->jpath);
  for (i = 0; i < m->ntokens; i++)
    free(m->tokens[i]);
  free(m->tokens);
  free(m->crcs);
  while (m->nspare > 0)
    free(m->spare[--m->nspare]);
  free(m->spare);
  st_budget_give(m->budget, m->held);
  pthread_cond_destroy(&m->freed);
  pthread_mutex_destroy(&m->mu);
}

/* A sequential source that ended within its first part, below the
 * threshold: one put from that buffer (replayable). */
static int put_whole(struct mp *m, char *buf, uint64_t len,
                     store_put_result *out, store_error *err)
{
  struct part p;
  store_put_opts o;

  memset(&p, 0, sizeof(p));
  p.m = m;
  p.len = len;
  p.buf = buf;
  st_put_opts_copy(&o, m->opts);
  o.content_length = (int64_t)len;
  /* The bytes are at hand: the service can check them. */
  p.want = st_crc32c(0, buf, (size_t)len);
  if (!(o.checksums & STORE_CKSUM_CRC32C)) {
    o.checksums |= STORE_CKSUM_CRC32C;
    o.crc32c = p.want;
  }
  return st_blob_put(m->svc, m->container, m->key, &o, m->src->known,
                     part_read, &p, part_rewind, out, err);
}

/* Discard upload `id`. Cancellation must not stop this, and st_svc_call
 * starts nothing once the context is cancelled: then one direct try. 0
 * when it is gone (aborted, or the service no longer had it), 1 when the
 * service answered no (a refusal, s3rver's 405), -1 when the abort did
 * not reach it (transient: the network's or the service's own failure,
 * retries spent). */
static int abort_id(struct mp *m, const char *id)
{
  xtstore_svc *s = m->svc;
  const xtstore_ctx *prev;
  store_error e;
  int rc;

  /* After ^C the abort must still reach the server (providers poll
   * is_cancelled and send nothing once cancelled): shield this call. */
  st_err_reset(&e);
  prev = st_shield(s->ctx);
  rc = xtstore_multipart_abort(s, m->container, m->key, id, &e);
  st_unshield(prev);
  if (!rc || rc == STORE_E_NOT_FOUND)
    return 0;
  st_log(s->ctx, STORE_LOG_WARN,
         "service '%s': blob '%s/%s': upload '%s' could not be aborted: %s",
         s->name, m->container, m->key, id,
         e.message[0] ? e.message : store_strerror(rc));
  return transient(rc, &e) ? -1 : 1;
}

/* Leave this upload and its journal (if it has one) to the next run,
 * counting the run in it when it stored no part: a count not written only
 * puts off the start over (resume). */
static void keep_upload(struct mp *m)
{
  if (!m->journal)
    return;
  (void)st_journal_kept(m->journal);
  st_log(m->svc->ctx, STORE_LOG_WARN, "service '%s': blob '%s/%s': upload "
         "'%s' kept in '%s' for the next run (or `xtstore cleanup`)",
         m->svc->name, m->container, m->key, m->id, m->journal->path);
}

/* Abort this upload. Its journal goes with it, unless the abort did not
 * reach the service (a lost network): then the next run resumes it, or
 * `xtstore cleanup` aborts it. */
static void abort_upload(struct mp *m)
{
  if (!abort_id(m, m->id))
    st_journal_remove(m->journal);
  else
    keep_upload(m);
}

/* A final failure of the network or the service itself, retries spent
 * (transient: the next run may well succeed), of the target or of a
 * copy's source (source_failed). A journaled upload is kept for the next
 * run. Not a failure of the source (a file's read error or change:
 * do_part, or its size, time or inode now; a copy's source gone or
 * replaced) nor a part the host found stored wrong (`service` 0 for
 * those), a failure no retry mends (a refusal: auth, permission,
 * precondition; a TLS certificate refused; a local store's full disk), or
 * ^C. A provider's retryable STORE_E_IO is taken for the network's: the
 * ABI does not set apart a checksum the service refused (S3's BadDigest,
 * Azure's Md5Mismatch: to it, a part hurt in flight), so that one is kept
 * too -- harmless: the parts on record were each checked, and the next
 * run checks again. */
static int kept_for_next_run(const struct mp *m, int rc, int service,
                             const store_error *err)
{
  store_error e;

  if (!m->journal || !service || st_cancelled(m->svc->ctx) ||
      !transient(rc, err))
    return 0;
  st_err_reset(&e);
  return !m->src->changed || !m->src->changed(m->src->ud, &e);
}

/* Only a source with an identity is journaled (a file read by offset, an
 * object by ranged gets pinned to its version, or a file read in order
 * whose length is known: the fan-out's): its parts can be skipped. */
static int journaled(const struct mp *m)
{
  return m->src->ident && (m->src->open || m->src->length >= 0);
}

/* Take up the journal's upload when it is of this very source, planned in
 * these parts: its id, and the tokens and CRC-32Cs of the parts it has
 * (run_part checks that their ranges of a file still have those). A part
 * sent twice has two lines: the journal holds the last one's (journal.c),
 * the part as the service has it now. */
static void adopt(struct mp *m, st_journal *j)
{
  size_t i, kept = 0;
  uint32_t no;
  uint64_t len;

  for (i = 0; i < j->nparts; i++) {
    no = j->parts[i].no;
    len = no <= m->nparts ? part_len(m, (uint64_t)(no - 1) * m->part_size)
                          : 0;
    if (no <= m->nparts && j->parts[i].len == len &&
        (m->tokens[no - 1] = strdup(j->parts[i].token)) != NULL) {
      m->crcs[no - 1] = j->parts[i].crc;
      m->resumed++;
      j->parts[kept++] = j->parts[i];
    } else {
      free(j->parts[i].token);
    }
  }
  j->nparts = kept;
  memcpy(m->id, j->upload_id, sizeof(m->id));
}

/* Non-zero, why into buf, when the upload journal j records is not to be
 * resumed by m: 1 when it cannot be (m's source or options are not its),
 * 2 when runs keep it without progress. */
static int start_over(const struct mp *m, const st_journal *j, char *buf,
                      size_t cap)
{
  const char *changed = NULL;

  if (!st_mp_ident_same(&j->ident, m->src->ident))
    changed = "the source changed";
  else if (j->part_size != m->part_size)
    changed = "the part size changed";
  /* Complete cannot change what begin was given. */
  else if (j->has_opts && j->opts != st_journal_opts_digest(m->opts))
    changed = "the put options changed";
  if (changed)
    snprintf(buf, cap, "%s since upload '%s' began", changed, j->upload_id);
  else if (j->kept >= ST_MP_KEPT_RUNS)
    snprintf(buf, cap, "upload '%s' was kept by %" PRIu32 " runs in a row "
             "without progress (no part stored since)", j->upload_id,
             j->kept);
  return changed ? 1 : j->kept >= ST_MP_KEPT_RUNS ? 2 : 0;
}

/* The upload a journal of this target records, when its source is the
 * same and unchanged (m->id set, the parts on record in m->tokens,
 * m->journal its record); an upload of another or a changed source (a
 * file's size, time or inode; an object's size or version), or begun with
 * other put options, or one that runs keep leaving to the next without
 * progress, is aborted, so parts of two sources never mix, an object never
 * gets the options of another run, and nothing is left behind; its
 * journal goes once the service answered the abort. The
 * journal's lock is taken first and held until the upload ends (mp_free):
 * a second run of the same target at once uploads on its own, with no
 * record, rather than wait for a copy that may take hours or touch the
 * journal the first one is writing. */
static void resume(struct mp *m)
{
  xtstore_svc *s = m->svc;
  st_journal *j = NULL;
  char why[STORE_ID_SIZE + 128];
  int rc, over;

  if (!m->jpath &&
      !(m->jpath = st_journal_path(s->name, m->container, m->key)))
    return;
  if (m->lock < 0) {
    rc = st_journal_lock(m->jpath, &m->lock);
    if (rc == 1)
      st_log(s->ctx, STORE_LOG_WARN, "service '%s': blob '%s/%s': another "
             "run is uploading it: this one is not journaled (it uploads "
             "the blob on its own; the last to complete stays)", s->name,
             m->container, m->key);
    else if (rc)
      st_log(s->ctx, STORE_LOG_WARN, "service '%s': blob '%s/%s': upload "
             "journal '%s': %s: this upload cannot be resumed", s->name,
             m->container, m->key, m->jpath, strerror(errno));
    if (rc)
      return;
  }
  rc = st_journal_read(m->jpath, &j);
  if (rc == 1)
    return;
  if (rc || strcmp(j->service, s->name) ||
      strcmp(j->container, m->container) || strcmp(j->key, m->key)) {
    /* Of another xtstore (a later version's), or unreadable: what it
     * records cannot be aborted from here; say so before it is replaced. */
    st_log(s->ctx, STORE_LOG_WARN, "service '%s': blob '%s/%s': upload "
           "journal '%s' is not one this xtstore reads (another version's?): "
           "replaced; an upload it recorded is not aborted", s->name,
           m->container, m->key, m->jpath);
    goto out;
  }
  over = start_over(m, j, why, sizeof(why));
  /* An abort that did not reach the service (the network down) leaves
   * the journal, or cleanup could no longer find the upload: one kept
   * without progress is resumed once more (the next run tries again);
   * one of other options or another source is left to the next run, and
   * this one uploads with no record. */
  if (over && abort_id(m, j->upload_id) < 0) {
    st_log(s->ctx, STORE_LOG_WARN, "service '%s': blob '%s/%s': %s, but "
           "the service could not be reached to abort it: %s", s->name,
           m->container, m->key, why, over == 2 ? "resuming it" : "it is "
           "kept for the next run (or `xtstore cleanup`), and this upload "
           "is not journaled");
    if (over == 1) {
      st_journal_unlock(m->jpath, m->lock);
      m->lock = -1;
      goto out;
    }
    over = 0;
  }
  if (!over) {
    adopt(m, j);
    st_log(s->ctx, STORE_LOG_INFO, "service '%s': blob '%s/%s': resuming "
           "upload '%s': %" PRIu32 " of %" PRIu32 " parts on record",
           s->name, m->container, m->key, m->id, m->resumed, m->nparts);
    m->journal = j;
    j = NULL;
  } else {
    /* Aborted, or the service answered no (s3rver cannot abort: it
     * keeps the upload until it expires). */
    st_log(s->ctx, STORE_LOG_INFO, "service '%s': blob '%s/%s': %s: "
           "starting over", s->name, m->container, m->key, why);
    unlink(m->jpath);
  }
out:
  st_journal_free(j);
}

/* Write the journal of this upload (m->id): the one resumed, or a new
 * one, under the lock resume() took. Without it the upload goes on, only
 * not resumable. */
static void journal_begin(struct mp *m)
{
  xtstore_svc *s = m->svc;

  if (m->lock < 0)
    return;
  if (!m->journal &&
      (m->journal = st_journal_new(m->jpath, s->name, m->container, m->key,
                                   m->id, m->src->ident, m->part_size))) {
    m->journal->opts = st_journal_opts_digest(m->opts);
    m->journal->has_opts = 1;
  }
  if (m->journal && st_journal_write(m->journal)) {
    st_log(s->ctx, STORE_LOG_WARN, "service '%s': blob '%s/%s': upload "
           "journal '%s': %s: this upload cannot be resumed", s->name,
           m->container, m->key, m->journal->path, strerror(errno));
    st_journal_free(m->journal);
    m->journal = NULL;
  }
}

/* Forget a resumed upload the service no longer has, to start over. */
static void restart(struct mp *m)
{
  uint32_t i;

  st_log(m->svc->ctx, STORE_LOG_INFO, "service '%s': blob '%s/%s': upload "
         "'%s' is gone from the service: starting over", m->svc->name,
         m->container, m->key, m->id);
  /* Gone from the service: its record goes even where the abort failed
   * (abort_id says so; not abort_upload, which would say it is kept), or
   * resume() would take it up again. */
  abort_id(m, m->id);
  st_journal_remove(m->journal);
  st_journal_free(m->journal);
  m->journal = NULL;
  for (i = 0; i < m->ntokens; i++) {
    free(m->tokens[i]);
    m->tokens[i] = NULL;
    m->crcs[i] = 0;
  }
  m->id[0] = '\0';
  m->sent = 0;
  m->bytes = 0;
  m->resumed = 0;
  m->rc = STORE_OK;
  st_err_reset(&m->err);
  atomic_store(&m->failed, 0);
}

/* A resumed upload whose parts do not add up to the source's CRC-32C:
 * its parts on record are not taken up again, even where the abort
 * cannot reach the service. The journal keeps the upload with no parts,
 * so `xtstore cleanup` still finds it and the next run sends every part
 * (a journal that cannot be rewritten goes). */
static void forget_parts(struct mp *m)
{
  st_journal *j = m->journal;
  size_t i;

  if (!j)
    return;
  for (i = 0; i < j->nparts; i++)
    free(j->parts[i].token);
  j->nparts = 0;
  if (st_journal_write(j)) {
    st_journal_remove(j);
    st_journal_free(j);
    m->journal = NULL;
  }
}

/* The whole object's CRC-32C, from its parts' (each over the bytes it
 * sent; every part but the last has the part size), into complete's
 * options o (the caller's, copied). A CRC-32C the caller knew (a copy's
 * source: src->known) must be this one: else the bytes sent are not the
 * source's, and the upload is not completed (a copy's is retryable: the
 * next gets may be right; a resumed one's parts on record are forgotten:
 * forget_parts). */
static int whole_crc(struct mp *m, store_put_opts *o, store_error *err)
{
  char why[200];
  uint64_t len;
  uint32_t i, crc = 0;
  int mismatch;

  for (i = 0; i < m->sent; i++) {
    len = i + 1 < m->sent ? m->part_size
                          : m->bytes - (uint64_t)i * m->part_size;
    crc = i ? st_crc32c_combine(crc, m->crcs[i], len) : m->crcs[i];
  }
  st_put_opts_copy(o, m->opts);
  mismatch = st_cksum_mismatch(o, m->src->known, crc, NULL, why, sizeof(why));
  if (mismatch && m->resumed) {
    forget_parts(m);
    st_err(err, STORE_E_IO, "service '%s': blob '%s/%s': the parts (%" PRIu32
           " on record from an earlier run) add up to CRC-32C %08" PRIx32
           ", not the source's %08" PRIx32 ": not completed; the next run "
           "sends every part", m->svc->name, m->container, m->key,
           m->resumed, crc, o->crc32c);
  } else if (mismatch) {
    st_err(err, STORE_E_IO, "service '%s': blob '%s/%s': %s: the upload is "
           "not completed", m->svc->name, m->container, m->key, why);
  }
  if (mismatch) {
    if (err && st_cksum_retryable(mismatch, m->src->known))
      err->flags |= STORE_ERR_RETRYABLE;
    return STORE_E_IO;
  }
  o->checksums |= STORE_CKSUM_CRC32C;
  o->crc32c = crc;
  o->trailer_checksums = 0;
  return STORE_OK;
}

/* A file source: it must still be as it was when the upload began (size,
 * time, inode), or the parts sent may mix its states. */
static int still_same(struct mp *m, store_error *err)
{
  store_error e;

  st_err_reset(&e);
  if (!m->src->changed || !m->src->changed(m->src->ud, &e))
    return STORE_OK;
  return st_err(err, STORE_E_IO, "service '%s': blob '%s/%s': %s: the "
                "upload is not completed", m->svc->name, m->container,
                m->key, e.message);
}

/* A complete whose answer was lost may have completed the upload: sent
 * again, it is refused (S3: NoSuchUpload; s3rver: 500). When the store
 * holds the object with the size and the CRC-32C of the parts sent (co's),
 * it is this upload's: reported written into *res, not aborted nor failed.
 * Not for conditional puts: an object already there would look like ours. */
static int completed_anyway(struct mp *m, const store_put_opts *co,
                            store_put_result *res)
{
  store_head_opts ho;
  st_head_seen l = {0, 0, 0, 0};
  store_error e;

  if ((co->flags & STORE_PUT_IF_NONE_MATCH) || co->if_match)
    return 0;
  memset(&ho, 0, sizeof(ho));
  ho.struct_size = sizeof(ho);
  st_err_reset(&e);
  if (xtstore_blob_head(m->svc, m->container, m->key, &ho, st_head_seen_fn, &l,
                        &e) != STORE_OK || !l.seen || l.size != m->bytes ||
      !l.has_crc || l.crc != co->crc32c)
    return 0;
  res->size = l.size;
  res->checksums = STORE_CKSUM_CRC32C;
  res->crc32c = l.crc;
  st_log(m->svc->ctx, STORE_LOG_INFO, "service '%s': blob '%s/%s': the "
         "upload's complete failed, but the store holds the object with the "
         "size and CRC-32C sent: it is reported written", m->svc->name,
         m->container, m->key);
  return 1;
}

/* Begin, run every part, then complete -- or abort. *first: a sequential
 * source's first part buffer (taken). */
static int upload(struct mp *m, char **first, uint64_t got,
                  store_put_result *out, store_error *err)
{
  xtstore_svc *s = m->svc;
  store_put_result res;
  store_put_opts co;
  int rc, service = 0;

  memset(&co, 0, sizeof(co));
  if (journaled(m) && !m->id[0])
    resume(m);
  if (!m->id[0]) {
    rc = xtstore_multipart_begin(s, m->container, m->key, m->opts, m->id,
                                 sizeof(m->id), err);
    if (rc)
      return rc;
  }
  if (journaled(m))
    journal_begin(m);
  st_log(s->ctx, STORE_LOG_INFO,
         "service '%s': blob '%s/%s': multipart upload, %s%" PRIu32
         " parts of %" PRIu64 " bytes, %u at a time", s->name, m->container,
         m->key, m->nparts ? "" : "unknown length: at most ",
         m->nparts ? m->nparts : m->max_parts, m->part_size,
         m->src->open ? m->inflight : m->maxbufs);
  rc = st_pool_start(&m->pool, m->inflight, run_part, m, err);
  if (!rc) {
    rc = m->src->open ? dispatch_ranges(m, err)
                      : dispatch_stream(m, first, got, err);
    end_reading(m);
    if (rc)
      fail(m, 0, rc, 0, err);
    st_pool_stop(&m->pool);
  }
  if (atomic_load(&m->failed)) {
    rc = m->rc;
    service = m->rc_service;
    if (err)
      *err = m->err;
  } else if (!rc && st_cancelled(s->ctx)) {
    rc = st_err(err, STORE_E_ABORTED, "service '%s': blob '%s/%s': cancelled",
                s->name, m->container, m->key);
  }
  memset(&res, 0, sizeof(res));
  res.struct_size = sizeof(res);
  if (!rc)
    rc = still_same(m, err);
  if (!rc)
    rc = whole_crc(m, &co, err);
  if (!rc) {
    rc = xtstore_multipart_complete(s, m->container, m->key, m->id, &co,
                                    (const char *const *)m->tokens, m->sent,
                                    &res, err);
    service = rc != STORE_OK;
    if (rc && rc != STORE_E_ABORTED && !st_cancelled(s->ctx) &&
        completed_anyway(m, &co, &res)) {
      st_err_reset(err);
      rc = STORE_OK;
    }
  }
  if (rc == STORE_E_NOT_FOUND && m->resumed && !st_cancelled(s->ctx)) {
    restart(m);
    /* A sequential source's bytes are spent: its caller sends them again
     * (src->gone). */
    if (!m->src->open) {
      if (m->src->gone)
        *m->src->gone = 1;
      return rc;
    }
    st_err_reset(err);
    return upload(m, first, got, out, err);
  }
  if (rc) {
    if (kept_for_next_run(m, rc, service, err))
      keep_upload(m);
    else
      abort_upload(m);
    return rc;
  }
  st_journal_remove(m->journal);
  rc = st_put_verify(s, m->container, m->key, m->bytes, m->src->length,
                     m->opts, &res, err);
  if (!rc)
    rc = st_put_verify_cksum(s, m->container, m->key, NULL, m->src->known,
                             co.crc32c, &res, err);
  if (!rc)
    st_put_result_give(out, &res);
  return rc;
}

int st_mp_put(xtstore_svc *svc, const char *container, const char *key,
              const store_put_opts *opts, const st_mp_src *src,
              store_put_result *out, store_error *err)
{
  struct mp m;
  char *first = NULL;
  uint64_t got = 0;
  int rc;

  st_err_reset(err);
  rc = mp_init(&m, svc, container, key, opts, src, err);
  if (rc)
    goto out;
  if (!src->open) {
    rc = take_buffer(&m, &first, err);
    if (!rc)
      rc = fill_part(&m, first, 0, &got, err);
    if (rc)
      goto out;
    if (src->length < 0 && got < m.part_size &&
        !st_mp_wanted(svc, (int64_t)got)) {
      rc = put_whole(&m, first, got, out, err);
      goto out;
    }
  }
  rc = upload(&m, &first, got, out, err);
out:
  end_reading(&m);
  give_buffer(&m, first);
  mp_free(&m);
  return rc;
}
