/*
** gcs_blob.c -- object put (gcs_upload.c does the sending), get (alt=media
** with Range, checked against x-goog-hash), head (the object resource),
** metadata replacement (PATCH) and the DELETE of one generation.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "gcs.h"

int32_t gcs_blob_put(store_handle *h, const char *bucket, const char *key,
                     const store_put_opts *opts, store_read_fn src,
                     void *src_ctx, store_put_result *out, store_error *err)
{
  gcs_target t = {"put", bucket, key, NULL};
  int64_t len = STORE_OPT(opts, store_put_opts, content_length, -1);
  int32_t rc;

  rc = gcs_check_dest(&t, err);
  if (rc)
    return rc;
  if (!src || len < -1)
    return gcs_fail(&t, err, STORE_E_INVALID, "no read callback, or "
                    "content_length %" PRId64 " below -1", len);
  rc = gcs_meta_check(&t, STORE_OPT(opts, store_put_opts, metadata, NULL),
                      STORE_OPT(opts, store_put_opts, nmetadata, 0), err);
  if (rc)
    return rc;
  return gcs_upload(h, &t, opts, src, src_ctx, out, err);
}

/* ---- get ---------------------------------------------------------------- */

/* Why a get stopped early, so the message can say. */
#define STOP_SINK  1
#define STOP_RANGE 2
#define STOP_NOMEM 3

typedef struct get_ctx {
  sdk_range range;
  store_write_fn sink;
  void *sink_ctx;
  uint32_t crc;                 /* of the bytes delivered                 */
  uint32_t hashes;              /* STORE_CKSUM_* in the response          */
  uint32_t want_crc;
  unsigned char want_md5[16];
  EVP_MD_CTX *md5;              /* whole reads with an MD5 and no CRC     */
  int whole;
  int stop;
} get_ctx;

static int32_t get_headers(void *ud, const sdk_response *resp)
{
  get_ctx *g = ud;

  g->hashes = gcs_goog_hash(resp, &g->want_crc, g->want_md5);
  if (g->whole && (g->hashes & (STORE_CKSUM_CRC32C | STORE_CKSUM_MD5)) ==
                    STORE_CKSUM_MD5 && !g->md5) {
    g->md5 = EVP_MD_CTX_new();
    if (!g->md5 || !EVP_DigestInit_ex(g->md5, EVP_md5(), NULL)) {
      g->stop = STOP_NOMEM;
      return 1;
    }
  }
  if (sdk_range_start(&g->range, resp)) {
    g->stop = STOP_RANGE;
    return 1;
  }
  return 0;
}

/* Behind sdk_range: sums what goes to the caller's sink. */
static int32_t get_write(void *ud, const void *buf, size_t len)
{
  get_ctx *g = ud;

  g->crc = sdk_crc32c(g->crc, buf, len);
  if (g->md5 && !EVP_DigestUpdate(g->md5, buf, len)) {
    g->stop = STOP_NOMEM;
    return 1;
  }
  if (g->sink(g->sink_ctx, buf, len)) {
    g->stop = STOP_SINK;
    return 1;
  }
  return 0;
}

/* The entry first (the object resource: type, metadata, checksums), then
 * the bytes of that very generation. */
static int32_t get_entry(store_handle *h, gcs_target *t,
                         const store_get_opts *opts, char *gen, size_t cap,
                         store_error *err)
{
  store_entry_fn cb = STORE_OPT(opts, store_get_opts, on_entry, NULL);
  json_t *res = NULL;
  gcs_obj o;
  int32_t rc;

  gcs_obj_init(&o);
  rc = gcs_obj_get(h, t, &res, &o, err);
  if (rc)
    goto out;
  snprintf(gen, cap, "%s", o.generation ? o.generation : "");
  if (cb(STORE_OPT(opts, store_get_opts, on_entry_ctx, NULL), &o.e))
    rc = gcs_fail(t, err, STORE_E_ABORTED, "the entry callback stopped the "
                  "download");
out:
  gcs_obj_free(&o);
  json_decref(res);
  return rc;
}

int32_t gcs_blob_get(store_handle *h, const char *bucket, const char *key,
                     const store_get_opts *opts, store_write_fn sink,
                     void *sink_ctx, store_error *err)
{
  gcs_target t = {"get", bucket, key,
                  STORE_OPT(opts, store_get_opts, snapshot_id, NULL)};
  const char *if_match = STORE_OPT(opts, store_get_opts, if_match, NULL);
  int ranged = STORE_OPT(opts, store_get_opts, flags, 0) & STORE_GET_RANGE;
  uint64_t off = ranged ? STORE_OPT(opts, store_get_opts, offset, 0) : 0;
  uint64_t len = ranged ? STORE_OPT(opts, store_get_opts, length, 0) : 0;
  sdk_buf url = SDK_BUF_INIT;
  sdk_request *r = NULL;
  char range[SDK_RANGE_HEADER_SIZE], gen[32] = "";
  get_ctx g;
  int32_t rc;

  memset(&g, 0, sizeof(g));
  rc = gcs_check_key(&t, err);
  if (rc)
    goto out;
  if (!sink) {
    rc = gcs_fail(&t, err, STORE_E_INVALID, "no write callback");
    goto out;
  }
  if (STORE_OPT(opts, store_get_opts, on_entry, NULL)) {
    rc = get_entry(h, &t, opts, gen, sizeof(gen), err);
    if (rc)
      goto out;
  }
  g.sink = sink;
  g.sink_ctx = sink_ctx;
  g.whole = !ranged;
  sdk_range_init(&g.range, off, len, get_write, &g);
  rc = gcs_url(h, &t, GCS_API, &url, err);
  if (!rc)
    rc = gcs_query(&t, &url, "alt", "media", err);
  if (!rc && (t.generation || *gen))
    rc = gcs_query(&t, &url, "generation", t.generation ? t.generation : gen,
                   err);
  if (!rc)
    rc = gcs_query_conditions(&t, &url, 0, if_match, err);
  if (rc)
    goto out;
  if (!(r = sdk_request_new("GET", url.data))) {
    rc = gcs_nomem(&t, err);
    goto out;
  }
  /* The stored bytes, as gsutil asks: without this GCS decompresses a
   * gzip object, and neither x-goog-hash nor the size describe what comes. */
  rc = gcs_header(&t, r, "Accept-Encoding", "gzip", err);
  if (rc)
    goto out;
  if (ranged) {
    sdk_range_header(off, len, range, sizeof(range));
    rc = gcs_header(&t, r, "Range", range, err);
    if (rc)
      goto out;
  }
  sdk_request_on_headers(r, get_headers, &g);
  sdk_request_sink(r, sdk_range_write, &g.range);
  rc = gcs_perform(h, &t, r, 1, NULL, err);
  if (rc && g.range.done) {
    sdk_error_clear(err);
    rc = STORE_OK;
  }
  if (rc && g.stop == STOP_SINK)
    rc = gcs_fail(&t, err, STORE_E_ABORTED,
                  "the write callback stopped the download");
  else if (rc && g.stop == STOP_RANGE)
    rc = gcs_fail(&t, err, STORE_E_INTERNAL, "the service answered another "
                  "range than the one asked for");
  else if (rc && g.stop == STOP_NOMEM)
    rc = gcs_fail(&t, err, STORE_E_NOMEM, "no MD5 context");
  if (rc)
    goto out;
  /* A whole object read is checked against the service's CRC-32C. Not
   * retryable here: the sink has taken the bytes, and the host's replay
   * would resume after them; the caller decides (as for the host's own
   * check, blob.c's get_verify). */
  if (!ranged && (g.hashes & STORE_CKSUM_CRC32C) && g.crc != g.want_crc)
    rc = gcs_fail(&t, err, STORE_E_IO, "the %" PRIu64 " bytes received have "
                  "CRC-32C %08" PRIx32 ", not the %08" PRIx32 " the "
                  "service's x-goog-hash gives", g.range.delivered, g.crc,
                  g.want_crc);
  /* Without a CRC-32C (GCS objects have one; other servers may not), the
   * MD5, the same way. */
  if (!rc && g.md5) {
    unsigned char md5[EVP_MAX_MD_SIZE];
    if (!EVP_DigestFinal_ex(g.md5, md5, NULL))
      rc = gcs_fail(&t, err, STORE_E_NOMEM, "no MD5 of the bytes received");
    else if (memcmp(md5, g.want_md5, 16))
      rc = gcs_fail(&t, err, STORE_E_IO, "the %" PRIu64 " bytes received "
                    "have another MD5 than the service's x-goog-hash gives",
                    g.range.delivered);
  }
out:
  EVP_MD_CTX_free(g.md5);
  sdk_request_free(r);
  sdk_buf_free(&url);
  return rc;
}

/* ---- head, metadata, delete --------------------------------------------- */

int32_t gcs_blob_head(store_handle *h, const char *bucket, const char *key,
                      const store_head_opts *opts, store_entry_fn cb,
                      void *cb_ctx, store_error *err)
{
  gcs_target t = {"head", bucket, key,
                  STORE_OPT(opts, store_head_opts, snapshot_id, NULL)};
  json_t *res = NULL;
  gcs_obj o;
  int32_t rc;

  gcs_obj_init(&o);
  rc = gcs_check_key(&t, err);
  if (rc)
    goto out;
  if (!cb) {
    rc = gcs_fail(&t, err, STORE_E_INVALID, "no entry callback");
    goto out;
  }
  rc = gcs_obj_get(h, &t, &res, &o, err);
  if (rc)
    goto out;
  if (cb(cb_ctx, &o.e))
    rc = gcs_fail(&t, err, STORE_E_ABORTED, "the entry callback stopped");
out:
  gcs_obj_free(&o);
  json_decref(res);
  return rc;
}

/* PATCH merges metadata: the new map, and null for every key to drop
 * (except the snapshot mark, which is ours). Guarded by the
 * metageneration it was read at, so that a concurrent change is not
 * undone: a lost race is a retryable PRECONDITION, and the host's retry
 * reads and patches again (gcs_retry_race). */
static int32_t patch_metadata(store_handle *h, const gcs_target *t,
                              const store_kv *md, size_t n, store_error *err)
{
  json_t *res = NULL, *body = NULL, *map = NULL;
  sdk_buf url = SDK_BUF_INIT;
  char mg[24];
  gcs_obj o;
  int32_t rc;

  gcs_obj_init(&o);
  rc = gcs_obj_get(h, t, &res, &o, err);
  if (rc)
    goto out;
  body = json_object();
  map = json_object();
  if (!body || !map || json_object_set(body, "metadata", map)) {
    rc = gcs_nomem(t, err);
    goto out;
  }
  for (size_t i = 0; i < o.nmd; i++)
    if (json_object_set_new(map, o.md[i].key, json_null())) {
      rc = gcs_nomem(t, err);
      goto out;
    }
  for (size_t i = 0; i < n; i++)
    if (sdk_json_set_str(map, md[i].key, md[i].value)) {
      rc = gcs_fail(t, err, STORE_E_INVALID, "metadata '%.64s' is not "
                    "UTF-8 (or out of memory)", md[i].key);
      goto out;
    }
  snprintf(mg, sizeof(mg), "%" PRId64, o.metageneration);
  rc = gcs_url(h, t, GCS_API, &url, err);
  if (!rc && o.metageneration)
    rc = gcs_query(t, &url, "ifMetagenerationMatch", mg, err);
  if (!rc)
    rc = gcs_retry_race(gcs_json(h, t, "PATCH", url.data, body, NULL, err),
                        err);
out:
  sdk_buf_free(&url);
  json_decref(map);
  json_decref(body);
  gcs_obj_free(&o);
  json_decref(res);
  return rc;
}

int32_t gcs_blob_set_metadata(store_handle *h, const char *bucket,
                              const char *key, const store_kv *metadata,
                              size_t nmetadata, store_error *err)
{
  gcs_target t = {"set metadata of", bucket, key, NULL};
  int32_t rc;

  rc = gcs_check_key(&t, err);
  if (!rc)
    rc = gcs_meta_check(&t, metadata, nmetadata, err);
  if (rc)
    return rc;
  return patch_metadata(h, &t, metadata, nmetadata, err);
}

int32_t gcs_delete_object(store_handle *h, const gcs_target *t,
                          store_error *err)
{
  return gcs_delete_object_if(h, t, NULL, err);
}

int32_t gcs_delete_object_if(store_handle *h, const gcs_target *t,
                             const char *if_match, store_error *err)
{
  sdk_buf url = SDK_BUF_INIT;
  int32_t rc;

  rc = gcs_url(h, t, GCS_API, &url, err);
  if (!rc)
    rc = gcs_query_generation(t, &url, err);
  if (!rc)
    rc = gcs_query_conditions(t, &url, 0, if_match, err);
  if (!rc)
    rc = gcs_json(h, t, "DELETE", url.data, NULL, NULL, err);
  sdk_buf_free(&url);
  return rc;
}
