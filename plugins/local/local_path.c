/*
** local_path.c -- name validation and directory resolution.
**
** Names are checked lexically first (no "..", no leading '/', no reserved
** ".xtstore" segment), then resolved one component at a time with
** openat(O_NOFOLLOW): a symlink planted below the root is never followed,
** so no name can reach outside <root>/<container>.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "local.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* First control character (0x01-0x1f, 0x7f) in s[0..len), or NULL. */
static const char *find_control(const char *s, size_t len)
{
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
      return s + i;
  return NULL;
}

/* Why seg[0..len) is not a valid key segment, or NULL when it is. */
static const char *segment_problem(const char *seg, size_t len)
{
  if (len == 0)
    return "has an empty segment ('//', or a leading or trailing '/')";
  if (len > LP_MAX_SEGMENT)
    return "has a segment longer than 255 bytes";
  if ((len == 1 && seg[0] == '.') || (len == 2 && !memcmp(seg, "..", 2)))
    return "has a '.' or '..' segment";
  if (len >= strlen(LP_PRIVATE) && !memcmp(seg, LP_PRIVATE, strlen(LP_PRIVATE)))
    return "has a segment starting with '.xtstore' (reserved)";
  if (find_control(seg, len))
    return "contains a control character";
  if (memchr(seg, '/', len))
    return "contains '/'";
  return NULL;
}

/* Non-zero when seg[0..len) may be one segment of a key. */
int lp_segment_ok(const char *seg, size_t len)
{
  return segment_problem(seg, len) == NULL;
}

int32_t lp_check_container(const char *c, store_error *err)
{
  size_t len = c ? strlen(c) : 0;
  const char *bad = NULL;

  if (len == 0)
    return lp_fail(err, STORE_E_INVALID, 0, "local: container name is empty");
  if (len > LP_MAX_CONTAINER)
    bad = "is longer than 63 bytes";
  else if (find_control(c, len))
    bad = "contains a control character";
  else if (strchr(c, '/'))
    bad = "contains '/'";
  else if (!strcmp(c, ".") || !strcmp(c, ".."))
    bad = "is '.' or '..'";
  else if (c[0] == '.')
    bad = "starts with '.' (reserved)";
  if (bad)
    return lp_fail(err, STORE_E_INVALID, 0,
                   "local: invalid container name '%.80s': %s", c, bad);
  return STORE_OK;
}

static int32_t check_key(const char *key, store_error *err)
{
  size_t len = key ? strlen(key) : 0;
  const char *seg, *end, *ctl, *bad = NULL;
  int shown;

  if (len == 0)
    return lp_fail(err, STORE_E_INVALID, 0, "local: blob key is empty");
  if (len > LP_MAX_KEY)
    bad = "longer than 1024 bytes";
  else if (key[0] == '/')
    bad = "starts with '/'";
  for (seg = key; !bad; seg = end + 1) {
    end = strchr(seg, '/');
    if (!end)
      end = key + len;
    bad = segment_problem(seg, (size_t)(end - seg));
    if (!*end)
      break;
  }
  if (!bad)
    return STORE_OK;
  /* Quote the key up to any control character, never the character. */
  ctl = find_control(key, len);
  shown = ctl ? (int)(ctl - key) : (int)len;
  return lp_fail(err, STORE_E_INVALID, 0, "local: invalid key '%.*s%s': %s",
                 shown > 160 ? 160 : shown, key,
                 shown > 160 || ctl ? "..." : "", bad);
}

/* Snapshot ids are file names we generated: [A-Za-z0-9._-], not starting
 * with '.', at most 127 bytes. Anything else cannot name a snapshot. */
int32_t lp_check_snapshot_id(const char *id, store_error *err)
{
  static const char ok[] = "0123456789abcdefghijklmnopqrstuvwxyz"
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-_";
  size_t len = id ? strlen(id) : 0, good = id ? strspn(id, ok) : 0;

  if (len == 0 || len > LP_MAX_SNAP_ID || id[0] == '.' || good != len)
    return lp_fail(err, STORE_E_INVALID, 0,
                   "local: invalid snapshot id (%zu bytes, first bad "
                   "character at offset %zu): expected 1-127 characters "
                   "of [A-Za-z0-9._-], not starting with '.'",
                   len, len && id[0] == '.' ? (size_t)0 : good);
  return STORE_OK;
}

/* Expand `~` and `~/...` with $HOME, make the path absolute and drop
 * trailing slashes. On success *out is malloc'ed and owned by the caller;
 * on failure it is NULL. */
int32_t lp_expand_root(const char *path, char **out, store_error *err)
{
  const char *home = NULL, *rest = path;
  char *cwd = NULL, *res = NULL;
  size_t need, len;
  int32_t rc = STORE_OK;

  *out = NULL;
  if (!path || !*path)
    return lp_fail(err, STORE_E_CONFIG, 0,
                   "local: config key 'path' is required (the root directory)");
  if (path[0] == '~') {
    if (path[1] && path[1] != '/')
      return lp_fail(err, STORE_E_CONFIG, 0,
                     "local: path '%.128s': only '~' and '~/' are expanded",
                     path);
    home = getenv("HOME");
    if (!home || !*home)
      return lp_fail(err, STORE_E_CONFIG, 0,
                     "local: path '%.128s': $HOME is not set", path);
    rest = path + 1;
  } else if (path[0] != '/') {
    cwd = getcwd(NULL, 0);
    if (!cwd) {
      rc = lp_fail(err, STORE_E_CONFIG, errno,
                   "local: path '%.128s': cannot resolve a relative path",
                   path);
      goto out;
    }
    home = cwd;
  }
  need = (home ? strlen(home) + 1 : 0) + strlen(rest) + 1;
  res = malloc(need);
  if (!res) {
    rc = lp_fail(err, STORE_E_NOMEM, ENOMEM, "local: path '%.128s'", path);
    goto out;
  }
  snprintf(res, need, "%s%s%s", home ? home : "",
           home && rest[0] != '/' ? "/" : "", rest);
  len = strlen(res);
  while (len > 1 && res[len - 1] == '/')
    res[--len] = 0;
  *out = res;
out:
  free(cwd);
  return rc;
}

/* One attempt of lp_walk. */
static int walk_once(int base, const char *path, size_t len, int create,
                     int *out_fd, size_t *bad_len)
{
  char seg[LP_MAX_SEGMENT + 1];
  size_t i = 0, j = 0;
  int cur, next, e = 0;

  cur = fcntl(base, F_DUPFD_CLOEXEC, 0);
  if (cur < 0)
    return errno;
  while (i < len) {
    for (j = i; j < len && path[j] != '/'; j++)
      ;
    if (j - i > LP_MAX_SEGMENT || j == i) {
      e = j == i ? EINVAL : ENAMETOOLONG;
      goto fail;
    }
    memcpy(seg, path + i, j - i);
    seg[j - i] = 0;
    next = openat(cur, seg, DIR_FLAGS);
    if (next < 0 && errno == ENOENT && create) {
      if (mkdirat(cur, seg, 0777) < 0 && errno != EEXIST) {
        e = errno;
        goto fail;
      }
      next = openat(cur, seg, DIR_FLAGS);
    }
    if (next < 0) {
      e = errno;
      goto fail;
    }
    close(cur);
    cur = next;
    i = j + 1;
  }
  *out_fd = cur;
  return 0;
fail:
  if (bad_len)
    *bad_len = j;
  close(cur);
  return e;
}

/* Open path[0..len) (segments separated by '/', a trailing '/' allowed)
 * below directory `base`, one component at a time, never following a
 * symlink. With `create`, missing directories are made. Returns 0 and an
 * owned fd in *out_fd, or an errno value with *out_fd = -1 and *bad_len
 * (if non-NULL) = length of the prefix that failed. */
int lp_walk(int base, const char *path, size_t len, int create, int *out_fd,
            size_t *bad_len)
{
  int e;

  *out_fd = -1;
  /* While creating, a concurrent delete may prune a directory we just
   * made or opened (ENOENT): start again from base. */
  for (int tries = 0;; tries++) {
    e = walk_once(base, path, len, create, out_fd, bad_len);
    if (e != ENOENT || !create || tries == 8)
      return e;
  }
}

/* Open the root directory (following symlinks: the user chose it). With
 * `create`, make it and its parents first. Returns 0 or errno. */
int lp_open_root(const store_handle *h, int create, int *out_fd)
{
  *out_fd = -1;
  if (create) {
    /* A private copy: the handle is shared between threads. */
    char p[4096];
    if (snprintf(p, sizeof(p), "%s", h->root) >= (int)sizeof(p))
      return ENAMETOOLONG;
    for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
      if (s)
        *s = 0;
      if (mkdir(p, 0777) < 0 && errno != EEXIST)
        return errno;
      if (!s)
        break;
      *s = '/';
    }
  }
  *out_fd = open(h->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return *out_fd < 0 ? errno : 0;
}

void lp_obj_init(lp_obj *o, store_handle *h, const char *container,
                 const char *key)
{
  const char *slash = key ? strrchr(key, '/') : NULL;

  o->h = h;
  o->container = container;
  o->key = key;
  o->cfd = -1;
  o->pfd = -1;
  o->leaf = slash ? slash + 1 : key;
}

/* Validate the names and open the container. NOT_FOUND names the missing
 * container. */
int32_t lp_obj_open(lp_obj *o, store_error *err)
{
  int32_t rc;
  int rfd = -1, e;

  rc = lp_check_container(o->container, err);
  if (rc)
    goto out;
  if (o->key) {
    rc = check_key(o->key, err);
    if (rc)
      goto out;
  }
  e = lp_open_root(o->h, 0, &rfd);
  if (!e) {
    o->cfd = openat(rfd, o->container, DIR_FLAGS);
    e = o->cfd < 0 ? errno : 0;
  }
  if (e == ENOENT || e == ENOTDIR || e == ELOOP)
    rc = lp_fail(err, STORE_E_NOT_FOUND, 0,
                 "local: container '%s' not found in service '%.64s' (root "
                 "'%.100s')", o->container, o->h->name, o->h->root);
  else if (e)
    rc = lp_obj_fail(o, err, 0, e, "cannot open the container");
out:
  if (rfd >= 0)
    close(rfd);
  return rc;
}

/* How every op on one object begins: address it, refuse an options struct
 * of size 0 (opts may be NULL; `what` names it), open the container. o is
 * initialised even on failure, so lp_obj_close(o) is always safe. */
int32_t lp_obj_start(lp_obj *o, store_handle *h, const char *container,
                     const char *key, const void *opts, const char *what,
                     store_error *err)
{
  int32_t rc;

  lp_obj_init(o, h, container, key);
  rc = lp_check_opts(opts, what, err);
  return rc ? rc : lp_obj_open(o, err);
}

/* Open the directory holding the key's last segment into o->pfd. With
 * `create`, make missing parents; a parent that is a blob is INVALID.
 * Without it, a missing parent means the blob is NOT_FOUND. */
int32_t lp_obj_parent(lp_obj *o, int create, store_error *err)
{
  size_t dlen = (size_t)(o->leaf - o->key), bad = 0;
  int e;

  if (o->pfd >= 0)
    return STORE_OK;
  e = lp_walk(o->cfd, o->key, dlen ? dlen - 1 : 0, create, &o->pfd, &bad);
  if (!e)
    return STORE_OK;
  if (!create && (e == ENOENT || e == ENOTDIR || e == ELOOP))
    return lp_obj_fail(o, err, STORE_E_NOT_FOUND, 0, "not found");
  if (e == ENOTDIR || e == ELOOP || e == EEXIST)
    return lp_obj_fail(o, err, STORE_E_INVALID, 0,
                       "parent '%.*s' is a blob (or a symlink), not a "
                       "directory", (int)bad, o->key);
  return lp_obj_fail(o, err, 0, e, "cannot open parent directory '%.*s'",
                     (int)bad, o->key);
}

void lp_obj_close(lp_obj *o)
{
  if (o->pfd >= 0)
    close(o->pfd);
  if (o->cfd >= 0)
    close(o->cfd);
  o->pfd = o->cfd = -1;
}

/* Open <container>/.xtstore/<sub> ("" for .xtstore itself). Without
 * `create`, a missing directory gives STORE_OK and *out_fd = -1. */
int32_t lp_private_open(const lp_obj *o, const char *sub, int create,
                        int *out_fd, store_error *err)
{
  char path[64];
  int e;

  snprintf(path, sizeof(path), "%s/%s", LP_PRIVATE, sub);
  e = lp_walk(o->cfd, path, strlen(path), create, out_fd, NULL);
  if (!e || (!create && e == ENOENT))
    return STORE_OK;
  return lp_obj_fail(o, err, 0, e, "cannot open private directory '%s'",
                     path);
}

/* Open the key's shadow directory .xtstore/keys/<key>/ (sidecars and
 * snapshots). Without `create`, a missing one gives STORE_OK, fd -1. */
int32_t lp_shadow_open(const lp_obj *o, int create, int *out_fd,
                       store_error *err)
{
  char path[sizeof(LP_SHADOW_DIR) + LP_MAX_KEY + 1];
  int e;

  snprintf(path, sizeof(path), "%s/%s", LP_SHADOW_DIR, o->key);
  e = lp_walk(o->cfd, path, strlen(path), create, out_fd, NULL);
  if (!e || (!create && (e == ENOENT || e == ENOTDIR)))
    return STORE_OK;
  return lp_obj_fail(o, err, 0, e, "cannot open its private directory");
}
