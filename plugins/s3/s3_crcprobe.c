/*
** s3_crcprobe.c -- does the server check x-amz-checksum-crc32c?
**
** Over plain http the MD5 of a streamed body is compared with the ETag
** (s3_body.c). A body that goes with its CRC-32C known before sending may
** skip that MD5 only on a server that checks the CRC and refuses a body
** that does not match it, as S3 does (BadDigest). Answering with the CRC
** it was sent proves nothing: moto keeps and returns it unchecked. So the
** proof is asked for, once per handle, when the first body worth it (1 MiB
** or more, with a known CRC-32C, over http) is about to go: a PutObject of
** a few bytes under a temporary key in the same bucket, sent with a WRONG
** x-amz-checksum-crc32c. A refusal naming a checksum mismatch proves the
** check. A 2xx proves the opposite (the object is deleted again). Anything
** else (403, a network error) proves nothing: the MD5 stays. The probe
** never fails the upload that asked for it.
*/
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "s3.h"

#define PROBE_BODY "xtstore: does this server check x-amz-checksum-crc32c?\n"

static int probe_key(char *out, size_t cap)
{
  unsigned char raw[8];
  char hex[2 * sizeof(raw) + 1];

  if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
    return -1;
  sdk_hex(raw, sizeof(raw), hex);
  snprintf(out, cap, "%s%s", S3_CRC_PROBE_PREFIX, hex);
  return 0;
}

/* A 2xx to the probe: the object it made goes again, its version if the
 * bucket keeps versions (best effort: a failure is said at debug). */
static void remove_probe(store_handle *h, const char *bucket,
                         const char *key, const sdk_response *resp)
{
  const char *vid = sdk_response_header(resp, "x-amz-version-id");
  store_error err;

  s3_err_init(&err);
  if (s3_delete_object(h, bucket, key, s3_version_is_real(vid) ? vid : NULL,
                       NULL, &err))
    s3_log(h, STORE_LOG_DEBUG, "s3 '%s': the checksum probe '%s/%s' could "
           "not be deleted: %s", h->cfg.name, bucket, key, err.message);
}

/* The probe itself: S3_CRC_CHECKS or S3_CRC_UNCHECKED, said at info. */
static int probe(store_handle *h, const char *bucket)
{
  const size_t len = sizeof(PROBE_BODY) - 1;
  char key[sizeof(S3_CRC_PROBE_PREFIX) + 16];
  sdk_response *resp = NULL;
  s3_err_info info = {0};
  store_error err;
  s3_call c;
  int state = S3_CRC_UNCHECKED;
  long status = 0;
  int32_t rc;

  memset(&c, 0, sizeof(c));
  s3_err_init(&err);
  rc = probe_key(key, sizeof(key))
         ? store_error_set(&err, STORE_E_INTERNAL, "no random bytes for "
                           "its key")
         : s3_call_init(&c, h, "PutObject", "PUT", bucket, key, &err);
  if (rc)
    goto out;
  s3_call_body_mem(&c, PROBE_BODY, len);
  /* The CRC-32C inverted: never the body's. */
  rc = s3_call_crc32c(&c, ~sdk_crc32c(0, PROBE_BODY, len), &err);
  if (!rc)
    rc = s3_call_header(&c, "x-amz-sdk-checksum-algorithm", "CRC32C", &err);
  if (!rc)
    rc = s3_perform(&c, &resp, &err);
  if (rc)
    goto out;
  status = sdk_response_status(resp);
  if (s3_is_2xx(resp)) {
    remove_probe(h, bucket, key, resp);
  } else {
    s3_err_parse(resp, &info);
    if (status == 400 && s3_is_checksum_mismatch(info.code, info.message))
      state = S3_CRC_CHECKS;
  }
out:
  if (state == S3_CRC_CHECKS)
    s3_log(h, STORE_LOG_INFO, "s3 '%s': the server checks "
           "x-amz-checksum-crc32c (it refused a wrong one: %s): the MD5 is "
           "not summed for bodies sent with a known CRC-32C", h->cfg.name,
           info.code);
  else if (rc)
    s3_log(h, STORE_LOG_INFO, "s3 '%s': whether the server checks "
           "x-amz-checksum-crc32c is not known (the probe failed: %s): the "
           "MD5 is kept", h->cfg.name, err.message);
  else if (s3_is_2xx(resp))
    s3_log(h, STORE_LOG_INFO, "s3 '%s': the server does not check "
           "x-amz-checksum-crc32c (it took a wrong one): the MD5 is kept",
           h->cfg.name);
  else
    s3_log(h, STORE_LOG_INFO, "s3 '%s': whether the server checks "
           "x-amz-checksum-crc32c is not known (the probe got HTTP %ld%s%s): "
           "the MD5 is kept", h->cfg.name, status, info.code ? " " : "",
           info.code ? info.code : "");
  s3_err_info_free(&info);
  sdk_response_free(resp);
  s3_call_free(&c);
  return state;
}

int s3_crc_proven(s3_call *c)
{
  store_handle *h = c->h;
  int state = S3_CRC_UNPROBED;

  if (c->bucket &&
      atomic_compare_exchange_strong(&h->crc_probe, &state, S3_CRC_PROBING))
    atomic_store(&h->crc_probe, probe(h, c->bucket));
  return atomic_load(&h->crc_probe) == S3_CRC_CHECKS;
}
