/*
** store_dirstore.c -- the smallest complete xtstore provider: containers
** are the directories under `path`, a blob is one file whose name is its
** key in hex (so any key is a file name, and hex sorts as the key's bytes
** do: a listing is a sorted directory). Built with store_interface.h alone.
*/
#define _POSIX_C_SOURCE 200809L /* before any header: mkstemp, st_mtim */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <store_interface.h>

#define ROOT_MAX 2048 /* `path`, with its NUL */
#define KEY_MAX 127   /* two file name bytes per key byte: 254 of 255 */
#define PATH_CAP 4096 /* ROOT/CONTAINER/NAME: 2047 + 1 + 255 + 1 + 255 */

struct store_handle {
  char root[ROOT_MAX];
};

/* Called with each name of a directory; a non-zero return (an error the
 * callback set in err) ends the walk. */
typedef int32_t dir_name_fn(void *ud, const char *name, store_error *err);

static int32_t errno_code(int e)
{
  switch (e) {
  case ENOENT: return STORE_E_NOT_FOUND;
  case EEXIST: return STORE_E_EXISTS;
  case ENOTEMPTY: return STORE_E_NOT_EMPTY;
  case EACCES: return STORE_E_PERMISSION;
  default: return STORE_E_IO;
  }
}

/* The failed system call's errno, as "WHAT 'NAME': cause". */
static int32_t fail(store_error *err, const char *what, const char *name)
{
  int e = errno;
  return store_error_set(err, errno_code(e), "%s '%s': %s", what, name,
                         strerror(e));
}

static int32_t stopped(store_error *err, const char *op, const char *name)
{
  return store_error_set(err, STORE_E_ABORTED, "%s '%s': stopped", op, name);
}

/* ROOT/C/, or ROOT/C/hex(k) when k is not NULL, into p[PATH_CAP]. */
static int32_t path(const store_handle *h, const char *c, const char *k,
                    char *p, store_error *err)
{
  size_t i, n;
  if (!c[0] || c[0] == '.' || strchr(c, '/') || strlen(c) > 255)
    return store_error_set(err, STORE_E_INVALID, "container '%.40s': bad "
                           "name", c);
  if (k && strlen(k) > KEY_MAX)
    return store_error_set(err, STORE_E_INVALID, "key '%.40s...': longer "
                           "than %d bytes", k, KEY_MAX);
  n = (size_t)snprintf(p, PATH_CAP, "%s/%s/", h->root, c);
  for (i = 0; k && k[i]; i++)
    n += (size_t)snprintf(p + n, PATH_CAP - n, "%02x", (unsigned char)k[i]);
  return STORE_OK;
}

/* The key file `name` stands for, into key[KEY_MAX + 1]; -1 when it is no
 * blob of ours (not even-length lowercase hex, or a NUL byte). */
static int unhex(const char *name, char *key)
{
  static const char digits[] = "0123456789abcdef";
  size_t i, n = strlen(name);
  if (n == 0 || n % 2 || n > 2 * KEY_MAX || strspn(name, digits) != n)
    return -1;
  for (i = 0; i < n / 2; i++) {
    key[i] = (char)((strchr(digits, name[2 * i]) - digits) * 16 +
                    (strchr(digits, name[2 * i + 1]) - digits));
    if (!key[i])
      return -1;
  }
  key[n / 2] = '\0';
  return 0;
}

/* On success *out is a new handle owned by the host, released with
 * d_close(); on failure it is NULL. */
static int32_t d_open(const store_host_api *host, const store_kv *cfg,
                      size_t n, store_handle **out, store_error *err)
{
  const char *root = NULL;
  size_t i;
  (void)host;
  *out = NULL;
  for (i = 0; i < n; i++)
    if (!strcmp(cfg[i].key, "path"))
      root = cfg[i].value;
  if (!root || !root[0])
    return store_error_set(err, STORE_E_CONFIG, "key 'path' is missing");
  if (strlen(root) >= ROOT_MAX)
    return store_error_set(err, STORE_E_CONFIG, "path: longer than %d "
                           "bytes", ROOT_MAX - 1);
  *out = calloc(1, sizeof **out);
  if (!*out)
    return store_error_set(err, STORE_E_NOMEM, "out of memory");
  memcpy((*out)->root, root, strlen(root) + 1);
  return STORE_OK;
}

static void d_close(store_handle *h)
{
  free(h);
}

/* Each name in directory p, sorted, to fn: never "." and "..", other dot
 * names (our temporary files) only when `dots`. scandir holds all of the
 * directory's names in memory during the walk. */
static int32_t each(const char *p, const char *what, const char *name,
                    int dots, dir_name_fn *fn, void *ud, store_error *err)
{
  struct dirent **v = NULL;
  int32_t rc = STORE_OK;
  int i, n = scandir(p, &v, NULL, alphasort);
  if (n < 0)
    return fail(err, what, name);
  for (i = 0; i < n; i++) {
    const char *d = v[i]->d_name;
    int skip = !strcmp(d, ".") || !strcmp(d, "..") || (d[0] == '.' && !dots);
    if (!rc && !skip)
      rc = fn(ud, d, err);
    free(v[i]);
  }
  free(v);
  return rc;
}

/* name's entry to cb; STORE_E_ABORTED when cb asks to stop. */
static int32_t emit(store_entry_fn cb, void *ud, const char *name,
                    uint32_t flags, const struct stat *st, store_error *err)
{
  store_entry e = { .struct_size = sizeof e, .flags = flags, .name = name,
                    .mtime_ns = STORE_MTIME_UNKNOWN };
  if (st) {
    if (!flags)
      e.size = (uint64_t)st->st_size;
    e.mtime_ns = st->st_mtim.tv_sec * INT64_C(1000000000) +
                 st->st_mtim.tv_nsec;
  }
  if (cb(ud, &e))
    return stopped(err, "entry", name);
  return STORE_OK;
}

/* Written to a temporary file, then renamed over the blob: a reader sees
 * the old object or the new one, never a part. */
static int32_t d_put(store_handle *h, const char *c, const char *k,
                     const store_put_opts *o, store_read_fn src, void *ud,
                     store_put_result *out, store_error *err)
{
  char p[PATH_CAP], tmp[PATH_CAP], buf[65536];
  size_t n = 1, total = 0;
  int fd = -1;
  int32_t rc;
  (void)o;
  rc = path(h, c, k, p, err);
  if (rc)
    return rc;
  path(h, c, NULL, tmp, err);
  strcat(tmp, ".put-XXXXXX"); /* '.': never listed */
  fd = mkstemp(tmp);
  if (fd < 0)
    return fail(err, "container", c);
  while (n) {
    if (src(ud, buf, sizeof buf, &n)) {
      rc = stopped(err, "put", k);
      goto out;
    }
    if (n && write(fd, buf, n) != (ssize_t)n) {
      rc = fail(err, "put", k);
      goto out;
    }
    total += n;
  }
  rc = close(fd);
  fd = -1;
  if (rc || rename(tmp, p)) {
    rc = fail(err, "put", k);
    goto out;
  }
  if (out && STORE_HAS_FIELD(store_put_result, size, out->struct_size))
    out->size = total;
out:
  if (fd >= 0)
    close(fd);
  if (rc)
    unlink(tmp);
  return rc;
}

static int32_t d_get(store_handle *h, const char *c, const char *k,
                     const store_get_opts *o, store_write_fn sink, void *ud,
                     store_error *err)
{
  char p[PATH_CAP], buf[65536];
  struct stat st;
  ssize_t n;
  int fd = -1;
  int32_t rc = path(h, c, k, p, err);
  if (rc)
    return rc;
  fd = open(p, O_RDONLY);
  if (fd < 0 || fstat(fd, &st)) {
    rc = fail(err, "blob", k);
    goto out;
  }
  if (o && o->on_entry)
    rc = emit(o->on_entry, o->on_entry_ctx, k, 0, &st, err);
  if (rc)
    goto out;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    if (sink(ud, buf, (size_t)n)) {
      rc = stopped(err, "get", k);
      goto out;
    }
  }
  if (n < 0)
    rc = fail(err, "get", k);
out:
  if (fd >= 0)
    close(fd);
  return rc;
}

/* The entry of file p (the `what` called `name`) to cb. */
static int32_t stat_emit(const char *p, const char *what, const char *name,
                         uint32_t flags, store_entry_fn cb, void *ud,
                         store_error *err)
{
  struct stat st;
  if (stat(p, &st))
    return fail(err, what, name);
  return emit(cb, ud, name, flags, &st, err);
}

static int32_t d_head(store_handle *h, const char *c, const char *k,
                      const store_head_opts *o, store_entry_fn cb, void *ud,
                      store_error *err)
{
  char p[PATH_CAP];
  int32_t rc = path(h, c, k, p, err);
  (void)o;
  if (!rc)
    rc = stat_emit(p, "blob", k, 0, cb, ud, err);
  return rc;
}

static int32_t d_delete(store_handle *h, const char *c, const char *k,
                        const store_delete_opts *o, store_error *err)
{
  char p[PATH_CAP];
  int32_t rc = path(h, c, k, p, err);
  (void)o;
  if (!rc && unlink(p))
    rc = fail(err, "blob", k);
  return rc;
}

typedef struct lister {    /* one listing in progress */
  const char *dir;         /* the container's path, ending in '/' */
  char last[KEY_MAX + 1];  /* the last "dir/" prefix sent */
  const char *prefix, *delim, *after;
  store_entry_fn cb;
  void *ud;
} lister;

/* One file of a listing: its key if it is in the listing, or the one
 * "dir/" prefix entry standing for it and the keys after it. */
static int32_t list_one(void *ud, const char *name, store_error *err)
{
  lister *l = ud;
  char key[KEY_MAX + 1], file[PATH_CAP], *d = NULL;
  struct stat st;
  size_t plen = strlen(l->prefix);
  if (unhex(name, key) || strncmp(key, l->prefix, plen))
    return STORE_OK;
  if (l->after && strcmp(key, l->after) <= 0)
    return STORE_OK;
  if (l->delim)
    d = strstr(key + plen, l->delim);
  if (d) {
    d[strlen(l->delim)] = '\0';
    if (!strcmp(key, l->last))
      return STORE_OK;
    strcpy(l->last, key);
    return emit(l->cb, l->ud, key, STORE_ENTRY_PREFIX, NULL, err);
  }
  snprintf(file, sizeof file, "%s%s", l->dir, name);
  if (stat(file, &st))
    return STORE_OK; /* deleted meanwhile */
  return emit(l->cb, l->ud, key, 0, &st, err);
}

static int32_t d_list(store_handle *h, const char *c, const store_list_opts *o,
                      store_entry_fn cb, void *ud, store_error *err)
{
  char dir[PATH_CAP];
  lister l = { .dir = dir, .prefix = "", .cb = cb, .ud = ud };
  int32_t rc = path(h, c, NULL, dir, err);
  if (rc)
    return rc;
  if (o && o->prefix)
    l.prefix = o->prefix;
  if (o && o->delimiter && o->delimiter[0])
    l.delim = o->delimiter;
  if (o)
    l.after = o->start_after;
  return each(dir, "container", c, 0, list_one, &l, err);
}

static int32_t d_mkdir(store_handle *h, const char *c, const store_kv *m,
                       size_t n, store_error *err)
{
  char p[PATH_CAP];
  int32_t rc = path(h, c, NULL, p, err);
  (void)m;
  (void)n;
  if (!rc && mkdir(p, 0777))
    rc = fail(err, "container", c);
  return rc;
}

static int32_t unlink_one(void *ud, const char *name, store_error *err)
{
  char p[PATH_CAP];
  snprintf(p, sizeof p, "%s%s", (const char *)ud, name);
  return unlink(p) ? fail(err, "delete file", p) : STORE_OK;
}

/* Recursive: every file goes, a put's leftover temporary file too. */
static int32_t d_rmdir(store_handle *h, const char *c, uint32_t flags,
                       store_error *err)
{
  char p[PATH_CAP];
  int32_t rc = path(h, c, NULL, p, err);
  if (!rc && (flags & STORE_CONTAINER_DELETE_RECURSIVE))
    rc = each(p, "container", c, 1, unlink_one, p, err);
  if (!rc && rmdir(p))
    rc = fail(err, "container", c);
  return rc;
}

typedef struct clister {
  const char *root, *prefix;
  store_entry_fn cb;
  void *ud;
} clister;

static int32_t clist_one(void *ud, const char *name, store_error *err)
{
  clister *l = ud;
  char p[PATH_CAP];
  struct stat st;
  if (strncmp(name, l->prefix, strlen(l->prefix)))
    return STORE_OK;
  snprintf(p, sizeof p, "%s/%s", l->root, name);
  if (stat(p, &st) || !S_ISDIR(st.st_mode))
    return STORE_OK;
  return emit(l->cb, l->ud, name, STORE_ENTRY_CONTAINER, &st, err);
}

static int32_t d_containers(store_handle *h, const char *prefix,
                            store_entry_fn cb, void *ud, store_error *err)
{
  clister l = { .root = h->root, .prefix = "", .cb = cb, .ud = ud };
  if (prefix)
    l.prefix = prefix;
  return each(h->root, "path", h->root, 0, clist_one, &l, err);
}

static int32_t d_stat(store_handle *h, const char *c, store_entry_fn cb,
                      void *ud, store_error *err)
{
  char p[PATH_CAP];
  int32_t rc = path(h, c, NULL, p, err);
  if (!rc)
    rc = stat_emit(p, "container", c, STORE_ENTRY_CONTAINER, cb, ud, err);
  return rc;
}

static const store_config_key d_keys[] = {
  { "path", "the directory that holds the containers", 1, 0 },
  { NULL, NULL, 0, 0 },
};

/* Keys in hex: two file name bytes per key byte, 255 at most. */
static const store_limits d_limits = { .struct_size = sizeof d_limits,
                                       .max_key_length = 127 };

STORE_EXPORT const struct store_interface store_interface = {
  .abi_major = STORE_ABI_MAJOR,
  .abi_minor = STORE_ABI_MINOR,
  .struct_size = sizeof(struct store_interface),
  .name = "dirstore",
  .version = "1.0.0",
  .description = "containers are directories, blobs are files",
  .capabilities = STORE_CAP_CONTAINERS | STORE_CAP_THREADSAFE, /* no state */
  .limits = &d_limits,
  .config_keys = d_keys,
  .open = d_open,
  .close = d_close,
  .container_create = d_mkdir,
  .container_delete = d_rmdir,
  .container_list = d_containers,
  .container_head = d_stat,
  .blob_put = d_put,
  .blob_get = d_get,
  .blob_head = d_head,
  .blob_delete = d_delete,
  .blob_list = d_list,
};
