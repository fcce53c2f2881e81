/*
** local_append.c -- append to a blob, creating it when missing.
**
** Appenders serialise on an exclusive flock of the blob, so a failed
** append can cut the file back to its size before the append without
** cutting anyone else's data. Nothing partial remains on failure.
*/
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/file.h>
#include <unistd.h>

#include "local.h"
#include "sdk_error.h"

/* Create the blob empty, with its content type, unless someone else
 * creates it first (that is fine). *created tells which. */
static int32_t create_empty(lp_obj *o, const char *ct, int *created,
                            store_error *err)
{
  lp_tmp t = {.fd = -1, .dirfd = -1, .side = {.dirfd = -1}};
  lp_meta m = {0};
  int32_t rc;

  *created = 0;
  m.content_type = ct ? ct : LP_DEFAULT_CT;
  rc = lp_tmp_create(o, &t, err);
  if (rc)
    goto out;
  rc = lp_meta_prepare(o, t.fd, &m, &t.side, err);
  if (rc)
    goto out;
  rc = lp_commit(o, &t, STORE_PUT_IF_NONE_MATCH, NULL, NULL, err);
  if (rc == STORE_E_EXISTS) {
    sdk_error_clear(err);
    rc = STORE_OK;
    goto out;
  }
  *created = !rc;
out:
  lp_tmp_discard(&t);
  return rc;
}

/* Open the blob for appending and lock it. The name is re-checked after
 * the lock: a put may have replaced the file while we waited, and data
 * appended to the old inode would be lost. */
static int32_t open_locked(lp_obj *o, const char *ct, int *out_fd,
                           int *created, struct stat *st, store_error *err)
{
  struct stat now;
  int fd = -1, made = 0;
  int32_t rc = STORE_OK;

  *out_fd = -1;
  *created = 0;
  for (int tries = 0; tries < 8; tries++) {
    fd = openat(o->pfd, o->leaf,
                O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
      rc = create_empty(o, ct, &made, err);
      if (rc)
        goto out;
      *created |= made;
      continue;
    }
    if (fd < 0) {
      if (errno == EISDIR || errno == ELOOP)
        rc = lp_obj_fail(o, err, STORE_E_INVALID, 0,
                         "cannot append: a directory (a prefix of other "
                         "blobs) or a symlink");
      else
        rc = lp_obj_fail(o, err, 0, errno, "cannot open for appending");
      goto out;
    }
    while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
      ;
    if (fstat(fd, st) < 0) {
      rc = lp_obj_fail(o, err, 0, errno, "stat");
      goto out;
    }
    if (!S_ISREG(st->st_mode)) {
      rc = lp_obj_fail(o, err, STORE_E_INVALID, 0, "not a regular file");
      goto out;
    }
    rc = lp_check_single_link(o, st, "append to", err);
    if (rc)
      goto out;
    if (fstatat(o->pfd, o->leaf, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
        now.st_ino == st->st_ino) {
      *out_fd = fd;
      fd = -1;
      goto out;
    }
    close(fd);
    fd = -1;
  }
  rc = lp_obj_fail(o, err, STORE_E_IO, 0,
                   "replaced repeatedly while trying to append");
out:
  if (fd >= 0)
    close(fd);
  return rc;
}

int32_t lp_blob_append(store_handle *h, const char *container,
                       const char *key, const store_append_opts *opts,
                       store_read_fn src, void *src_ctx, store_error *err)
{
  int64_t len = STORE_OPT(opts, store_append_opts, content_length, -1);
  const char *ct = STORE_OPT(opts, store_append_opts, content_type, NULL);
  struct stat st, now;
  lp_obj o;
  int fd = -1, created = 0;
  int32_t rc;

  rc = lp_obj_start(&o, h, container, key, opts, "append options", err);
  if (rc)
    goto out;
  rc = lp_check_source(&o, src, len, err);
  if (rc)
    goto out;
  rc = lp_meta_check(&o, ct, NULL, 0, err);
  if (rc)
    goto out;
  rc = lp_obj_parent(&o, 1, err);
  if (rc)
    goto out;
  rc = open_locked(&o, ct, &fd, &created, &st, err);
  if (rc)
    goto out;
  rc = lp_stream_in(&o, fd, src, src_ctx, len, NULL, err);
  if (rc)
    goto out;
  if (h->fsync && fsync(fd) < 0)
    rc = lp_obj_fail(&o, err, 0, errno, "fsync");
out:
  if (rc && fd >= 0) {
    /* Take back what this append wrote; drop a blob it created. */
    if (ftruncate(fd, st.st_size) < 0)
      lp_obj_fail(&o, err, rc, errno,
                  "append failed, and cutting it back to %" PRIu64
                  " bytes failed too", (uint64_t)st.st_size);
    if (created && fstatat(o.pfd, o.leaf, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
        now.st_ino == st.st_ino)
      unlinkat(o.pfd, o.leaf, 0);
  }
  if (fd >= 0)
    close(fd);
  lp_obj_close(&o);
  return rc;
}
