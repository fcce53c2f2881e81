/*
** end.c -- one end of a tree workflow: a service prefix or a
** local directory, and the names of its objects. Objects are named
** relative to the prefix's "directory" (up to its last '/') so that a
** source's names carry over to any target whatever the prefixes.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workflow.h"

static char *join(const char *a, const char *b, const char *c)
{
  size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
  char *s = malloc(la + lb + lc + 1);
  if (!s)
    return NULL;
  memcpy(s, a, la);
  memcpy(s + la, b, lb);
  memcpy(s + la + lb, c, lc + 1);
  return s;
}

int st_wf_end_init(st_wf_end *e, const xtstore_tree *t, const char *stem,
                   store_error *err)
{
  const char *prefix, *slash;
  size_t dirlen;
  int rc;

  memset(e, 0, sizeof(*e));
  if (!t || t->struct_size < sizeof(*t))
    return st_err(err, STORE_E_INVALID, "no tree given");
  if (t->svc) {
    rc = st_check_container(t->svc, t->container, err);
    if (rc)
      return rc;
    prefix = t->prefix ? t->prefix : "";
    slash = strrchr(prefix, '/');
    dirlen = slash ? (size_t)(slash - prefix) + 1 : 0;
    e->svc = t->svc;
    e->container = t->container;
    e->dir = strndup(prefix, dirlen);
    e->stem = strdup(stem ? stem : prefix + dirlen);
  } else {
    if (!t->path || !t->path[0])
      return st_err(err, STORE_E_INVALID, "no local directory given");
    dirlen = strlen(t->path);
    e->dir = join(t->path, t->path[dirlen - 1] == '/' ? "" : "/", "");
    e->stem = strdup(stem ? stem : "");
  }
  if (e->dir && e->stem)
    return STORE_OK;
  st_wf_end_free(e);
  return st_err(err, STORE_E_NOMEM, "out of memory");
}

void st_wf_end_free(st_wf_end *e)
{
  free(e->dir);
  free(e->stem);
  memset(e, 0, sizeof(*e));
}

char *st_wf_end_path(const st_wf_end *e, const char *name)
{
  return join(e->dir, name, "");
}

char *st_wf_end_display(const st_wf_end *e, const char *name)
{
  size_t n;
  char *s;
  if (!e->svc)
    return st_wf_end_path(e, name);
  n = strlen(e->svc->name) + strlen(e->container) + strlen(e->dir) +
      strlen(name) + 3;
  s = malloc(n);
  if (s)
    snprintf(s, n, "%s:%s/%s%s", e->svc->name, e->container, e->dir, name);
  return s;
}

int st_wf_name_is_safe(const char *name)
{
  const char *seg = name, *end;
  size_t len;
  for (;;) {
    end = strchr(seg, '/');
    len = end ? (size_t)(end - seg) : strlen(seg);
    /* An empty last segment is the trailing '/' of a directory name. */
    if (len == 0 && !(end == NULL && seg != name))
      return 0;
    if ((len == 1 && seg[0] == '.') ||
        (len == 2 && seg[0] == '.' && seg[1] == '.'))
      return 0;
    if (!end)
      return 1;
    seg = end + 1;
  }
}
