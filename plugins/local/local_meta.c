/*
** local_meta.c -- user metadata and content types of blobs, snapshots and
** containers.
**
** Primary store: user xattrs on the file (or the container directory):
**   user.xtstore.ct          content type ("" = none); also the marker that
**                            this object keeps its metadata in xattrs
**   user.xtstore.m.<name>    one per metadata entry, name case-preserved
** The test machine's ext4 (/work, /tmp) and tmpfs (/dev/shm) all support
** user xattrs, so the default mode `auto` uses them there.
**
** Fallback: a sidecar file, used with config `metadata: sidecar`, or in
** `auto` when setxattr fails with ENOTSUP (no user xattrs) or E2BIG /
** ENOSPC / ERANGE (metadata too large for the inode's xattr space):
**   .xtstore/keys/<key>/.xtstore.meta          a blob
**   .xtstore/keys/<key>/.xtstore.smeta.<id>    a snapshot
**   .xtstore/container-meta                    the container
** Format: "xtstore-meta 1\n" "ino <decimal>\n" then records, each a tag
** byte and NUL-terminated strings: 'c' type | 'm' name value. Strings
** cannot hold NUL, so no lengths or escaping are needed. The inode number
** binds a sidecar to the file it describes: one left behind by a replaced
** object is ignored. Sidecars are written to a temp file and renamed into
** place; blob+sidecar commits hold an exclusive flock on .xtstore/lock so
** racing writers never pair one's blob with the other's sidecar.
** Mode `xattr` never uses sidecars and fails where xattrs cannot be set.
*/
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "local.h"

#define XA_CT        "user.xtstore.ct"
#define XA_M         "user.xtstore.m."
#define XA_VALUE_MAX 65536      /* the kernel's limit for one value       */
#define NAME_MAX_LEN (255 - (sizeof(XA_M) - 1)) /* XATTR_NAME_MAX - prefix */
#define CT_MAX       1024
#define SIDE_MAGIC   "xtstore-meta 1\n"
#define SIDE_MAX     ((size_t)64 << 20)
#define CONTAINER_SIDE "container-meta"

/* A growing run of NUL-terminated strings: [ct] then name, value pairs. */
typedef struct sbuf {
  char *p;
  size_t len, cap;
} sbuf;

/* Append len bytes of s; with nul, a terminating NUL as well. */
static int sbuf_put(sbuf *b, const char *s, size_t len, int nul)
{
  size_t need = b->len + len + (nul ? 1 : 0);

  if (need > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    char *p;
    while (cap < need)
      cap *= 2;
    p = realloc(b->p, cap);
    if (!p)
      return ENOMEM;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, len);
  b->len += len;
  if (nul)
    b->p[b->len++] = 0;
  return 0;
}

static int sbuf_add(sbuf *b, const char *s, size_t len)
{
  return sbuf_put(b, s, len, 1);
}

static int kv_cmp(const void *a, const void *b)
{
  return strcmp(((const store_kv *)a)->key, ((const store_kv *)b)->key);
}

/* Point m at the strings of buf (which m takes over): first the content
 * type ("" = none), then name/value pairs. Entries are sorted by name. */
static int meta_adopt(lp_meta *m, char *buf, size_t len)
{
  size_t n = 0, i = 0;
  const char *p, *end = buf + len;

  for (p = buf + strlen(buf) + 1; p < end; p += strlen(p) + 1)
    n++;
  n /= 2;
  m->own_kv = n ? calloc(n, sizeof(store_kv)) : NULL;
  if (n && !m->own_kv)
    return ENOMEM;
  for (p = buf + strlen(buf) + 1; i < n; i++) {
    m->own_kv[i].key = p;
    p += strlen(p) + 1;
    m->own_kv[i].value = p;
    p += strlen(p) + 1;
  }
  if (n)
    qsort(m->own_kv, n, sizeof(store_kv), kv_cmp);
  m->buf = buf;
  m->content_type = buf[0] ? buf : NULL;
  m->kv = m->own_kv;
  m->n = n;
  return 0;
}

void lp_meta_free(lp_meta *m)
{
  free(m->buf);
  free(m->own_kv);
  memset(m, 0, sizeof(*m));
}

static int has_control(const char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return 1;
  return 0;
}

/* Reject what neither store can keep faithfully: control characters in the
 * content type or names, empty or overlong names, duplicates, NULL or
 * overlong values. */
int32_t lp_meta_check(const lp_obj *o, const char *ct, const store_kv *kv,
                      size_t n, store_error *err)
{
  if (ct && (strlen(ct) > CT_MAX || has_control(ct)))
    return lp_obj_fail(o, err, STORE_E_INVALID, 0,
                       "content type is longer than %d bytes or holds a "
                       "control character", CT_MAX);
  if (n && !kv)
    return lp_obj_fail(o, err, STORE_E_INVALID, 0, "metadata array is NULL");
  for (size_t i = 0; i < n; i++) {
    const char *k = kv[i].key;
    size_t len = k ? strlen(k) : 0;
    if (len == 0 || len > NAME_MAX_LEN || has_control(k))
      return lp_obj_fail(o, err, STORE_E_INVALID, 0,
                         "metadata name #%zu is empty, longer than %zu "
                         "bytes or holds a control character", i,
                         NAME_MAX_LEN);
    if (!kv[i].value || strlen(kv[i].value) > XA_VALUE_MAX)
      return lp_obj_fail(o, err, STORE_E_INVALID, 0,
                         "metadata '%.64s': value is NULL or longer than "
                         "%d bytes", k, XA_VALUE_MAX);
    for (size_t j = 0; j < i; j++)
      if (!strcmp(kv[j].key, k))
        return lp_obj_fail(o, err, STORE_E_INVALID, 0,
                           "metadata name '%.64s' given twice", k);
  }
  return STORE_OK;
}

/* --- xattrs ------------------------------------------------------------ */

/* The list of xattr names of fd into *out (malloc'ed), or errno. */
static int xa_names(int fd, char **out, ssize_t *out_len)
{
  for (;;) {
    ssize_t len = flistxattr(fd, NULL, 0);
    char *p;
    *out = NULL;
    *out_len = 0;
    if (len <= 0)
      return len < 0 ? errno : 0;
    p = malloc((size_t)len);
    if (!p)
      return ENOMEM;
    len = flistxattr(fd, p, (size_t)len);
    if (len >= 0) {
      *out = p;
      *out_len = len;
      return 0;
    }
    free(p);
    if (errno != ERANGE) /* ERANGE: the list grew; ask again */
      return errno;
  }
}

/* Load xattr metadata into m. *found = 0 when fd has no marker (or the
 * filesystem has no xattrs). */
static int xa_load(int fd, lp_meta *m, int *found)
{
  char *names = NULL, *val = NULL;
  sbuf b = {0};
  ssize_t nlen, vlen;
  int e;

  *found = 0;
  val = malloc(XA_VALUE_MAX);
  if (!val)
    return ENOMEM;
  vlen = fgetxattr(fd, XA_CT, val, XA_VALUE_MAX);
  if (vlen < 0) {
    e = errno == ENODATA || errno == ENOTSUP ? 0 : errno;
    goto out;
  }
  e = sbuf_add(&b, val, strnlen(val, (size_t)vlen));
  if (!e)
    e = xa_names(fd, &names, &nlen);
  for (char *p = names; !e && p < names + nlen; p += strlen(p) + 1) {
    if (strncmp(p, XA_M, sizeof(XA_M) - 1))
      continue;
    vlen = fgetxattr(fd, p, val, XA_VALUE_MAX);
    if (vlen < 0) {
      if (errno == ENODATA) /* removed meanwhile */
        continue;
      e = errno;
      break;
    }
    /* A value set by someone else may hold a NUL: keep what precedes it,
     * so the name/value pairing stays intact. */
    e = sbuf_add(&b, p + sizeof(XA_M) - 1, strlen(p + sizeof(XA_M) - 1));
    if (!e)
      e = sbuf_add(&b, val, strnlen(val, (size_t)vlen));
  }
  if (!e)
    e = meta_adopt(m, b.p, b.len);
  if (!e) {
    b.p = NULL;
    *found = 1;
  }
out:
  free(b.p);
  free(names);
  free(val);
  return e;
}

/* Remove the xtstore xattrs: entries not named in keep[0..nkeep), and with
 * `marker` the marker too -- first, so readers switch to the sidecar
 * before the entries go. */
static int xa_clear(int fd, const store_kv *keep, size_t nkeep, int marker)
{
  char *names = NULL;
  ssize_t nlen;
  int e = 0;

  if (marker && fremovexattr(fd, XA_CT) < 0 && errno != ENODATA)
    return errno;
  e = xa_names(fd, &names, &nlen);
  for (char *p = names; !e && p < names + nlen; p += strlen(p) + 1) {
    size_t i = 0;
    if (strncmp(p, XA_M, sizeof(XA_M) - 1))
      continue;
    while (i < nkeep && strcmp(keep[i].key, p + sizeof(XA_M) - 1))
      i++;
    if (i < nkeep)
      continue;
    if (fremovexattr(fd, p) < 0 && errno != ENODATA)
      e = errno;
  }
  free(names);
  return e;
}

/* Set the entries, then the marker; names not in m are removed after, so
 * a reader sees the old set, a union, or the new set. */
static int xa_store(int fd, const lp_meta *m)
{
  char name[300];
  const char *ct = m->content_type ? m->content_type : "";

  for (size_t i = 0; i < m->n; i++) {
    snprintf(name, sizeof(name), "%s%s", XA_M, m->kv[i].key);
    if (fsetxattr(fd, name, m->kv[i].value, strlen(m->kv[i].value), 0) < 0)
      return errno;
  }
  if (fsetxattr(fd, XA_CT, ct, strlen(ct), 0) < 0)
    return errno;
  return xa_clear(fd, m->kv, m->n, 0);
}

/* Errors after which `auto` retries with a sidecar. */
static int xa_fallback(int e)
{
  return e == ENOTSUP || e == E2BIG || e == ENOSPC || e == ERANGE;
}

static int32_t xa_fail(const lp_obj *o, store_error *err, int e)
{
  if (e == ENOTSUP)
    return lp_obj_fail(o, err, STORE_E_UNSUPPORTED, e,
                       "the filesystem has no user xattrs (set 'metadata: "
                       "sidecar')");
  if (xa_fallback(e))
    return lp_obj_fail(o, err, STORE_E_INVALID, e,
                       "metadata too large for xattrs (set 'metadata: "
                       "sidecar' or 'auto')");
  return lp_obj_fail(o, err, 0, e, "cannot store metadata in xattrs");
}

/* --- sidecars ---------------------------------------------------------- */

/* The sidecar's directory (created on demand) and file name. */
static int32_t side_dir(const lp_obj *o, int create, int *out_fd,
                        store_error *err)
{
  if (o->key)
    return lp_shadow_open(o, create, out_fd, err);
  return lp_private_open(o, "", create, out_fd, err);
}

static void side_name(const lp_obj *o, const char *snap, char *out,
                      size_t cap)
{
  if (!o->key)
    snprintf(out, cap, "%s", CONTAINER_SIDE);
  else if (snap)
    snprintf(out, cap, "%s%s", LP_SMETA_PREFIX, snap);
  else
    snprintf(out, cap, "%s", LP_META_FILE);
}

/* Turn sidecar records p[0..end) (end[0] is a NUL guard) into the
 * meta_adopt layout in b: the content type ("" if none), then name/value
 * pairs. EINVAL when the records are malformed. */
static int side_parse(const char *p, const char *end, sbuf *b)
{
  const char *ct = "", *q;
  int e;

  for (q = p; q < end;) { /* validate; find the content type */
    char tag = *q++;
    const char *s1 = q;
    q += strlen(q) + 1;
    if (tag == 'm')
      q += q < end ? strlen(q) + 1 : 1;
    else if (tag == 'c')
      ct = s1;
    else
      return EINVAL;
    if (q > end)
      return EINVAL;
  }
  e = sbuf_add(b, ct, strlen(ct));
  for (q = p; !e && q < end;) {
    char tag = *q++;
    const char *s1 = q;
    q += strlen(q) + 1;
    if (tag != 'm')
      continue;
    e = sbuf_add(b, s1, strlen(s1));
    if (!e)
      e = sbuf_add(b, q, strlen(q));
    q += strlen(q) + 1;
  }
  return e;
}

/* Read the sidecar for the file with inode `ino` into m. Missing, stale
 * (other inode) or unreadable-as-format sidecars leave m empty; *stale is
 * set for the inode mismatch. */
static int32_t side_load(const lp_obj *o, const char *snap, uint64_t ino,
                         lp_meta *m, int *stale, store_error *err)
{
  char name[200], *buf = NULL, *p, *end;
  struct stat st;
  sbuf b = {0};
  int dfd = -1, fd = -1, e;
  int32_t rc;
  size_t got = 0;

  *stale = 0;
  rc = side_dir(o, 0, &dfd, err);
  if (rc || dfd < 0)
    goto out;
  side_name(o, snap, name, sizeof(name));
  fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT)
      rc = lp_obj_fail(o, err, 0, errno, "cannot open metadata sidecar");
    goto out;
  }
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
      (size_t)st.st_size > SIDE_MAX) {
    rc = lp_obj_fail(o, err, STORE_E_IO, 0, "metadata sidecar is unusable");
    goto out;
  }
  buf = lp_read_file(fd, (size_t)st.st_size, &got);
  if (!buf) {
    rc = lp_obj_fail(o, err, STORE_E_NOMEM, ENOMEM, "metadata sidecar");
    goto out;
  }
  end = buf + got;
  if (strncmp(buf, SIDE_MAGIC "ino ", sizeof(SIDE_MAGIC "ino ") - 1))
    goto out; /* not ours: ignore */
  errno = 0;
  if (strtoull(buf + sizeof(SIDE_MAGIC "ino ") - 1, &p, 10) != ino ||
      errno || *p != '\n') {
    *stale = 1;
    goto out;
  }
  e = side_parse(p + 1, end, &b);
  if (!e)
    e = meta_adopt(m, b.p, b.len);
  if (e == EINVAL)
    rc = lp_obj_fail(o, err, STORE_E_IO, 0, "metadata sidecar is corrupt");
  else if (e)
    rc = lp_obj_fail(o, err, 0, e, "cannot read metadata sidecar");
  else
    b.p = NULL;
out:
  free(b.p);
  free(buf);
  if (fd >= 0)
    close(fd);
  if (dfd >= 0)
    close(dfd);
  return rc;
}

/* Serialise m for the file fd into a new temp sidecar recorded in side. */
static int32_t side_write(const lp_obj *o, int fd, const lp_meta *m,
                          lp_side_tmp *side, store_error *err)
{
  struct stat st;
  sbuf b = {0};
  char head[64];
  int sfd = -1, e = 0;
  int32_t rc;

  rc = lp_private_open(o, "tmp", 1, &side->dirfd, err);
  if (rc)
    goto out;
  if (fstat(fd, &st) < 0) {
    rc = lp_obj_fail(o, err, 0, errno, "stat");
    goto out;
  }
  snprintf(head, sizeof(head), "%sino %" PRIu64 "\n", SIDE_MAGIC,
           (uint64_t)st.st_ino);
  e = sbuf_put(&b, head, strlen(head), 0);
  if (!e && m->content_type) {
    e = sbuf_put(&b, "c", 1, 0);
    if (!e)
      e = sbuf_add(&b, m->content_type, strlen(m->content_type));
  }
  for (size_t i = 0; !e && i < m->n; i++) {
    e = sbuf_put(&b, "m", 1, 0);
    if (!e)
      e = sbuf_add(&b, m->kv[i].key, strlen(m->kv[i].key));
    if (!e)
      e = sbuf_add(&b, m->kv[i].value, strlen(m->kv[i].value));
  }
  if (e) {
    rc = lp_obj_fail(o, err, 0, e, "metadata sidecar");
    goto out;
  }
  lp_unique_name("m", side->name, sizeof(side->name));
  sfd = openat(side->dirfd, side->name,
               O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (sfd < 0) {
    side->name[0] = 0;
    rc = lp_obj_fail(o, err, 0, errno, "cannot create metadata sidecar");
    goto out;
  }
  e = lp_write_all(sfd, b.p, b.len);
  if (!e && o->h->fsync && fsync(sfd) < 0)
    e = errno;
  if (e)
    rc = lp_obj_fail(o, err, 0, e, "cannot write metadata sidecar");
out:
  if (sfd >= 0)
    close(sfd);
  free(b.p);
  if (rc)
    lp_meta_discard(side);
  return rc;
}

/* --- public -------------------------------------------------------------- */

/* Load the metadata of the object open as fd (st its stat): a blob, the
 * snapshot `snap` of it, or (o->key NULL) the container. On success *out
 * owns its strings (lp_meta_free); on failure it is empty. */
int32_t lp_meta_load(const lp_obj *o, const char *snap, int fd,
                     const struct stat *st, lp_meta *out, store_error *err)
{
  int found = 0, stale = 0, lk = -1, e;
  int32_t rc = STORE_OK;

  memset(out, 0, sizeof(*out));
  if (o->h->meta_mode != LP_META_SIDECAR) {
    e = xa_load(fd, out, &found);
    if (e) {
      rc = lp_obj_fail(o, err, 0, e, "cannot read metadata xattrs");
      goto out;
    }
    if (found || o->h->meta_mode == LP_META_XATTR)
      goto out;
  }
  rc = side_load(o, snap, (uint64_t)st->st_ino, out, &stale, err);
  if (rc || !stale || snap)
    goto out;
  /* A writer may be between renaming the blob and its sidecar; its lock
   * covers both, so wait for it and look again. */
  rc = lp_meta_lock(o, 0, &lk, err);
  if (rc)
    goto out;
  rc = side_load(o, snap, (uint64_t)st->st_ino, out, &stale, err);
out:
  lp_meta_unlock(&lk);
  return rc;
}

/* Attach m to the new, not yet visible file fd: as xattrs, or as a temp
 * sidecar recorded in *side for lp_meta_place() (side->name "" if none).
 * On failure nothing is left in *side. */
int32_t lp_meta_prepare(const lp_obj *o, int fd, const lp_meta *m,
                        lp_side_tmp *side, store_error *err)
{
  int e;

  side->dirfd = -1;
  side->name[0] = 0;
  if (o->h->meta_mode != LP_META_SIDECAR) {
    e = xa_store(fd, m);
    if (!e)
      return STORE_OK;
    xa_clear(fd, NULL, 0, 1);
    if (o->h->meta_mode == LP_META_XATTR || !xa_fallback(e))
      return xa_fail(o, err, e);
  }
  return side_write(o, fd, m, side, err);
}

/* Move a prepared sidecar next to its object (for the snapshot `snap`, or
 * the blob when NULL). The caller holds the lock when it matters. */
int32_t lp_meta_place(const lp_obj *o, const char *snap, lp_side_tmp *side,
                      store_error *err)
{
  char name[200];
  int dfd = -1, e = 0;
  int32_t rc = STORE_OK;

  if (!side->name[0])
    return STORE_OK;
  side_name(o, snap, name, sizeof(name));
  /* The shadow directory may be pruned by a concurrent delete between
   * opening and renaming into it: retry. */
  for (int tries = 0; tries < 8; tries++) {
    rc = side_dir(o, 1, &dfd, err);
    if (rc)
      goto out;
    if (renameat(side->dirfd, side->name, dfd, name) == 0) {
      e = 0;
      break;
    }
    e = errno;
    close(dfd);
    dfd = -1;
    if (e != ENOENT)
      break;
  }
  if (e) {
    rc = lp_obj_fail(o, err, 0, e, "cannot place metadata sidecar");
    goto out;
  }
  side->name[0] = 0;
  e = lp_fsync_dir(o->h, dfd);
  if (e)
    rc = lp_obj_fail(o, err, 0, e, "fsync");
out:
  if (dfd >= 0)
    close(dfd);
  lp_meta_discard(side);
  return rc;
}

/* Drop a prepared sidecar that will not be used. */
void lp_meta_discard(lp_side_tmp *side)
{
  if (side->dirfd >= 0) {
    if (side->name[0])
      unlinkat(side->dirfd, side->name, 0);
    close(side->dirfd);
  }
  side->dirfd = -1;
  side->name[0] = 0;
}

/* Take the container's sidecar lock (.xtstore/lock), shared or exclusive.
 * *out_fd is -1 when there is nothing to lock: no private area yet (shared)
 * or a read-only tree. */
int32_t lp_meta_lock(const lp_obj *o, int exclusive, int *out_fd,
                     store_error *err)
{
  int dfd = -1, fd = -1;
  int32_t rc;

  *out_fd = -1;
  rc = lp_private_open(o, "", exclusive, &dfd, err);
  if (rc || dfd < 0)
    goto out;
  fd = openat(dfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0) {
    if (errno != EROFS && errno != EACCES)
      rc = lp_obj_fail(o, err, 0, errno, "cannot open the metadata lock");
    goto out;
  }
  while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
    if (errno != EINTR) {
      rc = lp_obj_fail(o, err, 0, errno, "cannot take the metadata lock");
      goto out;
    }
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

void lp_meta_unlock(int *fd)
{
  if (*fd >= 0)
    close(*fd); /* closing the only descriptor releases the flock */
  *fd = -1;
}

/* Replace the user metadata of the existing object fd (a blob or, with
 * o->key NULL, the container directory), keeping its content type. */
int32_t lp_meta_replace(const lp_obj *o, int fd, const store_kv *kv,
                        size_t n, store_error *err)
{
  lp_meta cur = {0}, m = {0};
  lp_side_tmp side = {-1, ""};
  struct stat st;
  int lk = -1, e;
  int32_t rc;

  if (fstat(fd, &st) < 0) {
    rc = lp_obj_fail(o, err, 0, errno, "stat");
    goto out;
  }
  rc = lp_meta_load(o, NULL, fd, &st, &cur, err);
  if (rc)
    goto out;
  m.content_type = cur.content_type;
  m.kv = kv;
  m.n = n;
  if (o->h->meta_mode != LP_META_SIDECAR) {
    e = xa_store(fd, &m);
    if (!e)
      goto out;
    if (o->h->meta_mode == LP_META_XATTR || !xa_fallback(e)) {
      rc = xa_fail(o, err, e);
      goto out;
    }
  }
  rc = lp_meta_lock(o, 1, &lk, err);
  if (rc)
    goto out;
  rc = side_write(o, fd, &m, &side, err);
  if (rc)
    goto out;
  rc = lp_meta_place(o, NULL, &side, err);
  if (rc)
    goto out;
  /* Now that the sidecar is in place, retire any xattrs (marker first). */
  if (o->h->meta_mode == LP_META_AUTO)
    xa_clear(fd, NULL, 0, 1);
out:
  lp_meta_unlock(&lk);
  lp_meta_free(&cur);
  return rc;
}
