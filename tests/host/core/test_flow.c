/*
** test_flow.c -- a service's window of requests in flight (core/flow.c):
** AIMD (halve on throttling at most once per old window's worth of
** completions, never below 1; one more slot per window's worth of
** successes, up to the limit), slots, and a pool's workers: their slot
** given back while they sleep, a spare started meanwhile.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/core.h"

static void outcomes(st_flow *f, int outcome, unsigned n)
{
  while (n--)
    st_flow_outcome(f, outcome);
}

static void test_unjoined_never_waits(void **state)
{
  st_flow f;
  unsigned i;

  (void)state;
  memset(&f, 0, sizeof f);
  for (i = 0; i < 100; i++)
    assert_true(st_flow_try(&f));
  /* Throttling is counted, but there is no window to halve. */
  assert_int_equal(st_flow_outcome(&f, ST_FLOW_THROTTLED), 0);
  assert_int_equal(f.throttled, 1);
  assert_int_equal(f.window, 0);
}

static void test_window_starts_at_slots(void **state)
{
  st_flow f;

  (void)state;
  memset(&f, 0, sizeof f);
  st_flow_join(&f, 4);
  assert_int_equal(f.limit, 4);
  assert_int_equal(f.window, 4);
  assert_true(st_flow_try(&f));
  assert_true(st_flow_try(&f));
  assert_true(st_flow_try(&f));
  assert_true(st_flow_try(&f));
  assert_false(st_flow_try(&f));
  st_flow_release(&f);
  assert_true(st_flow_try(&f));
  /* A second pool on the same service adds its slots. */
  st_flow_join(&f, 2);
  assert_int_equal(f.window, 6);
  st_flow_leave(&f, 2);
  assert_int_equal(f.window, 4);
}

static void test_halves_once_per_window(void **state)
{
  st_flow f;

  (void)state;
  memset(&f, 0, sizeof f);
  st_flow_join(&f, 16);
  /* The first halving is the one to say. */
  assert_int_equal(st_flow_outcome(&f, ST_FLOW_THROTTLED), 1);
  assert_int_equal(f.window, 8);
  /* The other 15 replies to the 16 requests sent at the old window say
   * the same thing: one halving, even when every one is a 503 (halving
   * again after the new window's 8 would cut twice for one episode). */
  outcomes(&f, ST_FLOW_THROTTLED, 15);
  assert_int_equal(f.window, 8);
  assert_int_equal(f.cuts, 1);
  /* Once the old window's worth has completed, throttling is news: it
   * halves again, and is not said again. */
  assert_int_equal(st_flow_outcome(&f, ST_FLOW_THROTTLED), 0);
  assert_int_equal(f.window, 4);
  outcomes(&f, ST_FLOW_FAILED, 7);
  assert_int_equal(f.window, 4);
  st_flow_outcome(&f, ST_FLOW_THROTTLED);
  assert_int_equal(f.window, 2);
  outcomes(&f, ST_FLOW_THROTTLED, 3);
  assert_int_equal(f.window, 2);
  st_flow_outcome(&f, ST_FLOW_THROTTLED);
  assert_int_equal(f.window, 1);
  /* Never below 1. */
  outcomes(&f, ST_FLOW_THROTTLED, 10);
  assert_int_equal(f.window, 1);
  assert_int_equal(f.lowest, 1);
  assert_int_equal(f.throttled, 32);
  assert_true(st_flow_try(&f));
  assert_false(st_flow_try(&f));
}

/* Odd windows: the same episode is the old window's worth of replies, not
 * twice the new (rounded-down) one -- a burst of 503s to the 5 requests
 * sent at window 5 halves it once, to 2, not to 1 (old code: 5 -> 2 -> 1
 * on one burst; 9 -> 4 -> 2). */
static void check_one_cut_per_old_window(uint32_t slots)
{
  st_flow f;

  memset(&f, 0, sizeof f);
  st_flow_join(&f, slots);
  assert_int_equal(st_flow_outcome(&f, ST_FLOW_THROTTLED), 1);
  assert_int_equal(f.window, slots / 2);
  /* The other slots - 1 replies of the burst. */
  outcomes(&f, ST_FLOW_THROTTLED, slots - 1);
  assert_int_equal(f.window, slots / 2);
  assert_int_equal(f.cuts, 1);
  /* A reply after them is news. */
  st_flow_outcome(&f, ST_FLOW_THROTTLED);
  assert_int_equal(f.window, slots / 4);
  assert_int_equal(f.cuts, 2);
  /* And now the episode is the window it cut from. */
  outcomes(&f, ST_FLOW_THROTTLED, slots / 2 - 1);
  assert_int_equal(f.window, slots / 4);
  st_flow_outcome(&f, ST_FLOW_THROTTLED);
  assert_int_equal(f.window, slots / 8 ? slots / 8 : 1);
}

static void test_odd_windows_halve_once_per_window(void **state)
{
  (void)state;
  check_one_cut_per_old_window(5);
  check_one_cut_per_old_window(9);
}

static void test_grows_back_to_limit(void **state)
{
  st_flow f;

  (void)state;
  memset(&f, 0, sizeof f);
  st_flow_join(&f, 4);
  st_flow_outcome(&f, ST_FLOW_THROTTLED);
  outcomes(&f, ST_FLOW_THROTTLED, 4);
  assert_int_equal(f.window, 1);
  /* About one more per window's worth of successes: 1, then 2, then 3. */
  st_flow_outcome(&f, ST_FLOW_OK);
  assert_int_equal(f.window, 2);
  st_flow_outcome(&f, ST_FLOW_OK);
  assert_int_equal(f.window, 2);
  st_flow_outcome(&f, ST_FLOW_OK);
  assert_int_equal(f.window, 3);
  /* Failures that are not throttling complete but grow nothing. */
  outcomes(&f, ST_FLOW_FAILED, 10);
  assert_int_equal(f.window, 3);
  outcomes(&f, ST_FLOW_OK, 3);
  assert_int_equal(f.window, 4);
  /* ... and no further than the limit. */
  outcomes(&f, ST_FLOW_OK, 100);
  assert_int_equal(f.window, 4);
  assert_int_equal(f.lowest, 1);
}

static void test_new_run_starts_over(void **state)
{
  st_flow f;

  (void)state;
  memset(&f, 0, sizeof f);
  st_flow_join(&f, 4);
  st_flow_outcome(&f, ST_FLOW_THROTTLED);
  assert_int_equal(f.window, 2);
  st_flow_leave(&f, 4);
  /* What the run did stays to be reported... */
  assert_int_equal(f.limit, 0);
  assert_int_equal(f.cuts, 1);
  /* ... and the next run starts with an open window and says again. */
  st_flow_join(&f, 4);
  assert_int_equal(f.window, 4);
  assert_int_equal(f.cuts, 0);
  assert_int_equal(st_flow_outcome(&f, ST_FLOW_THROTTLED), 1);
}

/* A pool's worker: takes a slot of svc, then sleeps "before a retry"
 * (parked) while the test checks a spare can start. */
struct worker {
  st_flow_user *u;
  xtstore_svc *svc;
  int took;
  int park;                 /* park once the slot is taken */
  volatile int release;     /* the test lets it go on */
};

static void *work(void *arg)
{
  struct worker *w = arg;

  st_flow_thread(w->u);
  st_flow_admit(w->u);
  w->took = st_flow_take(w->svc) == STORE_OK;
  if (w->park)
    st_flow_park(1);
  while (!w->release)
    usleep(1000);
  if (w->park)
    st_flow_park(0);
  st_flow_drop();
  st_flow_finish(w->u);
  st_flow_thread(NULL);
  return NULL;
}

static st_flow snapshot(xtstore_svc *svc)
{
  st_flow f;

  st_flow_get(&svc->flow, &f);
  return f;
}

static void test_parked_worker_frees_its_slot(void **state)
{
  xtstore_svc svc;
  st_flow_user u;
  struct worker a, b;
  pthread_t ta, tb;
  int i;

  (void)state;
  memset(&svc, 0, sizeof svc);
  svc.name = (char *)"t";
  st_flow_user_init(&u, 1);
  memset(&a, 0, sizeof a);
  a.u = &u;
  a.svc = &svc;
  a.park = 1;
  b = a;
  b.park = 0;
  assert_int_equal(pthread_create(&ta, NULL, work, &a), 0);
  for (i = 0; i < 2000 && !(a.took && u.parked); i++)
    usleep(1000);
  assert_true(a.took);
  /* One slot, and a's job holds it no more: it sleeps. */
  assert_int_equal(snapshot(&svc).window, 1);
  assert_int_equal(snapshot(&svc).inflight, 0);
  /* So a second job starts and takes the slot. */
  assert_int_equal(pthread_create(&tb, NULL, work, &b), 0);
  for (i = 0; i < 2000 && !b.took; i++)
    usleep(1000);
  assert_true(b.took);
  assert_int_equal(snapshot(&svc).inflight, 1);
  b.release = 1;
  pthread_join(tb, NULL);
  a.release = 1;
  pthread_join(ta, NULL);
  assert_int_equal(snapshot(&svc).inflight, 0);
  st_flow_user_done(&u);
  assert_int_equal(snapshot(&svc).limit, 0);
}

static void test_full_window_waits(void **state)
{
  xtstore_svc svc;
  st_flow_user u;
  struct worker a, b;
  pthread_t ta, tb;
  int i;

  (void)state;
  memset(&svc, 0, sizeof svc);
  svc.name = (char *)"t";
  /* Two jobs at once, but the service's window is 1 after throttling. */
  st_flow_user_init(&u, 2);
  memset(&a, 0, sizeof a);
  a.u = &u;
  a.svc = &svc;
  b = a;
  assert_int_equal(pthread_create(&ta, NULL, work, &a), 0);
  for (i = 0; i < 2000 && !a.took; i++)
    usleep(1000);
  assert_true(a.took);
  st_flow_outcome(&svc.flow, ST_FLOW_THROTTLED);
  assert_int_equal(snapshot(&svc).window, 1);
  assert_int_equal(pthread_create(&tb, NULL, work, &b), 0);
  usleep(100000);
  assert_false(b.took);
  /* a's job ends: b's takes the slot. */
  a.release = 1;
  pthread_join(ta, NULL);
  for (i = 0; i < 2000 && !b.took; i++)
    usleep(1000);
  assert_true(b.took);
  b.release = 1;
  pthread_join(tb, NULL);
  st_flow_user_done(&u);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_unjoined_never_waits),
    cmocka_unit_test(test_window_starts_at_slots),
    cmocka_unit_test(test_halves_once_per_window),
    cmocka_unit_test(test_odd_windows_halve_once_per_window),
    cmocka_unit_test(test_grows_back_to_limit),
    cmocka_unit_test(test_new_run_starts_over),
    cmocka_unit_test(test_parked_worker_frees_its_slot),
    cmocka_unit_test(test_full_window_waits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
