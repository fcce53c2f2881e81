/*
** local_container.c -- containers: the directories directly under root.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "local.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

int32_t lp_container_create(store_handle *h, const char *container,
                            const store_kv *metadata, size_t nmetadata,
                            store_error *err)
{
  lp_obj o;
  int rfd = -1, e, made = 0;
  int32_t rc;

  lp_obj_init(&o, h, container, NULL);
  rc = lp_check_container(container, err);
  if (rc)
    goto out;
  rc = lp_meta_check(&o, NULL, metadata, nmetadata, err);
  if (rc)
    goto out;
  e = lp_open_root(h, 1, &rfd);
  if (e) {
    rc = lp_fail(err, 0, e, "local: cannot create root directory '%.128s'",
                 h->root);
    goto out;
  }
  if (mkdirat(rfd, container, 0777) < 0) {
    if (errno == EEXIST)
      rc = lp_obj_fail(&o, err, STORE_E_EXISTS, 0, "already exists");
    else
      rc = lp_obj_fail(&o, err, 0, errno, "cannot create");
    goto out;
  }
  made = 1;
  o.cfd = openat(rfd, container, DIR_FLAGS);
  if (o.cfd < 0) {
    rc = lp_obj_fail(&o, err, 0, errno, "cannot open");
    goto out;
  }
  if (nmetadata) {
    rc = lp_meta_replace(&o, o.cfd, metadata, nmetadata, err);
    if (rc)
      goto out;
  }
  e = lp_fsync_dir(h, rfd);
  if (e)
    rc = lp_obj_fail(&o, err, 0, e, "fsync of the root directory");
out:
  lp_obj_close(&o);
  if (rc && made) /* leave no half-made container */
    lp_rmtree(rfd, container);
  if (rfd >= 0)
    close(rfd);
  return rc;
}

int32_t lp_container_delete(store_handle *h, const char *container,
                            uint32_t flags, store_error *err)
{
  char trash[LP_TMPNAME_SIZE];
  lp_obj o;
  int rfd = -1, e;
  int32_t rc;

  rc = lp_obj_start(&o, h, container, NULL, NULL, NULL, err);
  if (rc)
    goto out;
  if (!(flags & STORE_CONTAINER_DELETE_RECURSIVE) && lp_dir_has_blob(o.cfd)) {
    rc = lp_obj_fail(&o, err, STORE_E_NOT_EMPTY, 0,
                     "holds blobs; delete them first, or delete the "
                     "container recursively");
    goto out;
  }
  e = lp_open_root(h, 0, &rfd);
  if (e) {
    rc = lp_obj_fail(&o, err, 0, e, "cannot open the root directory");
    goto out;
  }
  /* Rename first, so the container vanishes at once even if removing its
   * contents takes long; ".xtstore-trash-*" is never a container name. */
  lp_unique_name(".xtstore-trash", trash, sizeof(trash));
  if (renameat(rfd, container, rfd, trash) < 0) {
    rc = lp_obj_fail(&o, err, errno == ENOENT ? STORE_E_NOT_FOUND : 0, errno,
                     "cannot delete");
    goto out;
  }
  e = lp_rmtree(rfd, trash);
  if (e) {
    rc = lp_obj_fail(&o, err, 0, e, "deleted, but removing its files from "
                     "'%.100s/%s' failed", h->root, trash);
    goto out;
  }
  e = lp_fsync_dir(h, rfd);
  if (e)
    rc = lp_obj_fail(&o, err, 0, e, "fsync of the root directory");
out:
  if (rfd >= 0)
    close(rfd);
  lp_obj_close(&o);
  return rc;
}

/* Names of root's subdirectories that are valid container names starting
 * with prefix, sorted, into *out (lp_names_free). Returns 0 or errno. */
static int read_containers(int rfd, const char *prefix, lp_names *out)
{
  size_t plen = strlen(prefix);
  struct dirent *de;
  struct stat st;
  DIR *d = lp_opendir(fcntl(rfd, F_DUPFD_CLOEXEC, 0));
  int e = 0;

  if (!d)
    return errno;
  while (!e && (de = readdir(d))) {
    if (strncmp(de->d_name, prefix, plen) ||
        lp_check_container(de->d_name, NULL) ||
        fstatat(rfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
        !S_ISDIR(st.st_mode))
      continue;
    e = lp_names_add(out, de->d_name, "");
  }
  closedir(d);
  return lp_names_done(out, e);
}

/* The entry of container `name`, whose directory has stat st. */
static void container_entry(store_entry *e, const char *name,
                            const struct stat *st)
{
  memset(e, 0, sizeof(*e));
  e->struct_size = sizeof(*e);
  e->flags = STORE_ENTRY_CONTAINER;
  e->name = name;
  e->mtime_ns = lp_mtime_ns(st);
}

int32_t lp_container_list(store_handle *h, const char *prefix,
                          store_entry_fn cb, void *cb_ctx, store_error *err)
{
  lp_names names = {0};
  int rfd = -1, e;
  int32_t rc = STORE_OK;

  if (!cb) {
    rc = lp_fail(err, STORE_E_INVALID, 0,
                 "local: container list: no entry callback");
    goto out;
  }
  e = lp_open_root(h, 0, &rfd);
  if (e == ENOENT)
    goto out; /* no root yet: no containers */
  if (e) {
    rc = lp_fail(err, 0, e, "local: cannot open root directory '%.128s'",
                 h->root);
    goto out;
  }
  e = read_containers(rfd, prefix ? prefix : "", &names);
  if (e) {
    rc = lp_fail(err, 0, e, "local: cannot list root directory '%.128s'",
                 h->root);
    goto out;
  }
  for (size_t i = 0; i < names.n; i++) {
    store_entry ent;
    struct stat st;
    if (fstatat(rfd, names.v[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
      continue; /* deleted meanwhile */
    container_entry(&ent, names.v[i], &st);
    if (cb(cb_ctx, &ent)) {
      rc = lp_fail(err, STORE_E_ABORTED, 0,
                   "local: container list: stopped by the callback");
      goto out;
    }
  }
out:
  lp_names_free(&names);
  if (rfd >= 0)
    close(rfd);
  return rc;
}

int32_t lp_container_head(store_handle *h, const char *container,
                          store_entry_fn cb, void *cb_ctx, store_error *err)
{
  lp_meta m = {0};
  store_entry ent;
  struct stat st;
  lp_obj o;
  int32_t rc;

  rc = lp_obj_start(&o, h, container, NULL, NULL, NULL, err);
  if (rc)
    goto out;
  if (!cb) {
    rc = lp_obj_fail(&o, err, STORE_E_INVALID, 0, "no entry callback");
    goto out;
  }
  if (fstat(o.cfd, &st) < 0) {
    rc = lp_obj_fail(&o, err, 0, errno, "stat");
    goto out;
  }
  rc = lp_meta_load(&o, NULL, o.cfd, &st, &m, err);
  if (rc)
    goto out;
  container_entry(&ent, container, &st);
  ent.metadata = m.kv;
  ent.nmetadata = m.n;
  if (cb(cb_ctx, &ent))
    rc = lp_obj_fail(&o, err, STORE_E_ABORTED, 0, "stopped by the callback");
out:
  lp_meta_free(&m);
  lp_obj_close(&o);
  return rc;
}

int32_t lp_container_set_metadata(store_handle *h, const char *container,
                                  const store_kv *metadata, size_t nmetadata,
                                  store_error *err)
{
  lp_obj o;
  int32_t rc;

  rc = lp_obj_start(&o, h, container, NULL, NULL, NULL, err);
  if (rc)
    goto out;
  rc = lp_meta_check(&o, NULL, metadata, nmetadata, err);
  if (rc)
    goto out;
  rc = lp_meta_replace(&o, o.cfd, metadata, nmetadata, err);
out:
  lp_obj_close(&o);
  return rc;
}
