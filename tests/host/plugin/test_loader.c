/*
** test_loader.c -- loader and registry checks that need no fixture plugin:
** names, capability names, files that are not plugins, the search path,
** its defaults and spec resolution. Real plugins are in tests/plugin-api/abi.
*/
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "plugin/plugin.h"

/* ------------------------------------------------------------------------ */
/* A scratch directory per test                                             */
/* ------------------------------------------------------------------------ */

/* Sizes small enough for gcc to prove nothing below is truncated. */
#define DIR_MAX  256
#define PATH_BUF 512
#define MSG_BUF  2048

struct scratch {
  char dir[DIR_MAX]; /* real path */
  char *saved_cwd;
};

static int scratch_setup(void **state)
{
  struct scratch *s = calloc(1, sizeof *s);
  char tmpl[] = "/tmp/xtstore-test-loader.XXXXXX";
  char *dir;

  if (!s || !mkdtemp(tmpl) || !(dir = realpath(tmpl, NULL)))
    return -1;
  snprintf(s->dir, sizeof s->dir, "%s", dir);
  free(dir);
  s->saved_cwd = getcwd(NULL, 0);
  *state = s;
  return 0;
}

static int scratch_teardown(void **state)
{
  struct scratch *s = *state;
  char cmd[DIR_MAX + 16];
  int rc;

  if (s->saved_cwd && chdir(s->saved_cwd))
    return -1;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
  rc = system(cmd);
  free(s->saved_cwd);
  free(s);
  return rc;
}

/* dir/name, written with `content` (directories are created as needed). */
static const char *scratch_file(struct scratch *s, const char *name,
                                const char *content)
{
  static char path[PATH_BUF];
  char *slash;
  FILE *f;

  snprintf(path, sizeof path, "%s/%s", s->dir, name);
  for (slash = strchr(path + strlen(s->dir) + 1, '/'); slash;
       slash = strchr(slash + 1, '/')) {
    *slash = '\0';
    if (mkdir(path, 0700) && errno != EEXIST)
      fail_msg("mkdir %s: %s", path, strerror(errno));
    *slash = '/';
  }
  f = fopen(path, "w");
  assert_non_null(f);
  fputs(content, f);
  fclose(f);
  return path;
}

/* ------------------------------------------------------------------------ */
/* Names                                                                    */
/* ------------------------------------------------------------------------ */

static void test_plugin_names(void **state)
{
  static const char *good[] = { "local", "s3", "store_x-1", "a",
    "0123456789012345678901234567890123456789012345678901234567890123" };
  static const char *bad[] = { "", "Local", "bad name", "a/b", "a.b", "ü",
    "01234567890123456789012345678901234567890123456789012345678901234" };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof good / sizeof good[0]; i++)
    assert_true(st_plugin_name_valid(good[i]));
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_false(st_plugin_name_valid(bad[i]));
  assert_false(st_plugin_name_valid(NULL));
}

static void test_capability_names(void **state)
{
  static const struct {
    uint64_t bit;
    const char *name;
  } caps[] = {
    { STORE_CAP_CONTAINERS, "containers" },
    { STORE_CAP_RANGE_GET, "range-get" },
    { STORE_CAP_METADATA, "metadata" },
    { STORE_CAP_APPEND, "append" },
    { STORE_CAP_SNAPSHOT, "snapshot" },
    { STORE_CAP_COPY, "copy" },
    { STORE_CAP_MULTIPART, "multipart" },
    { STORE_CAP_CONDITIONAL, "conditional" },
    { STORE_CAP_THREADSAFE, "threadsafe" },
    { STORE_CAP_CONTENT_TYPE, "content-type" },
    { STORE_CAP_DIR_MARKERS, "dir-markers" },
    { STORE_CAP_CONTAINER_METADATA, "container-metadata" },
    { STORE_CAP_PRESIGN, "presign" },
    { STORE_CAP_DELETE_IF_MATCH, "delete-if-match" },
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof caps / sizeof caps[0]; i++)
    assert_string_equal(st_capability_name(caps[i].bit), caps[i].name);
  assert_null(st_capability_name(0));
  assert_null(st_capability_name(UINT64_C(1) << 14));
  assert_null(st_capability_name(STORE_CAP_CONTAINERS | STORE_CAP_COPY));
}

/* ------------------------------------------------------------------------ */
/* Files that are not plugins                                               */
/* ------------------------------------------------------------------------ */

static void expect_load_error(const char *path, int want_rc,
                              const char *want_tail)
{
  st_module *m = (st_module *)&m;
  char want[MSG_BUF], err[MSG_BUF];

  snprintf(want, sizeof want, "plugin %s: %s", path, want_tail);
  assert_int_equal(st_module_load(path, &m, err, sizeof err), want_rc);
  assert_null(m);
  assert_string_equal(err, want);
}

static void test_load_missing(void **state)
{
  struct scratch *s = *state;
  char path[PATH_BUF];

  snprintf(path, sizeof path, "%s/store-none.so", s->dir);
  expect_load_error(path, STORE_E_NOT_FOUND, "not found");
}

static void test_load_directory(void **state)
{
  struct scratch *s = *state;

  expect_load_error(s->dir, STORE_E_INVALID, "not a regular file");
}

static void test_load_text_file(void **state)
{
  struct scratch *s = *state;

  expect_load_error(
      scratch_file(s, "store-text.so",
                   "#!/bin/sh\n# a shell script is not a plugin, however "
                   "it is named; this line makes it long enough\n"),
      STORE_E_INVALID, "not a shared object: invalid ELF header");
  expect_load_error(scratch_file(s, "store-empty.so", ""), STORE_E_INVALID,
                    "not a shared object: file too short");
}

/* Concurrent loads serialise on libltdl's lock and each get their own
 * message. */
static void *load_text(void *arg)
{
  st_module *m;
  char err[MSG_BUF];

  if (st_module_load(arg, &m, err, sizeof err) != STORE_E_INVALID)
    return (void *)1;
  return strstr(err, "invalid ELF header") ? NULL : (void *)1;
}

static void test_load_concurrently(void **state)
{
  struct scratch *s = *state;
  const char *path = scratch_file(s, "store-text.so",
                                  "plain text, plain text, plain text, "
                                  "plain text, plain text, plain text\n");
  pthread_t t[4];
  void *res;
  int i;

  for (i = 0; i < 4; i++)
    assert_int_equal(pthread_create(&t[i], NULL, load_text, (void *)path), 0);
  for (i = 0; i < 4; i++) {
    assert_int_equal(pthread_join(t[i], &res), 0);
    assert_null(res);
  }
}

/* ------------------------------------------------------------------------ */
/* Search path                                                              */
/* ------------------------------------------------------------------------ */

static st_registry *new_registry(void)
{
  st_registry *reg = NULL;

  assert_int_equal(st_registry_new(NULL, &reg), 0);
  return reg;
}

static void test_dirs_and_path_list(void **state)
{
  st_registry *reg = new_registry();

  (void)state;
  setenv("HOME", "/home/tester", 1);
  assert_int_equal(st_registry_add_dir(reg, "/a"), 0);
  assert_int_equal(st_registry_add_dir(reg, ""), 0);
  assert_int_equal(st_registry_add_dir(reg, "~/p"), 0);
  assert_int_equal(st_registry_add_path_list(reg, ":/b::~:/a:"), 0);
  assert_int_equal(st_registry_dir_count(reg), 5);
  assert_string_equal(st_registry_dir_at(reg, 0), "/a");
  assert_string_equal(st_registry_dir_at(reg, 1), "/home/tester/p");
  assert_string_equal(st_registry_dir_at(reg, 2), "/b");
  assert_string_equal(st_registry_dir_at(reg, 3), "/home/tester");
  assert_string_equal(st_registry_dir_at(reg, 4), "/a"); /* no dedup */
  assert_null(st_registry_dir_at(reg, 5));
  st_registry_free(reg);
}

static void test_user_dir(void **state)
{
  char buf[PATH_MAX];

  (void)state;
  setenv("HOME", "/home/tester", 1);
  setenv("XDG_DATA_HOME", "/xdg/data", 1);
  assert_int_equal(st_registry_user_dir(buf, sizeof buf), 0);
  assert_string_equal(buf, "/xdg/data/xtstore/plugins");
  /* A relative XDG_DATA_HOME is ignored, as the XDG spec says. */
  setenv("XDG_DATA_HOME", "relative", 1);
  assert_int_equal(st_registry_user_dir(buf, sizeof buf), 0);
  assert_string_equal(buf, "/home/tester/.local/share/xtstore/plugins");
  unsetenv("XDG_DATA_HOME");
  assert_int_equal(st_registry_user_dir(buf, sizeof buf), 0);
  assert_string_equal(buf, "/home/tester/.local/share/xtstore/plugins");
  assert_int_equal(st_registry_user_dir(buf, 10), -1);
  unsetenv("HOME");
  assert_int_equal(st_registry_user_dir(buf, sizeof buf), -1);
  setenv("HOME", "/home/tester", 1);
}

static int has_dir(const st_registry *reg, const char *dir)
{
  size_t i;

  for (i = 0; i < st_registry_dir_count(reg); i++)
    if (!strcmp(st_registry_dir_at(reg, i), dir))
      return 1;
  return 0;
}

/* User dir first; this test binary lives in the build tree, so the
 * build's plugin dir (when built) follows; the install dir comes last. */
static void test_defaults(void **state)
{
  st_registry *reg = new_registry();
  char build_plugins[PATH_MAX];
  struct stat st;
  size_t n;

  (void)state;
  setenv("XDG_DATA_HOME", "/xdg/data", 1);
  assert_int_equal(st_registry_add_dir(reg, "/first"), 0);
  assert_int_equal(st_registry_add_defaults(reg), 0);
  unsetenv("XDG_DATA_HOME");
  n = st_registry_dir_count(reg);
  assert_true(n >= 3);
  assert_string_equal(st_registry_dir_at(reg, 0), "/first");
  assert_string_equal(st_registry_dir_at(reg, 1), "/xdg/data/xtstore/plugins");
  assert_true(strstr(st_registry_dir_at(reg, n - 1), "/xtstore/plugins"));
  snprintf(build_plugins, sizeof build_plugins, "%s/plugins", TEST_BINDIR);
  if (!stat(build_plugins, &st) && S_ISDIR(st.st_mode))
    assert_true(has_dir(reg, build_plugins));
  st_registry_free(reg);
}

static void test_resolve_by_name(void **state)
{
  struct scratch *s = *state;
  st_registry *reg = new_registry();
  char a[PATH_BUF], b[PATH_BUF], want[MSG_BUF], buf[PATH_MAX], err[MSG_BUF];

  snprintf(a, sizeof a, "%s/a", s->dir);
  snprintf(b, sizeof b, "%s/b", s->dir);
  scratch_file(s, "b/store-x.so", "x");
  scratch_file(s, "b/store-y.so", "y");
  scratch_file(s, "a/store-y.so", "y");
  assert_int_equal(st_registry_add_dir(reg, a), 0);
  assert_int_equal(st_registry_add_dir(reg, b), 0);

  snprintf(want, sizeof want, "%s/store-x.so", b);
  assert_int_equal(st_registry_resolve(reg, "store-x", buf, sizeof buf, err,
                                       sizeof err), 0);
  assert_string_equal(buf, want);
  assert_int_equal(st_registry_resolve(reg, "store-x.so", buf, sizeof buf,
                                       err, sizeof err), 0);
  assert_string_equal(buf, want);
  /* The first directory wins. */
  snprintf(want, sizeof want, "%s/store-y.so", a);
  assert_int_equal(st_registry_resolve(reg, "store-y", buf, sizeof buf, err,
                                       sizeof err), 0);
  assert_string_equal(buf, want);

  snprintf(want, sizeof want, "plugin 'store-z' not found in: %s, %s", a, b);
  assert_int_equal(st_registry_resolve(reg, "store-z", buf, sizeof buf, err,
                                       sizeof err), STORE_E_NOT_FOUND);
  assert_string_equal(err, want);
  st_registry_free(reg);
}

static void test_resolve_errors(void **state)
{
  st_registry *reg = new_registry();
  char buf[PATH_MAX], err[512];

  (void)state;
  assert_int_equal(st_registry_resolve(reg, "store-x", buf, sizeof buf, err,
                                       sizeof err), STORE_E_NOT_FOUND);
  assert_string_equal(err, "plugin 'store-x' not found: the plugin search "
                           "path is empty");
  assert_int_equal(st_registry_resolve(reg, "", buf, sizeof buf, err,
                                       sizeof err), STORE_E_INVALID);
  assert_string_equal(err, "plugin spec is empty");
  /* A long search path: whole directories and a count of the rest, never
   * a path cut in the middle, never overflowed. */
  for (int i = 0; i < 40; i++)
    assert_int_equal(st_registry_add_dir(reg, "/a/long/plugin/directory"),
                     0);
  assert_int_equal(st_registry_resolve(reg, "store-x", buf, sizeof buf, err,
                                       64), STORE_E_NOT_FOUND);
  assert_string_equal(err, "plugin 'store-x' not found in: 40 more "
                           "directories");
  assert_int_equal(st_registry_resolve(reg, "store-x", buf, sizeof buf, err,
                                       sizeof err), STORE_E_NOT_FOUND);
  assert_non_null(strstr(err, "not found in: /a/long/plugin/directory, "));
  assert_non_null(strstr(err, " more directories"));
  st_registry_free(reg);
}

static void test_resolve_by_path(void **state)
{
  struct scratch *s = *state;
  st_registry *reg = new_registry();
  char want[MSG_BUF], buf[PATH_MAX], err[MSG_BUF];

  scratch_file(s, "lib/store-p.so", "p");
  snprintf(want, sizeof want, "%s/lib/store-p.so", s->dir);
  /* Absolute. */
  assert_int_equal(st_registry_resolve(reg, want, buf, sizeof buf, err,
                                       sizeof err), 0);
  assert_string_equal(buf, want);
  /* Relative to the current directory; the search path is not used. */
  assert_int_equal(chdir(s->dir), 0);
  assert_int_equal(st_registry_resolve(reg, "lib/store-p.so", buf, sizeof buf,
                                       err, sizeof err), 0);
  assert_string_equal(buf, want);
  /* `~` is $HOME. */
  setenv("HOME", s->dir, 1);
  assert_int_equal(st_registry_resolve(reg, "~/lib/store-p.so", buf,
                                       sizeof buf, err, sizeof err), 0);
  assert_string_equal(buf, want);
  setenv("HOME", "/home/tester", 1);
  /* A path that does not exist is not searched for. */
  snprintf(want, sizeof want, "plugin %s/lib/nope.so: not found", s->dir);
  assert_int_equal(st_registry_resolve(reg, "./lib/nope.so", buf, sizeof buf,
                                       err, sizeof err), STORE_E_NOT_FOUND);
  assert_string_equal(err, want);
  st_registry_free(reg);
}

/* The loader's message comes through the registry for a named spec too. */
static void test_registry_load_text_file(void **state)
{
  struct scratch *s = *state;
  st_registry *reg = new_registry();
  const st_module *m = (const st_module *)&m;
  char dir[PATH_BUF], want[MSG_BUF], err[MSG_BUF];

  snprintf(want, sizeof want, "plugin %s: not a shared object: invalid ELF "
           "header", scratch_file(s, "p/store-t.so",
                                  "not an ELF file, but long enough to have "
                                  "a header of sixty-four bytes or more\n"));
  snprintf(dir, sizeof dir, "%s/p", s->dir);
  assert_int_equal(st_registry_add_dir(reg, dir), 0);
  assert_int_equal(st_registry_load(reg, "store-t", &m, err, sizeof err),
                   STORE_E_INVALID);
  assert_null(m);
  assert_string_equal(err, want);
  st_registry_free(reg);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_plugin_names),
    cmocka_unit_test(test_capability_names),
    cmocka_unit_test_setup_teardown(test_load_missing, scratch_setup,
                                    scratch_teardown),
    cmocka_unit_test_setup_teardown(test_load_directory, scratch_setup,
                                    scratch_teardown),
    cmocka_unit_test_setup_teardown(test_load_text_file, scratch_setup,
                                    scratch_teardown),
    cmocka_unit_test_setup_teardown(test_load_concurrently, scratch_setup,
                                    scratch_teardown),
    cmocka_unit_test(test_dirs_and_path_list),
    cmocka_unit_test(test_user_dir),
    cmocka_unit_test(test_defaults),
    cmocka_unit_test_setup_teardown(test_resolve_by_name, scratch_setup,
                                    scratch_teardown),
    cmocka_unit_test(test_resolve_errors),
    cmocka_unit_test_setup_teardown(test_resolve_by_path, scratch_setup,
                                    scratch_teardown),
    cmocka_unit_test_setup_teardown(test_registry_load_text_file,
                                    scratch_setup, scratch_teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
