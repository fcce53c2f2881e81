/*
** unit_parallel.c -- sdk_parallel: every item once, on several threads at
** once, and the first failure stops the rest and is reported.
*/
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "sdk_parallel.h"

typedef struct counts {
  pthread_mutex_t mu;
  int seen[200];
  int running, max_running;
  size_t fail_at;               /* item that fails; (size_t)-1: none */
} counts;

static int32_t count_item(void *ud, size_t i, store_error *err)
{
  counts *c = ud;

  pthread_mutex_lock(&c->mu);
  c->seen[i]++;
  if (++c->running > c->max_running)
    c->max_running = c->running;
  pthread_mutex_unlock(&c->mu);
  usleep(2000); /* long enough for the others to overlap */
  pthread_mutex_lock(&c->mu);
  c->running--;
  pthread_mutex_unlock(&c->mu);
  if (i == c->fail_at) {
    err->code = STORE_E_PERMISSION;
    snprintf(err->message, sizeof(err->message), "item %zu refused", i);
    return STORE_E_PERMISSION;
  }
  return STORE_OK;
}

static void every_item_once_in_parallel(void **state)
{
  counts c = {.mu = PTHREAD_MUTEX_INITIALIZER, .fail_at = (size_t)-1};
  store_error e;

  (void)state;
  UNIT_ERR(e);
  assert_int_equal(sdk_parallel(200, 8, count_item, &c, &e), STORE_OK);
  for (size_t i = 0; i < 200; i++)
    assert_int_equal(c.seen[i], 1);
  assert_true(c.max_running > 1);
  assert_true(c.max_running <= 8);
  assert_int_equal(e.code, STORE_OK);
}

static void first_failure_stops_and_is_reported(void **state)
{
  counts c = {.mu = PTHREAD_MUTEX_INITIALIZER, .fail_at = 10};
  store_error e;
  int done = 0;

  (void)state;
  UNIT_ERR(e);
  assert_int_equal(sdk_parallel(200, 4, count_item, &c, &e),
                   STORE_E_PERMISSION);
  assert_int_equal(e.code, STORE_E_PERMISSION);
  assert_string_equal(e.message, "item 10 refused");
  for (size_t i = 0; i < 200; i++)
    done += c.seen[i];
  /* Items already handed out finish; none starts after the failure. */
  assert_true(done < 200);
  assert_int_equal(c.seen[199], 0);
}

static void one_thread_and_nothing(void **state)
{
  counts c = {.mu = PTHREAD_MUTEX_INITIALIZER, .fail_at = (size_t)-1};

  (void)state;
  assert_int_equal(sdk_parallel(0, 8, count_item, &c, NULL), STORE_OK);
  assert_int_equal(sdk_parallel(5, 1, count_item, &c, NULL), STORE_OK);
  assert_int_equal(c.max_running, 1);
  for (size_t i = 0; i < 5; i++)
    assert_int_equal(c.seen[i], 1);
}

int unit_parallel(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(every_item_once_in_parallel),
    cmocka_unit_test(first_failure_stops_and_is_reported),
    cmocka_unit_test(one_thread_and_nothing),
  };
  return cmocka_run_group_tests_name("sdk_parallel", tests, NULL, NULL);
}
