/*
** mem_src.h -- a store_read_fn over a string in memory, for the programs
** of tests/plugin-api/abi (header-only: each is one source file).
*/
#ifndef ABI_MEM_SRC_H
#define ABI_MEM_SRC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct mem_src {
  const char *data;
  size_t len, off;
};

static inline int32_t mem_read(void *ctx, void *buf, size_t cap,
                               size_t *out_n)
{
  struct mem_src *s = ctx;
  size_t n = s->len - s->off < cap ? s->len - s->off : cap;

  memcpy(buf, s->data + s->off, n);
  s->off += n;
  *out_n = n;
  return 0;
}

#endif /* ABI_MEM_SRC_H */
