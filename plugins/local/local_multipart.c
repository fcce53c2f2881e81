/*
** local_multipart.c -- multipart uploads.
**
** Staging: .xtstore/uploads/<id>/ with `info` (the key and the put options
** given to begin) and one `part-NNNNN` file per part. The id is 32 random
** hex digits. A part's token is "<n>-<etag of the part file>-<CRC-32C of
** its bytes>": the etag lets complete prove each part is the one the
** caller uploaded, unchanged since, and so the CRC still its own. Complete
** concatenates the parts into a temp file, combines their CRCs into the
** object's (checked against a CRC given to complete, recorded and
** reported as a put's), and renames it into place like a put; nothing is
** visible under the key before that. multipart_list reads the staging:
** each upload's key from its info, begun when info was written, last
** active when its newest part was.
*/
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "local.h"
#include "sdk_util.h"

#define INFO_MAGIC "xtstore-upload 1"
#define INFO_MAX   ((size_t)16 << 20)
#define TOKEN_SIZE (16 + LP_ETAG_SIZE)

/* The put options saved by begin. Strings point into buf (owned). */
typedef struct upload {
  char *buf;
  const char *key;
  uint32_t flags;
  const char *if_match;   /* NULL: none */
  lp_meta meta;           /* borrowed from buf, kv owned in kv */
  store_kv *kv;
} upload;

static void upload_free(upload *u)
{
  free(u->buf);
  free(u->kv);
  memset(u, 0, sizeof(*u));
}

/* Serialise as NUL-terminated fields: magic, key, flags, if_match flag,
 * if_match, content type, count, then name/value pairs. */
static int info_write(int fd, const char *key, uint32_t flags,
                      const char *if_match, const lp_meta *m)
{
  char num[2][24];
  const char *head[7];
  int e = 0;

  snprintf(num[0], sizeof(num[0]), "%" PRIu32, flags);
  snprintf(num[1], sizeof(num[1]), "%zu", m->n);
  head[0] = INFO_MAGIC;
  head[1] = key;
  head[2] = num[0];
  head[3] = if_match ? "1" : "0";
  head[4] = if_match ? if_match : "";
  head[5] = m->content_type ? m->content_type : LP_DEFAULT_CT;
  head[6] = num[1];
  for (size_t i = 0; !e && i < 7; i++)
    e = lp_write_all(fd, head[i], strlen(head[i]) + 1);
  for (size_t i = 0; !e && i < m->n; i++) {
    e = lp_write_all(fd, m->kv[i].key, strlen(m->kv[i].key) + 1);
    if (!e)
      e = lp_write_all(fd, m->kv[i].value, strlen(m->kv[i].value) + 1);
  }
  return e;
}

/* Next NUL-terminated field of buf[*pos..len), or NULL past the end. */
static const char *field(const char *buf, size_t len, size_t *pos)
{
  const char *s = buf + *pos;

  if (*pos >= len)
    return NULL;
  *pos += strlen(s) + 1;
  return *pos <= len ? s : NULL;
}

/* Parse buf[0..len) (buf[len] == 0), which u takes over. 0 or EINVAL. */
static int info_parse(upload *u, char *buf, size_t len)
{
  const char *f[7];
  size_t pos = 0;
  unsigned long long n, flags;
  char *end;

  u->buf = buf;
  for (size_t i = 0; i < 7; i++)
    if (!(f[i] = field(buf, len, &pos)))
      return EINVAL;
  errno = 0;
  flags = strtoull(f[2], &end, 10);
  if (strcmp(f[0], INFO_MAGIC) || errno || *end || flags > UINT32_MAX)
    return EINVAL;
  n = strtoull(f[6], &end, 10);
  if (errno || *end || n > len)
    return EINVAL;
  u->key = f[1];
  u->flags = (uint32_t)flags;
  u->if_match = !strcmp(f[3], "1") ? f[4] : NULL;
  u->meta.content_type = f[5];
  u->kv = n ? calloc(n, sizeof(store_kv)) : NULL;
  if (n && !u->kv)
    return ENOMEM;
  for (size_t i = 0; i < n; i++) {
    u->kv[i].key = field(buf, len, &pos);
    u->kv[i].value = field(buf, len, &pos);
    if (!u->kv[i].key || !u->kv[i].value)
      return EINVAL;
  }
  u->meta.kv = u->kv;
  u->meta.n = n;
  return 0;
}

/* Open the staging directory of upload `id` of o's key into *out_fd (and,
 * with u, load its info). Unknown or malformed ids are NOT_FOUND; an id of
 * another key is INVALID. *out_ufd gets .xtstore/uploads when wanted. */
static int32_t open_upload(const lp_obj *o, const char *id, int *out_ufd,
                           int *out_fd, upload *u, store_error *err)
{
  struct stat st;
  char *buf = NULL;
  int ufd = -1, fd = -1, ifd = -1, e;
  size_t got = 0;
  int32_t rc;

  *out_fd = -1;
  if (out_ufd)
    *out_ufd = -1;
  memset(u, 0, sizeof(*u));
  if (!id || strlen(id) != LP_UPLOAD_ID_LEN ||
      strspn(id, "0123456789abcdef") != LP_UPLOAD_ID_LEN)
    return lp_obj_fail(o, err, STORE_E_NOT_FOUND, 0,
                       "upload '%.64s' not found", id ? id : "");
  rc = lp_private_open(o, "uploads", 0, &ufd, err);
  if (rc)
    return rc;
  if (ufd >= 0)
    fd = openat(ufd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    rc = lp_obj_fail(o, err, STORE_E_NOT_FOUND, 0, "upload '%s' not found",
                     id);
    goto out;
  }
  ifd = openat(fd, "info", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (ifd < 0 || fstat(ifd, &st) < 0 || (size_t)st.st_size > INFO_MAX) {
    rc = lp_obj_fail(o, err, STORE_E_NOT_FOUND, 0,
                     "upload '%s' not found (no usable info)", id);
    goto out;
  }
  buf = lp_read_file(ifd, (size_t)st.st_size, &got);
  if (!buf) {
    rc = lp_obj_fail(o, err, STORE_E_NOMEM, ENOMEM, "upload '%s'", id);
    goto out;
  }
  e = info_parse(u, buf, got);
  buf = NULL; /* u owns it now */
  if (e) {
    rc = lp_obj_fail(o, err, e == ENOMEM ? STORE_E_NOMEM : STORE_E_IO, 0,
                     "upload '%s': its info file is unreadable", id);
    goto out;
  }
  if (strcmp(u->key, o->key)) {
    rc = lp_obj_fail(o, err, STORE_E_INVALID, 0,
                     "upload '%s' belongs to key '%.100s'", id, u->key);
    goto out;
  }
  *out_fd = fd;
  fd = -1;
  if (out_ufd) {
    *out_ufd = ufd;
    ufd = -1;
  }
out:
  free(buf);
  if (rc)
    upload_free(u);
  if (ifd >= 0)
    close(ifd);
  if (fd >= 0)
    close(fd);
  if (ufd >= 0)
    close(ufd);
  return rc;
}

int32_t lp_multipart_begin(store_handle *h, const char *container,
                           const char *key, const store_put_opts *opts,
                           char *out_id, size_t cap, store_error *err)
{
  unsigned char rnd[LP_UPLOAD_ID_LEN / 2];
  char id[LP_UPLOAD_ID_LEN + 1];
  lp_meta m = {0};
  lp_obj o;
  int ufd = -1, dfd = -1, fd = -1, e, made = 0;
  int32_t rc;

  rc = lp_obj_start(&o, h, container, key, opts, "put options", err);
  if (rc)
    goto out;
  m.content_type = STORE_OPT(opts, store_put_opts, content_type, NULL);
  m.kv = STORE_OPT(opts, store_put_opts, metadata, NULL);
  m.n = STORE_OPT(opts, store_put_opts, nmetadata, 0);
  if (!out_id || cap <= LP_UPLOAD_ID_LEN) {
    rc = lp_obj_fail(&o, err, STORE_E_INVALID, 0,
                     "upload id buffer holds %zu bytes; %d needed", cap,
                     LP_UPLOAD_ID_LEN + 1);
    goto out;
  }
  rc = lp_meta_check(&o, m.content_type, m.kv, m.n, err);
  if (rc)
    goto out;
  if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
    rc = lp_obj_fail(&o, err, STORE_E_IO, errno, "getrandom");
    goto out;
  }
  for (size_t i = 0; i < sizeof(rnd); i++)
    snprintf(id + 2 * i, 3, "%02x", rnd[i]);
  rc = lp_private_open(&o, "uploads", 1, &ufd, err);
  if (rc)
    goto out;
  if (mkdirat(ufd, id, 0777) < 0) {
    rc = lp_obj_fail(&o, err, 0, errno, "cannot create upload staging");
    goto out;
  }
  made = 1;
  dfd = openat(ufd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  fd = dfd < 0 ? -1
               : openat(dfd, "info", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                                         O_CLOEXEC, 0666);
  e = fd < 0 ? errno
             : info_write(fd, key, STORE_OPT(opts, store_put_opts, flags, 0),
                          STORE_OPT(opts, store_put_opts, if_match, NULL), &m);
  if (e) {
    rc = lp_obj_fail(&o, err, 0, e, "cannot write upload staging");
    goto out;
  }
  snprintf(out_id, cap, "%s", id);
out:
  if (fd >= 0)
    close(fd);
  if (dfd >= 0)
    close(dfd);
  if (rc && made)
    lp_rmtree(ufd, id);
  if (ufd >= 0)
    close(ufd);
  lp_obj_close(&o);
  return rc;
}

/* A part, with its CRC-32C: checked against opts' (a part that does not
 * match is not stored), reported in out and carried in the token for
 * complete. */
int32_t lp_multipart_part_checked(store_handle *h, const char *container,
                                  const char *key, const char *upload_id,
                                  uint32_t part_no, uint64_t length,
                                  const store_put_opts *opts,
                                  store_read_fn src, void *src_ctx,
                                  char *out_token, size_t cap,
                                  store_put_result *out, store_error *err)
{
  lp_tmp t = {.fd = -1, .dirfd = -1, .side = {.dirfd = -1}};
  char name[32], etag[LP_ETAG_SIZE];
  struct stat st;
  upload u = {0};
  lp_obj o;
  uint32_t crc = 0;
  int dfd = -1;
  int32_t rc;

  rc = lp_obj_start(&o, h, container, key, opts, "part options", err);
  if (rc)
    goto out;
  if (part_no < 1 || part_no > LP_MAX_PARTS || length > INT64_MAX || !src ||
      !out_token || cap < TOKEN_SIZE) {
    rc = lp_obj_fail(&o, err, STORE_E_INVALID, 0,
                     "part %" PRIu32 ": number outside 1-%u, length too "
                     "large, no read callback, or token buffer under %d "
                     "bytes", part_no, LP_MAX_PARTS, TOKEN_SIZE);
    goto out;
  }
  rc = open_upload(&o, upload_id, NULL, &dfd, &u, err);
  if (rc)
    goto out;
  rc = lp_tmp_create(&o, &t, err);
  if (rc)
    goto out;
  rc = lp_stream_in(&o, t.fd, src, src_ctx, (int64_t)length, &crc, err);
  if (rc)
    goto out;
  snprintf(name, sizeof(name), "part %" PRIu32, part_no);
  rc = lp_check_crc(&o, opts, crc, name, err);
  if (rc)
    goto out;
  if ((h->fsync && fsync(t.fd) < 0) || fstat(t.fd, &st) < 0) {
    rc = lp_obj_fail(&o, err, 0, errno, "part %" PRIu32, part_no);
    goto out;
  }
  snprintf(name, sizeof(name), "part-%05" PRIu32, part_no);
  if (renameat(t.dirfd, t.name, dfd, name) < 0) {
    rc = lp_obj_fail(&o, err, errno == ENOENT ? STORE_E_NOT_FOUND : 0, errno,
                     "part %" PRIu32 " of upload '%s'", part_no, upload_id);
    goto out;
  }
  t.name[0] = 0;
  lp_etag(&st, etag);
  snprintf(out_token, cap, "%" PRIu32 "-%s-%08" PRIx32, part_no, etag, crc);
  if (out)
    lp_put_result(out, (uint64_t)st.st_size, etag, STORE_CKSUM_CRC32C, crc);
out:
  lp_tmp_discard(&t);
  upload_free(&u);
  if (dfd >= 0)
    close(dfd);
  lp_obj_close(&o);
  return rc;
}

int32_t lp_multipart_part(store_handle *h, const char *container,
                          const char *key, const char *upload_id,
                          uint32_t part_no, uint64_t length,
                          store_read_fn src, void *src_ctx, char *out_token,
                          size_t cap, store_error *err)
{
  return lp_multipart_part_checked(h, container, key, upload_id, part_no,
                                   length, NULL, src, src_ctx, out_token, cap,
                                   NULL, err);
}

static int32_t crc_sink(void *ctx, const void *buf, size_t len)
{
  uint32_t *crc = ctx;

  *crc = sdk_crc32c(*crc, buf, len);
  return 0;
}

/* The CRC-32C of part `no` (open as fd, stat st) from its token, which is
 * "<no>-<etag of st>", then "-<CRC>" -- or without the CRC, a token from
 * before tokens carried one (a resumed upload): summed from the file then.
 * A token of another file is INVALID. */
static int32_t part_crc(const lp_obj *o, uint32_t no, const char *token,
                        int fd, const struct stat *st, uint32_t *out,
                        store_error *err)
{
  char etag[LP_ETAG_SIZE], want[TOKEN_SIZE];
  size_t n;

  lp_etag(st, etag);
  n = (size_t)snprintf(want, sizeof(want), "%" PRIu32 "-%s", no, etag);
  if (token && !strncmp(token, want, n)) {
    if (!token[n]) {
      *out = 0;
      return lp_stream_out(o, fd, 0, (uint64_t)st->st_size, crc_sink, out,
                           err);
    }
    if (token[n] == '-' && strlen(token + n + 1) == 8 &&
        strspn(token + n + 1, "0123456789abcdef") == 8) {
      *out = (uint32_t)strtoul(token + n + 1, NULL, 16);
      return STORE_OK;
    }
  }
  return lp_obj_fail(o, err, STORE_E_INVALID, 0,
                     "part %" PRIu32 ": token '%.80s' does not match the "
                     "uploaded part ('%s-<CRC-32C>')", no,
                     token ? token : "", want);
}

/* Append part `no` (1-based) to t at *off after checking its token, and
 * its CRC-32C to *crc, the CRC of the parts before it. */
static int32_t add_part(const lp_obj *o, int dfd, uint32_t no,
                        const char *token, lp_tmp *t, uint64_t *off,
                        uint32_t *crc, store_error *err)
{
  char name[32];
  struct stat st;
  uint32_t pcrc = 0;
  int fd;
  int32_t rc;

  snprintf(name, sizeof(name), "part-%05" PRIu32, no);
  fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) < 0) {
    if (fd >= 0)
      close(fd);
    return lp_obj_fail(o, err, STORE_E_INVALID, 0,
                       "part %" PRIu32 " was never uploaded", no);
  }
  rc = part_crc(o, no, token, fd, &st, &pcrc, err);
  if (!rc)
    rc = lp_copy_data(o, t->fd, *off, fd, (uint64_t)st.st_size, 0, err);
  *crc = no > 1 ? sdk_crc32c_combine(*crc, pcrc, (uint64_t)st.st_size)
                : pcrc;
  *off += (uint64_t)st.st_size;
  close(fd);
  return rc;
}

int32_t lp_multipart_complete(store_handle *h, const char *container,
                              const char *key, const char *upload_id,
                              const store_put_opts *opts,
                              const char *const *tokens, uint32_t nparts,
                              store_put_result *out, store_error *err)
{
  /* begin's options were staged with the upload and win; complete's
   * give only the object's CRC-32C, checked. */
  lp_tmp t = {.fd = -1, .dirfd = -1, .side = {.dirfd = -1}};
  uint64_t off = 0;
  upload u = {0};
  lp_obj o;
  int ufd = -1, dfd = -1;
  int32_t rc;

  rc = lp_obj_start(&o, h, container, key, opts, "complete options", err);
  if (rc)
    goto out;
  if (nparts < 1 || nparts > LP_MAX_PARTS || !tokens) {
    rc = lp_obj_fail(&o, err, STORE_E_INVALID, 0,
                     "complete: %" PRIu32 " parts (1-%u allowed)", nparts,
                     LP_MAX_PARTS);
    goto out;
  }
  rc = open_upload(&o, upload_id, &ufd, &dfd, &u, err);
  if (rc)
    goto out;
  rc = lp_obj_parent(&o, 1, err);
  if (rc)
    goto out;
  rc = lp_precheck(&o, u.flags, u.if_match, err);
  if (rc)
    goto out;
  rc = lp_tmp_create(&o, &t, err);
  if (rc)
    goto out;
  for (uint32_t i = 0; i < nparts; i++) {
    rc = add_part(&o, dfd, i + 1, tokens[i], &t, &off, &t.crc32c, err);
    if (rc)
      goto out;
  }
  rc = lp_check_crc(&o, opts, t.crc32c, "complete", err);
  if (rc)
    goto out;
  t.checksums = STORE_CKSUM_CRC32C;
  rc = lp_meta_prepare(&o, t.fd, &u.meta, &t.side, err);
  if (rc)
    goto out;
  rc = lp_commit(&o, &t, u.flags, u.if_match, out, err);
  if (rc)
    goto out;
  lp_rmtree(ufd, upload_id); /* the blob is in place; staging is junk */
out:
  lp_tmp_discard(&t);
  upload_free(&u);
  if (dfd >= 0)
    close(dfd);
  if (ufd >= 0)
    close(ufd);
  lp_obj_close(&o);
  return rc;
}

int32_t lp_multipart_abort(store_handle *h, const char *container,
                           const char *key, const char *upload_id,
                           store_error *err)
{
  upload u = {0};
  lp_obj o;
  int ufd = -1, dfd = -1, e;
  int32_t rc;

  rc = lp_obj_start(&o, h, container, key, NULL, NULL, err);
  if (rc)
    goto out;
  rc = open_upload(&o, upload_id, &ufd, &dfd, &u, err);
  if (rc)
    goto out;
  e = lp_rmtree(ufd, upload_id);
  if (e)
    rc = lp_obj_fail(&o, err, e == ENOENT ? STORE_E_NOT_FOUND : 0, e,
                     "cannot remove upload '%s'", upload_id);
out:
  upload_free(&u);
  if (dfd >= 0)
    close(dfd);
  if (ufd >= 0)
    close(ufd);
  lp_obj_close(&o);
  return rc;
}

/* Non-zero when key names a blob here (what lp_obj_open checks): an
 * upload of another is listed as none, as it could never be aborted. */
static int key_ok(const char *key)
{
  const char *seg = key, *end;

  if (!*key || strlen(key) > LP_MAX_KEY)
    return 0;
  for (;; seg = end + 1) {
    end = strchr(seg, '/');
    if (!end)
      end = seg + strlen(seg);
    if (!lp_segment_ok(seg, (size_t)(end - seg)))
      return 0;
    if (!*end)
      return 1;
  }
}

/* The newest modification time (Unix s) of the files in upload directory
 * dfd (info, parts), at least since. */
static int64_t newest_file(int dfd, int64_t since)
{
  struct dirent *de;
  struct stat st;
  int fd = dup(dfd);
  DIR *d = fd < 0 ? NULL : fdopendir(fd);

  if (!d) {
    if (fd >= 0)
      close(fd);
    return since;
  }
  while ((de = readdir(d)))
    if (de->d_name[0] != '.' &&
        !fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) &&
        (int64_t)st.st_mtime > since)
      since = (int64_t)st.st_mtime;
  closedir(d);
  return since;
}

/* One staged upload of the listing: its key from `info`, begun when info
 * was written (begin writes it once), last active when its newest file
 * was written. A directory that is no upload of ours (a bad id, no
 * readable info, a key no blob here can have) is skipped. */
static int32_t list_one(const lp_obj *o, int ufd, const char *id,
                        const char *prefix, store_upload_fn cb, void *ctx,
                        store_error *err)
{
  store_upload su;
  struct stat st;
  upload u = {0};
  char *buf;
  size_t got = 0;
  int dfd = -1, ifd = -1;
  int32_t rc = STORE_OK;

  if (strlen(id) != LP_UPLOAD_ID_LEN ||
      strspn(id, "0123456789abcdef") != LP_UPLOAD_ID_LEN)
    return STORE_OK;
  dfd = openat(ufd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  ifd = dfd < 0 ? -1 : openat(dfd, "info", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (ifd < 0 || fstat(ifd, &st) < 0 || (size_t)st.st_size > INFO_MAX)
    goto out;
  buf = lp_read_file(ifd, (size_t)st.st_size, &got);
  if (!buf) {
    rc = lp_obj_fail(o, err, STORE_E_NOMEM, ENOMEM, "upload '%s'", id);
    goto out;
  }
  if (info_parse(&u, buf, got) || !key_ok(u.key) ||
      (prefix && strncmp(u.key, prefix, strlen(prefix))))
    goto out;
  memset(&su, 0, sizeof(su));
  su.struct_size = sizeof(su);
  su.key = u.key;
  su.upload_id = id;
  su.initiated = (int64_t)st.st_mtime;
  su.last_activity = newest_file(dfd, su.initiated);
  if (cb(ctx, &su))
    rc = lp_obj_fail(o, err, STORE_E_ABORTED, 0, "listing uploads stopped "
                     "by the callback");
out:
  upload_free(&u);
  if (ifd >= 0)
    close(ifd);
  if (dfd >= 0)
    close(dfd);
  return rc;
}

/* The staged uploads of the container (.xtstore/uploads/<id>/). */
int32_t lp_multipart_list(store_handle *h, const char *container,
                          const char *prefix, store_upload_fn cb, void *ctx,
                          store_error *err)
{
  struct dirent *de;
  DIR *d = NULL;
  lp_obj o;
  int ufd = -1;
  int32_t rc;

  rc = lp_obj_start(&o, h, container, NULL, NULL, NULL, err);
  if (!rc && !cb)
    rc = lp_obj_fail(&o, err, STORE_E_INVALID, 0, "no upload callback");
  if (!rc)
    rc = lp_private_open(&o, "uploads", 0, &ufd, err);
  if (rc || ufd < 0)
    goto out;
  d = fdopendir(ufd);
  if (!d) {
    rc = lp_obj_fail(&o, err, 0, errno, "cannot read upload staging");
    close(ufd);
    goto out;
  }
  while (!rc && (de = readdir(d)))
    if (de->d_name[0] != '.')
      rc = list_one(&o, dirfd(d), de->d_name, prefix && *prefix ? prefix
                                                                : NULL,
                    cb, ctx, err);
  closedir(d);
out:
  lp_obj_close(&o);
  return rc;
}
