/*
** local_snapshot.c -- blob snapshots.
**
** A snapshot is a copy (reflink where the filesystem can) of the blob and
** its metadata at .xtstore/keys/<key>/.xtstore.snap.<id>. Ids look like
** "20261122T003000.123456789Z-0000002a": UTC time to the nanosecond plus a
** process counter, so they sort oldest first and are safe file names.
** Overwriting the base blob leaves its snapshots alone.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "local.h"

#define SNAP_ID_SIZE 48

/* Tells apart snapshots taken in the same nanosecond. */
static atomic_uint snap_counter;

static void make_id(char out[SNAP_ID_SIZE])
{
  struct timespec ts;
  struct tm tm;
  char date[32];

  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  strftime(date, sizeof(date), "%Y%m%dT%H%M%S", &tm);
  snprintf(out, SNAP_ID_SIZE, "%.15s.%09ldZ-%08x", date, ts.tv_nsec,
           atomic_fetch_add(&snap_counter, 1));
}

/* Publish the filled temp file as a new snapshot of o; the chosen id goes
 * to id and the shadow directory, opened (owned by the caller), to
 * *out_sfd. Ids are retried if another writer took one; the directory is
 * reopened if a concurrent delete pruned it. */
static int32_t publish(const lp_obj *o, lp_tmp *t, int *out_sfd,
                       char id[SNAP_ID_SIZE], store_error *err)
{
  char name[sizeof(LP_SNAP_PREFIX) + SNAP_ID_SIZE];
  int e = ENOENT;
  int32_t rc = STORE_OK;

  *out_sfd = -1;
  for (int opens = 0; e == ENOENT && opens < 8; opens++) {
    if (*out_sfd >= 0)
      close(*out_sfd);
    *out_sfd = -1;
    rc = lp_shadow_open(o, 1, out_sfd, err);
    if (rc)
      goto out;
    e = EEXIST;
    for (int tries = 0; e == EEXIST && tries < 16; tries++) {
      make_id(id);
      snprintf(name, sizeof(name), "%s%s", LP_SNAP_PREFIX, id);
      e = lp_publish_noreplace(t, *out_sfd, name);
    }
  }
  if (e) {
    rc = lp_obj_fail(o, err, 0, e, "cannot store the snapshot");
    goto out;
  }
  t->name[0] = 0;
out:
  return rc;
}

int32_t lp_blob_snapshot(store_handle *h, const char *container,
                         const char *key, char *out_id, size_t cap,
                         store_error *err)
{
  lp_tmp t = {.fd = -1, .dirfd = -1, .side = {.dirfd = -1}};
  char id[SNAP_ID_SIZE];
  lp_meta m = {0};
  struct stat st;
  lp_obj o;
  int fd = -1, sfd = -1, e;
  int32_t rc;

  rc = lp_obj_start(&o, h, container, key, NULL, NULL, err);
  if (rc)
    goto out;
  if (!out_id || cap < SNAP_ID_SIZE) {
    rc = lp_obj_fail(&o, err, STORE_E_INVALID, 0,
                     "snapshot id buffer holds %zu bytes; %d needed", cap,
                     SNAP_ID_SIZE);
    goto out;
  }
  rc = lp_blob_open_settled(&o, NULL, &fd, &st, err);
  if (rc)
    goto out;
  rc = lp_meta_load(&o, NULL, fd, &st, &m, err);
  if (rc)
    goto out;
  rc = lp_tmp_create(&o, &t, err);
  if (rc)
    goto out;
  rc = lp_copy_data(&o, t.fd, 0, fd, (uint64_t)st.st_size, 1, err);
  if (rc)
    goto out;
  rc = lp_meta_prepare(&o, t.fd, &m, &t.side, err);
  if (rc)
    goto out;
  if (h->fsync && fsync(t.fd) < 0) {
    rc = lp_obj_fail(&o, err, 0, errno, "fsync");
    goto out;
  }
  rc = publish(&o, &t, &sfd, id, err);
  if (rc)
    goto out;
  rc = lp_meta_place(&o, id, &t.side, err);
  if (rc)
    goto out;
  e = lp_fsync_dir(h, sfd);
  if (e) {
    rc = lp_obj_fail(&o, err, 0, e, "fsync");
    goto out;
  }
  snprintf(out_id, cap, "%s", id);
out:
  if (sfd >= 0)
    close(sfd);
  if (fd >= 0)
    close(fd);
  lp_meta_free(&m);
  lp_tmp_discard(&t);
  lp_obj_close(&o);
  return rc;
}

/* The ids of o's snapshots, oldest first, into *out (empty when none),
 * which the caller releases with lp_names_free. */
int32_t lp_snap_list(const lp_obj *o, lp_names *out, store_error *err)
{
  struct dirent *de;
  DIR *d;
  int dfd = -1, e = 0;
  int32_t rc;

  *out = (lp_names){0};
  rc = lp_shadow_open(o, 0, &dfd, err);
  if (rc || dfd < 0)
    return rc;
  d = lp_opendir(dfd);
  if (!d)
    return lp_obj_fail(o, err, 0, errno, "cannot list snapshots");
  while (!e && (de = readdir(d))) {
    if (strncmp(de->d_name, LP_SNAP_PREFIX, sizeof(LP_SNAP_PREFIX) - 1))
      continue;
    e = lp_names_add(out, de->d_name + sizeof(LP_SNAP_PREFIX) - 1, "");
  }
  closedir(d);
  if (lp_names_done(out, e))
    return lp_obj_fail(o, err, STORE_E_NOMEM, ENOMEM, "listing snapshots");
  return STORE_OK;
}

/* With only_check: NOT_EMPTY if o has snapshots. Without: delete them all
 * (with their sidecars). */
int32_t lp_snap_delete_all(const lp_obj *o, int only_check, store_error *err)
{
  char name[sizeof(LP_SMETA_PREFIX) + LP_MAX_SNAP_ID + 1];
  lp_names ids = {0};
  int dfd = -1;
  int32_t rc;

  rc = lp_snap_list(o, &ids, err);
  if (rc || ids.n == 0)
    goto out;
  if (only_check) {
    rc = lp_obj_fail(o, err, STORE_E_NOT_EMPTY, 0,
                     "has %zu snapshot(s); delete them with it, or "
                     "one by one by id", ids.n);
    goto out;
  }
  rc = lp_shadow_open(o, 0, &dfd, err);
  if (rc || dfd < 0)
    goto out;
  for (size_t i = 0; i < ids.n; i++) {
    snprintf(name, sizeof(name), "%s%s", LP_SNAP_PREFIX, ids.v[i]);
    if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT) {
      rc = lp_obj_fail(o, err, 0, errno, "cannot delete snapshot '%s'",
                       ids.v[i]);
      goto out;
    }
    snprintf(name, sizeof(name), "%s%s", LP_SMETA_PREFIX, ids.v[i]);
    unlinkat(dfd, name, 0);
  }
out:
  if (dfd >= 0)
    close(dfd);
  lp_names_free(&ids);
  return rc;
}
