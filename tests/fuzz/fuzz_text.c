/*
** fuzz_text.c -- the SDK's small text decoders on any bytes: URL
** decoding (names from listings, with and without '+' as space, NUL
** detection), base64, hex, the CRC-32C header form, HTTP and ISO 8601
** times, and control-byte cleaning.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sdk_buf.h"
#include "sdk_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  sdk_buf b = SDK_BUF_INIT;
  char *s = malloc(size + 1);
  unsigned char raw[16];
  uint32_t crc;

  if (!s)
    return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  (void)sdk_uri_decode_name(&b, (const char *)data, size, 0);
  sdk_buf_reset(&b);
  (void)sdk_uri_decode(&b, (const char *)data, size, 1);
  sdk_buf_reset(&b);
  (void)sdk_base64_decode(&b, (const char *)data, size);
  (void)sdk_unhex(s, raw, sizeof(raw));
  (void)sdk_crc32c_parse(s, &crc);
  (void)sdk_time_parse_http(s);
  (void)sdk_time_parse_iso8601(s);
  (void)sdk_text_clean(s);
  sdk_buf_free(&b);
  free(s);
  return 0;
}
