/*
** The memory budget (host/core/budget.c): takes never exceed it however
** many threads take at once, a request larger than the whole budget is
** granted alone, a waiting take stops on cancellation, and the public
** setter (xtstore_ctx_set_memory) refuses what is not a size or is less
** than one part buffer, naming the value, the part size and the fix.
*/
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/core.h"

#define NTHREADS 8
#define ROUNDS   200

static char dir[] = "/tmp/xtstore-budget-XXXXXX";

/* A context over `yaml` (no system, user or cwd config). */
static xtstore_ctx *open_ctx(const char *yaml)
{
  char path[300];
  FILE *f;
  xtstore_ctx_opts o;
  xtstore_ctx *ctx = NULL;
  store_error err;

  snprintf(path, sizeof(path), "%s/xt.yaml", dir);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs(yaml, f);
  fclose(f);
  memset(&o, 0, sizeof(o));
  o.struct_size = sizeof(o);
  o.flags = XTSTORE_CTX_NO_SYSTEM_CONFIG | XTSTORE_CTX_NO_USER_CONFIG |
            XTSTORE_CTX_NO_CWD_CONFIG;
  o.config_path = path;
  o.log_level = STORE_LOG_ERROR;
  if (xtstore_ctx_open(&o, &ctx, &err))
    fail_msg("%s", err.message);
  return ctx;
}

static void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

struct shared {
  st_budget b;
  pthread_mutex_t mu;
  uint64_t inside, most;    /* bytes held by the takers, the most seen */
  int failures;
};

/* Take 30 of 100 bytes (or, every third round, try 30), hold them a
 * moment, give them back: what is held never exceeds the budget. */
static void *taker(void *p)
{
  struct shared *s = p;
  struct timespec pause = {0, 100000};
  store_error err;
  int i, got;

  for (i = 0; i < ROUNDS; i++) {
    got = i % 3 == 2 ? st_budget_try(&s->b, 30) == 0
                     : st_budget_take(&s->b, 30, &err) == STORE_OK;
    if (!got && i % 3 != 2) {
      pthread_mutex_lock(&s->mu);
      s->failures++;
      pthread_mutex_unlock(&s->mu);
    }
    if (!got)
      continue;
    pthread_mutex_lock(&s->mu);
    s->inside += 30;
    if (s->inside > s->most)
      s->most = s->inside;
    pthread_mutex_unlock(&s->mu);
    nanosleep(&pause, NULL);
    pthread_mutex_lock(&s->mu);
    s->inside -= 30;
    pthread_mutex_unlock(&s->mu);
    st_budget_give(&s->b, 30);
  }
  return NULL;
}

static void test_concurrent_takes_stay_within(void **state)
{
  struct shared s;
  pthread_t tid[NTHREADS];
  int i;
  (void)state;
  memset(&s, 0, sizeof(s));
  st_budget_init(&s.b, 100);
  pthread_mutex_init(&s.mu, NULL);
  for (i = 0; i < NTHREADS; i++)
    assert_int_equal(pthread_create(&tid[i], NULL, taker, &s), 0);
  for (i = 0; i < NTHREADS; i++)
    pthread_join(tid[i], NULL);
  assert_int_equal(s.failures, 0);
  assert_true(s.most <= 100);
  assert_true(s.most >= 60);    /* they did run at once: three fit */
  assert_true(s.b.peak <= 100);
  assert_int_equal(s.b.used, 0);
  pthread_mutex_destroy(&s.mu);
  st_budget_destroy(&s.b);
}

struct waiter {
  st_budget *b;
  uint64_t n;
  int rc;
  volatile int done;
  store_error err;
};

static void *wait_main(void *p)
{
  struct waiter *w = p;
  w->rc = st_budget_take(w->b, w->n, &w->err);
  w->done = 1;
  return NULL;
}

static void test_oversize_granted_alone(void **state)
{
  st_budget b;
  struct waiter w;
  pthread_t tid;
  store_error err;
  (void)state;
  st_budget_init(&b, 100);

  /* Nothing held: more than the budget is granted at once... */
  assert_int_equal(st_budget_take(&b, 250, &err), STORE_OK);
  /* ...and alone: nothing else fits while it is held. */
  assert_int_equal(st_budget_try(&b, 1), -1);
  memset(&w, 0, sizeof(w));
  w.b = &b;
  w.n = 10;
  assert_int_equal(pthread_create(&tid, NULL, wait_main, &w), 0);
  sleep_ms(50);
  assert_false(w.done);
  assert_true(st_budget_contended(&b));
  st_budget_give(&b, 250);
  pthread_join(tid, NULL);
  assert_int_equal(w.rc, STORE_OK);
  assert_false(st_budget_contended(&b));

  /* Something held: an oversized take waits until nothing is. */
  memset(&w, 0, sizeof(w));
  w.b = &b;
  w.n = 250;
  assert_int_equal(pthread_create(&tid, NULL, wait_main, &w), 0);
  sleep_ms(50);
  assert_false(w.done);
  st_budget_give(&b, 10);
  pthread_join(tid, NULL);
  assert_int_equal(w.rc, STORE_OK);
  st_budget_give(&b, 250);
  assert_int_equal(b.used, 0);

  /* A larger total lets a waiting take in at once. */
  assert_int_equal(st_budget_take(&b, 100, &err), STORE_OK);
  memset(&w, 0, sizeof(w));
  w.b = &b;
  w.n = 50;
  assert_int_equal(pthread_create(&tid, NULL, wait_main, &w), 0);
  sleep_ms(50);
  assert_false(w.done);
  st_budget_set(&b, 200);
  pthread_join(tid, NULL);
  assert_int_equal(w.rc, STORE_OK);
  assert_int_equal(b.used, 150);
  st_budget_destroy(&b);
}

static void test_cancel_stops_a_wait(void **state)
{
  xtstore_ctx *ctx = open_ctx("xt-services: {}\n");
  struct waiter w;
  pthread_t tid;
  store_error err;
  (void)state;
  assert_int_equal(xtstore_ctx_set_memory(ctx, "1M", &err), STORE_OK);
  assert_int_equal(xtstore_ctx_memory(ctx), 1u << 20);
  assert_int_equal(st_budget_take(&ctx->budget, 1u << 20, &err),
                   STORE_OK);
  memset(&w, 0, sizeof(w));
  w.b = &ctx->budget;
  w.n = 1;
  assert_int_equal(pthread_create(&tid, NULL, wait_main, &w), 0);
  sleep_ms(50);
  assert_false(w.done);
  xtstore_ctx_cancel(ctx);
  pthread_join(tid, NULL);
  assert_int_equal(w.rc, STORE_E_ABORTED);
  assert_non_null(strstr(w.err.message, "cancelled"));
  /* Nothing was taken for it. */
  assert_int_equal(ctx->budget.used, 1u << 20);
  st_budget_give(&ctx->budget, 1u << 20);
  xtstore_ctx_close(ctx);
}

static void test_set_memory_checked(void **state)
{
  xtstore_ctx *ctx;
  store_error err;
  (void)state;
  ctx = open_ctx("external-services:\n"
                 "  a: {type: \"storage\", provider: \"local\", path: \"/x\"}\n"
                 "  b: {type: \"storage\", provider: \"local\", path: \"/y\", "
                 "multipart: {part-size: 16M}}\n");
  assert_int_equal(xtstore_ctx_memory(ctx), 64u << 20);
  assert_int_equal(xtstore_ctx_set_memory(ctx, "lots", &err),
                   STORE_E_INVALID);
  assert_non_null(strstr(err.message, "memory budget 'lots'"));
  assert_non_null(strstr(err.message, "not a size"));
  assert_int_equal(xtstore_ctx_set_memory(ctx, "0", &err), STORE_E_INVALID);
  /* Less than one part buffer of service b: the value, the part size and
   * the fix. */
  assert_int_equal(xtstore_ctx_set_memory(ctx, "8M", &err), STORE_E_INVALID);
  assert_non_null(strstr(err.message, "'8M'"));
  assert_non_null(strstr(err.message, "16 MiB"));
  assert_non_null(strstr(err.message, "service 'b'"));
  assert_non_null(strstr(err.message, "give at least 16 MiB"));
  assert_int_equal(xtstore_ctx_memory(ctx), 64u << 20);
  assert_int_equal(xtstore_ctx_set_memory(ctx, "1G", &err), STORE_OK);
  assert_int_equal(xtstore_ctx_memory(ctx), 1u << 30);
  assert_int_equal(xtstore_ctx_set_memory(ctx, "16MiB", &err), STORE_OK);
  assert_int_equal(xtstore_ctx_memory(ctx), 16u << 20);
  xtstore_ctx_close(ctx);

  /* $XTSTORE_MEMORY at open, checked the same way. */
  setenv("XTSTORE_MEMORY", "32M", 1);
  ctx = open_ctx("xt-services: {}\n");
  assert_int_equal(xtstore_ctx_memory(ctx), 32u << 20);
  xtstore_ctx_close(ctx);
  unsetenv("XTSTORE_MEMORY");
}

static int setup(void **state)
{
  (void)state;
  unsetenv("XTSTORE_MEMORY");
  unsetenv("XTSTORE_CONFIG");
  return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
  char path[300];
  (void)state;
  snprintf(path, sizeof(path), "%s/xt.yaml", dir);
  unlink(path);
  return rmdir(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_concurrent_takes_stay_within),
    cmocka_unit_test(test_oversize_granted_alone),
    cmocka_unit_test(test_cancel_stops_a_wait),
    cmocka_unit_test(test_set_memory_checked),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
