/*
** sdk_parallel.c -- fn over [0, n) on a few threads, first failure wins.
*/
#include <pthread.h>
#include <string.h>

#include "sdk_error.h"
#include "sdk_parallel.h"

/* Threads one call starts at most, whatever it asks for. */
#define PARALLEL_MAX 64

typedef struct par {
  pthread_mutex_t mu;
  size_t next, n;
  int32_t rc;                   /* first failure; non-zero stops handing out */
  store_error *err;
  sdk_parallel_fn fn;
  void *ud;
} par;

static void *worker(void *arg)
{
  par *p = arg;
  store_error e;

  for (;;) {
    size_t i;
    int32_t rc;

    pthread_mutex_lock(&p->mu);
    i = p->next++;
    rc = p->rc;
    pthread_mutex_unlock(&p->mu);
    if (rc || i >= p->n)
      break;
    memset(&e, 0, sizeof(e));
    e.struct_size = sizeof(e);
    rc = p->fn(p->ud, i, &e);
    if (!rc)
      continue;
    pthread_mutex_lock(&p->mu);
    if (!p->rc) {
      p->rc = rc;
      e.code = rc;
      if (p->err)
        sdk_error_copy(p->err, &e);
    }
    pthread_mutex_unlock(&p->mu);
  }
  return NULL;
}

int32_t sdk_parallel(size_t n, unsigned nthreads, sdk_parallel_fn fn,
                     void *ud, store_error *err)
{
  pthread_t tid[PARALLEL_MAX];
  par p = {.n = n, .err = err, .fn = fn, .ud = ud};
  unsigned started = 0;

  if (nthreads > PARALLEL_MAX)
    nthreads = PARALLEL_MAX;
  if (nthreads > n)
    nthreads = (unsigned)n;
  pthread_mutex_init(&p.mu, NULL);
  /* The caller works too: a thread that cannot start only slows it. */
  while (started + 1 < nthreads &&
         !pthread_create(&tid[started], NULL, worker, &p))
    started++;
  worker(&p);
  for (unsigned t = 0; t < started; t++)
    pthread_join(tid[t], NULL);
  pthread_mutex_destroy(&p.mu);
  return p.rc;
}
