/*
** io.c -- body sources (file, stdin, --text) and sinks (stdout) for the
** streaming transfer verbs, local error messages, and the content type an
** upload gets from its key.
**
** Transfers go through these callbacks rather than the library's _file/_fd
** helpers for uploads so that the CLI sees every chunk: a progress display
** hooks into cli_source_read / cli_sink_write via the `done` counters.
*/
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

int cli_sys_error(store_error *err, int errnum, const char *what,
                  const char *path)
{
  int code;

  switch (errnum) {
  case ENOENT:
  case ENOTDIR:
    code = STORE_E_NOT_FOUND;
    break;
  case EACCES:
  case EPERM:
  case EROFS:
    code = STORE_E_PERMISSION;
    break;
  case EEXIST:
    code = STORE_E_EXISTS;
    break;
  case EISDIR:
    code = STORE_E_INVALID;
    break;
  case ENOMEM:
    code = STORE_E_NOMEM;
    break;
  default:
    code = STORE_E_IO;
    break;
  }
  return store_error_set(err, code, "%s '%s': %s", what, path,
                         strerror(errnum));
}

/* Wait until fd is ready for `events`, polling cli_interrupted: the
 * library may call the body callbacks from a worker thread, where a
 * blocking read of a pipe would never see the SIGINT that the main thread
 * takes. Returns non-zero once interrupted. */
static int cli_wait_fd(int fd, short events)
{
  struct pollfd p;
  int n;

  for (;;) {
    if (cli_interrupted)
      return 1;
    p.fd = fd;
    p.events = events;
    p.revents = 0;
    n = poll(&p, 1, 200);
    /* Ready, hung up or in error: the read/write that follows tells. */
    if (n > 0 || (n < 0 && errno != EINTR))
      return 0;
  }
}

static int open_file(cli_source *s, const char *path, store_error *err)
{
  struct stat st;
  off_t pos;
  int rc;

  memset(s, 0, sizeof *s);
  s->fd = -1;
  s->start = -1;
  s->length = -1;
  s->name = path;
  if (strcmp(path, "-") == 0) {
    s->fd = STDIN_FILENO;
  } else {
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0)
      return cli_sys_error(err, errno, "cannot open", path);
    s->own_fd = 1;
  }
  if (fstat(s->fd, &st) != 0) {
    rc = cli_sys_error(err, errno, "cannot stat", path);
    cli_source_close(s);
    return rc;
  }
  if (S_ISDIR(st.st_mode)) {
    cli_source_close(s);
    return store_error_set(err, STORE_E_INVALID, "'%s' is a directory",
                           path);
  }
  /* A regular file (also stdin redirected from one) has a known length
   * and can be replayed for a retry; a pipe can do neither. */
  if (S_ISREG(st.st_mode)) {
    pos = lseek(s->fd, 0, SEEK_CUR);
    if (pos >= 0 && pos <= st.st_size) {
      s->start = pos;
      s->length = (int64_t)(st.st_size - pos);
    }
  }
  return STORE_OK;
}

static void open_text(cli_source *s, const char *text)
{
  memset(s, 0, sizeof *s);
  s->fd = -1;
  s->text = text;
  s->text_len = strlen(text);
  s->start = 0;
  s->length = (int64_t)s->text_len;
  s->name = "--text";
}

int cli_source_open(cli_source *s, const char *text, const char *path,
                    store_error *err)
{
  if (!text)
    return open_file(s, path, err);
  open_text(s, text);
  return STORE_OK;
}

void cli_source_close(cli_source *s)
{
  if (s->own_fd && s->fd >= 0)
    close(s->fd);
  s->fd = -1;
  s->own_fd = 0;
}

int32_t cli_source_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  cli_source *s = ud;
  size_t n;
  ssize_t r;

  *out_n = 0;
  if (cli_interrupted)
    return 1;
  if (s->fd < 0) {
    n = s->text_len - (size_t)s->done;
    if (n > cap)
      n = cap;
    memcpy(buf, s->text + s->done, n);
    s->done += n;
    *out_n = n;
    return 0;
  }
  for (;;) {
    if (cli_wait_fd(s->fd, POLLIN))
      return 1;
    r = read(s->fd, buf, cap);
    if (r >= 0)
      break;
    if (errno != EINTR && errno != EAGAIN) {
      s->sys_errno = errno;
      return 1;
    }
  }
  /* ^C may have come while this thread was reading. */
  if (cli_interrupted)
    return 1;
  s->done += (uint64_t)r;
  *out_n = (size_t)r;
  return 0;
}

static int32_t cli_source_rewind(void *ud)
{
  cli_source *s = ud;

  if (s->fd >= 0 && lseek(s->fd, s->start, SEEK_SET) != s->start) {
    s->sys_errno = errno;
    return 1;
  }
  s->done = 0;
  return 0;
}

xtstore_rewind_fn cli_source_rewinder(const cli_source *s)
{
  return s->start >= 0 ? cli_source_rewind : NULL;
}

int32_t cli_sink_write(void *ud, const void *buf, size_t len)
{
  cli_sink *k = ud;
  const char *p = buf;
  ssize_t w;

  while (len > 0) {
    /* A poll per 16 KiB piece is a quarter of a fast download's CPU:
     * only where a write can block. */
    if (k->may_block ? cli_wait_fd(k->fd, POLLOUT) : cli_interrupted)
      return 1;
    w = write(k->fd, p, len);
    if (w < 0) {
      if (errno == EINTR || errno == EAGAIN)
        continue;
      k->sys_errno = errno;
      return 1;
    }
    p += w;
    len -= (size_t)w;
    k->done += (uint64_t)w;
  }
  return 0;
}

int cli_explain_abort(store_error *err, int rc, const cli_source *src,
                      const cli_sink *sink)
{
  if (rc != STORE_E_ABORTED)
    return rc;
  if (cli_interrupted)
    return store_error_set(err, STORE_E_ABORTED, "interrupted");
  if (src && src->sys_errno)
    return cli_sys_error(err, src->sys_errno, "cannot read", src->name);
  if (sink && sink->sys_errno)
    return cli_sys_error(err, sink->sys_errno, "cannot write", sink->name);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* content types of uploads                                                 */
/* ------------------------------------------------------------------------ */

static const struct {
  const char *ext;
  const char *type;
} cli_types[] = {
  { "txt", "text/plain" },        { "log", "text/plain" },
  { "md", "text/markdown" },      { "csv", "text/csv" },
  { "html", "text/html" },        { "htm", "text/html" },
  { "css", "text/css" },          { "js", "text/javascript" },
  { "json", "application/json" }, { "xml", "application/xml" },
  { "yaml", "application/yaml" }, { "yml", "application/yaml" },
  { "pdf", "application/pdf" },   { "zip", "application/zip" },
  { "gz", "application/gzip" },   { "tar", "application/x-tar" },
  { "png", "image/png" },         { "jpg", "image/jpeg" },
  { "jpeg", "image/jpeg" },       { "gif", "image/gif" },
  { "svg", "image/svg+xml" },     { "webp", "image/webp" },
};

const char *cli_upload_content_type(const char *given, const char *key,
                                    int text)
{
  const char *dot = strrchr(cli_basename(key), '.');
  size_t i;

  if (given)
    return given;
  if (dot)
    for (i = 0; i < sizeof cli_types / sizeof cli_types[0]; i++)
      if (strcasecmp(dot + 1, cli_types[i].ext) == 0)
        return cli_types[i].type;
  return text ? "text/plain" : "application/octet-stream";
}
