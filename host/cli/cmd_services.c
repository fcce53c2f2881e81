/*
** cmd_services.c -- `xtstore services`: the external-services of the
** merged configuration. Key values come from the library already redacted
** (a literal secret reads "<redacted>"; "$env:NAME" is shown as written).
*/
#include <string.h>

#include "cli.h"

enum { OPT_LONG = 1 };

static const cli_opt services_opts[] = {
  { "long", 'l', 0, OPT_LONG },
  { NULL, 0, 0, 0 },
};

typedef struct services_state {
  cli_global *g;
  int long_fmt;
  cli_table table;
  int nomem;
} services_state;

/* "FILE:LINE" of key i: the layer that set it. */
static void key_where(const xtstore_service_info *s, size_t i, char *buf,
                      size_t len)
{
  if (s->kv_file && s->kv_file[i])
    snprintf(buf, len, "%s:%d", s->kv_file[i], (int)s->kv_line[i]);
  else
    snprintf(buf, len, "(built-in)");
}

/* {key: "FILE:LINE"} for --json; NULL values are skipped by jansson. */
static json_t *config_from(const xtstore_service_info *s)
{
  json_t *o = json_object();
  char where[512];
  size_t i;

  for (i = 0; o && s->kv && i < s->nkv; i++) {
    key_where(s, i, where, sizeof where);
    json_object_set_new(o, s->kv[i].key, json_string(where));
  }
  return o;
}

static int32_t services_each(void *ud, const xtstore_service_info *s)
{
  services_state *st = ud;
  char where[512];
  const char *row[5];
  json_t *o;
  size_t i;

  snprintf(where, sizeof where, "%s:%d", s->file ? s->file : "(built-in)",
           (int)s->line);
  if (st->g->json) {
    o = json_object();
    if (!o)
      return 0;
    json_object_set_new(o, "name", cli_json_str(s->name));
    json_object_set_new(o, "type", cli_json_str(s->type));
    json_object_set_new(o, "provider", cli_json_str(s->provider));
    json_object_set_new(o, "default", json_boolean(s->is_default));
    json_object_set_new(o, "file", cli_json_str(s->file));
    json_object_set_new(o, "line", json_integer(s->line));
    json_object_set_new(o, "config", cli_json_kvs(s->kv, s->kv ? s->nkv : 0));
    json_object_set_new(o, "config_from", config_from(s));
    cli_json_array_item(st->g, o);
    return 0;
  }
  if (st->long_fmt) {
    printf("%s%s\n", s->name, s->is_default ? " (default)" : "");
    printf("  %-12s%s\n", "type:", s->type ? s->type : "-");
    printf("  %-12s%s\n", "provider:", s->provider ? s->provider : "-");
    printf("  %-12s%s\n", "defined at:", where);
    for (i = 0; s->kv && i < s->nkv; i++) {
      key_where(s, i, where, sizeof where);
      printf("  %s: %s  [%s]\n", s->kv[i].key,
             s->kv[i].value ? s->kv[i].value : "null", where);
    }
    return 0;
  }
  row[0] = s->name;
  row[1] = s->type;
  row[2] = s->provider;
  row[3] = s->is_default ? "*" : "";
  row[4] = where;
  if (cli_table_add(&st->table, row)) {
    st->nomem = 1;
    return 1;
  }
  return 0;
}

static int services_run(cli_global *g, const cli_cmd *self, int argc,
                        char **argv)
{
  static const char *const header[] = { "NAME", "TYPE", "PROVIDER",
                                        "DEFAULT", "DEFINED AT" };
  cli_args a;
  services_state st;
  store_error err;
  xtstore_ctx *ctx;
  const char *val;
  int id, rc;

  memset(&st, 0, sizeof st);
  memset(&err, 0, sizeof err);
  st.g = g;
  st.table.ncols = 5;
  cli_args_init(&a, g, self->name, argc, argv);
  for (;;) {
    id = cli_args_next(&a, services_opts, &val);
    if (id <= 0)
      break;
    st.long_fmt = 1;
  }
  if (id < 0)
    return cli_args_exit(self, id);
  if (a.npos != 0)
    return cli_usage_error(self->name, "unexpected argument '%s'", a.pos[0]);
  rc = cli_ctx(g, &ctx, &err);
  if (rc)
    goto out;
  if (g->json)
    cli_json_array_begin(g);
  else if (!st.long_fmt && cli_table_add(&st.table, header))
    st.nomem = 1;
  if (!st.nomem)
    rc = xtstore_services_foreach(ctx, services_each, &st, &err);
  if (st.nomem)
    rc = store_error_set(&err, STORE_E_NOMEM, "out of memory");
  if (rc == STORE_OK)
    cli_table_print(&st.table, stdout);

out:
  cli_table_free(&st.table);
  return rc ? cli_fail(self->name, rc, &err) : CLI_EXIT_OK;
}

const cli_cmd cli_cmd_services = {
  "services",
  "list the configured services",
  "Usage: xtstore services [OPTIONS]\n"
  "\n"
  "List the external-services of the merged configuration: name, type,\n"
  "provider, a '*' for the default storage service (xt-services.storage)\n"
  "and the file and line that define it. Secret values are never shown: a\n"
  "literal secret reads <redacted>, a reference such as $env:NAME or\n"
  "$vault is shown as written. -v also names every configuration file\n"
  "read, lowest layer first.\n"
  "\n"
  "Options:\n"
  "  -l, --long   also show every configuration key of each service and\n"
  "               the file:line of the layer that set it\n"
  "  --json       one JSON array: {name, type, provider, default, file,\n"
  "               line, config, config_from (key: \"file:line\")} per\n"
  "               service\n"
  "  -h, --help   show this help\n"
  "\n"
  "Examples:\n"
  "  xtstore services\n"
  "  xtstore --config ./xt_config.yaml services -l\n",
  services_run,
};
