/*
** test_retry.c -- the retry policy: who is retried, how often, how long
** the waits are (on a simulated clock), the `retry` config setting, and
** the backoff sleep (on the real one).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/core.h"

static store_error failure(int32_t code, uint32_t flags, uint32_t hint_ms)
{
  store_error e;

  memset(&e, 0, sizeof e);
  e.struct_size = sizeof e;
  e.code = code;
  e.flags = flags;
  e.retry_after_ms = hint_ms;
  return e;
}

static void test_defaults(void **state)
{
  st_retry_policy p;

  (void)state;
  st_retry_default(&p);
  assert_int_equal(p.attempts, ST_RETRY_DEFAULT_ATTEMPTS);
  assert_int_equal(p.base_ms, ST_RETRY_DEFAULT_BASE_MS);
  assert_int_equal(p.max_ms, ST_RETRY_DEFAULT_MAX_MS);
}

static void test_not_retryable_is_not_retried(void **state)
{
  store_error e = failure(STORE_E_AUTH, 0, 0);
  st_retry_policy p;

  (void)state;
  st_retry_default(&p);
  assert_false(st_retry_should(&p, 1, &e, 1));
  assert_false(st_retry_should(&p, 1, NULL, 1));
}

/* The caller's loop: how many tries a permanently throttled call gets. */
static uint32_t tries_until_give_up(const st_retry_policy *p,
                                    const store_error *e, int replayable)
{
  uint32_t tries = 1;

  while (st_retry_should(p, tries, e, replayable))
    tries++;
  return tries;
}

static void test_retryable_until_attempts(void **state)
{
  store_error e = failure(STORE_E_THROTTLED, STORE_ERR_RETRYABLE, 0);
  st_retry_policy p = { 4, 10, 100, 0 };

  (void)state;
  assert_int_equal(tries_until_give_up(&p, &e, 1), 4);
  p.attempts = 1;
  assert_int_equal(tries_until_give_up(&p, &e, 1), 1);
}

static void test_not_replayable_is_not_retried(void **state)
{
  store_error e = failure(STORE_E_IO, STORE_ERR_RETRYABLE, 0);
  st_retry_policy p = { 5, 10, 100, 0 };

  (void)state;
  assert_int_equal(tries_until_give_up(&p, &e, 0), 1);
}

static void test_cancelled_is_not_retried(void **state)
{
  store_error e = failure(STORE_E_ABORTED, STORE_ERR_RETRYABLE, 0);
  st_retry_policy p = { 5, 10, 100, 0 };

  (void)state;
  assert_false(st_retry_should(&p, 1, &e, 1));
}

/* Every wait lies in [0, min(max, base * 2^(n-1))], and the jitter really
 * spreads: over many samples both halves of the range occur. */
static void test_delay_bounds_and_jitter(void **state)
{
  store_error e = failure(STORE_E_THROTTLED, STORE_ERR_RETRYABLE, 0);
  st_retry_policy p = { 10, 100, 2000, 0 };
  uint64_t rng = 12345;
  uint32_t n;

  (void)state;
  for (n = 1; n <= 12; n++) {
    uint64_t ceil = (uint64_t)100 << (n - 1);
    int low = 0, high = 0, i;

    if (ceil > 2000)
      ceil = 2000;
    for (i = 0; i < 2000; i++) {
      uint32_t d = st_retry_delay_ms(&p, n, &e, &rng);

      assert_true(d <= ceil);
      if (d < ceil / 2)
        low++;
      else
        high++;
    }
    assert_true(low > 0);
    assert_true(high > 0);
  }
}

/* A Retry-After of h is waited at least h and at most 1.25 h, spread
 * over that range (clients throttled together must not come back
 * together), at every try. */
static void check_hint_wait(const st_retry_policy *p, store_error *e,
                            uint32_t lo, uint32_t hi)
{
  uint64_t rng = 1;
  int low = 0, high = 0, i;

  for (i = 0; i < 2000; i++) {
    uint32_t d = st_retry_delay_ms(p, 1 + (uint32_t)(i % 64), e, &rng);

    assert_in_range(d, lo, hi);
    if (d < lo + (hi - lo) / 2)
      low++;
    else
      high++;
  }
  if (hi > lo) {
    assert_true(low > 0);
    assert_true(high > 0);
  }
}

static void test_delay_honours_retry_after(void **state)
{
  store_error e = failure(STORE_E_THROTTLED, STORE_ERR_RETRYABLE, 1500);
  st_retry_policy p = { 5, 100, 1000, 0 };
  uint64_t rng = 1;
  int i;

  (void)state;
  /* Never less than the hint (retrying earlier only earns another 503),
   * not grown by the backoff (a base that would reach 6.4 s by the 7th
   * try), and above max_ms the hint still wins. */
  check_hint_wait(&p, &e, 1500, 1875);
  p.max_ms = 60000;
  check_hint_wait(&p, &e, 1500, 1875);
  /* Without a hint the backoff grows as before. */
  e.retry_after_ms = 0;
  for (i = 0; i < 500; i++)
    if (st_retry_delay_ms(&p, 8, &e, &rng) > 1875)
      break;
  assert_true(i < 500);
}

/* A tiny hint (Azure's x-ms-retry-after-ms: 1) is raised to base-ms, so
 * that it does not hammer the server for the whole throttle-s. */
static void test_delay_tiny_retry_after(void **state)
{
  store_error e = failure(STORE_E_THROTTLED, STORE_ERR_RETRYABLE, 1);
  st_retry_policy p = { 5, 200, 20000, 300 };

  (void)state;
  check_hint_wait(&p, &e, 200, 250);
  p.base_ms = 0;
  check_hint_wait(&p, &e, 1, 1);
}

static void test_delay_caps_retry_after(void **state)
{
  store_error e = failure(STORE_E_THROTTLED, STORE_ERR_RETRYABLE, 900000);
  st_retry_policy p = { 5, 100, 1000, 0 };

  (void)state;
  check_hint_wait(&p, &e, ST_RETRY_MAX_HINT_MS,
                  ST_RETRY_MAX_HINT_MS + ST_RETRY_MAX_HINT_MS / 4);
}

/* No overflow for absurd try counts or a zero base, and a zero seed works. */
static void test_delay_edges(void **state)
{
  st_retry_policy p = { 5, 100, 1000, 0 };
  st_retry_policy zero = { 5, 0, 1000, 0 };
  uint64_t rng = 0;

  (void)state;
  assert_true(st_retry_delay_ms(&p, 0, NULL, &rng) <= 100);
  assert_true(st_retry_delay_ms(&p, 64, NULL, &rng) <= 1000);
  assert_true(st_retry_delay_ms(&p, UINT32_MAX, NULL, &rng) <= 1000);
  assert_int_equal(st_retry_delay_ms(&zero, 40, NULL, &rng), 0);
  assert_int_not_equal(rng, 0);
}

static void test_parse_attempts_shorthand(void **state)
{
  st_retry_policy p;
  char err[128];

  (void)state;
  st_retry_default(&p);
  assert_int_equal(st_retry_parse(&p, "retry", "3", err, sizeof err), 0);
  assert_int_equal(p.attempts, 3);
  assert_int_equal(p.base_ms, ST_RETRY_DEFAULT_BASE_MS);
  assert_int_equal(p.max_ms, ST_RETRY_DEFAULT_MAX_MS);
}

static void test_parse_map_keys(void **state)
{
  st_retry_policy p;
  char err[128];

  (void)state;
  st_retry_default(&p);
  assert_int_equal(st_retry_parse(&p, "retry.attempts", "7", err, sizeof err),
                   0);
  assert_int_equal(st_retry_parse(&p, "retry.base-ms", "50", err, sizeof err),
                   0);
  assert_int_equal(st_retry_parse(&p, "retry.max-ms", "0", err, sizeof err),
                   0);
  assert_int_equal(st_retry_parse(&p, "retry.throttle-s", "60", err,
                                  sizeof err), 0);
  assert_int_equal(p.attempts, 7);
  assert_int_equal(p.base_ms, 50);
  assert_int_equal(p.max_ms, 0);
  assert_int_equal(p.throttle_s, 60);
}

/* The callers' loop (core/call.c, engine/transfer.c) on a simulated
 * clock: each attempt takes attempt_ms and fails with e; returns the
 * attempts made, and in *out_end the clock when it gave up. */
static uint32_t run_until_give_up(const st_retry_policy *p, store_error e,
                                  uint32_t attempt_ms, uint64_t *out_end,
                                  store_error *out_err)
{
  st_retry_state s;
  uint64_t now = 1000, rng = 3;
  uint32_t n = 0, ms;
  char why[48];

  st_retry_start(&s, now);
  for (;;) {
    store_error err = e;

    n++;
    now += attempt_ms;
    if (!st_retry_next(p, &s, now, &err, &rng, &ms, why, sizeof why)) {
      *out_end = now - 1000;
      if (out_err)
        *out_err = err;
      return n;
    }
    now += ms;
  }
}

/* Throttling is waited out until throttle_s has passed since the op's
 * first try, whatever attempts says -- unless retries are off; any other
 * error, or a throttle not flagged retryable, uses up attempts. */
static void test_throttle_waits_until_deadline(void **state)
{
  store_error thr = failure(STORE_E_THROTTLED, STORE_ERR_RETRYABLE, 0);
  store_error io = failure(STORE_E_IO, STORE_ERR_RETRYABLE, 0);
  store_error final = failure(STORE_E_THROTTLED, 0, 0);
  st_retry_policy p;
  uint64_t end;

  (void)state;
  st_retry_default(&p);
  assert_int_equal(p.throttle_s, ST_RETRY_DEFAULT_THROTTLE_S);
  /* Growing backoff up to max-ms (20 s): many tries, over 300 s. */
  assert_true(run_until_give_up(&p, thr, 10, &end, NULL) > 15);
  assert_in_range(end, 300000, 300010);
  assert_int_equal(run_until_give_up(&p, io, 10, &end, NULL), 5);
  assert_int_equal(run_until_give_up(&p, final, 10, &end, NULL), 1);
  p.attempts = 1;
  assert_int_equal(run_until_give_up(&p, thr, 10, &end, NULL), 1);
  /* throttle-s 0: throttling within the attempts. */
  p.attempts = 3;
  p.throttle_s = 0;
  assert_int_equal(run_until_give_up(&p, thr, 10, &end, NULL), 3);
}

/* throttle-s bounds a throttled request: a wait that would end past it
 * is not started (old code: a wait starting at 299.9 s ran its whole
 * hint, and past the deadline 4 more attempts each waited the hint --
 * about 900 s for throttle-s 300). */
static void test_throttle_deadline_bounds_request(void **state)
{
  store_error e = failure(STORE_E_THROTTLED, STORE_ERR_RETRYABLE, 120000);
  store_error err;
  st_retry_policy p;
  st_retry_state s;
  uint64_t end, rng = 5;
  uint32_t ms;
  char why[48];

  (void)state;
  st_retry_default(&p);
  /* 120 s hints, 10 ms tries: tries at 0 s, 130-160 s and 260-300 s
   * (a wait is cut at the deadline); a fourth wait would end past it, so
   * it fails then, not 120 s later. */
  assert_int_equal(run_until_give_up(&p, e, 10, &end, &err), 3);
  assert_in_range(end, 260000, 300010);
  assert_non_null(strstr(err.message, "server asks to wait 120 s, beyond "
                         "retry.throttle-s (300 s from the first try)"));
  assert_false(err.flags & STORE_ERR_RETRYABLE);
  /* 1 s hints: waited out to the deadline, never past it. */
  e.retry_after_ms = 1000;
  assert_true(run_until_give_up(&p, e, 10, &end, &err) > 200);
  assert_true(end <= 300010);
  assert_non_null(strstr(err.message, "retry.throttle-s"));
  /* Past the deadline it gives up, not starting over on the attempts. */
  e.retry_after_ms = 0;
  st_retry_start(&s, 0);
  err = e;
  assert_false(st_retry_next(&p, &s, 300000, &err, &rng, &ms, why,
                             sizeof why));
  assert_string_equal(err.message,
                      "; still throttled after 300 s (retry.throttle-s: 300)");
  assert_int_equal(s.counted, 0);
  /* Just before it, the wait ends at the deadline. */
  err = e;
  assert_true(st_retry_next(&p, &s, 299900, &err, &rng, &ms, why,
                            sizeof why));
  assert_true(ms <= 100);
  assert_string_equal(why, "throttled, for up to 300 s");
  /* A hint that fits is waited in full, its jitter cut at the deadline. */
  err = e;
  err.retry_after_ms = 1000;
  assert_true(st_retry_next(&p, &s, 298800, &err, &rng, &ms, why,
                            sizeof why));
  assert_in_range(ms, 1000, 1200);
  err.retry_after_ms = 1500;
  assert_false(st_retry_next(&p, &s, 298800, &err, &rng, &ms, why,
                             sizeof why));
  assert_non_null(strstr(err.message, "server asks to wait 1500 ms"));
}

/* The wait is never shorter than asked, even by the clock's last
 * millisecond: started just before a millisecond ticks over (old code:
 * now and the end rounded down to milliseconds, so it ended up to 1 ms
 * early). */
static uint64_t ns_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void test_backoff_sleep_never_short(void **state)
{
  xtstore_ctx ctx;
  xtstore_svc svc;
  int i;

  (void)state;
  memset(&ctx, 0, sizeof ctx);
  memset(&svc, 0, sizeof svc);
  svc.ctx = &ctx;
  for (i = 0; i < 3; i++) {
    uint64_t t0, took;

    while (ns_now() % 1000000u < 970000u)
      ;
    t0 = ns_now();
    assert_int_equal(st_backoff_sleep(&svc, 120), STORE_OK);
    took = ns_now() - t0;
    assert_true(took >= 120000000u);
    assert_true(took < 200000000u);
  }
}

static void *cancel_later(void *arg)
{
  xtstore_ctx *ctx = arg;

  usleep(30000);
  ctx->cancelled = 1;
  return NULL;
}

static void test_backoff_sleep_cancelled(void **state)
{
  xtstore_ctx ctx;
  xtstore_svc svc;
  pthread_t t;
  uint64_t t0, took;

  (void)state;
  memset(&ctx, 0, sizeof ctx);
  memset(&svc, 0, sizeof svc);
  svc.ctx = &ctx;
  t0 = ns_now();
  assert_int_equal(pthread_create(&t, NULL, cancel_later, &ctx), 0);
  assert_int_equal(st_backoff_sleep(&svc, 10000), STORE_E_ABORTED);
  took = ns_now() - t0;
  pthread_join(t, NULL);
  /* Cancelled at 30 ms: seen within a 50 ms slice (and some slack). */
  assert_true(took >= 30000000u);
  assert_true(took < 30000000u + 60000000u);
}

static void test_parse_errors(void **state)
{
  static const struct {
    const char *key, *value, *message;
  } bad[] = {
    { "retry", "0", "retry: '0' is not a number of attempts (1..100)" },
    { "retry", "101", "retry: '101' is not a number of attempts (1..100)" },
    { "retry", "-1", "retry: '-1' is not a number of attempts (1..100)" },
    { "retry", "+3", "retry: '+3' is not a number of attempts (1..100)" },
    { "retry", " 3", "retry: ' 3' is not a number of attempts (1..100)" },
    { "retry", "3x", "retry: '3x' is not a number of attempts (1..100)" },
    { "retry", "99999999999999999999999",
      "retry: '99999999999999999999999' is not a number of attempts "
      "(1..100)" },
    { "retry", "", "retry: missing value (expected a number of attempts)" },
    { "retry", NULL, "retry: missing value (expected a number of attempts)" },
    { "retry.base-ms", "fast",
      "retry.base-ms: 'fast' is not a number of milliseconds (0..3600000)" },
    { "retry.max-ms", "3600001",
      "retry.max-ms: '3600001' is not a number of milliseconds "
      "(0..3600000)" },
    { "retry.tries", "3", "retry.tries: unknown retry setting 'tries' "
                          "(expected attempts, base-ms, max-ms, "
                          "throttle-s)" },
    { "retry.throttle-s", "86401",
      "retry.throttle-s: '86401' is not a number of seconds (0..86400)" },
    { "retries", "3", "retries: not a retry setting" },
  };
  st_retry_policy p, before;
  char err[160];
  size_t i;

  (void)state;
  st_retry_default(&p);
  before = p;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    assert_int_equal(st_retry_parse(&p, bad[i].key, bad[i].value, err,
                                    sizeof err), -1);
    assert_string_equal(err, bad[i].message);
    assert_memory_equal(&p, &before, sizeof p); /* untouched on error */
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_defaults),
    cmocka_unit_test(test_not_retryable_is_not_retried),
    cmocka_unit_test(test_retryable_until_attempts),
    cmocka_unit_test(test_not_replayable_is_not_retried),
    cmocka_unit_test(test_cancelled_is_not_retried),
    cmocka_unit_test(test_delay_bounds_and_jitter),
    cmocka_unit_test(test_delay_honours_retry_after),
    cmocka_unit_test(test_delay_tiny_retry_after),
    cmocka_unit_test(test_delay_caps_retry_after),
    cmocka_unit_test(test_delay_edges),
    cmocka_unit_test(test_parse_attempts_shorthand),
    cmocka_unit_test(test_parse_map_keys),
    cmocka_unit_test(test_throttle_waits_until_deadline),
    cmocka_unit_test(test_throttle_deadline_bounds_request),
    cmocka_unit_test(test_backoff_sleep_never_short),
    cmocka_unit_test(test_backoff_sleep_cancelled),
    cmocka_unit_test(test_parse_errors),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
