/*
** flaky.c -- a fixture provider that fails on purpose, so the host's retry,
** resume, replay and serialisation rules can be observed. State lives in
** the handle, one per opened service. Not thread-safe on purpose: concurrent
** entry into an op is detected and reported as STORE_E_INTERNAL.
**
** Built again with -DFLAKY_MULTIPART as "flaky-mp": multipart ops and
** STORE_CAP_MULTIPART | STORE_CAP_THREADSAFE (its multipart ops lock), small
** limits (FL_MAX_PARTS parts, FL_MIN_PART bytes), and an event log the
** host's transfer engine is checked against; with -DFLAKY_NO_CHECKED too
** as "flaky-mp10": no multipart_part_checked, as a 1.0 plugin has.
**
** Keys: fail-times (failures before each op succeeds), fail-code (status),
** retryable (0/1), body (content served by get), needed (required),
** password (secret); flaky-mp: fail-parts ("3,11": those parts fail their
** first attempt, after reading their body), stall-part (that part waits
** for the host's cancellation), events (a file that gets one line per
** begin, part attempt, complete, abort and put).
**
** Checksums (ABI 1.1): put-crc32c makes blob_put, and flaky-mp's
** multipart_part_checked and multipart_complete, report a CRC-32C of what
** they stored: "right" (the CRC of the bytes taken), "wrong" (that xor 1),
** "wrong-once" (wrong on the first attempt of each put or part only),
** "wrong-complete" (right for parts, wrong for the whole object); unset:
** none. get-crc32c (8 hex) is the CRC-32C that get and head entries
** report, get-etag their etag; get-replaced (1) fails a get that carries
** if_match with PRECONDITION, as a server does once the object was
** replaced (flaky-mp has STORE_CAP_CONDITIONAL, so the host pins its
** resumed gets). The events log the checksums the host passed down ("put-ck",
** "part-ck", "complete-ck": ck=bits crc=known tr=trailer bits).
**
** Conditional deletes (ABI 1.1, STORE_CAP_DELETE_IF_MATCH, "flaky" only):
** put-etag is the etag a put reports; delete-replaced (1) fails a delete
** that carries if_match with PRECONDITION, as a server does once another
** writer replaced the object. A delete's if_match is an event
** ("delete-if KEY ETAG").
**
** A file that changes while it is uploaded: rewrite-file (its path) is
** rewritten once -- its first byte flipped, its mtime moved on by a
** second, as a clock tick would -- by a put after it read its body, or by
** flaky-mp's part rewrite-part (default 1): after it read the part's
** body, or with rewrite-before "1" before it reads it (so the bytes sent
** are not those the host read ahead). No timing is involved.
*/
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <isa-l/crc.h>

#include "store_interface.h"

#define FL_MAX_PARTS 32u
#define FL_MIN_PART  512u

struct store_handle {
  int fail_times, fail_code, retryable;
  char body[256];
  int puts_tried, gets_tried, put_failures, get_failures, deletes;
  size_t put_takes;                 /* a put reads at most this; 0: all  */
  char get_md5[40];                 /* the MD5 a get's entry reports     */
  uint64_t get_size;                /* the size it reports; 0: the body's */
  int get_entry;                    /* a get reports its entry           */
  uint64_t put_reports;             /* the size a put reports; 0: none   */
  uint64_t last_get_offset;
  char stored[256];
  size_t stored_len;
  atomic_int inside;
  const store_host_api *host;
  pthread_mutex_t mu;               /* the multipart state and events    */
  char events[512];                 /* "": none                          */
  char fail_parts[128];             /* ",3,11,"                          */
  unsigned stall_part;
  int attempts[FL_MAX_PARTS + 1];   /* per part number                   */
  char *data[FL_MAX_PARTS + 1];     /* the last good attempt's bytes     */
  size_t len[FL_MAX_PARTS + 1];
  int inflight, max_inflight;
  int put_crc;                      /* FL_CRC_*                          */
  int has_get_crc;                  /* get-crc32c given: get_crc         */
  char get_etag[64];                /* the etag get and head report      */
  int get_replaced;                 /* a get with if_match: PRECONDITION */
  char put_etag[64];                /* the etag a put reports; "": none  */
  int delete_replaced;              /* a delete with if_match: PRECONDITION */
  int completed;                    /* a multipart upload completed      */
  uint32_t get_crc;
  uint32_t crc[FL_MAX_PARTS + 1];   /* the last good attempt's CRC-32C   */
  char rewrite_file[256];           /* "": none                          */
  unsigned rewrite_part;            /* flaky-mp's part that rewrites it  */
  int rewrite_before;               /* before reading that part's body   */
  atomic_int rewritten;
};

enum { FL_CRC_NONE, FL_CRC_RIGHT, FL_CRC_WRONG, FL_CRC_WRONG_ONCE,
       FL_CRC_WRONG_COMPLETE };

/* CRC-32C with ISA-L, as the host sums it (crc32_iscsi neither pre- nor
 * post-inverts). The fixture's bodies are small: one call. */
static uint32_t fl_crc32c(uint32_t crc, const void *data, size_t len)
{
  return ~crc32_iscsi((unsigned char *)data, (int)len, ~crc);
}

/* What the store reports for bytes of CRC crc on attempt `attempt`
 * (complete: whether this is the whole object). */
static void report_crc(const store_handle *h, uint32_t crc, int attempt,
                       int complete, store_put_result *out)
{
  int wrong = h->put_crc == FL_CRC_WRONG ||
              (h->put_crc == FL_CRC_WRONG_ONCE && attempt == 1 && !complete) ||
              (h->put_crc == FL_CRC_WRONG_COMPLETE && complete);

  if (h->put_crc == FL_CRC_NONE || !out ||
      !STORE_HAS_FIELD(store_put_result, crc32c, out->struct_size))
    return;
  out->checksums |= STORE_CKSUM_CRC32C;
  out->crc32c = wrong ? crc ^ 1 : crc;
}

/* The checksums the host passed down, as an event. */
static void note_opts(store_handle *h, const char *what, unsigned no,
                      const store_put_opts *o);

/* One line into the events file, if any. */
static void note(store_handle *h, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));
static void note(store_handle *h, const char *fmt, ...)
{
  va_list ap;
  FILE *f;
  if (!h->events[0])
    return;
  pthread_mutex_lock(&h->mu);
  f = fopen(h->events, "a");
  if (f) {
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fclose(f);
  }
  pthread_mutex_unlock(&h->mu);
}

/* Rewrite rewrite-file once: its first byte flipped, its mtime a second
 * on. */
static void rewrite(store_handle *h)
{
  struct timespec t[2];
  struct stat st;
  char c;
  int fd;

  if (!h->rewrite_file[0] || atomic_exchange(&h->rewritten, 1))
    return;
  fd = open(h->rewrite_file, O_RDWR);
  if (fd < 0)
    return;
  if (fstat(fd, &st) == 0 && pread(fd, &c, 1, 0) == 1) {
    c ^= (char)0xff;
    if (pwrite(fd, &c, 1, 0) == 1) {
      t[0] = st.st_atim;
      t[1] = st.st_mtim;
      t[1].tv_sec++;
      futimens(fd, t);
      note(h, "rewrote %s", h->rewrite_file);
    }
  }
  close(fd);
}

static int fail(store_handle *h, store_error *err, const char *what)
{
  err->flags = h->retryable ? STORE_ERR_RETRYABLE : 0;
  err->retry_after_ms = 1;
  err->http_status = 503;
  snprintf(err->provider_code, sizeof(err->provider_code), "SlowDown");
  return store_error_set(err, h->fail_code, "flaky: %s: injected failure", what);
}

static store_open_op fl_open;
static int32_t fl_open(const store_host_api *host, const store_kv *cfg,
                       size_t n, store_handle **out, store_error *err)
{
  store_handle *h = calloc(1, sizeof(*h));
  size_t i;
  if (!h)
    return store_error_set(err, STORE_E_NOMEM, "flaky: out of memory");
  h->host = host;
  pthread_mutex_init(&h->mu, NULL);
  h->fail_code = STORE_E_THROTTLED;
  h->retryable = 1;
  h->rewrite_part = 1;
  snprintf(h->body, sizeof(h->body), "0123456789abcdefghijklmnopqrstuvwxyz");
  for (i = 0; i < n; i++) {
    if (!strcmp(cfg[i].key, "fail-times"))
      h->fail_times = (int)strtol(cfg[i].value, NULL, 10);
    else if (!strcmp(cfg[i].key, "fail-code"))
      h->fail_code = (int)strtol(cfg[i].value, NULL, 10);
    else if (!strcmp(cfg[i].key, "retryable"))
      h->retryable = (int)strtol(cfg[i].value, NULL, 10);
    else if (!strcmp(cfg[i].key, "body"))
      snprintf(h->body, sizeof(h->body), "%s", cfg[i].value);
    else if (!strcmp(cfg[i].key, "events"))
      snprintf(h->events, sizeof(h->events), "%s", cfg[i].value);
    else if (!strcmp(cfg[i].key, "fail-parts"))
      snprintf(h->fail_parts, sizeof(h->fail_parts), ",%s,", cfg[i].value);
    else if (!strcmp(cfg[i].key, "rewrite-file"))
      snprintf(h->rewrite_file, sizeof(h->rewrite_file), "%s", cfg[i].value);
    else if (!strcmp(cfg[i].key, "rewrite-part"))
      h->rewrite_part = (unsigned)strtoul(cfg[i].value, NULL, 10);
    else if (!strcmp(cfg[i].key, "rewrite-before"))
      h->rewrite_before = (int)strtol(cfg[i].value, NULL, 10);
    else if (!strcmp(cfg[i].key, "stall-part"))
      h->stall_part = (unsigned)strtoul(cfg[i].value, NULL, 10);
    else if (!strcmp(cfg[i].key, "put-takes"))
      h->put_takes = (size_t)strtoul(cfg[i].value, NULL, 10);
    else if (!strcmp(cfg[i].key, "put-reports"))
      h->put_reports = strtoull(cfg[i].value, NULL, 10);
    else if (!strcmp(cfg[i].key, "get-md5")) {
      snprintf(h->get_md5, sizeof(h->get_md5), "%s", cfg[i].value);
      h->get_entry = 1;
    } else if (!strcmp(cfg[i].key, "get-size")) {
      h->get_size = strtoull(cfg[i].value, NULL, 10);
      h->get_entry = 1;
    } else if (!strcmp(cfg[i].key, "get-crc32c")) {
      h->get_crc = (uint32_t)strtoul(cfg[i].value, NULL, 16);
      h->has_get_crc = 1;
      h->get_entry = 1;
    } else if (!strcmp(cfg[i].key, "get-etag")) {
      snprintf(h->get_etag, sizeof(h->get_etag), "%s", cfg[i].value);
      h->get_entry = 1;
    } else if (!strcmp(cfg[i].key, "get-replaced")) {
      h->get_replaced = (int)strtol(cfg[i].value, NULL, 10);
    } else if (!strcmp(cfg[i].key, "put-etag")) {
      snprintf(h->put_etag, sizeof(h->put_etag), "%s", cfg[i].value);
    } else if (!strcmp(cfg[i].key, "delete-replaced")) {
      h->delete_replaced = (int)strtol(cfg[i].value, NULL, 10);
    } else if (!strcmp(cfg[i].key, "put-crc32c")) {
      h->put_crc = !strcmp(cfg[i].value, "right") ? FL_CRC_RIGHT
                 : !strcmp(cfg[i].value, "wrong") ? FL_CRC_WRONG
                 : !strcmp(cfg[i].value, "wrong-once") ? FL_CRC_WRONG_ONCE
                 : !strcmp(cfg[i].value, "wrong-complete")
                   ? FL_CRC_WRONG_COMPLETE : FL_CRC_NONE;
    }
  }
  *out = h;
  return STORE_OK;
}

/* Forget every part (a new upload, or the end of one). */
static void forget_parts(store_handle *h)
{
  unsigned i;
  for (i = 0; i <= FL_MAX_PARTS; i++) {
    free(h->data[i]);
    h->data[i] = NULL;
    h->len[i] = 0;
    h->attempts[i] = 0;
  }
  h->max_inflight = 0;
}

static void note_opts(store_handle *h, const char *what, unsigned no,
                      const store_put_opts *o)
{
  int has = o && STORE_HAS_FIELD(store_put_opts, trailer_checksums,
                                 o->struct_size);

  note(h, "%s %u ck=%u crc=%08x tr=%u", what, no, has ? o->checksums : 0,
       has ? o->crc32c : 0, has ? o->trailer_checksums : 0);
}

static store_close_op fl_close;
static void fl_close(store_handle *h)
{
  if (!h)
    return;
  forget_parts(h);
  pthread_mutex_destroy(&h->mu);
  free(h);
}

static int32_t fl_put(store_handle *h, const char *c, const char *k,
                      const store_put_opts *o, store_read_fn src, void *ud,
                      store_put_result *out, store_error *err)
{
  char buf[64];
  size_t n, cap;
  uint32_t crc = 0;
  (void)c; (void)k; (void)o;
  h->puts_tried++;
  h->stored_len = 0;
  do {
    /* put-takes: a broken provider that stops reading early */
    cap = h->put_takes && h->put_takes - h->stored_len < sizeof(buf)
            ? h->put_takes - h->stored_len
            : sizeof(buf);
    if (cap == 0)
      break;
    if (src(ud, buf, cap, &n))
      return store_error_set(err, STORE_E_ABORTED, "flaky: put aborted");
    crc = fl_crc32c(crc, buf, n);
    if (h->stored_len + n <= sizeof(h->stored)) {
      memcpy(h->stored + h->stored_len, buf, n);
      h->stored_len += n;
    }
  } while (n > 0);
  rewrite(h);
  if (h->put_failures < h->fail_times) {
    h->put_failures++;
    return fail(h, err, "put");
  }
  note(h, "put len=%zu ct=%s", h->stored_len,
       o && o->content_type ? o->content_type : "-");
  note_opts(h, "put-ck", (unsigned)h->puts_tried, o);
  report_crc(h, crc, h->puts_tried, 0, out);
  if (h->put_reports && out && STORE_HAS_FIELD(store_put_result, size,
                                               out->struct_size))
    out->size = h->put_reports;
  if (out && STORE_HAS_FIELD(store_put_result, etag, out->struct_size))
    snprintf(out->etag, sizeof(out->etag), "%s", h->put_etag);
  return STORE_OK;
}

static int32_t fl_get(store_handle *h, const char *c, const char *k,
                      const store_get_opts *o, store_write_fn sink, void *ud,
                      store_error *err)
{
  const char *body = h->body;
  uint64_t off = 0, len = strlen(body);
  (void)c; (void)k;
  h->gets_tried++;
  if (o && (o->flags & STORE_GET_RANGE)) {
    off = o->offset;
    len = o->length ? o->length : len - off;
  }
  h->last_get_offset = off;
  if (h->get_replaced && o && o->if_match)
    return store_error_set(err, STORE_E_PRECONDITION, "flaky: blob '%s': "
                           "precondition failed (412)", k);
  if (h->get_entry && o && o->on_entry) {
    store_entry e;
    memset(&e, 0, sizeof(e));
    e.struct_size = sizeof(e);
    e.name = k;
    e.size = h->get_size ? h->get_size : strlen(body);
    e.mtime_ns = STORE_MTIME_UNKNOWN;
    e.content_md5 = h->get_md5[0] ? h->get_md5 : NULL;
    e.checksums = h->has_get_crc ? STORE_CKSUM_CRC32C : 0;
    e.crc32c = h->get_crc;
    e.etag = h->get_etag[0] ? h->get_etag : NULL;
    if (o->on_entry(o->on_entry_ctx, &e))
      return store_error_set(err, STORE_E_ABORTED, "flaky: get aborted");
  }
  if (h->get_failures < h->fail_times) {
    /* Deliver half of what was asked, then fail: the host must resume. */
    uint64_t half = len / 2;
    h->get_failures++;
    if (half && sink(ud, body + off, (size_t)half))
      return store_error_set(err, STORE_E_ABORTED, "flaky: get aborted");
    return fail(h, err, "get");
  }
  if (len && sink(ud, body + off, (size_t)len))
    return store_error_set(err, STORE_E_ABORTED, "flaky: get aborted");
  return STORE_OK;
}

/* "stats" reports counters as metadata; other keys check serialisation. */
static int32_t fl_head(store_handle *h, const char *c, const char *k,
                       const store_head_opts *o, store_entry_fn cb, void *ud,
                       store_error *err)
{
  char v[5][32];
  store_kv kv[5] = {{"puts", v[0]}, {"gets", v[1]}, {"offset", v[2]},
                    {"stored", v[3]}, {"deletes", v[4]}};
  store_entry e;
  struct timespec ts = {0, 200000};
  int rc;
  (void)c; (void)o;
  if (atomic_fetch_add(&h->inside, 1) != 0) {
    atomic_fetch_sub(&h->inside, 1);
    return store_error_set(err, STORE_E_INTERNAL, "flaky: concurrent call");
  }
  nanosleep(&ts, NULL);
  snprintf(v[0], sizeof(v[0]), "%d", h->puts_tried);
  snprintf(v[1], sizeof(v[1]), "%d", h->gets_tried);
  snprintf(v[2], sizeof(v[2]), "%llu", (unsigned long long)h->last_get_offset);
  snprintf(v[3], sizeof(v[3]), "%.*s", (int)h->stored_len, h->stored);
  snprintf(v[4], sizeof(v[4]), "%d", h->deletes);
  memset(&e, 0, sizeof(e));
  e.struct_size = sizeof(e);
  e.name = k;
  e.metadata = kv;
  e.nmetadata = strcmp(k, "stats") == 0 ? 5 : 0;
  /* Like a get's entry, when the keys ask for one. */
  if (h->get_entry && !e.nmetadata) {
    e.size = h->get_size ? h->get_size : strlen(h->body);
    e.mtime_ns = STORE_MTIME_UNKNOWN;
    e.content_md5 = h->get_md5[0] ? h->get_md5 : NULL;
    e.checksums = h->has_get_crc ? STORE_CKSUM_CRC32C : 0;
    e.crc32c = h->get_crc;
  }
  rc = cb(ud, &e);
  atomic_fetch_sub(&h->inside, 1);
  return rc ? STORE_E_ABORTED : STORE_OK;
}

static int32_t fl_delete(store_handle *h, const char *c, const char *k,
                         const store_delete_opts *o, store_error *err)
{
  const char *if_match = STORE_OPT(o, store_delete_opts, if_match, NULL);
  if (h->stored_len == 0 && h->puts_tried == 0 && !h->completed)
    return store_error_set(err, STORE_E_NOT_FOUND, "flaky: blob '%s/%s': not found", c, k);
  if (if_match) {
    note(h, "delete-if %s %s", k, if_match);
    if (h->delete_replaced)
      return store_error_set(err, STORE_E_PRECONDITION, "flaky: blob "
                             "'%s/%s': etag %s does not match", c, k,
                             if_match);
  }
  note(h, "delete %s", k);
  h->deletes++;
  h->stored_len = 0;
  return STORE_OK;
}

static int32_t fl_list(store_handle *h, const char *c, const store_list_opts *o,
                       store_entry_fn cb, void *ud, store_error *err)
{
  (void)h; (void)c; (void)o; (void)cb; (void)ud; (void)err;
  return STORE_OK;
}

#ifdef FLAKY_MULTIPART
/* ------------------------------------------------------------------------ */
/* multipart (flaky-mp)                                                     */
/* ------------------------------------------------------------------------ */
static int32_t fl_mp_begin(store_handle *h, const char *c, const char *k,
                           const store_put_opts *o, char *out_id, size_t cap,
                           store_error *err)
{
  (void)c; (void)k; (void)err;
  pthread_mutex_lock(&h->mu);
  forget_parts(h);
  pthread_mutex_unlock(&h->mu);
  note(h, "begin ct=%s flags=%u length=%lld",
       o && o->content_type ? o->content_type : "-", o ? o->flags : 0,
       o ? (long long)o->content_length : -1);
  snprintf(out_id, cap, "up-1");
  return STORE_OK;
}

/* Wait (up to 10 s) for the host to cancel. */
static int32_t stall(store_handle *h, uint32_t no, store_error *err)
{
  struct timespec ts = {0, 1000000};
  int i;
  note(h, "stall %u", no);
  for (i = 0; i < 10000 && !h->host->is_cancelled(h->host->host_ctx); i++)
    nanosleep(&ts, NULL);
  return store_error_set(err, STORE_E_ABORTED, "flaky: part %u: cancelled",
                         no);
}

/* Read exactly `length` bytes of a part into a new buffer (*out). */
static int32_t read_part(uint32_t no, uint64_t length, store_read_fn src,
                         void *ud, char **out, size_t *got, store_error *err)
{
  char *data = malloc(length ? length : 1), chunk[4096];
  size_t n;
  *out = NULL;
  *got = 0;
  if (!data)
    return store_error_set(err, STORE_E_NOMEM, "flaky: out of memory");
  do {
    if (src(ud, chunk, sizeof(chunk), &n)) {
      free(data);
      return store_error_set(err, STORE_E_ABORTED, "flaky: part %u aborted",
                             no);
    }
    if (*got + n > length) {
      free(data);
      return store_error_set(err, STORE_E_INVALID,
                             "flaky: part %u: longer than %llu bytes", no,
                             (unsigned long long)length);
    }
    memcpy(data + *got, chunk, n);
    *got += n;
  } while (n > 0);
  if (*got != length) {
    free(data);
    return store_error_set(err, STORE_E_INVALID,
                           "flaky: part %u: %zu of %llu bytes", no, *got,
                           (unsigned long long)length);
  }
  *out = data;
  return STORE_OK;
}

/* A part; with out (multipart_part_checked), its CRC-32C reported. */
static int32_t mp_part(store_handle *h, uint32_t no, uint64_t length,
                       store_read_fn src, void *ud, char *tok, size_t cap,
                       store_put_result *out, store_error *err)
{
  struct timespec ts = {0, 2000000};
  char listed[16], what[16], *data = NULL;
  size_t got = 0;
  int attempt, failing;
  int32_t rc;
  if (no < 1 || no > FL_MAX_PARTS)
    return store_error_set(err, STORE_E_INVALID, "flaky: part %u", no);
  snprintf(listed, sizeof(listed), ",%u,", no);
  pthread_mutex_lock(&h->mu);
  attempt = ++h->attempts[no];
  if (++h->inflight > h->max_inflight)
    h->max_inflight = h->inflight;
  pthread_mutex_unlock(&h->mu);
  failing = attempt == 1 && strstr(h->fail_parts, listed) != NULL;
  if (no == h->rewrite_part && h->rewrite_before)
    rewrite(h);
  rc = no == h->stall_part ? stall(h, no, err)
                           : read_part(no, length, src, ud, &data, &got, err);
  if (no == h->rewrite_part && !h->rewrite_before)
    rewrite(h);
  nanosleep(&ts, NULL); /* long enough for the parts to overlap */
  if (!rc && failing) {
    snprintf(what, sizeof(what), "part %u", no);
    rc = fail(h, err, what);
  }
  note(h, "part %u attempt %d len %zu %s", no, attempt, got,
       rc ? "fail" : "ok");
  pthread_mutex_lock(&h->mu);
  h->inflight--;
  if (!rc) {
    free(h->data[no]);
    h->data[no] = data;
    h->len[no] = got;
    h->crc[no] = fl_crc32c(0, data, got);
    report_crc(h, h->crc[no], attempt, 0, out);
    data = NULL;
  }
  pthread_mutex_unlock(&h->mu);
  free(data);
  if (!rc)
    snprintf(tok, cap, "p%ua%d", no, attempt);
  return rc;
}

static int32_t fl_mp_part(store_handle *h, const char *c, const char *k,
                          const char *id, uint32_t no, uint64_t length,
                          store_read_fn src, void *ud, char *tok, size_t cap,
                          store_error *err)
{
  (void)c; (void)k; (void)id;
  return mp_part(h, no, length, src, ud, tok, cap, NULL, err);
}

#ifndef FLAKY_NO_CHECKED
static int32_t fl_mp_part_checked(store_handle *h, const char *c,
                                  const char *k, const char *id, uint32_t no,
                                  uint64_t length, const store_put_opts *o,
                                  store_read_fn src, void *ud, char *tok,
                                  size_t cap, store_put_result *out,
                                  store_error *err)
{
  (void)c; (void)k; (void)id;
  note_opts(h, "part-ck", no, o);
  return mp_part(h, no, length, src, ud, tok, cap, out, err);
}
#endif

static int32_t fl_mp_complete(store_handle *h, const char *c, const char *k,
                              const char *id, const store_put_opts *o,
                              const char *const *tokens, uint32_t n,
                              store_put_result *out, store_error *err)
{
  char list[1024] = "", want[32];
  uint64_t sum = 0xcbf29ce484222325ULL, bytes = 0;
  uint32_t i, crc = 0;
  size_t used, j;
  int32_t rc = STORE_OK;
  (void)c; (void)k; (void)id;
  pthread_mutex_lock(&h->mu);
  for (i = 0; i < n && !rc; i++) {
    used = strlen(list);
    snprintf(list + used, sizeof(list) - used, "%s%s", i ? "," : "",
             tokens[i]);
    snprintf(want, sizeof(want), "p%ua%d", i + 1,
             i + 1 <= FL_MAX_PARTS ? h->attempts[i + 1] : 0);
    if (i + 1 > FL_MAX_PARTS || !h->data[i + 1] || strcmp(tokens[i], want))
      rc = store_error_set(err, STORE_E_INVALID,
                           "flaky: complete: part %u: token '%s', want '%s'",
                           i + 1, tokens[i], want);
    for (j = 0; !rc && j < h->len[i + 1]; j++) {
      sum ^= (unsigned char)h->data[i + 1][j];
      sum *= 0x100000001b3ULL;
    }
    if (!rc)
      crc = fl_crc32c(crc, h->data[i + 1], h->len[i + 1]);
    bytes += rc ? 0 : h->len[i + 1];
  }
  pthread_mutex_unlock(&h->mu);
  note(h, "complete n=%u tokens=%s ct=%s flags=%u sum=%016llx bytes=%llu "
       "inflight=%d%s", n, list, o && o->content_type ? o->content_type : "-",
       o ? o->flags : 0, (unsigned long long)sum, (unsigned long long)bytes,
       h->max_inflight, rc ? " refused" : "");
  note_opts(h, "complete-ck", n, o);
  if (!rc) {
    h->completed = 1;
    report_crc(h, crc, 1, 1, out);
  }
  return rc;
}

static int32_t fl_mp_abort(store_handle *h, const char *c, const char *k,
                           const char *id, store_error *err)
{
  (void)c; (void)k;
  /* Like an HTTP provider: nothing is sent once the host is cancelled, so
   * the host must shield the abort it makes after ^C. */
  if (h->host->is_cancelled(h->host->host_ctx))
    return store_error_set(err, STORE_E_ABORTED, "flaky: abort of %s: "
                           "cancelled", id);
  note(h, "abort %s inflight=%d", id, h->max_inflight);
  pthread_mutex_lock(&h->mu);
  forget_parts(h);
  pthread_mutex_unlock(&h->mu);
  return STORE_OK;
}

static const store_limits limits = {
  .struct_size = sizeof(store_limits),
  .max_parts = FL_MAX_PARTS,
  .min_part_size = FL_MIN_PART,
};
#endif

static const store_config_key keys[] = {
  {"fail-times", "failures injected before each op succeeds", 0, 0},
  {"fail-code", "status code of injected failures", 0, 0},
  {"retryable", "1: injected failures are retryable", 0, 0},
  {"body", "content served by get", 0, 0},
  {"needed", "a required key", 1, 0},
  {"password", "a secret key", 0, 1},
  {"fail-parts", "parts that fail their first attempt (\"3,11\")", 0, 0},
  {"stall-part", "a part that waits for cancellation", 0, 0},
  {"put-takes", "a put reads at most this many bytes (a broken provider)", 0, 0},
  {"put-reports", "the size a put reports stored (a broken provider)", 0, 0},
  {"get-md5", "the content MD5 a get reports (and a get reports its entry)", 0, 0},
  {"get-size", "the size a get reports (and a get reports its entry)", 0, 0},
  {"events", "a file that gets one line per event", 0, 0},
  {"put-crc32c", "the CRC-32C puts report: right, wrong, wrong-once, "
                 "wrong-complete; unset: none", 0, 0},
  {"get-crc32c", "the CRC-32C get and head entries report (8 hex)", 0, 0},
  {"get-etag", "the etag a get's entry reports", 0, 0},
  {"get-replaced", "1: a get pinned by if_match fails PRECONDITION", 0, 0},
  {"put-etag", "the etag a put reports", 0, 0},
  {"delete-replaced", "1: a delete pinned by if_match fails PRECONDITION",
   0, 0},
  {"rewrite-file", "a file rewritten once while it is uploaded", 0, 0},
  {"rewrite-part", "flaky-mp: the part that rewrites it (default 1)", 0, 0},
  {"rewrite-before", "1: before reading that part's body", 0, 0},
  {NULL, NULL, 0, 0},
};

STORE_EXPORT const struct store_interface store_interface = {
  .abi_major = STORE_ABI_MAJOR,
  .abi_minor = STORE_ABI_MINOR,
  .struct_size = sizeof(struct store_interface),
#ifdef FLAKY_MULTIPART
#ifndef FLAKY_NO_CHECKED
  .name = "flaky-mp",
#endif
  .capabilities = STORE_CAP_RANGE_GET | STORE_CAP_MULTIPART |
                  STORE_CAP_THREADSAFE | STORE_CAP_CONDITIONAL,
  .limits = &limits,
  .multipart_begin = fl_mp_begin,
  .multipart_part = fl_mp_part,
  .multipart_complete = fl_mp_complete,
  .multipart_abort = fl_mp_abort,
#ifdef FLAKY_NO_CHECKED
  .name = "flaky-mp10",
#else
  .multipart_part_checked = fl_mp_part_checked,
#endif
#else
  .name = "flaky",
  .capabilities = STORE_CAP_RANGE_GET | STORE_CAP_DELETE_IF_MATCH,
#endif
  .version = "1.0.0",
  .description = "fault-injecting fixture",
  .config_keys = keys,
  .open = fl_open,
  .close = fl_close,
  .blob_put = fl_put,
  .blob_get = fl_get,
  .blob_head = fl_head,
  .blob_delete = fl_delete,
  .blob_list = fl_list,
};
