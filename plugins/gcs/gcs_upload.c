/*
** gcs_upload.c -- object uploads: for known lengths up to GCS_SIMPLE_MAX,
** streamed, one media request (uploadType=media: the body alone, its type
** in Content-Type) when the object has no user metadata, else one
** multipart (metadata + media) request; larger known lengths, a resumable
** session with the whole body streamed in one PUT; unknown lengths, a
** resumable session in chunks of GCS_CHUNK.
**
** Memory: a known length is never buffered, whatever its size: the bytes
** go from the source to the connection, so a put costs the plugin no more
** than the host's own buffers (its memory budget). Only a body of unknown
** length holds one chunk (GCS wants every chunk but the last a multiple
** of 256 KiB, and the last must carry the total), and the host sends
** unknown lengths in parts of known length wherever it can.
**
** Integrity: checksums the host knows in advance go into the object's
** metadata (crc32c, md5Hash) -- in X-Goog-Hash for a media upload --,
** which the service checks before it stores anything. The CRC-32C of the
** bytes sent is summed while they stream; a chunked upload sends it with
** its last chunk (X-Goog-Hash), so the service checks every body; and the
** stored crc32c and size are compared with it (gcs_put_result).
**
** Resuming: after a broken connection or a retryable answer the session
** is asked where it stands (an empty PUT with "Content-Range: bytes * /
** TOTAL"), GCS_RESUME_TRIES times at most. A chunk is kept in memory
** until the service has it, so a chunked upload goes on from the offset
** reported, never from zero. A streamed body cannot be read again (the
** source is pulled once): unless the session turns out complete (only
** the answer was lost), the put fails retryable, the session is
** cancelled, and the host's retry sends the put again from its rewound
** source, as for any provider's single-request put.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "gcs.h"
#include "sdk_error.h"

/* Every chunk but the last must be a multiple of 256 KiB. */
_Static_assert(GCS_CHUNK % GCS_CHUNK_UNIT == 0,
               "GCS_CHUNK is not a multiple of 256 KiB");

/* A source's failure (an SDK_BODY_* state) in words; short_by is what a
 * SHORT source lacked. rc when there is none. */
static int32_t source_fail(const gcs_target *t, int state, uint64_t short_by,
                           int32_t rc, store_error *err)
{
  char why[128];
  int32_t code = sdk_body_failure(state, short_by, why, sizeof(why));

  return code ? gcs_fail(t, err, code, "%s", why) : rc;
}

/* The metadata resource of an upload: name, type, user metadata and the
 * checksums the host gave. */
static int32_t upload_resource(const gcs_target *t, const store_put_opts *opts,
                               json_t **out, store_error *err)
{
  uint32_t ck = STORE_OPT(opts, store_put_opts, checksums, 0);

  if (!STORE_HAS_FIELD(store_put_opts, md5, opts ? opts->struct_size : 0))
    ck = 0;
  return gcs_resource_json(t, t->key,
                           STORE_OPT(opts, store_put_opts, content_type, NULL),
                           STORE_OPT(opts, store_put_opts, metadata, NULL),
                           STORE_OPT(opts, store_put_opts, nmetadata, 0), ck,
                           ck ? opts->crc32c : 0, ck ? opts->md5 : NULL, out,
                           err);
}

/* POST URL for a new object: uploadType and the put's conditions. */
static int32_t upload_url(store_handle *h, const gcs_target *t,
                          const store_put_opts *opts, const char *type,
                          sdk_buf *url, store_error *err)
{
  int32_t rc = gcs_objects_url(h, t, GCS_UPLOAD, url, err);

  if (!rc)
    rc = gcs_query(t, url, "uploadType", type, err);
  if (!rc)
    rc = gcs_query_conditions(t, url, STORE_OPT(opts, store_put_opts, flags, 0),
                              STORE_OPT(opts, store_put_opts, if_match, NULL),
                              err);
  return rc;
}

/* A stored object's resource from a final answer, checked against what
 * was sent, into out. */
static int32_t finish(const gcs_target *t, const sdk_response *resp,
                      uint64_t size, uint32_t crc, store_put_result *out,
                      store_error *err)
{
  json_t *res = NULL;
  gcs_obj o;
  int32_t rc;

  gcs_obj_init(&o);
  rc = gcs_parse(t, resp, &res, err);
  if (!rc)
    rc = gcs_obj_read(t, res, &o, err);
  if (!rc)
    rc = gcs_put_result(t, &o, size, crc, out, err);
  gcs_obj_free(&o);
  json_decref(res);
  return rc;
}

/* ---- multipart (metadata + media) -------------------------------------- */

/* The body: the metadata part's text, the media streamed, the closing
 * boundary; the media's CRC-32C summed on the way. */
typedef struct mp_body {
  sdk_buf head, tail;
  size_t pos;                   /* in head, then in tail                  */
  int phase;                    /* 0 head, 1 media, 2 tail                */
  sdk_body media;
  uint32_t crc;
} mp_body;

static int32_t mp_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  mp_body *m = ud;
  int32_t r;

  *out_n = 0;
  if (m->phase == 1) {
    r = sdk_body_read(&m->media, buf, cap, out_n);
    if (r)
      return r;
    if (*out_n) {
      m->crc = sdk_crc32c(m->crc, buf, *out_n);
      return 0;
    }
    m->phase = 2;
    m->pos = 0;
  }
  {
    sdk_buf *b = m->phase == 0 ? &m->head : &m->tail;
    size_t n = b->len - m->pos < cap ? b->len - m->pos : cap;
    if (n)
      memcpy(buf, b->data + m->pos, n);
    m->pos += n;
    *out_n = n;
    if (m->phase == 0 && m->pos == b->len) {
      m->phase = 1;
      m->pos = 0;
      if (n == 0)
        return mp_read(ud, buf, cap, out_n);
    }
  }
  return 0;
}

static int32_t put_multipart(store_handle *h, const gcs_target *t,
                             const store_put_opts *opts, store_read_fn src,
                             void *src_ctx, uint64_t len,
                             store_put_result *out, store_error *err)
{
  unsigned char nonce[12];
  char boundary[40], ctype[80];
  sdk_buf url = SDK_BUF_INIT, meta = SDK_BUF_INIT;
  sdk_response *resp = NULL;
  sdk_request *r = NULL;
  json_t *res = NULL;
  mp_body m;
  int32_t rc;

  memset(&m, 0, sizeof(m));
  sdk_body_init(&m.media, src, src_ctx, len, SDK_BODY_PROBE_EOF);
  if (RAND_bytes(nonce, sizeof(nonce)) != 1)
    return gcs_fail(t, err, STORE_E_INTERNAL, "no random bytes for the "
                    "multipart boundary");
  memcpy(boundary, "xtstore_", 8);
  sdk_hex(nonce, sizeof(nonce), boundary + 8);
  snprintf(ctype, sizeof(ctype), "multipart/related; boundary=%s", boundary);
  rc = upload_resource(t, opts, &res, err);
  if (rc)
    goto out;
  rc = upload_url(h, t, opts, "multipart", &url, err);
  if (rc)
    goto out;
  if (sdk_json_dump(res, &meta) ||
      sdk_buf_printf(&m.head, "--%s\r\nContent-Type: application/json; "
                     "charset=UTF-8\r\n\r\n%s\r\n--%s\r\nContent-Type: %s\r\n"
                     "\r\n", boundary, meta.data, boundary,
                     sdk_json_str(res, "contentType")) ||
      sdk_buf_printf(&m.tail, "\r\n--%s--\r\n", boundary) ||
      !(r = sdk_request_new("POST", url.data))) {
    rc = gcs_nomem(t, err);
    goto out;
  }
  rc = gcs_header(t, r, "Content-Type", ctype, err);
  if (rc)
    goto out;
  sdk_request_body_stream(r, mp_read, &m,
                          (int64_t)(m.head.len + len + m.tail.len));
  rc = gcs_perform(h, t, r, 0, &resp, err);
  if (rc) {
    rc = source_fail(t, m.media.state, len - m.media.sent, rc, err);
    goto out;
  }
  rc = finish(t, resp, len, m.crc, out, err);
out:
  sdk_response_free(resp);
  sdk_request_free(r);
  json_decref(res);
  sdk_buf_free(&m.head);
  sdk_buf_free(&m.tail);
  sdk_buf_free(&meta);
  sdk_buf_free(&url);
  return rc;
}

/* ---- media (the body alone) --------------------------------------------- */

/* X-Goog-Hash of the checksums the host gave ("crc32c=...,md5=..."), or
 * nothing when it gave none. 0 or -1 (memory). */
static int known_hash(const store_put_opts *opts, sdk_buf *out)
{
  uint32_t ck = STORE_OPT(opts, store_put_opts, checksums, 0);

  if (!STORE_HAS_FIELD(store_put_opts, md5, opts ? opts->struct_size : 0))
    return 0;
  if ((ck & STORE_CKSUM_CRC32C) &&
      (sdk_buf_puts(out, "crc32c=") || sdk_crc32c_base64(opts->crc32c, out)))
    return -1;
  if ((ck & STORE_CKSUM_MD5) &&
      (sdk_buf_puts(out, out->len ? ",md5=" : "md5=") ||
       sdk_base64_encode(out, opts->md5, sizeof(opts->md5))))
    return -1;
  return 0;
}

static int32_t put_media(store_handle *h, const gcs_target *t,
                         const store_put_opts *opts, store_read_fn src,
                         void *src_ctx, uint64_t len, store_put_result *out,
                         store_error *err)
{
  const char *ct = STORE_OPT(opts, store_put_opts, content_type, NULL);
  sdk_buf url = SDK_BUF_INIT, hash = SDK_BUF_INIT;
  sdk_response *resp = NULL;
  sdk_request *r = NULL;
  mp_body m;
  int32_t rc;

  /* mp_read with nothing around the media: the body alone, summed. */
  memset(&m, 0, sizeof(m));
  m.phase = 1;
  sdk_body_init(&m.media, src, src_ctx, len, SDK_BODY_PROBE_EOF);
  rc = upload_url(h, t, opts, "media", &url, err);
  if (!rc)
    rc = gcs_query(t, &url, "name", t->key, err);
  if (rc)
    goto out;
  if (known_hash(opts, &hash) || !(r = sdk_request_new("POST", url.data))) {
    rc = gcs_nomem(t, err);
    goto out;
  }
  rc = gcs_header(t, r, "Content-Type",
                  ct && *ct ? ct : "application/octet-stream", err);
  if (!rc && hash.len)
    rc = gcs_header(t, r, "X-Goog-Hash", hash.data, err);
  if (rc)
    goto out;
  sdk_request_body_stream(r, mp_read, &m, (int64_t)len);
  rc = gcs_perform(h, t, r, 0, &resp, err);
  if (rc) {
    rc = source_fail(t, m.media.state, len - m.media.sent, rc, err);
    goto out;
  }
  rc = finish(t, resp, len, m.crc, out, err);
out:
  sdk_response_free(resp);
  sdk_request_free(r);
  sdk_buf_free(&hash);
  sdk_buf_free(&url);
  return rc;
}

/* ---- resumable ---------------------------------------------------------- */

typedef struct session {
  store_handle *h;
  const gcs_target *t;
  char *url;                    /* the session URI; owned                 */
  uint64_t done;                /* bytes the service has                  */
  sdk_response *final_resp;     /* the answer that completed the object   */
} session;

/* Open the session: POST the metadata, keep the Location. */
static int32_t session_open(session *s, const store_put_opts *opts,
                            int64_t len, store_error *err)
{
  const gcs_target *t = s->t;
  sdk_buf url = SDK_BUF_INIT, text = SDK_BUF_INIT, loc = SDK_BUF_INIT;
  sdk_response *resp = NULL;
  sdk_request *r = NULL;
  json_t *res = NULL;
  const char *where;
  char num[24];
  int32_t rc;

  rc = upload_resource(t, opts, &res, err);
  if (!rc)
    rc = upload_url(s->h, t, opts, "resumable", &url, err);
  if (rc)
    goto out;
  if (sdk_json_dump(res, &text) || !(r = sdk_request_new("POST", url.data))) {
    rc = gcs_nomem(t, err);
    goto out;
  }
  rc = gcs_header(t, r, "Content-Type", "application/json; charset=UTF-8",
                  err);
  if (!rc)
    rc = gcs_header(t, r, "X-Upload-Content-Type",
                    sdk_json_str(res, "contentType"), err);
  if (!rc && len >= 0) {
    snprintf(num, sizeof(num), "%" PRId64, len);
    rc = gcs_header(t, r, "X-Upload-Content-Length", num, err);
  }
  if (rc)
    goto out;
  sdk_request_body_mem(r, text.data, text.len);
  rc = gcs_perform(s->h, t, r, 1, &resp, err);
  if (rc)
    goto out;
  where = sdk_response_header(resp, "Location");
  if (!where || !*where) {
    rc = gcs_fail(t, err, STORE_E_INTERNAL, "the service opened no "
                  "resumable session (no Location)");
    goto out;
  }
  /* A relative Location is the endpoint's. */
  if ((*where == '/' && sdk_buf_puts(&loc, s->h->endpoint)) ||
      sdk_buf_puts(&loc, where)) {
    rc = gcs_nomem(t, err);
    goto out;
  }
  s->url = loc.data;
  loc.data = NULL;
out:
  sdk_buf_free(&loc);
  sdk_response_free(resp);
  sdk_request_free(r);
  json_decref(res);
  sdk_buf_free(&text);
  sdk_buf_free(&url);
  return rc;
}

/* Best effort: a session given up is cancelled, so that nothing of it
 * lingers (GCS would keep it a week). */
static void session_cancel(session *s)
{
  sdk_response *resp = NULL;
  sdk_request *r;
  store_error e;

  if (!s->url || s->final_resp)
    return;
  memset(&e, 0, sizeof(e));
  e.struct_size = sizeof(e);
  if ((r = sdk_request_new("DELETE", s->url)))
    gcs_send(s->h, s->t, r, 1, &resp, &e);
  sdk_response_free(resp);
  sdk_request_free(r);
}

/* What a 308 says the service has: "Range: bytes=0-N" is N + 1 bytes, no
 * Range none. -1 when the header makes no sense. */
static int64_t persisted(const sdk_response *resp)
{
  const char *range = sdk_response_header(resp, "Range");
  char *end;
  uint64_t last;

  if (!range)
    return 0;
  if (strncmp(range, "bytes=0-", 8))
    return -1;
  last = strtoull(range + 8, &end, 10);
  return *end || end == range + 8 ? -1 : (int64_t)(last + 1);
}

/* One answer to a chunk or a status query: 308 moves s->done, 200/201
 * completes. *again: a retryable failure, worth a status query. */
static int32_t answer(session *s, sdk_response **resp, int last,
                      int *again, store_error *err)
{
  long status = sdk_response_status(*resp);
  int64_t have;

  *again = 0;
  if (status == 308) {
    have = persisted(*resp);
    if (have < 0)
      return gcs_fail(s->t, err, STORE_E_INTERNAL, "the resumable session "
                      "answered 308 with Range '%.40s'",
                      sdk_response_header(*resp, "Range"));
    s->done = (uint64_t)have;
    return STORE_OK;
  }
  if (status == 200 || status == 201) {
    if (!last)
      return gcs_fail(s->t, err, STORE_E_INTERNAL, "the resumable session "
                      "completed before its last chunk was sent");
    s->final_resp = *resp;
    *resp = NULL;
    return STORE_OK;
  }
  /* The session URI is gone (expired after a week, or cancelled): no
   * query can resume it, but the put can start over. */
  if (status == 404 || status == 410) {
    int32_t rc = gcs_fail(s->t, err, STORE_E_IO, "the resumable session "
                          "was lost (HTTP %ld); the put starts again",
                          status);
    if (err)
      err->flags |= STORE_ERR_RETRYABLE;
    return rc;
  }
  *again = sdk_status_retryable(status);
  return gcs_fail_response(s->t, *resp, err);
}

/* Content-Range of a chunk [from, to] (to < from: none) of total (-1:
 * not known yet). */
static void content_range(uint64_t from, uint64_t to, int64_t total,
                          char *out, size_t cap)
{
  char tot[24] = "*";

  if (total >= 0)
    snprintf(tot, sizeof(tot), "%" PRId64, total);
  if (to + 1 > from)
    snprintf(out, cap, "bytes %" PRIu64 "-%" PRIu64 "/%s", from, to, tot);
  else
    snprintf(out, cap, "bytes */%s", tot);
}

/* PUT buf[from - off .. n) at object offset `from` (an empty body with
 * from == off + n asks where the session stands). hash: the X-Goog-Hash
 * of a last chunk, or NULL. */
static int32_t put_chunk(session *s, const char *buf, uint64_t off, size_t n,
                         uint64_t from, int64_t total, const char *hash,
                         sdk_response **out, store_error *err)
{
  sdk_request *r = sdk_request_new("PUT", s->url);
  char cr[80];
  int32_t rc;

  if (!r)
    return gcs_nomem(s->t, err);
  content_range(from, off + n - 1, total, cr, sizeof(cr));
  if (from == off + n)
    content_range(1, 0, total, cr, sizeof(cr));
  rc = gcs_header(s->t, r, "Content-Range", cr, err);
  if (!rc && hash)
    rc = gcs_header(s->t, r, "X-Goog-Hash", hash, err);
  if (!rc) {
    sdk_request_body_mem(r, buf + (from - off), off + n - from);
    rc = gcs_send(s->h, s->t, r, 1, out, err);
  }
  sdk_request_free(r);
  return rc;
}

/* Wait before a resumption: 0.25 s, 0.5 s, 1 s, ... polling the host's
 * cancel. Non-zero when cancelled. */
static int pause_before(store_handle *h, int attempt)
{
  long ms = 250L << (attempt < 4 ? attempt : 4);

  for (; ms > 0; ms -= 50) {
    struct timespec ts = {0, 50 * 1000000L};
    if (sdk_host_cancelled(h->host))
      return 1;
    nanosleep(&ts, NULL);
  }
  return 0;
}

/* One request of a chunk (or a status query, see put_chunk) and its
 * answer. *again: the failure is worth asking the session about. */
static int32_t exchange(session *s, const char *buf, uint64_t off, size_t n,
                        uint64_t from, int64_t total, const char *hash,
                        int *again, store_error *err)
{
  sdk_response *resp = NULL;
  int32_t rc;

  rc = put_chunk(s, buf, off, n, from, total, hash, &resp, err);
  *again = rc == STORE_E_IO || rc == STORE_E_TIMEOUT;
  if (!rc)
    rc = answer(s, &resp, total >= 0, again, err);
  sdk_response_free(resp);
  return rc;
}

/* After a failure rc (err set; again: worth asking), ask the session
 * where it stands, pausing before each query, until it answers (STORE_OK:
 * s->done, or s->final_resp when it is complete) or *tries passes
 * GCS_RESUME_TRIES (the last failure's code). */
static int32_t query_state(session *s, int64_t total, int32_t rc, int again,
                           int *tries, store_error *err)
{
  do {
    if (!again || ++*tries > GCS_RESUME_TRIES || pause_before(s->h, *tries))
      return rc;
    sdk_error_clear(err);
    rc = exchange(s, "", 0, 0, 0, total, NULL, &again, err);
  } while (rc && !s->final_resp);
  return STORE_OK;
}

/* Send the chunk buf[0..n) at object offset off until the service has it
 * all (or, for the last, has completed the object), resuming from what it
 * reports after a failure. */
static int32_t send_chunk(session *s, const char *buf, uint64_t off, size_t n,
                          int64_t total, const char *hash, store_error *err)
{
  int last = total >= 0, again = 0, tries = 0;
  char cause[STORE_ERR_MSG_SIZE];
  uint64_t from = off;
  int32_t rc;

  for (;;) {
    if (from < off || from > off + n)
      return gcs_fail(s->t, err, STORE_E_INTERNAL, "the resumable session "
                      "says it has %" PRIu64 " bytes; the chunk in hand "
                      "covers %" PRIu64 "..%" PRIu64, from, off, off + n);
    if (from == off + n && !last)
      return STORE_OK; /* all of it is in */
    rc = exchange(s, buf, off, n, from, total, last ? hash : NULL, &again,
                  err);
    if (s->final_resp)
      return STORE_OK;
    if (!rc && s->done > from) {
      from = s->done;
      tries = 0;
      continue;
    }
    if (!rc) {
      again = 1;
      rc = gcs_fail(s->t, err, STORE_E_IO, "the resumable session kept none "
                    "of the %" PRIu64 " bytes sent", off + n - from);
    }
    /* Broken or refused for now: ask where the session stands, and go on
     * from there. */
    snprintf(cause, sizeof(cause), "%s", err ? err->message : "");
    rc = query_state(s, total, rc, again, &tries, err);
    if (rc || s->final_resp)
      return rc;
    from = s->done;
    gcs_log(s->h, STORE_LOG_INFO, "gcs: object '%.64s/%.96s': resumable "
            "upload resumes at byte %" PRIu64 " (the chunk in hand is "
            "%" PRIu64 "..%" PRIu64 ") after: %.160s", s->t->bucket, s->t->key,
            from, off, off + n, cause);
  }
}


/* Read the next chunk into buf (after the byte probed last time, if any),
 * then probe one byte more: *eof when the source ended within it. */
static int32_t next_chunk(const gcs_target *t, store_read_fn src,
                          void *src_ctx, char *buf, size_t *n, char *extra,
                          int *has_extra, int *eof, store_error *err)
{
  size_t got = 0;
  int state;

  *n = 0;
  if (*has_extra)
    buf[(*n)++] = *extra;
  *has_extra = 0;
  state = sdk_fill(src, src_ctx, buf + *n, GCS_CHUNK - *n, &got, eof);
  *n += got;
  if (!state && !*eof) {
    state = sdk_fill(src, src_ctx, extra, 1, &got, eof);
    *has_extra = got == 1;
    *eof = !*has_extra;
  }
  return source_fail(t, state, 0, STORE_OK, err);
}

/* A body of unknown length: CHUNK bytes at a time (the last may be
 * shorter), each followed by a one-byte probe so that the last chunk is
 * known as such and carries the total, as the protocol wants. A body that
 * ends within its first chunk goes up as one multipart request instead. */
static int32_t put_chunked(store_handle *h, const gcs_target *t,
                           const store_put_opts *opts, store_read_fn src,
                           void *src_ctx, store_put_result *out,
                           store_error *err)
{
  char *buf = malloc(GCS_CHUNK);
  session s = {h, t, NULL, 0, NULL};
  sdk_buf hash = SDK_BUF_INIT;
  uint64_t off = 0;
  uint32_t crc = 0;
  char extra = 0;
  int has_extra = 0, eof = 0;
  size_t n = 0;
  int32_t rc;

  if (!buf)
    return gcs_nomem(t, err);
  for (;;) {
    rc = next_chunk(t, src, src_ctx, buf, &n, &extra, &has_extra, &eof, err);
    if (rc)
      break;
    if (eof && off == 0) {
      sdk_mem_src m = {buf, n};
      rc = put_multipart(h, t, opts, sdk_mem_read, &m, n, out, err);
      break;
    }
    if (!s.url) {
      rc = session_open(&s, opts, -1, err);
      if (rc)
        break;
    }
    crc = sdk_crc32c(crc, buf, n);
    if (eof) {
      if (sdk_buf_puts(&hash, "crc32c=") || sdk_crc32c_base64(crc, &hash)) {
        rc = gcs_nomem(t, err);
        break;
      }
      rc = send_chunk(&s, buf, off, n, (int64_t)(off + n), hash.data, err);
      if (!rc)
        rc = finish(t, s.final_resp, off + n, crc, out, err);
      break;
    }
    rc = send_chunk(&s, buf, off, n, -1, NULL, err);
    if (rc)
      break;
    off += n;
    if (sdk_host_cancelled(h->host)) {
      rc = gcs_fail(t, err, STORE_E_ABORTED, "cancelled");
      break;
    }
  }
  if (rc)
    session_cancel(&s);
  sdk_response_free(s.final_resp);
  free(s.url);
  sdk_buf_free(&hash);
  free(buf);
  return rc;
}

/* err's cause, without the "OP OBJECT: " its message starts with, into
 * out (it is quoted in a message about the same object). */
static void cause_of(const gcs_target *t, const store_error *err, char *out,
                     size_t cap)
{
  store_error probe;
  size_t n;

  memset(&probe, 0, sizeof(probe));
  probe.struct_size = sizeof(probe);
  gcs_fail(t, &probe, STORE_E_IO, "%s", "");
  n = strlen(probe.message);
  snprintf(out, cap, "%s", !err ? "" : err->message +
           (strncmp(err->message, probe.message, n) ? 0 : n));
}

/* A known length beyond GCS_SIMPLE_MAX: a resumable session, the whole
 * body streamed from the source in one PUT ("Content-Range: bytes
 * 0-LAST/LEN"), nothing of it held here. After a break the session is
 * asked where it stands: complete (the answer was lost) is success;
 * anything less fails retryable, for the host to send the put again
 * (the bytes the service lacks are gone from the source). */
static int32_t put_streamed(store_handle *h, const gcs_target *t,
                            const store_put_opts *opts, store_read_fn src,
                            void *src_ctx, uint64_t len,
                            store_put_result *out, store_error *err)
{
  session s = {h, t, NULL, 0, NULL};
  char cr[80], cause[STORE_ERR_MSG_SIZE];
  sdk_response *resp = NULL;
  sdk_request *r = NULL;
  int again = 0, tries = 0;
  mp_body m;
  int32_t rc;

  /* mp_read with nothing around the media: the body alone, summed. */
  memset(&m, 0, sizeof(m));
  m.phase = 1;
  sdk_body_init(&m.media, src, src_ctx, len, SDK_BODY_PROBE_EOF);
  rc = session_open(&s, opts, (int64_t)len, err);
  if (rc)
    goto out;
  if (!(r = sdk_request_new("PUT", s.url))) {
    rc = gcs_nomem(t, err);
    goto out;
  }
  content_range(0, len - 1, (int64_t)len, cr, sizeof(cr));
  rc = gcs_header(t, r, "Content-Range", cr, err);
  if (rc)
    goto out;
  sdk_request_body_stream(r, mp_read, &m, (int64_t)len);
  rc = gcs_send(h, t, r, 0, &resp, err);
  again = rc == STORE_E_IO || rc == STORE_E_TIMEOUT;
  if (!rc)
    rc = answer(&s, &resp, 1, &again, err);
  if (rc && m.media.state) {
    /* The source failed: nothing to ask the session about. */
    rc = source_fail(t, m.media.state, len - m.media.sent, rc, err);
    goto out;
  }
  if (!rc && !s.final_resp) {
    again = 1;
    rc = gcs_fail(t, err, STORE_E_IO, "the resumable session kept %" PRIu64
                  " of the %" PRIu64 " bytes sent", s.done, len);
  }
  if (rc) {
    cause_of(t, err, cause, sizeof(cause));
    rc = query_state(&s, (int64_t)len, rc, again, &tries, err);
    if (!rc && !s.final_resp) {
      rc = gcs_fail(t, err, STORE_E_IO, "the upload broke after %" PRIu64
                    " of %" PRIu64 " bytes (the service kept %" PRIu64 "; the "
                    "source cannot be read again): %s",
                    m.media.sent, len, s.done, cause);
      if (err)
        err->flags |= STORE_ERR_RETRYABLE;
    }
    if (rc)
      goto out;
    gcs_log(h, STORE_LOG_INFO, "gcs: object '%.64s/%.96s': the resumable "
            "upload turned out complete after: %.160s", t->bucket, t->key,
            cause);
  }
  rc = finish(t, s.final_resp, len, m.crc, out, err);
out:
  if (rc)
    session_cancel(&s);
  sdk_response_free(s.final_resp);
  sdk_response_free(resp);
  sdk_request_free(r);
  free(s.url);
  return rc;
}

int32_t gcs_upload(store_handle *h, const gcs_target *t,
                   const store_put_opts *opts, store_read_fn src,
                   void *src_ctx, store_put_result *out, store_error *err)
{
  int64_t len = STORE_OPT(opts, store_put_opts, content_length, -1);
  int32_t rc;

  if (len >= 0 && (uint64_t)len <= GCS_SIMPLE_MAX &&
      !STORE_OPT(opts, store_put_opts, nmetadata, 0))
    rc = put_media(h, t, opts, src, src_ctx, (uint64_t)len, out, err);
  else if (len >= 0 && (uint64_t)len <= GCS_SIMPLE_MAX)
    rc = put_multipart(h, t, opts, src, src_ctx, (uint64_t)len, out, err);
  else if (len >= 0)
    rc = put_streamed(h, t, opts, src, src_ctx, (uint64_t)len, out, err);
  else
    rc = put_chunked(h, t, opts, src, src_ctx, out, err);
  return gcs_put_condition(t, STORE_OPT(opts, store_put_opts, flags, 0), rc,
                           err);
}
