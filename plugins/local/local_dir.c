/*
** local_dir.c -- directory markers: keys ending in '/'.
**
** The cloud convention for a "directory" is a zero-length blob "DIR/"
** (with metadata hdi_isfolder=true). Here it is the directory itself: a put
** of an empty "DIR/" makes the directory (and its parents), head and get
** describe it as a STORE_ENTRY_DIR_MARKER entry, and delete removes it when
** it is empty (when it is not, what is under it still implies it, as in
** the cloud). Listings never show directories that hold no blob, so
** markers are hidden (STORE_CAP_DIR_MARKERS). Since every directory here
** looks the same, head of "DIR/" also finds directories that only exist
** because blobs are under them; and deleting a directory's last blob
** removes the directory, marker or not, as any empty parent is removed.
*/
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "local.h"

static const store_kv marker_meta[] = { { "hdi_isfolder", "true" } };

/* A marker addressed as the directory it is: o's key is DIR (name, owned
 * here), so o->pfd/o->leaf are the directory's parent and name. */
typedef struct lp_dir {
  lp_obj o;
  char name[LP_MAX_KEY + 1];
} lp_dir;

int lp_is_dir_key(const char *key)
{
  size_t len = key ? strlen(key) : 0;

  return len > 0 && key[len - 1] == '/';
}

/* lp_obj_start for the marker `key` ("DIR/"): DIR must be a valid key. d
 * is initialised even on failure (lp_obj_close(&d->o) is safe). */
static int32_t dir_start(lp_dir *d, store_handle *h, const char *container,
                         const char *key, const void *opts, const char *what,
                         store_error *err)
{
  size_t len = strlen(key) - 1;

  if (len > LP_MAX_KEY) {
    lp_obj_init(&d->o, h, container, NULL);
    return lp_fail(err, STORE_E_INVALID, 0,
                   "local: invalid key '%.160s...': longer than 1024 bytes",
                   key);
  }
  memcpy(d->name, key, len);
  d->name[len] = 0;
  return lp_obj_start(&d->o, h, container, d->name, opts, what, err);
}

/* Open the directory's parent and check the directory is there. */
static int32_t dir_find(lp_dir *d, struct stat *st, store_error *err)
{
  int32_t rc = lp_obj_parent(&d->o, 0, err);

  if (rc)
    return rc;
  if (fstatat(d->o.pfd, d->o.leaf, st, AT_SYMLINK_NOFOLLOW) < 0 ||
      !S_ISDIR(st->st_mode))
    return lp_obj_fail(&d->o, err, STORE_E_NOT_FOUND, 0,
                       "directory marker: not found");
  return STORE_OK;
}

/* What head and get report: a zero-length marker named `key`. */
static void dir_entry(store_entry *e, const char *key, const struct stat *st)
{
  memset(e, 0, sizeof(*e));
  e->struct_size = sizeof(*e);
  e->flags = STORE_ENTRY_DIR_MARKER;
  e->name = key;
  e->mtime_ns = lp_mtime_ns(st);
  e->metadata = marker_meta;
  e->nmetadata = sizeof(marker_meta) / sizeof(marker_meta[0]);
}

/* A marker's body must be empty: read until the source says EOF or gives
 * a byte. */
static int32_t dir_empty_body(const lp_obj *o, store_read_fn src, void *ctx,
                              int64_t len, store_error *err)
{
  char probe[1];
  size_t n = 0;

  if (len <= 0 && src(ctx, probe, sizeof(probe), &n))
    return lp_obj_fail(o, err, STORE_E_ABORTED, 0,
                       "the read callback stopped the upload");
  if (len > 0 || n > 0)
    return lp_obj_fail(o, err, STORE_E_INVALID, 0,
                       "a key ending in '/' is a directory marker: its body "
                       "must be empty");
  return STORE_OK;
}

int32_t lp_dir_put(store_handle *h, const char *container, const char *key,
                   const store_put_opts *opts, store_read_fn src,
                   void *src_ctx, store_put_result *out, store_error *err)
{
  int64_t len = STORE_OPT(opts, store_put_opts, content_length, -1);
  uint32_t flags = STORE_OPT(opts, store_put_opts, flags, 0);
  struct stat st;
  lp_dir d;
  int32_t rc;
  int e;

  rc = dir_start(&d, h, container, key, opts, "put options", err);
  if (rc)
    goto out;
  rc = lp_check_source(&d.o, src, len, err);
  if (rc)
    goto out;
  if (STORE_OPT(opts, store_put_opts, if_match, NULL)) {
    rc = lp_obj_fail(&d.o, err, STORE_E_PRECONDITION, 0,
                     "if_match: a directory marker has no etag");
    goto out;
  }
  rc = dir_empty_body(&d.o, src, src_ctx, len, err);
  if (rc)
    goto out;
  rc = lp_obj_parent(&d.o, 1, err);
  if (rc)
    goto out;
  if (mkdirat(d.o.pfd, d.o.leaf, 0777) == 0) {
    e = lp_fsync_dir(h, d.o.pfd);
    if (e)
      rc = lp_obj_fail(&d.o, err, 0, e, "fsync of the directory");
  } else if (errno != EEXIST) {
    rc = lp_obj_fail(&d.o, err, 0, errno, "cannot create the directory");
  } else if (fstatat(d.o.pfd, d.o.leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
             !S_ISDIR(st.st_mode)) {
    rc = lp_obj_fail(&d.o, err, STORE_E_INVALID, 0,
                     "a blob has this name without the '/'; here a key "
                     "cannot be both a blob and a directory");
  } else if (flags & STORE_PUT_IF_NONE_MATCH) {
    rc = lp_obj_fail(&d.o, err, STORE_E_EXISTS, 0, "already exists");
  }
  if (!rc && out)
    lp_put_result(out, 0, "", STORE_CKSUM_CRC32C, 0); /* CRC of nothing */
out:
  if (rc && d.o.pfd >= 0) /* drop parents made for nothing */
    lp_prune_dirs(d.o.cfd, d.name, (size_t)(d.o.leaf - d.name));
  lp_obj_close(&d.o);
  return rc;
}

int32_t lp_dir_get(store_handle *h, const char *container, const char *key,
                   const store_get_opts *opts, store_error *err)
{
  store_entry_fn on_entry = STORE_OPT(opts, store_get_opts, on_entry, NULL);
  store_entry e;
  struct stat st;
  lp_dir d;
  int32_t rc;

  rc = dir_start(&d, h, container, key, opts, "get options", err);
  if (rc)
    goto out;
  if (STORE_OPT(opts, store_get_opts, snapshot_id, NULL)) {
    rc = lp_obj_fail(&d.o, err, STORE_E_NOT_FOUND, 0,
                     "a directory marker has no snapshots");
    goto out;
  }
  rc = dir_find(&d, &st, err);
  if (rc)
    goto out;
  if (STORE_OPT(opts, store_get_opts, if_match, NULL)) {
    rc = lp_obj_fail(&d.o, err, STORE_E_PRECONDITION, 0,
                     "if_match: a directory marker has no etag");
    goto out;
  }
  /* The body is empty: the sink is never called. */
  dir_entry(&e, key, &st);
  if (on_entry && on_entry(STORE_OPT(opts, store_get_opts, on_entry_ctx, NULL),
                           &e))
    rc = lp_obj_fail(&d.o, err, STORE_E_ABORTED, 0,
                     "the entry callback stopped the download");
out:
  lp_obj_close(&d.o);
  return rc;
}

int32_t lp_dir_head(store_handle *h, const char *container, const char *key,
                    const store_head_opts *opts, store_entry_fn cb,
                    void *cb_ctx, store_error *err)
{
  store_entry e;
  struct stat st;
  lp_dir d;
  int32_t rc;

  rc = dir_start(&d, h, container, key, opts, "head options", err);
  if (rc)
    goto out;
  if (!cb || STORE_OPT(opts, store_head_opts, snapshot_id, NULL)) {
    rc = lp_obj_fail(&d.o, err, cb ? STORE_E_NOT_FOUND : STORE_E_INVALID, 0,
                     cb ? "a directory marker has no snapshots"
                        : "no entry callback");
    goto out;
  }
  rc = dir_find(&d, &st, err);
  if (rc)
    goto out;
  dir_entry(&e, key, &st);
  if (cb(cb_ctx, &e))
    rc = lp_obj_fail(&d.o, err, STORE_E_ABORTED, 0,
                     "the entry callback stopped");
out:
  lp_obj_close(&d.o);
  return rc;
}

int32_t lp_dir_delete(store_handle *h, const char *container,
                      const char *key, const store_delete_opts *opts,
                      store_error *err)
{
  struct stat st;
  lp_dir d;
  int32_t rc;
  int e;

  rc = dir_start(&d, h, container, key, opts, "delete options", err);
  if (rc)
    goto out;
  if (STORE_OPT(opts, store_delete_opts, snapshot_id, NULL)) {
    rc = lp_obj_fail(&d.o, err, STORE_E_NOT_FOUND, 0,
                     "a directory marker has no snapshots");
    goto out;
  }
  if (STORE_OPT(opts, store_delete_opts, if_match, NULL)) {
    rc = lp_obj_fail(&d.o, err, STORE_E_PRECONDITION, 0,
                     "if_match: a directory marker has no etag");
    goto out;
  }
  rc = dir_find(&d, &st, err);
  if (rc)
    goto out;
  if (unlinkat(d.o.pfd, d.o.leaf, AT_REMOVEDIR) == 0) {
    e = lp_fsync_dir(h, d.o.pfd);
    if (e)
      rc = lp_obj_fail(&d.o, err, 0, e, "fsync of the directory");
  } else if (errno != ENOTEMPTY && errno != EEXIST) {
    rc = lp_obj_fail(&d.o, err, 0, errno, "cannot remove the directory");
  }
out:
  lp_obj_close(&d.o);
  return rc;
}
