/*
** journal.c -- the upload journals that let the next run resume a
** multipart upload from a file or from another service's object
** (multipart.c), and the listing behind `xtstore cleanup`
** (xtstore_uploads_list).
**
** One file per target under $XDG_STATE_HOME/xtstore/uploads/ (default
** ~/.local/state/xtstore/uploads/), named by a hash of (service, container,
** key), so a re-run finds the journal of its target whatever the source,
** and a changed source replaces (and aborts) the old upload instead of
** leaving it behind. The file is the user's own (0600), one record a line:
**
**   xtstore-journal 1 CREATED DEV INO SIZE MTIME_NS START PART_SIZE
**                     SERVICE CONTAINER KEY UPLOAD_ID
**   O DIGEST
**   P NO LEN TOKEN CRC32C
**   K RUNS
**
** (the first on one line), strings percent-encoded. That header is a
** file's; a copy from another service's object has a version 2 header
** instead, its source's address, version and snapshot ("-": the live
** object) in place of the file's device, inode, time and start (an older
** xtstore skips such a journal as not one; this one reads both):
**
**   xtstore-journal 2 CREATED SIZE PART_SIZE SRC_SERVICE SRC_CONTAINER
**                     SRC_KEY VERSION SNAPSHOT SERVICE CONTAINER KEY
**                     UPLOAD_ID
**
** The upload id stays the last field of either. The header is written
** atomically (a temporary file of a unique name, renamed), each completed
** part appended and fdatasync'd; a line cut by a crash (no newline) is
** ignored, as is any line that does not parse (a part line without a
** CRC-32C, of an older journal, too: such a part is sent again). Numbers
** are decimal digits only; CRC32C is the part's bytes' as sent, 8
** lowercase hex: the next run re-uses the part only while the source's
** range still has it (multipart.c). A line of a type an xtstore does not
** know is one that does not parse, so the O and K lines, added later, are
** skipped by an older one, which resumes as it always did:
**
**   O: a digest of the put options the upload began with (16 lowercase
**      hex, st_journal_opts_digest): a run with other options (a content
**      type, metadata) starts over rather than complete with the old
**      ones. A journal without it (an older xtstore's) is of options
**      unknown, resumed as before.
**   K: how many runs in a row kept the upload for the next (a final
**      failure of the network or the service) without storing a part:
**      appended by each such run (one that stored a part appends none),
**      and back to 0 at any P line after it.
**      An upload the service keeps refusing the same way (s3rver's 500 to
**      completing an upload it no longer has) is then started over
**      after a few (multipart.c), not kept forever.
**
** A run takes an exclusive flock on PATH.lock beside the journal before
** it reads the journal, and holds it until the upload ends (the kernel
** drops it when the run dies): two runs of the same target never read,
** resume or rewrite one journal at once, and a journal whose lock another
** process holds is a live upload, neither resumed nor cleaned up. The lock
** is on a file of its own because the journal is replaced by rename and
** removed; the lock file is removed too, by its holder, so a run that
** locked a file no longer at PATH.lock takes the new one instead.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"

#define JOURNAL_MAGIC "xtstore-journal 1"    /* a file's           */
#define JOURNAL_MAGIC2 "xtstore-journal 2"   /* an object's        */
#define JOURNAL_SUFFIX ".journal"
#define JOURNAL_LOCK_SUFFIX ".lock"

int st_mp_ident_fd(int fd, int64_t start, st_mp_ident *out)
{
  struct stat st;

  memset(out, 0, sizeof(*out));
  if (start < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    return -1;
  out->dev = (uint64_t)st.st_dev;
  out->ino = (uint64_t)st.st_ino;
  out->size = (uint64_t)st.st_size;
  out->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
                  st.st_mtim.tv_nsec;
  out->start = (uint64_t)start;
  return 0;
}

int st_mp_ident_fd_changed(int fd, int64_t start, const st_mp_ident *id,
                           store_error *err)
{
  st_mp_ident now;

  if (!st_mp_ident_fd(fd, start, &now) && st_mp_ident_same(&now, id))
    return 0;
  st_err(err, STORE_E_IO, "the file changed while it was read (its size, "
         "modification time or inode is not what it was)");
  return 1;
}

void st_mp_ident_object(const char *service, const char *container,
                        const char *key, const char *version,
                        const char *snapshot, uint64_t size,
                        st_mp_ident *out)
{
  memset(out, 0, sizeof(*out));
  out->size = size;
  out->service = service;
  out->container = container;
  out->key = key;
  out->version = version;
  out->snapshot = snapshot && snapshot[0] ? snapshot : NULL;
}

static int same_str(const char *a, const char *b)
{
  return a == b || (a && b && !strcmp(a, b));
}

int st_mp_ident_same(const st_mp_ident *a, const st_mp_ident *b)
{
  return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
         a->mtime_ns == b->mtime_ns && a->start == b->start &&
         same_str(a->service, b->service) &&
         same_str(a->container, b->container) && same_str(a->key, b->key) &&
         same_str(a->version, b->version) &&
         same_str(a->snapshot, b->snapshot);
}

/* mkdir -p of path (modified in place, restored), 0700. */
static int make_dirs(char *path)
{
  char *p;

  for (p = path + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
      *p = '/';
      return -1;
    }
    *p = '/';
  }
  return mkdir(path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/* The journals' directory (malloc'd), created when `create`; NULL when
 * there is no home to put it in or it cannot be made. */
static char *journal_dir(int create)
{
  const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
  char *dir = NULL;
  int n;

  if (state && state[0] == '/')
    n = asprintf(&dir, "%s/xtstore/uploads", state);
  else if (home && home[0] == '/')
    n = asprintf(&dir, "%s/.local/state/xtstore/uploads", home);
  else
    return NULL;
  if (n < 0)
    return NULL;
  if (create && make_dirs(dir) != 0) {
    free(dir);
    return NULL;
  }
  return dir;
}

/* FNV-1a, 64 bits: a name, not a secret. */
static uint64_t fnv_bytes(uint64_t h, const void *p, size_t n)
{
  const unsigned char *b = p;

  while (n--) {
    h ^= *b++;
    h *= 1099511628211u;
  }
  return h;
}

/* A string with its end, so that no two runs of strings hash the same. */
static uint64_t fnv(uint64_t h, const char *s)
{
  return fnv_bytes(h, s, strlen(s) + 1);
}

/* A string that may be NULL: a mark apart from any string's bytes. */
static uint64_t fnv_opt(uint64_t h, const char *s)
{
  h = fnv_bytes(h, s ? "s" : "n", 1);
  return s ? fnv(h, s) : h;
}

char *st_journal_path(const char *service, const char *container,
                      const char *key)
{
  uint64_t h = fnv(fnv(fnv(14695981039346656037u, service), container), key);
  char *dir = journal_dir(1), *path = NULL;

  if (dir && asprintf(&path, "%s/%016" PRIx64 JOURNAL_SUFFIX, dir, h) < 0)
    path = NULL;
  free(dir);
  return path;
}

/* s percent-encoded onto f: no blank, no '%', nothing outside ASCII; the
 * empty string is "-" (so '-' itself is always encoded). */
static void put_str(FILE *f, const char *s)
{
  if (!*s)
    fputc('-', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c <= ' ' || c >= 0x7f || c == '%' || c == '-')
      fprintf(f, "%%%02X", c);
    else
      fputc(c, f);
  }
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* Decode a field of put_str in place. -1 when it is not one. */
static int get_str(char *s)
{
  char *o = s;
  int hi, lo;

  if (!strcmp(s, "-")) {
    *s = '\0';
    return 0;
  }
  for (; *s; s++) {
    if (*s != '%') {
      *o++ = *s;
      continue;
    }
    hi = hexval(s[1]);
    lo = hi < 0 ? -1 : hexval(s[2]);
    if (lo < 0 || (hi == 0 && lo == 0))
      return -1;
    *o++ = (char)(hi * 16 + lo);
    s += 2;
  }
  *o = '\0';
  return 0;
}

static int get_u64(const char *s, uint64_t *out)
{
  char *end;

  /* Digits only: strtoull would take a sign or blanks too. */
  if (!*s || s[strspn(s, "0123456789")])
    return -1;
  errno = 0;
  *out = strtoull(s, &end, 10);
  return errno || *end ? -1 : 0;
}

/* Split line into at most max blank-separated fields. Their count. */
static int split(char *line, char **f, int max)
{
  int n = 0;
  char *save = NULL, *t;

  for (t = strtok_r(line, " ", &save); t && n < max;
       t = strtok_r(NULL, " ", &save))
    f[n++] = t;
  return t ? max + 1 : n;
}

/* The fields of line after magic (and a blank): nums numbers into v,
 * then strs strings into f, decoded. -1 when it is not that. */
static int header_fields(char *line, const char *magic, int nums, int strs,
                         uint64_t *v, char **f)
{
  size_t n = strlen(magic);
  int i;

  if (strncmp(line, magic, n) || line[n] != ' ' ||
      split(line + n + 1, f, nums + strs) != nums + strs)
    return -1;
  for (i = 0; i < nums; i++)
    if (get_u64(f[i], &v[i]))
      return -1;
  for (i = nums; i < nums + strs; i++)
    if (get_str(f[i]))
      return -1;
  return 0;
}

/* Copies of an object source's strings (src's) into j, its identity's
 * view of them. -1 when out of memory. */
static int own_source(st_journal *j, const st_mp_ident *src)
{
  st_mp_ident *id = &j->ident;

  if (!(j->src_service = strdup(src->service)) ||
      !(j->src_container = strdup(src->container)) ||
      !(j->src_key = strdup(src->key)) ||
      !(j->src_version = strdup(src->version)) ||
      (src->snapshot && !(j->src_snapshot = strdup(src->snapshot))))
    return -1;
  id->service = j->src_service;
  id->container = j->src_container;
  id->key = j->src_key;
  id->version = j->src_version;
  id->snapshot = j->src_snapshot;
  return 0;
}

/* A version 1 (a file's) or 2 (an object's) header into j. */
static int parse_header(char *line, st_journal *j)
{
  char *f[12], **t;
  uint64_t v[7];
  st_mp_ident *id = &j->ident, src;

  if (!header_fields(line, JOURNAL_MAGIC, 7, 4, v, f)) {
    id->dev = v[1];
    id->ino = v[2];
    id->size = v[3];
    id->mtime_ns = (int64_t)v[4];
    id->start = v[5];
    j->part_size = v[6];
    t = f + 7;
  } else if (!header_fields(line, JOURNAL_MAGIC2, 3, 9, v, f)) {
    id->size = v[1];
    j->part_size = v[2];
    /* An object's identity needs all of it but a snapshot: an empty
     * version is none. */
    st_mp_ident_object(f[3], f[4], f[5], f[6], f[7], v[1], &src);
    if (!f[3][0] || !f[4][0] || !f[5][0] || !f[6][0] || own_source(j, &src))
      return -1;
    t = f + 8;
  } else {
    return -1;
  }
  if (strlen(t[3]) >= sizeof(j->upload_id) || !t[3][0])
    return -1;
  j->created = (int64_t)v[0];
  j->service = strdup(t[0]);
  j->container = strdup(t[1]);
  j->key = strdup(t[2]);
  strcpy(j->upload_id, t[3]);
  return j->service && j->container && j->key ? 0 : -1;
}

/* A part line; a later line for the same part replaces an earlier one. */
static int parse_part(char *line, st_journal *j)
{
  char *f[5], *tok;
  uint64_t no, len;
  unsigned long crc;
  st_jpart *p;
  size_t i;

  if (split(line, f, 5) != 5 || strcmp(f[0], "P") || get_u64(f[1], &no) ||
      get_u64(f[2], &len) || no == 0 || no > UINT32_MAX || get_str(f[3]) ||
      strlen(f[3]) >= STORE_ID_SIZE || strlen(f[4]) != 8 ||
      strspn(f[4], "0123456789abcdef") != 8)
    return -1;
  /* 8 hex digits: always a whole uint32_t. */
  crc = strtoul(f[4], NULL, 16);
  if (!(tok = strdup(f[3])))
    return -1;
  for (i = 0; i < j->nparts && j->parts[i].no != no; i++)
    ;
  if (i == j->nparts) {
    p = realloc(j->parts, (j->nparts + 1) * sizeof(*p));
    if (!p) {
      free(tok);
      return -1;
    }
    j->parts = p;
    j->nparts++;
  } else {
    free(j->parts[i].token);
  }
  j->parts[i].no = (uint32_t)no;
  j->parts[i].len = len;
  j->parts[i].token = tok;
  j->parts[i].crc = (uint32_t)crc;
  /* A part stored since the runs counted: progress. */
  j->kept = 0;
  return 0;
}

/* An O or a K line (see the top of this file). */
static int parse_other(char *line, st_journal *j)
{
  char *f[2];
  uint64_t n;

  if (split(line, f, 2) != 2)
    return -1;
  if (!strcmp(f[0], "K") && !get_u64(f[1], &n) && n <= UINT32_MAX) {
    j->kept = (uint32_t)n;
    return 0;
  }
  if (strcmp(f[0], "O") || strlen(f[1]) != 16 ||
      strspn(f[1], "0123456789abcdef") != 16)
    return -1;
  /* 16 hex digits: always a whole uint64_t. */
  j->opts = strtoull(f[1], NULL, 16);
  j->has_opts = 1;
  return 0;
}

void st_journal_free(st_journal *j)
{
  size_t i;

  if (!j)
    return;
  if (j->fd >= 0)
    close(j->fd);
  for (i = 0; i < j->nparts; i++)
    free(j->parts[i].token);
  free(j->parts);
  free(j->src_service);
  free(j->src_container);
  free(j->src_key);
  free(j->src_version);
  free(j->src_snapshot);
  free(j->service);
  free(j->container);
  free(j->key);
  free(j->path);
  free(j);
}

/* A journal holding nothing yet, for path (taken). NULL when out of
 * memory (path freed). */
static st_journal *journal_new(char *path)
{
  st_journal *j = calloc(1, sizeof(*j));

  if (!j) {
    free(path);
    return NULL;
  }
  j->fd = -1;
  j->path = path;
  return j;
}

int st_journal_read(const char *path, st_journal **out)
{
  st_journal *j = NULL;
  char *copy = strdup(path), *line = NULL;
  size_t cap = 0;
  ssize_t n;
  FILE *f = NULL;
  int rc = -1;

  *out = NULL;
  if (!copy || !(j = journal_new(copy)))
    goto out;
  if (!(f = fopen(path, "re"))) {
    if (errno == ENOENT)
      rc = 1;
    goto out;
  }
  /* getline: no name is too long to read back. */
  n = getline(&line, &cap, f);
  if (n <= 0 || line[n - 1] != '\n')
    goto out;
  line[n - 1] = '\0';
  if (parse_header(line, j))
    goto out;
  /* Only whole lines: the last may have been cut by a crash. */
  while ((n = getline(&line, &cap, f)) > 0) {
    if (line[n - 1] == '\n') {
      line[n - 1] = '\0';
      if (line[0] == 'P')
        parse_part(line, j);
      else
        parse_other(line, j);
    }
  }
  *out = j;
  j = NULL;
  rc = 0;
out:
  if (f)
    fclose(f);
  free(line);
  st_journal_free(j);
  return rc;
}

st_journal *st_journal_new(const char *path, const char *service,
                           const char *container, const char *key,
                           const char *upload_id, const st_mp_ident *ident,
                           uint64_t part_size)
{
  char *copy = strdup(path);
  st_journal *j = copy ? journal_new(copy) : NULL;

  if (!j)
    return NULL;
  j->created = (int64_t)time(NULL);
  j->ident = *ident;
  j->ident.service = j->ident.container = j->ident.key = j->ident.version =
      j->ident.snapshot = NULL;
  j->part_size = part_size;
  j->service = strdup(service);
  j->container = strdup(container);
  j->key = strdup(key);
  if (ident->service &&
      (!ident->container || !ident->key || !ident->version ||
       own_source(j, ident))) {
    st_journal_free(j);
    return NULL;
  }
  if (!j->service || !j->container || !j->key ||
      strlen(upload_id) >= sizeof(j->upload_id)) {
    st_journal_free(j);
    return NULL;
  }
  strcpy(j->upload_id, upload_id);
  return j;
}

static void put_part(FILE *f, const st_jpart *p)
{
  fprintf(f, "P %" PRIu32 " %" PRIu64 " ", p->no, p->len);
  put_str(f, p->token);
  fprintf(f, " %08" PRIx32 "\n", p->crc);
}

int st_journal_write(st_journal *j)
{
  char *tmp = NULL;
  FILE *f = NULL;
  size_t i;
  int fd = -1, rc = -1;

  /* A name of its own (mkostemp: 0600): a crash leaves it, never half
   * a journal at j->path. */
  if (asprintf(&tmp, "%s.XXXXXX", j->path) < 0) {
    tmp = NULL;
    goto out;
  }
  fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) {
    free(tmp);
    tmp = NULL;
    goto out;
  }
  if (!(f = fdopen(fd, "w")))
    goto out;
  fd = -1;
  if (j->ident.service) {
    fprintf(f, JOURNAL_MAGIC2 " %" PRId64 " %" PRIu64 " %" PRIu64 " ",
            j->created, j->ident.size, j->part_size);
    put_str(f, j->ident.service);
    fputc(' ', f);
    put_str(f, j->ident.container);
    fputc(' ', f);
    put_str(f, j->ident.key);
    fputc(' ', f);
    put_str(f, j->ident.version);
    fputc(' ', f);
    put_str(f, j->ident.snapshot ? j->ident.snapshot : "");
    fputc(' ', f);
  } else {
    fprintf(f, JOURNAL_MAGIC " %" PRId64 " %" PRIu64 " %" PRIu64 " %" PRIu64
            " %" PRId64 " %" PRIu64 " %" PRIu64 " ", j->created, j->ident.dev,
            j->ident.ino, j->ident.size, j->ident.mtime_ns, j->ident.start,
            j->part_size);
  }
  put_str(f, j->service);
  fputc(' ', f);
  put_str(f, j->container);
  fputc(' ', f);
  put_str(f, j->key);
  fputc(' ', f);
  put_str(f, j->upload_id);
  fputc('\n', f);
  if (j->has_opts)
    fprintf(f, "O %016" PRIx64 "\n", j->opts);
  for (i = 0; i < j->nparts; i++)
    put_part(f, &j->parts[i]);
  /* After the parts: a P line after it would say it is 0. */
  if (j->kept)
    fprintf(f, "K %" PRIu32 "\n", j->kept);
  if (fflush(f) || fdatasync(fileno(f)))
    goto out;
  rc = fclose(f);
  f = NULL;
  if (!rc)
    rc = rename(tmp, j->path);
  if (!rc) {
    if (j->fd >= 0)
      close(j->fd);
    j->fd = open(j->path, O_WRONLY | O_APPEND | O_CLOEXEC);
    rc = j->fd < 0 ? -1 : 0;
  }
out:
  if (f)
    fclose(f);
  if (fd >= 0)
    close(fd);
  if (rc && tmp)
    unlink(tmp);
  free(tmp);
  return rc;
}

/* Append line (n bytes) to j's file, durably. */
static int append(st_journal *j, const char *line, size_t n)
{
  ssize_t w;

  /* One write of the whole line: a crash cuts at most this line. */
  do
    w = write(j->fd, line, n);
  while (w < 0 && errno == EINTR);
  return w != (ssize_t)n || fdatasync(j->fd) ? -1 : 0;
}

int st_journal_add(st_journal *j, uint32_t no, uint64_t len,
                   const char *token, uint32_t crc)
{
  char *line = NULL;
  size_t n = 0;
  FILE *f;
  st_jpart p = {no, len, (char *)token, crc};
  int rc;

  if (j->fd < 0 || !(f = open_memstream(&line, &n)))
    return -1;
  put_part(f, &p);
  if (fclose(f)) {
    free(line);
    return -1;
  }
  rc = append(j, line, n);
  free(line);
  if (!rc) {
    j->kept = 0;
    j->stored = 1;
  }
  return rc;
}

int st_journal_kept(st_journal *j)
{
  char line[16];
  int n;

  /* A run that stored a part made progress: its P line says 0. */
  if (j->stored)
    return 0;
  if (j->fd < 0 || j->kept == UINT32_MAX)
    return -1;
  n = snprintf(line, sizeof(line), "K %" PRIu32 "\n", j->kept + 1);
  if (n < 0 || (size_t)n >= sizeof(line) || append(j, line, (size_t)n))
    return -1;
  j->kept++;
  return 0;
}

uint64_t st_journal_opts_digest(const store_put_opts *opts)
{
  store_put_opts o;
  uint64_t h = 14695981039346656037u, meta = 0;
  size_t i;

  /* What the providers' begin sends and the next run is given alike: the
   * content type and the metadata, strings marked (NULL apart from "")
   * and with their end, so no two sets hash the same bytes. Not the
   * checksums (some runs only know them: a fan-out started over has its
   * tee's CRC-32C, a copy's source one by its handle), nor the flags or
   * if_match (complete's). Metadata in any order (a copy's comes in its
   * source's headers' order): its pairs' hashes summed. */
  st_put_opts_copy(&o, opts);
  h = fnv_opt(h, o.content_type);
  for (i = 0; i < o.nmetadata && o.metadata; i++)
    meta += fnv_opt(fnv_opt(h, o.metadata[i].key), o.metadata[i].value);
  h = fnv_bytes(h, &o.nmetadata, sizeof(o.nmetadata));
  return fnv_bytes(h, &meta, sizeof(meta));
}

/* PATH.lock of journal path (malloc'd); NULL when out of memory. */
static char *lock_path(const char *path)
{
  char *lp;

  return asprintf(&lp, "%s" JOURNAL_LOCK_SUFFIX, path) < 0 ? NULL : lp;
}

int st_journal_lock(const char *path, int *out_fd)
{
  char *lp = lock_path(path);
  struct stat a, b;
  int fd = -1, rc = -1;

  *out_fd = -1;
  if (!lp)
    return -1;
  for (;;) {
    fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
      break;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      rc = errno == EWOULDBLOCK ? 1 : -1;
      break;
    }
    /* The holder before us may have removed the file it locked: ours is
     * the lock only while it is still the one at lp. */
    if (fstat(fd, &a) == 0 && stat(lp, &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino) {
      *out_fd = fd;
      fd = -1;
      rc = 0;
      break;
    }
    close(fd);
  }
  if (fd >= 0)
    close(fd);
  free(lp);
  return rc;
}

void st_journal_unlock(const char *path, int fd)
{
  char *lp;

  if (fd < 0)
    return;
  /* Removed while held: a run that opened it meanwhile finds it gone
   * once it has the lock, and takes a new one (st_journal_lock). */
  if ((lp = lock_path(path)) != NULL)
    unlink(lp);
  free(lp);
  close(fd);
}

int st_journal_busy(const char *path)
{
  char *lp = lock_path(path);
  int fd = lp ? open(lp, O_RDONLY | O_CLOEXEC) : -1, busy = 0;

  free(lp);
  if (fd < 0)
    return 0;
  busy = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  close(fd);
  return busy;
}

void st_journal_remove(st_journal *j)
{
  if (!j)
    return;
  unlink(j->path);
  if (j->fd >= 0)
    close(j->fd);
  j->fd = -1;
}

/* ------------------------------------------------------------------------ */
/* the journals of a container, for `xtstore cleanup`                        */
/* ------------------------------------------------------------------------ */

static int has_suffix(const char *s, const char *suffix)
{
  size_t n = strlen(s), m = strlen(suffix);

  return n > m && !strcmp(s + n - m, suffix);
}

int xtstore_uploads_list(const char *service, const char *container,
                         xtstore_upload_fn fn, void *ud, store_error *err)
{
  char *dir = journal_dir(0), *path = NULL;
  xtstore_upload_info u;
  struct dirent *e;
  st_journal *j;
  DIR *d = NULL;
  size_t i;
  int rc = STORE_OK;

  st_err_reset(err);
  if (!dir)
    return STORE_OK;
  if (!(d = opendir(dir))) {
    if (errno != ENOENT)
      rc = st_err(err, STORE_E_IO, "upload journals '%s': %s", dir,
                  strerror(errno));
    goto out;
  }
  while (!rc && (e = readdir(d)) != NULL) {
    if (!has_suffix(e->d_name, JOURNAL_SUFFIX))
      continue;
    if (asprintf(&path, "%s/%s", dir, e->d_name) < 0) {
      path = NULL;
      rc = st_err(err, STORE_E_NOMEM, "out of memory");
      break;
    }
    if (!st_journal_read(path, &j)) {
      if (!strcmp(j->service, service) && !strcmp(j->container, container)) {
        memset(&u, 0, sizeof(u));
        u.path = path;
        u.service = j->service;
        u.container = j->container;
        u.key = j->key;
        u.upload_id = j->upload_id;
        u.created = j->created;
        u.active = st_journal_busy(path);
        u.parts = (uint32_t)j->nparts;
        for (i = 0; i < j->nparts; i++)
          u.bytes += j->parts[i].len;
        rc = fn(ud, &u);
      }
      st_journal_free(j);
    }
    free(path);
    path = NULL;
  }
out:
  if (d)
    closedir(d);
  free(dir);
  return rc;
}

int xtstore_upload_forget(const char *path, store_error *err)
{
  char *dir = journal_dir(0);
  size_t n = dir ? strlen(dir) : 0;
  int ours = dir && !strncmp(path, dir, n) && path[n] == '/' &&
             !strchr(path + n + 1, '/') && has_suffix(path, JOURNAL_SUFFIX);
  int lock = -1, lrc, rc = STORE_OK;

  st_err_reset(err);
  free(dir);
  /* Never anything but a journal, whatever the caller passes. */
  if (!ours)
    return st_err(err, STORE_E_INVALID, "'%s' is not an upload journal",
                  path);
  /* Under its lock: a run that resumes the upload meanwhile keeps it. */
  lrc = st_journal_lock(path, &lock);
  if (lrc == 1)
    return st_err(err, STORE_E_PRECONDITION, "upload journal '%s': a "
                  "running xtstore is uploading it now", path);
  if (unlink(path) != 0 && errno != ENOENT)
    rc = st_err(err, STORE_E_IO, "upload journal '%s': %s", path,
                strerror(errno));
  st_journal_unlock(path, lock);
  return rc;
}
