/*
** conf_listing.c -- blob listing with XT's semantics (seed-systems 1.5):
** container-relative full names, recursive flat listing by prefix, the
** non-recursive "dir/" view with delimiter "/", start-after, pages.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

typedef struct kb {
  const char *key;
  const char *body;
} kb;

/* XT's own contract-test tree, plus two siblings that must not leak in. */
static const kb k_tree[] = {
  {"foo/blob1.txt", "blob1"},
  {"foo/blob2.txt", "blob two"},
  {"foo/bar/ski/blob1.txt", "ski blob1!"},
  {"top.txt", "top"},
  {"foo-x", "dash x"},
};
#define NTREE (sizeof k_tree / sizeof k_tree[0])

static void put_tree(tcase *t)
{
  for (size_t i = 0; i < NTREE; i++) {
    int rc = put_str(t, t->c, k_tree[i].key, k_tree[i].body);
    EXPECT_OK(t, rc, "put '%s'", k_tree[i].key);
  }
}

static size_t tree_size(const char *key)
{
  for (size_t i = 0; i < NTREE; i++)
    if (strcmp(k_tree[i].key, key) == 0)
      return strlen(k_tree[i].body);
  return (size_t)-1;
}

/* List with (prefix, delimiter, start_after, page_size); require exactly the
 * given PREFIX entries (as a set, each once) and blobs (in this order).
 * Returns the listing. */
static clist check_list(tcase *t, const char *prefix, const char *delim,
                        const char *start_after, uint32_t page_size,
                        const char *const *prefixes, size_t np,
                        const char *const *blobs, size_t nb, const char *what)
{
  store_list_opts o;
  memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  o.prefix = prefix;
  o.delimiter = delim;
  o.start_after = start_after;
  o.page_size = page_size;
  clist l;
  int rc = list_all(t, t->c, &o, &l);
  EXPECT_OK(t, rc, "%s: list prefix '%s' delimiter '%s' start_after '%s'",
                   what, prefix ? prefix : "", delim ? delim : "",
            start_after ? start_after : "");
  const char *desc = tprintf(
    t, "%s (prefix '%s', delimiter '%s', start_after '%s', page_size %u): "
       "got %s, expected prefixes %s (any order) and blobs %s",
    what, prefix ? prefix : "", delim ? delim : "",
    start_after ? start_after : "", page_size, fmt_names(t, &l),
    fmt_strs(t, prefixes, np), fmt_strs(t, blobs, nb));

  size_t gotp = 0, gotb = 0;
  unsigned char *seen = talloc(t, np + 1);
  for (size_t i = 0; i < l.n; i++) {
    const centry *e = &l.v[i];
    CHECK(t, e->name != NULL, "%s: an entry has no name", desc);
    CHECK(t, !(e->flags & (STORE_ENTRY_SNAPSHOT | STORE_ENTRY_CONTAINER)),
          "%s: entry '%s' has flags 0x%x", desc, e->name, e->flags);
    if (e->flags & STORE_ENTRY_PREFIX) {
      size_t j = 0;
      while (j < np && strcmp(prefixes[j], e->name) != 0)
        j++;
      CHECK(t, j < np, "%s: unexpected prefix entry '%s'", desc, e->name);
      CHECK(t, !seen[j], "%s: prefix '%s' reported twice", desc, e->name);
      seen[j] = 1;
      CHECK(t, e->size == 0, "%s: prefix '%s' has size %llu, expected 0",
            desc, e->name, (unsigned long long)e->size);
      gotp++;
    } else {
      CHECK(t, gotb < nb, "%s: unexpected blob entry '%s'", desc, e->name);
      CHECK(t, strcmp(blobs[gotb], e->name) == 0,
            "%s: blob #%zu is '%s', expected '%s'", desc, gotb, e->name,
            blobs[gotb]);
      gotb++;
    }
  }
  CHECK(t, gotp == np, "%s: %zu prefix entries, expected %zu", desc, gotp, np);
  CHECK(t, gotb == nb, "%s: %zu blob entries, expected %zu", desc, gotb, nb);
  return l;
}

#define ARR(...) ((const char *const[]){__VA_ARGS__})
#define NONE NULL, 0

CONF_CASE(listing_recursive)
{
  put_tree(t);
  clist l = check_list(
    t, "foo/", NULL, NULL, 0, NONE,
    ARR("foo/bar/ski/blob1.txt", "foo/blob1.txt", "foo/blob2.txt"), 3,
    "recursive listing of 'foo/'");
  for (size_t i = 0; i < l.n; i++)
    CHECK(t, l.v[i].size == tree_size(l.v[i].name),
          "recursive listing: '%s' has size %llu, expected %zu", l.v[i].name,
          (unsigned long long)l.v[i].size, tree_size(l.v[i].name));

  check_list(t, "", "", NULL, 0, NONE,
             ARR("foo-x", "foo/bar/ski/blob1.txt", "foo/blob1.txt",
                 "foo/blob2.txt", "top.txt"), 5,
             "recursive listing of everything (empty prefix and delimiter)");
  check_list(t, NULL, NULL, NULL, 0, NONE,
             ARR("foo-x", "foo/bar/ski/blob1.txt", "foo/blob1.txt",
                 "foo/blob2.txt", "top.txt"), 5,
             "recursive listing of everything (NULL prefix)");
  /* a prefix is a raw string prefix, not a directory */
  check_list(t, "foo", NULL, NULL, 0, NONE,
             ARR("foo-x", "foo/bar/ski/blob1.txt", "foo/blob1.txt",
                 "foo/blob2.txt"), 4,
             "recursive listing of raw prefix 'foo'");
  check_list(t, "foo/blob", NULL, NULL, 0, NONE,
             ARR("foo/blob1.txt", "foo/blob2.txt"), 2,
             "recursive listing of raw prefix 'foo/blob'");
  check_list(t, "foo/bar/", NULL, NULL, 0, NONE,
             ARR("foo/bar/ski/blob1.txt"), 1,
             "recursive listing of 'foo/bar/'");
  check_list(t, "nothing/", NULL, NULL, 0, NONE, NONE,
             "recursive listing of a prefix that matches nothing");
  check_list(t, "top.txt", NULL, NULL, 0, NONE, ARR("top.txt"), 1,
             "recursive listing with a full key as prefix");
}

CONF_CASE(listing_delimiter)
{
  put_tree(t);
  check_list(t, "foo/", "/", NULL, 0, ARR("foo/bar/"), 1,
             ARR("foo/blob1.txt", "foo/blob2.txt"), 2,
             "non-recursive listing of 'foo/'");
  check_list(t, "foo/bar/", "/", NULL, 0, ARR("foo/bar/ski/"), 1, NONE,
             "non-recursive listing of 'foo/bar/'");
  check_list(t, "foo/bar/ski/", "/", NULL, 0, NONE,
             ARR("foo/bar/ski/blob1.txt"), 1,
             "non-recursive listing of 'foo/bar/ski/'");
  check_list(t, "foo/b", "/", NULL, 0, ARR("foo/bar/"), 1,
             ARR("foo/blob1.txt", "foo/blob2.txt"), 2,
             "non-recursive listing of raw prefix 'foo/b'");
  check_list(t, "foo/blob", "/", NULL, 0, NONE,
             ARR("foo/blob1.txt", "foo/blob2.txt"), 2,
             "non-recursive listing of raw prefix 'foo/blob'");
  check_list(t, "nothing/", "/", NULL, 0, NONE, NONE,
             "non-recursive listing of a prefix that matches nothing");
}

CONF_CASE(listing_root_delimiter)
{
  put_tree(t);
  check_list(t, NULL, "/", NULL, 0, ARR("foo/"), 1, ARR("foo-x", "top.txt"),
             2, "non-recursive listing at the root");
  check_list(t, "", "/", NULL, 0, ARR("foo/"), 1, ARR("foo-x", "top.txt"), 2,
             "non-recursive listing at the root (empty prefix)");
  check_list(t, "f", "/", NULL, 0, ARR("foo/"), 1, ARR("foo-x"), 1,
             "non-recursive listing of raw prefix 'f'");
}

CONF_CASE(listing_start_after)
{
  put_tree(t);
  check_list(t, NULL, NULL, "foo/blob1.txt", 0, NONE,
             ARR("foo/blob2.txt", "top.txt"), 2,
             "start_after an existing key");
  check_list(t, NULL, NULL, "foo/b", 0, NONE,
             ARR("foo/bar/ski/blob1.txt", "foo/blob1.txt", "foo/blob2.txt",
                 "top.txt"), 4,
             "start_after a key that does not exist");
  check_list(t, "foo/", NULL, "foo/blob1.txt", 0, NONE, ARR("foo/blob2.txt"),
             1, "start_after with a prefix");
  check_list(t, NULL, NULL, "top.txt", 0, NONE, NONE,
             "start_after the last key");
  check_list(t, NULL, NULL, "a", 0, NONE,
             ARR("foo-x", "foo/bar/ski/blob1.txt", "foo/blob1.txt",
                 "foo/blob2.txt", "top.txt"), 5,
             "start_after before the first key");
  check_list(t, NULL, "/", "foo-x", 0, ARR("foo/"), 1, ARR("top.txt"), 1,
             "start_after with delimiter '/'");
  check_list(t, "foo/", "/", "foo/blob1.txt", 0, NONE, ARR("foo/blob2.txt"),
             1, "start_after past the prefixes with delimiter '/'");
}

enum { PAGE = 10, NPAGED = 2 * PAGE + 5 };

CONF_CASE(listing_pages)
{
  /* put in a scrambled order; sizes are i+1 so each entry is checkable */
  char body[NPAGED + 1];
  memset(body, 'x', sizeof body);
  for (int j = 0; j < NPAGED; j++) {
    int i = (j * 7) % NPAGED;
    const char *k = tprintf(t, "page/k%02d", i);
    int rc = put_mem(t, t->c, k, body, (size_t)i + 1, NULL, NULL, 0, 0, NULL);
    EXPECT_OK(t, rc, "put '%s'", k);
  }
  int rc = put_str(t, t->c, "pagf", "outside");
  EXPECT_OK(t, rc, "put 'pagf'");

  const char *want[NPAGED];
  for (int i = 0; i < NPAGED; i++)
    want[i] = tprintf(t, "page/k%02d", i);
  clist l = check_list(t, "page/", NULL, NULL, PAGE, NONE, want, NPAGED,
                       "listing 25 keys with page_size 10");
  for (size_t i = 0; i < l.n; i++)
    CHECK(t, l.v[i].size == i + 1, "paged listing: '%s' has size %llu, "
                                   "expected %zu", l.v[i].name,
          (unsigned long long)l.v[i].size, i + 1);

  check_list(t, "page/", NULL, "page/k09", PAGE, NONE, want + 10, NPAGED - 10,
             "paged listing with start_after 'page/k09'");
  check_list(t, "page/", NULL, NULL, 1, NONE, want, NPAGED,
             "listing 25 keys with page_size 1");

  const char *all[NPAGED + 1];
  for (int i = 0; i < NPAGED; i++)
    all[i] = want[i];
  all[NPAGED] = "pagf";
  check_list(t, NULL, NULL, NULL, PAGE, NONE, all, NPAGED + 1,
             "paged listing of the whole container");
}

CONF_CASE(listing_pages_delimiter)
{
  enum { NDIRS = 12, NFILES = 13 };
  const char *dirs[NDIRS], *files[NFILES];
  /* interleave the puts so neither kind is contiguous in put order */
  for (int i = 0; i < NFILES; i++) {
    files[i] = tprintf(t, "d/f%02d", i);
    int rc = put_str(t, t->c, files[i], "f");
    EXPECT_OK(t, rc, "put '%s'", files[i]);
    if (i < NDIRS) {
      dirs[i] = tprintf(t, "d/sub%02d/", i);
      for (int j = 0; j < 2; j++) {
        const char *k = tprintf(t, "d/sub%02d/x%d", i, j);
        rc = put_str(t, t->c, k, "x");
        EXPECT_OK(t, rc, "put '%s'", k);
      }
    }
  }
  check_list(t, "d/", "/", NULL, PAGE, dirs, NDIRS, files, NFILES,
             "non-recursive listing of 12 prefixes and 13 blobs, page_size 10");
  check_list(t, "d/", "/", NULL, 1, dirs, NDIRS, files, NFILES,
             "non-recursive listing of 12 prefixes and 13 blobs, page_size 1");
}

CONF_CASE(listing_entries)
{
  static const store_kv md[] = {{"k", "v"}};
  const char *ct = "text/x-listing";
  int want_ct = (g_caps & STORE_CAP_CONTENT_TYPE) != 0;
  int want_md = (g_caps & STORE_CAP_METADATA) != 0;
  for (size_t i = 0; i < NTREE; i++) {
    int rc = put_mem(t, t->c, k_tree[i].key, k_tree[i].body,
                     strlen(k_tree[i].body), want_ct ? ct : NULL,
                     want_md ? md : NULL, want_md ? 1 : 0, 0, NULL);
    EXPECT_OK(t, rc, "put '%s'", k_tree[i].key);
  }
  store_list_opts o;
  memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  o.flags = STORE_LIST_METADATA;
  clist l;
  int rc = list_all(t, t->c, &o, &l);
  EXPECT_OK(t, rc, "list with STORE_LIST_METADATA");
  CHECK(t, l.n == NTREE, "listing has %s, expected %zu blobs",
        fmt_names(t, &l), NTREE);
  for (size_t i = 0; i < l.n; i++) {
    const centry *e = &l.v[i];
    CHECK(t, e->size == tree_size(e->name),
          "listed '%s' with size %llu, expected %zu", e->name,
          (unsigned long long)e->size, tree_size(e->name));
    CHECK(t, (e->flags & (STORE_ENTRY_PREFIX | STORE_ENTRY_SNAPSHOT |
                          STORE_ENTRY_CONTAINER)) == 0,
          "listed '%s' with flags 0x%x", e->name, e->flags);
    CHECK(t, e->snapshot_id == NULL, "listed '%s' with snapshot_id '%s'",
          e->name, e->snapshot_id);
    expect_mtime_sane(t, e->mtime_ns, tprintf(t, "listed '%s'", e->name));
    if (want_ct && e->content_type)
      CHECK(t, strcmp(e->content_type, ct) == 0,
            "listed '%s' with content type '%s', expected '%s'", e->name,
            e->content_type, ct);
    if (want_md && e->md)
      expect_md(t, md, 1, e->md, e->nmd,
                tprintf(t, "listed '%s' with STORE_LIST_METADATA", e->name));
    centry h;
    rc = head_entry(t, t->c, e->name, NULL, &h);
    EXPECT_OK(t, rc, "head '%s'", e->name);
    if (e->etag && h.etag)
      CHECK(t, strcmp(e->etag, h.etag) == 0,
            "'%s': listing etag %s differs from head etag %s", e->name,
            e->etag, h.etag);
    if (e->mtime_ns != STORE_MTIME_UNKNOWN && h.mtime_ns != STORE_MTIME_UNKNOWN)
      CHECK(t, llabs(e->mtime_ns - h.mtime_ns) <= INT64_C(1000000000),
            "'%s': listing mtime %lld and head mtime %lld differ by more "
            "than 1 s", e->name, (long long)e->mtime_ns,
            (long long)h.mtime_ns);
  }
}

/* An entry callback that asks to stop on its first call, counting every
 * call it gets. */
static int32_t stop_first(void *ud, const store_entry *e)
{
  size_t *calls = ud;
  (void)e;
  (*calls)++;
  return 1;
}

/* Every entry callback's stop is honoured: the call ends STORE_E_ABORTED
 * after exactly one call (a caller's buffer may hold one entry only). The
 * host holds the stop against a plugin that ignores it, and says so in the
 * message ("the plugin went on after the stop"): that fails here. */
CONF_CASE(listing_stop)
{
  size_t calls = 0;
  int rc;

  put_tree(t);
  rc = xtstore_blob_list(g_svc, t->c, NULL, stop_first, &calls, ERR(t));
  EXPECT_RC(t, rc, STORE_E_ABORTED, "blob_list stopped by its callback");
  CHECK(t, !strstr(t->err.message, "went on after the stop"),
        "blob_list went on calling back after a stop: %s", t->err.message);
  CHECK(t, calls == 1, "blob_list called back %zu times after a stop on "
        "the first, expected 1", calls);
  calls = 0;
  rc = xtstore_blob_head(g_svc, t->c, k_tree[0].key, NULL, stop_first,
                         &calls, ERR(t));
  EXPECT_RC(t, rc, STORE_E_ABORTED, "blob_head stopped by its callback");
  CHECK(t, !strstr(t->err.message, "went on after the stop"),
        "blob_head went on calling back after a stop: %s", t->err.message);
  CHECK(t, calls == 1, "blob_head called back %zu times, expected 1", calls);
  conf_extra_container(t, "stop");   /* two containers under the prefix */
  calls = 0;
  rc = xtstore_container_list(g_svc, g_run_prefix, stop_first, &calls,
                              ERR(t));
  EXPECT_RC(t, rc, STORE_E_ABORTED, "container_list stopped by its "
            "callback");
  CHECK(t, !strstr(t->err.message, "went on after the stop"),
        "container_list went on calling back after a stop: %s", t->err.message);
  CHECK(t, calls == 1, "container_list called back %zu times after a stop "
        "on the first, expected 1", calls);
  calls = 0;
  rc = xtstore_container_head(g_svc, t->c, stop_first, &calls, ERR(t));
  EXPECT_RC(t, rc, STORE_E_ABORTED, "container_head stopped by its "
            "callback");
  CHECK(t, !strstr(t->err.message, "went on after the stop"),
        "container_head went on calling back after a stop: %s", t->err.message);
  CHECK(t, calls == 1, "container_head called back %zu times, expected 1",
        calls);
}
