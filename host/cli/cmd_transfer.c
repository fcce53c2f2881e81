/*
** cmd_transfer.c -- the verbs that move bodies: put, get, cat and cp.
**
** Uploads stream through cli_source (io.c) and stdout downloads through
** cli_sink, so a progress display can hook into their counters; file
** downloads use xtstore_blob_get_file, which writes a temp file beside the
** target and renames it into place only when complete.
*/
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

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
} xfer_opts;

enum { OPT_CONTENT_TYPE = 1, OPT_META, OPT_NO_CLOBBER, OPT_TEXT, OPT_DRY_RUN,
       OPT_RANGE, OPT_SNAPSHOT };

static const cli_opt put_opts[] = {
  { "content-type", 0, 1, OPT_CONTENT_TYPE },
  { "meta", 0, 1, OPT_META },
  { "no-clobber", 'n', 0, OPT_NO_CLOBBER },
  { "text", 0, 1, OPT_TEXT },
  { "dry-run", 0, 0, OPT_DRY_RUN },
  { NULL, 0, 0, 0 },
};

static const cli_opt get_opts[] = {
  { "range", 0, 1, OPT_RANGE },
  { "snapshot", 0, 1, OPT_SNAPSHOT },
  { "no-clobber", 'n', 0, OPT_NO_CLOBBER },
  { "dry-run", 0, 0, OPT_DRY_RUN },
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
  { NULL, 0, 0, 0 },
};

static const struct {
  const char *ext;
  const char *type;
} cli_types[] = {
  { "txt", "text/plain" },        { "log", "text/plain" },
  { "md", "text/markdown" },      { "csv", "text/csv" },
  { "html", "text/html" },        { "htm", "text/html" },
  { "css", "text/css" },          { "js", "text/javascript" },
  { "json", "application/json" }, { "xml", "application/xml" },
  { "yaml", "application/yaml" }, { "yml", "application/yaml" },
  { "pdf", "application/pdf" },   { "zip", "application/zip" },
  { "gz", "application/gzip" },   { "tar", "application/x-tar" },
  { "png", "image/png" },         { "jpg", "image/jpeg" },
  { "jpeg", "image/jpeg" },       { "gif", "image/gif" },
  { "svg", "image/svg+xml" },     { "webp", "image/webp" },
};

const char *cli_upload_content_type(const char *given, const char *key,
                                    int text)
{
  const char *dot = strrchr(cli_basename(key), '.');
  size_t i;

  if (given)
    return given;
  if (dot)
    for (i = 0; i < sizeof cli_types / sizeof cli_types[0]; i++)
      if (strcasecmp(dot + 1, cli_types[i].ext) == 0)
        return cli_types[i].type;
  return text ? "text/plain" : "application/octet-stream";
}

/* Start a verb: read its arguments into a and its options into x (zeroed
 * first). Returns the exit code and sets *stop when the verb is done
 * (--help, a usage error). */
static int xfer_start(cli_args *a, cli_global *g, const cli_cmd *self,
                      int argc, char **argv, const cli_opt *opts,
                      xfer_opts *x, int *stop)
{
  const char *val;
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

/* Upload `path` ("-" = stdin; ignored with x->text) to dst (parsed, with a
 * container). Returns an exit code. */
static int do_put(cli_global *g, const char *verb, const char *path,
                  cli_target *dst, const xfer_opts *x)
{
  cli_source src;
  store_error err;
  store_put_opts po;
  store_put_result res;
  cli_action act;
  const char *label = x->text ? "(text)" : path;
  const char *base;
  int rc;

  memset(&src, 0, sizeof src);
  memset(&err, 0, sizeof err);
  if (needs_name(dst)) {
    if (x->text || strcmp(path, "-") == 0)
      return cli_usage_error(verb, "a key is needed to upload %s "
                                   "(SERVICE:CONTAINER/KEY)",
                             x->text ? "--text" : "standard input");
    base = cli_basename(path);
    if (!usable_name(base))
      return cli_usage_error(verb, "cannot name a blob after '%s'; give "
                                   "SERVICE:CONTAINER/KEY",
                             path);
    rc = name_after(dst, base, &err);
    if (rc)
      goto out;
  }
  rc = cli_target_open(g, dst, &err);
  if (rc)
    goto out;
  rc = cli_source_open(&src, x->text, path, &err);
  if (rc)
    goto out;

  memset(&po, 0, sizeof po);
  po.struct_size = sizeof po;
  po.flags = x->no_clobber ? STORE_PUT_IF_NONE_MATCH : 0;
  po.content_length = src.length;
  po.content_type =
    cli_upload_content_type(x->content_type, dst->a.key, x->text != NULL);
  po.metadata = x->meta.v;
  po.nmetadata = x->meta.n;
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
  rc = xtstore_blob_put(dst->svc, dst->a.container, dst->a.key, &po,
                        cli_source_read, &src, cli_source_rewinder(&src), &res,
                        &err);
  rc = cli_explain_abort(&err, rc, &src, NULL);
  if (rc)
    goto out;
  act.size = (int64_t)(res.size ? res.size : src.done);
  cli_report(g, &act);

out:
  cli_source_close(&src);
  return rc ? cli_fail(verb, rc, &err) : CLI_EXIT_OK;
}

/* Download src (parsed, with a key) to `dest`: NULL = the key's basename
 * in the current directory, a directory = its basename there, "-" =
 * stdout. Returns an exit code. */
static int do_get(cli_global *g, const char *verb, cli_target *src,
                  const char *dest, const xfer_opts *x)
{
  store_error err;
  store_get_opts go;
  cli_sink sink;
  cli_action act;
  struct stat st;
  const char *base = cli_basename(src->a.key);
  char *path = NULL;
  int rc, to_dir;

  memset(&err, 0, sizeof err);
  rc = cli_target_open(g, src, &err);
  if (rc)
    goto out;
  go = x->range;
  go.struct_size = sizeof go;
  go.snapshot_id = x->snapshot;
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
    memset(&sink, 0, sizeof sink);
    sink.fd = 1;
    sink.name = "standard output";
    /* The body is the output: no report line mixed into it. */
    fflush(stdout);
    rc = xtstore_blob_get(src->svc, src->a.container, src->a.key, &go,
                          cli_sink_write, &sink, &err);
    rc = cli_explain_abort(&err, rc, NULL, &sink);
    goto out;
  }

  to_dir = !dest || ends_with_slash(dest) ||
           (stat(dest, &st) == 0 && S_ISDIR(st.st_mode));
  if (to_dir && !usable_name(base)) {
    rc = store_error_set(&err, STORE_E_INVALID,
                         "cannot name a local file after key '%s'; give "
                         "LOCALFILE",
                         src->a.key);
    goto out;
  }
  if (!dest)
    path = strdup(base);
  else if (to_dir)
    path = cli_strdupf("%s%s%s", dest, ends_with_slash(dest) ? "" : "/",
                       base);
  else
    path = strdup(dest);
  if (!path) {
    rc = store_error_set(&err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
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
  rc = xtstore_blob_get_file(src->svc, src->a.container, src->a.key, &go,
                             path, &err);
  rc = cli_explain_abort(&err, rc, NULL, NULL);
  if (rc)
    goto out;
  /* A directory-marker blob creates no file: report no size then. */
  if (stat(path, &st) == 0)
    act.size = (int64_t)st.st_size;
  cli_report(g, &act);

out:
  free(path);
  return rc ? cli_fail(verb, rc, &err) : CLI_EXIT_OK;
}

/* Copy between two blobs of any services. dst's key defaults to the
 * source key's basename (no key, or one ending in '/'). */
static int do_copy(cli_global *g, const char *verb, cli_target *src,
                   cli_target *dst, const xfer_opts *x)
{
  store_error err;
  store_copy_opts co;
  cli_action act;
  const char *base = cli_basename(src->a.key);
  int rc, exists = 0;

  memset(&err, 0, sizeof err);
  rc = cli_target_open(g, src, &err);
  if (rc)
    goto out;
  if (needs_name(dst)) {
    if (!usable_name(base)) {
      rc = store_error_set(&err, STORE_E_INVALID,
                           "cannot name a blob after key '%s'; give "
                           "SERVICE:CONTAINER/KEY",
                           src->a.key);
      goto out;
    }
    rc = name_after(dst, base, &err);
    if (rc)
      goto out;
  }
  rc = cli_target_open(g, dst, &err);
  if (rc)
    goto out;
  if (x->no_clobber) {
    rc = xtstore_blob_exists(dst->svc, dst->a.container, dst->a.key, &exists,
                             &err);
    if (rc)
      goto out;
    if (exists) {
      rc = store_error_set(&err, STORE_E_EXISTS,
                           "'%s' exists and --no-clobber was given",
                           dst->display);
      goto out;
    }
  }
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
  act.size = -1;
  act.dry_run = x->dry_run;
  if (!x->dry_run) {
    rc = xtstore_blob_copy(src->svc, src->a.container, src->a.key, dst->svc,
                           dst->a.container, dst->a.key, &co, &err);
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
    ex = cli_usage_error(self->name,
                         x.text ? "expected SERVICE:CONTAINER/KEY after "
                                  "--text STRING, got %d arguments"
                                : "expected LOCALFILE and "
                                  "SERVICE:CONTAINER[/KEY], got %d "
                                  "arguments",
                         a.npos);
    goto out;
  }
  if (!x.text) {
    ex = need_local(self->name, a.pos[0]);
    if (ex)
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
  "\n"
  "Upload a local file, standard input ('-', read to the end) or a string\n"
  "to a blob. Without a KEY, or with a KEY ending in '/', the blob is named\n"
  "after the file's basename. An existing blob is replaced unless\n"
  "--no-clobber is given.\n"
  "\n"
  "Options:\n"
  "  --content-type TYPE   the blob's content type (default: from the key's\n"
  "                        extension for common types, else\n"
  "                        application/octet-stream; text/plain for --text)\n"
  "  --meta KEY=VALUE      user metadata; repeat for more keys\n"
  "  -n, --no-clobber      fail with exit 5 if the blob exists\n"
  "  --text STRING         upload STRING instead of a file\n"
  "  --dry-run             show what would be uploaded, upload nothing\n"
  "  --json                print a JSON array with the action\n"
  "  -h, --help            show this help\n"
  "\n"
  "Examples:\n"
  "  xtstore put report.pdf scratch:docs/      # -> scratch:docs/report.pdf\n"
  "  tar c dir | xtstore put - scratch:backup/dir.tar\n"
  "  xtstore put --text hello --meta owner=me :notes/hello.txt\n",
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
  "only the body (no report line, no JSON).\n"
  "\n"
  "Options:\n"
  "  --range FIRST-LAST   only bytes FIRST..LAST (inclusive, from 0);\n"
  "                       FIRST- reads to the end\n"
  "  --snapshot ID        read this snapshot of the blob\n"
  "  -n, --no-clobber     fail with exit 5 if the local file exists\n"
  "  --dry-run            show what would be downloaded, write nothing\n"
  "  --json               print a JSON array with the action\n"
  "  -h, --help           show this help\n"
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
  "\n"
  "Copy a local file to a blob (as put), a blob to a local file (as get),\n"
  "or a blob to a blob. Between blobs of the same service the copy is\n"
  "server-side when the provider supports it; otherwise it is streamed\n"
  "from one service into the other without a temporary file. Content type\n"
  "and metadata travel with the blob. A DST without a key, or with a key\n"
  "ending in '/', takes the source's basename.\n"
  "\n"
  "Options:\n"
  "  --content-type TYPE   set this content type (replaces the source's)\n"
  "  --meta KEY=VALUE      set this metadata instead of the source's\n"
  "                        (repeatable)\n"
  "  --snapshot ID         copy from this snapshot of the source blob\n"
  "  -n, --no-clobber      fail with exit 5 if DST exists\n"
  "  --dry-run             show what would be copied, copy nothing\n"
  "  --json                print a JSON array with the action\n"
  "  -h, --help            show this help\n"
  "\n"
  "Examples:\n"
  "  xtstore cp data.csv scratch:in/\n"
  "  xtstore cp scratch:in/data.csv ./copy.csv\n"
  "  xtstore cp scratch:in/data.csv archive:in/data.csv\n",
  cp_run,
};
