/*
** s3_request.c -- one S3 request: URL (path or virtual-host addressing),
** headers, body, SigV4 signature, send; and the one retry this plugin does
** itself: after RequestTimeTooSkewed, with the clock corrected from the
** server's Date header, when the body can be sent again (in memory, or
** nothing of the stream read yet). Every other retry is the host's.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s3.h"
#include "sdk_meta.h"
#include "sdk_util.h"

/* A 403 without a body (HEAD) says nothing of why: with a Date this far
 * from ours it is taken for RequestTimeTooSkewed and tried once more on
 * the server's clock. AWS allows 15 minutes, but S3-compatible servers
 * allow less (5 minutes is common), so a minute is enough to suspect. */
#define S3_SKEW_HINT_S 60

int s3_is_2xx(const sdk_response *r)
{
  long s = sdk_response_status(r);
  return s >= 200 && s <= 299;
}

/* "bucket/key", "bucket" or "" for messages. */
const char *s3_object_name(const s3_call *c, char *buf, size_t cap)
{
  if (c->bucket && c->key)
    snprintf(buf, cap, "%s/%s", c->bucket, c->key);
  else
    snprintf(buf, cap, "%s", c->bucket ? c->bucket : "");
  return buf;
}

/* A bucket name that can be a DNS label under the endpoint's host and
 * match a wildcard certificate: [a-z0-9-], 3..63, no dots. */
static int dns_safe(const char *b)
{
  size_t n = strlen(b);

  if (n < 3 || n > 63 || b[0] == '-' || b[n - 1] == '-')
    return 0;
  for (; *b; b++)
    if (!((*b >= 'a' && *b <= 'z') || (*b >= '0' && *b <= '9') || *b == '-'))
      return 0;
  return 1;
}

static int use_virtual(const store_handle *h, const char *bucket)
{
  return bucket && h->virtual_hosting &&
         (h->cfg.addressing == S3_ADDR_VIRTUAL || dns_safe(bucket));
}

/* scheme://[bucket.]authority/base[/bucket][/key][?query], encoded. */
static int build_url(const s3_call *c, int with_query, sdk_buf *u)
{
  const store_handle *h = c->h;
  int vhost = use_virtual(h, c->bucket);

  if (sdk_buf_printf(u, "%s://%s%s%s%s/", h->scheme, vhost ? c->bucket : "",
                     vhost ? "." : "", h->authority, h->base_path))
    return -1;
  if (c->bucket && !vhost &&
      (sdk_uri_encode(u, c->bucket, strlen(c->bucket), 0) ||
       (c->key && sdk_buf_putc(u, '/'))))
    return -1;
  if (c->key && sdk_uri_encode(u, c->key, strlen(c->key), 1))
    return -1;
  for (size_t i = 0; with_query && i < c->nquery; i++) {
    const store_kv *q = &c->query[i];
    if (sdk_buf_putc(u, i ? '&' : '?') ||
        sdk_uri_encode(u, q->key, strlen(q->key), 0) ||
        (q->value && (sdk_buf_putc(u, '=') ||
                      sdk_uri_encode(u, q->value, strlen(q->value), 0))))
      return -1;
  }
  return 0;
}

static int32_t nomem(const s3_call *c, store_error *err)
{
  return s3_fail_msg(c, err, STORE_E_NOMEM, "out of memory");
}

int32_t s3_call_init(s3_call *c, store_handle *h, const char *op,
                     const char *method, const char *bucket, const char *key,
                     store_error *err)
{
  sdk_buf url = SDK_BUF_INIT;

  memset(c, 0, sizeof(*c));
  c->h = h;
  c->op = op;
  c->method = method;
  c->bucket = bucket;
  c->key = key;
  c->src_len = -1;
  if (build_url(c, 0, &url) == 0)
    c->req = sdk_request_new(method, url.data);
  sdk_buf_free(&url);
  return c->req ? STORE_OK : nomem(c, err);
}

void s3_call_free(s3_call *c)
{
  sdk_request_free(c->req);
  c->req = NULL;
  sdk_digest_free(c->md5);
  sdk_digest_free(c->md5_wire);
  c->md5 = c->md5_wire = NULL;
}

int32_t s3_call_query(s3_call *c, const char *name, const char *value,
                      store_error *err)
{
  if (c->nquery == S3_MAX_QUERY)
    return s3_fail_msg(c, err, STORE_E_INTERNAL, "too many query "
                       "parameters");
  c->query[c->nquery].key = name;
  c->query[c->nquery++].value = value;
  return STORE_OK;
}

int32_t s3_call_header(s3_call *c, const char *name, const char *value,
                       store_error *err)
{
  return sdk_request_set_header(c->req, name, value) ? nomem(c, err)
                                                       : STORE_OK;
}

/* Content-Type and x-amz-meta-* headers (checked by s3_check_meta). */
int32_t s3_call_meta(s3_call *c, const char *content_type,
                     const store_kv *md, size_t n, store_error *err)
{
  int32_t rc = STORE_OK;

  if (content_type)
    rc = s3_call_header(c, "Content-Type", content_type, err);
  if (!rc && sdk_meta_to_headers(c->req, S3_META_PREFIX, md, n))
    rc = nomem(c, err);
  return rc;
}

void s3_call_body_mem(s3_call *c, const void *data, size_t len)
{
  c->mem = data ? data : "";
  c->mem_len = len;
}

/* An XML request body from memory, with its Content-MD5 (which S3
 * requires for DeleteObjects, PutObjectTagging, PutBucketVersioning). */
int32_t s3_call_body_xml(s3_call *c, const sdk_buf *xml, store_error *err)
{
  unsigned char md5[16];
  sdk_buf b64 = SDK_BUF_INIT;
  int32_t rc;

  if (sdk_md5(xml->data, xml->len, md5) ||
      sdk_base64_encode(&b64, md5, sizeof(md5)))
    rc = nomem(c, err);
  else
    rc = s3_call_header(c, "Content-MD5", b64.data, err);
  if (!rc)
    rc = s3_call_header(c, "Content-Type", "application/xml", err);
  if (!rc)
    s3_call_body_mem(c, xml->data, xml->len);
  sdk_buf_free(&b64);
  return rc;
}

void s3_call_body_stream(s3_call *c, store_read_fn fn, void *ctx,
                         int64_t len)
{
  c->src = fn;
  c->src_ctx = ctx;
  c->src_len = len;
}

static time_t s3_now(store_handle *h)
{
  return time(NULL) + (time_t)atomic_load(&h->clock_offset);
}

/* One send of c. *chunked is the aws-chunked body encoder when one was
 * made (freed by the caller after the perform). */
static int32_t send_once(s3_call *c, sdk_response **out, s3_chunked **chunked,
                         store_error *err)
{
  store_handle *h = c->h;
  sdk_sigv4_result seed = SDK_SIGV4_RESULT_INIT;
  sdk_buf url = SDK_BUF_INIT;
  char hash[65], declen[24];
  const char *payload = SDK_SIGV4_EMPTY_SHA256;
  int mode = c->src && h->signer ? atomic_load(&h->body) : S3_BODY_UNSIGNED;
  int stream_signed = mode != S3_BODY_UNSIGNED;
  /* The CRC asked for while streaming rides on aws-chunked bodies only:
   * plain ones have nowhere to put it (the host then compares sizes and
   * whatever the result reports). */
  int trailer = stream_signed && c->crc_trailer &&
                !atomic_load(&h->cksum_off);
  store_read_fn read = sdk_body_read;
  void *read_ud = &c->body;
  int32_t rc;

  *out = NULL;
  c->sent_as = mode;
  c->md5_skipped = 0;
  sdk_digest_free(c->md5);
  sdk_digest_free(c->md5_wire);
  c->md5 = c->md5_wire = NULL;
  /* The caller's source, counted: a stream that was read from cannot be
   * sent again by us. Over plain http, where no TLS protects the bytes and
   * not every server checks aws-chunked signatures, its MD5 is checked
   * against the ETag; while aws-chunked is unproven on this server, so is
   * the MD5 of the framing, to tell a server that stores it from damage on
   * the way (s3_body.c). Not when a body of 1 MiB or more goes with its
   * CRC-32C, known before sending, to a server proven to check them (it
   * refused a wrong one: s3_crcprobe.c) that has echoed one: it refuses a
   * body that does not match, and its answer must confirm the CRC
   * (s3_body.c). */
  if (c->src && !strcmp(h->scheme, "http")) {
    c->md5_skipped = c->crc_known && mode != S3_BODY_CHUNKED &&
                     c->src_len >= S3_CRC_PROBE_MIN && s3_crc_proven(c) &&
                     atomic_load(&h->crc_checked);
    if (!c->md5_skipped &&
        (sdk_digest_new(SDK_DIGEST_MD5, &c->md5) ||
         (mode == S3_BODY_CHUNKED &&
          sdk_digest_new(SDK_DIGEST_MD5, &c->md5_wire)))) {
      rc = nomem(c, err);
      goto out;
    }
  }
  if (c->src) {
    sdk_body_init(&c->body, c->src, c->src_ctx, (uint64_t)c->src_len, 0);
    if (c->md5) {
      read = s3_md5_read;
      read_ud = c;
    }
  }
  if (build_url(c, 1, &url) || sdk_request_set_url(c->req, url.data)) {
    rc = nomem(c, err);
    goto out;
  }
  if (c->mem) {
    if (sdk_sha256_hex(c->mem, c->mem_len, hash)) {
      rc = nomem(c, err);
      goto out;
    }
    payload = hash;
    sdk_request_body_mem(c->req, c->mem, c->mem_len);
  } else if (stream_signed) {
    snprintf(declen, sizeof(declen), "%" PRId64, c->src_len);
    rc = s3_call_header(c, "Content-Encoding", "aws-chunked", err);
    if (!rc)
      rc = s3_call_header(c, "x-amz-decoded-content-length", declen, err);
    if (!rc && trailer)
      rc = s3_call_header(c, "x-amz-trailer", S3_CRC_HEADER, err);
    if (!rc && trailer)
      rc = s3_call_header(c, "x-amz-sdk-checksum-algorithm", "CRC32C", err);
    if (rc)
      goto out;
    c->cksum_sent |= trailer;
    payload = trailer ? SDK_SIGV4_STREAMING_PAYLOAD_TRAILER
                      : SDK_SIGV4_STREAMING_PAYLOAD;
  } else if (c->src) {
    payload = SDK_SIGV4_UNSIGNED_PAYLOAD;
    sdk_request_body_stream(c->req, read, read_ud, c->src_len);
  }
  if (h->signer) {
    rc = sdk_sigv4_sign_request(h->signer, c->req, payload, s3_now(h),
                                SDK_SIGV4_CONTENT_SHA256,
                                stream_signed ? &seed : NULL, err);
    if (rc)
      goto out;
  }
  if (stream_signed) {
    rc = s3_chunked_new(h, &seed, read, read_ud, (uint64_t)c->src_len,
                        trailer, chunked, err);
    if (rc)
      goto out;
    c->wire = *chunked;
    sdk_request_body_stream(c->req,
                            c->md5_wire ? s3_md5_wire_read : s3_chunked_read,
                            c->md5_wire ? (void *)c : (void *)*chunked,
                            (int64_t)(sdk_sigv4_chunked_length(
                                        (uint64_t)c->src_len, S3_CHUNK) +
                                      (trailer ? S3_TRAILER_LEN : 0)));
  }
  rc = sdk_http_perform(h->http, c->req, out, err);
  if (rc && err) {
    /* Name the S3 operation before the SDK's transport message; the
     * classification (retryable, errno) stays the SDK's. */
    char msg[STORE_ERR_MSG_SIZE];
    snprintf(msg, sizeof(msg), "%s", err->message);
    s3_fail_msg(c, err, rc, "%s", msg);
  }
out:
  sdk_sigv4_result_free(&seed);
  sdk_buf_free(&url);
  return rc;
}

/* A refusal for clock skew: the code says so, or (HEAD has no body) a
 * 403 whose Date is too far from our clock. *offset gets server - local. */
static int skewed(store_handle *h, const sdk_response *resp, int64_t *offset)
{
  const char *date = sdk_response_header(resp, "Date");
  int64_t server = date ? sdk_time_parse_http(date) : STORE_MTIME_UNKNOWN;
  s3_err_info info;
  int skew;

  if (sdk_response_status(resp) != 403 || server == STORE_MTIME_UNKNOWN)
    return 0;
  *offset = server / 1000000000 - (int64_t)time(NULL);
  s3_err_parse(resp, &info);
  if (info.code)
    skew = !strcmp(info.code, "RequestTimeTooSkewed");
  else
    skew = llabs(server / 1000000000 - (int64_t)s3_now(h)) > S3_SKEW_HINT_S;
  s3_err_info_free(&info);
  return skew;
}

/* Swift's s3api refuses aws-chunked bodies: "NotImplemented: Transfering
 * payloads in multiple chunks using aws-chunked is not supported." */
static int chunked_refused(const s3_call *c, const sdk_response *resp)
{
  s3_err_info info;
  int refused;

  if (c->sent_as == S3_BODY_UNSIGNED || sdk_response_status(resp) != 501)
    return 0;
  s3_err_parse(resp, &info);
  refused = info.code && !strcmp(info.code, "NotImplemented") &&
            info.message && strstr(info.message, "aws-chunked");
  s3_err_info_free(&info);
  return refused;
}

int32_t s3_perform(s3_call *c, sdk_response **out, store_error *err)
{
  s3_chunked *chunked = NULL;
  int64_t offset;
  int skew_fixed = 0;
  long suspect = 0;
  int32_t rc;

  for (;;) {
    rc = send_once(c, out, &chunked, err);
    s3_chunked_free(chunked);
    chunked = NULL;
    if (rc)
      return rc;
    if (suspect)
      s3_cksum_mode_settle(c, suspect, *out);
    if (chunked_refused(c, *out) &&
        s3_body_fallback(c, "refused an aws-chunked upload")) {
      /* Sent again by the host (or, for a part held in memory, by
       * s3_upload.c), plain this time: a new request, without this one's
       * aws-chunked headers. */
      rc = s3_fail(c, *out, err);
      if (err)
        err->flags |= STORE_ERR_RETRYABLE;
      sdk_response_free(*out);
      *out = NULL;
      return rc;
    }
    if (s3_cksum_refused(c, *out)) {
      /* Sent again without them: by us when the body can go again, else
       * by the host (retryable), which finds the service fallen back. */
      if (c->src && c->body.sent) {
        rc = s3_fail(c, *out, err);
        if (err)
          err->flags |= STORE_ERR_RETRYABLE;
        return rc;
      }
      sdk_response_free(*out);
      *out = NULL;
      s3_call_drop_checksums(c);
      continue;
    }
    if (!skew_fixed && skewed(c->h, *out, &offset)) {
      skew_fixed = 1;
      /* Keep the correction for every later request of this handle. */
      atomic_store(&c->h->clock_offset, (int_least64_t)offset);
      s3_log(c->h, STORE_LOG_INFO, "s3 '%s': %s: the server's clock differs "
             "from ours by %lld s; signing with the server's time from now "
             "on", c->h->cfg.name, c->op, (long long)offset);
      if (c->src && c->body.sent)
        return rc; /* the body is gone: s3_fail marks it for the host */
      sdk_response_free(*out);
      *out = NULL;
      continue;
    }
    /* A HEAD refused without a word: once more without the checksum mode
     * (the HEAD has no body to resend). */
    if (!suspect && (suspect = s3_cksum_mode_suspect(c, *out))) {
      sdk_response_free(*out);
      *out = NULL;
      s3_call_drop_checksums(c);
      continue;
    }
    return rc;
  }
}

int32_t s3_perform_ok(s3_call *c, sdk_response **out, store_error *err)
{
  int32_t rc = s3_perform(c, out, err);

  if (rc == STORE_OK && !s3_is_2xx(*out))
    rc = s3_fail(c, *out, err);
  else if (rc == STORE_OK)
    rc = s3_body_verify(c, *out, err);
  if (rc && *out) {
    sdk_response_free(*out);
    *out = NULL;
  }
  return rc;
}
