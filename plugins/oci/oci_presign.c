/*
** oci_presign.c -- blob_presign: an Object Storage pre-authenticated
** request (CreatePreauthenticatedRequest: POST /n/NS/b/BUCKET/p/) for the
** one object, ObjectRead for GET, ObjectWrite for PUT, expiring then. Unlike
** a signed URL it is a grant kept by the service: its id is reported so
** that it can be deleted before it expires (DELETE /n/NS/b/BUCKET/p/ID).
** The URL is the endpoint and the accessUri the service answers, which
** carries the grant's token.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "oci.h"
#include "sdk_json.h"

/* The grant, named after what it is for (names need not be unique). */
#define OCI_PAR_NAME "xtstore-presign"

int32_t oci_blob_presign(store_handle *h, const char *bucket, const char *key,
                         const store_presign_opts *opts, char *out_url,
                         size_t cap, store_presign_result *out,
                         store_error *err)
{
  uint32_t method = STORE_OPT(opts, store_presign_opts, method, 0);
  uint32_t expires = STORE_OPT(opts, store_presign_opts, expires_s, 0);
  oci_target t = {"presign", bucket, key, NULL};
  sdk_buf u = SDK_BUF_INIT, full = SDK_BUF_INIT;
  sdk_request *r = NULL;
  sdk_response *resp = NULL;
  json_t *body = NULL, *par = NULL;
  const char *uri, *id, *until_text;
  char until[21], *ns, *text = NULL;
  int64_t skew, until_ns;
  int32_t rc;

  rc = oci_check_key(&t, err);
  if (rc)
    return rc;
  pthread_mutex_lock(&h->mu);
  skew = h->skew;
  pthread_mutex_unlock(&h->mu);
  sdk_time_format_iso8601(time(NULL) + (time_t)skew + (time_t)expires, until);
  if (!until[0])
    return oci_fail(&t, err, STORE_E_INVALID,
                    "a lifetime of %u seconds is past any date", expires);
  rc = oci_namespace(h, &ns, err);
  if (rc)
    return rc;
  body = json_pack("{s:s, s:s, s:s, s:s}", "name", OCI_PAR_NAME,
                   "objectName", key, "accessType",
                   method == STORE_PRESIGN_PUT ? "ObjectWrite" : "ObjectRead",
                   "timeExpires", until);
  text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  if (!text || sdk_buf_printf(&u, "%s/n/%s/b/", h->endpoint, ns) ||
      sdk_uri_encode(&u, bucket, strlen(bucket), 0) ||
      sdk_buf_puts(&u, "/p/") || !(r = sdk_request_new("POST", u.data))) {
    rc = oci_nomem(&t, err);
    goto out;
  }
  sdk_request_body_mem(r, text, strlen(text));
  rc = oci_header(&t, r, "Content-Type", "application/json", err);
  if (!rc)
    rc = oci_perform(h, &t, r, 0, &resp, err);
  if (!rc)
    rc = oci_json(&t, resp, &par, err);
  if (rc)
    goto out;
  uri = sdk_json_str(par, "accessUri");
  id = sdk_json_str(par, "id");
  until_text = sdk_json_str(par, "timeExpires");
  if (!uri || uri[0] != '/' || !id) {
    rc = oci_fail(&t, err, STORE_E_INTERNAL,
                  "the pre-authenticated request came back without %s",
                  id ? "an accessUri" : "an id");
    goto out;
  }
  if (sdk_buf_printf(&full, "%s%s", h->endpoint, uri)) {
    rc = oci_nomem(&t, err);
    goto out;
  }
  if (full.len >= cap) {
    rc = oci_fail(&t, err, STORE_E_INVALID,
                  "the URL (%zu bytes) does not fit in %zu", full.len, cap);
    goto out;
  }
  memcpy(out_url, full.data, full.len + 1);
  if (out && STORE_HAS_FIELD(store_presign_result, id, out->struct_size)) {
    until_ns = until_text ? sdk_time_parse_iso8601(until_text)
                          : STORE_MTIME_UNKNOWN;
    out->expires_at = until_ns == STORE_MTIME_UNKNOWN
                        ? time(NULL) + (time_t)skew + (time_t)expires
                        : until_ns / 1000000000;
    snprintf(out->id, sizeof(out->id), "%s", id);
  }
out:
  if (full.data)
    memset(full.data, 0, full.cap);
  sdk_buf_free(&full);
  sdk_buf_free(&u);
  sdk_request_free(r);
  sdk_response_free(resp);
  json_decref(body);
  json_decref(par);
  free(text);
  return rc;
}
