/*
** azure_list.c -- listings: the marker-paged loop every List operation
** shares, and List Blobs turned into ABI entries.
**
** The ABI wants entries in byte order of name. Azure sends a page's
** BlobPrefix entries and Blob entries in one <Blobs> element, but Azurite
** puts all prefixes of a page before all blobs; so each page is sorted by
** the SDK (sdk_list.h; stably: a blob's snapshots stay before the blob
** itself, as listed) before any entry reaches the callback. Pages follow
** each other in name order. Directory markers (hdi_isfolder=true) are
** never listed; head reports them with STORE_ENTRY_DIR_MARKER.
** start_after is applied here (with the SDK's filter, which also reports
** a prefix spanning two pages once): List Blobs (at AZ_API_VERSION) has
** no such parameter.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure.h"
#include "sdk_list.h"
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
    if (sdk_host_cancelled(h->host)) {
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

typedef struct lister {
  const store_host_api *host;
  const az_target *t;
  sdk_list_filter filter;       /* start_after; a prefix spanning pages   */
  store_entry_fn cb;
  void *ctx;
} lister;

/* A <Blob>'s entry (strings borrowed from the tree; az_props_free). */
static int32_t blob_entry(const lister *l, const sdk_list_item *it,
                          az_props *p, store_error *err)
{
  const sdk_xml_node *node = it->node;
  const sdk_xml_node *props = sdk_xml_child(node, "Properties");
  const char *snap = sdk_xml_child_text(node, "Snapshot");
  const char *len = props ? sdk_xml_child_text(props, "Content-Length")
                          : NULL;
  int32_t rc;

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
  rc = az_xml_metadata(l->t, sdk_xml_child(node, "Metadata"), p, err);
  if (!rc)
    az_props_crc(p);
  return rc;
}

/* Report one item (start_after and repeats are already left out) unless
 * it is a directory marker. */
static int32_t emit(lister *l, const sdk_list_item *it, store_error *err)
{
  store_entry e;
  az_props p;
  int32_t rc = STORE_OK;
  int stop;

  if (it->kind == SDK_LIST_PREFIX) {
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

/* The items of a page: name (decoded when Encoded="true"), kind, node. */
static int32_t page_items(lister *l, const sdk_xml_node *blobs,
                          sdk_list_page *pg, store_error *err)
{
  const sdk_xml_node *c;

  for (c = blobs ? sdk_xml_child(blobs, NULL) : NULL; c;
       c = sdk_xml_next(c, NULL)) {
    const sdk_xml_node *name = sdk_xml_child(c, "Name");
    const char *enc = name ? sdk_xml_attr(name, "Encoded") : NULL;
    uint32_t kind = !strcmp(sdk_xml_name(c), "BlobPrefix") ? SDK_LIST_PREFIX
                                                           : SDK_LIST_OBJECT;
    int bad;
    if (!name || (strcmp(sdk_xml_name(c), "Blob") &&
                  strcmp(sdk_xml_name(c), "BlobPrefix")))
      continue;
    if (enc && !strcmp(enc, "true")) {
      /* Names with characters XML cannot carry come percent-encoded. */
      sdk_buf d = SDK_BUF_INIT;
      const char *s = sdk_xml_text(name);
      int dec = sdk_uri_decode_name(&d, s, strlen(s), 0);
      if (dec < 0 || !d.data) {
        sdk_buf_free(&d);
        return az_fail(l->t, err, STORE_E_INTERNAL,
                       "listing: undecodable encoded name");
      }
      if (dec > 0) {
        sdk_log(l->host, STORE_LOG_ERROR, "azure: container '%s': the listed "
                "name '%s' (encoded) holds a NUL byte: skipped, as no "
                "operation can name it", l->t->container, s);
        sdk_buf_free(&d);
        continue;
      }
      bad = sdk_list_page_take(pg, d.data, kind, c);
    } else {
      bad = sdk_list_page_add(pg, sdk_xml_text(name), kind, c);
    }
    if (bad)
      return az_nomem(l->t, err);
  }
  return STORE_OK;
}

static int32_t blob_page(void *ctx, const sdk_xml_node *root,
                         store_error *err)
{
  lister *l = ctx;
  sdk_list_page pg = SDK_LIST_PAGE_INIT;
  const sdk_list_item *it;
  size_t pos = 0;
  int more = 0;
  int32_t rc;

  rc = page_items(l, sdk_xml_child(root, "Blobs"), &pg, err);
  if (!rc)
    sdk_list_page_sort(&pg);
  while (!rc && (more = sdk_list_page_next(&pg, &pos, &l->filter, &it)) > 0)
    rc = emit(l, it, err);
  if (!rc && more < 0)
    rc = az_nomem(l->t, err);
  sdk_list_page_free(&pg);
  return rc;
}

int32_t az_list(store_handle *h, const az_target *t,
                const store_list_opts *opts, store_entry_fn cb, void *cb_ctx,
                store_error *err)
{
  const char *prefix = STORE_OPT(opts, store_list_opts, prefix, NULL);
  const char *delim = STORE_OPT(opts, store_list_opts, delimiter, NULL);
  uint32_t flags = STORE_OPT(opts, store_list_opts, flags, 0);
  lister l = {h->host, t, {NULL, NULL}, cb, cb_ctx};
  sdk_buf q = SDK_BUF_INIT;
  int32_t rc;

  rc = az_check_container(t, err);
  if (rc)
    goto out;
  if (!cb) {
    rc = az_fail(t, err, STORE_E_INVALID, "no entry callback");
    goto out;
  }
  sdk_list_filter_init(&l.filter,
                       STORE_OPT(opts, store_list_opts, start_after, NULL));
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
                STORE_OPT(opts, store_list_opts, page_size, 0), blob_page, &l,
                err);
out:
  sdk_list_filter_free(&l.filter);
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
