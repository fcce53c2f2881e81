/*
** sdk_mixed.c -- multipart/mixed batches: sub-requests written as
** application/http parts, and a streaming parser of the response's parts.
** See sdk_mixed.h.
*/
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "sdk_mixed.h"
#include "sdk_util.h"

#define PREFIX_MAX (SDK_MIXED_BOUNDARY_SIZE - 1 - 32)

int sdk_mixed_boundary(const char *prefix, char out[SDK_MIXED_BOUNDARY_SIZE])
{
  unsigned char raw[16];
  size_t n = strlen(prefix);

  if (n > PREFIX_MAX || strchr(prefix, ' ') ||
      getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
    return -1;
  memcpy(out, prefix, n);
  sdk_hex(raw, sizeof(raw), out + n);
  return 0;
}

int sdk_mixed_content_type(const char *boundary, sdk_buf *out)
{
  return sdk_buf_printf(out, "multipart/mixed; boundary=%s", boundary);
}

/* The path and query of an absolute URL ("scheme://host[:port]/..."). */
static const char *url_target(const char *url)
{
  const char *p = strstr(url, "://");

  return p ? strchr(p + 3, '/') : NULL;
}

int sdk_mixed_add(sdk_buf *body, const char *boundary, size_t id,
                  const sdk_request *r)
{
  const char *target = url_target(sdk_request_url(r));
  size_t start = body->len;
  int bad;

  if (!target)
    return -1;
  /* The CRLF before a delimiter belongs to the delimiter (RFC 2046). */
  bad = sdk_buf_printf(body, "%s--%s\r\nContent-Type: application/http\r\n"
                       "Content-Transfer-Encoding: binary\r\n"
                       "Content-ID: %zu\r\n\r\n%s %s HTTP/1.1\r\n",
                       start ? "\r\n" : "", boundary, id,
                       sdk_request_method(r), target);
  for (size_t i = 0; !bad && i < sdk_request_header_count(r); i++)
    bad = sdk_buf_printf(body, "%s: %s\r\n", sdk_request_header_name(r, i),
                         sdk_request_header_value(r, i));
  if (!bad)
    bad = sdk_buf_puts(body, "\r\n");
  if (bad)
    sdk_buf_truncate(body, start);
  return bad ? -1 : 0;
}

int sdk_mixed_end(sdk_buf *body, const char *boundary)
{
  return sdk_buf_printf(body, "\r\n--%s--\r\n", boundary);
}

/* ---- parsing ----------------------------------------------------------- */

#define ST_PREAMBLE 0
#define ST_PART     1
#define ST_DONE     2

struct sdk_mixed_parser {
  char delim[SDK_MIXED_BOUNDARY_SIZE + 5]; /* "\r\n--" BOUNDARY           */
  size_t dlen;
  sdk_buf buf;                  /* bytes not consumed yet                  */
  int state;
  size_t parts;
  sdk_mixed_part_fn fn;
  void *ctx;
  store_error fail;             /* the first failure (code 0: none)        */
  int in_part;                  /* fail is the part callback's             */
};

/* The boundary parameter of a Content-Type into out; -1 when absent. */
static int boundary_param(const char *ct, char *out, size_t cap)
{
  const char *p = ct;
  size_t n = 0;

  while ((p = strchr(p, ';')) != NULL) {
    p++;
    while (*p == ' ' || *p == '\t')
      p++;
    if (strncasecmp(p, "boundary=", 9))
      continue;
    p += 9;
    if (*p == '"') {
      const char *q = strchr(++p, '"');
      n = q ? (size_t)(q - p) : 0;
    } else {
      n = strcspn(p, "; \t");
    }
    if (n == 0 || n >= cap)
      return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
  }
  return -1;
}

int32_t sdk_mixed_parser_new(const char *content_type, sdk_mixed_part_fn fn,
                             void *ctx, sdk_mixed_parser **out,
                             store_error *err)
{
  char b[SDK_MIXED_BOUNDARY_SIZE];
  sdk_mixed_parser *p;

  *out = NULL;
  if (!content_type || strncasecmp(content_type, "multipart/mixed", 15) ||
      boundary_param(content_type, b, sizeof(b)))
    return store_error_set(err, STORE_E_INTERNAL, "the batch response is "
                           "not multipart/mixed with a boundary (Content-"
                           "Type '%.80s')", content_type ? content_type : "");
  p = calloc(1, sizeof(*p));
  /* A virtual CRLF first: a delimiter at the very start has none. */
  if (!p || sdk_buf_puts(&p->buf, "\r\n")) {
    free(p);
    return store_error_set(err, STORE_E_NOMEM, "out of memory");
  }
  p->dlen = (size_t)snprintf(p->delim, sizeof(p->delim), "\r\n--%s", b);
  p->fn = fn;
  p->ctx = ctx;
  p->fail.struct_size = sizeof(p->fail);
  *out = p;
  return STORE_OK;
}

void sdk_mixed_parser_free(sdk_mixed_parser *p)
{
  if (!p)
    return;
  sdk_buf_free(&p->buf);
  free(p);
}

size_t sdk_mixed_parser_parts(const sdk_mixed_parser *p)
{
  return p->parts;
}

static int32_t parse_fail(sdk_mixed_parser *p, int32_t code, const char *what)
{
  if (!p->fail.code)
    store_error_set(&p->fail, code, "batch response part %zu: %s",
                    p->parts + 1, what);
  return p->fail.code;
}

/* The next line of [*at, end) (CRLF or LF ended, or to end): NUL-
 * terminated in place; *at moves past it. NULL at end. */
static char *next_line(char **at, char *end)
{
  char *s = *at, *nl;

  if (s >= end)
    return NULL;
  nl = memchr(s, '\n', (size_t)(end - s));
  if (!nl) {
    *at = end;
    *end = '\0';
    return s;
  }
  *at = nl + 1;
  if (nl > s && nl[-1] == '\r')
    nl--;
  *nl = '\0';
  return s;
}

/* "Name: value" split in place; -1 when it is not a header line. */
static int split_header(char *line, store_kv *kv)
{
  char *c = strchr(line, ':');
  char *v;
  size_t n;

  if (!c || c == line)
    return -1;
  *c = '\0';
  v = c + 1;
  while (*v == ' ' || *v == '\t')
    v++;
  n = strlen(v);
  while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
    v[--n] = '\0';
  kv->key = line;
  kv->value = v;
  return 0;
}

/* One part's content, s[0..n) (writable, s[n] writable too): its MIME
 * headers, then an HTTP response. */
static int32_t deliver(sdk_mixed_parser *p, char *s, size_t n)
{
  store_kv hdrs[SDK_MIXED_HEADERS_MAX];
  sdk_mixed_part part;
  char *at = s, *end = s + n, *line, *sp;
  const char *clen;
  size_t nh = 0;
  int32_t rc;

  memset(&part, 0, sizeof(part));
  part.content_id = "";
  /* MIME headers of the part, up to an empty line. */
  while ((line = next_line(&at, end)) != NULL && *line) {
    store_kv kv;
    if (split_header(line, &kv))
      return parse_fail(p, STORE_E_INTERNAL, "malformed part header");
    if (!strcasecmp(kv.key, "Content-ID"))
      part.content_id = kv.value;
  }
  /* The status line: "HTTP/1.1 404 The specified blob does not exist." */
  line = next_line(&at, end);
  if (!line || strncmp(line, "HTTP/", 5) || !(sp = strchr(line, ' ')) ||
      !isdigit((unsigned char)sp[1]))
    return parse_fail(p, STORE_E_INTERNAL, "no HTTP status line");
  part.status = strtol(sp + 1, &sp, 10);
  part.reason = *sp == ' ' ? sp + 1 : "";
  while ((line = next_line(&at, end)) != NULL && *line) {
    if (nh == SDK_MIXED_HEADERS_MAX)
      return parse_fail(p, STORE_E_INTERNAL, "too many headers");
    if (split_header(line, &hdrs[nh]))
      return parse_fail(p, STORE_E_INTERNAL, "malformed header");
    nh++;
  }
  part.headers = hdrs;
  part.nheaders = nh;
  part.body = at < end ? at : "";
  part.body_len = at < end ? (size_t)(end - at) : 0;
  clen = sdk_mixed_header(&part, "Content-Length");
  if (clen) {
    char *e;
    unsigned long long v = strtoull(clen, &e, 10);
    if (*e || v > part.body_len)
      return parse_fail(p, STORE_E_INTERNAL, "body shorter than its "
                        "Content-Length");
    part.body_len = (size_t)v;
  }
  if (at < end)
    at[part.body_len] = '\0';
  p->parts++;
  rc = p->fn(p->ctx, &part, &p->fail);
  p->in_part = rc != STORE_OK;
  if (rc && !p->fail.code)
    store_error_set(&p->fail, rc, "batch response part %zu: refused",
                    p->parts);
  return rc;
}

/* Is [s, e) transport padding (RFC 2046: only spaces and tabs), before a
 * line end whose CR may end it? */
static int padding_only(const char *s, const char *e)
{
  if (e > s && e[-1] == '\r')
    e--;
  for (; s < e; s++)
    if (*s != ' ' && *s != '\t')
      return 0;
  return 1;
}

/* Consume every complete part in the buffer. A boundary followed by
 * anything but padding and a line end (or "--") is content, not a
 * delimiter: the search goes on after it. */
static int32_t scan(sdk_mixed_parser *p)
{
  sdk_buf *b = &p->buf;
  size_t from = 0;

  while (p->state != ST_DONE) {
    char *d = memmem(b->data + from, b->len - from, p->delim, p->dlen);
    char *after, *nl;
    int32_t rc;

    if (!d) {
      if (p->state == ST_PREAMBLE && b->len >= p->dlen) {
        /* Keep only what may begin a delimiter. */
        memmove(b->data, b->data + b->len - (p->dlen - 1), p->dlen - 1);
        sdk_buf_truncate(b, p->dlen - 1);
      }
      if (b->len > SDK_MIXED_PART_MAX + p->dlen)
        return parse_fail(p, STORE_E_INTERNAL, "part larger than the "
                          "limit");
      return STORE_OK;
    }
    after = d + p->dlen;
    if ((size_t)(b->data + b->len - after) < 2)
      return STORE_OK; /* cannot tell a close delimiter yet */
    if (!memcmp(after, "--", 2)) {
      rc = p->state == ST_PART ? deliver(p, b->data, (size_t)(d - b->data))
                               : STORE_OK;
      p->state = ST_DONE;
      sdk_buf_reset(b);
      return rc;
    }
    nl = memchr(after, '\n', (size_t)(b->data + b->len - after));
    if (!nl && !padding_only(after, b->data + b->len)) {
      from = (size_t)(d - b->data) + 1;
      continue;
    }
    if (!nl) {
      if ((size_t)(b->data + b->len - after) > 256)
        return parse_fail(p, STORE_E_INTERNAL, "malformed delimiter line");
      return STORE_OK;
    }
    if (!padding_only(after, nl)) {
      from = (size_t)(d - b->data) + 1;
      continue;
    }
    if (p->state == ST_PART) {
      rc = deliver(p, b->data, (size_t)(d - b->data));
      if (rc)
        return rc;
    }
    p->state = ST_PART;
    from = 0;
    nl++;
    /* Keep a CRLF in front: the next delimiter starts with one. */
    memmove(b->data, nl, (size_t)(b->data + b->len - nl));
    sdk_buf_truncate(b, (size_t)(b->data + b->len - nl));
  }
  return STORE_OK;
}

int32_t sdk_mixed_write(void *parser, const void *data, size_t len)
{
  sdk_mixed_parser *p = parser;

  if (p->fail.code)
    return p->fail.code;
  if (p->state == ST_DONE)
    return STORE_OK;
  if (sdk_buf_append(&p->buf, data, len))
    return parse_fail(p, STORE_E_NOMEM, "out of memory");
  return scan(p);
}

int32_t sdk_mixed_parser_finish(sdk_mixed_parser *p, store_error *err)
{
  if (!p->fail.code && p->state != ST_DONE)
    parse_fail(p, STORE_E_INTERNAL, "the batch response ended before its "
               "last part");
  if (!p->fail.code)
    return STORE_OK;
  if (err) {
    err->code = p->fail.code;
    err->http_status = p->fail.http_status;
    memcpy(err->provider_code, p->fail.provider_code,
           sizeof(err->provider_code));
    memcpy(err->message, p->fail.message, sizeof(err->message));
    err->flags = p->fail.flags;
  }
  return p->fail.code;
}

const char *sdk_mixed_header(const sdk_mixed_part *part, const char *name)
{
  const char *v = NULL;

  for (size_t i = 0; i < part->nheaders; i++)
    if (!strcasecmp(part->headers[i].key, name))
      v = part->headers[i].value;
  return v;
}

int sdk_mixed_index(const char *content_id, size_t *out)
{
  const char *s = content_id;
  char *e;
  unsigned long long v;
  int bracket = *s == '<';

  s += bracket;
  if (!strncmp(s, "response-", 9))
    s += 9;
  if (!isdigit((unsigned char)*s))
    return -1;
  v = strtoull(s, &e, 10);
  if (bracket ? strcmp(e, ">") : *e != '\0')
    return -1;
  *out = (size_t)v;
  return 0;
}

/* ---- a batch answer read as it arrives --------------------------------- */

static int32_t reader_headers(void *ud, const sdk_response *resp)
{
  sdk_mixed_reader *rd = ud;
  int32_t rc;

  /* A request sent again gets a new answer: a new parser. */
  sdk_mixed_parser_free(rd->parser);
  rd->parser = NULL;
  memset(&rd->err, 0, sizeof(rd->err));
  rd->err.struct_size = sizeof(rd->err);
  rc = sdk_mixed_parser_new(sdk_response_header(resp, "Content-Type"),
                            rd->fn, rd->ctx, &rd->parser, &rd->err);
  rd->failed = rc != STORE_OK;
  return rc;
}

static int32_t reader_body(void *ud, const void *data, size_t len)
{
  sdk_mixed_reader *rd = ud;
  int32_t rc = sdk_mixed_write(rd->parser, data, len);

  rd->failed |= rc != STORE_OK;
  return rc;
}

void sdk_mixed_attach(sdk_request *r, sdk_mixed_reader *rd,
                      sdk_mixed_part_fn fn, void *ctx)
{
  memset(rd, 0, sizeof(*rd));
  rd->fn = fn;
  rd->ctx = ctx;
  sdk_request_on_headers(r, reader_headers, rd);
  sdk_request_sink(r, reader_body, rd);
}

int32_t sdk_mixed_reader_finish(sdk_mixed_reader *rd, int *out_in_part,
                                store_error *err)
{
  *out_in_part = 0;
  if (!rd->parser) {
    if (!rd->err.code)
      return store_error_set(err, STORE_E_INTERNAL, "the batch response "
                             "has no body");
    if (err) {
      err->code = rd->err.code;
      memcpy(err->message, rd->err.message, sizeof(err->message));
    }
    return rd->err.code;
  }
  *out_in_part = rd->parser->in_part;
  return sdk_mixed_parser_finish(rd->parser, err);
}

void sdk_mixed_reader_free(sdk_mixed_reader *rd)
{
  sdk_mixed_parser_free(rd->parser);
  rd->parser = NULL;
}

sdk_response *sdk_mixed_part_response(const sdk_mixed_part *part)
{
  sdk_response *resp = sdk_response_new(part->status);
  int bad = !resp;

  for (size_t i = 0; !bad && i < part->nheaders; i++)
    bad = sdk_response_add_header(resp, part->headers[i].key,
                                  part->headers[i].value);
  if (!bad)
    bad = sdk_response_append_body(resp, part->body, part->body_len);
  if (bad) {
    sdk_response_free(resp);
    return NULL;
  }
  return resp;
}
