/*
** transfer.c -- bodies between file descriptors, local files and services:
** put/get from fds and files (gets land atomically), and copies between any
** two services: server-side when the provider can, otherwise one get
** streamed into one put through a bounded ring buffer (no temp file, memory
** bounded by the ring). The st_ variants count the bytes they move for
** the workflows' progress (workflow.h).
*/
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "workflow.h"

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
  off_t start;
  int err;          /* errno of a failed read */
  xtstore_bytes_fn on_bytes;
  void *ud;
};

static int32_t fd_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  struct fd_src *s = ud;
  ssize_t n;
  do
    n = read(s->fd, buf, cap);
  while (n < 0 && errno == EINTR);
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

int st_put_fd(xtstore_svc *svc, const char *container, const char *key,
              const store_put_opts *opts, int fd, xtstore_bytes_fn on_bytes,
              void *ud, store_put_result *out, store_error *err)
{
  struct fd_src src = {fd, lseek(fd, 0, SEEK_CUR), 0, on_bytes, ud};
  store_put_opts o;
  struct stat st;
  int rc;

  memset(&o, 0, sizeof(o));
  if (opts)
    memcpy(&o, opts, opts->struct_size < sizeof(o) ? opts->struct_size
                                                   : sizeof(o));
  else
    o.content_length = -1;
  o.struct_size = sizeof(o);
  if (o.content_length < 0 && src.start >= 0 && fstat(fd, &st) == 0 &&
      S_ISREG(st.st_mode))
    o.content_length = st.st_size - src.start;
  rc = xtstore_blob_put(svc, container, key, &o, fd_read, &src,
                        src.start >= 0 ? fd_rewind : NULL, out, err);
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

int st_append_fd(xtstore_svc *svc, const char *container, const char *key,
                 const char *content_type, int fd, store_error *err)
{
  struct fd_src src = {fd, -1, 0, NULL, NULL};
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
};

static int32_t file_entry(void *ud, const store_entry *e)
{
  struct file_get *g = ud;
  /* xtstore_blob_get flags every directory marker (dirmarker.c); markers
   * never become local files. */
  g->is_marker = (e->flags & STORE_ENTRY_DIR_MARKER) != 0;
  if (g->user && g->user->on_entry)
    return g->user->on_entry(g->user->on_entry_ctx, e);
  return 0;
}

int st_get_file(xtstore_svc *svc, const char *container, const char *key,
                const store_get_opts *opts, const char *path,
                xtstore_bytes_fn on_bytes, void *ud, store_error *err)
{
  struct file_get g;
  store_get_opts o;
  char tmp[4096], dirbuf[4096];
  mode_t mask;
  int fd = -1, rc;

  memset(&g, 0, sizeof(g));
  memset(&o, 0, sizeof(o));
  if (opts)
    memcpy(&o, opts, opts->struct_size < sizeof(o) ? opts->struct_size
                                                   : sizeof(o));
  o.struct_size = sizeof(o);
  g.user = opts;
  o.on_entry = file_entry;
  o.on_entry_ctx = &g;
  snprintf(dirbuf, sizeof(dirbuf), "%s", path);
  if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.xtstore-get-XXXXXX",
                       dirname(dirbuf)) >= sizeof(tmp))
    return st_err(err, STORE_E_INVALID, "local file '%s': path too long", path);
  fd = mkstemp(tmp);
  if (fd < 0)
    return st_err(err, STORE_E_IO, "local file '%s': cannot create: %s", path,
                  strerror(errno));
  mask = umask(0);
  umask(mask);
  if (fchmod(fd, 0666 & ~mask) != 0) {
    rc = st_err(err, STORE_E_IO, "local file '%s': %s", path, strerror(errno));
    goto out;
  }
  g.sink.fd = fd;
  g.sink.on_bytes = on_bytes;
  g.sink.ud = ud;
  rc = xtstore_blob_get(svc, container, key, &o, fd_write, &g.sink, err);
  if (rc == STORE_E_ABORTED && g.sink.err)
    rc = st_err(err, STORE_E_IO, "local file '%s': %s", path,
                strerror(g.sink.err));
  if (rc || g.is_marker)
    goto out;
  if (fsync(fd) != 0 || close(fd) != 0) {
    fd = -1;
    rc = st_err(err, STORE_E_IO, "local file '%s': %s", path, strerror(errno));
    goto out;
  }
  fd = -1;
  if (rename(tmp, path) != 0) {
    rc = st_err(err, STORE_E_IO, "local file '%s': %s", path, strerror(errno));
    goto out;
  }
  tmp[0] = '\0';
out:
  if (fd >= 0)
    close(fd);
  if (tmp[0])
    unlink(tmp);
  return rc;
}

int xtstore_blob_get_file(xtstore_svc *svc, const char *container,
                          const char *key, const store_get_opts *opts,
                          const char *path, store_error *err)
{
  return st_get_file(svc, container, key, opts, path, NULL, NULL, err);
}

int xtstore_blob_get_file_progress(xtstore_svc *svc, const char *container,
                                   const char *key, const store_get_opts *opts,
                                   const char *path, xtstore_bytes_fn on_bytes,
                                   void *ud, store_error *err)
{
  return st_get_file(svc, container, key, opts, path, on_bytes, ud, err);
}

/* ------------------------------------------------------------------------ */
/* copy                                                                     */
/* ------------------------------------------------------------------------ */

/* Properties of the source, copied out of the borrowed entry. */
struct src_props {
  uint64_t size;
  char *etag, *content_type;
  store_kv *kv;
  size_t n;
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

static int32_t props_entry(void *ud, const store_entry *e)
{
  struct src_props *p = ud;
  size_t i;
  p->size = e->size;
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
  return 0;
}

/* The put side of a streamed copy: the ring, counted. */
struct counted_ring {
  st_ring ring;
  xtstore_bytes_fn on_bytes;
  void *ud;
};

static int32_t counted_read(void *p, void *out, size_t cap, size_t *out_n)
{
  struct counted_ring *c = p;
  int32_t rc = st_ring_read(&c->ring, out, cap, out_n);
  if (rc == 0)
    count_bytes(c->on_bytes, c->ud, *out_n);
  return rc;
}

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

static int streamed_copy(xtstore_svc *src, const char *sc, const char *sk,
                         xtstore_svc *dst, const char *dc, const char *dk,
                         const store_copy_opts *opts, size_t ring_bytes,
                         xtstore_bytes_fn on_bytes, void *ud,
                         store_error *err)
{
  struct src_props props;
  struct counted_ring cr;
  struct producer pr;
  store_put_opts po;
  store_head_opts ho;
  pthread_t tid;
  int rc;

  memset(&props, 0, sizeof(props));
  memset(&cr, 0, sizeof(cr));
  cr.on_bytes = on_bytes;
  cr.ud = ud;
  memset(&pr, 0, sizeof(pr));
  memset(&ho, 0, sizeof(ho));
  ho.struct_size = sizeof(ho);
  ho.snapshot_id = opts ? opts->src_snapshot_id : NULL;
  rc = xtstore_blob_head(src, sc, sk, &ho, props_entry, &props, err);
  if (rc == STORE_E_ABORTED)
    rc = st_err(err, STORE_E_NOMEM, "out of memory");
  if (rc)
    goto out;

  memset(&po, 0, sizeof(po));
  po.struct_size = sizeof(po);
  po.content_length = (int64_t)props.size;
  if (opts && (opts->flags & STORE_COPY_REPLACE_METADATA)) {
    po.content_type = opts->content_type;
    po.metadata = opts->metadata;
    po.nmetadata = opts->nmetadata;
  } else {
    po.content_type = props.content_type;
    po.metadata = props.kv;
    po.nmetadata = props.n;
  }

  rc = st_ring_init(&cr.ring, ring_bytes, err);
  if (rc)
    goto out;
  pr.ring = &cr.ring;
  pr.svc = src;
  pr.container = sc;
  pr.key = sk;
  pr.opts.struct_size = sizeof(pr.opts);
  pr.opts.snapshot_id = ho.snapshot_id;
  /* Pin the version we measured, so size and bytes agree. */
  if (props.etag && (src->ops->capabilities & STORE_CAP_CONDITIONAL))
    pr.opts.if_match = props.etag;
  if (pthread_create(&tid, NULL, produce, &pr) != 0) {
    rc = st_err(err, STORE_E_NOMEM, "cannot start a copy thread");
    goto out;
  }
  rc = xtstore_blob_put(dst, dc, dk, &po, counted_read, &cr, NULL, NULL, err);
  st_ring_close(&cr.ring);
  pthread_join(tid, NULL);
  /* The source's failure is the cause; the put only saw an abort. */
  if (pr.rc && (rc == STORE_OK || rc == STORE_E_ABORTED)) {
    rc = pr.rc;
    if (err)
      *err = pr.err;
  }
out:
  st_ring_destroy(&cr.ring);
  props_free(&props);
  return rc;
}

struct copy_args {
  const char *sc, *sk, *dc, *dk;
  const store_copy_opts *opts;
};

static int do_copy(xtstore_svc *s, void *p, store_error *err)
{
  struct copy_args *a = p;
  return s->ops->blob_copy(s->h, a->sc, a->sk, a->dc, a->dk, a->opts, err);
}

int st_copy_blob(xtstore_svc *src, const char *sc, const char *sk,
                 xtstore_svc *dst, const char *dc, const char *dk,
                 const store_copy_opts *opts, size_t ring_bytes,
                 xtstore_bytes_fn on_bytes, void *ud, store_error *err)
{
  struct copy_args a = {sc, sk, dc, dk, opts};
  int rc = st_check_key(src, sc, sk, err);
  if (!rc)
    rc = st_check_key(dst, dc, dk, err);
  if (rc)
    return rc;
  if (src == dst && (src->ops->capabilities & STORE_CAP_COPY))
    return st_svc_call(src, do_copy, NULL, &a, err);
  /* The get would hold the handle while the put waits for it: once the
   * ring is full neither could go on. */
  if (src == dst && !src->threadsafe)
    return st_err(err, STORE_E_UNSUPPORTED,
                  "service '%s': provider '%s' can neither copy server-side "
                  "nor run a get and a put at once",
                  src->name, src->ops->name);
  return streamed_copy(src, sc, sk, dst, dc, dk, opts, ring_bytes, on_bytes,
                       ud, err);
}

int xtstore_blob_copy(xtstore_svc *src, const char *src_container,
                      const char *src_key, xtstore_svc *dst,
                      const char *dst_container, const char *dst_key,
                      const store_copy_opts *opts, store_error *err)
{
  return st_copy_blob(src, src_container, src_key, dst, dst_container,
                      dst_key, opts, ST_PIPE_BYTES, NULL, NULL, err);
}

int xtstore_blob_copy_progress(xtstore_svc *src, const char *src_container,
                               const char *src_key, xtstore_svc *dst,
                               const char *dst_container, const char *dst_key,
                               const store_copy_opts *opts,
                               xtstore_bytes_fn on_bytes, void *ud,
                               store_error *err)
{
  return st_copy_blob(src, src_container, src_key, dst, dst_container,
                      dst_key, opts, ST_PIPE_BYTES, on_bytes, ud, err);
}
