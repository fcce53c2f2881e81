/*
** sdk_headers.c -- the ordered header list behind requests and responses
** (sdk_int.h). Names compare case-insensitively, as HTTP wants; order is
** kept because signers and tests iterate it.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sdk_int.h"

/* One block "name\0value\0". 0 or -1. */
static int hdr_make(sdk__hdr *e, const char *name, size_t nlen,
                    const char *value, size_t vlen)
{
  char *p;

  if (nlen > SIZE_MAX / 2 || vlen > SIZE_MAX / 2)
    return -1;
  p = malloc(nlen + vlen + 2);
  if (!p)
    return -1;
  memcpy(p, name, nlen);
  p[nlen] = '\0';
  memcpy(p + nlen + 1, value, vlen);
  p[nlen + 1 + vlen] = '\0';
  e->name = p;
  e->value = p + nlen + 1;
  return 0;
}

/* Room for one more entry. 0 or -1. */
static int hdrs_reserve(sdk__hdrs *h)
{
  size_t cap;
  sdk__hdr *v;

  if (h->n < h->cap)
    return 0;
  cap = h->cap ? h->cap * 2 : 16;
  if (cap > SIZE_MAX / sizeof(*v))
    return -1;
  v = realloc(h->v, cap * sizeof(*v));
  if (!v)
    return -1;
  h->v = v;
  h->cap = cap;
  return 0;
}

int sdk__hdrs_add(sdk__hdrs *h, const char *name, size_t nlen,
                  const char *value, size_t vlen)
{
  if (hdrs_reserve(h) || hdr_make(&h->v[h->n], name, nlen, value, vlen))
    return -1;
  h->n++;
  return 0;
}

int sdk__hdrs_set(sdk__hdrs *h, const char *name, const char *value)
{
  sdk__hdr e = {NULL, NULL};
  size_t i, j;
  int placed = 0;

  /* Everything that can fail happens before the list changes. */
  if (value && (hdrs_reserve(h) ||
                hdr_make(&e, name, strlen(name), value, strlen(value))))
    return -1;
  for (i = j = 0; i < h->n; i++) {
    if (strcasecmp(h->v[i].name, name)) {
      h->v[j++] = h->v[i];
      continue;
    }
    free(h->v[i].name);
    if (value && !placed) {
      h->v[j++] = e;
      placed = 1;
    }
  }
  h->n = j;
  if (value && !placed)
    h->v[h->n++] = e;
  return 0;
}

const char *sdk__hdrs_get(const sdk__hdrs *h, const char *name, int last)
{
  const char *found = NULL;
  size_t i;

  for (i = 0; i < h->n; i++) {
    if (strcasecmp(h->v[i].name, name))
      continue;
    found = h->v[i].value;
    if (!last)
      break;
  }
  return found;
}

void sdk__hdrs_clear(sdk__hdrs *h)
{
  size_t i;

  for (i = 0; i < h->n; i++)
    free(h->v[i].name);
  h->n = 0;
}

void sdk__hdrs_free(sdk__hdrs *h)
{
  sdk__hdrs_clear(h);
  free(h->v);
  h->v = NULL;
  h->cap = 0;
}
