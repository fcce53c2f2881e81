/*
** retry.c -- whether and when to retry a failed plugin call.
**
** Full jitter (a uniform wait in [0, ceiling]) spreads out clients that
** failed together; the server's Retry-After hint is a floor, because
** retrying earlier only earns another 429/503.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retry.h"

#define ST_RETRY_MAX_ATTEMPTS 100
#define ST_RETRY_MAX_WAIT_MS  3600000u /* one hour: anything longer is a typo */

void st_retry_default(st_retry_policy *p)
{
  p->attempts = ST_RETRY_DEFAULT_ATTEMPTS;
  p->base_ms = ST_RETRY_DEFAULT_BASE_MS;
  p->max_ms = ST_RETRY_DEFAULT_MAX_MS;
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
  if (!strncmp(key, "retry.", 6))
    snprintf(err, errlen,
             "%s: unknown retry setting '%s' (expected attempts, base-ms, "
             "max-ms)", key, key + 6);
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

/* xorshift64: statistical quality is irrelevant for jitter, and the
 * caller-held state keeps it thread-safe without locks. */
static uint64_t st_next_random(uint64_t *rng)
{
  uint64_t x = *rng ? *rng : UINT64_C(0x9e3779b97f4a7c15);

  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *rng = x;
  return x;
}

uint32_t st_retry_delay_ms(const st_retry_policy *p, uint32_t tries,
                           const store_error *err, uint64_t *rng)
{
  uint32_t shift = tries > 1 ? tries - 1 : 0;
  uint64_t ceiling;
  uint32_t hint = 0;
  uint32_t delay;

  /* base * 2^(tries-1): a shift of 32 already exceeds any uint32 max_ms,
   * and cannot overflow 64 bits. */
  ceiling = (uint64_t)p->base_ms << (shift < 32 ? shift : 32);
  if (ceiling > p->max_ms)
    ceiling = p->max_ms;
  delay = (uint32_t)(st_next_random(rng) % (ceiling + 1));
  if (err)
    hint = err->retry_after_ms < ST_RETRY_MAX_HINT_MS ? err->retry_after_ms
                                                      : ST_RETRY_MAX_HINT_MS;
  return delay > hint ? delay : hint;
}
