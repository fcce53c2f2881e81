/*
** batch.c -- deleting many blobs of one container: the provider's
** blob_delete_batch in calls of at most ST_BATCH_MAX keys, a failed call
** retried (per the service's policy) for the keys it did not report; one
** by one where the provider has no batch op, refuses the container, or a
** call still fails for a passing or garbled reason (its unreported keys
** and every later one) -- by ST_DELETE_THREADS threads at once when the
** provider is thread-safe. A call refused for what would refuse every key
** (credentials, permission, a missing container) ends the delete with
** that error.
*/
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define ST_BATCH_MAX 1000
#define ST_DELETE_THREADS 8

struct batch_args {
  xtstore_svc *svc;
  const char *container;
  const char *const *keys;      /* the caller's                          */
  size_t n;
  unsigned char *done;          /* reported through fn                   */
  const char **todo;            /* this attempt's keys                   */
  size_t *map;                  /* todo index -> keys index               */
  size_t ntodo;
  xtstore_batch_fn fn;
  void *ud;
  int stopped;                  /* fn asked to stop                      */
};

static int32_t batch_seen(void *ctx, size_t index, int32_t code,
                          const store_error *err)
{
  struct batch_args *a = ctx;
  size_t k;

  if (index >= a->ntodo)
    return 0; /* not a key of this call: ignored */
  k = a->map[index];
  if (a->done[k])
    return 0;
  a->done[k] = 1;
  if (code && err) { /* named as a single delete's failure is */
    store_error kerr = *err;
    kerr.message[sizeof(kerr.message) - 1] = '\0';
    st_redact_urls(kerr.message, sizeof(kerr.message));
    st_err_prefix_service(&kerr, a->svc->name);
    if (a->fn(a->ud, k, code, &kerr)) {
      a->stopped = 1;
      return 1;
    }
    return 0;
  }
  if (a->fn(a->ud, k, code, err)) {
    a->stopped = 1;
    return 1;
  }
  return 0;
}

/* Does a batch call that failed with rc (its retries spent) leave its
 * keys to single deletes? Yes when batches cannot serve this container
 * (UNSUPPORTED), the answer was garbled (INTERNAL) or the failure is a
 * passing one; a refusal that would refuse each key too (credentials,
 * permission, a missing container, a bad argument, memory) is the call's
 * error, said once. */
static int fall_back(int rc, const store_error *err)
{
  switch (rc) {
  case STORE_E_UNSUPPORTED:
  case STORE_E_INTERNAL:
  case STORE_E_THROTTLED:
  case STORE_E_TIMEOUT:
  case STORE_E_IO:
  case STORE_E_SERVER:
    return 1;
  default:
    return err && (err->flags & STORE_ERR_RETRYABLE);
  }
}

/* One attempt: the keys of this window not reported yet. */
static int do_batch(xtstore_svc *s, void *p, store_error *err)
{
  struct batch_args *a = p;

  return s->ops->blob_delete_batch(s->h, a->container, a->todo, a->ntodo,
                                   batch_seen, a, err);
}

/* Before a retry: only the keys still unreported go again. */
static int batch_replay(void *p)
{
  struct batch_args *a = p;
  size_t i, m = 0;

  for (i = 0; i < a->ntodo; i++)
    if (!a->done[a->map[i]]) {
      a->todo[m] = a->todo[i];
      a->map[m++] = a->map[i];
    }
  a->ntodo = m;
  return a->stopped ? ST_REPLAY_NO : ST_REPLAY_OK;
}

/* The one-by-one deletes, shared by their threads. Outcomes are reported
 * in the keys' order (a listing's), as they would be one at a time. */
struct singles {
  xtstore_svc *svc;
  struct batch_args *a;
  atomic_size_t next;           /* the next key to take                  */
  pthread_mutex_t report;       /* guards what follows; fn in one thread */
  unsigned char *ready;         /* outcome known, not yet reported       */
  int32_t *codes;
  store_error **errs;           /* a failure's error (owned), or NULL    */
  size_t next_report;
  atomic_int stop;              /* fn asked to stop, or cancelled        */
};

/* Report, in order, every outcome known from next_report on. Caller holds
 * w->report. */
static void report_ready(struct singles *w)
{
  struct batch_args *a = w->a;
  size_t i;

  while ((i = w->next_report) < a->n && (a->done[i] || w->ready[i])) {
    if (w->ready[i] && !atomic_load(&w->stop) &&
        a->fn(a->ud, i, w->codes[i], w->errs[i]))
      atomic_store(&w->stop, 1);
    a->done[i] = 1;
    free(w->errs[i]);
    w->errs[i] = NULL;
    w->ready[i] = 0;
    w->next_report++;
  }
}

static void *single_worker(void *p)
{
  struct singles *w = p;
  struct batch_args *a = w->a;
  store_error kerr;
  size_t i;
  int rc;

  while (!atomic_load(&w->stop) && (i = atomic_fetch_add(&w->next, 1)) < a->n) {
    if (a->done[i])
      continue;
    if (st_cancelled(w->svc->ctx)) {
      atomic_store(&w->stop, 1);
      break;
    }
    st_err_reset(&kerr);
    rc = xtstore_blob_delete(w->svc, a->container, a->keys[i], NULL, &kerr);
    pthread_mutex_lock(&w->report);
    w->codes[i] = rc;
    if (rc && (w->errs[i] = malloc(sizeof(kerr))) != NULL)
      *w->errs[i] = kerr;
    w->ready[i] = 1;
    report_ready(w);
    pthread_mutex_unlock(&w->report);
  }
  return NULL;
}

/* Every key not reported yet, one by one: in parallel for a thread-safe
 * provider (a store without batch deletes, as OCI's), else in order. */
static int one_by_one(xtstore_svc *svc, struct batch_args *a,
                      store_error *err)
{
  struct singles w;
  pthread_t tids[ST_DELETE_THREADS];
  size_t nthreads = svc->threadsafe ? ST_DELETE_THREADS : 1, started = 0, i;

  memset(&w, 0, sizeof(w));
  w.svc = svc;
  w.a = a;
  atomic_init(&w.next, 0);
  atomic_init(&w.stop, 0);
  w.ready = calloc(a->n ? a->n : 1, 1);
  w.codes = calloc(a->n ? a->n : 1, sizeof(*w.codes));
  w.errs = calloc(a->n ? a->n : 1, sizeof(*w.errs));
  if (!w.ready || !w.codes || !w.errs) {
    free(w.ready);
    free(w.codes);
    free(w.errs);
    return st_err(err, STORE_E_NOMEM, "out of memory");
  }
  pthread_mutex_init(&w.report, NULL);
  if (nthreads > a->n)
    nthreads = a->n ? a->n : 1;
  for (i = 1; i < nthreads; i++)
    if (pthread_create(&tids[started], NULL, single_worker, &w) == 0)
      started++;
  single_worker(&w);
  for (i = 0; i < started; i++)
    pthread_join(tids[i], NULL);
  for (i = 0; i < a->n; i++)
    free(w.errs[i]); /* outcomes never reported: stopped */
  free(w.ready);
  free(w.codes);
  free(w.errs);
  pthread_mutex_destroy(&w.report);
  if (st_cancelled(svc->ctx))
    return st_err(err, STORE_E_ABORTED, "service '%s': cancelled "
                  "(interrupted)", svc->name);
  if (atomic_load(&w.stop))
    return st_err(err, STORE_E_ABORTED, "service '%s': deleting stopped",
                  svc->name);
  return STORE_OK;
}

int xtstore_blob_delete_many(xtstore_svc *svc, const char *container,
                             const char *const *keys, size_t n,
                             xtstore_batch_fn fn, void *ud, store_error *err)
{
  struct batch_args a;
  size_t at, i;
  int rc = st_check_container(svc, container, err);

  if (rc)
    return rc;
  memset(&a, 0, sizeof(a));
  a.svc = svc;
  a.container = container;
  a.keys = keys;
  a.n = n;
  a.fn = fn;
  a.ud = ud;
  a.done = calloc(n ? n : 1, 1);
  a.todo = calloc(ST_BATCH_MAX, sizeof(*a.todo));
  a.map = calloc(ST_BATCH_MAX, sizeof(*a.map));
  if (!a.done || !a.todo || !a.map) {
    rc = st_err(err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
  for (i = 0; i < n; i++) {
    rc = st_check_key(svc, container, keys[i], err);
    if (rc)
      goto out;
  }
  if (!STORE_HAS_FIELD(struct store_interface, blob_delete_batch,
                       svc->mod->plugin_struct_size) ||
      !svc->ops->blob_delete_batch)
    goto rest;
  for (at = 0; at < n; at += ST_BATCH_MAX) {
    a.ntodo = n - at < ST_BATCH_MAX ? n - at : ST_BATCH_MAX;
    for (i = 0; i < a.ntodo; i++) {
      a.todo[i] = keys[at + i];
      a.map[i] = at + i;
    }
    rc = st_svc_call(svc, do_batch, batch_replay, &a, err);
    if (a.stopped)
      goto out;
    if (rc && !fall_back(rc, err))
      goto out; /* the call's own error, said once by the caller */
    if (rc) {
      st_log(svc->ctx, STORE_LOG_INFO, "%s%s", err ? err->message : "",
             rc == STORE_E_UNSUPPORTED ? "" : ": deleting the rest one by one");
      break;
    }
  }
rest:
  rc = one_by_one(svc, &a, err);
out:
  free(a.done);
  free(a.todo);
  free(a.map);
  return rc;
}
