/*
** redact.c -- secrets that travel inside other text: the userinfo and the
** signature-bearing query fields of every URL in a message (an Azure SAS
** URL pasted as an endpoint, `user:pass@` in an S3 endpoint), and config
** key names that hold credentials when no plugin says which do.
*/
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core.h"

#define REDACTED "<redacted>"

/* Query fields whose value grants access (SAS, SigV4 and GCS V4 presigned
 * URLs, OAuth). Compared case-insensitively. */
static const char *const secret_fields[] = {
  "sig", "signature", "x-amz-signature", "x-amz-security-token",
  "x-goog-signature", "x-goog-credential", "token", "access_token",
  "password", "secret", "client_secret", "code", "key", NULL};

static int is_secret_field(const char *name, size_t len)
{
  size_t i;

  for (i = 0; secret_fields[i]; i++)
    if (strlen(secret_fields[i]) == len &&
        strncasecmp(secret_fields[i], name, len) == 0)
      return 1;
  return 0;
}

/* Where a URL that starts at p ends: at a blank, a quote, or the end,
 * less the punctuation of the sentence around it ("see URL."). */
static size_t url_len(const char *p)
{
  size_t n = 0;

  while (p[n] && !isspace((unsigned char)p[n]) && p[n] != '\'' &&
         p[n] != '"' && p[n] != '<' && p[n] != '>')
    n++;
  while (n && strchr(".,;:)", p[n - 1]))
    n--;
  return n;
}

/* Append s[0..n) to out (size out_size, at *used), cutting at the end. */
static void put(char *out, size_t out_size, size_t *used, const char *s,
                size_t n)
{
  if (*used + 1 >= out_size)
    return;
  if (n > out_size - 1 - *used)
    n = out_size - 1 - *used;
  memcpy(out + *used, s, n);
  *used += n;
  out[*used] = '\0';
}

/* Copy the URL url[0..n) into out with its secrets redacted. */
static void put_url(char *out, size_t out_size, size_t *used,
                    const char *url, size_t n)
{
  const char *sep = strstr(url, "://");
  const char *auth = sep + 3, *end = url + n, *p, *at = NULL, *q;

  for (p = auth; p < end && *p != '/' && *p != '?' && *p != '#'; p++)
    if (*p == '@')
      at = p;
  if (at) { /* user:pass@host */
    put(out, out_size, used, url, (size_t)(auth - url));
    put(out, out_size, used, REDACTED, strlen(REDACTED));
    url = at;
  }
  q = memchr(url, '?', (size_t)(end - url));
  if (!q) {
    put(out, out_size, used, url, (size_t)(end - url));
    return;
  }
  put(out, out_size, used, url, (size_t)(q + 1 - url));
  for (p = q + 1; p < end;) {
    const char *amp = memchr(p, '&', (size_t)(end - p));
    const char *fend = amp ? amp : end;
    const char *eq = memchr(p, '=', (size_t)(fend - p));
    if (eq && is_secret_field(p, (size_t)(eq - p))) {
      put(out, out_size, used, p, (size_t)(eq + 1 - p));
      put(out, out_size, used, REDACTED, strlen(REDACTED));
    } else {
      put(out, out_size, used, p, (size_t)(fend - p));
    }
    if (amp)
      put(out, out_size, used, "&", 1);
    p = amp ? amp + 1 : end;
  }
}

void st_redact_urls(char *msg, size_t size)
{
  char out[2048], *sep;
  const char *p = msg, *start;
  size_t used = 0, n;

  if (!msg || size == 0 || !strstr(msg, "://"))
    return;
  out[0] = '\0';
  while ((sep = strstr(p, "://")) != NULL) {
    start = sep;
    while (start > p && (isalnum((unsigned char)start[-1]) ||
                         start[-1] == '+' || start[-1] == '-' ||
                         start[-1] == '.'))
      start--;
    put(out, sizeof(out), &used, p, (size_t)(start - p));
    n = url_len(start);
    if (start == sep) { /* "://" with no scheme: not a URL */
      put(out, sizeof(out), &used, sep, 3);
      p = sep + 3;
      continue;
    }
    put_url(out, sizeof(out), &used, start, n);
    p = start + n;
  }
  put(out, sizeof(out), &used, p, strlen(p));
  snprintf(msg, size, "%s", out);
}

int st_key_looks_secret(const char *key)
{
  static const char *const words[] = {
    "key", "secret", "password", "passwd", "passphrase", "token", "sas",
    "connectionstring", "credential", "private", "auth", NULL};
  const char *base = strrchr(key, '.');
  char norm[128];
  size_t i, n = 0;

  /* connection-string, connection_string and ConnectionString alike. */
  for (base = base ? base + 1 : key; *base && n + 1 < sizeof(norm); base++)
    if (*base != '-' && *base != '_')
      norm[n++] = (char)tolower((unsigned char)*base);
  norm[n] = '\0';
  for (i = 0; words[i]; i++)
    if (strstr(norm, words[i]))
      return 1;
  return 0;
}
