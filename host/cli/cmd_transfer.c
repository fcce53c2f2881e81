/*
** cmd_transfer.c -- the verbs that move bodies: put (also to several
** services at once: --to), get, cat and cp (also of whole trees: -r).
**
** Uploads of files and pipes go through xtstore_blob_put_fd_progress (the
** library's engine: large or unknown-length bodies in parts), of --text
** through cli_source (io.c); stdout downloads through cli_sink; all counted
** for the progress display (progress.c). File downloads use
** xtstore_blob_get_file_progress, which writes a temp file beside the
** target and renames it into place only when complete. Fan-out and cp -r
** are the library's workflows (xtstore_put_fanout_file, xtstore_copy_tree).
*/
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* Everything the four verbs' options can say. */
typedef struct xfer_opts {
  const char *content_type;
  cli_kvs meta;
  const char *text;
  const char *snapshot;
  store_get_opts range;     /* flags/offset/length from --range */
  int no_clobber;
  int dry_run;
  int recursive;            /* cp -r */
  uint32_t transfers;       /* cp -r --transfers; 0: the default */
  int allow_empty;          /* cp -r --allow-empty-source */
  const char *shard;        /* cp -r --shard I/N|auto[/N] */
  const char *to;           /* put --to all|SVC,SVC... */
  int progress;             /* CLI_PROGRESS_AUTO/ON/OFF */
} xfer_opts;

enum { OPT_CONTENT_TYPE = 1, OPT_META, OPT_NO_CLOBBER, OPT_TEXT, OPT_DRY_RUN,
       OPT_RANGE, OPT_SNAPSHOT, OPT_RECURSIVE, OPT_TRANSFERS, OPT_TO,
       OPT_PROGRESS, OPT_NO_PROGRESS, OPT_ALLOW_EMPTY, OPT_SHARD };

static const cli_opt put_opts[] = {
  { "content-type", 0, 1, OPT_CONTENT_TYPE },
  { "meta", 0, 1, OPT_META },
  { "no-clobber", 'n', 0, OPT_NO_CLOBBER },
  { "text", 0, 1, OPT_TEXT },
  { "dry-run", 0, 0, OPT_DRY_RUN },
  { "to", 0, 1, OPT_TO },
  { "progress", 0, 0, OPT_PROGRESS },
  { "no-progress", 0, 0, OPT_NO_PROGRESS },
  { NULL, 0, 0, 0 },
};

static const cli_opt get_opts[] = {
  { "range", 0, 1, OPT_RANGE },
  { "snapshot", 0, 1, OPT_SNAPSHOT },
  { "no-clobber", 'n', 0, OPT_NO_CLOBBER },
  { "dry-run", 0, 0, OPT_DRY_RUN },
  { "progress", 0, 0, OPT_PROGRESS },
  { "no-progress", 0, 0, OPT_NO_PROGRESS },
  { NULL, 0, 0, 0 },
};

static const cli_opt cat_opts[] = {
  { "range", 0, 1, OPT_RANGE },
  { "snapshot", 0, 1, OPT_SNAPSHOT },
  { NULL, 0, 0, 0 },
};

static const cli_opt cp_opts[] = {
  { "content-type", 0, 1, OPT_CONTENT_TYPE },
  { "meta", 0, 1, OPT_META },
  { "snapshot", 0, 1, OPT_SNAPSHOT },
  { "no-clobber", 'n', 0, OPT_NO_CLOBBER },
  { "dry-run", 0, 0, OPT_DRY_RUN },
  { "recursive", 'r', 0, OPT_RECURSIVE },
  { "transfers", 0, 1, OPT_TRANSFERS },
  { "allow-empty-source", 0, 0, OPT_ALLOW_EMPTY },
  { "shard", 0, 1, OPT_SHARD },
  { "progress", 0, 0, OPT_PROGRESS },
  { "no-progress", 0, 0, OPT_NO_PROGRESS },
  { NULL, 0, 0, 0 },
};

/* Start a verb: read its arguments into a and its options into x (zeroed
 * first). Returns the exit code and sets *stop when the verb is done
 * (--help, a usage error). */
static int xfer_start(cli_args *a, cli_global *g, const cli_cmd *self,
                      int argc, char **argv, const cli_opt *opts,
                      xfer_opts *x, int *stop)
{
  const char *val;
  uint64_t n;
  int id, ex;

  memset(x, 0, sizeof *x);
  cli_args_init(a, g, self->name, argc, argv);
  *stop = 1;
  for (;;) {
    id = cli_args_next(a, opts, &val);
    if (id <= 0)
      break;
    switch (id) {
    case OPT_CONTENT_TYPE:
      x->content_type = val;
      break;
    case OPT_META:
      ex = cli_kvs_add(&x->meta, self->name, "--meta", val);
      if (ex)
        return ex;
      break;
    case OPT_NO_CLOBBER:
      x->no_clobber = 1;
      break;
    case OPT_TEXT:
      x->text = val;
      break;
    case OPT_DRY_RUN:
      x->dry_run = 1;
      break;
    case OPT_RANGE:
      ex = cli_parse_range(self->name, val, &x->range);
      if (ex)
        return ex;
      break;
    case OPT_SNAPSHOT:
      x->snapshot = val;
      break;
    case OPT_RECURSIVE:
      x->recursive = 1;
      break;
    case OPT_TRANSFERS:
      ex = cli_parse_number(self->name, "--transfers", val, 1, 256, &n);
      if (ex)
        return ex;
      x->transfers = (uint32_t)n;
      break;
    case OPT_TO:
      x->to = val;
      break;
    case OPT_PROGRESS:
      x->progress = CLI_PROGRESS_ON;
      break;
    case OPT_NO_PROGRESS:
      x->progress = CLI_PROGRESS_OFF;
      break;
    case OPT_ALLOW_EMPTY:
      x->allow_empty = 1;
      break;
    case OPT_SHARD:
      x->shard = val;
      break;
    }
  }
  if (id < 0)
    return cli_args_exit(self, id);
  *stop = 0;
  return CLI_EXIT_OK;
}

/* A key's or file's last component is usable as a name in the other
 * place: not empty, and not "." or ".." (which would write elsewhere). */
static int usable_name(const char *base)
{
  return base[0] && strcmp(base, ".") != 0 && strcmp(base, "..") != 0;
}

static int ends_with_slash(const char *s)
{
  size_t len = s ? strlen(s) : 0;

  return len > 0 && s[len - 1] == '/';
}

/* dst names no blob yet: it has no key, or one ending in '/'. */
static int needs_name(const cli_target *dst)
{
  return !dst->a.key || !dst->a.key[0] || ends_with_slash(dst->a.key);
}

/* Name dst's blob `base`, under its key's "dir/" when it has one. Returns
 * a STORE_* code. */
static int name_after(cli_target *dst, const char *base, store_error *err)
{
  char *key = cli_strdupf("%s%s", dst->a.key ? dst->a.key : "", base);
  int rc;

  if (!key)
    return store_error_set(err, STORE_E_NOMEM, "out of memory");
  rc = cli_target_set_key(dst, key, err);
  free(key);
  return rc;
}

/* An upload's body, counted for the progress display. */
typedef struct counted_src {
  cli_source *src;
  cli_progress *prog;
} counted_src;

static int32_t counted_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  counted_src *c = ud;
  int32_t rc = cli_source_read(c->src, buf, cap, out_n);

  if (rc == 0)
    cli_progress_bytes(c->prog, *out_n);
  return rc;
}

/* Only for a string, which always has a rewinder. */
static int32_t counted_rewind(void *ud)
{
  counted_src *c = ud;

  return cli_source_rewinder(c->src)(c->src);
}

/* A download to stdout, counted likewise. */
typedef struct counted_sink {
  cli_sink *sink;
  cli_progress *prog;
} counted_sink;

static int32_t counted_write(void *ud, const void *buf, size_t len)
{
  counted_sink *c = ud;
  int32_t rc = cli_sink_write(c->sink, buf, len);

  if (rc == 0)
    cli_progress_bytes(c->prog, len);
  return rc;
}

/* What a get learns from the object's entry. */
typedef struct get_entry {
  cli_progress *prog;
  int ranged;               /* a range's size is not the object's */
  int marker;               /* a directory marker: no file is written */
} get_entry;

/* store_get_opts.on_entry: the object's size is the transfer's (unless a
 * range is read), and whether it is a directory marker. */
static int32_t on_get_entry(void *ud, const store_entry *e)
{
  get_entry *ge = ud;

  if (!ge->ranged)
    cli_progress_size(ge->prog, e->size);
  ge->marker = (e->flags & STORE_ENTRY_DIR_MARKER) != 0;
  return 0;
}

/* store_entry_fn: the object's size into *(int64_t *)ud. */
static int32_t entry_size(void *ud, const store_entry *e)
{
  *(int64_t *)ud = (int64_t)e->size;
  return 0;
}

/* A get of a directory marker wrote no file: say that, not a download. */
static void report_marker(cli_global *g, const cli_target *src)
{
  cli_action act;

  memset(&act, 0, sizeof act);
  act.action = "skip";
  act.source = src->display;
  act.size = -1;
  if (g->json)
    cli_report(g, &act);
  else if (!g->quiet)
    printf("skip: %s: a directory marker (no file written)\n",
           cli_safe(src->display));
}

/* Name the blob of an upload of `path` after the file when dst names
 * none. Returns an exit code. */
static int name_upload(const char *verb, const char *path,
                       const xfer_opts *x, cli_target *dst)
{
  store_error err;
  const char *base;
  int rc;

  if (!needs_name(dst))
    return CLI_EXIT_OK;
  if (x->text || strcmp(path, "-") == 0)
    return cli_usage_error(verb, "a key is needed to upload %s "
                                 "(SERVICE:CONTAINER/KEY)",
                           x->text ? "--text" : "standard input");
  base = cli_basename(path);
  if (!usable_name(base))
    return cli_usage_error(verb, "cannot name a blob after '%s'; give "
                                 "SERVICE:CONTAINER/KEY",
                           path);
  memset(&err, 0, sizeof err);
  rc = name_after(dst, base, &err);
  return rc ? cli_fail(verb, rc, &err) : CLI_EXIT_OK;
}

/* The put options of an upload of src to `key`. */
static void upload_opts(store_put_opts *po, const xfer_opts *x,
                        const cli_source *src, const char *key)
{
  memset(po, 0, sizeof *po);
  po->struct_size = sizeof *po;
  po->flags = x->no_clobber ? STORE_PUT_IF_NONE_MATCH : 0;
  po->content_length = src->length;
  po->content_type =
    cli_upload_content_type(x->content_type, key, x->text != NULL);
  po->metadata = x->meta.v;
  po->nmetadata = x->meta.n;
}

/* Upload `path` ("-" = stdin; ignored with x->text) to dst (parsed, with a
 * container). Returns an exit code. */
static int do_put(cli_global *g, const char *verb, const char *path,
                  cli_target *dst, const xfer_opts *x)
{
  cli_source src;
  counted_src cs;
  cli_progress prog;
  store_error err;
  store_put_opts po;
  store_put_result res;
  cli_action act;
  const char *label = x->text ? "(text)" : path;
  int rc, ex;

  memset(&src, 0, sizeof src);
  memset(&err, 0, sizeof err);
  ex = name_upload(verb, path, x, dst);
  if (ex)
    return ex;
  rc = cli_target_open(g, dst, &err);
  if (rc)
    goto out;
  rc = cli_source_open(&src, x->text, path, &err);
  if (rc)
    goto out;

  upload_opts(&po, x, &src, dst->a.key);
  memset(&act, 0, sizeof act);
  act.action = "upload";
  act.source = label;
  act.target = dst->display;
  act.size = src.length;
  if (x->dry_run) {
    act.dry_run = 1;
    cli_report(g, &act);
    goto out;
  }
  memset(&res, 0, sizeof res);
  res.struct_size = sizeof res;
  cli_progress_init(&prog, g, verb, x->progress);
  cs.src = &src;
  cs.prog = &prog;
  cli_progress_single(&prog, src.length);
  /* A file or a pipe goes through the library's engine (large or
   * unknown-length bodies in parts); a string is a single put. */
  if (src.fd >= 0)
    rc = xtstore_blob_put_fd_progress(dst->svc, dst->a.container,
                                      dst->a.key, &po, src.fd,
                                      cli_progress_bytes, &prog, &res, &err);
  else
    rc = xtstore_blob_put(dst->svc, dst->a.container, dst->a.key, &po,
                          counted_read, &cs, counted_rewind, &res, &err);
  cli_progress_end(&prog, rc);
  rc = cli_explain_abort(&err, rc, &src, NULL);
  if (rc)
    goto out;
  /* Only a pipe's length is unknown, and a pipe is never read twice. */
  act.size = res.size         ? (int64_t)res.size
             : src.length >= 0 ? src.length
                               : (int64_t)prog.cur.bytes_done;
  cli_report(g, &act);

out:
  cli_source_close(&src);
  return rc ? cli_fail(verb, rc, &err) : CLI_EXIT_OK;
}

/* The services of --to: NULL for "all" (every storage service), else the
 * comma-separated names, in *out (free the array; the names point into
 * *buf, freed too). Returns an exit code. */
static int fanout_services(const char *verb, const char *to, char **buf,
                           const char ***out, size_t *n)
{
  const char **v;
  char *p, *save = NULL, *tok;
  size_t cap = 1;

  *out = NULL;
  *n = 0;
  *buf = NULL;
  if (strcmp(to, "all") == 0)
    return CLI_EXIT_OK;
  for (p = strchr(to, ','); p; p = strchr(p + 1, ','))
    cap++;
  *buf = strdup(to);
  v = calloc(cap, sizeof *v);
  if (!*buf || !v) {
    free(v);
    fprintf(stderr, "xtstore: %s: out of memory\n", verb);
    return CLI_EXIT_FAILURE;
  }
  for (tok = strtok_r(*buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
    v[(*n)++] = tok;
  *out = v;
  if (*n == cap)
    return CLI_EXIT_OK;
  return cli_usage_error(verb, "--to wants 'all' or SERVICE[,SERVICE...], "
                               "got '%s'",
                         to);
}

/* put --to: upload `path` to CONTAINER[/KEY] (`dest`) of several services,
 * reading it once. Returns an exit code. */
static int do_fanout(cli_global *g, const char *verb, const char *path,
                     const char *dest, const xfer_opts *x)
{
  cli_target dst;
  cli_source src;
  cli_progress prog;
  xtstore_wf_opts o;
  xtstore_wf_stats st;
  store_error err;
  store_put_opts po;
  xtstore_ctx *ctx;
  const char **names = NULL;
  char *names_buf = NULL, *addr = NULL;
  size_t n;
  int rc = STORE_OK, ex;

  memset(&dst, 0, sizeof dst);
  memset(&src, 0, sizeof src);
  memset(&err, 0, sizeof err);
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  ex = fanout_services(verb, x->to, &names_buf, &names, &n);
  if (ex)
    goto out;
  ex = cli_target_parse(verb, dest, CLI_NEED_LOCAL_OK, &dst);
  if (!ex && dst.a.service)
    ex = cli_usage_error(verb, "with --to, give CONTAINER/KEY: the services "
                               "come from --to");
  if (ex)
    goto out;
  /* CONTAINER/KEY is an address of no service in particular. */
  addr = dest[0] == ':' ? strdup(dest) : cli_strdupf(":%s", dest);
  if (!addr) {
    rc = store_error_set(&err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
  cli_target_free(&dst);
  ex = cli_target_parse(verb, addr, CLI_NEED_CONTAINER, &dst);
  if (!ex)
    ex = name_upload(verb, path, x, &dst);
  if (ex)
    goto out;
  rc = cli_ctx(g, &ctx, &err);
  if (!rc)
    rc = cli_source_open(&src, x->text, path, &err);
  if (rc)
    goto out;
  upload_opts(&po, x, &src, dst.a.key);
  memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  o.flags = x->dry_run ? XTSTORE_WF_DRY_RUN : 0;
  cli_progress_init(&prog, g, verb, x->progress);
  prog.action = "upload";
  o.progress = cli_progress_event;
  o.progress_ud = &prog;
  /* The library counts the bytes it reads: the plain source will do. Its
   * fd lets a file's fan-out be resumed by the next run. */
  rc = xtstore_put_fanout_file(ctx, names, n, dst.a.container, dst.a.key,
                               &po, cli_source_read, &src, src.fd,
                               x->text ? "(text)" : path, &o, &st, &err);
  rc = cli_explain_abort(&err, rc, &src, NULL);
  ex = cli_progress_exit(&prog, rc, &err, &st);
  rc = STORE_OK;

out:
  cli_source_close(&src);
  cli_target_free(&dst);
  free(addr);
  free(names);
  free(names_buf);
  return rc ? cli_fail(verb, rc, &err) : ex;
}

/* get ... -: the body of src to standard output. Returns a store code. */
static int get_stdout(cli_target *src, const store_get_opts *go,
                      cli_progress *prog, store_error *err)
{
  cli_sink sink;
  counted_sink cs;
  struct stat st;
  int rc;

  memset(&sink, 0, sizeof sink);
  sink.fd = 1;
  sink.may_block = fstat(1, &st) != 0 || S_ISFIFO(st.st_mode) ||
                   S_ISSOCK(st.st_mode) || isatty(1);
  sink.name = "standard output";
  cs.sink = &sink;
  cs.prog = prog;
  /* The body is the output: no report line mixed into it. */
  fflush(stdout);
  cli_progress_single(prog, -1);
  rc = xtstore_blob_get(src->svc, src->a.container, src->a.key, go,
                        counted_write, &cs, err);
  cli_progress_end(prog, rc);
  return cli_explain_abort(err, rc, NULL, &sink);
}

/* The local file a get of src writes for `dest` (not "-"): see do_get.
 * Returns a store code and the path in *out (freed by the caller). */
static int get_path(const cli_target *src, const char *dest, char **out,
                    store_error *err)
{
  const char *base = cli_basename(src->a.key);
  struct stat st;
  int to_dir;

  to_dir = !dest || ends_with_slash(dest) ||
           (stat(dest, &st) == 0 && S_ISDIR(st.st_mode));
  if (to_dir && !usable_name(base))
    return store_error_set(err, STORE_E_INVALID,
                           "cannot name a local file after key '%s'; give "
                           "LOCALFILE",
                           src->a.key);
  if (!dest)
    *out = strdup(base);
  else if (to_dir)
    *out = cli_strdupf("%s%s%s", dest, ends_with_slash(dest) ? "" : "/",
                       base);
  else
    *out = strdup(dest);
  if (!*out)
    return store_error_set(err, STORE_E_NOMEM, "out of memory");
  return STORE_OK;
}

/* Download src (parsed, with a key) to `dest`: NULL = the key's basename
 * in the current directory, a directory = its basename there, "-" =
 * stdout. Returns an exit code. */
static int do_get(cli_global *g, const char *verb, cli_target *src,
                  const char *dest, const xfer_opts *x)
{
  store_error err;
  store_get_opts go;
  cli_progress prog;
  cli_action act;
  get_entry ge;
  struct stat st;
  char *path = NULL;
  int rc;

  memset(&err, 0, sizeof err);
  rc = cli_target_open(g, src, &err);
  if (rc)
    goto out;
  cli_progress_init(&prog, g, verb, x->progress);
  go = x->range;
  go.struct_size = sizeof go;
  go.snapshot_id = x->snapshot;
  memset(&ge, 0, sizeof ge);
  ge.prog = &prog;
  ge.ranged = (go.flags & STORE_GET_RANGE) != 0;
  go.on_entry = on_get_entry;
  go.on_entry_ctx = &ge;
  memset(&act, 0, sizeof act);
  act.action = "download";
  act.source = src->display;
  act.size = -1;

  if (dest && strcmp(dest, "-") == 0) {
    if (x->dry_run) {
      act.target = dest;
      act.dry_run = 1;
      cli_report(g, &act);
      goto out;
    }
    rc = get_stdout(src, &go, &prog, &err);
    goto out;
  }

  rc = get_path(src, dest, &path, &err);
  if (rc)
    goto out;
  act.target = path;
  /* Checked, not atomic: the library's rename replaces whatever appeared
   * in between. Good enough to protect a user's existing files. */
  if (x->no_clobber && lstat(path, &st) == 0) {
    rc = store_error_set(&err, STORE_E_EXISTS,
                         "'%s' exists and --no-clobber was given", path);
    goto out;
  }
  if (x->dry_run) {
    act.dry_run = 1;
    cli_report(g, &act);
    goto out;
  }
  cli_progress_single(&prog, -1);
  rc = xtstore_blob_get_file_progress(src->svc, src->a.container, src->a.key,
                                      &go, path, cli_progress_bytes, &prog,
                                      &err);
  cli_progress_end(&prog, rc);
  rc = cli_explain_abort(&err, rc, NULL, NULL);
  if (rc)
    goto out;
  if (ge.marker) {
    report_marker(g, src);
    goto out;
  }
  if (stat(path, &st) == 0)
    act.size = (int64_t)st.st_size;
  cli_report(g, &act);

out:
  free(path);
  return rc ? cli_fail(verb, rc, &err) : CLI_EXIT_OK;
}

/* The destination of a copy of src: named after the source key's basename
 * when it has none, opened, and with --no-clobber refused if it exists.
 * Returns a store code. */
static int copy_dest(cli_global *g, const cli_target *src, cli_target *dst,
                     const xfer_opts *x, store_error *err)
{
  const char *base = cli_basename(src->a.key);
  int rc, exists = 0;

  if (needs_name(dst)) {
    if (!usable_name(base))
      return store_error_set(err, STORE_E_INVALID,
                             "cannot name a blob after key '%s'; give "
                             "SERVICE:CONTAINER/KEY",
                             src->a.key);
    rc = name_after(dst, base, err);
    if (rc)
      return rc;
  }
  rc = cli_target_open(g, dst, err);
  if (rc)
    return rc;
  if (!x->no_clobber)
    return STORE_OK;
  rc = xtstore_blob_exists(dst->svc, dst->a.container, dst->a.key, &exists,
                           err);
  if (rc)
    return rc;
  if (exists)
    return store_error_set(err, STORE_E_EXISTS,
                           "'%s' exists and --no-clobber was given",
                           dst->display);
  return STORE_OK;
}

/* Copy between two blobs of any services. dst's key defaults to the
 * source key's basename (no key, or one ending in '/'). */
static int do_copy(cli_global *g, const char *verb, cli_target *src,
                   cli_target *dst, const xfer_opts *x)
{
  store_error err;
  store_copy_opts co;
  store_head_opts ho;
  cli_progress prog;
  cli_action act;
  int64_t size = -1;
  int rc;

  memset(&err, 0, sizeof err);
  rc = cli_target_open(g, src, &err);
  if (rc)
    goto out;
  /* The size, for the progress total and the report (a server-side copy
   * tells neither). Only shown: when the source does not say, the copy
   * itself reports why. */
  memset(&ho, 0, sizeof ho);
  ho.struct_size = sizeof ho;
  ho.snapshot_id = x->snapshot;
  if (xtstore_blob_head(src->svc, src->a.container, src->a.key, &ho,
                        entry_size, &size, NULL) != STORE_OK)
    size = -1;
  rc = copy_dest(g, src, dst, x, &err);
  if (rc)
    goto out;
  memset(&co, 0, sizeof co);
  co.struct_size = sizeof co;
  co.src_snapshot_id = x->snapshot;
  if (x->content_type || x->meta.n) {
    co.flags = STORE_COPY_REPLACE_METADATA;
    co.content_type = x->content_type;
    co.metadata = x->meta.v;
    co.nmetadata = x->meta.n;
  }
  memset(&act, 0, sizeof act);
  act.action = "copy";
  act.source = src->display;
  act.target = dst->display;
  act.size = size;
  act.dry_run = x->dry_run;
  if (!x->dry_run) {
    cli_progress_init(&prog, g, verb, x->progress);
    cli_progress_single(&prog, size);
    rc = xtstore_blob_copy_progress(src->svc, src->a.container, src->a.key,
                                    dst->svc, dst->a.container, dst->a.key,
                                    &co, cli_progress_bytes, &prog, &err);
    /* A server-side copy moves its bytes without us. */
    if (!rc && size > 0 && prog.cur.bytes_done < (uint64_t)size)
      cli_progress_bytes(&prog, (uint64_t)size - prog.cur.bytes_done);
    cli_progress_end(&prog, rc);
    rc = cli_explain_abort(&err, rc, NULL, NULL);
    if (rc)
      goto out;
  }
  cli_report(g, &act);

out:
  return rc ? cli_fail(verb, rc, &err) : CLI_EXIT_OK;
}

/* A positional that must be a local file: a service address here is a
 * usage error that points at cp. */
static int need_local(const char *verb, const char *text)
{
  xtstore_addr a;
  int remote;

  memset(&a, 0, sizeof a);
  if (xtstore_addr_parse(text, &a, NULL) != STORE_OK)
    return cli_usage_error(verb, "invalid local file '%s'", text);
  remote = a.kind == XTSTORE_ADDR_REMOTE;
  xtstore_addr_free(&a);
  if (remote)
    return cli_usage_error(verb,
                           "'%s' is a service address, not a local file "
                           "(write ./%s for a local name with ':', or use "
                           "cp)",
                           text, text);
  return CLI_EXIT_OK;
}

static int put_run(cli_global *g, const cli_cmd *self, int argc, char **argv)
{
  cli_args a;
  cli_target dst;
  xfer_opts x;
  int ex, stop, want;

  memset(&dst, 0, sizeof dst);
  ex = xfer_start(&a, g, self, argc, argv, put_opts, &x, &stop);
  if (stop)
    goto out;
  want = x.text ? 1 : 2;
  if (a.npos != want) {
    /* --text needs a key; a file can name the blob. */
    ex = cli_usage_error(self->name,
                         x.text ? "expected %s/KEY after --text STRING, got "
                                  "%d arguments"
                                : "expected LOCALFILE and %s[/KEY], got %d "
                                  "arguments",
                         x.to ? "CONTAINER" : "SERVICE:CONTAINER", a.npos);
    goto out;
  }
  if (!x.text) {
    ex = need_local(self->name, a.pos[0]);
    if (ex)
      goto out;
  }
  if (x.to) {
    if (g->json)
      cli_json_array_begin(g);
    ex = do_fanout(g, self->name, x.text ? NULL : a.pos[0], a.pos[want - 1],
                   &x);
    goto out;
  }
  ex = cli_target_parse(self->name, a.pos[want - 1], CLI_NEED_CONTAINER,
                        &dst);
  if (ex)
    goto out;
  if (g->json)
    cli_json_array_begin(g);
  ex = do_put(g, self->name, x.text ? NULL : a.pos[0], &dst, &x);

out:
  cli_target_free(&dst);
  cli_kvs_free(&x.meta);
  return ex;
}

static int get_run(cli_global *g, const cli_cmd *self, int argc, char **argv)
{
  cli_args a;
  cli_target src;
  xfer_opts x;
  const char *dest;
  int ex, stop;

  memset(&src, 0, sizeof src);
  ex = xfer_start(&a, g, self, argc, argv, get_opts, &x, &stop);
  if (stop)
    goto out;
  if (a.npos < 1 || a.npos > 2) {
    ex = cli_usage_error(self->name, "expected SERVICE:CONTAINER/KEY "
                                     "[LOCALFILE|DIR|-], got %d arguments",
                         a.npos);
    goto out;
  }
  dest = a.npos == 2 ? a.pos[1] : NULL;
  if (dest) {
    ex = need_local(self->name, dest);
    if (ex)
      goto out;
  }
  ex = cli_target_parse(self->name, a.pos[0], CLI_NEED_KEY, &src);
  if (ex)
    goto out;
  if (g->json && !(dest && strcmp(dest, "-") == 0))
    cli_json_array_begin(g);
  ex = do_get(g, self->name, &src, dest, &x);

out:
  cli_target_free(&src);
  cli_kvs_free(&x.meta);
  return ex;
}

static int cat_run(cli_global *g, const cli_cmd *self, int argc, char **argv)
{
  cli_args a;
  cli_target src;
  cli_tally tally;
  xfer_opts x;
  int ex, stop, i;

  memset(&tally, 0, sizeof tally);
  ex = xfer_start(&a, g, self, argc, argv, cat_opts, &x, &stop);
  if (stop)
    return ex;
  if (a.npos < 1)
    return cli_usage_error(self->name, "expected SERVICE:CONTAINER/KEY");
  /* A bad address is a usage error (2) before anything is written. */
  for (i = 0; i < a.npos; i++) {
    ex = cli_target_parse(self->name, a.pos[i], CLI_NEED_KEY, &src);
    if (ex)
      return ex;
    cli_target_free(&src);
  }
  /* Like cat(1): go on after a failure, so the exit status says whether
   * all (0), some (8) or none of the blobs were written. */
  for (i = 0; i < a.npos && !cli_interrupted; i++) {
    ex = cli_target_parse(self->name, a.pos[i], CLI_NEED_KEY, &src);
    if (ex == CLI_EXIT_OK) {
      ex = do_get(g, self->name, &src, "-", &x);
      cli_target_free(&src);
    }
    cli_tally_add(&tally, ex);
  }
  return cli_tally_exit(&tally);
}

/* cp -r: every object under a prefix or a local directory. */
static int cp_tree(cli_global *g, const cli_cmd *self, const char *src,
                   const char *dst, const xfer_opts *x)
{
  xtstore_wf_opts o;
  store_error err;

  if (x->content_type || x->meta.n || x->snapshot || x->no_clobber)
    return cli_usage_error(self->name, "-r copies objects as they are: "
                                       "not with --content-type, --meta, "
                                       "--snapshot or --no-clobber");
  memset(&o, 0, sizeof o);
  if (x->shard && xtstore_shard_parse(x->shard, &o.shard_index,
                                      &o.shard_count, &err))
    return cli_usage_error(self->name, "%s", err.message);
  o.transfers = x->transfers;
  o.flags = x->dry_run ? XTSTORE_WF_DRY_RUN : 0;
  return cli_tree_run(g, self->name, src, dst, xtstore_copy_tree, &o,
                      x->progress, !x->allow_empty);
}

static int cp_run(cli_global *g, const cli_cmd *self, int argc, char **argv)
{
  cli_args a;
  cli_target src, dst;
  xfer_opts x;
  int ex, stop, src_local, dst_local;

  memset(&src, 0, sizeof src);
  memset(&dst, 0, sizeof dst);
  ex = xfer_start(&a, g, self, argc, argv, cp_opts, &x, &stop);
  if (stop)
    goto out;
  if (a.npos != 2) {
    ex = cli_usage_error(self->name, "expected SRC and DST, got %d arguments",
                         a.npos);
    goto out;
  }
  if (x.recursive) {
    ex = cp_tree(g, self, a.pos[0], a.pos[1], &x);
    goto out;
  }
  if (x.transfers || x.allow_empty || x.shard) {
    ex = cli_usage_error(self->name, "--transfers, --allow-empty-source "
                                     "and --shard are for -r");
    goto out;
  }
  ex = cli_target_parse(self->name, a.pos[0],
                        CLI_NEED_LOCAL_OK | CLI_NEED_KEY, &src);
  if (ex)
    goto out;
  ex = cli_target_parse(self->name, a.pos[1],
                        CLI_NEED_LOCAL_OK | CLI_NEED_CONTAINER, &dst);
  if (ex)
    goto out;
  src_local = src.a.kind == XTSTORE_ADDR_LOCAL;
  dst_local = dst.a.kind == XTSTORE_ADDR_LOCAL;
  if (src_local && dst_local) {
    ex = cli_usage_error(self->name, "neither '%s' nor '%s' is a service "
                                     "address (SERVICE:CONTAINER/KEY)",
                         a.pos[0], a.pos[1]);
    goto out;
  }
  if (g->json && !(dst_local && strcmp(dst.a.path, "-") == 0))
    cli_json_array_begin(g);
  if (src_local)
    ex = do_put(g, self->name, src.a.path, &dst, &x);
  else if (dst_local)
    ex = do_get(g, self->name, &src, dst.a.path, &x);
  else
    ex = do_copy(g, self->name, &src, &dst, &x);

out:
  cli_target_free(&src);
  cli_target_free(&dst);
  cli_kvs_free(&x.meta);
  return ex;
}

const cli_cmd cli_cmd_put = {
  "put",
  "upload a local file, stdin or a string to a blob",
  "Usage: xtstore put [OPTIONS] LOCALFILE|- SERVICE:CONTAINER[/KEY]\n"
  "       xtstore put [OPTIONS] --text STRING SERVICE:CONTAINER/KEY\n"
  "       xtstore put [OPTIONS] --to all|SVC[,SVC...] LOCALFILE|- "
  "CONTAINER[/KEY]\n"
  "\n"
  "Upload a local file, standard input ('-', read to the end) or a string\n"
  "to a blob. Without a KEY, or with a KEY ending in '/', the blob is named\n"
  "after the file's basename. An existing blob is replaced unless\n"
  "--no-clobber is given.\n"
  "\n"
  "With --to the same body goes to CONTAINER/KEY of every service named\n"
  "(all: every configured storage service), read once and uploaded to all\n"
  "in parallel (one 4 MiB buffer per service; where the body goes up in\n"
  "parts, two part buffers and a 1 MiB one). A service that fails is\n"
  "dropped without stopping the others, and the uploads that succeeded\n"
  "stay. One line per service: the upload on stdout, or the error on\n"
  "stderr; exit 8 when some failed.\n"
  "\n"
  "Options:\n"
  "  --content-type TYPE   the blob's content type (default: from the key's\n"
  "                        extension for common types, else\n"
  "                        application/octet-stream; text/plain for --text)\n"
  "  --meta KEY=VALUE      user metadata; repeat for more keys\n"
  "  -n, --no-clobber      fail with exit 5 if the blob exists\n"
  "  --text STRING         upload STRING instead of a file\n"
  "  --dry-run             show what would be uploaded, upload nothing\n"
  "  --to all|SVC,...      upload to these services (see above)\n"
  CLI_PROGRESS_OPTIONS_HELP
  "  --json                print a JSON array with the action (with --to,\n"
  "                        one element per service: action, source,\n"
  "                        target, size, dry_run, status, error)\n"
  "  -h, --help            show this help\n"
  "\n"
  CLI_PROGRESS_HELP
  "\n"
  "Examples:\n"
  "  xtstore put report.pdf scratch:docs/      # -> scratch:docs/report.pdf\n"
  "  tar c dir | xtstore put - scratch:backup/dir.tar\n"
  "  xtstore put --text hello --meta owner=me :notes/hello.txt\n"
  "  xtstore put --to all build.tar releases/v1/build.tar\n",
  put_run,
};

const cli_cmd cli_cmd_get = {
  "get",
  "download a blob to a local file or stdout",
  "Usage: xtstore get [OPTIONS] SERVICE:CONTAINER/KEY [LOCALFILE|DIR|-]\n"
  "\n"
  "Download a blob. Without a destination it is written to the key's\n"
  "basename in the current directory; into DIR under that name; '-'\n"
  "writes it to standard output. The file is written atomically (a\n"
  "temporary file renamed into place when complete): a failed download\n"
  "leaves nothing behind. An existing local file is overwritten, as aws s3\n"
  "cp and rclone do; --no-clobber refuses instead. With '-' stdout carries\n"
  "only the body (no report line, no JSON). A directory marker (see mkdir)\n"
  "is no file: get writes none and says 'skip: SRC: a directory marker'.\n"
  "\n"
  "Options:\n"
  "  --range FIRST-LAST   only bytes FIRST..LAST (inclusive, from 0);\n"
  "                       FIRST- reads to the end\n"
  "  --snapshot ID        read this snapshot of the blob\n"
  "  -n, --no-clobber     fail with exit 5 if the local file exists\n"
  "  --dry-run            show what would be downloaded, write nothing\n"
  CLI_PROGRESS_OPTIONS_HELP
  "  --json               print a JSON array with the action\n"
  "  -h, --help           show this help\n"
  "\n"
  CLI_PROGRESS_HELP
  "\n"
  "Examples:\n"
  "  xtstore get scratch:docs/report.pdf            # ./report.pdf\n"
  "  xtstore get scratch:docs/report.pdf /tmp/\n"
  "  xtstore get --range 0-99 scratch:logs/big.log - | head\n",
  get_run,
};

const cli_cmd cli_cmd_cat = {
  "cat",
  "write blobs to stdout",
  "Usage: xtstore cat [OPTIONS] SERVICE:CONTAINER/KEY...\n"
  "\n"
  "Write the blobs, one after the other, to standard output. A failed blob\n"
  "is reported and the rest are still written (exit 8 when some failed).\n"
  "\n"
  "Options:\n"
  "  --range FIRST-LAST   only bytes FIRST..LAST (inclusive); FIRST- to end\n"
  "  --snapshot ID        read this snapshot\n"
  "  -h, --help           show this help\n"
  "\n"
  "Examples:\n"
  "  xtstore cat scratch:notes/hello.txt\n"
  "  xtstore cat --range 100- :logs/app.log\n",
  cat_run,
};

const cli_cmd cli_cmd_cp = {
  "cp",
  "copy between local files and blobs of any services",
  "Usage: xtstore cp [OPTIONS] SRC DST\n"
  "       xtstore cp -r [OPTIONS] SRC DST\n"
  "\n"
  "Copy a local file to a blob (as put), a blob to a local file (as get),\n"
  "or a blob to a blob. Between blobs of the same service the copy is\n"
  "server-side when the provider supports it; otherwise it is streamed\n"
  "from one service into the other without a temporary file. Content type\n"
  "and metadata travel with the blob. A DST without a key, or with a key\n"
  "ending in '/', takes the source's basename.\n"
  "\n"
  "With -r, SRC and DST are trees: SERVICE:CONTAINER[/PREFIX] (ls's prefix\n"
  "rule: 'dir' means 'dir/', 'name*' is a raw prefix) or a local\n"
  "directory. Every object under SRC is copied to the same relative name\n"
  "under DST ('svc:c/photos/2024/a.jpg' to 'other:c/backup/' gives\n"
  "'other:c/backup/2024/a.jpg'), --transfers objects at a time, each\n"
  "streamed or server-side as above; local files are read and written in\n"
  "place (downloads land atomically). Symlinks and special files of a\n"
  "local tree are skipped. A failed object is reported and the others go\n"
  "on (exit 8 when some failed). A SRC with no objects is an error (exit\n"
  "4) unless --allow-empty-source.\n"
  "\n"
  "Options:\n"
  "  --content-type TYPE   set this content type (replaces the source's)\n"
  "  --meta KEY=VALUE      set this metadata instead of the source's\n"
  "                        (repeatable)\n"
  "  --snapshot ID         copy from this snapshot of the source blob\n"
  "  -n, --no-clobber      fail with exit 5 if DST exists\n"
  "  --dry-run             show what would be copied, copy nothing\n"
  "  -r, --recursive       copy the trees (not with the four above)\n"
  "  --transfers N         -r: objects in flight, 1-256 (default: 2 per\n"
  "                        CPU, at least 4, at most 16)\n"
  "  --allow-empty-source  -r: a SRC with no objects copies nothing, exit 0\n"
  "  --shard I/N|auto[/N]  -r: copy only shard I of N, by the FNV-1a hash\n"
  "                        of each name (docs/sharding.md); auto: from a\n"
  "                        Kubernetes, Slurm or AWS Batch array task\n"
  CLI_PROGRESS_OPTIONS_HELP
  "  --json                print a JSON array with the action (with -r,\n"
  "                        one per object plus a summary element)\n"
  "  -h, --help            show this help\n"
  "\n"
  CLI_PROGRESS_HELP
  "\n"
  "Examples:\n"
  "  xtstore cp data.csv scratch:in/\n"
  "  xtstore cp scratch:in/data.csv ./copy.csv\n"
  "  xtstore cp scratch:in/data.csv archive:in/data.csv\n"
  "  xtstore cp -r --transfers 8 ./site scratch:www/\n"
  "  xtstore cp -r scratch:photos/2024 archive:photos/2024\n",
  cp_run,
};
