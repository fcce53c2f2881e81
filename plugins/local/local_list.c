/*
** local_list.c -- blob listings.
**
** A depth-first walk that reads one directory at a time, sorts its
** children and visits them in order. A subdirectory sorts as "name/", so
** "a-c" < "a/b" < "a0" exactly as full keys compare byte-wise, and the walk
** yields keys in ascending order while holding only one directory's names
** per level. Prefix and start_after prune whole subtrees.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "local.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

typedef struct lister {
  lp_obj o;               /* the container; o.key = path while visiting  */
  const char *prefix;
  size_t plen;
  const char *after;      /* NULL: from the start                        */
  int delim, snaps, meta;
  store_entry_fn cb;
  void *ctx;
  store_error *err;
  char path[LP_MAX_KEY + 2]; /* the current key, or directory + '/'      */
} lister;

/* What readdir's entry is: 1 directory, 0 regular file, -1 neither (or
 * gone). Symlinks are neither: they are never followed. */
static int entry_kind(int dfd, const struct dirent *de)
{
  struct stat st;

  switch (de->d_type) {
  case DT_DIR:
    return 1;
  case DT_REG:
    return 0;
  case DT_UNKNOWN:
    if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      return -1;
    return S_ISDIR(st.st_mode) ? 1 : S_ISREG(st.st_mode) ? 0 : -1;
  default:
    return -1;
  }
}

/* The children of dfd that can be keys (valid segments; directories with
 * a trailing '/'), sorted, into *out (lp_names_free). Returns 0 or
 * errno. */
static int read_sorted(int dfd, lp_names *out)
{
  struct dirent *de;
  DIR *d = lp_opendir(fcntl(dfd, F_DUPFD_CLOEXEC, 0));
  int e = 0;

  if (!d)
    return errno;
  while (!e && (errno = 0, de = readdir(d))) {
    int kind;
    if (!lp_segment_ok(de->d_name, strlen(de->d_name)))
      continue; /* ".", "..", ".xtstore*", control characters */
    kind = entry_kind(dfd, de);
    if (kind < 0)
      continue;
    e = lp_names_add(out, de->d_name, kind ? "/" : "");
  }
  if (!e && errno)
    e = errno;
  closedir(d);
  return lp_names_done(out, e);
}

/* Non-zero when the directory holds at least one blob, at any depth. */
int lp_dir_has_blob(int dirfd)
{
  struct dirent *de;
  DIR *d = lp_opendir(fcntl(dirfd, F_DUPFD_CLOEXEC, 0));
  int found = 0;

  if (!d)
    return 0;
  while (!found && (de = readdir(d))) {
    int kind, sub;
    if (!lp_segment_ok(de->d_name, strlen(de->d_name)))
      continue;
    kind = entry_kind(dirfd, de);
    if (kind == 0)
      found = 1;
    else if (kind == 1 && (sub = openat(dirfd, de->d_name, DIR_FLAGS)) >= 0) {
      found = lp_dir_has_blob(sub);
      close(sub);
    }
  }
  closedir(d);
  return found;
}

static int32_t call(lister *l, const store_entry *e)
{
  if (l->cb(l->ctx, e))
    return lp_fail(l->err, STORE_E_ABORTED, 0,
                   "local: list of container '%s': stopped by the callback",
                   l->o.container);
  return STORE_OK;
}

/* Report the blob at l->o.key (or its snapshot snap) with stat st: open
 * as fd, or fd -1 when no metadata is wanted, its CRC record then read
 * from entry leaf of directory dfd. */
static int32_t emit_file(lister *l, const char *snap, int fd, int dfd,
                         const char *leaf, const struct stat *st)
{
  char etag[LP_ETAG_SIZE];
  lp_meta m = {0};
  store_entry e;
  uint32_t crc;
  int32_t rc;

  rc = lp_blob_describe(&l->o, snap, fd, st, l->meta, etag, &m, &e, l->err);
  if (!rc && fd < 0 && lp_cksum_get_at(dfd, leaf, st, &crc)) {
    e.checksums |= STORE_CKSUM_CRC32C;
    e.crc32c = crc;
  }
  if (!rc)
    rc = call(l, &e);
  lp_meta_free(&m);
  return rc;
}

/* Report snapshot `id` (in shadow directory sfd) of the blob at l->path. */
static int32_t emit_snapshot(lister *l, int sfd, const char *id)
{
  char name[sizeof(LP_SNAP_PREFIX) + LP_MAX_SNAP_ID + 1];
  struct stat st;
  int fd;
  int32_t rc = STORE_OK;

  snprintf(name, sizeof(name), "%s%s", LP_SNAP_PREFIX, id);
  fd = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0 && fstat(fd, &st) == 0) /* else deleted meanwhile */
    rc = emit_file(l, id, fd, -1, NULL, &st);
  if (fd >= 0)
    close(fd);
  return rc;
}

/* Report the snapshots of the blob at l->path, oldest first. */
static int32_t emit_snapshots(lister *l)
{
  lp_names ids = {0};
  int sfd = -1;
  int32_t rc;

  rc = lp_snap_list(&l->o, &ids, l->err);
  if (rc || ids.n == 0)
    goto out;
  rc = lp_shadow_open(&l->o, 0, &sfd, l->err);
  for (size_t i = 0; !rc && sfd >= 0 && i < ids.n; i++)
    rc = emit_snapshot(l, sfd, ids.v[i]);
out:
  if (sfd >= 0)
    close(sfd);
  lp_names_free(&ids);
  return rc;
}

/* Report the blob `leaf` of directory dfd, whose key is l->path. */
static int32_t emit_blob(lister *l, int dfd, const char *leaf)
{
  struct stat st;
  int fd = -1;
  int32_t rc = STORE_OK;

  if (fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
      !S_ISREG(st.st_mode))
    goto out; /* deleted meanwhile, or not a blob */
  /* Opened only for the metadata, and only a regular file (a device is
   * never touched): without metadata the stat and the CRC record, read by
   * name, are the entry. */
  if (l->meta) {
    fd = openat(dfd, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
      goto out; /* deleted meanwhile, or unreadable */
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
      goto out; /* replaced meanwhile */
  }
  l->o.key = l->path;
  if (l->snaps) {
    rc = emit_snapshots(l);
    if (rc)
      goto out;
  }
  rc = emit_file(l, NULL, fd, dfd, leaf, &st);
out:
  if (fd >= 0)
    close(fd);
  return rc;
}

/* How directory path[0..len) (ending in '/') relates to the prefix P. */
enum { SKIP, DESCEND, UNDER };

static int dir_relation(const lister *l, size_t len)
{
  if (len <= l->plen)
    return strncmp(l->path, l->prefix, len) ? SKIP : DESCEND;
  return strncmp(l->path, l->prefix, l->plen) ? SKIP : UNDER;
}

/* Every key below directory path[0..len) sorts at or before start_after:
 * the directory sorts before it and is not a prefix of it. */
static int dir_all_before(const lister *l, size_t len)
{
  return l->after && strcmp(l->path, l->after) < 0 &&
         strncmp(l->after, l->path, len) != 0;
}

/* Report a delimiter listing's "dir/" entry if the directory holds a blob. */
static int32_t emit_prefix(lister *l, int dfd, const char *name)
{
  store_entry e;
  int fd = openat(dfd, name, DIR_FLAGS);
  int has;

  if (fd < 0)
    return STORE_OK;
  has = lp_dir_has_blob(fd);
  close(fd);
  if (!has)
    return STORE_OK;
  memset(&e, 0, sizeof(e));
  e.struct_size = sizeof(e);
  e.flags = STORE_ENTRY_PREFIX;
  e.name = l->path;
  e.mtime_ns = STORE_MTIME_UNKNOWN;
  return call(l, &e);
}

/* Visit directory dfd, whose keys start with path[0..len). */
static int32_t list_dir(lister *l, int dfd, size_t len)
{
  lp_names names = {0};
  int32_t rc = STORE_OK;
  int e;

  if (lp_cancelled(l->o.h)) {
    rc = lp_fail(l->err, STORE_E_ABORTED, 0,
                 "local: list of container '%s': cancelled", l->o.container);
    goto out;
  }
  e = read_sorted(dfd, &names);
  if (e) {
    rc = lp_fail(l->err, 0, e, "local: list of container '%s': cannot "
                 "read directory '%.*s'", l->o.container, (int)len, l->path);
    goto out;
  }
  for (size_t i = 0; !rc && i < names.n; i++) {
    size_t nlen = strlen(names.v[i]), klen = len + nlen;
    int is_dir = names.v[i][nlen - 1] == '/', sub;
    /* A directory's keys are longer than its path; skip what cannot hold
     * valid keys (and would not fit the buffer). */
    if (klen > LP_MAX_KEY - (size_t)is_dir)
      continue;
    memcpy(l->path + len, names.v[i], nlen + 1);
    if (!is_dir) {
      if (klen >= l->plen && !strncmp(l->path, l->prefix, l->plen) &&
          (!l->after || strcmp(l->path, l->after) > 0))
        rc = emit_blob(l, dfd, names.v[i]);
      continue;
    }
    int rel = dir_relation(l, klen);
    if (rel == SKIP || dir_all_before(l, klen))
      continue;
    names.v[i][nlen - 1] = 0; /* the directory's own name, for openat */
    if (l->delim && rel == UNDER) {
      /* Entry names only grow: a "dir/" at or before start_after was
       * reported on an earlier page. */
      if (!l->after || strcmp(l->path, l->after) > 0)
        rc = emit_prefix(l, dfd, names.v[i]);
      continue;
    }
    sub = openat(dfd, names.v[i], DIR_FLAGS);
    if (sub < 0)
      continue; /* removed meanwhile */
    rc = list_dir(l, sub, klen);
    close(sub);
  }
out:
  lp_names_free(&names);
  return rc;
}

int32_t lp_blob_list(store_handle *h, const char *container,
                     const store_list_opts *opts, store_entry_fn cb,
                     void *cb_ctx, store_error *err)
{
  const char *delim = STORE_OPT(opts, store_list_opts, delimiter, NULL);
  uint32_t flags = STORE_OPT(opts, store_list_opts, flags, 0);
  lister *l;
  size_t dlen = 0;
  int dfd = -1;
  int32_t rc;

  l = calloc(1, sizeof(*l));
  if (!l)
    return lp_fail(err, STORE_E_NOMEM, ENOMEM, "local: list");
  rc = lp_obj_start(&l->o, h, container, NULL, opts, "list options", err);
  if (rc)
    goto out;
  if (!cb || (delim && *delim && strcmp(delim, "/"))) {
    rc = lp_obj_fail(&l->o, err, cb ? STORE_E_UNSUPPORTED : STORE_E_INVALID,
                     0, cb ? "only the delimiter '/' is supported"
                           : "no entry callback");
    goto out;
  }
  l->prefix = STORE_OPT(opts, store_list_opts, prefix, NULL);
  if (!l->prefix)
    l->prefix = "";
  l->plen = strlen(l->prefix);
  l->after = STORE_OPT(opts, store_list_opts, start_after, NULL);
  if (l->after && !*l->after)
    l->after = NULL;
  l->delim = delim && *delim;
  l->snaps = !!(flags & STORE_LIST_SNAPSHOTS);
  l->meta = !!(flags & STORE_LIST_METADATA);
  l->cb = cb;
  l->ctx = cb_ctx;
  l->err = err;
  if (l->plen > LP_MAX_KEY)
    goto out; /* no key can match */
  /* Start in the deepest directory the prefix names in full, if its
   * segments can exist at all. */
  if (strrchr(l->prefix, '/'))
    dlen = (size_t)(strrchr(l->prefix, '/') - l->prefix) + 1;
  for (size_t i = 0, j; i < dlen; i = j + 1) {
    for (j = i; l->prefix[j] != '/'; j++)
      ;
    if (!lp_segment_ok(l->prefix + i, j - i))
      goto out;
  }
  if (lp_walk(l->o.cfd, l->prefix, dlen, 0, &dfd, NULL))
    goto out; /* the directory does not exist: nothing to list */
  memcpy(l->path, l->prefix, dlen);
  l->path[dlen] = 0;
  rc = list_dir(l, dfd, dlen);
out:
  if (dfd >= 0)
    close(dfd);
  lp_obj_close(&l->o);
  free(l);
  return rc;
}
