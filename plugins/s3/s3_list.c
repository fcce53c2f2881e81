/*
** s3_list.c -- ListObjectsV2 (and ListObjectVersions for listings with
** snapshots): every page, streamed to the callback, constant memory.
**
** Keys are asked for with encoding-type=url (S3 cannot put every byte in
** XML 1.0) and decoded when the server says it encoded them (it echoes
** <EncodingType>; s3rver ignores the parameter and sends keys raw). Within
** a page S3 sorts objects and common prefixes separately; the SDK puts
** them in one byte order of name (sdk_list.h), so entries arrive in it.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3.h"
#include "sdk_list.h"
#include "sdk_util.h"

/* The page's strings decoded when it was url-encoded. */
typedef struct page {
  sdk_xml_node *root;
  int encoded;
  sdk_buf names;                /* decoded names, NUL-separated           */
} page;

/* A name of the page, decoded into p->names when needed; the returned
 * pointer is valid until the next call (names may move). Returns NULL on
 * a bad escape or no memory; *nul is set when the name decodes to a NUL
 * byte (no C string can name it). */
static const char *page_name(page *p, const char *raw, int *nul)
{
  int rc;

  *nul = 0;
  if (!p->encoded || !raw)
    return raw;
  sdk_buf_reset(&p->names);
  rc = sdk_uri_decode_name(&p->names, raw, strlen(raw), 1);
  if (rc < 0 || sdk_buf_putc(&p->names, '\0'))
    return NULL;
  *nul = rc;
  return p->names.data;
}

static void entry_init(store_entry *e)
{
  memset(e, 0, sizeof(*e));
  e->struct_size = sizeof(*e);
  e->mtime_ns = STORE_MTIME_UNKNOWN;
}

/* ---- ListObjectsV2 ------------------------------------------------------ */

typedef struct lister {
  store_handle *h;
  const char *bucket;
  store_entry_fn cb;
  void *ctx;
} lister;

static int32_t emit_object(const s3_call *c, lister *l, const char *name,
                           const sdk_xml_node *o, store_error *err)
{
  const char *v;
  store_entry e;

  entry_init(&e);
  e.name = name;
  v = sdk_xml_child_text(o, "Size");
  e.size = v ? strtoull(v, NULL, 10) : 0;
  v = sdk_xml_child_text(o, "LastModified");
  e.mtime_ns = v ? sdk_time_parse_iso8601(v) : STORE_MTIME_UNKNOWN;
  e.etag = sdk_xml_child_text(o, "ETag");
  if (e.size == 0 && *name && name[strlen(name) - 1] == '/')
    e.flags = STORE_ENTRY_DIR_MARKER;
  if (l->cb(l->ctx, &e))
    return s3_fail_msg(c, err, STORE_E_ABORTED, "stopped by the callback");
  return STORE_OK;
}

static int32_t emit_prefix(const s3_call *c, lister *l, const char *name,
                           store_error *err)
{
  store_entry e;

  entry_init(&e);
  e.flags = STORE_ENTRY_PREFIX;
  e.name = name;
  if (l->cb(l->ctx, &e))
    return s3_fail_msg(c, err, STORE_E_ABORTED, "stopped by the callback");
  return STORE_OK;
}

/* The names of one page's elements `elem` (their child `field`),
 * decoded when the page is, into items of `kind`. */
static int32_t page_items(const s3_call *c, page *pg, sdk_list_page *items,
                          const char *elem, const char *field, uint32_t kind,
                          const char *what, store_error *err)
{
  for (sdk_xml_node *n = sdk_xml_child(pg->root, elem); n;
       n = sdk_xml_next(n, elem)) {
    const char *raw = sdk_xml_child_text(n, field);
    int nul, bad;
    const char *name = page_name(pg, raw, &nul);
    if (!name)
      return s3_fail_msg(c, err, STORE_E_INTERNAL, "a listed %s is not "
                         "URL-encoded properly", what);
    if (nul) {
      s3_log(c->h, STORE_LOG_ERROR, "s3: bucket '%s': the listed %s '%s' "
             "(URL-encoded) holds a NUL byte: skipped, as no operation can "
             "name it", c->bucket, what, raw);
      continue;
    }
    if (name == raw) {
      bad = sdk_list_page_add(items, name, kind, n);
    } else {
      char *copy = strdup(name);
      bad = !copy || sdk_list_page_take(items, copy, kind, n);
    }
    if (bad)
      return s3_fail_msg(c, err, STORE_E_NOMEM, "out of memory");
  }
  return STORE_OK;
}

/* Contents and CommonPrefixes of one page, in name order (on a tie,
 * which S3 does not send, the prefix first). */
static int32_t emit_page(const s3_call *c, lister *l, page *pg,
                         store_error *err)
{
  sdk_list_page items = SDK_LIST_PAGE_INIT;
  const sdk_list_item *it;
  size_t pos = 0;
  int32_t rc;

  rc = page_items(c, pg, &items, "CommonPrefixes", "Prefix",
                  SDK_LIST_PREFIX, "prefix", err);
  if (!rc)
    rc = page_items(c, pg, &items, "Contents", "Key", SDK_LIST_OBJECT, "key",
                    err);
  if (!rc)
    sdk_list_page_sort(&items);
  while (!rc && sdk_list_page_next(&items, &pos, NULL, &it) > 0)
    rc = it->kind == SDK_LIST_PREFIX
           ? emit_prefix(c, l, it->name, err)
           : emit_object(c, l, it->name, it->node, err);
  sdk_list_page_free(&items);
  return rc;
}

static int32_t list_objects(lister *l, const store_list_opts *opts,
                            store_error *err)
{
  const char *prefix = STORE_OPT(opts, store_list_opts, prefix, NULL);
  const char *delim = STORE_OPT(opts, store_list_opts, delimiter, NULL);
  const char *after = STORE_OPT(opts, store_list_opts, start_after, NULL);
  uint32_t psz = STORE_OPT(opts, store_list_opts, page_size, 0);
  char max_keys[16], *token = NULL;
  page pg = {NULL, 0, SDK_BUF_INIT};
  int32_t rc = STORE_OK;
  int more = 1;

  snprintf(max_keys, sizeof(max_keys), "%u", psz && psz < 1000 ? psz : 1000);
  while (!rc && more) {
    sdk_response *resp = NULL;
    const char *t, *enc;
    s3_call c;

    rc = s3_call_init(&c, l->h, "ListObjectsV2", "GET", l->bucket, NULL, err);
    if (rc)
      break;
    rc = s3_call_query(&c, "list-type", "2", err);
    if (!rc)
      rc = s3_call_query(&c, "encoding-type", "url", err);
    if (!rc)
      rc = s3_call_query(&c, "max-keys", max_keys, err);
    if (!rc && prefix && *prefix)
      rc = s3_call_query(&c, "prefix", prefix, err);
    if (!rc && delim && *delim)
      rc = s3_call_query(&c, "delimiter", delim, err);
    if (!rc && token)
      rc = s3_call_query(&c, "continuation-token", token, err);
    else if (!rc && after && *after)
      rc = s3_call_query(&c, "start-after", after, err);
    if (!rc)
      rc = s3_perform_ok(&c, &resp, err);
    if (!rc)
      rc = s3_fail_xml(&c, resp, err, &pg.root);
    if (!rc) {
      enc = sdk_xml_child_text(pg.root, "EncodingType");
      pg.encoded = enc && !strcmp(enc, "url");
      rc = emit_page(&c, l, &pg, err);
    }
    if (!rc) {
      t = sdk_xml_child_text(pg.root, "IsTruncated");
      more = t && !strcmp(t, "true");
      t = sdk_xml_child_text(pg.root, "NextContinuationToken");
      free(token);
      token = more && t && *t ? strdup(t) : NULL;
      if (more && !token)
        rc = s3_fail_msg(&c, err, STORE_E_INTERNAL, "a truncated page "
                         "without NextContinuationToken");
    }
    sdk_xml_free(pg.root);
    pg.root = NULL;
    sdk_response_free(resp);
    s3_call_free(&c);
  }
  free(token);
  sdk_buf_free(&pg.names);
  return rc;
}

/* ---- ListObjectVersions ------------------------------------------------- */

typedef struct vlister {
  s3_version_fn fn;
  void *ctx;
} vlister;

static int32_t emit_version(const s3_call *c, page *pg, sdk_xml_node *v,
                            int marker, int plain, vlister *vl,
                            store_error *err)
{
  s3_version sv;
  const char *t;
  int nul;

  memset(&sv, 0, sizeof(sv));
  sv.key = page_name(pg, sdk_xml_child_text(v, "Key"), &nul);
  if (!sv.key)
    return s3_fail_msg(c, err, STORE_E_INTERNAL, "a listed key is not "
                       "URL-encoded properly");
  if (nul) {
    s3_log(c->h, STORE_LOG_ERROR, "s3: bucket '%s': the listed key '%s' "
           "(URL-encoded) holds a NUL byte: skipped, as no operation can "
           "name it", c->bucket, sdk_xml_child_text(v, "Key"));
    return STORE_OK;
  }
  sv.version_id = sdk_xml_child_text(v, "VersionId");
  sv.etag = sdk_xml_child_text(v, "ETag");
  t = sdk_xml_child_text(v, "Size");
  sv.size = t ? strtoull(t, NULL, 10) : 0;
  t = sdk_xml_child_text(v, "LastModified");
  sv.mtime_ns = t ? sdk_time_parse_iso8601(t) : STORE_MTIME_UNKNOWN;
  t = sdk_xml_child_text(v, "IsLatest");
  sv.is_latest = plain || (t && !strcmp(t, "true"));
  sv.is_delete_marker = marker;
  return vl->fn(vl->ctx, &sv);
}

/* Versions and delete markers of one page, in the order S3 sent them
 * (by key, newest first). A server that does not know ?versions answers
 * with a plain ListBucketResult: its Contents are current versions. */
static int32_t emit_versions(const s3_call *c, page *pg, vlister *vl,
                             store_error *err)
{
  int plain = !strcmp(sdk_xml_name(pg->root), "ListBucketResult");
  int32_t rc = STORE_OK;

  for (sdk_xml_node *v = sdk_xml_child(pg->root, NULL); v && !rc;
       v = sdk_xml_next(v, NULL)) {
    const char *n = sdk_xml_name(v);
    if (!strcmp(n, "Version") || (plain && !strcmp(n, "Contents")))
      rc = emit_version(c, pg, v, 0, plain, vl, err);
    else if (!strcmp(n, "DeleteMarker"))
      rc = emit_version(c, pg, v, 1, plain, vl, err);
  }
  return rc;
}

int32_t s3_list_versions(store_handle *h, const char *bucket,
                         const char *prefix, s3_version_fn fn, void *ctx,
                         store_error *err)
{
  char *key_marker = NULL, *vid_marker = NULL;
  page pg = {NULL, 0, SDK_BUF_INIT};
  vlister vl = {fn, ctx};
  int32_t rc = STORE_OK;
  int more = 1;

  while (!rc && more) {
    sdk_response *resp = NULL;
    const char *t, *enc;
    int nul;
    s3_call c;

    rc = s3_call_init(&c, h, "ListObjectVersions", "GET", bucket, NULL, err);
    if (rc)
      break;
    rc = s3_call_query(&c, "versions", NULL, err);
    if (!rc)
      rc = s3_call_query(&c, "encoding-type", "url", err);
    if (!rc && prefix && *prefix)
      rc = s3_call_query(&c, "prefix", prefix, err);
    if (!rc && key_marker)
      rc = s3_call_query(&c, "key-marker", key_marker, err);
    if (!rc && vid_marker)
      rc = s3_call_query(&c, "version-id-marker", vid_marker, err);
    if (!rc)
      rc = s3_perform_ok(&c, &resp, err);
    if (!rc)
      rc = s3_fail_xml(&c, resp, err, &pg.root);
    if (!rc) {
      enc = sdk_xml_child_text(pg.root, "EncodingType");
      pg.encoded = enc && !strcmp(enc, "url");
      rc = emit_versions(&c, &pg, &vl, err);
    }
    if (!rc) {
      t = sdk_xml_child_text(pg.root, "IsTruncated");
      more = t && !strcmp(t, "true") &&
             strcmp(sdk_xml_name(pg.root), "ListBucketResult");
      free(key_marker);
      free(vid_marker);
      t = page_name(&pg, sdk_xml_child_text(pg.root, "NextKeyMarker"), &nul);
      key_marker = more && t && !nul ? strdup(t) : NULL;
      t = sdk_xml_child_text(pg.root, "NextVersionIdMarker");
      vid_marker = more && t ? strdup(t) : NULL;
      if (more && !key_marker)
        rc = s3_fail_msg(&c, err, STORE_E_INTERNAL, "a truncated page "
                         "without NextKeyMarker");
    }
    sdk_xml_free(pg.root);
    pg.root = NULL;
    sdk_response_free(resp);
    s3_call_free(&c);
  }
  free(key_marker);
  free(vid_marker);
  sdk_buf_free(&pg.names);
  return rc;
}

/* ---- listings with snapshots -------------------------------------------- */

/* Versions to entries: the current version is the blob (and also a
 * snapshot when tagged); every other version is a snapshot. Delete markers
 * are no data. Filters start_after and the delimiter's levels here, since
 * ListObjectVersions has no start-after. */
typedef struct snap_lister {
  lister *l;
  const char *bucket;
  const char *prefix, *delim;
  sdk_list_filter filter;       /* start_after; the PREFIX entry sent last */
  store_error *err;
} snap_lister;

static int32_t snap_version(void *ctx, const s3_version *v)
{
  snap_lister *s = ctx;
  size_t plen = s->prefix ? strlen(s->prefix) : 0;
  const char *rest = v->key + plen, *d;
  store_entry e;
  int tagged = 0;
  int32_t rc;

  if (v->is_delete_marker || !sdk_list_after(&s->filter, v->key))
    return STORE_OK;
  if (s->delim && *s->delim && (d = strstr(rest, s->delim))) {
    size_t n = (size_t)(d - v->key) + strlen(s->delim);
    int fresh = sdk_list_new_prefix(&s->filter, v->key, n);
    if (fresh < 0)
      return store_error_set(s->err, STORE_E_NOMEM, "s3: out of memory");
    if (!fresh)
      return STORE_OK;
    entry_init(&e);
    e.flags = STORE_ENTRY_PREFIX;
    e.name = s->filter.last_prefix;
    return s->l->cb(s->l->ctx, &e)
             ? store_error_set(s->err, STORE_E_ABORTED, "s3: listing "
                               "stopped by the callback")
             : STORE_OK;
  }
  entry_init(&e);
  e.name = v->key;
  e.size = v->size;
  e.mtime_ns = v->mtime_ns;
  e.etag = v->etag;
  if (v->is_latest) {
    if (s->l->cb(s->l->ctx, &e))
      return store_error_set(s->err, STORE_E_ABORTED, "s3: listing stopped "
                             "by the callback");
    if (!s3_version_is_real(v->version_id))
      return STORE_OK;
    rc = s3_snap_is_tagged(s->l->h, s->bucket, v->key, v->version_id, &tagged,
                           s->err);
    if (rc || !tagged)
      return rc;
  }
  e.flags = STORE_ENTRY_SNAPSHOT;
  e.snapshot_id = v->version_id;
  return s->l->cb(s->l->ctx, &e)
           ? store_error_set(s->err, STORE_E_ABORTED, "s3: listing stopped "
                             "by the callback")
           : STORE_OK;
}

int32_t s3_blob_list(store_handle *h, const char *container,
                     const store_list_opts *opts, store_entry_fn cb,
                     void *cb_ctx, store_error *err)
{
  lister l = {h, container, cb, cb_ctx};
  int32_t rc = s3_check_names(container, NULL, err);

  if (rc)
    return rc;
  if (!cb)
    return store_error_set(err, STORE_E_INVALID, "s3: ListObjectsV2 '%s': no "
                           "callback", container);
  if (STORE_OPT(opts, store_list_opts, flags, 0) & STORE_LIST_SNAPSHOTS) {
    snap_lister s = {&l, container, STORE_OPT(opts, store_list_opts, prefix, NULL),
                     STORE_OPT(opts, store_list_opts, delimiter, NULL),
                     {NULL, NULL}, err};
    sdk_list_filter_init(&s.filter,
                         STORE_OPT(opts, store_list_opts, start_after, NULL));
    rc = s3_list_versions(h, container, s.prefix, snap_version, &s, err);
    sdk_list_filter_free(&s.filter);
    return rc;
  }
  return list_objects(&l, opts, err);
}
