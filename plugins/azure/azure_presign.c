/*
** azure_presign.c -- blob_presign: a Blob service SAS (sr=b) signed with
** the account key, appended to the blob's URL: read (sp=r) for GET,
** create and write (sp=cw) for PUT. Nothing is sent. A service configured
** with a SAS token has no key to sign one with: unsupported.
*/
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "azure.h"
#include "sdk_azure.h"
#include "sdk_presign.h"

/* The caller owns out_url and out. Our copies of the SAS token and of
 * the URL carrying it are zeroed before they are freed. */
int32_t az_blob_presign(store_handle *h, const char *container,
                        const char *key, const store_presign_opts *opts,
                        char *out_url, size_t cap, store_presign_result *out,
                        store_error *err)
{
  sdk_presign_req q;
  az_target t = {"presign", container, key, NULL};
  sdk_buf url = SDK_BUF_INIT, token = SDK_BUF_INIT;
  sdk_azure_blob_sas p;
  char se[32], why[96];
  struct tm tm;
  time_t until;
  int32_t rc;

  sdk_presign_read(opts, &q);
  rc = az_check_key(&t, err);
  if (rc)
    return rc;
  /* A service SAS has no field binding a content type (rsct only sets
   * the type of a GET's answer): refused rather than left unenforced. */
  if (q.content_type)
    return az_fail(&t, err, STORE_E_UNSUPPORTED,
                   "a SAS cannot bind a Content-Type (presign without it, "
                   "and send the type with the upload)");
  if (!h->key)
    return az_fail(&t, err, STORE_E_UNSUPPORTED,
                   "a service SAS is signed with the account key, and this "
                   "service is configured with a SAS token (set 'key' or a "
                   "connection string with AccountKey)");
  until = time(NULL) + (time_t)atomic_load(&h->clock_offset) + q.expires;
  if (!gmtime_r(&until, &tm) ||
      !strftime(se, sizeof(se), "%Y-%m-%dT%H:%M:%SZ", &tm))
    return az_fail(&t, err, STORE_E_INVALID,
                   "a lifetime of %u seconds is past any date", q.expires);
  memset(&p, 0, sizeof(p));
  p.version = AZ_API_VERSION;
  p.resource = "b";
  p.container = container;
  p.blob = key;
  p.permissions = q.method == STORE_PRESIGN_PUT ? "cw" : "r";
  p.expiry = se;
  /* A handle keeps a key or a SAS token, never both: the URL is bare. */
  rc = az_url(h, &t, NULL, &url, err);
  if (rc)
    goto out;
  if (sdk_azure_blob_sas_token(&p, h->account, h->key, h->keylen, NULL,
                               &token) ||
      sdk_azure_url_add_sas(&url, sdk_buf_str(&token))) {
    rc = az_nomem(&t, err);
    goto out;
  }
  rc = sdk_presign_finish(&url, out_url, cap, (int64_t)until, NULL, out, why,
                          sizeof(why));
  if (rc) {
    az_fail(&t, err, rc, "%s", why);
    goto out;
  }
  /* Put Blob wants the blob type. */
  if (out && q.method == STORE_PRESIGN_PUT &&
      STORE_HAS_FIELD(store_presign_result, headers, out->struct_size))
    snprintf(out->headers, sizeof(out->headers),
             "x-ms-blob-type: BlockBlob\n");
out:
  sdk_presign_wipe(&url);
  sdk_presign_wipe(&token);
  return rc;
}
