/*
** sdk_ini.c -- the INI reader of sdk_ini.h (the format is described
** there): the file read whole (it is small), then parsed line by line
** into a flat list of (section, key, value).
*/
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sdk_buf.h"
#include "sdk_ini.h"

#define INI_MAX_BYTES (1u << 20) /* a credentials file is never this big */

typedef struct ini_entry {
  char *section;
  char *key;
  char *value;
} ini_entry;

struct sdk_ini {
  ini_entry *v;
  size_t n, cap;
};

void sdk_ini_free(sdk_ini *ini)
{
  if (!ini)
    return;
  for (size_t i = 0; i < ini->n; i++) {
    free(ini->v[i].section);
    free(ini->v[i].key);
    free(ini->v[i].value);
  }
  free(ini->v);
  free(ini);
}

/* s[0..len) without blanks at either end, as a new string. */
static char *trimmed(const char *s, size_t len)
{
  while (len && isspace((unsigned char)*s)) {
    s++;
    len--;
  }
  while (len && isspace((unsigned char)s[len - 1]))
    len--;
  return strndup(s, len);
}

static int add(sdk_ini *ini, const char *section, char *key, char *value)
{
  if (ini->n == ini->cap) {
    size_t cap = ini->cap ? 2 * ini->cap : 16;
    ini_entry *v = realloc(ini->v, cap * sizeof(*v));
    if (!v)
      goto fail;
    ini->v = v;
    ini->cap = cap;
  }
  ini->v[ini->n].section = strdup(section);
  if (!ini->v[ini->n].section)
    goto fail;
  ini->v[ini->n].key = key;
  ini->v[ini->n].value = value;
  ini->n++;
  return 0;
fail:
  free(key);
  free(value);
  return -1;
}

/* A section name with inner runs of blanks made one. */
static char *section_name(const char *s, size_t len)
{
  char *t = trimmed(s, len), *r, *w;

  if (!t)
    return NULL;
  for (r = w = t; *r; r++)
    if (!(isspace((unsigned char)*r) && w > t && w[-1] == ' '))
      *w++ = isspace((unsigned char)*r) ? ' ' : *r;
  *w = '\0';
  return t;
}

static int parse(sdk_ini *ini, const char *text)
{
  char *section = strdup(""), *parent = NULL;
  const char *line = text;
  int rc = -1;

  if (!section)
    return -1;
  while (*line) {
    size_t len = strcspn(line, "\n");
    const char *next = line[len] ? line + len + 1 : line + len;
    const char *p = line, *eq;
    int indented = len && (*line == ' ' || *line == '\t');

    while (p < line + len && isspace((unsigned char)*p))
      p++;
    if (p == line + len || *p == '#' || *p == ';') {
      /* blank or comment */
    } else if (*p == '[' && !indented) {
      const char *close = memchr(p, ']', (size_t)(line + len - p));
      free(section);
      section = close ? section_name(p + 1, (size_t)(close - p - 1))
                      : strdup("");
      free(parent);
      parent = NULL;
      if (!section)
        goto out;
    } else if ((eq = memchr(p, '=', (size_t)(line + len - p)))) {
      char *key = trimmed(p, (size_t)(eq - p));
      char *value = trimmed(eq + 1, (size_t)(line + len - eq - 1));
      if (!key || !value) {
        free(key);
        free(value);
        goto out;
      }
      if (indented && parent) {
        /* "parent.key" inside a nested block */
        char *full = malloc(strlen(parent) + strlen(key) + 2);
        if (!full) {
          free(key);
          free(value);
          goto out;
        }
        snprintf(full, strlen(parent) + strlen(key) + 2, "%s.%s", parent,
                 key);
        free(key);
        key = full;
      } else {
        free(parent);
        parent = *value ? NULL : strdup(key); /* "s3 =" opens a block */
      }
      if (add(ini, section, key, value))
        goto out;
    }
    /* anything else (a stray line) is ignored, as botocore does */
    line = next;
  }
  rc = 0;
out:
  free(section);
  free(parent);
  return rc;
}

/* 0 and *out set (NULL when the file does not exist), or -1 with errno
 * (unreadable, too big, no memory). */
int sdk_ini_load(const char *path, sdk_ini **out)
{
  FILE *f = fopen(path, "rb");
  sdk_buf text = SDK_BUF_INIT;
  char chunk[4096];
  sdk_ini *ini = NULL;
  size_t n;
  int rc = -1;

  *out = NULL;
  if (!f)
    return errno == ENOENT ? 0 : -1;
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
    if (text.len + n > INI_MAX_BYTES) {
      errno = EFBIG;
      goto out;
    }
    if (sdk_buf_append(&text, chunk, n)) {
      errno = ENOMEM;
      goto out;
    }
  }
  if (ferror(f)) {
    errno = EIO;
    goto out;
  }
  ini = calloc(1, sizeof(*ini));
  if (!ini || parse(ini, sdk_buf_str(&text))) {
    errno = ENOMEM;
    goto out;
  }
  *out = ini;
  ini = NULL;
  rc = 0;
out:
  fclose(f);
  sdk_ini_free(ini);
  sdk_buf_free(&text);
  return rc;
}

/* The value of key in section (the last one given), or NULL. */
const char *sdk_ini_get(const sdk_ini *ini, const char *section,
                       const char *key)
{
  const char *found = NULL;

  for (size_t i = 0; ini && i < ini->n; i++)
    if (!strcmp(ini->v[i].section, section) &&
        !strcasecmp(ini->v[i].key, key))
      found = ini->v[i].value;
  return found;
}

/* Non-zero when the section has at least one key. */
int sdk_ini_has_section(const sdk_ini *ini, const char *section)
{
  for (size_t i = 0; ini && i < ini->n; i++)
    if (!strcmp(ini->v[i].section, section))
      return 1;
  return 0;
}
