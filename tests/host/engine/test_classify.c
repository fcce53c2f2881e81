/*
** st_plan_classify (host/workflow/plan.c), which migrate and sync decide
** by: with --checksum the CRC-32Cs when both listings have them (an MD5
** that differs does not matter then), else the MD5s, else the times --
** a local file's summed for the pair, of the kind the other end has;
** falling back to times is said once.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "workflow/workflow.h"

static st_wf_entry *entry(uint64_t size, const char *md5, int has_crc,
                          uint32_t crc)
{
  st_wf_entry *e = calloc(1, sizeof(*e) + 2);
  assert_non_null(e);
  e->size = size;
  e->mtime_ns = STORE_MTIME_UNKNOWN;
  snprintf(e->md5, sizeof(e->md5), "%s", md5);
  e->has_crc = has_crc;
  e->crc32c = crc;
  strcpy(e->name, "k");
  return e;
}

static void test_crc_preferred(void **state)
{
  st_wf_entry *a = entry(9, "aa", 1, 0xe3069283), *b = entry(9, "bb", 1,
                                                              0xe3069283);
  (void)state;
  /* the same CRC-32C, other MD5s (one side a multipart ETag): equal */
  assert_int_equal(st_plan_classify(a, b, 1), XTSTORE_OBJ_EQUAL);
  b->crc32c ^= 1;
  assert_int_equal(st_plan_classify(a, b, 1), XTSTORE_OBJ_UPDATE);
  /* without --checksum, neither is looked at */
  assert_int_equal(st_plan_classify(a, b, 0), XTSTORE_OBJ_EQUAL);
  /* one side without a CRC-32C: the MD5s decide */
  b->has_crc = 0;
  assert_int_equal(st_plan_classify(a, b, 1), XTSTORE_OBJ_UPDATE);
  snprintf(b->md5, sizeof(b->md5), "aa");
  assert_int_equal(st_plan_classify(a, b, 1), XTSTORE_OBJ_EQUAL);
  free(a);
  free(b);
}

static char logbuf[1024];

static void capture_log(void *ud, int32_t level, const char *msg)
{
  size_t used = strlen(logbuf);
  (void)ud;
  (void)level;
  snprintf(logbuf + used, sizeof(logbuf) - used, "%s\n", msg);
}

static void test_local_file_summed(void **state)
{
  char dir[] = "/tmp/xtstore-classify-XXXXXX", path[64], *at;
  xtstore_ctx_opts o;
  xtstore_ctx *ctx;
  store_error err;
  st_wf_end local, remote;
  st_lister ll, rl;
  st_wf_entry *a, *b;
  FILE *f;
  (void)state;
  memset(&o, 0, sizeof(o));
  o.struct_size = sizeof(o);
  o.flags = XTSTORE_CTX_NO_SYSTEM_CONFIG | XTSTORE_CTX_NO_USER_CONFIG |
            XTSTORE_CTX_NO_CWD_CONFIG;
  o.log = capture_log;
  o.log_level = STORE_LOG_WARN;
  assert_int_equal(xtstore_ctx_open(&o, &ctx, &err), STORE_OK);
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof(path), "%s/k", dir);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs("123456789", f);
  fclose(f);
  memset(&local, 0, sizeof(local));
  memset(&remote, 0, sizeof(remote));
  memset(&ll, 0, sizeof(ll));
  memset(&rl, 0, sizeof(rl));
  snprintf(path, sizeof(path), "%s/", dir);
  local.dir = path;
  remote.svc = (xtstore_svc *)ctx;  /* any service: never called */
  ll.end = &local;
  ll.ctx = ctx;
  rl.end = &remote;
  rl.ctx = ctx;
  a = entry(9, "", 0, 0);
  b = entry(9, "", 1, 0xe3069283);
  a->from = &ll;
  b->from = &rl;
  a->mtime_ns = 2000000000000000000LL;  /* newer: times would update */
  b->mtime_ns = 1000000000000000000LL;
  /* the file's CRC-32C against the listed one, either way round */
  assert_int_equal(st_plan_classify(a, b, 1), XTSTORE_OBJ_EQUAL);
  assert_int_equal(st_plan_classify(b, a, 1), XTSTORE_OBJ_EQUAL);
  b->crc32c ^= 1;
  assert_int_equal(st_plan_classify(a, b, 1), XTSTORE_OBJ_UPDATE);
  /* an MD5 where the other end has only that */
  b->has_crc = 0;
  snprintf(b->md5, sizeof(b->md5), "25f9e794323b453885f5181f1b624d0b");
  assert_int_equal(st_plan_classify(a, b, 1), XTSTORE_OBJ_EQUAL);
  b->md5[0] = 'f';
  assert_int_equal(st_plan_classify(a, b, 1), XTSTORE_OBJ_UPDATE);
  assert_string_equal(logbuf, "");
  /* no checksum at the other end: times decide, said once */
  b->md5[0] = '\0';
  assert_int_equal(st_plan_classify(a, b, 1), XTSTORE_OBJ_UPDATE);
  assert_int_equal(st_plan_classify(a, b, 1), XTSTORE_OBJ_UPDATE);
  at = strstr(logbuf, "checksum comparison: neither end has a checksum of "
                      "'k': sizes and modification times decide");
  assert_non_null(at);
  assert_null(strstr(at + 1, "checksum comparison"));
  free(a);
  free(b);
  snprintf(path, sizeof(path), "rm -rf '%s'", dir);
  assert_int_equal(system(path), 0);
  xtstore_ctx_close(ctx);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_crc_preferred),
    cmocka_unit_test(test_local_file_summed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
