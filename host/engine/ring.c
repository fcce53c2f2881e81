/*
** ring.c -- a bounded single-producer single-consumer byte ring:
** how a get streams into a put (transfer.c) and how one reader feeds every
** destination of a fan-out (workflow/fanout.c) with memory bounded by the
** ring's capacity, whatever the object's size.
*/
#include <stdlib.h>
#include <string.h>

#include "engine.h"

int st_ring_init(st_ring *r, size_t cap, store_error *err)
{
  memset(r, 0, sizeof(*r));
  r->buf = malloc(cap);
  if (!r->buf)
    return st_err(err, STORE_E_NOMEM, "out of memory for a %zu-byte buffer",
                  cap);
  r->cap = cap;
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cv, NULL);
  return STORE_OK;
}

/* A ring whose init failed (or never ran, zeroed) owns nothing. */
void st_ring_destroy(st_ring *r)
{
  if (!r->buf)
    return;
  free(r->buf);
  pthread_cond_destroy(&r->cv);
  pthread_mutex_destroy(&r->mu);
  memset(r, 0, sizeof(*r));
}

int32_t st_ring_write(void *ring, const void *data, size_t len)
{
  st_ring *r = ring;
  const char *p = data;
  pthread_mutex_lock(&r->mu);
  while (len > 0) {
    size_t tail, chunk;
    while (r->len == r->cap && !r->closed)
      pthread_cond_wait(&r->cv, &r->mu);
    if (r->closed) {
      pthread_mutex_unlock(&r->mu);
      return 1;
    }
    tail = (r->head + r->len) % r->cap;
    chunk = r->cap - r->len;
    if (chunk > r->cap - tail)
      chunk = r->cap - tail;
    if (chunk > len)
      chunk = len;
    memcpy(r->buf + tail, p, chunk);
    r->len += chunk;
    p += chunk;
    len -= chunk;
    pthread_cond_broadcast(&r->cv);
  }
  pthread_mutex_unlock(&r->mu);
  return 0;
}

int32_t st_ring_read(void *ring, void *out, size_t cap, size_t *out_n)
{
  st_ring *r = ring;
  size_t chunk;
  *out_n = 0;
  pthread_mutex_lock(&r->mu);
  while (r->len == 0 && !r->eof && !r->failed)
    pthread_cond_wait(&r->cv, &r->mu);
  if (r->len == 0) {
    int failed = r->failed;
    pthread_mutex_unlock(&r->mu);
    return failed ? 1 : 0;
  }
  chunk = r->len;
  if (chunk > r->cap - r->head)
    chunk = r->cap - r->head;
  if (chunk > cap)
    chunk = cap;
  memcpy(out, r->buf + r->head, chunk);
  r->head = (r->head + chunk) % r->cap;
  r->len -= chunk;
  *out_n = chunk;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
  return 0;
}

void st_ring_end(st_ring *r, int failed)
{
  pthread_mutex_lock(&r->mu);
  if (failed)
    r->failed = 1;
  else
    r->eof = 1;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
}

void st_ring_close(st_ring *r)
{
  pthread_mutex_lock(&r->mu);
  r->closed = 1;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
}
