/*
** cmd_plugins.c -- `xtstore plugins [list]`, `plugins check FILE` and
** `plugins install FILE`.
*/
#include <string.h>

#include "cli.h"

enum { OPT_LONG = 1, OPT_REPLACE };

static const cli_opt plugins_opts[] = {
  { "long", 'l', 0, OPT_LONG },
  { "replace", 0, 0, OPT_REPLACE },
  { NULL, 0, 0, 0 },
};

typedef struct plugins_state {
  cli_global *g;
  int long_fmt;
  int replace;                   /* install --replace */
  int single;               /* check: one JSON object, not an array */
  cli_table table;
  int nomem;
} plugins_state;

/* "containers,range-get,..." into buf (truncated, never overflowed). */
static void caps_text(uint64_t caps, char *buf, size_t cap)
{
  char unknown[16];
  const char *name;
  size_t used = 0;
  int bit, n;

  buf[0] = '\0';
  for (bit = 0; bit < 64; bit++) {
    if (!(caps & (UINT64_C(1) << bit)))
      continue;
    name = xtstore_capability_name(UINT64_C(1) << bit);
    if (!name) {
      snprintf(unknown, sizeof unknown, "bit%d", bit);
      name = unknown;
    }
    n = snprintf(buf + used, cap - used, "%s%s", used ? "," : "", name);
    if (n < 0 || (size_t)n >= cap - used)
      return;
    used += (size_t)n;
  }
}

static json_t *caps_json(uint64_t caps)
{
  json_t *arr = json_array();
  const char *name;
  int bit;

  for (bit = 0; arr && bit < 64; bit++) {
    if (!(caps & (UINT64_C(1) << bit)))
      continue;
    name = xtstore_capability_name(UINT64_C(1) << bit);
    json_array_append_new(arr, name ? json_string(name)
                                    : json_integer((json_int_t)bit));
  }
  return arr;
}

static json_t *plugin_json(const xtstore_plugin_info *p)
{
  const store_config_key *k;
  json_t *o = json_object(), *keys, *ko;
  char abi[32];

  if (!o)
    return NULL;
  json_object_set_new(o, "provider", cli_json_str(p->provider));
  json_object_set_new(o, "spec", cli_json_str(p->spec));
  json_object_set_new(o, "path", cli_json_str(p->path));
  json_object_set_new(o, "name", cli_json_str(p->name));
  json_object_set_new(o, "version", cli_json_str(p->version));
  json_object_set_new(o, "description", cli_json_str(p->description));
  if (p->name) {
    snprintf(abi, sizeof abi, "%u.%u", (unsigned)p->abi_major,
             (unsigned)p->abi_minor);
    json_object_set_new(o, "abi", json_string(abi));
    json_object_set_new(o, "capabilities", caps_json(p->capabilities));
  } else {
    json_object_set_new(o, "abi", json_null());
    json_object_set_new(o, "capabilities", json_null());
  }
  keys = json_array();
  for (k = p->config_keys; keys && k && k->name; k++) {
    ko = json_object();
    if (!ko)
      break;
    json_object_set_new(ko, "name", cli_json_str(k->name));
    json_object_set_new(ko, "description", cli_json_str(k->description));
    json_object_set_new(ko, "required", json_boolean(k->required));
    json_object_set_new(ko, "secret", json_boolean(k->secret));
    json_array_append_new(keys, ko);
  }
  json_object_set_new(o, "config_keys", keys);
  json_object_set_new(o, "error", cli_json_str(p->error));
  return o;
}

static void plugin_block(const xtstore_plugin_info *p, const char *caps)
{
  const store_config_key *k;

  if (p->provider)
    printf("%s: ", p->provider);
  if (p->name)
    printf("%s %s (ABI %u.%u)\n", p->name, p->version ? p->version : "-",
           (unsigned)p->abi_major, (unsigned)p->abi_minor);
  else
    printf("not loaded\n");
  if (p->description)
    printf("  %-14s%s\n", "description:", p->description);
  printf("  %-14s%s\n", "path:", p->path ? p->path : p->spec ? p->spec : "-");
  printf("  %-14s%s\n", "capabilities:", caps[0] ? caps : "-");
  for (k = p->config_keys; k && k->name; k++)
    printf("  key %s%s%s: %s\n", k->name, k->required ? " (required)" : "",
           k->secret ? " (secret)" : "",
           k->description ? k->description : "");
  if (p->error)
    printf("  %-14s%s\n", "error:", p->error);
}

static int32_t plugins_each(void *ud, const xtstore_plugin_info *p)
{
  plugins_state *st = ud;
  char caps[1024], abi[32];
  const char *row[6];

  if (st->g->json) {
    if (st->single)
      cli_json_print(plugin_json(p));
    else
      cli_json_array_item(st->g, plugin_json(p));
    return 0;
  }
  caps_text(p->name ? p->capabilities : 0, caps, sizeof caps);
  if (st->long_fmt || st->single) {
    plugin_block(p, caps);
    return 0;
  }
  snprintf(abi, sizeof abi, "%u.%u", (unsigned)p->abi_major,
           (unsigned)p->abi_minor);
  row[0] = p->provider;
  row[1] = p->name;
  row[2] = p->name ? p->version : NULL;
  row[3] = p->name ? abi : NULL;
  row[4] = caps[0] ? caps : NULL;
  row[5] = p->path ? p->path : p->spec;
  if (cli_table_add(&st->table, row)) {
    st->nomem = 1;
    return 1;
  }
  return 0;
}

/* The load errors, after the table so its columns stay readable. */
static int32_t plugins_errors(void *ud, const xtstore_plugin_info *p)
{
  (void)ud;
  if (p->error)
    printf("%s: error: %s\n", p->provider ? p->provider : "(file)",
           p->error);
  return 0;
}

static int plugins_list(cli_global *g, plugins_state *st, store_error *err)
{
  static const char *const header[] = { "PROVIDER", "NAME", "VERSION", "ABI",
                                        "CAPABILITIES", "PATH" };
  xtstore_ctx *ctx;
  int rc;

  rc = cli_ctx(g, &ctx, err);
  if (rc)
    return rc;
  if (g->json)
    cli_json_array_begin(g);
  else if (!st->long_fmt && cli_table_add(&st->table, header))
    return store_error_set(err, STORE_E_NOMEM, "out of memory");
  rc = xtstore_plugins_foreach(ctx, plugins_each, st, err);
  if (st->nomem)
    return store_error_set(err, STORE_E_NOMEM, "out of memory");
  if (rc || g->json || st->long_fmt)
    return rc;
  cli_table_print(&st->table, stdout);
  /* Plugins stay loaded: the second pass only reports. */
  return xtstore_plugins_foreach(ctx, plugins_errors, NULL, err);
}

static int plugins_check(cli_global *g, plugins_state *st, const char *path,
                         store_error *err)
{
  xtstore_ctx *ctx;
  int rc;

  rc = cli_ctx(g, &ctx, err);
  if (rc)
    return rc;
  st->single = 1;
  return xtstore_plugin_check(ctx, path, plugins_each, st, err);
}

static int plugins_install(cli_global *g, const char *path, int replace,
                           store_error *err)
{
  xtstore_ctx *ctx;
  cli_action act;
  char dest[4096];
  int rc;

  rc = cli_ctx(g, &ctx, err);
  if (rc)
    return rc;
  if (g->json)
    cli_json_array_begin(g);
  dest[0] = '\0';
  rc = xtstore_plugin_install(ctx, path, replace ? XTSTORE_INSTALL_REPLACE : 0,
                              dest, sizeof dest, err);
  if (rc)
    return rc;
  memset(&act, 0, sizeof act);
  act.action = "install";
  act.source = path;
  act.target = dest;
  act.size = -1;
  cli_report(g, &act);
  return STORE_OK;
}

static int plugins_run(cli_global *g, const cli_cmd *self, int argc,
                       char **argv)
{
  cli_args a;
  plugins_state st;
  store_error err;
  const char *val, *sub, *file = NULL;
  int id, rc;

  memset(&st, 0, sizeof st);
  memset(&err, 0, sizeof err);
  st.g = g;
  st.table.ncols = 6;
  cli_args_init(&a, g, self->name, argc, argv);
  for (;;) {
    id = cli_args_next(&a, plugins_opts, &val);
    if (id <= 0)
      break;
    if (id == OPT_REPLACE)
      st.replace = 1;
    else
      st.long_fmt = 1;
  }
  if (id < 0)
    return cli_args_exit(self, id);
  sub = a.npos ? a.pos[0] : "list";
  if (strcmp(sub, "list") == 0) {
    if (a.npos > 1)
      return cli_usage_error(self->name, "unexpected argument '%s'",
                             a.pos[1]);
    rc = plugins_list(g, &st, &err);
  } else if (strcmp(sub, "check") == 0 || strcmp(sub, "install") == 0) {
    if (a.npos != 2)
      return cli_usage_error(self->name, "'plugins %s' expects one FILE.so",
                             sub);
    file = a.pos[1];
    rc = sub[0] == 'c' ? plugins_check(g, &st, file, &err)
                       : plugins_install(g, file, st.replace, &err);
  } else {
    return cli_usage_error(self->name, "unknown subcommand '%s' (expected "
                                       "list, check or install)",
                           sub);
  }
  cli_table_free(&st.table);
  if (rc == STORE_OK)
    return CLI_EXIT_OK;
  /* A file that fails validation is a failed check, not a usage error. */
  if (file && rc == STORE_E_INVALID) {
    fprintf(stderr, "xtstore: %s: %s%s%s\n", self->name,
            strstr(err.message, file) ? "" : file,
            strstr(err.message, file) ? "" : ": ", err.message);
    return CLI_EXIT_FAILURE;
  }
  /* The file is the subject of check/install: make sure the one error
   * line names it even if the loader's message does not. */
  if (file && !strstr(err.message, file)) {
    fprintf(stderr, "xtstore: %s: '%s': %s\n", self->name, file,
            err.message[0] ? err.message : store_strerror(rc));
    return cli_exit_code(rc);
  }
  return cli_fail(self->name, rc, &err);
}

const cli_cmd cli_cmd_plugins = {
  "plugins",
  "list, check or install provider plugins",
  "Usage: xtstore plugins [list] [OPTIONS]\n"
  "       xtstore plugins check FILE.so\n"
  "       xtstore plugins install [--replace] FILE.so\n"
  "\n"
  "list (the default) loads every providers.storage entry of the\n"
  "configuration and shows the provider, the plugin's own name, version,\n"
  "ABI version, capabilities and file; entries that fail to load show '-'\n"
  "and their error below the table (the exit code stays 0: see 'check').\n"
  "check validates one plugin file as the loader would and prints what it\n"
  "declares, or exits non-zero with the validation error. install checks\n"
  "FILE.so, copies it into the user plugin directory as store-NAME.so and\n"
  "registers providers.storage.NAME in the user configuration (that one\n"
  "entry is edited in place, comments kept, the previous file kept as\n"
  "FILE.~N~, a symlink followed); a NAME that\n"
  "is already a provider (built-in ones included) or an installed plugin\n"
  "is refused (exit 5) unless --replace.\n"
  "\n"
  "Loading a plugin runs its code as you, constructors first: check and\n"
  "install are not a sandbox, so run them only on files you trust. Every\n"
  "load refuses a file, or a file in a directory, that another user owns\n"
  "(root aside) or that group or others may write.\n"
  "\n"
  "Options:\n"
  "  -l, --long   list: one block per plugin, with its configuration keys\n"
  "  --replace    install: take over an existing provider or plugin NAME\n"
  "  --json       list: a JSON array of {provider, spec, path, name,\n"
  "               version, description, abi, capabilities, config_keys,\n"
  "               error}; check: one such object; install: an action array\n"
  "  -h, --help   show this help\n"
  "\n"
  "Examples:\n"
  "  xtstore plugins\n"
  "  xtstore plugins check ./store-acme.so\n"
  "  xtstore plugins install ./store-acme.so\n",
  plugins_run,
};
