/*
** unit_body.c -- sdk_body.h without a network: the exact-length reader
** (asks for no more than is left, counts, passes a short source and an
** oversized answer on, refuses a source that is longer than declared when
** probing), sdk_body_attach's framing, and sdk_fill.
**
** Also sdk_get (entry, then body, and why either stopped) and sdk_range
** (sdk_body.h): the Range header, where a response body starts (200, 206, bad
** or late Content-Range), and the sink cutting a body that is longer than
** the range on either side, stopping once it is complete.
*/
#include <string.h>

#include "unit.h"
#include "sdk_body.h"
#include "sdk_http.h"
#include "sdk_buf.h"
#include "sdk_int.h" /* the callbacks sdk_get_attach set */

/* A source of `total` bytes 'a', 'b', ... handed out at most `step` at a
 * time; it refuses at call `fail_call` (1-based, 0 never) with rc 7, and
 * from call `over_call` on claims one byte more than it was asked for
 * (writing only what was asked). */
typedef struct src {
  size_t total, pos, step;
  unsigned calls, fail_call, over_call;
  size_t max_cap;               /* the largest ask seen */
} src;

static int32_t src_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  src *s = ud;
  unsigned char *p = buf;
  size_t n = s->total - s->pos;

  s->calls++;
  if (cap > s->max_cap)
    s->max_cap = cap;
  if (s->fail_call && s->calls == s->fail_call)
    return 7;
  if (n > cap)
    n = cap;
  if (s->step && n > s->step)
    n = s->step;
  for (size_t i = 0; i < n; i++)
    p[i] = (unsigned char)('a' + (s->pos + i) % 26);
  s->pos += n;
  *out_n = n;
  if (s->over_call && s->calls >= s->over_call)
    *out_n = cap + 1;
  return 0;
}

/* Read b to its end the way the SDK does: asks of `ask` bytes until 0
 * bytes or a non-zero return; returns the last rc, *got the bytes. */
static int32_t drain(sdk_body *b, size_t ask, unsigned char *out, size_t cap,
                     size_t *got)
{
  unsigned char tmp[64];
  int32_t rc;

  *got = 0;
  for (;;) {
    size_t n = 0;
    assert_true(ask <= sizeof(tmp));
    rc = sdk_body_read(b, tmp, ask, &n);
    if (rc || n == 0 || n > ask)
      return rc;
    assert_true(*got + n <= cap);
    memcpy(out + *got, tmp, n);
    *got += n;
  }
}

static void test_body_exact(void **state)
{
  src s = {.total = 100, .step = 7};
  unsigned char out[100];
  sdk_body b;
  size_t got;

  (void)state;
  sdk_body_init(&b, src_read, &s, 100, SDK_BODY_PROBE_EOF);
  assert_int_equal(drain(&b, 64, out, sizeof(out), &got), 0);
  assert_int_equal(got, 100);
  assert_int_equal(b.sent, 100);
  assert_int_equal(b.state, SDK_BODY_OK);
  assert_int_equal(out[0], 'a');
  assert_int_equal(out[99], 'a' + 99 % 26);
  /* 15 reads of data, one probe that found nothing */
  assert_int_equal(s.calls, 16);
  /* a read after the end asks the source nothing */
  {
    size_t n = 5;
    assert_int_equal(sdk_body_read(&b, out, 10, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(s.calls, 16);
  }
}

static void test_body_asks_only_what_is_left(void **state)
{
  src s = {.total = 1000};
  unsigned char out[64];
  sdk_body b;
  size_t got;

  (void)state;
  /* A longer source, no probe: exactly `want` bytes are taken, the rest
   * stays for whoever reads next (the next part of an upload). */
  sdk_body_init(&b, src_read, &s, 50, 0);
  assert_int_equal(drain(&b, 64, out, sizeof(out), &got), 0);
  assert_int_equal(got, 50);
  assert_int_equal(s.pos, 50);
  assert_int_equal(s.max_cap, 50);
  assert_int_equal(b.state, SDK_BODY_OK);
  assert_int_equal(s.calls, 1);
}

static void test_body_short(void **state)
{
  src s = {.total = 30, .step = 10};
  unsigned char out[64];
  sdk_body b;
  size_t got;

  (void)state;
  sdk_body_init(&b, src_read, &s, 50, SDK_BODY_PROBE_EOF);
  /* passed on as the source's end: 0 bytes, rc 0 */
  assert_int_equal(drain(&b, 64, out, sizeof(out), &got), 0);
  assert_int_equal(got, 30);
  assert_int_equal(b.sent, 30);
  assert_int_equal(b.state, SDK_BODY_SHORT);
}

static void test_body_long(void **state)
{
  src s = {.total = 51, .step = 20};
  unsigned char out[64];
  sdk_body b;
  size_t got, n = 99;

  (void)state;
  sdk_body_init(&b, src_read, &s, 50, SDK_BODY_PROBE_EOF);
  assert_int_equal(drain(&b, 64, out, sizeof(out), &got), 1);
  /* the read that brought the last bytes is the one refused */
  assert_int_equal(got, 40);
  assert_int_equal(b.sent, 50);
  assert_int_equal(b.state, SDK_BODY_LONG);

  /* a refused probe is the source's refusal */
  s = (src){.total = 50, .fail_call = 2};
  sdk_body_init(&b, src_read, &s, 50, SDK_BODY_PROBE_EOF);
  assert_int_equal(sdk_body_read(&b, out, 64, &n), 1);
  assert_int_equal(n, 0);
  assert_int_equal(b.state, SDK_BODY_ABORTED);
}

static void test_body_abort_and_bad(void **state)
{
  src s = {.total = 50, .step = 10, .fail_call = 3};
  unsigned char out[64];
  sdk_body b;
  size_t got, n = 0;

  (void)state;
  /* the source's own return value goes on */
  sdk_body_init(&b, src_read, &s, 50, 0);
  assert_int_equal(drain(&b, 64, out, sizeof(out), &got), 7);
  assert_int_equal(got, 20);
  assert_int_equal(b.sent, 20);
  assert_int_equal(b.state, SDK_BODY_ABORTED);

  /* more than asked: the count goes on, uncounted, for the caller to
   * refuse */
  s = (src){.total = 50, .over_call = 1};
  sdk_body_init(&b, src_read, &s, 50, 0);
  assert_int_equal(sdk_body_read(&b, out, 64, &n), 0);
  assert_int_equal(n, 51);
  assert_int_equal(b.sent, 0);
  assert_int_equal(b.state, SDK_BODY_BAD);
}

static void test_body_attach(void **state)
{
  sdk_request *r = sdk_request_new("PUT", "http://h/c/k");
  src s = {.total = 12345};
  sdk_body b;

  (void)state;
  assert_non_null(r);
  sdk_body_init(&b, src_read, &s, 12345, SDK_BODY_PROBE_EOF);
  sdk_body_attach(r, &b);
  assert_string_equal(sdk_request_header(r, "Content-Length"), "12345");
  assert_null(sdk_request_header(r, "Transfer-Encoding"));
  sdk_request_free(r);
}

static void test_fill(void **state)
{
  src s = {.total = 100, .step = 9};
  unsigned char buf[64];
  size_t n = 0;
  int eof = 5;

  (void)state;
  /* full: no probe for the end */
  assert_int_equal(sdk_fill(src_read, &s, buf, 40, &n, &eof), SDK_BODY_OK);
  assert_int_equal(n, 40);
  assert_int_equal(eof, 0);
  assert_int_equal(buf[39], 'a' + 39 % 26);
  assert_int_equal(s.calls, 5);
  /* the rest, then the end */
  assert_int_equal(sdk_fill(src_read, &s, buf, 64, &n, &eof), SDK_BODY_OK);
  assert_int_equal(n, 60);
  assert_int_equal(eof, 1);
  assert_int_equal(buf[0], 'a' + 40 % 26);
  /* eof may be NULL */
  assert_int_equal(sdk_fill(src_read, &s, buf, 64, &n, NULL), SDK_BODY_OK);
  assert_int_equal(n, 0);

  /* a refusal, with what came before it counted */
  s = (src){.total = 100, .step = 10, .fail_call = 3};
  assert_int_equal(sdk_fill(src_read, &s, buf, 64, &n, &eof),
                   SDK_BODY_ABORTED);
  assert_int_equal(n, 20);
  assert_int_equal(eof, 0);

  /* more than asked */
  s = (src){.total = 100, .step = 10, .over_call = 2};
  assert_int_equal(sdk_fill(src_read, &s, buf, 64, &n, &eof), SDK_BODY_BAD);
  assert_int_equal(n, 10);
}

/* The Range header asked with: a closed range, to the end, the largest. */
static void test_range_header(void **state)
{
  char out[SDK_RANGE_HEADER_SIZE];

  (void)state;
  sdk_range_header(0, 1, out, sizeof(out));
  assert_string_equal(out, "bytes=0-0");
  sdk_range_header(100, 50, out, sizeof(out));
  assert_string_equal(out, "bytes=100-149");
  sdk_range_header(7, 0, out, sizeof(out));
  assert_string_equal(out, "bytes=7-");
  sdk_range_header(UINT64_MAX - 1, 1, out, sizeof(out));
  assert_string_equal(out, "bytes=18446744073709551614-18446744073709551614");
}

/* sdk_get: the provider's entry to on_entry before the body, the body to
 * the sink (never 0 bytes), and why each stop happened. */
static int g_entry_answer;
static int g_entry_calls, g_cb_calls;
static size_t g_sunk;
static int32_t g_sink_answer;

static int32_t on_entry(void *ctx, const store_entry *e)
{
  (void)ctx;
  (void)e;
  g_cb_calls++;
  return 0;
}

static int get_entry(void *ud, const sdk_response *resp, store_entry_fn cb,
                     void *cb_ctx)
{
  store_entry e;

  assert_ptr_equal(ud, &g_entry_calls);
  (void)resp;
  g_entry_calls++;
  if (g_entry_answer)
    return g_entry_answer;
  memset(&e, 0, sizeof(e));
  return cb(cb_ctx, &e) ? SDK_GET_ENTRY : 0;
}

static int32_t get_sink(void *ctx, const void *buf, size_t n)
{
  (void)ctx;
  (void)buf;
  assert_true(n > 0);
  g_sunk += n;
  return g_sink_answer;
}

static void test_get(void **state)
{
  sdk_request *r = sdk_request_new("GET", "http://h/k");
  const char *why = "x";
  sdk_get g;

  (void)state;
  assert_non_null(r);
  /* no on_entry: the entry is not made; bytes go through */
  sdk_get_init(&g, NULL, NULL, get_sink, NULL, get_entry, &g_entry_calls);
  sdk_get_attach(r, &g);
  assert_int_equal(r->on_headers(r->on_headers_ud, NULL), 0);
  assert_int_equal(g_entry_calls, 0);
  assert_int_equal(r->sink(r->sink_ud, "abc", 0), 0);
  assert_int_equal(r->sink(r->sink_ud, "abc", 3), 0);
  assert_int_equal(g_sunk, 3);
  assert_int_equal(sdk_get_stopped(&g, &why), 0);
  assert_null(why);
  /* the sink refuses */
  g_sink_answer = 1;
  assert_int_equal(r->sink(r->sink_ud, "abc", 3), 1);
  assert_int_equal(sdk_get_stopped(&g, &why), STORE_E_ABORTED);
  assert_string_equal(why, "the write callback stopped the download");

  /* the entry to on_entry; then the provider says stop, or no memory */
  sdk_get_init(&g, on_entry, NULL, get_sink, NULL, get_entry,
               &g_entry_calls);
  sdk_get_attach(r, &g);
  assert_int_equal(r->on_headers(r->on_headers_ud, NULL), 0);
  assert_int_equal(g_entry_calls, 1);
  assert_int_equal(g_cb_calls, 1);
  g_entry_answer = SDK_GET_ENTRY;
  assert_int_equal(r->on_headers(r->on_headers_ud, NULL), 1);
  assert_int_equal(sdk_get_stopped(&g, &why), STORE_E_ABORTED);
  assert_string_equal(why, "the entry callback stopped the download");
  g_entry_answer = SDK_GET_NOMEM;
  assert_int_equal(r->on_headers(r->on_headers_ud, NULL), 1);
  assert_int_equal(sdk_get_stopped(&g, &why), STORE_E_NOMEM);
  assert_string_equal(why, "out of memory");
  sdk_request_free(r);
}

/* Each source failure: its code and its words; OK is none. */
static void test_body_failure(void **state)
{
  char why[128] = "untouched";

  (void)state;
  assert_int_equal(sdk_body_failure(SDK_BODY_OK, 0, why, sizeof(why)), 0);
  assert_string_equal(why, "untouched");
  assert_int_equal(sdk_body_failure(SDK_BODY_ABORTED, 0, why, sizeof(why)),
                   STORE_E_ABORTED);
  assert_string_equal(why, "the read callback stopped the upload");
  assert_int_equal(sdk_body_failure(SDK_BODY_SHORT, 12, why, sizeof(why)),
                   STORE_E_INVALID);
  assert_string_equal(why, "short body: the source ended 12 bytes before "
                           "the declared length");
  assert_int_equal(sdk_body_failure(SDK_BODY_LONG, 0, why, sizeof(why)),
                   STORE_E_INVALID);
  assert_string_equal(why, "body longer than the declared length");
  assert_int_equal(sdk_body_failure(SDK_BODY_BAD, 0, why, sizeof(why)),
                   STORE_E_INTERNAL);
  assert_string_equal(why, "the read callback returned more bytes than "
                           "asked for");
}

/* sdk_mem_read hands out its bytes in reads of at most cap, then ends. */
static void test_mem_read(void **state)
{
  sdk_mem_src m = {"hello world", 11};
  char buf[4];
  size_t n, total = 0;

  (void)state;
  for (;;) {
    assert_int_equal(sdk_mem_read(&m, buf, sizeof buf, &n), 0);
    if (n == 0)
      break;
    assert_true(n <= sizeof buf);
    assert_memory_equal(buf, "hello world" + total, n);
    total += n;
  }
  assert_int_equal(total, 11);
  assert_int_equal(m.left, 0);
}

int unit_body(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_body_exact),
    cmocka_unit_test(test_body_asks_only_what_is_left),
    cmocka_unit_test(test_body_short),
    cmocka_unit_test(test_body_long),
    cmocka_unit_test(test_body_abort_and_bad),
    cmocka_unit_test(test_body_attach),
    cmocka_unit_test(test_fill),
  };
  return cmocka_run_group_tests_name("sdk/body", tests, NULL, NULL);
}

/* ------------------------------------------------------------------------ */
/* sdk_range                                                                */
/* ------------------------------------------------------------------------ */

typedef struct kept {
  sdk_buf b;
  unsigned calls;
  unsigned refuse_at;           /* 1-based call that refuses; 0 never */
} kept;

static int32_t keep(void *ud, const void *buf, size_t n)
{
  kept *k = ud;

  assert_true(n > 0);
  k->calls++;
  if (k->refuse_at && k->calls == k->refuse_at)
    return 1;
  assert_int_equal(sdk_buf_append(&k->b, buf, n), 0);
  return 0;
}

static sdk_response *resp_with(long status, const char *content_range)
{
  sdk_response *r = sdk_response_new(status);

  assert_non_null(r);
  if (content_range)
    assert_int_equal(sdk_response_add_header(r, "Content-Range",
                                             content_range), 0);
  return r;
}

static void test_range_start(void **state)
{
  static const struct {
    long status;
    const char *cr;
    uint64_t off;
    int rc;
    uint64_t pos;
  } t[] = {
    {200, NULL, 0, 0, 0},
    {200, NULL, 10, 0, 0},                 /* whole object: cut here      */
    {200, "bytes 5-9/100", 10, 0, 0},      /* only a 206's range counts   */
    {206, "bytes 10-19/100", 10, 0, 10},
    {206, "bytes 0-99/100", 10, 0, 0},     /* widened: cut here           */
    {206, "bytes 11-19/100", 10, -1, 11},  /* starts after what is wanted */
    {206, NULL, 0, -1, 0},
    {206, "bytes */100", 0, -1, 0},
    {206, "items 0-1/2", 0, -1, 0},
    {206, "bytes -1", 0, -1, 0},
  };

  (void)state;
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    sdk_response *r = resp_with(t[i].status, t[i].cr);
    sdk_range g;
    sdk_range_init(&g, t[i].off, 0, keep, NULL);
    g.pos = 12345;
    if (sdk_range_start(&g, r) != t[i].rc || g.pos != t[i].pos)
      fail_msg("case %zu: %ld '%s' from %llu: rc %d pos %llu", i,
               t[i].status, t[i].cr ? t[i].cr : "(none)",
               (unsigned long long)t[i].off, sdk_range_start(&g, r),
               (unsigned long long)g.pos);
    sdk_response_free(r);
  }
}

/* Feed body to g in pieces of `step` until it stops; returns its last
 * answer, *pieces how many went in. */
static int32_t feed(sdk_range *g, const char *body, size_t step,
                    unsigned *pieces)
{
  size_t len = strlen(body), at = 0;
  int32_t rc = 0;

  *pieces = 0;
  while (at < len && !rc) {
    size_t n = len - at < step ? len - at : step;
    rc = sdk_range_write(g, body + at, n);
    at += n;
    (*pieces)++;
  }
  return rc;
}

static void test_range_cut(void **state)
{
  const char *obj = "0123456789abcdefghijklmnopqrstuvwxyz";
  sdk_response *whole = resp_with(200, NULL);
  sdk_response *late = resp_with(206, "bytes 8-35/36");
  kept k = {SDK_BUF_INIT, 0, 0};
  unsigned pieces;
  sdk_range g;

  (void)state;
  /* a 200 with the whole object for bytes 10..19: both ends cut, and the
   * transfer stopped after the last wanted byte */
  sdk_range_init(&g, 10, 10, keep, &k);
  assert_int_equal(sdk_range_start(&g, whole), 0);
  assert_int_equal(feed(&g, obj, 7, &pieces), 1);
  assert_string_equal(sdk_buf_str(&k.b), "abcdefghij");
  assert_int_equal(g.delivered, 10);
  assert_true(g.done);
  assert_int_equal(pieces, 3);        /* 0-6, 7-13, 14-20: then stopped */

  /* a widened 206 from 8, to the end (len 0): only the start cut */
  sdk_buf_reset(&k.b);
  sdk_range_init(&g, 10, 0, keep, &k);
  assert_int_equal(sdk_range_start(&g, late), 0);
  assert_int_equal(feed(&g, obj + 8, 5, &pieces), 0);
  assert_string_equal(sdk_buf_str(&k.b), "abcdefghijklmnopqrstuvwxyz");
  assert_false(g.done);

  /* pieces wholly before the range reach no sink; no call has 0 bytes */
  sdk_buf_reset(&k.b);
  k.calls = 0;
  sdk_range_init(&g, 20, 3, keep, &k);
  assert_int_equal(sdk_range_start(&g, whole), 0);
  assert_int_equal(feed(&g, obj, 4, &pieces), 1);
  assert_string_equal(sdk_buf_str(&k.b), "klm");
  assert_int_equal(k.calls, 1);
  assert_true(g.done);

  /* the sink's refusal stops it, and is not "done" */
  sdk_buf_reset(&k.b);
  k.calls = 0;
  k.refuse_at = 2;
  sdk_range_init(&g, 0, 0, keep, &k);
  assert_int_equal(sdk_range_start(&g, whole), 0);
  assert_int_equal(feed(&g, obj, 10, &pieces), 1);
  assert_int_equal(pieces, 2);
  assert_int_equal(g.delivered, 10);
  assert_false(g.done);

  sdk_buf_free(&k.b);
  sdk_response_free(whole);
  sdk_response_free(late);
}

int unit_range(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_range_start),
    cmocka_unit_test(test_range_cut),
    cmocka_unit_test(test_range_header),
    cmocka_unit_test(test_get),
    cmocka_unit_test(test_body_failure),
    cmocka_unit_test(test_mem_read),
  };
  return cmocka_run_group_tests_name("sdk/range", tests, NULL, NULL);
}
