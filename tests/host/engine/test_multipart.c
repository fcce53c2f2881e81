/*
** The host's transfer engine (multipart.c) through the "flaky-mp" fixture,
** whose event log records every begin, part attempt, complete and abort:
** parts retried alone after a retryable failure, complete with the right
** tokens in order and begin's options, an abort naming the part after a
** final failure, an abort on cancellation, streams of unknown length in
** order, part sizes planned within the fixture's limits, ranged copies
** from another service, progress counted once per byte, and the
** `multipart` settings checked at open. Checksums (ABI 1.1): each part's
** CRC-32C passed down (read ahead for a file or a buffered part, asked as
** a trailer for a ranged copy), complete given the whole object's, a part
** the fixture reports wrong sent again, a wrong whole object removed, a
** copy checked against its source's CRC-32C, and parallel ranged
** downloads checked against the object's and pinned to the etag the first
** get saw (an object replaced meanwhile fails the download, no file left).
** Resume across runs: a file's upload whose part fails for good with a
** retryable 5xx, I/O error or timeout is kept with its journal, not
** aborted; not retryable, from a pipe, a refusal, ^C during a retry, or a
** file changed under a part the store refused: aborted, no journal.
*/
#include <fcntl.h>
#include <sys/stat.h>
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

#include "engine/engine.h"

#define KIB 1024

static char dir[] = "/tmp/xtstore-mp-XXXXXX";
static char events[300], logbuf[8192];
/* The fixture service `f` is: flaky-mp, or flaky-mp10 (a 1.0 plugin). */
static const char *mp_name = "flaky-mp";
/* Cancelled as a retry is announced, before its wait (^C then). */
static xtstore_ctx *cancel_on_retry;

static void capture_log(void *ud, int32_t level, const char *msg)
{
  size_t used = strlen(logbuf);
  (void)ud;
  (void)level;
  snprintf(logbuf + used, sizeof(logbuf) - used, "%s\n", msg);
  if (cancel_on_retry && strstr(msg, "retrying in"))
    xtstore_ctx_cancel(cancel_on_retry);
}

/* A context whose service `f` is flaky-mp with `extra` keys (and the
 * events file), `l` a local service, and with src_extra (may be NULL) `s`
 * another flaky-mp with those keys. */
static xtstore_ctx *open_ctx_src(const char *extra, const char *src_extra)
{
  char path[300];
  FILE *f;
  xtstore_ctx_opts o;
  xtstore_ctx *ctx = NULL;
  store_error err;

  snprintf(events, sizeof(events), "%s/events", dir);
  unlink(events);
  snprintf(path, sizeof(path), "%s/local", dir);
  mkdir(path, 0700);
  snprintf(path, sizeof(path), "%s/xt.yaml", dir);
  f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f,
          "providers:\n  storage: {flaky-mp: \"%s\", local: \"%s\", "
          "flaky-mp10: \"%s\"}\n"
          "external-services:\n"
          "  f: {type: \"storage\", provider: \"%s\", needed: \"x\", "
          "events: \"%s\", %s}\n"
          "  l: {type: \"storage\", provider: \"local\", path: \"%s/local\"}\n"
          "%s%s%s"
          "xt-services: {storage: \"f\"}\n",
          FLAKY_MP_PLUGIN, LOCAL_PLUGIN, FLAKY_MP10_PLUGIN, mp_name, events,
          extra, dir,
          src_extra ? "  s: {type: \"storage\", provider: \"flaky-mp\", "
                      "needed: \"x\", " : "",
          src_extra ? src_extra : "", src_extra ? "}\n" : "");
  fclose(f);
  memset(&o, 0, sizeof(o));
  o.struct_size = sizeof(o);
  o.flags = XTSTORE_CTX_NO_SYSTEM_CONFIG | XTSTORE_CTX_NO_USER_CONFIG |
            XTSTORE_CTX_NO_CWD_CONFIG;
  o.config_path = path;
  o.log = capture_log;
  o.log_level = STORE_LOG_DEBUG;
  logbuf[0] = '\0';
  assert_int_equal(xtstore_ctx_open(&o, &ctx, &err), STORE_OK);
  return ctx;
}

static xtstore_ctx *open_ctx(const char *extra)
{
  return open_ctx_src(extra, NULL);
}

static xtstore_svc *service(xtstore_ctx *ctx, const char *name)
{
  xtstore_svc *svc = NULL;
  store_error err;
  int rc = xtstore_service_open(ctx, name, &svc, &err);
  if (rc)
    fail_msg("%s", err.message);
  return svc;
}

/* The fixture's events so far (static buffer). */
static const char *read_events(void)
{
  static char text[64 * KIB];
  FILE *f = fopen(events, "r");
  size_t n = 0;
  if (f) {
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
  }
  text[n] = '\0';
  return text;
}

static void byte_pattern(char *buf, size_t len)
{
  size_t i;
  for (i = 0; i < len; i++)
    buf[i] = (char)((i * 131 + i / 997) & 0xff);
}

/* The fixture's checksum (FNV-1a, 64 bits). */
static uint64_t fnv(const char *p, size_t len)
{
  uint64_t h = 0xcbf29ce484222325ULL;
  size_t i;
  for (i = 0; i < len; i++) {
    h ^= (unsigned char)p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

/* A file of len pattern bytes; its checksum into *sum. */
static void make_file(const char *path, size_t len, uint64_t *sum)
{
  char *buf = malloc(len);
  FILE *f = fopen(path, "w");
  assert_non_null(buf);
  assert_non_null(f);
  byte_pattern(buf, len);
  assert_int_equal(fwrite(buf, 1, len, f), len);
  fclose(f);
  *sum = fnv(buf, len);
  free(buf);
}

/* "p1a1,p2a1,..." for n parts, `second` listing those on attempt 2. */
static void tokens_text(char *out, size_t cap, unsigned n, const char *second)
{
  char mark[16];
  size_t used;
  unsigned i;
  out[0] = '\0';
  for (i = 1; i <= n; i++) {
    snprintf(mark, sizeof(mark), ",%u,", i);
    used = strlen(out);
    snprintf(out + used, cap - used, "%sp%ua%d", i > 1 ? "," : "", i,
             strstr(second, mark) ? 2 : 1);
  }
}

static void add_bytes(void *ud, uint64_t n)
{
  *(uint64_t *)ud += n;
}

static int open_file(const char *path)
{
  int fd = open(path, O_RDONLY);
  assert_true(fd >= 0);
  return fd;
}

static void test_parts_retried_alone(void **state)
{
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  store_put_opts po;
  store_put_result res;
  store_error err;
  char path[300], want[1024], line[1200];
  const char *ev;
  uint64_t sum, counted = 0;
  int fd;
  unsigned i;
  (void)state;
  ctx = open_ctx("fail-parts: \"3,11\", retry: {attempts: 3, base-ms: 1, "
                 "max-ms: 2}, multipart: {threshold: 4K, part-size: 1K, "
                 "concurrency: 4}");
  svc = service(ctx, "f");
  snprintf(path, sizeof(path), "%s/body", dir);
  make_file(path, 20 * KIB, &sum);
  memset(&po, 0, sizeof(po));
  po.struct_size = sizeof(po);
  po.flags = STORE_PUT_IF_NONE_MATCH;
  po.content_length = -1;
  po.content_type = "text/x-test";
  fd = open_file(path);
  assert_int_equal(st_put_fd(svc, "c", "k", &po, fd, add_bytes, &counted,
                             &res, &err), STORE_OK);
  close(fd);
  ev = read_events();
  assert_non_null(strstr(ev, "begin ct=text/x-test flags=1 length=20480\n"));
  for (i = 1; i <= 20; i++) {
    snprintf(line, sizeof(line), "part %u attempt 1 len 1024 %s\n", i,
             i == 3 || i == 11 ? "fail" : "ok");
    assert_non_null(strstr(ev, line));
  }
  assert_non_null(strstr(ev, "part 3 attempt 2 len 1024 ok\n"));
  assert_non_null(strstr(ev, "part 11 attempt 2 len 1024 ok\n"));
  assert_null(strstr(ev, "attempt 3"));
  tokens_text(want, sizeof(want), 20, ",3,11,");
  snprintf(line, sizeof(line),
           "complete n=20 tokens=%s ct=text/x-test flags=1 sum=%016llx "
           "bytes=20480 inflight=", want, (unsigned long long)sum);
  assert_non_null(strstr(ev, line));
  /* the parts overlapped */
  assert_null(strstr(ev, "inflight=1\n"));
  assert_null(strstr(ev, "abort"));
  assert_non_null(strstr(logbuf, "retrying in"));
  assert_non_null(strstr(logbuf, "multipart upload, 20 parts of 1024 bytes, "
                                 "4 at a time"));
  /* the engine fills the size the fixture left out; every byte counted
   * once although parts 3 and 11 were read twice */
  assert_int_equal(res.size, 20 * KIB);
  assert_int_equal(counted, 20 * KIB);
  xtstore_ctx_close(ctx);
}

static void test_final_failure_aborts_and_names_part(void **state)
{
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  store_error err;
  char path[300];
  const char *ev;
  uint64_t sum;
  (void)state;
  ctx = open_ctx("fail-parts: \"7\", retryable: \"0\", fail-code: \"13\", "
                 "multipart: {threshold: 4K, part-size: 1K}");
  svc = service(ctx, "f");
  snprintf(path, sizeof(path), "%s/body", dir);
  make_file(path, 20 * KIB, &sum);
  assert_int_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, NULL,
                                         &err), STORE_E_AUTH);
  assert_string_equal(err.message, "service 'f': blob 'c/k': part 7 of 20: "
                                   "flaky: part 7: injected failure");
  assert_string_equal(err.provider_code, "SlowDown");
  ev = read_events();
  assert_non_null(strstr(ev, "part 7 attempt 1 len 1024 fail\n"));
  assert_null(strstr(ev, "part 7 attempt 2"));
  assert_non_null(strstr(ev, "abort up-1"));
  assert_null(strstr(ev, "complete"));
  xtstore_ctx_close(ctx);
}

struct bg_put {
  xtstore_svc *svc;
  const char *path;
  store_error err;
  int rc;
};

static void *bg_put_main(void *p)
{
  struct bg_put *b = p;
  b->rc = xtstore_blob_put_file(b->svc, "c", "k", NULL, b->path, NULL,
                                &b->err);
  return NULL;
}

static void test_cancel_aborts(void **state)
{
  xtstore_ctx *ctx;
  struct bg_put b;
  pthread_t tid;
  char path[300];
  const char *ev;
  uint64_t sum;
  int i;
  (void)state;
  ctx = open_ctx("stall-part: \"5\", multipart: {threshold: 4K, "
                 "part-size: 1K, concurrency: 2}");
  memset(&b, 0, sizeof(b));
  b.svc = service(ctx, "f");
  snprintf(path, sizeof(path), "%s/body", dir);
  make_file(path, 20 * KIB, &sum);
  b.path = path;
  assert_int_equal(pthread_create(&tid, NULL, bg_put_main, &b), 0);
  for (i = 0; i < 1000 && !strstr(read_events(), "stall 5"); i++)
    usleep(10000);
  xtstore_ctx_cancel(ctx);
  pthread_join(tid, NULL);
  assert_int_equal(b.rc, STORE_E_ABORTED);
  assert_non_null(strstr(b.err.message, "service 'f': blob 'c/k': "));
  assert_non_null(strstr(b.err.message, "cancelled"));
  ev = read_events();
  assert_non_null(strstr(ev, "stall 5\n"));
  assert_non_null(strstr(ev, "abort up-1"));
  assert_null(strstr(ev, "complete"));
  xtstore_ctx_close(ctx);
}

struct writer {
  int fd;
  size_t len;
};

static void *write_main(void *p)
{
  struct writer *w = p;
  char *buf = malloc(w->len);
  size_t off = 0;
  ssize_t n;
  assert_non_null(buf);
  byte_pattern(buf, w->len);
  while (off < w->len && (n = write(w->fd, buf + off, w->len - off)) > 0)
    off += (size_t)n;
  close(w->fd);
  free(buf);
  return NULL;
}

/* st_put_fd of len bytes through a pipe (unknown length). */
static int put_pipe(xtstore_svc *svc, size_t len, uint64_t *counted,
                    store_error *err)
{
  struct writer w;
  pthread_t tid;
  int fds[2], rc;
  assert_int_equal(pipe(fds), 0);
  w.fd = fds[1];
  w.len = len;
  assert_int_equal(pthread_create(&tid, NULL, write_main, &w), 0);
  rc = st_put_fd(svc, "c", "k", NULL, fds[0], add_bytes, counted, NULL, err);
  close(fds[0]);
  pthread_join(tid, NULL);
  return rc;
}

static void test_stream_in_order(void **state)
{
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  store_error err;
  char *buf, want[1024], line[1200];
  const char *ev;
  size_t len = 20 * KIB + 300;
  uint64_t counted = 0;
  (void)state;
  ctx = open_ctx("fail-parts: \"2\", retry: {attempts: 2, base-ms: 1}, "
                 "multipart: {threshold: 4K, part-size: 1K, concurrency: 3}");
  svc = service(ctx, "f");
  assert_int_equal(put_pipe(svc, len, &counted, &err), STORE_OK);
  buf = malloc(len);
  assert_non_null(buf);
  byte_pattern(buf, len);
  ev = read_events();
  assert_non_null(strstr(ev, "begin ct=- flags=0 length=-1\n"));
  assert_non_null(strstr(ev, "part 21 attempt 1 len 300 ok\n"));
  tokens_text(want, sizeof(want), 21, ",2,");
  snprintf(line, sizeof(line), "complete n=21 tokens=%s ct=- flags=0 "
           "sum=%016llx bytes=%zu ", want,
           (unsigned long long)fnv(buf, len), len);
  assert_non_null(strstr(ev, line));
  assert_int_equal(counted, len);
  free(buf);
  assert_non_null(strstr(logbuf, "unknown length: at most 32 parts"));

  /* A stream that ends within its first part is one put. */
  unlink(events);
  counted = 0;
  assert_int_equal(put_pipe(svc, 200, &counted, &err), STORE_OK);
  ev = read_events();
  assert_non_null(strstr(ev, "put len=200 "));
  assert_null(strstr(ev, "begin"));
  assert_int_equal(counted, 200);
  xtstore_ctx_close(ctx);
}

static void test_part_size_within_limits(void **state)
{
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  store_error err;
  char path[300];
  const char *ev;
  uint64_t sum;
  (void)state;
  /* 64 KiB in 1 KiB parts would be 64: the fixture allows 32. */
  ctx = open_ctx("multipart: {threshold: 4K, part-size: 1K}");
  svc = service(ctx, "f");
  snprintf(path, sizeof(path), "%s/body", dir);
  make_file(path, 64 * KIB, &sum);
  assert_int_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, NULL,
                                         &err), STORE_OK);
  ev = read_events();
  assert_non_null(strstr(ev, "part 32 attempt 1 len 2048 ok\n"));
  assert_non_null(strstr(ev, "complete n=32 "));
  xtstore_ctx_close(ctx);

  /* Parts never go below the fixture's 512 bytes. */
  ctx = open_ctx("multipart: {threshold: 1K, part-size: 100}");
  svc = service(ctx, "f");
  make_file(path, 8 * KIB, &sum);
  assert_int_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, NULL,
                                         &err), STORE_OK);
  ev = read_events();
  assert_non_null(strstr(ev, "part 16 attempt 1 len 512 ok\n"));
  assert_non_null(strstr(ev, "complete n=16 "));
  /* At or under the threshold: one put. */
  unlink(events);
  make_file(path, 1 * KIB, &sum);
  assert_int_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, NULL,
                                         &err), STORE_OK);
  assert_null(strstr(read_events(), "begin"));
  xtstore_ctx_close(ctx);
}

static void test_ranged_copy_from_another_service(void **state)
{
  xtstore_ctx *ctx;
  xtstore_svc *src, *dst;
  store_error err;
  char path[300], line[1200];
  const char *ev;
  uint64_t sum, counted = 0;
  (void)state;
  ctx = open_ctx("fail-parts: \"3,11\", retry: {attempts: 3, base-ms: 1}, "
                 "multipart: {threshold: 4K, part-size: 1K, concurrency: 4}");
  src = service(ctx, "l");
  dst = service(ctx, "f");
  assert_int_equal(xtstore_container_create(src, "c", NULL, 0, &err),
                   STORE_OK);
  snprintf(path, sizeof(path), "%s/body", dir);
  make_file(path, 20 * KIB, &sum);
  assert_int_equal(xtstore_blob_put_file(src, "c", "src", NULL, path, NULL,
                                         &err), STORE_OK);
  assert_int_equal(xtstore_blob_copy_progress(src, "c", "src", dst, "c", "k",
                                              NULL, add_bytes, &counted,
                                              &err), STORE_OK);
  ev = read_events();
  assert_non_null(strstr(ev, "part 3 attempt 2 len 1024 ok\n"));
  snprintf(line, sizeof(line), " sum=%016llx bytes=20480 ",
           (unsigned long long)sum);
  assert_non_null(strstr(ev, line));
  assert_null(strstr(ev, "abort"));
  assert_int_equal(counted, 20 * KIB);
  xtstore_ctx_close(ctx);
}

/* The CRC-32C of n pattern bytes from byte off of a pattern of len. */
static uint32_t pattern_crc(size_t len, size_t off, size_t n)
{
  char *buf = malloc(len);
  uint32_t crc;
  assert_non_null(buf);
  byte_pattern(buf, len);
  crc = st_crc32c(0, buf + off, n);
  free(buf);
  return crc;
}

static void test_part_checksums_passed(void **state)
{
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  store_error err;
  store_put_result res;
  char path[300], line[200];
  const char *ev;
  uint64_t sum;
  unsigned i;
  (void)state;
  ctx = open_ctx("put-crc32c: \"right\", "
                 "multipart: {threshold: 4K, part-size: 1K}");
  svc = service(ctx, "f");
  snprintf(path, sizeof(path), "%s/body", dir);
  make_file(path, 5 * KIB + 100, &sum);
  memset(&res, 0, sizeof(res));
  res.struct_size = sizeof(res);
  assert_int_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, &res,
                                         &err), STORE_OK);
  ev = read_events();
  /* a file's parts: read ahead, for the service to check */
  for (i = 1; i <= 6; i++) {
    snprintf(line, sizeof(line), "part-ck %u ck=1 crc=%08x tr=0\n", i,
             pattern_crc(5 * KIB + 100, (i - 1) * KIB, i < 6 ? KIB : 100));
    assert_non_null(strstr(ev, line));
  }
  snprintf(line, sizeof(line), "complete-ck 6 ck=1 crc=%08x tr=0\n",
           pattern_crc(5 * KIB + 100, 0, 5 * KIB + 100));
  assert_non_null(strstr(ev, line));
  assert_int_equal(res.crc32c, pattern_crc(5 * KIB + 100, 0, 5 * KIB + 100));
  assert_null(strstr(ev, "delete"));

  /* A pipe's parts are buffered: known before sending too. */
  unlink(events);
  assert_int_equal(put_pipe(svc, 5 * KIB, &sum, &err), STORE_OK);
  ev = read_events();
  snprintf(line, sizeof(line), "part-ck 2 ck=1 crc=%08x tr=0\n",
           pattern_crc(5 * KIB, KIB, KIB));
  assert_non_null(strstr(ev, line));
  snprintf(line, sizeof(line), "complete-ck 5 ck=1 crc=%08x tr=0\n",
           pattern_crc(5 * KIB, 0, 5 * KIB));
  assert_non_null(strstr(ev, line));

  /* A short pipe is one put, its CRC known from its buffer. */
  unlink(events);
  assert_int_equal(put_pipe(svc, 200, &sum, &err), STORE_OK);
  snprintf(line, sizeof(line), "put-ck 1 ck=1 crc=%08x tr=0\n",
           pattern_crc(200, 0, 200));
  assert_non_null(strstr(read_events(), line));
  xtstore_ctx_close(ctx);
}

static void test_wrong_part_sent_again(void **state)
{
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  store_error err;
  char path[300];
  const char *ev;
  uint64_t sum;
  (void)state;
  ctx = open_ctx("put-crc32c: \"wrong-once\", retry: {attempts: 2, "
                 "base-ms: 1}, multipart: {threshold: 4K, part-size: 1K}");
  svc = service(ctx, "f");
  snprintf(path, sizeof(path), "%s/body", dir);
  make_file(path, 5 * KIB, &sum);
  assert_int_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, NULL,
                                         &err), STORE_OK);
  ev = read_events();
  assert_non_null(strstr(ev, "part 3 attempt 2 len 1024 ok\n"));
  assert_null(strstr(ev, "attempt 3"));
  assert_non_null(strstr(ev, "complete n=5 tokens=p1a2,p2a2,p3a2,p4a2,p5a2 "));
  assert_non_null(strstr(logbuf, "the store reports CRC-32C"));
  xtstore_ctx_close(ctx);
}

static void test_wrong_part_fails(void **state)
{
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  store_error err;
  char path[300], want[300];
  const char *ev;
  uint64_t sum;
  uint32_t crc;
  (void)state;
  ctx = open_ctx("put-crc32c: \"wrong\", retry: {attempts: 2, base-ms: 1}, "
                 "multipart: {threshold: 4K, part-size: 1K, "
                 "concurrency: 1}");
  svc = service(ctx, "f");
  snprintf(path, sizeof(path), "%s/body", dir);
  make_file(path, 5 * KIB, &sum);
  assert_int_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, NULL,
                                         &err), STORE_E_IO);
  crc = pattern_crc(5 * KIB, 0, KIB);
  snprintf(want, sizeof(want), "service 'f': blob 'c/k': part 1 of 5: the "
           "store reports CRC-32C %08x for the bytes stored, the bytes sent "
           "have %08x", crc ^ 1, crc);
  assert_string_equal(err.message, want);
  ev = read_events();
  assert_non_null(strstr(ev, "part 1 attempt 2 len 1024 ok\n"));
  assert_non_null(strstr(ev, "abort up-1"));
  assert_null(strstr(ev, "complete"));
  xtstore_ctx_close(ctx);
}

static void test_wrong_object_removed(void **state)
{
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  store_error err;
  char path[300], want[300];
  uint64_t sum;
  uint32_t crc;
  (void)state;
  ctx = open_ctx("put-crc32c: \"wrong-complete\", "
                 "multipart: {threshold: 4K, part-size: 1K}");
  svc = service(ctx, "f");
  snprintf(path, sizeof(path), "%s/body", dir);
  make_file(path, 5 * KIB, &sum);
  assert_int_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, NULL,
                                         &err), STORE_E_IO);
  crc = pattern_crc(5 * KIB, 0, 5 * KIB);
  snprintf(want, sizeof(want), "service 'f': blob 'c/k': the store reports "
           "CRC-32C %08x for the bytes stored, the bytes sent have %08x; "
           "the object was removed (and any unversioned object it replaced is gone "
           "too)", crc ^ 1, crc);
  assert_string_equal(err.message, want);
  assert_non_null(strstr(read_events(), "delete k\n"));
  xtstore_ctx_close(ctx);
}

/* The fixture's get body, and its CRC-32C as 8 hex. */
#define SRC_BODY "the source object, a few bytes over its threshold"

static void test_copy_checked_against_source(void **state)
{
  xtstore_ctx *ctx;
  xtstore_svc *src, *dst;
  store_error err;
  char keys[300], line[200];
  const char *ev;
  uint32_t crc = st_crc32c(0, SRC_BODY, strlen(SRC_BODY));
  (void)state;
  /* In parts (ranged gets): each part's CRC asked as a trailer, the
   * whole object's from the source. */
  snprintf(keys, sizeof(keys), "body: \"%s\", get-crc32c: \"%08x\"",
           SRC_BODY, crc);
  ctx = open_ctx_src("multipart: {threshold: 16, part-size: 1K}", keys);
  src = service(ctx, "s");
  dst = service(ctx, "f");
  assert_int_equal(xtstore_blob_copy(src, "c", "src", dst, "c", "k", NULL,
                                     &err), STORE_OK);
  ev = read_events();
  assert_non_null(strstr(ev, "part-ck 1 ck=0 crc=00000000 tr=1\n"));
  snprintf(line, sizeof(line), "complete-ck 1 ck=1 crc=%08x tr=0\n", crc);
  assert_non_null(strstr(ev, line));
  xtstore_ctx_close(ctx);

  /* The source's bytes are not what its CRC says: nothing completes. */
  snprintf(keys, sizeof(keys), "body: \"%s\", get-crc32c: \"%08x\"",
           SRC_BODY, crc ^ 4);
  ctx = open_ctx_src("multipart: {threshold: 16, part-size: 1K}", keys);
  src = service(ctx, "s");
  dst = service(ctx, "f");
  assert_int_equal(xtstore_blob_copy(src, "c", "src", dst, "c", "k", NULL,
                                     &err), STORE_E_IO);
  snprintf(line, sizeof(line), "service 'f': blob 'c/k': the bytes sent "
           "have CRC-32C %08x, the copy source's CRC-32C is %08x: they "
           "changed on the way from the source: the upload is not "
           "completed", crc, crc ^ 4);
  assert_string_equal(err.message, line);
  /* the next gets may be right */
  assert_true(err.flags & STORE_ERR_RETRYABLE);
  ev = read_events();
  assert_non_null(strstr(ev, "abort up-1"));
  assert_null(strstr(ev, "complete n="));
  xtstore_ctx_close(ctx);

  /* One put (below the threshold): the source's CRC goes with it. */
  snprintf(keys, sizeof(keys), "body: \"%s\", get-crc32c: \"%08x\"",
           SRC_BODY, crc);
  ctx = open_ctx_src("put-crc32c: \"right\"", keys);
  src = service(ctx, "s");
  dst = service(ctx, "f");
  assert_int_equal(xtstore_blob_copy(src, "c", "src", dst, "c", "k", NULL,
                                     &err), STORE_OK);
  snprintf(line, sizeof(line), "put-ck 1 ck=1 crc=%08x tr=0\n", crc);
  assert_non_null(strstr(read_events(), line));
  xtstore_ctx_close(ctx);
}

/* A file that changes while it goes up is never reported uploaded,
 * whenever the change falls. The fixture rewrites it at a set point of the
 * upload (no timing). */
static void test_file_changed_mid_upload(void **state)
{
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  store_error err;
  char path[300], keys[600], want[300], *buf;
  const char *ev;
  const char *changed = "service 'f': blob 'c/k': the file changed while "
                        "it was read (its size, modification time or inode "
                        "is not what it was)";
  uint64_t sum;
  (void)state;
  snprintf(path, sizeof(path), "%s/body", dir);

  /* After part 1 went: every part is what was read ahead of it; only
   * the file's time tells. */
  make_file(path, 5 * KIB, &sum);
  snprintf(keys, sizeof(keys), "rewrite-file: \"%s\", multipart: "
           "{threshold: 4K, part-size: 1K, concurrency: 1}", path);
  ctx = open_ctx(keys);
  svc = service(ctx, "f");
  assert_int_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, NULL,
                                         &err), STORE_E_IO);
  snprintf(want, sizeof(want), "%s: the upload is not completed", changed);
  assert_string_equal(err.message, want);
  ev = read_events();
  assert_non_null(strstr(ev, "rewrote "));
  assert_non_null(strstr(ev, "abort up-1"));
  assert_null(strstr(ev, "complete n="));
  xtstore_ctx_close(ctx);

  /* Before part 1's body is read: the bytes sent are not those read
   * ahead. No attempt mends that: not sent again. */
  make_file(path, 5 * KIB, &sum);
  snprintf(keys, sizeof(keys), "rewrite-file: \"%s\", rewrite-before: "
           "\"1\", retry: {attempts: 3, base-ms: 1}, multipart: "
           "{threshold: 4K, part-size: 1K, concurrency: 1}", path);
  ctx = open_ctx(keys);
  svc = service(ctx, "f");
  assert_int_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, NULL,
                                         &err), STORE_E_IO);
  buf = malloc(KIB);
  assert_non_null(buf);
  byte_pattern(buf, KIB);
  buf[0] ^= (char)0xff;
  snprintf(want, sizeof(want), "service 'f': blob 'c/k': part 1 of 5: the "
           "bytes sent have CRC-32C %08x, the file's was %08x when read "
           "ahead: the file changed while it was read", st_crc32c(0, buf, KIB),
           pattern_crc(5 * KIB, 0, KIB));
  free(buf);
  assert_string_equal(err.message, want);
  assert_false(err.flags & STORE_ERR_RETRYABLE);
  ev = read_events();
  assert_non_null(strstr(ev, "part 1 attempt 1 "));
  assert_null(strstr(ev, "part 1 attempt 2"));
  assert_non_null(strstr(ev, "abort up-1"));
  xtstore_ctx_close(ctx);

  /* A 1.0 plugin (no multipart_part_checked, nothing read ahead): the
   * file's time tells. */
  make_file(path, 5 * KIB, &sum);
  mp_name = "flaky-mp10";
  snprintf(keys, sizeof(keys), "rewrite-file: \"%s\", rewrite-part: \"2\", "
           "multipart: {threshold: 4K, part-size: 1K, concurrency: 1}", path);
  ctx = open_ctx(keys);
  mp_name = "flaky-mp";
  svc = service(ctx, "f");
  assert_int_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, NULL,
                                         &err), STORE_E_IO);
  snprintf(want, sizeof(want), "%s: the upload is not completed", changed);
  assert_string_equal(err.message, want);
  ev = read_events();
  assert_non_null(strstr(ev, "part 2 attempt 1 len 1024 ok\n"));
  assert_null(strstr(ev, "part-ck"));
  assert_null(strstr(ev, "complete n="));
  xtstore_ctx_close(ctx);

  /* One put (below the threshold): what it stored goes. */
  make_file(path, 5 * KIB, &sum);
  snprintf(keys, sizeof(keys), "rewrite-file: \"%s\"", path);
  ctx = open_ctx(keys);
  svc = service(ctx, "f");
  assert_int_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, NULL,
                                         &err), STORE_E_IO);
  snprintf(want, sizeof(want), "%s; the object was removed (and any unversioned object "
           "it replaced is gone too)", changed);
  assert_string_equal(err.message, want);
  assert_non_null(strstr(read_events(), "delete k\n"));
  xtstore_ctx_close(ctx);
}

/* Journals of uploads under the test's XDG_STATE_HOME (setup). */
static int journals(void)
{
  char cmd[400];
  FILE *f;
  int n = -1;
  snprintf(cmd, sizeof(cmd), "ls '%s/state/xtstore/uploads' 2>/dev/null | "
           "grep -c '\\.journal$'", dir);
  f = popen(cmd, "r");
  assert_non_null(f);
  if (fscanf(f, "%d", &n) != 1)
    n = -1;
  pclose(f);
  return n;
}

static void forget_journals(void)
{
  char cmd[400];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s/state'", dir);
  assert_int_equal(system(cmd), 0);
}

/* The keys of a 20-part upload whose part 7 fails once with `code`,
 * retryably or not, with no retry left. */
static void failing_part_keys(char *out, size_t cap, int code, int retryable)
{
  snprintf(out, cap, "fail-parts: \"7\", fail-code: \"%d\", retryable: "
           "\"%d\", retry: {attempts: 1}, multipart: {threshold: 4K, "
           "part-size: 1K, concurrency: 2}", code, retryable);
}

/* Resume across runs (kept_for_next_run): a journaled upload from a file
 * whose part fails for good with the network's or the service's own
 * retryable failure (a 5xx, a cut, a timeout) is kept, not aborted, with
 * its journal for the next run; the same failure not retryable, or from a
 * pipe (not journaled), is aborted, as is a refusal. */
static void test_network_failure_kept(void **state)
{
  static const int kept[] = {STORE_E_SERVER, STORE_E_IO, STORE_E_TIMEOUT};
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  store_error err;
  char path[300], keys[400];
  uint64_t sum, counted = 0;
  size_t i;
  (void)state;
  snprintf(path, sizeof(path), "%s/body", dir);
  make_file(path, 20 * KIB, &sum);
  for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
    forget_journals();
    failing_part_keys(keys, sizeof(keys), kept[i], 1);
    ctx = open_ctx(keys);
    svc = service(ctx, "f");
    assert_int_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, NULL,
                                           &err), kept[i]);
    assert_non_null(strstr(err.message, "part 7 of 20: "));
    assert_non_null(strstr(read_events(), "part 7 attempt 1 len 1024 fail\n"));
    assert_null(strstr(read_events(), "abort"));
    assert_null(strstr(read_events(), "complete"));
    assert_non_null(strstr(logbuf, "upload 'up-1' kept in '"));
    assert_int_equal(journals(), 1);
    xtstore_ctx_close(ctx);

    /* Not retryable: no next run mends it. */
    forget_journals();
    failing_part_keys(keys, sizeof(keys), kept[i], 0);
    ctx = open_ctx(keys);
    svc = service(ctx, "f");
    assert_int_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, NULL,
                                           &err), kept[i]);
    assert_non_null(strstr(read_events(), "abort up-1"));
    assert_null(strstr(logbuf, "kept in"));
    assert_int_equal(journals(), 0);
    xtstore_ctx_close(ctx);

    /* A pipe: nothing to resume from. */
    failing_part_keys(keys, sizeof(keys), kept[i], 1);
    ctx = open_ctx(keys);
    svc = service(ctx, "f");
    assert_int_equal(put_pipe(svc, 20 * KIB, &counted, &err), kept[i]);
    assert_non_null(strstr(read_events(), "abort up-1"));
    assert_null(strstr(logbuf, "kept in"));
    assert_int_equal(journals(), 0);
    xtstore_ctx_close(ctx);
  }

  /* A refusal (permission), retryable or not, is aborted. */
  failing_part_keys(keys, sizeof(keys), STORE_E_PERMISSION, 1);
  ctx = open_ctx(keys);
  svc = service(ctx, "f");
  assert_int_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, NULL,
                                         &err), STORE_E_PERMISSION);
  assert_non_null(strstr(read_events(), "abort up-1"));
  assert_int_equal(journals(), 0);
  xtstore_ctx_close(ctx);
}

/* ^C while a failed part waits to be retried (a 5xx, retryable): the
 * retry is not made, and the upload is aborted, no journal left. */
static void test_cancel_during_retry_aborts(void **state)
{
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  store_error err;
  char path[300];
  uint64_t sum;
  (void)state;
  forget_journals();
  ctx = open_ctx("fail-parts: \"3\", fail-code: \"16\", retryable: \"1\", "
                 "retry: {attempts: 3}, multipart: {threshold: 4K, "
                 "part-size: 1K, concurrency: 1}");
  svc = service(ctx, "f");
  snprintf(path, sizeof(path), "%s/body", dir);
  make_file(path, 20 * KIB, &sum);
  cancel_on_retry = ctx;
  assert_int_not_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, NULL,
                                             &err), STORE_OK);
  cancel_on_retry = NULL;
  assert_non_null(strstr(logbuf, "retrying in"));
  assert_non_null(strstr(read_events(), "part 3 attempt 1 len 1024 fail\n"));
  assert_null(strstr(read_events(), "part 3 attempt 2"));
  assert_non_null(strstr(read_events(), "abort up-1"));
  assert_null(strstr(logbuf, "kept in"));
  assert_int_equal(journals(), 0);
  xtstore_ctx_close(ctx);
}

/* A file rewritten after its part's CRC-32C was read ahead, which the
 * store checks and refuses (retryably, as a part hurt in flight): every
 * attempt would send the same CRC again, so the part is not retried; the
 * file's failure, not the network's: aborted, no journal left. */
static void test_file_changed_refused_aborts(void **state)
{
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  store_error err;
  char path[300], keys[600];
  uint64_t sum;
  (void)state;
  forget_journals();
  snprintf(path, sizeof(path), "%s/body", dir);
  make_file(path, 5 * KIB, &sum);
  snprintf(keys, sizeof(keys), "rewrite-file: \"%s\", rewrite-before: "
           "\"1\", fail-parts: \"1\", fail-code: \"9\", retryable: \"1\", "
           "retry: {attempts: 3, base-ms: 1}, multipart: {threshold: 4K, "
           "part-size: 1K, concurrency: 1}", path);
  ctx = open_ctx(keys);
  svc = service(ctx, "f");
  assert_int_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, NULL,
                                         &err), STORE_E_IO);
  assert_non_null(strstr(err.message, "part 1 of 5: the file changed while "
                                      "it was read (CRC-32C "));
  assert_non_null(strstr(err.message, " read ahead); the service refused "
                                      "the part: flaky: part 1: injected "
                                      "failure"));
  assert_false(err.flags & STORE_ERR_RETRYABLE);
  assert_null(strstr(read_events(), "part 1 attempt 2"));
  assert_non_null(strstr(read_events(), "abort up-1"));
  assert_null(strstr(logbuf, "kept in"));
  assert_int_equal(journals(), 0);
  xtstore_ctx_close(ctx);
}

/* The file's rewrite in place, its time put back, from the progress
 * callback: once, as part 1 has been partly read (after its CRC-32C was
 * read ahead), its last byte. */
struct rewriter {
  int fd;
  struct timespec times[2];
  int done;
};

static void rewrite_on_bytes(void *ud, uint64_t n)
{
  struct rewriter *r = ud;
  char b = 0x5a;
  (void)n;
  if (r->done++)
    return;
  assert_int_equal(pwrite(r->fd, &b, 1, 4 * KIB * KIB - 1), 1);
  assert_int_equal(futimens(r->fd, r->times), 0);
}

/* A local service `l` in 4 MiB parts, one at a time, retries quick. */
static xtstore_ctx *open_local_ctx(void)
{
  char yaml[300];
  FILE *f;
  xtstore_ctx_opts o;
  xtstore_ctx *ctx = NULL;
  store_error err;

  snprintf(yaml, sizeof(yaml), "%s/local", dir);
  mkdir(yaml, 0700);
  snprintf(yaml, sizeof(yaml), "%s/local/c", dir);
  mkdir(yaml, 0700);
  snprintf(yaml, sizeof(yaml), "%s/xt-local.yaml", dir);
  f = fopen(yaml, "w");
  assert_non_null(f);
  fprintf(f, "providers:\n  storage: {local: \"%s\"}\n"
          "external-services:\n  l: {type: \"storage\", provider: "
          "\"local\", path: \"%s/local\", retry: {attempts: 3, base-ms: 1, "
          "max-ms: 2}, multipart: {threshold: 4M, part-size: 4M, "
          "concurrency: 1}}\n", LOCAL_PLUGIN, dir);
  fclose(f);
  memset(&o, 0, sizeof(o));
  o.struct_size = sizeof(o);
  o.flags = XTSTORE_CTX_NO_SYSTEM_CONFIG | XTSTORE_CTX_NO_USER_CONFIG |
            XTSTORE_CTX_NO_CWD_CONFIG;
  o.config_path = yaml;
  o.log = capture_log;
  o.log_level = STORE_LOG_DEBUG;
  logbuf[0] = '\0';
  assert_int_equal(xtstore_ctx_open(&o, &ctx, &err), STORE_OK);
  return ctx;
}

/* The same through the local provider, which checks the CRC-32C it is
 * given (refusing retryably), the file's time put back (only the bytes
 * tell): not retried, no journal, no staging left behind. */
static void test_file_changed_local_aborts(void **state)
{
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  store_error err;
  struct rewriter r;
  struct stat st;
  char path[300], cmd[500];
  uint64_t sum;
  (void)state;
  forget_journals();
  snprintf(path, sizeof(path), "%s/big", dir);
  make_file(path, 12 * KIB * KIB, &sum);
  ctx = open_local_ctx();
  svc = service(ctx, "l");
  memset(&r, 0, sizeof(r));
  r.fd = open(path, O_RDWR);
  assert_true(r.fd >= 0);
  assert_int_equal(fstat(r.fd, &st), 0);
  r.times[0] = st.st_atim;
  r.times[1] = st.st_mtim;
  assert_int_equal(st_put_fd(svc, "c", "k", NULL, r.fd, rewrite_on_bytes, &r,
                             NULL, &err), STORE_E_IO);
  close(r.fd);
  assert_non_null(strstr(err.message, "part 1 of 3: the file changed while "
                                      "it was read (CRC-32C "));
  assert_false(err.flags & STORE_ERR_RETRYABLE);
  assert_null(strstr(logbuf, "retrying in"));
  assert_null(strstr(logbuf, "kept in"));
  assert_int_equal(journals(), 0);
  snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s/local/c/.xtstore/"
           "uploads' 2>/dev/null)\"", dir);
  assert_int_equal(system(cmd), 0);
  xtstore_ctx_close(ctx);
}

/* A 1.0 plugin's parts: the bytes sent as a part buffer holds them, the
 * whole object's CRC-32C (the parts' combined) to complete. */
static void test_parts_of_a_1_0_plugin(void **state)
{
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  store_error err;
  char path[300], line[200];
  const char *ev;
  uint64_t sum;
  (void)state;
  mp_name = "flaky-mp10";
  ctx = open_ctx("fail-parts: \"2\", retry: {attempts: 2, base-ms: 1}, "
                 "multipart: {threshold: 4K, part-size: 1K}");
  mp_name = "flaky-mp";
  svc = service(ctx, "f");
  snprintf(path, sizeof(path), "%s/body", dir);
  make_file(path, 5 * KIB + 100, &sum);
  assert_int_equal(xtstore_blob_put_file(svc, "c", "k", NULL, path, NULL,
                                         &err), STORE_OK);
  ev = read_events();
  assert_non_null(strstr(ev, "part 2 attempt 2 len 1024 ok\n"));
  snprintf(line, sizeof(line), "complete-ck 6 ck=1 crc=%08x tr=0\n",
           pattern_crc(5 * KIB + 100, 0, 5 * KIB + 100));
  assert_non_null(strstr(ev, line));
  unlink(events);
  assert_int_equal(put_pipe(svc, 5 * KIB, &sum, &err), STORE_OK);
  snprintf(line, sizeof(line), "complete-ck 5 ck=1 crc=%08x tr=0\n",
           pattern_crc(5 * KIB, 0, 5 * KIB));
  assert_non_null(strstr(read_events(), line));
  xtstore_ctx_close(ctx);
}

/* md5(SRC_BODY) */
#define SRC_MD5 "ebe22112e467a70b310a941403847a07"

/* A source with an MD5 and no CRC-32C: a large copy still goes in
 * parallel ranges (each range's CRC-32C asked as a trailer); one put gets
 * the source's MD5 for the target to check. */
static void test_copy_from_md5_source(void **state)
{
  xtstore_ctx *ctx;
  xtstore_svc *src, *dst;
  store_error err;
  const char *ev;
  (void)state;
  ctx = open_ctx_src("multipart: {threshold: 16, part-size: 1K}",
                     "body: \"" SRC_BODY "\", get-md5: \"" SRC_MD5 "\"");
  src = service(ctx, "s");
  dst = service(ctx, "f");
  assert_int_equal(xtstore_blob_copy(src, "c", "src", dst, "c", "k", NULL,
                                     &err), STORE_OK);
  ev = read_events();
  assert_non_null(strstr(ev, "part-ck 1 ck=0 crc=00000000 tr=1\n"));
  assert_non_null(strstr(ev, "complete n=1 "));
  xtstore_ctx_close(ctx);

  ctx = open_ctx_src("put-crc32c: \"right\"",
                     "body: \"" SRC_BODY "\", get-md5: \"" SRC_MD5 "\"");
  src = service(ctx, "s");
  dst = service(ctx, "f");
  assert_int_equal(xtstore_blob_copy(src, "c", "src", dst, "c", "k", NULL,
                                     &err), STORE_OK);
  assert_non_null(strstr(read_events(), "put-ck 1 ck=2 crc=00000000 tr=1\n"));
  xtstore_ctx_close(ctx);
}

/* A copy whose source's bytes are not its CRC-32C: the source's check is
 * the cause, not the target's, and the copy is tried again (another get
 * may be right); the target keeps nothing. The target's put takes the
 * promised bytes and ends before the source's get finds them bad. */
static void test_copy_source_crc_wins(void **state)
{
  xtstore_ctx *ctx;
  xtstore_svc *src, *dst;
  store_error err;
  char keys[300], line[300];
  uint32_t crc = st_crc32c(0, SRC_BODY, strlen(SRC_BODY));
  (void)state;
  snprintf(keys, sizeof(keys), "body: \"%s\", get-crc32c: \"%08x\"",
           SRC_BODY, crc ^ 2);
  snprintf(line, sizeof(line), "put-crc32c: \"right\", put-takes: \"%zu\", "
           "retry: {attempts: 2, base-ms: 1}", strlen(SRC_BODY));
  ctx = open_ctx_src(line, keys);
  src = service(ctx, "s");
  dst = service(ctx, "f");
  assert_int_equal(xtstore_blob_copy(src, "c", "src", dst, "c", "k", NULL,
                                     &err), STORE_E_IO);
  snprintf(line, sizeof(line), "service 's': blob 'c/src': the bytes "
           "received differ from the blob (CRC-32C %08x, the blob's %08x): "
           "changed on the way, or the CRC-32C stored with the blob is "
           "wrong; the object was removed (and any unversioned object it replaced is "
           "gone too)", crc, crc ^ 2);
  assert_string_equal(err.message, line);
  assert_non_null(strstr(logbuf, "copying again in"));
  assert_non_null(strstr(read_events(), "delete k\n"));
  xtstore_ctx_close(ctx);
}

static void test_ranged_download_checked(void **state)
{
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  store_error err;
  char keys[300], path[300], line[200];
  uint32_t crc = st_crc32c(0, SRC_BODY, strlen(SRC_BODY));
  struct stat st;
  (void)state;
  snprintf(path, sizeof(path), "%s/got", dir);
  snprintf(keys, sizeof(keys), "body: \"%s\", get-crc32c: \"%08x\", "
           "get-etag: \"e1\", multipart: {threshold: 16, part-size: 8}",
           SRC_BODY, crc);
  ctx = open_ctx(keys);
  svc = service(ctx, "f");
  assert_int_equal(xtstore_blob_get_file(svc, "c", "k", NULL, path, &err),
                   STORE_OK);
  assert_non_null(strstr(logbuf, " bytes in 7 ranges of 8"));
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_size, strlen(SRC_BODY));
  unlink(path);
  xtstore_ctx_close(ctx);

  snprintf(keys, sizeof(keys), "body: \"%s\", get-crc32c: \"%08x\", "
           "get-etag: \"e1\", retry: \"1\", "
           "multipart: {threshold: 16, part-size: 8}", SRC_BODY, crc ^ 1);
  ctx = open_ctx(keys);
  svc = service(ctx, "f");
  assert_int_equal(xtstore_blob_get_file(svc, "c", "k", NULL, path, &err),
                   STORE_E_IO);
  snprintf(line, sizeof(line), "service 'f': blob 'c/k': the bytes "
           "received differ from the blob (CRC-32C %08x, the blob's %08x)",
           crc, crc ^ 1);
  if (!strstr(err.message, line))
    fail_msg("got '%s'", err.message);
  /* no file, no temp file */
  assert_int_not_equal(stat(path, &st), 0);
  snprintf(line, sizeof(line), "ls -A '%s' | grep -q xtstore-get", dir);
  assert_int_not_equal(system(line), 0);
  xtstore_ctx_close(ctx);
}

/* The object replaced between the first get (which only read its entry,
 * etag e1) and its ranges: every range is pinned to e1 (if_match), the
 * fixture answers a pinned get PRECONDITION as a server does once the
 * object changed, and the download fails naming the cause; neither the
 * file nor a temp file is left. Unpinned, the ranges would mix versions. */
static void test_ranged_download_replaced(void **state)
{
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  store_error err;
  char keys[300], path[300], line[200];
  struct stat st;
  (void)state;
  snprintf(path, sizeof(path), "%s/got", dir);
  snprintf(keys, sizeof(keys), "body: \"%s\", get-etag: \"e1\", "
           "get-replaced: \"1\", retry: \"1\", "
           "multipart: {threshold: 16, part-size: 8}", SRC_BODY);
  ctx = open_ctx(keys);
  svc = service(ctx, "f");
  assert_int_equal(xtstore_blob_get_file(svc, "c", "k", NULL, path, &err),
                   STORE_E_PRECONDITION);
  assert_non_null(strstr(logbuf, " bytes in 7 ranges of 8"));
  if (!strstr(err.message, "service 'f': blob 'c/k': range ") ||
      !strstr(err.message, ": replaced while it was read (it no longer "
                           "has ETag e1)"))
    fail_msg("got '%s'", err.message);
  assert_int_not_equal(stat(path, &st), 0);
  snprintf(line, sizeof(line), "ls -A '%s' | grep -q xtstore-get", dir);
  assert_int_not_equal(system(line), 0);
  xtstore_ctx_close(ctx);
}

static void test_settings_checked(void **state)
{
  static const struct {
    const char *extra, *message;
  } bad[] = {
    {"multipart: {part-size: \"8X\"}",
     "multipart.part-size: '8X' is not a size"},
    {"multipart: {concurrency: \"0\"}",
     "multipart.concurrency: '0' is not a number of parts in flight (1..64)"},
    {"multipart: {speed: \"1\"}", "unknown multipart setting 'speed'"},
    {"multipart: \"8M\"", "multipart: expected a map"},
  };
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  store_error err;
  size_t i;
  (void)state;
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    ctx = open_ctx(bad[i].extra);
    assert_int_equal(xtstore_service_open(ctx, "f", &svc, &err),
                     STORE_E_CONFIG);
    if (!strstr(err.message, bad[i].message) || !strstr(err.message, "xt.yaml:"))
      fail_msg("%s: got '%s'", bad[i].extra, err.message);
    xtstore_ctx_close(ctx);
  }
  /* Good sizes with suffixes; the keys never reach the plugin. */
  ctx = open_ctx("multipart: {threshold: \"1MiB\", part-size: \"5M\", "
                 "concurrency: \"8\"}");
  svc = service(ctx, "f");
  assert_int_equal(st_mp_inflight(svc), 8);
  assert_false(st_mp_wanted(svc, 1 << 20));
  assert_true(st_mp_wanted(svc, (1 << 20) + 1));
  assert_true(st_mp_wanted(svc, -1));
  assert_null(strstr(logbuf, "not known to provider"));
  xtstore_ctx_close(ctx);
}

static int setup(void **state)
{
  char state_home[300];
  (void)state;
  if (!mkdtemp(dir))
    return -1;
  /* Upload journals (resume across runs) go here, not the user's. */
  snprintf(state_home, sizeof(state_home), "%s/state", dir);
  return setenv("XDG_STATE_HOME", state_home, 1);
}

/* The memory budget (core/budget.c): with room for two part buffers, a
 * pipe's upload at concurrency 8 keeps at most two parts in flight, and
 * still stores every byte in order; -v says once that the budget limited
 * it. */
static void test_budget_limits_parts_in_flight(void **state)
{
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  store_error err;
  char *buf, line[200];
  const char *ev, *at;
  size_t len = 20 * KIB + 300;
  uint64_t counted = 0;
  int inflight;
  (void)state;
  ctx = open_ctx("multipart: {threshold: 4K, part-size: 1K, "
                 "concurrency: 8}");
  svc = service(ctx, "f");
  /* Internal: the public call refuses a budget under the local service's
   * default 8 MiB part size (see test_budget.c). */
  st_budget_set(&ctx->budget, 2 * KIB);
  assert_int_equal(put_pipe(svc, len, &counted, &err), STORE_OK);
  buf = malloc(len);
  assert_non_null(buf);
  byte_pattern(buf, len);
  ev = read_events();
  snprintf(line, sizeof(line), "sum=%016llx bytes=%zu inflight=",
           (unsigned long long)fnv(buf, len), len);
  at = strstr(ev, line);
  assert_non_null(at);
  inflight = atoi(at + strlen(line));
  assert_true(inflight >= 1 && inflight <= 2);
  assert_int_equal(counted, len);
  assert_non_null(strstr(logbuf, "memory budget of 2 KiB"));
  assert_int_equal(ctx->budget.used, 0);
  free(buf);

  /* The same with the default budget: the parts overlap up to 8. */
  unlink(events);
  st_budget_set(&ctx->budget, 64u << 20);
  counted = 0;
  assert_int_equal(put_pipe(svc, len, &counted, &err), STORE_OK);
  ev = read_events();
  at = strstr(ev, "inflight=");
  assert_non_null(at);
  assert_true(atoi(at + 9) > 2);
  xtstore_ctx_close(ctx);
}

struct bg_pipe {
  xtstore_svc *svc;
  size_t len;
  uint64_t counted;
  store_error err;
  int rc;
};

static void *bg_pipe_main(void *p)
{
  struct bg_pipe *b = p;
  b->rc = put_pipe(b->svc, b->len, &b->counted, &b->err);
  return NULL;
}

/* A source over a buffer, for the fan-out. */
struct mem_src {
  const char *p;
  size_t len, at;
};

static int32_t mem_read(void *ud, void *out, size_t cap, size_t *out_n)
{
  struct mem_src *m = ud;
  size_t n = m->len - m->at < cap ? m->len - m->at : cap;
  memcpy(out, m->p + m->at, n);
  m->at += n;
  *out_n = n;
  return 0;
}

/* Transfers that hold budget and want more never deadlock: two pipes at
 * once, each wanting 8 part buffers of a budget of 2, both complete; a
 * fan-out to two services in parts, whose rings alone exceed the budget,
 * is granted its minimum alone and completes at one part in flight each
 * (its second part buffers do not fit). */
static void test_budget_no_deadlock(void **state)
{
  xtstore_ctx *ctx;
  struct bg_pipe b[2];
  pthread_t tid[2];
  struct mem_src ms;
  store_put_opts po;
  store_error err;
  const char *const both[] = {"f", "s"};
  char extra[400], *buf, line[200];
  size_t len = 20 * KIB + 300;
  int i;
  (void)state;
  snprintf(extra, sizeof(extra), "events: \"%s/events-s\", multipart: "
           "{threshold: 4K, part-size: 1K, concurrency: 8}", dir);
  ctx = open_ctx_src("multipart: {threshold: 4K, part-size: 1K, "
                     "concurrency: 8}", extra);
  st_budget_set(&ctx->budget, 2 * KIB);
  buf = malloc(len);
  assert_non_null(buf);
  byte_pattern(buf, len);
  snprintf(line, sizeof(line), "sum=%016llx bytes=%zu inflight=",
           (unsigned long long)fnv(buf, len), len);
  for (i = 0; i < 2; i++) {
    memset(&b[i], 0, sizeof(b[i]));
    b[i].svc = service(ctx, both[i]);
    b[i].len = len;
    assert_int_equal(pthread_create(&tid[i], NULL, bg_pipe_main, &b[i]), 0);
  }
  for (i = 0; i < 2; i++) {
    pthread_join(tid[i], NULL);
    if (b[i].rc)
      fail_msg("%s", b[i].err.message);
    assert_int_equal(b[i].counted, len);
  }
  assert_non_null(strstr(read_events(), line));
  assert_int_equal(ctx->budget.used, 0);

  unlink(events);
  memset(&po, 0, sizeof(po));
  po.struct_size = sizeof(po);
  po.content_length = -1;
  ms.p = buf;
  ms.len = len;
  ms.at = 0;
  assert_int_equal(xtstore_put_fanout(ctx, both, 2, "c", "fan", &po, mem_read,
                                      &ms, "mem", NULL, NULL, &err),
                   STORE_OK);
  snprintf(line, sizeof(line), "sum=%016llx bytes=%zu inflight=1\n",
           (unsigned long long)fnv(buf, len), len);
  assert_non_null(strstr(read_events(), line));
  assert_int_equal(ctx->budget.used, 0);
  free(buf);
  xtstore_ctx_close(ctx);
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
    cmocka_unit_test(test_parts_retried_alone),
    cmocka_unit_test(test_final_failure_aborts_and_names_part),
    cmocka_unit_test(test_cancel_aborts),
    cmocka_unit_test(test_stream_in_order),
    cmocka_unit_test(test_part_size_within_limits),
    cmocka_unit_test(test_ranged_copy_from_another_service),
    cmocka_unit_test(test_settings_checked),
    cmocka_unit_test(test_part_checksums_passed),
    cmocka_unit_test(test_wrong_part_sent_again),
    cmocka_unit_test(test_wrong_part_fails),
    cmocka_unit_test(test_wrong_object_removed),
    cmocka_unit_test(test_copy_checked_against_source),
    cmocka_unit_test(test_ranged_download_checked),
    cmocka_unit_test(test_ranged_download_replaced),
    cmocka_unit_test(test_file_changed_mid_upload),
    cmocka_unit_test(test_network_failure_kept),
    cmocka_unit_test(test_cancel_during_retry_aborts),
    cmocka_unit_test(test_file_changed_refused_aborts),
    cmocka_unit_test(test_file_changed_local_aborts),
    cmocka_unit_test(test_parts_of_a_1_0_plugin),
    cmocka_unit_test(test_copy_from_md5_source),
    cmocka_unit_test(test_copy_source_crc_wins),
    cmocka_unit_test(test_budget_limits_parts_in_flight),
    cmocka_unit_test(test_budget_no_deadlock),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
