/*
** s3_uploads.c -- ListMultipartUploads (multipart_list): the uploads in
** parts a bucket holds, begun by anyone, every page (key-marker and
** upload-id-marker), streamed to the callback.
**
** Keys are asked for with encoding-type=url, as in s3_list.c, and decoded
** when the server says it encoded them. The listing says only when an
** upload began; when it was last written is its newest part's time, from
** ListParts: one request per upload (per 1000 parts), what cleanup needs
** so as not to abort an upload another machine is still writing.
*/
#include <stdlib.h>
#include <string.h>

#include "s3.h"
#include "sdk_error.h"
#include "sdk_util.h"

/* The Unix seconds of the newest part of upload `id` of `key` (0: none),
 * all pages of ListParts. NOT_FOUND when the upload is gone. */
static int32_t newest_part(store_handle *h, const char *bucket,
                           const char *key, const char *id, int64_t *out,
                           store_error *err)
{
  char *marker = NULL;
  int32_t rc = STORE_OK;
  long last = 0;
  int more = 1;

  *out = 0;
  while (!rc && more) {
    sdk_response *resp = NULL;
    sdk_xml_node *root = NULL;
    const char *t;
    s3_call c;

    rc = s3_call_init(&c, h, "ListParts", "GET", bucket, key, err);
    if (rc)
      break;
    rc = s3_call_query(&c, "uploadId", id, err);
    if (!rc)
      rc = s3_call_query(&c, "max-parts", "1000", err);
    if (!rc && marker)
      rc = s3_call_query(&c, "part-number-marker", marker, err);
    if (!rc)
      rc = s3_perform_ok(&c, &resp, err);
    if (!rc)
      rc = s3_fail_xml(&c, resp, err, &root);
    for (sdk_xml_node *p = root ? sdk_xml_child(root, "Part") : NULL;
         p && !rc; p = sdk_xml_next(p, "Part")) {
      int64_t ns;

      t = sdk_xml_child_text(p, "LastModified");
      ns = t ? sdk_time_parse_iso8601(t) : STORE_MTIME_UNKNOWN;
      if (ns != STORE_MTIME_UNKNOWN && ns / 1000000000 > *out)
        *out = ns / 1000000000;
    }
    t = rc ? NULL : sdk_xml_child_text(root, "IsTruncated");
    more = t && !strcmp(t, "true");
    if (more) {
      /* The marker must move on, or a server repeating it loops. */
      const char *next = sdk_xml_child_text(root, "NextPartNumberMarker");
      char *end = NULL;
      long n = next ? strtol(next, &end, 10) : 0;

      free(marker);
      marker = NULL;
      if (!next || *end || n <= last)
        rc = s3_fail_msg(&c, err, STORE_E_INTERNAL, "a truncated page of "
                         "parts whose NextPartNumberMarker does not move on");
      else if (!(marker = strdup(next)))
        rc = s3_fail_msg(&c, err, STORE_E_NOMEM, "out of memory");
      last = n;
    }
    sdk_xml_free(root);
    sdk_response_free(resp);
    s3_call_free(&c);
  }
  free(marker);
  return rc;
}

/* One Upload element to the callback; a key that decodes to a NUL byte is
 * skipped (no operation can name it). */
static int32_t emit_upload(const s3_call *c, const sdk_xml_node *u,
                           int encoded, const char *prefix, sdk_buf *name,
                           store_upload_fn cb, void *ctx, store_error *err)
{
  const char *raw = sdk_xml_child_text(u, "Key");
  const char *t = sdk_xml_child_text(u, "Initiated");
  int64_t ns = t ? sdk_time_parse_iso8601(t) : STORE_MTIME_UNKNOWN;
  store_upload up;
  int rc = 0;

  memset(&up, 0, sizeof(up));
  up.struct_size = sizeof(up);
  up.upload_id = sdk_xml_child_text(u, "UploadId");
  if (!raw || !up.upload_id || !*up.upload_id)
    return s3_fail_msg(c, err, STORE_E_INTERNAL, "a listed upload without "
                       "Key or UploadId");
  up.key = raw;
  if (encoded) {
    sdk_buf_reset(name);
    rc = sdk_uri_decode_name(name, raw, strlen(raw), 1);
    if (rc < 0 || sdk_buf_putc(name, '\0'))
      return s3_fail_msg(c, err, STORE_E_INTERNAL, "a listed upload's key "
                         "is not URL-encoded properly");
    up.key = name->data;
  }
  if (rc) {
    s3_log(c->h, STORE_LOG_ERROR, "s3: bucket '%s': the upload of '%s' "
           "(URL-encoded) names a key with a NUL byte: skipped", c->bucket,
           raw);
    return STORE_OK;
  }
  /* The server's prefix is not trusted to have been applied. */
  if (prefix && strncmp(up.key, prefix, strlen(prefix)))
    return STORE_OK;
  up.initiated = ns == STORE_MTIME_UNKNOWN ? 0 : ns / 1000000000;
  rc = newest_part(c->h, c->bucket, up.key, up.upload_id, &up.last_activity,
                   err);
  /* Gone since listed (completed or aborted): not listed. A server
   * without ListParts: when it was last written is unknown (0). */
  if (rc == STORE_E_NOT_FOUND || rc == STORE_E_UNSUPPORTED)
    sdk_error_clear(err);
  if (rc == STORE_E_NOT_FOUND)
    return STORE_OK;
  if (rc && rc != STORE_E_UNSUPPORTED)
    return rc;
  if (rc)
    up.last_activity = 0;
  else if (up.last_activity < up.initiated) /* no part yet */
    up.last_activity = up.initiated;
  if (cb(ctx, &up))
    return s3_fail_msg(c, err, STORE_E_ABORTED, "stopped by the callback");
  return STORE_OK;
}

/* The page's next markers (decoded like keys), or an error when a
 * truncated page lacks them or repeats the ones it was asked with (a
 * server doing so would have the listing loop forever). */
static int32_t next_markers(const s3_call *c, const sdk_xml_node *root,
                            int encoded, char **key_marker, char **id_marker,
                            store_error *err)
{
  const char *k = sdk_xml_child_text(root, "NextKeyMarker");
  const char *id = sdk_xml_child_text(root, "NextUploadIdMarker");
  sdk_buf dec = SDK_BUF_INIT;
  char *nk = NULL, *nid = NULL;
  int32_t rc = STORE_OK;

  if (!k || !*k)
    return s3_fail_msg(c, err, STORE_E_INTERNAL, "a truncated page of "
                       "uploads without NextKeyMarker");
  if (encoded) {
    if (sdk_uri_decode_name(&dec, k, strlen(k), 1) != 0 ||
        sdk_buf_putc(&dec, '\0')) {
      sdk_buf_free(&dec);
      return s3_fail_msg(c, err, STORE_E_INTERNAL, "NextKeyMarker is not "
                         "URL-encoded properly");
    }
    k = dec.data;
  }
  nk = strdup(k);
  if (id && *id)
    nid = strdup(id);
  if (!nk || (id && *id && !nid))
    rc = s3_fail_msg(c, err, STORE_E_NOMEM, "out of memory");
  else if (*key_marker && !strcmp(nk, *key_marker) &&
           !strcmp(nid ? nid : "", *id_marker ? *id_marker : ""))
    rc = s3_fail_msg(c, err, STORE_E_INTERNAL, "a truncated page of "
                     "uploads whose next markers repeat the last ones");
  sdk_buf_free(&dec);
  free(*key_marker);
  free(*id_marker);
  *key_marker = rc ? NULL : nk;
  *id_marker = rc ? NULL : nid;
  if (rc) {
    free(nk);
    free(nid);
  }
  return rc;
}

int32_t s3_multipart_list(store_handle *h, const char *container,
                          const char *prefix, store_upload_fn cb,
                          void *cb_ctx, store_error *err)
{
  char *key_marker = NULL, *id_marker = NULL;
  sdk_buf name = SDK_BUF_INIT;
  int32_t rc = s3_check_names(container, NULL, err);
  int more = 1;

  if (prefix && !*prefix)
    prefix = NULL;
  if (!rc && !cb)
    rc = store_error_set(err, STORE_E_INVALID, "s3: ListMultipartUploads "
                         "'%s': no callback", container);
  while (!rc && more) {
    sdk_response *resp = NULL;
    sdk_xml_node *root = NULL;
    const char *t;
    int encoded = 0;
    s3_call c;

    rc = s3_call_init(&c, h, "ListMultipartUploads", "GET", container, NULL,
                      err);
    if (rc)
      break;
    rc = s3_call_query(&c, "uploads", NULL, err);
    if (!rc)
      rc = s3_call_query(&c, "encoding-type", "url", err);
    if (!rc)
      rc = s3_call_query(&c, "max-uploads", "1000", err); /* page_size */
    if (!rc && prefix)
      rc = s3_call_query(&c, "prefix", prefix, err);
    if (!rc && key_marker)
      rc = s3_call_query(&c, "key-marker", key_marker, err);
    if (!rc && id_marker)
      rc = s3_call_query(&c, "upload-id-marker", id_marker, err);
    if (!rc)
      rc = s3_perform_ok(&c, &resp, err);
    if (!rc)
      rc = s3_fail_xml(&c, resp, err, &root);
    /* A server that ignores ?uploads answers with an object listing. */
    if (!rc && strcmp(sdk_xml_name(root), "ListMultipartUploadsResult"))
      rc = s3_fail_msg(&c, err, STORE_E_UNSUPPORTED, "the server answered "
                       "with a %s: it cannot list uploads",
                       sdk_xml_name(root));
    if (!rc) {
      t = sdk_xml_child_text(root, "EncodingType");
      encoded = t && !strcmp(t, "url");
    }
    for (sdk_xml_node *u = root ? sdk_xml_child(root, "Upload") : NULL;
         u && !rc; u = sdk_xml_next(u, "Upload"))
      rc = emit_upload(&c, u, encoded, prefix, &name, cb, cb_ctx, err);
    if (!rc) {
      t = sdk_xml_child_text(root, "IsTruncated");
      more = t && !strcmp(t, "true");
      if (more)
        rc = next_markers(&c, root, encoded, &key_marker, &id_marker, err);
    }
    sdk_xml_free(root);
    sdk_response_free(resp);
    s3_call_free(&c);
  }
  free(key_marker);
  free(id_marker);
  sdk_buf_free(&name);
  return rc;
}
