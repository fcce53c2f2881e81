/*
** registry.c -- the loaded plugins and the plugin search path.
**
** Modules are keyed by their real path, so one file loaded through a name,
** a relative path and a symlink is one module, initialised once. Records
** are freed with the registry; the code itself stays resident (loader.c).
*/
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "plugin.h"

struct st_registry {
  pthread_mutex_t lock;       /* guards dirs and mods                      */
  const store_host_api *host; /* borrowed; outlives the registry           */
  char **dirs;                /* search path, owned                        */
  size_t ndirs;
  st_module **mods;           /* loaded modules in load order, owned       */
  size_t nmods;
  size_t capmods;
};

static int st_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Format one line into the caller's buffer; returns rc. */
static int st_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
  va_list ap;

  if (!err || !errlen)
    return rc;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return rc;
}

static void st_module_release(st_module *m);

static int st_is_file(const char *path)
{
  struct stat st;

  return !stat(path, &st) && S_ISREG(st.st_mode);
}

static int st_is_dir(const char *path)
{
  struct stat st;

  return !stat(path, &st) && S_ISDIR(st.st_mode);
}

int st_registry_new(const store_host_api *host, st_registry **out)
{
  st_registry *reg;

  *out = NULL;
  reg = calloc(1, sizeof *reg);
  if (!reg)
    return STORE_E_NOMEM;
  pthread_mutex_init(&reg->lock, NULL);
  reg->host = host;
  *out = reg;
  return 0;
}

void st_registry_free(st_registry *reg)
{
  size_t i;

  if (!reg)
    return;
  /* Newest first, so a module finalises before those loaded before it. */
  for (i = reg->nmods; i-- > 0;) {
    st_module *m = reg->mods[i];

    if (m->initialized)
      st_module_release(m);
    st_module_free(m);
  }
  for (i = 0; i < reg->ndirs; i++)
    free(reg->dirs[i]);
  free(reg->dirs);
  free(reg->mods);
  pthread_mutex_destroy(&reg->lock);
  free(reg);
}

/* Append a copy of `dir` (already expanded); with `unique`, skip a
 * directory that is already on the path. Caller holds the lock. */
static int st_push_dir(st_registry *reg, const char *dir, int unique)
{
  char **dirs;
  char *copy;
  size_t i;

  if (unique)
    for (i = 0; i < reg->ndirs; i++)
      if (!strcmp(reg->dirs[i], dir))
        return 0;
  copy = strdup(dir);
  if (!copy)
    return STORE_E_NOMEM;
  dirs = realloc(reg->dirs, (reg->ndirs + 1) * sizeof *dirs);
  if (!dirs) {
    free(copy);
    return STORE_E_NOMEM;
  }
  dirs[reg->ndirs++] = copy;
  reg->dirs = dirs;
  return 0;
}

/* st_registry_add_dir, with the `unique` choice of st_push_dir. */
static int st_add_dir(st_registry *reg, const char *dir, int unique)
{
  char buf[PATH_MAX];
  int rc;

  if (!dir || !*dir)
    return 0;
  if (st_expand_home(dir, buf, sizeof buf))
    return STORE_E_INVALID;
  pthread_mutex_lock(&reg->lock);
  rc = st_push_dir(reg, buf, unique);
  pthread_mutex_unlock(&reg->lock);
  return rc;
}

int st_registry_add_dir(st_registry *reg, const char *dir)
{
  return st_add_dir(reg, dir, 0);
}

int st_registry_add_path_list(st_registry *reg, const char *list)
{
  char buf[PATH_MAX];
  const char *p = list;
  int rc = 0;

  while (p && *p) {
    size_t n = strcspn(p, ":");

    if (n >= sizeof buf) {
      rc = STORE_E_INVALID;
      goto out;
    }
    memcpy(buf, p, n);
    buf[n] = '\0';
    rc = st_registry_add_dir(reg, buf);
    if (rc)
      goto out;
    p += n;
    if (*p == ':')
      p++;
  }
out:
  return rc;
}

int st_registry_user_dir(char *buf, size_t len)
{
  const char *xdg = getenv("XDG_DATA_HOME");
  const char *home = getenv("HOME");
  int n;

  /* The XDG spec says to ignore a relative XDG_DATA_HOME. */
  if (xdg && xdg[0] == '/')
    n = snprintf(buf, len, "%s/xtstore/plugins", xdg);
  else if (home && *home)
    n = snprintf(buf, len, "%s/.local/share/xtstore/plugins", home);
  else
    return -1;
  return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* The real path of the object (libxtstore.so, or the executable when the
 * static archive is linked in) that contains this code, or NULL. The
 * caller frees it. */
static char *st_self_path(void)
{
  Dl_info info;

  if (!dladdr((void *)st_self_path, &info) || !info.dli_fname)
    return NULL;
  /* For the executable dladdr() gives argv[0], which may be relative. */
  if (info.dli_fname[0] != '/')
    return realpath("/proc/self/exe", NULL);
  return realpath(info.dli_fname, NULL);
}

/* The plugin directories next to where libxtstore was loaded from:
 *   <X>/lib/libxtstore.so in a build tree (<X>/CMakeCache.txt) -> <X>/plugins
 *   anything inside this build tree (static test binaries)
 *                                          -> XTSTORE_BUILD_PLUGINDIR
 *   <libdir>/libxtstore.so                 -> <libdir>/xtstore/plugins
 * Directories that do not exist are left out. */
static int st_add_self_relative(st_registry *reg)
{
  char buf[PATH_MAX];
  char *self = st_self_path();
  char *build = realpath(XTSTORE_BUILD_PLUGINDIR, NULL); /* NULL: not built */
  const char *slash;
  char *libdir;
  int rc = 0;

  if (!self)
    goto out;
  libdir = self;
  *strrchr(libdir, '/') = '\0';
  slash = strrchr(libdir, '/');
  if (slash && !strcmp(slash, "/lib")) {
    int n = snprintf(buf, sizeof buf, "%.*s/CMakeCache.txt",
                     (int)(slash - libdir), libdir);

    if (n > 0 && (size_t)n < sizeof buf && st_is_file(buf)) {
      snprintf(buf, sizeof buf, "%.*s/plugins", (int)(slash - libdir), libdir);
      if (st_is_dir(buf)) {
        rc = st_add_dir(reg, buf, 1);
        if (rc)
          goto out;
      }
    }
  }
  /* Only a binary that lives in this build tree may search it: an
   * installed copy must not pick up plugins from a developer's tree. */
  slash = build ? strrchr(build, '/') : NULL;
  if (slash && slash > build &&
      !strncmp(libdir, build, (size_t)(slash - build)) &&
      (libdir[slash - build] == '/' || libdir[slash - build] == '\0') &&
      st_is_dir(build)) {
    rc = st_add_dir(reg, build, 1);
    if (rc)
      goto out;
  }
  if ((size_t)snprintf(buf, sizeof buf, "%s/xtstore/plugins", libdir) <
          sizeof buf &&
      st_is_dir(buf))
    rc = st_add_dir(reg, buf, 1);
out:
  free(build);
  free(self);
  return rc;
}

int st_registry_add_defaults(st_registry *reg)
{
  char buf[PATH_MAX];
  int rc = 0;

  if (!st_registry_user_dir(buf, sizeof buf)) {
    rc = st_add_dir(reg, buf, 1);
    if (rc)
      goto out;
  }
  rc = st_add_self_relative(reg);
  if (rc)
    goto out;
  rc = st_add_dir(reg, XTSTORE_INSTALL_PLUGINDIR, 1);
out:
  return rc;
}

size_t st_registry_dir_count(const st_registry *reg)
{
  size_t n;

  pthread_mutex_lock((pthread_mutex_t *)&reg->lock);
  n = reg->ndirs;
  pthread_mutex_unlock((pthread_mutex_t *)&reg->lock);
  return n;
}

const char *st_registry_dir_at(const st_registry *reg, size_t i)
{
  const char *d = NULL;

  /* The strings themselves never move, so the pointer outlives the lock. */
  pthread_mutex_lock((pthread_mutex_t *)&reg->lock);
  if (i < reg->ndirs)
    d = reg->dirs[i];
  pthread_mutex_unlock((pthread_mutex_t *)&reg->lock);
  return d;
}

/* A spec that contains '/': expand `~`, make it absolute against the
 * current directory, and check that the file exists. */
static int st_resolve_path(const char *spec, char *buf, size_t len,
                           char *err, size_t errlen)
{
  char exp[PATH_MAX];
  char cwd[PATH_MAX];
  int n;

  if (st_expand_home(spec, exp, sizeof exp))
    return st_errf(err, errlen, STORE_E_INVALID,
                   "plugin %s: path too long or HOME unset", spec);
  if (exp[0] == '/')
    n = snprintf(buf, len, "%s", exp);
  else if (getcwd(cwd, sizeof cwd))
    n = snprintf(buf, len, "%s/%s", cwd,
                 strncmp(exp, "./", 2) ? exp : exp + 2);
  else
    return st_errf(err, errlen, STORE_E_IO,
                   "plugin %s: cannot resolve against the current "
                   "directory: %s", spec, strerror(errno));
  if (n < 0 || (size_t)n >= len)
    return st_errf(err, errlen, STORE_E_INVALID, "plugin %s: path too long",
                   spec);
  if (!st_is_file(buf))
    return st_errf(err, errlen, STORE_E_NOT_FOUND, "plugin %s: not found",
                   buf);
  return 0;
}

/* How much of a message the list of searched directories may take. */
#define ST_SEARCH_LIST_MAX 160

/* A bare name: NAME.so (or NAME when it ends in .so) in each search
 * directory in order. Caller holds the lock. */
static int st_resolve_name(const st_registry *reg, const char *spec,
                           char *buf, size_t len, char *err, size_t errlen)
{
  size_t slen = strlen(spec);
  const char *ext = slen > 3 && !strcmp(spec + slen - 3, ".so") ? "" : ".so";
  size_t i, off, budget;
  int n;

  for (i = 0; i < reg->ndirs; i++) {
    n = snprintf(buf, len, "%s/%s%s", reg->dirs[i], spec, ext);
    if (n > 0 && (size_t)n < len && st_is_file(buf))
      return 0;
  }
  if (!reg->ndirs)
    return st_errf(err, errlen, STORE_E_NOT_FOUND,
                   "plugin '%s' not found: the plugin search path is empty",
                   spec);
  if (!err || !errlen)
    return STORE_E_NOT_FOUND;
  n = snprintf(err, errlen, "plugin '%s' not found in: ", spec);
  off = n < 0 ? 0 : (size_t)n;
  /* Whole directories only, within a budget that leaves room for what
   * callers put around this (the service, the config position): a list
   * cut in the middle of a path names a directory that does not exist. */
  budget = errlen < ST_SEARCH_LIST_MAX ? errlen : ST_SEARCH_LIST_MAX;
  for (i = 0; i < reg->ndirs; i++) {
    size_t need = strlen(reg->dirs[i]) + (i ? 2 : 0);
    if (off + need + 24 >= budget)
      break;
    n = snprintf(err + off, errlen - off, "%s%s", i ? ", " : "",
                 reg->dirs[i]);
    off += n < 0 ? 0 : (size_t)n;
  }
  if (i < reg->ndirs && off < errlen)
    snprintf(err + off, errlen - off, "%s%zu more director%s", i ? " and " : "",
             reg->ndirs - i, reg->ndirs - i == 1 ? "y" : "ies");
  return STORE_E_NOT_FOUND;
}

int st_registry_resolve(const st_registry *reg, const char *spec, char *buf,
                        size_t len, char *err, size_t errlen)
{
  int rc;

  if (!spec || !*spec) {
    rc = st_errf(err, errlen, STORE_E_INVALID, "plugin spec is empty");
  } else if (strchr(spec, '/')) {
    rc = st_resolve_path(spec, buf, len, err, errlen);
  } else {
    pthread_mutex_lock((pthread_mutex_t *)&reg->lock);
    rc = st_resolve_name(reg, spec, buf, len, err, errlen);
    pthread_mutex_unlock((pthread_mutex_t *)&reg->lock);
  }
  if (rc && len)
    buf[0] = '\0';
  return rc;
}

/*
** module_init runs once per process and module_fini once at the end, even
** when several contexts (registries) load the same file: a process-wide
** reference count per real path decides. The host table module_init gets
** is process-wide too, because a plugin may keep it after the context that
** first loaded it has gone.
*/
struct st_init_ref {
  char *path;
  unsigned refs;
  struct st_init_ref *next;
};

static pthread_mutex_t st_init_lock = PTHREAD_MUTEX_INITIALIZER;
static struct st_init_ref *st_init_refs;

static void st_module_host_log(void *host_ctx, int32_t level, const char *msg)
{
  (void)host_ctx;
  if (level <= STORE_LOG_WARN)
    fprintf(stderr, "xtstore: %s: %s\n",
            level == STORE_LOG_ERROR ? "error" : "warning", msg ? msg : "");
}

static int32_t st_module_host_cancelled(void *host_ctx)
{
  (void)host_ctx;
  return 0;
}

static const store_host_api st_module_host = {
  sizeof(store_host_api), STORE_ABI_MAJOR, STORE_ABI_MINOR, 0, NULL,
  st_module_host_log, st_module_host_cancelled};

/* Caller holds st_init_lock. */
static struct st_init_ref *st_init_find(const char *path)
{
  struct st_init_ref *r;

  for (r = st_init_refs; r; r = r->next)
    if (!strcmp(r->path, path))
      return r;
  return NULL;
}

/* Run module_init (if any) unless this process already did for the file. */
static int st_module_init(st_module *m, char *err, size_t errlen)
{
  struct st_init_ref *r;
  store_error e;
  int rc = 0;

  pthread_mutex_lock(&st_init_lock);
  r = st_init_find(m->path);
  if (r) {
    r->refs++;
    goto done;
  }
  r = calloc(1, sizeof *r);
  if (!r || !(r->path = strdup(m->path))) {
    free(r);
    rc = st_errf(err, errlen, STORE_E_NOMEM, "plugin %s: out of memory",
                 m->path);
    goto out;
  }
  if (m->iface.module_init) {
    memset(&e, 0, sizeof e);
    e.struct_size = sizeof e;
    rc = m->iface.module_init(&st_module_host, &e);
    if (rc) {
      e.message[sizeof e.message - 1] = '\0';
      rc = st_errf(err, errlen, rc > 0 ? rc : STORE_E_INTERNAL,
                   "plugin %s: module_init failed: %s", m->path,
                   e.message[0] ? e.message : store_strerror(rc));
      free(r->path);
      free(r);
      goto out;
    }
  }
  r->refs = 1;
  r->next = st_init_refs;
  st_init_refs = r;
done:
  m->initialized = 1;
out:
  pthread_mutex_unlock(&st_init_lock);
  return rc;
}

/* Drop one reference; the last one runs module_fini. */
static void st_module_release(st_module *m)
{
  struct st_init_ref **pp, *r;

  pthread_mutex_lock(&st_init_lock);
  for (pp = &st_init_refs; (r = *pp); pp = &r->next) {
    if (strcmp(r->path, m->path))
      continue;
    if (--r->refs == 0) {
      if (m->iface.module_fini)
        m->iface.module_fini();
      *pp = r->next;
      free(r->path);
      free(r);
    }
    break;
  }
  pthread_mutex_unlock(&st_init_lock);
}

int st_registry_load(st_registry *reg, const char *spec,
                     const st_module **out, char *err, size_t errlen)
{
  char path[PATH_MAX];
  char *real = NULL;
  st_module *m = NULL;
  size_t i;
  int locked = 0;
  int rc;

  *out = NULL;
  rc = st_registry_resolve(reg, spec, path, sizeof path, err, errlen);
  if (rc)
    goto out;
  real = realpath(path, NULL);
  if (!real) {
    rc = st_errf(err, errlen, STORE_E_NOT_FOUND, "plugin %s: not found: %s",
                 path, strerror(errno));
    goto out;
  }
  pthread_mutex_lock(&reg->lock);
  locked = 1;
  for (i = 0; i < reg->nmods; i++) {
    if (!strcmp(reg->mods[i]->path, real)) {
      *out = reg->mods[i];
      goto out;
    }
  }
  rc = st_module_load(real, &m, err, errlen);
  if (rc)
    goto out;
  for (i = 0; i < reg->nmods; i++) {
    if (!strcmp(reg->mods[i]->iface.name, m->iface.name)) {
      rc = st_errf(err, errlen, STORE_E_EXISTS,
                   "plugin %s: duplicate plugin name '%s': already loaded "
                   "from %s", m->path, m->iface.name, reg->mods[i]->path);
      goto out;
    }
  }
  /* Grow first, so that a module whose init ran is always recorded (and
   * so finalised). */
  if (reg->nmods == reg->capmods) {
    size_t cap = reg->capmods ? reg->capmods * 2 : 8;
    st_module **mods = realloc(reg->mods, cap * sizeof *mods);

    if (!mods) {
      rc = st_errf(err, errlen, STORE_E_NOMEM, "plugin %s: out of memory",
                   m->path);
      goto out;
    }
    reg->mods = mods;
    reg->capmods = cap;
  }
  rc = st_module_init(m, err, errlen);
  if (rc)
    goto out;
  reg->mods[reg->nmods++] = m;
  *out = m;
  m = NULL;
out:
  if (locked)
    pthread_mutex_unlock(&reg->lock);
  st_module_free(m);
  free(real);
  return rc;
}
