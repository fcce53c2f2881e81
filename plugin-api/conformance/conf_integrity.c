/*
** conf_integrity.c -- the stored bytes are the bytes given, and every
** checksum the service reports is theirs (ABI 1.1): a plugin that stores a
** short or long body (of a declared length or not), or other bytes, or
** reports a wrong CRC-32C or MD5,
** fails here -- in the host's own checks of a put where they see it, else
** in the suite's (run-broken.sh shows which catches what). The suite sums
** the bytes itself, with ISA-L and OpenSSL, never with what the service
** says.
*/
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <isa-l/crc.h>
#include <openssl/evp.h>

#include "conf.h"

/* The bytes' own sums. */
typedef struct sums {
  uint32_t crc32c;
  unsigned char md5[16];
  char md5_hex[33];
} sums;

/* CRC-32C as S3 and the ABI define it: crc32_iscsi without the pre- and
 * post-inversion, which it leaves to the caller. */
static uint32_t crc32c(uint32_t crc, const unsigned char *p, size_t n)
{
  crc = ~crc;
  while (n) {
    size_t k = n > INT_MAX / 2 ? INT_MAX / 2 : n;
    crc = crc32_iscsi((unsigned char *)p, (int)k, crc);
    p += k;
    n -= k;
  }
  return ~crc;
}

static void sum_bytes(tcase *t, const unsigned char *p, size_t n, sums *out)
{
  unsigned int len = 0;

  CHECK(t, crc32c(0, (const unsigned char *)"123456789", 9) == 0xe3069283u,
        "suite bug: CRC-32C of \"123456789\" is not e3069283");
  out->crc32c = crc32c(0, p, n);
  CHECK(t, EVP_Digest(n ? p : (const unsigned char *)"", n, out->md5, &len,
                      EVP_md5(), NULL) == 1 && len == 16,
        "suite bug: OpenSSL MD5 failed");
  for (int i = 0; i < 16; i++)
    snprintf(out->md5_hex + 2 * i, 3, "%02x", out->md5[i]);
}

static const char *hex16(tcase *t, const unsigned char *v)
{
  char *s = talloc(t, 33);
  for (int i = 0; i < 16; i++)
    snprintf(s + 2 * i, 3, "%02x", v[i]);
  return s;
}

/* Which checksums the service reported (and the case checked), for the
 * note that ends a case: a checksum never reported is never checked. */
typedef struct reported {
  uint32_t result;        /* STORE_CKSUM_* seen in put results          */
  uint32_t entry;         /* STORE_CKSUM_* seen in entries (MD5: content_md5) */
} reported;

static void note_reported(tcase *t, const reported *r)
{
  conf_note(t, "checked against the bytes' own: put results reported:%s%s%s; "
               "entries reported:%s%s%s",
            r->result & STORE_CKSUM_CRC32C ? " CRC-32C" : "",
            r->result & STORE_CKSUM_MD5 ? " MD5" : "",
            r->result ? "" : " none",
            r->entry & STORE_CKSUM_CRC32C ? " CRC-32C" : "",
            r->entry & STORE_CKSUM_MD5 ? " content_md5" : "",
            r->entry ? "" : " none");
}

/* A put result's size and checksums against the bytes'. */
static void expect_result(tcase *t, const store_put_result *pr, uint64_t n,
                          const sums *s, reported *r, const char *what)
{
  r->result |= pr->checksums & (STORE_CKSUM_CRC32C | STORE_CKSUM_MD5);
  CHECK(t, pr->size == n, "%s: result size %llu, but %llu bytes were put "
                          "(a short or long body stored)",
        what, (unsigned long long)pr->size, (unsigned long long)n);
  if (pr->checksums & STORE_CKSUM_CRC32C)
    CHECK(t, pr->crc32c == s->crc32c,
          "%s: result CRC-32C %08x, but the bytes put have %08x (other "
          "bytes stored, or a wrong CRC reported)",
          what, pr->crc32c, s->crc32c);
  if (pr->checksums & STORE_CKSUM_MD5)
    CHECK(t, memcmp(pr->md5, s->md5, 16) == 0,
          "%s: result MD5 %s, but the bytes put have %s (other bytes "
          "stored, or a wrong MD5 reported)",
          what, hex16(t, pr->md5), s->md5_hex);
}

/* What one entry (of head, get or a listing) says about key. */
typedef struct seen {
  const char *key;
  int calls;
  uint64_t size;
  int has_crc;
  uint32_t crc;
  char md5[40];           /* "" when not reported */
} seen;

static int32_t seen_cb(void *ctx, const store_entry *e)
{
  seen *s = ctx;

  if (!e->name || strcmp(e->name, s->key))
    return 0;
  s->calls++;
  s->size = e->size;
  s->has_crc = store_entry_crc32c(e, &s->crc);
  snprintf(s->md5, sizeof s->md5, "%s", e->content_md5 ? e->content_md5 : "");
  return 0;
}

static void expect_entry(tcase *t, const seen *e, uint64_t n, const sums *s,
                         reported *r, const char *what)
{
  r->entry |= (e->has_crc ? STORE_CKSUM_CRC32C : 0) |
              (e->md5[0] ? STORE_CKSUM_MD5 : 0);
  CHECK(t, e->calls == 1, "%s: '%s' reported %d times, expected once", what,
        e->key, e->calls);
  CHECK(t, e->size == n, "%s: size %llu, but %llu bytes were put (a short "
                         "or long body stored)",
        what, (unsigned long long)e->size, (unsigned long long)n);
  if (e->has_crc)
    CHECK(t, e->crc == s->crc32c,
          "%s: entry CRC-32C %08x, but the bytes put have %08x (other bytes "
          "stored, or a wrong CRC reported)", what, e->crc, s->crc32c);
  if (e->md5[0])
    CHECK(t, strcmp(e->md5, s->md5_hex) == 0,
          "%s: content_md5 %s, but the bytes put have %s (other bytes "
          "stored, or a wrong MD5 reported)", what, e->md5, s->md5_hex);
}

/* get (with on_entry), head and a listing of k all describe exactly the
 * n bytes p, whose sums are s. Keys hold no '/': the listing's prefix is
 * the key, and moto refuses a signed query with "%2F" in it. */
static void expect_stored(tcase *t, const char *k, const unsigned char *p,
                          size_t n, const sums *s, reported *r)
{
  seen e = {.key = k};
  store_get_opts go;
  store_list_opts lo;
  membuf b;
  int rc;

  memset(&go, 0, sizeof go);
  go.struct_size = sizeof go;
  go.on_entry = seen_cb;
  go.on_entry_ctx = &e;
  rc = get_mem(t, t->c, k, &go, &b);
  size_t got = b.len;
  int same = got == n && (n == 0 || memcmp(b.p, p, n) == 0);
  size_t at = 0;
  while (!same && at < got && at < n && b.p[at] == p[at])
    at++;
  membuf_free(&b);
  /* What the suite sees first, then the get's status: the host fails a
   * get whose bytes do not hash to the CRC-32C its entry reported, which
   * alone does not say whether the bytes or the CRC are wrong. */
  if (rc == STORE_OK || got > 0) {
    CHECK(t, same, "get '%s': %zu bytes, %zu put; the bytes differ from "
                   "offset %zu (other bytes stored)", k, got, n, at);
    expect_entry(t, &e, n, s, r, "get's on_entry");
  }
  EXPECT_OK(t, rc, "get '%s'", k);

  memset(&e, 0, sizeof e);
  e.key = k;
  rc = xtstore_blob_head(g_svc, t->c, k, NULL, seen_cb, &e, ERR(t));
  EXPECT_OK(t, rc, "head '%s'", k);
  expect_entry(t, &e, n, s, r, "head");

  memset(&e, 0, sizeof e);
  e.key = k;
  memset(&lo, 0, sizeof lo);
  lo.struct_size = sizeof lo;
  lo.prefix = k;
  rc = xtstore_blob_list(g_svc, t->c, &lo, seen_cb, &e, ERR(t));
  EXPECT_OK(t, rc, "list '%s'", k);
  expect_entry(t, &e, n, s, r, "listing");
}

/* A put of the n bytes p whose length is not declared (content_length
 * -1), as a pipe's: a plugin may take another path for it. */
static int put_unknown(tcase *t, const char *k, const unsigned char *p,
                       size_t n, store_put_result *out)
{
  store_put_opts o;
  memsrc src;

  memsrc_init(&src, p, n);
  memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  o.content_length = -1;
  memset(out, 0, sizeof *out);
  out->struct_size = sizeof *out;
  return xtstore_blob_put(g_svc, t->c, k, &o, memsrc_read, &src,
                          memsrc_rewind, out, ERR(t));
}

/* Known lengths first, then the same sizes of undeclared length. */
CONF_CASE(integrity_put)
{
  static const size_t sizes[] = {9, 1, 70000};
  const size_t nsizes = sizeof sizes / sizeof sizes[0];
  reported r = {0, 0};

  for (size_t i = 0; i < 2 * nsizes; i++) {
    size_t n = sizes[i % nsizes];
    int unknown = i >= nsizes;
    unsigned char *p = talloc(t, n);
    const char *k = tprintf(t, "integrity-put-%s%zu.bin",
                            unknown ? "unknown-" : "", n);
    store_put_result pr;
    sums s;
    int rc;

    if (n == 9)
      memcpy(p, "123456789", 9);
    else
      gen_fill(90 + i, 0, p, n);
    sum_bytes(t, p, n, &s);
    if (unknown) {
      rc = put_unknown(t, k, p, n, &pr);
      EXPECT_OK(t, rc, "put %zu bytes of undeclared length to '%s'", n, k);
    } else {
      rc = put_mem(t, t->c, k, p, n, NULL, NULL, 0, 0, &pr);
      EXPECT_OK(t, rc, "put %zu known bytes to '%s'", n, k);
    }
    expect_result(t, &pr, n, &s, &r, tprintf(t, "put of %zu bytes", n));
    expect_stored(t, k, p, n, &s, &r);
  }
  note_reported(t, &r);
}

CONF_CASE(integrity_multipart)
{
  const char *k = "integrity-multipart.bin";
  uint64_t psz = g_limits->min_part_size;
  if (psz < 256 * 1024)
    psz = 256 * 1024;
  uint64_t len[3] = {psz, psz, psz / 3 + 7};
  size_t n = (size_t)(len[0] + len[1] + len[2]), off = 0;
  unsigned char *p = talloc(t, n);
  char id[STORE_ID_SIZE], tok[3][STORE_ID_SIZE];
  const char *toks[3] = {tok[0], tok[1], tok[2]};
  store_put_result pr;
  reported r = {0, 0};
  sums s;

  gen_fill(95, 0, p, n);
  sum_bytes(t, p, n, &s);
  int rc = xtstore_multipart_begin(g_svc, t->c, k, NULL, id, sizeof id,
                                   ERR(t));
  EXPECT_OK(t, rc, "multipart_begin '%s'", k);
  for (uint32_t i = 0; i < 3; i++) {
    memsrc src;
    memsrc_init(&src, p + off, (size_t)len[i]);
    rc = xtstore_multipart_part(g_svc, t->c, k, id, i + 1, len[i],
                                memsrc_read, &src, tok[i], STORE_ID_SIZE,
                                ERR(t));
    if (rc)
      (void)xtstore_multipart_abort(g_svc, t->c, k, id, NULL);
    EXPECT_OK(t, rc, "upload part %u (%llu bytes)", i + 1,
              (unsigned long long)len[i]);
    off += (size_t)len[i];
  }
  memset(&pr, 0, sizeof pr);
  pr.struct_size = sizeof pr;
  rc = xtstore_multipart_complete(g_svc, t->c, k, id, NULL, toks, 3, &pr,
                                  ERR(t));
  if (rc)
    (void)xtstore_multipart_abort(g_svc, t->c, k, id, NULL);
  EXPECT_OK(t, rc, "multipart_complete of 3 parts, %zu bytes", n);
  expect_result(t, &pr, n, &s, &r, "multipart_complete");
  expect_stored(t, k, p, n, &s, &r);
  note_reported(t, &r);
}

/* The n bytes p are k's: read as a range of the whole where the service
 * serves ranges, as the host reads a copy back (a whole get is checked
 * against the object's MD5, which s3rver leaves stale after a copy that
 * replaces metadata). */
static void expect_copied(tcase *t, const char *k, const unsigned char *p,
                          size_t n, const char *what)
{
  store_get_opts go;
  membuf b;
  int rc;

  if (!(g_caps & STORE_CAP_RANGE_GET)) {
    expect_body(t, t->c, k, p, n, what);
    return;
  }
  memset(&go, 0, sizeof go);
  go.struct_size = sizeof go;
  go.flags = STORE_GET_RANGE;
  go.length = n;
  rc = get_mem(t, t->c, k, &go, &b);
  EXPECT_OK(t, rc, "%s: get '%s'", what, k);
  CHECK(t, b.len == n && !memcmp(b.p, p, n), "%s: '%s' has %zu bytes, "
        "other than the source's %zu", what, k, b.len, n);
  membuf_free(&b);
}

/* A server-side copy as the store's answer reports it (blob_copy_checked):
 * its ETag is the one a head of the target reports right after (no other
 * writer here), and a size or checksum it carries is the source's. Three
 * copies: to a new key; over an existing key with new metadata (s3rver
 * keeps the replaced object's ETag there: answer and head must agree on
 * it all the same); onto the source itself with new metadata. */
CONF_CASE(integrity_copy)
{
  static const store_kv md[] = {{"copied", "yes"}};
  const size_t n = 70000;
  unsigned char *p = talloc(t, n);
  store_copy_opts co;
  const struct {
    const char *dst;
    int replace;
  } cp[] = {{"copy-new.bin", 0}, {"copy-old.bin", 1}, {"copy-src.bin", 1}};
  uint32_t carried = 0;
  int etags = 0, sizes = 0;
  store_put_opts po;
  memsrc src;
  sums s;
  int rc;

  gen_fill(77, 0, p, n);
  sum_bytes(t, p, n, &s);
  /* With its CRC-32C, which a store that keeps it (moto) then reports in
   * a copy's answer: the plugin's reading of it is checked. */
  memsrc_init(&src, p, n);
  memset(&po, 0, sizeof po);
  po.struct_size = sizeof po;
  po.content_length = (int64_t)n;
  po.checksums = STORE_CKSUM_CRC32C;
  po.crc32c = s.crc32c;
  rc = xtstore_blob_put(g_svc, t->c, "copy-src.bin", &po, memsrc_read, &src,
                        memsrc_rewind, NULL, ERR(t));
  EXPECT_OK(t, rc, "put 'copy-src.bin'");
  rc = put_str(t, t->c, "copy-old.bin", "the object a copy replaces");
  EXPECT_OK(t, rc, "put 'copy-old.bin'");
  memset(&co, 0, sizeof co);
  co.struct_size = sizeof co;
  co.flags = STORE_COPY_REPLACE_METADATA;
  co.content_type = (g_caps & STORE_CAP_CONTENT_TYPE) ? "text/x-copied"
                                                      : NULL;
  co.metadata = (g_caps & STORE_CAP_METADATA) ? md : NULL;
  co.nmetadata = (g_caps & STORE_CAP_METADATA) ? 1 : 0;
  for (size_t i = 0; i < sizeof cp / sizeof cp[0]; i++) {
    const char *what = tprintf(t, "copy to '%s'%s", cp[i].dst,
                               cp[i].replace ? " with new metadata" : "");
    store_put_result r;
    centry h;

    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    rc = xtstore_blob_copy_checked(g_svc, t->c, "copy-src.bin", t->c,
                                   cp[i].dst, cp[i].replace ? &co : NULL,
                                   &r, ERR(t));
    if (rc == STORE_E_UNSUPPORTED && i == 0) {
      conf_note(t, "no blob_copy_checked: the host judges copies by heads");
      return;
    }
    EXPECT_OK(t, rc, "%s", what);
    rc = head_entry(t, t->c, cp[i].dst, NULL, &h);
    EXPECT_OK(t, rc, "head '%s'", cp[i].dst);
    if (r.etag[0]) {
      etags++;
      CHECK(t, h.etag && !strcmp(h.etag, r.etag), "%s: its answer's ETag "
            "is %s, but a head right after reports %s (the host would take "
            "the copy for another writer's object)", what, r.etag,
            h.etag ? h.etag : "none");
    }
    if (r.size != UINT64_MAX) {
      sizes++;
      CHECK(t, r.size == n, "%s: its answer says %llu bytes, the source "
            "has %zu", what, (unsigned long long)r.size, n);
    }
    carried |= r.checksums & (STORE_CKSUM_CRC32C | STORE_CKSUM_MD5);
    if (r.checksums & STORE_CKSUM_CRC32C)
      CHECK(t, r.crc32c == s.crc32c, "%s: its answer's CRC-32C %08x, the "
            "source's bytes have %08x", what, r.crc32c, s.crc32c);
    if (r.checksums & STORE_CKSUM_MD5)
      CHECK(t, !memcmp(r.md5, s.md5, 16), "%s: its answer's MD5 %s, the "
            "source's bytes have %s", what, hex16(t, r.md5), s.md5_hex);
    expect_copied(t, cp[i].dst, p, n, what);
  }
  conf_note(t, "the copies' answers carried: ETag %d of 3, size %d of 3,%s%s%s",
            etags, sizes, carried & STORE_CKSUM_CRC32C ? " CRC-32C" : "",
            carried & STORE_CKSUM_MD5 ? " MD5" : "",
            carried ? "" : " no checksum");
}
