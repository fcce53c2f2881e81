/*
** local_cksum.c -- the CRC-32C a blob was written with, kept beside it so
** entries can report it for as long as it still describes the file.
**
** The record is the user xattr user.xtstore.crc32c, "CRC SIZE MTIME_NS"
** (8 hex digits, then decimal), set on the temp file before it is renamed
** into place, so the blob and its record appear together. Files under the
** root may be changed by anyone, without xtstore: a change moves the
** file's size or mtime, and a record whose size and mtime are not the
** file's is ignored, because a stale CRC would fail every download of a
** file that is fine. The record is kept whatever `metadata` says (it is
** not user metadata); where user xattrs are missing there is none, and
** entries carry no CRC.
**
** A CRC the caller gives with the body is checked, as a server checks
** x-amz-checksum-crc32c: a body that does not match is never stored.
*/
#include <inttypes.h>
#include <stdio.h>
#include <sys/xattr.h>

#include "local.h"

#define XA_CRC     "user.xtstore.crc32c"
#define RECORD_MAX 64

/* The body whose CRC-32C is crc must match the CRC given in opts, if any
 * (STORE_E_INVALID otherwise, naming both values). */
int32_t lp_check_crc(const lp_obj *o, const store_put_opts *opts,
                     uint32_t crc, const char *what, store_error *err)
{
  uint32_t want = LP_OPT(opts, store_put_opts, crc32c, 0);

  if (!(LP_OPT(opts, store_put_opts, checksums, 0) & STORE_CKSUM_CRC32C) ||
      crc == want)
    return STORE_OK;
  return lp_obj_fail(o, err, STORE_E_INVALID, 0,
                     "%s: the body's CRC-32C is %08" PRIx32 ", not the "
                     "%08" PRIx32 " given with it: not stored",
                     what, crc, want);
}

/* Record crc as the CRC-32C of the file fd as it is now. Best effort: a
 * file without the record is only reported without a CRC. */
void lp_cksum_keep(int fd, uint32_t crc)
{
  char rec[RECORD_MAX];
  struct stat st;
  int n;

  if (fstat(fd, &st) < 0)
    return;
  n = snprintf(rec, sizeof(rec), "%08" PRIx32 " %" PRIu64 " %" PRId64, crc,
               (uint64_t)st.st_size, lp_mtime_ns(&st));
  if (n > 0 && (size_t)n < sizeof(rec))
    (void)fsetxattr(fd, XA_CRC, rec, (size_t)n, 0);
}

/* Report the recorded CRC-32C in e when the file fd (stat st) still has
 * the size and mtime it was recorded with. fd -1 reports none. */
void lp_cksum_report(int fd, const struct stat *st, store_entry *e)
{
  char rec[RECORD_MAX];
  uint32_t crc;
  uint64_t size;
  int64_t mtime;
  ssize_t n;
  int used = 0;

  n = fgetxattr(fd, XA_CRC, rec, sizeof(rec) - 1);
  if (n <= 0)
    return;
  rec[n] = 0;
  if (sscanf(rec, "%8" SCNx32 " %" SCNu64 " %" SCNd64 "%n", &crc, &size,
             &mtime, &used) != 3 || used != n)
    return;
  if (size != (uint64_t)st->st_size || mtime != lp_mtime_ns(st))
    return;
  e->checksums |= STORE_CKSUM_CRC32C;
  e->crc32c = crc;
}
