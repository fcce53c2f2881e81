/*
** secret.c -- resolve secret references in service values:
** $env:NAME, $file:PATH and XT's $vault (a JSON file named by the
** xt-services.vault service). Errors name the service, key, reference and
** position, and never the secret; buffers that held one are wiped.
*/
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

/* Secrets are small; anything larger is a mistake (e.g. $file:/dev/zero). */
#define ST_SECRET_MAX (1024u * 1024)

/* What an error about one reference needs to say where it is. */
typedef struct ref_ctx {
  const st_config *cfg;
  const st_service_cfg *svc;
  const char *key;
  const st_cfg_pos *pos;
  char *err;
  size_t errlen;
} ref_ctx;

static int ref_error(const ref_ctx *r, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

static int ref_error(const ref_ctx *r, const char *fmt, ...)
{
  char msg[512];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  return st_cfg_error(r->err, r->errlen, r->pos, "service '%s' key '%s': %s",
                      r->svc->name, r->key, msg);
}

int st_config_is_reference(const char *raw)
{
  return raw && (strncmp(raw, "$env:", 5) == 0 ||
                 strncmp(raw, "$file:", 6) == 0 || strcmp(raw, "$vault") == 0);
}

void st_secret_free(char *s)
{
  if (!s)
    return;
  explicit_bzero(s, strlen(s));
  free(s);
}

static int resolve_env(const ref_ctx *r, const char *name, char **out)
{
  const char *v;

  if (!*name)
    return ref_error(r, "$env: needs a variable name ($env:NAME)");
  v = getenv(name);
  if (!v)
    return ref_error(r, "environment variable %s is not set", name);
  if (!*v)
    return ref_error(r, "environment variable %s is empty", name);
  *out = strdup(v);
  return *out ? 0 : ref_error(r, "out of memory");
}

/* Open the secret file `path` (what: "file", "vault file") for reading:
 * a regular file (a FIFO would hang the read) that group and others can
 * neither read nor write. *out_fd is -1 on failure. */
static int open_secret(const ref_ctx *r, const char *what, const char *path,
                       int *out_fd)
{
  struct stat st;
  int fd, flags;

  *out_fd = -1;
  fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0 || fstat(fd, &st)) {
    if (fd >= 0)
      close(fd);
    return ref_error(r, "cannot read %s %s: %s", what, path, strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return ref_error(r, "%s %s is not a regular file", what, path);
  }
  if (st.st_mode & 077) {
    close(fd);
    return ref_error(r, "%s %s is open to group/others (mode %04o); "
                     "chmod 600 it", what, path,
                     (unsigned)(st.st_mode & 07777));
  }
  flags = fcntl(fd, F_GETFL);
  if (flags != -1)
    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  *out_fd = fd;
  return 0;
}

static int resolve_file(const ref_ctx *r, const char *raw, char **out)
{
  char path[PATH_MAX], *buf;
  size_t len;
  int fd, rc;

  if (st_expand_home(raw, path, sizeof(path)))
    return ref_error(r, "$file: path too long, or it needs HOME");
  if (open_secret(r, "file", path, &fd))
    return -1;
  rc = st_cfg_read_fd(fd, ST_SECRET_MAX, &buf, &len);
  if (rc)
    rc = ref_error(r, "cannot read file %s: %s", path, strerror(errno));
  close(fd);
  if (rc)
    return rc;
  /* Files written by editors and `echo` end in one newline. */
  if (len && buf[len - 1] == '\n') {
    len--;
    if (len && buf[len - 1] == '\r')
      len--;
    buf[len] = '\0';
  }
  if (memchr(buf, '\0', len)) {
    st_secret_free(buf);
    return ref_error(r, "%s contains a NUL byte", path);
  }
  *out = buf;
  return 0;
}

/* The vault service named by xt-services.vault, checked; *out_path is its
 * `path`, `~` expanded. */
static int vault_path(const ref_ctx *r, const char **out_name, char *path,
                      size_t pathlen)
{
  const char *name = st_config_role(r->cfg, "vault", NULL);
  const st_service_cfg *v;
  const st_cfg_kv *kv;

  *out_name = name;
  if (!name)
    return ref_error(r, "$vault needs xt-services.vault to name a vault "
                        "service, and it is not set");
  v = st_config_service(r->cfg, name);
  if (!v)
    return ref_error(r, "xt-services.vault names service '%s', which is not "
                        "in external-services", name);
  if (!v->type || strcmp(v->type, "vault") != 0)
    return ref_error(r, "xt-services.vault names service '%s', which is of "
                        "type '%s', not 'vault'", name,
                     v->type ? v->type : "(none)");
  if (!v->provider && st_config_service_kv(v, "url"))
    /* XT's vault: one Azure Key Vault secret, xt-keys. */
    return ref_error(r, "vault '%s' is an Azure Key Vault, which xtstore "
                        "does not read: use $env:NAME, $file:PATH or a file "
                        "vault {type: vault, provider: file, path: F.json}",
                     name);
  if (!v->provider || strcmp(v->provider, "file") != 0)
    return ref_error(r, "vault '%s' has provider '%s'; only provider 'file' "
                        "is supported", name,
                     v->provider ? v->provider : "(none)");
  kv = st_config_service_kv(v, "path");
  if (!kv || !kv->value)
    return ref_error(r, "vault '%s' has no 'path'", name);
  if (st_config_is_reference(kv->value))
    return ref_error(r, "vault '%s': 'path' must be a file name, not a "
                        "reference", name);
  if (st_expand_home(kv->value, path, pathlen))
    return ref_error(r, "vault '%s': 'path' is too long, or needs HOME", name);
  return 0;
}

/* Wipe every string member of a vault object before jansson frees it
 * (jansson has no hook for that but a process-wide allocator). */
static void wipe_json(json_t *obj)
{
  const char *k;
  json_t *v;

  json_object_foreach(obj, k, v)
    if (json_is_string(v))
      explicit_bzero((char *)json_string_value(v), json_string_length(v));
}

static int resolve_vault(const ref_ctx *r, char **out)
{
  char path[PATH_MAX], *buf = NULL;
  const char *name;
  json_error_t jerr;
  json_t *root = NULL, *v;
  size_t len = 0;
  int fd = -1, rc;

  rc = vault_path(r, &name, path, sizeof(path));
  if (rc)
    goto out;
  rc = open_secret(r, "vault file", path, &fd);
  if (rc)
    goto out;
  if (st_cfg_read_fd(fd, ST_CFG_MAX_FILE, &buf, &len)) {
    rc = ref_error(r, "cannot read vault file %s: %s", path, strerror(errno));
    goto out;
  }
  root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
  /* jerr.text can quote the file ("near '...'"): give the position only. */
  if (!root) {
    rc = ref_error(r, "vault file %s: invalid JSON at line %d, column %d",
                   path, jerr.line, jerr.column);
    goto out;
  }
  if (!json_is_object(root)) {
    rc = ref_error(r, "vault file %s: expected a JSON object", path);
    goto out;
  }
  v = json_object_get(root, r->svc->name);
  if (!v) {
    rc = ref_error(r, "vault '%s' has no entry for service '%s'", name,
                   r->svc->name);
    goto out;
  }
  if (!json_is_string(v)) {
    rc = ref_error(r, "vault '%s': the entry for service '%s' is not a string",
                   name, r->svc->name);
    goto out;
  }
  *out = strdup(json_string_value(v));
  if (!*out)
    rc = ref_error(r, "out of memory");
out:
  if (json_is_object(root))
    wipe_json(root);
  json_decref(root);
  if (buf) {
    explicit_bzero(buf, len);
    free(buf);
  }
  if (fd >= 0)
    close(fd);
  return rc;
}

int st_config_resolve(const st_config *cfg, const st_service_cfg *svc,
                      const char *key, const char *raw, const st_cfg_pos *pos,
                      char **out, char *err, size_t errlen)
{
  const ref_ctx r = {cfg, svc, key, pos ? pos : &svc->pos, err, errlen};

  *out = NULL;
  if (!raw)
    return ref_error(&r, "the value is null");
  if (strncmp(raw, "$env:", 5) == 0)
    return resolve_env(&r, raw + 5, out);
  if (strncmp(raw, "$file:", 6) == 0)
    return resolve_file(&r, raw + 6, out);
  if (strcmp(raw, "$vault") == 0)
    return resolve_vault(&r, out);
  *out = strdup(raw);
  return *out ? 0 : ref_error(&r, "out of memory");
}
