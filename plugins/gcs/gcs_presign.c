/*
** gcs_presign.c -- blob_presign: a V4 signed URL (GOOG4-RSA-SHA256) of the
** XML API's path-style object URL, ENDPOINT/BUCKET/OBJECT, signed by the
** SDK (sdk_gcsv4) with the service account's own key. Nothing is sent.
** Only a service account holds a key: user credentials, a static token or
** anonymous access cannot sign one.
*/
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gcs.h"
#include "sdk_gcsv4.h"
#include "sdk_presign.h"

/* Writes only into the caller's out_url and out; the V4 URL is first
 * signed into a buffer here that is zeroed on the way out (whoever holds
 * the URL may use it). */
int32_t gcs_blob_presign(store_handle *h, const char *container,
                         const char *key, const store_presign_opts *opts,
                         char *out_url, size_t cap, store_presign_result *out,
                         store_error *err)
{
  sdk_presign_req q;
  gcs_target t = {"presign", container, key, NULL};
  sdk_buf url = SDK_BUF_INIT, host = SDK_BUF_INIT, path = SDK_BUF_INIT;
  const sdk_rsa_key *rsa;
  const char *email, *scheme_end, *auth, *base;
  store_kv hdr;
  sdk_gcsv4_url u;
  char why[STORE_ERR_MSG_SIZE];
  time_t now = time(NULL);
  int32_t rc;

  sdk_presign_read(opts, &q);
  rc = gcs_check_key(&t, err);
  if (rc)
    return rc;
  if (!h->auth || sdk_oauth_signer(h->auth, &email, &rsa))
    return gcs_fail(&t, err, STORE_E_UNSUPPORTED,
                    "a V4 signed URL is signed with a service account's key, "
                    "and this service uses %s (give it a service account "
                    "file)", h->cred_what ? h->cred_what : "no credentials");
  if (q.expires < 1 || q.expires > SDK_GCSV4_MAX_EXPIRES)
    return gcs_fail(&t, err, STORE_E_INVALID,
                    "a signed URL lives 1 second to 7 days, not %u seconds",
                    q.expires);
  /* scheme://host[:port][/base] of the endpoint; the object's path after
   * it. */
  scheme_end = strstr(h->endpoint, "://");
  auth = scheme_end ? scheme_end + 3 : h->endpoint;
  base = auth + strcspn(auth, "/");
  if (sdk_buf_append(&host, auth, (size_t)(base - auth)) ||
      sdk_buf_printf(&path, "%s/%s/%s", base, container, key)) {
    rc = gcs_nomem(&t, err);
    goto out;
  }
  memset(&u, 0, sizeof(u));
  u.struct_size = sizeof(u);
  u.method = q.verb;
  u.scheme = scheme_end && !strncmp(h->endpoint, "http:", 5) ? "http" : NULL;
  u.host = sdk_buf_str(&host);
  u.path = sdk_buf_str(&path);
  u.client_email = email;
  u.timestamp = now;
  u.expires = q.expires;
  if (q.content_type) {
    hdr = (store_kv){"content-type", q.content_type};
    u.headers = &hdr;
    u.nheaders = 1;
  }
  rc = sdk_gcsv4_sign_url(rsa, &u, &url, NULL, NULL, err);
  if (rc) {
    snprintf(why, sizeof(why), "%s", err->message);
    gcs_fail(&t, err, rc, "%s", why);
    goto out;
  }
  rc = sdk_presign_finish(&url, out_url, cap, (int64_t)now + q.expires,
                          q.content_type, out, why, sizeof(why));
  if (rc)
    gcs_fail(&t, err, rc, "%s", why);
out:
  sdk_presign_wipe(&url);
  sdk_buf_free(&host);
  sdk_buf_free(&path);
  return rc;
}
