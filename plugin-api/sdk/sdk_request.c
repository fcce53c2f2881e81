/*
** sdk_request.c -- an HTTP request under construction (sdk_http.h): method,
** URL, headers, body source and where the response goes. Nothing here
** touches the network; sdk_transfer.c sends it.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdk_int.h"

/* The strings are copied; NULL on no memory or a NULL argument. */
sdk_request *sdk_request_new(const char *method, const char *url)
{
  sdk_request *r;

  if (!method || !url)
    return NULL;
  r = calloc(1, sizeof(*r));
  if (!r)
    return NULL;
  r->method = strdup(method);
  r->url = strdup(url);
  if (!r->method || !r->url) {
    sdk_request_free(r);
    return NULL;
  }
  return r;
}

void sdk_request_free(sdk_request *r)
{
  if (!r)
    return;
  free(r->method);
  free(r->url);
  sdk__hdrs_free(&r->hdrs);
  free(r);
}

int sdk_request_set_header(sdk_request *r, const char *name, const char *value)
{
  return sdk__hdrs_set(&r->hdrs, name, value);
}

/* RFC 9110 token characters: what a header name may be made of. */
static int is_tchar(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

int sdk_http_is_token(const char *s)
{
  if (!*s)
    return 0;
  for (; *s; s++)
    if (!is_tchar((unsigned char)*s))
      return 0;
  return 1;
}

const char *sdk_request_header(const sdk_request *r, const char *name)
{
  return sdk__hdrs_get(&r->hdrs, name, 0);
}

size_t sdk_request_header_count(const sdk_request *r)
{
  return r->hdrs.n;
}

const char *sdk_request_header_name(const sdk_request *r, size_t i)
{
  return i < r->hdrs.n ? r->hdrs.v[i].name : NULL;
}

const char *sdk_request_header_value(const sdk_request *r, size_t i)
{
  return i < r->hdrs.n ? r->hdrs.v[i].value : NULL;
}

const char *sdk_request_method(const sdk_request *r)
{
  return r->method;
}

const char *sdk_request_url(const sdk_request *r)
{
  return r->url;
}

/* On failure the old URL stays. */
int sdk_request_set_url(sdk_request *r, const char *url)
{
  char *copy = url ? strdup(url) : NULL;

  if (!copy)
    return -1;
  free(r->url);
  r->url = copy;
  return 0;
}

/*
** Make the framing headers say what will be sent, so signers see them:
** Content-Length for a known length, Transfer-Encoding: chunked for an
** unknown one. The setters return void, so a failure is remembered and
** fails the perform instead of sending a request the signer never saw.
*/
static void set_framing(sdk_request *r, int64_t len)
{
  char num[24];
  int bad;

  if (len >= 0) {
    snprintf(num, sizeof(num), "%" PRId64, len);
    bad = sdk__hdrs_set(&r->hdrs, "Transfer-Encoding", NULL) ||
          sdk__hdrs_set(&r->hdrs, "Content-Length", num);
  } else {
    bad = sdk__hdrs_set(&r->hdrs, "Content-Length", NULL) ||
          sdk__hdrs_set(&r->hdrs, "Transfer-Encoding", "chunked");
  }
  if (bad)
    r->nomem = 1;
}

int sdk_request_body_replayable(const sdk_request *r)
{
  return r->body_kind != SDK__BODY_STREAM;
}

void sdk_request_fresh_connection(sdk_request *r)
{
  if (r)
    r->fresh = 1;
}

void sdk_request_body_mem(sdk_request *r, const void *data, size_t len)
{
  r->body_kind = SDK__BODY_MEM;
  r->body = data;
  r->body_len = (int64_t)len;
  r->read_fn = NULL;
  r->read_ud = NULL;
  set_framing(r, r->body_len);
}

void sdk_request_body_stream(sdk_request *r, store_read_fn fn, void *ud,
                             int64_t len)
{
  r->body_kind = SDK__BODY_STREAM;
  r->body = NULL;
  r->read_fn = fn;
  r->read_ud = ud;
  r->body_len = len < 0 ? -1 : len;
  set_framing(r, r->body_len);
}

void sdk_request_on_headers(sdk_request *r, sdk_headers_fn fn, void *ud)
{
  r->on_headers = fn;
  r->on_headers_ud = ud;
}

void sdk_request_sink(sdk_request *r, store_write_fn fn, void *ud)
{
  r->sink = fn;
  r->sink_ud = ud;
}
