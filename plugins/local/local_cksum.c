/*
** local_cksum.c -- the CRC-32C a blob was written with, kept beside it so
** entries can report it for as long as it still describes the file.
**
** The record is the user xattr user.xtstore.crc32c, "CRC SIZE MTIME_NS
** INO" (8 hex digits, then decimal), set on the temp file before it is
** renamed into place, so the blob and its record appear together. Files
** under the root may be changed by anyone, without xtstore: a change moves
** the file's size or mtime, a replacement its inode, and a record whose
** size, mtime and inode are not the file's is ignored, because a stale
** CRC would fail every download of a file that is fine. What this cannot
** see is a rewrite in place that keeps the size within one tick of the
** filesystem's mtime clock (README.md). The record is kept whatever
** `metadata` says (it is not user metadata); where user xattrs are missing
** there is none, and entries carry no CRC.
**
** A CRC the caller gives with the body is checked, as a server checks
** x-amz-checksum-crc32c: a body that does not match is never stored.
*/
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "local.h"

#define XA_CRC     "user.xtstore.crc32c"
#define RECORD_MAX 80

/* getxattrat(2), Linux 6.13; glibc 2.36 has neither the wrapper nor the
 * number (464 on every architecture: new system calls share one). */
#ifndef SYS_getxattrat
#define SYS_getxattrat 464
#endif

struct xattr_args_v0 {    /* struct xattr_args, XATTR_ARGS_SIZE_VER0 */
  uint64_t value;
  uint32_t size;
  uint32_t flags;
};

/* Set once the kernel (or a seccomp filter) has refused getxattrat. */
static atomic_int no_getxattrat;

/* The body whose CRC-32C is crc must match the CRC given in opts, if any.
 * A mismatch is what a server answers to a body damaged on the way
 * (STORE_E_IO, retryable: the same body sent again may arrive whole),
 * naming both values. */
int32_t lp_check_crc(const lp_obj *o, const store_put_opts *opts,
                     uint32_t crc, const char *what, store_error *err)
{
  uint32_t want = STORE_OPT(opts, store_put_opts, crc32c, 0);
  int32_t rc;

  if (!(STORE_OPT(opts, store_put_opts, checksums, 0) & STORE_CKSUM_CRC32C) ||
      crc == want)
    return STORE_OK;
  rc = lp_obj_fail(o, err, STORE_E_IO, 0,
                   "%s: the body's CRC-32C is %08" PRIx32 ", not the "
                   "%08" PRIx32 " given with it: not stored",
                   what, crc, want);
  if (err)
    err->flags |= STORE_ERR_RETRYABLE;
  return rc;
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
  n = snprintf(rec, sizeof(rec), "%08" PRIx32 " %" PRIu64 " %" PRId64
               " %" PRIu64, crc, (uint64_t)st.st_size, lp_mtime_ns(&st),
               (uint64_t)st.st_ino);
  if (n > 0 && (size_t)n < sizeof(rec))
    (void)fsetxattr(fd, XA_CRC, rec, (size_t)n, 0);
}

/* The CRC in the record rec[0..n) (n < 0: none) into *out, when it was
 * recorded for the file with stat st: 1, else 0. */
static int record_holds(char *rec, ssize_t n, const struct stat *st,
                        uint32_t *out)
{
  uint64_t size, ino;
  uint32_t crc;
  int64_t mtime;
  int used = 0;

  if (n <= 0 || n >= RECORD_MAX)
    return 0;
  rec[n] = 0;
  if (sscanf(rec, "%8" SCNx32 " %" SCNu64 " %" SCNd64 " %" SCNu64 "%n",
             &crc, &size, &mtime, &ino, &used) != 4 || used != n)
    return 0;
  if (size != (uint64_t)st->st_size || mtime != lp_mtime_ns(st) ||
      ino != (uint64_t)st->st_ino)
    return 0;
  *out = crc;
  return 1;
}

/* The recorded CRC-32C of the open file fd (stat st) into *out while the
 * record still describes it: 1, else 0 (fd -1: 0). */
int lp_cksum_get(int fd, const struct stat *st, uint32_t *out)
{
  char rec[RECORD_MAX];

  if (fd < 0)
    return 0;
  return record_holds(rec, fgetxattr(fd, XA_CRC, rec, sizeof(rec) - 1), st,
                      out);
}

/* lp_cksum_get for entry `leaf` of directory dfd, not followed if a
 * symlink, without opening it (a listing's cost, and an open would break
 * leases and fire fanotify events): getxattrat, or where it is refused
 * lgetxattr through /proc/self/fd -- not the full path, which could pass
 * PATH_MAX and would follow a symlink swapped in above the file. */
int lp_cksum_get_at(int dfd, const char *leaf, const struct stat *st,
                    uint32_t *out)
{
  struct xattr_args_v0 args = {0};
  char rec[RECORD_MAX], path[64 + LP_MAX_SEGMENT];
  ssize_t n = -1;

  if (!atomic_load_explicit(&no_getxattrat, memory_order_relaxed)) {
    args.value = (uint64_t)(uintptr_t)rec;
    args.size = sizeof(rec) - 1;
    n = syscall(SYS_getxattrat, dfd, leaf, AT_SYMLINK_NOFOLLOW, XA_CRC,
                &args, sizeof(args));
    /* EPERM: a seccomp filter older than the call (as container runtimes
     * have); a user xattr of a regular file never answers it otherwise. */
    if (n >= 0 || (errno != ENOSYS && errno != EPERM))
      return record_holds(rec, n, st, out);
    atomic_store_explicit(&no_getxattrat, 1, memory_order_relaxed);
  }
  if ((size_t)snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dfd,
                       leaf) < sizeof(path))
    n = lgetxattr(path, XA_CRC, rec, sizeof(rec) - 1);
  return record_holds(rec, n, st, out);
}

/* Report in e the recorded CRC-32C of the open file fd (stat st) while the
 * record holds. fd -1 reports none. */
void lp_cksum_report(int fd, const struct stat *st, store_entry *e)
{
  uint32_t crc;

  if (!lp_cksum_get(fd, st, &crc))
    return;
  e->checksums |= STORE_CKSUM_CRC32C;
  e->crc32c = crc;
}
