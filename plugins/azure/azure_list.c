/*
** azure_list.c -- listings: the marker-paged loop every List operation
** shares, and List Blobs turned into ABI entries.
**
** The ABI wants entries in byte order of name. Azure sends a page's
** BlobPrefix entries and Blob entries in one <Blobs> element, but Azurite
** puts all prefixes of a page before all blobs; so each page is sorted
** (stably: a blob's snapshots stay before the blob itself, as listed)
** before any entry reaches the callback. Pages follow each other in name
** order. Directory markers (hdi_isfolder=true) are never listed; head
** reports them with STORE_ENTRY_DIR_MARKER. start_after is applied here:
** List Blobs (at AZ_API_VERSION) has no such parameter.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure.h"
#include "sdk_util.h"

int32_t az_pages(store_handle *h, const az_target *t, const char *query,
                 uint32_t page_size, az_page_fn fn, void *ctx,
                 store_error *err)
{
  sdk_buf q = SDK_BUF_INIT, marker = SDK_BUF_INIT;
  sdk_response *resp = NULL;
  sdk_xml_node *root = NULL;
  const char *next, *body;
  size_t blen;
  int32_t rc;

  if (page_size > AZ_PAGE_MAX)
    page_size = AZ_PAGE_MAX;
  for (;;) {
    if (az_cancelled(h)) {
      rc = az_fail(t, err, STORE_E_ABORTED, "cancelled");
      goto out;
    }
    sdk_buf_reset(&q);
    if (sdk_buf_puts(&q, query) ||
        (page_size && sdk_buf_printf(&q, "&maxresults=%u", page_size)) ||
        (marker.len && (sdk_buf_puts(&q, "&marker=") ||
                        sdk_uri_encode(&q, marker.data, marker.len, 0)))) {
      rc = az_nomem(t, err);
      goto out;
    }
    rc = az_exec(h, t, "GET", sdk_buf_str(&q), NULL, 0, &resp, err);
    if (rc)
      goto out;
    body = sdk_response_body(resp, &blen);
    rc = sdk_xml_parse(body, blen, &root, err);
    if (rc) {
      rc = az_fail(t, err, rc, "listing page: %s", err ? err->message : "");
      goto out;
    }
    rc = fn(ctx, root, err);
    if (rc)
      goto out;
    next = sdk_xml_child_text(root, "NextMarker");
    if (!next || !*next)
      break;
    sdk_buf_reset(&marker);
    if (sdk_buf_puts(&marker, next)) {
      rc = az_nomem(t, err);
      goto out;
    }
    sdk_xml_free(root);
    root = NULL;
    sdk_response_free(resp);
    resp = NULL;
  }
out:
  sdk_xml_free(root);
  sdk_response_free(resp);
  sdk_buf_free(&marker);
  sdk_buf_free(&q);
  return rc;
}

/* The children of a <Metadata> element (node may be NULL) as p's
 * metadata; the strings stay in the XML tree. */
int32_t az_xml_metadata(const az_target *t, const sdk_xml_node *node,
                        az_props *p, store_error *err)
{
  const sdk_xml_node *c;
  size_t n = 0;

  for (c = node ? sdk_xml_child(node, NULL) : NULL; c;
       c = sdk_xml_next(c, NULL))
    n++;
  p->md = calloc(n ? n : 1, sizeof(*p->md));
  if (!p->md)
    return az_nomem(t, err);
  for (c = node ? sdk_xml_child(node, NULL) : NULL; c;
       c = sdk_xml_next(c, NULL)) {
    p->md[p->nmd].key = sdk_xml_name(c);
    p->md[p->nmd].value = sdk_xml_text(c);
    p->nmd++;
  }
  p->e.metadata = p->md;
  p->e.nmetadata = p->nmd;
  return STORE_OK;
}

/* Listings give <Etag>0x8D..</Etag>, headers ETag: "0x8D..": the entry
 * carries the header's form, which If-Match takes. */
const char *az_xml_etag(const char *etag, az_props *p)
{
  if (!etag || !*etag || *etag == '"')
    return etag;
  snprintf(p->etag, sizeof(p->etag), "\"%.*s\"", (int)sizeof(p->etag) - 3,
           etag);
  return p->etag;
}

/* One <Blob> or <BlobPrefix> of a page. */
typedef struct item {
  const sdk_xml_node *node;
  const char *name;
  char *decoded;                /* owned; for Encoded="true" names        */
  int prefix;
  size_t idx;
} item;

static int item_cmp(const void *a, const void *b)
{
  const item *x = a, *y = b;
  int c = strcmp(x->name, y->name);

  if (c)
    return c;
  return x->idx < y->idx ? -1 : x->idx > y->idx;
}

typedef struct lister {
  const az_target *t;
  const char *after;            /* NULL: from the start                   */
  store_entry_fn cb;
  void *ctx;
  char *last_prefix;            /* owned: a prefix may span two pages     */
} lister;

/* A <Blob>'s entry (strings borrowed from the tree; az_props_free). */
static int32_t blob_entry(const lister *l, const item *it, az_props *p,
                          store_error *err)
{
  const sdk_xml_node *props = sdk_xml_child(it->node, "Properties");
  const char *snap = sdk_xml_child_text(it->node, "Snapshot");
  const char *len = props ? sdk_xml_child_text(props, "Content-Length")
                          : NULL;

  memset(p, 0, sizeof(*p));
  p->e.struct_size = sizeof(p->e);
  p->e.name = it->name;
  p->e.size = len ? strtoull(len, NULL, 10) : 0;
  p->e.mtime_ns = STORE_MTIME_UNKNOWN;
  if (props) {
    const char *ct = sdk_xml_child_text(props, "Content-Type");
    p->e.mtime_ns =
      sdk_time_parse_http(sdk_xml_child_text(props, "Last-Modified"));
    p->e.etag = az_xml_etag(sdk_xml_child_text(props, "Etag"), p);
    p->e.content_type = ct && *ct ? ct : NULL;
    az_md5_hex(sdk_xml_child_text(props, "Content-MD5"), p->md5);
    p->e.content_md5 = p->md5[0] ? p->md5 : NULL;
    p->blob_type = sdk_xml_child_text(props, "BlobType");
  }
  if (snap && *snap) {
    p->e.flags |= STORE_ENTRY_SNAPSHOT;
    p->e.snapshot_id = snap;
  }
  return az_xml_metadata(l->t, sdk_xml_child(it->node, "Metadata"), p, err);
}

/* Report one item unless start_after, a repeat or a marker hides it. */
static int32_t emit(lister *l, const item *it, store_error *err)
{
  store_entry e;
  az_props p;
  int32_t rc = STORE_OK;
  int stop;

  if (l->after && strcmp(it->name, l->after) <= 0)
    return STORE_OK;
  if (it->prefix) {
    char *copy;
    if (l->last_prefix && !strcmp(l->last_prefix, it->name))
      return STORE_OK;
    copy = strdup(it->name);
    if (!copy)
      return az_nomem(l->t, err);
    free(l->last_prefix);
    l->last_prefix = copy;
    memset(&e, 0, sizeof(e));
    e.struct_size = sizeof(e);
    e.flags = STORE_ENTRY_PREFIX;
    e.name = it->name;
    e.mtime_ns = STORE_MTIME_UNKNOWN;
    stop = l->cb(l->ctx, &e);
  } else {
    rc = blob_entry(l, it, &p, err);
    stop = !rc && !az_is_dir_marker(&p.e) && l->cb(l->ctx, &p.e);
    az_props_free(&p);
  }
  if (!rc && stop)
    rc = az_fail(l->t, err, STORE_E_ABORTED,
                 "the entry callback stopped the listing");
  return rc;
}

/* The items of a page: name (decoded when Encoded="true"), kind, order. */
static int32_t page_items(lister *l, const sdk_xml_node *blobs, item **out,
                          size_t *nout, store_error *err)
{
  const sdk_xml_node *c;
  size_t n = 0;
  item *v;

  *out = NULL;
  *nout = 0;
  for (c = blobs ? sdk_xml_child(blobs, NULL) : NULL; c;
       c = sdk_xml_next(c, NULL))
    n++;
  /* One more, zeroed: the end mark for the cleanup in blob_page. */
  v = calloc(n + 1, sizeof(*v));
  if (!v)
    return az_nomem(l->t, err);
  *out = v;
  for (c = blobs ? sdk_xml_child(blobs, NULL) : NULL; c;
       c = sdk_xml_next(c, NULL)) {
    const sdk_xml_node *name = sdk_xml_child(c, "Name");
    const char *enc = name ? sdk_xml_attr(name, "Encoded") : NULL;
    if (!name || (strcmp(sdk_xml_name(c), "Blob") &&
                  strcmp(sdk_xml_name(c), "BlobPrefix")))
      continue;
    v[*nout].node = c;
    v[*nout].prefix = !strcmp(sdk_xml_name(c), "BlobPrefix");
    v[*nout].idx = *nout;
    v[*nout].name = sdk_xml_text(name);
    if (enc && !strcmp(enc, "true")) {
      /* Names with characters XML cannot carry come percent-encoded. */
      sdk_buf d = SDK_BUF_INIT;
      const char *s = v[*nout].name;
      if (sdk_uri_decode(&d, s, strlen(s), 0) || !d.data) {
        sdk_buf_free(&d);
        return az_fail(l->t, err, STORE_E_INTERNAL,
                       "listing: undecodable encoded name");
      }
      v[*nout].decoded = d.data;
      v[*nout].name = d.data;
    }
    (*nout)++;
  }
  return STORE_OK;
}

static int32_t blob_page(void *ctx, const sdk_xml_node *root,
                         store_error *err)
{
  lister *l = ctx;
  item *v = NULL;
  size_t n = 0;
  int32_t rc;

  rc = page_items(l, sdk_xml_child(root, "Blobs"), &v, &n, err);
  if (rc)
    goto out;
  qsort(v, n, sizeof(*v), item_cmp);
  for (size_t i = 0; i < n; i++) {
    rc = emit(l, &v[i], err);
    if (rc)
      goto out;
  }
out:
  for (size_t i = 0; v && v[i].node; i++)
    free(v[i].decoded);
  free(v);
  return rc;
}

int32_t az_list(store_handle *h, const az_target *t,
                const store_list_opts *opts, store_entry_fn cb, void *cb_ctx,
                store_error *err)
{
  const char *prefix = AZ_OPT(opts, store_list_opts, prefix, NULL);
  const char *delim = AZ_OPT(opts, store_list_opts, delimiter, NULL);
  uint32_t flags = AZ_OPT(opts, store_list_opts, flags, 0);
  lister l = {t, AZ_OPT(opts, store_list_opts, start_after, NULL), cb,
              cb_ctx, NULL};
  sdk_buf q = SDK_BUF_INIT;
  int32_t rc;

  rc = az_check_container(t, err);
  if (rc)
    goto out;
  if (!cb) {
    rc = az_fail(t, err, STORE_E_INVALID, "no entry callback");
    goto out;
  }
  if (l.after && !*l.after)
    l.after = NULL;
  /* Metadata always: it is how directory markers are recognised. */
  if (sdk_buf_puts(&q, "restype=container&comp=list&include=metadata") ||
      ((flags & STORE_LIST_SNAPSHOTS) && sdk_buf_puts(&q, ",snapshots")) ||
      (prefix && *prefix &&
       (sdk_buf_puts(&q, "&prefix=") ||
        sdk_uri_encode(&q, prefix, strlen(prefix), 0))) ||
      (delim && *delim &&
       (sdk_buf_puts(&q, "&delimiter=") ||
        sdk_uri_encode(&q, delim, strlen(delim), 0)))) {
    rc = az_nomem(t, err);
    goto out;
  }
  rc = az_pages(h, t, sdk_buf_str(&q),
                AZ_OPT(opts, store_list_opts, page_size, 0), blob_page, &l,
                err);
out:
  free(l.last_prefix);
  sdk_buf_free(&q);
  return rc;
}

int32_t az_blob_list(store_handle *h, const char *container,
                     const store_list_opts *opts, store_entry_fn cb,
                     void *cb_ctx, store_error *err)
{
  az_target t = {"list", container, NULL, NULL};

  return az_list(h, &t, opts, cb, cb_ctx, err);
}
