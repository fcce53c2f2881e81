/*
** transfer.c -- bodies between file descriptors, local files and services:
** put/get from fds and files (gets land atomically), and copies between any
** two services: server-side when the provider can, otherwise one get
** streamed into one put through a bounded ring buffer (no temp file, memory
** bounded by the ring). Puts the engine wants (multipart.c: large or of
** unknown length, to a service with multipart) go up in parts: a file's
** parts read by offset, another service's by ranged gets, a pipe's in
** order. Large downloads to a file come in parallel ranged gets, written
** in place with pwrite and checked whole against the store's CRC-32C (the
** ranges' combined) or else its MD5. Uploads carry the body's CRC-32C
** where it is known before sending (a file's, read ahead; a copy's
** source's), and copies are checked against the source's. The st_
** variants count the bytes they move for the workflows' progress
** (workflow.h).
*/
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"

/* One read of a downloaded file when its MD5 is checked. */
#define ST_DL_VERIFY_CHUNK ((size_t)1 << 20)
/* One read of a file's range when its CRC-32C is read ahead: small, as it
 * is outside the memory budget. */
#define ST_CRC_CHUNK ((size_t)128 << 10)

/* Report n moved bytes when someone listens. */
static void count_bytes(xtstore_bytes_fn on_bytes, void *ud, size_t n)
{
  if (on_bytes && n)
    on_bytes(ud, n);
}

/* ------------------------------------------------------------------------ */
/* file descriptors                                                         */
/* ------------------------------------------------------------------------ */
struct fd_src {
  int fd;
  off_t start;      /* where the body starts; -1: not seekable (a pipe) */
  int err;          /* errno of a failed read */
  xtstore_bytes_fn on_bytes;
  void *ud;
  const xtstore_ctx *ctx;   /* its cancellation stops a wait for a pipe */
  const char *container, *key;  /* the blob it goes to, for messages    */
  int has_id;               /* a file: id, as when the put began        */
  st_mp_ident id;
};

/* A slice of the wait for a pipe's next bytes: how late a cancellation
 * is seen when the signal that caused it reached another thread. */
#define ST_PIPE_WAIT_MS 200

/* Wait until a pipe has bytes (or its end, or an error, which the read
 * then tells). Non-zero once the context is cancelled: a writer that
 * keeps the pipe open and silent must not hold a cancelled put. */
static int wait_readable(const struct fd_src *s)
{
  struct pollfd p;
  int n;

  for (;;) {
    if (st_cancelled(s->ctx))
      return 1;
    p.fd = s->fd;
    p.events = POLLIN;
    p.revents = 0;
    n = poll(&p, 1, ST_PIPE_WAIT_MS);
    if (n > 0 || (n < 0 && errno != EINTR))
      return 0;
  }
}

static int32_t fd_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  struct fd_src *s = ud;
  ssize_t n;

  *out_n = 0;
  do {
    if (s->start < 0 && wait_readable(s))
      return 1;
    n = read(s->fd, buf, cap);
  } while (n < 0 && (errno == EINTR || errno == EAGAIN));
  if (n < 0) {
    s->err = errno;
    *out_n = 0;
    return 1;
  }
  *out_n = (size_t)n;
  count_bytes(s->on_bytes, s->ud, (size_t)n);
  return 0;
}

static int32_t fd_rewind(void *ud)
{
  struct fd_src *s = ud;
  return lseek(s->fd, s->start, SEEK_SET) == s->start ? 0 : -1;
}

/* A reader of one range of a seekable fd, for the engine's parts. */
struct fd_range {
  int fd;
  off_t at;
  int err;          /* errno of a failed pread */
};

static int fd_range_open(void *ud, uint64_t off, uint64_t len, void **out,
                         store_error *err)
{
  const struct fd_src *s = ud;
  struct fd_range *r = malloc(sizeof(*r));

  (void)len;
  *out = r;
  if (!r)
    return st_err(err, STORE_E_NOMEM, "out of memory");
  r->fd = s->fd;
  r->at = s->start + (off_t)off;
  r->err = 0;
  return STORE_OK;
}

static int32_t fd_range_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  struct fd_range *r = ud;
  ssize_t n;

  do
    n = pread(r->fd, buf, cap, r->at);
  while (n < 0 && errno == EINTR);
  *out_n = n > 0 ? (size_t)n : 0;
  if (n < 0) {
    r->err = errno;
    return 1;
  }
  r->at += n;
  return 0;
}

static int fd_range_close(void *reader, store_error *err)
{
  struct fd_range *r = reader;
  int e = r->err;

  free(r);
  return e ? st_err(err, STORE_E_IO, "reading the body: %s", strerror(e))
           : STORE_OK;
}

/* st_mp_src.crc of a seekable fd: the CRC-32C of body bytes [off,
 * off+len), read ahead with pread. The range is then in the page cache
 * for the send, so a file's upload reads the disk once. */
static int fd_range_crc(void *ud, uint64_t off, uint64_t len, uint32_t *out,
                        store_error *err)
{
  const struct fd_src *s = ud;
  char buf[ST_CRC_CHUNK];
  uint64_t at = 0;
  uint32_t crc = 0;
  ssize_t n;
  int rc = STORE_OK;

  while (at < len) {
    n = pread(s->fd, buf, len - at < sizeof(buf) ? (size_t)(len - at)
                                                 : sizeof(buf),
              s->start + (off_t)(off + at));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      rc = st_err(err, STORE_E_IO, "reading the body for blob '%s/%s': %s",
                  s->container, s->key, n < 0 ? strerror(errno)
                  : "the file is shorter than it was (it changed while it "
                    "was read)");
      break;
    }
    crc = st_crc32c(crc, buf, (size_t)n);
    at += (uint64_t)n;
  }
  *out = crc;
  return rc;
}

/* st_mp_src.changed of a file: its identity now against the one taken
 * when the put began. */
static int fd_changed(void *ud, store_error *err)
{
  const struct fd_src *s = ud;

  if (!s->has_id || !st_mp_ident_fd_changed(s->fd, s->start, &s->id, err))
    return STORE_OK;
  return STORE_E_IO;
}

/* Through the engine: a seekable fd of known length by offset (the engine
 * counts), anything else in order (fd_read counts). */
static int put_fd_parts(xtstore_svc *svc, const char *container,
                        const char *key, const store_put_opts *o,
                        struct fd_src *src, store_put_result *out,
                        store_error *err)
{
  st_mp_src ms;

  memset(&ms, 0, sizeof(ms));
  ms.length = o->content_length;
  ms.ud = src;
  ms.read = fd_read;
  if (src->start >= 0 && o->content_length >= 0) {
    ms.open = fd_range_open;
    ms.read = fd_range_read;
    ms.close = fd_range_close;
    ms.crc = fd_range_crc;
    ms.on_bytes = src->on_bytes;
    ms.bytes_ud = src->ud;
    /* A file can be resumed by the next run: its identity keys the
     * journal (journal.c), and it must still be that at the end. */
    if (src->has_id) {
      ms.ident = &src->id;
      ms.changed = fd_changed;
    }
  }
  return st_mp_put(svc, container, key, o, &ms, out, err);
}

int st_put_fd(xtstore_svc *svc, const char *container, const char *key,
              const store_put_opts *opts, int fd, xtstore_bytes_fn on_bytes,
              void *ud, store_put_result *out, store_error *err)
{
  struct fd_src src = {fd, lseek(fd, 0, SEEK_CUR), 0, on_bytes, ud,
                       svc->ctx, container, key, 0,
                       {0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL}};
  store_put_result res;
  store_put_opts o;
  store_error e;
  int rc, known = ST_KNOWN_GIVEN;

  /* The result's ETag pins the removal of bytes of a changed file. */
  if (!out) {
    memset(&res, 0, sizeof(res));
    res.struct_size = sizeof(res);
    out = &res;
  }
  st_put_opts_copy(&o, opts);
  /* A file: what it is now, to see at the end that it did not change. */
  src.has_id = !st_mp_ident_fd(fd, src.start, &src.id);
  if (o.content_length < 0 && src.has_id)
    o.content_length = (int64_t)(src.id.size - (uint64_t)src.start);
  if (st_mp_wanted(svc, o.content_length)) {
    rc = put_fd_parts(svc, container, key, &o, &src, out, err);
  } else {
    /* A file's bytes are at hand: their CRC-32C read ahead lets the
     * service check them (a pipe's goes as a trailer: blob.c). */
    if (src.has_id && o.content_length >= 0 &&
        !(o.checksums & STORE_CKSUM_CRC32C)) {
      rc = fd_range_crc(&src, 0, (uint64_t)o.content_length, &o.crc32c, err);
      if (rc)
        return rc;
      o.checksums |= STORE_CKSUM_CRC32C;
      known = ST_KNOWN_FILE;
    }
    rc = st_blob_put(svc, container, key, &o, known, fd_read, &src,
                     src.start >= 0 ? fd_rewind : NULL, out, err);
    /* Bytes of two states of the file may have gone up: not kept. */
    st_err_reset(&e);
    if (!rc && fd_changed(&src, &e)) {
      rc = st_err(err, STORE_E_IO, "service '%s': blob '%s/%s': %s",
                  svc->name, container, key, e.message);
      st_remove_wrong(svc, container, key, &o, out->etag, err);
    }
  }
  if (rc == STORE_E_ABORTED && src.err)
    return st_err(err, STORE_E_IO, "reading the body for blob '%s/%s': %s",
                  container, key, strerror(src.err));
  return rc;
}

int xtstore_blob_put_fd(xtstore_svc *svc, const char *container,
                        const char *key, const store_put_opts *opts, int fd,
                        store_put_result *out, store_error *err)
{
  return st_put_fd(svc, container, key, opts, fd, NULL, NULL, out, err);
}

int xtstore_blob_put_fd_progress(xtstore_svc *svc, const char *container,
                                 const char *key, const store_put_opts *opts,
                                 int fd, xtstore_bytes_fn on_bytes, void *ud,
                                 store_put_result *out, store_error *err)
{
  return st_put_fd(svc, container, key, opts, fd, on_bytes, ud, out, err);
}

int st_append_fd(xtstore_svc *svc, const char *container, const char *key,
                 const char *content_type, int fd, store_error *err)
{
  struct fd_src src = {fd, -1, 0, NULL, NULL, svc->ctx, container, key, 0,
                       {0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL}};
  store_append_opts o;
  struct stat st;
  off_t pos = lseek(fd, 0, SEEK_CUR);
  int rc;

  memset(&o, 0, sizeof(o));
  o.struct_size = sizeof(o);
  o.content_length = -1;
  o.content_type = content_type;
  if (pos >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
    o.content_length = st.st_size - pos;
  rc = xtstore_blob_append(svc, container, key, &o, fd_read, &src, err);
  if (rc == STORE_E_ABORTED && src.err)
    return st_err(err, STORE_E_IO, "reading the body for blob '%s/%s': %s",
                  container, key, strerror(src.err));
  return rc;
}

int xtstore_blob_put_file(xtstore_svc *svc, const char *container,
                          const char *key, const store_put_opts *opts,
                          const char *path, store_put_result *out,
                          store_error *err)
{
  int fd, rc;
  struct stat st;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return st_err(err, errno == ENOENT ? STORE_E_NOT_FOUND : STORE_E_IO,
                  "local file '%s': %s", path, strerror(errno));
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    close(fd);
    return st_err(err, STORE_E_INVALID, "local file '%s': is a directory",
                  path);
  }
  rc = xtstore_blob_put_fd(svc, container, key, opts, fd, out, err);
  close(fd);
  return rc;
}

struct fd_sink {
  int fd;
  int err;
  xtstore_bytes_fn on_bytes;
  void *ud;
};

static int32_t fd_write(void *ud, const void *buf, size_t len)
{
  struct fd_sink *s = ud;
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(s->fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      s->err = errno ? errno : EIO;
      return 1;
    }
    p += n;
    len -= (size_t)n;
    count_bytes(s->on_bytes, s->ud, (size_t)n);
  }
  return 0;
}

int xtstore_blob_get_fd(xtstore_svc *svc, const char *container,
                        const char *key, const store_get_opts *opts, int fd,
                        store_error *err)
{
  struct fd_sink sink = {fd, 0, NULL, NULL};
  int rc = xtstore_blob_get(svc, container, key, opts, fd_write, &sink, err);
  if (rc == STORE_E_ABORTED && sink.err)
    return st_err(err, STORE_E_IO, "writing blob '%s/%s' locally: %s",
                  container, key, strerror(sink.err));
  return rc;
}

/* ------------------------------------------------------------------------ */
/* get into a file, atomically                                              */
/* ------------------------------------------------------------------------ */
struct file_get {
  struct fd_sink sink;
  int is_marker;
  const store_get_opts *user;
  uint64_t split_above;     /* fetch in ranges above this size; 0: never */
  int split;                /* the first get stopped at its entry: do so */
  uint64_t size;            /* the object's, when split                 */
  char etag[256];           /* what the ranges are pinned to            */
  char md5[33];             /* its MD5 where the store keeps one; ""    */
  int has_crc;              /* it reports a CRC-32C: crc               */
  uint32_t crc;
};

/* Non-zero for an etag that names one version of the bytes: not empty
 * (unquoted or quoted) and not weak (W/"..."), which If-Match never
 * matches and which may stay while the bytes change. */
static int strong_etag(const char *etag)
{
  return etag && etag[0] && strcmp(etag, "\"\"") && strncmp(etag, "W/", 2);
}

static int32_t file_entry(void *ud, const store_entry *e)
{
  struct file_get *g = ud;
  int32_t rc = 0;

  /* xtstore_blob_get flags every directory marker (core/blob.c); markers
   * never become local files. */
  g->is_marker = (e->flags & STORE_ENTRY_DIR_MARKER) != 0;
  if (g->user && g->user->on_entry)
    rc = g->user->on_entry(g->user->on_entry_ctx, e);
  if (rc || g->is_marker || !g->split_above || e->size <= g->split_above ||
      !strong_etag(e->etag) || strlen(e->etag) >= sizeof(g->etag))
    return rc;
  /* A large object: this get stops before its body, which comes in
   * ranges pinned to this etag (get_ranges). */
  g->split = 1;
  g->size = e->size;
  snprintf(g->etag, sizeof(g->etag), "%s", e->etag);
  g->has_crc = store_entry_crc32c(e, &g->crc);
  if (e->content_md5 && strlen(e->content_md5) == 32 &&
      strspn(e->content_md5, "0123456789abcdef") == 32)
    memcpy(g->md5, e->content_md5, 33);
  return 1;
}

/* ------------------------------------------------------------------------ */
/* a large download in parallel ranges                                      */
/* ------------------------------------------------------------------------ */
struct dl {
  xtstore_svc *svc;
  const char *container, *key, *path;
  store_get_opts opts;          /* the caller's, pinned to the etag      */
  int pinned;                   /* opts.if_match is ours, not the caller's */
  int fd;
  uint64_t size, part;
  uint32_t nranges;
  xtstore_bytes_fn on_bytes;
  void *ud;
  pthread_mutex_t mu;           /* guards on_bytes and the failure       */
  uint32_t *crcs;               /* crcs[i]: range i+1's CRC-32C, or NULL */
  atomic_int failed;            /* a range failed: the others stop       */
  int rc;                       /* the first failure                     */
  store_error err;
};

struct dl_range {
  struct dl *d;
  uint32_t no;                  /* 1-based                               */
  uint64_t off, len, got;
  uint32_t crc;                 /* of the bytes written, in order        */
  int werr;                     /* errno of a failed pwrite              */
};

/* store_write_fn of a range: at its place in the file. The core resumes a
 * cut range after the bytes taken here, so each byte is counted once. */
static int32_t range_write(void *ud, const void *buf, size_t len)
{
  struct dl_range *r = ud;
  struct dl *d = r->d;
  const char *p = buf;
  size_t left = len;

  if (atomic_load(&d->failed))
    return 1;
  if (r->got + len > r->len) {
    r->werr = EOVERFLOW;
    return 1;
  }
  while (left > 0) {
    ssize_t n = pwrite(d->fd, p, left, (off_t)(r->off + r->got));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      r->werr = errno ? errno : EIO;
      return 1;
    }
    p += n;
    left -= (size_t)n;
    r->got += (uint64_t)n;
  }
  if (d->crcs)
    r->crc = st_crc32c(r->crc, buf, len);
  if (d->on_bytes) {
    pthread_mutex_lock(&d->mu);
    d->on_bytes(d->ud, len);
    pthread_mutex_unlock(&d->mu);
  }
  return 0;
}

/* Record the first failure, of range r (NULL: out of memory before it);
 * the other ranges stop at their next chunk. */
static void dl_fail(struct dl *d, const struct dl_range *r, int rc,
                    const store_error *e)
{
  char prefix[96];
  const char *msg = e ? e->message : "out of memory";
  int n = snprintf(prefix, sizeof(prefix), "service '%s': ", d->svc->name);

  pthread_mutex_lock(&d->mu);
  if (!atomic_load(&d->failed)) {
    if (n > 0 && (size_t)n < sizeof(prefix) &&
        !strncmp(msg, prefix, (size_t)n))
      msg += n;
    d->rc = rc;
    /* The ranges' own pin (not a caller's condition): the object was
     * replaced after the first range was asked for. */
    if (rc == STORE_E_PRECONDITION && r && d->pinned)
      st_err(&d->err, rc, "service '%s': blob '%s/%s': range %" PRIu32
             " of %" PRIu32 ": replaced while it was read (it no longer has "
             "ETag %s): the bytes of two versions were not mixed; get it "
             "again", d->svc->name, d->container, d->key, r->no, d->nranges,
             d->opts.if_match);
    else if (r)
      st_err(&d->err, rc, "service '%s': blob '%s/%s': range %" PRIu32
             " of %" PRIu32 " (bytes %" PRIu64 "-%" PRIu64 "): %s",
             d->svc->name, d->container, d->key, r->no, d->nranges, r->off,
             r->off + r->len - 1, msg);
    else
      st_err(&d->err, rc, "service '%s': blob '%s/%s': %s", d->svc->name,
             d->container, d->key, msg);
    d->err.flags = e ? e->flags : 0;
    atomic_store(&d->failed, 1);
  }
  pthread_mutex_unlock(&d->mu);
}

/* st_job_fn: one range, retried (and resumed) by the core on its own. */
static void range_job(void *ud, void *job)
{
  struct dl *d = ud;
  struct dl_range *r = job;
  store_get_opts o = d->opts;
  store_error e;
  int rc;

  st_err_reset(&e);
  o.flags |= STORE_GET_RANGE;
  o.offset = r->off;
  o.length = r->len;
  if (atomic_load(&d->failed))
    goto out;
  rc = xtstore_blob_get(d->svc, d->container, d->key, &o, range_write, r,
                        &e);
  if (rc == STORE_E_ABORTED && atomic_load(&d->failed))
    goto out;
  if (rc == STORE_E_ABORTED && r->werr)
    rc = st_err(&e, STORE_E_IO, "local file '%s': %s", d->path,
                r->werr == EOVERFLOW ? "the server sent more than the range"
                                     : strerror(r->werr));
  else if (rc == STORE_OK && r->got != r->len)
    rc = st_err(&e, STORE_E_IO, "received %" PRIu64 " of its %" PRIu64
                " bytes", r->got, r->len);
  if (rc)
    dl_fail(d, r, rc, &e);
  else if (d->crcs)
    d->crcs[r->no - 1] = r->crc;
out:
  free(r);
}

/* The file's CRC-32C, from its ranges' in order, against the one the
 * store keeps. */
static int dl_verify_crc(struct dl *d, uint32_t want, store_error *err)
{
  uint32_t i, crc = d->crcs[0];
  uint64_t len;

  for (i = 1; i < d->nranges; i++) {
    len = i + 1 < d->nranges ? d->part : d->size - (uint64_t)i * d->part;
    crc = st_crc32c_combine(crc, d->crcs[i], len);
  }
  return st_crc32c_verify(d->svc, d->container, d->key, crc, want, err);
}

/* The file's MD5 against the one the store keeps: the ranges are not
 * checked by the core, so the whole is checked here, in one read. */
static int dl_verify_md5(struct dl *d, const char *want, store_error *err)
{
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  char *buf = malloc(ST_DL_VERIFY_CHUNK);
  uint64_t at = 0;
  int rc = STORE_OK;

  if (!md || !buf || EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1) {
    rc = st_err(err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
  while (at < d->size) {
    ssize_t r = pread(d->fd, buf, ST_DL_VERIFY_CHUNK, (off_t)at);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      rc = st_err(err, STORE_E_IO, "local file '%s': reading it back: %s",
                  d->path, r < 0 ? strerror(errno) : "it is short");
      goto out;
    }
    if (EVP_DigestUpdate(md, buf, (size_t)r) != 1) {
      rc = st_err(err, STORE_E_NOMEM, "out of memory");
      goto out;
    }
    at += (uint64_t)r;
    if (st_cancelled(d->svc->ctx)) {
      rc = st_err(err, STORE_E_ABORTED, "service '%s': blob '%s/%s': "
                  "cancelled (interrupted)", d->svc->name, d->container,
                  d->key);
      goto out;
    }
  }
  rc = st_md5_verify(d->svc, d->container, d->key, md, want, err);
out:
  free(buf);
  EVP_MD_CTX_free(md);
  return rc;
}

/* The object g describes into fd by ranged gets: st_mp_inflight(svc) at
 * once, the multipart part size each, written where they belong; then the
 * whole checked against the store's CRC-32C (each range's summed as it
 * lands, combined in order: no second read), or else its MD5 (the file
 * read back), when it keeps one. */
static int get_ranges(xtstore_svc *svc, const char *container,
                      const char *key, const store_get_opts *o,
                      const struct file_get *g, int fd, const char *path,
                      store_error *err)
{
  struct dl d;
  struct dl_range *r;
  st_pool pool;
  uint64_t off;
  uint32_t no = 0;
  int rc;

  memset(&d, 0, sizeof(d));
  d.svc = svc;
  d.container = container;
  d.key = key;
  d.path = path;
  d.opts = *o;
  d.opts.on_entry = NULL;
  d.opts.on_entry_ctx = NULL;
  d.pinned = !o->if_match;
  d.opts.if_match = g->etag;
  d.fd = fd;
  d.size = g->size;
  d.part = svc->multipart.part_size ? svc->multipart.part_size
                                    : ST_MP_PART_SIZE;
  d.nranges = (uint32_t)((d.size + d.part - 1) / d.part);
  d.on_bytes = g->sink.on_bytes;
  d.ud = g->sink.ud;
  atomic_init(&d.failed, 0);
  if (g->has_crc && !(d.crcs = calloc(d.nranges, sizeof(*d.crcs))))
    return st_err(err, STORE_E_NOMEM, "out of memory");
  st_log(svc->ctx, STORE_LOG_INFO, "service '%s': blob '%s/%s': %" PRIu64
         " bytes in %" PRIu32 " ranges of %" PRIu64 ", %u at a time",
         svc->name, container, key, d.size, d.nranges, d.part,
         st_mp_inflight(svc));
  pthread_mutex_init(&d.mu, NULL);
  rc = st_pool_start(&pool, st_mp_inflight(svc), range_job, &d, err);
  if (rc)
    goto out;
  for (off = 0; off < d.size && !atomic_load(&d.failed) &&
                !st_cancelled(svc->ctx); off += d.part) {
    r = calloc(1, sizeof(*r));
    if (!r) {
      dl_fail(&d, NULL, STORE_E_NOMEM, NULL);
      break;
    }
    r->d = &d;
    r->no = ++no;
    r->off = off;
    r->len = d.size - off < d.part ? d.size - off : d.part;
    st_pool_push(&pool, r);
  }
  st_pool_wait(&pool);
  st_pool_stop(&pool);
  if (atomic_load(&d.failed)) {
    if (err)
      *err = d.err;
    rc = d.rc;
  } else if (st_cancelled(svc->ctx)) {
    rc = st_err(err, STORE_E_ABORTED, "service '%s': blob '%s/%s': "
                "cancelled (interrupted)", svc->name, container, key);
  } else if (g->has_crc) {
    rc = dl_verify_crc(&d, g->crc, err);
  } else if (g->md5[0]) {
    rc = dl_verify_md5(&d, g->md5, err);
  }
out:
  pthread_mutex_destroy(&d.mu);
  free(d.crcs);
  return rc;
}

/* The size above which a download to svc goes in ranges, or 0: never. It
 * needs ranges, pinning (the ranges of one version only) and several
 * requests at once; a caller's own range stays one get. */
static uint64_t split_threshold(const xtstore_svc *svc,
                                const store_get_opts *o)
{
  uint64_t caps = STORE_CAP_RANGE_GET | STORE_CAP_CONDITIONAL;

  if ((svc->ops->capabilities & caps) != caps || st_mp_inflight(svc) < 2 ||
      (o->flags & STORE_GET_RANGE))
    return 0;
  return svc->multipart.threshold ? svc->multipart.threshold
                                  : ST_MP_THRESHOLD;
}

/* get_target's mode of a file that does not exist yet. */
#define ST_MODE_NEW ((mode_t)-1)

/*
** Where a download really goes. A symlink is followed (the link stays, its
** target is replaced). Something that is not a regular file -- a device
** (/dev/null), a FIFO, a socket -- is written in place, since renaming over
** it would destroy it (and atomicity means nothing there): *out_direct is
** set. An existing file's permission bits are kept (*out_mode; not
** setuid/setgid/sticky, which must not carry over to other bytes), else
** *out_mode is ST_MODE_NEW: a new file gets what the umask (or a default
** ACL) makes of 0666, as the kernel applies them when it creates the
** file. `real` (len bytes) receives the path to replace.
*/
static int get_target(const char *path, char *real, size_t len,
                      int *out_direct, mode_t *out_mode, store_error *err)
{
  struct stat st;

  *out_direct = 0;
  *out_mode = ST_MODE_NEW;
  if (lstat(path, &st) != 0) {
    if (errno != ENOENT)
      return st_err(err, STORE_E_IO, "local file '%s': %s", path,
                    strerror(errno));
    if ((size_t)snprintf(real, len, "%s", path) >= len)
      return st_err(err, STORE_E_INVALID, "local file '%s': path too long",
                    path);
    return STORE_OK;
  }
  if (S_ISLNK(st.st_mode)) {
    if (stat(path, &st) != 0)
      return st_err(err, STORE_E_IO, "local file '%s': a symlink whose "
                    "target cannot be reached: %s", path, strerror(errno));
    if (len < PATH_MAX || !realpath(path, real))
      return st_err(err, STORE_E_IO, "local file '%s': cannot resolve the "
                    "symlink: %s", path, strerror(errno));
  } else if ((size_t)snprintf(real, len, "%s", path) >= len) {
    return st_err(err, STORE_E_INVALID, "local file '%s': path too long", path);
  }
  if (S_ISDIR(st.st_mode))
    return st_err(err, STORE_E_INVALID, "local file '%s': is a directory",
                  path);
  if (S_ISREG(st.st_mode))
    *out_mode = st.st_mode & 0777;
  else
    *out_direct = 1;
  return STORE_OK;
}

/* ------------------------------------------------------------------------ */
/* landing a download                                                       */
/* ------------------------------------------------------------------------ */
/*
** A download is written into a file that has no name yet, and lands
** under its name whole or not at all. Where the kernel can (Linux's
** O_TMPFILE, named afterwards through /proc/self/fd), the file is created
** unnamed in the target's directory: nothing is left behind by a crash,
** and the directory is locked only to link the finished file in, not
** while its inode is allocated (slow on ext4 without a journal next to
** recently deleted inodes, while the other downloads into that directory
** spin on its lock). A new file is linked at its name, in one step; one
** that appeared since get_target looked (another program, or another
** download of the same name) is replaced as a rename would. Elsewhere,
** and to replace an existing file (keeping its mode; its owner, ACLs and
** xattrs are the new file's, as with any rename over it), a hidden
** temporary file (".xtstore-get-PID-N", which tree walks skip) is renamed
** over it: a crash before the rename leaves that one behind.
*/
struct landing {
  char dir[PATH_MAX];       /* the target's directory                  */
  char tmp[PATH_MAX + 48];  /* the named temporary file, "" if none     */
  int unnamed;              /* fd is an O_TMPFILE                       */
};

/* Whether unnamed files can be named here: /proc is mounted (probed once;
 * cleared when naming one through it is refused anyway: gVisor, an LSM,
 * a masked /proc). The umask, from /proc (-1: unknown), for the check in
 * land_open. */
static pthread_once_t proc_once = PTHREAD_ONCE_INIT;
static atomic_int proc_fd_ok;
static int proc_umask = -1;

static void proc_probe(void)
{
  char line[128];
  unsigned mask;
  FILE *f;

  atomic_store(&proc_fd_ok, access("/proc/self/fd", X_OK) == 0);
  f = fopen("/proc/self/status", "re");
  if (!f)
    return;
  while (fgets(line, sizeof(line), f))
    if (sscanf(line, "Umask: %o", &mask) == 1) {
      proc_umask = (int)(mask & 0777);
      break;
    }
  fclose(f);
}

/* A new name for a hidden temporary file beside the target, into l->tmp
 * (-1: too long). */
static int tmp_name(struct landing *l)
{
  static atomic_uint seq;

  if ((size_t)snprintf(l->tmp, sizeof(l->tmp), "%s/.xtstore-get-%ld-%u",
                       l->dir, (long)getpid(), atomic_fetch_add(&seq, 1)) <
      sizeof(l->tmp))
    return 0;
  l->tmp[0] = '\0';
  errno = ENAMETOOLONG;
  return -1;
}

/* Create a hidden temporary file beside the target, of mode `mode` (the
 * kernel applies the umask) (-1: errno set, l->tmp ""). */
static int tmp_create(struct landing *l, mode_t mode)
{
  int fd;

  do {
    if (tmp_name(l))
      return -1;
    fd = open(l->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EEXIST);
  if (fd < 0)
    l->tmp[0] = '\0';
  return fd;
}

/* Before Linux 6.0 (fixed by ac6800e279a2, backported to the 4.19+
 * stables), O_TMPFILE on a filesystem without POSIX ACLs ignored the
 * umask: the file would land 0666. Its mode is put right here, unless the
 * directory has a default ACL (which, not the umask, then decides). */
static int umask_apply(const struct landing *l, int fd)
{
  struct stat st;
  mode_t want;

  if (proc_umask < 0 || fstat(fd, &st) != 0)
    return 0;
  if (!(st.st_mode & (mode_t)proc_umask & 0777))
    return 0;
  if (getxattr(l->dir, "system.posix_acl_default", NULL, 0) > 0)
    return 0;
  want = st.st_mode & 0777 & ~(mode_t)proc_umask;
  return fchmod(fd, want);
}

/* The file a download of `real` is written into (-1: errno set). */
static int land_open(struct landing *l, const char *real, mode_t mode)
{
  char buf[PATH_MAX];
  int fd;

  snprintf(buf, sizeof(buf), "%s", real);
  snprintf(l->dir, sizeof(l->dir), "%s", dirname(buf));
  l->tmp[0] = '\0';
  l->unnamed = 0;
  pthread_once(&proc_once, proc_probe);
  if (mode == ST_MODE_NEW && atomic_load(&proc_fd_ok)) {
    fd = open(l->dir, O_RDWR | O_TMPFILE | O_CLOEXEC, 0666);
    if (fd >= 0) {
      if (umask_apply(l, fd) != 0) {
        close(fd);
        return -1;
      }
      l->unnamed = 1;
      return fd;
    }
    /* Not supported by this filesystem (or kernel): a named one. */
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
      return -1;
  }
  /* Replacing a file: private until it has that file's mode (which may
   * be stricter than the umask's). */
  fd = tmp_create(l, mode == ST_MODE_NEW ? 0666 : 0600);
  if (fd >= 0 && mode != ST_MODE_NEW && fchmod(fd, mode) != 0) {
    close(fd);
    unlink(l->tmp);
    l->tmp[0] = '\0';
    return -1;
  }
  return fd;
}

/* Copy all of `from` into `to` (0, or -1 with errno): in the kernel where
 * it can, else through a buffer. */
static int copy_whole(int from, int to)
{
  char buf[16384], *p;
  off_t in = 0, out = 0;
  ssize_t n, w;

  while ((n = copy_file_range(from, &in, to, &out, (size_t)1 << 30, 0)) > 0)
    ;
  if (n == 0)
    return 0;
  if (errno != ENOSYS && errno != EXDEV && errno != EINVAL &&
      errno != EOPNOTSUPP)
    return -1;
  while ((n = pread(from, buf, sizeof(buf), in)) > 0) {
    in += n;
    for (p = buf; n > 0; p += w, n -= w, out += w) {
      w = pwrite(to, p, (size_t)n, out);
      if (w < 0)
        return -1;
    }
  }
  return n < 0 ? -1 : 0;
}

/* The unnamed file fd cannot be named through /proc after all: its bytes
 * go into a named temporary file, which then takes fd's place (0, or -1
 * with errno; fd is closed either way). */
static int unnamed_to_named(struct landing *l, int *fd)
{
  struct stat st;
  int tfd, e;

  atomic_store(&proc_fd_ok, 0);
  if (fstat(*fd, &st) != 0)
    goto out;
  tfd = tmp_create(l, 0600);
  if (tfd < 0)
    goto out;
  if (fchmod(tfd, st.st_mode & 0777) != 0 || copy_whole(*fd, tfd) != 0) {
    e = errno;
    close(tfd);
    unlink(l->tmp);
    l->tmp[0] = '\0';
    errno = e;
    goto out;
  }
  close(*fd);
  *fd = tfd;
  l->unnamed = 0;
  return 0;
out:
  e = errno;
  close(*fd);
  *fd = -1;
  errno = e;
  return -1;
}

/* Name the unnamed file *fd `real`: linked there, or when something
 * appeared there meanwhile, linked at a temporary name (l->tmp) to be
 * renamed over it; when /proc refuses, its bytes copied into a temporary
 * file (synced unless ST_GET_NO_SYNC) that replaces *fd. 0, or -1 with
 * errno and *step the failed one. */
static int land_unnamed(struct landing *l, int *fd, const char *real,
                        uint32_t flags, const char **step)
{
  char proc[64];

  snprintf(proc, sizeof(proc), "/proc/self/fd/%d", *fd);
  if (linkat(AT_FDCWD, proc, AT_FDCWD, real, AT_SYMLINK_FOLLOW) == 0)
    return 0;
  if (errno == EPERM || errno == EACCES || errno == ENOENT ||
      errno == EOPNOTSUPP) {
    *step = "copying into a temporary file";
    if (unnamed_to_named(l, fd) != 0)
      return -1;
    *step = "syncing";
    return !(flags & ST_GET_NO_SYNC) && fsync(*fd) != 0 ? -1 : 0;
  }
  if (errno != EEXIST)
    return -1;
  /* It appeared meanwhile: replaced through a named link, as a rename of
   * a temporary file would. */
  for (;;) {
    if (tmp_name(l))
      return -1;
    if (linkat(AT_FDCWD, proc, AT_FDCWD, l->tmp, AT_SYMLINK_FOLLOW) == 0)
      return 0;
    if (errno != EEXIST) {
      l->tmp[0] = '\0';
      return -1;
    }
  }
}

/* fsync the directory `dir` (0, or -1 with errno). */
static int sync_dir(const char *dir)
{
  int rc, e, fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    return -1;
  rc = fsync(fd);
  e = errno;
  close(fd);
  errno = e;
  return rc;
}

/*
** Give the finished file *fd its name `real`, and close it (*fd is -1
** after, landed or not). Unless ST_GET_NO_SYNC (the caller then syncs the
** filesystem later), its bytes are synced before it has its name, so the
** name never shows a file whose bytes a crash could lose, and its
** directory after, so that a crash cannot lose the new name (or bring the
** old file back) once success is reported. A named temporary file is
** closed before the rename: where writes are flushed at close (NFS), a
** failure there (ENOSPC, EDQUOT, EIO) must not have replaced the old file
** already. A failure is one error naming the step.
*/
static int land(struct landing *l, int *fd, const char *real,
                const char *path, uint32_t flags, store_error *err)
{
  const char *step = "syncing";
  int rc, e;

  if (!(flags & ST_GET_NO_SYNC) && fsync(*fd) != 0)
    goto fail;
  step = "naming";
  if (l->unnamed && land_unnamed(l, fd, real, flags, &step) != 0)
    goto fail;
  step = "closing";
  rc = close(*fd);
  *fd = -1;
  if (rc != 0)
    goto fail;
  step = "renaming into place";
  if (l->tmp[0] && rename(l->tmp, real) != 0)
    goto fail;
  l->tmp[0] = '\0';
  step = "syncing its directory";
  if (!(flags & ST_GET_NO_SYNC) && sync_dir(l->dir) != 0)
    goto fail;
  return STORE_OK;
fail:
  e = errno;
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
  return st_err(err, STORE_E_IO, "local file '%s': %s: %s", path, step,
                strerror(e));
}

/* A download that did not land: its named temporary file goes. */
static void land_drop(struct landing *l)
{
  if (l->tmp[0])
    unlink(l->tmp);
  l->tmp[0] = '\0';
}

/* A download into something that is not a regular file: straight in. */
static int get_direct(xtstore_svc *svc, const char *container, const char *key,
                      store_get_opts *o, struct file_get *g, const char *path,
                      store_error *err)
{
  int rc, fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);

  if (fd < 0)
    return st_err(err, STORE_E_IO, "local file '%s': %s", path,
                  strerror(errno));
  g->sink.fd = fd;
  rc = xtstore_blob_get(svc, container, key, o, fd_write, &g->sink, err);
  if (rc == STORE_E_ABORTED && g->sink.err)
    rc = st_err(err, STORE_E_IO, "local file '%s': %s", path,
                strerror(g->sink.err));
  if (close(fd) != 0 && !rc)
    rc = st_err(err, STORE_E_IO, "local file '%s': %s", path,
                strerror(errno));
  return rc;
}

int st_get_file(xtstore_svc *svc, const char *container, const char *key,
                const store_get_opts *opts, const char *path,
                xtstore_bytes_fn on_bytes, void *ud, uint32_t flags,
                store_error *err)
{
  struct file_get g;
  struct landing l;
  store_get_opts o;
  char real[PATH_MAX];
  mode_t mode;
  int fd = -1, rc, direct;

  memset(&g, 0, sizeof(g));
  memset(&o, 0, sizeof(o));
  l.tmp[0] = '\0';
  if (opts)
    memcpy(&o, opts, opts->struct_size < sizeof(o) ? opts->struct_size
                                                   : sizeof(o));
  o.struct_size = sizeof(o);
  g.user = opts;
  o.on_entry = file_entry;
  o.on_entry_ctx = &g;
  g.sink.on_bytes = on_bytes;
  g.sink.ud = ud;
  rc = get_target(path, real, sizeof(real), &direct, &mode, err);
  if (rc)
    return rc;
  if (direct)
    return get_direct(svc, container, key, &o, &g, path, err);
  fd = land_open(&l, real, mode);
  if (fd < 0)
    return st_err(err, STORE_E_IO, "local file '%s': cannot create: %s", path,
                  strerror(errno));
  g.sink.fd = fd;
  g.split_above = split_threshold(svc, &o);
  rc = xtstore_blob_get(svc, container, key, &o, fd_write, &g.sink, err);
  if (rc == STORE_E_ABORTED && g.split) {
    st_err_reset(err);
    rc = get_ranges(svc, container, key, &o, &g, fd, path, err);
  } else if (rc == STORE_E_ABORTED && g.sink.err) {
    rc = st_err(err, STORE_E_IO, "local file '%s': %s", path,
                strerror(g.sink.err));
  }
  if (rc || g.is_marker)
    goto out;
  rc = land(&l, &fd, real, path, flags, err);
out:
  if (fd >= 0)
    close(fd);
  land_drop(&l);
  return rc;
}

int xtstore_blob_get_file(xtstore_svc *svc, const char *container,
                          const char *key, const store_get_opts *opts,
                          const char *path, store_error *err)
{
  return st_get_file(svc, container, key, opts, path, NULL, NULL, 0, err);
}

int xtstore_blob_get_file_progress(xtstore_svc *svc, const char *container,
                                   const char *key, const store_get_opts *opts,
                                   const char *path, xtstore_bytes_fn on_bytes,
                                   void *ud, store_error *err)
{
  return st_get_file(svc, container, key, opts, path, on_bytes, ud, 0, err);
}

/* ------------------------------------------------------------------------ */
/* copy                                                                     */
/* ------------------------------------------------------------------------ */

/* Properties of an object (a copy's source, or a server-side copy's
 * target), copied out of the borrowed entry: props_free. */
struct src_props {
  uint64_t size;
  int has_crc, has_md5;     /* it reports a CRC-32C (crc), an MD5 (md5) */
  uint32_t crc;
  uint8_t md5[16];
  char *etag, *content_type;
  store_kv *kv;
  size_t n;
  int oom;          /* props_entry stopped the head: out of memory */
};

static void props_free(struct src_props *p)
{
  size_t i;
  for (i = 0; i < p->n; i++) {
    free((char *)p->kv[i].key);
    free((char *)p->kv[i].value);
  }
  free(p->kv);
  free(p->etag);
  free(p->content_type);
  memset(p, 0, sizeof(*p));
}

/* A lowercase hex digit's value. */
static unsigned hexval(char c)
{
  return c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'a' + 10);
}

static int32_t props_entry(void *ud, const store_entry *e)
{
  struct src_props *p = ud;
  size_t i;
  p->size = e->size;
  p->has_crc = store_entry_crc32c(e, &p->crc);
  p->has_md5 = e->content_md5 && strlen(e->content_md5) == 32 &&
               strspn(e->content_md5, "0123456789abcdef") == 32;
  for (i = 0; p->has_md5 && i < 16; i++)
    p->md5[i] = (uint8_t)(hexval(e->content_md5[2 * i]) << 4 |
                          hexval(e->content_md5[2 * i + 1]));
  p->oom = 1;
  if (e->etag && !(p->etag = strdup(e->etag)))
    return 1;
  if (e->content_type && !(p->content_type = strdup(e->content_type)))
    return 1;
  if (e->nmetadata) {
    p->kv = calloc(e->nmetadata, sizeof(*p->kv));
    if (!p->kv)
      return 1;
    for (i = 0; i < e->nmetadata; i++) {
      p->kv[i].key = strdup(e->metadata[i].key);
      p->kv[i].value = strdup(e->metadata[i].value);
      p->n++;
      if (!p->kv[i].key || !p->kv[i].value)
        return 1;
    }
  }
  p->oom = 0;
  return 0;
}

/* The put side of a streamed copy: the ring, counted. A copy sent again
 * reports only the bytes beyond what earlier attempts reported. */
struct counted_ring {
  st_ring ring;
  xtstore_bytes_fn on_bytes;
  void *ud;
  uint64_t pos;             /* bytes the put read, this attempt        */
  uint64_t *counted;        /* reported, over all attempts             */
};

static int32_t counted_read(void *p, void *out, size_t cap, size_t *out_n)
{
  struct counted_ring *c = p;
  int32_t rc = st_ring_read(&c->ring, out, cap, out_n);
  if (rc == 0) {
    c->pos += *out_n;
    if (c->pos > *c->counted) {
      count_bytes(c->on_bytes, c->ud, (size_t)(c->pos - *c->counted));
      *c->counted = c->pos;
    }
  }
  return rc;
}

/* One streamed copy: the source pinned to what its head measured, and
 * the put's options. */
struct copy_plan {
  xtstore_svc *src;
  const char *sc, *sk;
  store_get_opts get;       /* snapshot; the etag when the source can pin */
  xtstore_svc *dst;
  const char *dc, *dk;
  store_put_opts put;
  size_t ring_bytes;        /* in all, however many gets run             */
  xtstore_bytes_fn on_bytes;
  void *ud;
  store_put_result *out;    /* the put's result (never NULL)             */
};

struct producer {
  st_ring *ring;
  xtstore_svc *svc;
  const char *container, *key;
  store_get_opts opts;
  store_error err;
  int rc;
};

static void *produce(void *p)
{
  struct producer *pr = p;
  pr->rc = xtstore_blob_get(pr->svc, pr->container, pr->key, &pr->opts,
                            st_ring_write, pr->ring, &pr->err);
  st_ring_end(pr->ring, pr->rc != STORE_OK);
  return NULL;
}

/* Start the get of cp's source into ring on its own thread: the whole
 * object, or bytes [off, off+len) when len > 0. */
static int start_get(struct producer *pr, pthread_t *tid, st_ring *ring,
                     const struct copy_plan *cp, uint64_t off, uint64_t len,
                     store_error *err)
{
  memset(pr, 0, sizeof(*pr));
  pr->ring = ring;
  pr->svc = cp->src;
  pr->container = cp->sc;
  pr->key = cp->sk;
  pr->opts = cp->get;
  if (len) {
    pr->opts.flags |= STORE_GET_RANGE;
    pr->opts.offset = off;
    pr->opts.length = len;
  }
  if (pthread_create(tid, NULL, produce, pr) != 0)
    return st_err(err, STORE_E_NOMEM, "cannot start a copy thread");
  return STORE_OK;
}

/* A put that failed after it stored (its check removed the object):
 * what its message says of the removal goes on the source's, which is
 * the cause. */
static void keep_removal(store_error *cause, const store_error *put)
{
  const char *tail = strstr(put->message, "; the object was removed");
  size_t used = strlen(cause->message);

  if (!tail)
    tail = strstr(put->message, "; removing it failed too");
  if (tail && used < sizeof(cause->message))
    snprintf(cause->message + used, sizeof(cause->message) - used, "%s",
             tail);
}

/* The whole source through one ring into the put (or the engine's parts,
 * read in order). *out_again is set when only a new attempt can mend the
 * failure: one put that failed retryably after it read from the ring,
 * which cannot rewind (the core retried what it could before that).
 * *counted: bytes reported so far, over all attempts. */
static int piped_copy(const struct copy_plan *cp, uint64_t *counted,
                      int *out_again, store_error *err)
{
  st_budget *budget = &cp->dst->ctx->budget;
  struct counted_ring cr;
  struct producer pr;
  st_mp_src ms;
  pthread_t tid;
  uint64_t first;
  int rc, parts, one_put = 0;

  *out_again = 0;
  memset(&cr, 0, sizeof(cr));
  cr.on_bytes = cp->on_bytes;
  cr.ud = cp->ud;
  cr.counted = counted;
  /* The copy's minimum in one take: its ring, and the first part buffer
   * when it goes up in parts (handed to the engine, which gives it back):
   * holding the ring, it must not wait for that buffer. */
  parts = st_mp_wanted(cp->dst, cp->put.content_length);
  first = parts ? st_mp_part_size(cp->dst, cp->put.content_length) : 0;
  rc = st_budget_take(budget, cp->ring_bytes + first, err);
  if (rc)
    return rc;
  rc = st_ring_init(&cr.ring, cp->ring_bytes, err);
  if (!rc)
    rc = start_get(&pr, &tid, &cr.ring, cp, 0, 0, err);
  if (rc) {
    st_budget_give(budget, first);
    goto out;
  }
  if (parts) {
    memset(&ms, 0, sizeof(ms));
    ms.length = cp->put.content_length;
    ms.read = counted_read;
    ms.ud = &cr;
    ms.reserved = first;
    ms.known = ST_KNOWN_COPY;
    rc = st_mp_put(cp->dst, cp->dc, cp->dk, &cp->put, &ms, cp->out, err);
  } else {
    one_put = 1;
    rc = st_blob_put(cp->dst, cp->dc, cp->dk, &cp->put, ST_KNOWN_COPY,
                     counted_read, &cr, NULL, cp->out, err);
  }
  st_ring_close(&cr.ring);
  pthread_join(tid, NULL);
  /* The source's own failure (not an abort because the put stopped
   * reading) is the cause: the put saw an abort, or bytes the source then
   * found bad (its checksum). A put that took all the bytes it was
   * promised may have finished before: what it stored goes. The source's
   * failure may mend with a new get. */
  if (pr.rc && (rc == STORE_OK || rc == STORE_E_ABORTED ||
                pr.rc != STORE_E_ABORTED)) {
    int stored = rc == STORE_OK;
    store_error perr = pr.err;
    if (err) {
      if (!stored && rc != STORE_E_ABORTED)
        keep_removal(&perr, err);
      *err = perr;
    }
    rc = pr.rc;
    if (stored)
      st_remove_wrong(cp->dst, cp->dc, cp->dk, &cp->put, cp->out->etag, err);
    *out_again = err && (err->flags & STORE_ERR_RETRYABLE);
  } else if (rc && one_put && cr.pos > 0 && err &&
             (err->flags & STORE_ERR_RETRYABLE)) {
    *out_again = 1;
  }
out:
  st_ring_destroy(&cr.ring);
  st_budget_give(budget, cp->ring_bytes);
  return rc;
}

/* piped_copy, sent again from a new get into a new ring while it fails in
 * a way only that mends (see piped_copy), per the destination's retry
 * policy: throttling is waited out for up to its throttle-s without using
 * up attempts, as st_svc_call does. A failed single put committed nothing,
 * so nothing is mixed. The failed call gave back its slot (core/flow.c):
 * the wait holds none. */
static int piped_copy_retried(const struct copy_plan *cp, store_error *err)
{
  const st_retry_policy *p = &cp->dst->retry;
  uint64_t counted = 0;
  st_retry_state tries;
  uint32_t ms;
  int rc, again;
  char why[48];

  st_retry_start(&tries, st_now_ms());
  for (;;) {
    rc = piped_copy(cp, &counted, &again, err);
    if (!again || !st_retry_next(p, &tries, st_now_ms(), err,
                                 st_retry_rng(cp->dst->rng), &ms, why,
                                 sizeof(why)))
      return rc;
    st_log(cp->dst->ctx, STORE_LOG_INFO, "%s; copying again in %u ms (%s)",
           err->message, ms, why);
    if (st_backoff_sleep(cp->dst, ms))
      return rc;
  }
}

/* A reader of one part's range of the source: a ranged get on its own
 * thread into its own ring, taken from the memory budget. */
struct range_reader {
  st_ring ring;
  size_t bytes;             /* the ring's, of the budget */
  st_budget *budget;
  struct producer pr;
  pthread_t tid;
  int failed;               /* the reader saw the get fail */
};

/* The copy's ring budget is shared by the parts in flight, down to this. */
#define ST_RANGE_RING_MIN ((size_t)256 << 10)

static int range_open(void *ud, uint64_t off, uint64_t len, void **out,
                      store_error *err)
{
  const struct copy_plan *cp = ud;
  struct range_reader *r = calloc(1, sizeof(*r));
  size_t ring = cp->ring_bytes / st_mp_inflight(cp->dst);
  int rc;

  *out = NULL;
  if (!r)
    return st_err(err, STORE_E_NOMEM, "out of memory");
  r->bytes = ring < ST_RANGE_RING_MIN ? ST_RANGE_RING_MIN : ring;
  r->budget = &cp->dst->ctx->budget;
  /* A part holds nothing else of the budget: its ring is waited for,
   * so a spent budget means fewer parts in flight. */
  rc = st_budget_take(r->budget, r->bytes, err);
  if (rc) {
    free(r);
    return rc;
  }
  rc = st_ring_init(&r->ring, r->bytes, err);
  if (!rc)
    rc = start_get(&r->pr, &r->tid, &r->ring, cp, off, len, err);
  if (rc) {
    st_ring_destroy(&r->ring);
    st_budget_give(r->budget, r->bytes);
    free(r);
    return rc;
  }
  *out = r;
  return STORE_OK;
}

static int32_t range_read(void *reader, void *buf, size_t cap, size_t *out_n)
{
  struct range_reader *r = reader;
  int32_t rc = st_ring_read(&r->ring, buf, cap, out_n);

  if (rc)
    r->failed = 1;
  return rc;
}

static int range_close(void *reader, store_error *err)
{
  struct range_reader *r = reader;
  int rc = STORE_OK;

  st_ring_close(&r->ring);
  pthread_join(r->tid, NULL);
  if (r->failed) {
    rc = r->pr.rc;
    if (err)
      *err = r->pr.err;
  }
  st_ring_destroy(&r->ring);
  st_budget_give(r->budget, r->bytes);
  free(r);
  return rc;
}

/* store_write_fn of range_crc: the CRC-32C of what the get wrote. */
static int32_t crc_write(void *ud, const void *data, size_t len)
{
  uint32_t *crc = ud;

  *crc = st_crc32c(*crc, data, len);
  return 0;
}

/* st_mp_src.crc_again of a copy: the CRC-32C of the source's bytes [off,
 * off+len) by a ranged get pinned to the version on record, streamed
 * (no buffer), for a part on record of an earlier run. */
static int range_crc(void *ud, uint64_t off, uint64_t len, uint32_t *out,
                     store_error *err)
{
  const struct copy_plan *cp = ud;
  store_get_opts o = cp->get;

  *out = 0;
  o.flags |= STORE_GET_RANGE;
  o.offset = off;
  o.length = len;
  return xtstore_blob_get(cp->src, cp->sc, cp->sk, &o, crc_write, out, err);
}

/* The engine's parts, each fetched by its own ranged get: parts in flight
 * at once with a ring each (sharing ring_bytes), no part buffer. */
static int ranged_copy(const struct copy_plan *cp, store_error *err)
{
  st_mp_ident id;
  st_mp_src ms;

  memset(&ms, 0, sizeof(ms));
  /* Gets pinned to the source's version (its etag) are of one version:
   * the upload is journaled and resumed by the next run while the source
   * reports that version, its parts on record read again by that pin and
   * re-used only while their CRC-32C is the one recorded (multipart.c). */
  if (strong_etag(cp->get.if_match)) {
    st_mp_ident_object(cp->src->name, cp->sc, cp->sk, cp->get.if_match,
                       cp->get.snapshot_id, (uint64_t)cp->put.content_length,
                       &id);
    ms.ident = &id;
    ms.crc_again = range_crc;
  }
  ms.length = cp->put.content_length;
  ms.open = range_open;
  ms.read = range_read;
  ms.close = range_close;
  ms.ud = (void *)cp;
  ms.on_bytes = cp->on_bytes;
  ms.bytes_ud = cp->ud;
  ms.known = ST_KNOWN_COPY;
  return st_mp_put(cp->dst, cp->dc, cp->dk, &cp->put, &ms, cp->out, err);
}

static int streamed_copy(xtstore_svc *src, const char *sc, const char *sk,
                         xtstore_svc *dst, const char *dc, const char *dk,
                         const store_copy_opts *opts, size_t ring_bytes,
                         xtstore_bytes_fn on_bytes, void *ud,
                         store_put_result *out, store_error *err)
{
  struct copy_plan cp = {.src = src, .sc = sc, .sk = sk, .dst = dst,
                         .dc = dc, .dk = dk, .ring_bytes = ring_bytes,
                         .on_bytes = on_bytes, .ud = ud, .out = out};
  struct src_props props;
  store_put_result res;
  store_head_opts ho;
  int rc;

  /* The result's ETag pins the removal of a copy stored wrong. */
  if (!cp.out) {
    memset(&res, 0, sizeof(res));
    res.struct_size = sizeof(res);
    cp.out = &res;
  }
  memset(&props, 0, sizeof(props));
  memset(&ho, 0, sizeof(ho));
  ho.struct_size = sizeof(ho);
  ho.snapshot_id = opts ? opts->src_snapshot_id : NULL;
  rc = xtstore_blob_head(src, sc, sk, &ho, props_entry, &props, err);
  /* Only our own callback's allocation failure is "out of memory"; an
   * abort by cancellation keeps the library's "cancelled" message. */
  if (rc == STORE_E_ABORTED && props.oom)
    rc = st_err(err, STORE_E_NOMEM, "out of memory");
  if (rc)
    goto out;

  cp.put.struct_size = sizeof(cp.put);
  cp.put.content_length = (int64_t)props.size;
  /* The source's CRC-32C goes to the target, to be checked there, and
   * the bytes sent are checked against it (blob.c, multipart.c). */
  if (props.has_crc) {
    cp.put.checksums = STORE_CKSUM_CRC32C;
    cp.put.crc32c = props.crc;
  }
  if (opts && (opts->flags & STORE_COPY_REPLACE_METADATA)) {
    cp.put.content_type = opts->content_type;
    cp.put.metadata = opts->metadata;
    cp.put.nmetadata = opts->nmetadata;
  } else {
    cp.put.content_type = props.content_type;
    cp.put.metadata = props.kv;
    cp.put.nmetadata = props.n;
  }
  cp.get.struct_size = sizeof(cp.get);
  cp.get.snapshot_id = ho.snapshot_id;
  /* Pin the version we measured, so size and bytes agree (a weak or
   * empty etag never matches If-Match: such a source goes unpinned). */
  if (strong_etag(props.etag) &&
      (src->ops->capabilities & STORE_CAP_CONDITIONAL))
    cp.get.if_match = props.etag;
  /* Parallel ranged gets need a source that serves ranges, several at
   * once. The ranges are pinned to the source's etag; the copy is checked
   * by its size and by the source's CRC-32C (the parts' combined) where it
   * has one. A source's MD5 cannot be summed over ranges in parallel: it
   * goes down only with a single put, for the target to check, while the
   * one get checks it too. */
  if (st_mp_wanted(dst, cp.put.content_length) && src->threadsafe &&
      (src->ops->capabilities & STORE_CAP_RANGE_GET)) {
    rc = ranged_copy(&cp, err);
  } else {
    if (props.has_md5 && !st_mp_wanted(dst, cp.put.content_length)) {
      cp.put.checksums |= STORE_CKSUM_MD5;
      memcpy(cp.put.md5, props.md5, sizeof(cp.put.md5));
    }
    rc = piped_copy_retried(&cp, err);
  }
  /* The target's MD5 was compared only when it went down. */
  if (out && !(cp.put.checksums & STORE_CKSUM_MD5))
    out->checksums &= ~STORE_CKSUM_MD5;
out:
  props_free(&props);
  return rc;
}

struct copy_args {
  const char *sc, *sk, *dc, *dk;
  const store_copy_opts *opts;
  store_put_result res; /* the copy as the store's answer says (checked) */
};

/* The size a copy's answer that carries none leaves in res.size. */
#define COPY_NO_SIZE UINT64_MAX

/* blob_copy_checked where the plugin has it (a 1.0 plugin's table, or an
 * older 1.1 one's, reads NULL there), else blob_copy: res then stays
 * empty, as it does for an answer that carries nothing. */
static int do_copy(xtstore_svc *s, void *p, store_error *err)
{
  struct copy_args *a = p;

  memset(&a->res, 0, sizeof(a->res));
  a->res.struct_size = sizeof(a->res);
  a->res.size = COPY_NO_SIZE;
  if (s->ops->blob_copy_checked)
    return s->ops->blob_copy_checked(s->h, a->sc, a->sk, a->dc, a->dk,
                                     a->opts, &a->res, err);
  return s->ops->blob_copy(s->h, a->sc, a->sk, a->dc, a->dk, a->opts, err);
}

/* The head of container/key into p (props_entry), out of memory said as
 * such. p's strings are then the caller's: props_free, whatever this
 * returns. */
static int head_props(xtstore_svc *svc, const char *container,
                      const char *key, const char *snapshot_id,
                      struct src_props *p, store_error *err)
{
  store_head_opts ho;
  int rc;

  memset(&ho, 0, sizeof(ho));
  ho.struct_size = sizeof(ho);
  ho.snapshot_id = snapshot_id;
  rc = xtstore_blob_head(svc, container, key, &ho, props_entry, p, err);
  if (rc == STORE_E_ABORTED && p->oom)
    rc = st_err(err, STORE_E_NOMEM, "out of memory");
  return rc;
}

/* Another version of the object (its size or ETag differs). */
static int props_changed(const struct src_props *a, const struct src_props *b)
{
  return a->size != b->size || !a->etag != !b->etag ||
         (a->etag && strcmp(a->etag, b->etag));
}

static void md5_hex(const uint8_t *md5, char out[33])
{
  int i;

  for (i = 0; i < 16; i++)
    snprintf(out + 2 * i, 3, "%02x", md5[i]);
}

/* The bytes read back, hashed as they come. */
struct md5_sink {
  EVP_MD_CTX *md;
  uint64_t n;
};

static int32_t md5_write(void *ud, const void *buf, size_t len)
{
  struct md5_sink *s = ud;
  s->n += len;
  return EVP_DigestUpdate(s->md, buf, len) != 1;
}

/* The MD5 of the bytes of container/key into out, read back as a stream:
 * the version `to` headed (pinned to its ETag where the service can),
 * which must have to->size bytes. */
static int read_back_md5(xtstore_svc *svc, const char *container,
                         const char *key, const struct src_props *to,
                         uint8_t out[16], store_error *err)
{
  struct md5_sink s = {EVP_MD_CTX_new(), 0};
  store_get_opts go;
  int rc = STORE_OK;

  if (!s.md || EVP_DigestInit_ex(s.md, EVP_md5(), NULL) != 1) {
    rc = st_err(err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
  memset(&go, 0, sizeof(go));
  go.struct_size = sizeof(go);
  /* A range of the whole where the service serves ranges: a whole-blob
   * get would check the bytes against the very MD5 in doubt (and fail). */
  if (svc->ops->capabilities & STORE_CAP_RANGE_GET) {
    go.flags = STORE_GET_RANGE;
    go.length = to->size;
  }
  if (to->etag && (svc->ops->capabilities & STORE_CAP_CONDITIONAL))
    go.if_match = to->etag;
  if (to->size)
    rc = xtstore_blob_get(svc, container, key, &go, md5_write, &s, err);
  if (!rc && s.n != to->size)
    rc = st_err(err, STORE_E_IO, "service '%s': blob '%s/%s': read back %"
                PRIu64 " of its %" PRIu64 " bytes", svc->name, container,
                key, s.n, to->size);
  if (!rc && EVP_DigestFinal_ex(s.md, out, NULL) != 1)
    rc = st_err(err, STORE_E_NOMEM, "out of memory");
out:
  EVP_MD_CTX_free(s.md);
  return rc;
}

/* A copy that was made but whose check failed with rc: said as such, the
 * check's own error after. */
static int unverified(xtstore_svc *svc, const struct copy_args *a, int rc,
                      store_error *err)
{
  char cause[STORE_ERR_MSG_SIZE];

  if (!err)
    return rc;
  snprintf(cause, sizeof(cause), "%s", err->message);
  return st_err(err, rc, "service '%s': blob '%s/%s': copied from blob "
                "'%s/%s', but the copy could not be verified: %s", svc->name,
                a->dc, a->dk, a->sc, a->sk, cause);
}

/* A copy whose target another writer replaced before the host could head
 * it (its ETag is no longer the copy's): what the copy's answer said of
 * it, and that nothing was removed. */
static int replaced_error(xtstore_svc *svc, const struct copy_args *a,
                          const struct src_props *from, store_error *err)
{
  char said[80] = "";
  int n = 0;

  /* What the answer said agrees with the source (judged before). The
   * ETags are left out: a message has room for names first. */
  if (a->res.size != COPY_NO_SIZE)
    n = snprintf(said, sizeof(said), " (%" PRIu64 " bytes", a->res.size);
  if ((a->res.checksums & STORE_CKSUM_CRC32C) && from->has_crc)
    n += snprintf(said + n, sizeof(said) - (size_t)n, "%sCRC-32C %08x",
                  n ? ", " : " (", a->res.crc32c);
  if (n)
    snprintf(said + n, sizeof(said) - (size_t)n, ")");
  return st_err(err, STORE_E_PRECONDITION, "service '%s': blob '%s/%s': "
                "the server-side copy of blob '%s/%s' was made%s, but "
                "another writer replaced it before it could be verified; "
                "nothing was removed", svc->name, a->dc, a->dk, a->sc,
                a->sk, said);
}

/* What the copy's answer says (size, CRC-32C), judged against the
 * source's: why (cap n) says what is wrong, "" when nothing is. */
static void judge_answer(const struct copy_args *a,
                         const struct src_props *from, char *why, size_t n)
{
  if (a->res.size != COPY_NO_SIZE && a->res.size != from->size)
    snprintf(why, n, "it has %" PRIu64 " bytes, the source %" PRIu64,
             a->res.size, from->size);
  else if ((a->res.checksums & STORE_CKSUM_CRC32C) && from->has_crc &&
           a->res.crc32c != from->crc)
    snprintf(why, n, "it has CRC-32C %08x, the source %08x", a->res.crc32c,
             from->crc);
}

/* The target's head `to` judged against the source's: its size, and its
 * CRC-32C (else its MD5) where both report one. An MD5 that alone
 * disagrees may be a stale ETag, so the target's bytes are read back and
 * decide (to->md5 then becomes theirs). why (cap n) says what is wrong,
 * "" when nothing is; out_summed is 1 when a CRC-32C or MD5 was compared
 * (more than the size); an error only when the read back fails. */
static int judge_head(xtstore_svc *svc, const struct copy_args *a,
                      const struct src_props *from, struct src_props *to,
                      char *why, size_t n, int *out_summed,
                      store_error *err)
{
  char h1[33], h2[33], h3[33];
  uint8_t md5[16];
  int rc;

  *out_summed = 0;
  if (to->size != from->size) {
    snprintf(why, n, "it has %" PRIu64 " bytes, the source %" PRIu64,
             to->size, from->size);
  } else if (to->has_crc && from->has_crc) {
    *out_summed = 1;
    if (to->crc != from->crc)
      snprintf(why, n, "it has CRC-32C %08x, the source %08x", to->crc,
               from->crc);
  } else if (to->has_md5 && from->has_md5) {
    *out_summed = 1;
    if (!memcmp(to->md5, from->md5, sizeof(to->md5)))
      return STORE_OK;
    /* An ETag MD5 may be stale: s3rver keeps the replaced object's after
     * a copy that replaces the metadata. The bytes decide. */
    rc = read_back_md5(svc, a->dc, a->dk, to, md5, err);
    if (rc)
      return rc;
    md5_hex(to->md5, h1);
    md5_hex(md5, h2);
    md5_hex(from->md5, h3);
    if (memcmp(md5, from->md5, sizeof(md5)))
      snprintf(why, n, "its bytes have MD5 %s (its head says %s), the "
               "source %s", h2, h1, h3);
    else
      st_log(svc->ctx, STORE_LOG_WARN, "service '%s': blob '%s/%s': the "
             "server reports MD5 %s for the copy of blob '%s/%s', but its "
             "bytes have the source's MD5 %s: the server's ETag is stale; "
             "the copy is kept", svc->name, a->dc, a->dk, h1, a->sc, a->sk,
             h3);
    memcpy(to->md5, md5, sizeof(md5));
  }
  return STORE_OK;
}

/*
** A server-side copy moves no byte through the host, so nothing checked
** them on the way: the source is headed before the copy and after it, the
** target after it. Unless the source's size and ETag stayed the same,
** the copy is not judged (another version may have been copied): an
** error, nothing removed. Where the plugin reports the copy as the
** store's answer says (blob_copy_checked), a size or CRC-32C in it must be
** the source's. The target's head is judged too (judge_head). A target
** whose head shows another ETag than the copy's was rewritten by another
** writer: never removed, even when the answer says the copy was wrong;
** if a CRC-32C or MD5 (not the size alone) shows it holds the source's
** bytes the copy succeeds (said at INFO), else the replacement is said
** (PRECONDITION). A wrong copy is removed (never when the target is the
** source itself), pinned to the copy's ETag where known, and is an error
** naming both objects and both values; a wrong answer with no copy ETag
** removes only a target the head finds wrong too (else nobody judged what
** would go). A missing
** source is the copy's own error. out (may be NULL) gets the target's
** size and the checksums that were compared.
*/
static int server_copy(xtstore_svc *svc, struct copy_args *a,
                       store_put_result *out, store_error *err)
{
  const char *snap = a->opts ? a->opts->src_snapshot_id : NULL;
  /* cp --content-type X s:c/k s:c/k: the target's head is the source's
   * after the copy, and removing it would remove the source. */
  int self = !snap && !strcmp(a->sc, a->dc) && !strcmp(a->sk, a->dk);
  struct src_props from, after, to;
  const char *copy_etag = NULL, *pin = NULL, *note = "";
  char why[200] = "", head_why[200] = "";
  int rc, had_src, replaced, summed = 0;

  memset(&from, 0, sizeof(from));
  memset(&after, 0, sizeof(after));
  memset(&to, 0, sizeof(to));
  rc = head_props(svc, a->sc, a->sk, snap, &from, err);
  had_src = rc == STORE_OK;
  if (rc == STORE_E_NOT_FOUND) {
    st_err_reset(err);
    rc = STORE_OK;
  }
  if (!rc)
    rc = st_svc_call(svc, do_copy, NULL, a, err);
  if (rc)
    goto out;
  if (a->res.etag[0])
    copy_etag = a->res.etag;
  rc = head_props(svc, a->dc, a->dk, NULL, &to, err);
  if (!rc && !self)
    rc = head_props(svc, a->sc, a->sk, snap, &after, err);
  if (rc) {
    rc = unverified(svc, a, rc, err);
    goto out;
  }
  if (!had_src || (!self && props_changed(&from, &after))) {
    rc = st_err(err, STORE_E_PRECONDITION, "service '%s': blob '%s/%s' (a "
                "server-side copy of blob '%s/%s'): the source changed "
                "during the copy; the copy was not verified", svc->name,
                a->dc, a->dk, a->sc, a->sk);
    goto out;
  }
  /* The copy's answer is judged first: it describes the copy even when
   * another writer has replaced it since. */
  judge_answer(a, &from, why, sizeof(why));
  replaced = copy_etag && (!to.etag || strcmp(to.etag, copy_etag));
  if (!why[0] || !copy_etag) {
    rc = judge_head(svc, a, &from, &to, head_why, sizeof(head_why),
                    &summed, err);
    if (rc) {
      rc = unverified(svc, a, rc, err);
      goto out;
    }
  }
  if (why[0] && replaced) {
    /* Known not to be the copy: the removal would rest on a conditional
     * delete that some stores (or plugins) do not honour. */
    note = "; not removed: another writer replaced it since";
  } else if (why[0] && !copy_etag) {
    /* A removal pinned to the head's ETag could take another writer's
     * object: only one the head finds wrong too goes. */
    pin = head_why[0] ? to.etag : NULL;
    if (!head_why[0])
      note = "; not removed: the copy's ETag is unknown";
  } else if (!why[0] && replaced) {
    /* The head describes another writer's object: judged only to tell
     * whether the target holds the source's bytes (a size alone does not
     * tell), never removed. */
    if (head_why[0] || !summed) {
      rc = replaced_error(svc, a, &from, err);
      goto out;
    }
    st_log(svc->ctx, STORE_LOG_INFO, "service '%s': blob '%s/%s': another "
           "writer rewrote the server-side copy of blob '%s/%s' with the "
           "source's bytes before it was verified; it is kept", svc->name,
           a->dc, a->dk, a->sc, a->sk);
  } else if (!why[0] && head_why[0]) {
    snprintf(why, sizeof(why), "%s", head_why);
    pin = copy_etag ? copy_etag : to.etag;
  } else {
    pin = copy_etag;
  }
  if (why[0]) {
    if (self)
      note = "; it is the source itself: not removed";
    rc = st_err(err, STORE_E_IO, "service '%s': blob '%s/%s': the "
                "server-side copy of blob '%s/%s' is wrong: %s%s", svc->name,
                a->dc, a->dk, a->sc, a->sk, why, note);
    /* Pinned to the copy's ETag (else the one headed): an object another
     * writer put there since stays. */
    if (!self && !note[0])
      st_remove_wrong(svc, a->dc, a->dk, NULL, pin, err);
    goto out;
  }
  if (out) {
    out->size = to.size;
    if (to.has_crc && from.has_crc) {
      out->checksums |= STORE_CKSUM_CRC32C;
      out->crc32c = to.crc;
    } else if (to.has_md5 && from.has_md5) {
      out->checksums |= STORE_CKSUM_MD5;
      memcpy(out->md5, to.md5, sizeof(out->md5));
    }
  }
out:
  props_free(&from);
  props_free(&after);
  props_free(&to);
  return rc;
}

int st_copy_blob(xtstore_svc *src, const char *sc, const char *sk,
                 xtstore_svc *dst, const char *dc, const char *dk,
                 const store_copy_opts *opts, size_t ring_bytes,
                 xtstore_bytes_fn on_bytes, void *ud, store_put_result *out,
                 store_error *err)
{
  struct copy_args a = {.sc = sc, .sk = sk, .dc = dc, .dk = dk, .opts = opts};
  int rc = st_check_key(src, sc, sk, err);
  if (!rc)
    rc = st_check_key(dst, dc, dk, err);
  if (rc)
    return rc;
  if (src == dst && (src->ops->capabilities & STORE_CAP_COPY))
    return server_copy(src, &a, out, err);
  /* The get would hold the handle while the put waits for it: once the
   * ring is full neither could go on. */
  if (src == dst && !src->threadsafe)
    return st_err(err, STORE_E_UNSUPPORTED,
                  "service '%s': provider '%s' can neither copy server-side "
                  "nor run a get and a put at once",
                  src->name, src->ops->name);
  return streamed_copy(src, sc, sk, dst, dc, dk, opts, ring_bytes, on_bytes,
                       ud, out, err);
}

int xtstore_blob_copy(xtstore_svc *src, const char *src_container,
                      const char *src_key, xtstore_svc *dst,
                      const char *dst_container, const char *dst_key,
                      const store_copy_opts *opts, store_error *err)
{
  return st_copy_blob(src, src_container, src_key, dst, dst_container,
                      dst_key, opts, ST_PIPE_BYTES, NULL, NULL, NULL, err);
}

int xtstore_blob_copy_checked(xtstore_svc *svc, const char *src_container,
                              const char *src_key, const char *dst_container,
                              const char *dst_key,
                              const store_copy_opts *opts,
                              store_put_result *out, store_error *err)
{
  struct copy_args a = {.sc = src_container, .sk = src_key,
                        .dc = dst_container, .dk = dst_key, .opts = opts};
  uint32_t cap;
  int rc = st_check_key(svc, src_container, src_key, err);

  if (!rc)
    rc = st_check_key(svc, dst_container, dst_key, err);
  if (rc)
    return rc;
  if (!out || out->struct_size < offsetof(store_put_result, checksums))
    return st_err(err, STORE_E_INVALID, "copy: no result, or one too small");
  /* A 1.0 plugin's table ends before blob_copy_checked: it reads NULL. */
  if (!(svc->ops->capabilities & STORE_CAP_COPY) ||
      !svc->ops->blob_copy_checked)
    return st_err(err, STORE_E_UNSUPPORTED, "service '%s': provider '%s' "
                  "cannot report a server-side copy (blob_copy_checked)",
                  svc->name, svc->ops->name);
  rc = st_svc_call(svc, do_copy, NULL, &a, err);
  if (rc)
    return rc;
  /* The caller's struct may be an older, shorter one. */
  cap = out->struct_size < sizeof(a.res) ? out->struct_size
                                         : (uint32_t)sizeof(a.res);
  a.res.struct_size = cap;
  memcpy(out, &a.res, cap);
  return STORE_OK;
}

int xtstore_blob_copy_progress(xtstore_svc *src, const char *src_container,
                               const char *src_key, xtstore_svc *dst,
                               const char *dst_container, const char *dst_key,
                               const store_copy_opts *opts,
                               xtstore_bytes_fn on_bytes, void *ud,
                               store_error *err)
{
  return st_copy_blob(src, src_container, src_key, dst, dst_container,
                      dst_key, opts, ST_PIPE_BYTES, on_bytes, ud, NULL,
                      err);
}
