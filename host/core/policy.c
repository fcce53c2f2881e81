/*
** policy.c -- a service's policies: whether and when to retry a failed
** plugin call, and the settings of its multipart uploads.
**
** Full jitter (a uniform wait in [0, ceiling]) spreads out clients that
** failed together. A server's Retry-After is its own schedule for this
** request, so the wait is never shorter (retrying earlier only earns
** another 429/503), but a little longer at random -- up to a quarter more:
** the clients one reply throttled, in one process or many, would all come
** back at the same instant and be throttled together again -- and at least
** base-ms, so that a tiny hint (Azure's x-ms-retry-after-ms can say 1 ms)
** does not hammer the server for the whole throttle-s. It is not grown
** further when the same request is throttled again: each reply says anew
** when to come back, and the run's rate already backs off through the
** service's window (flow.c). Backoff grows only where the server gives no
** hint.
**
** Throttling is waited out for throttle-s from the op's first try, and no
** longer: a wait that would end past that is not started, and a request
** still throttled then fails (it does not start over on the attempts).
*/
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"

#define ST_RETRY_MAX_ATTEMPTS 100
#define ST_RETRY_MAX_WAIT_MS  3600000u /* one hour: anything longer is a typo */
#define ST_RETRY_MAX_THROTTLE_S 86400u /* a day */

void st_retry_default(st_retry_policy *p)
{
  p->attempts = ST_RETRY_DEFAULT_ATTEMPTS;
  p->base_ms = ST_RETRY_DEFAULT_BASE_MS;
  p->max_ms = ST_RETRY_DEFAULT_MAX_MS;
  p->throttle_s = ST_RETRY_DEFAULT_THROTTLE_S;
}

/* Parse a whole decimal number in [lo, hi] (no sign, no spaces, no
 * suffix). Returns 0, or -1 with a message naming `key`. */
static int st_parse_u32(const char *key, const char *value, uint32_t lo,
                        uint32_t hi, const char *what, uint32_t *out,
                        char *err, size_t errlen)
{
  unsigned long long v;
  char *end;

  if (!value || !*value) {
    snprintf(err, errlen, "%s: missing value (expected %s)", key, what);
    return -1;
  }
  if (value[0] < '0' || value[0] > '9')
    goto bad;
  errno = 0;
  v = strtoull(value, &end, 10);
  if (errno || *end || v < lo || v > hi)
    goto bad;
  *out = (uint32_t)v;
  return 0;
bad:
  snprintf(err, errlen, "%s: '%.40s' is not %s (%u..%u)", key, value, what,
           lo, hi);
  return -1;
}

int st_retry_parse(st_retry_policy *p, const char *key, const char *value,
                   char *err, size_t errlen)
{
  if (!strcmp(key, "retry") || !strcmp(key, "retry.attempts"))
    return st_parse_u32(key, value, 1, ST_RETRY_MAX_ATTEMPTS,
                        "a number of attempts", &p->attempts, err, errlen);
  if (!strcmp(key, "retry.base-ms"))
    return st_parse_u32(key, value, 0, ST_RETRY_MAX_WAIT_MS,
                        "a number of milliseconds", &p->base_ms, err, errlen);
  if (!strcmp(key, "retry.max-ms"))
    return st_parse_u32(key, value, 0, ST_RETRY_MAX_WAIT_MS,
                        "a number of milliseconds", &p->max_ms, err, errlen);
  if (!strcmp(key, "retry.throttle-s"))
    return st_parse_u32(key, value, 0, ST_RETRY_MAX_THROTTLE_S,
                        "a number of seconds", &p->throttle_s, err, errlen);
  if (!strncmp(key, "retry.", 6))
    snprintf(err, errlen,
             "%s: unknown retry setting '%s' (expected attempts, base-ms, "
             "max-ms, throttle-s)", key, key + 6);
  else
    snprintf(err, errlen, "%s: not a retry setting", key);
  return -1;
}

int st_retry_should(const st_retry_policy *p, uint32_t tries,
                    const store_error *err, int replayable)
{
  if (!err || !replayable || tries >= p->attempts)
    return 0;
  /* A cancelled call is never retried, whatever the plugin flagged. */
  if (err->code == STORE_E_ABORTED)
    return 0;
  return (err->flags & STORE_ERR_RETRYABLE) != 0;
}

/* Throttling that this policy waits out by time rather than attempts. */
static int throttle_waits(const st_retry_policy *p, const store_error *err)
{
  return err && p->attempts >= 2 && p->throttle_s &&
         err->code == STORE_E_THROTTLED && (err->flags & STORE_ERR_RETRYABLE);
}

/* xorshift64: statistical quality is irrelevant for jitter. */
static uint64_t st_next_random(uint64_t *rng)
{
  uint64_t x = *rng ? *rng : UINT64_C(0x9e3779b97f4a7c15);

  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *rng = x;
  return x;
}

uint64_t *st_retry_rng(uint64_t seed)
{
  /* Each thread's own: calls of one service run on many threads at once.
   * Seeded on first use from the thread (its state's address) and the
   * clock, so that processes started together do not jitter alike. */
  static __thread uint64_t state;
  struct timespec ts;

  if (!state) {
    clock_gettime(CLOCK_MONOTONIC, &ts);
    state = seed ^ (uint64_t)(uintptr_t)&state ^
            ((uint64_t)ts.tv_nsec * UINT64_C(0x9e3779b97f4a7c15));
    st_next_random(&state);
  }
  return &state;
}

uint32_t st_retry_delay_ms(const st_retry_policy *p, uint32_t tries,
                           const store_error *err, uint64_t *rng)
{
  uint32_t shift = tries > 1 ? tries - 1 : 0;
  uint64_t ceiling, h;

  if (err && err->retry_after_ms) {
    h = err->retry_after_ms < ST_RETRY_MAX_HINT_MS ? err->retry_after_ms
                                                  : ST_RETRY_MAX_HINT_MS;
    if (h < p->base_ms)
      h = p->base_ms;
    return (uint32_t)(h + st_next_random(rng) % (h / 4 + 1));
  }
  /* base * 2^(tries-1): a shift of 32 already exceeds any uint32 max_ms,
   * and cannot overflow 64 bits. */
  ceiling = (uint64_t)p->base_ms << (shift < 32 ? shift : 32);
  if (ceiling > p->max_ms)
    ceiling = p->max_ms;
  return (uint32_t)(st_next_random(rng) % (ceiling + 1));
}

void st_retry_start(st_retry_state *s, uint64_t now_ms)
{
  memset(s, 0, sizeof(*s));
  s->t0 = now_ms;
}

/* err's message, then "; " and what fmt says, fitted to the message's
 * size with the cause kept. */
static void append(store_error *err, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));
static void append(store_error *err, const char *fmt, ...)
{
  char more[160], all[STORE_ERR_MSG_SIZE + sizeof(more) + 2];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(more, sizeof(more), fmt, ap);
  va_end(ap);
  snprintf(all, sizeof(all), "%s; %s", err->message, more);
  st_fit_message(err->message, sizeof(err->message), all);
}

/* The throttle deadline ends the op: said in err, which is then no longer
 * retryable -- a caller with its own retries must not start the wait over. */
static int throttle_over(const st_retry_policy *p, uint64_t elapsed,
                         store_error *err)
{
  uint32_t hint = err->retry_after_ms;

  if (elapsed >= (uint64_t)p->throttle_s * 1000)
    append(err, "still throttled after %llu s (retry.throttle-s: %u)",
           (unsigned long long)(elapsed / 1000), p->throttle_s);
  else if (hint % 1000)
    append(err, "server asks to wait %u ms, beyond retry.throttle-s "
           "(%u s from the first try)", hint, p->throttle_s);
  else
    append(err, "server asks to wait %u s, beyond retry.throttle-s "
           "(%u s from the first try)", hint / 1000, p->throttle_s);
  err->flags &= ~(uint32_t)STORE_ERR_RETRYABLE;
  return 0;
}

int st_retry_next(const st_retry_policy *p, st_retry_state *s,
                  uint64_t now_ms, store_error *err, uint64_t *rng,
                  uint32_t *out_ms, char *why, size_t whylen)
{
  uint64_t elapsed = now_ms > s->t0 ? now_ms - s->t0 : 0;
  uint64_t limit = (uint64_t)p->throttle_s * 1000;

  *out_ms = 0;
  if (throttle_waits(p, err)) {
    if (elapsed >= limit || elapsed + err->retry_after_ms > limit)
      return throttle_over(p, elapsed, err);
    *out_ms = st_retry_delay_ms(p, ++s->throttled, err, rng);
    /* The jitter, or a backoff without hint, stops at the deadline: the
     * last try is made then. */
    if (elapsed + *out_ms > limit)
      *out_ms = (uint32_t)(limit - elapsed);
    snprintf(why, whylen, "throttled, for up to %u s", p->throttle_s);
    return 1;
  }
  if (!st_retry_should(p, ++s->counted, err, 1))
    return 0;
  *out_ms = st_retry_delay_ms(p, s->counted, err, rng);
  snprintf(why, whylen, "attempt %u of %u", s->counted + 1, p->attempts);
  return 1;
}

#define ST_MP_MAX_PART        (UINT64_C(5) << 30) /* a configured part size */
#define ST_MP_MAX_CONCURRENCY 64u

/* ------------------------------------------------------------------------ */
/* multipart: the `multipart` settings (the engine in engine/multipart.c)  */
/* ------------------------------------------------------------------------ */
void st_mp_default(st_mp_policy *p)
{
  p->threshold = ST_MP_THRESHOLD;
  p->part_size = ST_MP_PART_SIZE;
  p->concurrency = 0;
}

/* Decimal digits with an optional binary suffix: K, M, G or T, then
 * optionally "iB" or "B" ("8M", "8MiB"). Returns 0 or -1. */
static int parse_bytes(const char *s, int suffix_ok, uint64_t *out)
{
  unsigned long long v;
  unsigned shift = 0;
  char *end;

  if (!s || s[0] < '0' || s[0] > '9')
    return -1;
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno)
    return -1;
  switch (suffix_ok ? *end : '\0') {
  case 'K': case 'k': shift = 10; break;
  case 'M': case 'm': shift = 20; break;
  case 'G': case 'g': shift = 30; break;
  case 'T': case 't': shift = 40; break;
  }
  if (shift) {
    end++;
    if (*end == 'i')
      end++;
    if (*end == 'B')
      end++;
  }
  if (*end || (shift && v > (UINT64_MAX >> shift)))
    return -1;
  *out = (uint64_t)v << shift;
  return 0;
}

int st_mp_parse(st_mp_policy *p, const char *key, const char *value,
                char *err, size_t errlen)
{
  const char *sub = strncmp(key, "multipart.", 10) == 0 ? key + 10 : NULL;
  uint64_t v = 0;

  if (!sub) {
    snprintf(err, errlen,
             "%s: expected a map {threshold: 64M, part-size: 8M, "
             "concurrency: 4}", key);
    return -1;
  }
  if (!strcmp(sub, "threshold") || !strcmp(sub, "part-size")) {
    int part = sub[0] == 'p';
    if (parse_bytes(value, 1, &v) || (part && (v < 1 || v > ST_MP_MAX_PART))) {
      snprintf(err, errlen,
               "%s: '%.40s' is not a size (bytes, or with a K, M, G or T "
               "suffix: 8M)%s", key, value ? value : "",
               part ? " from 1 byte to 5G" : "");
      return -1;
    }
    if (part)
      p->part_size = v;
    else
      p->threshold = v;
    return 0;
  }
  if (!strcmp(sub, "concurrency")) {
    if (parse_bytes(value, 0, &v) || v < 1 || v > ST_MP_MAX_CONCURRENCY) {
      snprintf(err, errlen, "%s: '%.40s' is not a number of parts in flight "
               "(1..%u)", key, value ? value : "", ST_MP_MAX_CONCURRENCY);
      return -1;
    }
    p->concurrency = (uint32_t)v;
    return 0;
  }
  snprintf(err, errlen,
           "%s: unknown multipart setting '%s' (expected threshold, "
           "part-size, concurrency)", key, sub);
  return -1;
}
