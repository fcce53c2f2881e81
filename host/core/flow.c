/*
** flow.c -- a service's window of requests in flight, adapted to
** throttling (AIMD), and the pools' use of it (core.h, "flow.c").
**
** Every call of a pool worker (engine/pool.c: the tree verbs' --transfers
** pool, the parts of a multipart upload, the ranges of a download) takes a
** slot of its service's window before its first attempt and keeps it until
** the job ends, the thread calls another service or starts a pool of its
** own, or a call fails retryably (the thread is then parked until its next
** call): a request waiting out a Retry-After holds no slot, and the pool
** starts another job meanwhile. A thread holds at most one slot, so no thread
** waits for a slot while holding one: the window cannot deadlock the
** get and the put of a streamed copy. Calls from other threads (the
** caller's own, a copy's get) pass ungated but still feed the window.
**
** One lock for every flow: a service's flow is zero-filled with it
** (service.c callocs the service), and a slot is one lock/unlock per job,
** noise beside a request.
*/
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "core.h"

static pthread_mutex_t flow_mu = PTHREAD_MUTEX_INITIALIZER;
/* Its waits time out on the monotonic clock (flow_cv_init): a wall clock
 * set back would otherwise stretch a slice and delay a cancellation. */
static pthread_cond_t flow_cv;
static pthread_once_t flow_cv_once = PTHREAD_ONCE_INIT;
/* Threads waiting on flow_cv: a release wakes them only if there are any
 * (with small objects a release per request, waking nobody, is the rule). */
static unsigned flow_waiters;

/* The pool the calling thread works for, the flow it holds a slot of, and
 * whether it is parked. */
static __thread st_flow_user *tls_user;
static __thread xtstore_svc *tls_held;
static __thread int tls_parked;

static void flow_cv_init(void)
{
  pthread_condattr_t attr;

  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&flow_cv, &attr);
  pthread_condattr_destroy(&attr);
}

/* flow_mu, locked, with flow_cv ready: every user of flow_cv locks this
 * way. */
static void flow_lock(void)
{
  pthread_once(&flow_cv_once, flow_cv_init);
  pthread_mutex_lock(&flow_mu);
}

void st_flow_join(st_flow *f, uint32_t slots)
{
  flow_lock();
  if (!f->limit) {
    /* A new run on an idle service: its window starts open, and its
     * report starts over. */
    f->window = 0;
    f->lowest = 0;
    f->cuts = 0;
    f->recover = 0;
    f->throttled = 0;
    f->said = 0;
  }
  if (f->window == f->limit)
    f->window += slots;
  f->limit += slots;
  pthread_mutex_unlock(&flow_mu);
}

void st_flow_leave(st_flow *f, uint32_t slots)
{
  flow_lock();
  f->limit = f->limit > slots ? f->limit - slots : 0;
  if (f->window > f->limit)
    f->window = f->limit;
  if (f->limit && !f->window)
    f->window = 1;
  pthread_cond_broadcast(&flow_cv);
  pthread_mutex_unlock(&flow_mu);
}

int st_flow_try(st_flow *f)
{
  int ok;

  flow_lock();
  ok = !f->limit || f->inflight < f->window;
  if (ok)
    f->inflight++;
  pthread_mutex_unlock(&flow_mu);
  return ok;
}

int st_flow_acquire(st_flow *f, const xtstore_ctx *ctx)
{
  struct timespec ts;

  flow_lock();
  while (f->limit && f->inflight >= f->window) {
    if (ctx && st_cancelled(ctx)) {
      pthread_mutex_unlock(&flow_mu);
      return STORE_E_ABORTED;
    }
    /* A slice, to see a cancellation (a signal sets a flag, no wakeup). */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += 50 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    flow_waiters++;
    pthread_cond_timedwait(&flow_cv, &flow_mu, &ts);
    flow_waiters--;
  }
  f->inflight++;
  pthread_mutex_unlock(&flow_mu);
  return STORE_OK;
}

void st_flow_release(st_flow *f)
{
  flow_lock();
  if (f->inflight)
    f->inflight--;
  /* All of them: flow_cv is every service's, so one woken could be
   * another window's. */
  if (flow_waiters)
    pthread_cond_broadcast(&flow_cv);
  pthread_mutex_unlock(&flow_mu);
}

int st_flow_outcome(st_flow *f, int outcome)
{
  int cut = 0;

  flow_lock();
  f->done++;
  if (outcome == ST_FLOW_THROTTLED) {
    f->throttled++;
    /* One halving per overload episode, like TCP's once per round
     * trip: the replies to requests sent before the last halving -- up
     * to the old window (not twice the new one: 5 halves to 2) -- say
     * the same thing once; a throttled reply after them is news. */
    if (f->limit && (!f->cuts || f->done >= f->recover)) {
      f->recover = f->window;
      f->window = f->window > 1 ? f->window / 2 : 1;
      f->done = 0;
      f->grown = 0;
      f->cuts++;
      if (!f->lowest || f->window < f->lowest)
        f->lowest = f->window;
      cut = !f->said;
      f->said = 1;
    }
  } else if (outcome == ST_FLOW_OK && f->window < f->limit &&
             ++f->grown >= f->window) {
    /* About one more slot per window's worth of successes. */
    f->window++;
    f->grown = 0;
    pthread_cond_broadcast(&flow_cv);
  }
  pthread_mutex_unlock(&flow_mu);
  return cut;
}

void st_flow_get(st_flow *f, st_flow *out)
{
  flow_lock();
  *out = *f;
  pthread_mutex_unlock(&flow_mu);
}

/* ------------------------------------------------------------------------ */
/* the pools' side                                                          */
/* ------------------------------------------------------------------------ */
void st_flow_user_init(st_flow_user *u, uint32_t slots)
{
  memset(u, 0, sizeof(*u));
  u->slots = slots ? slots : 1;
  pthread_mutex_init(&u->mu, NULL);
  pthread_cond_init(&u->cv, NULL);
}

/* Say how throttling went on svc once its last pool is done. */
static void report(xtstore_svc *svc)
{
  st_flow f;

  st_flow_get(&svc->flow, &f);
  if (f.limit || !f.cuts)
    return;
  st_log(svc->ctx, STORE_LOG_INFO, "service '%s': throttled %llu times; "
         "requests in flight went down to %u at the lowest",
         svc->name, (unsigned long long)f.throttled, f.lowest);
}

void st_flow_user_done(st_flow_user *u)
{
  unsigned i;

  for (i = 0; i < u->njoined; i++) {
    st_flow_leave(&u->joined[i]->flow, u->slots);
    report(u->joined[i]);
  }
  u->njoined = 0;
  pthread_cond_destroy(&u->cv);
  pthread_mutex_destroy(&u->mu);
}

void st_flow_admit(st_flow_user *u)
{
  pthread_mutex_lock(&u->mu);
  while (u->running >= u->slots + u->parked && !u->closing)
    pthread_cond_wait(&u->cv, &u->mu);
  u->running++;
  pthread_mutex_unlock(&u->mu);
}

int st_flow_keep(st_flow_user *u)
{
  int keep;

  pthread_mutex_lock(&u->mu);
  keep = u->running <= u->slots + u->parked || u->closing;
  pthread_mutex_unlock(&u->mu);
  return keep;
}

void st_flow_close(st_flow_user *u)
{
  pthread_mutex_lock(&u->mu);
  u->closing = 1;
  pthread_cond_broadcast(&u->cv);
  pthread_mutex_unlock(&u->mu);
}

void st_flow_finish(st_flow_user *u)
{
  pthread_mutex_lock(&u->mu);
  u->running--;
  /* One place came free: one spare worker, not all of them. */
  pthread_cond_signal(&u->cv);
  pthread_mutex_unlock(&u->mu);
}

void st_flow_thread(st_flow_user *u)
{
  tls_user = u;
  tls_held = NULL;
  tls_parked = 0;
}

int st_flow_gated(void)
{
  return tls_user != NULL;
}

void st_flow_drop(void)
{
  if (tls_held)
    st_flow_release(&tls_held->flow);
  tls_held = NULL;
}

/* u now uses svc's window: it asks for its slots there (once). */
static void join(st_flow_user *u, xtstore_svc *svc)
{
  unsigned i;

  pthread_mutex_lock(&u->mu);
  for (i = 0; i < u->njoined && u->joined[i] != svc; i++)
    ;
  if (i == u->njoined && i < ST_FLOW_USER_MAX) {
    u->joined[u->njoined++] = svc;
    st_flow_join(&svc->flow, u->slots);
  }
  pthread_mutex_unlock(&u->mu);
}

int st_flow_take(xtstore_svc *svc)
{
  st_flow_park(0);
  if (!tls_user || tls_held == svc)
    return STORE_OK;
  st_flow_drop();
  join(tls_user, svc);
  if (st_flow_acquire(&svc->flow, svc->ctx))
    return STORE_E_ABORTED;
  tls_held = svc;
  return STORE_OK;
}

void st_flow_park(int parked)
{
  st_flow_user *u = tls_user;

  if (parked)
    st_flow_drop();
  if (!u || !parked == !tls_parked)
    return;
  tls_parked = parked != 0;
  pthread_mutex_lock(&u->mu);
  /* Parked, one more worker may run; awake again, none is let in. */
  if (parked) {
    u->parked++;
    pthread_cond_signal(&u->cv);
  } else {
    u->parked--;
  }
  pthread_mutex_unlock(&u->mu);
}

void st_flow_job_end(void)
{
  st_flow_park(0);
  st_flow_drop();
}
