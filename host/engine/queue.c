/*
** queue.c -- a bounded blocking queue of pointers between
** threads: listings feed the merge through one, the merge feeds the worker
** pool through another. A full queue blocks its producer, which is what
** keeps a listing of millions of names in constant memory. It is woken
** only when the queue is half empty: a consumer must keep popping until
** the producer is done, or st_bq_close the queue.
*/
#include <stdlib.h>
#include <string.h>

#include "engine.h"

int st_bq_init(st_bq *q, size_t cap, store_error *err)
{
  memset(q, 0, sizeof(*q));
  q->items = calloc(cap, sizeof(*q->items));
  if (!q->items)
    return st_err(err, STORE_E_NOMEM, "out of memory");
  q->cap = cap;
  pthread_mutex_init(&q->mu, NULL);
  pthread_cond_init(&q->not_empty, NULL);
  pthread_cond_init(&q->not_full, NULL);
  return STORE_OK;
}

void st_bq_destroy(st_bq *q, void (*free_item)(void *))
{
  if (!q->items)
    return;
  for (; q->len > 0; q->len--, q->head = (q->head + 1) % q->cap)
    if (free_item)
      free_item(q->items[q->head]);
  free(q->items);
  pthread_cond_destroy(&q->not_full);
  pthread_cond_destroy(&q->not_empty);
  pthread_mutex_destroy(&q->mu);
  memset(q, 0, sizeof(*q));
}

int st_bq_push(st_bq *q, void *item)
{
  pthread_mutex_lock(&q->mu);
  while (q->len == q->cap && !q->closed)
    pthread_cond_wait(&q->not_full, &q->mu);
  if (q->closed) {
    pthread_mutex_unlock(&q->mu);
    return -1;
  }
  q->items[(q->head + q->len) % q->cap] = item;
  q->len++;
  pthread_cond_signal(&q->not_empty);
  pthread_mutex_unlock(&q->mu);
  return 0;
}

void *st_bq_pop(st_bq *q)
{
  void *item = NULL;
  pthread_mutex_lock(&q->mu);
  while (q->len == 0 && !q->ended && !q->closed)
    pthread_cond_wait(&q->not_empty, &q->mu);
  if (q->len > 0 && !q->closed) {
    item = q->items[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
    /* A producer blocked on a full queue is woken once it is half empty,
     * to refill it in one go: not once per item, which made every pop a
     * switch to the producer and back (a tree of small files). */
    if (q->len <= q->cap / 2)
      pthread_cond_signal(&q->not_full);
  }
  pthread_mutex_unlock(&q->mu);
  return item;
}

void st_bq_end(st_bq *q)
{
  pthread_mutex_lock(&q->mu);
  q->ended = 1;
  pthread_cond_broadcast(&q->not_empty);
  pthread_mutex_unlock(&q->mu);
}

void st_bq_close(st_bq *q)
{
  pthread_mutex_lock(&q->mu);
  q->closed = 1;
  pthread_cond_broadcast(&q->not_full);
  pthread_cond_broadcast(&q->not_empty);
  pthread_mutex_unlock(&q->mu);
}
