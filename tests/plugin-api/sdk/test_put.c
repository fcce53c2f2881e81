/*
** test_put.c -- sdk/put: sdk_put.h. Which of the provider's functions a
** put goes to for a known length up to and beyond the cutoff, an unknown
** one that ends inside the buffered part, fills it exactly or goes on,
** and a declared 0; what the buffered part holds; a failing source, a
** body longer than 0 bytes and the callbacks' own codes.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdk_put.h"

#define CUTOFF 100
#define PART   64

/* A source of `len` bytes (byte i is i % 251), handed out at most `chunk`
 * at a time; it refuses once `abort_at` bytes are out (-1: never). */
typedef struct source {
  size_t len, pos, chunk;
  long abort_at;
} source;

static int32_t source_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  source *s = ud;
  size_t n = s->len - s->pos;

  if (s->abort_at >= 0 && s->pos >= (size_t)s->abort_at)
    return STORE_E_ABORTED;
  if (n > cap)
    n = cap;
  if (n > s->chunk)
    n = s->chunk;
  for (size_t i = 0; i < n; i++)
    ((unsigned char *)buf)[i] = (unsigned char)((s->pos + i) % 251);
  s->pos += n;
  *out_n = n;
  return 0;
}

/* What the provider's functions were called with. */
typedef struct record {
  int singles, parts, fails;
  int streamed;                 /* single: b given                        */
  uint64_t want;                /* single: b->want                        */
  uint32_t bflags;              /* single: b->flags                       */
  size_t memlen;                /* single: memlen; parts: first_len       */
  int bytes_ok;                 /* the bytes in memory are the source's   */
  int buf_null;                 /* parts: buf NULL                        */
  int32_t code;                 /* fail: its code                         */
  char why[128];
  int32_t rc;                   /* what single and parts return           */
} record;

static record rec;

static int pattern_ok(const char *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)p[i] != (unsigned char)(i % 251))
      return 0;
  return 1;
}

static int32_t rec_single(const sdk_put_call *c, sdk_body *b, const char *mem,
                      size_t memlen)
{
  assert_string_equal(c->target, "target");
  rec.singles++;
  rec.streamed = b != NULL;
  if (b) {
    rec.want = b->want;
    rec.bflags = b->flags;
    assert_ptr_equal(b->src, c->src);
    assert_ptr_equal(b->ctx, c->src_ctx);
    assert_null(mem);
  } else {
    rec.memlen = memlen;
    rec.bytes_ok = pattern_ok(mem, memlen);
  }
  return rec.rc;
}

static int32_t rec_parts(const sdk_put_call *c, char *buf, size_t first_len)
{
  assert_string_equal(c->target, "target");
  rec.parts++;
  rec.buf_null = buf == NULL;
  rec.memlen = first_len;
  rec.bytes_ok = buf ? pattern_ok(buf, first_len) : 0;
  return rec.rc;
}

static int32_t rec_fail(const sdk_put_call *c, int32_t code, const char *why)
{
  (void)c;
  rec.fails++;
  rec.code = code;
  snprintf(rec.why, sizeof(rec.why), "%s", why);
  return code;
}

static const sdk_put_ops ops = {rec_single, rec_parts, rec_fail, CUTOFF,
                                PART};

/* sdk_put of source s declared as len (-2: no opts), the provider's
 * functions returning rc. */
static int32_t put_rc(int64_t len, source *s, int32_t rc)
{
  store_put_opts opts;
  sdk_put_call c = {NULL, "target", &opts, source_read, s, NULL, NULL};

  memset(&rec, 0, sizeof(rec));
  memset(&opts, 0, sizeof(opts));
  opts.struct_size = sizeof(opts);
  opts.content_length = len;
  if (len == -2)
    c.opts = NULL;
  rec.rc = rc;
  return sdk_put(&ops, &c);
}

static int32_t put(int64_t len, source *s)
{
  return put_rc(len, s, 0);
}

static void test_known(void **state)
{
  source s = {CUTOFF, 0, 7, -1};

  (void)state;
  /* Up to the cutoff: one request streamed, checked for a longer source;
   * nothing read before it. */
  assert_int_equal(put(CUTOFF, &s), 0);
  assert_int_equal(rec.singles, 1);
  assert_int_equal(rec.parts + rec.fails, 0);
  assert_true(rec.streamed);
  assert_int_equal(rec.want, CUTOFF);
  assert_int_equal(rec.bflags, SDK_BODY_PROBE_EOF);
  assert_int_equal(s.pos, 0);
  /* Beyond it: parts, streamed. */
  s = (source){CUTOFF + 1, 0, 7, -1};
  assert_int_equal(put(CUTOFF + 1, &s), 0);
  assert_int_equal(rec.parts, 1);
  assert_int_equal(rec.singles + rec.fails, 0);
  assert_true(rec.buf_null);
  assert_int_equal(rec.memlen, 0);
  assert_int_equal(s.pos, 0);
}

static void test_unknown(void **state)
{
  source s = {PART - 1, 0, 5, -1};

  (void)state;
  /* Ends inside the part: one request from memory, all of it. */
  assert_int_equal(put(-1, &s), 0);
  assert_int_equal(rec.singles, 1);
  assert_int_equal(rec.parts + rec.fails, 0);
  assert_false(rec.streamed);
  assert_int_equal(rec.memlen, PART - 1);
  assert_true(rec.bytes_ok);
  /* No opts at all is an unknown length too; an empty source, 0 bytes. */
  s = (source){0, 0, 5, -1};
  assert_int_equal(put(-2, &s), 0);
  assert_int_equal(rec.singles, 1);
  assert_int_equal(rec.memlen, 0);
  /* Fills it exactly: a full part is not probed for the end, so parts,
   * the whole part first. */
  s = (source){PART, 0, 5, -1};
  assert_int_equal(put(-1, &s), 0);
  assert_int_equal(rec.parts, 1);
  assert_int_equal(rec.singles + rec.fails, 0);
  assert_false(rec.buf_null);
  assert_int_equal(rec.memlen, PART);
  assert_true(rec.bytes_ok);
  /* Goes on: parts, the buffered one first, the rest still in the source
   * (bounded memory: no more than one part read ahead). */
  s = (source){10 * PART, 0, 1000, -1};
  assert_int_equal(put(-1, &s), 0);
  assert_int_equal(rec.parts, 1);
  assert_int_equal(rec.memlen, PART);
  assert_true(rec.bytes_ok);
  assert_int_equal(s.pos, PART);
}

static void test_zero(void **state)
{
  source s = {0, 0, 5, -1};

  (void)state;
  assert_int_equal(put(0, &s), 0);
  assert_int_equal(rec.singles, 1);
  assert_false(rec.streamed);
  assert_int_equal(rec.memlen, 0);
  /* A source with more than the declared 0: refused, nothing sent, and
   * no more than one byte read to tell. */
  s = (source){PART * 3, 0, 1000, -1};
  assert_int_equal(put(0, &s), STORE_E_INVALID);
  assert_int_equal(rec.fails, 1);
  assert_int_equal(rec.singles + rec.parts, 0);
  assert_string_equal(rec.why, "body longer than the declared 0 bytes");
  assert_int_equal(s.pos, 1);
}

static void test_failures(void **state)
{
  source s = {PART * 2, 0, 10, 20};

  (void)state;
  /* The source stops while the part fills: its failure, nothing sent. */
  assert_int_equal(put(-1, &s), STORE_E_ABORTED);
  assert_int_equal(rec.fails, 1);
  assert_int_equal(rec.code, STORE_E_ABORTED);
  assert_string_equal(rec.why, "the read callback stopped the upload");
  assert_int_equal(rec.singles + rec.parts, 0);
  /* The callbacks' codes come back as they are. */
  s = (source){10, 0, 10, -1};
  assert_int_equal(put_rc(-1, &s, STORE_E_PRECONDITION),
                   STORE_E_PRECONDITION);
  assert_int_equal(rec.singles, 1);
  s = (source){PART * 2, 0, 1000, -1};
  assert_int_equal(put_rc(-1, &s, STORE_E_IO), STORE_E_IO);
  assert_int_equal(rec.parts, 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_known),
    cmocka_unit_test(test_unknown),
    cmocka_unit_test(test_zero),
    cmocka_unit_test(test_failures),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
