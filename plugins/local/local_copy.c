/*
** local_copy.c -- server-side copy within the service: reflink or
** copy_file_range into a temp file, then an atomic rename. The copy keeps
** the source's CRC-32C record (local_cksum.c) when it still describes the
** source, before the copy and after it: the bytes are the same.
*/
#include <unistd.h>

#include "local.h"

/* out: the copy as committed, the ETag, size and CRC-32C (when kept) a
 * head of the target would report. */
int32_t lp_blob_copy_checked(store_handle *h, const char *src_container,
                             const char *src_key, const char *dst_container,
                             const char *dst_key,
                             const store_copy_opts *opts,
                             store_put_result *out, store_error *err)
{
  const char *snap = STORE_OPT(opts, store_copy_opts, src_snapshot_id, NULL);
  uint32_t flags = STORE_OPT(opts, store_copy_opts, flags, 0);
  lp_tmp t = {.fd = -1, .dirfd = -1, .side = {.dirfd = -1}};
  lp_meta m = {0};
  struct stat st, after;
  lp_obj so, dst;
  uint32_t crc = 0;
  int has_crc;
  int sfd = -1;
  int32_t rc;

  lp_obj_init(&dst, h, dst_container, dst_key);
  rc = lp_obj_start(&so, h, src_container, src_key, opts, "copy options",
                    err);
  if (rc)
    goto out;
  rc = lp_obj_open(&dst, err);
  if (rc)
    goto out;
  rc = lp_blob_open_settled(&so, snap, &sfd, &st, err);
  if (rc)
    goto out;
  if (flags & STORE_COPY_REPLACE_METADATA) {
    m.content_type = STORE_OPT(opts, store_copy_opts, content_type, NULL);
    m.kv = STORE_OPT(opts, store_copy_opts, metadata, NULL);
    m.n = STORE_OPT(opts, store_copy_opts, nmetadata, 0);
    rc = lp_meta_check(&dst, m.content_type, m.kv, m.n, err);
    if (!m.content_type)
      m.content_type = LP_DEFAULT_CT;
  } else {
    rc = lp_meta_load(&so, snap, sfd, &st, &m, err);
  }
  if (rc)
    goto out;
  rc = lp_obj_parent(&dst, 1, err);
  if (rc)
    goto out;
  rc = lp_tmp_create(&dst, &t, err);
  if (rc)
    goto out;
  has_crc = lp_cksum_get(sfd, &st, &crc);
  rc = lp_copy_data(&dst, t.fd, 0, sfd, (uint64_t)st.st_size, 1, err);
  if (rc)
    goto out;
  /* Changed while copied (outside xtstore: appenders wait for the shared
   * lock), the copy is of no known CRC. */
  if (has_crc && fstat(sfd, &after) == 0 && after.st_ino == st.st_ino &&
      after.st_size == st.st_size && lp_mtime_ns(&after) == lp_mtime_ns(&st)) {
    t.checksums = STORE_CKSUM_CRC32C;
    t.crc32c = crc;
  }
  rc = lp_meta_prepare(&dst, t.fd, &m, &t.side, err);
  if (rc)
    goto out;
  rc = lp_commit(&dst, &t, 0, NULL, out, err);
out:
  lp_tmp_discard(&t);
  lp_meta_free(&m);
  if (sfd >= 0)
    close(sfd);
  lp_obj_close(&so);
  lp_obj_close(&dst);
  return rc;
}

int32_t lp_blob_copy(store_handle *h, const char *src_container,
                     const char *src_key, const char *dst_container,
                     const char *dst_key, const store_copy_opts *opts,
                     store_error *err)
{
  return lp_blob_copy_checked(h, src_container, src_key, dst_container,
                              dst_key, opts, NULL, err);
}
