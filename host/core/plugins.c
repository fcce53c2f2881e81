/*
** plugins.c -- plugin introspection for users: list the configured
** providers, check one file, install one file as a user plugin.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"

const char *xtstore_capability_name(uint64_t bit)
{
  return st_capability_name(bit);
}

static void fill_info(xtstore_plugin_info *info, const st_module *m)
{
  info->abi_major = m->iface.abi_major;
  info->abi_minor = m->iface.abi_minor;
  info->path = m->path;
  info->name = m->iface.name;
  info->version = m->iface.version;
  info->description = m->iface.description;
  info->capabilities = m->iface.capabilities;
  info->config_keys = m->iface.config_keys;
  info->limits = m->iface.limits;
}

int xtstore_plugins_foreach(xtstore_ctx *ctx, xtstore_plugin_fn fn, void *ud,
                            store_error *err)
{
  const char *name, *spec;
  size_t i;

  st_err_reset(err);
  for (i = 0; st_config_provider_at(ctx->cfg, "storage", i, &name, &spec,
                                    NULL);
       i++) {
    xtstore_plugin_info info;
    const st_module *m = NULL;
    char msg[STORE_ERR_MSG_SIZE], path[4096];

    const char *load;
    int python;

    memset(&info, 0, sizeof(info));
    info.struct_size = sizeof(info);
    info.provider = name;
    info.spec = spec;
    msg[0] = '\0';
    /* XT's own entries (class paths) stand for the native plugins. */
    load = st_xt_plugin_spec(name, spec, &python);
    if (python) {
      snprintf(msg, sizeof(msg), "a Python class; xtstore loads shared "
               "objects: build or install a plugin");
      info.error = msg;
    } else if (st_registry_load(ctx->reg, load, &m, msg, sizeof(msg))) {
      info.error = msg;
      if (st_registry_resolve(ctx->reg, load, path, sizeof(path), NULL, 0) == 0)
        info.path = path;
    } else {
      fill_info(&info, m);
    }
    if (fn(ud, &info))
      return st_err(err, STORE_E_ABORTED, "listing plugins stopped");
  }
  return STORE_OK;
}

int xtstore_plugin_check(xtstore_ctx *ctx, const char *path,
                         xtstore_plugin_fn fn, void *ud, store_error *err)
{
  xtstore_plugin_info info;
  st_module *m = NULL;
  char msg[STORE_ERR_MSG_SIZE];
  int rc = STORE_OK;

  (void)ctx;
  st_err_reset(err);
  if (access(path, F_OK) != 0)
    return st_err(err, STORE_E_NOT_FOUND, "plugin %s: not found", path);
  msg[0] = '\0';
  if (st_module_load(path, &m, msg, sizeof(msg)))
    return st_err(err, STORE_E_INVALID, "%s", msg);
  memset(&info, 0, sizeof(info));
  info.struct_size = sizeof(info);
  info.spec = path;
  fill_info(&info, m);
  if (fn && fn(ud, &info))
    rc = st_err(err, STORE_E_ABORTED, "plugin check stopped");
  st_module_free(m);
  return rc;
}

/* Copy src to dst through a temp file and rename, so a half-copied plugin
 * is never on the search path. */
static int copy_file(const char *src, const char *dst, store_error *err)
{
  char tmp[4200], buf[65536];
  int in = -1, out = -1, rc = STORE_OK;
  ssize_t n;

  if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", dst) >= sizeof(tmp))
    return st_err(err, STORE_E_INVALID, "path too long: '%s'", dst);
  in = open(src, O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return st_err(err, STORE_E_IO, "plugin '%s': %s", src, strerror(errno));
  out = mkstemp(tmp);
  if (out < 0) {
    rc = st_err(err, STORE_E_IO, "cannot write '%s': %s", tmp, strerror(errno));
    tmp[0] = '\0';
    goto out;
  }
  while ((n = read(in, buf, sizeof(buf))) > 0)
    if (write(out, buf, (size_t)n) != n) {
      rc = st_err(err, STORE_E_IO, "cannot write '%s': %s", tmp,
                  strerror(errno));
      goto out;
    }
  if (n < 0 || fchmod(out, 0755) != 0 || fsync(out) != 0) {
    rc = st_err(err, STORE_E_IO, "cannot copy '%s': %s", src, strerror(errno));
    goto out;
  }
  close(out);
  out = -1;
  if (rename(tmp, dst) != 0) {
    rc = st_err(err, STORE_E_IO, "cannot install '%s': %s", dst,
                strerror(errno));
    goto out;
  }
  tmp[0] = '\0';
out:
  if (in >= 0)
    close(in);
  if (out >= 0)
    close(out);
  if (tmp[0])
    unlink(tmp);
  return rc;
}

/* mkdir -p */
static int make_dirs(const char *dir, store_error *err)
{
  char buf[4096];
  char *p;
  snprintf(buf, sizeof(buf), "%s", dir);
  for (p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return st_err(err, STORE_E_IO, "cannot create '%s': %s", buf,
                      strerror(errno));
      *p = c;
      if (!c)
        break;
    }
  }
  return STORE_OK;
}

int xtstore_plugin_install(xtstore_ctx *ctx, const char *path, uint32_t flags,
                           char *out_dest, size_t cap, store_error *err)
{
  st_module *m = NULL;
  char msg[STORE_ERR_MSG_SIZE], dir[4096], dest[4200], spec[128],
       cfgpath[4096];
  int rc;

  st_err_reset(err);
  if (cap)
    out_dest[0] = '\0';
  msg[0] = '\0';
  if (st_module_load(path, &m, msg, sizeof(msg)))
    return st_err(err, STORE_E_INVALID, "%s", msg);
  if (st_registry_user_dir(dir, sizeof(dir)) ||
      st_config_user_path(cfgpath, sizeof(cfgpath))) {
    rc = st_err(err, STORE_E_CONFIG, "cannot find the user directories "
                                     "(HOME unset?)");
    goto out;
  }
  rc = make_dirs(dir, err);
  if (rc)
    goto out;
  {
    st_cfg_pos pos;
    const char *have = st_config_provider(ctx->cfg, "storage", m->iface.name,
                                          &pos);
    if (have && !(flags & XTSTORE_INSTALL_REPLACE)) {
      rc = st_err(err, STORE_E_EXISTS,
                  "plugin %s: provider '%s' already exists (\"%s\", %s%s%d); "
                  "installing would take over its services", path,
                  m->iface.name, have, pos.file ? pos.file : "",
                  pos.file ? ":" : "", pos.line);
      goto out;
    }
  }
  snprintf(spec, sizeof(spec), "store-%s", m->iface.name);
  if ((size_t)snprintf(dest, sizeof(dest), "%s/%s.so", dir, spec) >=
      sizeof(dest)) {
    rc = st_err(err, STORE_E_INVALID, "user plugin directory path too long");
    goto out;
  }
  if (!(flags & XTSTORE_INSTALL_REPLACE) && access(dest, F_OK) == 0) {
    rc = st_err(err, STORE_E_EXISTS, "plugin %s: '%s' is already installed",
                path, dest);
    goto out;
  }
  rc = copy_file(path, dest, err);
  if (rc)
    goto out;
  msg[0] = '\0';
  if (st_config_add_provider(cfgpath, "storage", m->iface.name, spec, msg,
                             sizeof(msg))) {
    rc = st_err(err, STORE_E_CONFIG, "%s", msg);
    goto out;
  }
  if (cap)
    snprintf(out_dest, cap, "%s", dest);
out:
  st_module_free(m);
  return rc;
}
