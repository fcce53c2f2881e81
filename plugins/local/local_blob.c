/*
** local_blob.c -- blob put, get, head, delete and set-metadata. Keys
** ending in '/' are directory markers, handled by local_dir.c.
*/
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "local.h"

/* Open the blob (or its snapshot `snap`) for reading. On success *out_fd is
 * an owned fd of a regular file and *st its stat; on failure -1. Missing
 * blobs, directories and symlinks are NOT_FOUND. */
int32_t lp_blob_open_read(lp_obj *o, const char *snap, int *out_fd,
                          struct stat *st, store_error *err)
{
  char name[sizeof(LP_SNAP_PREFIX) + LP_MAX_SNAP_ID];
  int dfd = -1, fd = -1;
  int32_t rc;

  *out_fd = -1;
  if (snap) {
    rc = lp_check_snapshot_id(snap, err);
    if (rc)
      goto out;
    rc = lp_shadow_open(o, 0, &dfd, err);
    if (rc)
      goto out;
    snprintf(name, sizeof(name), "%s%s", LP_SNAP_PREFIX, snap);
    if (dfd >= 0)
      fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      rc = lp_obj_fail(o, err, STORE_E_NOT_FOUND, 0,
                       "snapshot '%s' not found", snap);
      goto out;
    }
  } else {
    rc = lp_obj_parent(o, 0, err);
    if (rc)
      goto out;
    /* O_NONBLOCK: a FIFO planted in the tree must not hang us. */
    fd = openat(o->pfd, o->leaf,
                O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR)
        rc = lp_obj_fail(o, err, STORE_E_NOT_FOUND, 0, "not found");
      else
        rc = lp_obj_fail(o, err, 0, errno, "cannot open");
      goto out;
    }
  }
  if (fstat(fd, st) < 0) {
    rc = lp_obj_fail(o, err, 0, errno, "stat");
    goto out;
  }
  if (!S_ISREG(st->st_mode)) {
    rc = lp_obj_fail(o, err, STORE_E_NOT_FOUND, 0, "not found (%s)",
                     S_ISDIR(st->st_mode) ? "a directory: a prefix of blobs"
                                          : "not a regular file");
    goto out;
  }
  *out_fd = fd;
  fd = -1;
out:
  if (fd >= 0)
    close(fd);
  if (dfd >= 0)
    close(dfd);
  return rc;
}

/* lp_blob_open_read, then wait out appenders (they hold LOCK_EX while
 * writing) with a shared lock, held until the fd is closed: *st, taken
 * under it, is a state between appends. */
int32_t lp_blob_open_settled(lp_obj *o, const char *snap, int *out_fd,
                             struct stat *st, store_error *err)
{
  int32_t rc = lp_blob_open_read(o, snap, out_fd, st, err);

  if (rc)
    return rc;
  while (flock(*out_fd, LOCK_SH) < 0 && errno == EINTR)
    ;
  if (fstat(*out_fd, st) < 0) {
    rc = lp_obj_fail(o, err, 0, errno, "stat");
    close(*out_fd);
    *out_fd = -1;
  }
  return rc;
}

int32_t lp_blob_put(store_handle *h, const char *container, const char *key,
                    const store_put_opts *opts, store_read_fn src,
                    void *src_ctx, store_put_result *out, store_error *err)
{
  int64_t len = STORE_OPT(opts, store_put_opts, content_length, -1);
  const char *ct = STORE_OPT(opts, store_put_opts, content_type, NULL);
  uint32_t flags = STORE_OPT(opts, store_put_opts, flags, 0);
  const char *if_match = STORE_OPT(opts, store_put_opts, if_match, NULL);
  lp_tmp t = {.fd = -1, .dirfd = -1, .side = {.dirfd = -1}};
  lp_meta m = {0};
  lp_obj o;
  int32_t rc;

  if (lp_is_dir_key(key))
    return lp_dir_put(h, container, key, opts, src, src_ctx, out, err);
  rc = lp_obj_start(&o, h, container, key, opts, "put options", err);
  if (rc)
    goto out;
  rc = lp_check_source(&o, src, len, err);
  if (rc)
    goto out;
  m.content_type = ct ? ct : LP_DEFAULT_CT;
  m.kv = STORE_OPT(opts, store_put_opts, metadata, NULL);
  m.n = STORE_OPT(opts, store_put_opts, nmetadata, 0);
  rc = lp_meta_check(&o, ct, m.kv, m.n, err);
  if (rc)
    goto out;
  /* Fail before reading the body when a parent is a blob or a condition
   * already fails. */
  rc = lp_obj_parent(&o, 1, err);
  if (rc)
    goto out;
  rc = lp_precheck(&o, flags, if_match, err);
  if (rc)
    goto out;
  rc = lp_tmp_create(&o, &t, err);
  if (rc)
    goto out;
  rc = lp_stream_in(&o, t.fd, src, src_ctx, len, &t.crc32c, err);
  if (rc)
    goto out;
  rc = lp_check_crc(&o, opts, t.crc32c, "put", err);
  if (rc)
    goto out;
  t.checksums = STORE_CKSUM_CRC32C;
  rc = lp_meta_prepare(&o, t.fd, &m, &t.side, err);
  if (rc)
    goto out;
  rc = lp_commit(&o, &t, flags, if_match, out, err);
out:
  if (rc && o.pfd >= 0) /* drop parents made for nothing */
    lp_prune_dirs(o.cfd, key, (size_t)(o.leaf - key));
  lp_tmp_discard(&t);
  lp_obj_close(&o);
  return rc;
}

/* The entry describing the open blob o (or its snapshot snap) with stat
 * st, into *e, with the blob's CRC-32C while its record holds (snapshots
 * report none). It points into etag and, with `meta`, into *m: the
 * metadata, loaded from fd here and released by the caller
 * (lp_meta_free). */
int32_t lp_blob_describe(const lp_obj *o, const char *snap, int fd,
                         const struct stat *st, int meta,
                         char etag[LP_ETAG_SIZE], lp_meta *m, store_entry *e,
                         store_error *err)
{
  if (meta) {
    int32_t rc = lp_meta_load(o, snap, fd, st, m, err);

    if (rc)
      return rc;
  }
  lp_entry_fill(e, o->key, st, etag, meta ? m : NULL);
  if (snap) {
    e->flags = STORE_ENTRY_SNAPSHOT;
    e->snapshot_id = snap;
  } else {
    lp_cksum_report(fd, st, e);
  }
  return STORE_OK;
}

int32_t lp_blob_get(store_handle *h, const char *container, const char *key,
                    const store_get_opts *opts, store_write_fn sink,
                    void *sink_ctx, store_error *err)
{
  const char *snap = STORE_OPT(opts, store_get_opts, snapshot_id, NULL);
  const char *if_match = STORE_OPT(opts, store_get_opts, if_match, NULL);
  store_entry_fn on_entry = STORE_OPT(opts, store_get_opts, on_entry, NULL);
  char etag[LP_ETAG_SIZE];
  lp_meta m = {0};
  store_entry e;
  struct stat st;
  uint64_t off = 0, len, size;
  lp_obj o;
  int fd = -1;
  int32_t rc;

  if (lp_is_dir_key(key))
    return lp_dir_get(h, container, key, opts, err);
  rc = lp_obj_start(&o, h, container, key, opts, "get options", err);
  if (rc)
    goto out;
  if (!sink) {
    rc = lp_obj_fail(&o, err, STORE_E_INVALID, 0, "no write callback");
    goto out;
  }
  rc = lp_blob_open_read(&o, snap, &fd, &st, err);
  if (rc)
    goto out;
  size = (uint64_t)st.st_size;
  len = size;
  lp_etag(&st, etag);
  if (if_match && strcmp(if_match, "*") && strcmp(if_match, etag)) {
    rc = lp_obj_fail(&o, err, STORE_E_PRECONDITION, 0,
                     "if_match '%.64s' does not match etag '%s'", if_match,
                     etag);
    goto out;
  }
  if (STORE_OPT(opts, store_get_opts, flags, 0) & STORE_GET_RANGE) {
    off = STORE_OPT(opts, store_get_opts, offset, 0);
    len = STORE_OPT(opts, store_get_opts, length, 0);
    if (size > 0 && off >= size) {
      rc = lp_obj_fail(&o, err, STORE_E_INVALID, 0,
                       "range not satisfiable: offset %" PRIu64
                       " of a %" PRIu64 "-byte blob", off, size);
      goto out;
    }
    if (off > size)
      off = size;
    if (len == 0 || len > size - off)
      len = size - off;
  }
  if (on_entry) {
    rc = lp_blob_describe(&o, snap, fd, &st, 1, etag, &m, &e, err);
    if (rc)
      goto out;
    if (on_entry(STORE_OPT(opts, store_get_opts, on_entry_ctx, NULL), &e)) {
      rc = lp_obj_fail(&o, err, STORE_E_ABORTED, 0,
                       "the entry callback stopped the download");
      goto out;
    }
  }
  /* Only the bytes that existed at open: a concurrent append is not mixed
   * into what on_entry described. */
  rc = lp_stream_out(&o, fd, off, len, sink, sink_ctx, err);
out:
  lp_meta_free(&m);
  if (fd >= 0)
    close(fd);
  lp_obj_close(&o);
  return rc;
}

int32_t lp_blob_head(store_handle *h, const char *container, const char *key,
                     const store_head_opts *opts, store_entry_fn cb,
                     void *cb_ctx, store_error *err)
{
  const char *snap = STORE_OPT(opts, store_head_opts, snapshot_id, NULL);
  char etag[LP_ETAG_SIZE];
  lp_meta m = {0};
  store_entry e;
  struct stat st;
  lp_obj o;
  int fd = -1;
  int32_t rc;

  if (lp_is_dir_key(key))
    return lp_dir_head(h, container, key, opts, cb, cb_ctx, err);
  rc = lp_obj_start(&o, h, container, key, opts, "head options", err);
  if (rc)
    goto out;
  if (!cb) {
    rc = lp_obj_fail(&o, err, STORE_E_INVALID, 0, "no entry callback");
    goto out;
  }
  rc = lp_blob_open_read(&o, snap, &fd, &st, err);
  if (rc)
    goto out;
  rc = lp_blob_describe(&o, snap, fd, &st, 1, etag, &m, &e, err);
  if (rc)
    goto out;
  if (cb(cb_ctx, &e))
    rc = lp_obj_fail(&o, err, STORE_E_ABORTED, 0,
                     "the entry callback stopped");
out:
  lp_meta_free(&m);
  if (fd >= 0)
    close(fd);
  lp_obj_close(&o);
  return rc;
}

/* Delete one snapshot; the base blob is left alone. */
static int32_t delete_snapshot(lp_obj *o, const char *snap, store_error *err)
{
  char name[sizeof(LP_SMETA_PREFIX) + LP_MAX_SNAP_ID];
  int dfd = -1, e;
  int32_t rc;

  rc = lp_check_snapshot_id(snap, err);
  if (rc)
    goto out;
  rc = lp_shadow_open(o, 0, &dfd, err);
  if (rc)
    goto out;
  snprintf(name, sizeof(name), "%s%s", LP_SNAP_PREFIX, snap);
  if (dfd < 0 || unlinkat(dfd, name, 0) < 0) {
    if (dfd < 0 || errno == ENOENT)
      rc = lp_obj_fail(o, err, STORE_E_NOT_FOUND, 0,
                       "snapshot '%s' not found", snap);
    else
      rc = lp_obj_fail(o, err, 0, errno, "cannot delete snapshot '%s'",
                       snap);
    goto out;
  }
  snprintf(name, sizeof(name), "%s%s", LP_SMETA_PREFIX, snap);
  unlinkat(dfd, name, 0);
  e = lp_fsync_dir(o->h, dfd);
  if (e)
    rc = lp_obj_fail(o, err, 0, e, "fsync");
out:
  if (dfd >= 0)
    close(dfd);
  if (!rc)
    lp_shadow_prune(o);
  return rc;
}

int32_t lp_blob_delete(store_handle *h, const char *container,
                       const char *key, const store_delete_opts *opts,
                       store_error *err)
{
  const char *snap = STORE_OPT(opts, store_delete_opts, snapshot_id, NULL);
  const char *if_match = STORE_OPT(opts, store_delete_opts, if_match, NULL);
  uint32_t flags = STORE_OPT(opts, store_delete_opts, flags, 0);
  char etag[LP_ETAG_SIZE];
  struct stat st;
  lp_obj o;
  int dfd = -1, e;
  int32_t rc;

  if (lp_is_dir_key(key))
    return lp_dir_delete(h, container, key, opts, err);
  rc = lp_obj_start(&o, h, container, key, opts, "delete options", err);
  if (rc)
    goto out;
  if (snap) {
    rc = delete_snapshot(&o, snap, err);
    goto out;
  }
  rc = lp_obj_parent(&o, 0, err);
  if (rc)
    goto out;
  if (fstatat(o.pfd, o.leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
      !S_ISREG(st.st_mode)) {
    rc = lp_obj_fail(&o, err, STORE_E_NOT_FOUND, 0, "not found");
    goto out;
  }
  /* if_match: the file there now must be the one named. A writer that
   * renames another file into place between this check and the unlink
   * below still loses it: a directory offers no unlink-if-inode. The
   * window is two system calls wide, where an HTTP store's is none. */
  lp_etag(&st, etag);
  if (if_match && strcmp(if_match, etag)) {
    rc = lp_obj_fail(&o, err, STORE_E_PRECONDITION, 0,
                     "if_match '%.64s' does not match etag '%s'", if_match,
                     etag);
    goto out;
  }
  rc = lp_snap_delete_all(&o, !(flags & STORE_DELETE_SNAPSHOTS), err);
  if (rc)
    goto out;
  if (unlinkat(o.pfd, o.leaf, 0) < 0) {
    rc = lp_obj_fail(&o, err, 0, errno, "cannot delete");
    goto out;
  }
  /* Its sidecar and private directory go with it. */
  if (lp_shadow_open(&o, 0, &dfd, NULL) == STORE_OK && dfd >= 0) {
    unlinkat(dfd, LP_META_FILE, 0);
    lp_shadow_prune(&o);
  }
  e = lp_fsync_dir(h, o.pfd);
  if (e) {
    rc = lp_obj_fail(&o, err, 0, e, "fsync of the directory");
    goto out;
  }
  lp_prune_dirs(o.cfd, key, (size_t)(o.leaf - key));
out:
  if (dfd >= 0)
    close(dfd);
  lp_obj_close(&o);
  return rc;
}

int32_t lp_blob_set_metadata(store_handle *h, const char *container,
                             const char *key, const store_kv *metadata,
                             size_t nmetadata, store_error *err)
{
  struct stat st;
  lp_obj o;
  int fd = -1;
  int32_t rc;

  rc = lp_obj_start(&o, h, container, key, NULL, NULL, err);
  if (rc)
    goto out;
  rc = lp_meta_check(&o, NULL, metadata, nmetadata, err);
  if (rc)
    goto out;
  rc = lp_blob_open_read(&o, NULL, &fd, &st, err);
  if (rc)
    goto out;
  rc = lp_check_single_link(&o, &st, "set the metadata of", err);
  if (rc)
    goto out;
  rc = lp_meta_replace(&o, fd, metadata, nmetadata, err);
out:
  if (fd >= 0)
    close(fd);
  lp_obj_close(&o);
  return rc;
}
