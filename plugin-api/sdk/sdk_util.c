/*
** sdk_util.c -- text encodings (percent-encoding, hex, base64) and the
** configuration lookups of sdk_util.h. Digests live in sdk_digest.c,
** times in sdk_time.c.
*/
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "sdk_util.h"

static const char hex_upper[] = "0123456789ABCDEF";
static const char hex_lower[] = "0123456789abcdef";

/* RFC 3986 section 2.3. */
static int is_unreserved(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

static int hex_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int sdk_uri_encode(sdk_buf *out, const char *s, size_t len, int keep_slash)
{
  size_t start = out->len, i = 0, run;
  char esc[3];

  while (i < len) {
    /* Copy the longest run that needs no escaping in one append. */
    for (run = i; run < len; run++) {
      unsigned char c = (unsigned char)s[run];
      if (!is_unreserved(c) && !(keep_slash && c == '/'))
        break;
    }
    if (run > i && sdk_buf_append(out, s + i, run - i))
      goto fail;
    i = run;
    if (i == len)
      break;
    esc[0] = '%';
    esc[1] = hex_upper[(unsigned char)s[i] >> 4];
    esc[2] = hex_upper[(unsigned char)s[i] & 15];
    if (sdk_buf_append(out, esc, 3))
      goto fail;
    i++;
  }
  return 0;
fail:
  sdk_buf_truncate(out, start);
  return -1;
}

int sdk_uri_decode_name(sdk_buf *out, const char *s, size_t len,
                        int plus_is_space)
{
  size_t start = out->len;

  if (sdk_uri_decode(out, s, len, plus_is_space))
    return -1;
  return memchr(out->data ? out->data + start : "", '\0', out->len - start)
           ? 1 : 0;
}

int sdk_uri_decode(sdk_buf *out, const char *s, size_t len, int plus_is_space)
{
  size_t start = out->len, i = 0, run;
  int hi, lo;
  char c;

  while (i < len) {
    for (run = i; run < len; run++)
      if (s[run] == '%' || (plus_is_space && s[run] == '+'))
        break;
    if (run > i && sdk_buf_append(out, s + i, run - i))
      goto fail;
    i = run;
    if (i == len)
      break;
    if (s[i] == '+') {
      c = ' ';
      i++;
    } else {
      if (len - i < 3)
        goto fail;
      hi = hex_value(s[i + 1]);
      lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0)
        goto fail;
      c = (char)(hi << 4 | lo);
      i += 3;
    }
    if (sdk_buf_putc(out, c))
      goto fail;
  }
  return 0;
fail:
  sdk_buf_truncate(out, start);
  return -1;
}

void sdk_hex(const void *data, size_t len, char *out)
{
  const unsigned char *p = data;
  size_t i;

  for (i = 0; i < len; i++) {
    out[2 * i] = hex_lower[p[i] >> 4];
    out[2 * i + 1] = hex_lower[p[i] & 15];
  }
  out[2 * len] = '\0';
}

int sdk_unhex(const char *hex, void *out, size_t len)
{
  unsigned char *o = out;
  size_t i;

  if (!hex || strlen(hex) != 2 * len)
    return -1;
  for (i = 0; i < 2 * len; i++)
    if (hex_value(hex[i]) < 0)
      return -1;
  for (i = 0; i < len; i++)
    o[i] = (unsigned char)(hex_value(hex[2 * i]) << 4 |
                           hex_value(hex[2 * i + 1]));
  return 0;
}

/* Input per EVP_EncodeBlock call: a multiple of 3, so the pieces
 * concatenate without inner padding. Decoding mirrors it with 4/3. */
#define B64_IN_CHUNK 768
#define B64_OUT_CHUNK (B64_IN_CHUNK / 3 * 4)

int sdk_base64_encode(sdk_buf *out, const void *data, size_t len)
{
  const unsigned char *p = data;
  unsigned char tmp[B64_OUT_CHUNK + 1];
  size_t start = out->len, n;
  int m;

  while (len) {
    n = len < B64_IN_CHUNK ? len : B64_IN_CHUNK;
    m = EVP_EncodeBlock(tmp, p, (int)n);
    if (sdk_buf_append(out, tmp, (size_t)m)) {
      sdk_buf_truncate(out, start);
      return -1;
    }
    p += n;
    len -= n;
  }
  return 0;
}

static int is_b64_char(char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/*
** Strict: a multiple of 4 characters from the standard alphabet, with at
** most two '=' and only at the very end. No whitespace, no URL alphabet,
** no missing padding. EVP_DecodeBlock is laxer (it skips whitespace and
** keeps the padding's zero bytes), so the input is checked first.
*/
int sdk_base64_decode(sdk_buf *out, const char *s, size_t len)
{
  unsigned char tmp[B64_IN_CHUNK];
  size_t start = out->len, pad = 0, i, n;
  int m;

  if (len % 4)
    return -1;
  while (pad < 2 && pad < len && s[len - 1 - pad] == '=')
    pad++;
  for (i = 0; i < len - pad; i++)
    if (!is_b64_char(s[i]))
      return -1;
  for (i = 0; i < len; i += n) {
    n = len - i < B64_OUT_CHUNK ? len - i : B64_OUT_CHUNK;
    m = EVP_DecodeBlock(tmp, (const unsigned char *)s + i, (int)n);
    if (m < 0)
      goto fail;
    if (i + n == len)
      m -= (int)pad;
    if (sdk_buf_append(out, tmp, (size_t)m))
      goto fail;
  }
  return 0;
fail:
  sdk_buf_truncate(out, start);
  return -1;
}

const char *sdk_kv_get(const store_kv *kv, size_t n, const char *key)
{
  size_t i;

  for (i = 0; kv && key && i < n; i++)
    if (kv[i].key && !strcmp(kv[i].key, key))
      return kv[i].value;
  return NULL;
}

int sdk_parse_bool(const char *s)
{
  static const char *const yes[] = {"true", "yes", "1", "on"};
  static const char *const no[] = {"false", "no", "0", "off"};
  size_t i;

  if (!s)
    return -1;
  for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
    if (!strcasecmp(s, yes[i]))
      return 1;
    if (!strcasecmp(s, no[i]))
      return 0;
  }
  return -1;
}

char *sdk_text_clean(char *s)
{
  for (char *p = s; p && *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      *p = '?';
  return s;
}
