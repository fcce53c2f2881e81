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
*/
#include <stdlib.h>
#include <string.h>

#include "s3.h"

struct s3_chunked {
  sdk_sigv4_chunker ch;         /* holds a key copy: wiped on free       */
  store_read_fn src;
  void *ctx;
  uint64_t left;                /* source bytes not yet framed           */
  int final_sent;
  char hdr[SDK_SIGV4_CHUNK_HDR_MAX];
  size_t hlen;
  unsigned char data[S3_CHUNK];
  size_t dlen;
  size_t pos;                   /* read position in hdr+data+CRLF        */
};

int32_t s3_chunked_new(store_handle *h, const sdk_sigv4_result *seed,
                       store_read_fn src, void *src_ctx, uint64_t len,
                       s3_chunked **out, store_error *err)
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
  if (sdk_sigv4_chunk_sign(&c->ch, c->data, c->dlen, sig))
    return -1;
  c->hlen = sdk_sigv4_chunk_header(c->dlen, sig, c->hdr);
  c->pos = 0;
  return 0;
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
  switch (sdk_fill(src, ctx, buf, cap, n, NULL)) {
  case SDK_BODY_ABORTED:
    return store_error_set(err, STORE_E_ABORTED, "s3: PutObject '%s/%s': "
                           "stopped by the read callback", bucket, key);
  case SDK_BODY_BAD:
    return store_error_set(err, STORE_E_INTERNAL, "s3: PutObject '%s/%s': "
                           "the read callback returned more bytes than "
                           "asked for", bucket, key);
  default:
    return STORE_OK;
  }
}
