/*
** test_abi.c -- the ABI compatibility suite: the frozen-header fixtures
** through st_module_load and the registry.
**
** Every rejection is checked against its whole one-line message, so a
** message that stops naming its check fails here.
*/
#include <dlfcn.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "layout_v1_0.h"
#include "layout_v1_1.h"
#include "plugin/plugin.h"
#include "mem_src.h"

/* Signature lock: every 1.0 function pointer and callback type, exactly. */
#define SIG_FIELD(t, f, type)                                                 \
  _Static_assert(__builtin_types_compatible_p(                              \
                     __typeof__(((struct t *)0)->f), type),                 \
                 "ABI 1.0: the type of " #t "." #f " changed");
#define SIG_TYPEDEF(n, type)                                                  \
  _Static_assert(__builtin_types_compatible_p(n, type),                      \
                 "ABI 1.0: the type " #n " changed");
ST_SIGNATURES_V1_0(SIG_FIELD, SIG_TYPEDEF)

/* The 1.1 lock (layout_v1_1.h): not frozen yet, but no 1.1 slot, op type,
 * field or constant changes without the same change there. */
#define SIG_FIELD_V1_1(t, f, type)                                            \
  _Static_assert(__builtin_types_compatible_p(                              \
                     __typeof__(((struct t *)0)->f), type),                 \
                 "ABI 1.1: the type of " #t "." #f " changed: "             \
                 "layout_v1_1.h");
#define SIG_TYPEDEF_V1_1(n, type)                                             \
  _Static_assert(__builtin_types_compatible_p(n, type),                      \
                 "ABI 1.1: the type " #n " changed: layout_v1_1.h");
ST_SIGNATURES_V1_1(SIG_FIELD_V1_1, SIG_TYPEDEF_V1_1)
#define FIELD_V1_1(t, f, type, prev)                                          \
  _Static_assert(__builtin_types_compatible_p(                              \
                     __typeof__(((struct t *)0)->f), type) &&               \
                     offsetof(struct t, f) >= offsetof(struct t, prev) +    \
                         (offsetof(struct t, f) != offsetof(struct t, prev)  \
                              ? sizeof(((struct t *)0)->prev)               \
                              : 0),                                         \
                 "ABI 1.1: " #t "." #f " changed type or place: "           \
                 "layout_v1_1.h");
ST_FIELDS_V1_1(FIELD_V1_1)
#define CONST_V1_1(m, v)                                                      \
  _Static_assert((m) == (v), "ABI 1.1: " #m " changed: layout_v1_1.h");
ST_CONSTANTS_V1_1(CONST_V1_1)

/* Every slot has its op type, store_<slot>_op, the type plugins declare
 * their ops with (so the 1.0 lock above covers those types too). */
#define SLOT_OP(f)                                                            \
  _Static_assert(__builtin_types_compatible_p(                              \
                     __typeof__(((struct store_interface *)0)->f),          \
                     store_##f##_op *),                                     \
                 "store_" #f "_op is not the type of slot " #f);
SLOT_OP(module_init) SLOT_OP(module_fini) SLOT_OP(open) SLOT_OP(close)
SLOT_OP(container_create) SLOT_OP(container_delete) SLOT_OP(container_list)
SLOT_OP(container_head) SLOT_OP(container_set_metadata) SLOT_OP(blob_put)
SLOT_OP(blob_get) SLOT_OP(blob_head) SLOT_OP(blob_delete) SLOT_OP(blob_list)
SLOT_OP(blob_set_metadata) SLOT_OP(blob_copy) SLOT_OP(blob_append)
SLOT_OP(blob_snapshot) SLOT_OP(multipart_begin) SLOT_OP(multipart_part)
SLOT_OP(multipart_complete) SLOT_OP(multipart_abort)
SLOT_OP(multipart_part_checked) SLOT_OP(blob_delete_batch) SLOT_OP(blob_presign)
SLOT_OP(multipart_list) SLOT_OP(blob_copy_checked)
/* A slot appended later is added to the list above with its op type. */
_Static_assert(sizeof(struct store_interface) ==
                   offsetof(struct store_interface, blob_copy_checked) +
                       sizeof(void (*)(void)),
               "a new slot of store_interface: give it a store_<slot>_op "
               "and a SLOT_OP line here");

#define FX(name) ABI_FIXTURE_DIR "/store-fx-" name ".so"
#define GOOD ABI_FIXTURE_DIR "/store-abi-v1-0.so"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* The host names files by their real path. */
static const char *real(const char *path)
{
  static char buf[PATH_MAX];

  assert_non_null(realpath(path, buf));
  return buf;
}

/* The good fixture's module_init / module_fini call counters. */
static uint32_t fixture_counter(const char *name)
{
  void *dl = dlopen(GOOD, RTLD_NOW | RTLD_NOLOAD);
  uint32_t *p;

  assert_non_null(dl);
  p = dlsym(dl, name);
  assert_non_null(p);
  dlclose(dl);
  return *p;
}

static void quiet_log(void *ctx, int32_t level, const char *msg)
{
  (void)ctx;
  (void)level;
  (void)msg;
}

static int32_t never_cancelled(void *ctx)
{
  (void)ctx;
  return 0;
}

static const store_host_api test_host = {
  .struct_size = sizeof(store_host_api),
  .abi_major = STORE_ABI_MAJOR,
  .abi_minor = STORE_ABI_MINOR,
  .log = quiet_log,
  .is_cancelled = never_cancelled,
};

static void reset_error(store_error *e)
{
  memset(e, 0, sizeof *e);
  e->struct_size = sizeof *e;
}

/* ------------------------------------------------------------------------ */
/* Rejections: one case per check                                           */
/* ------------------------------------------------------------------------ */

struct reject_case {
  const char *file;
  const char *tail; /* the message after "plugin REALPATH: " */
};

static const struct reject_case reject_cases[] = {
  { FX("not_elf"), "not a shared object: invalid ELF header" },
  { FX("unresolved"), "unresolved symbol: undefined symbol: st_fixture_missing" },
  { FX("unresolved_lazy"),
    "unresolved symbol: undefined symbol: st_fixture_missing" },
  { FX("no_symbol"), "no 'store_interface' symbol: not an xtstore plugin" },
  { FX("v2_symbol"), "ABI major 2 not supported: exports 'store_interface_v2' "
                     "(built for ABI major 2), host 1.1" },
  { FX("tiny_symbol"),
    "symbol 'store_interface' is 8 bytes, smaller than the ABI header" },
  { FX("major2"), "ABI major 2 not supported: plugin 2.0, host 1.1" },
  { FX("minor99"), "ABI minor too new: plugin built for ABI 1.99, newer than "
                   "this host's 1.1; upgrade xtstore" },
  { FX("small"), "struct_size 40 too small for ABI 1.0 (needs >= 240)" },
  { FX("short_object"), "struct_size 240 larger than the exported "
                        "'store_interface' object (24 bytes)" },
  { FX("reserved"), "reserved header field is 7, must be 0" },
  { FX("bad_name"),
    "invalid plugin name 'Bad Name': must match [a-z0-9_-]{1,64}" },
  { FX("null_name"), "invalid plugin name: name is NULL" },
  { FX("null_op"), "required op 'blob_get' is NULL" },
  { FX("cap_no_op"),
    "capability 'multipart' declared but op 'multipart_abort' is NULL" },
  { FX("cap_container_meta"), "capability 'container-metadata' declared but "
                              "op 'container_set_metadata' is NULL" },
};

static void test_reject(void **state)
{
  const struct reject_case *c = *state;
  char want[PATH_MAX + 256];
  char err[PATH_MAX + 256];
  st_module *m = (st_module *)&m; /* must be reset to NULL */
  int rc;

  snprintf(want, sizeof want, "plugin %s: %s", real(c->file), c->tail);
  rc = st_module_load(c->file, &m, err, sizeof err);
  assert_int_equal(rc, STORE_E_INVALID);
  assert_null(m);
  assert_string_equal(err, want);
}

static void test_not_found(void **state)
{
  st_module *m = (st_module *)&m;
  char err[PATH_MAX + 64];

  (void)state;
  assert_int_equal(st_module_load(FX("missing"), &m, err, sizeof err),
                   STORE_E_NOT_FOUND);
  assert_null(m);
  assert_string_equal(err, "plugin " FX("missing") ": not found");
}

/* The sizes in the messages above are LP64's (x86_64, aarch64): the 1.0
 * table, and the short fixture's header plus name pointer. */
static void test_lp64_sizes(void **state)
{
  (void)state;
  assert_int_equal(STORE_INTERFACE_V1_0_SIZE, 240);
  assert_int_equal(offsetof(struct store_interface, name) + sizeof(char *),
                   24);
}

/* ------------------------------------------------------------------------ */
/* Acceptance                                                               */
/* ------------------------------------------------------------------------ */

static void test_good_loads(void **state)
{
  st_module *m = NULL;
  char err[512];

  (void)state;
  assert_int_equal(st_module_load(GOOD, &m, err, sizeof err), 0);
  assert_non_null(m);
  assert_string_equal(m->path, real(GOOD));
  assert_string_equal(m->iface.name, "abi-v1-0");
  assert_int_equal(m->plugin_struct_size, STORE_INTERFACE_V1_0_SIZE);
  assert_int_equal(m->iface.abi_major, 1);
  assert_int_equal(m->iface.abi_minor, 0);
  assert_non_null(m->iface.blob_list);
  assert_non_null(m->iface.container_head);
  assert_null(m->iface.blob_append); /* absent ops read as NULL */
  assert_null(m->iface.multipart_abort);
  assert_int_equal(m->initialized, 0);    /* module_init is the registry's */
  st_module_free(m);
}

static void test_unknown_capability_accepted(void **state)
{
  st_module *m = NULL;
  char err[512];

  (void)state;
  assert_int_equal(st_module_load(FX("unknown_cap"), &m, err, sizeof err), 0);
  assert_true(m->iface.capabilities & (UINT64_C(1) << 40));
  st_module_free(m);
}

/* A failure message is truncated to the caller's buffer, NUL-terminated. */
static void test_message_truncated_to_buffer(void **state)
{
  char err[16];
  st_module *m;

  (void)state;
  memset(err, 'x', sizeof err);
  assert_int_not_equal(st_module_load(FX("major2"), &m, err, sizeof err), 0);
  assert_int_equal(strlen(err), sizeof err - 1);
  assert_memory_equal(err, "plugin /", 8);
}

/* ------------------------------------------------------------------------ */
/* Layout lock: the frozen 1.0 layout as the fixture was compiled against   */
/* it, versus the current header.                                           */
/* ------------------------------------------------------------------------ */

#define CUR_FIELD(t, f) { #t "." #f, (uint32_t)offsetof(struct t, f) },
#define CUR_SIZE(t) { "sizeof " #t, (uint32_t)sizeof(struct t) },
#define CUR_CONST(c) { #c, (uint64_t)(c) },

static const struct {
  const char *what;
  uint32_t value;
} cur_layout[] = { ST_LAYOUT_V1_0(CUR_FIELD, CUR_SIZE) };

static const struct {
  const char *what;
  uint64_t value;
} cur_constants[] = { ST_CONSTANTS_V1_0(CUR_CONST) };

static void test_layout_lock(void **state)
{
  const uint32_t *offs, *noffs, *nconst;
  const uint64_t *consts;
  size_t i, bad = 0;
  void *dl;

  (void)state;
  dl = dlopen(GOOD, RTLD_NOW | RTLD_LOCAL);
  assert_non_null(dl);
  offs = dlsym(dl, "store_fixture_offsets");
  noffs = dlsym(dl, "store_fixture_offsets_count");
  consts = dlsym(dl, "store_fixture_constants");
  nconst = dlsym(dl, "store_fixture_constants_count");
  assert_non_null(offs);
  assert_non_null(noffs);
  assert_non_null(consts);
  assert_non_null(nconst);
  assert_int_equal(*noffs, sizeof cur_layout / sizeof cur_layout[0]);
  assert_int_equal(*nconst, sizeof cur_constants / sizeof cur_constants[0]);
  for (i = 0; i < *noffs; i++) {
    /* A struct that starts with struct_size may grow at its end in 1.x;
     * the others (store_kv, store_config_key: arrays) never change size. */
    if (!strncmp(cur_layout[i].what, "sizeof ", 7) &&
        strcmp(cur_layout[i].what, "sizeof store_kv") &&
        strcmp(cur_layout[i].what, "sizeof store_config_key") &&
        cur_layout[i].value >= offs[i])
      continue;
    if (offs[i] != cur_layout[i].value) {
      print_error("layout changed: %s is %u, was %u in 1.0\n",
                  cur_layout[i].what, cur_layout[i].value, offs[i]);
      bad++;
    }
  }
  for (i = 0; i < *nconst; i++) {
    if (consts[i] != cur_constants[i].value) {
      print_error("constant changed: %s is %llu, was %llu in 1.0\n",
                  cur_constants[i].what,
                  (unsigned long long)cur_constants[i].value,
                  (unsigned long long)consts[i]);
      bad++;
    }
  }
  assert_int_equal(bad, 0);
  dlclose(dl);
}

/* ------------------------------------------------------------------------ */
/* The good fixture's ops, as far as this suite needs them                  */
/* ------------------------------------------------------------------------ */

/* Callback buffers are char[256]. */
#define OUT_SIZE 256

static int32_t collect_names(void *ctx, const store_entry *e)
{
  char *out = ctx;
  size_t have = strlen(out);

  snprintf(out + have, OUT_SIZE - have, "%s%s", e->name,
           (e->flags & STORE_ENTRY_PREFIX) ? "(p) " : " ");
  return 0;
}

static int32_t append_bytes(void *ctx, const void *buf, size_t len)
{
  char *out = ctx;
  size_t have = strlen(out);

  snprintf(out + have, OUT_SIZE - have, "%.*s", (int)len, (const char *)buf);
  return 0;
}

static void put(const struct store_interface *t, store_handle *h,
                const char *key, const char *body)
{
  struct mem_src src = { body, strlen(body), 0 };
  store_error e;

  reset_error(&e);
  assert_int_equal(t->blob_put(h, "c", key, NULL, mem_read, &src, NULL, &e),
                   0);
}

static void test_good_round_trip(void **state)
{
  store_get_opts range = { sizeof range, STORE_GET_RANGE, 2, 3, NULL, NULL,
                           NULL, NULL };
  store_list_opts dirs = { sizeof dirs, 0, "a/", "/", NULL, 0, 0 };
  const struct store_interface *t;
  store_handle *h = NULL;
  st_module *m = NULL;
  char out[OUT_SIZE] = "";
  store_error e;
  char err[512];

  (void)state;
  assert_int_equal(st_module_load(GOOD, &m, err, sizeof err), 0);
  t = &m->iface;
  reset_error(&e);
  assert_int_equal(t->open(&test_host, NULL, 0, &h, &e), 0);
  assert_int_equal(t->container_create(h, "c", NULL, 0, &e), 0);
  put(t, h, "a/x/1", "one");
  put(t, h, "a/y", "0123456789");
  put(t, h, "a/x/2", "two");
  put(t, h, "b", "bee");
  assert_int_equal(t->blob_list(h, "c", &dirs, collect_names, out, &e), 0);
  assert_string_equal(out, "a/x/(p) a/y ");
  out[0] = '\0';
  assert_int_equal(t->blob_get(h, "c", "a/y", &range, append_bytes, out, &e),
                   0);
  assert_string_equal(out, "234");
  t->close(h);
  st_module_free(m);
}

/* A plugin's 300-byte message arrives truncated to message[256] and
 * NUL-terminated, and nothing past the struct is touched. */
static void test_long_plugin_message_truncated(void **state)
{
  struct {
    store_error e;
    char canary[64];
  } buf;
  const struct store_interface *t;
  store_handle *h = NULL;
  st_module *m = NULL;
  char key[301];
  char err[512];

  (void)state;
  memset(key, 'k', 300);
  key[300] = '\0';
  assert_int_equal(st_module_load(GOOD, &m, err, sizeof err), 0);
  t = &m->iface;
  reset_error(&buf.e);
  memset(buf.canary, 0x5a, sizeof buf.canary);
  assert_int_equal(t->open(&test_host, NULL, 0, &h, &buf.e), 0);
  assert_int_equal(t->container_create(h, "c", NULL, 0, &buf.e), 0);
  assert_int_equal(t->blob_head(h, "c", key, NULL, NULL, NULL, &buf.e),
                   STORE_E_NOT_FOUND);
  assert_int_equal(buf.e.code, STORE_E_NOT_FOUND);
  assert_int_equal(strlen(buf.e.message), STORE_ERR_MSG_SIZE - 1);
  assert_memory_equal(buf.e.message, "blob 'c/kkk", 11);
  for (size_t i = 0; i < sizeof buf.canary; i++)
    assert_int_equal((unsigned char)buf.canary[i], 0x5a);
  t->close(h);
  st_module_free(m);
}

/* ------------------------------------------------------------------------ */
/* Registry                                                                 */
/* ------------------------------------------------------------------------ */

static st_registry *new_registry(void)
{
  st_registry *reg = NULL;

  assert_int_equal(st_registry_new(&test_host, &reg), 0);
  return reg;
}

static void test_registry_not_found_lists_dirs(void **state)
{
  st_registry *reg = new_registry();
  const st_module *m = (const st_module *)&m;
  char err[1024];

  (void)state;
  assert_int_equal(st_registry_add_dir(reg, "/nonexistent/a"), 0);
  assert_int_equal(st_registry_add_path_list(reg, "/nonexistent/b::"
                                                  ABI_FIXTURE_DIR),
                   0);
  assert_int_equal(st_registry_load(reg, "store-acme", &m, err, sizeof err),
                   STORE_E_NOT_FOUND);
  assert_null(m);
  assert_string_equal(err, "plugin 'store-acme' not found in: /nonexistent/a, "
                           "/nonexistent/b, " ABI_FIXTURE_DIR);
  st_registry_free(reg);
}

/* By name, by NAME.so, by absolute, relative and ~ paths: one module,
 * module_init once; module_fini once when the registry goes. */
static void test_registry_spec_forms(void **state)
{
  st_registry *reg = new_registry();
  const st_module *a = NULL, *b = NULL;
  char cwd[PATH_MAX], err[1024];
  const char *home = getenv("HOME");
  char *saved_home = home ? strdup(home) : NULL;

  uint32_t inits, finis;

  (void)state;
  assert_int_equal(st_registry_add_dir(reg, ABI_FIXTURE_DIR), 0);
  assert_int_equal(st_registry_load(reg, "store-abi-v1-0", &a, err,
                                    sizeof err), 0);
  assert_string_equal(a->iface.name, "abi-v1-0");
  assert_int_equal(a->initialized, 1);
  inits = fixture_counter("store_fixture_inits");
  finis = fixture_counter("store_fixture_finis");
  assert_int_equal(st_registry_load(reg, "store-abi-v1-0.so", &b, err,
                                    sizeof err), 0);
  assert_ptr_equal(a, b);
  assert_int_equal(st_registry_load(reg, GOOD, &b, err, sizeof err), 0);
  assert_ptr_equal(a, b);

  assert_non_null(getcwd(cwd, sizeof cwd));
  assert_int_equal(chdir(ABI_FIXTURE_DIR "/.."), 0);
  assert_int_equal(st_registry_load(reg, "fixtures/store-abi-v1-0.so", &b,
                                    err, sizeof err), 0);
  assert_ptr_equal(a, b);
  assert_int_equal(chdir(cwd), 0);

  setenv("HOME", ABI_FIXTURE_DIR, 1);
  assert_int_equal(st_registry_load(reg, "~/store-abi-v1-0.so", &b, err,
                                    sizeof err), 0);
  assert_ptr_equal(a, b);
  if (saved_home)
    setenv("HOME", saved_home, 1);
  else
    unsetenv("HOME");
  free(saved_home);

  /* however it was named, this registry initialised it once */
  assert_int_equal(fixture_counter("store_fixture_inits"), inits);
  st_registry_free(reg);
  assert_int_equal(fixture_counter("store_fixture_finis"), finis + 1);
}

/* Two registries (two host contexts) in one process: module_init once,
 * module_fini only when the last one lets go. */
static void test_registry_init_once_per_process(void **state)
{
  st_registry *r1 = new_registry(), *r2 = new_registry();
  const st_module *a = NULL, *b = NULL;
  char err[1024];
  uint32_t inits, finis;

  (void)state;
  assert_int_equal(st_registry_load(r1, GOOD, &a, err, sizeof err), 0);
  inits = fixture_counter("store_fixture_inits");
  finis = fixture_counter("store_fixture_finis");
  assert_int_equal(st_registry_load(r2, GOOD, &b, err, sizeof err), 0);
  assert_int_equal(fixture_counter("store_fixture_inits"), inits);
  st_registry_free(r1);
  assert_int_equal(fixture_counter("store_fixture_finis"), finis);
  st_registry_free(r2);
  assert_int_equal(fixture_counter("store_fixture_finis"), finis + 1);
  /* a new registry after that initialises it again */
  r1 = new_registry();
  assert_int_equal(st_registry_load(r1, GOOD, &a, err, sizeof err), 0);
  assert_int_equal(fixture_counter("store_fixture_inits"), inits + 1);
  st_registry_free(r1);
}

static void test_registry_path_not_found(void **state)
{
  st_registry *reg = new_registry();
  const st_module *m = NULL;
  char err[1024];

  (void)state;
  assert_int_equal(st_registry_load(reg, ABI_FIXTURE_DIR "/nope.so", &m, err,
                                    sizeof err), STORE_E_NOT_FOUND);
  assert_string_equal(err, "plugin " ABI_FIXTURE_DIR "/nope.so: not found");
  st_registry_free(reg);
}

static void test_registry_duplicate_name(void **state)
{
  st_registry *reg = new_registry();
  const st_module *a = NULL, *b = (const st_module *)&b;
  char want[3 * PATH_MAX], err[3 * PATH_MAX];
  char first[PATH_MAX];

  (void)state;
  assert_int_equal(st_registry_load(reg, FX("dup_a"), &a, err, sizeof err), 0);
  snprintf(first, sizeof first, "%s", real(FX("dup_a")));
  snprintf(want, sizeof want,
           "plugin %s: duplicate plugin name 'dup-name': already loaded from "
           "%s", real(FX("dup_b")), first);
  assert_int_equal(st_registry_load(reg, FX("dup_b"), &b, err, sizeof err),
                   STORE_E_EXISTS);
  assert_null(b);
  assert_string_equal(err, want);
  st_registry_free(reg);
}

static void test_registry_module_init_failure(void **state)
{
  st_registry *reg = new_registry();
  const st_module *m = (const st_module *)&m;
  char want[PATH_MAX + 128], err[PATH_MAX + 128];

  (void)state;
  snprintf(want, sizeof want,
           "plugin %s: module_init failed: licence token expired on "
           "2001-01-01", real(FX("init_fail")));
  assert_int_equal(st_registry_load(reg, FX("init_fail"), &m, err,
                                    sizeof err), STORE_E_AUTH);
  assert_null(m);
  assert_string_equal(err, want);
  st_registry_free(reg);
}

/* The loader's message passes through the registry unchanged. */
static void test_registry_passes_loader_message(void **state)
{
  st_registry *reg = new_registry();
  const st_module *m = NULL;
  char want[PATH_MAX + 128], err[PATH_MAX + 128];

  (void)state;
  snprintf(want, sizeof want, "plugin %s: ABI major 2 not supported: plugin "
           "2.0, host 1.1", real(FX("major2")));
  assert_int_equal(st_registry_add_dir(reg, ABI_FIXTURE_DIR), 0);
  assert_int_equal(st_registry_load(reg, "store-fx-major2", &m, err,
                                    sizeof err), STORE_E_INVALID);
  assert_string_equal(err, want);
  st_registry_free(reg);
}

int main(void)
{
  static const struct CMUnitTest fixed[] = {
    cmocka_unit_test(test_not_found),
    cmocka_unit_test(test_lp64_sizes),
    cmocka_unit_test(test_good_loads),
    cmocka_unit_test(test_unknown_capability_accepted),
    cmocka_unit_test(test_message_truncated_to_buffer),
    cmocka_unit_test(test_layout_lock),
    cmocka_unit_test(test_good_round_trip),
    cmocka_unit_test(test_long_plugin_message_truncated),
    cmocka_unit_test(test_registry_not_found_lists_dirs),
    cmocka_unit_test(test_registry_spec_forms),
    cmocka_unit_test(test_registry_init_once_per_process),
    cmocka_unit_test(test_registry_path_not_found),
    cmocka_unit_test(test_registry_duplicate_name),
    cmocka_unit_test(test_registry_module_init_failure),
    cmocka_unit_test(test_registry_passes_loader_message),
  };
  enum { NREJECT = sizeof reject_cases / sizeof reject_cases[0],
         NFIXED = sizeof fixed / sizeof fixed[0] };
  struct CMUnitTest tests[NREJECT + NFIXED];
  char names[NREJECT][64];
  size_t i;

  /* One named test per rejection case: "reject store-fx-major2.so". */
  for (i = 0; i < NREJECT; i++) {
    snprintf(names[i], sizeof names[i], "reject %s",
             strrchr(reject_cases[i].file, '/') + 1);
    tests[i] = (struct CMUnitTest){ names[i], test_reject, NULL, NULL,
                                    (void *)&reject_cases[i] };
  }
  for (i = 0; i < NFIXED; i++)
    tests[NREJECT + i] = fixed[i];
  return _cmocka_run_group_tests("abi", tests, NREJECT + NFIXED, NULL, NULL);
}
