/*
** gcs_append.c -- append as compose: the new bytes go up as a temporary
** object, then the object and it are composed onto the object guarded by
** ifGenerationMatch of the generation read, so a concurrent writer makes
** the append fail with PRECONDITION, never lose a write. A missing object
** is created (ifGenerationMatch=0). GCS no longer caps the components of a
** composite object (it once did, at 1024), so appends have no count limit.
*/
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "gcs.h"

/* A fail-if-exists refusal of the create is a lost race: PRECONDITION. */
static int32_t create(store_handle *h, const gcs_target *t,
                      const store_append_opts *opts, store_read_fn src,
                      void *src_ctx, store_error *err)
{
  store_put_opts po;
  int32_t rc;

  memset(&po, 0, sizeof(po));
  po.struct_size = sizeof(po);
  po.flags = STORE_PUT_IF_NONE_MATCH;
  po.content_length = STORE_OPT(opts, store_append_opts, content_length, -1);
  po.content_type = STORE_OPT(opts, store_append_opts, content_type, NULL);
  rc = gcs_upload(h, t, &po, src, src_ctx, NULL, err);
  if (rc == STORE_E_PRECONDITION || rc == STORE_E_EXISTS)
    rc = gcs_fail(t, err, STORE_E_PRECONDITION, "created by another writer "
                  "meanwhile; append again");
  return rc;
}

int32_t gcs_blob_append(store_handle *h, const char *bucket, const char *key,
                        const store_append_opts *opts, store_read_fn src,
                        void *src_ctx, store_error *err)
{
  gcs_target t = {"append to", bucket, key, NULL};
  unsigned char nonce[GCS_NONCE_HEX / 2];
  char id[GCS_NONCE_HEX + 1];
  sdk_buf tmp = SDK_BUF_INIT;
  json_t *cur = NULL, *dest = NULL, *res = NULL;
  store_put_result pr;
  store_put_opts po;
  gcs_obj o, ro;
  int32_t rc;

  gcs_obj_init(&o);
  gcs_obj_init(&ro);
  rc = gcs_check_dest(&t, err);
  if (!rc && !src)
    rc = gcs_fail(&t, err, STORE_E_INVALID, "no read callback");
  if (rc)
    goto out;
  rc = gcs_obj_get(h, &t, &cur, &o, err);
  if (rc == STORE_E_NOT_FOUND) {
    sdk_error_clear(err);
    rc = create(h, &t, opts, src, src_ctx, err);
    goto out;
  }
  if (rc)
    goto out;
  if (RAND_bytes(nonce, sizeof(nonce)) != 1) {
    rc = gcs_fail(&t, err, STORE_E_INTERNAL, "no random bytes");
    goto out;
  }
  sdk_hex(nonce, sizeof(nonce), id);
  if (sdk_buf_printf(&tmp, "%s%s/append", GCS_PARTS_PREFIX, id)) {
    rc = gcs_nomem(&t, err);
    goto out;
  }
  memset(&po, 0, sizeof(po));
  po.struct_size = sizeof(po);
  po.content_length = STORE_OPT(opts, store_append_opts, content_length, -1);
  memset(&pr, 0, sizeof(pr));
  pr.struct_size = sizeof(pr);
  gcs_target tt = {"append to", bucket, tmp.data, NULL};
  rc = gcs_upload(h, &tt, &po, src, src_ctx, &pr, err);
  if (rc)
    goto out;
  {
    const char *names[2] = {key, tmp.data};
    const char *gens[2] = {o.generation, pr.version_id};
    /* The result keeps the object's type and metadata (not a snapshot
     * mark: the generation appended to stays, as a snapshot). */
    rc = gcs_resource_json(&t, NULL, o.e.content_type, o.md, o.nmd, 0, 0,
                           NULL, &dest, err);
    if (!rc)
      rc = gcs_compose(h, &t, names, gens, 2, dest, o.generation, &res, err);
  }
  /* The composed object is the old bytes then the new: its size and
   * CRC-32C follow from theirs. Not retryable: the append is done. */
  if (!rc)
    rc = gcs_obj_read(&t, res, &ro, err);
  if (!rc) {
    int crcs = (o.e.checksums & pr.checksums & STORE_CKSUM_CRC32C) != 0;
    rc = gcs_obj_check(&t, &ro, o.e.size + pr.size,
                       crcs ? sdk_crc32c_combine(o.e.crc32c, pr.crc32c,
                                                 pr.size)
                            : ro.e.crc32c,
                       "the object and the bytes appended", err);
    if (rc && err)
      err->flags &= ~(uint32_t)STORE_ERR_RETRYABLE;
  }
  {
    store_error derr;
    memset(&derr, 0, sizeof(derr));
    derr.struct_size = sizeof(derr);
    tt.generation = pr.version_id;
    gcs_delete_object(h, &tt, &derr);
  }
out:
  sdk_buf_free(&tmp);
  gcs_obj_free(&ro);
  gcs_obj_free(&o);
  json_decref(res);
  json_decref(dest);
  json_decref(cur);
  return rc;
}
