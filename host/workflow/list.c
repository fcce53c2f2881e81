/*
** list.c -- one end of a workflow listed on its own thread into
** a bounded queue, in name order, names relative to the end's dir. The
** queue blocks the listing while the merge is busy, so memory stays
** constant for any number of objects.
**
** A provider that is not thread-safe runs one op at a time per handle,
** and the host holds the handle during a listing's callbacks: a listing
** blocked on a full queue would starve the copies it waits for. Such
** services are listed in pages instead -- up to a page of entries per
** call, the call stopped, the page queued with the handle free, and the
** next call resumed with start_after.
**
** Also xtstore_find, cloudmesh's `storage search` as find(1): a recursive
** listing under a prefix, filtered by shell globs on the key's last
** component and on the whole key, streamed to the caller as the listing
** goes (constant memory for any number of keys).
*/
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "workflow.h"

#define ST_LIST_QUEUE 1024     /* entries between a listing and the merge */
#define ST_LIST_PAGE  1000     /* entries per call when paging            */

/* The paging state of a non-thread-safe service's listing. */
struct page {
  st_wf_entry **v;
  size_t n, cap;
  int full;
};

struct list_run {
  st_lister *l;
  struct page *page;        /* NULL: straight into the queue             */
  int stopped;              /* the consumer closed the queue             */
  int failed;               /* our own failure (l->rc, l->err)           */
};

static st_wf_entry *entry_new(st_lister *from, const char *name,
                              uint64_t size, int64_t mtime_ns,
                              const char *md5, const uint32_t *crc)
{
  size_t len = strlen(name);
  st_wf_entry *e = malloc(sizeof(*e) + len + 1);
  if (!e)
    return NULL;
  e->size = size;
  e->mtime_ns = mtime_ns;
  e->md5[0] = '\0';
  e->has_crc = crc != NULL;
  e->crc32c = crc ? *crc : 0;
  e->from = from;
  if (md5 && strlen(md5) < sizeof(e->md5))
    memcpy(e->md5, md5, strlen(md5) + 1);
  memcpy(e->name, name, len + 1);
  return e;
}

/* Names must come strictly ascending: the merge's correctness (and sync's
 * deletions) depend on it, so a provider that breaks the ABI's order
 * fails the listing rather than the data. */
static int in_order(st_lister *l, const char *name)
{
  size_t len = strlen(name) + 1;
  char *p;
  if (l->prev && strcmp(name, l->prev) <= 0) {
    st_err(&l->err, STORE_E_INTERNAL,
           "the listing is not in byte order ('%s%s' after '%s%s')",
           l->end->dir, name, l->end->dir, l->prev);
    if (l->end->svc)
      st_err_prefix_service(&l->err, l->end->svc->name);
    return 0;
  }
  if (len > l->prev_cap) {
    p = realloc(l->prev, len);
    if (!p) {
      st_err(&l->err, STORE_E_NOMEM, "out of memory");
      return 0;
    }
    l->prev = p;
    l->prev_cap = len;
  }
  memcpy(l->prev, name, len);
  return 1;
}

/* Take one object. Returns non-zero to stop the listing. */
static int take(struct list_run *run, const char *name, uint64_t size,
                int64_t mtime_ns, const char *md5, const uint32_t *crc)
{
  st_lister *l = run->l;
  struct page *pg = run->page;
  st_wf_entry *e;

  if (!in_order(l, name) ||
      !(e = entry_new(l, name, size, mtime_ns, md5, crc))) {
    if (!l->err.code)
      st_err(&l->err, STORE_E_NOMEM, "out of memory");
    l->rc = l->err.code;
    run->failed = 1;
    return 1;
  }
  if (pg) {
    pg->v[pg->n++] = e;
    pg->full = pg->n == pg->cap;
    return pg->full;
  }
  if (st_bq_push(&l->q, e) == 0)
    return 0;
  free(e);
  run->stopped = 1;
  return 1;
}

static int32_t on_entry(void *ud, const store_entry *e)
{
  struct list_run *run = ud;
  size_t dirlen = strlen(run->l->end->dir);
  uint32_t crc;
  int has_crc = store_entry_crc32c(e, &crc);
  if (!e->name ||
      (e->flags & (STORE_ENTRY_PREFIX | STORE_ENTRY_SNAPSHOT |
                   STORE_ENTRY_DIR_MARKER)) ||
      strncmp(e->name, run->l->end->dir, dirlen) != 0)
    return 0;
  return take(run, e->name + dirlen, e->size, e->mtime_ns, e->content_md5,
              has_crc ? &crc : NULL);
}

static int on_file(void *ud, const char *name, uint64_t size,
                   int64_t mtime_ns)
{
  return take(ud, name, size, mtime_ns, NULL, NULL);
}

/* Queue a page; 0, or -1 once the consumer stopped. */
static int flush(struct list_run *run)
{
  struct page *pg = run->page;
  size_t i;
  for (i = 0; i < pg->n; i++)
    if (st_bq_push(&run->l->q, pg->v[i]) != 0)
      break;
  if (i < pg->n)
    run->stopped = 1;
  for (; i < pg->n; i++)
    free(pg->v[i]);
  pg->n = 0;
  return run->stopped ? -1 : 0;
}

static int list_service(struct list_run *run)
{
  st_lister *l = run->l;
  const st_wf_end *end = l->end;
  store_list_opts lo;
  struct page pg;
  char *prefix, *after = NULL;
  int rc;

  memset(&pg, 0, sizeof(pg));
  prefix = st_wf_end_path(end, end->stem);
  if (!prefix)
    return st_err(&l->err, STORE_E_NOMEM, "out of memory");
  memset(&lo, 0, sizeof(lo));
  lo.struct_size = sizeof(lo);
  lo.prefix = prefix;
  if (!end->svc->threadsafe) {
    pg.cap = end->svc->limits.list_page_size ? end->svc->limits.list_page_size
                                             : ST_LIST_PAGE;
    pg.v = calloc(pg.cap, sizeof(*pg.v));
    if (!pg.v) {
      rc = st_err(&l->err, STORE_E_NOMEM, "out of memory");
      goto out;
    }
    run->page = &pg;
  }
  for (;;) {
    rc = xtstore_blob_list(end->svc, end->container, &lo, on_entry, run,
                           &l->err);
    if (run->failed || run->stopped) {
      rc = run->failed ? l->rc : STORE_E_ABORTED;
      goto out;
    }
    /* Our own stop at a full page is no failure. */
    if (rc && !(rc == STORE_E_ABORTED && pg.full))
      goto out;
    rc = STORE_OK;
    if (!run->page)
      goto out;
    if (flush(run) != 0) {
      rc = STORE_E_ABORTED;
      goto out;
    }
    if (!pg.full)
      goto out;
    pg.full = 0;
    free(after);
    after = st_wf_end_path(end, l->prev);
    if (!after) {
      rc = st_err(&l->err, STORE_E_NOMEM, "out of memory");
      goto out;
    }
    lo.start_after = after;
  }
out:
  if (run->page) {
    while (pg.n > 0)
      free(pg.v[--pg.n]);
    free(pg.v);
  }
  free(after);
  free(prefix);
  return rc;
}

static int list_local(struct list_run *run)
{
  st_lister *l = run->l;
  struct stat st;
  int rc;

  /* A target directory that does not exist yet holds nothing. */
  if (l->missing_ok && stat(l->end->dir, &st) != 0)
    return STORE_OK;
  rc = st_local_walk(l->end->dir, l->end->stem, on_file, run, &l->err);
  if (run->failed)
    return l->rc;
  return rc;
}

static void *lister_main(void *arg)
{
  st_lister *l = arg;
  struct list_run run;
  int rc;

  memset(&run, 0, sizeof(run));
  run.l = l;
  rc = l->end->svc ? list_service(&run) : list_local(&run);
  l->rc = rc;
  if (rc && !l->err.code)
    st_err(&l->err, rc, "listing: %s", store_strerror(rc));
  st_bq_end(&l->q);
  return NULL;
}

int st_lister_start(st_lister *l, xtstore_ctx *ctx, const st_wf_end *end,
                    int missing_ok, store_error *err)
{
  int rc;
  memset(l, 0, sizeof(*l));
  l->end = end;
  l->ctx = ctx;
  l->missing_ok = missing_ok;
  st_err_reset(&l->err);
  rc = st_bq_init(&l->q, ST_LIST_QUEUE, err);
  if (rc)
    return rc;
  if (pthread_create(&l->tid, NULL, lister_main, l) != 0) {
    st_bq_destroy(&l->q, NULL);
    return st_err(err, STORE_E_NOMEM, "cannot start a listing thread");
  }
  l->running = 1;
  return STORE_OK;
}

st_wf_entry *st_lister_next(st_lister *l)
{
  return st_bq_pop(&l->q);
}

void st_lister_stop(st_lister *l)
{
  if (!l->running)
    return;
  st_bq_close(&l->q);
  pthread_join(l->tid, NULL);
  st_bq_destroy(&l->q, free);
  free(l->prev);
  l->prev = NULL;
  l->running = 0;
}

/* ------------------------------------------------------------------------ */
/* xtstore_find                                                             */
/* ------------------------------------------------------------------------ */

struct find {
  const char *name_glob;    /* NULL: any last component                   */
  const char *path_glob;    /* NULL: any key                              */
  store_entry_fn fn;
  void *ud;
};

static int32_t find_entry(void *ud, const store_entry *e)
{
  const struct find *f = ud;
  const char *slash;

  /* A recursive listing has no prefix entries, and xtstore_blob_list
   * drops markers; neither is a blob to report whatever a provider does. */
  if (!e->name || (e->flags & (STORE_ENTRY_PREFIX | STORE_ENTRY_DIR_MARKER)))
    return 0;
  slash = strrchr(e->name, '/');
  if (f->name_glob && fnmatch(f->name_glob, slash ? slash + 1 : e->name, 0))
    return 0;
  if (f->path_glob && fnmatch(f->path_glob, e->name, 0))
    return 0;
  return f->fn(f->ud, e);
}

int xtstore_find(xtstore_svc *svc, const char *container, const char *prefix,
                 const char *name_glob, const char *path_glob,
                 store_entry_fn fn, void *ud, store_error *err)
{
  struct find f = {name_glob, path_glob, fn, ud};
  store_list_opts lo;

  memset(&lo, 0, sizeof(lo));
  lo.struct_size = sizeof(lo);
  lo.prefix = prefix;
  return xtstore_blob_list(svc, container, &lo, find_entry, &f, err);
}
