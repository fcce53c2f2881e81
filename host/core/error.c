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

/* The longest '...'-quoted span of s: *start at its first byte inside
 * the quotes, its length returned (0: none). */
static size_t longest_quoted(const char *s, const char **start)
{
  const char *p = s, *q, *end;
  size_t best = 0;

  while ((q = strchr(p, '\'')) != NULL && (end = strchr(q + 1, '\'')) != NULL) {
    if ((size_t)(end - q - 1) > best) {
      best = (size_t)(end - q - 1);
      *start = q + 1;
    }
    p = end + 1;
  }
  return best;
}

void st_fit_message(char *dst, size_t size, const char *src)
{
  char buf[4096], *at;
  const char *name = NULL;
  size_t len, n, keep, head, tail;

  snprintf(buf, sizeof(buf), "%s", src);
  /* Too long: the middle of the longest quoted name goes first, so that
   * what follows it (the cause) stays. */
  while ((len = strlen(buf)) >= size &&
         (n = longest_quoted(buf, &name)) > 40) {
    size_t cut = len - size + 1 + 3;          /* room for "..." */
    keep = n > cut + 32 ? n - cut : 32;       /* at least 16 + 16 kept */
    if (keep >= n)
      break;
    head = keep / 2;
    tail = keep - head;
    at = buf + (name - buf);
    memmove(at + head + 3, at + n - tail, strlen(at + n - tail) + 1);
    memcpy(at + head, "...", 3);
  }
  snprintf(dst, size, "%s", buf);
}

int st_err(store_error *err, int32_t code, const char *fmt, ...)
{
  char msg[4096];
  va_list ap;
  if (!err)
    return code;
  st_err_reset(err);
  err->code = code;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  st_fit_message(err->message, sizeof(err->message), msg);
  return code;
}

void st_err_prefix_service(store_error *err, const char *service)
{
  char whole[STORE_ERR_MSG_SIZE + 96];
  char prefix[96];
  size_t n;
  if (!err || !service)
    return;
  n = (size_t)snprintf(prefix, sizeof(prefix), "service '%s': ", service);
  if (n >= sizeof(prefix) || strncmp(err->message, prefix, n) == 0)
    return;
  snprintf(whole, sizeof(whole), "%s%s", prefix, err->message);
  st_fit_message(err->message, sizeof(err->message), whole);
}
