/*
** oci_list.c -- listings: ListObjects (prefix, delimiter, startAfter,
** the fields an entry needs, paged by nextStartWith) into entries in
** byte order, and ListObjectVersions (paged by opc-next-page) for the
** recursive delete of a bucket.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci.h"
#include "sdk_list.h"

/* A listed object as an entry (strings borrowed from the JSON). */
static void object_entry(json_t *o, const char *name, oci_props *p)
{
  const char *mod = json_string_value(json_object_get(o, "timeModified"));

  memset(p, 0, sizeof(*p));
  p->e.struct_size = sizeof(p->e);
  p->e.name = name;
  p->e.size = (uint64_t)json_integer_value(json_object_get(o, "size"));
  if (!mod)
    mod = json_string_value(json_object_get(o, "timeCreated"));
  p->e.mtime_ns = sdk_time_parse_iso8601(mod);
  p->e.etag = json_string_value(json_object_get(o, "etag"));
  oci_md5_hex(json_string_value(json_object_get(o, "md5")), p->md5);
  p->e.content_md5 = p->md5[0] ? p->md5 : NULL;
}

/* One page's objects and prefixes, merged in byte order, through cb. */
static int32_t report_page(const oci_target *t, json_t *page,
                           sdk_list_page *lp, sdk_list_filter *f,
                           store_entry_fn cb, void *cb_ctx, store_error *err)
{
  const sdk_list_item *it;
  json_t *o;
  size_t i, pos = 0;
  int r;

  sdk_list_page_reset(lp);
  json_array_foreach(json_object_get(page, "objects"), i, o)
  {
    const char *name = json_string_value(json_object_get(o, "name"));
    if (name && sdk_list_page_add(lp, name, SDK_LIST_OBJECT, o))
      return oci_nomem(t, err);
  }
  json_array_foreach(json_object_get(page, "prefixes"), i, o)
  {
    const char *name = json_string_value(o);
    if (name && sdk_list_page_add(lp, name, SDK_LIST_PREFIX, NULL))
      return oci_nomem(t, err);
  }
  sdk_list_page_sort(lp);
  while ((r = sdk_list_page_next(lp, &pos, f, &it)) == 1) {
    oci_props p;
    if (it->kind == SDK_LIST_PREFIX) {
      memset(&p, 0, sizeof(p));
      p.e.struct_size = sizeof(p.e);
      p.e.flags = STORE_ENTRY_PREFIX;
      p.e.name = it->name;
      p.e.mtime_ns = STORE_MTIME_UNKNOWN;
    } else {
      object_entry((json_t *)it->node, it->name, &p);
    }
    if (cb(cb_ctx, &p.e))
      return oci_fail(t, err, STORE_E_ABORTED, "the entry callback stopped");
  }
  return r < 0 ? oci_nomem(t, err) : STORE_OK;
}

int32_t oci_blob_list(store_handle *h, const char *bucket,
                      const store_list_opts *opts, store_entry_fn cb,
                      void *cb_ctx, store_error *err)
{
  oci_target t = {"list", bucket, NULL, NULL};
  const char *prefix = STORE_OPT(opts, store_list_opts, prefix, NULL);
  const char *delim = STORE_OPT(opts, store_list_opts, delimiter, NULL);
  const char *after = STORE_OPT(opts, store_list_opts, start_after, NULL);
  uint32_t size = STORE_OPT(opts, store_list_opts, page_size, 0);
  sdk_list_page lp = SDK_LIST_PAGE_INIT;
  sdk_list_filter f;
  sdk_buf q = SDK_BUF_INIT;
  char *start = NULL, limit[16];
  int32_t rc;

  sdk_list_filter_init(&f, after);
  rc = oci_check_bucket(&t, err);
  if (rc)
    goto out;
  if (!cb) {
    rc = oci_fail(&t, err, STORE_E_INVALID, "no entry callback");
    goto out;
  }
  if (delim && *delim && strcmp(delim, "/")) {
    rc = oci_fail(&t, err, STORE_E_UNSUPPORTED,
                  "OCI lists with the delimiter '/' only, not '%.16s'",
                  delim);
    goto out;
  }
  if (STORE_OPT(opts, store_list_opts, flags, 0) & STORE_LIST_SNAPSHOTS) {
    rc = oci_list_snapshots(h, &t, opts, cb, cb_ctx, err);
    goto out;
  }
  snprintf(limit, sizeof(limit), "%u",
           size && size < OCI_PAGE_MAX ? size : OCI_PAGE_MAX);
  do {
    sdk_response *resp = NULL;
    json_t *page = NULL;
    const char *next;

    sdk_buf_reset(&q);
    rc = oci_query_add(&t, &q, "fields", OCI_LIST_FIELDS, err);
    if (!rc)
      rc = oci_query_add(&t, &q, "limit", limit, err);
    if (!rc && prefix && *prefix)
      rc = oci_query_add(&t, &q, "prefix", prefix, err);
    if (!rc && delim && *delim)
      rc = oci_query_add(&t, &q, "delimiter", delim, err);
    if (!rc && start)
      rc = oci_query_add(&t, &q, "start", start, err);
    else if (!rc && after && *after)
      rc = oci_query_add(&t, &q, "startAfter", after, err);
    if (!rc)
      rc = oci_exec(h, &t, "GET", OCI_P_OBJECTS, sdk_buf_str(&q), NULL, &resp,
                    err);
    if (!rc)
      rc = oci_json(&t, resp, &page, err);
    if (!rc)
      rc = report_page(&t, page, &lp, &f, cb, cb_ctx, err);
    free(start);
    start = NULL;
    next = rc ? NULL
              : json_string_value(json_object_get(page, "nextStartWith"));
    if (next && *next && !(start = strdup(next)))
      rc = oci_nomem(&t, err);
    sdk_list_page_reset(&lp);
    json_decref(page);
    sdk_response_free(resp);
  } while (!rc && start);
out:
  free(start);
  sdk_list_page_free(&lp);
  sdk_list_filter_free(&f);
  sdk_buf_free(&q);
  return rc;
}

/* Every version of every object under prefix (NULL: all), delete markers
 * included, through fn (non-zero stops: its own error is on record). */
int32_t oci_versions(store_handle *h, const oci_target *t, const char *prefix,
                     int (*fn)(void *ctx, json_t *item), void *ctx,
                     store_error *err)
{
  sdk_buf q = SDK_BUF_INIT;
  char *page = NULL;
  int32_t rc;

  do {
    sdk_response *resp = NULL;
    json_t *list = NULL, *it;
    const char *next;
    size_t i;

    sdk_buf_reset(&q);
    rc = oci_query_add(t, &q, "fields", OCI_LIST_FIELDS, err);
    if (!rc && prefix && *prefix)
      rc = oci_query_add(t, &q, "prefix", prefix, err);
    if (!rc && page)
      rc = oci_query_add(t, &q, "page", page, err);
    if (!rc)
      rc = oci_exec(h, t, "GET", OCI_P_VERSIONS, sdk_buf_str(&q), NULL, &resp,
                    err);
    if (!rc)
      rc = oci_json(t, resp, &list, err);
    json_array_foreach(json_object_get(list, "items"), i, it)
    {
      if (rc || fn(ctx, it)) {
        rc = rc ? rc : STORE_E_ABORTED;
        break;
      }
    }
    free(page);
    page = NULL;
    next = rc ? NULL : sdk_response_header(resp, "opc-next-page");
    if (next && *next && !(page = strdup(next)))
      rc = oci_nomem(t, err);
    json_decref(list);
    sdk_response_free(resp);
  } while (!rc && page);
  free(page);
  sdk_buf_free(&q);
  return rc;
}
