/*
** pool.c -- the --transfers worker pool: N threads taking jobs
** from one bounded queue (2 per slot, so the producer -- a listing merge
** -- stays just ahead of the workers and never far ahead). Its jobs obey
** the windows of the services they call (core/flow.c): `slots` run at
** once, and spare workers start others while a job sleeps before a retry.
*/
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static void *worker(void *arg)
{
  st_pool *p = arg;
  void *job = NULL;

  st_flow_thread(&p->user);
  do {
    /* Admitted first: a job is taken only when it can start (a spare
     * worker waits here, not with a job in hand). */
    st_flow_admit(&p->user);
    /* Then job after job while admitted: giving the place back after
     * each one woke a spare worker to take it, for every job. */
    do {
      job = st_bq_pop(&p->q);
      if (!job)
        break;
      p->fn(p->ud, job);
      st_flow_job_end();
      pthread_mutex_lock(&p->mu);
      if (--p->pending == 0)
        pthread_cond_broadcast(&p->idle);
      pthread_mutex_unlock(&p->mu);
    } while (st_flow_keep(&p->user));
    st_flow_finish(&p->user);
  } while (job);
  st_flow_thread(NULL);
  return NULL;
}

int st_pool_start(st_pool *p, unsigned threads, st_job_fn fn, void *ud,
                  store_error *err)
{
  return st_pool_start_spare(p, threads, threads, fn, ud, err);
}

int st_pool_start_spare(st_pool *p, unsigned slots, unsigned threads,
                        st_job_fn fn, void *ud, store_error *err)
{
  int rc;
  memset(p, 0, sizeof(*p));
  if (slots == 0)
    slots = 1;
  if (threads < slots)
    threads = slots;
  /* A job that starts a pool waits for it: its slot is the new workers'
   * (it takes one again at its next call). */
  st_flow_drop();
  rc = st_bq_init(&p->q, (size_t)slots * 2, err);
  if (rc)
    return rc;
  p->tids = calloc(threads, sizeof(*p->tids));
  if (!p->tids) {
    st_bq_destroy(&p->q, NULL);
    return st_err(err, STORE_E_NOMEM, "out of memory");
  }
  p->fn = fn;
  p->ud = ud;
  st_flow_user_init(&p->user, slots);
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->idle, NULL);
  /* Fewer workers than asked is slower, not wrong. */
  while (p->nthreads < threads &&
         pthread_create(&p->tids[p->nthreads], NULL, worker, p) == 0)
    p->nthreads++;
  if (p->nthreads > 0)
    return STORE_OK;
  st_pool_stop(p);
  return st_err(err, STORE_E_NOMEM, "cannot start a worker thread");
}

void st_pool_push(st_pool *p, void *job)
{
  pthread_mutex_lock(&p->mu);
  p->pending++;
  pthread_mutex_unlock(&p->mu);
  /* Workers never close the queue, so the push always lands. */
  st_bq_push(&p->q, job);
}

void st_pool_wait(st_pool *p)
{
  pthread_mutex_lock(&p->mu);
  while (p->pending > 0)
    pthread_cond_wait(&p->idle, &p->mu);
  pthread_mutex_unlock(&p->mu);
}

void st_pool_stop(st_pool *p)
{
  unsigned i;
  if (!p->tids)
    return;
  st_bq_end(&p->q);
  st_flow_close(&p->user);
  for (i = 0; i < p->nthreads; i++)
    pthread_join(p->tids[i], NULL);
  free(p->tids);
  st_bq_destroy(&p->q, NULL);
  st_flow_user_done(&p->user);
  pthread_cond_destroy(&p->idle);
  pthread_mutex_destroy(&p->mu);
  memset(p, 0, sizeof(*p));
}
