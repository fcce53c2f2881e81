/*
** s3_body.c -- request bodies from the ABI's read callbacks: a buffer
** filled from the source (its failures in S3's words), and aws-chunked
** bodies.
**
** aws-chunked (STREAMING-AWS4-HMAC-SHA256-PAYLOAD): the source cut into
** 64 KiB chunks, each framed as
**   hex(size);chunk-signature=<sig>\r\n<data>\r\n
** with every signature chained from the request's seed signature, then a
** final empty chunk. So a body streamed over plain http is signed end to
** end without reading it twice. The framed length is known in advance
** (sdk_sigv4_chunked_length) and sent as Content-Length.
**
** With a trailer (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER) the final
** chunk's header is followed by the CRC-32C of the data, taken as it is
** framed, and the trailer's signature, chained from the final chunk's:
**   0;chunk-signature=<sig>\r\n
**   x-amz-checksum-crc32c:<base64>\r\n
**   x-amz-trailer-signature:<sig>\r\n
**   \r\n
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3.h"

struct s3_chunked {
  sdk_sigv4_chunker ch;         /* holds a key copy: wiped on free       */
  store_read_fn src;
  void *ctx;
  uint64_t left;                /* source bytes not yet framed           */
  int final_sent;
  int trailer;                  /* send the CRC-32C as a signed trailer  */
  uint32_t crc;                 /* of the data framed so far             */
  char hdr[SDK_SIGV4_CHUNK_HDR_MAX + S3_TRAILER_LEN];
  size_t hlen;
  unsigned char data[S3_CHUNK];
  size_t dlen;
  size_t pos;                   /* read position in hdr+data+CRLF        */
};

int32_t s3_chunked_new(store_handle *h, const sdk_sigv4_result *seed,
                       store_read_fn src, void *src_ctx, uint64_t len,
                       int trailer, s3_chunked **out, store_error *err)
{
  s3_chunked *c = calloc(1, sizeof(*c));

  *out = NULL;
  if (!c || sdk_sigv4_chunk_begin(h->signer, seed, &c->ch)) {
    free(c);
    return store_error_set(err, STORE_E_NOMEM, "s3: cannot start an "
                           "aws-chunked body");
  }
  c->src = src;
  c->ctx = src_ctx;
  c->left = len;
  c->final_sent = 0;
  c->trailer = trailer;
  *out = c;
  return STORE_OK;
}

void s3_chunked_free(s3_chunked *c)
{
  if (!c)
    return;
  sdk_sigv4_chunk_end(&c->ch);
  free(c);
}

/* After the final chunk's header: the trailer lines; the frame's closing
 * CRLF ends the trailer block. 0 or -1. */
static int add_trailer(s3_chunked *c)
{
  sdk_buf b64 = SDK_BUF_INIT;
  store_kv t;
  char sig[65];
  int rc = -1;

  if (sdk_crc32c_base64(c->crc, &b64) == 0) {
    t.key = S3_CRC_HEADER;
    t.value = b64.data;
    if (sdk_sigv4_trailer_sign(&c->ch, &t, 1, sig) == 0) {
      int n = snprintf(c->hdr + c->hlen, sizeof(c->hdr) - c->hlen,
                       "%s:%s\r\nx-amz-trailer-signature:%s\r\n",
                       S3_CRC_HEADER, b64.data, sig);
      if (n > 0 && (size_t)n == S3_TRAILER_LEN) {
        c->hlen += (size_t)n;
        rc = 0;
      }
    }
  }
  sdk_buf_free(&b64);
  return rc;
}

/* Read, sign and frame the next chunk (the final empty one after the
 * data). -1 when the source stops or ends before its declared length. */
static int next_frame(s3_chunked *c)
{
  size_t want = c->left < S3_CHUNK ? (size_t)c->left : S3_CHUNK;
  char sig[65];

  c->dlen = 0;
  while (c->dlen < want) {
    size_t got = 0;
    if (c->src(c->ctx, c->data + c->dlen, want - c->dlen, &got) || !got)
      return -1;
    c->dlen += got;
  }
  c->left -= want;
  if (!want)
    c->final_sent = 1;
  if (c->trailer)
    c->crc = sdk_crc32c(c->crc, c->data, c->dlen);
  if (sdk_sigv4_chunk_sign(&c->ch, c->data, c->dlen, sig))
    return -1;
  c->hlen = sdk_sigv4_chunk_header(c->dlen, sig, c->hdr);
  c->pos = 0;
  return c->final_sent && c->trailer ? add_trailer(c) : 0;
}

int32_t s3_chunked_read(void *ctx, void *buf, size_t cap, size_t *out_n)
{
  s3_chunked *c = ctx;
  unsigned char *o = buf;
  size_t n = 0;

  while (n < cap) {
    size_t frame = c->hlen + c->dlen + 2, take;
    if (c->pos == frame || !c->hlen) {
      if (c->final_sent && c->hlen)
        break;
      if (next_frame(c))
        return 1;
      frame = c->hlen + c->dlen + 2;
    }
    if (c->pos < c->hlen) {
      take = c->hlen - c->pos < cap - n ? c->hlen - c->pos : cap - n;
      memcpy(o + n, c->hdr + c->pos, take);
    } else if (c->pos < c->hlen + c->dlen) {
      size_t at = c->pos - c->hlen;
      take = c->dlen - at < cap - n ? c->dlen - at : cap - n;
      memcpy(o + n, c->data + at, take);
    } else {
      size_t at = c->pos - c->hlen - c->dlen;
      take = 2 - at < cap - n ? 2 - at : cap - n;
      memcpy(o + n, "\r\n" + at, take);
    }
    c->pos += take;
    n += take;
  }
  *out_n = n;
  return 0;
}

/* Fill buf[0..cap) from src until full or end of data; *n is the count.
 * ABORTED (the callback's refusal), INTERNAL (it gave more than asked) or
 * OK. */
int32_t s3_fill(store_read_fn src, void *ctx, unsigned char *buf, size_t cap,
                size_t *n, const char *bucket, const char *key,
                store_error *err)
{
  char why[128];
  int32_t code = sdk_body_failure(sdk_fill(src, ctx, buf, cap, n, NULL), 0,
                                  why, sizeof(why));

  if (code)
    return store_error_set(err, code, "s3: PutObject '%s/%s': %s", bucket,
                           key, why);
  return STORE_OK;
}

/* ------------------------------------------------------------------------ */
/* what the server stored                                                   */
/* ------------------------------------------------------------------------ */
/*
** Some S3-compatible servers do not decode aws-chunked bodies: s3rver
** stores the framing as the object's bytes and answers 200; Swift's s3api
** refuses them (NotImplemented). So the first aws-chunked uploads of a
** handle, and every upload sent without a payload signature over plain
** http, take the MD5 of what they send and compare it with the ETag that
** PutObject and UploadPart return (the MD5 of the stored bytes on S3 and
** its clones, but for SSE-KMS objects). A wrong object is never left
** behind reported as written.
**
** The exception: a body of 1 MiB or more that goes with its CRC-32C known
** in advance (x-amz-checksum-crc32c), to a server that refused a probe
** sent with a wrong one (s3_crcprobe.c: it checks them, as S3 does) and
** has answered an upload with the very CRC it was sent; the MD5 (~1.4 CPU
** s/GiB) would check the body again. An echo alone proves nothing (moto
** echoes without checking). Such a body's own answer must still echo its
** CRC, else the upload fails (retryable) and the handle goes back to the
** MD5 until the next echo.
*/

int32_t s3_md5_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  s3_call *c = ud;
  int32_t rc = sdk_body_read(&c->body, buf, cap, out_n);

  if (rc == 0 && *out_n && sdk_digest_update(c->md5, buf, *out_n))
    return STORE_E_NOMEM;
  return rc;
}

int32_t s3_md5_wire_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  s3_call *c = ud;
  int32_t rc = s3_chunked_read(c->wire, buf, cap, out_n);

  if (rc == 0 && *out_n && sdk_digest_update(c->md5_wire, buf, *out_n))
    return STORE_E_NOMEM;
  return rc;
}

int s3_body_fallback(s3_call *c, const char *why)
{
  store_handle *h = c->h;
  int from = c->sent_as;

  if (from == S3_BODY_UNSIGNED)
    return 0;
  /* Said once per handle: the thread that makes the change says it. */
  if (atomic_compare_exchange_strong(&h->body, &from, S3_BODY_UNSIGNED))
    s3_log(h, STORE_LOG_WARN, "s3 '%s': the server %s: it does not decode "
           "aws-chunked bodies ('payload-signing: streaming'); sending "
           "UNSIGNED-PAYLOAD bodies, checked by MD5, from now on",
           h->cfg.name, why);
  return 1;
}

/* Remove the object version a wrong PutObject made; a failure to do so is
 * added to err's message. */
static void remove_wrong(s3_call *c, const sdk_response *resp,
                         store_error *err)
{
  const char *vid = sdk_response_header(resp, "x-amz-version-id");
  sdk_response *dresp = NULL;
  store_error derr;
  s3_call d;
  size_t used;
  int32_t rc;

  memset(&derr, 0, sizeof(derr));
  derr.struct_size = sizeof(derr);
  rc = s3_call_init(&d, c->h, "DeleteObject", "DELETE", c->bucket, c->key,
                    &derr);
  if (rc)
    goto out;
  if (s3_version_is_real(vid))
    rc = s3_call_query(&d, "versionId", vid, &derr);
  if (!rc)
    rc = s3_perform_ok(&d, &dresp, &derr);
  sdk_response_free(dresp);
  s3_call_free(&d);
out:
  if (!err)
    return;
  used = strlen(err->message);
  if (used < sizeof(err->message))
    snprintf(err->message + used, sizeof(err->message) - used, rc
             ? "; removing it failed: %s"
             : s3_version_is_real(vid)
               ? "; that version removed"
               : "; removed, and an object it replaced is gone",
             derr.message);
}

/* Final MD5 of *d as hex into out (33 bytes); frees *d. 0 or -1. */
static int digest_hex(sdk_digest **d, char out[33])
{
  unsigned char sum[16];
  int rc = sdk_digest_final(*d, sum); /* frees it */

  *d = NULL;
  if (rc == 0)
    sdk_hex(sum, sizeof(sum), out);
  return rc;
}

/* The CRC-32C the answer echoes, against the one sent: note that the
 * server echoes them (the second guard of the MD5's skip), or refuse a
 * body sent without its MD5 whose answer does not confirm its CRC. */
static int32_t crc_echo(s3_call *c, const sdk_response *resp,
                        store_error *err)
{
  uint32_t got;
  int echoed;
  int32_t rc;

  if (!c->crc_known)
    return STORE_OK;
  echoed = s3_resp_crc32c(resp, &got) == 0;
  if (echoed && got == c->crc_sent) {
    atomic_store(&c->h->crc_checked, 1);
    return STORE_OK;
  }
  /* Checked by its MD5 (or TLS): a CRC that differs is reported as the
   * server's, for the host to compare. */
  if (!c->md5_skipped)
    return STORE_OK;
  atomic_store(&c->h->crc_checked, 0);
  if (echoed)
    rc = s3_fail_msg(c, err, STORE_E_IO, "the server reports CRC-32C "
                     "%08" PRIx32 " for the body sent with CRC-32C "
                     "%08" PRIx32, got, c->crc_sent);
  else
    rc = s3_fail_msg(c, err, STORE_E_IO, "the server did not confirm the "
                     "CRC-32C %08" PRIx32 " sent with the body, as it did "
                     "before: the body is unverified (bodies are summed by "
                     "MD5 again until an answer confirms its CRC-32C)",
                     c->crc_sent);
  if (err)
    err->flags |= STORE_ERR_RETRYABLE;
  if (!strcmp(c->op, "PutObject"))
    remove_wrong(c, resp, err);
  return rc;
}

int32_t s3_body_verify(s3_call *c, const sdk_response *resp,
                       store_error *err)
{
  char want[33], got[33], wire[33] = "", name[512];
  int chunked = c->sent_as != S3_BODY_UNSIGNED;
  int framing;
  int32_t rc = crc_echo(c, resp, err);

  if (rc || !c->md5)
    return rc;
  if (digest_hex(&c->md5, want) ||
      (c->md5_wire && digest_hex(&c->md5_wire, wire)))
    return s3_fail_msg(c, err, STORE_E_NOMEM, "out of memory");
  if (s3_resp_md5(resp, got))
    return STORE_OK; /* no MD5 to compare: nothing learnt either way */
  if (!strcmp(want, got)) {
    int from = S3_BODY_CHUNKED;
    s3_log(c->h, STORE_LOG_DEBUG, "s3 '%s': %s '%s': the ETag is the MD5 "
           "of the bytes sent", c->h->cfg.name, c->op,
           s3_object_name(c, name, sizeof(name)));
    if (chunked)
      atomic_compare_exchange_strong(&c->h->body, &from, S3_BODY_CHUNKED_OK);
    return STORE_OK;
  }
  /* The MD5 of what went over the wire, framing and all: the server kept
   * the framing. Anything else: the bytes changed on the way. */
  framing = chunked && *wire && !strcmp(wire, got);
  if (framing)
    s3_body_fallback(c, "stored an aws-chunked upload's framing as data");
  rc = s3_fail_msg(c, err, STORE_E_IO, "%s (ETag %s, MD5 sent %s)",
                   framing ? "the server stored the aws-chunked framing"
                           : "other bytes arrived than were sent",
                   got, want);
  /* The next send is right: plain now, or this was damage in flight. */
  if (err)
    err->flags |= STORE_ERR_RETRYABLE;
  if (!strcmp(c->op, "PutObject"))
    remove_wrong(c, resp, err);
  return rc;
}
