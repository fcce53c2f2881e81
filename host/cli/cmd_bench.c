/*
** cmd_bench.c -- `xtstore bench`: run xtstore_bench against a container
** and show its rows as a table, a CSV file (--csv) and/or JSON (--json).
*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { OPT_SIZES = 1, OPT_COUNT, OPT_CSV, OPT_KEEP, OPT_TRANSFERS };

static const cli_opt bench_opts[] = {
  { "sizes", 0, 1, OPT_SIZES },
  { "count", 0, 1, OPT_COUNT },
  { "csv", 0, 1, OPT_CSV },
  { "keep", 0, 0, OPT_KEEP },
  { "transfers", 0, 1, OPT_TRANSFERS },
  { NULL, 0, 0, 0 },
};

static const char bench_csv_header[] =
  "service,object_size,op,count,bytes,seconds,mb_per_s,ops_per_s,"
  "cpu_seconds,max_rss_mib,transfers\n";

typedef struct bench_state {
  cli_global *g;
  const char *service;
  FILE *csv;                /* --csv FILE (owned), or NULL              */
  const char *csv_path;
  cli_table table;          /* rows for the human table                 */
  char *prefix;             /* the run's scratch prefix (owned)         */
  int nomem;
} bench_state;

/* A row's derived figures: one computation for every output format. */
typedef struct bench_figs {
  double seconds, mb_s, ops_s, cpu_s, rss_mib;
} bench_figs;

static void bench_figures(const xtstore_bench_row *r, bench_figs *f)
{
  f->seconds = (double)r->wall_ns / 1e9;
  f->mb_s = f->seconds > 0 ? (double)r->bytes / 1e6 / f->seconds : 0;
  f->ops_s = f->seconds > 0 ? (double)r->count / f->seconds : 0;
  f->cpu_s = (double)r->cpu_ns / 1e9;
  f->rss_mib = (double)r->max_rss_bytes / (1024.0 * 1024.0);
}

static json_t *bench_json(const bench_state *st, const xtstore_bench_row *r,
                          const bench_figs *f)
{
  json_t *o = json_object();

  if (!o)
    return NULL;
  json_object_set_new(o, "service", cli_json_str(st->service));
  json_object_set_new(o, "object_size",
                      json_integer((json_int_t)r->object_size));
  json_object_set_new(o, "op", json_string(r->op));
  json_object_set_new(o, "count", json_integer((json_int_t)r->count));
  json_object_set_new(o, "bytes", json_integer((json_int_t)r->bytes));
  json_object_set_new(o, "seconds", json_real(f->seconds));
  json_object_set_new(o, "mb_per_s", json_real(f->mb_s));
  json_object_set_new(o, "ops_per_s", json_real(f->ops_s));
  json_object_set_new(o, "cpu_seconds", json_real(f->cpu_s));
  json_object_set_new(o, "max_rss_mib", json_real(f->rss_mib));
  json_object_set_new(o, "transfers", json_integer(r->transfers));
  json_object_set_new(o, "prefix", cli_json_str(r->prefix));
  return o;
}

static int bench_table_row(cli_table *t, const xtstore_bench_row *r,
                           const bench_figs *f)
{
  char size[32], count[24], bytes[24], secs[24], mbs[24], ops[24], cpu[24],
    rss[24];
  const char *row[] = { size, r->op, count, bytes, secs, mbs, ops, cpu, rss };

  cli_format_size(r->object_size, size, sizeof size);
  snprintf(count, sizeof count, "%llu", (unsigned long long)r->count);
  snprintf(bytes, sizeof bytes, "%llu", (unsigned long long)r->bytes);
  snprintf(secs, sizeof secs, "%.3f", f->seconds);
  /* MB/s means nothing for phases that move no bodies. */
  if (r->bytes)
    snprintf(mbs, sizeof mbs, "%.1f", f->mb_s);
  else
    snprintf(mbs, sizeof mbs, "-");
  snprintf(ops, sizeof ops, "%.1f", f->ops_s);
  snprintf(cpu, sizeof cpu, "%.3f", f->cpu_s);
  snprintf(rss, sizeof rss, "%.1f", f->rss_mib);
  return cli_table_add(t, row);
}

static int32_t bench_row(void *ud, const xtstore_bench_row *r)
{
  bench_state *st = ud;
  bench_figs f;

  if (cli_interrupted)
    return 1;
  bench_figures(r, &f);
  if (!st->prefix && !(st->prefix = strdup(r->prefix)))
    goto nomem;
  if (st->csv)
    fprintf(st->csv, "%s,%llu,%s,%llu,%llu,%.6f,%.3f,%.3f,%.6f,%.1f,%u\n",
            st->service, (unsigned long long)r->object_size, r->op,
            (unsigned long long)r->count, (unsigned long long)r->bytes,
            f.seconds, f.mb_s, f.ops_s, f.cpu_s, f.rss_mib, r->transfers);
  if (st->g->json)
    cli_json_array_item(st->g, bench_json(st, r, &f));
  else if (bench_table_row(&st->table, r, &f))
    goto nomem;
  return 0;

nomem:
  st->nomem = 1;
  return 1;
}

/* A decimal number with an optional binary suffix K, M, G or T (either
 * case) when `suffix` is set. Returns 0, or -1 when it is not one or does
 * not fit 64 bits. */
static int bench_parse_num(const char *s, size_t len, int suffix,
                           uint64_t *out)
{
  uint64_t v = 0, mult = 1;
  size_t i;

  if (suffix && len > 1) {
    switch (s[len - 1]) {
    case 'K': case 'k': mult = UINT64_C(1) << 10; break;
    case 'M': case 'm': mult = UINT64_C(1) << 20; break;
    case 'G': case 'g': mult = UINT64_C(1) << 30; break;
    case 'T': case 't': mult = UINT64_C(1) << 40; break;
    }
    if (mult > 1)
      len--;
  }
  if (len == 0)
    return -1;
  for (i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - 9) / 10)
      return -1;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (v > UINT64_MAX / mult)
    return -1;
  *out = v * mult;
  return 0;
}

/* --count and --transfers: 1 .. 2^32-1. Returns 0 or a usage exit code. */
static int bench_parse_u32(const char *verb, const char *opt,
                           const char *text, uint32_t *out)
{
  uint64_t v;

  if (bench_parse_num(text, strlen(text), 0, &v) || v == 0 ||
      v > UINT32_MAX)
    return cli_usage_error(verb, "%s wants a whole number from 1 to %u, got "
                                 "'%s'",
                           opt, UINT32_MAX, text);
  *out = (uint32_t)v;
  return 0;
}

/* "4K,1M,64M" into a new array (*out, freed by the caller). Returns 0, or
 * a usage or failure exit code. */
static int bench_parse_sizes(const char *verb, const char *text,
                             uint64_t **out, size_t *n)
{
  const char *p = text, *end;
  size_t cap = 1;

  *n = 0;
  for (end = text; *end; end++)
    cap += *end == ',';
  *out = calloc(cap, sizeof(**out));
  if (!*out) {
    fprintf(stderr, "xtstore: %s: out of memory\n", verb);
    return CLI_EXIT_FAILURE;
  }
  for (;;) {
    end = strchr(p, ',');
    if (!end)
      end = p + strlen(p);
    if (bench_parse_num(p, (size_t)(end - p), 1, &(*out)[*n]))
      return cli_usage_error(verb, "bad --sizes '%s' (expected sizes in "
                                   "bytes with an optional K, M, G or T, "
                                   "comma-separated: 4K,1M,64M)",
                             text);
    (*n)++;
    if (!*end)
      return 0;
    p = end + 1;
  }
}

/* The options into *out_o (its sizes in *out_sizes, freed by the caller
 * even on failure) and *out_csv, the one SERVICE:CONTAINER into *out_t
 * (freed by the caller). Returns 0 or an exit code. */
static int bench_args(cli_global *g, const cli_cmd *self, int argc,
                      char **argv, xtstore_bench_opts *out_o,
                      uint64_t **out_sizes, const char **out_csv,
                      cli_target *out_t)
{
  cli_args a;
  const char *val;
  int id, ex = CLI_EXIT_OK;

  cli_args_init(&a, g, self->name, argc, argv);
  for (;;) {
    id = cli_args_next(&a, bench_opts, &val);
    if (id <= 0)
      break;
    switch (id) {
    case OPT_SIZES:
      free(*out_sizes);
      ex = bench_parse_sizes(self->name, val, out_sizes, &out_o->nsizes);
      break;
    case OPT_COUNT:
      ex = bench_parse_u32(self->name, "--count", val, &out_o->count);
      break;
    case OPT_CSV:
      *out_csv = val;
      break;
    case OPT_KEEP:
      out_o->flags |= XTSTORE_BENCH_KEEP;
      break;
    case OPT_TRANSFERS:
      ex = bench_parse_u32(self->name, "--transfers", val, &out_o->transfers);
      break;
    }
    if (ex)
      return ex;
  }
  if (id < 0)
    return cli_args_exit(self, id);
  out_o->sizes = *out_sizes;
  if (a.npos != 1)
    return cli_usage_error(self->name, "expected one SERVICE:CONTAINER, got "
                                       "%d arguments",
                           a.npos);
  ex = cli_target_parse(self->name, a.pos[0], CLI_NEED_CONTAINER, out_t);
  if (ex)
    return ex;
  if (out_t->a.key)
    return cli_usage_error(self->name, "'%s' names a key: the bench writes "
                                       "under its own scratch prefix; give "
                                       "SERVICE:CONTAINER",
                           a.pos[0]);
  return CLI_EXIT_OK;
}

static int bench_run(cli_global *g, const cli_cmd *self, int argc,
                     char **argv)
{
  cli_target t;
  store_error err;
  xtstore_bench_opts o;
  bench_state st;
  uint64_t *sizes = NULL; /* owned */
  int rc = STORE_OK, ex = CLI_EXIT_OK;

  memset(&t, 0, sizeof t);
  memset(&err, 0, sizeof err);
  memset(&st, 0, sizeof st);
  memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  st.g = g;
  st.table.ncols = 9;
  ex = bench_args(g, self, argc, argv, &o, &sizes, &st.csv_path, &t);
  if (ex)
    goto out;
  rc = cli_target_open(g, &t, &err);
  if (rc)
    goto out;
  st.service = xtstore_service_name(t.svc);
  if (st.csv_path) {
    st.csv = fopen(st.csv_path, "w");
    if (!st.csv) {
      rc = cli_sys_error(&err, errno, "cannot create", st.csv_path);
      goto out;
    }
    fputs(bench_csv_header, st.csv);
  }
  if (g->json)
    cli_json_array_begin(g);
  else if (cli_table_add(&st.table, (const char *const[]){
             "size", "op", "count", "bytes", "seconds", "MB/s", "ops/s",
             "cpu-s", "max-rss-MiB" })) {
    rc = store_error_set(&err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
  rc = xtstore_bench(t.svc, t.a.container, &o, bench_row, &st, &err);
  if (rc == STORE_E_ABORTED && st.nomem)
    rc = store_error_set(&err, STORE_E_NOMEM, "out of memory");
  /* Rows measured before a failure are worth showing too. */
  if (!g->quiet && st.table.nrows > 1)
    cli_table_print(&st.table, stdout);
  if (!rc && !g->quiet && !g->json && (o.flags & XTSTORE_BENCH_KEEP))
    printf("kept: %s/%s\n", t.display, st.prefix ? st.prefix : "");

out:
  /* Both run ('|'): the file is closed whatever its error state. */
  if (st.csv && (ferror(st.csv) | fclose(st.csv)) && !rc)
    rc = cli_sys_error(&err, errno ? errno : EIO, "cannot write",
                       st.csv_path);
  if (rc)
    ex = cli_fail(self->name, rc, &err);
  cli_table_free(&st.table);
  free(st.prefix);
  free(sizes);
  cli_target_free(&t);
  return ex;
}

const cli_cmd cli_cmd_bench = {
  "bench",
  "time put/get/list/delete of generated objects on a service",
  "Usage: xtstore bench [OPTIONS] SERVICE:CONTAINER\n"
  "\n"
  "Cloudmesh-style timings. For each size, put COUNT objects of\n"
  "deterministic pseudo-random bytes under a scratch prefix\n"
  "'xtstore-bench/RUN-ID/SIZE/' of the container, get them back (every\n"
  "byte is checked, nothing is written locally), list them (one recursive\n"
  "listing) and delete them. Bodies are generated and checked while they\n"
  "stream: no object is held in memory. One row per size and phase: count,\n"
  "bytes, wall seconds, MB/s (10^6 bytes), ops/s, the CPU seconds (user +\n"
  "system) of the whole xtstore process during the phase and its peak RSS\n"
  "so far. The prefix is emptied at the end, also when an operation fails\n"
  "(the error names the operation and the key), unless --keep; after ^C\n"
  "nothing more can be deleted: remove the rest with 'xtstore rm -r\n"
  "SERVICE:CONTAINER/xtstore-bench/'. The container must exist.\n"
  "\n"
  "Options:\n"
  "  --sizes LIST      object sizes, comma-separated, each in bytes with an\n"
  "                    optional binary K, M, G or T (default 4K,1M,64M)\n"
  "  --count N         objects per size (default 10)\n"
  "  --transfers N     operations in flight (default 1)\n"
  "  --keep            keep the objects (no delete phase) and print where\n"
  "  --csv FILE        also write the rows to FILE with the header line\n"
  "                    service,object_size,op,count,bytes,seconds,\n"
  "                    mb_per_s,ops_per_s,cpu_seconds,max_rss_mib,transfers\n"
  "  --json            print the rows as one JSON array (those fields and\n"
  "                    prefix) instead of the table\n"
  "  -h, --help        show this help\n"
  "\n"
  "Examples:\n"
  "  xtstore bench scratch:bench\n"
  "  xtstore bench --sizes 256M --count 1 --csv big.csv lake:bench\n"
  "  xtstore bench --sizes 4K --count 2000 --transfers 16 archive:bench\n",
  bench_run,
};
