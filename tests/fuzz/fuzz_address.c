/*
** fuzz_address.c -- the address parser (SERVICE:CONTAINER/KEY, local
** paths, '-') on any text.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xtstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = malloc(size + 1);
  xtstore_addr a;
  store_error err;

  if (!text)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  memset(&err, 0, sizeof(err));
  err.struct_size = sizeof(err);
  memset(&a, 0, sizeof(a));
  if (xtstore_addr_parse(text, &a, &err) == STORE_OK)
    xtstore_addr_free(&a);
  free(text);
  return 0;
}
