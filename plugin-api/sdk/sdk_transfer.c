/*
** sdk_transfer.c -- sdk_http_perform: one request on a pooled easy handle.
**
** The curl callbacks below route bytes between the wire and the ABI's
** streaming callbacks. None of them may longjmp or block on the host, and
** each records WHY it stopped a transfer (x->stop), because curl only says
** "aborted by callback" and the caller deserves the real cause.
*/
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sdk_int.h"

#define SDK_RECV_BUFFER (512L << 10)
#define SDK_SEND_BUFFER (512L << 10)

#define MAX_BODY_NO_SINK (16u << 20) /* 2xx bodies without a sink */
#define MAX_BODY_ERROR   (64u << 10) /* non-2xx bodies; the rest is dropped */

/* Why one of our callbacks stopped the transfer. */
enum stop {
  STOP_NONE,
  STOP_CANCEL,      /* host->is_cancelled */
  STOP_HEADERS_FN,  /* on_headers returned non-zero */
  STOP_SINK,        /* the sink returned non-zero */
  STOP_SOURCE,      /* the read_fn returned non-zero */
  STOP_SOURCE_SIZE, /* the read_fn gave more than asked */
  STOP_SHORT_BODY,  /* the read_fn hit EOF before the declared length */
  STOP_TOO_BIG,     /* 2xx body without a sink beyond MAX_BODY_NO_SINK */
  STOP_STALL,       /* no body byte moved for the stall timeout */
  STOP_NOMEM
};

typedef struct xfer {
  sdk_http *h;
  sdk_request *r;
  sdk_response *resp;
  int64_t pos;          /* request body bytes handed to curl */
  int headers_called;   /* on_headers has run (or there is none) */
  enum stop stop;
  curl_off_t moved;     /* body bytes moved both ways, at the last progress */
  int64_t moved_ms;     /* when that count last changed (monotonic ms) */
  char errbuf[CURL_ERROR_SIZE];
} xfer;

static int is_2xx(long status)
{
  return status >= 200 && status <= 299;
}

/* ---- request body ------------------------------------------------------- */

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
  xfer *x = ud;
  sdk_request *r = x->r;
  size_t cap = size * nitems, n = 0;

  if (r->body_kind == SDK__BODY_NONE)
    return 0;
  /* Never hand curl more than the declared length: it would go on the
   * wire as the start of the next request. */
  if (r->body_len >= 0 && (uint64_t)(r->body_len - x->pos) < cap)
    cap = (size_t)(r->body_len - x->pos);
  if (cap == 0)
    return 0;
  if (r->body_kind == SDK__BODY_MEM) {
    memcpy(buf, (const char *)r->body + x->pos, cap);
    x->pos += (int64_t)cap;
    return cap;
  }
  if (r->read_fn(r->read_ud, buf, cap, &n)) {
    x->stop = STOP_SOURCE;
    return CURL_READFUNC_ABORT;
  }
  if (n > cap) {
    x->stop = STOP_SOURCE_SIZE;
    return CURL_READFUNC_ABORT;
  }
  if (n == 0 && r->body_len >= 0) {
    x->stop = STOP_SHORT_BODY;
    return CURL_READFUNC_ABORT;
  }
  x->pos += (int64_t)n;
  return n;
}

/* curl rewinds when it must resend (a reused connection that turned out
 * dead, say). Memory rewinds anywhere; a stream only to where it is. */
static int on_seek(void *ud, curl_off_t offset, int origin)
{
  xfer *x = ud;

  if (origin != SEEK_SET)
    return CURL_SEEKFUNC_CANTSEEK;
  if (offset == x->pos)
    return CURL_SEEKFUNC_OK;
  if (x->r->body_kind != SDK__BODY_MEM)
    return CURL_SEEKFUNC_CANTSEEK;
  if (offset < 0 || offset > x->r->body_len)
    return CURL_SEEKFUNC_FAIL;
  x->pos = offset;
  return CURL_SEEKFUNC_OK;
}

/* ---- response ----------------------------------------------------------- */

/* "HTTP/1.1 200 OK" -> 200; 0 when there is no three-digit code. */
static long status_of(const char *line, size_t len)
{
  const char *sp = memchr(line, ' ', len);
  size_t i = sp ? (size_t)(sp - line) + 1 : len;

  if (len - i < 3 || line[i] < '1' || line[i] > '5' || line[i + 1] < '0' ||
      line[i + 1] > '9' || line[i + 2] < '0' || line[i + 2] > '9')
    return 0;
  return (line[i] - '0') * 100 + (line[i + 1] - '0') * 10 + (line[i + 2] - '0');
}

static int is_ows(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
** One header line. A status line starts a new header block: interim 1xx
** responses (100 Continue) and anything before the final response must
** not leak their headers into it.
*/
static size_t on_header(char *data, size_t size, size_t nitems, void *ud)
{
  xfer *x = ud;
  size_t len = size * nitems, nlen, vstart;
  const char *colon;

  if (len >= 5 && !memcmp(data, "HTTP/", 5)) {
    x->resp->status = status_of(data, len);
    sdk__hdrs_clear(&x->resp->hdrs);
    return len;
  }
  /* Folded continuation lines (obsolete, RFC 9112 5.2) and lines without
   * a colon carry nothing a provider reads; they are skipped. */
  colon = memchr(data, ':', len);
  if (!colon || is_ows(data[0]))
    return len;
  for (nlen = (size_t)(colon - data); nlen && is_ows(data[nlen - 1]); nlen--)
    ;
  for (vstart = (size_t)(colon - data) + 1;
       vstart < len && is_ows(data[vstart]); vstart++)
    ;
  while (len > vstart && is_ows(data[len - 1]))
    len--;
  if (sdk__hdrs_add(&x->resp->hdrs, data, nlen, data + vstart, len - vstart)) {
    x->stop = STOP_NOMEM;
    return 0;
  }
  return size * nitems;
}

/* The final 2xx headers are complete: tell the provider, once. */
static int headers_ready(xfer *x)
{
  if (x->headers_called)
    return 0;
  x->headers_called = 1;
  if (x->r->on_headers && x->r->on_headers(x->r->on_headers_ud, x->resp)) {
    x->stop = STOP_HEADERS_FN;
    return -1;
  }
  return 0;
}

/* Any return other than the length makes curl fail the transfer. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
  xfer *x = ud;
  size_t len = size * nmemb, keep = len;
  sdk_buf *body = &x->resp->body;

  if (is_2xx(x->resp->status)) {
    /* Any value but len fails the transfer, even when len is 0. */
    if (headers_ready(x))
      return len ? 0 : 1;
    if (len == 0)
      return 0;
    if (x->r->sink) {
      if (x->r->sink(x->r->sink_ud, data, len)) {
        x->stop = STOP_SINK;
        return 0;
      }
      return len;
    }
    if (len > MAX_BODY_NO_SINK - body->len) {
      x->stop = STOP_TOO_BIG;
      return 0;
    }
  } else if (len > MAX_BODY_ERROR - body->len) {
    /* Keep reading, so the connection stays usable; keep only the head. */
    keep = MAX_BODY_ERROR - body->len;
  }
  if (keep && sdk_buf_append(body, data, keep)) {
    x->stop = STOP_NOMEM;
    return 0;
  }
  return len;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
  xfer *x = ud;
  curl_off_t moved = dlnow + ulnow;
  struct timespec ts;
  int64_t now_ms;

  if (sdk_host_cancelled(x->h->host)) {
    x->stop = STOP_CANCEL;
    return 1;
  }
  /* curl's low-speed check averages over its last ~5 s, so a stall after
   * bytes moved went unnoticed for stall timeout + ~5 s: once a byte has
   * moved, the stall is timed here from the last one. */
  clock_gettime(CLOCK_MONOTONIC, &ts);
  now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  if (moved != x->moved || !x->moved_ms) {
    x->moved = moved;
    x->moved_ms = now_ms;
  } else if (moved > 0 &&
             now_ms - x->moved_ms >= (int64_t)x->h->stall_timeout_s * 1000) {
    x->stop = STOP_STALL;
    return 1;
  }
  return 0;
}

/* ---- setting up --------------------------------------------------------- */

/* Length of url without its query and fragment: what messages may show
 * (a query may hold a SAS token or a presigned signature). */
static int shown_url_len(const char *url)
{
  size_t n = strcspn(url, "?#");

  return n > 4096 ? 4096 : (int)n;
}

/* Fill err with "METHOD URL-without-query: <cause>". Returns code. */
static int req_error(const sdk_request *r, store_error *err, int32_t code,
                     const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
static int req_error(const sdk_request *r, store_error *err, int32_t code,
                     const char *fmt, ...)
{
  char cause[STORE_ERR_MSG_SIZE];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(cause, sizeof(cause), fmt, ap);
  va_end(ap);
  return store_error_set(err, code, "%s %.*s: %s", r->method,
                         shown_url_len(r->url), r->url, cause);
}

/* Append one line to a curl header list. 0 or -1 (memory). */
static int add_line(struct curl_slist **list, const char *line)
{
  struct curl_slist *next = curl_slist_append(*list, line);

  if (!next)
    return -1;
  *list = next;
  return 0;
}

/*
** The curl header list: the provider's headers, minus curl's own defaults
** the provider did not ask for. "Expect: 100-continue" costs a round trip
** (or a one-second wait) per upload; "Accept: * / *" is noise; POST's
** "Content-Type: application/x-www-form-urlencoded" would break signers
** that sign Content-Type (Azure SharedKey). A line break in a value would
** inject headers, so it is refused here.
*/
static int build_headers(xfer *x, struct curl_slist **out, store_error *err)
{
  static const char *const curl_defaults[] = {"Expect", "Accept",
                                              "Content-Type"};
  sdk_request *r = x->r;
  struct curl_slist *list = NULL;
  sdk_buf line = SDK_BUF_INIT;
  size_t i;
  int rc = STORE_OK;

  *out = NULL;
  for (i = 0; i < r->hdrs.n; i++) {
    const sdk__hdr *e = &r->hdrs.v[i];

    if (!sdk_http_is_token(e->name)) {
      rc = req_error(r, err, STORE_E_INVALID, "invalid request header name");
      goto out;
    }
    if (strpbrk(e->value, "\r\n")) {
      rc = req_error(r, err, STORE_E_INVALID, "line break in the value of "
                     "request header '%s'", e->name);
      goto out;
    }
    sdk_buf_reset(&line);
    /* "Name;" is curl's spelling of a header with an empty value. */
    if ((*e->value ? sdk_buf_printf(&line, "%s: %s", e->name, e->value)
                   : sdk_buf_printf(&line, "%s;", e->name)) ||
        add_line(&list, line.data)) {
      rc = req_error(r, err, STORE_E_NOMEM, "out of memory");
      goto out;
    }
  }
  for (i = 0; i < sizeof(curl_defaults) / sizeof(curl_defaults[0]); i++) {
    if (sdk__hdrs_get(&r->hdrs, curl_defaults[i], 0))
      continue;
    sdk_buf_reset(&line);
    /* "Name:" with nothing after it tells curl to leave the header out. */
    if (sdk_buf_printf(&line, "%s:", curl_defaults[i]) ||
        add_line(&list, line.data)) {
      rc = req_error(r, err, STORE_E_NOMEM, "out of memory");
      goto out;
    }
  }
  *out = list;
  list = NULL;
out:
  curl_slist_free_all(list);
  sdk_buf_free(&line);
  return rc;
}

/*
** Method and body framing. PUT (and any other method with a body) is an
** "upload" to curl; POST posts from the read callback. A known length
** becomes Content-Length; -1 becomes chunked (the request's
** Transfer-Encoding header, set by sdk_request_body_stream, says so).
*/
static int set_method(CURL *easy, const sdk_request *r)
{
  int has_body = r->body_kind != SDK__BODY_NONE;
  curl_off_t len = has_body ? (curl_off_t)r->body_len : 0;
  int bad = 0;

  if (!strcmp(r->method, "POST")) {
    bad |= curl_easy_setopt(easy, CURLOPT_POST, 1L);
    bad |= curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, len);
  } else if (has_body || !strcmp(r->method, "PUT")) {
    bad |= curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
    bad |= curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, len);
    if (strcmp(r->method, "PUT"))
      bad |= curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, r->method);
  } else if (!strcmp(r->method, "HEAD")) {
    bad |= curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else if (strcmp(r->method, "GET")) {
    bad |= curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, r->method);
  }
  return bad;
}

/* Every option, every time: the handle came from curl_easy_reset. A
 * failing setopt (no memory to copy a string) fails the request. */
static int set_options(xfer *x, CURL *easy, struct curl_slist *hdrs,
                       store_error *err)
{
  sdk_http *h = x->h;
  int bad = 0;

  bad |= curl_easy_setopt(easy, CURLOPT_URL, x->r->url);
  bad |= curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  /* Keys may contain "." and ".." segments: send the path as given. */
  bad |= curl_easy_setopt(easy, CURLOPT_PATH_AS_IS, 1L);
  /* Chunked uploads and Content-Length streaming are HTTP/1.1 framing. */
  bad |= curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  bad |= curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  if (x->r->fresh)
    bad |= curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
  bad |= curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  /* libcurl's 16 KiB default receive buffer costs a recv, a poll and a
   * sink call per 16 KiB: 512 KiB measured a third less CPU per GiB
   * (bench/README.md). */
  bad |= curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, SDK_RECV_BUFFER);
  /* Its 64 KiB default send buffer likewise: a read of the source, a
   * poll and a send per 64 KiB; 512 KiB cut them eightfold and measured
   * ~0.06 CPU s/GiB less on a 1 GiB put (bench/README.md). */
  bad |= curl_easy_setopt(easy, CURLOPT_UPLOAD_BUFFERSIZE, SDK_SEND_BUFFER);
  bad |= curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                          h->connect_timeout_ms);
  bad |= curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
  bad |= curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, h->stall_timeout_s);
  bad |= curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER,
                          h->verify_tls ? 1L : 0L);
  bad |= curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST,
                          h->verify_tls ? 2L : 0L);
  if (h->ca_bundle)
    bad |= curl_easy_setopt(easy, CURLOPT_CAINFO, h->ca_bundle);
  bad |= curl_easy_setopt(easy, CURLOPT_USERAGENT, h->user_agent);
  bad |= curl_easy_setopt(easy, CURLOPT_HTTPHEADER, hdrs);
  bad |= curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, x->errbuf);
  bad |= set_method(easy, x->r);
  bad |= curl_easy_setopt(easy, CURLOPT_READFUNCTION, on_read);
  bad |= curl_easy_setopt(easy, CURLOPT_READDATA, x);
  bad |= curl_easy_setopt(easy, CURLOPT_SEEKFUNCTION, on_seek);
  bad |= curl_easy_setopt(easy, CURLOPT_SEEKDATA, x);
  bad |= curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
  bad |= curl_easy_setopt(easy, CURLOPT_HEADERDATA, x);
  bad |= curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  bad |= curl_easy_setopt(easy, CURLOPT_WRITEDATA, x);
  bad |= curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, on_progress);
  bad |= curl_easy_setopt(easy, CURLOPT_XFERINFODATA, x);
  bad |= curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
  if (bad)
    return req_error(x->r, err, STORE_E_NOMEM, "cannot set up the request");
  return STORE_OK;
}

/* ---- outcome ------------------------------------------------------------ */

/* Our own reasons for stopping, when there is one. */
static int stop_error(const xfer *x, store_error *err)
{
  const sdk_request *r = x->r;

  switch (x->stop) {
  case STOP_NONE:
    return STORE_OK;
  case STOP_CANCEL:
    return req_error(r, err, STORE_E_ABORTED, "cancelled");
  case STOP_HEADERS_FN:
    return req_error(r, err, STORE_E_ABORTED,
                     "stopped by the response headers callback");
  case STOP_SINK:
    return req_error(r, err, STORE_E_ABORTED,
                     "stopped by the response body consumer");
  case STOP_SOURCE:
    return req_error(r, err, STORE_E_ABORTED,
                     "stopped by the request body source");
  case STOP_SOURCE_SIZE:
    return req_error(r, err, STORE_E_INTERNAL, "the request body source "
                     "returned more bytes than asked for");
  case STOP_SHORT_BODY:
    return req_error(r, err, STORE_E_INVALID, "the request body ended after "
                     "%" PRId64 " of %" PRId64 " bytes", x->pos, r->body_len);
  case STOP_TOO_BIG:
    return req_error(r, err, STORE_E_INTERNAL, "response body larger than "
                     "%u MiB and no sink to take it", MAX_BODY_NO_SINK >> 20);
  case STOP_STALL:
    req_error(r, err, STORE_E_TIMEOUT, "timed out (no byte moved for %ld s)",
              x->h->stall_timeout_s);
    if (err)
      err->flags |= STORE_ERR_RETRYABLE;
    return STORE_E_TIMEOUT;
  case STOP_NOMEM:
    break;
  }
  return req_error(r, err, STORE_E_NOMEM, "out of memory");
}

/* STORE_E_* and retryability of a transport failure. What is not listed
 * as retryable does not get better by retrying: certificate and other TLS
 * setup problems, bad URLs, protocol misuse. */
static int32_t classify(CURLcode cc, int *retryable)
{
  *retryable = 0;
  switch (cc) {
  case CURLE_OPERATION_TIMEDOUT:
    *retryable = 1;
    return STORE_E_TIMEOUT;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_CONNECT:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
  case CURLE_SEND_FAIL_REWIND:
  case CURLE_WEIRD_SERVER_REPLY:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_SSL_SHUTDOWN_FAILED:
    *retryable = 1;
    return STORE_E_IO;
  case CURLE_ABORTED_BY_CALLBACK:
  case CURLE_READ_ERROR:
  case CURLE_WRITE_ERROR:
    return STORE_E_ABORTED;
  case CURLE_OUT_OF_MEMORY:
    return STORE_E_NOMEM;
  case CURLE_URL_MALFORMAT:
  case CURLE_UNSUPPORTED_PROTOCOL:
    return STORE_E_INVALID;
  default:
    return STORE_E_IO;
  }
}

/*
** "PUT http://host:9000/bucket/key: connection reset by peer (Recv
** failure: Connection reset by peer)": the request without its query, the
** cause (the OS error when there is one, else curl's), and curl's detail.
** The detail is left out if it could quote the query.
*/
static int transport_error(const xfer *x, CURL *easy, CURLcode cc,
                           store_error *err)
{
  const sdk_request *r = x->r;
  const char *query = strchr(r->url, '?');
  const char *detail = x->errbuf;
  char cause[128], tmp[128];
  long os_errno = 0;
  int32_t code;
  int retryable;

  code = classify(cc, &retryable);
  curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
  if (cc == CURLE_OPERATION_TIMEDOUT)
    snprintf(cause, sizeof(cause), "timed out");
  else if (os_errno)
    snprintf(cause, sizeof(cause), "%s",
             strerror_r((int)os_errno, tmp, sizeof(tmp)));
  else
    snprintf(cause, sizeof(cause), "%s", curl_easy_strerror(cc));
  /* "Connection refused" -> "connection refused", but not "SSL ...". */
  if (cause[0] >= 'A' && cause[0] <= 'Z' &&
      !(cause[1] >= 'A' && cause[1] <= 'Z'))
    cause[0] = (char)(cause[0] - 'A' + 'a');
  if (query && query[1] && strstr(detail, query + 1))
    detail = "";
  req_error(r, err, code, "%s%s%s%s", cause, *detail ? " (" : "", detail,
            *detail ? ")" : "");
  if (err) {
    err->sys_errno = (int32_t)os_errno;
    if (retryable)
      err->flags |= STORE_ERR_RETRYABLE;
  }
  return code;
}

/* The outcome: our own reason to stop, else curl's error, else the
 * headers callback still owed to an empty 2xx body. */
static int finish(xfer *x, CURL *easy, CURLcode cc, store_error *err)
{
  int rc;

  rc = stop_error(x, err);
  if (rc)
    return rc;
  if (cc != CURLE_OK)
    return transport_error(x, easy, cc, err);
  /* An empty 2xx body (HEAD, 204, Content-Length: 0) never reached
   * on_body: the headers callback is still owed its call. */
  if (is_2xx(x->resp->status) && headers_ready(x))
    return stop_error(x, err);
  return STORE_OK;
}

/* *out is the response (free with sdk_response_free), or NULL on error. */
int sdk_http_perform(sdk_http *h, sdk_request *r, sdk_response **out,
                     store_error *err)
{
  struct curl_slist *hdrs = NULL;
  CURL *easy = NULL;
  CURLcode cc;
  xfer x;
  int rc;

  *out = NULL;
  memset(&x, 0, sizeof(x));
  x.h = h;
  x.r = r;
  if (r->nomem) {
    rc = req_error(r, err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
  if (sdk_host_cancelled(h->host)) {
    x.stop = STOP_CANCEL;
    rc = stop_error(&x, err);
    goto out;
  }
  rc = build_headers(&x, &hdrs, err);
  if (rc)
    goto out;
  x.resp = sdk_response_new(0);
  easy = sdk__easy_acquire(h);
  if (!x.resp || !easy) {
    x.stop = STOP_NOMEM;
    rc = stop_error(&x, err);
    goto out;
  }
  rc = set_options(&x, easy, hdrs, err);
  if (rc)
    goto out;
  cc = curl_easy_perform(easy);
  rc = finish(&x, easy, cc, err);
  if (rc)
    goto out;
  *out = x.resp;
  x.resp = NULL;
out:
  sdk__easy_release(h, easy);
  curl_slist_free_all(hdrs);
  sdk_response_free(x.resp);
  return rc;
}
