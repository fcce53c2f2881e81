/*
** s3_upload.c -- blob_put for what one PutObject cannot take: bodies of
** unknown length (content_length -1) and bodies over 5 GiB.
**
** Unknown length: the body is read into one buffer of S3_STREAM_PART
** (8 MiB). If it ends inside the first buffer, it goes up as a single
** PutObject from memory (with its real SHA-256 signed). Otherwise it goes
** up as a multipart upload, one buffered part at a time, so memory stays
** one part whatever the size (up to 10000 parts, about 78 GiB; give the
** length for more). A known length over 5 GiB streams each part straight
** from the source, sized to fit 10000 parts. Any failure after the upload
** began aborts it: no orphaned parts (on servers that implement abort).
**
** Checksums: a CRC-32C the options know or ask for goes with every part
** (in memory: its own, known before it goes; streamed: as a trailer when
** the body goes aws-chunked) and, for the whole object, with the
** completion: the options' own when they know it, else the one taken over
** the bytes as they were read. A known MD5 is the whole object's: it goes
** only with the single PutObject.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3.h"

#define MIB (UINT64_C(1) << 20)


/* The parts after begin; tokens[i] gets part i+1's ETag. */
typedef struct upload {
  store_handle *h;
  const char *bucket, *key;
  char id[STORE_ID_SIZE];
  char **tokens;
  uint32_t n;
  uint64_t size;
  int crc_on;                   /* a CRC-32C is known or asked for        */
  uint32_t crc;                 /* of the whole object so far             */
} upload;

/* A source read through, the CRC-32C of what it gave taken as it goes. */
typedef struct crc_src {
  store_read_fn fn;
  void *ctx;
  uint32_t *crc;
} crc_src;

static int32_t crc_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  crc_src *s = ud;
  int32_t rc = s->fn(s->ctx, buf, cap, out_n);

  if (!rc)
    *s->crc = sdk_crc32c(*s->crc, buf, *out_n);
  return rc;
}

static int32_t add_part(upload *u, store_read_fn src, void *ctx, uint64_t len,
                        const store_put_opts *opts, store_error *err)
{
  char token[STORE_ID_SIZE];
  char **t;
  int32_t rc;

  if (u->n == S3_MAX_PARTS)
    return store_error_set(err, STORE_E_INVALID, "s3: PutObject '%s/%s': "
                           "more than 10000 parts of %zu MiB: give the "
                           "length of bodies this large", u->bucket, u->key,
                           S3_STREAM_PART >> 20);
  if (sdk_host_cancelled(u->h->host))
    return store_error_set(err, STORE_E_ABORTED, "s3: PutObject '%s/%s': "
                           "cancelled", u->bucket, u->key);
  rc = s3_multipart_part_checked(u->h, u->bucket, u->key, u->id, u->n + 1,
                                 len, opts, src, ctx, token, sizeof(token),
                                 NULL, err);
  if (rc)
    return rc;
  t = realloc(u->tokens, (u->n + 1) * sizeof(*t));
  if (!t || !(t[u->n] = strdup(token))) {
    if (t)
      u->tokens = t;
    return store_error_set(err, STORE_E_NOMEM, "s3: out of memory");
  }
  u->tokens = t;
  u->n++;
  u->size += len;
  return STORE_OK;
}

/* Parts of a known total, streamed straight from the source (through
 * crc_read, for the completion's CRC-32C), each asking for its own CRC as
 * a trailer. */
static int32_t known_parts(upload *u, store_read_fn src, void *ctx,
                           uint64_t total, store_error *err)
{
  uint64_t psz = (total + S3_MAX_PARTS - 1) / S3_MAX_PARTS;
  crc_src cs = {src, ctx, &u->crc};
  store_put_opts po = {0};
  int32_t rc = STORE_OK;

  po.struct_size = sizeof(po);
  po.trailer_checksums = u->crc_on ? STORE_CKSUM_CRC32C : 0;
  psz = (psz + MIB - 1) / MIB * MIB;
  if (psz < S3_STREAM_PART)
    psz = S3_STREAM_PART;
  for (uint64_t done = 0; !rc && done < total;) {
    uint64_t len = total - done < psz ? total - done : psz;
    sdk_body part; /* one part's worth of the source */
    sdk_body_init(&part, crc_read, &cs, len, 0);
    po.content_length = (int64_t)len;
    rc = add_part(u, sdk_body_read, &part, len, &po, err);
    done += len;
  }
  return rc;
}

/* Parts of an unknown total, one buffer at a time; the first buffer
 * (full) is already in buf. */
static int32_t buffered_parts(upload *u, store_read_fn src, void *ctx,
                              unsigned char *buf, size_t n, store_error *err)
{
  int32_t rc = STORE_OK;

  while (!rc && n) {
    sdk_mem_src m = {buf, n};
    int mode = atomic_load(&u->h->body);
    store_put_opts po = {0};
    po.struct_size = sizeof(po);
    /* In memory, the part's CRC is known before it goes: the server checks
     * it, and the whole object's builds up for the completion. */
    if (u->crc_on) {
      po.checksums = STORE_CKSUM_CRC32C;
      po.crc32c = sdk_crc32c(0, buf, n);
      u->crc = sdk_crc32c(u->crc, buf, n);
    }
    rc = add_part(u, sdk_mem_read, &m, n, &po, err);
    /* A part in memory can go again, where the host could not resend a
     * pipe: once, at once, when the send that failed was aws-chunked and
     * the service has since fallen back to plain bodies. Other failures
     * are the host's to retry. */
    if (rc && err && (err->flags & STORE_ERR_RETRYABLE) &&
        mode != S3_BODY_UNSIGNED &&
        atomic_load(&u->h->body) == S3_BODY_UNSIGNED) {
      m = (sdk_mem_src){buf, n};
      rc = add_part(u, sdk_mem_read, &m, n, &po, err);
    }
    if (!rc && n == S3_STREAM_PART)
      rc = s3_fill(src, ctx, buf, S3_STREAM_PART, &n, u->bucket, u->key,
                   err);
    else
      n = 0;
  }
  return rc;
}

int32_t s3_put_unknown(store_handle *h, const char *bucket, const char *key,
                       const store_put_opts *opts, store_read_fn src,
                       void *src_ctx, store_put_result *out,
                       store_error *err)
{
  int64_t len = STORE_OPT(opts, store_put_opts, content_length, -1);
  upload u = {h, bucket, key, "", NULL, 0, 0, 0, 0};
  store_put_opts fin;
  unsigned char *buf = NULL;
  store_put_opts begin;
  size_t n = 0;
  int begun = 0;
  int32_t rc;

  if (len < 0) {
    buf = malloc(S3_STREAM_PART);
    if (!buf)
      return store_error_set(err, STORE_E_NOMEM, "s3: PutObject '%s/%s': "
                             "out of memory", bucket, key);
    rc = s3_fill(src, src_ctx, buf, S3_STREAM_PART, &n, bucket, key, err);
    if (rc || n < S3_STREAM_PART) {
      if (!rc)
        rc = s3_put_mem(h, bucket, key, opts, buf, n, out, err);
      goto out;
    }
  }
  /* The conditions go to the completion; begin gets type and metadata. */
  memset(&begin, 0, sizeof(begin));
  begin.struct_size = sizeof(begin);
  begin.content_type = STORE_OPT(opts, store_put_opts, content_type, NULL);
  begin.metadata = STORE_OPT(opts, store_put_opts, metadata, NULL);
  begin.nmetadata = STORE_OPT(opts, store_put_opts, nmetadata, 0);
  u.crc_on = ((STORE_OPT(opts, store_put_opts, checksums, 0) |
               STORE_OPT(opts, store_put_opts, trailer_checksums, 0)) &
              STORE_CKSUM_CRC32C) != 0;
  rc = s3_multipart_begin(h, bucket, key, &begin, u.id, sizeof(u.id), err);
  if (rc)
    goto out;
  begun = 1;
  if (len < 0)
    rc = buffered_parts(&u, src, src_ctx, buf, n, err);
  else
    rc = known_parts(&u, src, src_ctx, (uint64_t)len, err);
  /* The completion gets the conditions and the whole object's CRC: the
   * one the options know (which checks the bytes the source gave us, too),
   * else the one the parts built up. */
  memset(&fin, 0, sizeof(fin));
  fin.struct_size = sizeof(fin);
  fin.flags = STORE_OPT(opts, store_put_opts, flags, 0);
  fin.if_match = STORE_OPT(opts, store_put_opts, if_match, NULL);
  fin.checksums = u.crc_on ? STORE_CKSUM_CRC32C : 0;
  fin.crc32c = (STORE_OPT(opts, store_put_opts, checksums, 0) &
                STORE_CKSUM_CRC32C) ? opts->crc32c : u.crc;
  if (!rc)
    rc = s3_multipart_finish(h, bucket, key, u.id,
                             (const char *const *)u.tokens, u.n, &fin, out,
                             err);
  /* The completion's reply may not say the CRC (moto's does not when the
   * parts had none): read back, the size being the one sent. */
  if (!rc && out &&
      STORE_HAS_FIELD(store_put_result, md5, out->struct_size) &&
      !(out->checksums & STORE_CKSUM_CRC32C))
    s3_multipart_readback(h, bucket, key, out);
  if (!rc && out && STORE_HAS_FIELD(store_put_result, size, out->struct_size))
    out->size = u.size;
out:
  if (rc && begun) {
    store_error aerr;
    memset(&aerr, 0, sizeof(aerr));
    aerr.struct_size = sizeof(aerr);
    if (s3_multipart_abort(h, bucket, key, u.id, &aerr))
      s3_log(h, STORE_LOG_WARN, "%s (after a failed upload; its parts may "
             "stay on the server until a lifecycle rule removes them)",
             aerr.message);
  }
  for (uint32_t i = 0; i < u.n; i++)
    free(u.tokens[i]);
  free(u.tokens);
  free(buf);
  return rc;
}
