/*
** http_test.c -- sdk/http: sdk_http_perform against scripted_server.py.
** Bodies both ways (memory, streams of known and unknown length, sdk_body
** bodies), the headers callback, buffering limits, every abort path,
** transport errors (refused, reset, stall), connection reuse across
** requests and threads, and cancellation. Then TLS, against the same
** server over HTTPS with a certificate from a throwaway CA
** (make_test_ca.sh): refused by default, as a clear error that is not
** retried; accepted with the CA as ca_bundle or $CURL_CA_BUNDLE, or with
** verification off; and the host name checked, not only the chain.
*/
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "http_server.h"
#include "sdk_body.h"
#include "sdk_buf.h"
#include "sdk_error.h"
#include "sdk_http.h"
#include "sdk_util.h"
#include "sdk_xml.h"

static test_server server;
static char base[64];     /* http://127.0.0.1:PORT */
static sdk_http *client;  /* defaults */

/* ---- helpers ------------------------------------------------------------ */

static unsigned char pattern_at(uint64_t i)
{
  return (unsigned char)((i * 31 + 7) & 0xff);
}

static void check_pattern(const void *data, size_t len, uint64_t offset)
{
  const unsigned char *p = data;
  size_t i;

  for (i = 0; i < len; i++)
    if (p[i] != pattern_at(offset + i))
      fail_msg("byte %llu is %u, want %u", (unsigned long long)(offset + i),
               p[i], pattern_at(offset + i));
}

static void url(char *out, size_t cap, const char *path)
{
  snprintf(out, cap, "%s%s", base, path);
}

static sdk_request *req(const char *method, const char *path)
{
  char u[512];
  sdk_request *r;

  url(u, sizeof(u), path);
  r = sdk_request_new(method, u);
  assert_non_null(r);
  return r;
}

static int perform(sdk_http *h, sdk_request *r, sdk_response **resp,
                   store_error *e)
{
  memset(e, 0, sizeof(*e));
  e->struct_size = sizeof(*e);
  return sdk_http_perform(h, r, resp, e);
}

static sdk_http *new_client(uint32_t pool, uint32_t stall_s,
                            const store_host_api *host)
{
  sdk_http_config cfg;
  sdk_http *h;
  store_error e;

  memset(&cfg, 0, sizeof(cfg));
  cfg.struct_size = sizeof(cfg);
  cfg.pool_size = pool;
  cfg.stall_timeout_s = stall_s;
  cfg.host = host;
  memset(&e, 0, sizeof(e));
  assert_int_equal(sdk_http_new(&cfg, &h, &e), STORE_OK);
  return h;
}

/* Where 2xx bodies go in these tests: verified against the pattern as
 * they arrive, or kept. */
typedef struct sink {
  sdk_buf kept;
  int keep;
  int verify;
  uint64_t bytes;
  unsigned calls;
  unsigned abort_at_call;     /* 1-based; 0 = never */
  int *cancel_flag;           /* set on the first call when non-NULL */
  unsigned headers_calls;
  uint64_t bytes_at_headers;  /* sink bytes when on_headers ran */
  long status_at_headers;
  char length_at_headers[32];
  int abort_headers;
} sink;

static int32_t sink_write(void *ctx, const void *buf, size_t len)
{
  sink *s = ctx;

  assert_true(len > 0);
  s->calls++;
  if (s->cancel_flag)
    *s->cancel_flag = 1;
  if (s->abort_at_call && s->calls >= s->abort_at_call)
    return 1;
  if (s->verify)
    check_pattern(buf, len, s->bytes);
  if (s->keep)
    assert_int_equal(sdk_buf_append(&s->kept, buf, len), 0);
  s->bytes += len;
  return 0;
}

static int32_t sink_headers(void *ud, const sdk_response *resp)
{
  sink *s = ud;
  const char *cl = sdk_response_header(resp, "content-length");

  s->headers_calls++;
  s->bytes_at_headers = s->bytes;
  s->status_at_headers = sdk_response_status(resp);
  snprintf(s->length_at_headers, sizeof(s->length_at_headers), "%s",
           cl ? cl : "");
  return s->abort_headers;
}

static void attach_sink(sdk_request *r, sink *s)
{
  sdk_request_sink(r, sink_write, s);
  sdk_request_on_headers(r, sink_headers, s);
}

/* A request body source: `total` bytes of the pattern in uneven chunks
 * (or -1 with total bytes then EOF when the length is unknown), hashed
 * on the way out. */
typedef struct source {
  uint64_t total;
  uint64_t pos;
  unsigned calls;
  unsigned abort_at_call;  /* 1-based; 0 = never */
  uint64_t eof_at;         /* claim EOF here (short body); 0 = at total */
  sdk_digest *sha;
} source;

static int32_t source_read(void *ctx, void *buf, size_t cap, size_t *out_n)
{
  source *s = ctx;
  uint64_t end = s->eof_at ? s->eof_at : s->total;
  size_t n = 1000 + (size_t)(s->calls * 7919 % 20000), i;
  unsigned char *p = buf;

  s->calls++;
  if (s->abort_at_call && s->calls >= s->abort_at_call)
    return 1;
  if (n > cap)
    n = cap;
  if (n > end - s->pos)
    n = (size_t)(end - s->pos);
  for (i = 0; i < n; i++)
    p[i] = pattern_at(s->pos + i);
  if (s->sha)
    assert_int_equal(sdk_digest_update(s->sha, p, n), 0);
  s->pos += n;
  *out_n = n;
  return 0;
}

/* The echo route's report must contain this exact line. */
static void expect_line(const sdk_response *resp, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));
static void expect_line(const sdk_response *resp, const char *fmt, ...)
{
  char want[256], line[260];
  const char *body = sdk_response_body(resp, NULL);
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(want, sizeof(want), fmt, ap);
  va_end(ap);
  snprintf(line, sizeof(line), "\n%s\n", want);
  /* The first line has no newline before it. */
  if (strncmp(body, line + 1, strlen(line + 1)) && !strstr(body, line))
    fail_msg("no line '%s' in:\n%s", want, body);
}

static void expect_no_line_prefix(const sdk_response *resp, const char *prefix)
{
  char line[128];

  snprintf(line, sizeof(line), "\n%s", prefix);
  if (strstr(sdk_response_body(resp, NULL), line))
    fail_msg("unexpected '%s' in:\n%s", prefix, sdk_response_body(resp, NULL));
}

/* Accepted TCP connections so far, asked over h. */
static long server_connections(sdk_http *h)
{
  sdk_request *r = req("GET", "/count");
  sdk_response *resp;
  store_error e;
  long n;

  assert_int_equal(perform(h, r, &resp, &e), STORE_OK);
  assert_int_equal(sdk_response_status(resp), 200);
  n = strtol(sdk_response_body(resp, NULL), NULL, 10);
  sdk_response_free(resp);
  sdk_request_free(r);
  return n;
}

static double now_s(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- bodies both ways --------------------------------------------------- */

static void test_get_into_sink(void **state)
{
  sdk_request *r = req("GET", "/big?n=1000003");
  sdk_response *resp = NULL;
  sink s = {.verify = 1};
  store_error e;
  size_t len;

  (void)state;
  attach_sink(r, &s);
  assert_int_equal(perform(client, r, &resp, &e), STORE_OK);
  assert_int_equal(sdk_response_status(resp), 200);
  assert_int_equal(s.bytes, 1000003);
  assert_string_equal(sdk_response_body(resp, &len), "");
  assert_int_equal(len, 0); /* the sink took it all */
  assert_string_equal(sdk_response_header(resp, "Content-Type"),
                      "application/octet-stream");
  sdk_response_free(resp);
  sdk_request_free(r);
}

static void test_on_headers_once_before_data(void **state)
{
  sdk_request *r = req("GET", "/big?n=300000");
  sdk_response *resp;
  sink s = {.verify = 1};
  store_error e;

  (void)state;
  attach_sink(r, &s);
  assert_int_equal(perform(client, r, &resp, &e), STORE_OK);
  assert_int_equal(s.headers_calls, 1);
  assert_int_equal(s.bytes_at_headers, 0);
  assert_int_equal(s.status_at_headers, 200);
  assert_string_equal(s.length_at_headers, "300000");
  assert_int_equal(s.bytes, 300000);
  sdk_response_free(resp);
  sdk_request_free(r);
}

static void test_on_headers_empty_bodies(void **state)
{
  static const char *const cases[][2] = {{"GET", "/big?n=0"},
                                         {"HEAD", "/big?n=12345"}};
  sdk_response *resp;
  store_error e;
  size_t i, len;

  (void)state;
  for (i = 0; i < 2; i++) {
    sdk_request *r = req(cases[i][0], cases[i][1]);
    sink s = {.verify = 1};

    attach_sink(r, &s);
    assert_int_equal(perform(client, r, &resp, &e), STORE_OK);
    assert_int_equal(sdk_response_status(resp), 200);
    assert_int_equal(s.headers_calls, 1);
    assert_int_equal(s.calls, 0);
    sdk_response_body(resp, &len);
    assert_int_equal(len, 0);
    if (i == 1) /* HEAD: the length of what GET would send */
      assert_string_equal(sdk_response_header(resp, "Content-Length"), "12345");
    sdk_response_free(resp);
    sdk_request_free(r);
  }
}

/* PUT a stream to the echo route; the server reports framing, length and
 * sha256, which must match what the source produced. */
static void put_stream(const char *path, uint64_t total, int64_t declared,
                       const char *framing)
{
  sdk_request *r = req("PUT", path);
  sdk_response *resp;
  source src = {.total = total};
  unsigned char digest[32];
  char hex[65];
  store_error e;

  assert_int_equal(sdk_digest_new(SDK_DIGEST_SHA256, &src.sha), 0);
  sdk_request_body_stream(r, source_read, &src, declared);
  assert_int_equal(perform(client, r, &resp, &e), STORE_OK);
  assert_int_equal(sdk_digest_final(src.sha, digest), 0);
  sdk_hex(digest, 32, hex);
  assert_int_equal(sdk_response_status(resp), 200);
  expect_line(resp, "method: PUT");
  expect_line(resp, "framing: %s", framing);
  expect_line(resp, "length: %llu", (unsigned long long)total);
  expect_line(resp, "sha256: %s", hex);
  expect_no_line_prefix(resp, "h-expect:"); /* no 100-continue round trip */
  assert_true(src.calls > 10);
  sdk_response_free(resp);
  sdk_request_free(r);
}

static void test_put_stream_known_length(void **state)
{
  (void)state;
  put_stream("/echo", (3u << 20) + 17, (3 << 20) + 17, "length");
}

static void test_put_stream_chunked(void **state)
{
  (void)state;
  put_stream("/chunked-upload", (2u << 20) + 5, -1, "chunked");
}

static void test_post_from_memory(void **state)
{
  const char body[] = "a=1&b=2";
  sdk_request *r = req("POST", "/echo");
  sdk_response *resp;
  char hex[65];
  store_error e;

  (void)state;
  sdk_request_body_mem(r, body, strlen(body));
  assert_int_equal(sdk_request_set_header(r, "X-Test", "hello"), 0);
  assert_int_equal(sdk_request_set_header(r, "X-Empty", ""), 0);
  assert_int_equal(perform(client, r, &resp, &e), STORE_OK);
  assert_int_equal(sdk_sha256_hex(body, strlen(body), hex), 0);
  expect_line(resp, "method: POST");
  expect_line(resp, "framing: length");
  expect_line(resp, "length: 7");
  expect_line(resp, "sha256: %s", hex);
  expect_line(resp, "h-x-test: hello");
  expect_line(resp, "h-x-empty: ");
  expect_line(resp, "h-user-agent: xtstore/1");
  expect_no_line_prefix(resp, "h-accept:");
  expect_no_line_prefix(resp, "h-expect:");
  expect_no_line_prefix(resp, "h-content-type:"); /* none of curl's own */
  assert_non_null(strstr(sdk_response_body(resp, NULL), "\n\na=1&b=2"));
  sdk_response_free(resp);
  sdk_request_free(r);
}

static void test_other_methods(void **state)
{
  source src = {.total = 70000};
  sdk_response *resp;
  store_error e;
  sdk_request *r;

  (void)state;
  /* PUT without a body still says Content-Length: 0. */
  r = req("PUT", "/echo");
  assert_int_equal(perform(client, r, &resp, &e), STORE_OK);
  expect_line(resp, "method: PUT");
  expect_line(resp, "framing: length");
  expect_line(resp, "length: 0");
  sdk_response_free(resp);
  sdk_request_free(r);

  r = req("DELETE", "/echo");
  assert_int_equal(perform(client, r, &resp, &e), STORE_OK);
  expect_line(resp, "method: DELETE");
  expect_line(resp, "framing: none");
  sdk_response_free(resp);
  sdk_request_free(r);

  /* POST of unknown length: chunked, like PUT. */
  r = req("POST", "/chunked-upload");
  sdk_request_body_stream(r, source_read, &src, -1);
  assert_int_equal(perform(client, r, &resp, &e), STORE_OK);
  expect_line(resp, "method: POST");
  expect_line(resp, "framing: chunked");
  expect_line(resp, "length: 70000");
  sdk_response_free(resp);
  sdk_request_free(r);

  r = req("PATCH", "/echo");
  sdk_request_body_mem(r, "xyz", 3);
  assert_int_equal(perform(client, r, &resp, &e), STORE_OK);
  expect_line(resp, "method: PATCH");
  expect_line(resp, "length: 3");
  sdk_response_free(resp);
  sdk_request_free(r);
}

static void test_path_sent_as_is(void **state)
{
  sdk_request *r = req("GET", "/echo/a/../b/./c%2Fd?q=1");
  sdk_response *resp;
  store_error e;

  (void)state;
  assert_int_equal(perform(client, r, &resp, &e), STORE_OK);
  expect_line(resp, "path: /echo/a/../b/./c%%2Fd?q=1");
  sdk_response_free(resp);
  sdk_request_free(r);
}

/* ---- statuses and buffering --------------------------------------------- */

static void test_non2xx_buffered_and_truncated(void **state)
{
  sdk_request *r = req("GET", "/big?n=200000&status=500");
  sdk_response *resp;
  sink s = {.verify = 1};
  store_error e;
  const char *body;
  size_t len;

  (void)state;
  attach_sink(r, &s);
  assert_int_equal(perform(client, r, &resp, &e), STORE_OK);
  assert_int_equal(sdk_response_status(resp), 500);
  assert_int_equal(s.calls, 0);         /* error bodies never reach the sink */
  assert_int_equal(s.headers_calls, 0); /* nor the headers callback */
  body = sdk_response_body(resp, &len);
  assert_int_equal(len, 64 * 1024);
  check_pattern(body, len, 0);
  assert_int_equal(body[len], '\0');
  sdk_response_free(resp);
  sdk_request_free(r);
  /* The connection survived the dropped tail: the next request works. */
  r = req("GET", "/big?n=10");
  assert_int_equal(perform(client, r, &resp, &e), STORE_OK);
  assert_int_equal(sdk_response_status(resp), 200);
  sdk_response_free(resp);
  sdk_request_free(r);
}

static void test_2xx_without_sink_buffered(void **state)
{
  sdk_request *r = req("GET", "/big?n=100000");
  sdk_response *resp;
  store_error e;
  const char *body;
  size_t len;

  (void)state;
  assert_int_equal(perform(client, r, &resp, &e), STORE_OK);
  body = sdk_response_body(resp, &len);
  assert_int_equal(len, 100000);
  check_pattern(body, len, 0);
  sdk_response_free(resp);
  sdk_request_free(r);
}

static void test_2xx_without_sink_too_big(void **state)
{
  sdk_request *r = req("GET", "/big?n=16777217");
  sdk_response *resp = (sdk_response *)&resp;
  store_error e;

  (void)state;
  assert_int_equal(perform(client, r, &resp, &e), STORE_E_INTERNAL);
  assert_null(resp);
  assert_non_null(strstr(e.message, "16 MiB"));
  sdk_request_free(r);
}

static void test_error_status_with_retry_after(void **state)
{
  sdk_request *r = req("GET", "/status/503?retry-after=2");
  sdk_response *resp;
  sdk_xml_node *root;
  store_error e, perr;
  const char *body;
  size_t len;

  (void)state;
  assert_int_equal(perform(client, r, &resp, &perr), STORE_OK);
  assert_int_equal(sdk_response_status(resp), 503);
  body = sdk_response_body(resp, &len);
  memset(&e, 0, sizeof(e));
  assert_int_equal(sdk_xml_parse(body, len, &root, &e), STORE_OK);
  assert_string_equal(sdk_xml_child_text(root, "Code"), "Status503");
  assert_int_equal(sdk_error_http(&e, resp, 0, sdk_xml_child_text(root, "Code"),
                                  "x-request-id", "object 'b/k': %s",
                                  sdk_xml_child_text(root, "Message")),
                   STORE_E_THROTTLED);
  assert_true(e.flags & STORE_ERR_RETRYABLE);
  assert_int_equal(e.retry_after_ms, 2000);
  assert_string_equal(e.request_id, "req-503");
  assert_string_equal(e.provider_code, "Status503");
  assert_string_equal(e.message, "object 'b/k': scripted 503");
  sdk_xml_free(root);
  sdk_response_free(resp);
  sdk_request_free(r);
}

static void test_interim_response_headers_dropped(void **state)
{
  sdk_request *r = req("GET", "/continue");
  sdk_response *resp;
  store_error e;

  (void)state;
  assert_int_equal(perform(client, r, &resp, &e), STORE_OK);
  assert_int_equal(sdk_response_status(resp), 200);
  assert_string_equal(sdk_response_header(resp, "X-Final"), "yes");
  assert_null(sdk_response_header(resp, "X-Interim"));
  assert_string_equal(sdk_response_body(resp, NULL), "final");
  sdk_response_free(resp);
  sdk_request_free(r);
}

static void test_redirect_not_followed(void **state)
{
  sdk_request *r = req("GET", "/redirect");
  sdk_response *resp;
  store_error e;

  (void)state;
  assert_int_equal(perform(client, r, &resp, &e), STORE_OK);
  assert_int_equal(sdk_response_status(resp), 307);
  assert_string_equal(sdk_response_header(resp, "Location"), "/echo");
  sdk_response_free(resp);
  sdk_request_free(r);
}

/* ---- aborts ------------------------------------------------------------- */

static void test_sink_abort(void **state)
{
  sdk_request *r = req("GET", "/big?n=10000000");
  sdk_response *resp = (sdk_response *)&resp;
  sink s = {.abort_at_call = 1};
  store_error e;

  (void)state;
  attach_sink(r, &s);
  assert_int_equal(perform(client, r, &resp, &e), STORE_E_ABORTED);
  assert_null(resp);
  assert_int_equal(e.code, STORE_E_ABORTED);
  assert_false(e.flags & STORE_ERR_RETRYABLE);
  assert_int_equal(s.calls, 1); /* never called again */
  assert_non_null(strstr(e.message, "response body consumer"));
  sdk_request_free(r);
}

static void test_headers_abort(void **state)
{
  sdk_request *r = req("GET", "/big?n=100000");
  sdk_response *resp;
  sink s = {.abort_headers = 1};
  store_error e;

  (void)state;
  attach_sink(r, &s);
  assert_int_equal(perform(client, r, &resp, &e), STORE_E_ABORTED);
  assert_int_equal(s.headers_calls, 1);
  assert_int_equal(s.calls, 0);
  sdk_request_free(r);
}

static void test_read_abort(void **state)
{
  sdk_request *r = req("PUT", "/echo");
  sdk_response *resp = (sdk_response *)&resp;
  source src = {.total = 1u << 20, .abort_at_call = 3};
  store_error e;

  (void)state;
  sdk_request_body_stream(r, source_read, &src, 1 << 20);
  assert_int_equal(perform(client, r, &resp, &e), STORE_E_ABORTED);
  assert_null(resp);
  assert_false(e.flags & STORE_ERR_RETRYABLE);
  assert_int_equal(src.calls, 3);
  assert_non_null(strstr(e.message, "request body source"));
  sdk_request_free(r);
}

static void test_short_body(void **state)
{
  sdk_request *r = req("PUT", "/echo");
  sdk_response *resp;
  source src = {.total = 100000, .eof_at = 40000};
  store_error e;

  (void)state;
  sdk_request_body_stream(r, source_read, &src, 100000);
  assert_int_equal(perform(client, r, &resp, &e), STORE_E_INVALID);
  assert_non_null(strstr(e.message, "ended after 40000 of 100000 bytes"));
  sdk_request_free(r);
}

/* sdk_body as a request's body: exact bodies go through; a short source
 * and an oversized answer reach the SDK's own checks (state records
 * them); a source longer than declared is stopped by the end probe. */
static int32_t over_read(void *ctx, void *buf, size_t cap, size_t *out_n)
{
  int32_t rc = source_read(ctx, buf, cap, out_n);

  if (!rc && ((source *)ctx)->calls == 2)
    *out_n = cap + 1;
  return rc;
}

static void test_sdk_body(void **state)
{
  sdk_request *r;
  sdk_response *resp;
  source src = {.total = 100000};
  sdk_body b;
  store_error e;

  (void)state;
  r = req("PUT", "/echo");
  sdk_body_init(&b, source_read, &src, 100000, SDK_BODY_PROBE_EOF);
  sdk_body_attach(r, &b);
  assert_int_equal(perform(client, r, &resp, &e), STORE_OK);
  expect_line(resp, "length: 100000");
  assert_int_equal(b.sent, 100000);
  assert_int_equal(b.state, SDK_BODY_OK);
  sdk_response_free(resp);
  sdk_request_free(r);

  r = req("PUT", "/echo");
  src = (source){.total = 100000, .eof_at = 40000};
  sdk_body_init(&b, source_read, &src, 100000, SDK_BODY_PROBE_EOF);
  sdk_body_attach(r, &b);
  assert_int_equal(perform(client, r, &resp, &e), STORE_E_INVALID);
  assert_non_null(strstr(e.message, "ended after 40000 of 100000 bytes"));
  assert_int_equal(b.state, SDK_BODY_SHORT);
  sdk_request_free(r);

  r = req("PUT", "/echo");
  src = (source){.total = 100001};
  sdk_body_init(&b, source_read, &src, 100000, SDK_BODY_PROBE_EOF);
  sdk_body_attach(r, &b);
  assert_int_equal(perform(client, r, &resp, &e), STORE_E_ABORTED);
  assert_non_null(strstr(e.message, "request body source"));
  assert_int_equal(b.state, SDK_BODY_LONG);
  assert_int_equal(src.pos, 100001);
  sdk_request_free(r);

  r = req("PUT", "/echo");
  src = (source){.total = 100000};
  sdk_body_init(&b, over_read, &src, 100000, 0);
  sdk_body_attach(r, &b);
  assert_int_equal(perform(client, r, &resp, &e), STORE_E_INTERNAL);
  assert_non_null(strstr(e.message, "more bytes than asked for"));
  assert_int_equal(b.state, SDK_BODY_BAD);
  sdk_request_free(r);
}

static void test_header_injection_refused(void **state)
{
  sdk_request *r = req("GET", "/echo");
  sdk_response *resp;
  store_error e;

  (void)state;
  assert_int_equal(sdk_request_set_header(r, "X-Meta", "a\r\nX-Evil: 1"), 0);
  assert_int_equal(perform(client, r, &resp, &e), STORE_E_INVALID);
  assert_non_null(strstr(e.message, "X-Meta"));
  assert_null(strstr(e.message, "Evil"));
  assert_int_equal(sdk_request_set_header(r, "X-Meta", NULL), 0);
  assert_int_equal(sdk_request_set_header(r, "Bad Name", "v"), 0);
  assert_int_equal(perform(client, r, &resp, &e), STORE_E_INVALID);
  sdk_request_free(r);
}

/* ---- transport failures ------------------------------------------------- */

/* A port nobody listens on: bind one, note it, close it. */
static int closed_port(void)
{
  struct sockaddr_in a;
  socklen_t len = sizeof(a);
  int fd = socket(AF_INET, SOCK_STREAM, 0), port;

  assert_true(fd >= 0);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  port = ntohs(a.sin_port);
  close(fd);
  return port;
}

static void test_connection_refused(void **state)
{
  char u[256], want[128];
  sdk_request *r;
  sdk_response *resp = (sdk_response *)&resp;
  store_error e;
  int port = closed_port();

  (void)state;
  snprintf(u, sizeof(u),
           "http://127.0.0.1:%d/bucket/key?X-Amz-Signature=SECRETSIG&sv=x",
           port);
  r = sdk_request_new("GET", u);
  assert_int_equal(sdk_request_set_header(r, "Authorization",
                                          "AWS4-HMAC-SHA256 SECRETAUTH"), 0);
  assert_int_equal(perform(client, r, &resp, &e), STORE_E_IO);
  assert_null(resp);
  assert_true(e.flags & STORE_ERR_RETRYABLE);
  assert_int_equal(e.sys_errno, ECONNREFUSED);
  snprintf(want, sizeof(want), "GET http://127.0.0.1:%d/bucket/key: "
           "connection refused", port);
  if (strncmp(e.message, want, strlen(want)))
    fail_msg("message '%s' does not start with '%s'", e.message, want);
  assert_null(strchr(e.message, '?'));
  assert_null(strstr(e.message, "SECRET"));
  sdk_request_free(r);
}

static void test_reset_mid_body(void **state)
{
  sdk_request *r = req("GET", "/reset-after?n=1000");
  sdk_response *resp = (sdk_response *)&resp;
  sink s = {.verify = 1};
  store_error e;

  (void)state;
  attach_sink(r, &s);
  assert_int_equal(perform(client, r, &resp, &e), STORE_E_IO);
  assert_null(resp);
  assert_true(e.flags & STORE_ERR_RETRYABLE);
  assert_int_equal(e.sys_errno, ECONNRESET);
  assert_non_null(strstr(e.message, "GET "));
  assert_non_null(strstr(e.message, "/reset-after: connection reset by peer"));
  assert_int_equal(s.headers_calls, 1);
  sdk_request_free(r);
}

static void test_stall_timeout(void **state)
{
  sdk_http *h = new_client(0, 1, NULL);
  sdk_request *r = req("GET", "/stall?s=15");
  sdk_response *resp = (sdk_response *)&resp;
  store_error e;
  double t0 = now_s(), dt;

  (void)state;
  assert_int_equal(perform(h, r, &resp, &e), STORE_E_TIMEOUT);
  dt = now_s() - t0;
  assert_null(resp);
  assert_true(e.flags & STORE_ERR_RETRYABLE);
  assert_non_null(strstr(e.message, "timed out"));
  if (dt > 8)
    fail_msg("the stall took %.1f s to detect", dt);
  sdk_request_free(r);
  sdk_http_free(h);
}

/* ---- connection reuse and threads -------------------------------------- */

static void test_reuse_sequential(void **state)
{
  sdk_http *h = new_client(0, 0, NULL);
  long before, after;
  int i;

  (void)state;
  before = server_connections(h); /* opens the one connection */
  for (i = 0; i < 10; i++) {
    sdk_request *r = req("GET", "/big?n=1000");
    sdk_response *resp;
    store_error e;

    assert_int_equal(perform(h, r, &resp, &e), STORE_OK);
    assert_int_equal(sdk_response_status(resp), 200);
    sdk_response_free(resp);
    sdk_request_free(r);
  }
  after = server_connections(h);
  assert_int_equal(after, before); /* all 12 requests on one connection */
  sdk_http_free(h);
}

typedef struct worker {
  sdk_http *h;
  int id;
  int failures;
} worker;

/* cmocka's asserts must not run off the main thread: this sink only
 * checks the pattern and counts. */
typedef struct worker_sink {
  uint64_t bytes;
  int bad;
} worker_sink;

static int32_t worker_write(void *ctx, const void *buf, size_t len)
{
  worker_sink *s = ctx;
  const unsigned char *p = buf;
  size_t i;

  for (i = 0; i < len; i++)
    if (p[i] != pattern_at(s->bytes + i))
      s->bad = 1;
  s->bytes += len;
  return 0;
}

static void *worker_main(void *arg)
{
  worker *w = arg;
  char path[160];
  int i;

  for (i = 0; i < 10; i++) {
    uint64_t n = 50000 + (uint64_t)w->id * 1000 + (uint64_t)i;
    sdk_response *resp = NULL;
    sdk_request *r;
    store_error e;
    worker_sink s = {0, 0};

    snprintf(path, sizeof(path), "%s/big?n=%llu", base, (unsigned long long)n);
    r = sdk_request_new("GET", path);
    memset(&e, 0, sizeof(e));
    if (!r)
      w->failures++;
    else {
      sdk_request_sink(r, worker_write, &s);
      if (sdk_http_perform(w->h, r, &resp, &e) ||
          sdk_response_status(resp) != 200 || s.bytes != n || s.bad)
        w->failures++;
    }
    sdk_response_free(resp);
    sdk_request_free(r);
  }
  return NULL;
}

static void test_reuse_threads(void **state)
{
  enum { NTHREADS = 4 };
  sdk_http *h = new_client(NTHREADS, 0, NULL);
  pthread_t t[NTHREADS];
  worker w[NTHREADS];
  long before, after;
  int i;

  (void)state;
  before = server_connections(h);
  for (i = 0; i < NTHREADS; i++) {
    w[i].h = h;
    w[i].id = i;
    w[i].failures = 0;
    assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
  }
  for (i = 0; i < NTHREADS; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(w[i].failures, 0);
  }
  after = server_connections(h);
  /* At most one connection per pooled handle (one was already open). */
  if (after - before > NTHREADS - 1)
    fail_msg("%ld new connections for %d threads", after - before, NTHREADS);
  sdk_http_free(h);
}

/* ---- cancellation ------------------------------------------------------- */

static int32_t is_cancelled(void *ctx)
{
  return *(int *)ctx;
}

static void test_cancel(void **state)
{
  int flag = 1;
  store_host_api host;
  sdk_http *h;
  sdk_request *r;
  sdk_response *resp = (sdk_response *)&resp;
  sink s = {.verify = 1};
  store_error e;

  (void)state;
  memset(&host, 0, sizeof(host));
  host.struct_size = sizeof(host);
  host.host_ctx = &flag;
  host.is_cancelled = is_cancelled;
  h = new_client(0, 0, &host);

  /* Cancelled before it starts: nothing is sent. */
  r = req("GET", "/big?n=1000");
  attach_sink(r, &s);
  assert_int_equal(perform(h, r, &resp, &e), STORE_E_ABORTED);
  assert_null(resp);
  assert_non_null(strstr(e.message, ": cancelled"));
  assert_int_equal(s.headers_calls, 0);
  sdk_request_free(r);

  /* Cancelled mid-body: the transfer stops soon after. */
  flag = 0;
  memset(&s, 0, sizeof(s));
  s.cancel_flag = &flag;
  r = req("GET", "/big?n=200000000");
  attach_sink(r, &s);
  assert_int_equal(perform(h, r, &resp, &e), STORE_E_ABORTED);
  assert_null(resp);
  assert_false(e.flags & STORE_ERR_RETRYABLE);
  assert_non_null(strstr(e.message, ": cancelled"));
  assert_true(s.bytes < 200000000);
  sdk_request_free(r);
  sdk_http_free(h);
}

/* ---- TLS ----------------------------------------------------------------- */

static test_server tls_server;
static char tls_dir[64];           /* the CA and the server's certificate */
static char ca_pem[128];
static int tls_port;

/* A GET of /echo at https://HOST:PORT with client h; the rc, e filled. */
static int tls_get(sdk_http *h, const char *host, store_error *e,
                   long *status)
{
  char u[256];
  sdk_request *r;
  sdk_response *resp = NULL;
  int rc;

  snprintf(u, sizeof(u), "https://%s:%d/echo", host, tls_port);
  r = sdk_request_new("GET", u);
  assert_non_null(r);
  rc = perform(h, r, &resp, e);
  *status = resp ? sdk_response_status(resp) : 0;
  if (rc == STORE_OK)
    expect_line(resp, "method: GET");
  else
    assert_null(resp);
  sdk_response_free(resp);
  sdk_request_free(r);
  return rc;
}

static sdk_http *tls_client(uint32_t verify, const char *ca)
{
  sdk_http_config cfg;
  sdk_http *h;
  store_error e;

  memset(&cfg, 0, sizeof(cfg));
  cfg.struct_size = sizeof(cfg);
  cfg.verify_tls = verify;
  cfg.ca_bundle = ca;
  memset(&e, 0, sizeof(e));
  assert_int_equal(sdk_http_new(&cfg, &h, &e), STORE_OK);
  return h;
}

/* A refusal for the certificate: IO, not retryable (retrying does not
 * make a certificate good), saying so. */
static void expect_cert_refused(int rc, const store_error *e,
                                const char *why)
{
  assert_int_equal(rc, STORE_E_IO);
  if (e->flags & STORE_ERR_RETRYABLE)
    fail_msg("%s: a certificate refusal marked retryable: %s", why,
             e->message);
  if (!strstr(e->message, "certificate") && !strstr(e->message, "SSL"))
    fail_msg("%s: the message does not say it is the certificate: %s", why,
             e->message);
}

static void test_tls_refused_by_default(void **state)
{
  sdk_http *h;
  store_error e;
  long status;

  (void)state;
  /* NULL config and a zeroed one: both verify, against the system CAs. */
  h = NULL;
  memset(&e, 0, sizeof(e));
  assert_int_equal(sdk_http_new(NULL, &h, &e), STORE_OK);
  expect_cert_refused(tls_get(h, "127.0.0.1", &e, &status), &e,
                      "default client");
  if (!strstr(e.message, "https://127.0.0.1:"))
    fail_msg("the message does not name the request: %s", e.message);
  sdk_http_free(h);
  h = tls_client(0, NULL);
  expect_cert_refused(tls_get(h, "127.0.0.1", &e, &status), &e,
                      "zeroed verify_tls");
  sdk_http_free(h);
  h = tls_client(SDK_HTTP_TLS_VERIFY, NULL);
  expect_cert_refused(tls_get(h, "127.0.0.1", &e, &status), &e,
                      "SDK_HTTP_TLS_VERIFY");
  sdk_http_free(h);
}

static void test_tls_ca_bundle_accepts(void **state)
{
  sdk_http *h = tls_client(SDK_HTTP_TLS_VERIFY, ca_pem);
  store_error e;
  long status;

  (void)state;
  assert_int_equal(tls_get(h, "127.0.0.1", &e, &status), STORE_OK);
  assert_int_equal(status, 200);
  sdk_http_free(h);
}

static void test_tls_curl_ca_bundle_env(void **state)
{
  sdk_http *h = NULL;
  store_error e;
  long status;

  (void)state;
  assert_int_equal(setenv("CURL_CA_BUNDLE", ca_pem, 1), 0);
  memset(&e, 0, sizeof(e));
  assert_int_equal(sdk_http_new(NULL, &h, &e), STORE_OK);
  unsetenv("CURL_CA_BUNDLE");
  assert_int_equal(tls_get(h, "127.0.0.1", &e, &status), STORE_OK);
  assert_int_equal(status, 200);
  sdk_http_free(h);
}

static void test_tls_no_verify_accepts(void **state)
{
  sdk_http *h = tls_client(SDK_HTTP_TLS_NO_VERIFY, NULL);
  store_error e;
  long status;

  (void)state;
  assert_int_equal(tls_get(h, "127.0.0.1", &e, &status), STORE_OK);
  assert_int_equal(status, 200);
  sdk_http_free(h);
}

/* The chain is trusted but the name is not the certificate's (it holds
 * IP:127.0.0.1 only): refused, so the host name is checked too. */
static void test_tls_host_name_checked(void **state)
{
  sdk_http *h = tls_client(SDK_HTTP_TLS_VERIFY, ca_pem);
  store_error e;
  long status;

  (void)state;
  expect_cert_refused(tls_get(h, "localhost", &e, &status), &e,
                      "a name the certificate does not hold");
  sdk_http_free(h);
}

static int tls_setup(void **state)
{
  char cmd[512], cert[128], key[128];
  int rc;

  (void)state;
  unsetenv("CURL_CA_BUNDLE");
  unsetenv("SSL_CERT_FILE");
  unsetenv("SSL_CERT_DIR");
  snprintf(tls_dir, sizeof(tls_dir), "/tmp/xtstore-sdk-tls.XXXXXX");
  if (!mkdtemp(tls_dir)) {
    fprintf(stderr, "sdk_https: mkdtemp failed\n");
    return -1;
  }
  snprintf(cmd, sizeof(cmd), "'%s' '%s'", SDK_TEST_MAKE_CA, tls_dir);
  rc = system(cmd);
  if (rc != 0) {
    fprintf(stderr, "sdk_https: %s failed (%d): is the openssl command "
            "installed?\n", cmd, rc);
    return -1;
  }
  snprintf(ca_pem, sizeof(ca_pem), "%s/ca.pem", tls_dir);
  snprintf(cert, sizeof(cert), "%s/server.pem", tls_dir);
  snprintf(key, sizeof(key), "%s/server.key", tls_dir);
  if (test_server_start_tls(&tls_server, cert, key)) {
    fprintf(stderr, "cannot start %s %s --tls\n", SDK_TEST_PYTHON,
            SDK_TEST_SERVER);
    return -1;
  }
  tls_port = tls_server.port;
  return 0;
}

static int tls_teardown(void **state)
{
  static const char *const files[] = {"ca.pem", "ca.key", "ca.srl",
                                      "ca.cnf", "server.pem", "server.key",
                                      "server.csr", "openssl.log"};
  char path[192];

  (void)state;
  test_server_stop(&tls_server);
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
    snprintf(path, sizeof(path), "%s/%s", tls_dir, files[i]);
    unlink(path);
  }
  rmdir(tls_dir);
  return 0;
}

/* ---- main ---------------------------------------------------------------- */

static int setup(void **state)
{
  store_error e;

  (void)state;
  /* Requests go to 127.0.0.1 directly, whatever the environment says. */
  unsetenv("http_proxy");
  unsetenv("HTTP_PROXY");
  unsetenv("https_proxy");
  unsetenv("HTTPS_PROXY");
  unsetenv("all_proxy");
  unsetenv("ALL_PROXY");
  if (test_server_start(&server)) {
    fprintf(stderr, "cannot start %s %s\n", SDK_TEST_PYTHON, SDK_TEST_SERVER);
    return -1;
  }
  snprintf(base, sizeof(base), "http://127.0.0.1:%d", server.port);
  memset(&e, 0, sizeof(e));
  return sdk_http_new(NULL, &client, &e) ? -1 : 0;
}

static int teardown(void **state)
{
  (void)state;
  sdk_http_free(client);
  client = NULL;
  test_server_stop(&server);
  return 0;
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_get_into_sink),
    cmocka_unit_test(test_on_headers_once_before_data),
    cmocka_unit_test(test_on_headers_empty_bodies),
    cmocka_unit_test(test_put_stream_known_length),
    cmocka_unit_test(test_put_stream_chunked),
    cmocka_unit_test(test_post_from_memory),
    cmocka_unit_test(test_other_methods),
    cmocka_unit_test(test_path_sent_as_is),
    cmocka_unit_test(test_non2xx_buffered_and_truncated),
    cmocka_unit_test(test_2xx_without_sink_buffered),
    cmocka_unit_test(test_2xx_without_sink_too_big),
    cmocka_unit_test(test_error_status_with_retry_after),
    cmocka_unit_test(test_interim_response_headers_dropped),
    cmocka_unit_test(test_redirect_not_followed),
    cmocka_unit_test(test_sink_abort),
    cmocka_unit_test(test_headers_abort),
    cmocka_unit_test(test_read_abort),
    cmocka_unit_test(test_short_body),
    cmocka_unit_test(test_sdk_body),
    cmocka_unit_test(test_header_injection_refused),
    cmocka_unit_test(test_connection_refused),
    cmocka_unit_test(test_reset_mid_body),
    cmocka_unit_test(test_stall_timeout),
    cmocka_unit_test(test_reuse_sequential),
    cmocka_unit_test(test_reuse_threads),
    cmocka_unit_test(test_cancel),
  };
  const struct CMUnitTest tls_tests[] = {
    cmocka_unit_test(test_tls_refused_by_default),
    cmocka_unit_test(test_tls_ca_bundle_accepts),
    cmocka_unit_test(test_tls_curl_ca_bundle_env),
    cmocka_unit_test(test_tls_no_verify_accepts),
    cmocka_unit_test(test_tls_host_name_checked),
  };
  int failed = cmocka_run_group_tests_name("sdk_http", tests, setup,
                                           teardown);

  failed += cmocka_run_group_tests_name("sdk_https", tls_tests, tls_setup,
                                        tls_teardown);
  return failed;
}
