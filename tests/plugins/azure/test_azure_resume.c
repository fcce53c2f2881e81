/*
** test_azure_resume.c -- the multipart ops across handles, as a run that
** resumes another's upload uses them (plugins/azure/azure_multipart.c),
** against Azurite through the library: two services of one config are two
** plugin handles, "az" (A) and "az2" (B).
**
**   test_azure_resume CONFIG CONTAINER   (a new container's name)
**
** B takes parts of and completes an upload A began, with the options it is
** given; a well-formed id with no blocks on the server is gone
** (STORE_E_NOT_FOUND naming it); a malformed id is refused before any
** request; an abort makes the aborting handle's later part and complete
** fail. run-resume.sh writes the config; the container is made here and
** removed with what it holds.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <cmocka.h>

#include "sdk_util.h"
#include "xtstore.h"

static xtstore_ctx *g_ctx;
static xtstore_svc *g_a, *g_b;
static const char *g_c;

static store_error err_new(void)
{
  store_error e;

  memset(&e, 0, sizeof(e));
  e.struct_size = sizeof(e);
  return e;
}

static store_put_opts opts_new(void)
{
  store_put_opts o;

  memset(&o, 0, sizeof(o));
  o.struct_size = sizeof(o);
  o.content_length = -1;
  return o;
}

static void assert_contains_at(const char *hay, const char *needle,
                               const char *file, int line)
{
  if (!strstr(hay, needle)) {
    print_error("'%s' does not contain '%s'\n", hay, needle);
    _fail(file, line);
  }
}
#define assert_contains(h, n) assert_contains_at((h), (n), __FILE__, __LINE__)

/* Byte i of the body of seed s. */
static unsigned char gen(unsigned s, uint64_t i)
{
  return (unsigned char)((i * 31 + s * 7 + (i >> 9)) & 0xff);
}

typedef struct gen_src {
  unsigned seed;
  uint64_t off, end;
} gen_src;

static int32_t gen_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  gen_src *g = ud;
  size_t n = 0;

  while (n < cap && g->off < g->end)
    ((unsigned char *)buf)[n++] = gen(g->seed, g->off++);
  *out_n = n;
  return 0;
}

/* Part `no` of upload `id`: `len` bytes of seed `seed` from offset off. */
static int put_part(xtstore_svc *s, const char *key, const char *id,
                    uint32_t no, unsigned seed, uint64_t off, uint64_t len,
                    char *tok, store_error *e)
{
  gen_src g = {seed, off, off + len};

  return xtstore_multipart_part(s, g_c, key, id, no, len, gen_read, &g, tok,
                                STORE_ID_SIZE, e);
}

typedef struct got {
  unsigned seed;
  uint64_t n, bad;
} got;

static int32_t got_write(void *ud, const void *buf, size_t len)
{
  got *g = ud;

  for (size_t i = 0; i < len; i++, g->n++)
    g->bad += ((const unsigned char *)buf)[i] != gen(g->seed, g->n);
  return 0;
}

/* The blob is `n` bytes of seed `seed`. */
static void assert_blob(const char *key, unsigned seed, uint64_t n)
{
  store_error e = err_new();
  got g = {seed, 0, 0};

  assert_int_equal(xtstore_blob_get(g_a, g_c, key, NULL, got_write, &g, &e),
                   STORE_OK);
  assert_int_equal(g.n, n);
  assert_int_equal(g.bad, 0);
}

static void assert_missing(const char *key)
{
  store_error e = err_new();
  int exists = 1;

  assert_int_equal(xtstore_blob_exists(g_a, g_c, key, &exists, &e), STORE_OK);
  assert_false(exists);
}

typedef struct props {
  char ct[64], run[16];
} props;

static int32_t props_entry(void *ud, const store_entry *en)
{
  props *p = ud;

  snprintf(p->ct, sizeof(p->ct), "%s", en->content_type ? en->content_type
                                                        : "");
  for (size_t i = 0; i < en->nmetadata; i++)
    if (!strcmp(en->metadata[i].key, "run"))
      snprintf(p->run, sizeof(p->run), "%s", en->metadata[i].value);
  return 0;
}

/* A well-formed id no handle began: 32 random hex digits. */
static void random_id(char out[33])
{
  unsigned char raw[16];

  assert_int_equal(getrandom(raw, sizeof(raw), 0), (ssize_t)sizeof(raw));
  sdk_hex(raw, sizeof(raw), out);
}

/* The token part `no` of upload `id` gets: base64("ID-NNNNN"). */
static void block_token(const char *id, uint32_t no, char *out, size_t cap)
{
  char raw[48];
  sdk_buf b = SDK_BUF_INIT;

  snprintf(raw, sizeof(raw), "%s-%05u", id, (unsigned)no);
  assert_int_equal(sdk_base64_encode(&b, raw, strlen(raw)), 0);
  assert_true(b.len < cap);
  memcpy(out, b.data, b.len);
  out[b.len] = '\0';
  sdk_buf_free(&b);
}

/* B goes on with the upload A began (as a new run resumes a killed one's):
 * it sends the last part and completes with the options it is given. */
static void test_other_handle_completes(void **state)
{
  static const store_kv md[] = {{"run", "two"}};
  const char *k = "resumed.bin";
  char id[STORE_ID_SIZE], tok[2][STORE_ID_SIZE];
  const char *toks[2] = {tok[0], tok[1]};
  store_put_opts o = opts_new();
  store_put_result r;
  store_error e = err_new();
  props p = {"", ""};

  (void)state;
  o.content_type = "text/x-first-run";
  assert_int_equal(xtstore_multipart_begin(g_a, g_c, k, &o, id, sizeof(id),
                                           &e), STORE_OK);
  assert_int_equal(put_part(g_a, k, id, 1, 5, 0, 300000, tok[0], &e),
                   STORE_OK);
  assert_int_equal(put_part(g_b, k, id, 2, 5, 300000, 4321, tok[1], &e),
                   STORE_OK);
  o.content_type = "application/x-resumed";
  o.metadata = md;
  o.nmetadata = 1;
  memset(&r, 0, sizeof(r));
  r.struct_size = sizeof(r);
  assert_int_equal(xtstore_multipart_complete(g_b, g_c, k, id, &o, toks, 2,
                                              &r, &e), STORE_OK);
  assert_int_equal(r.size, 304321);
  assert_blob(k, 5, 304321);
  assert_int_equal(xtstore_blob_head(g_a, g_c, k, NULL, props_entry, &p, &e),
                   STORE_OK);
  assert_string_equal(p.ct, "application/x-resumed");
  assert_string_equal(p.run, "two");
}

/* A well-formed id whose blocks the service does not have is gone:
 * STORE_E_NOT_FOUND naming the upload, and nothing is stored. */
static void test_unknown_id_gone(void **state)
{
  const char *k = "gone.bin";
  char id[33], tok[STORE_ID_SIZE];
  const char *toks[1] = {tok};
  store_error e = err_new();
  char want[64];

  (void)state;
  random_id(id);
  block_token(id, 1, tok, sizeof(tok));
  assert_int_equal(xtstore_multipart_complete(g_b, g_c, k, id, NULL, toks, 1,
                                              NULL, &e), STORE_E_NOT_FOUND);
  snprintf(want, sizeof(want), "upload '%s' is gone", id);
  assert_contains(e.message, want);
  assert_contains(e.message, "InvalidBlockList");
  assert_missing(k);

  /* The same after one part went up on another handle: part 2 is not
   * there. */
  e = err_new();
  char tok2[STORE_ID_SIZE];
  const char *two[2] = {tok, tok2};
  assert_int_equal(put_part(g_a, k, id, 1, 6, 0, 1000, tok, &e), STORE_OK);
  block_token(id, 2, tok2, sizeof(tok2));
  assert_int_equal(xtstore_multipart_complete(g_b, g_c, k, id, NULL, two, 2,
                                              NULL, &e), STORE_E_NOT_FOUND);
  assert_contains(e.message, want);
  assert_missing(k);
}

/* A malformed id is refused at once, naming it. */
static void test_malformed_id(void **state)
{
  static const char *const bad[] = {
    "not-an-upload-id", "0123456789ABCDEF0123456789abcdef",
    "0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdef0"};
  const char *toks[1] = {"bm90LWEtdG9rZW4="};
  char tok[STORE_ID_SIZE], want[80];
  store_error e;

  (void)state;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    snprintf(want, sizeof(want), "'%s' is not an upload id", bad[i]);
    e = err_new();
    assert_int_equal(xtstore_multipart_complete(g_b, g_c, "bad.bin", bad[i],
                                                NULL, toks, 1, NULL, &e),
                     STORE_E_INVALID);
    assert_contains(e.message, want);
    e = err_new();
    assert_int_equal(put_part(g_b, "bad.bin", bad[i], 1, 7, 0, 10, tok, &e),
                     STORE_E_INVALID);
    assert_contains(e.message, want);
  }
  assert_missing("bad.bin");
}

/* An abort makes the aborting handle's later part and complete fail,
 * whether that handle began the upload or not. */
static void test_abort(void **state)
{
  const char *k = "aborted.bin";
  char id[STORE_ID_SIZE], tok[2][STORE_ID_SIZE], want[STORE_ID_SIZE + 32];
  const char *toks[2] = {tok[0], tok[1]};
  store_error e = err_new();

  (void)state;
  assert_int_equal(xtstore_multipart_begin(g_a, g_c, k, NULL, id, sizeof(id),
                                           &e), STORE_OK);
  snprintf(want, sizeof(want), "upload '%s' was aborted", id);
  assert_int_equal(put_part(g_a, k, id, 1, 8, 0, 2000, tok[0], &e), STORE_OK);
  assert_int_equal(xtstore_multipart_abort(g_a, g_c, k, id, &e), STORE_OK);
  assert_int_equal(put_part(g_a, k, id, 2, 8, 2000, 10, tok[1], &e),
                   STORE_E_NOT_FOUND);
  assert_contains(e.message, want);
  e = err_new();
  assert_int_equal(xtstore_multipart_complete(g_a, g_c, k, id, NULL, toks, 1,
                                              NULL, &e), STORE_E_NOT_FOUND);
  assert_contains(e.message, want);
  assert_missing(k);

  /* B aborts an upload A began: B's complete fails. */
  e = err_new();
  assert_int_equal(xtstore_multipart_begin(g_a, g_c, k, NULL, id, sizeof(id),
                                           &e), STORE_OK);
  snprintf(want, sizeof(want), "upload '%s' was aborted", id);
  assert_int_equal(put_part(g_a, k, id, 1, 8, 0, 2000, tok[0], &e), STORE_OK);
  assert_int_equal(xtstore_multipart_abort(g_b, g_c, k, id, &e), STORE_OK);
  assert_int_equal(xtstore_multipart_complete(g_b, g_c, k, id, NULL, toks, 1,
                                              NULL, &e), STORE_E_NOT_FOUND);
  assert_contains(e.message, want);
  assert_missing(k);
}

/* The conditions complete is given hold, on whichever handle: a
 * fail-if-exists commit over a blob there already is refused. */
static void test_condition_at_complete(void **state)
{
  const char *k = "exists.bin";
  char id[STORE_ID_SIZE], tok[STORE_ID_SIZE];
  const char *toks[1] = {tok};
  store_put_opts o = opts_new();
  store_error e = err_new();
  gen_src g = {9, 0, 777};

  (void)state;
  o.content_length = 777;
  assert_int_equal(xtstore_blob_put(g_a, g_c, k, &o, gen_read, &g, NULL,
                                    NULL, &e), STORE_OK);
  assert_int_equal(xtstore_multipart_begin(g_a, g_c, k, NULL, id, sizeof(id),
                                           &e), STORE_OK);
  assert_int_equal(put_part(g_a, k, id, 1, 10, 0, 1000, tok, &e), STORE_OK);
  o = opts_new();
  o.flags = STORE_PUT_IF_NONE_MATCH;
  assert_int_equal(xtstore_multipart_complete(g_b, g_c, k, id, &o, toks, 1,
                                              NULL, &e), STORE_E_EXISTS);
  assert_blob(k, 9, 777);
}

int main(int argc, char **argv)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_other_handle_completes),
    cmocka_unit_test(test_unknown_id_gone),
    cmocka_unit_test(test_malformed_id),
    cmocka_unit_test(test_abort),
    cmocka_unit_test(test_condition_at_complete),
  };
  xtstore_ctx_opts co;
  store_error e = err_new();
  int rc;

  if (argc != 3) {
    fprintf(stderr, "usage: test_azure_resume CONFIG CONTAINER\n");
    return 2;
  }
  g_c = argv[2];
  memset(&co, 0, sizeof(co));
  co.struct_size = sizeof(co);
  co.flags = XTSTORE_CTX_NO_SYSTEM_CONFIG | XTSTORE_CTX_NO_USER_CONFIG |
             XTSTORE_CTX_NO_CWD_CONFIG;
  co.config_path = argv[1];
  co.log_level = STORE_LOG_WARN;
  if (xtstore_ctx_open(&co, &g_ctx, &e) ||
      xtstore_service_open(g_ctx, "az", &g_a, &e) ||
      xtstore_service_open(g_ctx, "az2", &g_b, &e)) {
    fprintf(stderr, "test_azure_resume: %s\n", e.message);
    xtstore_ctx_close(g_ctx);
    return 1;
  }
  if (xtstore_container_create(g_a, g_c, NULL, 0, &e)) {
    fprintf(stderr, "test_azure_resume: %s\n", e.message);
    xtstore_ctx_close(g_ctx);
    return 1;
  }
  rc = cmocka_run_group_tests(tests, NULL, NULL);
  (void)xtstore_container_delete(g_a, g_c, STORE_CONTAINER_DELETE_RECURSIVE,
                                 &e);
  xtstore_ctx_close(g_ctx);
  return rc;
}
