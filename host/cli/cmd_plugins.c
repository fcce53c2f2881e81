/*
** cmd_plugins.c -- `xtstore plugins [list]`, `plugins check FILE`
** [--config], `plugins test FILE --config` (runs the installed conformance
** suite, xtstore-conformance, against FILE) and `plugins install FILE`.
*/
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

enum { OPT_LONG = 1, OPT_REPLACE, OPT_CONFIG, OPT_SERVICE, OPT_CONTAINER,
       OPT_PREFIX, OPT_LARGE, OPT_SKIP, OPT_FILTER, OPT_LIST };

static const cli_opt plugins_opts[] = {
  { "long", 'l', 0, OPT_LONG },
  { "replace", 0, 0, OPT_REPLACE },
  { "config", 0, 1, OPT_CONFIG },
  { "service", 0, 1, OPT_SERVICE },
  { "container", 0, 1, OPT_CONTAINER },
  /* test: passed to the suite as they are */
  { "container-prefix", 0, 1, OPT_PREFIX },
  { "large-mib", 0, 1, OPT_LARGE },
  { "skip", 0, 1, OPT_SKIP },
  { "filter", 0, 1, OPT_FILTER },
  { "list", 0, 0, OPT_LIST },
  { NULL, 0, 0, 0 },
};

/* The suite's own options, by id - OPT_PREFIX. */
static const char *const suite_opts[] = { "--container-prefix", "--large-mib",
                                          "--skip", "--filter", "--list" };

/* The suite, installed (and built) beside this program. */
#define SUITE_NAME "xtstore-conformance"
#define SUITE_MAX_ARGS 64
/* A check's failure: two paths and a few names, never cut. */
#define WHY_MAX (2 * PATH_MAX)

typedef struct plugins_state {
  cli_global *g;
  int long_fmt;
  int replace;                   /* install --replace */
  int single;               /* check: one JSON object, not an array */
  int quiet;                /* test: check the file without printing it */
  int with_service;         /* check: --config/--service/--container given */
  const char *service;      /* check/test --service */
  const char *container;    /* check --container: list its blobs */
  char plugin_name[72];     /* check: the file's own plugin name */
  char svc_name[256];       /* check --config: the service it opened */
  json_t *obj;              /* check --config --json: the file's object */
  json_t *checks;           /* check --config: the service checks run */
  char failed[WHY_MAX + 16]; /* check --config: the failed check, whole */
  char *suite_argv[SUITE_MAX_ARGS];  /* test: the suite's command line */
  int suite_argc;
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

/* The limits the plugin declares (the non-zero ones), to fn(ud, name,
 * value) in the ABI's order. */
static void limits_each(const store_limits *l,
                        void (*fn)(void *, const char *, uint64_t), void *ud)
{
  if (!l)
    return;
#define LIM(f) if (l->f) fn(ud, #f, (uint64_t)l->f)
  LIM(max_parts); LIM(min_part_size); LIM(max_part_size);
  LIM(max_object_size); LIM(max_put_size); LIM(list_page_size);
  LIM(equal_parts_required); LIM(max_key_length);
#undef LIM
}

static void limit_json(void *ud, const char *name, uint64_t v)
{
  json_object_set_new(ud, name, json_integer((json_int_t)v));
}

static void limit_text(void *ud, const char *name, uint64_t v)
{
  int *first = ud;

  printf("%s%s=%llu", *first ? "" : " ", name, (unsigned long long)v);
  *first = 0;
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
    keys = json_object();
    limits_each(p->limits, limit_json, keys);
    json_object_set_new(o, "limits", keys);
  } else {
    json_object_set_new(o, "abi", json_null());
    json_object_set_new(o, "capabilities", json_null());
    json_object_set_new(o, "limits", json_null());
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
  if (p->name) {
    int first = 1;

    printf("  %-14s", "limits:");
    limits_each(p->limits, limit_text, &first);
    printf("%s\n", first ? "-" : "");
  }
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

/* Put FILE's directory first on the plugin search path, so that a service
 * whose provider names FILE by its name ("store-acme") loads this file. */
static int plugins_path_first(const char *file, store_error *err)
{
  char real[PATH_MAX], *path;
  const char *old = getenv("XTSTORE_PLUGIN_PATH");
  size_t n;
  int rc;

  if (!realpath(file, real))
    return store_error_set(err, errno == ENOENT ? STORE_E_NOT_FOUND
                                                : STORE_E_IO,
                           "%s: %s", file, strerror(errno));
  n = strlen(real) + (old ? strlen(old) : 0) + 2;
  path = malloc(n);
  if (!path)
    return store_error_set(err, STORE_E_NOMEM, "out of memory");
  snprintf(path, n, "%s%s%s", dirname(real), old && old[0] ? ":" : "",
           old ? old : "");
  rc = setenv("XTSTORE_PLUGIN_PATH", path, 1);
  free(path);
  return rc ? store_error_set(err, STORE_E_NOMEM, "out of memory") : STORE_OK;
}

typedef struct svc_find {
  const char *name;
  char provider[256];
  int found;
} svc_find;

static int32_t svc_find_each(void *ud, const xtstore_service_info *s)
{
  svc_find *f = ud;

  if (strcmp(s->name, f->name))
    return 0;
  snprintf(f->provider, sizeof f->provider, "%s",
           s->provider ? s->provider : "");
  f->found = 1;
  return 1;
}

typedef struct prov_find {
  const char *provider;
  char path[PATH_MAX];
} prov_find;

static int32_t prov_find_each(void *ud, const xtstore_plugin_info *p)
{
  prov_find *f = ud;

  if (!p->provider || strcmp(p->provider, f->provider) || !p->name)
    return 0;
  snprintf(f->path, sizeof f->path, "%s", p->path ? p->path : "");
  return 1;
}

static int same_file(const char *a, const char *b)
{
  char ra[PATH_MAX], rb[PATH_MAX];

  return a[0] && realpath(a, ra) && realpath(b, rb) && !strcmp(ra, rb);
}

static int32_t count_each(void *ud, const store_entry *e)
{
  (void)e;
  (*(unsigned long *)ud)++;
  return 0;
}

/* One check of `check --config` into st->checks; rc as it came. A
 * failure's whole message, named by the check, goes to st->failed (a
 * store_error's message would cut a long one). why: the failure's text,
 * NULL for err's. */
static int check_done(plugins_state *st, const char *name, int rc,
                      store_error *err, const char *why, const char *detail)
{
  json_t *o;

  if (rc)
    snprintf(st->failed, sizeof st->failed, "%s: %s", name,
             why ? why : err->message);
  if (!st->checks)
    return rc;
  o = json_object();
  if (!o)
    return rc;
  json_object_set_new(o, "check", json_string(name));
  json_object_set_new(o, "ok", json_boolean(rc == STORE_OK));
  if (rc)
    json_object_set_new(o, "error", cli_json_str(why ? why : err->message));
  else
    json_object_set_new(o, "detail", cli_json_str(detail));
  json_array_append_new(st->checks, o);
  return rc;
}

/* The service (--service, else xt-services.storage) opens with the
 * plugin file that was checked (not another file), lists once, and closes
 * with the context. Each step a check; the first failure ends the run,
 * its message prefixed with the check's name. */
static int check_service(cli_global *g, plugins_state *st, xtstore_ctx *ctx,
                         const char *file, store_error *err)
{
  svc_find sf;
  prov_find pf;
  xtstore_svc *svc = NULL;
  store_list_opts lo;
  unsigned long n = 0;
  char detail[128], why[WHY_MAX];
  const char *name = st->service ? st->service : xtstore_default_service(ctx);
  int rc;

  if (!name)
    return check_done(st, "open", store_error_set(err, STORE_E_INVALID,
                      "no service to open: give --service NAME (the config "
                      "names no default xt-services.storage)"), err, NULL,
                      NULL);
  snprintf(st->svc_name, sizeof st->svc_name, "%s", name);
  why[0] = '\0';
  memset(&sf, 0, sizeof sf);
  sf.name = name;
  rc = xtstore_services_foreach(ctx, svc_find_each, &sf, err);
  if (rc == STORE_E_ABORTED && sf.found)
    rc = STORE_OK;
  if (!rc && !sf.found)
    rc = store_error_set(err, STORE_E_NOT_FOUND, "service '%s' is not in "
                         "the configuration", name);
  if (!rc)
    rc = xtstore_service_open(ctx, name, &svc, err);
  if (rc)
    return check_done(st, "open", rc, err, NULL, NULL);
  /* The service must have loaded FILE itself, not a file of the same
   * plugin name elsewhere. */
  memset(&pf, 0, sizeof pf);
  pf.provider = sf.provider;
  rc = xtstore_plugins_foreach(ctx, prov_find_each, &pf, err);
  if (rc == STORE_E_ABORTED)
    rc = STORE_OK;
  if (!rc && !same_file(pf.path, file)) {
    snprintf(why, sizeof why, "service '%s' loads %s for provider '%s', "
             "not this file: map '%s' to \"store-%s\" (or to this file's "
             "path) in providers.storage", name,
             pf.path[0] ? pf.path : "another plugin", sf.provider,
             sf.provider, st->plugin_name);
    rc = store_error_set(err, STORE_E_INVALID, "%s", why);
  }
  snprintf(detail, sizeof detail, "service '%s'", name);
  if (check_done(st, "open", rc, err, why[0] ? why : NULL, detail))
    return rc;
  if (st->container) {
    memset(&lo, 0, sizeof lo);
    lo.struct_size = sizeof lo;
    lo.delimiter = "/";
    rc = xtstore_blob_list(svc, st->container, &lo, count_each, &n, err);
    snprintf(detail, sizeof detail, "%lu entries in container '%s'", n,
             st->container);
  } else if (!(xtstore_service_caps(svc) & STORE_CAP_CONTAINERS) &&
             st->quiet) {
    rc = store_error_set(err, STORE_E_INVALID, "the plugin declares no "
                         "'containers' capability: the conformance suite "
                         "runs each case in a container of its own, so it "
                         "cannot test this plugin");
  } else if (!(xtstore_service_caps(svc) & STORE_CAP_CONTAINERS)) {
    rc = store_error_set(err, STORE_E_INVALID, "the plugin declares no "
                         "'containers' capability: give --container NAME "
                         "to list its blobs");
  } else {
    rc = xtstore_container_list(svc, NULL, count_each, &n, err);
    snprintf(detail, sizeof detail, "%lu containers", n);
  }
  if (check_done(st, "list", rc, err, NULL, detail))
    return rc;
  cli_ctx_close(g);     /* close cannot fail: no check */
  return STORE_OK;
}

/* The checked file's declarations: printed (or kept for --json), and
 * its plugin name kept to recognise it behind the service. */
static int32_t plugin_seen(void *ud, const xtstore_plugin_info *p)
{
  plugins_state *st = ud;
  char caps[1024];

  snprintf(st->plugin_name, sizeof st->plugin_name, "%s",
           p->name ? p->name : "");
  if (st->quiet)
    return 0;
  if (st->g->json) {
    st->obj = plugin_json(p);
    return 0;
  }
  caps_text(p->name ? p->capabilities : 0, caps, sizeof caps);
  plugin_block(p, caps);
  return 0;
}

static void checks_print(plugins_state *st)
{
  const char *what, *text;
  json_t *c;
  size_t i;

  if (st->g->json) {
    if (st->obj) {
      json_object_set_new(st->obj, "service", cli_json_str(st->svc_name));
      json_object_set_new(st->obj, "checks", json_incref(st->checks));
      json_object_set_new(st->obj, "closed",
                          json_boolean(st->failed[0] == '\0'));
      cli_json_print(st->obj);
      st->obj = NULL;
    }
    return;
  }
  json_array_foreach(st->checks, i, c) {
    what = json_string_value(json_object_get(c, "check"));
    text = json_string_value(json_object_get(c, "detail"));
    if (json_is_true(json_object_get(c, "ok")))
      printf("  %s:%*sok%s%s%s\n", what, (int)(13 - strlen(what)), "",
             text ? " (" : "", text ? text : "", text ? ")" : "");
    else
      printf("  %s:%*sFAILED\n", what, (int)(13 - strlen(what)), "");
  }
  if (!st->failed[0])
    printf("  closed\n");
}

/* test's context: SERVICE.yaml alone, as the suite reads it, so both
 * see the same service. Becomes g's context (closed with it). */
static int test_ctx(cli_global *g, store_error *err)
{
  xtstore_ctx_opts o;

  memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  o.config_path = g->config_path;
  o.flags = XTSTORE_CTX_NO_SYSTEM_CONFIG | XTSTORE_CTX_NO_USER_CONFIG |
            XTSTORE_CTX_NO_CWD_CONFIG;
  o.log_level = g->quiet ? STORE_LOG_ERROR : STORE_LOG_WARN;
  return xtstore_ctx_open(&o, &g->ctx, err);
}

/* check FILE: the loader's checks. With --config, --service or
 * --container after the verb (test: always), FILE's directory goes first
 * on the plugin path and the service is opened with it, listed once and
 * closed (check_service). */
static int plugins_check(cli_global *g, plugins_state *st, const char *path,
                         store_error *err)
{
  xtstore_ctx *ctx;
  int rc;

  st->single = 1;
  if (!st->with_service) {
    rc = cli_ctx(g, &ctx, err);
    return rc ? rc : xtstore_plugin_check(ctx, path, plugins_each, st, err);
  }
  rc = plugins_path_first(path, err);
  if (rc)
    goto out;
  st->checks = json_array();
  if (!st->checks) {
    rc = store_error_set(err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
  if (st->quiet && !g->ctx)
    rc = test_ctx(g, err);
  if (!rc)
    rc = cli_ctx(g, &ctx, err);
  if (rc)
    goto out;
  rc = xtstore_plugin_check(ctx, path, plugin_seen, st, err);
  if (rc)
    goto out;
  rc = check_service(g, st, ctx, path, err);
  if (!st->quiet)
    checks_print(st);
out:
  json_decref(st->obj);
  json_decref(st->checks);
  return rc;
}

/* test FILE: the same checks, quietly, then the suite runs in this
 * process's place: its output and exit status are the command's. Returns
 * only on failure. */
static int plugins_test(cli_global *g, plugins_state *st, const char *path,
                        store_error *err)
{
  char self[PATH_MAX], suite[PATH_MAX + 32];
  char *argv[SUITE_MAX_ARGS + 8];
  ssize_t n;
  int i, rc;

  st->quiet = 1;
  st->with_service = 1;
  rc = plugins_check(g, st, path, err);
  if (rc)
    return rc;
  n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n < 0)
    return store_error_set(err, STORE_E_IO, "cannot find this program: "
                           "/proc/self/exe: %s", strerror(errno));
  self[n] = '\0';
  snprintf(suite, sizeof suite, "%s/%s", dirname(self), SUITE_NAME);
  argv[0] = suite;
  argv[1] = "--config";
  argv[2] = (char *)g->config_path;
  argv[3] = "--service";
  argv[4] = st->svc_name;
  for (i = 0; i < st->suite_argc; i++)
    argv[5 + i] = st->suite_argv[i];
  argv[5 + i] = NULL;
  fflush(stdout);
  execv(suite, argv);
  return store_error_set(err, STORE_E_NOT_FOUND, "the conformance suite %s: "
                         "%s (it is installed beside xtstore)", suite,
                         strerror(errno));
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
  const char *val, *sub, *msg, *file = NULL;
  int id, rc, suite_opt = 0, kit_opt = 0;

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
    else if (id == OPT_LONG)
      st.long_fmt = 1;
    else if (id == OPT_CONFIG) {
      g->config_path = val;
      st.with_service = 1;
    }
    else if (id == OPT_SERVICE || id == OPT_CONTAINER)
      *(id == OPT_SERVICE ? &st.service : &st.container) = val;
    else if (st.suite_argc + 2 > SUITE_MAX_ARGS)
      return cli_usage_error(self->name, "too many options for the suite");
    else {
      st.suite_argv[st.suite_argc++] = (char *)suite_opts[id - OPT_PREFIX];
      if (val)
        st.suite_argv[st.suite_argc++] = (char *)val;
      suite_opt = 1;
    }
    kit_opt |= id == OPT_SERVICE || id == OPT_CONTAINER;
    st.with_service |= kit_opt;
  }
  if (id < 0)
    return cli_args_exit(self, id);
  sub = a.npos ? a.pos[0] : "list";
  if (suite_opt && strcmp(sub, "test"))
    return cli_usage_error(self->name, "--container-prefix, --large-mib, "
                           "--skip, --filter and --list are options of "
                           "'plugins test'");
  if (kit_opt && strcmp(sub, "test") && strcmp(sub, "check"))
    return cli_usage_error(self->name, "--service and --container are "
                           "options of 'plugins check' and 'plugins test'");
  if (st.container && strcmp(sub, "test") == 0)
    return cli_usage_error(self->name, "--container is an option of "
                           "'plugins check': the suite runs each case in a "
                           "container of its own");
  if (!g->config_path && strcmp(sub, "test") == 0)
    g->config_path = getenv("XTSTORE_CONFIG");
  if (strcmp(sub, "list") == 0) {
    if (a.npos > 1)
      return cli_usage_error(self->name, "unexpected argument '%s'",
                             a.pos[1]);
    rc = plugins_list(g, &st, &err);
  } else if (strcmp(sub, "check") == 0 || strcmp(sub, "install") == 0 ||
             strcmp(sub, "test") == 0) {
    if (a.npos != 2)
      return cli_usage_error(self->name, "'plugins %s' expects one FILE.so",
                             sub);
    if (sub[0] == 't' && (!g->config_path || !g->config_path[0]))
      return cli_usage_error(self->name, "'plugins test' needs --config "
                             "SERVICE.yaml, the service to run the suite on");
    file = a.pos[1];
    rc = sub[0] == 'c' ? plugins_check(g, &st, file, &err)
         : sub[0] == 't' ? plugins_test(g, &st, file, &err)
                         : plugins_install(g, file, st.replace, &err);
  } else {
    return cli_usage_error(self->name, "unknown subcommand '%s' (expected "
                                       "list, check, test or install)",
                           sub);
  }
  cli_table_free(&st.table);
  if (rc == STORE_OK)
    return CLI_EXIT_OK;
  /* Any failed check of check is 1, whatever failed; test's own failures
   * before the suite runs are its setup errors (2), as the suite's are.
   * A service check's message is st.failed, whole. */
  if (file && (rc == STORE_E_INVALID || sub[0] != 'i')) {
    msg = st.failed[0] ? st.failed : err.message;
    if (!msg[0])
      msg = store_strerror(rc);
    fprintf(stderr, "xtstore: %s: %s%s%s\n", self->name,
            strstr(msg, file) ? "" : file, strstr(msg, file) ? "" : ": ",
            msg);
    return sub[0] == 't' ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
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
  "list, check, test or install provider plugins",
  "Usage: xtstore plugins [list] [OPTIONS]\n"
  "       xtstore plugins check FILE.so [--config SERVICE.yaml]\n"
  "                             [--service NAME] [--container NAME]\n"
  "       xtstore plugins test FILE.so --config SERVICE.yaml [--service NAME]\n"
  "                            [SUITE OPTIONS]\n"
  "       xtstore plugins install [--replace] FILE.so\n"
  "\n"
  "list (the default) loads every providers.storage entry of the\n"
  "configuration and shows the provider, the plugin's own name, version,\n"
  "ABI version, capabilities and file; entries that fail to load show '-'\n"
  "and their error below the table (the exit code stays 0: see 'check').\n"
  "check validates one plugin file as the loader would and prints what it\n"
  "declares (capabilities, limits, configuration keys with their required\n"
  "and secret flags), or exits non-zero with the validation error. Given\n"
  "--config, --service or --container (after the verb), FILE's directory\n"
  "goes first on the plugin path and check also opens the service (--service,\n"
  "else xt-services.storage) with FILE (a service that loads another file\n"
  "fails the check), lists it once (its containers, or the blobs of\n"
  "--container) and closes it, printing each step; the first failure ends\n"
  "it with one line naming FILE and the failed check. Exit 0 when every\n"
  "check passed, 1 when one failed (FILE does not load, or the service\n"
  "does not open or list with it), 2 for a usage error.\n"
  "test makes the same checks quietly, then runs the conformance suite\n"
  "(xtstore-conformance, installed beside xtstore) against the service:\n"
  "every behaviour case, skipping those whose capability FILE does not\n"
  "declare, each failure a got/expected line. The checks and the suite\n"
  "read only SERVICE.yaml; the suite creates and deletes containers named\n"
  "PREFIX-RANDOM-N, so FILE must declare 'containers'. Exit 0 when every\n"
  "case passed or was skipped, 1 when one failed, 2 for a usage or setup\n"
  "error (FILE does not load, the service does not open with it, FILE\n"
  "lacks 'containers', the suite is missing).\n"
  "install checks\n"
  "FILE.so, copies it into the user plugin directory as store-NAME.so and\n"
  "registers providers.storage.NAME in the user configuration (that one\n"
  "entry is edited in place, comments kept, the previous file kept as\n"
  "FILE.~N~, a symlink followed); a NAME that\n"
  "is already a provider (built-in ones included) or an installed plugin\n"
  "is refused (exit 5) unless --replace.\n"
  "\n"
  "Loading a plugin runs its code as you, constructors first: check, test\n"
  "and install are not a sandbox, so run them only on files you trust.\n"
  "Every load refuses a file, or a file in a directory, that another user\n"
  "owns (root aside) or that group or others may write.\n"
  "\n"
  "Options:\n"
  "  -l, --long   list: one block per plugin, with its configuration keys\n"
  "  --replace    install: take over an existing provider or plugin NAME\n"
  "  --config FILE     check, test: the service configuration\n"
  "  --service NAME    check, test: the service to open (default: the\n"
  "                    config's xt-services.storage)\n"
  "  --container NAME  check: list this container's blobs (not for test)\n"
  "  --json       list: a JSON array of {provider, spec, path, name,\n"
  "               version, description, abi, capabilities, limits,\n"
  "               config_keys, error}; check: one such object (with\n"
  "               --config also service, checks: [{check, ok, detail\n"
  "               or error}] and closed); install: an action array\n"
  "  -h, --help   show this help\n"
  "\n"
  "Suite options (test; see xtstore-conformance --help):\n"
  "  --container-prefix P  names of the containers it makes (default xtconf)\n"
  "  --large-mib N         size of the large streaming case (default 256)\n"
  "  --skip CASE[,CASE][:REASON]  skip cases, printing REASON; repeatable\n"
  "  --filter PATTERN      only the matching cases (* and ?)\n"
  "  --list                list the cases and the capabilities they need\n"
  "\n"
  "Examples:\n"
  "  xtstore plugins\n"
  "  xtstore plugins check ./store-acme.so\n"
  "  xtstore plugins check ./store-acme.so --config acme.yaml --service t\n"
  "  xtstore plugins test ./store-acme.so --config acme.yaml --service t\n"
  "  xtstore plugins install ./store-acme.so\n",
  plugins_run,
};
