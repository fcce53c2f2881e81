/*
** oci_uploads.c -- ListMultipartUploads (multipart_list): the uploads in
** parts a bucket holds, begun by anyone, every page (opc-next-page),
** streamed to the callback. The API has no prefix parameter (only limit
** and page): the prefix is applied here. It says when an upload began,
** never when it was last written (neither here nor in
** ListMultipartUploadParts, whose parts carry no time): last_activity
** stays 0, and cleanup ages OCI uploads from their begin.
*/
#include <stdlib.h>
#include <string.h>

#include "oci.h"
#include "sdk_util.h"

/* One MultipartUpload of a page to cb. */
static int32_t emit(const oci_target *t, json_t *it, const char *prefix,
                    store_upload_fn cb, void *ctx, store_error *err)
{
  const char *key = json_string_value(json_object_get(it, "object"));
  const char *when = json_string_value(json_object_get(it, "timeCreated"));
  int64_t ns = when ? sdk_time_parse_iso8601(when) : STORE_MTIME_UNKNOWN;
  store_upload u;

  memset(&u, 0, sizeof(u));
  u.struct_size = sizeof(u);
  u.key = key;
  u.upload_id = json_string_value(json_object_get(it, "uploadId"));
  if (!key || !u.upload_id || !*u.upload_id)
    return oci_fail(t, err, STORE_E_INTERNAL, "a listed upload without "
                    "object or uploadId");
  if (prefix && strncmp(key, prefix, strlen(prefix)))
    return STORE_OK;
  u.initiated = ns == STORE_MTIME_UNKNOWN ? 0 : ns / 1000000000;
  if (cb(ctx, &u))
    return oci_fail(t, err, STORE_E_ABORTED, "stopped by the callback");
  return STORE_OK;
}

int32_t oci_multipart_list(store_handle *h, const char *bucket,
                           const char *prefix, store_upload_fn cb, void *ctx,
                           store_error *err)
{
  oci_target t = {"list uploads of", bucket, NULL, NULL};
  sdk_buf q = SDK_BUF_INIT;
  char *page = NULL;
  int32_t rc = oci_check_bucket(&t, err);

  if (!rc && !cb)
    rc = oci_fail(&t, err, STORE_E_INVALID, "no callback");
  if (prefix && !*prefix)
    prefix = NULL;
  while (!rc) {
    sdk_response *resp = NULL;
    json_t *list = NULL, *it;
    const char *next;
    size_t i;

    sdk_buf_reset(&q);
    rc = oci_query_add(&t, &q, "limit", "1000", err);
    if (!rc && page)
      rc = oci_query_add(&t, &q, "page", page, err);
    if (!rc)
      rc = oci_exec(h, &t, "GET", OCI_P_UPLOADS, sdk_buf_str(&q), NULL,
                    &resp, err);
    if (!rc)
      rc = oci_json(&t, resp, &list, err);
    if (!rc && !json_is_array(list))
      rc = oci_fail(&t, err, STORE_E_INTERNAL, "the answer is not a JSON "
                    "array of uploads");
    json_array_foreach(list, i, it)
    {
      if (rc)
        break;
      rc = emit(&t, it, prefix, cb, ctx, err);
    }
    next = rc ? NULL : sdk_response_header(resp, "opc-next-page");
    /* A server repeating the token it was given would loop forever. */
    if (next && *next && page && !strcmp(next, page))
      rc = oci_fail(&t, err, STORE_E_INTERNAL, "the next page's token "
                    "repeats the last one");
    free(page);
    page = NULL;
    if (!rc && next && *next && !(page = strdup(next)))
      rc = oci_nomem(&t, err);
    json_decref(list);
    sdk_response_free(resp);
    if (!page)
      break;
  }
  free(page);
  sdk_buf_free(&q);
  return rc;
}
