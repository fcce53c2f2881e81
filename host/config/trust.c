/*
** trust.c -- which configuration layers are believed.
**
** The layers read without being named (/etc, the user's, ./xt_config.yaml)
** must belong to the user (or root) and be writable by nobody else, as git
** asks of safe.directory: another user's file could make xtstore run code
** or send credentials as this user. The current directory's layer is XT's
** habit and is read, but a repository or tarball one `cd`s into must not
** take over: unless the user trusts it (--trust-cwd-config, or
** `trust-cwd-config: true` in /etc's or the user's layer), it cannot load
** code (plugin-path, provider files), point a service at a server
** (endpoint, or a new provider for an existing service), or pull secrets
** in ($file:, $env:, $vault).
*/
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

int st_cfg_check_owner(int fd, const char *path, char *err, size_t errlen)
{
  st_cfg_pos where = {path, 0, 0};
  struct stat sb;
  uid_t me = geteuid();

  if (fstat(fd, &sb) != 0)
    return st_cfg_error(err, errlen, &where, "cannot stat");
  if (sb.st_uid != me && sb.st_uid != 0)
    return st_cfg_error(err, errlen, &where, "refused: owned by uid %u, not "
                        "by you (uid %u) or root, so another user could "
                        "change it (chown it, or name it with --config)",
                        (unsigned)sb.st_uid, (unsigned)me);
  if (sb.st_mode & (S_IWGRP | S_IWOTH))
    return st_cfg_error(err, errlen, &where, "refused: writable by %s "
                        "(mode %04o), so another user could change it "
                        "(chmod go-w it)",
                        (sb.st_mode & S_IWOTH) ? "everyone" : "its group",
                        (unsigned)(sb.st_mode & 07777));
  return 0;
}

int st_cfg_trusts_cwd(const st_cfg_node *root)
{
  const st_cfg_entry *e = st_cfg_get(root, "trust-cwd-config");

  if (!e || e->val->kind != ST_CFG_SCALAR)
    return 0;
  return strcmp(e->val->str, "true") == 0 || strcmp(e->val->str, "yes") == 0;
}

typedef struct trust_ctx {
  const char *hint;
  char *err;
  size_t errlen;
} trust_ctx;

static int refuse(const trust_ctx *t, const st_cfg_pos *pos, const char *what,
                  const char *why)
{
  return st_cfg_error(t->err, t->errlen, pos, "%s: refused from an untrusted "
                      "./xt_config.yaml (%s); %s", what, why, t->hint);
}

/* Scalars of node (any depth) that reference a secret. `path` names node
 * for the message. */
static int check_refs(const trust_ctx *t, const st_cfg_node *node,
                      const char *path)
{
  char sub[256];
  size_t i;

  if (node->kind == ST_CFG_SCALAR) {
    if (strncmp(node->str, "$file:", 6) == 0 ||
        strncmp(node->str, "$env:", 5) == 0 || strcmp(node->str, "$vault") == 0)
      return refuse(t, &node->pos, path, "could send your secrets "
                    "elsewhere");
    return 0;
  }
  for (i = 0; i < node->n; i++) {
    const st_cfg_entry *e = &node->items[i];
    if (e->key)
      snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", e->key);
    else
      snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
    if (check_refs(t, e->val, sub))
      return -1;
  }
  return 0;
}

/* The scalar of map[key] or NULL. */
static const char *scalar(const st_cfg_node *map, const char *key)
{
  const st_cfg_entry *e = st_cfg_get(map, key);

  return e && e->val->kind == ST_CFG_SCALAR ? e->val->str : NULL;
}

static int check_providers(const trust_ctx *t, const st_cfg_node *base,
                           const st_cfg_node *layer)
{
  const st_cfg_entry *bsec = st_cfg_get(base, "providers");
  const st_cfg_entry *lsec = st_cfg_get(layer, "providers");
  char what[256];
  size_t i, j;

  if (!lsec || lsec->val->kind != ST_CFG_MAP)
    return 0;
  for (i = 0; i < lsec->val->n; i++) {
    const st_cfg_entry *cat = &lsec->val->items[i];
    const st_cfg_entry *bcat = bsec ? st_cfg_get(bsec->val, cat->key) : NULL;
    if (cat->val->kind != ST_CFG_MAP)
      continue;
    for (j = 0; j < cat->val->n; j++) {
      const st_cfg_entry *p = &cat->val->items[j];
      const char *was = bcat ? scalar(bcat->val, p->key) : NULL;
      const char *now = p->val->kind == ST_CFG_SCALAR ? p->val->str : NULL;
      if (now && !strchr(now, '/') && (!was || strcmp(was, now) == 0))
        continue; /* a new provider name, found on the trusted path */
      snprintf(what, sizeof(what), "providers.%s.%s", cat->key, p->key);
      return refuse(t, &p->val->pos, what, "could load code");
    }
  }
  return 0;
}

static int check_services(const trust_ctx *t, const st_cfg_node *base,
                          const st_cfg_node *layer)
{
  const st_cfg_entry *bsec = st_cfg_get(base, "external-services");
  const st_cfg_entry *lsec = st_cfg_get(layer, "external-services");
  const st_cfg_entry *e;
  char what[256];
  size_t i;

  if (!lsec || lsec->val->kind != ST_CFG_MAP)
    return 0;
  for (i = 0; i < lsec->val->n; i++) {
    const st_cfg_entry *svc = &lsec->val->items[i];
    const st_cfg_entry *bsvc = bsec ? st_cfg_get(bsec->val, svc->key) : NULL;
    const st_cfg_node *was = bsvc ? bsvc->val : NULL;
    const char *prev;
    if (svc->val->kind != ST_CFG_MAP)
      continue;
    /* Any endpoint: even a new service would carry the user's ambient
     * credentials (a gcloud token, AWS variables) to it. */
    e = st_cfg_get(svc->val, "endpoint");
    prev = was ? scalar(was, "endpoint") : NULL;
    if (e && !(e->val->kind == ST_CFG_SCALAR && prev &&
               strcmp(prev, e->val->str) == 0)) {
      snprintf(what, sizeof(what), "external-services.%s.endpoint", svc->key);
      return refuse(t, &e->val->pos, what, "could send credentials "
                    "elsewhere");
    }
    e = st_cfg_get(svc->val, "provider");
    prev = was ? scalar(was, "provider") : NULL;
    if (e && prev && !(e->val->kind == ST_CFG_SCALAR &&
                       strcmp(prev, e->val->str) == 0)) {
      snprintf(what, sizeof(what), "external-services.%s.provider", svc->key);
      return refuse(t, &e->val->pos, what, "could send credentials "
                    "elsewhere");
    }
  }
  return 0;
}

int st_cfg_check_untrusted(const st_cfg_node *base, const st_cfg_node *layer,
                           const char *hint, char *err, size_t errlen)
{
  trust_ctx t = {hint, err, errlen};
  const st_cfg_entry *e;

  if (!layer || layer->kind != ST_CFG_MAP)
    return 0;
  e = st_cfg_get(layer, "plugin-path");
  if (e && e->val->kind != ST_CFG_NULL)
    return refuse(&t, &e->val->pos, "plugin-path", "could load code");
  if (check_providers(&t, base, layer) || check_services(&t, base, layer))
    return -1;
  return check_refs(&t, layer, "");
}
