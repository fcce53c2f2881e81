/*
** cmd_presign.c -- `xtstore presign`: print a URL that reads (GET) or
** writes (PUT) one blob with plain curl, without credentials, until it
** expires (xtstore_blob_presign). Only the URL goes to stdout, so that
** `curl "$(xtstore presign ...)"` works; what a request through it must
** send, and the id of a grant that can be revoked, go to stderr (or into
** the --json object).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli.h"

/* Long enough for every first-party provider's URL (a SigV4 URL with a
 * session token is the longest). */
#define PRESIGN_URL_MAX 8192

enum { OPT_EXPIRES = 1, OPT_METHOD, OPT_CONTENT_TYPE };

static const cli_opt presign_opts[] = {
  { "expires", 'e', 1, OPT_EXPIRES },
  { "method", 'm', 1, OPT_METHOD },
  { "content-type", 0, 1, OPT_CONTENT_TYPE },
  { NULL, 0, 0, 0 },
};

/* The lines of headers ("Name: value\n"...) as a JSON object. */
static json_t *headers_json(const char *headers)
{
  json_t *o = json_object();
  const char *p = headers, *nl, *colon;
  char name[STORE_PRESIGN_HEADERS_SIZE], value[STORE_PRESIGN_HEADERS_SIZE];

  while (o && *p) {
    nl = strchr(p, '\n');
    if (!nl)
      nl = p + strlen(p);
    colon = memchr(p, ':', (size_t)(nl - p));
    if (colon) {
      snprintf(name, sizeof name, "%.*s", (int)(colon - p), p);
      colon++;
      while (*colon == ' ')
        colon++;
      snprintf(value, sizeof value, "%.*s", (int)(nl - colon), colon);
      json_object_set_new(o, name, cli_json_str(value));
    }
    p = *nl ? nl + 1 : nl;
  }
  return o;
}

static void print_json(const cli_target *t, const char *method,
                       const char *url, const store_presign_result *r)
{
  json_t *o = json_object();
  char when[32];

  if (o) {
    cli_format_time(r->expires_at ? r->expires_at * 1000000000
                                  : STORE_MTIME_UNKNOWN,
                    when, sizeof when);
    json_object_set_new(o, "address", cli_json_str(t->display));
    json_object_set_new(o, "method", cli_json_str(method));
    json_object_set_new(o, "url", cli_json_str(url));
    json_object_set_new(o, "expires", r->expires_at ? cli_json_str(when)
                                                    : json_null());
    json_object_set_new(o, "id", r->id[0] ? cli_json_str(r->id)
                                          : json_null());
    json_object_set_new(o, "headers", headers_json(r->headers));
  }
  cli_json_print(o);
}

/* The URL alone on stdout; the rest, unless -q, on stderr. */
static void print_text(cli_global *g, const char *url,
                       const store_presign_result *r)
{
  const char *p, *nl;

  printf("%s\n", cli_safe(url));
  if (g->quiet)
    return;
  for (p = r->headers; *p; p = *nl ? nl + 1 : nl) {
    nl = strchr(p, '\n');
    if (!nl)
      nl = p + strlen(p);
    fprintf(stderr, "xtstore: presign: a request through the URL must send "
                    "the header '%.*s'\n",
            (int)(nl - p), cli_safe(p));
  }
  if (r->id[0])
    fprintf(stderr, "xtstore: presign: pre-authenticated request id: %s "
                    "(it stays valid until it expires or is deleted)\n",
            cli_safe(r->id));
}

static int presign_run(cli_global *g, const cli_cmd *self, int argc,
                       char **argv)
{
  cli_args a;
  cli_target t;
  store_error err;
  store_presign_opts o;
  store_presign_result r;
  const char *val, *method = "GET";
  char *url = NULL;
  uint64_t secs;
  int id, rc, ex;

  memset(&err, 0, sizeof err);
  memset(&t, 0, sizeof t);
  memset(&o, 0, sizeof o);
  memset(&r, 0, sizeof r);
  o.struct_size = sizeof o;
  o.method = STORE_PRESIGN_GET;
  o.expires_s = 3600;
  r.struct_size = sizeof r;
  cli_args_init(&a, g, self->name, argc, argv);
  while ((id = cli_args_next(&a, presign_opts, &val)) > 0) {
    if (id == OPT_EXPIRES) {
      ex = cli_parse_duration(self->name, "--expires", val, 1,
                              XTSTORE_PRESIGN_MAX_S, &secs);
      if (ex)
        return ex;
      o.expires_s = (uint32_t)secs;
    } else if (id == OPT_METHOD) {
      if (strcasecmp(val, "GET") == 0) {
        o.method = STORE_PRESIGN_GET;
        method = "GET";
      } else if (strcasecmp(val, "PUT") == 0) {
        o.method = STORE_PRESIGN_PUT;
        method = "PUT";
      } else {
        return cli_usage_error(self->name, "--method wants GET or PUT, got "
                                           "'%s'",
                               val);
      }
    } else if (id == OPT_CONTENT_TYPE) {
      o.content_type = val;
    }
  }
  if (id < 0)
    return cli_args_exit(self, id);
  if (a.npos != 1)
    return cli_usage_error(self->name, "expected one SERVICE:CONTAINER/KEY, "
                                       "got %d arguments",
                           a.npos);
  if (o.content_type && o.method != STORE_PRESIGN_PUT)
    return cli_usage_error(self->name, "--content-type goes with --method "
                                       "PUT");
  ex = cli_target_parse(self->name, a.pos[0], CLI_NEED_KEY, &t);
  if (ex)
    return ex;
  url = malloc(PRESIGN_URL_MAX);
  if (!url) {
    rc = STORE_E_NOMEM;
    snprintf(err.message, sizeof err.message, "out of memory");
    goto out;
  }
  rc = cli_target_open(g, &t, &err);
  if (rc)
    goto out;
  rc = xtstore_blob_presign(t.svc, t.a.container, t.a.key, &o, url,
                            PRESIGN_URL_MAX, &r, &err);
  if (rc)
    goto out;
  if (g->json)
    print_json(&t, method, url, &r);
  else
    print_text(g, url, &r);
out:
  free(url);
  cli_target_free(&t);
  return rc ? cli_fail(self->name, rc, &err) : CLI_EXIT_OK;
}

const cli_cmd cli_cmd_presign = {
  "presign",
  "print a URL that reads or writes one blob without credentials",
  "Usage: xtstore presign [OPTIONS] SERVICE:CONTAINER/KEY\n"
  "\n"
  "Print a URL that lets anyone who holds it read (GET) or create/replace\n"
  "(PUT) one blob with a plain HTTP client, without credentials, until it\n"
  "expires: S3 a presigned SigV4 URL, Azure a service SAS (account key),\n"
  "GCS a V4 signed URL (service account), OCI a pre-authenticated request\n"
  "(created on the server: its id is printed on stderr so that it can be\n"
  "deleted before it expires). The URL alone goes to stdout; headers a\n"
  "request through it must send (Azure PUT: x-ms-blob-type) go to stderr.\n"
  "The URL is a credential: whoever has it can use it until it expires.\n"
  "Exit 7 when the provider (or its credentials) cannot presign.\n"
  "\n"
  "Options:\n"
  "  -e, --expires T      lifetime: 90s, 15m, 1h (default), 7d; at most\n"
  "                       10 years, and 7d on S3 and GCS\n"
  "  -m, --method M       GET (default) or PUT\n"
  "  --content-type TYPE  PUT: the Content-Type the upload must send, bound\n"
  "                       into the signature (S3, GCS); Azure and OCI\n"
  "                       cannot bind one and refuse it (exit 7)\n"
  "  --json               print {\"address\", \"method\", \"url\", \"expires\",\n"
  "                       \"id\", \"headers\"}\n"
  "  -h, --help           show this help\n"
  "\n"
  "Examples:\n"
  "  curl -fsS \"$(xtstore presign s3:data/report.pdf)\" -o report.pdf\n"
  "  url=$(xtstore presign --method PUT --expires 15m s3:inbox/upload.bin)\n"
  "  curl -fsS -T upload.bin \"$url\"\n",
  presign_run,
};
