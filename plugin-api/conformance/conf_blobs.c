/*
** conf_blobs.c -- blob put/get/head/delete, names, conditions, ranges,
** metadata, content types and aborts.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

static void expect_head_size(tcase *t, const char *c, const char *k,
                             uint64_t size, const char *what)
{
  centry h;
  int rc = head_entry(t, c, k, NULL, &h);
  EXPECT_OK(t, rc, "%s: head '%s'", what, k);
  CHECK(t, h.size == size, "%s: head '%s' size %llu, expected %llu", what, k,
        (unsigned long long)h.size, (unsigned long long)size);
}

/* on_entry recorder for get: count, copy, and note how many body bytes had
 * arrived before it was called. */
typedef struct onentry {
  clist l;
  membuf *body;
  size_t body_calls_before;
  int32_t ret;
} onentry;

static int32_t onentry_cb(void *ctx, const store_entry *e)
{
  onentry *o = ctx;
  o->body_calls_before = o->body ? o->body->calls : 0;
  clist_add(&o->l, e);
  return o->ret;
}

/* Get c/k into *b with an on_entry recorder *oe that returns ret. */
static int get_recorded(tcase *t, const char *c, const char *k, int32_t ret,
                        onentry *oe, membuf *b)
{
  store_get_opts go;

  memset(oe, 0, sizeof *oe);
  clist_init(&oe->l, t);
  oe->body = b;
  oe->ret = ret;
  memset(&go, 0, sizeof go);
  go.struct_size = sizeof go;
  go.on_entry = onentry_cb;
  go.on_entry_ctx = oe;
  return get_mem(t, c, k, &go, b);
}

CONF_CASE(blobs_small_text)
{
  const char *c = t->c, *k = "notes/hello.txt";
  const char *text = "hello, conformance\n";
  size_t n = strlen(text);
  store_put_result pr;
  int rc = put_mem(t, c, k, text, n, NULL, NULL, 0, 0, &pr);
  EXPECT_OK(t, rc, "put '%s'", k);
  CHECK(t, pr.size == n, "put result size %llu, expected %zu",
        (unsigned long long)pr.size, n);

  expect_body(t, c, k, text, n, "get after put");

  centry h;
  rc = head_entry(t, c, k, NULL, &h);
  EXPECT_OK(t, rc, "head '%s'", k);
  CHECK(t, h.size == n, "head size %llu, expected %zu",
        (unsigned long long)h.size, n);
  CHECK(t, h.name && strcmp(h.name, k) == 0, "head name '%s', expected '%s'",
        h.name ? h.name : "(null)", k);
  CHECK(t, !(h.flags & (STORE_ENTRY_PREFIX | STORE_ENTRY_SNAPSHOT |
                        STORE_ENTRY_CONTAINER)),
        "head flags 0x%x on a plain blob", h.flags);
  CHECK(t, h.snapshot_id == NULL, "head of the current blob has snapshot_id "
                                  "'%s'", h.snapshot_id);
  expect_mtime_sane(t, h.mtime_ns, "head");
  if (pr.etag[0] && h.etag)
    CHECK(t, strcmp(pr.etag, h.etag) == 0,
          "put result etag '%s' differs from head etag '%s'", pr.etag, h.etag);

  int ex = -1;
  rc = xtstore_blob_exists(g_svc, c, k, &ex, ERR(t));
  EXPECT_OK(t, rc, "exists '%s'", k);
  CHECK(t, ex == 1, "exists '%s' gave %d, expected 1", k, ex);

  const char *one[] = {k};
  expect_keys(t, c, one, 1, "listing after put");

  rc = xtstore_blob_delete(g_svc, c, k, NULL, ERR(t));
  EXPECT_OK(t, rc, "delete '%s'", k);
  expect_missing(t, c, k, "after delete");
  expect_keys(t, c, NULL, 0, "listing after delete");
}

CONF_CASE(blobs_zero_length)
{
  const char *c = t->c;
  const char *keys[] = {"empty-known", "dir/empty-unknown"};
  int rc = put_mem(t, c, keys[0], "", 0, NULL, NULL, 0, 0, NULL);
  EXPECT_OK(t, rc, "put 0 bytes, content_length 0");

  memsrc s;
  memsrc_init(&s, "", 0);
  store_put_opts o;
  memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  o.content_length = -1;
  rc = xtstore_blob_put(g_svc, c, keys[1], &o, memsrc_read, &s, memsrc_rewind,
                        NULL, ERR(t));
  EXPECT_OK(t, rc, "put 0 bytes, content_length -1 (unknown)");

  for (int i = 0; i < 2; i++) {
    expect_head_size(t, c, keys[i], 0, "zero-length blob");
    membuf b;
    onentry oe;
    rc = get_recorded(t, c, keys[i], 0, &oe, &b);
    size_t len = b.len, zl = b.zero_len_calls;
    membuf_free(&b);
    EXPECT_OK(t, rc, "get zero-length '%s'", keys[i]);
    CHECK(t, len == 0, "get zero-length '%s' gave %zu bytes", keys[i], len);
    CHECK(t, zl == 0, "get '%s' called the sink with len 0 (%zu times); the "
                      "ABI says len > 0", keys[i], zl);
    CHECK(t, oe.l.n == 1, "get '%s': on_entry called %zu times, expected once",
          keys[i], oe.l.n);
    CHECK(t, oe.l.v[0].size == 0, "get '%s': on_entry size %llu, expected 0",
          keys[i], (unsigned long long)oe.l.v[0].size);
  }

  clist l;
  rc = list_all(t, c, NULL, &l);
  EXPECT_OK(t, rc, "list");
  CHECK(t, l.n == 2, "listing has %s, expected the 2 empty blobs",
        fmt_names(t, &l));
  CHECK(t, strcmp(l.v[0].name, "dir/empty-unknown") == 0 &&
               strcmp(l.v[1].name, "empty-known") == 0,
        "listing is %s, expected [\"dir/empty-unknown\", \"empty-known\"]",
        fmt_names(t, &l));
  for (size_t i = 0; i < l.n; i++)
    CHECK(t, l.v[i].size == 0, "listed '%s' with size %llu, expected 0",
          l.v[i].name, (unsigned long long)l.v[i].size);
}

static const char *const k_special[] = {
  "with space.txt",
  "two  spaces/ leading space",
  "données/ñ/日本.txt",
  "plus+sign.txt",
  "percent%20not-decoded%.txt",
  "hash#fragment.txt",
  "question?mark.txt",
  "query?x=1&y=2",
  "eq=1&amp=2.txt",
  "mix +%#?=&;,@!$'()*~.txt",
};
#define NSPECIAL (sizeof k_special / sizeof k_special[0])

CONF_CASE(blobs_special_keys)
{
  const char *c = t->c;
  for (size_t i = 0; i < NSPECIAL; i++) {
    const char *body = tprintf(t, "body of <%s>", k_special[i]);
    int rc = put_mem(t, c, k_special[i], body, strlen(body), NULL, NULL, 0, 0,
                     NULL);
    EXPECT_OK(t, rc, "put '%s'", k_special[i]);
  }
  expect_keys(t, c, (const char *const *)k_special, NSPECIAL,
              "listing of special-character keys");
  for (size_t i = 0; i < NSPECIAL; i++) {
    const char *body = tprintf(t, "body of <%s>", k_special[i]);
    expect_body(t, c, k_special[i], body, strlen(body),
                tprintf(t, "get '%s'", k_special[i]));
    centry h;
    int rc = head_entry(t, c, k_special[i], NULL, &h);
    EXPECT_OK(t, rc, "head '%s'", k_special[i]);
    CHECK(t, h.size == strlen(body), "head '%s' size %llu, expected %zu",
          k_special[i], (unsigned long long)h.size, strlen(body));
  }
  for (size_t i = 0; i < NSPECIAL; i++) {
    int rc = xtstore_blob_delete(g_svc, c, k_special[i], NULL, ERR(t));
    EXPECT_OK(t, rc, "delete '%s'", k_special[i]);
    expect_missing(t, c, k_special[i], "after delete");
  }
  expect_keys(t, c, NULL, 0, "listing after deleting every special key");
}

CONF_CASE(blobs_overwrite)
{
  const char *c = t->c, *k = "over/write.bin";
  const char *v1 = "the first version, which is longer than the second";
  int rc = put_str(t, c, k, v1);
  EXPECT_OK(t, rc, "put v1");
  rc = put_str(t, c, k, "v2");
  EXPECT_OK(t, rc, "put v2 over v1");
  expect_body(t, c, k, "v2", 2, "get after overwrite");
  expect_head_size(t, c, k, 2, "after overwrite");
  clist l;
  rc = list_all(t, c, NULL, &l);
  EXPECT_OK(t, rc, "list");
  CHECK(t, l.n == 1 && strcmp(l.v[0].name, k) == 0 && l.v[0].size == 2,
        "listing after overwrite is %s (size %llu), expected one '%s' of "
        "size 2", fmt_names(t, &l),
        l.n ? (unsigned long long)l.v[0].size : 0ULL, k);

  /* and back to a longer one */
  rc = put_str(t, c, k, v1);
  EXPECT_OK(t, rc, "put v1 over v2");
  expect_body(t, c, k, v1, strlen(v1), "get after second overwrite");
}

CONF_CASE(blobs_not_found)
{
  const char *c = t->c;
  int rc;
  membuf b;
  onentry oe;
  rc = get_recorded(t, c, "missing.txt", 0, &oe, &b);
  size_t calls = b.calls;
  membuf_free(&b);
  EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "get missing key");
  CHECK(t, calls == 0, "get of a missing key called the sink %zu times",
        calls);
  CHECK(t, oe.l.n == 0, "get of a missing key called on_entry %zu times",
        oe.l.n);
  rc = head_entry(t, c, "missing.txt", NULL, NULL);
  EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "head missing key");
  rc = xtstore_blob_delete(g_svc, c, "missing.txt", NULL, ERR(t));
  EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "delete missing key");
  expect_missing(t, c, "missing.txt", "missing key");

  /* a "directory" is not a blob */
  rc = put_str(t, c, "d/x.txt", "x");
  EXPECT_OK(t, rc, "put 'd/x.txt'");
  /* ("d/" is left out: a store may reject a key ending in '/' as invalid) */
  const char *notblobs[] = {"d", "d/y.txt", "d/x.txt/z"};
  for (size_t i = 0; i < sizeof notblobs / sizeof *notblobs; i++) {
    rc = get_mem(t, c, notblobs[i], NULL, &b);
    calls = b.calls;
    membuf_free(&b);
    EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "get '%s' (only 'd/x.txt' exists)",
              notblobs[i]);
    CHECK(t, calls == 0, "get '%s' called the sink", notblobs[i]);
    rc = head_entry(t, c, notblobs[i], NULL, NULL);
    EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "head '%s' (only 'd/x.txt' exists)",
              notblobs[i]);
    rc = xtstore_blob_delete(g_svc, c, notblobs[i], NULL, ERR(t));
    EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "delete '%s' (only 'd/x.txt' exists)",
              notblobs[i]);
  }
  expect_body(t, c, "d/x.txt", "x", 1, "'d/x.txt' after not-found probes");
  const char *one[] = {"d/x.txt"};
  expect_keys(t, c, one, 1, "listing after not-found probes");
}

CONF_CASE(blobs_missing_container)
{
  const char *c = tprintf(t, "%s-nx", t->c);   /* never created */
  int rc;
  membuf b;

  rc = put_str(t, c, "k.txt", "data");
  EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "put into missing container '%s'", c);
  int ex = -1;
  rc = xtstore_container_exists(g_svc, c, &ex, ERR(t));
  EXPECT_OK(t, rc, "exists '%s'", c);
  if (ex == 1) {
    snprintf(t->extra[t->nextra++], CONF_NAME_MAX, "%s", c);
    FAILF(t, "a put into the missing container '%s' created it", c);
  }
  rc = get_mem(t, c, "k.txt", NULL, &b);
  size_t calls = b.calls;
  membuf_free(&b);
  EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "get from missing container");
  CHECK(t, calls == 0, "get from missing container called the sink");
  rc = head_entry(t, c, "k.txt", NULL, NULL);
  EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "head in missing container");
  rc = xtstore_blob_delete(g_svc, c, "k.txt", NULL, ERR(t));
  EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "delete in missing container");
  clist l;
  rc = list_all(t, c, NULL, &l);
  EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "list missing container");
  CHECK(t, l.n == 0, "listing a missing container called back %zu times",
        l.n);
  /* The host copies within a service only with COPY or THREADSAFE. */
  if (g_caps & (STORE_CAP_COPY | STORE_CAP_THREADSAFE)) {
    rc = xtstore_blob_copy(g_svc, c, "k.txt", g_svc, t->c, "copy.txt", NULL,
                           ERR(t));
    EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "copy from missing container");
    rc = put_str(t, t->c, "src.txt", "src");
    EXPECT_OK(t, rc, "put 'src.txt'");
    rc = xtstore_blob_copy(g_svc, t->c, "src.txt", g_svc, c, "dst.txt", NULL,
                           ERR(t));
    EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "copy into missing container");
  }
  if (g_caps & STORE_CAP_METADATA) {
    static const store_kv md[] = {{"a", "1"}};
    rc = xtstore_blob_set_metadata(g_svc, c, "k.txt", md, 1, ERR(t));
    EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "set_metadata in missing container");
  }
  if (g_caps & STORE_CAP_APPEND) {
    memsrc s;
    memsrc_init(&s, "abc", 3);
    rc = xtstore_blob_append(g_svc, c, "k.txt", NULL, memsrc_read, &s, ERR(t));
    EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "append in missing container");
  }
  rc = xtstore_container_exists(g_svc, c, &ex, ERR(t));
  EXPECT_OK(t, rc, "exists '%s'", c);
  if (ex == 1) {
    snprintf(t->extra[t->nextra++], CONF_NAME_MAX, "%s", c);
    FAILF(t, "an operation on the missing container '%s' created it", c);
  }
}

CONF_CASE(blobs_content_type)
{
  const char *c = t->c, *k = "typed.dat";
  const char *ct = "application/x-xtstore-conformance";
  int rc = put_mem(t, c, k, "typed", 5, ct, NULL, 0, 0, NULL);
  EXPECT_OK(t, rc, "put with content type");
  centry h;
  rc = head_entry(t, c, k, NULL, &h);
  EXPECT_OK(t, rc, "head '%s'", k);
  CHECK(t, h.content_type && strcmp(h.content_type, ct) == 0,
        "head content type '%s', expected '%s'",
        h.content_type ? h.content_type : "(null)", ct);

  membuf b;
  onentry oe;
  rc = get_recorded(t, c, k, 0, &oe, &b);
  membuf_free(&b);
  EXPECT_OK(t, rc, "get '%s'", k);
  CHECK(t, oe.l.n == 1, "get on_entry called %zu times, expected once",
        oe.l.n);
  CHECK(t, oe.l.v[0].content_type && strcmp(oe.l.v[0].content_type, ct) == 0,
        "get on_entry content type '%s', expected '%s'",
        oe.l.v[0].content_type ? oe.l.v[0].content_type : "(null)", ct);

  /* overwriting with another type replaces it */
  rc = put_mem(t, c, k, "{}", 2, "application/json", NULL, 0, 0, NULL);
  EXPECT_OK(t, rc, "put with a new content type");
  rc = head_entry(t, c, k, NULL, &h);
  EXPECT_OK(t, rc, "head '%s'", k);
  CHECK(t, h.content_type && strcmp(h.content_type, "application/json") == 0,
        "head content type after overwrite '%s', expected 'application/json'",
        h.content_type ? h.content_type : "(null)");
}

CONF_CASE(blobs_metadata)
{
  static const store_kv md[] = {
    {"owner", "conformance"}, {"color", "blue-green"}, {"n", "42"}};
  const char *c = t->c, *k = "meta/data.txt";
  int rc = put_mem(t, c, k, "with metadata", 13, NULL, md, 3, 0, NULL);
  EXPECT_OK(t, rc, "put with metadata");

  centry h;
  rc = head_entry(t, c, k, NULL, &h);
  EXPECT_OK(t, rc, "head '%s'", k);
  expect_md(t, md, 3, h.md, h.nmd, "head after put with metadata");

  membuf b;
  onentry oe;
  rc = get_recorded(t, c, k, 0, &oe, &b);
  int body_ok = b.len == 13 && memcmp(b.p, "with metadata", 13) == 0;
  membuf_free(&b);
  EXPECT_OK(t, rc, "get '%s' with on_entry", k);
  CHECK(t, body_ok, "get with on_entry: wrong body");
  CHECK(t, oe.l.n == 1, "get on_entry called %zu times, expected once",
        oe.l.n);
  CHECK(t, oe.body_calls_before == 0,
        "get on_entry was called after %zu body chunks, expected before the "
        "first byte", oe.body_calls_before);
  CHECK(t, oe.l.v[0].size == 13, "get on_entry size %llu, expected 13",
        (unsigned long long)oe.l.v[0].size);
  expect_md(t, md, 3, oe.l.v[0].md, oe.l.v[0].nmd, "get on_entry metadata");

  /* a put without metadata over it drops the metadata */
  rc = put_str(t, c, k, "plain");
  EXPECT_OK(t, rc, "put without metadata over '%s'", k);
  rc = head_entry(t, c, k, NULL, &h);
  EXPECT_OK(t, rc, "head '%s'", k);
  expect_md(t, NULL, 0, h.md, h.nmd, "head after overwrite without metadata");
}

CONF_CASE(blobs_set_metadata)
{
  static const store_kv md1[] = {{"a", "1"}, {"b", "2"}};
  static const store_kv md2[] = {{"c", "3"}};
  const char *c = t->c, *k = "setmeta.txt";
  const char *ct = (g_caps & STORE_CAP_CONTENT_TYPE) ? "text/x-conformance"
                                                      : NULL;
  int rc = put_mem(t, c, k, "body stays", 10, ct, md1, 2, 0, NULL);
  EXPECT_OK(t, rc, "put with metadata");
  rc = xtstore_blob_set_metadata(g_svc, c, k, md2, 1, ERR(t));
  EXPECT_OK(t, rc, "set_metadata '%s'", k);
  centry h;
  rc = head_entry(t, c, k, NULL, &h);
  EXPECT_OK(t, rc, "head '%s'", k);
  expect_md(t, md2, 1, h.md, h.nmd, "after set_metadata (must replace all)");
  CHECK(t, h.size == 10, "set_metadata changed the size to %llu",
        (unsigned long long)h.size);
  if (ct)
    CHECK(t, h.content_type && strcmp(h.content_type, ct) == 0,
          "set_metadata changed the content type to '%s', expected '%s'",
          h.content_type ? h.content_type : "(null)", ct);
  expect_body(t, c, k, "body stays", 10, "body after set_metadata");

  rc = xtstore_blob_set_metadata(g_svc, c, k, NULL, 0, ERR(t));
  EXPECT_OK(t, rc, "set_metadata '%s' to none", k);
  rc = head_entry(t, c, k, NULL, &h);
  EXPECT_OK(t, rc, "head '%s'", k);
  expect_md(t, NULL, 0, h.md, h.nmd, "after set_metadata to none");

  rc = xtstore_blob_set_metadata(g_svc, c, "missing.txt", md2, 1, ERR(t));
  EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "set_metadata on a missing key");
  expect_missing(t, c, "missing.txt", "set_metadata on a missing key");
}

CONF_CASE(blobs_if_none_match)
{
  const char *c = t->c, *k = "once.txt";
  int rc = put_mem(t, c, k, "v1", 2, NULL, NULL, 0, STORE_PUT_IF_NONE_MATCH,
                   NULL);
  EXPECT_OK(t, rc, "put with STORE_PUT_IF_NONE_MATCH on a missing key");
  rc = put_mem(t, c, k, "version two", 11, NULL, NULL, 0,
               STORE_PUT_IF_NONE_MATCH, NULL);
  EXPECT_RC(t, rc, STORE_E_EXISTS,
            "put with STORE_PUT_IF_NONE_MATCH on an existing key");
  expect_body(t, c, k, "v1", 2, "content after a refused fail-if-exists put");
  expect_head_size(t, c, k, 2, "after a refused fail-if-exists put");
  const char *one[] = {k};
  expect_keys(t, c, one, 1, "listing after a refused fail-if-exists put");
}

CONF_CASE(blobs_if_match)
{
  const char *c = t->c, *k = "etagged.txt";
  store_put_result pr;
  int rc = put_mem(t, c, k, "v1", 2, NULL, NULL, 0, 0, &pr);
  EXPECT_OK(t, rc, "put v1");
  centry h;
  rc = head_entry(t, c, k, NULL, &h);
  EXPECT_OK(t, rc, "head");
  const char *etag1 = pr.etag[0] ? tstrdup(t, pr.etag) : h.etag;
  if (!etag1 || !*etag1)
    conf_skip(t, "the service reports no etag (put result and head), so "
                 "if_match cannot be exercised");

  store_put_opts po;
  memsrc s;
  memset(&po, 0, sizeof po);
  po.struct_size = sizeof po;
  po.content_length = 2;
  po.if_match = etag1;
  memsrc_init(&s, "v2", 2);
  rc = xtstore_blob_put(g_svc, c, k, &po, memsrc_read, &s, memsrc_rewind, NULL,
                        ERR(t));
  EXPECT_OK(t, rc, "put v2 with if_match = current etag %s", etag1);
  expect_body(t, c, k, "v2", 2, "after conditional put");

  /* etag1 is stale now */
  po.content_length = 2;
  memsrc_init(&s, "v3", 2);
  rc = xtstore_blob_put(g_svc, c, k, &po, memsrc_read, &s, memsrc_rewind, NULL,
                        ERR(t));
  EXPECT_RC(t, rc, STORE_E_PRECONDITION, "put with a stale if_match %s",
            etag1);
  expect_body(t, c, k, "v2", 2, "after refused conditional put");

  membuf b;
  store_get_opts go;
  memset(&go, 0, sizeof go);
  go.struct_size = sizeof go;
  go.if_match = etag1;
  rc = get_mem(t, c, k, &go, &b);
  size_t calls = b.calls;
  membuf_free(&b);
  EXPECT_RC(t, rc, STORE_E_PRECONDITION, "get with a stale if_match %s",
            etag1);
  CHECK(t, calls == 0, "get with a stale if_match called the sink");

  rc = head_entry(t, c, k, NULL, &h);
  EXPECT_OK(t, rc, "head");
  CHECK(t, h.etag && *h.etag, "head after an overwrite reports no etag");
  go.if_match = h.etag;
  rc = get_mem(t, c, k, &go, &b);
  int ok = b.len == 2 && memcmp(b.p, "v2", 2) == 0;
  membuf_free(&b);
  EXPECT_OK(t, rc, "get with if_match = current etag %s", h.etag);
  CHECK(t, ok, "get with if_match: wrong body");

  po.if_match = "\"xtstore-conformance-no-such-etag\"";
  memsrc_init(&s, "v4", 2);
  rc = xtstore_blob_put(g_svc, c, "absent.txt", &po, memsrc_read, &s,
                        memsrc_rewind, NULL, ERR(t));
  CHECK(t, rc == STORE_E_PRECONDITION || rc == STORE_E_NOT_FOUND,
        "put with if_match on a missing key: expected STORE_E_PRECONDITION "
        "or STORE_E_NOT_FOUND, got %s (%s)", code_name(rc), t->err.message);
  expect_missing(t, c, "absent.txt", "after if_match put on a missing key");
}

/* STORE_CAP_DELETE_IF_MATCH: a delete pinned to an ETag that is no longer
 * the blob's (another writer replaced it) leaves the blob as it is; one
 * pinned to its current ETag (as the put reported it) deletes it. */
CONF_CASE(blobs_delete_if_match)
{
  const char *c = t->c, *k = "pinned.txt";
  const char *v2 = "the second writer's bytes";
  store_put_result pr;
  store_delete_opts dop;
  centry h;
  int rc = put_mem(t, c, k, "v1", 2, NULL, NULL, 0, 0, &pr);
  EXPECT_OK(t, rc, "put v1");
  rc = head_entry(t, c, k, NULL, &h);
  EXPECT_OK(t, rc, "head v1");
  const char *etag1 = pr.etag[0] ? tstrdup(t, pr.etag) : h.etag;
  CHECK(t, etag1 && *etag1, "STORE_CAP_DELETE_IF_MATCH declared, but the "
                            "service reports no etag (put result and head)");
  rc = put_mem(t, c, k, v2, strlen(v2), NULL, NULL, 0, 0, &pr);
  EXPECT_OK(t, rc, "put v2 over v1");
  rc = head_entry(t, c, k, NULL, &h);
  EXPECT_OK(t, rc, "head v2");
  const char *etag2 = pr.etag[0] ? tstrdup(t, pr.etag) : h.etag;
  CHECK(t, etag2 && *etag2 && strcmp(etag1, etag2),
        "v1 and v2 report the same etag '%s'", etag2 ? etag2 : "(null)");

  /* v1 may be kept as a snapshot (a version): it goes with the blob. */
  memset(&dop, 0, sizeof dop);
  dop.struct_size = sizeof dop;
  dop.flags = STORE_DELETE_SNAPSHOTS;
  dop.if_match = etag1;
  rc = xtstore_blob_delete(g_svc, c, k, &dop, ERR(t));
  EXPECT_RC(t, rc, STORE_E_PRECONDITION, "delete with if_match = v1's etag "
                                         "%s, v2 stored", etag1);
  expect_body(t, c, k, v2, strlen(v2), "after a refused conditional delete");
  dop.if_match = "\"xtstore-conformance-no-such-etag\"";
  rc = xtstore_blob_delete(g_svc, c, k, &dop, ERR(t));
  EXPECT_RC(t, rc, STORE_E_PRECONDITION, "delete with if_match = %s",
            dop.if_match);
  expect_body(t, c, k, v2, strlen(v2), "after a refused conditional delete");

  dop.if_match = etag2;
  rc = xtstore_blob_delete(g_svc, c, k, &dop, ERR(t));
  EXPECT_OK(t, rc, "delete with if_match = the current etag %s", etag2);
  expect_missing(t, c, k, "after a conditional delete");
}

CONF_CASE(blobs_range_get)
{
  const char *c = t->c, *k = "range.bin";
  enum { N = 1000 };
  unsigned char data[N];
  gen_fill(7, 0, data, N);
  int rc = put_mem(t, c, k, data, N, NULL, NULL, 0, 0, NULL);
  EXPECT_OK(t, rc, "put %d bytes", N);
  static const struct {
    uint64_t off, len, want_len;
  } r[] = {
    {100, 50, 50}, {0, 1, 1}, {999, 1, 1}, {900, 0, 100}, {0, 0, N},
    {1, 998, 998}, {0, N, N}, {500, 500, 500},
  };
  for (size_t i = 0; i < sizeof r / sizeof *r; i++) {
    store_get_opts go;
    memset(&go, 0, sizeof go);
    go.struct_size = sizeof go;
    go.flags = STORE_GET_RANGE;
    go.offset = r[i].off;
    go.length = r[i].len;
    membuf b;
    rc = get_mem(t, c, k, &go, &b);
    size_t len = b.len;
    int same = len == r[i].want_len &&
               memcmp(b.p, data + r[i].off, (size_t)r[i].want_len) == 0;
    membuf_free(&b);
    EXPECT_OK(t, rc, "range get offset %llu length %llu",
              (unsigned long long)r[i].off, (unsigned long long)r[i].len);
    CHECK(t, len == r[i].want_len,
          "range get offset %llu length %llu gave %zu bytes, expected %llu",
          (unsigned long long)r[i].off, (unsigned long long)r[i].len, len,
          (unsigned long long)r[i].want_len);
    CHECK(t, same, "range get offset %llu length %llu: wrong bytes",
          (unsigned long long)r[i].off, (unsigned long long)r[i].len);
  }
}

CONF_CASE(blobs_unknown_length)
{
  const char *c = t->c, *k = "stream/unknown-length.bin";
  size_t n = 3 * 1024 * 1024 + 123;
  unsigned char *data = talloc(t, n);
  gen_fill(11, 0, data, n);
  memsrc s;
  memsrc_init(&s, data, n);
  s.chunk = 7777;   /* odd, small reads */
  store_put_opts o;
  memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  o.content_length = -1;
  store_put_result pr;
  memset(&pr, 0, sizeof pr);
  pr.struct_size = sizeof pr;
  int rc = xtstore_blob_put(g_svc, c, k, &o, memsrc_read, &s, memsrc_rewind,
                            &pr, ERR(t));
  EXPECT_OK(t, rc, "put %zu bytes with content_length -1", n);
  CHECK(t, pr.size == n, "put result size %llu, expected %zu",
        (unsigned long long)pr.size, n);
  expect_head_size(t, c, k, n, "unknown-length put");
  expect_body(t, c, k, data, n, "unknown-length put");
}

static void put_abort_one(tcase *t, const char *k, int64_t declared,
                          const unsigned char *data, size_t n, size_t at)
{
  memsrc s;
  memsrc_init(&s, data, n);
  s.chunk = 64 * 1024;
  s.abort_at = at;
  store_put_opts o;
  memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  o.content_length = declared;
  int rc = xtstore_blob_put(g_svc, t->c, k, &o, memsrc_read, &s, memsrc_rewind,
                            NULL, ERR(t));
  EXPECT_RC(t, rc, STORE_E_ABORTED,
            "put '%s' (content_length %lld) whose source aborts at byte %zu",
            k, (long long)declared, at);
  CHECK(t, s.aborted, "put '%s' returned before the source aborted", k);
  CHECK(t, s.after_abort == 0,
        "put '%s': the source was called %zu more time(s) after it aborted",
        k, s.after_abort);
}

CONF_CASE(blobs_put_abort)
{
  const char *c = t->c;
  size_t n = 1024 * 1024;
  unsigned char *data = talloc(t, n);
  gen_fill(3, 0, data, n);

  put_abort_one(t, "new-known.bin", (int64_t)n, data, n, n / 2);
  expect_missing(t, c, "new-known.bin", "after aborted put (known length)");
  put_abort_one(t, "dir/new-unknown.bin", -1, data, n, n / 2);
  expect_missing(t, c, "dir/new-unknown.bin",
                 "after aborted put (unknown length)");
  put_abort_one(t, "first-call.bin", (int64_t)n, data, n, 0);
  expect_missing(t, c, "first-call.bin", "after put aborted on first read");
  expect_keys(t, c, NULL, 0, "listing after aborted puts (no partial or "
                             "temporary objects)");

  const char *orig = "the original content";
  int rc = put_str(t, c, "existing.txt", orig);
  EXPECT_OK(t, rc, "put 'existing.txt'");
  put_abort_one(t, "existing.txt", (int64_t)n, data, n, n / 2);
  expect_body(t, c, "existing.txt", orig, strlen(orig),
              "existing blob after an aborted overwrite (known length)");
  put_abort_one(t, "existing.txt", -1, data, n, n / 2);
  expect_body(t, c, "existing.txt", orig, strlen(orig),
              "existing blob after an aborted overwrite (unknown length)");
  const char *one[] = {"existing.txt"};
  expect_keys(t, c, one, 1, "listing after aborted overwrites");
}

CONF_CASE(blobs_get_abort)
{
  const char *c = t->c, *k = "abort-get.bin";
  size_t n = 3 * 1024 * 1024;
  unsigned char *data = talloc(t, n);
  gen_fill(5, 0, data, n);
  int rc = put_mem(t, c, k, data, n, NULL, NULL, 0, 0, NULL);
  EXPECT_OK(t, rc, "put %zu bytes", n);

  membuf b;
  memset(&b, 0, sizeof b);
  b.abort_on_call = 1;
  rc = xtstore_blob_get(g_svc, c, k, NULL, membuf_write, &b, ERR(t));
  size_t calls = b.calls;
  membuf_free(&b);
  EXPECT_RC(t, rc, STORE_E_ABORTED, "get whose sink aborts on its first call");
  CHECK(t, calls == 1, "the sink was called %zu times; after it returned "
                       "non-zero it must not be called again", calls);

  /* on_entry aborting stops the get before any byte */
  onentry oe;
  rc = get_recorded(t, c, k, 1, &oe, &b);
  calls = b.calls;
  membuf_free(&b);
  EXPECT_RC(t, rc, STORE_E_ABORTED, "get whose on_entry returns non-zero");
  CHECK(t, oe.l.n == 1, "on_entry called %zu times, expected once", oe.l.n);
  CHECK(t, calls == 0, "the sink was called %zu times after on_entry aborted",
        calls);

  /* the blob is intact and a normal get still works */
  expect_body(t, c, k, data, n, "after aborted gets");
}

/* Many deletes at once (the provider's blob_delete_batch where it has one,
 * else one by one): every key reported exactly once, OK, and gone. */
struct many_seen {
  unsigned calls[8];
  unsigned bad;
  char first[STORE_ERR_MSG_SIZE];   /* the first failure's message */
};

static int32_t many_seen(void *ud, size_t index, int32_t code,
                         const store_error *err)
{
  struct many_seen *m = ud;
  if (code != STORE_OK && !m->first[0])
    snprintf(m->first, sizeof m->first, "%s", err ? err->message : "?");
  if (index >= 8 || code != STORE_OK)
    m->bad++;
  else
    m->calls[index]++;
  return 0;
}

CONF_CASE(blobs_delete_many)
{
  const char *c = t->c;
  /* No "/" in the keys: moto cannot list versions under such a prefix. */
  const char *keys[6] = {"many-a.txt", "many-b c.txt", "many-d.e.txt",
                         "many-f_g.txt", "many-h.txt", "many-i.txt"};
  struct many_seen m;
  int rc;

  for (size_t i = 0; i < 6; i++) {
    rc = put_str(t, c, keys[i], "x");
    EXPECT_OK(t, rc, "put '%s'", keys[i]);
  }
  memset(&m, 0, sizeof m);
  rc = xtstore_blob_delete_many(g_svc, c, keys, 6, many_seen, &m, ERR(t));
  EXPECT_OK(t, rc, "delete 6 blobs at once");
  CHECK(t, m.bad == 0, "%u keys reported with a failure or a bad index "
        "(first: %s)", m.bad, m.first);
  for (size_t i = 0; i < 6; i++) {
    CHECK(t, m.calls[i] == 1, "key '%s' reported %u times (want once)",
          keys[i], m.calls[i]);
    expect_missing(t, c, keys[i], "after delete_many");
  }
}
