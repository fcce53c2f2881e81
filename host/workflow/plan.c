/*
** plan.c -- the comparison of two ends: a merge of two listings
** that both come in byte order of their names, so each name is seen once
** with its source and target entries side by side, in constant memory
** (no map of either side), and classified new, update or equal (by
** checksum, a local file's summed only for a pair of the same size).
*/
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workflow.h"

/* The next entry of a listing; NULL at its end. A failed listing stops
 * the merge: going on would take its missing names for absent ones. */
static int next(st_lister *l, st_wf_entry **out, store_error *err)
{
  *out = l ? st_lister_next(l) : NULL;
  if (*out || !l || l->rc == STORE_OK)
    return STORE_OK;
  if (err)
    *err = l->err;
  return l->rc;
}

int st_plan_merge(xtstore_ctx *ctx, st_lister *src, st_lister *dst,
                  st_plan_fn fn, void *ud, store_error *err)
{
  st_wf_entry *s = NULL, *d = NULL;
  int rc, c;

  rc = next(src, &s, err);
  if (!rc)
    rc = next(dst, &d, err);
  while (!rc && (s || d)) {
    if (st_cancelled(ctx)) {
      rc = st_err(err, STORE_E_ABORTED, "cancelled");
      break;
    }
    c = !s ? 1 : !d ? -1 : strcmp(s->name, d->name);
    if (c < 0) {
      rc = fn(ud, s, NULL, err);
      s = NULL;
      if (!rc)
        rc = next(src, &s, err);
    } else if (c > 0) {
      rc = fn(ud, NULL, d, err);
      d = NULL;
      if (!rc)
        rc = next(dst, &d, err);
    } else {
      rc = fn(ud, s, d, err);
      s = d = NULL;
      if (!rc)
        rc = next(src, &s, err);
      if (!rc)
        rc = next(dst, &d, err);
    }
  }
  free(s);
  free(d);
  return rc;
}

/* What an entry's checksums are, listed or summed here. */
struct sums {
  int has_crc;
  uint32_t crc;
  char md5[33];             /* lowercase hex, "" when none */
};

static void listed(const st_wf_entry *e, struct sums *out)
{
  out->has_crc = e->has_crc;
  out->crc = e->crc32c;
  snprintf(out->md5, sizeof(out->md5), "%s", e->md5);
}

static int is_local(const st_wf_entry *e)
{
  return e->from && !e->from->end->svc;
}

/* A local file's CRC-32C, or with md5 its MD5, into out: read once, in
 * small reads. Non-zero when it cannot be read whole. */
static int local_sum(const st_wf_entry *e, int md5, struct sums *out)
{
  unsigned char buf[64 << 10], sum[16];
  EVP_MD_CTX *md = md5 ? EVP_MD_CTX_new() : NULL;
  char *path = st_wf_end_path(e->from->end, e->name);
  uint64_t got = 0;
  uint32_t crc = 0;
  unsigned int n = 0;
  ssize_t r = 0;
  int i, rc = -1, fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;

  if (fd < 0 || (md5 && (!md || EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1)))
    goto out;
  while ((r = read(fd, buf, sizeof(buf))) > 0 &&
         !st_cancelled(e->from->ctx)) {
    got += (uint64_t)r;
    if (!md)
      crc = st_crc32c(crc, buf, (size_t)r);
    else if (EVP_DigestUpdate(md, buf, (size_t)r) != 1)
      break;
  }
  if (r != 0 || got != e->size)
    goto out;
  if (md) {
    if (EVP_DigestFinal_ex(md, sum, &n) != 1 || n != sizeof(sum))
      goto out;
    for (i = 0; i < 16; i++)
      snprintf(out->md5 + 2 * i, 3, "%02x", sum[i]);
  } else {
    out->has_crc = 1;
    out->crc = crc;
  }
  rc = 0;
out:
  if (fd >= 0)
    close(fd);
  EVP_MD_CTX_free(md);
  free(path);
  return rc;
}

/* A local file's checksum where the other end of the pair has one it
 * lacks: a CRC-32C against a CRC-32C or another file, else an MD5. */
static int fill_local(const st_wf_entry *e, struct sums *s,
                      const st_wf_entry *other, const struct sums *o)
{
  if (!is_local(e) || s->has_crc)
    return 0;
  if (o->has_crc || is_local(other))
    return local_sum(e, 0, s);
  if (o->md5[0] && !s->md5[0])
    return local_sum(e, 1, s);
  return 0;
}

uint32_t st_plan_classify(const st_wf_entry *src, const st_wf_entry *dst,
                          int checksum)
{
  struct sums a, b;

  if (!dst)
    return XTSTORE_OBJ_NEW;
  if (src->size != dst->size)
    return XTSTORE_OBJ_UPDATE;
  if (checksum) {
    listed(src, &a);
    listed(dst, &b);
    if (fill_local(src, &a, dst, &b) || fill_local(dst, &b, src, &a))
      return XTSTORE_OBJ_UPDATE;
    /* The CRC-32C where both ends keep one: cheaper for the stores that
     * compute it, and the same for a single-part and a multipart upload
     * of the same bytes (an S3 multipart ETag is no MD5 of the object). */
    if (a.has_crc && b.has_crc)
      return a.crc == b.crc ? XTSTORE_OBJ_EQUAL : XTSTORE_OBJ_UPDATE;
    if (a.md5[0] && b.md5[0])
      return strcmp(a.md5, b.md5) == 0 ? XTSTORE_OBJ_EQUAL
                                       : XTSTORE_OBJ_UPDATE;
    if (src->from && !src->from->said_times) {
      src->from->said_times = 1;
      st_log(src->from->ctx, STORE_LOG_WARN, "checksum comparison: "
             "neither end has a checksum of '%s': sizes and modification "
             "times decide (said once)", src->name);
    }
  }
  /* Whole seconds: some stores keep no more, and a copy made within the
   * source's second must not look older than it forever. */
  if (src->mtime_ns != STORE_MTIME_UNKNOWN &&
      dst->mtime_ns != STORE_MTIME_UNKNOWN &&
      src->mtime_ns / 1000000000 > dst->mtime_ns / 1000000000)
    return XTSTORE_OBJ_UPDATE;
  return XTSTORE_OBJ_EQUAL;
}
