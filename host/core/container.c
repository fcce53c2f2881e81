/*
** container.c -- the container operations of xtstore.h: checks, then
** the plugin op through st_svc_call (serialisation, retry, messages).
*/
#include <string.h>

#include "core.h"

struct cargs {
  const char *container;
  const char *prefix;
  const store_kv *kv;
  size_t n;
  uint32_t flags;
  st_entry_guard g;  /* the caller's callback, as the plugin calls it */
};

static int need_containers(xtstore_svc *svc, const char *container,
                           store_error *err)
{
  int rc = st_require_cap(svc, STORE_CAP_CONTAINERS, err);
  if (!rc && container)
    rc = st_check_container(svc, container, err);
  return rc;
}

static int no_replay_after_entries(void *args)
{
  return ((struct cargs *)args)->g.calls > 0;
}

static int do_create(xtstore_svc *s, void *p, store_error *err)
{
  struct cargs *a = p;
  return s->ops->container_create(s->h, a->container, a->kv, a->n, err);
}

int xtstore_container_create(xtstore_svc *svc, const char *container,
                             const store_kv *metadata, size_t n,
                             store_error *err)
{
  struct cargs a = {.container = container, .kv = metadata, .n = n};
  int rc = need_containers(svc, container, err);
  if (rc)
    return rc;
  return st_svc_call(svc, do_create, NULL, &a, err);
}

static int do_delete(xtstore_svc *s, void *p, store_error *err)
{
  struct cargs *a = p;
  return s->ops->container_delete(s->h, a->container, a->flags, err);
}

int xtstore_container_delete(xtstore_svc *svc, const char *container,
                             uint32_t flags, store_error *err)
{
  struct cargs a = {.container = container, .flags = flags};
  int rc = need_containers(svc, container, err);
  if (rc)
    return rc;
  return st_svc_call(svc, do_delete, NULL, &a, err);
}

static int do_list(xtstore_svc *s, void *p, store_error *err)
{
  struct cargs *a = p;
  int rc = s->ops->container_list(s->h, a->prefix, st_entry_guard_fn, &a->g,
                                  err);
  return st_entry_guard_result(&a->g, s, rc, err);
}

int xtstore_container_list(xtstore_svc *svc, const char *prefix,
                           store_entry_fn fn, void *ud, store_error *err)
{
  struct cargs a = {.prefix = prefix, .g = {.fn = fn, .ud = ud}};
  int rc = need_containers(svc, NULL, err);
  if (rc)
    return rc;
  return st_svc_call(svc, do_list, no_replay_after_entries, &a, err);
}

static int do_head(xtstore_svc *s, void *p, store_error *err)
{
  struct cargs *a = p;
  int rc = s->ops->container_head(s->h, a->container, st_entry_guard_fn,
                                  &a->g, err);
  return st_entry_guard_result(&a->g, s, rc, err);
}

int xtstore_container_head(xtstore_svc *svc, const char *container,
                           store_entry_fn fn, void *ud, store_error *err)
{
  struct cargs a = {.container = container, .g = {.fn = fn, .ud = ud}};
  int rc = need_containers(svc, container, err);
  if (rc)
    return rc;
  return st_svc_call(svc, do_head, no_replay_after_entries, &a, err);
}

static int32_t ignore_entry(void *ud, const store_entry *e)
{
  (void)ud;
  (void)e;
  return 0;
}

int xtstore_container_exists(xtstore_svc *svc, const char *container,
                             int *out_exists, store_error *err)
{
  int rc;
  *out_exists = 0;
  rc = xtstore_container_head(svc, container, ignore_entry, NULL, err);
  if (rc == STORE_E_NOT_FOUND) {
    st_err_reset(err);
    return STORE_OK;
  }
  if (rc == STORE_OK)
    *out_exists = 1;
  return rc;
}

static int do_set_meta(xtstore_svc *s, void *p, store_error *err)
{
  struct cargs *a = p;
  return s->ops->container_set_metadata(s->h, a->container, a->kv, a->n, err);
}

int xtstore_container_set_metadata(xtstore_svc *svc, const char *container,
                                   const store_kv *metadata, size_t n,
                                   store_error *err)
{
  struct cargs a = {.container = container, .kv = metadata, .n = n};
  int rc = need_containers(svc, container, err);
  if (!rc)
    rc = st_require_cap(svc, STORE_CAP_CONTAINER_METADATA, err);
  if (rc)
    return rc;
  return st_svc_call(svc, do_set_meta, NULL, &a, err);
}
