/*
** oci_presign.c -- blob_presign: an Object Storage pre-authenticated
** request (CreatePreauthenticatedRequest: POST /n/NS/b/BUCKET/p/) for the
** one object, ObjectRead for GET, ObjectWrite for PUT, expiring then. Unlike
** a signed URL it is a grant kept by the service: its id is reported so
** that it can be deleted before it expires (DELETE /n/NS/b/BUCKET/p/ID).
** The URL is the endpoint and the accessUri the service answers, which
** carries the grant's token.
**
** A grant made but not handed to the caller would live on unseen: the
** create is not retried after an answer that may have been lost (only
** after a 429 or 503, which say nothing was done), and a grant whose URL
** cannot be returned is deleted again (best effort: its id is in the
** message when that fails too).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "oci.h"
#include "sdk_json.h"
#include "sdk_presign.h"

/* The grant, named after what it is for (names need not be unique). */
#define OCI_PAR_NAME "xtstore-presign"

/* Best-effort DELETE of the grant id under par_url ("...b/BUCKET/p/"):
 * 0 when the grant is gone. */
static int drop_par(store_handle *h, const oci_target *t, const char *par_url,
                    const char *id)
{
  sdk_buf u = SDK_BUF_INIT;
  sdk_request *r = NULL;
  store_error derr;
  int32_t rc = STORE_E_NOMEM;

  memset(&derr, 0, sizeof(derr));
  derr.struct_size = sizeof(derr);
  if (!sdk_buf_puts(&u, par_url) && !sdk_uri_encode(&u, id, strlen(id), 0) &&
      (r = sdk_request_new("DELETE", u.data)))
    rc = oci_perform(h, t, r, 0, NULL, &derr);
  sdk_request_free(r);
  sdk_buf_free(&u);
  return rc;
}

/* The caller owns out_url and out; the PAR stays the service's until it
 * expires or is deleted by its id. Our copy of the URL (with the grant's
 * token) is zeroed before it is freed. */
int32_t oci_blob_presign(store_handle *h, const char *bucket, const char *key,
                         const store_presign_opts *opts, char *out_url,
                         size_t cap, store_presign_result *out,
                         store_error *err)
{
  sdk_presign_req q;
  oci_target t = {"presign", bucket, key, NULL};
  sdk_buf u = SDK_BUF_INIT, full = SDK_BUF_INIT;
  sdk_request *r = NULL;
  sdk_response *resp = NULL;
  json_t *body = NULL, *par = NULL;
  const char *uri, *id, *until_text;
  char until[21], why[96], *ns, *text = NULL;
  int64_t skew, until_ns;
  int32_t rc;

  sdk_presign_read(opts, &q);
  rc = oci_check_key(&t, err);
  if (rc)
    return rc;
  /* A PAR has no field binding a content type: refused rather than left
   * unenforced. */
  if (q.content_type)
    return oci_fail(&t, err, STORE_E_UNSUPPORTED,
                    "a pre-authenticated request cannot bind a Content-Type "
                    "(presign without it, and send the type with the "
                    "upload)");
  pthread_mutex_lock(&h->mu);
  skew = h->skew;
  pthread_mutex_unlock(&h->mu);
  sdk_time_format_iso8601(time(NULL) + (time_t)skew + (time_t)q.expires,
                          until);
  if (!until[0])
    return oci_fail(&t, err, STORE_E_INVALID,
                    "a lifetime of %u seconds is past any date", q.expires);
  rc = oci_namespace(h, &ns, err);
  if (rc)
    return rc;
  body = json_pack("{s:s, s:s, s:s, s:s}", "name", OCI_PAR_NAME,
                   "objectName", key, "accessType",
                   q.method == STORE_PRESIGN_PUT ? "ObjectWrite"
                                                 : "ObjectRead",
                   "timeExpires", until);
  text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  if (!text || sdk_buf_printf(&u, "%s/n/%s/b/", h->endpoint, ns) ||
      sdk_uri_encode(&u, bucket, strlen(bucket), 0) ||
      sdk_buf_puts(&u, "/p/") || !(r = sdk_request_new("POST", u.data))) {
    rc = oci_nomem(&t, err);
    goto out;
  }
  sdk_request_body_mem(r, text, strlen(text));
  sdk_request_fresh_connection(r); /* a repeat would be a second grant */
  rc = oci_header(&t, r, "Content-Type", "application/json", err);
  if (!rc) {
    rc = oci_perform(h, &t, r, 0, &resp, err);
    if (rc && err && err->http_status != 429 && err->http_status != 503)
      err->flags &= ~STORE_ERR_RETRYABLE;
  }
  if (!rc)
    rc = oci_json(&t, resp, &par, err);
  if (rc)
    goto out;
  uri = sdk_json_str(par, "accessUri");
  id = sdk_json_str(par, "id");
  until_text = sdk_json_str(par, "timeExpires");
  if (!id) {
    rc = oci_fail(&t, err, STORE_E_INTERNAL,
                  "the pre-authenticated request came back without an id");
    goto out;
  }
  until_ns = until_text ? sdk_time_parse_iso8601(until_text)
                        : STORE_MTIME_UNKNOWN;
  if (!uri || uri[0] != '/')
    rc = STORE_E_INTERNAL;
  else if (sdk_buf_printf(&full, "%s%s", h->endpoint, uri))
    rc = STORE_E_NOMEM;
  else
    rc = sdk_presign_finish(&full, out_url, cap,
                            until_ns == STORE_MTIME_UNKNOWN
                              ? time(NULL) + (time_t)skew + (time_t)q.expires
                              : until_ns / 1000000000,
                            NULL, out, why, sizeof(why));
  if (rc) {
    if (rc == STORE_E_INTERNAL)
      snprintf(why, sizeof(why), "the pre-authenticated request came back "
               "without an accessUri");
    else if (rc == STORE_E_NOMEM)
      snprintf(why, sizeof(why), "out of memory");
    if (drop_par(h, &t, u.data, id))
      oci_fail(&t, err, rc, "%s; the grant %s could not be deleted: delete "
               "it", why, id);
    else
      oci_fail(&t, err, rc, "%s (the grant was deleted)", why);
    goto out;
  }
  if (out && STORE_HAS_FIELD(store_presign_result, id, out->struct_size))
    snprintf(out->id, sizeof(out->id), "%s", id);
out:
  sdk_presign_wipe(&full);
  sdk_buf_free(&u);
  sdk_request_free(r);
  sdk_response_free(resp);
  json_decref(body);
  json_decref(par);
  free(text);
  return rc;
}
