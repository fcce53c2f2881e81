/*
** runlog.c -- migrate's run log: JSON Lines, one record per
** object and run, appended; and xtstore_migrate, the workflow that keeps
** it -- the ADLS->OCI migrator done right: both ends listed completely
** (every page), each source object classified new, update or equal
** against the target's listing, what is not equal copied, and one run-log
** record per object, with the object's own target name, and `failed` with
** its error. Re-running after an interruption copies only what is still
** missing or different.
**
** A local log is opened O_APPEND and each record is one write(), so
** concurrent runs interleave whole lines. A log on a service is collected
** in an unlinked temp file and stored at the end: appended where the
** provider can append; otherwise the existing log is read first and the
** whole rewritten, conditional on the version read (where the provider
** supports conditions) so two runs never silently drop each other's
** records -- the read-modify-write race of the original migrator. That
** upload happens after ^C too (shielded from the cancellation), and an
** interrupted run says where its records are.
**
** Every record carries the attempt (this process's own start stamp: a
** re-run after a failure is a new attempt of the same run id); a sharded
** run's records also carry the shard ("shard": "I/N"), and the process
** ends its part of the log with one "shard_end" record -- what `xtstore
** runlog summary` counts to say whether every shard of a run reported.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "workflow.h"

#define ST_LOG_TYPE "application/x-ndjson"

struct st_runlog {
  pthread_mutex_t mu;
  xtstore_ctx *ctx;
  int fd;
  xtstore_svc *svc;         /* NULL: fd is the local log itself           */
  char *container, *key;
  int append;               /* the service appends                        */
  int existed;              /* rewrite: the log was there before          */
  char etag[256];           /* rewrite: the version read                  */
  char run_id[72];          /* the caller's, else the attempt's           */
  char attempt[32];         /* UTC yyyymmddHHMMSSffffff, like the original */
  char shard[24];           /* "I/N" of a sharded run; "" unsharded       */
  char run_date[32];        /* ISO 8601 UTC                               */
  char *where;              /* the log's name in messages                 */
  uint64_t records;         /* written by this run                        */
  int rc;                   /* the first failure                          */
  store_error err;
};

/* ISO 8601 UTC with milliseconds. */
static void iso_time(int64_t ns, char *buf, size_t cap)
{
  time_t s = (time_t)(ns / 1000000000);
  struct tm tm;
  char day[24];
  gmtime_r(&s, &tm);
  strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf, cap, "%s.%03dZ", day, (int)(ns % 1000000000 / 1000000));
}

static void keep_failure(st_runlog *l, int rc, const store_error *err)
{
  if (l->rc)
    return;
  l->rc = rc;
  l->err = *err;
}

static int32_t remember_etag(void *ud, const store_entry *e)
{
  st_runlog *l = ud;
  l->existed = 1;
  if (e->etag)
    snprintf(l->etag, sizeof(l->etag), "%s", e->etag);
  return 0;
}

/* The temp file for a log on a service, primed with the current log when
 * it will be rewritten. */
static int open_remote(st_runlog *l, const xtstore_wf_opts *o,
                       store_error *err)
{
  const char *dir = getenv("TMPDIR");
  char tmp[4096];
  store_get_opts go;
  int rc;

  l->svc = o->log_svc;
  l->container = strdup(o->log_container ? o->log_container : "");
  l->key = strdup(o->log_key ? o->log_key : "");
  if (!l->container || !l->key)
    return st_err(err, STORE_E_NOMEM, "out of memory");
  rc = st_check_key(l->svc, l->container, l->key, err);
  if (rc)
    return rc;
  snprintf(tmp, sizeof(tmp), "%s/xtstore-runlog-XXXXXX",
           dir && dir[0] ? dir : "/tmp");
  l->fd = mkstemp(tmp);
  if (l->fd < 0)
    return st_err(err, STORE_E_IO, "run log: temp file in '%s': %s",
                  dir && dir[0] ? dir : "/tmp", strerror(errno));
  unlink(tmp);
  l->append = (l->svc->ops->capabilities & STORE_CAP_APPEND) != 0;
  if (l->append)
    return STORE_OK;
  memset(&go, 0, sizeof(go));
  go.struct_size = sizeof(go);
  go.on_entry = remember_etag;
  go.on_entry_ctx = l;
  rc = xtstore_blob_get_fd(l->svc, l->container, l->key, &go, l->fd, err);
  if (rc == STORE_E_NOT_FOUND) {
    st_err_reset(err);
    rc = STORE_OK;
  }
  return rc;
}

/* "svc:container/key", for messages. */
static int name_remote(st_runlog *l, store_error *err)
{
  size_t n = strlen(l->svc->name) + strlen(l->container) + strlen(l->key) + 3;

  l->where = malloc(n);
  if (!l->where)
    return st_err(err, STORE_E_NOMEM, "out of memory");
  snprintf(l->where, n, "%s:%s/%s", l->svc->name, l->container, l->key);
  return STORE_OK;
}

/* 1-64 characters that need no quoting in a file name or a shell. */
static int run_id_ok(const char *id)
{
  size_t n = strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        "0123456789._:-");
  return n > 0 && n <= 64 && id[n] == '\0';
}

int st_runlog_open(xtstore_ctx *ctx, const xtstore_wf_opts *o,
                   st_runlog **out, store_error *err)
{
  st_runlog *l;
  int64_t now = st_wf_now_ns();
  time_t s = (time_t)(now / 1000000000);
  struct tm tm;
  char stamp[24];
  int rc;

  *out = NULL;
  if (!o->log_path && !o->log_svc)
    return STORE_OK;
  if (o->run_id && !run_id_ok(o->run_id))
    return st_err(err, STORE_E_INVALID, "run id '%s': 1 to 64 of "
                  "A-Z a-z 0-9 . _ : -", o->run_id);
  l = calloc(1, sizeof(*l));
  if (!l)
    return st_err(err, STORE_E_NOMEM, "out of memory");
  pthread_mutex_init(&l->mu, NULL);
  l->ctx = ctx;
  l->fd = -1;
  gmtime_r(&s, &tm);
  strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
  snprintf(l->attempt, sizeof(l->attempt), "%s%06d", stamp,
           (int)(now % 1000000000 / 1000));
  snprintf(l->run_id, sizeof(l->run_id), "%s",
           o->run_id ? o->run_id : l->attempt);
  if (o->shard_count)
    snprintf(l->shard, sizeof(l->shard), "%u/%u", o->shard_index,
             o->shard_count);
  strftime(l->run_date, sizeof(l->run_date), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (o->log_svc) {
    rc = open_remote(l, o, err);
    if (!rc)
      rc = name_remote(l, err);
  } else {
    l->fd = open(o->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    rc = l->fd < 0 ? st_err(err, STORE_E_IO, "run log '%s': %s", o->log_path,
                            strerror(errno))
                   : STORE_OK;
    if (!rc && !(l->where = strdup(o->log_path)))
      rc = st_err(err, STORE_E_NOMEM, "out of memory");
  }
  if (rc) {
    /* Failed: nothing of it is stored (a half-read log is not put back). */
    l->rc = rc;
    st_runlog_close(l, NULL);
    return rc;
  }
  *out = l;
  return STORE_OK;
}

/* o as one line with its newline; takes o. malloc'd; NULL when out of
 * memory. */
static char *line_of(json_t *o)
{
  char *dump = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
                               JSON_REAL_PRECISION(6));
  char *line;
  size_t len;

  json_decref(o);
  if (!dump)
    return NULL;
  len = strlen(dump);
  line = malloc(len + 2);
  if (line) {
    memcpy(line, dump, len);
    memcpy(line + len, "\n", 2);
  }
  free(dump);
  return line;
}

static json_t *size_or_null(int known, uint64_t size)
{
  return known ? json_integer((json_int_t)size) : json_null();
}

/* One record with its newline, as the original migrator's keys (spelled
 * right) plus the error of a failed object. malloc'd; NULL when out of
 * memory. */
static char *record_line(const st_runlog *l, const st_wf_done *d)
{
  json_t *o = json_object();
  char start[40], end[40], crc[9];
  int copied = d->status == XTSTORE_OBJ_NEW ||
               d->status == XTSTORE_OBJ_UPDATE ||
               d->status == XTSTORE_OBJ_COPIED;

  if (!o)
    return NULL;
  iso_time(d->start_ns, start, sizeof(start));
  iso_time(d->end_ns, end, sizeof(end));
  json_object_set_new(o, "run_id", json_string(l->run_id));
  json_object_set_new(o, "run_date", json_string(l->run_date));
  if (l->shard[0])
    json_object_set_new(o, "shard", json_string(l->shard));
  /* Every record: a re-run with the same run id, sharded or not, is a new
   * attempt that supersedes the earlier one's records. */
  json_object_set_new(o, "attempt", json_string(l->attempt));
  json_object_set_new(o, "source_name",
                      d->source ? json_string(d->source) : json_null());
  json_object_set_new(o, "source_size", json_integer((json_int_t)d->size));
  /* The source's CRC-32C as listed (8 hex), which a copy was checked
   * against end to end; null when the source keeps none. */
  if (d->src_entry && d->src_entry->has_crc) {
    snprintf(crc, sizeof(crc), "%08x", d->src_entry->crc32c);
    json_object_set_new(o, "source_crc32c", json_string(crc));
  } else {
    json_object_set_new(o, "source_crc32c", json_null());
  }
  json_object_set_new(o, "target_name",
                      d->target ? json_string(d->target) : json_null());
  json_object_set_new(o, "target_size",
                      copied ? json_integer((json_int_t)d->size)
                             : size_or_null(d->has_target, d->target_size));
  /* What this run's copy was checked with end to end (st_wf_checked):
   * also for a source that lists no checksum (a local tree, S3). */
  if (copied && d->checked.has_crc) {
    snprintf(crc, sizeof(crc), "%08x", d->checked.crc32c);
    json_object_set_new(o, "target_crc32c", json_string(crc));
  } else {
    json_object_set_new(o, "target_crc32c", json_null());
  }
  json_object_set_new(o, "target_md5", copied && d->checked.md5[0]
                                         ? json_string(d->checked.md5)
                                         : json_null());
  json_object_set_new(o, "start_time", json_string(start));
  json_object_set_new(o, "end_time", json_string(end));
  json_object_set_new(o, "run_time",
                      json_real((double)(d->end_ns - d->start_ns) / 1e9));
  json_object_set_new(o, "status",
                      json_string(xtstore_object_status_name(d->status)));
  json_object_set_new(o, "error",
                      d->status == XTSTORE_OBJ_FAILED && d->err
                        ? json_string(d->err->message)
                        : json_null());
  return line_of(o);
}

static int write_all(int fd, const char *p, size_t len)
{
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return errno ? errno : EIO;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Append one line (NULL: out of memory); takes it. */
static void write_line(st_runlog *l, char *line)
{
  store_error err;
  int e = line ? 0 : ENOMEM;

  st_err_reset(&err);
  pthread_mutex_lock(&l->mu);
  /* One write() per record: concurrent runs appending to one local log
   * interleave whole lines. */
  if (!e)
    e = write_all(l->fd, line, strlen(line));
  if (e) {
    st_err(&err, e == ENOMEM ? STORE_E_NOMEM : STORE_E_IO, "run log: %s",
           strerror(e));
    keep_failure(l, err.code, &err);
  } else {
    l->records++;
  }
  pthread_mutex_unlock(&l->mu);
  free(line);
}

void st_runlog_record(st_runlog *l, const st_wf_done *d)
{
  write_line(l, record_line(l, d));
}

/* The end of this process's part of a sharded run: how many objects of
 * the shard it handled and with what result. */
void st_runlog_shard_end(st_runlog *l, const xtstore_wf_stats *st, int rc,
                         const store_error *err)
{
  json_t *o, *count;
  char end[40];
  uint32_t i;

  if (!l || !l->shard[0])
    return;
  o = json_object();
  count = json_object();
  if (!o || !count) {
    json_decref(o);
    json_decref(count);
    write_line(l, NULL);
    return;
  }
  iso_time(st_wf_now_ns(), end, sizeof(end));
  for (i = 0; i < XTSTORE_OBJ_NSTATUS; i++)
    json_object_set_new(count, xtstore_object_status_name(i),
                        json_integer((json_int_t)st->count[i]));
  json_object_set_new(o, "run_id", json_string(l->run_id));
  json_object_set_new(o, "run_date", json_string(l->run_date));
  json_object_set_new(o, "shard", json_string(l->shard));
  json_object_set_new(o, "attempt", json_string(l->attempt));
  json_object_set_new(o, "record", json_string("shard_end"));
  json_object_set_new(o, "end_time", json_string(end));
  json_object_set_new(o, "objects", json_integer((json_int_t)st->objects));
  json_object_set_new(o, "count", count);
  json_object_set_new(o, "bytes", json_integer((json_int_t)st->bytes));
  json_object_set_new(o, "ok", json_boolean(rc == STORE_OK));
  json_object_set_new(o, "error", rc && err ? json_string(err->message)
                                            : json_null());
  write_line(l, line_of(o));
}

/* Store the collected records on the service. */
static int upload(st_runlog *l, store_error *err)
{
  store_put_opts po;
  int conditional = (l->svc->ops->capabilities & STORE_CAP_CONDITIONAL) != 0;

  if (lseek(l->fd, 0, SEEK_SET) != 0)
    return st_err(err, STORE_E_IO, "run log: %s", strerror(errno));
  if (l->append)
    return st_append_fd(l->svc, l->container, l->key, ST_LOG_TYPE, l->fd,
                        err);
  memset(&po, 0, sizeof(po));
  po.struct_size = sizeof(po);
  po.content_length = -1;
  po.content_type = ST_LOG_TYPE;
  if (conditional && l->existed && l->etag[0])
    po.if_match = l->etag;
  else if (conditional && !l->existed)
    po.flags = STORE_PUT_IF_NONE_MATCH;
  return xtstore_blob_put_fd(l->svc, l->container, l->key, &po, l->fd, NULL,
                             err);
}

int st_runlog_close(st_runlog *l, store_error *err)
{
  const xtstore_ctx *shield;
  store_error uerr;
  int rc, interrupted;

  if (!l)
    return STORE_OK;
  st_err_reset(&uerr);
  interrupted = st_cancelled(l->ctx);
  if (!l->rc && l->svc && l->fd >= 0) {
    /* After ^C too: the records of what was done must not be lost with
     * the interruption. */
    shield = st_shield(l->ctx);
    rc = upload(l, &uerr);
    st_unshield(shield);
    if (rc)
      keep_failure(l, rc, &uerr);
  }
  if (l->fd >= 0 && close(l->fd) != 0 && !l->svc) {
    st_err(&uerr, STORE_E_IO, "run log: %s", strerror(errno));
    keep_failure(l, STORE_E_IO, &uerr);
  }
  rc = l->rc;
  if (rc && err)
    *err = l->err;
  if (interrupted && !rc)
    st_log(l->ctx, STORE_LOG_WARN,
           "interrupted: the run log has this run's %llu records: %s",
           (unsigned long long)l->records, l->where);
  pthread_mutex_destroy(&l->mu);
  free(l->container);
  free(l->key);
  free(l->where);
  free(l);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* xtstore_migrate: the workflow that keeps the log                          */
/* ------------------------------------------------------------------------ */

static int migrate_begin(st_wf_run *r, store_error *err)
{
  st_runlog *log = NULL;
  int rc = STORE_OK;
  /* A dry run writes nothing, the log included. */
  if (!(r->o.flags & XTSTORE_WF_DRY_RUN))
    rc = st_runlog_open(r->ctx, &r->o, &log, err);
  r->state = log;
  return rc;
}

static void migrate_record(st_wf_run *r, const st_wf_done *d)
{
  if (r->state)
    st_runlog_record(r->state, d);
}

static int migrate_end(st_wf_run *r, store_error *err)
{
  xtstore_wf_stats st;
  int rc;

  memset(&st, 0, sizeof(st));
  st.struct_size = sizeof(st);
  st_progress_stats(&r->prog, &st);
  pthread_mutex_lock(&r->mu);
  st_runlog_shard_end(r->state, &st, r->rc, &r->err);
  pthread_mutex_unlock(&r->mu);
  rc = st_runlog_close(r->state, err);
  r->state = NULL;
  return rc;
}

static const st_wf_kind migrate_kind = {
  .compare = 1,
  .begin = migrate_begin,
  .record = migrate_record,
  .end = migrate_end,
};

int xtstore_migrate(xtstore_ctx *ctx, const xtstore_tree *src,
                    const xtstore_tree *dst, const xtstore_wf_opts *opts,
                    xtstore_wf_stats *stats, store_error *err)
{
  return st_wf_run_tree(ctx, &migrate_kind, src, dst, opts, stats, err);
}
