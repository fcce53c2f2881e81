/*
** conf_features.c -- optional features: append, snapshots, copy.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

/* ------------------------------------------------------------------------ */
/* append                                                                   */
/* ------------------------------------------------------------------------ */
static int append_mem(tcase *t, const char *k, const void *p, size_t n,
                      int64_t declared, const char *ctype)
{
  memsrc s;
  memsrc_init(&s, p, n);
  s.chunk = 4096;
  store_append_opts o;
  memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  o.content_length = declared;
  o.content_type = ctype;
  return xtstore_blob_append(g_svc, t->c, k, &o, memsrc_read, &s, ERR(t));
}

CONF_CASE(append_basic)
{
  const char *k = "logs/app.log";
  const char *ct = (g_caps & STORE_CAP_CONTENT_TYPE) ? "text/x-log" : NULL;
  int rc = append_mem(t, k, "hello ", 6, 6, ct);
  EXPECT_OK(t, rc, "append to missing '%s' (must create it)", k);
  expect_body(t, t->c, k, "hello ", 6, "after the first append");

  rc = append_mem(t, k, "world", 5, -1, "application/x-ignored");
  EXPECT_OK(t, rc, "second append (content_length -1)");
  expect_body(t, t->c, k, "hello world", 11, "after the second append");

  size_t big = 100 * 1024 + 7;
  unsigned char *all = talloc(t, 11 + big);
  memcpy(all, "hello world", 11);
  gen_fill(21, 0, all + 11, big);
  rc = append_mem(t, k, all + 11, big, (int64_t)big, NULL);
  EXPECT_OK(t, rc, "third append of %zu bytes", big);
  expect_body(t, t->c, k, all, 11 + big, "after the third append");

  centry h;
  rc = head_entry(t, t->c, k, NULL, &h);
  EXPECT_OK(t, rc, "head '%s'", k);
  CHECK(t, h.size == 11 + big, "head size %llu after appends, expected %zu",
        (unsigned long long)h.size, 11 + big);
  if (ct)
    CHECK(t, h.content_type && strcmp(h.content_type, ct) == 0,
          "content type '%s' after appends, expected '%s' (set when the "
          "append created the blob)",
          h.content_type ? h.content_type : "(null)", ct);
  const char *one[] = {k};
  expect_keys(t, t->c, one, 1, "listing after appends");
}

/* ------------------------------------------------------------------------ */
/* snapshots                                                                */
/* ------------------------------------------------------------------------ */
static const char *take_snapshot(tcase *t, const char *k)
{
  char id[STORE_ID_SIZE];
  memset(id, 0x7f, sizeof id);
  int rc = xtstore_blob_snapshot(g_svc, t->c, k, id, sizeof id, ERR(t));
  EXPECT_OK(t, rc, "snapshot '%s'", k);
  CHECK(t, memchr(id, 0, sizeof id) != NULL,
        "snapshot id of '%s' is not NUL-terminated", k);
  CHECK(t, id[0] != 0, "snapshot of '%s' returned an empty id", k);
  return tstrdup(t, id);
}

static int get_snapshot(tcase *t, const char *k, const char *id, membuf *b)
{
  store_get_opts go;
  memset(&go, 0, sizeof go);
  go.struct_size = sizeof go;
  go.snapshot_id = id;
  return get_mem(t, t->c, k, &go, b);
}

static void expect_snapshot_body(tcase *t, const char *k, const char *id,
                                 const char *want, const char *what)
{
  membuf b;
  int rc = get_snapshot(t, k, id, &b);
  size_t len = b.len;
  int same = len == strlen(want) && memcmp(b.p, want, len) == 0;
  char got[64] = "";
  if (!same)
    snprintf(got, sizeof got, "%.*s", (int)(len < 60 ? len : 60),
             b.p ? (const char *)b.p : "");
  membuf_free(&b);
  EXPECT_OK(t, rc, "%s: get '%s' snapshot '%s'", what, k, id);
  CHECK(t, same, "%s: snapshot '%s' of '%s' reads \"%s\" (%zu bytes), "
                 "expected \"%s\"", what, id, k, got, len, want);
}

static void delete_opts(store_delete_opts *o, uint32_t flags, const char *id)
{
  memset(o, 0, sizeof *o);
  o->struct_size = sizeof *o;
  o->flags = flags;
  o->snapshot_id = id;
}

/* The recursive listing of the case's container, snapshots included. */
static void list_with_snapshots(tcase *t, clist *l)
{
  store_list_opts lo;
  memset(&lo, 0, sizeof lo);
  lo.struct_size = sizeof lo;
  lo.flags = STORE_LIST_SNAPSHOTS;
  int rc = list_all(t, t->c, &lo, l);
  EXPECT_OK(t, rc, "list with STORE_LIST_SNAPSHOTS");
}

CONF_CASE(snapshot_basic)
{
  const char *k = "snap/data.txt";
  const char *v1 = "version one", *v2 = "the second version, longer";
  int rc = put_str(t, t->c, k, v1);
  EXPECT_OK(t, rc, "put v1");
  const char *id = take_snapshot(t, k);
  rc = put_str(t, t->c, k, v2);
  EXPECT_OK(t, rc, "put v2 over the snapshotted blob");

  expect_body(t, t->c, k, v2, strlen(v2), "current after overwrite");
  expect_snapshot_body(t, k, id, v1, "snapshot after overwrite");

  centry h;
  rc = head_entry(t, t->c, k, id, &h);
  EXPECT_OK(t, rc, "head '%s' snapshot '%s'", k, id);
  CHECK(t, h.size == strlen(v1), "head of snapshot: size %llu, expected %zu",
        (unsigned long long)h.size, strlen(v1));
  rc = head_entry(t, t->c, k, NULL, &h);
  EXPECT_OK(t, rc, "head '%s'", k);
  CHECK(t, h.size == strlen(v2), "head of current: size %llu, expected %zu",
        (unsigned long long)h.size, strlen(v2));

  /* listing with and without snapshots */
  clist l;
  list_with_snapshots(t, &l);
  size_t nsnap = 0, nbase = 0;
  for (size_t i = 0; i < l.n; i++) {
    const centry *e = &l.v[i];
    CHECK(t, strcmp(e->name, k) == 0, "listing with snapshots shows '%s'; "
                                      "only '%s' exists", e->name, k);
    if (e->flags & STORE_ENTRY_SNAPSHOT) {
      nsnap++;
      CHECK(t, e->snapshot_id && strcmp(e->snapshot_id, id) == 0,
            "listed snapshot id '%s', expected '%s'",
            e->snapshot_id ? e->snapshot_id : "(null)", id);
      CHECK(t, e->size == strlen(v1), "listed snapshot size %llu, expected "
                                      "%zu", (unsigned long long)e->size,
            strlen(v1));
    } else {
      nbase++;
      CHECK(t, e->size == strlen(v2), "listed base size %llu, expected %zu",
            (unsigned long long)e->size, strlen(v2));
    }
  }
  CHECK(t, nsnap == 1 && nbase == 1,
        "listing with STORE_LIST_SNAPSHOTS has %zu snapshot and %zu base "
        "entries (%s), expected 1 and 1", nsnap, nbase, fmt_names(t, &l));
  const char *one[] = {k};
  expect_keys(t, t->c, one, 1, "listing without STORE_LIST_SNAPSHOTS");

  /* copy from the snapshot restores v1 */
  store_copy_opts co;
  memset(&co, 0, sizeof co);
  co.struct_size = sizeof co;
  co.src_snapshot_id = id;
  rc = xtstore_blob_copy(g_svc, t->c, k, g_svc, t->c, "snap/restored.txt", &co,
                         ERR(t));
  EXPECT_OK(t, rc, "copy from snapshot '%s'", id);
  expect_body(t, t->c, "snap/restored.txt", v1, strlen(v1),
              "copy of the snapshot");
  rc = xtstore_blob_delete(g_svc, t->c, "snap/restored.txt", NULL, ERR(t));
  EXPECT_OK(t, rc, "delete 'snap/restored.txt'");

  /* a second snapshot has another id */
  const char *id2 = take_snapshot(t, k);
  CHECK(t, strcmp(id, id2) != 0, "two snapshots got the same id '%s'", id);
  expect_snapshot_body(t, k, id2, v2, "second snapshot");

  /* delete only the first snapshot */
  store_delete_opts dop;
  delete_opts(&dop, 0, id);
  rc = xtstore_blob_delete(g_svc, t->c, k, &dop, ERR(t));
  EXPECT_OK(t, rc, "delete snapshot '%s' only", id);
  expect_body(t, t->c, k, v2, strlen(v2), "current after deleting a snapshot");
  membuf b;
  rc = get_snapshot(t, k, id, &b);
  size_t calls = b.calls;
  membuf_free(&b);
  EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "get deleted snapshot '%s'", id);
  CHECK(t, calls == 0, "get of a deleted snapshot called the sink");
  rc = head_entry(t, t->c, k, id, NULL);
  EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "head deleted snapshot '%s'", id);
  expect_snapshot_body(t, k, id2, v2, "the other snapshot after deleting one");
  rc = xtstore_blob_delete(g_svc, t->c, k, &dop, ERR(t));
  EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "delete snapshot '%s' a second time",
            id);

  list_with_snapshots(t, &l);
  nsnap = 0;
  for (size_t i = 0; i < l.n; i++)
    if (l.v[i].flags & STORE_ENTRY_SNAPSHOT) {
      nsnap++;
      CHECK(t, l.v[i].snapshot_id && strcmp(l.v[i].snapshot_id, id2) == 0,
            "after deleting snapshot '%s' the listing shows snapshot '%s'",
            id, l.v[i].snapshot_id ? l.v[i].snapshot_id : "(null)");
    }
  CHECK(t, nsnap == 1 && l.n == 2, "listing after deleting one snapshot: %s, "
                                   "expected the base and one snapshot",
        fmt_names(t, &l));

  char sid[STORE_ID_SIZE];
  rc = xtstore_blob_snapshot(g_svc, t->c, "missing.txt", sid, sizeof sid,
                             ERR(t));
  EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "snapshot of a missing key");
}

CONF_CASE(snapshot_delete_base)
{
  const char *k = "base.txt", *v1 = "base content";
  int rc = put_str(t, t->c, k, v1);
  EXPECT_OK(t, rc, "put '%s'", k);
  const char *id = take_snapshot(t, k);

  rc = xtstore_blob_delete(g_svc, t->c, k, NULL, ERR(t));
  EXPECT_RC(t, rc, STORE_E_NOT_EMPTY, "delete a blob that has snapshots, "
                                      "without STORE_DELETE_SNAPSHOTS");
  expect_body(t, t->c, k, v1, strlen(v1), "base after a refused delete");
  expect_snapshot_body(t, k, id, v1, "snapshot after a refused delete");

  store_delete_opts dop;
  delete_opts(&dop, STORE_DELETE_SNAPSHOTS, NULL);
  rc = xtstore_blob_delete(g_svc, t->c, k, &dop, ERR(t));
  EXPECT_OK(t, rc, "delete with STORE_DELETE_SNAPSHOTS");
  expect_missing(t, t->c, k, "base after delete with snapshots");
  membuf b;
  rc = get_snapshot(t, k, id, &b);
  membuf_free(&b);
  EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "get snapshot '%s' after deleting the "
                                      "base with STORE_DELETE_SNAPSHOTS", id);
  clist l;
  list_with_snapshots(t, &l);
  CHECK(t, l.n == 0, "listing with snapshots after deleting all: %s",
        fmt_names(t, &l));

  /* a blob without snapshots deletes without the flag, and with it */
  rc = put_str(t, t->c, "plain.txt", "p");
  EXPECT_OK(t, rc, "put 'plain.txt'");
  rc = xtstore_blob_delete(g_svc, t->c, "plain.txt", &dop, ERR(t));
  EXPECT_OK(t, rc, "delete a blob without snapshots with "
                   "STORE_DELETE_SNAPSHOTS");
  expect_missing(t, t->c, "plain.txt", "after delete");
}

/* The snapshot of a blob that was not overwritten since: deleting it by
 * id deletes only the snapshot (ABI: "leave the base blob alone"), even
 * where the store keeps the snapshot as the blob's current version. */
CONF_CASE(snapshot_of_current_deleted)
{
  static const store_kv md[] = {{"owner", "alice"}, {"rev", "1"}};
  int has_md = (g_caps & STORE_CAP_METADATA) != 0;
  const char *ct = (g_caps & STORE_CAP_CONTENT_TYPE) ? "text/x-snap" : NULL;
  const char *k = "doc.txt", *v1 = "version one, never overwritten";
  int rc = put_mem(t, t->c, k, v1, strlen(v1), ct, has_md ? md : NULL,
                   has_md ? 2 : 0, 0, NULL);
  EXPECT_OK(t, rc, "put v1");
  const char *id = take_snapshot(t, k);

  store_delete_opts dop;
  delete_opts(&dop, 0, id);
  rc = xtstore_blob_delete(g_svc, t->c, k, &dop, ERR(t));
  EXPECT_OK(t, rc, "delete snapshot '%s' (taken of the current blob) only",
            id);
  expect_body(t, t->c, k, v1, strlen(v1), "the blob after deleting its "
                                          "snapshot");
  centry h;
  rc = head_entry(t, t->c, k, NULL, &h);
  EXPECT_OK(t, rc, "head '%s' after deleting its snapshot", k);
  CHECK(t, h.size == strlen(v1), "head after deleting the snapshot: size "
                                 "%llu, expected %zu",
        (unsigned long long)h.size, strlen(v1));
  if (has_md)
    expect_md(t, md, 2, h.md, h.nmd, "metadata after deleting the snapshot");
  if (ct)
    CHECK(t, h.content_type && strcmp(h.content_type, ct) == 0,
          "content type '%s' after deleting the snapshot, expected '%s'",
          h.content_type ? h.content_type : "(null)", ct);

  membuf b;
  rc = get_snapshot(t, k, id, &b);
  size_t calls = b.calls;
  membuf_free(&b);
  EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "get deleted snapshot '%s'", id);
  CHECK(t, calls == 0, "get of a deleted snapshot called the sink");
  rc = head_entry(t, t->c, k, id, NULL);
  EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "head deleted snapshot '%s'", id);

  /* the blob alone, no snapshot left: a plain delete needs no flag */
  clist l;
  list_with_snapshots(t, &l);
  CHECK(t, l.n == 1 && !(l.v[0].flags & STORE_ENTRY_SNAPSHOT) &&
             strcmp(l.v[0].name, k) == 0,
        "listing with snapshots after deleting the only snapshot: %s, "
        "expected the blob alone", fmt_names(t, &l));
  rc = xtstore_blob_delete(g_svc, t->c, k, NULL, ERR(t));
  EXPECT_OK(t, rc, "delete '%s' (no snapshot left)", k);
  expect_missing(t, t->c, k, "after deleting the blob");
}

/* ------------------------------------------------------------------------ */
/* copy                                                                     */
/* ------------------------------------------------------------------------ */
static void copy_note(tcase *t)
{
  conf_note(t, "copy is %s", (g_caps & STORE_CAP_COPY)
                               ? "server-side (STORE_CAP_COPY)"
                               : "streamed by the host (no STORE_CAP_COPY)");
}

CONF_CASE(copy_same_service)
{
  static const store_kv md[] = {{"origin", "src"}, {"rev", "7"}};
  int has_md = (g_caps & STORE_CAP_METADATA) != 0;
  const char *ct = (g_caps & STORE_CAP_CONTENT_TYPE) ? "text/x-copy" : NULL;
  copy_note(t);
  size_t n = 3 * 1024 * 1024 + 17;
  unsigned char *data = talloc(t, n);
  gen_fill(31, 0, data, n);
  int rc = put_mem(t, t->c, "src/obj.bin", data, n, ct, has_md ? md : NULL,
                   has_md ? 2 : 0, 0, NULL);
  EXPECT_OK(t, rc, "put source");

  const char *c2 = conf_extra_container(t, "b");
  const struct {
    const char *c, *k;
  } dst[] = {{t->c, "dst/copy.bin"}, {c2, "other/copy.bin"}};
  for (size_t i = 0; i < 2; i++) {
    rc = xtstore_blob_copy(g_svc, t->c, "src/obj.bin", g_svc, dst[i].c,
                           dst[i].k, NULL, ERR(t));
    EXPECT_OK(t, rc, "copy to '%s/%s'", dst[i].c, dst[i].k);
    expect_body(t, dst[i].c, dst[i].k, data, n,
                tprintf(t, "copy in '%s'", dst[i].c));
    centry h;
    rc = head_entry(t, dst[i].c, dst[i].k, NULL, &h);
    EXPECT_OK(t, rc, "head copy");
    CHECK(t, h.size == n, "copy size %llu, expected %zu",
          (unsigned long long)h.size, n);
    if (ct)
      CHECK(t, h.content_type && strcmp(h.content_type, ct) == 0,
            "copy content type '%s', expected '%s'",
            h.content_type ? h.content_type : "(null)", ct);
    if (has_md)
      expect_md(t, md, 2, h.md, h.nmd, "copy metadata");
  }
  expect_body(t, t->c, "src/obj.bin", data, n, "source after copies");

  /* copy over an existing blob replaces it */
  rc = put_str(t, t->c, "small.txt", "small");
  EXPECT_OK(t, rc, "put 'small.txt'");
  rc = xtstore_blob_copy(g_svc, t->c, "small.txt", g_svc, t->c, "dst/copy.bin",
                         NULL, ERR(t));
  EXPECT_OK(t, rc, "copy over an existing blob");
  expect_body(t, t->c, "dst/copy.bin", "small", 5, "copy over existing");
  const char *keys[] = {"src/obj.bin", "dst/copy.bin", "small.txt"};
  expect_keys(t, t->c, keys, 3, "listing after copies");
}

CONF_CASE(copy_replace_metadata)
{
  static const store_kv md[] = {{"origin", "src"}};
  static const store_kv md2[] = {{"replaced", "yes"}, {"by", "copy"}};
  int has_md = (g_caps & STORE_CAP_METADATA) != 0;
  int has_ct = (g_caps & STORE_CAP_CONTENT_TYPE) != 0;
  copy_note(t);
  int rc = put_mem(t, t->c, "src.txt", "payload", 7,
                   has_ct ? "text/x-original" : NULL, has_md ? md : NULL,
                   has_md ? 1 : 0, 0, NULL);
  EXPECT_OK(t, rc, "put source");
  store_copy_opts co;
  memset(&co, 0, sizeof co);
  co.struct_size = sizeof co;
  co.flags = STORE_COPY_REPLACE_METADATA;
  co.content_type = "application/x-replaced";
  co.metadata = md2;
  co.nmetadata = 2;
  rc = xtstore_blob_copy(g_svc, t->c, "src.txt", g_svc, t->c, "dst.txt", &co,
                         ERR(t));
  EXPECT_OK(t, rc, "copy with STORE_COPY_REPLACE_METADATA");
  expect_body(t, t->c, "dst.txt", "payload", 7, "copy with new metadata");
  centry h;
  rc = head_entry(t, t->c, "dst.txt", NULL, &h);
  EXPECT_OK(t, rc, "head copy");
  if (has_ct)
    CHECK(t, h.content_type && strcmp(h.content_type,
                                      "application/x-replaced") == 0,
          "copy content type '%s', expected 'application/x-replaced'",
          h.content_type ? h.content_type : "(null)");
  if (has_md)
    expect_md(t, md2, 2, h.md, h.nmd, "copy with replaced metadata");

  rc = head_entry(t, t->c, "src.txt", NULL, &h);
  EXPECT_OK(t, rc, "head source");
  if (has_ct)
    CHECK(t, h.content_type && strcmp(h.content_type, "text/x-original") == 0,
          "source content type changed to '%s' by the copy",
          h.content_type ? h.content_type : "(null)");
  if (has_md)
    expect_md(t, md, 1, h.md, h.nmd, "source metadata after the copy");

  /* replacing with nothing clears the metadata */
  co.content_type = NULL;
  co.metadata = NULL;
  co.nmetadata = 0;
  rc = xtstore_blob_copy(g_svc, t->c, "src.txt", g_svc, t->c, "bare.txt", &co,
                         ERR(t));
  EXPECT_OK(t, rc, "copy with STORE_COPY_REPLACE_METADATA and no metadata");
  rc = head_entry(t, t->c, "bare.txt", NULL, &h);
  EXPECT_OK(t, rc, "head 'bare.txt'");
  if (has_md)
    expect_md(t, NULL, 0, h.md, h.nmd, "copy with metadata replaced by none");
}

CONF_CASE(copy_missing_source)
{
  copy_note(t);
  int rc = xtstore_blob_copy(g_svc, t->c, "no/such.txt", g_svc, t->c,
                             "dst.txt", NULL, ERR(t));
  EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "copy of a missing source");
  expect_missing(t, t->c, "dst.txt", "destination of a failed copy");
  expect_keys(t, t->c, NULL, 0, "listing after a failed copy");

  /* an existing destination survives a failed copy */
  rc = put_str(t, t->c, "dst.txt", "keep me");
  EXPECT_OK(t, rc, "put 'dst.txt'");
  rc = xtstore_blob_copy(g_svc, t->c, "no/such.txt", g_svc, t->c, "dst.txt",
                         NULL, ERR(t));
  EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "copy of a missing source over an "
                                      "existing blob");
  expect_body(t, t->c, "dst.txt", "keep me", 7, "destination after a failed "
                                                "copy");
}
