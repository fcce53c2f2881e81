/*
** oci_blob.c -- object put (PutObject, or a multipart upload beyond the
** cutoff and for a long body of unknown length), get (GetObject, with
** Range), head (HeadObject) and delete (DeleteObject).
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci.h"
#include "sdk_put.h"

/* A version id as the versionId query ("" when there is none). */
static int32_t version_query(const oci_target *t, sdk_buf *q,
                             store_error *err)
{
  return t->version ? oci_query_add(t, q, "versionId", t->version, err)
                    : STORE_OK;
}

/* What a PutObject carries besides its body: content type, metadata,
 * conditions and checksums (opts may be NULL). */
int32_t oci_put_headers(const oci_target *t, sdk_request *r,
                        const store_put_opts *opts, store_error *err)
{
  const char *ct = STORE_OPT(opts, store_put_opts, content_type, NULL);
  const char *if_match = STORE_OPT(opts, store_put_opts, if_match, NULL);
  int32_t rc;

  rc = oci_header(t, r, "Content-Type", ct ? ct : OCI_DEFAULT_CT, err);
  if (!rc)
    rc = oci_meta_headers(t, r, STORE_OPT(opts, store_put_opts, metadata, NULL),
                          STORE_OPT(opts, store_put_opts, nmetadata, 0), err);
  if (!rc && (STORE_OPT(opts, store_put_opts, flags, 0) &
              STORE_PUT_IF_NONE_MATCH))
    rc = oci_header(t, r, "if-none-match", "*", err);
  if (!rc && if_match)
    rc = oci_header(t, r, "if-match", if_match, err);
  if (!rc)
    rc = oci_put_checksums(t, r, opts, err);
  return rc;
}

/* A refused fail-if-exists put is EXISTS, whichever status the service
 * chose for it (409 IfNoneMatchFailed, or 412). */
int32_t oci_put_condition(const oci_target *t, uint32_t flags, int32_t rc,
                          store_error *err)
{
  if (rc != STORE_E_PRECONDITION || !(flags & STORE_PUT_IF_NONE_MATCH))
    return rc;
  oci_fail(t, err, STORE_E_EXISTS, "already exists (fail-if-exists put)");
  if (err)
    err->flags &= ~STORE_ERR_RETRYABLE;
  return STORE_E_EXISTS;
}

/* One PutObject, its body streamed from b or taken from mem[0..memlen)
 * (sdk_put_single_fn). */
static int32_t put_single(const sdk_put_call *c, sdk_body *b,
                          const char *mem, size_t memlen)
{
  uint32_t flags = STORE_OPT(c->opts, store_put_opts, flags, 0);
  const oci_target *t = c->target;
  sdk_response *resp = NULL;
  sdk_request *r = NULL;
  int32_t rc;

  rc = oci_request(c->h, t, "PUT", OCI_P_OBJECT, NULL, &r, c->err);
  if (rc)
    goto out;
  rc = oci_put_headers(t, r, c->opts, c->err);
  if (rc)
    goto out;
  rc = oci_put_condition(t, flags,
                         oci_send_object(c->h, t, r, b, mem, memlen, &resp,
                                         c->err),
                         c->err);
  if (rc)
    goto out;
  oci_put_result(resp, b ? b->want : memlen, 1, c->out);
out:
  sdk_response_free(resp);
  sdk_request_free(r);
  return rc;
}

/* A multipart upload (sdk_put_parts_fn). */
static int32_t put_parts(const sdk_put_call *c, char *buf, size_t first_len)
{
  return oci_put_parts(c->h, c->target, c->opts, c->src, c->src_ctx, buf,
                       first_len, c->out, c->err);
}

static int32_t put_fail(const sdk_put_call *c, int32_t code, const char *why)
{
  return oci_fail(c->target, c->err, code, "%s", why);
}

/* PutObject up to the cutoff, a multipart upload beyond it; an unknown
 * length has one part buffered to tell which (sdk_put.h). */
int32_t oci_blob_put(store_handle *h, const char *bucket, const char *key,
                     const store_put_opts *opts, store_read_fn src,
                     void *src_ctx, store_put_result *out, store_error *err)
{
  static const sdk_put_ops ops = {put_single, put_parts, put_fail,
                                  OCI_PUT_CUTOFF, OCI_BUFFER_PART};
  int64_t len = STORE_OPT(opts, store_put_opts, content_length, -1);
  oci_target t = {"put", bucket, key, NULL};
  sdk_put_call c = {h, &t, opts, src, src_ctx, out, err};
  int32_t rc;

  rc = oci_check_key(&t, err);
  if (rc)
    goto out;
  if (!src || len < -1) {
    rc = oci_fail(&t, err, STORE_E_INVALID,
                  "no read callback, or content_length %" PRId64
                  " below -1", len);
    goto out;
  }
  rc = oci_meta_check(&t, STORE_OPT(opts, store_put_opts, content_type, NULL),
                      STORE_OPT(opts, store_put_opts, metadata, NULL),
                      STORE_OPT(opts, store_put_opts, nmetadata, 0), err);
  if (rc)
    goto out;
  rc = sdk_put(&ops, &c);
out:
  return rc;
}

/* ------------------------------------------------------------------------ */
/* get                                                                      */
/* ------------------------------------------------------------------------ */

/* The object's entry from the response headers, to cb (an sdk_get_entry_fn;
 * ud is the target). */
static int get_entry(void *ud, const sdk_response *resp, store_entry_fn cb,
                     void *cb_ctx)
{
  oci_props p;
  int32_t r;

  if (oci_props_headers(ud, resp, &p, NULL))
    return SDK_GET_NOMEM;
  r = cb(cb_ctx, &p.e);
  oci_props_free(&p);
  return r ? SDK_GET_ENTRY : 0;
}

int32_t oci_blob_get(store_handle *h, const char *bucket, const char *key,
                     const store_get_opts *opts, store_write_fn sink,
                     void *sink_ctx, store_error *err)
{
  oci_target t = {"get", bucket, key,
                  STORE_OPT(opts, store_get_opts, snapshot_id, NULL)};
  const char *if_match = STORE_OPT(opts, store_get_opts, if_match, NULL);
  const char *why;
  int32_t stop;
  sdk_get g;
  sdk_buf q = SDK_BUF_INIT;
  sdk_request *r = NULL;
  char range[SDK_RANGE_HEADER_SIZE];
  int32_t rc;

  rc = oci_check_key(&t, err);
  if (rc)
    goto out;
  if (!sink) {
    rc = oci_fail(&t, err, STORE_E_INVALID, "no write callback");
    goto out;
  }
  sdk_get_init(&g, STORE_OPT(opts, store_get_opts, on_entry, NULL),
               STORE_OPT(opts, store_get_opts, on_entry_ctx, NULL), sink,
               sink_ctx, get_entry, &t);
  rc = version_query(&t, &q, err);
  if (!rc)
    rc = oci_request(h, &t, "GET", OCI_P_OBJECT, sdk_buf_str(&q), &r, err);
  if (rc)
    goto out;
  if (STORE_OPT(opts, store_get_opts, flags, 0) & STORE_GET_RANGE) {
    sdk_range_header(STORE_OPT(opts, store_get_opts, offset, 0),
                     STORE_OPT(opts, store_get_opts, length, 0), range,
                     sizeof(range));
    rc = oci_header(&t, r, "Range", range, err);
    if (rc)
      goto out;
  }
  if (if_match) {
    rc = oci_header(&t, r, "if-match", if_match, err);
    if (rc)
      goto out;
  }
  sdk_get_attach(r, &g);
  rc = oci_perform(h, &t, r, 0, NULL, err);
  stop = rc ? sdk_get_stopped(&g, &why) : 0;
  if (stop)
    rc = oci_fail(&t, err, stop, "%s", why);
out:
  sdk_buf_free(&q);
  sdk_request_free(r);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* head, delete                                                             */
/* ------------------------------------------------------------------------ */

/* HeadObject. On success *out is the response (owned by the caller) and p
 * describes the object from it (oci_props_free). */
int32_t oci_head(store_handle *h, const oci_target *t, sdk_response **out,
                 oci_props *p, store_error *err)
{
  sdk_buf q = SDK_BUF_INIT;
  int32_t rc;

  rc = version_query(t, &q, err);
  if (!rc)
    rc = oci_exec(h, t, "HEAD", OCI_P_OBJECT, sdk_buf_str(&q), NULL, out,
                  err);
  if (rc)
    goto out;
  rc = oci_props_headers(t, *out, p, err);
  if (rc) {
    sdk_response_free(*out);
    *out = NULL;
  }
out:
  sdk_buf_free(&q);
  return rc;
}

int32_t oci_blob_head(store_handle *h, const char *bucket, const char *key,
                      const store_head_opts *opts, store_entry_fn cb,
                      void *cb_ctx, store_error *err)
{
  oci_target t = {"head", bucket, key,
                  STORE_OPT(opts, store_head_opts, snapshot_id, NULL)};
  sdk_response *resp = NULL;
  oci_props p = {0};
  int32_t rc;

  rc = oci_check_key(&t, err);
  if (rc)
    goto out;
  if (!cb) {
    rc = oci_fail(&t, err, STORE_E_INVALID, "no entry callback");
    goto out;
  }
  rc = oci_head(h, &t, &resp, &p, err);
  if (rc)
    goto out;
  if (cb(cb_ctx, &p.e))
    rc = oci_fail(&t, err, STORE_E_ABORTED, "the entry callback stopped");
out:
  oci_props_free(&p);
  sdk_response_free(resp);
  return rc;
}

/* With if_match, DeleteObject's if-match: another ETag is 412
 * IfMatchFailed (PRECONDITION). */
int32_t oci_blob_delete(store_handle *h, const char *bucket, const char *key,
                        const store_delete_opts *opts, store_error *err)
{
  oci_target t = {"delete", bucket, key,
                  STORE_OPT(opts, store_delete_opts, snapshot_id, NULL)};
  const char *if_match = STORE_OPT(opts, store_delete_opts, if_match, NULL);
  store_kv cond[] = {{"if-match", if_match}};
  sdk_buf q = SDK_BUF_INIT;
  int32_t rc;

  sdk_response *resp = NULL;
  const char *dm;

  rc = oci_check_key(&t, err);
  if (!rc)
    rc = version_query(&t, &q, err);
  if (!rc)
    rc = oci_exec_with(h, &t, "DELETE", OCI_P_OBJECT, sdk_buf_str(&q), cond,
                       if_match ? 1 : 0, NULL, &resp, err);
  /* A versioned bucket only added a delete marker (oci_snapshot.c). */
  dm = rc ? NULL : sdk_response_header(resp, "is-delete-marker");
  if (!t.version && dm && !strcmp(dm, "true"))
    rc = oci_delete_versions(h, &t, sdk_response_header(resp, "version-id"),
                             STORE_OPT(opts, store_delete_opts, flags, 0), err);
  sdk_response_free(resp);
  sdk_buf_free(&q);
  return rc;
}
