/*
** loader.c -- load one plugin file with libltdl and validate its
** store_interface table (plugin-api/PLUGIN_GUIDE.md section 6).
**
** Every rejection is one line, "plugin PATH: CHECK: CAUSE", written into
** the caller's buffer. A rejected module is closed again; an accepted one
** is made resident, because plugin code may still be referenced (atexit
** handlers, thread-locals) after the host is done with it.
*/
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <ltdl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin.h"

/* libltdl is not thread-safe and lt_dlerror() is process-global, so every
 * libltdl call, and the dlopen() probe beside it, runs under this lock. */
static pthread_mutex_t st_lt_lock = PTHREAD_MUTEX_INITIALIZER;
static int st_lt_ready;

/* Smallest struct_size for each 1.x minor this host knows, indexed by
 * minor. A later minor appends its STORE_INTERFACE_V1_N_SIZE. */
static const size_t st_min_size[STORE_ABI_MINOR + 1] = {
  STORE_INTERFACE_V1_0_SIZE,
  STORE_INTERFACE_V1_1_SIZE,
};

/* Ops every plugin must provide. */
struct st_op {
  const char *name;
  size_t off;
};
#define ST_OP(f) { #f, offsetof(struct store_interface, f) }

static const struct st_op st_required_ops[] = {
  ST_OP(open),        ST_OP(close),       ST_OP(blob_put), ST_OP(blob_get),
  ST_OP(blob_head),   ST_OP(blob_delete), ST_OP(blob_list),
};

/* Ops a capability promises. */
struct st_cap_op {
  uint64_t cap;
  const char *name;
  size_t off;
};
#define ST_CAP_OP(c, f) { c, #f, offsetof(struct store_interface, f) }

static const struct st_cap_op st_cap_ops[] = {
  ST_CAP_OP(STORE_CAP_CONTAINERS, container_create),
  ST_CAP_OP(STORE_CAP_CONTAINERS, container_delete),
  ST_CAP_OP(STORE_CAP_CONTAINERS, container_list),
  ST_CAP_OP(STORE_CAP_CONTAINERS, container_head),
  ST_CAP_OP(STORE_CAP_METADATA, blob_set_metadata),
  ST_CAP_OP(STORE_CAP_CONTAINER_METADATA, container_set_metadata),
  ST_CAP_OP(STORE_CAP_APPEND, blob_append),
  ST_CAP_OP(STORE_CAP_SNAPSHOT, blob_snapshot),
  ST_CAP_OP(STORE_CAP_COPY, blob_copy),
  ST_CAP_OP(STORE_CAP_MULTIPART, multipart_begin),
  ST_CAP_OP(STORE_CAP_MULTIPART, multipart_part),
  ST_CAP_OP(STORE_CAP_MULTIPART, multipart_complete),
  ST_CAP_OP(STORE_CAP_MULTIPART, multipart_abort),
  ST_CAP_OP(STORE_CAP_PRESIGN, blob_presign),
};

/* Indexed by bit number. */
static const char *const st_cap_names[] = {
  "containers", "range-get",  "metadata",     "append",
  "snapshot",   "copy",       "multipart",    "conditional",
  "threadsafe", "content-type", "dir-markers", "container-metadata",
  "presign",    "delete-if-match",
};

/* What a dlerror() text means, for the CHECK part of the message. */
static const struct {
  const char *needle;
  const char *check;
} st_dl_causes[] = {
  { "undefined symbol", "unresolved symbol" },
  { "invalid ELF header", "not a shared object" },
  { "file too short", "not a shared object" },
  { "wrong ELF class", "wrong architecture" },
};

static int st_fail(char *err, size_t errlen, int rc, const char *path,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Write "plugin PATH: <fmt...>" into err; returns rc. */
static int st_fail(char *err, size_t errlen, int rc, const char *path,
                   const char *fmt, ...)
{
  va_list ap;
  int n;

  if (!err || !errlen)
    return rc;
  n = snprintf(err, errlen, "plugin %s: ", path);
  if (n < 0 || (size_t)n >= errlen)
    return rc;
  va_start(ap, fmt);
  vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return rc;
}

int st_plugin_name_valid(const char *name)
{
  size_t i;

  if (!name)
    return 0;
  for (i = 0; name[i]; i++) {
    char c = name[i];
    if (i == 64)
      return 0;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-'))
      return 0;
  }
  return i > 0;
}

const char *st_capability_name(uint64_t bit)
{
  size_t i;

  for (i = 0; i < sizeof st_cap_names / sizeof st_cap_names[0]; i++)
    if (bit == (UINT64_C(1) << i))
      return st_cap_names[i];
  return NULL;
}

void st_module_free(st_module *m)
{
  if (!m)
    return;
  free(m->path);
  free(m);
}

/* Step 1: the file exists and is a regular file. */
static int st_check_file(const char *path, char *err, size_t errlen)
{
  struct stat st;

  if (stat(path, &st)) {
    if (errno == ENOENT || errno == ENOTDIR)
      return st_fail(err, errlen, STORE_E_NOT_FOUND, path, "not found");
    return st_fail(err, errlen, STORE_E_IO, path, "cannot access: %s",
                   strerror(errno));
  }
  if (!S_ISREG(st.st_mode))
    return st_fail(err, errlen, STORE_E_INVALID, path, "not a regular file");
  return 0;
}

/* Step 1b, on the resolved path: loading runs the file's code as this
 * user, so neither the file nor its directory may be changeable by anyone
 * else: owned by the user or root, not writable by group or others (a
 * sticky directory, like /tmp, keeps others from replacing the file). */
static int st_check_trust(const char *real, char *err, size_t errlen)
{
  uid_t me = geteuid();
  struct stat st;
  char dir[PATH_MAX];
  const char *slash = strrchr(real, '/');
  const char *what = "file";
  int i;

  snprintf(dir, sizeof dir, "%.*s", slash && slash != real ?
           (int)(slash - real) : 1, slash ? real : "/");
  for (i = 0; i < 2; i++, what = "directory") {
    const char *p = i ? dir : real;
    if (stat(p, &st))
      return st_fail(err, errlen, STORE_E_IO, real, "cannot access %s: %s",
                     p, strerror(errno));
    if (st.st_uid != me && st.st_uid != 0)
      return st_fail(err, errlen, STORE_E_PERMISSION, real, "refused: its "
                     "%s %s is owned by uid %u, not by you or root",
                     what, p, (unsigned)st.st_uid);
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) &&
        !(i && (st.st_mode & S_ISVTX)))
      return st_fail(err, errlen, STORE_E_PERMISSION, real, "refused: its "
                     "%s %s is writable by group or others (mode %04o; "
                     "chmod go-w it)", what, p,
                     (unsigned)(st.st_mode & 07777));
  }
  return 0;
}

/* Turn a dlerror() text about `path` into "CHECK: CAUSE". */
static int st_dl_failure(const char *path, const char *msg, char *err,
                         size_t errlen)
{
  const char *cause = msg ? msg : "unknown dlopen failure";
  const char *check = "cannot load";
  size_t plen = strlen(path);
  size_t i;

  /* dlerror() prefixes our own file name; the message already has it. */
  if (!strncmp(cause, path, plen) && cause[plen] == ':' &&
      cause[plen + 1] == ' ')
    cause += plen + 2;
  for (i = 0; i < sizeof st_dl_causes / sizeof st_dl_causes[0]; i++) {
    if (strstr(cause, st_dl_causes[i].needle)) {
      check = st_dl_causes[i].check;
      break;
    }
  }
  /* "libfoo.so.1: cannot open shared object file": a library the plugin
   * needs, not the plugin itself (its own name was stripped above). */
  if (i == sizeof st_dl_causes / sizeof st_dl_causes[0] &&
      strstr(cause, ": cannot open shared object file"))
    check = "missing dependency";
  return st_fail(err, errlen, STORE_E_INVALID, path, "%s: %s", check, cause);
}

/* Step 2 (caller holds st_lt_lock): open the module. On success *out is
 * the libltdl handle, which the caller closes or makes resident. */
static int st_dl_open(const char *path, lt_dlhandle *out, char *err,
                      size_t errlen)
{
  void *probe;
  lt_dlhandle dl;

  *out = NULL;
  if (!st_lt_ready) {
    if (lt_dlinit())
      return st_fail(err, errlen, STORE_E_INTERNAL, path,
                     "cannot load: libltdl initialisation failed: %s",
                     lt_dlerror());
    st_lt_ready = 1;
  }
  /* libltdl binds lazily and reports most failures as "file not found".
   * A strict dlopen first yields the real dlerror() and rejects unresolved
   * symbols even in plugins linked without -z now; libltdl then shares the
   * already relocated object. */
  probe = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!probe)
    return st_dl_failure(path, dlerror(), err, errlen);
  dl = lt_dlopen(path);
  dlclose(probe);
  if (!dl)
    return st_fail(err, errlen, STORE_E_INVALID, path, "cannot load: %s",
                   lt_dlerror());
  *out = dl;
  return 0;
}

/* Step 3 (caller holds st_lt_lock): find `store_interface`. *out_size is
 * the ELF size of the exported object, or 0 when unknown. */
static int st_dl_symbol(lt_dlhandle dl, const char *path,
                        const struct store_interface **out, size_t *out_size,
                        char *err, size_t errlen)
{
  const ElfW(Sym) *sym = NULL;
  Dl_info info;
  char name[32];
  void *p;
  unsigned n;

  *out = NULL;
  *out_size = 0;
  p = lt_dlsym(dl, STORE_INTERFACE_SYMBOL);
  if (!p) {
    /* A plugin of another major may export a versioned symbol; naming its
     * major is more useful than "not a plugin". */
    for (n = 0; n < 10; n++) {
      if (n == STORE_ABI_MAJOR)
        continue;
      snprintf(name, sizeof name, "%s_v%u", STORE_INTERFACE_SYMBOL, n);
      if (lt_dlsym(dl, name))
        return st_fail(err, errlen, STORE_E_INVALID, path,
                       "ABI major %u not supported: exports '%s' (built for "
                       "ABI major %u), host %d.%d",
                       n, name, n, STORE_ABI_MAJOR, STORE_ABI_MINOR);
    }
    return st_fail(err, errlen, STORE_E_INVALID, path,
                   "no '%s' symbol: not an xtstore plugin",
                   STORE_INTERFACE_SYMBOL);
  }
  if (dladdr1(p, &info, (void **)&sym, RTLD_DL_SYMENT) && sym &&
      info.dli_saddr == p)
    *out_size = sym->st_size;
  if (*out_size && *out_size < offsetof(struct store_interface, name))
    return st_fail(err, errlen, STORE_E_INVALID, path,
                   "symbol '%s' is %zu bytes, smaller than the ABI header",
                   STORE_INTERFACE_SYMBOL, *out_size);
  *out = p;
  return 0;
}

/* Step 4: the header fields and the name. `obj_size` as st_dl_symbol. */
static int st_check_header(const struct store_interface *src, size_t obj_size,
                           const char *path, char *err, size_t errlen)
{
  size_t need, copy;

  if (src->abi_major != STORE_ABI_MAJOR)
    return st_fail(err, errlen, STORE_E_INVALID, path,
                   "ABI major %u not supported: plugin %u.%u, host %d.%d",
                   src->abi_major, src->abi_major, src->abi_minor,
                   STORE_ABI_MAJOR, STORE_ABI_MINOR);
  if (src->abi_minor > STORE_ABI_MINOR)
    return st_fail(err, errlen, STORE_E_INVALID, path,
                   "ABI minor too new: plugin built for ABI %u.%u, newer than "
                   "this host's %d.%d; upgrade xtstore",
                   src->abi_major, src->abi_minor, STORE_ABI_MAJOR,
                   STORE_ABI_MINOR);
  need = st_min_size[src->abi_minor];
  if (src->struct_size < need)
    return st_fail(err, errlen, STORE_E_INVALID, path,
                   "struct_size %u too small for ABI %u.%u (needs >= %zu)",
                   src->struct_size, src->abi_major, src->abi_minor, need);
  /* The copy below reads min(struct_size, sizeof) bytes; a table that
   * claims more than the object holds would be read past its end. */
  copy = src->struct_size < sizeof(struct store_interface)
             ? src->struct_size
             : sizeof(struct store_interface);
  if (obj_size && obj_size < copy)
    return st_fail(err, errlen, STORE_E_INVALID, path,
                   "struct_size %u larger than the exported '%s' object (%zu "
                   "bytes)",
                   src->struct_size, STORE_INTERFACE_SYMBOL, obj_size);
  if (src->reserved)
    return st_fail(err, errlen, STORE_E_INVALID, path,
                   "reserved header field is %u, must be 0", src->reserved);
  if (!src->name)
    return st_fail(err, errlen, STORE_E_INVALID, path,
                   "invalid plugin name: name is NULL");
  if (!st_plugin_name_valid(src->name))
    return st_fail(err, errlen, STORE_E_INVALID, path,
                   "invalid plugin name '%.80s': must match [a-z0-9_-]{1,64}",
                   src->name);
  return 0;
}

static int st_op_is_null(const struct store_interface *t, size_t off)
{
  void (*fn)(void);

  memcpy(&fn, (const char *)t + off, sizeof fn);
  return fn == NULL;
}

/* Step 6: required ops, and the ops each declared capability promises. */
static int st_check_ops(const struct store_interface *t, const char *path,
                        char *err, size_t errlen)
{
  size_t i;

  for (i = 0; i < sizeof st_required_ops / sizeof st_required_ops[0]; i++)
    if (st_op_is_null(t, st_required_ops[i].off))
      return st_fail(err, errlen, STORE_E_INVALID, path,
                     "required op '%s' is NULL", st_required_ops[i].name);
  for (i = 0; i < sizeof st_cap_ops / sizeof st_cap_ops[0]; i++)
    if ((t->capabilities & st_cap_ops[i].cap) &&
        st_op_is_null(t, st_cap_ops[i].off))
      return st_fail(err, errlen, STORE_E_INVALID, path,
                     "capability '%s' declared but op '%s' is NULL",
                     st_capability_name(st_cap_ops[i].cap),
                     st_cap_ops[i].name);
  return 0;
}

int st_module_load(const char *path, st_module **out, char *err, size_t errlen)
{
  const struct store_interface *src = NULL;
  lt_dlhandle dl = NULL;
  st_module *m = NULL;
  size_t obj_size = 0;
  int locked = 0;
  int rc;

  *out = NULL;
  rc = st_check_file(path, err, errlen);
  if (rc)
    goto out;
  m = calloc(1, sizeof *m);
  if (!m) {
    rc = st_fail(err, errlen, STORE_E_NOMEM, path, "out of memory");
    goto out;
  }
  m->path = realpath(path, NULL);
  if (!m->path) {
    rc = st_fail(err, errlen, STORE_E_IO, path, "cannot resolve path: %s",
                 strerror(errno));
    goto out;
  }
  rc = st_check_trust(m->path, err, errlen);
  if (rc)
    goto out;
  pthread_mutex_lock(&st_lt_lock);
  locked = 1;
  rc = st_dl_open(m->path, &dl, err, errlen);
  if (rc)
    goto out;
  rc = st_dl_symbol(dl, m->path, &src, &obj_size, err, errlen);
  if (rc)
    goto out;
  rc = st_check_header(src, obj_size, m->path, err, errlen);
  if (rc)
    goto out;
  /* Step 5: fields an older plugin's table lacks stay zero (calloc). */
  m->plugin_struct_size = src->struct_size;
  memcpy(&m->iface, src,
         src->struct_size < sizeof m->iface ? src->struct_size
                                            : sizeof m->iface);
  rc = st_check_ops(&m->iface, m->path, err, errlen);
  if (rc)
    goto out;
  if (lt_dlmakeresident(dl)) {
    rc = st_fail(err, errlen, STORE_E_INTERNAL, m->path,
                 "cannot make resident: %s", lt_dlerror());
    goto out;
  }
  m->dl = dl;
  dl = NULL;
  *out = m;
  m = NULL;
out:
  if (dl)
    lt_dlclose(dl);
  if (locked)
    pthread_mutex_unlock(&st_lt_lock);
  st_module_free(m);
  return rc;
}
