/*
** sdk_buf.c -- the growable byte buffer of sdk_buf.h.
**
** Capacity doubles (from 64), so appending n bytes one at a time costs
** O(n). A failed append leaves the buffer exactly as it was.
*/
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdk_buf.h"

#define SDK_BUF_MIN_CAP 64

/* Make room for `add` more bytes plus the NUL. 0 or -1. */
static int buf_grow(sdk_buf *b, size_t add)
{
  size_t need, cap;
  char *p;

  if (add > SIZE_MAX - b->len - 1)
    return -1;
  need = b->len + add + 1;
  if (need <= b->cap)
    return 0;
  cap = b->cap ? b->cap : SDK_BUF_MIN_CAP;
  while (cap < need)
    cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  p = realloc(b->data, cap);
  if (!p)
    return -1;
  b->data = p;
  b->cap = cap;
  return 0;
}

int sdk_buf_append(sdk_buf *b, const void *data, size_t len)
{
  if (buf_grow(b, len))
    return -1;
  if (len)
    memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
  return 0;
}

int sdk_buf_puts(sdk_buf *b, const char *s)
{
  return sdk_buf_append(b, s, strlen(s));
}

int sdk_buf_putc(sdk_buf *b, char c)
{
  return sdk_buf_append(b, &c, 1);
}

int sdk_buf_printf(sdk_buf *b, const char *fmt, ...)
{
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || buf_grow(b, (size_t)n))
    return -1;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return 0;
}

void sdk_buf_reset(sdk_buf *b)
{
  sdk_buf_truncate(b, 0);
}

void sdk_buf_truncate(sdk_buf *b, size_t len)
{
  if (len >= b->len)
    return;
  b->len = len;
  b->data[len] = '\0';
}

void sdk_buf_free(sdk_buf *b)
{
  free(b->data);
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

const char *sdk_buf_str(const sdk_buf *b)
{
  return b->data ? b->data : "";
}
