/*
** plan.c -- the comparison of two ends: a merge of two listings
** that both come in byte order of their names, so each name is seen once
** with its source and target entries side by side, in constant memory
** (no map of either side), and classified new, update or equal.
*/
#include <stdlib.h>
#include <string.h>

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

uint32_t st_plan_classify(const st_wf_entry *src, const st_wf_entry *dst,
                          int checksum)
{
  if (!dst)
    return XTSTORE_OBJ_NEW;
  if (src->size != dst->size)
    return XTSTORE_OBJ_UPDATE;
  /* The CRC-32C where both ends keep one: cheaper for the stores that
   * compute it, and the same for a single-part and a multipart upload of
   * the same bytes (an S3 multipart ETag is no MD5 of the object). */
  if (checksum && src->has_crc && dst->has_crc)
    return src->crc32c == dst->crc32c ? XTSTORE_OBJ_EQUAL
                                      : XTSTORE_OBJ_UPDATE;
  if (checksum && src->md5[0] && dst->md5[0])
    return strcmp(src->md5, dst->md5) == 0 ? XTSTORE_OBJ_EQUAL
                                           : XTSTORE_OBJ_UPDATE;
  /* Whole seconds: some stores keep no more, and a copy made within the
   * source's second must not look older than it forever. */
  if (src->mtime_ns != STORE_MTIME_UNKNOWN &&
      dst->mtime_ns != STORE_MTIME_UNKNOWN &&
      src->mtime_ns / 1000000000 > dst->mtime_ns / 1000000000)
    return XTSTORE_OBJ_UPDATE;
  return XTSTORE_OBJ_EQUAL;
}
