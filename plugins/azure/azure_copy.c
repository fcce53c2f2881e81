/*
** azure_copy.c -- server-side copy within the account: Copy Blob with the
** source's URL (carrying the SAS token when that is the credential), then
** waiting while x-ms-copy-status is "pending".
**
** Metadata: without STORE_COPY_REPLACE_METADATA Copy Blob takes the
** source's metadata and content type along. With it, the given metadata
** goes with the Copy Blob request, except none at all, which Azure reads
** as "keep the source's": then Set Blob Metadata clears it afterwards.
** Copy Blob cannot set a content type, so Set Blob Properties does, with
** the other content headers re-sent (Azure would clear them). Those
** follow-ups make a replacing copy two or three requests, not atomic:
** each is sent If-Match the ETag the one before answered, so it changes
** the copy, never an object another writer put there in between (that
** is PRECONDITION), and the last ETag is the finished copy's, which
** blob_copy_checked reports. A follow-up refused so may have been
** applied already, its answer lost and the retry meeting the ETag it
** made: the blob is headed once and taken when it is what the follow-up
** makes of this copy (followup_refused).
** The CRC-32C record (azure_meta.c) is metadata too: a copy takes it
** along, a replacing copy leaves it out (never set with other metadata).
*/
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "azure.h"
#include "sdk_util.h"

#define POLL_FIRST_MS 50
#define POLL_MAX_MS   2000

static void sleep_ms(uint32_t ms)
{
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

  nanosleep(&ts, NULL);
}

/* etag (cap 128) := the response's ETag, "" when it has none (or one
 * too long to be reported whole). */
static void keep_etag(const sdk_response *resp, char *etag)
{
  const char *v = sdk_response_header(resp, "ETag");

  if (!v || snprintf(etag, 128, "%s", v) >= 128)
    etag[0] = 0;
}

/* The copy was left running when we stopped waiting: ask Azure to abort
 * it, best effort (the destination then does not exist). */
static void abort_copy(store_handle *h, const az_target *t, const char *id)
{
  const store_kv hdr[] = {{"x-ms-copy-action", "abort"}};
  sdk_buf q = SDK_BUF_INIT;

  if (!sdk_buf_puts(&q, "comp=copy&copyid=") &&
      !sdk_uri_encode(&q, id, strlen(id), 0))
    az_exec(h, t, "PUT", sdk_buf_str(&q), hdr, 1, NULL, NULL);
  sdk_buf_free(&q);
}

/* Wait until the copy `id` onto t is no longer pending; etag (cap 128)
 * gets the ETag of the blob the copy finished as (the head that saw it
 * finish, still under this copy's id), "" when it has none. */
static int32_t wait_copy(store_handle *h, const az_target *t, const char *id,
                         char *etag, store_error *err)
{
  uint32_t ms = POLL_FIRST_MS;
  sdk_response *resp = NULL;
  const char *status, *cur;
  az_props p = {0};
  int32_t rc = STORE_OK;

  for (;;) {
    if (sdk_host_cancelled(h->host)) {
      abort_copy(h, t, id);
      rc = az_fail(t, err, STORE_E_ABORTED, "cancelled while the server "
                   "copied; the copy was aborted");
      goto out;
    }
    sleep_ms(ms);
    ms = ms * 2 > POLL_MAX_MS ? POLL_MAX_MS : ms * 2;
    rc = az_head(h, t, &resp, &p, err);
    if (rc)
      goto out;
    status = sdk_response_header(resp, "x-ms-copy-status");
    cur = sdk_response_header(resp, "x-ms-copy-id");
    if (!cur || strcmp(cur, id)) {
      rc = az_fail(t, err, STORE_E_PRECONDITION,
                   "another copy or put replaced the destination while the "
                   "server copied");
      goto out;
    }
    if (!status || strcmp(status, "pending"))
      break;
    az_props_free(&p);
    sdk_response_free(resp);
    resp = NULL;
  }
  /* The description may quote the source URL: only the status is told. */
  if (strcmp(status, "success"))
    rc = az_fail(t, err, STORE_E_IO, "the server-side copy ended '%.32s'",
                 status);
  else
    keep_etag(resp, etag);
out:
  az_props_free(&p);
  sdk_response_free(resp);
  return rc;
}

/* A follow-up found the blob another writer's: it is left alone. */
static int32_t replaced(const az_target *t, const char *what,
                        store_error *err)
{
  return az_fail(t, err, STORE_E_PRECONDITION, "the copy was made, but "
                 "another writer replaced the blob before %s; it was left "
                 "alone", what);
}

/* The content type and the other content headers as set_content_type
 * makes them: before is the copy's head before it. */
static int made_content_type(const az_props *p, const az_props *before,
                             const char *ct)
{
  const char *t = p->e.content_type;

  return t && !strcmp(t, ct) && p->e.size == before->e.size &&
         !strcmp(p->md5, before->md5);
}

/* The same user metadata and CRC-32C record as before: what Set Blob
 * Properties leaves as it was. */
static int same_metadata(const az_props *p, const az_props *before)
{
  size_t i, j;

  if (p->nmd != before->nmd ||
      (p->e.checksums & STORE_CKSUM_CRC32C) !=
          (before->e.checksums & STORE_CKSUM_CRC32C) ||
      ((p->e.checksums & STORE_CKSUM_CRC32C) &&
       p->e.crc32c != before->e.crc32c))
    return 0;
  for (i = 0; i < p->nmd; i++) {
    for (j = 0; j < before->nmd; j++)
      if (!strcasecmp(p->md[i].key, before->md[j].key))
        break;
    if (j == before->nmd || strcmp(p->md[i].value, before->md[j].value))
      return 0;
  }
  return 1;
}

/* The follow-up `what` ("its metadata could be cleared") sent If-Match
 * etag was refused: it was applied once already and its answer lost (a
 * retry then meets the ETag it made), or another writer replaced the
 * blob. One head tells: a blob still of this copy (x-ms-copy-id id) that
 * is as the follow-up makes it -- without metadata (before NULL), or
 * with content type ct and before's size and Content-MD5 -- is taken,
 * etag becoming its ETag. Set Blob Properties drops the copy properties
 * on Azure (Azurite keeps them), but so do Put Blob and Put Block List:
 * a blob without a copy id is taken only when its Content-MD5 (which
 * names the bytes) is known and before's, and its metadata before's. A
 * blob gone is another writer's doing too. */
static int32_t followup_refused(store_handle *h, const az_target *t,
                                const char *id, const az_props *before,
                                const char *ct, const char *what,
                                char *etag, store_error *err)
{
  sdk_response *resp = NULL;
  az_props p = {0};
  const char *cur;
  int made;
  int32_t rc;

  rc = az_head(h, t, &resp, &p, err);
  if (rc == STORE_E_NOT_FOUND) {
    sdk_error_clear(err);
    rc = replaced(t, what, err);
  }
  if (rc)
    goto out;
  cur = sdk_response_header(resp, "x-ms-copy-id");
  if (before)
    made = made_content_type(&p, before, ct) &&
           (cur ? id && !strcmp(cur, id)
                : before->md5[0] && same_metadata(&p, before));
  else
    made = p.nmd == 0 && !(p.e.checksums & STORE_CKSUM_CRC32C) && cur &&
           id && !strcmp(cur, id);
  if (made) {
    /* The 412 was this follow-up's own earlier success. */
    sdk_error_clear(err);
    keep_etag(resp, etag);
  } else {
    rc = replaced(t, what, err);
  }
out:
  az_props_free(&p);
  sdk_response_free(resp);
  return rc;
}

/* Set Blob Properties with a new content type; the content headers that
 * are not given would be cleared, so the current ones go along. Only
 * while the blob's ETag is etag (when known): the copy `id`, not an
 * object another writer put there since; etag then becomes the new one. */
static int32_t set_content_type(store_handle *h, const az_target *t,
                                const char *id, const char *ct, char *etag,
                                store_error *err)
{
  static const char *const keep[][2] = {
    {"Content-MD5", "x-ms-blob-content-md5"},
    {"Content-Encoding", "x-ms-blob-content-encoding"},
    {"Content-Language", "x-ms-blob-content-language"},
    {"Cache-Control", "x-ms-blob-cache-control"},
    {"Content-Disposition", "x-ms-blob-content-disposition"},
  };
  static const char what[] = "its content type could be set";
  store_kv hdrs[2 + sizeof(keep) / sizeof(keep[0])];
  sdk_response *resp = NULL, *set = NULL;
  az_props p = {0};
  size_t n = 0;
  int32_t rc;

  ct = ct ? ct : AZ_DEFAULT_CT;
  rc = az_head(h, t, &resp, &p, err);
  if (rc)
    goto out;
  /* Already another writer's: its content headers are not the copy's. */
  if (etag[0] && (!p.e.etag || strcmp(p.e.etag, etag))) {
    rc = replaced(t, what, err);
    goto out;
  }
  hdrs[n].key = "x-ms-blob-content-type";
  hdrs[n++].value = ct;
  for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
    const char *v = sdk_response_header(resp, keep[i][0]);
    if (v && *v) {
      hdrs[n].key = keep[i][1];
      hdrs[n++].value = v;
    }
  }
  if (etag[0]) {
    hdrs[n].key = "If-Match";
    hdrs[n++].value = etag;
  }
  rc = az_exec(h, t, "PUT", "comp=properties", hdrs, n, &set, err);
  if (!rc)
    keep_etag(set, etag);
  else if (rc == STORE_E_PRECONDITION && etag[0])
    rc = followup_refused(h, t, id, &p, ct, what, etag, err);
out:
  az_props_free(&p);
  sdk_response_free(resp);
  sdk_response_free(set);
  return rc;
}

/* Set Blob Metadata with none: clears it, while the blob's ETag is etag
 * (when known): the copy `id`; etag then becomes the new one. */
static int32_t clear_metadata(store_handle *h, const az_target *t,
                              const char *id, char *etag, store_error *err)
{
  const store_kv cond[] = {{"If-Match", etag}};
  sdk_response *resp = NULL;
  int32_t rc = az_exec(h, t, "PUT", "comp=metadata", cond, etag[0] ? 1 : 0,
                       &resp, err);

  if (!rc)
    keep_etag(resp, etag);
  else if (rc == STORE_E_PRECONDITION && etag[0])
    rc = followup_refused(h, t, id, NULL, NULL,
                          "its metadata could be cleared", etag, err);
  sdk_response_free(resp);
  return rc;
}

/* out: the ETag of the finished copy as the answers say it (Copy Blob's,
 * or the head that saw a pending copy finish, then each follow-up's). */
int32_t az_blob_copy_checked(store_handle *h, const char *src_container,
                             const char *src_key, const char *dst_container,
                             const char *dst_key,
                             const store_copy_opts *opts,
                             store_put_result *out, store_error *err)
{
  uint32_t flags = STORE_OPT(opts, store_copy_opts, flags, 0);
  int replace = (flags & STORE_COPY_REPLACE_METADATA) != 0;
  const char *ct = STORE_OPT(opts, store_copy_opts, content_type, NULL);
  const store_kv *md = STORE_OPT(opts, store_copy_opts, metadata, NULL);
  size_t nmd = replace ? STORE_OPT(opts, store_copy_opts, nmetadata, 0) : 0;
  static const char none[] = "";
  char op[200];
  az_target src = {"copy", src_container, src_key,
                   STORE_OPT(opts, store_copy_opts, src_snapshot_id, NULL)};
  az_target dst = {op, dst_container, dst_key, NULL};
  sdk_buf url = SDK_BUF_INIT;
  sdk_response *resp = NULL;
  sdk_request *r = NULL;
  const char *status, *id;
  char etag[128] = "";
  int32_t rc;

  /* Messages name both ends: "copy from 'c/k' to blob 'c2/k2': ...". */
  snprintf(op, sizeof(op), "copy from '%.64s/%.96s'%s to",
           src_container ? src_container : none, src_key ? src_key : none,
           src.snapshot ? " (a snapshot)" : none);
  rc = az_check_key(&src, err);
  if (rc)
    goto out;
  rc = az_check_key(&dst, err);
  if (rc)
    goto out;
  if (replace) {
    rc = az_meta_check(&dst, ct, md, nmd, err);
    if (rc)
      goto out;
  }
  rc = az_url(h, &src, NULL, &url, err);
  if (rc)
    goto out;
  rc = az_request(h, &dst, "PUT", NULL, &r, err);
  if (rc)
    goto out;
  rc = az_header(&dst, r, "x-ms-copy-source", sdk_buf_str(&url), err);
  if (rc)
    goto out;
  rc = az_meta_headers(&dst, r, md, nmd, err);
  if (rc)
    goto out;
  sdk_request_body_mem(r, "", 0);
  rc = az_perform(h, &dst, r, &resp, err);
  if (rc == STORE_E_NOT_FOUND && err) {
    /* The service does not say which end is missing: say what it can be. */
    char code[STORE_ERR_CODE_SIZE];
    snprintf(code, sizeof(code), "%s", err->provider_code);
    rc = az_fail(&dst, err, rc, "%s (%s)",
                 strcmp(code, "ContainerNotFound")
                   ? "the source blob is missing"
                   : "the source's or the destination's container is missing",
                 code);
  }
  if (rc)
    goto out;
  status = sdk_response_header(resp, "x-ms-copy-status");
  id = sdk_response_header(resp, "x-ms-copy-id");
  keep_etag(resp, etag);
  if (status && !strcmp(status, "pending")) {
    rc = id ? wait_copy(h, &dst, id, etag, err)
            : az_fail(&dst, err, STORE_E_INTERNAL,
                      "a pending copy without x-ms-copy-id");
    if (rc)
      goto out;
  } else if (status && strcmp(status, "success")) {
    rc = az_fail(&dst, err, STORE_E_IO, "the server-side copy ended "
                 "'%.32s'", status);
    goto out;
  }
  if (replace && nmd == 0) {
    rc = clear_metadata(h, &dst, id, etag, err);
    if (rc)
      goto out;
  }
  if (replace)
    rc = set_content_type(h, &dst, id, ct, etag, err);
  if (!rc && out && STORE_HAS_FIELD(store_put_result, etag, out->struct_size))
    snprintf(out->etag, sizeof(out->etag), "%s", etag);
out:
  /* The source URL may carry the SAS token. */
  if (url.data)
    memset(url.data, 0, url.cap);
  sdk_buf_free(&url);
  sdk_response_free(resp);
  sdk_request_free(r);
  return rc;
}

int32_t az_blob_copy(store_handle *h, const char *src_container,
                     const char *src_key, const char *dst_container,
                     const char *dst_key, const store_copy_opts *opts,
                     store_error *err)
{
  return az_blob_copy_checked(h, src_container, src_key, dst_container,
                              dst_key, opts, NULL, err);
}
