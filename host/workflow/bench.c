/*
** bench.c -- xtstore_bench: cloudmesh-style put/get/list/delete timings.
**
** Bodies are cut from one 1 MiB pseudo-random pattern, each object reading
** it from its own start offset: generating a chunk is one memcpy and
** verifying a downloaded chunk one memcmp, so the bench adds about one
** memory pass per byte to what it measures, and never holds an object.
** Phases run `transfers` workers over a shared object counter. CPU and RSS
** come from getrusage(RUSAGE_SELF) around each phase: they cover every
** thread of the process, the plugin's included.
*/
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "workflow.h"

#define ST_PATTERN_SIZE ((size_t)1 << 20)
#define ST_PREFIX_MAX   1024
/* PREFIX + "SIZE/NNNNNN": 20 digits of size, '/', 10 of index, NUL. */
#define ST_KEY_SIZE     (ST_PREFIX_MAX + 40)
#define ST_DEFAULT_COUNT 10

static const uint64_t st_default_sizes[] = {
  UINT64_C(4) << 10, UINT64_C(1) << 20, UINT64_C(64) << 20,
};

/* Makes run ids unique among the benches of one process. */
static atomic_uint st_runs;

typedef struct st_bench {
  xtstore_svc *svc;
  const char *container;
  const uint64_t *sizes;      /* borrowed from the options or the defaults */
  size_t nsizes;
  uint32_t count;
  uint32_t transfers;
  int keep;
  xtstore_bench_fn fn;
  void *ud;
  unsigned char *pattern;     /* owned; ST_PATTERN_SIZE bytes              */
  char prefix[ST_PREFIX_MAX + 2];
} st_bench;

/* ------------------------------------------------------------------------ */
/* bodies                                                                   */
/* ------------------------------------------------------------------------ */

/* One object's body: where it starts in the pattern and how far it got. */
typedef struct st_body {
  const unsigned char *pattern;
  uint64_t start;
  uint64_t size;
  uint64_t done;
  int differs;                /* the download is not what was put         */
} st_body;

/* splitmix64: a fast generator with a well-mixed output from any state. */
static uint64_t st_mix(uint64_t *state)
{
  uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static int st_pattern_new(st_bench *b)
{
  uint64_t state = 0, w;
  size_t i;

  b->pattern = malloc(ST_PATTERN_SIZE);
  if (!b->pattern)
    return -1;
  for (i = 0; i < ST_PATTERN_SIZE; i += sizeof(w)) {
    w = st_mix(&state);
    memcpy(b->pattern + i, &w, sizeof(w));
  }
  return 0;
}

/* Object i of `size` bytes: the same bytes in every run and process. */
static void st_body_init(st_body *body, const st_bench *b, uint64_t size,
                         uint32_t i)
{
  uint64_t state = size * UINT64_C(0x100000001b3) ^ i;

  memset(body, 0, sizeof(*body));
  body->pattern = b->pattern;
  body->size = size;
  body->start = st_mix(&state) % ST_PATTERN_SIZE;
}

/* The body's next run of at most `want` bytes is pattern[*off, *off + n);
 * returns n, 0 at the end of the body. */
static size_t st_body_span(const st_body *body, size_t want, size_t *off)
{
  uint64_t left = body->size - body->done;
  size_t n;

  *off = (size_t)((body->start + body->done) % ST_PATTERN_SIZE);
  n = ST_PATTERN_SIZE - *off;
  if (n > want)
    n = want;
  if (n > left)
    n = (size_t)left;
  return n;
}

static int32_t st_body_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  st_body *body = ud;
  unsigned char *p = buf;
  size_t n, off;

  *out_n = 0;
  while ((n = st_body_span(body, cap - *out_n, &off)) > 0) {
    memcpy(p + *out_n, body->pattern + off, n);
    *out_n += n;
    body->done += n;
  }
  return 0;
}

static int32_t st_body_rewind(void *ud)
{
  ((st_body *)ud)->done = 0;
  return 0;
}

/* The download sink: compares and discards. */
static int32_t st_body_check(void *ud, const void *buf, size_t len)
{
  st_body *body = ud;
  const unsigned char *p = buf;
  size_t n, off;

  while (len > 0) {
    n = st_body_span(body, len, &off);
    if (n == 0 || memcmp(p, body->pattern + off, n) != 0) {
      body->differs = 1;
      return 1;
    }
    p += n;
    len -= n;
    body->done += n;
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* one operation on one object                                              */
/* ------------------------------------------------------------------------ */
typedef int (*st_op_fn)(st_bench *b, uint64_t size, uint32_t i,
                        const char *key, store_error *err);

/* st_mp_src.open of a body: a reader of bytes [off, off+len) of it. */
static int st_body_open(void *ud, uint64_t off, uint64_t len, void **out,
                        store_error *err)
{
  const st_body *whole = ud;
  st_body *part = malloc(sizeof(*part));

  *out = part;
  if (!part)
    return st_err(err, STORE_E_NOMEM, "out of memory");
  *part = *whole;
  part->done = off;
  part->size = off + len;
  return STORE_OK;
}

static int st_body_close(void *reader, store_error *err)
{
  (void)err;
  free(reader);
  return STORE_OK;
}

/* Sizes the engine wants go up as the CLI's puts do: in parts, each
 * generated where it starts in the body, several at once. */
static int st_op_put(st_bench *b, uint64_t size, uint32_t i, const char *key,
                     store_error *err)
{
  store_put_opts po;
  st_mp_src ms;
  st_body body;

  st_body_init(&body, b, size, i);
  memset(&po, 0, sizeof(po));
  po.struct_size = sizeof(po);
  po.content_length = (int64_t)size;
  po.content_type = "application/octet-stream";
  if (!st_mp_wanted(b->svc, po.content_length))
    return xtstore_blob_put(b->svc, b->container, key, &po, st_body_read,
                            &body, st_body_rewind, NULL, err);
  memset(&ms, 0, sizeof(ms));
  ms.length = po.content_length;
  ms.open = st_body_open;
  ms.read = st_body_read;
  ms.close = st_body_close;
  ms.ud = &body;
  return st_mp_put(b->svc, b->container, key, &po, &ms, NULL, err);
}

static int st_op_get(st_bench *b, uint64_t size, uint32_t i, const char *key,
                     store_error *err)
{
  st_body body;
  int rc;

  st_body_init(&body, b, size, i);
  rc = xtstore_blob_get(b->svc, b->container, key, NULL, st_body_check, &body,
                        err);
  if (rc == STORE_E_ABORTED && body.differs)
    return st_err(err, STORE_E_INTERNAL,
                  "the body differs from what was put at or after byte %" PRIu64
                  " (or is longer than %" PRIu64 " bytes)",
                  body.done, size);
  if (rc == STORE_OK && body.done != size)
    return st_err(err, STORE_E_INTERNAL,
                  "got %" PRIu64 " of the %" PRIu64 " bytes put", body.done,
                  size);
  return rc;
}

static int st_op_delete(st_bench *b, uint64_t size, uint32_t i,
                        const char *key, store_error *err)
{
  (void)size;
  (void)i;
  return xtstore_blob_delete(b->svc, b->container, key, NULL, err);
}

/* Cleanup after a failure: whatever of the size's objects exists. */
static int st_op_discard(st_bench *b, uint64_t size, uint32_t i,
                         const char *key, store_error *err)
{
  int rc = st_op_delete(b, size, i, key, err);

  return rc == STORE_E_NOT_FOUND ? STORE_OK : rc;
}

/* Prefix the cause in err with what failed, keeping its code and details:
 * "bench put of 'KEY': CAUSE" (truncated, never overflowed). */
static int st_fail(store_error *err, int rc, const char *op, const char *key)
{
  char msg[STORE_ERR_MSG_SIZE];

  if (!err)
    return rc;
  /* Truncation is the contract (the return value is checked only for
   * that to be visible to the compiler). */
  if (snprintf(msg, sizeof(msg), "bench %s of '%s': %s", op, key,
               err->message[0] ? err->message : store_strerror(rc)) >= 0)
    memcpy(err->message, msg, sizeof(msg));
  err->code = rc;
  return rc;
}

static void st_key(const st_bench *b, uint64_t size, uint32_t i,
                   char key[ST_KEY_SIZE])
{
  snprintf(key, ST_KEY_SIZE, "%s%" PRIu64 "/%06" PRIu32, b->prefix, size, i);
}

/* ------------------------------------------------------------------------ */
/* a phase: one operation on every object of a size, `transfers` at a time */
/* ------------------------------------------------------------------------ */
typedef struct st_phase {
  st_bench *b;
  const char *name;
  st_op_fn op;
  uint64_t size;
  atomic_uint next;           /* the next object index to take            */
  atomic_int stop;            /* an operation failed: take no more        */
  pthread_mutex_t mu;         /* guards rc and err                        */
  int rc;                     /* the first failure                        */
  store_error err;
} st_phase;

static void *st_phase_work(void *p)
{
  st_phase *pool = p;
  char key[ST_KEY_SIZE];
  store_error err;
  unsigned i;
  int rc;

  while (!atomic_load(&pool->stop) &&
         (i = atomic_fetch_add(&pool->next, 1)) < pool->b->count) {
    st_key(pool->b, pool->size, i, key);
    st_err_reset(&err);
    rc = pool->op(pool->b, pool->size, i, key, &err);
    if (!rc)
      continue;
    atomic_store(&pool->stop, 1);
    pthread_mutex_lock(&pool->mu);
    if (!pool->rc) {
      pool->rc = st_fail(&err, rc, pool->name, key);
      pool->err = err;
    }
    pthread_mutex_unlock(&pool->mu);
  }
  return NULL;
}

static int st_phase_run(st_bench *b, const char *name, st_op_fn op,
                       uint64_t size, store_error *err)
{
  uint32_t want = b->transfers < b->count ? b->transfers : b->count;
  pthread_t *tids = NULL;     /* owned */
  uint32_t started = 0, t;
  st_phase pool;

  memset(&pool, 0, sizeof(pool));
  pool.b = b;
  pool.name = name;
  pool.op = op;
  pool.size = size;
  atomic_init(&pool.next, 0);
  atomic_init(&pool.stop, 0);
  pthread_mutex_init(&pool.mu, NULL);
  if (want > 1) {
    tids = calloc(want - 1, sizeof(*tids));
    if (!tids) {
      pool.rc = st_err(&pool.err, STORE_E_NOMEM, "out of memory");
      goto out;
    }
  }
  /* Threads that cannot be started only mean fewer in flight. */
  for (t = 1; t < want; t++) {
    if (pthread_create(&tids[started], NULL, st_phase_work, &pool) != 0)
      break;
    started++;
  }
  st_phase_work(&pool);
  for (t = 0; t < started; t++)
    pthread_join(tids[t], NULL);
out:
  free(tids);
  pthread_mutex_destroy(&pool.mu);
  if (pool.rc && err)
    *err = pool.err;
  return pool.rc;
}

/* ------------------------------------------------------------------------ */
/* the listing phase                                                        */
/* ------------------------------------------------------------------------ */
static int32_t st_count_entry(void *ud, const store_entry *e)
{
  (void)e;
  (*(uint64_t *)ud)++;
  return 0;
}

static int st_list(st_bench *b, uint64_t size, store_error *err)
{
  char prefix[ST_KEY_SIZE];
  store_list_opts lo;
  uint64_t n = 0;
  int rc;

  snprintf(prefix, sizeof(prefix), "%s%" PRIu64 "/", b->prefix, size);
  memset(&lo, 0, sizeof(lo));
  lo.struct_size = sizeof(lo);
  lo.prefix = prefix;
  rc = xtstore_blob_list(b->svc, b->container, &lo, st_count_entry, &n, err);
  if (!rc && n != b->count)
    rc = st_err(err, STORE_E_INTERNAL, "listed %" PRIu64 " of %" PRIu32
                " objects", n, b->count);
  return rc ? st_fail(err, rc, "list", prefix) : STORE_OK;
}

/* ------------------------------------------------------------------------ */
/* timing                                                                   */
/* ------------------------------------------------------------------------ */
typedef struct st_mark {
  struct timespec wall;
  struct rusage ru;
} st_mark;

static void st_mark_now(st_mark *m)
{
  clock_gettime(CLOCK_MONOTONIC, &m->wall);
  getrusage(RUSAGE_SELF, &m->ru);
}

static uint64_t st_tv_ns(const struct timeval *tv)
{
  return (uint64_t)tv->tv_sec * 1000000000u + (uint64_t)tv->tv_usec * 1000u;
}

static uint64_t st_cpu_ns(const struct rusage *ru)
{
  return st_tv_ns(&ru->ru_utime) + st_tv_ns(&ru->ru_stime);
}

/* The phases of one size, in order; the delete phase is last, so that
 * XTSTORE_BENCH_KEEP can leave it out. */
static const struct st_step {
  const char *name;
  st_op_fn op;                /* per object; NULL: the listing            */
  int moves_bodies;
} st_steps[] = {
  { "put", st_op_put, 1 },
  { "get", st_op_get, 1 },
  { "list", NULL, 0 },
  { "delete", st_op_delete, 0 },
};
#define ST_NSTEPS (sizeof(st_steps) / sizeof(st_steps[0]))

/* Run one phase and report its row. */
static int st_step_run(st_bench *b, const struct st_step *s, uint64_t size,
                       store_error *err)
{
  xtstore_bench_row row;
  st_mark t0, t1;
  int rc;

  st_mark_now(&t0);
  rc = s->op ? st_phase_run(b, s->name, s->op, size, err)
             : st_list(b, size, err);
  st_mark_now(&t1);
  if (rc)
    return rc;
  memset(&row, 0, sizeof(row));
  row.struct_size = sizeof(row);
  row.transfers = b->transfers;
  row.op = s->name;
  row.prefix = b->prefix;
  row.object_size = size;
  row.count = b->count;
  row.bytes = s->moves_bodies ? size * b->count : 0;
  row.wall_ns = (uint64_t)(t1.wall.tv_sec - t0.wall.tv_sec) * 1000000000u +
                (uint64_t)t1.wall.tv_nsec - (uint64_t)t0.wall.tv_nsec;
  row.cpu_ns = st_cpu_ns(&t1.ru) - st_cpu_ns(&t0.ru);
  /* Linux reports ru_maxrss in KiB. */
  row.max_rss_bytes = (uint64_t)t1.ru.ru_maxrss * 1024u;
  if (b->fn && b->fn(b->ud, &row))
    return st_err(err, STORE_E_ABORTED, "bench: stopped by the row callback");
  return STORE_OK;
}

/* ------------------------------------------------------------------------ */
/* setup                                                                    */
/* ------------------------------------------------------------------------ */
static int st_prefix_set(st_bench *b, const char *given, store_error *err)
{
  size_t len = given ? strlen(given) : 0;
  struct tm tm;
  time_t now = time(NULL);
  char when[32];

  if (given) {
    if (len == 0 || len > ST_PREFIX_MAX)
      return st_err(err, STORE_E_INVALID,
                    "bench: the prefix must be 1-%d bytes", ST_PREFIX_MAX);
    snprintf(b->prefix, sizeof(b->prefix), "%s%s", given,
             given[len - 1] == '/' ? "" : "/");
    return STORE_OK;
  }
  if (!gmtime_r(&now, &tm) ||
      strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm) == 0)
    snprintf(when, sizeof(when), "%lld", (long long)now);
  snprintf(b->prefix, sizeof(b->prefix), "xtstore-bench/%s-%ld-%u/", when,
           (long)getpid(), atomic_fetch_add(&st_runs, 1));
  return STORE_OK;
}

static int st_bench_init(st_bench *b, xtstore_svc *svc, const char *container,
                         const xtstore_bench_opts *opts, store_error *err)
{
  memset(b, 0, sizeof(*b));
  b->svc = svc;
  b->container = container;
  b->sizes = st_default_sizes;
  b->nsizes = sizeof(st_default_sizes) / sizeof(st_default_sizes[0]);
  b->count = ST_DEFAULT_COUNT;
  b->transfers = 1;
  if (opts &&
      !STORE_HAS_FIELD(xtstore_bench_opts, prefix, opts->struct_size))
    return st_err(err, STORE_E_INVALID,
                  "bench: options struct_size %u is too small",
                  opts->struct_size);
  if (opts && opts->sizes && opts->nsizes) {
    b->sizes = opts->sizes;
    b->nsizes = opts->nsizes;
  }
  if (opts && opts->count)
    b->count = opts->count;
  if (opts && opts->transfers)
    b->transfers = opts->transfers;
  b->keep = opts && (opts->flags & XTSTORE_BENCH_KEEP);
  if (st_pattern_new(b))
    return st_err(err, STORE_E_NOMEM, "out of memory");
  return st_prefix_set(b, opts ? opts->prefix : NULL, err);
}

int xtstore_bench(xtstore_svc *svc, const char *container,
                  const xtstore_bench_opts *opts, xtstore_bench_fn fn,
                  void *ud, store_error *err)
{
  size_t nsteps, i = 0, s;
  store_error cleanup;
  st_bench b;
  int rc, started = 0;

  st_err_reset(err);
  rc = st_check_container(svc, container, err);
  if (rc)
    return rc;
  rc = st_bench_init(&b, svc, container, opts, err);
  if (rc)
    goto out;
  b.fn = fn;
  b.ud = ud;
  nsteps = b.keep ? ST_NSTEPS - 1 : ST_NSTEPS;
  started = 1;
  for (i = 0; i < b.nsizes; i++)
    for (s = 0; s < nsteps; s++) {
      rc = st_step_run(&b, &st_steps[s], b.sizes[i], err);
      if (rc)
        goto out;
    }
out:
  /* The delete phases emptied the sizes before i; i's objects may remain. */
  if (rc && started && !b.keep &&
      st_phase_run(&b, "delete", st_op_discard, b.sizes[i], &cleanup))
    st_log(svc->ctx, STORE_LOG_WARN,
           "bench: objects may remain under '%s' in container '%s': %s",
           b.prefix, container, cleanup.message);
  free(b.pattern);
  return rc;
}
