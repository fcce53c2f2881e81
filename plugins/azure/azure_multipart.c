/*
** azure_multipart.c -- block blobs in pieces: Put Block + Put Block List,
** as the ABI's multipart ops, and for big or unknown-length puts
** (azure_upload.c).
**
** Uncommitted blocks are invisible and Azure discards them (after a week,
** or when another put of the blob commits), so an upload that is never
** completed leaves nothing to see: abort has nothing to delete on the
** server. Block ids are base64("NONCE-PPPPP"): NONCE is 32 random hex
** digits per upload (so concurrent uploads to one blob cannot take each
** other's blocks), PPPPP the part number; every id of a blob must have the
** same length, and these do.
**
** The upload id is the nonce, and the server's uncommitted blocks are the
** upload: nothing else is needed to go on with it, so any handle (another
** process resuming a run that died: docs/engine.md, "Resume across runs")
** takes parts of, and completes, any well-formed id. Complete commits with
** the options it receives (by contract begin's, passed again: content type,
** metadata, conditions; and the whole blob's CRC-32C, which it records
** with the blob: azure_meta.c), and knows the upload is gone only when the
** service says so: Put Block List answers InvalidBlockList when a block it
** names is not there (expired, or discarded by another commit), reported
** as STORE_E_NOT_FOUND naming the upload so that the host starts over.
**
** What a handle keeps (az_upload): the part sizes of the uploads it began
** (a commit of those needs no HEAD for its size), and the uploads it
** aborted, which its later parts and complete refuse. Another process
** cannot know of an abort (nothing on the server marks it); there the
** host's journal is what makes an upload resumable, and `xtstore cleanup`
** removes it with the abort, so nobody goes on with an aborted upload.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "azure.h"
#include "sdk_error.h"
#include "sdk_util.h"

#define PART_DIGITS 5           /* AZ_MAX_BLOCKS is 50000                 */
#define ID_RAW_LEN  (AZ_NONCE_HEX + 1 + PART_DIGITS)
#define ID_B64_LEN  ((ID_RAW_LEN + 2) / 3 * 4)
#define SIZE_UNKNOWN UINT64_MAX

_Static_assert(ID_B64_LEN + 1 == AZ_BLOCK_ID_SIZE, "block id size");

/* A new upload's nonce: AZ_NONCE_HEX random hex digits. */
int32_t az_nonce_new(const az_target *t, char out[AZ_NONCE_HEX + 1],
                     store_error *err)
{
  unsigned char raw[AZ_NONCE_HEX / 2];

  if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
    return az_fail(t, err, STORE_E_INTERNAL, "no random bytes for an "
                   "upload id");
  sdk_hex(raw, sizeof(raw), out);
  return STORE_OK;
}

static int nonce_ok(const char *s)
{
  size_t i;

  for (i = 0; s[i]; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return 0;
  return i == AZ_NONCE_HEX;
}

/* The block id of part `part` of upload `nonce`, into out
 * (AZ_BLOCK_ID_SIZE). */
void az_block_id(const char *nonce, uint32_t part, char *out)
{
  char raw[ID_RAW_LEN + 1];
  sdk_buf b = SDK_BUF_INIT;

  snprintf(raw, sizeof(raw), "%s-%0*" PRIu32, nonce, PART_DIGITS, part);
  /* Out of memory leaves out empty, which callers report as such. */
  out[0] = '\0';
  if (!sdk_base64_encode(&b, raw, ID_RAW_LEN) && b.len == ID_B64_LEN)
    memcpy(out, b.data, AZ_BLOCK_ID_SIZE);
  sdk_buf_free(&b);
}

/* Put Block: the body streamed from b, or taken from mem[0..memlen), and
 * checked (azure_check.c): a block in memory by its Content-MD5, a
 * streamed one by the x-ms-content-crc64 the service answers. A block
 * found damaged is never committed: the next Put Block of its id replaces
 * it, and Azure discards uncommitted blocks. io_crc32c (may be NULL): a
 * CRC-32C continued over the block's bytes when it went up. */
int32_t az_put_block(store_handle *h, const az_target *t, const char *id,
                     sdk_body *b, const char *mem, size_t memlen,
                     uint32_t *io_crc32c, store_error *err)
{
  sdk_buf q = SDK_BUF_INIT;
  sdk_response *resp = NULL;
  sdk_request *r = NULL;
  az_sum sum = {0};
  int32_t rc;

  if (!*id || sdk_buf_puts(&q, "comp=block&blockid=") ||
      sdk_uri_encode(&q, id, strlen(id), 0)) {
    rc = az_nomem(t, err);
    goto out;
  }
  rc = az_request(h, t, "PUT", sdk_buf_str(&q), &r, err);
  if (rc)
    goto out;
  if (b) {
    rc = az_sum_attach(t, r, &sum, b, AZ_SUM_CRC64,
                       io_crc32c ? *io_crc32c : 0, err);
    if (!rc)
      rc = az_body_result(t, b, az_perform(h, t, r, &resp, err), err);
    if (!rc)
      rc = az_sum_verify(t, &sum, resp, err);
    if (!rc && io_crc32c)
      *io_crc32c = sum.crc32c;
  } else {
    sdk_request_body_mem(r, mem, memlen);
    rc = az_md5_header(t, r, mem, memlen, err);
    if (!rc)
      rc = az_perform_md5(h, t, r, NULL, err);
    if (!rc && io_crc32c)
      *io_crc32c = sdk_crc32c(*io_crc32c, mem, memlen);
  }
out:
  az_sum_free(&sum);
  sdk_response_free(resp);
  sdk_request_free(r);
  sdk_buf_free(&q);
  return rc;
}

/* Put Block List of parts 1..n of upload nonce. size is the blob's total,
 * or SIZE_UNKNOWN (UINT64_MAX) to ask the service afterwards. */
int32_t az_put_block_list(store_handle *h, const az_target *t,
                          const char *nonce, uint32_t n,
                          const az_block_list_opts *co, uint64_t size,
                          store_put_result *out, store_error *err)
{
  sdk_buf xml = SDK_BUF_INIT;
  sdk_response *resp = NULL, *hresp = NULL;
  sdk_request *r = NULL;
  char id[AZ_BLOCK_ID_SIZE];
  az_props p = {0};
  int32_t rc;

  if (sdk_buf_puts(&xml, "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
                         "<BlockList>")) {
    rc = az_nomem(t, err);
    goto out;
  }
  for (uint32_t i = 1; i <= n; i++) {
    az_block_id(nonce, i, id);
    if (!*id || sdk_buf_printf(&xml, "<Latest>%s</Latest>", id)) {
      rc = az_nomem(t, err);
      goto out;
    }
  }
  if (sdk_buf_puts(&xml, "</BlockList>")) {
    rc = az_nomem(t, err);
    goto out;
  }
  rc = az_request(h, t, "PUT", "comp=blocklist", &r, err);
  if (rc)
    goto out;
  rc = az_put_headers(t, r, co->content_type, co->md, co->nmd, co->crc,
                      co->flags, co->if_match, err);
  if (rc)
    goto out;
  sdk_request_body_mem(r, xml.data, xml.len);
  rc = az_perform(h, t, r, &resp, err);
  rc = az_put_condition(t, co->flags, rc, err);
  if (rc)
    goto out;
  if (size == SIZE_UNKNOWN) {
    rc = az_head(h, t, &hresp, &p, err);
    if (rc)
      goto out;
    size = p.e.size;
  }
  rc = az_put_result(t, resp, size, out, err);
out:
  az_props_free(&p);
  sdk_response_free(hresp);
  sdk_response_free(resp);
  sdk_request_free(r);
  sdk_buf_free(&xml);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* multipart: what the handle knows of its uploads                          */
/* ------------------------------------------------------------------------ */
static void upload_free(az_upload *u)
{
  if (!u)
    return;
  free(u->sizes);
  free(u->container);
  free(u->key);
  free(u);
}

void az_uploads_free(store_handle *h)
{
  while (h->uploads) {
    az_upload *u = h->uploads;
    h->uploads = u->next;
    upload_free(u);
  }
}

static az_upload *upload_new(const az_target *t, const char *id)
{
  az_upload *u = calloc(1, sizeof(*u));

  if (!u)
    return NULL;
  snprintf(u->id, sizeof(u->id), "%s", id);
  u->container = strdup(t->container);
  u->key = strdup(t->key);
  if (!u->container || !u->key) {
    upload_free(u);
    return NULL;
  }
  return u;
}

/* The entry of upload `id` of the target's blob, or NULL. Call with h->mu
 * held. */
static az_upload **upload_find(store_handle *h, const az_target *t,
                               const char *id)
{
  az_upload **pp;

  for (pp = &h->uploads; *pp; pp = &(*pp)->next)
    if (!strcmp((*pp)->id, id) && !strcmp((*pp)->container, t->container) &&
        !strcmp((*pp)->key, t->key))
      return pp;
  return NULL;
}

/* Non-zero when this handle aborted upload `id`. */
static int upload_aborted(store_handle *h, const az_target *t,
                          const char *id)
{
  az_upload **pp;
  int aborted;

  pthread_mutex_lock(&h->mu);
  pp = upload_find(h, t, id);
  aborted = pp && (*pp)->aborted;
  pthread_mutex_unlock(&h->mu);
  return aborted;
}

/* Remember part `part`'s size on an upload this handle began. A failed
 * allocation only costs a HEAD at the commit. */
static void upload_note_size(store_handle *h, const az_target *t,
                             const char *id, uint32_t part, uint64_t size)
{
  az_upload **pp, *u;
  uint64_t *s;

  pthread_mutex_lock(&h->mu);
  pp = upload_find(h, t, id);
  u = pp ? *pp : NULL;
  if (!u || u->aborted)
    goto out;
  if (part > u->nsizes) {
    s = realloc(u->sizes, part * sizeof(*s));
    if (!s)
      goto out;
    for (uint32_t i = u->nsizes; i < part; i++)
      s[i] = SIZE_UNKNOWN;
    u->sizes = s;
    u->nsizes = part;
  }
  u->sizes[part - 1] = size;
out:
  pthread_mutex_unlock(&h->mu);
}

/* The total of parts 1..n of upload `id` when this handle saw each of
 * them go up, else SIZE_UNKNOWN; *aborted set when this handle aborted
 * it. */
static uint64_t upload_size(store_handle *h, const az_target *t,
                            const char *id, uint32_t n, int *aborted)
{
  uint64_t size = 0;
  az_upload **pp, *u;

  pthread_mutex_lock(&h->mu);
  pp = upload_find(h, t, id);
  u = pp ? *pp : NULL;
  *aborted = u && u->aborted;
  if (!u || u->nsizes < n)
    size = SIZE_UNKNOWN;
  for (uint32_t i = 0; size != SIZE_UNKNOWN && i < n; i++)
    size = u->sizes[i] == SIZE_UNKNOWN ? SIZE_UNKNOWN : size + u->sizes[i];
  pthread_mutex_unlock(&h->mu);
  return size;
}

/* Forget a completed upload (an abort that came meanwhile stays). */
static void upload_done(store_handle *h, const az_target *t, const char *id)
{
  az_upload **pp, *u = NULL;

  pthread_mutex_lock(&h->mu);
  pp = upload_find(h, t, id);
  if (pp && !(*pp)->aborted) {
    u = *pp;
    *pp = u->next;
  }
  pthread_mutex_unlock(&h->mu);
  upload_free(u);
}

static int32_t check_upload_id(const az_target *t, const char *id,
                               store_error *err)
{
  if (!id || !nonce_ok(id))
    return az_fail(t, err, STORE_E_INVALID,
                   "'%.64s' is not an upload id of this provider",
                   id ? id : "(null)");
  return STORE_OK;
}

static int32_t fail_aborted(const az_target *t, const char *id,
                            store_error *err)
{
  return az_fail(t, err, STORE_E_NOT_FOUND, "upload '%s' was aborted", id);
}

int32_t az_multipart_begin(store_handle *h, const char *container,
                           const char *key, const store_put_opts *opts,
                           char *out_id, size_t cap, store_error *err)
{
  az_target t = {"multipart begin", container, key, NULL};
  char nonce[AZ_NONCE_HEX + 1];
  az_upload *u;
  int32_t rc;

  rc = az_check_key(&t, err);
  if (rc)
    goto out;
  rc = az_meta_check(&t, STORE_OPT(opts, store_put_opts, content_type, NULL),
                     STORE_OPT(opts, store_put_opts, metadata, NULL),
                     STORE_OPT(opts, store_put_opts, nmetadata, 0), err);
  if (rc)
    goto out;
  if (!out_id || cap < sizeof(nonce)) {
    rc = az_fail(&t, err, STORE_E_INVALID, "upload id buffer of %zu bytes, "
                 "needs %zu", cap, sizeof(nonce));
    goto out;
  }
  rc = az_nonce_new(&t, nonce, err);
  if (rc)
    goto out;
  u = upload_new(&t, nonce);
  if (!u) {
    rc = az_nomem(&t, err);
    goto out;
  }
  pthread_mutex_lock(&h->mu);
  u->next = h->uploads;
  h->uploads = u;
  pthread_mutex_unlock(&h->mu);
  memcpy(out_id, nonce, sizeof(nonce));
out:
  return rc;
}

int32_t az_multipart_part(store_handle *h, const char *container,
                          const char *key, const char *upload_id,
                          uint32_t part_no, uint64_t length,
                          store_read_fn src, void *src_ctx, char *out_token,
                          size_t cap, store_error *err)
{
  az_target t = {"multipart part of", container, key, NULL};
  char id[AZ_BLOCK_ID_SIZE];
  sdk_body b;
  int32_t rc;

  rc = az_check_key(&t, err);
  if (rc)
    goto out;
  rc = check_upload_id(&t, upload_id, err);
  if (rc)
    goto out;
  rc = az_check_source(&t, src, (int64_t)length, err);
  if (rc)
    goto out;
  if (part_no < 1 || part_no > AZ_MAX_BLOCKS || length > AZ_MAX_BLOCK) {
    rc = az_fail(&t, err, STORE_E_INVALID, "part %" PRIu32 " of %" PRIu64
                 " bytes: parts are 1..%u of at most %" PRIu64 " bytes",
                 part_no, length, AZ_MAX_BLOCKS, AZ_MAX_BLOCK);
    goto out;
  }
  if (!out_token || cap < sizeof(id)) {
    rc = az_fail(&t, err, STORE_E_INVALID, "part token buffer of %zu "
                 "bytes, needs %zu", cap, sizeof(id));
    goto out;
  }
  if (upload_aborted(h, &t, upload_id)) {
    rc = fail_aborted(&t, upload_id, err);
    goto out;
  }
  az_block_id(upload_id, part_no, id);
  /* Exactly `length` bytes, no probe past them: the source may go on
   * with the next part. */
  sdk_body_init(&b, src, src_ctx, length, 0);
  rc = az_put_block(h, &t, id, &b, NULL, 0, NULL, err);
  if (rc)
    goto out;
  upload_note_size(h, &t, upload_id, part_no, length);
  memcpy(out_token, id, sizeof(id));
out:
  return rc;
}

/* Token i must be part i+1's block id: that is what was handed out. */
static int32_t check_tokens(const az_target *t, const char *upload_id,
                            const char *const *tokens, uint32_t n,
                            store_error *err)
{
  char id[AZ_BLOCK_ID_SIZE];

  for (uint32_t i = 0; i < n; i++) {
    az_block_id(upload_id, i + 1, id);
    if (!tokens || !tokens[i] || strcmp(tokens[i], id))
      return az_fail(t, err, STORE_E_INVALID,
                     "part %" PRIu32 ": '%.64s' is not the token that part "
                     "got", i + 1, tokens && tokens[i] ? tokens[i] : "(null)");
  }
  return STORE_OK;
}

int32_t az_multipart_complete(store_handle *h, const char *container,
                              const char *key, const char *upload_id,
                              const store_put_opts *opts,
                              const char *const *tokens, uint32_t nparts,
                              store_put_result *out, store_error *err)
{
  az_target t = {"multipart complete of", container, key, NULL};
  az_block_list_opts co = {
    STORE_OPT(opts, store_put_opts, content_type, NULL),
    STORE_OPT(opts, store_put_opts, metadata, NULL),
    STORE_OPT(opts, store_put_opts, nmetadata, 0), az_opts_crc(opts),
    STORE_OPT(opts, store_put_opts, flags, 0),
    STORE_OPT(opts, store_put_opts, if_match, NULL)};
  store_error e;
  uint64_t size;
  int aborted;
  int32_t rc;

  rc = az_check_key(&t, err);
  if (rc)
    goto out;
  rc = check_upload_id(&t, upload_id, err);
  if (rc)
    goto out;
  if (nparts < 1 || nparts > AZ_MAX_BLOCKS) {
    rc = az_fail(&t, err, STORE_E_INVALID, "%" PRIu32 " parts: 1..%u "
                 "allowed", nparts, AZ_MAX_BLOCKS);
    goto out;
  }
  rc = az_meta_check(&t, co.content_type, co.md, co.nmd, err);
  if (rc)
    goto out;
  size = upload_size(h, &t, upload_id, nparts, &aborted);
  if (aborted) {
    rc = fail_aborted(&t, upload_id, err);
    goto out;
  }
  rc = check_tokens(&t, upload_id, tokens, nparts, err);
  if (rc)
    goto out;
  memset(&e, 0, sizeof(e));
  e.struct_size = sizeof(e);
  rc = az_put_block_list(h, &t, upload_id, nparts, &co, size, out, &e);
  if (rc == STORE_E_INVALID && !strcmp(e.provider_code, "InvalidBlockList"))
    rc = az_fail(&t, &e, STORE_E_NOT_FOUND, "upload '%s' is gone: the "
                 "service lacks blocks of it (InvalidBlockList; Azure "
                 "discards uncommitted blocks after a week, or when another "
                 "put commits the blob)", upload_id);
  if (rc) {
    sdk_error_copy(err, &e);
    goto out;
  }
  upload_done(h, &t, upload_id);
out:
  return rc;
}

int32_t az_multipart_abort(store_handle *h, const char *container,
                           const char *key, const char *upload_id,
                           store_error *err)
{
  az_target t = {"multipart abort of", container, key, NULL};
  az_upload **pp, *u = NULL;
  int32_t rc;

  rc = az_check_key(&t, err);
  if (rc)
    goto out;
  rc = check_upload_id(&t, upload_id, err);
  if (rc)
    goto out;
  /* Nothing on the server to delete (see the top of this file): the
   * handle remembers the abort, so that its later complete fails. */
  u = upload_new(&t, upload_id);
  if (!u) {
    rc = az_nomem(&t, err);
    goto out;
  }
  u->aborted = 1;
  pthread_mutex_lock(&h->mu);
  pp = upload_find(h, &t, upload_id);
  if (pp) {
    (*pp)->aborted = 1;
    free((*pp)->sizes);
    (*pp)->sizes = NULL;
    (*pp)->nsizes = 0;
  } else {
    u->next = h->uploads;
    h->uploads = u;
    u = NULL;
  }
  pthread_mutex_unlock(&h->mu);
out:
  upload_free(u);
  return rc;
}
