/*
** args.c -- option parsing for the global options and every verb.
**
** A small table-driven parser rather than getopt_long: it reports errors
** in the CLI's one-line format with the verb's name, handles --help and
** --json for every verb, and keeps no global state.
*/
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_args_init(cli_args *a, cli_global *g, const char *verb, int argc,
                   char **argv)
{
  memset(a, 0, sizeof *a);
  a->g = g;
  a->verb = verb;
  a->argc = argc;
  a->argv = argv;
  a->pos = argv;
}

int cli_usage_error(const char *verb, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;

  fputs("xtstore: ", stderr);
  if (verb)
    fprintf(stderr, "%s: ", verb);
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fputs(cli_safe(msg), stderr); /* it echoes arguments */
  if (verb)
    fprintf(stderr, "; try 'xtstore %s --help'\n", verb);
  else
    fputs("; try 'xtstore --help'\n", stderr);
  return CLI_EXIT_USAGE;
}

/* The value of an option that takes one: the rest of the token, else the
 * next argument whatever it looks like (as getopt does). */
static int cli_take_value(cli_args *a, const char *inline_val,
                          const char *shown, const char **out_val)
{
  if (inline_val) {
    *out_val = inline_val;
    return 0;
  }
  if (a->next >= a->argc) {
    cli_usage_error(a->verb, "option '%s' needs a value", shown);
    return CLI_ARGS_ERROR;
  }
  *out_val = a->argv[a->next++];
  return 0;
}

/* Returns an option id, CLI_ARGS_HELP/ERROR, or 0 for "handled, go on". */
static int cli_long_opt(cli_args *a, const cli_opt *opts, const char *arg,
                        const char **out_val)
{
  const char *eq = strchr(arg, '=');
  size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
  const cli_opt *o;
  int rc;

  for (o = opts; o->long_name; o++) {
    if (strlen(o->long_name) != len || strncmp(o->long_name, arg, len) != 0)
      continue;
    if (!o->has_arg) {
      if (eq) {
        cli_usage_error(a->verb, "option '--%s' takes no value",
                        o->long_name);
        return CLI_ARGS_ERROR;
      }
      return o->id;
    }
    /* arg points just past the "--" of its argv string: show both. */
    rc = cli_take_value(a, eq ? eq + 1 : NULL, arg - 2, out_val);
    return rc ? rc : o->id;
  }
  if (len == 4 && strncmp(arg, "help", 4) == 0 && !eq)
    return CLI_ARGS_HELP;
  if (len == 4 && strncmp(arg, "json", 4) == 0 && !eq) {
    a->g->json = 1;
    return 0;
  }
  cli_usage_error(a->verb, "unknown option '--%.*s'", (int)len, arg);
  return CLI_ARGS_ERROR;
}

static int cli_short_opt(cli_args *a, const cli_opt *opts,
                         const char **out_val)
{
  char c = *a->bundle++;
  const cli_opt *o;
  char shown[3] = { '-', c, '\0' };
  int rc;

  for (o = opts; o->long_name; o++) {
    if (o->short_name != c)
      continue;
    if (!o->has_arg)
      return o->id;
    rc = cli_take_value(a, *a->bundle ? a->bundle : NULL, shown, out_val);
    a->bundle = NULL;
    return rc ? rc : o->id;
  }
  if (c == 'h')
    return CLI_ARGS_HELP;
  if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
    cli_usage_error(a->verb, "unknown option byte 0x%02x",
                    (unsigned)(unsigned char)c);
  else
    cli_usage_error(a->verb, "unknown option '-%c'", c);
  return CLI_ARGS_ERROR;
}

int cli_args_next(cli_args *a, const cli_opt *opts, const char **out_val)
{
  char *arg;
  int id;

  *out_val = NULL;
  for (;;) {
    if (a->bundle && *a->bundle)
      return cli_short_opt(a, opts, out_val);
    a->bundle = NULL;
    if (a->next >= a->argc)
      return CLI_ARGS_END;
    arg = a->argv[a->next];
    if (a->no_more_opts || arg[0] != '-' || arg[1] == '\0') {
      if (a->stop_at_positional)
        return CLI_ARGS_END;
      /* npos <= next, so compacting in place never overwrites an
       * argument not yet read. */
      a->pos[a->npos++] = arg;
      a->next++;
      continue;
    }
    a->next++;
    if (arg[1] == '-' && arg[2] == '\0') {
      a->no_more_opts = 1;
      continue;
    }
    if (arg[1] == '-') {
      id = cli_long_opt(a, opts, arg + 2, out_val);
      if (id == 0)
        continue;
      return id;
    }
    a->bundle = arg + 1;
  }
}

int cli_args_exit(const cli_cmd *self, int id)
{
  if (id == CLI_ARGS_HELP) {
    fputs(self->help, stdout);
    return CLI_EXIT_OK;
  }
  return CLI_EXIT_USAGE;
}

int cli_kvs_add(cli_kvs *kvs, const char *verb, const char *opt,
                const char *arg)
{
  const char *eq = strchr(arg, '=');
  store_kv *nv;
  char **nk;
  size_t cap;

  if (!eq || eq == arg)
    return cli_usage_error(verb, "%s wants KEY=VALUE, got '%s'", opt, arg);
  if (kvs->n == kvs->cap) {
    cap = kvs->cap ? kvs->cap * 2 : 8;
    nv = realloc(kvs->v, cap * sizeof *nv);
    if (!nv)
      goto nomem;
    kvs->v = nv;
    nk = realloc(kvs->keys, cap * sizeof *nk);
    if (!nk)
      goto nomem;
    kvs->keys = nk;
    kvs->cap = cap;
  }
  kvs->keys[kvs->n] = strndup(arg, (size_t)(eq - arg));
  if (!kvs->keys[kvs->n])
    goto nomem;
  kvs->v[kvs->n].key = kvs->keys[kvs->n];
  kvs->v[kvs->n].value = eq + 1;
  kvs->n++;
  return 0;

nomem:
  fprintf(stderr, "xtstore: %s: out of memory\n", verb);
  return CLI_EXIT_FAILURE;
}

void cli_kvs_free(cli_kvs *kvs)
{
  size_t i;

  for (i = 0; i < kvs->n; i++)
    free(kvs->keys[i]);
  free(kvs->keys);
  free(kvs->v);
  memset(kvs, 0, sizeof *kvs);
}

/* A decimal number at *s (digits only: strtoull alone would take "-1" or
 * " 1"); *s moves past it. Returns 0 or -1. */
static int cli_parse_u64(const char **s, uint64_t *out)
{
  char *end;
  unsigned long long v;

  if (**s < '0' || **s > '9')
    return -1;
  errno = 0;
  v = strtoull(*s, &end, 10);
  if (errno == ERANGE)
    return -1;
  *s = end;
  *out = v;
  return 0;
}

int cli_parse_range(const char *verb, const char *text, store_get_opts *o)
{
  const char *s = text;
  uint64_t first, last;

  if (cli_parse_u64(&s, &first) || *s != '-')
    goto bad;
  s++;
  o->flags |= STORE_GET_RANGE;
  o->offset = first;
  o->length = 0;
  if (*s == '\0')
    return 0;
  if (cli_parse_u64(&s, &last) || *s != '\0' || last < first)
    goto bad;
  /* Inclusive like HTTP; 0..UINT64_MAX wraps to 0, which means "to the
   * end" anyway. */
  o->length = last - first + 1;
  return 0;

bad:
  return cli_usage_error(verb,
                         "bad --range '%s' (expected FIRST-LAST or FIRST-, "
                         "byte offsets, LAST >= FIRST)",
                         text);
}

/* secs as the largest unit that divides it: "0", "90s", "15m", "3660d". */
static void duration_text(uint64_t secs, char *buf, size_t cap)
{
  if (secs && secs % 86400 == 0)
    snprintf(buf, cap, "%llud", (unsigned long long)(secs / 86400));
  else if (secs && secs % 3600 == 0)
    snprintf(buf, cap, "%lluh", (unsigned long long)(secs / 3600));
  else if (secs && secs % 60 == 0)
    snprintf(buf, cap, "%llum", (unsigned long long)(secs / 60));
  else
    snprintf(buf, cap, "%llus", (unsigned long long)secs);
}

int cli_parse_duration(const char *verb, const char *opt, const char *text,
                       uint64_t min, uint64_t max, uint64_t *out)
{
  unsigned long long v, unit = 1;
  char *end, lo[32], hi[32];

  errno = 0;
  v = strtoull(text, &end, 10);
  if (text[0] >= '0' && text[0] <= '9' && errno != ERANGE) {
    if (*end == 'm')
      unit = 60;
    else if (*end == 'h')
      unit = 3600;
    else if (*end == 'd')
      unit = 86400;
    if (*end && strchr("smhd", *end))
      end++;
    /* v <= max / unit first: v * unit cannot wrap into range. */
    if (!*end && v <= max / unit && v * unit >= min) {
      *out = v * unit;
      return 0;
    }
  }
  duration_text(min, lo, sizeof lo);
  duration_text(max, hi, sizeof hi);
  return cli_usage_error(verb, "%s wants a duration such as 90s, 30m, 36h "
                               "or 7d (%s to %s), got '%s'",
                         opt, lo, hi, text);
}
