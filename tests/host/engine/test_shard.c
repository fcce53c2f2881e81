/*
** Shards (host/workflow/shard.c): the hash's known values, which
** docs/sharding.md publishes and every version must keep (FNV-1a's own
** test vectors, then names of a tree), and "--shard" as written or from
** the environment of a Kubernetes, Slurm or AWS Batch array task.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xtstore.h"

static const char *const env_vars[] = {
  "JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT",
  "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_STEP", "SLURM_ARRAY_TASK_MAX",
  "AWS_BATCH_JOB_ARRAY_INDEX", "XTSTORE_SHARD_COUNT",
};

static int clear_env(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
    unsetenv(env_vars[i]);
  return 0;
}

static void test_known_values(void **state)
{
  (void)state;
  /* FNV-1a 32: "" and "a" and "foobar" are the published vectors
   * (0x811c9dc5, 0xe40c292c, 0xbf9cf968), each below 2^32 - 1 shards. */
  assert_int_equal(xtstore_shard_of("", 0xffffffffu), 0x811c9dc5u);
  assert_int_equal(xtstore_shard_of("a", 0xffffffffu), 0xe40c292cu);
  assert_int_equal(xtstore_shard_of("foobar", 0xffffffffu), 0xbf9cf968u);
  /* The table of docs/sharding.md. */
  assert_int_equal(xtstore_shard_of("photos/2024/cat.jpg", 8), 7);
  assert_int_equal(xtstore_shard_of("f00001", 8), 0);
  assert_int_equal(xtstore_shard_of("f00002", 8), 1);
  assert_int_equal(xtstore_shard_of("f00003", 8), 6);
  assert_int_equal(xtstore_shard_of("f00003", 3), 2);
  assert_int_equal(xtstore_shard_of("caf\xc3\xa9.txt", 3), 0);
  assert_int_equal(xtstore_shard_of("caf\xc3\xa9.txt", 8), 7);
  /* No shards: everything is shard 0. */
  assert_int_equal(xtstore_shard_of("f00003", 0), 0);
  assert_int_equal(xtstore_shard_of("f00003", 1), 0);
}

/* text parses to shard i of n. */
static void parses(const char *text, uint32_t i, uint32_t n)
{
  store_error err;
  uint32_t gi = 99, gn = 99;
  memset(&err, 0, sizeof(err));
  assert_int_equal(xtstore_shard_parse(text, &gi, &gn, &err), STORE_OK);
  assert_int_equal(gi, i);
  assert_int_equal(gn, n);
}

/* text is refused with a message that says `says`. */
static void fails(const char *text, const char *says)
{
  store_error err;
  uint32_t gi, gn;
  memset(&err, 0, sizeof(err));
  assert_int_equal(xtstore_shard_parse(text, &gi, &gn, &err),
                   STORE_E_INVALID);
  if (!strstr(err.message, says))
    fail_msg("'%s': '%s' lacks '%s'", text, err.message, says);
}

static void test_written(void **state)
{
  (void)state;
  parses("0/1", 0, 1);
  parses("2/3", 2, 3);
  parses("65535/65536", 65535, 65536);
  fails("3/3", "below the number of shards");
  fails("0/0", "wants I/N");
  fails("1", "wants I/N");
  fails("-1/3", "wants I/N");
  fails("1/3x", "wants I/N");
  fails("a/3", "wants I/N");
  fails("0/65537", "wants I/N");
  fails("", "wants I/N");
}

static void test_kubernetes_batch(void **state)
{
  (void)state;
  fails("auto", "none of JOB_COMPLETION_INDEX");
  setenv("JOB_COMPLETION_INDEX", "2", 1);
  fails("auto", "use --shard auto/N or set XTSTORE_SHARD_COUNT");
  parses("auto/3", 2, 3);
  fails("auto/2", "not below the 2 shards");
  setenv("XTSTORE_SHARD_COUNT", "5", 1);
  parses("auto", 2, 5);
  parses("auto/5", 2, 5);
  fails("auto/3", "XTSTORE_SHARD_COUNT says 5 shards");
  setenv("JOB_COMPLETION_INDEX", "x", 1);
  fails("auto", "JOB_COMPLETION_INDEX is 'x'");
  clear_env(NULL);
  setenv("AWS_BATCH_JOB_ARRAY_INDEX", "7", 1);
  parses("auto/8", 7, 8);
  fails("auto", "AWS_BATCH_JOB_ARRAY_INDEX gives the index");
  setenv("JOB_COMPLETION_INDEX", "1", 1);
  fails("auto/8", "both JOB_COMPLETION_INDEX and AWS_BATCH_JOB_ARRAY_INDEX");
}

static void test_slurm(void **state)
{
  (void)state;
  setenv("SLURM_ARRAY_TASK_ID", "4", 1);
  fails("auto", "SLURM_ARRAY_TASK_COUNT is not");
  setenv("SLURM_ARRAY_TASK_COUNT", "8", 1);
  parses("auto", 4, 8);
  parses("auto/8", 4, 8);
  fails("auto/4", "the Slurm array has 8 tasks");
  /* --array=1-8: ids 1..8 are shards 0..7 */
  setenv("SLURM_ARRAY_TASK_MIN", "1", 1);
  parses("auto", 3, 8);
  setenv("SLURM_ARRAY_TASK_ID", "8", 1);
  parses("auto", 7, 8);
  setenv("SLURM_ARRAY_TASK_ID", "9", 1);
  fails("auto", "is not one of the 8 tasks from 1");
  setenv("SLURM_ARRAY_TASK_ID", "0", 1);
  fails("auto", "is not one of the 8 tasks from 1");
  /* --array=10-24:2 */
  setenv("SLURM_ARRAY_TASK_MIN", "10", 1);
  setenv("SLURM_ARRAY_TASK_STEP", "2", 1);
  setenv("SLURM_ARRAY_TASK_ID", "14", 1);
  parses("auto", 2, 8);
  setenv("SLURM_ARRAY_TASK_ID", "15", 1);
  fails("auto", "in steps of 2");
  /* Slurm's MAX agrees: 10 + 2 * 7 */
  setenv("SLURM_ARRAY_TASK_MAX", "24", 1);
  setenv("SLURM_ARRAY_TASK_ID", "24", 1);
  parses("auto", 7, 8);
}

/* --array=0,1,5: COUNT 3, MIN 0, MAX 5, no STEP. Every task refuses, the
 * ones before the gap too (they alone would split the objects 3 ways
 * with a shard 2 that never runs). */
static void test_slurm_gaps(void **state)
{
  static const char *const ids[] = { "0", "1", "5" };
  size_t k;

  (void)state;
  setenv("SLURM_ARRAY_TASK_COUNT", "3", 1);
  setenv("SLURM_ARRAY_TASK_MIN", "0", 1);
  setenv("SLURM_ARRAY_TASK_MAX", "5", 1);
  for (k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
    setenv("SLURM_ARRAY_TASK_ID", ids[k], 1);
    fails("auto", "do not end at its last id 5 (an array with gaps");
  }
  /* --array=0-2 says MAX 2: fine. */
  setenv("SLURM_ARRAY_TASK_MAX", "2", 1);
  setenv("SLURM_ARRAY_TASK_ID", "1", 1);
  parses("auto", 1, 3);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_known_values, clear_env),
    cmocka_unit_test_setup(test_written, clear_env),
    cmocka_unit_test_setup(test_kubernetes_batch, clear_env),
    cmocka_unit_test_setup(test_slurm, clear_env),
    cmocka_unit_test_setup(test_slurm_gaps, clear_env),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
