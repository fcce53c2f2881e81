/*
** local.c -- a local directory as one end of a tree workflow:
** a walk that yields regular files in the byte order of their relative
** names, a directory sorting as "name/", which is the order of every
** service listing -- so a local tree merges with a service's listing like
** any other. One directory's names are held per level, never the tree.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "workflow.h"

/* Our own temp files (".xtstore-get-*" of downloads in progress) are never
 * objects, as the local provider hides its ".xtstore" names. */
#define ST_PRIVATE_PREFIX ".xtstore"

struct walk_ent {
  char *name;               /* a directory's ends in '/'                 */
  uint64_t size;
  int64_t mtime_ns;
};

struct walker {
  const char *stem;
  size_t stemlen, rootlen;
  st_walk_fn fn;
  void *ud;
  store_error *err;
  char path[4096];          /* root + the current relative name          */
};

static int sys_err(store_error *err, int e, const char *path)
{
  int code = e == ENOENT || e == ENOTDIR  ? STORE_E_NOT_FOUND
             : e == EACCES || e == EPERM ? STORE_E_PERMISSION
             : e == ENOMEM               ? STORE_E_NOMEM
                                         : STORE_E_IO;
  return st_err(err, code, "local directory '%s': %s", path, strerror(e));
}

static int cmp_ent(const void *a, const void *b)
{
  return strcmp(((const struct walk_ent *)a)->name,
                ((const struct walk_ent *)b)->name);
}

static void free_ents(struct walk_ent *v, size_t n)
{
  while (n > 0)
    free(v[--n].name);
  free(v);
}

/* Whether rel (n bytes) matters under the stem: a directory when it and
 * the stem agree as far as both go, a file when it starts with the stem. */
static int wanted(const struct walker *w, const char *rel, size_t n,
                  int is_dir)
{
  size_t m = n < w->stemlen ? n : w->stemlen;
  if (memcmp(rel, w->stem, m) != 0)
    return 0;
  return is_dir || n >= w->stemlen;
}

/* The sorted children of w->path (a directory ending in '/'). */
static int read_sorted(struct walker *w, struct walk_ent **out, size_t *out_n)
{
  struct walk_ent *v = NULL, *nv;
  size_t n = 0, cap = 0, len;
  struct dirent *de;
  struct stat st;
  DIR *d = opendir(w->path);
  int rc = STORE_OK;

  if (!d)
    return sys_err(w->err, errno, w->path);
  while ((errno = 0, de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
        strncmp(de->d_name, ST_PRIVATE_PREFIX,
                sizeof(ST_PRIVATE_PREFIX) - 1) == 0)
      continue;
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)))
      continue; /* gone meanwhile, a symlink or a special file */
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      nv = realloc(v, cap * sizeof(*v));
      if (!nv) {
        rc = st_err(w->err, STORE_E_NOMEM, "out of memory");
        goto out;
      }
      v = nv;
    }
    len = strlen(de->d_name);
    v[n].name = malloc(len + 2);
    if (!v[n].name) {
      rc = st_err(w->err, STORE_E_NOMEM, "out of memory");
      goto out;
    }
    memcpy(v[n].name, de->d_name, len);
    v[n].name[len] = S_ISDIR(st.st_mode) ? '/' : '\0';
    v[n].name[len + 1] = '\0';
    v[n].size = (uint64_t)st.st_size;
    v[n].mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
                    st.st_mtim.tv_nsec;
    n++;
  }
  if (errno)
    rc = sys_err(w->err, errno, w->path);
out:
  closedir(d);
  if (rc) {
    free_ents(v, n);
    return rc;
  }
  if (n > 1)
    qsort(v, n, sizeof(*v), cmp_ent);
  *out = v;
  *out_n = n;
  return STORE_OK;
}

/* Walk the directory w->path[0..len) (ending in '/'). */
static int walk_dir(struct walker *w, size_t len)
{
  struct walk_ent *v = NULL;
  size_t n = 0, i, nl;
  int rc = read_sorted(w, &v, &n);

  for (i = 0; !rc && i < n; i++) {
    int is_dir;
    nl = strlen(v[i].name);
    if (len + nl >= sizeof(w->path)) {
      w->path[len] = '\0';
      rc = sys_err(w->err, ENAMETOOLONG, w->path);
      break;
    }
    memcpy(w->path + len, v[i].name, nl + 1);
    is_dir = v[i].name[nl - 1] == '/';
    if (!wanted(w, w->path + w->rootlen, len + nl - w->rootlen, is_dir))
      continue;
    if (is_dir)
      rc = walk_dir(w, len + nl);
    else if (w->fn(w->ud, w->path + w->rootlen, v[i].size, v[i].mtime_ns))
      rc = st_err(w->err, STORE_E_ABORTED, "listing stopped");
  }
  free_ents(v, n);
  return rc;
}

int st_local_walk(const char *root, const char *stem, st_walk_fn fn,
                  void *ud, store_error *err)
{
  struct walker w;
  memset(&w, 0, sizeof(w));
  w.stem = stem;
  w.stemlen = strlen(stem);
  w.fn = fn;
  w.ud = ud;
  w.err = err;
  w.rootlen = strlen(root);
  if (w.rootlen >= sizeof(w.path))
    return sys_err(err, ENAMETOOLONG, root);
  memcpy(w.path, root, w.rootlen + 1);
  return walk_dir(&w, w.rootlen);
}

int st_local_beneath(const char *root, const char *path, int create,
                     store_error *err)
{
  size_t rootlen = strlen(root);
  char *p = strdup(path), *s;
  struct stat st;
  int rc = STORE_OK;

  if (!p)
    return st_err(err, STORE_E_NOMEM, "out of memory");
  if (strncmp(path, root, rootlen) != 0)
    rootlen = 0;
  /* The target itself may be a link: the user named it. */
  if (create && rootlen && (rc = st_local_mkdirs(root, err)) != STORE_OK) {
    free(p);
    return rc;
  }
  for (s = strchr(p + rootlen + (rootlen == 0), '/'); s;
       s = strchr(s + 1, '/')) {
    *s = '\0';
    if (lstat(p, &st) != 0) {
      if (errno != ENOENT || !create || (mkdir(p, 0777) != 0 &&
                                         errno != EEXIST)) {
        rc = errno == ENOENT && !create ? STORE_OK : sys_err(err, errno, p);
        break;
      }
    } else if (S_ISLNK(st.st_mode)) {
      rc = st_err(err, STORE_E_INVALID, "local directory '%s' is a symbolic "
                  "link: links below the target '%s' are not followed", p,
                  root);
      break;
    } else if (!S_ISDIR(st.st_mode)) {
      rc = sys_err(err, ENOTDIR, p);
      break;
    }
    *s = '/';
  }
  free(p);
  return rc;
}

int st_local_mkdirs(const char *path, store_error *err)
{
  char *p = strdup(path), *s;
  int rc = STORE_OK;

  if (!p)
    return st_err(err, STORE_E_NOMEM, "out of memory");
  /* The deepest first: a tree's downloads ask for the same directory
   * for every file, which then costs one call, not one per level. */
  s = strrchr(p, '/');
  if (s && s != p) {
    *s = '\0';
    if (mkdir(p, 0777) != 0 && errno == EEXIST) {
      free(p);
      return STORE_OK;
    }
    *s = '/';
  }
  /* From the second byte: a leading '/' is the root, not a directory. */
  for (s = p[0] ? strchr(p + 1, '/') : NULL; s; s = strchr(s + 1, '/')) {
    *s = '\0';
    if (mkdir(p, 0777) != 0 && errno != EEXIST) {
      rc = sys_err(err, errno, p);
      break;
    }
    *s = '/';
  }
  free(p);
  return rc;
}
