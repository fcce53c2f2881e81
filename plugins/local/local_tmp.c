/*
** local_tmp.c -- temp files and their atomic publication.
**
** Every write (put, copy, multipart, snapshot) fills a temp file in
** <container>/.xtstore/tmp/, then renames it into place: readers see the
** old object or the whole new one, and a failed write leaves nothing.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "local.h"

/* Create an empty temp file; on success t owns its fd and name (release
 * with lp_tmp_discard, or publish with lp_commit). On failure t holds
 * nothing. */
int32_t lp_tmp_create(const lp_obj *o, lp_tmp *t, store_error *err)
{
  int32_t rc;

  t->fd = -1;
  t->dirfd = -1;
  t->checksums = 0;
  t->name[0] = 0;
  t->side.dirfd = -1;
  t->side.name[0] = 0;
  rc = lp_private_open(o, "tmp", 1, &t->dirfd, err);
  if (rc)
    return rc;
  lp_unique_name("t", t->name, sizeof(t->name));
  t->fd = openat(t->dirfd, t->name,
                 O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (t->fd < 0) {
    rc = lp_obj_fail(o, err, 0, errno, "cannot create a temp file");
    t->name[0] = 0;
    lp_tmp_discard(t);
  }
  return rc;
}

/* Close and remove whatever t still owns. Safe to call twice. */
void lp_tmp_discard(lp_tmp *t)
{
  if (t->fd >= 0)
    close(t->fd);
  if (t->dirfd >= 0) {
    if (t->name[0])
      unlinkat(t->dirfd, t->name, 0);
    close(t->dirfd);
  }
  t->fd = t->dirfd = -1;
  t->name[0] = 0;
  lp_meta_discard(&t->side);
}

/* if_match: lock the current blob (appenders and other conditional
 * writers take the same flock), compare its etag, and check the name still
 * points at it. On success *out_fd holds the lock until the caller closes
 * it. "*" matches any existing blob. */
static int32_t check_match(lp_obj *o, const char *if_match, int *out_fd,
                           store_error *err)
{
  char etag[LP_ETAG_SIZE];
  struct stat st, now;
  int fd;

  *out_fd = -1;
  fd = openat(o->pfd, o->leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return lp_obj_fail(o, err, errno == ENOENT ? STORE_E_PRECONDITION : 0,
                       errno, "if_match '%.64s': no current blob", if_match);
  while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
    ;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
      fstatat(o->pfd, o->leaf, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
      now.st_ino != st.st_ino) {
    close(fd);
    return lp_obj_fail(o, err, STORE_E_PRECONDITION, 0,
                       "if_match '%.64s': the blob changed meanwhile",
                       if_match);
  }
  lp_etag(&st, etag);
  if (strcmp(if_match, "*") && strcmp(if_match, etag)) {
    close(fd);
    return lp_obj_fail(o, err, STORE_E_PRECONDITION, 0,
                       "if_match '%.64s' does not match etag '%s'", if_match,
                       etag);
  }
  *out_fd = fd;
  return STORE_OK;
}

/* Check put conditions before the body is read, so a doomed upload fails
 * fast. lp_commit checks again, atomically. o's parent must be open. */
int32_t lp_precheck(const lp_obj *o, uint32_t put_flags, const char *if_match,
                    store_error *err)
{
  char etag[LP_ETAG_SIZE];
  struct stat st;
  int exists = fstatat(o->pfd, o->leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
               S_ISREG(st.st_mode);

  if ((put_flags & STORE_PUT_IF_NONE_MATCH) && exists)
    return lp_obj_fail(o, err, STORE_E_EXISTS, 0, "already exists");
  if (!if_match)
    return STORE_OK;
  if (!exists)
    return lp_obj_fail(o, err, STORE_E_PRECONDITION, 0,
                       "if_match '%.64s': no current blob", if_match);
  lp_etag(&st, etag);
  if (strcmp(if_match, "*") && strcmp(if_match, etag))
    return lp_obj_fail(o, err, STORE_E_PRECONDITION, 0,
                       "if_match '%.64s' does not match etag '%s'", if_match,
                       etag);
  return STORE_OK;
}

/* Move the temp file to pfd/leaf without replacing anything: renameat2
 * NOREPLACE, or link()+unlink() where the filesystem lacks it. Returns 0
 * or errno (EEXIST when taken). The caller clears t->name on success. */
int lp_publish_noreplace(lp_tmp *t, int pfd, const char *leaf)
{
  if (renameat2(t->dirfd, t->name, pfd, leaf, RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS)
    return errno;
  if (linkat(t->dirfd, t->name, pfd, leaf, 0) < 0)
    return errno;
  unlinkat(t->dirfd, t->name, 0);
  return 0;
}

/* A directory is where the blob should go. An empty one (left by a crash)
 * is removed so the caller can retry; otherwise the key is a prefix of
 * other blobs and cannot also be a blob here. */
static int32_t clear_dir(lp_obj *o, store_error *err)
{
  struct stat st;

  if (fstatat(o->pfd, o->leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
      !S_ISDIR(st.st_mode))
    return lp_obj_fail(o, err, STORE_E_EXISTS, 0, "already exists");
  if (unlinkat(o->pfd, o->leaf, AT_REMOVEDIR) == 0)
    return STORE_OK;
  return lp_obj_fail(o, err, STORE_E_INVALID, 0,
                     "the key is a directory holding other blobs ('%s/...'); "
                     "here a key cannot be both a blob and a prefix",
                     o->leaf);
}

/* Fill the caller's put result, within the size it declared (0 taken as
 * the v1.0 size): the checksums (STORE_CKSUM_CRC32C and crc32c) only when
 * it has room for the value. */
void lp_put_result(store_put_result *out, uint64_t size, const char *etag,
                   uint32_t checksums, uint32_t crc32c)
{
  store_put_result r;
  uint32_t cap = out->struct_size ? out->struct_size
                                  : (uint32_t)offsetof(store_put_result,
                                                       checksums);

  memset(&r, 0, sizeof(r));
  r.struct_size = cap < sizeof(r) ? cap : (uint32_t)sizeof(r);
  r.size = size;
  snprintf(r.etag, sizeof(r.etag), "%s", etag);
  if (STORE_HAS_FIELD(store_put_result, crc32c, r.struct_size) &&
      (checksums & STORE_CKSUM_CRC32C)) {
    r.checksums = STORE_CKSUM_CRC32C;
    r.crc32c = crc32c;
  }
  memcpy(out, &r, r.struct_size);
}

/* Publish t as o's blob: keep its CRC record (t->checksums), fsync, make
 * parents, then rename atomically -- without replacing with
 * STORE_PUT_IF_NONE_MATCH (EXISTS), only over the blob with etag if_match
 * (PRECONDITION). Any pending sidecar is placed under the metadata lock. t
 * is consumed either way. */
int32_t lp_commit(lp_obj *o, lp_tmp *t, uint32_t put_flags,
                  const char *if_match, store_put_result *out,
                  store_error *err)
{
  char etag[LP_ETAG_SIZE];
  struct stat st;
  int lk = -1, mfd = -1, e = 0;
  int32_t rc;

  if (t->checksums & STORE_CKSUM_CRC32C)
    lp_cksum_keep(t->fd, t->crc32c);
  if (o->h->fsync && fsync(t->fd) < 0) {
    rc = lp_obj_fail(o, err, 0, errno, "fsync");
    goto out;
  }
  if (t->side.name[0]) {
    rc = lp_meta_lock(o, 1, &lk, err);
    if (rc)
      goto out;
  }
  for (int tries = 0;; tries++) {
    rc = lp_obj_parent(o, 1, err);
    if (rc)
      goto out;
    if (if_match && mfd < 0) {
      rc = check_match(o, if_match, &mfd, err);
      if (rc)
        goto out;
    }
    if (put_flags & STORE_PUT_IF_NONE_MATCH)
      e = lp_publish_noreplace(t, o->pfd, o->leaf);
    else
      e = renameat(t->dirfd, t->name, o->pfd, o->leaf) < 0 ? errno : 0;
    if (!e || tries == 8)
      break;
    if (e == ENOENT) { /* parent pruned by a concurrent delete */
      close(o->pfd);
      o->pfd = -1;
      continue;
    }
    if (e != EEXIST && e != EISDIR && e != ENOTEMPTY)
      break;
    rc = clear_dir(o, err);
    if (rc)
      goto out;
  }
  if (e) {
    rc = lp_obj_fail(o, err, 0, e, "cannot move the new blob into place");
    goto out;
  }
  t->name[0] = 0; /* the file is the blob now */
  rc = lp_meta_place(o, NULL, &t->side, err);
  if (rc)
    goto out;
  e = lp_fsync_dir(o->h, o->pfd);
  if (e) {
    rc = lp_obj_fail(o, err, 0, e, "fsync of the directory");
    goto out;
  }
  if (out) {
    if (fstat(t->fd, &st) < 0) {
      rc = lp_obj_fail(o, err, 0, errno, "stat");
      goto out;
    }
    lp_etag(&st, etag);
    lp_put_result(out, (uint64_t)st.st_size, etag, t->checksums,
                  t->crc32c);
  }
out:
  if (mfd >= 0)
    close(mfd);
  lp_meta_unlock(&lk);
  lp_tmp_discard(t);
  return rc;
}
