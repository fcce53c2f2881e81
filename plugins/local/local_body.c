/*
** local_body.c -- moving bytes: from a read callback into a file, from a
** file into a write callback, and file to file (reflink, copy_file_range,
** or read/write). Always in bounded chunks, polling for cancellation.
*/
#include <errno.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "local.h"
#include "sdk_util.h"

#define COPY_STEP ((size_t)64 << 20) /* copy_file_range per call */

/* An upload's source: a read callback, and a declared length or -1 for
 * unknown. */
int32_t lp_check_source(const lp_obj *o, store_read_fn src, int64_t len,
                        store_error *err)
{
  if (!src || len < -1)
    return lp_obj_fail(o, err, STORE_E_INVALID, 0,
                       "no read callback, or content_length %" PRId64
                       " below -1", len);
  return STORE_OK;
}

/* Pull the body from src into fd until src reports EOF. With expect >= 0
 * the body must be exactly that long (INVALID otherwise). With out_crc,
 * *out_crc is the CRC-32C of the bytes written, summed as they pass. */
int32_t lp_stream_in(const lp_obj *o, int fd, store_read_fn src, void *ctx,
                     int64_t expect, uint32_t *out_crc, store_error *err)
{
  char *buf = malloc(LP_CHUNK);
  uint64_t total = 0;
  uint32_t crc = 0;
  int32_t rc = STORE_OK;
  int e;

  if (!buf)
    return lp_obj_fail(o, err, STORE_E_NOMEM, ENOMEM, "buffer");
  for (;;) {
    size_t n = 0;
    if (lp_cancelled(o->h)) {
      rc = lp_obj_fail(o, err, STORE_E_ABORTED, 0, "cancelled");
      goto out;
    }
    if (src(ctx, buf, LP_CHUNK, &n)) {
      rc = lp_obj_fail(o, err, STORE_E_ABORTED, 0,
                       "the read callback stopped the upload");
      goto out;
    }
    if (n == 0)
      break;
    if (n > LP_CHUNK) {
      rc = lp_obj_fail(o, err, STORE_E_INTERNAL, 0,
                       "the read callback returned %zu bytes, more than "
                       "the %zu asked for", n, LP_CHUNK);
      goto out;
    }
    if (expect >= 0 && total + n > (uint64_t)expect) {
      rc = lp_obj_fail(o, err, STORE_E_INVALID, 0,
                       "body longer than the declared %" PRId64 " bytes",
                       expect);
      goto out;
    }
    e = lp_write_all(fd, buf, n);
    if (e) {
      rc = lp_obj_fail(o, err, 0, e, "write failed");
      goto out;
    }
    if (out_crc)
      crc = sdk_crc32c(crc, buf, n);
    total += n;
  }
  if (expect >= 0 && total != (uint64_t)expect) {
    rc = lp_obj_fail(o, err, STORE_E_INVALID, 0,
                     "short body: got %" PRIu64 " of the declared %" PRId64
                     " bytes", total, expect);
    goto out;
  }
  if (out_crc)
    *out_crc = crc;
out:
  free(buf);
  return rc;
}

/* Push len bytes of fd from off into sink (fewer if the file is shorter). */
int32_t lp_stream_out(const lp_obj *o, int fd, uint64_t off, uint64_t len,
                      store_write_fn sink, void *ctx, store_error *err)
{
  char *buf = NULL;
  int32_t rc = STORE_OK;

  if (len == 0)
    return STORE_OK;
  buf = malloc(LP_CHUNK);
  if (!buf)
    return lp_obj_fail(o, err, STORE_E_NOMEM, ENOMEM, "buffer");
  while (len > 0) {
    size_t want = len < LP_CHUNK ? (size_t)len : LP_CHUNK;
    ssize_t n;
    if (lp_cancelled(o->h)) {
      rc = lp_obj_fail(o, err, STORE_E_ABORTED, 0, "cancelled");
      goto out;
    }
    n = pread(fd, buf, want, (off_t)off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      rc = lp_obj_fail(o, err, 0, errno, "read failed");
      goto out;
    }
    if (n == 0)
      break;
    if (sink(ctx, buf, (size_t)n)) {
      rc = lp_obj_fail(o, err, STORE_E_ABORTED, 0,
                       "the write callback stopped the download");
      goto out;
    }
    off += (uint64_t)n;
    len -= (uint64_t)n;
  }
out:
  free(buf);
  return rc;
}

/* Copy with read/write: works everywhere. */
static int32_t copy_rw(const lp_obj *o, int dst, uint64_t dst_off, int src,
                       uint64_t src_off, uint64_t len, store_error *err)
{
  char *buf = malloc(LP_CHUNK);
  int32_t rc = STORE_OK;

  if (!buf)
    return lp_obj_fail(o, err, STORE_E_NOMEM, ENOMEM, "buffer");
  while (len > 0) {
    size_t want = len < LP_CHUNK ? (size_t)len : LP_CHUNK;
    ssize_t n, w;
    if (lp_cancelled(o->h)) {
      rc = lp_obj_fail(o, err, STORE_E_ABORTED, 0, "cancelled");
      goto out;
    }
    n = pread(src, buf, want, (off_t)src_off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      rc = lp_obj_fail(o, err, STORE_E_IO, n < 0 ? errno : 0,
                       "copy: %s", n < 0 ? "read failed"
                                         : "the source shrank while copying");
      goto out;
    }
    for (ssize_t done = 0; done < n; done += w) {
      w = pwrite(dst, buf + done, (size_t)(n - done),
                 (off_t)(dst_off + (uint64_t)done));
      if (w < 0 && errno == EINTR)
        w = 0;
      else if (w < 0) {
        rc = lp_obj_fail(o, err, 0, errno, "copy: write failed");
        goto out;
      }
    }
    src_off += (uint64_t)n;
    dst_off += (uint64_t)n;
    len -= (uint64_t)n;
  }
out:
  free(buf);
  return rc;
}

/* Copy len bytes from the start of src to dst at dst_off. With may_clone
 * (dst empty, dst_off 0, len = all of src) try a reflink first; then
 * in-kernel copy_file_range; then plain read/write. */
int32_t lp_copy_data(const lp_obj *o, int dst, uint64_t dst_off, int src,
                     uint64_t len, int may_clone, store_error *err)
{
  loff_t in = 0, out = (loff_t)dst_off;

  if (may_clone && dst_off == 0 && ioctl(dst, FICLONE, src) == 0)
    return STORE_OK;
  while (len > 0) {
    ssize_t n;
    if (lp_cancelled(o->h))
      return lp_obj_fail(o, err, STORE_E_ABORTED, 0, "cancelled");
    n = copy_file_range(src, &in, dst, &out,
                        len < COPY_STEP ? (size_t)len : COPY_STEP, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
                  errno == EOPNOTSUPP || errno == EBADF))
      return copy_rw(o, dst, (uint64_t)out, src, (uint64_t)in, len, err);
    if (n < 0)
      return lp_obj_fail(o, err, 0, errno, "copy failed");
    if (n == 0)
      return lp_obj_fail(o, err, STORE_E_IO, 0,
                         "copy: the source shrank while copying");
    len -= (uint64_t)n;
  }
  return STORE_OK;
}
