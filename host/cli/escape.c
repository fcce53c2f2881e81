/*
** escape.c -- names and text from a remote, made safe for a terminal.
** A key, metadata value or message may hold ESC, CR, LF or other control
** characters that would move the cursor, fake lines or run terminal
** escape sequences; text output shows each as \xNN instead. (JSON output
** is escaped by jansson.)
*/
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define ESC_SLOTS 4
#define ESC_SIZE 8192

/* Does the byte at p start a control character: C0, DEL, or a C1 control
 * (U+0080..U+009F, UTF-8 C2 80..C2 9F)? *len is its length in bytes. */
static int is_control(const unsigned char *p, size_t *len)
{
  *len = 1;
  if (*p < 0x20 || *p == 0x7f)
    return 1;
  if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
    *len = 2;
    return 1;
  }
  return 0;
}

const char *cli_safe(const char *s)
{
  static _Thread_local char bufs[ESC_SLOTS][ESC_SIZE];
  static _Thread_local unsigned next;
  const unsigned char *p;
  char *out;
  size_t n = 0, len, i;

  if (!s)
    return s;
  for (p = (const unsigned char *)s; *p; p += len)
    if (is_control(p, &len))
      break;
  if (!*p)
    return s; /* nothing to escape: the common case, no copy */
  out = bufs[next++ % ESC_SLOTS];
  for (p = (const unsigned char *)s; *p && n + 9 < ESC_SIZE; p += len) {
    if (!is_control(p, &len)) {
      out[n++] = (char)*p;
      continue;
    }
    for (i = 0; i < len; i++)
      n += (size_t)snprintf(out + n, ESC_SIZE - n, "\\x%02x", p[i]);
  }
  if (*p) /* cut: say so rather than end mid-name silently */
    memcpy(out + (n < ESC_SIZE - 4 ? n : ESC_SIZE - 4), "...", 4);
  else
    out[n] = '\0';
  return out;
}
