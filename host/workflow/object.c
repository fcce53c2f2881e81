/*
** object.c -- the work on one object of a tree workflow: its copy from
** one end to the other (service to service through engine/transfer.c; a
** local file up through its descriptor; down into a file that lands
** atomically), or its deletion at the target (sync --delete).
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "workflow.h"

/* Bytes of one object, passed on to the run's progress. */
struct counter {
  st_progress *prog;
  uint64_t moved;
};

static void count(void *ud, uint64_t n)
{
  struct counter *c = ud;
  c->moved += n;
  st_progress_bytes(c->prog, n);
}

/* What the target reported of a put or a copy and the host compared
 * (engine/transfer.c, core/checksum.c): a CRC-32C always; an MD5 only
 * where one went down with the put (a copy's out keeps it only then; an
 * upload sends none, so with md5_sent 0 its MD5 is not recorded). */
static void checked_of(const store_put_result *res, int md5_sent,
                       st_wf_checked *out)
{
  int i;

  if (res->checksums & STORE_CKSUM_CRC32C) {
    out->has_crc = 1;
    out->crc32c = res->crc32c;
  }
  for (i = 0; md5_sent && (res->checksums & STORE_CKSUM_MD5) && i < 16; i++)
    snprintf(out->md5 + 2 * i, 3, "%02x", res->md5[i]);
}

/* store_entry_fn of a download: the checksum its bytes are checked
 * against (core/blob.c, engine/transfer.c): the CRC-32C, else the MD5. */
static int32_t download_entry(void *ud, const store_entry *e)
{
  st_wf_checked *out = ud;

  out->has_crc = store_entry_crc32c(e, &out->crc32c);
  if (!out->has_crc && e->content_md5 && strlen(e->content_md5) == 32 &&
      strspn(e->content_md5, "0123456789abcdef") == 32)
    memcpy(out->md5, e->content_md5, sizeof(out->md5));
  return 0;
}

static int upload(st_wf_run *r, const char *path, const char *key,
                  struct counter *c, store_put_result *res, store_error *err)
{
  store_put_opts po;
  struct stat st;
  int rc, fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

  if (fd < 0)
    return st_err(err, errno == ENOENT ? STORE_E_NOT_FOUND : STORE_E_IO,
                  "local file '%s': %s", path, strerror(errno));
  memset(&po, 0, sizeof(po));
  po.struct_size = sizeof(po);
  po.content_length = fstat(fd, &st) == 0 ? (int64_t)st.st_size : -1;
  po.content_type = r->o.content_type
                      ? r->o.content_type(r->o.content_type_ud, key)
                      : NULL;
  rc = st_put_fd(r->dst.svc, r->dst.container, key, &po, fd, count, c, res,
                 err);
  close(fd);
  return rc;
}

static int download(st_wf_run *r, const char *key, const char *path,
                    struct counter *c, st_wf_checked *checked,
                    store_error *err)
{
  size_t len = strlen(path);
  store_get_opts go;
  int rc = st_local_beneath(r->dst.dir, path, 1, err);
  /* A "dir/" marker object is the directory itself, made just now. */
  if (rc || path[len - 1] == '/')
    return rc;
  memset(&go, 0, sizeof(go));
  go.struct_size = sizeof(go);
  go.on_entry = download_entry;
  go.on_entry_ctx = checked;
  /* One sync per filesystem written on, for the whole tree, at the end
   * (run.c). */
  return st_get_file(r->src.svc, r->src.container, key, &go, path, count, c,
                     ST_GET_NO_SYNC, err);
}

int st_wf_copy_object(st_wf_run *r, const char *name, uint64_t size,
                      st_wf_checked *out, store_error *err)
{
  struct counter c = {&r->prog, 0};
  char *from = st_wf_end_path(&r->src, name);
  char *to = st_wf_end_path(&r->dst, name);
  st_wf_checked checked;
  store_put_result res;
  int rc;

  memset(&checked, 0, sizeof(checked));
  memset(&res, 0, sizeof(res));
  res.struct_size = sizeof(res);

  if (!from || !to) {
    rc = st_err(err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
  if ((!r->src.svc || !r->dst.svc) && !st_wf_name_is_safe(name)) {
    rc = st_err(err, STORE_E_INVALID,
                "key '%s' cannot be a local file name (an empty, '.' or "
                "'..' segment)",
                from);
    goto out;
  }
  if (!r->src.svc)
    rc = upload(r, from, to, &c, &res, err);
  else if (!r->dst.svc)
    rc = download(r, from, to, &c, &checked, err);
  else
    rc = st_copy_blob(r->src.svc, r->src.container, from, r->dst.svc,
                      r->dst.container, to, NULL, r->ring_bytes, count, &c,
                      &res, err);
  if (r->dst.svc)
    checked_of(&res, r->src.svc != NULL, &checked);
  if (out && !rc)
    *out = checked;
  /* A server-side copy moves its bytes without us. */
  if (!rc && c.moved < size)
    st_progress_bytes(&r->prog, size - c.moved);
out:
  free(from);
  free(to);
  return rc;
}

int st_wf_delete_object(st_wf_run *r, const char *name, store_error *err)
{
  char *path = st_wf_end_path(&r->dst, name);
  int rc = STORE_OK;

  if (!path)
    return st_err(err, STORE_E_NOMEM, "out of memory");
  if (r->dst.svc)
    rc = xtstore_blob_delete(r->dst.svc, r->dst.container, path, NULL, err);
  else if ((rc = st_local_beneath(r->dst.dir, path, 0, err)) != STORE_OK)
    ;
  else if (unlink(path) != 0)
    rc = st_err(err, errno == ENOENT ? STORE_E_NOT_FOUND : STORE_E_IO,
                "local file '%s': %s", path, strerror(errno));
  free(path);
  return rc;
}
