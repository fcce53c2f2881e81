/*
** error.c -- filling and normalising store_error on the host side.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core.h"

void st_err_reset(store_error *err)
{
  if (!err)
    return;
  memset(err, 0, sizeof(*err));
  err->struct_size = sizeof(*err);
}

int st_err(store_error *err, int32_t code, const char *fmt, ...)
{
  va_list ap;
  if (!err)
    return code;
  st_err_reset(err);
  err->code = code;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof(err->message), fmt, ap);
  va_end(ap);
  return code;
}

void st_err_prefix_service(store_error *err, const char *service)
{
  char buf[STORE_ERR_MSG_SIZE];
  char prefix[96];
  size_t n;
  if (!err || !service)
    return;
  n = (size_t)snprintf(prefix, sizeof(prefix), "service '%s': ", service);
  if (n >= sizeof(prefix) || strncmp(err->message, prefix, n) == 0)
    return;
  /* Truncation is the contract: the message is cut, never overflowed. */
  if (snprintf(buf, sizeof(buf), "%s%s", prefix, err->message) < 0)
    return;
  memcpy(err->message, buf, sizeof(buf));
}
