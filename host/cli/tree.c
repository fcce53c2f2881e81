/*
** tree.c -- the verbs that work on whole trees (cp -r, migrate, sync):
** their two ends, SERVICE:CONTAINER[/PREFIX] or a local directory, and
** the one way they are run and reported.
*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* One end: the address, a service's listing prefix (ls's rule: "dir" is
 * "dir/", "dir*" is raw) and the library's view of it. */
typedef struct cli_tree {
  cli_target t;
  char *prefix;
  xtstore_tree tree;
} cli_tree;

int cli_parse_number(const char *verb, const char *opt, const char *text,
                     uint64_t min, uint64_t max, uint64_t *out)
{
  char *end;
  unsigned long long v;

  errno = 0;
  v = strtoull(text, &end, 10);
  if (text[0] < '0' || text[0] > '9' || *end || errno == ERANGE || v < min ||
      v > max)
    return cli_usage_error(verb, "%s wants a number from %llu to %llu, got "
                                 "'%s'",
                           opt, (unsigned long long)min,
                           (unsigned long long)max, text);
  *out = v;
  return 0;
}

static int cli_tree_parse(const char *verb, const char *text, cli_tree *t)
{
  int ex;

  memset(t, 0, sizeof *t);
  ex = cli_target_parse(verb, text, CLI_NEED_LOCAL_OK | CLI_NEED_CONTAINER,
                        &t->t);
  if (ex)
    return ex;
  if (t->t.a.kind == XTSTORE_ADDR_LOCAL && strcmp(t->t.a.path, "-") == 0)
    return cli_usage_error(verb, "'-' is not a directory");
  return 0;
}

/* Open a service end and describe the end to the library. */
static int cli_tree_open(cli_global *g, cli_tree *t, store_error *err)
{
  int rc;

  t->tree.struct_size = sizeof t->tree;
  if (t->t.a.kind == XTSTORE_ADDR_LOCAL) {
    t->tree.path = t->t.a.path;
    return STORE_OK;
  }
  rc = cli_target_open(g, &t->t, err);
  if (rc)
    return rc;
  t->prefix = cli_list_prefix(t->t.a.key);
  if (!t->prefix)
    return store_error_set(err, STORE_E_NOMEM, "out of memory");
  t->tree.svc = t->t.svc;
  t->tree.container = t->t.a.container;
  t->tree.prefix = t->prefix;
  return STORE_OK;
}

static void cli_tree_free(cli_tree *t)
{
  cli_target_free(&t->t);
  free(t->prefix);
  memset(t, 0, sizeof *t);
}

/* xtstore_type_fn: uploads from local files get put's content type. */
static const char *cli_tree_type(void *ud, const char *key)
{
  (void)ud;
  return cli_upload_content_type(NULL, key, 0);
}

int cli_tree_run(cli_global *g, const char *verb, const char *src_text,
                 const char *dst_text, cli_tree_fn fn, xtstore_wf_opts *o,
                 int progress, int need_objects)
{
  cli_tree src, dst;
  cli_progress prog;
  xtstore_wf_stats st;
  store_error err;
  xtstore_ctx *ctx;
  int ex, rc, src_local, dst_local;

  memset(&dst, 0, sizeof dst);
  memset(&err, 0, sizeof err);
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  ex = cli_tree_parse(verb, src_text, &src);
  if (!ex)
    ex = cli_tree_parse(verb, dst_text, &dst);
  if (ex)
    goto out;
  src_local = src.t.a.kind == XTSTORE_ADDR_LOCAL;
  dst_local = dst.t.a.kind == XTSTORE_ADDR_LOCAL;
  if (src_local && dst_local) {
    ex = cli_usage_error(verb, "neither '%s' nor '%s' is a service address "
                               "(SERVICE:CONTAINER[/PREFIX])",
                         src_text, dst_text);
    goto out;
  }
  rc = cli_ctx(g, &ctx, &err);
  if (!rc)
    rc = cli_tree_open(g, &src, &err);
  if (!rc)
    rc = cli_tree_open(g, &dst, &err);
  if (rc) {
    ex = cli_fail(verb, rc, &err);
    goto out;
  }
  cli_progress_init(&prog, g, verb, progress);
  prog.action = src_local ? "upload" : dst_local ? "download" : "copy";
  o->struct_size = sizeof *o;
  if (!need_objects)
    o->flags |= XTSTORE_WF_ALLOW_EMPTY_SOURCE;
  o->progress = cli_progress_event;
  o->progress_ud = &prog;
  o->content_type = cli_tree_type;
  if (g->json)
    cli_json_array_begin(g);
  rc = fn(ctx, &src.tree, &dst.tree, o, &st, &err);
  if (st.objects > 0)
    cli_progress_summary(&prog, &st, (o->flags & XTSTORE_WF_DRY_RUN) != 0);
  /* Complete listings and no source object: the library refused an empty
   * source. */
  if (rc == STORE_E_NOT_FOUND && prog.cur.totals_final &&
      !prog.cur.objects_total)
    ex = cli_fail_hint(verb, rc, &err, "--allow-empty-source runs it anyway");
  else
    ex = cli_progress_exit(&prog, rc, &err, &st);

out:
  cli_tree_free(&src);
  cli_tree_free(&dst);
  return ex;
}
