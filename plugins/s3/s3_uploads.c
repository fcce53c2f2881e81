/*
** s3_uploads.c -- ListMultipartUploads (multipart_list): the uploads in
** parts a bucket holds, begun by anyone, every page (key-marker and
** upload-id-marker), streamed to the callback.
**
** Keys are asked for with encoding-type=url, as in s3_list.c, and decoded
** when the server says it encoded them.
*/
#include <stdlib.h>
#include <string.h>

#include "s3.h"
#include "sdk_util.h"

/* One Upload element to the callback; a key that decodes to a NUL byte is
 * skipped (no operation can name it). */
static int32_t emit_upload(const s3_call *c, const sdk_xml_node *u,
                           int encoded, sdk_buf *name, store_upload_fn cb,
                           void *ctx, store_error *err)
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
  up.initiated = ns == STORE_MTIME_UNKNOWN ? 0 : ns / 1000000000;
  if (cb(ctx, &up))
    return s3_fail_msg(c, err, STORE_E_ABORTED, "stopped by the callback");
  return STORE_OK;
}

/* The page's next markers (decoded like keys), or an error when a
 * truncated page lacks them. */
static int32_t next_markers(const s3_call *c, const sdk_xml_node *root,
                            int encoded, char **key_marker, char **id_marker,
                            store_error *err)
{
  const char *k = sdk_xml_child_text(root, "NextKeyMarker");
  const char *id = sdk_xml_child_text(root, "NextUploadIdMarker");
  sdk_buf dec = SDK_BUF_INIT;

  free(*key_marker);
  free(*id_marker);
  *key_marker = *id_marker = NULL;
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
    *key_marker = strdup(dec.data);
    sdk_buf_free(&dec);
  } else {
    *key_marker = strdup(k);
  }
  if (id && *id)
    *id_marker = strdup(id);
  if (!*key_marker || (id && *id && !*id_marker))
    return s3_fail_msg(c, err, STORE_E_NOMEM, "out of memory");
  return STORE_OK;
}

int32_t s3_multipart_list(store_handle *h, const char *container,
                          const char *prefix, store_upload_fn cb,
                          void *cb_ctx, store_error *err)
{
  char *key_marker = NULL, *id_marker = NULL;
  sdk_buf name = SDK_BUF_INIT;
  int32_t rc = s3_check_names(container, NULL, err);
  int more = 1;

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
    if (!rc && prefix && *prefix)
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
      rc = emit_upload(&c, u, encoded, &name, cb, cb_ctx, err);
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
