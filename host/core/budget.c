/*
** budget.c -- the memory budget of one context: a byte semaphore shared
** by every transfer buffer the host allocates (part buffers, rings), so
** that peak memory does not grow with an object's size or with the
** number of transfers at once. Fewer buffers only mean less concurrency:
** a take that cannot be had waits (cancellably) or, for a buffer a
** transfer could do without, is refused at once.
**
** No deadlock: a take that waits is made only by a transfer that holds
** nothing of the budget yet (its minimum, reserved in one take), and a
** request larger than the whole budget is granted alone, once nothing
** else is held. Whatever else a transfer wants while it holds buffers is
** asked with st_budget_try, which never waits.
*/
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "core.h"

/* How late a waiting take sees a cancellation: ^C sets a flag from a
 * signal handler, which cannot signal a condition variable. */
#define ST_BUDGET_WAIT_MS 100

void st_budget_init(st_budget *b, uint64_t total)
{
  pthread_condattr_t ca;

  pthread_mutex_init(&b->mu, NULL);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&b->cv, &ca);
  pthread_condattr_destroy(&ca);
  b->total = total;
  b->used = b->peak = 0;
  b->waiting = 0;
  b->limited = 0;
  b->cancelled = NULL;
  b->on_limited = NULL;
  b->ud = NULL;
}

void st_budget_destroy(st_budget *b)
{
  pthread_cond_destroy(&b->cv);
  pthread_mutex_destroy(&b->mu);
}

void st_budget_set(st_budget *b, uint64_t total)
{
  pthread_mutex_lock(&b->mu);
  b->total = total;
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
}

uint64_t st_budget_total(st_budget *b)
{
  uint64_t t;

  pthread_mutex_lock(&b->mu);
  t = b->total;
  pthread_mutex_unlock(&b->mu);
  return t;
}

const char *st_size_text(uint64_t n, char *buf, size_t cap)
{
  if (n >= (UINT64_C(1) << 30) && !(n & ((UINT64_C(1) << 30) - 1)))
    snprintf(buf, cap, "%" PRIu64 " GiB", n >> 30);
  else if (n >= (UINT64_C(1) << 20) && !(n & ((UINT64_C(1) << 20) - 1)))
    snprintf(buf, cap, "%" PRIu64 " MiB", n >> 20);
  else if (n >= 1024 && !(n & 1023))
    snprintf(buf, cap, "%" PRIu64 " KiB", n >> 10);
  else
    snprintf(buf, cap, "%" PRIu64 " bytes", n);
  return buf;
}

/* Whether n more bytes fit now; a request over the whole budget fits
 * when nothing is held. Called locked. */
static int fits(const st_budget *b, uint64_t n)
{
  return b->used == 0 || (n <= b->total && b->used <= b->total - n);
}

/* Called locked: n bytes are taken. */
static void grant(st_budget *b, uint64_t n)
{
  b->used += n;
  if (b->used > b->peak)
    b->peak = b->used;
}

/* Called locked: the budget made a transfer wait or go without a buffer,
 * which the owner hears of once. */
static void limited(st_budget *b)
{
  if (b->limited)
    return;
  b->limited = 1;
  if (b->on_limited)
    b->on_limited(b->ud, b->total);
}

static int cancelled(const st_budget *b)
{
  return b->cancelled && b->cancelled(b->ud);
}

int st_budget_take(st_budget *b, uint64_t n, store_error *err)
{
  struct timespec ts;
  int rc = STORE_OK;

  if (n == 0)
    return STORE_OK;
  pthread_mutex_lock(&b->mu);
  if (!fits(b, n))
    limited(b);
  b->waiting++;
  while (!fits(b, n) && !cancelled(b)) {
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += ST_BUDGET_WAIT_MS * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&b->cv, &b->mu, &ts);
  }
  b->waiting--;
  if (fits(b, n))
    grant(b, n);
  else
    rc = st_err(err, STORE_E_ABORTED, "cancelled while waiting for %" PRIu64
                " bytes of the memory budget", n);
  pthread_mutex_unlock(&b->mu);
  return rc;
}

int st_budget_try(st_budget *b, uint64_t n)
{
  int ok;

  pthread_mutex_lock(&b->mu);
  ok = n == 0 || fits(b, n);
  if (ok)
    grant(b, n);
  else
    limited(b);
  pthread_mutex_unlock(&b->mu);
  return ok ? 0 : -1;
}

void st_budget_give(st_budget *b, uint64_t n)
{
  if (n == 0)
    return;
  pthread_mutex_lock(&b->mu);
  b->used = n < b->used ? b->used - n : 0;
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
}

int st_budget_contended(st_budget *b)
{
  int w;

  pthread_mutex_lock(&b->mu);
  w = b->waiting > 0;
  pthread_mutex_unlock(&b->mu);
  return w;
}
