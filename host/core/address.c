/*
** address.c -- SERVICE:CONTAINER/KEY addresses, and bare local paths.
*/
#include <stdlib.h>
#include <string.h>

#include "core.h"

static int service_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

/* Copy [s, s+n) into a new string; NULL on allocation failure. */
static char *dup_n(const char *s, size_t n)
{
  return strndup(s, n);
}

void xtstore_addr_free(xtstore_addr *a)
{
  if (!a)
    return;
  free(a->service);
  free(a->container);
  free(a->key);
  free(a->path);
  memset(a, 0, sizeof(*a));
}

int xtstore_addr_parse(const char *text, xtstore_addr *out, store_error *err)
{
  const char *colon, *p, *slash;
  int rc = STORE_OK;

  memset(out, 0, sizeof(*out));
  st_err_reset(err);
  if (!text || !text[0])
    return st_err(err, STORE_E_INVALID, "empty address");
  colon = strchr(text, ':');
  for (p = text; colon && p < colon; p++)
    if (!service_char(*p))
      colon = NULL;
  if (!colon) {
    out->kind = XTSTORE_ADDR_LOCAL;
    out->path = strdup(text);
    return out->path ? STORE_OK : st_err(err, STORE_E_NOMEM, "out of memory");
  }
  out->kind = XTSTORE_ADDR_REMOTE;
  if (colon > text && !(out->service = dup_n(text, (size_t)(colon - text))))
    goto nomem;
  p = colon + 1;
  if (!*p)
    return STORE_OK;
  if (*p == '/') {
    rc = st_err(err, STORE_E_INVALID,
                "address '%s': no container before '/' (use SERVICE:CONTAINER/KEY)",
                text);
    goto fail;
  }
  slash = strchr(p, '/');
  if (!slash) {
    if (!(out->container = strdup(p)))
      goto nomem;
    return STORE_OK;
  }
  if (!(out->container = dup_n(p, (size_t)(slash - p))))
    goto nomem;
  if (slash[1] && !(out->key = strdup(slash + 1)))
    goto nomem;
  return STORE_OK;
nomem:
  rc = st_err(err, STORE_E_NOMEM, "out of memory");
fail:
  xtstore_addr_free(out);
  return rc;
}
