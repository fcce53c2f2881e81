/*
** test_local_meta.c -- the local provider's metadata store
** (plugins/local/local_meta.c): user xattrs, the sidecar fallback, and the
** `auto` mode switching between them. Sources compiled in, as the lp_
** functions live in the plugin.
*/
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../../plugins/local/local_error.c"
#include "../../../plugins/local/local_fs.c"
#include "../../../plugins/local/local_meta.c"
#include "../../../plugins/local/local_path.c"

typedef struct fixture {
  char root[64];
  store_handle h;
  lp_obj o;        /* blob "dir/blob" in container "c" */
  int fd;          /* the blob file */
  int xattrs;      /* does this filesystem take user xattrs? */
} fixture;

static int setup(void **state)
{
  fixture *f = calloc(1, sizeof(*f));
  char p[128];

  snprintf(f->root, sizeof(f->root), "/tmp/test_local_meta.XXXXXX");
  if (!f || !mkdtemp(f->root))
    return -1;
  snprintf(p, sizeof(p), "%s/c", f->root);
  mkdir(p, 0700);
  snprintf(p, sizeof(p), "%s/c/dir", f->root);
  mkdir(p, 0700);
  snprintf(p, sizeof(p), "%s/c/dir/blob", f->root);
  f->fd = open(p, O_RDWR | O_CREAT, 0600);
  if (f->fd < 0)
    return -1;
  f->xattrs = fsetxattr(f->fd, "user.probe", "1", 1, 0) == 0;
  fremovexattr(f->fd, "user.probe");
  f->h.root = f->root;
  f->h.name = "test";
  lp_obj_init(&f->o, &f->h, "c", "dir/blob");
  if (lp_obj_open(&f->o, NULL))
    return -1;
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fixture *f = *state;
  int fd = open("/tmp", O_RDONLY | O_DIRECTORY);

  close(f->fd);
  lp_obj_close(&f->o);
  lp_rmtree(fd, f->root + strlen("/tmp/"));
  close(fd);
  free(f);
  return 0;
}

static const store_kv kv[] = {
  {"Zeta", "last"}, {"Alpha", "first, with \xc3\xbc"}, {"empty", ""},
};

/* Store kv and a content type on f->fd in the handle's mode; load back. */
static void store_and_load(fixture *f, lp_meta *got)
{
  lp_meta m = {.content_type = "text/plain", .kv = kv, .n = 3};
  lp_side_tmp side;
  store_error err = {.struct_size = sizeof(err)};
  struct stat st;

  assert_int_equal(lp_meta_check(&f->o, m.content_type, kv, 3, &err), 0);
  assert_int_equal(lp_meta_prepare(&f->o, f->fd, &m, &side, &err), 0);
  assert_int_equal(lp_meta_place(&f->o, NULL, &side, &err), 0);
  assert_int_equal(fstat(f->fd, &st), 0);
  assert_int_equal(lp_meta_load(&f->o, NULL, f->fd, &st, got, &err), 0);
}

static void expect_kv(const lp_meta *m)
{
  assert_string_equal(m->content_type, "text/plain");
  assert_int_equal(m->n, 3);
  /* Sorted by name, case preserved. */
  assert_string_equal(m->kv[0].key, "Alpha");
  assert_string_equal(m->kv[0].value, "first, with \xc3\xbc");
  assert_string_equal(m->kv[1].key, "Zeta");
  assert_string_equal(m->kv[2].key, "empty");
  assert_string_equal(m->kv[2].value, "");
}

static int sidecar_exists(const fixture *f)
{
  char p[160];
  struct stat st;

  snprintf(p, sizeof(p), "%s/c/.xtstore/keys/dir/blob/.xtstore.meta",
           f->root);
  return stat(p, &st) == 0;
}

static void test_xattr_mode(void **state)
{
  fixture *f = *state;
  lp_meta got;
  char v[32];

  if (!f->xattrs)
    skip();
  f->h.meta_mode = LP_META_XATTR;
  store_and_load(f, &got);
  expect_kv(&got);
  lp_meta_free(&got);
  assert_int_equal(fgetxattr(f->fd, "user.xtstore.ct", v, sizeof(v)), 10);
  assert_true(fgetxattr(f->fd, "user.xtstore.m.Zeta", v, sizeof(v)) > 0);
  assert_false(sidecar_exists(f));
}

static void test_sidecar_mode(void **state)
{
  fixture *f = *state;
  lp_meta got;
  char v[32];

  f->h.meta_mode = LP_META_SIDECAR;
  store_and_load(f, &got);
  expect_kv(&got);
  lp_meta_free(&got);
  assert_true(sidecar_exists(f));
  assert_true(fgetxattr(f->fd, "user.xtstore.ct", v, sizeof(v)) < 0);
}

/* A sidecar describes one inode: a replaced file does not inherit it. */
static void test_sidecar_bound_to_inode(void **state)
{
  fixture *f = *state;
  store_error err = {.struct_size = sizeof(err)};
  lp_meta got;
  struct stat st;
  char p[160];
  int fd;

  f->h.meta_mode = LP_META_SIDECAR;
  store_and_load(f, &got);
  lp_meta_free(&got);
  snprintf(p, sizeof(p), "%s/c/dir/other", f->root);
  fd = open(p, O_RDWR | O_CREAT, 0600);
  assert_true(fd >= 0);
  assert_int_equal(fstat(fd, &st), 0);
  assert_int_equal(lp_meta_load(&f->o, NULL, fd, &st, &got, &err), 0);
  assert_null(got.content_type);
  assert_int_equal(got.n, 0);
  lp_meta_free(&got);
  close(fd);
}

static void test_sidecar_corrupt(void **state)
{
  fixture *f = *state;
  store_error err = {.struct_size = sizeof(err)};
  lp_meta got;
  struct stat st;
  char p[160], body[64];
  int fd, n;

  f->h.meta_mode = LP_META_SIDECAR;
  store_and_load(f, &got);
  lp_meta_free(&got);
  assert_int_equal(fstat(f->fd, &st), 0);
  n = snprintf(body, sizeof(body), "xtstore-meta 1\nino %llu\nq-bad",
               (unsigned long long)st.st_ino);
  snprintf(p, sizeof(p), "%s/c/.xtstore/keys/dir/blob/.xtstore.meta",
           f->root);
  fd = open(p, O_WRONLY | O_TRUNC);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, body, (size_t)n), n);
  close(fd);
  assert_int_equal(lp_meta_load(&f->o, NULL, f->fd, &st, &got, &err),
                   STORE_E_IO);
  assert_non_null(strstr(err.message, "corrupt"));
  assert_non_null(strstr(err.message, "'c/dir/blob'"));
}

/* auto: xattrs when they fit; a sidecar when they do not (too large for
 * the inode), and readers find either. */
static void test_auto_mode(void **state)
{
  fixture *f = *state;
  static char big[60000];
  store_kv bigkv[] = {{"b1", big}, {"b2", big}};
  lp_meta m = {.content_type = "a/b", .kv = bigkv, .n = 2}, got;
  store_error err = {.struct_size = sizeof(err)};
  lp_side_tmp side;
  struct stat st;
  char v[8];

  if (!f->xattrs)
    skip();
  f->h.meta_mode = LP_META_AUTO;
  store_and_load(f, &got);
  expect_kv(&got);
  lp_meta_free(&got);
  assert_false(sidecar_exists(f));

  memset(big, 'v', sizeof(big) - 1);
  assert_int_equal(lp_meta_prepare(&f->o, f->fd, &m, &side, &err), 0);
  assert_int_equal(lp_meta_place(&f->o, NULL, &side, &err), 0);
  assert_true(sidecar_exists(f));
  assert_true(fgetxattr(f->fd, "user.xtstore.ct", v, sizeof(v)) < 0);
  assert_int_equal(fstat(f->fd, &st), 0);
  assert_int_equal(lp_meta_load(&f->o, NULL, f->fd, &st, &got, &err), 0);
  assert_string_equal(got.content_type, "a/b");
  assert_int_equal(got.n, 2);
  assert_int_equal(strlen(got.kv[1].value), sizeof(big) - 1);
  lp_meta_free(&got);

  /* xattr mode refuses what does not fit, and leaves nothing behind. */
  f->h.meta_mode = LP_META_XATTR;
  assert_int_equal(lp_meta_prepare(&f->o, f->fd, &m, &side, &err),
                   STORE_E_INVALID);
  assert_true(fgetxattr(f->fd, "user.xtstore.m.b1", v, sizeof(v)) < 0);
}

/* Replacing user metadata keeps the content type, in both stores. */
static void test_replace(void **state)
{
  fixture *f = *state;
  store_kv repl[] = {{"only", "this"}};
  store_error err = {.struct_size = sizeof(err)};
  lp_meta got;
  struct stat st;

  for (int mode = LP_META_AUTO; mode <= LP_META_SIDECAR; mode++) {
    if (!f->xattrs && mode != LP_META_SIDECAR)
      continue;
    f->h.meta_mode = mode;
    store_and_load(f, &got);
    lp_meta_free(&got);
    assert_int_equal(lp_meta_replace(&f->o, f->fd, repl, 1, &err), 0);
    assert_int_equal(fstat(f->fd, &st), 0);
    assert_int_equal(lp_meta_load(&f->o, NULL, f->fd, &st, &got, &err), 0);
    assert_string_equal(got.content_type, "text/plain");
    assert_int_equal(got.n, 1);
    assert_string_equal(got.kv[0].key, "only");
    lp_meta_free(&got);
  }
}

/* Container metadata lives on the directory, or in
 * .xtstore/container-meta. */
static void test_container(void **state)
{
  fixture *f = *state;
  store_kv ckv[] = {{"Owner", "Ann"}};
  store_error err = {.struct_size = sizeof(err)};
  lp_obj c;
  lp_meta got;
  struct stat st;
  char p[160];

  lp_obj_init(&c, &f->h, "c", NULL);
  assert_int_equal(lp_obj_open(&c, &err), 0);
  for (int mode = LP_META_AUTO; mode <= LP_META_SIDECAR; mode++) {
    if (!f->xattrs && mode != LP_META_SIDECAR)
      continue;
    f->h.meta_mode = mode;
    assert_int_equal(lp_meta_replace(&c, c.cfd, ckv, 1, &err), 0);
    assert_int_equal(fstat(c.cfd, &st), 0);
    assert_int_equal(lp_meta_load(&c, NULL, c.cfd, &st, &got, &err), 0);
    assert_null(got.content_type);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.kv[0].value, "Ann");
    lp_meta_free(&got);
  }
  snprintf(p, sizeof(p), "%s/c/.xtstore/container-meta", f->root);
  assert_int_equal(stat(p, &st), 0);
  lp_obj_close(&c);
}

static void test_check(void **state)
{
  fixture *f = *state;
  store_error err = {.struct_size = sizeof(err)};
  store_kv dup[] = {{"a", "1"}, {"a", "2"}};
  store_kv ctl[] = {{"a\nb", "1"}};
  store_kv nul[] = {{"a", NULL}};
  store_kv empty[] = {{"", "1"}};
  store_kv cased[] = {{"a", "1"}, {"A", "2"}};

  assert_int_equal(lp_meta_check(&f->o, NULL, dup, 2, &err), STORE_E_INVALID);
  assert_non_null(strstr(err.message, "given twice"));
  assert_int_equal(lp_meta_check(&f->o, NULL, ctl, 1, &err), STORE_E_INVALID);
  assert_int_equal(lp_meta_check(&f->o, NULL, nul, 1, &err), STORE_E_INVALID);
  assert_int_equal(lp_meta_check(&f->o, NULL, empty, 1, &err),
                   STORE_E_INVALID);
  assert_int_equal(lp_meta_check(&f->o, "text/\nx", NULL, 0, &err),
                   STORE_E_INVALID);
  assert_int_equal(lp_meta_check(&f->o, NULL, cased, 2, &err), STORE_OK);
  assert_int_equal(lp_meta_check(&f->o, NULL, NULL, 1, &err),
                   STORE_E_INVALID);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_xattr_mode, setup, teardown),
    cmocka_unit_test_setup_teardown(test_sidecar_mode, setup, teardown),
    cmocka_unit_test_setup_teardown(test_sidecar_bound_to_inode, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_sidecar_corrupt, setup, teardown),
    cmocka_unit_test_setup_teardown(test_auto_mode, setup, teardown),
    cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
    cmocka_unit_test_setup_teardown(test_container, setup, teardown),
    cmocka_unit_test_setup_teardown(test_check, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
