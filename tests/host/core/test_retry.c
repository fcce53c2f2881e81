/*
** test_retry.c -- the retry policy: who is retried, how often, how long
** the waits are, and the `retry` config setting.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

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

static void test_delay_honours_retry_after(void **state)
{
  store_error e = failure(STORE_E_THROTTLED, STORE_ERR_RETRYABLE, 1500);
  st_retry_policy p = { 5, 100, 1000, 0 };
  uint64_t rng = 1;
  int i;

  (void)state;
  /* The server's hint is the wait, at every try: never less (retrying
   * earlier only earns another 503), and not grown past it by the
   * backoff (a base that would reach 6.4 s by the 7th try). Above max_ms
   * the hint still wins: waiting less is useless. */
  for (i = 0; i < 500; i++)
    assert_int_equal(st_retry_delay_ms(&p, 1 + (uint32_t)(i % 64), &e, &rng),
                     1500);
  p.max_ms = 60000;
  for (i = 0; i < 500; i++)
    assert_int_equal(st_retry_delay_ms(&p, 1 + (uint32_t)(i % 64), &e, &rng),
                     1500);
  /* Without a hint the backoff grows as before. */
  e.retry_after_ms = 0;
  for (i = 0; i < 500; i++)
    if (st_retry_delay_ms(&p, 8, &e, &rng) > 1500)
      break;
  assert_true(i < 500);
}

static void test_delay_caps_retry_after(void **state)
{
  store_error e = failure(STORE_E_THROTTLED, STORE_ERR_RETRYABLE, 900000);
  st_retry_policy p = { 5, 100, 1000, 0 };
  uint64_t rng = 7;

  (void)state;
  assert_int_equal(st_retry_delay_ms(&p, 1, &e, &rng), ST_RETRY_MAX_HINT_MS);
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

/* Throttling is waited out until throttle_s has passed since the op's
 * first try, whatever attempts says -- unless retries are off; any other
 * error, or a throttle not flagged retryable, is not. */
static void test_throttle_waits_until_deadline(void **state)
{
  store_error thr = failure(STORE_E_THROTTLED, STORE_ERR_RETRYABLE, 0);
  store_error io = failure(STORE_E_IO, STORE_ERR_RETRYABLE, 0);
  store_error final = failure(STORE_E_THROTTLED, 0, 0);
  st_retry_policy p;

  (void)state;
  st_retry_default(&p);
  assert_int_equal(p.throttle_s, ST_RETRY_DEFAULT_THROTTLE_S);
  assert_true(st_retry_throttle_waits(&p, 0, &thr));
  assert_true(st_retry_throttle_waits(&p, 299999, &thr));
  assert_false(st_retry_throttle_waits(&p, 300000, &thr));
  assert_false(st_retry_throttle_waits(&p, 0, &io));
  assert_false(st_retry_throttle_waits(&p, 0, &final));
  assert_false(st_retry_throttle_waits(&p, 0, NULL));
  p.attempts = 1;
  assert_false(st_retry_throttle_waits(&p, 0, &thr));
  p.attempts = 2;
  p.throttle_s = 0;
  assert_false(st_retry_throttle_waits(&p, 0, &thr));
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
    cmocka_unit_test(test_delay_caps_retry_after),
    cmocka_unit_test(test_delay_edges),
    cmocka_unit_test(test_parse_attempts_shorthand),
    cmocka_unit_test(test_parse_map_keys),
    cmocka_unit_test(test_throttle_waits_until_deadline),
    cmocka_unit_test(test_parse_errors),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
