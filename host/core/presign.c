/*
** presign.c -- xtstore_blob_presign: a URL that lets anyone holding it
** read or write one blob until it expires, from the provider's optional
** blob_presign (STORE_CAP_PRESIGN). The URL carries a signature or a
** token: nothing here logs it, and errors never contain it.
*/
#include <string.h>

#include "core.h"

struct presign_args {
  const char *container, *key;
  const store_presign_opts *opts;
  char *url;
  size_t cap;
  store_presign_result *res;
};

static int do_presign(xtstore_svc *s, void *p, store_error *err)
{
  struct presign_args *a = p;

  a->url[0] = '\0';
  memset(a->res, 0, sizeof(*a->res));
  a->res->struct_size = sizeof(*a->res);
  return s->ops->blob_presign(s->h, a->container, a->key, a->opts, a->url,
                              a->cap, a->res, err);
}

/* A PUT's content type goes into a header line the upload sends: a
 * control character would add lines of its own, and a line that does not
 * fit the result's headers would be cut. */
static int check_type(const xtstore_svc *svc, const char *container,
                      const char *key, const char *ctype, store_error *err)
{
  static const char line[] = "Content-Type: \n";

  if (!ctype)
    return STORE_OK;
  for (const char *p = ctype; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      return st_err(err, STORE_E_INVALID, "service '%s': presign '%s/%s': "
                    "the content type has a control character", svc->name,
                    container, key);
  if (!ctype[0] ||
      strlen(ctype) + sizeof(line) > STORE_PRESIGN_HEADERS_SIZE)
    return st_err(err, STORE_E_INVALID, "service '%s': presign '%s/%s': "
                  "the content type must be 1 to %zu bytes", svc->name,
                  container, key, STORE_PRESIGN_HEADERS_SIZE - sizeof(line));
  return STORE_OK;
}

/* Ownership: out_url and out are the caller's; on failure out_url is ""
 * and out is zeroed (its struct_size kept). */
int xtstore_blob_presign(xtstore_svc *svc, const char *container,
                         const char *key, const store_presign_opts *opts,
                         char *out_url, size_t cap, store_presign_result *out,
                         store_error *err)
{
  store_presign_result res;
  struct presign_args a = {.container = container, .key = key, .opts = opts,
                           .url = out_url, .cap = cap, .res = &res};
  uint32_t method, expires;
  const char *ctype;
  int rc;

  if (out_url && cap)
    out_url[0] = '\0';
  rc = st_check_key(svc, container, key, err);
  if (rc)
    goto out;
  method = STORE_OPT(opts, store_presign_opts, method, UINT32_MAX);
  expires = STORE_OPT(opts, store_presign_opts, expires_s, 0);
  ctype = method == STORE_PRESIGN_PUT
            ? STORE_OPT(opts, store_presign_opts, content_type, NULL)
            : NULL;
  if (!out_url || !cap) {
    rc = st_err(err, STORE_E_INVALID, "presign: no buffer for the URL");
    goto out;
  }
  if (method != STORE_PRESIGN_GET && method != STORE_PRESIGN_PUT) {
    rc = st_err(err, STORE_E_INVALID,
                "service '%s': presign '%s/%s': method must be GET or PUT",
                svc->name, container, key);
    goto out;
  }
  if (expires < 1 || expires > XTSTORE_PRESIGN_MAX_S) {
    rc = st_err(err, STORE_E_INVALID,
                "service '%s': presign '%s/%s': the lifetime must be 1 "
                "second to 10 years (%u seconds), not %u", svc->name,
                container, key, XTSTORE_PRESIGN_MAX_S, expires);
    goto out;
  }
  rc = check_type(svc, container, key, ctype, err);
  if (rc)
    goto out;
  /* A 1.0 plugin's table ends before blob_presign: it reads as NULL. */
  if (!svc->ops->blob_presign) {
    rc = st_err(err, STORE_E_UNSUPPORTED,
                "service '%s': provider '%s' does not support presigned URLs",
                svc->name, svc->ops->name);
    goto out;
  }
  rc = st_require_cap(svc, STORE_CAP_PRESIGN, err);
  if (rc)
    goto out;
  rc = st_svc_call(svc, do_presign, NULL, &a, err);
  if (!rc && (!memchr(out_url, '\0', cap) || !out_url[0]))
    rc = st_err(err, STORE_E_INTERNAL,
                "service '%s': provider '%s' returned no presigned URL",
                svc->name, svc->ops->name);
out:
  if (rc) {
    if (out_url && cap)
      out_url[0] = '\0';
    memset(&res, 0, sizeof(res));
  }
  if (out) {
    uint32_t size = out->struct_size;
    size_t n = size > sizeof(res) ? sizeof(res) : size;

    res.struct_size = size;
    res.id[sizeof(res.id) - 1] = '\0';
    res.headers[sizeof(res.headers) - 1] = '\0';
    memcpy(out, &res, n);
  }
  return rc;
}
