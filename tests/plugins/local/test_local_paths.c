/*
** test_local_paths.c -- the local provider's name rules and path
** resolution (plugins/local/local_path.c). The plugin's lp_ functions live
** in the .so, not in xtstore_static, so the sources are compiled in here.
*/
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../../plugins/local/local_error.c"
#include "../../../plugins/local/local_fs.c"
#include "../../../plugins/local/local_path.c"

/* Check fails with INVALID, err->code agrees and the message says why. */
static void expect_invalid(int32_t rc, const store_error *err,
                           const char *why)
{
  assert_int_equal(rc, STORE_E_INVALID);
  assert_int_equal(err->code, STORE_E_INVALID);
  assert_non_null(strstr(err->message, why));
}

static int32_t key(const char *k, store_error *err)
{
  memset(err, 0, sizeof(*err));
  err->struct_size = sizeof(*err);
  return check_key(k, err);
}

static int32_t container(const char *c, store_error *err)
{
  memset(err, 0, sizeof(*err));
  err->struct_size = sizeof(*err);
  return lp_check_container(c, err);
}

static void test_key_rejected(void **state)
{
  static const struct {
    const char *key, *why;
  } bad[] = {
    {"", "empty"},
    {"/abs", "starts with '/'"},
    {"/", "starts with '/'"},
    {"a//b", "empty segment"},
    {"a/", "empty segment"},
    {"a/b/", "empty segment"},
    {"..", "'.' or '..'"},
    {"../a", "'.' or '..'"},
    {"a/..", "'.' or '..'"},
    {"a/../b", "'.' or '..'"},
    {".", "'.' or '..'"},
    {"./a", "'.' or '..'"},
    {"a/./b", "'.' or '..'"},
    {"a\x01" "b", "control character"},
    {"a\nb", "control character"},
    {"dir/x\x1f", "control character"},
    {"a\x7f", "control character"},
    {".xtstore", "'.xtstore' (reserved)"},
    {".xtstore/tmp/x", "'.xtstore' (reserved)"},
    {"a/.xtstore", "'.xtstore' (reserved)"},
    {"a/.xtstore.meta", "'.xtstore' (reserved)"},
    {"a/.xtstoreX/b", "'.xtstore' (reserved)"},
  };
  store_error err;

  (void)state;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    expect_invalid(key(bad[i].key, &err), &err, bad[i].why);
  expect_invalid(key(NULL, &err), &err, "empty");
}

static void test_key_lengths(void **state)
{
  char k[LP_MAX_KEY + 2];
  store_error err;

  (void)state;
  /* 1024 bytes in 127-byte segments: the longest valid key. */
  memset(k, 's', LP_MAX_KEY);
  for (size_t i = 127; i < LP_MAX_KEY - 1; i += 128)
    k[i] = '/';
  k[LP_MAX_KEY] = 0;
  assert_int_equal(key(k, &err), STORE_OK);
  k[LP_MAX_KEY] = 's';
  k[LP_MAX_KEY + 1] = 0;
  expect_invalid(key(k, &err), &err, "longer than 1024 bytes");
  memset(k, 's', 256);
  k[256] = 0;
  expect_invalid(key(k, &err), &err, "segment longer than 255 bytes");
  k[255] = 0;
  assert_int_equal(key(k, &err), STORE_OK);
}

static void test_key_accepted(void **state)
{
  static const char *const good[] = {
    "a", "a/b/c", "with space", "dir with space/file name.txt",
    "unicode/\xc3\xbc\xe6\x97\xa5\xe6\x9c\xac", "+", "%", "#", "?",
    "p+%#?&=;!@$^*()[]{}", "...", ".hidden", "a.xtstore", "x/.xts",
    "-dash", "a/b.c/d..e", "back\\slash",
  };
  store_error err;

  (void)state;
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    assert_int_equal(key(good[i], &err), STORE_OK);
    assert_int_equal(err.code, 0);
  }
}

static void test_key_message_names_key(void **state)
{
  store_error err;

  (void)state;
  key("logs//today", &err);
  assert_non_null(strstr(err.message, "'logs//today'"));
  assert_non_null(strstr(err.message, "local:"));
  /* A control character is never copied into the message. */
  key("ab\x01secret", &err);
  assert_null(strchr(err.message, '\x01'));
  assert_null(strstr(err.message, "secret"));
}

static void test_container_rules(void **state)
{
  char name[80];
  store_error err;

  (void)state;
  assert_int_equal(container("logs", &err), STORE_OK);
  assert_int_equal(container("a-b_c.d+1", &err), STORE_OK);
  memset(name, 'c', 63);
  name[63] = 0;
  assert_int_equal(container(name, &err), STORE_OK);
  name[63] = 'c';
  name[64] = 0;
  expect_invalid(container(name, &err), &err, "longer than 63 bytes");
  expect_invalid(container("", &err), &err, "empty");
  expect_invalid(container(NULL, &err), &err, "empty");
  expect_invalid(container("a/b", &err), &err, "contains '/'");
  expect_invalid(container(".", &err), &err, "'.' or '..'");
  expect_invalid(container("..", &err), &err, "'.' or '..'");
  expect_invalid(container(".hidden", &err), &err, "starts with '.'");
  expect_invalid(container(".xtstore", &err), &err, "starts with '.'");
  expect_invalid(container("a\tb", &err), &err, "control character");
}

static void test_segment_ok(void **state)
{
  (void)state;
  assert_true(lp_segment_ok("file", 4));
  assert_true(lp_segment_ok("fi/le", 2));
  assert_false(lp_segment_ok("fi/le", 5));
  assert_false(lp_segment_ok("", 0));
  assert_false(lp_segment_ok("..", 2));
  assert_false(lp_segment_ok(".xtstore-trash-1", 16));
  assert_false(lp_segment_ok("a\x02", 2));
}

static void test_snapshot_ids(void **state)
{
  char id[200];
  store_error err = {.struct_size = sizeof(err)};

  (void)state;
  assert_int_equal(lp_check_snapshot_id("20261122T003000.123456789Z-0000002a",
                                        &err), STORE_OK);
  assert_int_equal(lp_check_snapshot_id("", &err), STORE_E_INVALID);
  assert_int_equal(lp_check_snapshot_id(NULL, &err), STORE_E_INVALID);
  assert_int_equal(lp_check_snapshot_id("../x", &err), STORE_E_INVALID);
  assert_int_equal(lp_check_snapshot_id("a/b", &err), STORE_E_INVALID);
  assert_int_equal(lp_check_snapshot_id(".x", &err), STORE_E_INVALID);
  memset(id, '1', 128);
  id[128] = 0;
  assert_int_equal(lp_check_snapshot_id(id, &err), STORE_E_INVALID);
  id[127] = 0;
  assert_int_equal(lp_check_snapshot_id(id, &err), STORE_OK);
}

static void test_expand_root(void **state)
{
  char *out = NULL, cwd[PATH_MAX];
  store_error err = {.struct_size = sizeof(err)};

  (void)state;
  setenv("HOME", "/home/tester", 1);
  assert_int_equal(lp_expand_root("~", &out, &err), STORE_OK);
  assert_string_equal(out, "/home/tester");
  free(out);
  assert_int_equal(lp_expand_root("~/data/store//", &out, &err), STORE_OK);
  assert_string_equal(out, "/home/tester/data/store");
  free(out);
  assert_int_equal(lp_expand_root("/", &out, &err), STORE_OK);
  assert_string_equal(out, "/");
  free(out);
  assert_int_equal(lp_expand_root("/srv/x/", &out, &err), STORE_OK);
  assert_string_equal(out, "/srv/x");
  free(out);
  assert_non_null(getcwd(cwd, sizeof(cwd)));
  assert_int_equal(lp_expand_root("rel/dir", &out, &err), STORE_OK);
  assert_true(!strncmp(out, cwd, strlen(cwd)));
  assert_string_equal(out + strlen(cwd), "/rel/dir");
  free(out);
  assert_int_equal(lp_expand_root("~other/x", &out, &err), STORE_E_CONFIG);
  assert_null(out);
  assert_int_equal(lp_expand_root("", &out, &err), STORE_E_CONFIG);
  assert_int_equal(lp_expand_root(NULL, &out, &err), STORE_E_CONFIG);
  assert_non_null(strstr(err.message, "'path' is required"));
  unsetenv("HOME");
  assert_int_equal(lp_expand_root("~/x", &out, &err), STORE_E_CONFIG);
  assert_null(out);
}

/* A scratch root: <tmp>/c/file, <tmp>/c/dir/, <tmp>/c/link -> /etc. */
typedef struct fixture {
  char root[64];
  store_handle h;
} fixture;

static int setup_tree(void **state)
{
  fixture *f = calloc(1, sizeof(*f));
  char p[128];
  int fd;

  snprintf(f->root, sizeof(f->root), "/tmp/test_local_paths.XXXXXX");
  if (!f->root[0] || !mkdtemp(f->root))
    return -1;
  snprintf(p, sizeof(p), "%s/c", f->root);
  mkdir(p, 0700);
  snprintf(p, sizeof(p), "%s/c/dir", f->root);
  mkdir(p, 0700);
  snprintf(p, sizeof(p), "%s/c/file", f->root);
  fd = open(p, O_WRONLY | O_CREAT, 0600);
  if (fd < 0)
    return -1;
  close(fd);
  snprintf(p, sizeof(p), "%s/c/link", f->root);
  if (symlink("/etc", p) < 0)
    return -1;
  f->h.root = f->root;
  f->h.name = "test";
  *state = f;
  return 0;
}

static int teardown_tree(void **state)
{
  fixture *f = *state;
  int fd = open("/tmp", O_RDONLY | O_DIRECTORY);

  lp_rmtree(fd, f->root + strlen("/tmp/"));
  close(fd);
  free(f);
  return 0;
}

static void test_walk(void **state)
{
  fixture *f = *state;
  size_t bad = 0;
  int rfd, cfd, fd;

  assert_int_equal(lp_open_root(&f->h, 0, &rfd), 0);
  cfd = openat(rfd, "c", O_RDONLY | O_DIRECTORY);
  assert_true(cfd >= 0);
  assert_int_equal(lp_walk(cfd, "dir", 3, 0, &fd, NULL), 0);
  close(fd);
  assert_int_equal(lp_walk(cfd, "", 0, 0, &fd, NULL), 0); /* cfd itself */
  close(fd);
  /* Symlinks are never followed, not even to a directory. */
  assert_int_not_equal(lp_walk(cfd, "link", 4, 0, &fd, &bad), 0);
  assert_int_equal(fd, -1);
  assert_int_not_equal(lp_walk(cfd, "link/x/", 7, 1, &fd, &bad), 0);
  assert_int_equal(bad, 4);
  /* A file where a directory should be. */
  assert_int_equal(lp_walk(cfd, "file/sub", 8, 1, &fd, &bad), ENOTDIR);
  assert_int_equal(bad, 4);
  assert_int_equal(lp_walk(cfd, "missing", 7, 0, &fd, NULL), ENOENT);
  /* create makes the whole chain. */
  assert_int_equal(lp_walk(cfd, "new/deeper/", 11, 1, &fd, NULL), 0);
  close(fd);
  assert_int_equal(lp_walk(cfd, "new/deeper", 10, 0, &fd, NULL), 0);
  close(fd);
  close(cfd);
  close(rfd);
}

static void test_obj_resolution(void **state)
{
  fixture *f = *state;
  store_error err = {.struct_size = sizeof(err)};
  lp_obj o;

  lp_obj_init(&o, &f->h, "nope", "k");
  assert_int_equal(lp_obj_open(&o, &err), STORE_E_NOT_FOUND);
  assert_non_null(strstr(err.message, "container 'nope' not found"));
  lp_obj_close(&o);

  lp_obj_init(&o, &f->h, "c", "file/sub");
  assert_int_equal(lp_obj_open(&o, &err), STORE_OK);
  assert_string_equal(o.leaf, "sub");
  assert_int_equal(lp_obj_parent(&o, 1, &err), STORE_E_INVALID);
  assert_non_null(strstr(err.message, "parent 'file' is a blob"));
  assert_int_equal(lp_obj_parent(&o, 0, &err), STORE_E_NOT_FOUND);
  lp_obj_close(&o);

  lp_obj_init(&o, &f->h, "c", "link/passwd");
  assert_int_equal(lp_obj_open(&o, &err), STORE_OK);
  assert_int_equal(lp_obj_parent(&o, 0, &err), STORE_E_NOT_FOUND);
  lp_obj_close(&o);

  lp_obj_init(&o, &f->h, "c", "a//b");
  assert_int_equal(lp_obj_open(&o, &err), STORE_E_INVALID);
  lp_obj_close(&o);

  lp_obj_init(&o, &f->h, "c", "top");
  assert_int_equal(lp_obj_open(&o, &err), STORE_OK);
  assert_int_equal(lp_obj_parent(&o, 0, &err), STORE_OK);
  assert_true(o.pfd >= 0);
  lp_obj_close(&o);
  assert_int_equal(o.cfd, -1);
}

/* Removal and pruning stay inside the tree: a symlink is removed, never
 * followed. */
static void test_rmtree_prune(void **state)
{
  fixture *f = *state;
  char p[160], outside[80];
  struct stat st;
  int rfd, cfd, fd;

  snprintf(outside, sizeof(outside), "%s-outside", f->root);
  assert_int_equal(mkdir(outside, 0700), 0);
  snprintf(p, sizeof(p), "%s/keep", outside);
  fd = open(p, O_WRONLY | O_CREAT, 0600);
  assert_true(fd >= 0);
  close(fd);
  snprintf(p, sizeof(p), "%s/c/dir/out", f->root);
  assert_int_equal(symlink(outside, p), 0);
  assert_int_equal(lp_open_root(&f->h, 0, &rfd), 0);
  cfd = openat(rfd, "c", O_RDONLY | O_DIRECTORY);
  assert_int_equal(lp_rmtree(cfd, "dir"), 0);
  snprintf(p, sizeof(p), "%s/keep", outside);
  assert_int_equal(stat(p, &st), 0);
  assert_int_equal(lp_rmtree(cfd, "dir"), ENOENT);
  /* Empty parents go, up to the first non-empty one. */
  assert_int_equal(lp_walk(cfd, "x/y/z/", 6, 1, &fd, NULL), 0);
  close(fd);
  assert_int_equal(lp_walk(cfd, "x/keep/", 7, 1, &fd, NULL), 0);
  close(fd);
  lp_prune_dirs(cfd, "x/y/z/", 6);
  assert_int_equal(lp_walk(cfd, "x/y", 3, 0, &fd, NULL), ENOENT);
  assert_int_equal(lp_walk(cfd, "x/keep", 6, 0, &fd, NULL), 0);
  close(fd);
  close(cfd);
  close(rfd);
  snprintf(p, sizeof(p), "%s/keep", outside);
  unlink(p);
  rmdir(outside);
}

static void test_errno_mapping(void **state)
{
  store_error err = {.struct_size = sizeof(err)};

  (void)state;
  assert_int_equal(errno_code(ENOENT), STORE_E_NOT_FOUND);
  assert_int_equal(errno_code(EEXIST), STORE_E_EXISTS);
  assert_int_equal(errno_code(EACCES), STORE_E_PERMISSION);
  assert_int_equal(errno_code(EPERM), STORE_E_PERMISSION);
  assert_int_equal(errno_code(ENOSPC), STORE_E_IO);
  assert_int_equal(errno_code(EIO), STORE_E_IO);
  assert_int_equal(errno_code(ENOTEMPTY), STORE_E_NOT_EMPTY);
  assert_int_equal(errno_code(ENOMEM), STORE_E_NOMEM);
  assert_int_equal(lp_fail(&err, 0, EACCES, "local: blob '%s/%s'", "c", "k"),
                   STORE_E_PERMISSION);
  assert_int_equal(err.code, STORE_E_PERMISSION);
  assert_int_equal(err.sys_errno, EACCES);
  assert_string_equal(err.provider_code, "EACCES");
  assert_string_equal(err.message, "local: blob 'c/k': Permission denied");
  assert_int_equal(lp_fail(NULL, 0, ENOENT, "x"), STORE_E_NOT_FOUND);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_key_rejected),
    cmocka_unit_test(test_key_lengths),
    cmocka_unit_test(test_key_accepted),
    cmocka_unit_test(test_key_message_names_key),
    cmocka_unit_test(test_container_rules),
    cmocka_unit_test(test_segment_ok),
    cmocka_unit_test(test_snapshot_ids),
    cmocka_unit_test(test_expand_root),
    cmocka_unit_test_setup_teardown(test_walk, setup_tree, teardown_tree),
    cmocka_unit_test_setup_teardown(test_obj_resolution, setup_tree,
                                    teardown_tree),
    cmocka_unit_test_setup_teardown(test_rmtree_prune, setup_tree,
                                    teardown_tree),
    cmocka_unit_test(test_errno_mapping),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
