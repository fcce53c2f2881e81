/*
** retry.h -- the host's retry policy. Plugins classify errors
** (STORE_ERR_RETRYABLE, retry_after_ms); this module decides whether and
** when to try again: exponential backoff with full jitter, honouring the
** server's Retry-After hint, only for retryable errors and only when the
** request body can be replayed.
*/
#ifndef ST_RETRY_H
#define ST_RETRY_H

#include <stdint.h>
#include "store_interface.h"

typedef struct st_retry_policy {
  uint32_t attempts;   /* total tries, >= 1 (1 = never retry)       */
  uint32_t base_ms;    /* first backoff ceiling                     */
  uint32_t max_ms;     /* ceiling for any one wait                  */
} st_retry_policy;

#define ST_RETRY_DEFAULT_ATTEMPTS 5
#define ST_RETRY_DEFAULT_BASE_MS  200
#define ST_RETRY_DEFAULT_MAX_MS   20000
#define ST_RETRY_MAX_HINT_MS      120000 /* cap on honoured Retry-After */

/* The defaults above. */
void st_retry_default(st_retry_policy *p);

/*
** Parse a service's `retry` setting from flattened config keys: either
** `retry: N` (attempts) or `retry: {attempts: N, base-ms: N, max-ms: N}`
** (keys "retry.attempts" ...). `key` is the flattened key, `value` its
** text. Unknown sub-keys and bad numbers are errors. Returns 0, or -1 with
** a message (without position; the caller adds file:line:col).
*/
int st_retry_parse(st_retry_policy *p, const char *key, const char *value,
                   char *err, size_t errlen);

/* Non-zero when, after `tries` attempts that failed with `err`, another
 * attempt should be made. `replayable` is zero when the request body has
 * been (partly) consumed and cannot be produced again. */
int st_retry_should(const st_retry_policy *p, uint32_t tries,
                    const store_error *err, int replayable);

/* Milliseconds to wait before attempt tries+1: full jitter over
 * min(max_ms, base_ms * 2^(tries-1)), but never less than the server's
 * retry_after_ms (capped at ST_RETRY_MAX_HINT_MS). `rng` is caller-held
 * state (any non-zero seed). */
uint32_t st_retry_delay_ms(const st_retry_policy *p, uint32_t tries,
                           const store_error *err, uint64_t *rng);

#endif /* ST_RETRY_H */
