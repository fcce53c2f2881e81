/*
** gcs_list.c -- objects.list, page by page (pageToken), streamed to the
** callback in constant memory.
**
** A page's `items` and `prefixes` come apart; the SDK merges them in byte
** order (sdk_list.h), and its filter applies start_after (GCS's
** startOffset is inclusive and does not apply to prefixes). With
** snapshots (versions=true) every noncurrent generation is a snapshot
** entry, and so is a live generation that carries the snapshot mark
** (gcs_snapshot.c); the live object is listed as well. Multipart
** temporaries (gcs_temp_name) are never listed; other names under
** GCS_PARTS_PREFIX are, and so is that prefix itself with a delimiter.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcs.h"
#include "sdk_list.h"

/* One page's request: GET .../o with the listing's parameters. */
static int32_t page_url(store_handle *h, const gcs_target *t,
                        const char *prefix, const char *delim,
                        const char *start, const char *end,
                        uint32_t page_size, int versions, const char *token,
                        sdk_buf *url, store_error *err)
{
  char n[16];
  int32_t rc;

  sdk_buf_reset(url);
  rc = gcs_objects_url(h, t, GCS_API, url, err);
  if (!rc && prefix && *prefix)
    rc = gcs_query(t, url, "prefix", prefix, err);
  if (!rc && delim && *delim)
    rc = gcs_query(t, url, "delimiter", delim, err);
  if (!rc && start && *start)
    rc = gcs_query(t, url, "startOffset", start, err);
  if (!rc && end)
    rc = gcs_query(t, url, "endOffset", end, err);
  if (!rc && versions)
    rc = gcs_query(t, url, "versions", "true", err);
  if (!rc && page_size) {
    snprintf(n, sizeof(n), "%" PRIu32,
             page_size > GCS_PAGE_MAX ? GCS_PAGE_MAX : page_size);
    rc = gcs_query(t, url, "maxResults", n, err);
  }
  if (!rc && token)
    rc = gcs_query(t, url, "pageToken", token, err);
  return rc;
}

/* A page's next token into *next (owned, NULL at the end). */
static int32_t next_token(const gcs_target *t, const json_t *page,
                          char **next, store_error *err)
{
  const char *tok = sdk_json_str(page, "nextPageToken");

  free(*next);
  *next = NULL;
  if (tok && *tok && !(*next = strdup(tok)))
    return gcs_nomem(t, err);
  return STORE_OK;
}

int32_t gcs_list_objects(store_handle *h, const gcs_target *t,
                         const char *prefix, int flags, gcs_item_fn fn,
                         void *ctx, store_error *err)
{
  sdk_buf url = SDK_BUF_INIT, end = SDK_BUF_INIT;
  int exact = (flags & GCS_LIST_EXACT) && prefix;
  char *token = NULL;
  json_t *page = NULL;
  int32_t rc = STORE_OK;

  /* Only `prefix` itself: names from it up to (not including) it followed
   * by byte 1, the next possible name. */
  if (exact && (sdk_buf_puts(&end, prefix) || sdk_buf_putc(&end, '\x01')))
    rc = gcs_nomem(t, err);
  while (!rc) {
    rc = page_url(h, t, prefix, NULL, exact ? prefix : NULL,
                  exact ? end.data : NULL, 0, flags & GCS_LIST_VERSIONS,
                  token, &url, err);
    if (!rc)
      rc = gcs_json(h, t, "GET", url.data, NULL, &page, err);
    if (rc)
      break;
    json_t *items = json_object_get(page, "items"), *it;
    size_t i;
    json_array_foreach(items, i, it)
    {
      gcs_obj o;
      rc = gcs_obj_read(t, it, &o, err);
      if (!rc && (!exact || !strcmp(o.e.name, prefix)))
        rc = fn(ctx, &o);
      gcs_obj_free(&o);
      if (rc)
        break;
    }
    if (!rc)
      rc = next_token(t, page, &token, err);
    json_decref(page);
    page = NULL;
    if (!token)
      break;
  }
  free(token);
  sdk_buf_free(&end);
  sdk_buf_free(&url);
  return rc;
}

/* ---- blob_list ------------------------------------------------------------ */

/* What a page item is: an object resource, listed as itself or as a
 * snapshot of itself. */
typedef struct item {
  const json_t *res;
  int snapshot;
} item;

typedef struct lister {
  const gcs_target *t;
  store_entry_fn cb;
  void *ctx;
  int snapshots;
  item *items;                  /* one page's; owned                      */
  size_t nitems, cap;
} lister;

/* The page keeps a pointer to the item, so items never move while a
 * page is in use: fill_page sizes the array before anything is added. */
static int32_t add_item(lister *l, sdk_list_page *p, const json_t *res,
                        const char *name, int snapshot, store_error *err)
{
  l->items[l->nitems].res = res;
  l->items[l->nitems].snapshot = snapshot;
  if (sdk_list_page_add(p, name, SDK_LIST_OBJECT, &l->items[l->nitems]))
    return gcs_nomem(l->t, err);
  l->nitems++;
  return STORE_OK;
}

static int32_t emit_object(lister *l, const item *it, store_error *err)
{
  gcs_obj o;
  int32_t rc;

  rc = gcs_obj_read(l->t, it->res, &o, err);
  if (rc)
    return rc;
  if (it->snapshot) {
    o.e.flags |= STORE_ENTRY_SNAPSHOT;
    o.e.snapshot_id = o.generation;
  }
  if (l->cb(l->ctx, &o.e))
    rc = gcs_fail(l->t, err, STORE_E_ABORTED, "stopped by the callback");
  gcs_obj_free(&o);
  return rc;
}

static int32_t emit_prefix(lister *l, const char *name, store_error *err)
{
  store_entry e;

  memset(&e, 0, sizeof(e));
  e.struct_size = sizeof(e);
  e.flags = STORE_ENTRY_PREFIX;
  e.name = name;
  e.mtime_ns = STORE_MTIME_UNKNOWN;
  if (l->cb(l->ctx, &e))
    return gcs_fail(l->t, err, STORE_E_ABORTED, "stopped by the callback");
  return STORE_OK;
}

/* One page into p, sorted: its objects (and snapshots) and prefixes. */
static int32_t fill_page(lister *l, const json_t *page, sdk_list_page *p,
                         store_error *err)
{
  const json_t *items = json_object_get(page, "items");
  const json_t *prefixes = json_object_get(page, "prefixes");
  const json_t *it;
  size_t i, need = 2 * json_array_size(items);
  int32_t rc = STORE_OK;

  l->nitems = 0;
  if (need > l->cap) {
    item *v = realloc(l->items, need * sizeof(*v));
    if (!v)
      return gcs_nomem(l->t, err);
    l->items = v;
    l->cap = need;
  }
  json_array_foreach(items, i, it)
  {
    const char *name = sdk_json_str(it, "name");
    int noncurrent = json_object_get(it, "timeDeleted") != NULL;
    int marked = json_is_string(json_object_get(
      json_object_get(it, "metadata"), GCS_SNAPSHOT_META));
    if (!name || gcs_temp_name(name))
      continue;
    if (l->snapshots && (noncurrent || marked))
      rc = add_item(l, p, it, name, 1, err);
    if (!rc && !noncurrent)
      rc = add_item(l, p, it, name, 0, err);
    if (rc)
      return rc;
  }
  json_array_foreach(prefixes, i, it)
  {
    const char *name = json_string_value(it);
    if (name && !gcs_temp_name(name) &&
        sdk_list_page_add(p, name, SDK_LIST_PREFIX, NULL))
      return gcs_nomem(l->t, err);
  }
  sdk_list_page_sort(p);
  return STORE_OK;
}

int32_t gcs_blob_list(store_handle *h, const char *bucket,
                      const store_list_opts *opts, store_entry_fn cb,
                      void *cb_ctx, store_error *err)
{
  gcs_target t = {"list", bucket, NULL, NULL};
  uint32_t flags = STORE_OPT(opts, store_list_opts, flags, 0);
  const char *start = STORE_OPT(opts, store_list_opts, start_after, NULL);
  lister l = {&t, cb, cb_ctx, (flags & STORE_LIST_SNAPSHOTS) != 0, NULL, 0,
              0};
  sdk_list_page p = SDK_LIST_PAGE_INIT;
  sdk_list_filter f;
  sdk_buf url = SDK_BUF_INIT;
  char *token = NULL;
  json_t *page = NULL;
  int32_t rc;

  sdk_list_filter_init(&f, start);
  rc = gcs_check_bucket(&t, err);
  if (!rc && !cb)
    rc = gcs_fail(&t, err, STORE_E_INVALID, "no entry callback");
  while (!rc) {
    const sdk_list_item *it;
    size_t pos = 0;
    int more;
    rc = page_url(h, &t, STORE_OPT(opts, store_list_opts, prefix, NULL),
                  STORE_OPT(opts, store_list_opts, delimiter, NULL), start, NULL,
                  STORE_OPT(opts, store_list_opts, page_size, 0), l.snapshots,
                  token, &url, err);
    if (!rc)
      rc = gcs_json(h, &t, "GET", url.data, NULL, &page, err);
    if (!rc)
      rc = fill_page(&l, page, &p, err);
    while (!rc && (more = sdk_list_page_next(&p, &pos, &f, &it)) != 0) {
      if (more < 0)
        rc = gcs_nomem(&t, err);
      else if (it->kind == SDK_LIST_PREFIX)
        rc = emit_prefix(&l, it->name, err);
      else
        rc = emit_object(&l, it->node, err);
    }
    if (!rc)
      rc = next_token(&t, page, &token, err);
    sdk_list_page_reset(&p);
    json_decref(page);
    page = NULL;
    if (!token)
      break;
  }
  sdk_list_page_free(&p);
  sdk_list_filter_free(&f);
  free(l.items);
  free(token);
  sdk_buf_free(&url);
  return rc;
}
