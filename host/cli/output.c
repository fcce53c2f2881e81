/*
** output.c -- what the CLI prints: error lines and exit codes, times and
** sizes, JSON (through jansson), action lines and aligned tables.
*/
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int cli_exit_code(int store_code)
{
  switch (store_code) {
  case STORE_OK:
    return CLI_EXIT_OK;
  case STORE_E_INVALID:
    return CLI_EXIT_USAGE;
  case STORE_E_CONFIG:
    return CLI_EXIT_CONFIG;
  case STORE_E_NOT_FOUND:
    return CLI_EXIT_NOT_FOUND;
  case STORE_E_EXISTS:
  case STORE_E_NOT_EMPTY:
  case STORE_E_PRECONDITION:
    return CLI_EXIT_CONFLICT;
  case STORE_E_AUTH:
  case STORE_E_PERMISSION:
    return CLI_EXIT_DENIED;
  case STORE_E_UNSUPPORTED:
    return CLI_EXIT_UNSUPPORTED;
  case STORE_E_ABORTED:
    return cli_interrupted ? CLI_EXIT_INTERRUPTED : CLI_EXIT_FAILURE;
  default:
    return CLI_EXIT_FAILURE;
  }
}

int cli_fail(const char *verb, int rc, const store_error *err)
{
  return cli_fail_hint(verb, rc, err, NULL);
}

int cli_fail_hint(const char *verb, int rc, const store_error *err,
                  const char *hint)
{
  char line[STORE_ERR_MSG_SIZE + 256];
  const char *msg;
  char *p;

  if (rc == STORE_E_ABORTED && cli_interrupted)
    msg = "interrupted";
  else if (err && err->message[0])
    msg = err->message;
  else
    msg = store_strerror(rc);
  snprintf(line, sizeof line, "xtstore: %s: %.*s%s%.96s%s", verb,
           STORE_ERR_MSG_SIZE, msg, hint ? " (" : "", hint ? hint : "",
           hint ? ")" : "");
  /* One line per error, whatever a plugin put in its message; names in
   * it are shown escaped. */
  for (p = line; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  fprintf(stderr, "%s\n", cli_safe(line));
  return cli_exit_code(rc);
}

void cli_tally_add(cli_tally *t, int exit_code)
{
  if (exit_code == CLI_EXIT_OK) {
    t->ok++;
    return;
  }
  t->failed++;
  t->last_exit = exit_code;
}

int cli_tally_exit(const cli_tally *t)
{
  if (t->failed == 0)
    return CLI_EXIT_OK;
  if (t->ok == 0)
    return t->last_exit;
  return CLI_EXIT_PARTIAL;
}

void cli_format_time(int64_t mtime_ns, char *buf, size_t cap)
{
  struct tm tm;
  time_t secs;
  int64_t s;

  if (mtime_ns == STORE_MTIME_UNKNOWN)
    goto unknown;
  /* Floor division, so times before 1970 round down like every clock. */
  s = mtime_ns / 1000000000;
  if (mtime_ns % 1000000000 < 0)
    s--;
  secs = (time_t)s;
  if (!gmtime_r(&secs, &tm) ||
      strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    goto unknown;
  return;

unknown:
  snprintf(buf, cap, "-");
}

void cli_format_size(uint64_t n, char *buf, size_t cap)
{
  static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB",
                                       "EiB" };
  double v = (double)n;
  size_t u = 0;

  if (n < 1024) {
    snprintf(buf, cap, "%llu B", (unsigned long long)n);
    return;
  }
  v /= 1024;
  while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
    v /= 1024;
    u++;
  }
  snprintf(buf, cap, "%.1f %s", v, units[u]);
}

json_t *cli_json_str(const char *s)
{
  json_t *j;
  char *copy;
  size_t i;

  if (!s)
    return json_null();
  j = json_string(s);
  if (j)
    return j;
  /* Not UTF-8 (a key is just bytes to most stores). */
  copy = strdup(s);
  if (!copy)
    return NULL;
  for (i = 0; copy[i]; i++)
    if ((unsigned char)copy[i] >= 0x80)
      copy[i] = '?';
  j = json_string(copy);
  free(copy);
  return j;
}

json_t *cli_json_kvs(const store_kv *kv, size_t n)
{
  json_t *o = json_object();
  size_t i;

  if (!o)
    return NULL;
  for (i = 0; i < n; i++) {
    json_t *k = cli_json_str(kv[i].key);
    const char *key = k ? json_string_value(k) : NULL;

    if (key)
      json_object_set_new(o, key, cli_json_str(kv[i].value));
    json_decref(k);
  }
  return o;
}

json_t *cli_json_entry(const store_entry *e, int full, const char *name)
{
  json_t *o = json_object();
  char when[40], hex[9] = "";
  uint32_t crc;

  if (!o)
    return NULL;
  if (store_entry_crc32c(e, &crc))
    snprintf(hex, sizeof hex, "%08x", crc);
  cli_format_time(e->mtime_ns, when, sizeof when);
  json_object_set_new(o, "name", cli_json_str(e->name ? e->name : name));
  json_object_set_new(o, "size", json_integer((json_int_t)e->size));
  json_object_set_new(o, "mtime",
                      e->mtime_ns == STORE_MTIME_UNKNOWN || when[0] == '-'
                        ? json_null()
                        : json_string(when));
  json_object_set_new(o, "etag", cli_json_str(e->etag));
  json_object_set_new(o, "content_type", cli_json_str(e->content_type));
  json_object_set_new(o, "is_prefix",
                      json_boolean(e->flags & STORE_ENTRY_PREFIX));
  json_object_set_new(o, "snapshot_id", cli_json_str(e->snapshot_id));
  json_object_set_new(o, "crc32c", store_entry_crc32c(e, &crc)
                                     ? json_string(hex) : json_null());
  if (full) {
    json_object_set_new(o, "mtime_ns",
                        e->mtime_ns == STORE_MTIME_UNKNOWN
                          ? json_null()
                          : json_integer((json_int_t)e->mtime_ns));
    json_object_set_new(o, "content_md5", cli_json_str(e->content_md5));
    json_object_set_new(o, "metadata",
                        cli_json_kvs(e->metadata, e->metadata ? e->nmetadata
                                                              : 0));
  }
  return o;
}

void cli_json_array_begin(cli_global *g)
{
  if (g->json_array_open)
    return;
  fputs("[\n", stdout);
  g->json_array_open = 1;
  g->json_array_items = 0;
}

void cli_json_array_item(cli_global *g, json_t *item)
{
  char *s;

  cli_json_array_begin(g);
  if (!item)
    return;
  s = json_dumps(item, JSON_COMPACT | JSON_ENCODE_ANY);
  json_decref(item);
  if (!s)
    return;
  fputs(g->json_array_items ? ",\n" : "", stdout);
  fputs(s, stdout);
  free(s);
  g->json_array_items++;
}

void cli_json_array_end(cli_global *g)
{
  if (!g->json_array_open)
    return;
  fputs(g->json_array_items ? "\n]\n" : "]\n", stdout);
  g->json_array_open = 0;
}

void cli_json_print(json_t *obj)
{
  if (!obj)
    return;
  json_dumpf(obj, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
  fputc('\n', stdout);
  json_decref(obj);
}

void cli_report(cli_global *g, const cli_action *a)
{
  json_t *o;

  if (g->json) {
    o = json_object();
    if (!o)
      return;
    json_object_set_new(o, "action", json_string(a->action));
    json_object_set_new(o, "source", cli_json_str(a->source));
    json_object_set_new(o, "target", cli_json_str(a->target));
    json_object_set_new(o, "size", a->size >= 0 ? json_integer(a->size)
                                                : json_null());
    json_object_set_new(o, "dry_run", json_boolean(a->dry_run));
    cli_json_array_item(g, o);
    return;
  }
  /* A dry run exists to show what would happen: -q does not hide it. */
  if (g->quiet && !a->dry_run)
    return;
  printf("%s%s:", a->dry_run ? "(dryrun) " : "", a->action);
  if (a->source)
    printf(" %s", cli_safe(a->source));
  if (a->source && a->target)
    fputs(" ->", stdout);
  if (a->target)
    printf(" %s", cli_safe(a->target));
  if (a->size >= 0)
    printf(" (%lld bytes)", (long long)a->size);
  fputc('\n', stdout);
}

int cli_table_add(cli_table *t, const char *const *row)
{
  char **cells;
  size_t i, cap;

  if (t->nrows == t->cap) {
    cap = t->cap ? t->cap * 2 : 8;
    cells = realloc(t->cells, cap * t->ncols * sizeof *cells);
    if (!cells)
      return STORE_E_NOMEM;
    t->cells = cells;
    t->cap = cap;
  }
  cells = t->cells + t->nrows * t->ncols;
  for (i = 0; i < t->ncols; i++) {
    cells[i] = strdup(row[i] ? row[i] : "-");
    if (!cells[i]) {
      while (i-- > 0)
        free(cells[i]);
      return STORE_E_NOMEM;
    }
  }
  t->nrows++;
  return STORE_OK;
}

void cli_table_print(const cli_table *t, FILE *f)
{
  size_t *widths = calloc(t->ncols ? t->ncols : 1, sizeof *widths);
  size_t r, c, len;
  const char *cell;

  /* Out of memory only loses the alignment. */
  for (r = 0; widths && r < t->nrows; r++)
    for (c = 0; c < t->ncols; c++) {
      len = strlen(cli_safe(t->cells[r * t->ncols + c]));
      if (len > widths[c])
        widths[c] = len;
    }
  for (r = 0; r < t->nrows; r++) {
    for (c = 0; c < t->ncols; c++) {
      cell = cli_safe(t->cells[r * t->ncols + c]);
      if (c + 1 == t->ncols)
        fputs(cell, f);
      else
        fprintf(f, "%-*s  ", widths ? (int)widths[c] : 0, cell);
    }
    fputc('\n', f);
  }
  free(widths);
}

void cli_table_free(cli_table *t)
{
  size_t i;

  for (i = 0; i < t->nrows * t->ncols; i++)
    free(t->cells[i]);
  free(t->cells);
  t->cells = NULL;
  t->nrows = t->cap = 0;
}
