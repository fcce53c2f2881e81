/*
** conf_containers.c -- container life cycle and container metadata.
*/
#include <stdio.h>
#include <string.h>

#include "conf.h"

static int container_exists(tcase *t, const char *c)
{
  int ex = -1;
  int rc = xtstore_container_exists(g_svc, c, &ex, ERR(t));
  EXPECT_OK(t, rc, "exists '%s'", c);
  CHECK(t, ex == 0 || ex == 1, "exists '%s' gave %d, expected 0 or 1", c, ex);
  return ex;
}

static int container_head(tcase *t, const char *c, centry *out)
{
  clist l;
  clist_init(&l, t);
  int rc = xtstore_container_head(g_svc, c, clist_add, &l, ERR(t));
  if (rc == STORE_OK) {
    CHECK(t, l.n == 1, "container head '%s': callback called %zu times, "
                       "expected once", c, l.n);
    if (out)
      *out = l.v[0];
  } else {
    CHECK(t, l.n == 0, "container head '%s' failed (%s) but called back", c,
          code_name(rc));
  }
  return rc;
}

/* Container head of c succeeds and shows exactly the metadata md[0..n). */
static void expect_container_md(tcase *t, const char *c, const store_kv *md,
                                size_t n, const char *what)
{
  centry h;
  int rc = container_head(t, c, &h);
  EXPECT_OK(t, rc, "container head '%s'", c);
  expect_md(t, md, n, h.md, h.nmd, what);
}

CONF_CASE(containers_lifecycle)
{
  const char *c = t->c;   /* created by the harness: that is step one */
  int rc;

  CHECK(t, container_exists(t, c) == 1,
        "exists '%s' is false right after create", c);

  /* listed, with the prefix filter, in name order, flagged CONTAINER */
  clist l;
  clist_init(&l, t);
  rc = xtstore_container_list(g_svc, g_run_prefix, clist_add, &l, ERR(t));
  EXPECT_OK(t, rc, "container_list prefix '%s'", g_run_prefix);
  size_t found = 0;
  for (size_t i = 0; i < l.n; i++) {
    const centry *e = &l.v[i];
    CHECK(t, e->name && strncmp(e->name, g_run_prefix, strlen(g_run_prefix)) == 0,
          "container_list prefix '%s' returned '%s'", g_run_prefix,
          e->name ? e->name : "(null)");
    CHECK(t, e->flags & STORE_ENTRY_CONTAINER,
          "container_list entry '%s' lacks STORE_ENTRY_CONTAINER (flags 0x%x)",
          e->name, e->flags);
    CHECK(t, e->size == 0, "container_list entry '%s' has size %llu, "
                           "expected 0", e->name, (unsigned long long)e->size);
    if (i)
      CHECK(t, strcmp(l.v[i - 1].name, e->name) < 0,
            "container_list not in name order: '%s' before '%s'",
            l.v[i - 1].name, e->name);
    if (strcmp(e->name, c) == 0)
      found++;
  }
  CHECK(t, found == 1, "container_list prefix '%s' shows '%s' %zu times, "
                       "expected once: %s", g_run_prefix, c, found,
        fmt_names(t, &l));

  /* a prefix that matches nothing of ours */
  char *other = tprintf(t, "%sz", c);
  clist_init(&l, t);
  rc = xtstore_container_list(g_svc, other, clist_add, &l, ERR(t));
  EXPECT_OK(t, rc, "container_list prefix '%s'", other);
  CHECK(t, l.n == 0, "container_list prefix '%s' returned %s, expected none",
        other, fmt_names(t, &l));

  rc = xtstore_container_create(g_svc, c, NULL, 0, ERR(t));
  EXPECT_RC(t, rc, STORE_E_EXISTS, "create '%s' a second time", c);

  centry h;
  rc = container_head(t, c, &h);
  EXPECT_OK(t, rc, "container head '%s'", c);
  CHECK(t, h.name && strcmp(h.name, c) == 0,
        "container head '%s' reports name '%s'", c, h.name ? h.name : "(null)");
  CHECK(t, h.flags & STORE_ENTRY_CONTAINER,
        "container head '%s' lacks STORE_ENTRY_CONTAINER (flags 0x%x)", c,
        h.flags);
  expect_mtime_sane(t, h.mtime_ns, "container head");

  rc = put_str(t, c, "dir/one.txt", "one");
  EXPECT_OK(t, rc, "put 'dir/one.txt'");
  rc = xtstore_container_delete(g_svc, c, 0, ERR(t));
  EXPECT_RC(t, rc, STORE_E_NOT_EMPTY, "delete non-empty '%s' without "
                                      "STORE_CONTAINER_DELETE_RECURSIVE", c);
  CHECK(t, container_exists(t, c) == 1,
        "'%s' is gone after a refused (NOT_EMPTY) delete", c);
  expect_body(t, c, "dir/one.txt", "one", 3, "blob after refused delete");

  rc = xtstore_container_delete(g_svc, c, STORE_CONTAINER_DELETE_RECURSIVE,
                                ERR(t));
  EXPECT_OK(t, rc, "delete '%s' recursively", c);
  CHECK(t, container_exists(t, c) == 0, "exists '%s' is true after delete", c);
  rc = container_head(t, c, NULL);
  EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "container head of deleted '%s'", c);
  rc = xtstore_container_delete(g_svc, c, STORE_CONTAINER_DELETE_RECURSIVE,
                                ERR(t));
  EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "delete the deleted '%s' again", c);
  t->created = 0;

  clist_init(&l, t);
  rc = xtstore_container_list(g_svc, c, clist_add, &l, ERR(t));
  EXPECT_OK(t, rc, "container_list prefix '%s'", c);
  for (size_t i = 0; i < l.n; i++)
    CHECK(t, strcmp(l.v[i].name, c) != 0,
          "deleted container '%s' is still listed", c);
}

CONF_CASE(containers_empty_delete)
{
  /* An empty container goes without the recursive flag. */
  int rc = xtstore_container_delete(g_svc, t->c, 0, ERR(t));
  EXPECT_OK(t, rc, "delete empty '%s' without the recursive flag", t->c);
  CHECK(t, container_exists(t, t->c) == 0, "exists '%s' true after delete",
        t->c);
  t->created = 0;

  /* A container whose blobs were all deleted is empty again. */
  const char *c2 = conf_extra_container(t, "e");
  rc = put_str(t, c2, "a/b/c.txt", "abc");
  EXPECT_OK(t, rc, "put 'a/b/c.txt'");
  rc = xtstore_blob_delete(g_svc, c2, "a/b/c.txt", NULL, ERR(t));
  EXPECT_OK(t, rc, "delete 'a/b/c.txt'");
  expect_keys(t, c2, NULL, 0, "after deleting the only blob");
  rc = xtstore_container_delete(g_svc, c2, 0, ERR(t));
  EXPECT_OK(t, rc, "delete '%s' (emptied) without the recursive flag", c2);
}

CONF_CASE(containers_metadata)
{
  static const store_kv md1[] = {{"owner", "conformance"}, {"tier", "hot"}};
  static const store_kv md2[] = {{"purpose", "replaced"}};
  const char *c = conf_extra_container(t, "m");
  int rc;

  /* metadata given at create: a fresh container made for it */
  char name[CONF_NAME_MAX];
  conf_container_name(name, sizeof name, "md");
  rc = xtstore_container_create(g_svc, name, md1, 2, ERR(t));
  EXPECT_OK(t, rc, "create '%s' with metadata", name);
  snprintf(t->extra[t->nextra++], CONF_NAME_MAX, "%s", name);
  expect_container_md(t, name, md1, 2, "metadata given at container create");

  /* set replaces */
  rc = xtstore_container_set_metadata(g_svc, name, md2, 1, ERR(t));
  EXPECT_OK(t, rc, "container set_metadata '%s'", name);
  expect_container_md(t, name, md2, 1,
                      "container metadata after set (replace)");

  /* set on a container created without metadata */
  expect_container_md(t, c, NULL, 0, "container created without metadata");
  rc = xtstore_container_set_metadata(g_svc, c, md1, 2, ERR(t));
  EXPECT_OK(t, rc, "container set_metadata '%s'", c);
  expect_container_md(t, c, md1, 2, "container metadata after set");

  /* clearing */
  rc = xtstore_container_set_metadata(g_svc, c, NULL, 0, ERR(t));
  EXPECT_OK(t, rc, "container set_metadata '%s' to none", c);
  expect_container_md(t, c, NULL, 0, "container metadata after clearing");

  rc = xtstore_container_set_metadata(g_svc, tprintf(t, "%s-nx", t->c), md2, 1,
                                      ERR(t));
  EXPECT_RC(t, rc, STORE_E_NOT_FOUND, "container set_metadata on a missing "
                                      "container");
}
