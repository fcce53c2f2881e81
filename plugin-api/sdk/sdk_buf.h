/*
** sdk_buf.h -- a growable byte buffer, always NUL-terminated once used.
** Part of the xtstore plugin SDK (static library xtstore_sdk).
*/
#ifndef SDK_BUF_H
#define SDK_BUF_H

#include <stddef.h>

typedef struct sdk_buf {
  char *data;     /* NULL until the first append; then NUL-terminated */
  size_t len;
  size_t cap;
} sdk_buf;

#define SDK_BUF_INIT {NULL, 0, 0}

/* Each returns 0, or -1 when memory runs out (the buffer is unchanged). */
int sdk_buf_append(sdk_buf *b, const void *data, size_t len);
int sdk_buf_puts(sdk_buf *b, const char *s);
int sdk_buf_putc(sdk_buf *b, char c);
int sdk_buf_printf(sdk_buf *b, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));
/* Length back to 0, memory kept. */
void sdk_buf_reset(sdk_buf *b);
/* Length back to len when len < b->len (undo a partial append), memory
 * kept; otherwise nothing changes. */
void sdk_buf_truncate(sdk_buf *b, size_t len);
/* Free and zero. */
void sdk_buf_free(sdk_buf *b);
/* The contents as a C string ("" when empty). */
const char *sdk_buf_str(const sdk_buf *b);

#endif /* SDK_BUF_H */
