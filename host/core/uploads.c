/*
** uploads.c -- xtstore_multipart_list: the uploads in parts a service
** holds for a container, whoever began them (this host, another machine,
** another tool), from the provider's optional multipart_list. The journals
** of this machine's own uploads are the engine's (xtstore_uploads_list).
*/
#include <string.h>

#include "core.h"

struct list_args {
  const char *container, *prefix;
  xtstore_svc_upload_fn fn;
  void *ud;
  int calls;          /* uploads delivered: a listing is not replayed after */
  int stop;           /* the caller's fn returned this (non-zero)           */
};

/* store_upload_fn: the plugin's upload, read only where its struct_size
 * holds a field (a plugin built against an older 1.1 header), handed on as
 * a full one. */
static int32_t list_one(void *p, const store_upload *u)
{
  struct list_args *a = p;
  store_upload full;
  int rc;

  if (a->stop)
    return 1;
  memset(&full, 0, sizeof full);
  full.struct_size = sizeof full;
  full.key = STORE_OPT(u, store_upload, key, NULL);
  full.upload_id = STORE_OPT(u, store_upload, upload_id, NULL);
  full.initiated = STORE_OPT(u, store_upload, initiated, 0);
  full.last_activity = STORE_OPT(u, store_upload, last_activity, 0);
  if (!full.key || !full.upload_id)
    return 0;
  a->calls++;
  rc = a->fn(a->ud, &full);
  if (rc)
    a->stop = rc;
  return rc;
}

static int do_list(xtstore_svc *s, void *p, store_error *err)
{
  struct list_args *a = p;

  return s->ops->multipart_list(s->h, a->container, a->prefix, list_one, a,
                                err);
}

static int no_replay_after_uploads(void *p)
{
  return ((struct list_args *)p)->calls ? ST_REPLAY_NO : ST_REPLAY_OK;
}

int xtstore_multipart_list(xtstore_svc *svc, const char *container,
                           const char *prefix, xtstore_svc_upload_fn fn,
                           void *ud, store_error *err)
{
  struct list_args a = {.container = container, .prefix = prefix,
                        .fn = fn, .ud = ud};
  int rc = st_check_container(svc, container, err);

  if (rc)
    return rc;
  if (!fn)
    return st_err(err, STORE_E_INVALID, "multipart list: no callback");
  /* A 1.0 plugin's table ends before multipart_list: it reads as NULL. */
  if (!svc->ops->multipart_list ||
      !(svc->ops->capabilities & STORE_CAP_MULTIPART))
    return st_err(err, STORE_E_UNSUPPORTED,
                  "service '%s': provider '%s' cannot list the uploads in "
                  "parts it holds", svc->name, svc->ops->name);
  rc = st_svc_call(svc, do_list, no_replay_after_uploads, &a, err);
  if (a.stop) {
    st_err_reset(err);
    return a.stop;
  }
  return rc;
}
