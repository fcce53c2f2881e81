/*
** local_fs.c -- small filesystem helpers: full writes and reads, directory
** fsync, directory streams and sorted name lists, symlink-safe recursive
** removal, pruning of empty directories, unique names, etags and entries.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "local.h"

/* The only mutable global: makes temp names unique within the process. */
static atomic_ulong name_counter;

/* Write all of buf, retrying short writes and EINTR. Returns 0 or errno. */
int lp_write_all(int fd, const void *buf, size_t len)
{
  const char *p = buf;

  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* The first `size` bytes of fd (fewer when it is shorter), read from
 * offset 0 into a new buffer with a NUL after them, which the caller frees;
 * *got is how many. NULL when out of memory. */
char *lp_read_file(int fd, size_t size, size_t *got)
{
  char *buf = malloc(size + 1);

  *got = 0;
  if (!buf)
    return NULL;
  while (*got < size) {
    ssize_t n = pread(fd, buf + *got, size - *got, (off_t)*got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    *got += (size_t)n;
  }
  buf[*got] = 0;
  return buf;
}

/* Make a rename or unlink in dirfd durable (when the service asks for
 * fsync). Filesystems that cannot fsync a directory (EINVAL) are fine. */
int lp_fsync_dir(const store_handle *h, int dirfd)
{
  if (!h->fsync || fsync(dirfd) == 0 || errno == EINVAL)
    return 0;
  return errno;
}

/* A directory stream over fd, which it takes over: on failure fd is
 * closed too. A negative fd (a failed open) fails with errno untouched.
 * NULL with errno set on failure. */
DIR *lp_opendir(int fd)
{
  DIR *d;
  int e;

  if (fd < 0)
    return NULL;
  d = fdopendir(fd);
  if (!d) {
    e = errno;
    close(fd);
    errno = e;
  }
  return d;
}

static int name_cmp(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append a copy of s followed by suffix. Returns 0 or ENOMEM. */
int lp_names_add(lp_names *ns, const char *s, const char *suffix)
{
  size_t len = strlen(s), slen = strlen(suffix);
  char *copy;

  if (ns->n == ns->cap) {
    size_t cap = ns->cap ? ns->cap * 2 : 16;
    char **grown = realloc(ns->v, cap * sizeof(*grown));

    if (!grown)
      return ENOMEM;
    ns->v = grown;
    ns->cap = cap;
  }
  copy = malloc(len + slen + 1);
  if (!copy)
    return ENOMEM;
  memcpy(copy, s, len);
  memcpy(copy + len, suffix, slen + 1);
  ns->v[ns->n++] = copy;
  return 0;
}

/* End of filling ns, with e the filler's result: on success (0) sort ns
 * byte-wise, as keys compare; on failure free it. Returns e. */
int lp_names_done(lp_names *ns, int e)
{
  if (e)
    lp_names_free(ns);
  else if (ns->n)
    qsort(ns->v, ns->n, sizeof(*ns->v), name_cmp);
  return e;
}

void lp_names_free(lp_names *ns)
{
  for (size_t i = 0; i < ns->n; i++)
    free(ns->v[i]);
  free(ns->v);
  *ns = (lp_names){0};
}

/* Remove dirfd/name and everything below it without following symlinks
 * (each level is opened O_NOFOLLOW relative to its parent). Returns 0 or
 * errno (ENOENT when name is absent). */
int lp_rmtree(int dirfd, const char *name)
{
  struct dirent *de;
  DIR *d;
  int fd, e = 0;

  if (unlinkat(dirfd, name, 0) == 0)
    return 0;
  if (errno != EISDIR)
    return errno;
  fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  d = lp_opendir(fd);
  if (!d)
    return errno;
  while (!e && (errno = 0, de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
      continue;
    e = lp_rmtree(fd, de->d_name);
    if (e == ENOENT)
      e = 0;
  }
  if (!e && errno)
    e = errno;
  closedir(d);
  if (!e && unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
    e = errno;
  return e;
}

/* Remove the directories path[0..len) below base that are empty, deepest
 * first, stopping at the first one that is not. Cloud listings have no
 * empty "directories", so neither do we. Best effort: errors just stop. */
void lp_prune_dirs(int base, const char *path, size_t len)
{
  char leaf[LP_MAX_SEGMENT + 1];

  while (len > 0 && path[len - 1] == '/')
    len--;
  while (len > 0) {
    size_t k = len;
    int pfd, r;

    while (k > 0 && path[k - 1] != '/')
      k--;
    if (len - k > LP_MAX_SEGMENT)
      return;
    memcpy(leaf, path + k, len - k);
    leaf[len - k] = 0;
    if (lp_walk(base, path, k ? k - 1 : 0, 0, &pfd, NULL))
      return;
    r = unlinkat(pfd, leaf, AT_REMOVEDIR);
    close(pfd);
    if (r < 0)
      return;
    len = k ? k - 1 : 0;
  }
}

/* Remove the key's shadow directory and its empty parents, if empty. */
void lp_shadow_prune(const lp_obj *o)
{
  int kfd;

  if (lp_walk(o->cfd, LP_SHADOW_DIR, strlen(LP_SHADOW_DIR), 0, &kfd, NULL))
    return;
  lp_prune_dirs(kfd, o->key, strlen(o->key));
  close(kfd);
}

int64_t lp_mtime_ns(const struct stat *st)
{
  return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* "ino-mtimens-size" in hex: changes whenever the file is replaced
 * (new inode) or written (mtime, size). */
void lp_etag(const struct stat *st, char out[LP_ETAG_SIZE])
{
  snprintf(out, LP_ETAG_SIZE, "%" PRIx64 "-%" PRIx64 "-%" PRIx64,
           (uint64_t)st->st_ino, (uint64_t)lp_mtime_ns(st),
           (uint64_t)st->st_size);
}

/* Describe a file. etag is the caller's buffer; m may be NULL. */
void lp_entry_fill(store_entry *e, const char *name, const struct stat *st,
                   char etag[LP_ETAG_SIZE], const lp_meta *m)
{
  memset(e, 0, sizeof(*e));
  e->struct_size = sizeof(*e);
  e->name = name;
  e->size = (uint64_t)st->st_size;
  e->mtime_ns = lp_mtime_ns(st);
  lp_etag(st, etag);
  e->etag = etag;
  if (m) {
    e->content_type = m->content_type;
    e->metadata = m->kv;
    e->nmetadata = m->n;
  }
}

/* "<tag>-<pid>-<tid>-<counter>": unique among concurrent writers of this
 * and other processes sharing the directory. */
void lp_unique_name(const char *tag, char *out, size_t cap)
{
  snprintf(out, cap, "%s-%ld-%ld-%lu", tag, (long)getpid(), (long)gettid(),
           atomic_fetch_add(&name_counter, 1));
}
