/*
** Host behaviour through the fault-injecting "flaky" provider: retries of
** retryable errors only while the body can be replayed, get resumption with
** ranges, the retry policy from config, key checks against the plugin's
** table, secret redaction, and serialisation of non-thread-safe plugins;
** the CRC-32C of puts (passed down, compared with the store's report) and
** of whole gets (against the blob's).
*/
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "xtstore.h"

static char dir[] = "/tmp/xtstore-svc-XXXXXX";
static char logbuf[4096];

static void capture_log(void *ud, int32_t level, const char *msg)
{
  size_t used = strlen(logbuf);
  (void)ud;
  (void)level;
  snprintf(logbuf + used, sizeof(logbuf) - used, "%s\n", msg);
}

/* Write a config whose service `f` uses the flaky plugin with `extra` keys,
 * and open a context on it. */
static xtstore_ctx *open_ctx(const char *extra, store_error *err)
{
  char path[256];
  FILE *f;
  xtstore_ctx_opts o;
  xtstore_ctx *ctx = NULL;

  snprintf(path, sizeof(path), "%s/xt.yaml", dir);
  f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f,
          "providers:\n  storage: {flaky: \"%s\", flakymp: \"%s\"}\n"
          "external-services:\n"
          "  f: {type: \"storage\", provider: \"flaky\", %s}\n"
          "  fmp: {type: \"storage\", provider: \"flakymp\", %s}\n"
          "xt-services: {storage: \"f\"}\n",
          FLAKY_PLUGIN, FLAKY_MP_PLUGIN, extra, extra);
  fclose(f);
  memset(&o, 0, sizeof(o));
  o.struct_size = sizeof(o);
  o.flags = XTSTORE_CTX_NO_SYSTEM_CONFIG | XTSTORE_CTX_NO_USER_CONFIG |
            XTSTORE_CTX_NO_CWD_CONFIG;
  o.config_path = path;
  o.log = capture_log;
  o.log_level = STORE_LOG_DEBUG;
  logbuf[0] = '\0';
  assert_int_equal(xtstore_ctx_open(&o, &ctx, err), STORE_OK);
  return ctx;
}

struct stats {
  char puts[32], gets[32], offset[32], stored[256], deletes[32];
};

static int32_t stats_entry(void *ud, const store_entry *e)
{
  struct stats *s = ud;
  size_t i;
  for (i = 0; i < e->nmetadata; i++) {
    const char *k = e->metadata[i].key, *v = e->metadata[i].value;
    if (!strcmp(k, "puts"))
      snprintf(s->puts, sizeof(s->puts), "%s", v);
    else if (!strcmp(k, "gets"))
      snprintf(s->gets, sizeof(s->gets), "%s", v);
    else if (!strcmp(k, "offset"))
      snprintf(s->offset, sizeof(s->offset), "%s", v);
    else if (!strcmp(k, "stored"))
      snprintf(s->stored, sizeof(s->stored), "%s", v);
    else if (!strcmp(k, "deletes"))
      snprintf(s->deletes, sizeof(s->deletes), "%s", v);
  }
  return 0;
}

static void get_stats(xtstore_svc *svc, struct stats *s)
{
  store_error err;
  memset(s, 0, sizeof(*s));
  assert_int_equal(xtstore_blob_head(svc, "c", "stats", NULL, stats_entry, s,
                                     &err), STORE_OK);
}

static void test_put_fd_retried_after_rewind(void **state)
{
  store_error err;
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  struct stats s;
  char path[256];
  FILE *f;
  (void)state;
  ctx = open_ctx("needed: \"x\", fail-times: \"2\", retry: {attempts: 5, base-ms: 1, max-ms: 2}", &err);
  assert_int_equal(xtstore_service_open(ctx, NULL, &svc, &err), STORE_OK);
  snprintf(path, sizeof(path), "%s/body.txt", dir);
  f = fopen(path, "w");
  fputs("replayable body", f);
  fclose(f);
  assert_int_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, NULL, &err),
                   STORE_OK);
  get_stats(svc, &s);
  assert_string_equal(s.puts, "3");
  /* the third attempt saw the whole body again from the start */
  assert_string_equal(s.stored, "replayable body");
  assert_non_null(strstr(logbuf, "retrying in"));
  xtstore_ctx_close(ctx);
}

struct once {
  const char *text;
  int done;
};

static int32_t once_read(void *ud, void *buf, size_t cap, size_t *n)
{
  struct once *o = ud;
  size_t len = strlen(o->text);
  *n = 0;
  if (o->done || cap < len)
    return 0;
  memcpy(buf, o->text, len);
  *n = len;
  o->done = 1;
  return 0;
}

static void test_put_not_replayable_is_tried_once(void **state)
{
  store_error err;
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  struct stats s;
  struct once body = {"stream", 0};
  (void)state;
  ctx = open_ctx("needed: \"x\", fail-times: \"2\", retry: {attempts: 5, base-ms: 1, max-ms: 2}", &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  assert_int_equal(xtstore_blob_put(svc, "c", "k", NULL, once_read, &body,
                                    NULL, NULL, &err), STORE_E_THROTTLED);
  assert_string_equal(err.message, "service 'f': flaky: put: injected failure");
  assert_true(err.flags & STORE_ERR_RETRYABLE);
  assert_string_equal(err.provider_code, "SlowDown");
  get_stats(svc, &s);
  assert_string_equal(s.puts, "1");
  xtstore_ctx_close(ctx);
}

static void test_not_retryable_and_attempts_from_config(void **state)
{
  store_error err;
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  struct stats s;
  char path[256];
  (void)state;
  snprintf(path, sizeof(path), "%s/body.txt", dir);
  /* not retryable: one attempt */
  ctx = open_ctx("needed: \"x\", fail-times: \"3\", retryable: \"0\", fail-code: \"13\"", &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  assert_int_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, NULL, &err),
                   STORE_E_AUTH);
  get_stats(svc, &s);
  assert_string_equal(s.puts, "1");
  xtstore_ctx_close(ctx);
  /* retryable, but the service allows 2 attempts in all */
  ctx = open_ctx("needed: \"x\", fail-times: \"3\", fail-code: \"16\", retry: \"2\"", &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  assert_int_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, NULL, &err),
                   STORE_E_SERVER);
  get_stats(svc, &s);
  assert_string_equal(s.puts, "2");
  xtstore_ctx_close(ctx);
}

/* Throttling does not use up attempts: it is waited out until the
 * service's throttle-s has passed (then it fails like anything else), and
 * not at all when retries are off. */
static void test_throttling_waited_out(void **state)
{
  store_error err;
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  struct stats s;
  char path[256];
  (void)state;
  snprintf(path, sizeof(path), "%s/body.txt", dir);
  ctx = open_ctx("needed: \"x\", fail-times: \"6\", retry: {attempts: 2, base-ms: 1, max-ms: 2}", &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  assert_int_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, NULL, &err),
                   STORE_OK);
  get_stats(svc, &s);
  assert_string_equal(s.puts, "7");
  xtstore_ctx_close(ctx);
  /* throttle-s 0: attempts alone */
  ctx = open_ctx("needed: \"x\", fail-times: \"6\", retry: {attempts: 2, base-ms: 1, max-ms: 2, throttle-s: 0}", &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  assert_int_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, NULL, &err),
                   STORE_E_THROTTLED);
  get_stats(svc, &s);
  assert_string_equal(s.puts, "2");
  xtstore_ctx_close(ctx);
  /* retries off */
  ctx = open_ctx("needed: \"x\", fail-times: \"6\", retry: 1", &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  assert_int_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, NULL, &err),
                   STORE_E_THROTTLED);
  get_stats(svc, &s);
  assert_string_equal(s.puts, "1");
  xtstore_ctx_close(ctx);
}

struct sink {
  char buf[256];
  size_t len;
};

static int32_t sink_write(void *ud, const void *p, size_t n)
{
  struct sink *s = ud;
  assert_true(s->len + n < sizeof(s->buf));
  memcpy(s->buf + s->len, p, n);
  s->len += n;
  return 0;
}

static void test_get_resumes_with_range(void **state)
{
  store_error err;
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  struct stats s;
  struct sink out = {{0}, 0};
  (void)state;
  ctx = open_ctx("needed: \"x\", fail-times: \"1\", body: \"abcdefghij\", retry: {attempts: 3, base-ms: 1}", &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  assert_int_equal(xtstore_blob_get(svc, "c", "k", NULL, sink_write, &out, &err),
                   STORE_OK);
  out.buf[out.len] = '\0';
  /* first attempt delivered "abcde" then failed; the host asked for 5- */
  assert_string_equal(out.buf, "abcdefghij");
  get_stats(svc, &s);
  assert_string_equal(s.gets, "2");
  assert_string_equal(s.offset, "5");
  xtstore_ctx_close(ctx);
}

/* A resumed get is pinned to the etag first seen; when the object was
 * replaced meanwhile, the error says so (not a bare 412), and nothing of
 * the new version is delivered. "fmp" is flaky-mp: conditional, so the
 * host pins. */
static void test_get_replaced_while_read(void **state)
{
  store_error err;
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  struct sink out = {{0}, 0};
  (void)state;
  ctx = open_ctx("needed: \"x\", fail-times: \"1\", body: \"abcdefghij\", "
                 "get-etag: \"e1\", get-replaced: \"1\", "
                 "retry: {attempts: 3, base-ms: 1}", &err);
  assert_int_equal(xtstore_service_open(ctx, "fmp", &svc, &err), STORE_OK);
  assert_int_equal(xtstore_blob_get(svc, "c", "k", NULL, sink_write, &out,
                                    &err), STORE_E_PRECONDITION);
  assert_int_equal(out.len, 5);
  assert_non_null(strstr(err.message, "blob 'c/k': replaced while it was "
                                      "read (it no longer has ETag e1)"));
  xtstore_ctx_close(ctx);
}

/* A get cut after delivering bytes resumes without using up attempts: six
 * cuts, each after half of what was asked, with only two attempts allowed
 * (a server error, not throttling, so only progress can explain it). */
static void test_get_progress_does_not_use_attempts(void **state)
{
  store_error err;
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  struct stats s;
  struct sink out = {{0}, 0};
  const char *body = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!?";
  char cfg[256];
  (void)state;
  snprintf(cfg, sizeof(cfg), "needed: \"x\", fail-times: \"6\", fail-code: \"16\", body: \"%s\", retry: {attempts: 2, base-ms: 1, max-ms: 2}", body);
  ctx = open_ctx(cfg, &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  assert_int_equal(xtstore_blob_get(svc, "c", "k", NULL, sink_write, &out, &err),
                   STORE_OK);
  out.buf[out.len] = '\0';
  assert_string_equal(out.buf, body);
  get_stats(svc, &s);
  assert_string_equal(s.gets, "7");
  xtstore_ctx_close(ctx);

  /* retry: 1 is no retry, progress or not */
  out.len = 0;
  snprintf(cfg, sizeof(cfg), "needed: \"x\", fail-times: \"6\", fail-code: \"16\", body: \"%s\", retry: 1", body);
  ctx = open_ctx(cfg, &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  assert_int_equal(xtstore_blob_get(svc, "c", "k", NULL, sink_write, &out, &err),
                   STORE_E_SERVER);
  get_stats(svc, &s);
  assert_string_equal(s.gets, "1");
  xtstore_ctx_close(ctx);
}

/* A body read in whatever pieces the reader asks for. */
struct text_src {
  const char *p;
  size_t left;
};

static int32_t text_read(void *ud, void *buf, size_t cap, size_t *n)
{
  struct text_src *t = ud;
  *n = cap < t->left ? cap : t->left;
  memcpy(buf, t->p, *n);
  t->p += *n;
  t->left -= *n;
  return 0;
}

/* A provider that reports success for other bytes than it was sent is
 * caught: one that stops reading early (a short object), one that reports
 * another size; the object is removed, the error names both numbers. */
static void test_put_size_verified(void **state)
{
  store_error err;
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  struct stats s;
  store_put_opts po;
  struct text_src body = {"0123456789", 10};
  (void)state;
  memset(&po, 0, sizeof(po));
  po.struct_size = sizeof(po);
  po.content_length = 10;
  ctx = open_ctx("needed: \"x\", put-takes: \"4\"", &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  assert_int_equal(xtstore_blob_put(svc, "c", "k", &po, text_read, &body,
                                    NULL, NULL, &err), STORE_E_INTERNAL);
  assert_string_equal(err.message, "service 'f': blob 'c/k': the provider "
                      "took 4 bytes of the 10-byte body and reported the "
                      "object written; the object was removed (and any "
                      "unversioned object it replaced is gone too)");
  get_stats(svc, &s);
  assert_string_equal(s.deletes, "1");
  xtstore_ctx_close(ctx);

  body = (struct text_src){"0123456789", 10};
  ctx = open_ctx("needed: \"x\", put-reports: \"12\"", &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  assert_int_equal(xtstore_blob_put(svc, "c", "k", &po, text_read, &body,
                                    NULL, NULL, &err), STORE_E_INTERNAL);
  assert_string_equal(err.message, "service 'f': blob 'c/k': the provider "
                      "reports 12 bytes stored for the 10 bytes sent; the "
                      "object was removed (and any unversioned object it replaced is "
                      "gone too)");
  xtstore_ctx_close(ctx);

  /* a truthful report passes, and the result carries the size */
  body = (struct text_src){"0123456789", 10};
  ctx = open_ctx("needed: \"x\", put-reports: \"10\"", &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  {
    store_put_result res;
    memset(&res, 0, sizeof(res));
    res.struct_size = sizeof(res);
    assert_int_equal(xtstore_blob_put(svc, "c", "k", &po, text_read, &body,
                                      NULL, &res, &err), STORE_OK);
    assert_int_equal(res.size, 10);
  }
  get_stats(svc, &s);
  assert_string_equal(s.deletes, "0");
  xtstore_ctx_close(ctx);
}

/* A whole-blob get is checked against the blob's size and, where the
 * store reports one, its MD5: bytes that differ are an error, never a
 * success; the right ones pass, also when the get was cut and resumed. */
static void test_get_verified(void **state)
{
  store_error err;
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  struct sink out = {{0}, 0};
  (void)state;
  /* md5("0123456789abcdefghijklmnopqrstuvwxyz") */
  ctx = open_ctx("needed: \"x\", fail-times: \"1\", get-md5: \"e9b1713db620f1e3a14b6812de523f4b\", retry: {attempts: 2, base-ms: 1}", &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  assert_int_equal(xtstore_blob_get(svc, "c", "k", NULL, sink_write, &out, &err),
                   STORE_OK);
  xtstore_ctx_close(ctx);

  out.len = 0;
  ctx = open_ctx("needed: \"x\", get-md5: \"00112233445566778899aabbccddeeff\"", &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  assert_int_equal(xtstore_blob_get(svc, "c", "k", NULL, sink_write, &out, &err),
                   STORE_E_IO);
  assert_string_equal(err.message, "service 'f': blob 'c/k': the bytes "
                      "received differ from the blob (MD5 "
                      "e9b1713db620f1e3a14b6812de523f4b, the blob's "
                      "00112233445566778899aabbccddeeff): changed on the "
                      "way, or the MD5 stored with the blob is wrong");
  xtstore_ctx_close(ctx);

  out.len = 0;
  ctx = open_ctx("needed: \"x\", get-size: \"40\"", &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  assert_int_equal(xtstore_blob_get(svc, "c", "k", NULL, sink_write, &out, &err),
                   STORE_E_IO);
  assert_string_equal(err.message, "service 'f': blob 'c/k': received 36 of "
                      "its 40 bytes");
  xtstore_ctx_close(ctx);
}

/* What the fixture's events file says: put-ck lines. */
static const char *events_text(const char *path)
{
  static char text[4096];
  FILE *f = fopen(path, "r");
  size_t n = 0;
  if (f) {
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
  }
  text[n] = '\0';
  return text;
}

/* A put's CRC-32C goes down (read ahead for a file, as a trailer for a
 * stream) and the store's report is compared with the bytes sent: a wrong
 * one removes the object and names both values. */
static void test_put_crc_verified(void **state)
{
  store_error err;
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  struct stats s;
  store_put_opts po;
  store_put_result res;
  struct text_src body = {"0123456789", 10};
  char cfg[512], events[300], path[256];
  FILE *f;
  (void)state;
  memset(&po, 0, sizeof(po));
  po.struct_size = sizeof(po);
  po.content_length = 10;
  snprintf(events, sizeof(events), "%s/events", dir);
  unlink(events);
  snprintf(cfg, sizeof(cfg), "needed: \"x\", put-crc32c: \"wrong\", "
           "events: \"%s\"", events);
  ctx = open_ctx(cfg, &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  assert_int_equal(xtstore_blob_put(svc, "c", "k", &po, text_read, &body,
                                    NULL, NULL, &err), STORE_E_IO);
  /* crc32c("0123456789") = 280c069e */
  assert_string_equal(err.message, "service 'f': blob 'c/k': the store "
                      "reports CRC-32C 280c069f for the bytes stored, the "
                      "bytes sent have 280c069e; the object was removed "
                      "(and any unversioned object it replaced is gone too)");
  /* a callback's body: its CRC asked for as a trailer */
  assert_non_null(strstr(events_text(events), "put-ck 1 ck=0 crc=00000000 "
                                              "tr=1\n"));
  get_stats(svc, &s);
  assert_string_equal(s.deletes, "1");
  xtstore_ctx_close(ctx);

  /* a file: its CRC read ahead; a wrong report removes the object and
   * the put is sent again, like a part the store reports wrong */
  unlink(events);
  snprintf(cfg, sizeof(cfg), "needed: \"x\", put-crc32c: \"wrong-once\", "
           "events: \"%s\", retry: {attempts: 3, base-ms: 1}", events);
  ctx = open_ctx(cfg, &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  snprintf(path, sizeof(path), "%s/body.txt", dir);
  f = fopen(path, "w");
  fputs("replayable body", f);
  fclose(f);
  memset(&res, 0, sizeof(res));
  res.struct_size = sizeof(res);
  assert_int_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, &res,
                                         &err), STORE_OK);
  /* a file's CRC is read ahead: crc32c("replayable body") = 638bd96a */
  assert_non_null(strstr(events_text(events), "put-ck 1 ck=1 crc=638bd96a "
                                              "tr=0\n"));
  assert_non_null(strstr(events_text(events), "delete k\nput len=15 ct=-\n"
                                              "put-ck 2 ck=1 crc=638bd96a "
                                              "tr=0\n"));
  assert_int_equal(res.crc32c, 0x638bd96a);
  xtstore_ctx_close(ctx);

  /* right: passes, the result carries the store's CRC */
  unlink(events);
  body = (struct text_src){"0123456789", 10};
  ctx = open_ctx("needed: \"x\", put-crc32c: \"right\"", &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  memset(&res, 0, sizeof(res));
  res.struct_size = sizeof(res);
  assert_int_equal(xtstore_blob_put(svc, "c", "k", &po, text_read, &body,
                                    NULL, &res, &err), STORE_OK);
  assert_int_equal(res.crc32c, 0x280c069e);
  get_stats(svc, &s);
  assert_string_equal(s.deletes, "0");
  xtstore_ctx_close(ctx);

  /* a CRC the caller knew that the bytes do not have: removed */
  body = (struct text_src){"0123456789", 10};
  po.checksums = STORE_CKSUM_CRC32C;
  po.crc32c = 0x12345678;
  ctx = open_ctx("needed: \"x\"", &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  assert_int_equal(xtstore_blob_put(svc, "c", "k", &po, text_read, &body,
                                    NULL, NULL, &err), STORE_E_IO);
  assert_string_equal(err.message, "service 'f': blob 'c/k': the bytes sent "
                      "have CRC-32C 280c069e, the CRC-32C given for them is "
                      "12345678; the object was removed (and any unversioned object it "
                      "replaced is gone too)");
  xtstore_ctx_close(ctx);
}

/* A wrong put is removed only while it has the ETag the put reported
 * (STORE_CAP_DELETE_IF_MATCH): one another writer put there since stays,
 * and the message says it was NOT removed. Without an ETag the delete is
 * unconditional. */
static void test_put_wrong_removal_pinned(void **state)
{
  static const char *const wrong = "service 'f': blob 'c/k': the store "
    "reports CRC-32C 280c069f for the bytes stored, the bytes sent have "
    "280c069e";
  static const char *const removed = "; the object was removed (and any "
    "unversioned object it replaced is gone too)";
  static const struct {
    const char *what;     /* the case, in a failure's output */
    const char *cfg;      /* flaky's keys besides the common ones */
    const char *suffix;   /* what the message ends in */
    int pinned;           /* the delete carried if_match e1 */
    const char *deletes;  /* deletes counted */
  } cases[] = {
    /* the object is still the one put: removed, pinned to its ETag */
    {"still ours", "put-etag: \"e1\", ", NULL, 1, "1"},
    /* another writer replaced it since: not removed, and said so */
    {"replaced", "put-etag: \"e1\", delete-replaced: \"1\", ",
     "; the object was NOT removed: it changed since (ETag no longer e1), "
     "so it is another writer's", 1, "0"},
    /* no ETag reported: nothing to pin, the delete is unconditional */
    {"no etag", "delete-replaced: \"1\", ", NULL, 0, "1"},
  };
  store_error err;
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  struct stats s;
  store_put_opts po;
  struct text_src body;
  char cfg[512], events[300], want[512];
  size_t i;
  (void)state;
  memset(&po, 0, sizeof(po));
  po.struct_size = sizeof(po);
  po.content_length = 10;
  snprintf(events, sizeof(events), "%s/events", dir);

  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    print_message("case: %s\n", cases[i].what);
    unlink(events);
    body = (struct text_src){"0123456789", 10};
    snprintf(cfg, sizeof(cfg), "needed: \"x\", put-crc32c: \"wrong\", "
             "%sevents: \"%s\"", cases[i].cfg, events);
    ctx = open_ctx(cfg, &err);
    assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
    assert_int_equal(xtstore_blob_put(svc, "c", "k", &po, text_read, &body,
                                      NULL, NULL, &err), STORE_E_IO);
    snprintf(want, sizeof(want), "%s%s", wrong,
             cases[i].suffix ? cases[i].suffix : removed);
    assert_string_equal(err.message, want);
    if (cases[i].pinned)
      assert_non_null(strstr(events_text(events), "delete-if k e1\n"));
    else
      assert_null(strstr(events_text(events), "delete-if"));
    get_stats(svc, &s);
    assert_string_equal(s.deletes, cases[i].deletes);
    xtstore_ctx_close(ctx);
  }
}

/* A delete pinned to an ETag reaches only a provider that declares
 * STORE_CAP_DELETE_IF_MATCH (flaky-mp does not): refused before the
 * plugin is called, never sent as an unconditional delete. */
static void test_delete_if_match_needs_cap(void **state)
{
  store_error err;
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  store_delete_opts dop;
  (void)state;
  memset(&dop, 0, sizeof(dop));
  dop.struct_size = sizeof(dop);
  dop.if_match = "e1";
  ctx = open_ctx("needed: \"x\"", &err);
  assert_int_equal(xtstore_service_open(ctx, "fmp", &svc, &err), STORE_OK);
  assert_int_equal(xtstore_blob_delete(svc, "c", "k", &dop, &err),
                   STORE_E_UNSUPPORTED);
  assert_non_null(strstr(err.message, "service 'fmp': provider 'flaky-mp' "
                                      "does not support"));
  xtstore_ctx_close(ctx);
}

/* A result of the 1.0 struct (an embedder built against ABI 1.0): only
 * the fields inside its struct_size are written, which stays its own. */
static void test_put_result_struct_size(void **state)
{
  struct {
    store_put_result res;
    unsigned char after[64];
  } out;
  store_error err;
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  store_put_opts po;
  struct text_src body = {"0123456789", 10};
  const uint32_t v10 = offsetof(store_put_result, checksums);
  size_t i;
  (void)state;
  memset(&po, 0, sizeof(po));
  po.struct_size = sizeof(po);
  po.content_length = 10;
  ctx = open_ctx("needed: \"x\", put-crc32c: \"right\"", &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  memset(&out, 0xa5, sizeof(out));
  out.res.struct_size = v10;
  assert_int_equal(xtstore_blob_put(svc, "c", "k", &po, text_read, &body,
                                    NULL, &out.res, &err), STORE_OK);
  assert_int_equal(out.res.struct_size, v10);
  assert_int_equal(out.res.size, 10);
  for (i = v10; i < sizeof(out.res); i++)
    assert_int_equal(((unsigned char *)&out.res)[i], 0xa5);
  xtstore_ctx_close(ctx);
}

/* A whole get is checked against the blob's CRC-32C, preferred to its
 * MD5; also when it was cut and resumed. */
static void test_get_crc_verified(void **state)
{
  store_error err;
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  struct sink out = {{0}, 0};
  (void)state;
  /* crc32c("0123456789abcdefghijklmnopqrstuvwxyz") = b0e42986; the MD5
   * is wrong and not looked at */
  ctx = open_ctx("needed: \"x\", fail-times: \"1\", get-crc32c: "
                 "\"b0e42986\", get-md5: "
                 "\"00112233445566778899aabbccddeeff\", "
                 "retry: {attempts: 2, base-ms: 1}", &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  assert_int_equal(xtstore_blob_get(svc, "c", "k", NULL, sink_write, &out,
                                    &err), STORE_OK);
  xtstore_ctx_close(ctx);

  out.len = 0;
  ctx = open_ctx("needed: \"x\", get-crc32c: \"b0e42987\"", &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  assert_int_equal(xtstore_blob_get(svc, "c", "k", NULL, sink_write, &out,
                                    &err), STORE_E_IO);
  assert_string_equal(err.message, "service 'f': blob 'c/k': the bytes "
                      "received differ from the blob (CRC-32C b0e42986, the "
                      "blob's b0e42987): changed on the way, or the CRC-32C "
                      "stored with the blob is wrong");
  xtstore_ctx_close(ctx);
}

static void test_config_keys_checked(void **state)
{
  store_error err;
  xtstore_ctx *ctx;
  xtstore_svc *svc = NULL;
  (void)state;
  ctx = open_ctx("fail-times: \"0\"", &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_E_CONFIG);
  assert_null(svc);
  assert_non_null(strstr(err.message, "xt.yaml:"));
  assert_non_null(strstr(err.message,
                         "service 'f': missing required key 'needed' for provider 'flaky'"));
  xtstore_ctx_close(ctx);

  ctx = open_ctx("needed: \"x\", colour: \"blue\"", &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  assert_non_null(strstr(logbuf, "service 'f': key 'colour' is not known to provider 'flaky'"));
  xtstore_ctx_close(ctx);

  ctx = open_ctx("needed: \"x\"", &err);
  assert_int_equal(xtstore_service_open(ctx, "nope", &svc, &err), STORE_E_CONFIG);
  assert_string_equal(err.message,
                      "unknown service 'nope' (configured storage services: f, fmp)");
  xtstore_ctx_close(ctx);
}

struct seen {
  char text[1024];
};

static int32_t service_seen(void *ud, const xtstore_service_info *s)
{
  struct seen *seen = ud;
  size_t i, used;
  for (i = 0; i < s->nkv; i++) {
    used = strlen(seen->text);
    snprintf(seen->text + used, sizeof(seen->text) - used, "%s=%s;",
             s->kv[i].key, s->kv[i].value ? s->kv[i].value : "(null)");
  }
  return 0;
}

static void test_secrets_redacted(void **state)
{
  store_error err;
  xtstore_ctx *ctx;
  struct seen seen;
  (void)state;
  memset(&seen, 0, sizeof(seen));
  ctx = open_ctx("needed: \"x\", password: \"hunter2-plain\", body: \"visible\", "
                 "secret-key: \"s3cr3t-literal\", token: \"$env:XT_TEST_TOKEN\"",
                 &err);
  assert_int_equal(xtstore_services_foreach(ctx, service_seen, &seen, &err),
                   STORE_OK);
  assert_null(strstr(seen.text, "hunter2-plain"));
  assert_null(strstr(seen.text, "s3cr3t-literal"));
  assert_non_null(strstr(seen.text, "password=<redacted>;"));
  assert_non_null(strstr(seen.text, "secret-key=<redacted>;"));
  assert_non_null(strstr(seen.text, "token=$env:XT_TEST_TOKEN;"));
  assert_non_null(strstr(seen.text, "body=visible;"));
  xtstore_ctx_close(ctx);
}

static void test_missing_env_secret(void **state)
{
  store_error err;
  xtstore_ctx *ctx;
  xtstore_svc *svc = NULL;
  (void)state;
  unsetenv("XT_TEST_UNSET_SECRET");
  ctx = open_ctx("needed: \"x\", password: \"$env:XT_TEST_UNSET_SECRET\"", &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_E_CONFIG);
  assert_non_null(strstr(err.message, "XT_TEST_UNSET_SECRET"));
  assert_non_null(strstr(err.message, "xt.yaml:"));
  setenv("XT_TEST_UNSET_SECRET", "value-must-not-leak", 1);
  xtstore_ctx_close(ctx);
  ctx = open_ctx("needed: \"x\", password: \"$env:XT_TEST_UNSET_SECRET\"", &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  assert_null(strstr(logbuf, "value-must-not-leak"));
  unsetenv("XT_TEST_UNSET_SECRET");
  xtstore_ctx_close(ctx);
}

static void *hammer(void *p)
{
  xtstore_svc *svc = p;
  store_error err;
  int i, exists, bad = 0;
  for (i = 0; i < 20; i++)
    if (xtstore_blob_exists(svc, "c", "k", &exists, &err) || !exists)
      bad++;
  return (void *)(intptr_t)bad;
}

static void test_serialised_when_not_threadsafe(void **state)
{
  store_error err;
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  pthread_t t[4];
  void *bad;
  int i;
  (void)state;
  ctx = open_ctx("needed: \"x\"", &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  for (i = 0; i < 4; i++)
    assert_int_equal(pthread_create(&t[i], NULL, hammer, svc), 0);
  for (i = 0; i < 4; i++) {
    pthread_join(t[i], &bad);
    assert_int_equal((intptr_t)bad, 0);
  }
  xtstore_ctx_close(ctx);
}

static void test_unsupported_names_capability(void **state)
{
  store_error err;
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  char id[STORE_ID_SIZE];
  (void)state;
  ctx = open_ctx("needed: \"x\"", &err);
  assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err), STORE_OK);
  assert_int_equal(xtstore_blob_snapshot(svc, "c", "k", id, sizeof(id), &err),
                   STORE_E_UNSUPPORTED);
  assert_string_equal(err.message,
                      "service 'f': provider 'flaky' does not support snapshot");
  assert_int_equal(xtstore_container_create(svc, "c", NULL, 0, &err),
                   STORE_E_UNSUPPORTED);
  assert_int_equal(xtstore_blob_get(svc, "", "k", NULL, sink_write, NULL, &err),
                   STORE_E_INVALID);
  xtstore_ctx_close(ctx);
}

static int setup(void **state)
{
  (void)state;
  return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
  char cmd[300];
  (void)state;
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_put_fd_retried_after_rewind),
    cmocka_unit_test(test_put_not_replayable_is_tried_once),
    cmocka_unit_test(test_not_retryable_and_attempts_from_config),
    cmocka_unit_test(test_get_resumes_with_range),
    cmocka_unit_test(test_get_replaced_while_read),
    cmocka_unit_test(test_get_progress_does_not_use_attempts),
    cmocka_unit_test(test_throttling_waited_out),
    cmocka_unit_test(test_put_size_verified),
    cmocka_unit_test(test_get_verified),
    cmocka_unit_test(test_put_crc_verified),
    cmocka_unit_test(test_put_wrong_removal_pinned),
    cmocka_unit_test(test_delete_if_match_needs_cap),
    cmocka_unit_test(test_put_result_struct_size),
    cmocka_unit_test(test_get_crc_verified),
    cmocka_unit_test(test_config_keys_checked),
    cmocka_unit_test(test_secrets_redacted),
    cmocka_unit_test(test_missing_env_secret),
    cmocka_unit_test(test_serialised_when_not_threadsafe),
    cmocka_unit_test(test_unsupported_names_capability),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
