/*
** s3_checksum.c -- the ABI 1.1 checksum contract in S3's terms.
**
** Sent: x-amz-checksum-crc32c (with x-amz-sdk-checksum-algorithm, which
** some servers need before they keep the value) and Content-MD5, so that
** the server refuses a body that does not match; for a streamed body whose
** CRC is not known in advance, a trailer (s3_body.c) when the body goes
** aws-chunked. Reported: the CRC-32C the server returns, only a
** full-object one (a composite "...-N" is a checksum of checksums), and
** the MD5 a single-part ETag is.
**
** A server that refuses the headers themselves (NotImplemented, or a bad
** argument naming a checksum, AWS's "Checksum Type mismatch", but not a
** mismatch of the body) makes the service stop sending them, said once,
** like the aws-chunked fallback of s3_body.c. x-amz-checksum-mode goes only
** where the CRC is used (GetObject, HeadObject for stat and after a
** multipart completion); a HEAD with it answered 403 or 501 without a body
** is sent once more without it (SSE-KMS objects want kms:Decrypt for the
** checksum; a server may not know the header).
*/
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "s3.h"

static int32_t nomem(const s3_call *c, store_error *err)
{
  return s3_fail_msg(c, err, STORE_E_NOMEM, "out of memory");
}

int32_t s3_call_crc32c(s3_call *c, uint32_t crc, store_error *err)
{
  sdk_buf b64 = SDK_BUF_INIT;
  int32_t rc;

  if (sdk_crc32c_base64(crc, &b64))
    rc = nomem(c, err);
  else
    rc = s3_call_header(c, S3_CRC_HEADER, b64.data, err);
  sdk_buf_free(&b64);
  if (!rc)
    c->cksum_sent = 1;
  return rc;
}

/* x-amz-checksum-crc32c: base64(crc) of the body, and the algorithm
 * named. */
static int32_t crc_header(s3_call *c, uint32_t crc, store_error *err)
{
  int32_t rc = s3_call_crc32c(c, crc, err);

  if (!rc)
    rc = s3_call_header(c, "x-amz-sdk-checksum-algorithm", "CRC32C", err);
  if (!rc) {
    c->crc_known = 1;
    c->crc_sent = crc;
  }
  return rc;
}

int32_t s3_call_checksums(s3_call *c, const store_put_opts *opts,
                          store_error *err)
{
  uint32_t known = STORE_OPT(opts, store_put_opts, checksums, 0);
  uint32_t trailer = STORE_OPT(opts, store_put_opts, trailer_checksums, 0);
  sdk_buf b64 = SDK_BUF_INIT;
  int32_t rc = STORE_OK;

  if ((known & STORE_CKSUM_MD5) &&
      STORE_HAS_FIELD(store_put_opts, md5, opts->struct_size)) {
    if (sdk_base64_encode(&b64, opts->md5, sizeof(opts->md5)))
      rc = nomem(c, err);
    else
      rc = s3_call_header(c, "Content-MD5", b64.data, err);
    sdk_buf_free(&b64);
  }
  if (rc || atomic_load(&c->h->cksum_off))
    return rc;
  if (known & STORE_CKSUM_CRC32C)
    return crc_header(c, opts->crc32c, err);
  if (!(trailer & STORE_CKSUM_CRC32C))
    return STORE_OK;
  /* A body in memory has its CRC before it goes: a header, which every
   * server that knows the checksums takes, rather than a trailer. */
  if (c->mem)
    return crc_header(c, sdk_crc32c(0, c->mem, c->mem_len), err);
  c->crc_trailer = 1;
  return STORE_OK;
}

int32_t s3_call_checksum_mode(s3_call *c, store_error *err)
{
  int32_t rc;

  if (atomic_load(&c->h->cksum_off))
    return STORE_OK;
  rc = s3_call_header(c, "x-amz-checksum-mode", "ENABLED", err);
  if (!rc)
    c->cksum_sent = 1;
  return rc;
}

static int mentions_checksum(const char *s)
{
  for (; s && *s; s++)
    if (!strncasecmp(s, "checksum", 8) || !strncasecmp(s, "crc32c", 6))
      return 1;
  return 0;
}

static int mentions(const char *s, const char *what)
{
  for (size_t n = strlen(what); s && *s; s++)
    if (!strncasecmp(s, what, n))
      return 1;
  return 0;
}

/* A mismatch in S3's words: "The CRC32C you specified did not match the
 * calculated checksum", "... does not match what was computed". Not
 * "Checksum Type mismatch": that one is about the upload's declared type,
 * and sending the body again cannot change it. */
static int says_mismatch(const char *s)
{
  return mentions(s, "did not match") || mentions(s, "does not match");
}

int s3_is_checksum_mismatch(const char *code, const char *message)
{
  if (!code)
    return 0;
  if (!strcmp(code, "BadDigest") ||
      !strcmp(code, "XAmzContentChecksumMismatch"))
    return 1;
  return !strcmp(code, "InvalidRequest") && mentions_checksum(message) &&
         says_mismatch(message);
}

/* A refusal of the checksum headers, not of the body: a server that does
 * not know them (NotImplemented, or a bad argument naming a checksum),
 * AWS's "Checksum Type mismatch occurred, expected checksum Type: null"
 * (parts of an upload begun without a checksum type) and "Value for
 * x-amz-checksum-crc32c header is invalid". */
static int says_refused(const char *code, const char *message)
{
  if (!code || !mentions_checksum(message) || says_mismatch(message))
    return 0;
  if (!strcmp(code, "NotImplemented") || !strcmp(code, "InvalidArgument") ||
      !strcmp(code, "UnsupportedHeader"))
    return 1;
  return !strcmp(code, "InvalidRequest") &&
         (mentions(message, "checksum type mismatch") ||
          mentions(message, "header is invalid"));
}

/* Stop sending checksums for this handle; said once, by the thread that
 * makes the change (s3_log cleans the server's words of control bytes). */
static void fall_back(s3_call *c, const char *code, const char *message,
                      const char *what)
{
  int off = 0;

  if (atomic_compare_exchange_strong(&c->h->cksum_off, &off, 1))
    s3_log(c->h, STORE_LOG_WARN, "s3 '%s': %s: the server refused the %s "
           "(%s: %s); sending none from now on, so it reports no CRC-32C "
           "(uploads are still checked by size and, over http, MD5)",
           c->h->cfg.name, c->op, what, code ? code : "?",
           message ? message : "no message");
}

void s3_call_drop_checksums(s3_call *c)
{
  static const char *const names[] = {
    S3_CRC_HEADER, "x-amz-sdk-checksum-algorithm", "x-amz-checksum-mode",
    "x-amz-checksum-algorithm", "x-amz-checksum-type", "x-amz-trailer",
  };

  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    sdk_request_set_header(c->req, names[i], NULL);
  c->cksum_sent = 0;
  c->crc_trailer = 0;
  c->crc_known = 0;
}

int s3_cksum_xml_refused(s3_call *c, const sdk_response *resp)
{
  s3_err_info info;
  int refused;

  if (sdk_response_status(resp) != 400)
    return 0;
  s3_err_parse(resp, &info);
  refused = info.code && !strcmp(info.code, "MalformedXML");
  if (refused)
    fall_back(c, info.code, info.message,
              "parts' ChecksumCRC32C in the completion's XML");
  s3_err_info_free(&info);
  return refused;
}

int s3_cksum_refused(s3_call *c, const sdk_response *resp)
{
  long status = sdk_response_status(resp);
  s3_err_info info;
  int refused;

  if (!c->cksum_sent || (status != 400 && status != 501))
    return 0;
  s3_err_parse(resp, &info);
  refused = says_refused(info.code, info.message);
  if (refused)
    fall_back(c, info.code, info.message, "x-amz-checksum headers");
  s3_err_info_free(&info);
  return refused;
}

/* A HEAD answer has no body to say why it failed. */
long s3_cksum_mode_suspect(const s3_call *c, const sdk_response *resp)
{
  long status = sdk_response_status(resp);

  if (!c->cksum_sent || strcmp(c->method, "HEAD") ||
      (status != 403 && status != 501))
    return 0;
  return status;
}

void s3_cksum_mode_settle(s3_call *c, long first, const sdk_response *resp)
{
  if (first == 501 && s3_is_2xx(resp))
    fall_back(c, "NotImplemented", "HTTP 501 to a HEAD with "
              "x-amz-checksum-mode, 200 without", "x-amz-checksum-mode "
              "header");
}

/* Only FULL_OBJECT is taken for a type: the others AWS names are
 * composite. */
int s3_full_crc32c(const char *value, const char *type, uint32_t *out)
{
  if (!value || strchr(value, '-') ||
      (type && strcasecmp(type, "FULL_OBJECT")))
    return -1;
  return sdk_crc32c_parse(value, out);
}

int s3_resp_crc32c(const sdk_response *resp, uint32_t *out)
{
  return s3_full_crc32c(sdk_response_header(resp, S3_CRC_HEADER),
                        sdk_response_header(resp, "x-amz-checksum-type"),
                        out);
}

void s3_result_checksums(const sdk_response *resp, int with_md5,
                         store_put_result *out)
{
  char hex[33];
  uint32_t crc;

  if (!out || !STORE_HAS_FIELD(store_put_result, md5, out->struct_size))
    return;
  if (s3_resp_crc32c(resp, &crc) == 0) {
    out->checksums |= STORE_CKSUM_CRC32C;
    out->crc32c = crc;
  }
  if (with_md5 && s3_resp_md5(resp, hex) == 0 &&
      sdk_unhex(hex, out->md5, sizeof(out->md5)) == 0)
    out->checksums |= STORE_CKSUM_MD5;
}

int32_t s3_token_make(const char *etag, int has_crc, uint32_t crc,
                      char *out, size_t cap)
{
  sdk_buf b64 = SDK_BUF_INIT;
  int n;

  if (has_crc && sdk_crc32c_base64(crc, &b64))
    return STORE_E_NOMEM;
  n = snprintf(out, cap, "%s%s%s", etag, has_crc ? S3_TOKEN_CRC : "",
               has_crc ? b64.data : "");
  sdk_buf_free(&b64);
  return n < 0 || (size_t)n >= cap ? STORE_E_INTERNAL : STORE_OK;
}

size_t s3_token_split(const char *token, const char **crc_b64)
{
  const char *at = strstr(token, S3_TOKEN_CRC);

  *crc_b64 = at ? at + sizeof(S3_TOKEN_CRC) - 1 : NULL;
  return at ? (size_t)(at - token) : strlen(token);
}
