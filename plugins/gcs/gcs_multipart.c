/*
** gcs_multipart.c -- objects.compose, and the host's multipart uploads on
** it: each part is a temporary object, GCS_PARTS_PREFIX UPLOAD-ID "/"
** NNNNN, uploaded in parallel like any object; complete composes them
** into the key, 32 sources per request (the service's limit) and in a tree
** of intermediate objects beyond that, then deletes every temporary, as
** abort does. (Why compose and not the XML API's multipart upload: see
** plugins/gcs/README.md.)
**
** An upload id is 32 random hex digits; nothing is kept between calls,
** so any handle (another process's resuming run) can go on with it. Each
** part carries its upload's key as user metadata (UPLOAD_KEY_META), so
** that multipart_list can name the upload its temporaries belong to. A
** part's token is "GENERATION.SIZE.CRC32C-HEX": complete composes exactly
** those generations (ifGenerationMatch on each source) and checks the
** result's size and CRC-32C against the parts'.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "gcs.h"

/* The user metadata every part carries: the key its upload is for, which
 * nothing else on the server records (multipart_list reads it). */
#define UPLOAD_KEY_META "xtstore-upload-key"

int32_t gcs_compose(store_handle *h, const gcs_target *t,
                    const char *const *names, const char *const *gens,
                    size_t n, const json_t *dest, const char *dest_if_gen,
                    json_t **out, store_error *err)
{
  json_t *body = json_object(), *srcs = json_array();
  sdk_buf url = SDK_BUF_INIT;
  int32_t rc = STORE_OK;

  if (!body || !srcs || json_object_set(body, "sourceObjects", srcs) ||
      (dest && json_object_set(body, "destination", (json_t *)dest)))
    rc = gcs_nomem(t, err);
  for (size_t i = 0; !rc && i < n; i++) {
    json_t *s = gens && gens[i]
                  ? json_pack("{s:s,s:s,s:{s:s}}", "name", names[i],
                              "generation", gens[i], "objectPreconditions",
                              "ifGenerationMatch", gens[i])
                  : json_pack("{s:s}", "name", names[i]);
    if (!s || json_array_append_new(srcs, s))
      rc = gcs_nomem(t, err);
  }
  if (!rc)
    rc = gcs_url(h, t, GCS_API, &url, err);
  if (!rc && sdk_buf_puts(&url, "/compose"))
    rc = gcs_nomem(t, err);
  if (!rc && dest_if_gen)
    rc = gcs_query(t, &url, "ifGenerationMatch", dest_if_gen, err);
  if (!rc)
    rc = gcs_json(h, t, "POST", url.data, body, out, err);
  sdk_buf_free(&url);
  json_decref(srcs);
  json_decref(body);
  return rc;
}

/* ---- multipart ------------------------------------------------------------ */

static int id_ok(const char *id)
{
  return id && strlen(id) == GCS_NONCE_HEX &&
         strspn(id, "0123456789abcdef") == GCS_NONCE_HEX;
}

/* PREFIX ID "/" TAIL. */
static int32_t temp_name(const gcs_target *t, const char *id,
                         const char *tail, sdk_buf *out, store_error *err)
{
  sdk_buf_reset(out);
  if (sdk_buf_printf(out, "%s%s/%s", GCS_PARTS_PREFIX, id, tail))
    return gcs_nomem(t, err);
  return STORE_OK;
}

static int32_t check_upload(const gcs_target *t, const char *id,
                            store_error *err)
{
  int32_t rc = gcs_check_dest(t, err);

  if (!rc && !id_ok(id))
    rc = gcs_fail(t, err, STORE_E_NOT_FOUND, "upload id '%.64s' is not one "
                  "of this provider's (32 hex digits)", id ? id : "");
  return rc;
}

int32_t gcs_multipart_begin(store_handle *h, const char *bucket,
                            const char *key, const store_put_opts *opts,
                            char *out_id, size_t cap, store_error *err)
{
  gcs_target t = {"begin upload of", bucket, key, NULL};
  unsigned char nonce[GCS_NONCE_HEX / 2];
  int32_t rc;

  (void)h;
  rc = gcs_check_dest(&t, err);
  if (!rc)
    rc = gcs_meta_check(&t, STORE_OPT(opts, store_put_opts, metadata, NULL),
                        STORE_OPT(opts, store_put_opts, nmetadata, 0), err);
  if (rc)
    return rc;
  if (cap < GCS_NONCE_HEX + 1)
    return gcs_fail(&t, err, STORE_E_INVALID, "upload id buffer of %zu "
                    "bytes: %d needed", cap, GCS_NONCE_HEX + 1);
  if (RAND_bytes(nonce, sizeof(nonce)) != 1)
    return gcs_fail(&t, err, STORE_E_INTERNAL, "no random bytes for the "
                    "upload id");
  sdk_hex(nonce, sizeof(nonce), out_id);
  return STORE_OK;
}

int32_t gcs_multipart_part_checked(store_handle *h, const char *bucket,
                                   const char *key, const char *upload_id,
                                   uint32_t part_no, uint64_t length,
                                   const store_put_opts *opts,
                                   store_read_fn src, void *src_ctx,
                                   char *out_token, size_t cap,
                                   store_put_result *out, store_error *err)
{
  gcs_target t = {"upload part of", bucket, key, NULL};
  store_kv mark = {UPLOAD_KEY_META, key};
  sdk_buf name = SDK_BUF_INIT;
  store_put_opts po;
  store_put_result res;
  gcs_target pt;
  char tail[16];
  int32_t rc;

  rc = check_upload(&t, upload_id, err);
  if (!rc && (part_no < 1 || part_no > 99999 || !src))
    rc = gcs_fail(&t, err, STORE_E_INVALID, "part %" PRIu32 ": parts are "
                  "numbered 1..99999 and need a read callback", part_no);
  snprintf(tail, sizeof(tail), "%05" PRIu32, part_no);
  if (!rc)
    rc = temp_name(&t, upload_id, tail, &name, err);
  if (rc)
    goto out;
  memset(&po, 0, sizeof(po));
  po.struct_size = sizeof(po);
  po.content_length = (int64_t)length;
  po.content_type = GCS_DEFAULT_CT;
  po.metadata = &mark;
  po.nmetadata = 1;
  if (opts && STORE_HAS_FIELD(store_put_opts, md5, opts->struct_size)) {
    po.checksums = opts->checksums;
    po.crc32c = opts->crc32c;
    memcpy(po.md5, opts->md5, 16);
  }
  memset(&res, 0, sizeof(res));
  res.struct_size = sizeof(res);
  pt = (gcs_target){"upload part of", bucket, name.data, NULL};
  rc = gcs_upload(h, &pt, &po, src, src_ctx, &res, err);
  if (rc)
    goto out;
  if (snprintf(out_token, cap, "%s.%" PRIu64 ".%08" PRIx32, res.version_id,
               res.size, res.crc32c) >= (int)cap) {
    rc = gcs_fail(&t, err, STORE_E_INVALID, "part token buffer of %zu bytes "
                  "is too small", cap);
    goto out;
  }
  if (out && STORE_HAS_FIELD(store_put_result, md5, out->struct_size)) {
    out->size = res.size;
    snprintf(out->etag, sizeof(out->etag), "%s", res.etag);
    out->checksums = res.checksums;
    out->crc32c = res.crc32c;
    memcpy(out->md5, res.md5, 16);
  } else if (out && STORE_HAS_FIELD(store_put_result, etag,
                                    out->struct_size)) {
    out->size = res.size;
    snprintf(out->etag, sizeof(out->etag), "%s", res.etag);
  }
out:
  sdk_buf_free(&name);
  return rc;
}

int32_t gcs_multipart_part(store_handle *h, const char *bucket,
                           const char *key, const char *upload_id,
                           uint32_t part_no, uint64_t length,
                           store_read_fn src, void *src_ctx, char *out_token,
                           size_t cap, store_error *err)
{
  return gcs_multipart_part_checked(h, bucket, key, upload_id, part_no,
                                    length, NULL, src, src_ctx, out_token,
                                    cap, NULL, err);
}

/* A part token's generation (into gen), size and CRC-32C: 0, or -1. */
static int parse_token(const char *tok, char *gen, size_t cap, uint64_t *size,
                       uint32_t *crc)
{
  const char *dot1 = tok ? strchr(tok, '.') : NULL;
  const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
  char *end;

  if (!dot2 || dot1 == tok || (size_t)(dot1 - tok) >= cap ||
      strspn(tok, "0123456789") != (size_t)(dot1 - tok) ||
      strlen(dot2 + 1) != 8)
    return -1;
  memcpy(gen, tok, (size_t)(dot1 - tok));
  gen[dot1 - tok] = '\0';
  *size = strtoull(dot1 + 1, &end, 10);
  if (end != dot2)
    return -1;
  *crc = (uint32_t)strtoul(dot2 + 1, &end, 16);
  return *end ? -1 : 0;
}

/* Compose sources (names/gens[0..n)) into `into` (a temporary or the key),
 * 32 at a time: a level of intermediates "tLEVEL-I" under the upload's
 * prefix while more than 32 remain. Each intermediate names the upload's
 * key as the parts do, so that one a failed complete leaves is listed
 * (multipart_list) and can be aborted; the final object gets dest's
 * metadata only. */
static int32_t compose_tree(store_handle *h, const gcs_target *t,
                            const char *id, unsigned level, char **names,
                            char **gens, size_t n, const json_t *dest,
                            const char *dest_if_gen, json_t **out,
                            store_error *err)
{
  size_t groups = (n + GCS_COMPOSE_MAX - 1) / GCS_COMPOSE_MAX;
  char **gnames = NULL, **ggens = NULL;
  store_kv mark = {UPLOAD_KEY_META, t->key};
  sdk_buf name = SDK_BUF_INIT;
  json_t *idest = NULL;
  int32_t rc = STORE_OK;

  if (n <= GCS_COMPOSE_MAX)
    return gcs_compose(h, t, (const char *const *)names,
                       (const char *const *)gens, n, dest, dest_if_gen, out,
                       err);
  gnames = calloc(groups, sizeof(*gnames));
  ggens = calloc(groups, sizeof(*ggens));
  if (!gnames || !ggens)
    rc = gcs_nomem(t, err);
  if (!rc)
    rc = gcs_resource_json(t, NULL, NULL, &mark, 1, 0, 0, NULL, &idest, err);
  for (size_t g = 0; !rc && g < groups; g++) {
    size_t from = g * GCS_COMPOSE_MAX;
    size_t cnt = n - from < GCS_COMPOSE_MAX ? n - from : GCS_COMPOSE_MAX;
    char tail[48];
    json_t *res = NULL;
    gcs_obj o;
    snprintf(tail, sizeof(tail), "t%u-%zu", level, g);
    rc = temp_name(t, id, tail, &name, err);
    if (rc)
      break;
    gcs_target it = {t->op, t->bucket, name.data, NULL};
    rc = gcs_compose(h, &it, (const char *const *)names + from,
                     (const char *const *)gens + from, cnt, idest, NULL, &res,
                     err);
    if (!rc)
      rc = gcs_obj_read(&it, res, &o, err);
    if (!rc) {
      gnames[g] = strdup(name.data);
      ggens[g] = o.generation ? strdup(o.generation) : NULL;
      if (!gnames[g] || !ggens[g])
        rc = gcs_nomem(t, err);
      gcs_obj_free(&o);
    }
    json_decref(res);
  }
  if (!rc)
    rc = compose_tree(h, t, id, level + 1, gnames, ggens, groups, dest,
                      dest_if_gen, out, err);
  for (size_t g = 0; gnames && g < groups; g++)
    free(gnames[g]);
  for (size_t g = 0; ggens && g < groups; g++)
    free(ggens[g]);
  free(gnames);
  free(ggens);
  json_decref(idest);
  sdk_buf_free(&name);
  return rc;
}

/* Delete every temporary object of an upload (every generation). */
typedef struct sweep {
  store_handle *h;
  const char *bucket;
  store_error *err;
} sweep;

static int32_t sweep_one(void *ud, const gcs_obj *o)
{
  sweep *s = ud;
  gcs_target t = {"abort upload of", s->bucket, o->e.name, o->generation};
  int32_t rc = gcs_delete_object(s->h, &t, s->err);

  if (rc == STORE_E_NOT_FOUND) {
    sdk_error_clear(s->err);
    rc = STORE_OK;
  }
  return rc;
}

static int32_t sweep_upload(store_handle *h, const gcs_target *t,
                            const char *id, store_error *err)
{
  sdk_buf prefix = SDK_BUF_INIT;
  sweep s = {h, t->bucket, err};
  int32_t rc = temp_name(t, id, "", &prefix, err);

  if (!rc)
    rc = gcs_list_objects(h, t, prefix.data, GCS_LIST_VERSIONS, sweep_one, &s, err);
  sdk_buf_free(&prefix);
  return rc;
}

int32_t gcs_multipart_complete(store_handle *h, const char *bucket,
                               const char *key, const char *upload_id,
                               const store_put_opts *opts,
                               const char *const *tokens, uint32_t nparts,
                               store_put_result *out, store_error *err)
{
  gcs_target t = {"complete upload of", bucket, key, NULL};
  uint32_t flags = STORE_OPT(opts, store_put_opts, flags, 0);
  const char *if_match = STORE_OPT(opts, store_put_opts, if_match, NULL);
  char **names = NULL, **gens = NULL;
  json_t *dest = NULL, *res = NULL;
  sdk_buf name = SDK_BUF_INIT;
  uint64_t total = 0;
  uint32_t crc = 0;
  gcs_obj o;
  int32_t rc;

  gcs_obj_init(&o);
  rc = check_upload(&t, upload_id, err);
  if (!rc && (!nparts || !tokens))
    rc = gcs_fail(&t, err, STORE_E_INVALID, "no parts to complete");
  if (!rc && !((names = calloc(nparts, sizeof(*names))) &&
               (gens = calloc(nparts, sizeof(*gens)))))
    rc = gcs_nomem(&t, err);
  for (uint32_t i = 0; !rc && i < nparts; i++) {
    char gen[32], tail[16];
    uint64_t size;
    uint32_t pcrc;
    if (parse_token(tokens[i], gen, sizeof(gen), &size, &pcrc)) {
      rc = gcs_fail(&t, err, STORE_E_INVALID, "part %" PRIu32 ": token "
                    "'%.64s' is not one of this provider's", i + 1,
                    tokens[i] ? tokens[i] : "");
      break;
    }
    snprintf(tail, sizeof(tail), "%05" PRIu32, i + 1);
    rc = temp_name(&t, upload_id, tail, &name, err);
    if (!rc && (!(names[i] = strdup(name.data)) || !(gens[i] = strdup(gen))))
      rc = gcs_nomem(&t, err);
    crc = sdk_crc32c_combine(crc, pcrc, size);
    total += size;
  }
  if (!rc)
    rc = gcs_resource_json(&t, NULL,
                           STORE_OPT(opts, store_put_opts, content_type, NULL),
                           STORE_OPT(opts, store_put_opts, metadata, NULL),
                           STORE_OPT(opts, store_put_opts, nmetadata, 0), 0, 0,
                           NULL, &dest, err);
  if (!rc && !(flags & STORE_PUT_IF_NONE_MATCH) && if_match &&
      strspn(if_match, "0123456789") != strlen(if_match))
    rc = gcs_fail(&t, err, STORE_E_PRECONDITION, "etag '%.64s' is not a "
                  "generation of a GCS object: condition not met", if_match);
  if (!rc)
    rc = compose_tree(h, &t, upload_id, 0, names, gens, nparts, dest,
                      flags & STORE_PUT_IF_NONE_MATCH ? "0" : if_match, &res,
                      err);
  rc = gcs_put_condition(&t, flags, rc, err);
  if (!rc)
    rc = gcs_obj_read(&t, res, &o, err);
  if (!rc)
    rc = gcs_put_result(&t, &o, total, crc, out, err);
  /* The parts go once the object stands; a failed compose keeps them, so
   * that complete can be tried again (abort removes them). */
  if (!rc) {
    store_error serr;
    memset(&serr, 0, sizeof(serr));
    serr.struct_size = sizeof(serr);
    sweep_upload(h, &t, upload_id, &serr);
  }
  for (uint32_t i = 0; names && i < nparts; i++)
    free(names[i]);
  for (uint32_t i = 0; gens && i < nparts; i++)
    free(gens[i]);
  free(names);
  free(gens);
  gcs_obj_free(&o);
  json_decref(res);
  json_decref(dest);
  sdk_buf_free(&name);
  return rc;
}

/* An upload is only its temporaries: one already gone and one with no
 * part yet look the same, so aborting either is OK, never NOT_FOUND. */
int32_t gcs_multipart_abort(store_handle *h, const char *bucket,
                            const char *key, const char *upload_id,
                            store_error *err)
{
  gcs_target t = {"abort upload of", bucket, key, NULL};
  int32_t rc = check_upload(&t, upload_id, err);

  if (!rc)
    rc = sweep_upload(h, &t, upload_id, err);
  return rc;
}

/* ---- listing the unfinished uploads --------------------------------------- */

/* The temporaries come in name order, so an upload's are consecutive: one
 * upload is gathered at a time and reported when the next begins. */
typedef struct uplister {
  const gcs_target *t;
  const char *prefix;           /* of the keys; NULL: all                 */
  store_upload_fn cb;
  void *ctx;
  char id[GCS_NONCE_HEX + 1];   /* the upload gathered; "" none           */
  char *key;                    /* from a part's metadata (owned), or NULL */
  int64_t first_ns;             /* its earliest part's time: "initiated"  */
  int64_t last_ns;              /* its newest part's: "last_activity"     */
  store_error *err;
} uplister;

/* Report the upload gathered, when a part named its key (one whose parts
 * predate the key in metadata cannot be named, and is left out). */
static int32_t up_flush(uplister *u)
{
  store_upload su;
  int32_t rc = STORE_OK;

  if (u->id[0] && u->key &&
      (!u->prefix || !strncmp(u->key, u->prefix, strlen(u->prefix)))) {
    memset(&su, 0, sizeof(su));
    su.struct_size = sizeof(su);
    su.key = u->key;
    su.upload_id = u->id;
    su.initiated = u->first_ns == STORE_MTIME_UNKNOWN
                     ? 0 : u->first_ns / 1000000000;
    su.last_activity = u->last_ns == STORE_MTIME_UNKNOWN
                         ? 0 : u->last_ns / 1000000000;
    if (u->cb(u->ctx, &su))
      rc = gcs_fail(u->t, u->err, STORE_E_ABORTED, "stopped by the "
                    "callback");
  }
  u->id[0] = '\0';
  free(u->key);
  u->key = NULL;
  u->first_ns = u->last_ns = STORE_MTIME_UNKNOWN;
  return rc;
}

static int32_t up_item(void *ud, const gcs_obj *o)
{
  uplister *u = ud;
  const char *rest = o->e.name + sizeof(GCS_PARTS_PREFIX) - 1;
  char id[GCS_NONCE_HEX + 1];
  int32_t rc = STORE_OK;

  /* Other names under the prefix are ordinary objects. */
  if (strlen(rest) <= GCS_NONCE_HEX || rest[GCS_NONCE_HEX] != '/')
    return STORE_OK;
  memcpy(id, rest, GCS_NONCE_HEX);
  id[GCS_NONCE_HEX] = '\0';
  if (!id_ok(id))
    return STORE_OK;
  if (strcmp(id, u->id)) {
    rc = up_flush(u);
    memcpy(u->id, id, sizeof(id));
  }
  for (size_t i = 0; !rc && !u->key && i < o->nmd; i++)
    if (!strcmp(o->md[i].key, UPLOAD_KEY_META) &&
        !(u->key = strdup(o->md[i].value)))
      rc = gcs_nomem(u->t, u->err);
  if (o->e.mtime_ns != STORE_MTIME_UNKNOWN &&
      (u->first_ns == STORE_MTIME_UNKNOWN || o->e.mtime_ns < u->first_ns))
    u->first_ns = o->e.mtime_ns;
  if (o->e.mtime_ns != STORE_MTIME_UNKNOWN &&
      (u->last_ns == STORE_MTIME_UNKNOWN || o->e.mtime_ns > u->last_ns))
    u->last_ns = o->e.mtime_ns;
  return rc;
}

int32_t gcs_multipart_list(store_handle *h, const char *bucket,
                           const char *prefix, store_upload_fn cb, void *ctx,
                           store_error *err)
{
  gcs_target t = {"list uploads of", bucket, NULL, NULL};
  uplister u = {&t, prefix && *prefix ? prefix : NULL, cb, ctx, "", NULL,
                STORE_MTIME_UNKNOWN, STORE_MTIME_UNKNOWN, err};
  int32_t rc = gcs_check_bucket(&t, err);

  if (!rc && !cb)
    rc = gcs_fail(&t, err, STORE_E_INVALID, "no callback");

  if (!rc)
    rc = gcs_list_objects(h, &t, GCS_PARTS_PREFIX, 0, up_item, &u, err);
  if (!rc)
    rc = up_flush(&u);
  free(u.key);
  return rc;
}
