/*
** test_config.c -- the config layer (host/config/): XT-style YAML, layers
** and merging, positioned errors, secret references, st_config_add_provider.
*/
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"

#define DATA TEST_SRCDIR "/tests/host/config/data/"

/* ------------------------------------------------------------- helpers */

static char tmpdir[256];

static void assert_contains_at(const char *hay, const char *needle,
                               const char *file, int line)
{
  if (!strstr(hay, needle)) {
    print_error("'%s' does not contain '%s'\n", hay, needle);
    _fail(file, line);
  }
}
#define assert_contains(h, n) assert_contains_at((h), (n), __FILE__, __LINE__)

static void assert_lacks_at(const char *hay, const char *needle,
                            const char *file, int line)
{
  if (strstr(hay, needle)) {
    print_error("'%s' contains '%s'\n", hay, needle);
    _fail(file, line);
  }
}
#define assert_lacks(h, n) assert_lacks_at((h), (n), __FILE__, __LINE__)

static void write_file(const char *path, const char *text, mode_t mode)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  size_t len = strlen(text);

  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, len), (ssize_t)len);
  assert_int_equal(fchmod(fd, mode), 0);
  assert_int_equal(close(fd), 0);
}

/* The whole file, malloc'd (caller frees). */
static char *slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;

  assert_non_null(f);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  n = ftell(f);
  assert_true(n >= 0);
  rewind(f);
  buf = calloc(1, (size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  return buf;
}

static void tmp_path(char *buf, size_t len, const char *name)
{
  int n = snprintf(buf, len, "%s/%s", tmpdir, name);
  assert_true(n > 0 && (size_t)n < len);
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* Each test gets an empty temporary directory, and an environment in
 * which no layer but the ones it asks for can leak in. */
static int setup(void **state)
{
  (void)state;
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_config.XXXXXX");
  if (!mkdtemp(tmpdir))
    return -1;
  unsetenv("XTSTORE_CONFIG");
  setenv("XDG_CONFIG_HOME", tmpdir, 1);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#define ALL_OFF (ST_CONFIG_NO_SYSTEM | ST_CONFIG_NO_USER | ST_CONFIG_NO_CWD)

static st_config *load_str(const char *yaml)
{
  st_config *cfg = NULL;
  char err[512] = "";

  if (st_config_load_string(yaml, "t.yaml", &cfg, err, sizeof(err))) {
    print_error("unexpected error: %s\n", err);
    fail();
  }
  return cfg;
}

/* st_config_load and st_config_load_files must succeed; the message is
 * shown when they do not. */
static st_config *load_layers(const char *explicit_path, unsigned flags)
{
  st_config *cfg = NULL;
  char err[512] = "";

  if (st_config_load(explicit_path, flags, &cfg, err, sizeof(err))) {
    print_error("unexpected error: %s\n", err);
    fail();
  }
  return cfg;
}

static st_config *load_files(const char *const *paths, size_t n,
                             int with_builtin)
{
  st_config *cfg = NULL;
  char err[512] = "";

  if (st_config_load_files(paths, n, with_builtin, &cfg, err, sizeof(err))) {
    print_error("unexpected error: %s\n", err);
    fail();
  }
  return cfg;
}

/* Load must fail; err is returned in buf. */
static void load_str_fails(const char *yaml, char *err, size_t errlen)
{
  st_config *cfg = (st_config *)1;

  err[0] = '\0';
  assert_int_equal(st_config_load_string(yaml, "t.yaml", &cfg, err, errlen),
                   -1);
  assert_null(cfg);
  assert_null(strchr(err, '\n'));
}

static void assert_load_error(const char *yaml, const char *expect)
{
  char err[512];

  load_str_fails(yaml, err, sizeof(err));
  assert_string_equal(err, expect);
}

static const char *kv_value(const st_service_cfg *s, const char *key)
{
  const st_cfg_kv *kv = st_config_service_kv(s, key);

  assert_non_null(kv);
  return kv->value;
}

/* ----------------------------------------------------------- parsing */

static void test_builtin_only(void **state)
{
  st_config *cfg = NULL;
  st_cfg_pos pos;

  (void)state;
  cfg = load_layers(NULL, ALL_OFF);
  assert_string_equal(st_config_provider(cfg, "storage", "local", &pos),
                      "store-local");
  assert_string_equal(pos.file, "<built-in>");
  assert_int_equal(pos.line, 0);
  assert_string_equal(st_config_provider(cfg, "storage", "s3", NULL),
                      "store-s3");
  assert_string_equal(st_config_provider(cfg, "storage", "azure", NULL),
                      "store-azure");
  assert_null(st_config_role(cfg, "storage", NULL));
  assert_null(st_config_role(cfg, "vault", NULL));
  assert_int_equal(st_config_file_count(cfg), 0);
  assert_int_equal(st_config_service_count(cfg), 0);
  assert_int_equal(st_config_plugin_path_count(cfg), 0);
  assert_non_null(strstr(st_config_builtin_yaml(), "store-local"));
  st_config_free(cfg);
}

/* The exact snippet of XT's syntax from the design. */
static void test_xt_snippet(void **state)
{
  const char *paths[] = {DATA "xt_snippet.yaml"};
  const char *name, *spec;
  const st_service_cfg *s;
  const st_cfg_kv *kv;
  st_config *cfg = NULL;
  st_cfg_pos pos;

  (void)state;
  cfg = load_files(paths, 1, 1);
  assert_string_equal(st_config_provider(cfg, "storage", "azure-blob-21", &pos),
                      "xtlib.storage.store_azure_blob21.AzureBlobStore21");
  assert_string_equal(pos.file, paths[0]);
  assert_int_equal(pos.line, 3);
  assert_int_equal(pos.col, 26);
  assert_string_equal(st_config_provider(cfg, "storage", "store-file", NULL),
                      "xtlib.storage.store_file.FileStore");
  /* built-in first, then the file's, in order */
  assert_int_equal(st_config_provider_at(cfg, "storage", 0, &name, &spec, NULL),
                   1);
  assert_string_equal(name, "local");
  assert_int_equal(st_config_provider_at(cfg, "storage", 1, &name, &spec, NULL),
                   1);
  assert_string_equal(name, "s3");
  assert_int_equal(st_config_provider_at(cfg, "storage", 2, &name, &spec, NULL),
                   1);
  assert_string_equal(name, "azure");
  assert_int_equal(st_config_provider_at(cfg, "storage", 3, &name, &spec, NULL),
                   1);
  assert_string_equal(name, "gcs");
  assert_int_equal(st_config_provider_at(cfg, "storage", 4, &name, &spec, NULL),
                   1);
  assert_string_equal(name, "oci");
  assert_int_equal(st_config_provider_at(cfg, "storage", 5, &name, &spec, NULL),
                   1);
  assert_string_equal(name, "azure-blob-21");
  assert_int_equal(st_config_provider_at(cfg, "storage", 6, &name, &spec, NULL),
                   1);
  assert_string_equal(name, "store-file");
  assert_int_equal(st_config_provider_at(cfg, "storage", 7, &name, &spec, NULL),
                   0);
  assert_null(name);

  assert_int_equal(st_config_service_count(cfg), 2);
  s = st_config_service_at(cfg, 0);
  assert_string_equal(s->name, "filestorage");
  assert_string_equal(s->type, "storage");
  assert_string_equal(s->provider, "store-file");
  assert_int_equal(s->pos.line, 7);
  assert_int_equal(s->pos.col, 5);
  assert_int_equal(s->nkv, 1);
  assert_string_equal(kv_value(s, "path"), "~/.xt/file_store");

  s = st_config_service(cfg, "lake");
  assert_non_null(s);
  assert_string_equal(s->provider, "azure");
  assert_int_equal(s->nkv, 3);
  assert_string_equal(s->kv[0].key, "account");
  assert_string_equal(s->kv[2].key, "endpoint");
  assert_string_equal(s->kv[2].value,
                      "http://127.0.0.1:10000/devstoreaccount1");
  kv = st_config_service_kv(s, "key");
  assert_non_null(kv);
  assert_string_equal(kv->value, "$env:AZURE_STORAGE_KEY"); /* raw */
  assert_int_equal(kv->pos.line, 9);
  assert_int_equal(kv->pos.col, 17);
  assert_null(st_config_service_kv(s, "type"));
  assert_null(st_config_service(cfg, "nope"));

  assert_string_equal(st_config_role(cfg, "storage", &pos), "filestorage");
  assert_int_equal(pos.line, 11);
  assert_null(st_config_role(cfg, "vault", &pos));
  assert_int_equal(pos.line, 12); /* present, but null */
  assert_null(st_config_role(cfg, "mongo", &pos));
  assert_int_equal(pos.line, 0);

  assert_int_equal(st_config_file_count(cfg), 1);
  assert_string_equal(st_config_file_at(cfg, 0), paths[0]);
  st_config_free(cfg);
}

static void test_xt_default_shape(void **state)
{
  const char *paths[] = {DATA "xt_default.yaml"};
  const char *name, *spec;
  const st_service_cfg *s;
  st_config *cfg = NULL;

  (void)state;
  cfg = load_files(paths, 1, 0);
  assert_string_equal(
    st_config_provider(cfg, "storage", "azure-blob-210", NULL),
                      "xtlib.storage.store_azure_blob210.AzureBlobStore210");
  /* without the built-in layer */
  assert_null(st_config_provider(cfg, "storage", "local", NULL));
  /* other categories are kept */
  assert_string_equal(st_config_provider(cfg, "hp-search", "random", NULL),
                      "xtlib.hparams.hp_search_random.RandomSearch");
  assert_int_equal(st_config_provider_at(cfg, "compute", 2, &name, &spec, NULL),
                   1);
  assert_string_equal(name, "aml");
  assert_string_equal(spec, "xtlib.backends.backend_aml.AzureML");

  assert_int_equal(st_config_service_count(cfg), 5);
  s = st_config_service(cfg, "winstorage");
  assert_string_equal(kv_value(s, "path"), "c:\\file_store");
  s = st_config_service(cfg, "phoenixmongodb");
  assert_string_equal(s->type, "mongo");
  assert_null(s->provider);
  assert_string_equal(kv_value(s, "mongo-connection-string"), "$vault");
  assert_string_equal(st_config_service(cfg, "sandbox-vault")->type, "vault");

  assert_null(st_config_role(cfg, "storage", NULL));
  assert_null(st_config_role(cfg, "mongo", NULL));
  assert_string_equal(st_config_role(cfg, "target", NULL), "local");
  st_config_free(cfg);
}

static void test_null_vs_quoted_null(void **state)
{
  st_config *cfg;
  const st_service_cfg *s;

  (void)state;
  cfg = load_str("xt-services:\n"
                 "  a: null\n"
                 "  b: ~\n"
                 "  c:\n"
                 "  d: \"null\"\n"
                 "  e: 'null'\n"
                 "  f: NULL\n"
                 "  g: !!null \"x\"\n"
                 "  h: !!str null\n"
                 "external-services:\n"
                 "  s: {type: storage, provider: null, k1: null, k2: \"null\", "
                 "k3: , k4: \"\"}\n");
  assert_null(st_config_role(cfg, "a", NULL));
  assert_null(st_config_role(cfg, "b", NULL));
  assert_null(st_config_role(cfg, "c", NULL));
  assert_string_equal(st_config_role(cfg, "d", NULL), "null");
  assert_string_equal(st_config_role(cfg, "e", NULL), "null");
  assert_null(st_config_role(cfg, "f", NULL));
  assert_null(st_config_role(cfg, "g", NULL));
  assert_string_equal(st_config_role(cfg, "h", NULL), "null");
  s = st_config_service(cfg, "s");
  assert_null(s->provider);
  assert_null(kv_value(s, "k1"));
  assert_string_equal(kv_value(s, "k2"), "null");
  assert_null(kv_value(s, "k3"));
  assert_string_equal(kv_value(s, "k4"), "");
  st_config_free(cfg);
}

static void test_flow_map_trailing_comma(void **state)
{
  st_config *cfg;
  const st_service_cfg *s;

  (void)state;
  cfg = load_str("external-services: {\n"
                 "  \"s\": {type: \"storage\",\n"
                 "     'provider': local,\n"
                 "     path: \"/x\", },\n"
                 "}\n");
  s = st_config_service(cfg, "s");
  assert_non_null(s);
  assert_string_equal(s->provider, "local");
  assert_string_equal(kv_value(s, "path"), "/x");
  st_config_free(cfg);
}

static void test_nested_map_flattened(void **state)
{
  st_config *cfg;
  const st_service_cfg *s;

  (void)state;
  cfg = load_str("external-services:\n"
                 "  s:\n"
                 "    type: storage\n"
                 "    tls: {verify: false, ca: {file: /ca.pem}}\n"
                 "    retry: 3\n"
                 "    empty: {}\n");
  s = st_config_service(cfg, "s");
  assert_int_equal(s->nkv, 3);
  assert_string_equal(s->kv[0].key, "tls.verify");
  assert_string_equal(s->kv[0].value, "false");
  assert_int_equal(s->kv[0].pos.line, 4);
  assert_int_equal(s->kv[0].pos.col, 19);
  assert_string_equal(s->kv[1].key, "tls.ca.file");
  assert_string_equal(s->kv[1].value, "/ca.pem");
  assert_string_equal(s->kv[2].key, "retry");
  st_config_free(cfg);
}

static void test_lazy_provider(void **state)
{
  st_config *cfg;
  const st_service_cfg *s;

  (void)state;
  cfg = load_str("external-services:\n"
                 "  half: {type: storage, path: /x}\n"
                 "  odd: {provider: local}\n");
  s = st_config_service(cfg, "half");
  assert_string_equal(s->type, "storage");
  assert_null(s->provider);
  s = st_config_service(cfg, "odd");
  assert_null(s->type);
  st_config_free(cfg);
}

static void test_unknown_kept_and_ignored(void **state)
{
  st_config *cfg;

  (void)state;
  cfg = load_str("general: {advanced-mode: false, list: [1, 2]}\n"
                 "compute-targets: [a, b]\n"
                 "providers:\n"
                 "  compute: [not, a, map]\n"
                 "  hp-search: {dgd: {nested: 1}}\n"
                 "  storage: {local: store-local}\n"
                 "external-services:\n"
                 "  db: {type: mongo, mongo-connection-string: \"$vault\"}\n"
                 "  thing: {type: teleporter, range: 5}\n");
  assert_int_equal(st_config_service_count(cfg), 2);
  assert_string_equal(st_config_service(cfg, "thing")->type, "teleporter");
  assert_null(st_config_provider(cfg, "compute", "not", NULL));
  assert_null(st_config_provider(cfg, "hp-search", "dgd", NULL));
  assert_string_equal(st_config_provider(cfg, "storage", "local", NULL),
                      "store-local");
  st_config_free(cfg);
}

static void test_plugin_path(void **state)
{
  st_config *cfg;

  (void)state;
  setenv("HOME", "/home/tester", 1);
  cfg = load_str("plugin-path: \"~/p1::/p2:\"\n");
  assert_int_equal(st_config_plugin_path_count(cfg), 2);
  assert_string_equal(st_config_plugin_path_at(cfg, 0), "/home/tester/p1");
  assert_string_equal(st_config_plugin_path_at(cfg, 1), "/p2");
  assert_null(st_config_plugin_path_at(cfg, 2));
  st_config_free(cfg);

  cfg = load_str("plugin-path:\n  - \"~\"\n  - /a:b\n  - ~x/y\n");
  assert_int_equal(st_config_plugin_path_count(cfg), 3);
  assert_string_equal(st_config_plugin_path_at(cfg, 0), "/home/tester");
  assert_string_equal(st_config_plugin_path_at(cfg, 1), "/a:b");
  assert_string_equal(st_config_plugin_path_at(cfg, 2), "~x/y");
  st_config_free(cfg);
}

static void test_empty_files(void **state)
{
  st_config *cfg;

  (void)state;
  cfg = load_str("");
  assert_int_equal(st_config_service_count(cfg), 0);
  st_config_free(cfg);
  cfg = load_str("# only a comment\n");
  st_config_free(cfg);
  cfg = load_str("---\n");
  st_config_free(cfg);
  cfg = load_str("providers:\nexternal-services:\nxt-services:\n");
  assert_null(st_config_provider(cfg, "storage", "local", NULL));
  st_config_free(cfg);
}

/* ------------------------------------------------------------ merging */

static void test_merge_two_layers(void **state)
{
  const char *paths[] = {DATA "layer1.yaml", DATA "layer2.yaml"};
  const st_service_cfg *s;
  const st_cfg_kv *kv;
  st_config *cfg = NULL;

  (void)state;
  cfg = load_files(paths, 2, 1);
  /* providers: built-in + both layers */
  assert_string_equal(st_config_provider(cfg, "storage", "local", NULL),
                      "store-local");
  assert_string_equal(st_config_provider(cfg, "storage", "s3", NULL),
                      "store-s3");
  assert_string_equal(st_config_provider(cfg, "storage", "acme", NULL),
                      "/opt/acme/lib/store-acme.so");
  /* one property overridden, the rest kept; order of first appearance */
  assert_int_equal(st_config_service_count(cfg), 3);
  assert_string_equal(st_config_service_at(cfg, 0)->name, "scratch");
  assert_string_equal(st_config_service_at(cfg, 1)->name, "lake");
  assert_string_equal(st_config_service_at(cfg, 2)->name, "archive");
  s = st_config_service(cfg, "scratch");
  assert_string_equal(s->type, "storage");
  assert_string_equal(s->provider, "local");
  assert_string_equal(s->pos.file, paths[0]);
  kv = st_config_service_kv(s, "path");
  assert_string_equal(kv->value, "~/scratch");
  assert_string_equal(kv->pos.file, paths[1]); /* follows the winner */
  assert_int_equal(kv->pos.line, 7);
  assert_string_equal(kv_value(s, "tls.verify"), "true");
  assert_string_equal(kv_value(s, "tls.ca"), "/etc/ca.pem");
  /* lists are replaced, not appended */
  assert_int_equal(st_config_plugin_path_count(cfg), 1);
  assert_string_equal(st_config_plugin_path_at(cfg, 0), "/home/p");
  assert_string_equal(st_config_role(cfg, "storage", NULL), "scratch");
  assert_string_equal(st_config_role(cfg, "vault", NULL), "keys");
  assert_int_equal(st_config_file_count(cfg), 2);
  st_config_free(cfg);
}

static void test_merge_three_layers(void **state)
{
  const char *paths[] = {DATA "layer1.yaml", DATA "layer2.yaml",
                         DATA "layer3.yaml"};
  const st_service_cfg *s;
  const st_cfg_kv *kv;
  st_config *cfg = NULL;
  st_cfg_pos pos;

  (void)state;
  cfg = load_files(paths, 3, 1);
  /* null sections and entries change nothing */
  assert_string_equal(st_config_provider(cfg, "storage", "local", NULL),
                      "store-local");
  assert_string_equal(st_config_provider(cfg, "storage", "s3", NULL),
                      "store-s3");
  assert_string_equal(st_config_provider(cfg, "storage", "acme", NULL),
                      "/opt/acme/lib/store-acme.so");
  assert_string_equal(kv_value(st_config_service(cfg, "lake"), "bucket"),
                      "b1");
  assert_int_equal(st_config_plugin_path_count(cfg), 1);
  /* a nested property of the third layer over two others */
  s = st_config_service(cfg, "scratch");
  assert_string_equal(s->provider, "local");
  assert_string_equal(kv_value(s, "path"), "~/scratch");
  kv = st_config_service_kv(s, "tls.verify");
  assert_string_equal(kv->value, "false");
  assert_string_equal(kv->pos.file, paths[2]);
  assert_string_equal(kv_value(s, "tls.ca"), "/etc/ca.pem");
  /* a role changed, and one unset by an explicit null */
  assert_string_equal(st_config_role(cfg, "storage", &pos), "lake");
  assert_string_equal(pos.file, paths[2]);
  assert_null(st_config_role(cfg, "vault", &pos));
  assert_string_equal(pos.file, paths[2]);
  assert_int_equal(st_config_file_count(cfg), 3);
  assert_string_equal(st_config_file_at(cfg, 2), paths[2]);
  st_config_free(cfg);
}

/* ------------------------------------------------------------- errors */

static void test_error_syntax(void **state)
{
  char err[512];

  (void)state;
  /* unclosed flow map */
  load_str_fails("providers:\n"
                 "  storage: {local: \"store-local\",\n"
                 "            s3: \"store-s3\"\n"
                 "xt-services: {}\n",
                 err, sizeof(err));
  assert_contains(err, "t.yaml:4:1: did not find expected ',' or '}' "
                       "(while parsing a flow mapping at line 2, column 12)");
  /* bad indentation */
  load_str_fails("providers:\n"
                 "  storage:\n"
                 "    local: a\n"
                 "   s3: b\n",
                 err, sizeof(err));
  assert_contains(err, "t.yaml:4:4: did not find expected key");
  /* a tab */
  load_str_fails("providers:\n\tstorage: {}\n", err, sizeof(err));
  assert_contains(err, "t.yaml:2:1: found character that cannot start any "
                       "token (while scanning for the next token");
  /* invalid UTF-8 has no line yet, but a byte offset */
  load_str_fails("a: \"\xff\"\n", err, sizeof(err));
  assert_string_equal(err, "t.yaml: byte 4: invalid leading UTF-8 octet (#FF)");
  /* two documents */
  assert_load_error("a: 1\n---\nb: 2\n",
                    "t.yaml:2:1: expected a single YAML document, found "
                    "another");
}

static void test_error_wrong_kinds(void **state)
{
  (void)state;
  assert_load_error("- a\n- b\n",
                    "t.yaml:1:1: expected a map of sections (providers:, "
                    "external-services:, xt-services:), found a sequence");
  assert_load_error("just text\n",
                    "t.yaml:1:1: expected a map of sections (providers:, "
                    "external-services:, xt-services:), found a scalar");
  assert_load_error("providers: [a]\n",
                    "t.yaml:1:1: providers: expected a map {category: "
                    "{name: plugin}}, found a sequence");
  assert_load_error("providers:\n  storage: store-local\n",
                    "t.yaml:2:3: providers.storage: expected a map "
                    "{name: plugin}, found a scalar");
  assert_load_error("providers:\n  storage:\n    local: {so: x}\n",
                    "t.yaml:3:5: providers.storage.local: expected a plugin "
                    "name or path, found a map");
  assert_load_error("providers:\n  storage:\n    local:\n",
                    "t.yaml:3:5: providers.storage.local: expected a plugin "
                    "name or path, found null");
  assert_load_error("external-services: [a]\n",
                    "t.yaml:1:1: external-services: expected a map "
                    "{service: {type: ..., provider: ...}}, found a sequence");
  assert_load_error("external-services:\n    ok: {type: storage}\n"
                    "    scratch: [1, 2]\n",
                    "t.yaml:3:5: external-services.scratch: expected a map "
                    "{type: ..., provider: ...}, found a sequence");
  assert_load_error("external-services:\n  s: local\n",
                    "t.yaml:2:3: external-services.s: expected a map "
                    "{type: ..., provider: ...}, found a scalar");
  assert_load_error("external-services:\n  s: {type: {a: b}}\n",
                    "t.yaml:2:7: external-services.s.type: expected a "
                    "string, found a map");
  assert_load_error("external-services:\n  s: {provider: [a]}\n",
                    "t.yaml:2:7: external-services.s.provider: expected a "
                    "string, found a sequence");
  assert_load_error("xt-services: storage\n",
                    "t.yaml:1:1: xt-services: expected a map {role: "
                    "service}, found a scalar");
  assert_load_error("xt-services:\n  storage: [a, b]\n",
                    "t.yaml:2:3: xt-services.storage: expected a service "
                    "name or null, found a sequence");
  assert_load_error("plugin-path: {a: b}\n",
                    "t.yaml:1:1: plugin-path: expected a string "
                    "(dir:dir:...) or a list of strings, found a map");
  assert_load_error("plugin-path:\n  - /a\n  - [b]\n",
                    "t.yaml:3:5: plugin-path[1]: expected a string, found a "
                    "sequence");
}

static void test_error_sequence_in_service(void **state)
{
  char err[512];

  (void)state;
  assert_load_error("external-services:\n"
                    "  s: {type: storage, hosts: [a, b]}\n",
                    "t.yaml:2:22: external-services.s.hosts: expected a "
                    "string or a map (lists are not allowed in a service), "
                    "found a sequence");
  assert_load_error("external-services:\n"
                    "  s:\n"
                    "    tls:\n"
                    "      hosts:\n"
                    "        - a\n",
                    "t.yaml:4:7: external-services.s.tls.hosts: expected a "
                    "string or a map (lists are not allowed in a service), "
                    "found a sequence");
  /* the value is never quoted back */
  load_str_fails("external-services:\n"
                 "  s: {type: storage, key: [\"hunter2-secret\"]}\n",
                 err, sizeof(err));
  assert_lacks(err, "hunter2");
  /* flattening cannot hide two values for one key */
  assert_load_error("external-services:\n"
                    "  s: {tls.verify: a, tls: {verify: b}}\n",
                    "t.yaml:2:28: external-services.s.tls.verify: given twice "
                    "(also at line 2, column 19)");
}

static void test_error_duplicate_key(void **state)
{
  (void)state;
  assert_load_error("providers:\n"
                    "  storage:\n"
                    "    local: a\n"
                    "    local: b\n",
                    "t.yaml:4:5: duplicate key 'local' (first at line 3, "
                    "column 5)");
  assert_load_error("external-services:\n"
                    "  s: {type: storage,\n"
                    "      \"type\": vault}\n",
                    "t.yaml:3:7: duplicate key 'type' (first at line 2, "
                    "column 7)");
  assert_load_error("xt-services: {}\nxt-services: {}\n",
                    "t.yaml:2:1: duplicate key 'xt-services' (first at line "
                    "1, column 1)");
}

static void test_error_anchors_rejected(void **state)
{
  (void)state;
  assert_load_error("common: &c {type: storage}\n"
                    "external-services:\n"
                    "  s: *c\n",
                    "t.yaml:1:9: anchors (&c) are not supported; repeat the "
                    "value");
  assert_load_error("external-services:\n"
                    "  s: *c\n",
                    "t.yaml:2:6: aliases (*c) are not supported; repeat the "
                    "value");
}

static void test_error_one_line(void **state)
{
  char err[512];

  (void)state;
  load_str_fails("external-services:\n  \"a\\nb\": [1]\n", err, sizeof(err));
  assert_contains(err, "external-services.a?b: expected a map");
}

static void test_error_deep_nesting(void **state)
{
  char yaml[512], err[512];
  int i;

  (void)state;
  for (i = 0; i < 100; i++)
    yaml[i] = '[';
  yaml[i] = '\0';
  load_str_fails(yaml, err, sizeof(err));
  assert_contains(err, "nested deeper than 64 levels");
}

static void test_error_in_layer_names_file(void **state)
{
  const char *paths[2] = {DATA "layer1.yaml", NULL};
  char bad[PATH_MAX], err[512] = "";
  st_config *cfg = (st_config *)1;

  (void)state;
  tmp_path(bad, sizeof(bad), "bad.yaml");
  write_file(bad, "external-services:\n  scratch: [x]\n", 0600);
  paths[1] = bad;
  assert_int_equal(st_config_load_files(paths, 2, 1, &cfg, err, sizeof(err)),
                   -1);
  assert_null(cfg);
  assert_contains(err, bad);
  assert_contains(err, ":2:3: external-services.scratch: expected a map");
}

/* ------------------------------------------------------------- layers */

static void test_explicit_missing(void **state)
{
  st_config *cfg = (st_config *)1;
  char err[512] = "";

  (void)state;
  assert_int_equal(st_config_load("/nonexistent/x.yaml", ALL_OFF, &cfg, err,
                                  sizeof(err)),
                   -1);
  assert_null(cfg);
  assert_string_equal(err,
                      "/nonexistent/x.yaml: cannot read: No such file or "
                      "directory");
}

static void test_xtstore_config_env(void **state)
{
  st_config *cfg = NULL;
  char err[512] = "";

  (void)state;
  setenv("XTSTORE_CONFIG", DATA "xt_snippet.yaml", 1);
  cfg = load_layers(NULL, ALL_OFF);
  assert_string_equal(st_config_role(cfg, "storage", NULL), "filestorage");
  assert_string_equal(st_config_file_at(cfg, 0), DATA "xt_snippet.yaml");
  st_config_free(cfg);

  /* an explicit path wins over the variable */
  cfg = load_layers(DATA "layer1.yaml", ALL_OFF);
  assert_string_equal(st_config_role(cfg, "storage", NULL), "scratch");
  assert_int_equal(st_config_file_count(cfg), 1);
  st_config_free(cfg);

  /* and the variable is not optional */
  setenv("XTSTORE_CONFIG", "/nonexistent/env.yaml", 1);
  assert_int_equal(st_config_load(NULL, ALL_OFF, &cfg, err, sizeof(err)), -1);
  assert_string_equal(err, "/nonexistent/env.yaml: cannot read: No such file "
                           "or directory");
  unsetenv("XTSTORE_CONFIG");
}

static void test_user_layer_xdg(void **state)
{
  char dir[PATH_MAX], file[PATH_MAX];
  st_config *cfg = NULL;

  (void)state;
  /* missing: skipped silently */
  cfg = load_layers(NULL, ST_CONFIG_NO_SYSTEM | ST_CONFIG_NO_CWD);
  assert_int_equal(st_config_file_count(cfg), 0);
  st_config_free(cfg);

  tmp_path(dir, sizeof(dir), "xtstore");
  assert_int_equal(mkdir(dir, 0700), 0);
  tmp_path(file, sizeof(file), "xtstore/xt_config.yaml");
  write_file(file, "xt-services: {storage: \"user-svc\"}\n", 0600);
  cfg = load_layers(NULL, ST_CONFIG_NO_SYSTEM | ST_CONFIG_NO_CWD);
  assert_int_equal(st_config_file_count(cfg), 1);
  assert_string_equal(st_config_file_at(cfg, 0), file);
  assert_string_equal(st_config_role(cfg, "storage", NULL), "user-svc");
  st_config_free(cfg);

  /* skipped by the flag */
  cfg = load_layers(NULL, ALL_OFF);
  assert_null(st_config_role(cfg, "storage", NULL));
  st_config_free(cfg);

  /* the explicit file is layered above it */
  cfg = load_layers(DATA "layer1.yaml", ST_CONFIG_NO_SYSTEM | ST_CONFIG_NO_CWD);
  assert_int_equal(st_config_file_count(cfg), 2);
  assert_string_equal(st_config_role(cfg, "storage", NULL), "scratch");
  st_config_free(cfg);

  /* without XDG_CONFIG_HOME: $HOME/.config */
  unsetenv("XDG_CONFIG_HOME");
  setenv("HOME", tmpdir, 1);
  cfg = load_layers(NULL, ST_CONFIG_NO_SYSTEM | ST_CONFIG_NO_CWD);
  assert_int_equal(st_config_file_count(cfg), 0);
  st_config_free(cfg);
  tmp_path(dir, sizeof(dir), ".config");
  assert_int_equal(mkdir(dir, 0700), 0);
  tmp_path(dir, sizeof(dir), ".config/xtstore");
  assert_int_equal(mkdir(dir, 0700), 0);
  tmp_path(file, sizeof(file), ".config/xtstore/xt_config.yaml");
  write_file(file, "xt-services: {storage: \"home-svc\"}\n", 0600);
  cfg = load_layers(NULL, ST_CONFIG_NO_SYSTEM | ST_CONFIG_NO_CWD);
  assert_string_equal(st_config_role(cfg, "storage", NULL), "home-svc");
  st_config_free(cfg);
}

static void test_optional_layer_unreadable(void **state)
{
  char dir[PATH_MAX], err[512] = "";
  st_config *cfg = (st_config *)1;

  (void)state;
  /* present but not a file: an error, not a silent skip */
  tmp_path(dir, sizeof(dir), "xtstore");
  assert_int_equal(mkdir(dir, 0700), 0);
  tmp_path(dir, sizeof(dir), "xtstore/xt_config.yaml");
  assert_int_equal(mkdir(dir, 0700), 0);
  assert_int_equal(st_config_load(NULL, ST_CONFIG_NO_SYSTEM | ST_CONFIG_NO_CWD,
                                  &cfg, err, sizeof(err)),
                   -1);
  assert_null(cfg);
  assert_contains(err, "xtstore/xt_config.yaml: cannot read: Is a directory");
}

static void test_cwd_layer(void **state)
{
  char old[PATH_MAX], file[PATH_MAX];
  st_config *cfg = NULL;

  (void)state;
  assert_non_null(getcwd(old, sizeof(old)));
  tmp_path(file, sizeof(file), "xt_config.yaml");
  write_file(file, "xt-services: {storage: \"cwd-svc\"}\n", 0644);
  assert_int_equal(chdir(tmpdir), 0);
  cfg = load_layers(NULL, ST_CONFIG_NO_SYSTEM | ST_CONFIG_NO_USER);
  assert_int_equal(chdir(old), 0);
  assert_string_equal(st_config_role(cfg, "storage", NULL), "cwd-svc");
  assert_string_equal(st_config_file_at(cfg, 0), "./xt_config.yaml");
  st_config_free(cfg);
}

static void test_paths(void **state)
{
  char buf[64];

  (void)state;
  setenv("HOME", "/home/u", 1);
  assert_int_equal(st_expand_home("~/a/b", buf, sizeof(buf)), 0);
  assert_string_equal(buf, "/home/u/a/b");
  assert_int_equal(st_expand_home("~", buf, sizeof(buf)), 0);
  assert_string_equal(buf, "/home/u");
  assert_int_equal(st_expand_home("~bob/x", buf, sizeof(buf)), 0);
  assert_string_equal(buf, "~bob/x");
  assert_int_equal(st_expand_home("/abs", buf, sizeof(buf)), 0);
  assert_string_equal(buf, "/abs");
  assert_int_equal(st_expand_home("~/0123456789", buf, 10), -1);

  setenv("XDG_CONFIG_HOME", "/xdg", 1);
  assert_int_equal(st_config_user_path(buf, sizeof(buf)), 0);
  assert_string_equal(buf, "/xdg/xtstore/xt_config.yaml");
  setenv("XDG_CONFIG_HOME", "relative", 1); /* ignored, as XDG says */
  assert_int_equal(st_config_user_path(buf, sizeof(buf)), 0);
  assert_string_equal(buf, "/home/u/.config/xtstore/xt_config.yaml");
  assert_int_equal(st_config_user_path(buf, 10), -1);
  unsetenv("XDG_CONFIG_HOME");
  unsetenv("HOME");
  assert_int_equal(st_config_user_path(buf, sizeof(buf)), -1);
  assert_int_equal(st_expand_home("~/x", buf, sizeof(buf)), -1);
  setenv("HOME", tmpdir, 1);
}

/* ------------------------------------------------------------ secrets */

static const char *const SECRET = "s3cr3t-Value-42";

/* Resolve svc.key of cfg, expecting failure; returns err. */
static void resolve_fails(const st_config *cfg, const char *svc,
                          const char *key, char *err, size_t errlen)
{
  const st_service_cfg *s = st_config_service(cfg, svc);
  const st_cfg_kv *kv;
  char *out = (char *)1;

  assert_non_null(s);
  kv = st_config_service_kv(s, key);
  assert_non_null(kv);
  err[0] = '\0';
  assert_int_equal(st_config_resolve(cfg, s, key, kv->value, &kv->pos, &out,
                                     err, errlen),
                   -1);
  assert_null(out);
  assert_lacks(err, SECRET);
  assert_null(strchr(err, '\n'));
}

static char *resolve_ok(const st_config *cfg, const char *svc,
                        const char *key)
{
  const st_service_cfg *s = st_config_service(cfg, svc);
  const st_cfg_kv *kv = st_config_service_kv(s, key);
  char err[512] = "", *out = NULL;

  if (st_config_resolve(cfg, s, key, kv->value, &kv->pos, &out, err,
                        sizeof(err))) {
    print_error("unexpected error: %s\n", err);
    fail();
  }
  return out;
}

static void test_env_reference(void **state)
{
  st_config *cfg;
  char err[512], *v;

  (void)state;
  cfg = load_str("external-services:\n"
                 "  lake: {type: storage, provider: azure,\n"
                 "         key: \"$env:AZURE_STORAGE_KEY\", empty: \"$env:\","
                 " plain: \"just $env: text\"}\n");
  setenv("AZURE_STORAGE_KEY", SECRET, 1);
  v = resolve_ok(cfg, "lake", "key");
  assert_string_equal(v, SECRET);
  st_secret_free(v);
  v = resolve_ok(cfg, "lake", "plain");
  assert_string_equal(v, "just $env: text");
  st_secret_free(v);

  unsetenv("AZURE_STORAGE_KEY");
  resolve_fails(cfg, "lake", "key", err, sizeof(err));
  assert_string_equal(err, "t.yaml:3:15: service 'lake' key 'key': "
                           "environment variable AZURE_STORAGE_KEY is not "
                           "set");
  setenv("AZURE_STORAGE_KEY", "", 1);
  resolve_fails(cfg, "lake", "key", err, sizeof(err));
  assert_contains(err, "environment variable AZURE_STORAGE_KEY is empty");
  unsetenv("AZURE_STORAGE_KEY");
  resolve_fails(cfg, "lake", "empty", err, sizeof(err));
  assert_contains(err, "$env: needs a variable name");
  st_config_free(cfg);
}

static void test_file_reference(void **state)
{
  char path[PATH_MAX], yaml[2048], err[512], *v;
  st_config *cfg;

  (void)state;
  setenv("HOME", tmpdir, 1);
  tmp_path(path, sizeof(path), "nl");
  write_file(path, "line1\n\n", 0600); /* only ONE newline is stripped */
  tmp_path(path, sizeof(path), "crlf");
  write_file(path, "abc\r\n", 0600);
  tmp_path(path, sizeof(path), "bare");
  write_file(path, SECRET, 0600);
  snprintf(yaml, sizeof(yaml),
           "external-services:\n"
           "  s: {type: storage, nl: \"$file:%s/nl\", crlf: \"$file:~/crlf\",\n"
           "      bare: \"$file:~/bare\", gone: \"$file:~/missing\"}\n",
           tmpdir);
  cfg = load_str(yaml);
  v = resolve_ok(cfg, "s", "nl");
  assert_string_equal(v, "line1\n");
  st_secret_free(v);
  v = resolve_ok(cfg, "s", "crlf");
  assert_string_equal(v, "abc");
  st_secret_free(v);
  v = resolve_ok(cfg, "s", "bare");
  assert_string_equal(v, SECRET);
  st_secret_free(v);
  resolve_fails(cfg, "s", "gone", err, sizeof(err));
  tmp_path(path, sizeof(path), "missing");
  assert_contains(err, "t.yaml:3:35: service 's' key 'gone': cannot read ");
  assert_contains(err, path);
  assert_contains(err, ": No such file or directory");
  st_config_free(cfg);
}

/* A $file: secret others may read is refused like a vault file, and a FIFO
 * is refused at once instead of waiting for a writer. */
static void test_file_reference_refusals(void **state)
{
  char path[PATH_MAX], yaml[2048], err[512];
  st_config *cfg;

  (void)state;
  setenv("HOME", tmpdir, 1);
  tmp_path(path, sizeof(path), "open");
  write_file(path, SECRET, 0644);
  tmp_path(path, sizeof(path), "fifo");
  unlink(path);
  assert_int_equal(mkfifo(path, 0600), 0);
  snprintf(yaml, sizeof(yaml),
           "external-services:\n"
           "  s: {type: storage, open: \"$file:~/open\", fifo: \"$file:~/fifo\"}\n");
  cfg = load_str(yaml);
  resolve_fails(cfg, "s", "open", err, sizeof(err));
  assert_contains(err, "service 's' key 'open': file ");
  assert_contains(err, " is open to group/others (mode 0644); chmod 600 it");
  assert_null(strstr(err, SECRET));
  resolve_fails(cfg, "s", "fifo", err, sizeof(err));
  assert_contains(err, "service 's' key 'fifo': file ");
  assert_contains(err, "fifo is not a regular file");
  st_config_free(cfg);
  unlink(path);
}

/* A config whose vault service `keys` is the JSON file `json` (mode). */
static st_config *vault_config(const char *json, mode_t mode,
                               const char *extra)
{
  char path[512], yaml[2048];

  tmp_path(path, sizeof(path), "keys.json");
  write_file(path, json, mode);
  snprintf(yaml, sizeof(yaml),
           "external-services:\n"
           "  lake: {type: storage, provider: azure, key: \"$vault\"}\n"
           "  keys: {type: vault, provider: file, path: \"%s\"}\n"
           "  other: {type: storage, provider: s3, key: \"$vault\"}\n"
           "%s",
           path, extra);
  return load_str(yaml);
}

static void test_vault_reference(void **state)
{
  char json[256], want[64], err[512], *v;
  st_config *cfg;

  (void)state;
  snprintf(json, sizeof(json), "{\"lake\": \"%s\", \"other\": \"x%s\"}",
           SECRET, SECRET);
  cfg = vault_config(json, 0600, "xt-services: {vault: keys}\n");
  v = resolve_ok(cfg, "lake", "key");
  assert_string_equal(v, SECRET);
  st_secret_free(v);
  v = resolve_ok(cfg, "other", "key"); /* looked up by service name */
  snprintf(want, sizeof(want), "x%s", SECRET);
  assert_string_equal(v, want);
  st_secret_free(v);
  st_config_free(cfg);

  /* no entry for the service */
  snprintf(json, sizeof(json), "{\"other\": \"%s\"}", SECRET);
  cfg = vault_config(json, 0600, "xt-services: {vault: keys}\n");
  resolve_fails(cfg, "lake", "key", err, sizeof(err));
  assert_string_equal(err, "t.yaml:2:47: service 'lake' key 'key': vault "
                           "'keys' has no entry for service 'lake'");
  st_config_free(cfg);

  /* the entry is not a string */
  cfg = vault_config("{\"lake\": [1]}", 0600, "xt-services: {vault: keys}\n");
  resolve_fails(cfg, "lake", "key", err, sizeof(err));
  assert_contains(err, "the entry for service 'lake' is not a string");
  st_config_free(cfg);

  /* broken JSON: a position, never the text around it */
  snprintf(json, sizeof(json), "{\"lake\": \"%s\" \"x\"}", SECRET);
  cfg = vault_config(json, 0600, "xt-services: {vault: keys}\n");
  resolve_fails(cfg, "lake", "key", err, sizeof(err));
  assert_contains(err, "invalid JSON at line 1");
  st_config_free(cfg);

  /* not an object */
  cfg = vault_config("[\"x\"]", 0600, "xt-services: {vault: keys}\n");
  resolve_fails(cfg, "lake", "key", err, sizeof(err));
  assert_contains(err, "expected a JSON object");
  st_config_free(cfg);
}

static void test_vault_mode_rejected(void **state)
{
  char json[256], err[512], path[PATH_MAX];
  st_config *cfg;

  (void)state;
  snprintf(json, sizeof(json), "{\"lake\": \"%s\"}", SECRET);
  cfg = vault_config(json, 0644, "xt-services: {vault: keys}\n");
  resolve_fails(cfg, "lake", "key", err, sizeof(err));
  tmp_path(path, sizeof(path), "keys.json");
  assert_contains(err, "vault file ");
  assert_contains(err, path);
  assert_contains(err, " is open to group/others (mode 0644); chmod 600 "
                       "it");
  st_config_free(cfg);

  cfg = vault_config(json, 0640, "xt-services: {vault: keys}\n");
  resolve_fails(cfg, "lake", "key", err, sizeof(err));
  assert_contains(err, "(mode 0640)");
  st_config_free(cfg);
}

static void test_vault_service_problems(void **state)
{
  char err[512];
  st_config *cfg;
  const char *json = "{\"lake\": \"s3cr3t-Value-42\"}";

  (void)state;
  cfg = vault_config(json, 0600, "");
  resolve_fails(cfg, "lake", "key", err, sizeof(err));
  assert_contains(err, "service 'lake' key 'key': $vault needs "
                       "xt-services.vault to name a vault service, and it is "
                       "not set");
  st_config_free(cfg);

  cfg = vault_config(json, 0600, "xt-services: {vault: null}\n");
  resolve_fails(cfg, "lake", "key", err, sizeof(err));
  assert_contains(err, "it is not set");
  st_config_free(cfg);

  cfg = vault_config(json, 0600, "xt-services: {vault: vlt}\n");
  resolve_fails(cfg, "lake", "key", err, sizeof(err));
  assert_contains(err, "xt-services.vault names service 'vlt', which is not "
                       "in external-services");
  st_config_free(cfg);

  cfg = vault_config(json, 0600, "xt-services: {vault: lake}\n");
  resolve_fails(cfg, "lake", "key", err, sizeof(err));
  assert_contains(err, "xt-services.vault names service 'lake', which is of "
                       "type 'storage', not 'vault'");
  st_config_free(cfg);

  cfg = load_str("external-services:\n"
                 "  lake: {type: storage, key: \"$vault\"}\n"
                 "  kv: {type: vault, url: \"https://x.vault.azure.net/\"}\n"
                 "  f: {type: vault, provider: file, path: \"$env:P\"}\n"
                 "  g: {type: vault, provider: file}\n"
                 "xt-services: {vault: kv}\n");
  resolve_fails(cfg, "lake", "key", err, sizeof(err));
  assert_contains(err, "vault 'kv' is an Azure Key Vault, which xtstore "
                       "does not read: use $env:NAME, $file:PATH or a file "
                       "vault");
  st_config_free(cfg);

  cfg = load_str("external-services:\n"
                 "  lake: {type: storage, key: \"$vault\"}\n"
                 "  f: {type: vault, provider: file, path: \"$env:P\"}\n"
                 "xt-services: {vault: f}\n");
  resolve_fails(cfg, "lake", "key", err, sizeof(err));
  assert_contains(err, "vault 'f': 'path' must be a file name, not a "
                       "reference");
  st_config_free(cfg);

  cfg = load_str("external-services:\n"
                 "  lake: {type: storage, key: \"$vault\"}\n"
                 "  g: {type: vault, provider: file}\n"
                 "xt-services: {vault: g}\n");
  resolve_fails(cfg, "lake", "key", err, sizeof(err));
  assert_contains(err, "vault 'g' has no 'path'");
  st_config_free(cfg);
}

static void test_resolve_plain_and_null(void **state)
{
  const st_service_cfg *s;
  st_config *cfg;
  char err[512], *out = (char *)1;

  (void)state;
  cfg = load_str("external-services:\n  s: {type: storage, a: \"$vaultx\", "
                 "b: null}\n");
  s = st_config_service(cfg, "s");
  assert_int_equal(st_config_resolve(cfg, s, "a", s->kv[0].value, NULL, &out,
                                     err, sizeof(err)),
                   0);
  assert_string_equal(out, "$vaultx"); /* only exactly "$vault" refers */
  st_secret_free(out);
  assert_int_equal(st_config_resolve(cfg, s, "b", NULL, NULL, &out, err,
                                     sizeof(err)),
                   -1);
  assert_null(out);
  assert_string_equal(err, "t.yaml:2:3: service 's' key 'b': the value is "
                           "null");
  st_config_free(cfg);

  assert_true(st_config_is_reference("$env:X"));
  assert_true(st_config_is_reference("$file:/x"));
  assert_true(st_config_is_reference("$vault"));
  assert_false(st_config_is_reference("$vaultx"));
  assert_false(st_config_is_reference("env:X"));
  assert_false(st_config_is_reference(NULL));
  st_secret_free(NULL);
}

/* ------------------------------------------------------ add_provider */

static void test_add_provider_new_file(void **state)
{
  char path[PATH_MAX], bak[PATH_MAX + 8], err[512] = "";
  const char *paths[1];
  st_config *cfg = NULL;
  struct stat st;

  (void)state;
  tmp_path(path, sizeof(path), "a/b/xt_config.yaml");
  assert_int_equal(st_config_add_provider(path, "storage", "acme",
                                          "/opt/acme/store-acme.so", err,
                                          sizeof(err)),
                   0);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  snprintf(bak, sizeof(bak), "%s.~1~", path);
  assert_int_equal(access(bak, F_OK), -1); /* nothing to back up */
  paths[0] = path;
  cfg = load_files(paths, 1, 1);
  assert_string_equal(st_config_provider(cfg, "storage", "acme", NULL),
                      "/opt/acme/store-acme.so");
  assert_string_equal(st_config_provider(cfg, "storage", "local", NULL),
                      "store-local");
  st_config_free(cfg);
}

static void test_add_provider_xt_file(void **state)
{
  char path[PATH_MAX], bak[PATH_MAX + 8], err[512] = "";
  char *orig, *saved;
  const char *paths[1];
  const st_service_cfg *s;
  st_config *cfg = NULL;
  struct stat st;

  (void)state;
  orig = slurp(DATA "xt_snippet.yaml");
  tmp_path(path, sizeof(path), "xt_config.yaml");
  write_file(path, orig, 0640);
  assert_int_equal(st_config_add_provider(path, "storage", "s3", "store-s3",
                                          err, sizeof(err)),
                   0);
  /* and replace an entry, and open a new category */
  assert_int_equal(st_config_add_provider(path, "storage", "store-file",
                                          "store-local", err, sizeof(err)),
                   0);
  assert_int_equal(st_config_add_provider(path, "compute", "pool",
                                          "xtlib.backends.PoolBackend", err,
                                          sizeof(err)),
                   0);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0640); /* the mode is kept */

  paths[0] = path;
  cfg = load_files(paths, 1, 0);
  assert_string_equal(st_config_provider(cfg, "storage", "s3", NULL),
                      "store-s3");
  assert_string_equal(st_config_provider(cfg, "storage", "store-file", NULL),
                      "store-local");
  assert_string_equal(st_config_provider(cfg, "storage", "azure-blob-21", NULL),
                      "xtlib.storage.store_azure_blob21.AzureBlobStore21");
  assert_string_equal(st_config_provider(cfg, "compute", "pool", NULL),
                      "xtlib.backends.PoolBackend");
  assert_int_equal(st_config_service_count(cfg), 2);
  s = st_config_service(cfg, "lake");
  assert_string_equal(s->provider, "azure");
  assert_string_equal(kv_value(s, "key"), "$env:AZURE_STORAGE_KEY");
  assert_string_equal(kv_value(s, "endpoint"),
                      "http://127.0.0.1:10000/devstoreaccount1");
  assert_string_equal(st_config_role(cfg, "storage", NULL), "filestorage");
  assert_null(st_config_role(cfg, "vault", NULL));
  st_config_free(cfg);

  /* numbered backups: ~1~ is the original, ~3~ the file before the last
   * change */
  snprintf(bak, sizeof(bak), "%s.~1~", path);
  saved = slurp(bak);
  assert_string_equal(saved, orig);
  free(saved);
  snprintf(bak, sizeof(bak), "%s.~3~", path);
  saved = slurp(bak);
  assert_non_null(strstr(saved, "store-local"));
  assert_null(strstr(saved, "PoolBackend"));
  free(saved);
  free(orig);
}

/* Only the entry changes: comments, blank lines, quoting and order stay;
 * a symlinked config is edited where it points, the link kept. */
static void test_add_provider_line_edit(void **state)
{
  static const char before[] =
    "# my settings\n"
    "providers:\n"
    "  storage:   # plugins\n"
    "    old: 'store-old'   # keep me\n"
    "\n"
    "external-services:\n"
    "  # the lake\n"
    "  lake: {type: storage, provider: old, path: /x}\n";
  char path[PATH_MAX], link_path[PATH_MAX], err[512] = "", *after;
  struct stat st;

  (void)state;
  tmp_path(path, sizeof(path), "real.yaml");
  tmp_path(link_path, sizeof(link_path), "link.yaml");
  write_file(path, before, 0600);
  unlink(link_path);
  assert_int_equal(symlink(path, link_path), 0);
  assert_int_equal(st_config_add_provider(link_path, "storage", "acme",
                                          "/opt/store-acme.so", err,
                                          sizeof(err)), 0);
  assert_int_equal(lstat(link_path, &st), 0);
  assert_true(S_ISLNK(st.st_mode));
  after = slurp(path);
  assert_string_equal(after,
    "# my settings\n"
    "providers:\n"
    "  storage:   # plugins\n"
    "    old: 'store-old'   # keep me\n"
    "    acme: \"/opt/store-acme.so\"\n"
    "\n"
    "external-services:\n"
    "  # the lake\n"
    "  lake: {type: storage, provider: old, path: /x}\n");
  free(after);
  /* replacing a value keeps the comment after it */
  assert_int_equal(st_config_add_provider(path, "storage", "old", "store-new",
                                          err, sizeof(err)), 0);
  after = slurp(path);
  assert_non_null(strstr(after, "    old: \"store-new\"   # keep me\n"));
  free(after);
}

static void test_add_provider_null_sections(void **state)
{
  char path[PATH_MAX], err[512] = "";
  const char *paths[1];
  st_config *cfg = NULL;

  (void)state;
  tmp_path(path, sizeof(path), "x.yaml");
  write_file(path,
             "# comment\nproviders:\nxt-services: {storage: \"null\", "
             "vault: null}\n",
             0600);
  assert_int_equal(st_config_add_provider(path, "storage", "s3", "store-s3",
                                          err, sizeof(err)),
                   0);
  paths[0] = path;
  cfg = load_files(paths, 1, 0);
  assert_string_equal(st_config_provider(cfg, "storage", "s3", NULL),
                      "store-s3");
  assert_string_equal(st_config_role(cfg, "storage", NULL), "null");
  assert_null(st_config_role(cfg, "vault", NULL));
  st_config_free(cfg);

  write_file(path, "", 0600);
  assert_int_equal(st_config_add_provider(path, "storage", "s3", "store-s3",
                                          err, sizeof(err)),
                   0);
  cfg = load_files(paths, 1, 0);
  assert_string_equal(st_config_provider(cfg, "storage", "s3", NULL),
                      "store-s3");
  st_config_free(cfg);
}

static void test_add_provider_refuses_broken(void **state)
{
  char path[PATH_MAX], err[512] = "", *after;
  const char *broken = "providers:\n  storage: {a: \"x\",\n";
  const char *seq = "providers:\n  compute: [a]\n";

  (void)state;
  tmp_path(path, sizeof(path), "x.yaml");
  write_file(path, broken, 0600);
  assert_int_equal(st_config_add_provider(path, "storage", "s3", "store-s3",
                                          err, sizeof(err)),
                   -1);
  assert_contains(err, path);
  assert_contains(err, ":3:1: did not find expected node content (while "
                       "parsing a flow node at line 3, column 1)");
  after = slurp(path);
  assert_string_equal(after, broken); /* untouched */
  free(after);

  /* an unknown category loads, but cannot take an entry */
  write_file(path, seq, 0600);
  assert_int_equal(st_config_add_provider(path, "compute", "pool", "p", err,
                                          sizeof(err)),
                   -1);
  assert_contains(err, ":2:3: providers.compute: expected a map, found a "
                       "sequence");

  assert_int_equal(st_config_add_provider(path, "storage", "", "p", err,
                                          sizeof(err)),
                   -1);
  assert_contains(err, "must not be empty");
}

/* Every test runs in its own temporary directory (setup, teardown). */
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
  const struct CMUnitTest tests[] = {
    TEST(test_builtin_only),
    TEST(test_xt_snippet),
    TEST(test_xt_default_shape),
    TEST(test_null_vs_quoted_null),
    TEST(test_flow_map_trailing_comma),
    TEST(test_nested_map_flattened),
    TEST(test_lazy_provider),
    TEST(test_unknown_kept_and_ignored),
    TEST(test_plugin_path),
    TEST(test_empty_files),
    TEST(test_merge_two_layers),
    TEST(test_merge_three_layers),
    TEST(test_error_syntax),
    TEST(test_error_wrong_kinds),
    TEST(test_error_sequence_in_service),
    TEST(test_error_duplicate_key),
    TEST(test_error_anchors_rejected),
    TEST(test_error_one_line),
    TEST(test_error_deep_nesting),
    TEST(test_error_in_layer_names_file),
    TEST(test_explicit_missing),
    TEST(test_xtstore_config_env),
    TEST(test_user_layer_xdg),
    TEST(test_optional_layer_unreadable),
    TEST(test_cwd_layer),
    TEST(test_paths),
    TEST(test_env_reference),
    TEST(test_file_reference),
    TEST(test_file_reference_refusals),
    TEST(test_vault_reference),
    TEST(test_vault_mode_rejected),
    TEST(test_vault_service_problems),
    TEST(test_resolve_plain_and_null),
    TEST(test_add_provider_new_file),
    TEST(test_add_provider_xt_file),
    TEST(test_add_provider_line_edit),
    TEST(test_add_provider_null_sections),
    TEST(test_add_provider_refuses_broken),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
