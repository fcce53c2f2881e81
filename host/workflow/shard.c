/*
** shard.c -- which shard of a sharded run an object belongs to, and the
** shard a process is: "I/N", or "auto" from a scheduler's array task.
** The hash is 32-bit FNV-1a of the name relative to the tree: a few lines
** anyone can write again in any language (docs/sharding.md), with no
** table and no dependency, so it never changes between versions or
** machines -- shards of one run may run different builds.
*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "workflow.h"

#define ST_SHARD_MAX 65536u

uint32_t xtstore_shard_of(const char *name, uint32_t count)
{
  uint32_t h = 2166136261u;
  const unsigned char *p = (const unsigned char *)name;

  if (count <= 1)
    return 0;
  for (; *p; p++) {
    h ^= *p;
    h *= 16777619u;
  }
  return h % count;
}

/* A decimal in [min, max] from `text` (all of it). */
static int number(const char *text, uint32_t min, uint32_t max,
                  uint32_t *out)
{
  char *end;
  unsigned long v;

  if (!text || text[0] < '0' || text[0] > '9')
    return 0;
  errno = 0;
  v = strtoul(text, &end, 10);
  if (*end || errno == ERANGE || v < min || v > max)
    return 0;
  *out = (uint32_t)v;
  return 1;
}

/* An environment variable that must be a number in [min, max]. */
static int env_number(const char *var, uint32_t min, uint32_t max,
                      uint32_t *out, store_error *err)
{
  const char *v = getenv(var);

  if (!number(v, min, max, out))
    return st_err(err, STORE_E_INVALID, "--shard auto: %s is '%s', not a "
                  "number from %u to %u", var, v ? v : "", min, max);
  return STORE_OK;
}

/* N for the schedulers that give no count: "auto/N" or
 * XTSTORE_SHARD_COUNT (given = 0: not in the text). */
static int given_count(const char *from, uint32_t given, uint32_t *out,
                       store_error *err)
{
  uint32_t n = 0;
  int rc;

  if (getenv("XTSTORE_SHARD_COUNT")) {
    rc = env_number("XTSTORE_SHARD_COUNT", 1, ST_SHARD_MAX, &n, err);
    if (rc)
      return rc;
    if (given && n != given)
      return st_err(err, STORE_E_INVALID, "--shard auto/%u: "
                    "XTSTORE_SHARD_COUNT says %u shards", given, n);
  }
  if (!given && !n)
    return st_err(err, STORE_E_INVALID, "--shard auto: %s gives the index "
                  "but not the number of shards: use --shard auto/N or set "
                  "XTSTORE_SHARD_COUNT", from);
  *out = given ? given : n;
  return STORE_OK;
}

/* Slurm: the task's place among the array's ids, MIN, MIN + STEP, ...
 * (an array need not start at 0). An array with gaps (--array=0,1,5) has
 * COUNT tasks but not those ids: MAX, when Slurm sets it, tells, and every
 * task refuses alike -- not just the ones past the gap. */
static int slurm(uint32_t given, uint32_t *index, uint32_t *count,
                 store_error *err)
{
  uint32_t id, min = 0, step = 1, max, n;
  int rc;

  rc = env_number("SLURM_ARRAY_TASK_ID", 0, UINT32_MAX - 1, &id, err);
  if (!rc && !getenv("SLURM_ARRAY_TASK_COUNT"))
    rc = st_err(err, STORE_E_INVALID, "--shard auto: SLURM_ARRAY_TASK_ID is "
                "set but SLURM_ARRAY_TASK_COUNT is not");
  if (!rc)
    rc = env_number("SLURM_ARRAY_TASK_COUNT", 1, ST_SHARD_MAX, &n, err);
  if (!rc && getenv("SLURM_ARRAY_TASK_MIN"))
    rc = env_number("SLURM_ARRAY_TASK_MIN", 0, UINT32_MAX - 1, &min, err);
  if (!rc && getenv("SLURM_ARRAY_TASK_STEP"))
    rc = env_number("SLURM_ARRAY_TASK_STEP", 1, UINT32_MAX - 1, &step, err);
  if (!rc && getenv("SLURM_ARRAY_TASK_MAX")) {
    rc = env_number("SLURM_ARRAY_TASK_MAX", 0, UINT32_MAX - 1, &max, err);
    if (!rc && (uint64_t)max != (uint64_t)min + (uint64_t)step * (n - 1))
      rc = st_err(err, STORE_E_INVALID, "--shard auto: the Slurm array's "
                  "%u tasks from %u in steps of %u do not end at its last "
                  "id %u (an array with gaps cannot be shards: use "
                  "--array=0-%u)", n, min, step, max, n - 1);
  }
  if (rc)
    return rc;
  if (id < min || (id - min) % step || (id - min) / step >= n)
    return st_err(err, STORE_E_INVALID, "--shard auto: SLURM_ARRAY_TASK_ID "
                  "%u is not one of the %u tasks from %u in steps of %u "
                  "(an array with gaps cannot be shards: use --array=0-%u)",
                  id, n, min, step, n - 1);
  if (given && given != n)
    return st_err(err, STORE_E_INVALID, "--shard auto/%u: the Slurm array "
                  "has %u tasks", given, n);
  *index = (id - min) / step;
  *count = n;
  return STORE_OK;
}

static int from_env(uint32_t given, uint32_t *index, uint32_t *count,
                    store_error *err)
{
  static const char *const vars[] = {
    "JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID",
    "AWS_BATCH_JOB_ARRAY_INDEX",
  };
  const char *var = NULL;
  size_t i;
  int rc;

  for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
    if (!getenv(vars[i]))
      continue;
    if (var)
      return st_err(err, STORE_E_INVALID, "--shard auto: both %s and %s "
                    "are set: give --shard I/N", var, vars[i]);
    var = vars[i];
  }
  if (!var)
    return st_err(err, STORE_E_INVALID, "--shard auto: none of "
                  "JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID or "
                  "AWS_BATCH_JOB_ARRAY_INDEX is set (not an array task?)");
  if (strcmp(var, "SLURM_ARRAY_TASK_ID") == 0)
    return slurm(given, index, count, err);
  rc = given_count(var, given, count, err);
  if (!rc)
    rc = env_number(var, 0, ST_SHARD_MAX - 1, index, err);
  if (!rc && *index >= *count)
    rc = st_err(err, STORE_E_INVALID, "--shard auto: %s is %u, not below "
                "the %u shards", var, *index, *count);
  return rc;
}

int xtstore_shard_parse(const char *text, uint32_t *out_index,
                        uint32_t *out_count, store_error *err)
{
  const char *slash;
  char head[16];
  uint32_t i = 0, n = 0;
  size_t len;
  int rc, form;

  *out_index = *out_count = 0;
  if (!text)
    return st_err(err, STORE_E_INVALID, "--shard: missing");
  slash = strchr(text, '/');
  len = slash ? (size_t)(slash - text) : strlen(text);
  form = len < sizeof(head) &&
         (!slash || number(slash + 1, 1, ST_SHARD_MAX, &n));
  if (form) {
    memcpy(head, text, len);
    head[len] = '\0';
    form = strcmp(head, "auto") == 0 ||
           (slash && number(head, 0, ST_SHARD_MAX - 1, &i));
  }
  if (!form)
    return st_err(err, STORE_E_INVALID, "--shard wants I/N (0 <= I < N <= "
                  "%u), auto or auto/N, got '%s'", ST_SHARD_MAX, text);
  if (strcmp(head, "auto") == 0) {
    rc = from_env(n, &i, &n, err);
    if (rc)
      return rc;
  } else if (i >= n) {
    return st_err(err, STORE_E_INVALID, "--shard %s: the index must be "
                  "below the number of shards (0 to %u)", text, n - 1);
  }
  *out_index = i;
  *out_count = n;
  return STORE_OK;
}
