/*
** sdk_oci.c -- OCI request signatures (see sdk_oci.h): the signing
** string, the Authorization header, and a request signed in place.
*/
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "sdk_int.h"
#include "sdk_oci.h"
#include "sdk_util.h"

/* The authority of an absolute URL (between "://" and the path), without
 * userinfo; *len 0 when there is none. */
static const char *url_authority(const char *url, size_t *len)
{
  const char *p = strstr(url, "://"), *at;
  size_t n;

  *len = 0;
  if (!p)
    return NULL;
  p += 3;
  n = strcspn(p, "/?#");
  at = memchr(p, '@', n);
  if (at) {
    n -= (size_t)(at + 1 - p);
    p = at + 1;
  }
  *len = n;
  return p;
}

/* Path and query as sent ("/" when the URL has no path). */
static int request_target(const char *url, sdk_buf *out)
{
  size_t n;
  const char *a = url_authority(url, &n), *t;

  if (!a || !n)
    return -1;
  t = a + n;
  if (*t != '/' && sdk_buf_putc(out, '/'))
    return -1;
  return sdk_buf_append(out, t, strcspn(t, "#"));
}

int sdk_oci_signing_string(const sdk_request *r, const char *headers,
                           sdk_buf *out)
{
  size_t start = out->len;
  const char *p = headers;

  while (*p) {
    size_t n = strcspn(p, " ");
    if (n == 16 && !strncasecmp(p, "(request-target)", n)) {
      const char *m = sdk_request_method(r);
      if (sdk_buf_puts(out, "(request-target): "))
        goto fail;
      for (; *m; m++)
        if (sdk_buf_putc(out, (char)tolower((unsigned char)*m)))
          goto fail;
      if (sdk_buf_putc(out, ' ') || request_target(sdk_request_url(r), out))
        goto fail;
    } else if (n) {
      char name[64];
      const char *v;
      if (n >= sizeof(name))
        goto fail;
      for (size_t i = 0; i < n; i++)
        name[i] = (char)tolower((unsigned char)p[i]);
      name[n] = '\0';
      v = sdk_request_header(r, name);
      if (!v && !strcmp(name, "host")) {
        size_t alen;
        const char *a = url_authority(sdk_request_url(r), &alen);
        if (!a || !alen || sdk_buf_printf(out, "host: %.*s", (int)alen, a))
          goto fail;
      } else if (!v || !*v || sdk_buf_printf(out, "%s: %s", name, v)) {
        goto fail;
      }
    }
    p += n;
    while (*p == ' ')
      p++;
    if (n && *p && sdk_buf_putc(out, '\n'))
      goto fail;
  }
  return 0;
fail:
  sdk_buf_truncate(out, start);
  return -1;
}

int sdk_oci_authorization(const char *key_id, const char *headers,
                          const char *signature, sdk_buf *out)
{
  return sdk_buf_printf(out,
                        "Signature version=\"1\",keyId=\"%s\","
                        "algorithm=\"rsa-sha256\",headers=\"%s\","
                        "signature=\"%s\"",
                        key_id, headers, signature);
}

/* Non-zero when the space-separated list holds name (any case). */
static int lists(const char *headers, const char *name)
{
  size_t len = strlen(name);

  for (const char *p = headers; *p;) {
    size_t n = strcspn(p, " ");
    if (n == len && !strncasecmp(p, name, n))
      return 1;
    p += n;
    while (*p == ' ')
      p++;
  }
  return 0;
}

/* x-content-sha256, Content-Length and (by default) Content-Type of the
 * request's body: in memory, or none (empty). */
static int body_headers(sdk_request *r)
{
  unsigned char sha[32];
  sdk_buf b64 = SDK_BUF_INIT;
  int rc = -1;

  if (r->body_kind == SDK__BODY_STREAM)
    return -1;
  if (r->body_kind == SDK__BODY_NONE)
    sdk_request_body_mem(r, "", 0);
  if (sdk_sha256(r->body, (size_t)r->body_len, sha) ||
      sdk_base64_encode(&b64, sha, sizeof(sha)))
    goto out;
  if (sdk_request_set_header(r, "x-content-sha256", sdk_buf_str(&b64)))
    goto out;
  if (!sdk_request_header(r, "content-type") &&
      sdk_request_set_header(r, "Content-Type", "application/json"))
    goto out;
  rc = r->nomem ? -1 : 0;
out:
  sdk_buf_free(&b64);
  return rc;
}

int sdk_oci_sign_request(sdk_request *r, const sdk_rsa_key *key,
                         const char *key_id, const char *headers,
                         uint32_t flags)
{
  sdk_buf sts = SDK_BUF_INIT, sig = SDK_BUF_INIT, auth = SDK_BUF_INIT;
  const char *m = sdk_request_method(r);
  int rc = -1;

  if (!headers)
    headers = !(flags & SDK_OCI_SIGN_NO_BODY) &&
                  (!strcmp(m, "POST") || !strcmp(m, "PUT") ||
                   !strcmp(m, "PATCH"))
                ? SDK_OCI_BODY_HEADERS
                : SDK_OCI_HEADERS;
  if (!sdk_request_header(r, "host")) {
    size_t n;
    const char *a = url_authority(sdk_request_url(r), &n);
    sdk_buf host = SDK_BUF_INIT;
    int bad = !a || !n || sdk_buf_append(&host, a, n) ||
              sdk_request_set_header(r, "host", sdk_buf_str(&host));
    sdk_buf_free(&host);
    if (bad)
      goto out;
  }
  if (lists(headers, "x-content-sha256") && body_headers(r))
    goto out;
  if (sdk_oci_signing_string(r, headers, &sts) ||
      sdk_rsa_sign_sha256(key, sts.data, sts.len, SDK_RSA_B64, &sig) ||
      sdk_oci_authorization(key_id, headers, sdk_buf_str(&sig), &auth))
    goto out;
  rc = sdk_request_set_header(r, "Authorization", sdk_buf_str(&auth));
out:
  sdk_buf_free(&auth);
  sdk_buf_free(&sig);
  sdk_buf_free(&sts);
  return rc;
}
