/*
** local_error.c -- turn errno values into store_error reports.
*/
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "local.h"

/* The status code a failed system call means for a caller. */
static int32_t errno_code(int e)
{
  switch (e) {
  case ENOENT:
  case ENOTDIR:
    return STORE_E_NOT_FOUND;
  case EEXIST:
    return STORE_E_EXISTS;
  case EACCES:
  case EPERM:
  case EROFS:
    return STORE_E_PERMISSION;
  case ENOTEMPTY:
    return STORE_E_NOT_EMPTY;
  case ENOMEM:
    return STORE_E_NOMEM;
  case ENAMETOOLONG:
  case ELOOP:
  case EINVAL:
    return STORE_E_INVALID;
  case ENOTSUP:
    return STORE_E_UNSUPPORTED;
  default:
    return STORE_E_IO; /* ENOSPC, EIO, EDQUOT, EMFILE, ... */
  }
}

/* Fill err: the object's name as a prefix when o is given ("local: blob
 * 'c/k': " or "local: container 'c': "), the caller's text and, for an
 * errno failure, ": strerror". code 0 means "derive it from errno e"; e 0
 * means no errno. Returns the code. */
static int32_t report(store_error *err, int32_t code, int e, const lp_obj *o,
                      const char *fmt, va_list ap)
  __attribute__((format(printf, 5, 0)));
static int32_t report(store_error *err, int32_t code, int e, const lp_obj *o,
                      const char *fmt, va_list ap)
{
  char tmp[64];
  size_t cap = sizeof(err->message), used;
  int n = 0;

  if (!code)
    code = errno_code(e);
  if (!err)
    return code;
  err->message[0] = 0;
  if (o && o->key)
    n = snprintf(err->message, cap, "local: blob '%s/%s': ", o->container,
                 o->key);
  else if (o)
    n = snprintf(err->message, cap, "local: container '%s': ", o->container);
  used = n < 0 ? 0 : (size_t)n;
  err->code = code;
  if (used < cap)
    vsnprintf(err->message + used, cap - used, fmt, ap);
  if (e) {
    used = strlen(err->message);
    if (used < cap)
      snprintf(err->message + used, cap - used, ": %s",
               strerror_r(e, tmp, sizeof(tmp)));
    err->sys_errno = e;
    snprintf(err->provider_code, sizeof(err->provider_code), "%s",
             strerrorname_np(e) ? strerrorname_np(e) : "errno");
  }
  return code;
}

/* Fill err; see report(). */
int32_t lp_fail(store_error *err, int32_t code, int e, const char *fmt, ...)
{
  va_list ap;
  int32_t rc;

  va_start(ap, fmt);
  rc = report(err, code, e, NULL, fmt, ap);
  va_end(ap);
  return rc;
}

/* Like lp_fail, prefixed with the object's name. */
int32_t lp_obj_fail(const lp_obj *o, store_error *err, int32_t code, int e,
                    const char *fmt, ...)
{
  va_list ap;
  int32_t rc;

  va_start(ap, fmt);
  rc = report(err, code, e, o, fmt, ap);
  va_end(ap);
  return rc;
}

int32_t lp_check_single_link(const lp_obj *o, const struct stat *st,
                             const char *doing, store_error *err)
{
  if (st->st_nlink <= 1)
    return STORE_OK;
  return lp_obj_fail(o, err, STORE_E_PERMISSION, 0, "refused to %s it: the "
                     "file has %lu hard links, and another may be outside "
                     "the store", doing, (unsigned long)st->st_nlink);
}

/* Options structs start with struct_size; 0 is always a caller bug and
 * would silently drop every option, so refuse it. */
int32_t lp_check_opts(const void *opts, const char *what, store_error *err)
{
  uint32_t size;

  if (!opts)
    return STORE_OK;
  memcpy(&size, opts, sizeof(size));
  if (size == 0)
    return lp_fail(err, STORE_E_INVALID, 0,
                   "local: %s: struct_size is 0", what);
  return STORE_OK;
}
