/*
** batch.c -- deleting many blobs of one container: the provider's
** blob_delete_batch in calls of at most ST_BATCH_MAX keys, a failed call
** retried (per the service's policy) for the keys it did not report; one
** by one where the provider has no batch op, or refuses the container.
*/
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define ST_BATCH_MAX 1000

struct batch_args {
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
  if (a->fn(a->ud, k, code, err)) {
    a->stopped = 1;
    return 1;
  }
  return 0;
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

/* Every key not reported yet, one by one. */
static int one_by_one(xtstore_svc *svc, struct batch_args *a,
                      store_error *err)
{
  store_error kerr;
  size_t i;
  int rc;

  for (i = 0; i < a->n; i++) {
    if (a->done[i])
      continue;
    if (st_cancelled(svc->ctx))
      return st_err(err, STORE_E_ABORTED, "service '%s': cancelled "
                    "(interrupted)", svc->name);
    st_err_reset(&kerr);
    rc = xtstore_blob_delete(svc, a->container, a->keys[i], NULL, &kerr);
    a->done[i] = 1;
    if (a->fn(a->ud, i, rc, rc ? &kerr : NULL))
      return st_err(err, STORE_E_ABORTED, "service '%s': deleting stopped",
                    svc->name);
  }
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
    if (rc == STORE_E_UNSUPPORTED) {
      st_log(svc->ctx, STORE_LOG_INFO, "%s", err ? err->message : "");
      break; /* this container: one by one */
    }
    if (rc)
      goto out;
  }
rest:
  rc = one_by_one(svc, &a, err);
out:
  free(a.done);
  free(a.todo);
  free(a.map);
  return rc;
}
