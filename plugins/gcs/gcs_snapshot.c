/*
** gcs_snapshot.c -- snapshots as object generations (buckets with object
** versioning), and object delete, which must know about them.
**
** A snapshot id is a generation. blob_snapshot returns the live
** generation and marks it (GCS_SNAPSHOT_META, a metadata patch: the
** generation stays) so it is listed as a snapshot while it is still the
** live object. When the object is overwritten GCS keeps the old
** generation: every noncurrent generation of a name is one of its
** snapshots. get/head/delete with a snapshot id address that generation.
** Deleting a snapshot that is still live (taken and not overwritten
** since) must leave the object (ABI), while DELETE ?generation= would take
** it: it is first rewritten onto itself (a new live generation, same
** bytes, type and metadata, no mark), then deleted. Deleting an object
** deletes every generation of it for good (a plain DELETE in a versioned
** bucket would only make the live one noncurrent), refused with NOT_EMPTY
** while snapshots exist unless STORE_DELETE_SNAPSHOTS. Unversioned
** buckets keep no generations: snapshots are refused there with
** UNSUPPORTED and how to turn versioning on.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcs.h"

int32_t gcs_blob_snapshot(store_handle *h, const char *bucket,
                          const char *key, char *out_id, size_t cap,
                          store_error *err)
{
  gcs_target t = {"snapshot", bucket, key, NULL};
  json_t *res = NULL, *body = NULL;
  sdk_buf url = SDK_BUF_INIT;
  int versioned = 0;
  gcs_obj o;
  int32_t rc;

  gcs_obj_init(&o);
  rc = gcs_check_key(&t, err);
  if (!rc)
    rc = gcs_obj_get(h, &t, &res, &o, err);
  if (!rc)
    rc = gcs_bucket_versioned(h, &t, &versioned, err);
  if (rc)
    goto out;
  if (!versioned) {
    rc = gcs_fail(&t, err, STORE_E_UNSUPPORTED, "enable object versioning "
                  "on bucket %s (gcloud storage buckets update gs://%s "
                  "--versioning)", bucket, bucket);
    goto out;
  }
  if (!o.generation || strlen(o.generation) + 1 > cap) {
    rc = gcs_fail(&t, err, STORE_E_INVALID, "no generation, or a snapshot "
                  "id buffer of %zu bytes is too small", cap);
    goto out;
  }
  if (!o.snapshot_mark) {
    body = json_pack("{s:{s:s}}", "metadata", GCS_SNAPSHOT_META, "1");
    rc = body ? gcs_url(h, &t, GCS_API, &url, err) : gcs_nomem(&t, err);
    if (!rc)
      rc = gcs_query(&t, &url, "ifGenerationMatch", o.generation, err);
    if (!rc)
      rc = gcs_json(h, &t, "PATCH", url.data, body, NULL, err);
    if (rc == STORE_E_PRECONDITION)
      rc = gcs_fail(&t, err, STORE_E_PRECONDITION, "overwritten while the "
                    "snapshot was taken; take it again");
    if (rc)
      goto out;
  }
  snprintf(out_id, cap, "%s", o.generation);
out:
  sdk_buf_free(&url);
  json_decref(body);
  gcs_obj_free(&o);
  json_decref(res);
  return rc;
}

/* The generations of one name, as a delete needs them. */
typedef struct gens {
  char **v;                     /* owned                                  */
  size_t n, cap;
  const char *live;             /* in v, or NULL when none is live        */
  size_t snapshots;             /* noncurrent, or live and marked         */
  const gcs_target *t;
  store_error *err;
} gens;

static int32_t gens_add(void *ud, const gcs_obj *o)
{
  gens *g = ud;
  char *s;

  if (!o->generation)
    return STORE_OK;
  if (g->n == g->cap) {
    size_t cap = g->cap ? 2 * g->cap : 8;
    char **v = realloc(g->v, cap * sizeof(*v));
    if (!v)
      return gcs_nomem(g->t, g->err);
    g->v = v;
    g->cap = cap;
  }
  if (!(s = strdup(o->generation)))
    return gcs_nomem(g->t, g->err);
  g->v[g->n++] = s;
  if (!o->noncurrent)
    g->live = s;
  if (o->noncurrent || o->snapshot_mark)
    g->snapshots++;
  return STORE_OK;
}

static void gens_free(gens *g)
{
  for (size_t i = 0; i < g->n; i++)
    free(g->v[i]);
  free(g->v);
}

/* Delete a snapshot (one generation) and leave the object. */
static int32_t delete_snapshot(store_handle *h, const gcs_target *t,
                               store_error *err)
{
  gcs_target live = {t->op, t->bucket, t->key, NULL};
  json_t *sres = NULL, *lres = NULL, *dest = NULL, *res = NULL;
  gcs_obj s, l;
  int32_t rc;

  gcs_obj_init(&s);
  gcs_obj_init(&l);
  rc = gcs_obj_get(h, t, &sres, &s, err);
  if (rc)
    goto out;
  rc = gcs_obj_get(h, &live, &lres, &l, err);
  if (rc == STORE_E_NOT_FOUND) {
    sdk_error_clear(err);
    rc = STORE_OK;
  } else if (!rc && l.generation && !strcmp(l.generation, t->generation)) {
    /* Still live: a new live generation of the same content first. */
    rc = gcs_resource_json(t, NULL, l.e.content_type, l.md, l.nmd, 0, 0,
                           NULL, &dest, err);
    if (!rc)
      rc = gcs_rewrite(h, t, &live, dest, t->generation, &res, err);
  }
  if (!rc)
    rc = gcs_delete_object(h, t, err);
out:
  json_decref(res);
  json_decref(dest);
  gcs_obj_free(&l);
  gcs_obj_free(&s);
  json_decref(lres);
  json_decref(sres);
  return rc;
}

int32_t gcs_blob_delete(store_handle *h, const char *bucket, const char *key,
                        const store_delete_opts *opts, store_error *err)
{
  gcs_target t = {"delete", bucket, key,
                  STORE_OPT(opts, store_delete_opts, snapshot_id, NULL)};
  const char *if_match = STORE_OPT(opts, store_delete_opts, if_match, NULL);
  uint32_t flags = STORE_OPT(opts, store_delete_opts, flags, 0);
  gens g = {NULL, 0, 0, NULL, 0, &t, err};
  int32_t rc;

  rc = gcs_check_key(&t, err);
  if (rc)
    goto out;
  if (t.generation) {
    rc = delete_snapshot(h, &t, err);
    goto out;
  }
  rc = gcs_list_objects(h, &t, key, GCS_LIST_VERSIONS | GCS_LIST_EXACT,
                        gens_add, &g, err);
  if (rc)
    goto out;
  if (!g.live) {
    rc = gcs_fail(&t, err, STORE_E_NOT_FOUND, "not found");
    goto out;
  }
  /* if_match: checked before any snapshot goes, and again by the
   * delete of the live generation itself (ifGenerationMatch). */
  if (if_match && strcmp(if_match, g.live)) {
    rc = gcs_fail(&t, err, STORE_E_PRECONDITION, "if_match: the live "
                  "generation is %s, not '%.64s'", g.live, if_match);
    goto out;
  }
  if (g.snapshots && !(flags & STORE_DELETE_SNAPSHOTS)) {
    rc = gcs_fail(&t, err, STORE_E_NOT_EMPTY, "the object has %zu "
                  "snapshot(s) (delete them with it, or one by one by id)",
                  g.snapshots);
    goto out;
  }
  /* Snapshots first, the live generation last: a failure midway leaves
   * the object. */
  for (size_t i = 0; !rc && i < g.n; i++) {
    gcs_target gt = {"delete", bucket, key, g.v[i]};
    if (g.v[i] == g.live)
      continue;
    rc = gcs_delete_object(h, &gt, err);
    if (rc == STORE_E_NOT_FOUND) {
      sdk_error_clear(err);
      rc = STORE_OK;
    }
  }
  if (!rc) {
    gcs_target gt = {"delete", bucket, key, g.live};
    rc = gcs_delete_object_if(h, &gt, if_match, err);
  }
out:
  gens_free(&g);
  return rc;
}
