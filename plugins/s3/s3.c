/*
** s3.c -- the `s3` provider: interface table, configuration keys, limits,
** open/close. open() resolves the configuration and credentials and makes
** the HTTP client and the signer, but sends nothing: the first operation
** is the first request, and no operation ever creates a bucket unasked.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s3.h"
#include "sdk_util.h"

static const store_config_key config_keys[] = {
  {"endpoint", "base URL (default https://s3.REGION.amazonaws.com); an "
               "S3-compatible server's URL, e.g. http://127.0.0.1:9000", 0, 0},
  {"region", "signing region (default: AWS_REGION, AWS_DEFAULT_REGION, the "
             "profile's region, us-east-1)", 0, 0},
  {"access-key", "access key id (default: the AWS credential chain)", 0, 0},
  {"secret-key", "secret access key", 0, 1},
  {"session-token", "session token of temporary credentials", 0, 1},
  {"profile", "profile of ~/.aws/credentials and ~/.aws/config to use", 0,
   0},
  {"addressing", "path|virtual|auto: bucket in the path or in the host name "
                 "(default auto: virtual for AWS endpoints, path otherwise)",
   0, 0},
  {"anonymous", "true: send unsigned requests (public buckets)", 0, 0},
  {"verify-tls", "false: do not verify the server's certificate (default "
                 "true)", 0, 0},
  {"ca-bundle", "CA certificates file (default: AWS_CA_BUNDLE, "
                "CURL_CA_BUNDLE, the system's)", 0, 0},
  {SDK_HTTP_STALL_KEY, SDK_HTTP_STALL_DESC, 0, 0},
  {"payload-signing", "auto|unsigned|streaming: how streamed uploads are "
                      "signed (default auto: UNSIGNED-PAYLOAD, checked by "
                      "MD5 against the ETag over http; streaming: "
                      "aws-chunked, falling back to auto where the server "
                      "does not decode it)", 0, 0},
  {"versioned-buckets", "true: buckets made by container_create get "
                        "versioning enabled, so snapshots work in them "
                        "(default false)", 0, 0},
  {"name", "service name (informational)", 0, 0},
  {NULL, NULL, 0, 0},
};

static const store_limits limits = {
  .struct_size = sizeof(store_limits),
  .max_parts = S3_MAX_PARTS,
  .min_part_size = S3_MIN_PART,
  .max_part_size = S3_MAX_PUT,
  .max_object_size = S3_MAX_OBJECT,
  .max_put_size = S3_MAX_OBJECT,
  .list_page_size = 1000,
  .equal_parts_required = 0,
  .max_key_length = S3_MAX_KEY,
};

void s3_log(const store_handle *h, int32_t level, const char *fmt, ...)
{
  char line[512];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  sdk_log(h->host, level, "%s", line);
}

static const char *process_env(const char *name)
{
  return getenv(name);
}

static store_close_op s3_close;
static void s3_close(store_handle *h)
{
  if (!h)
    return;
  sdk_sigv4_free(h->signer);
  sdk_http_free(h->http);
  s3_settings_free(&h->cfg);
  free(h->scheme);
  free(h->authority);
  free(h->base_path);
  free(h);
}

/* Is the host part of an authority an AWS S3 endpoint? */
static int is_aws_host(const char *authority)
{
  size_t n = strcspn(authority, ":");
  static const char *const suffix[] = {".amazonaws.com", ".amazonaws.com.cn"};

  for (size_t i = 0; i < 2; i++) {
    size_t k = strlen(suffix[i]);
    if (n > k && !strncasecmp(authority + n - k, suffix[i], k))
      return 1;
  }
  return 0;
}

/* scheme://authority[/base]: no user info, query or fragment. */
static int32_t parse_endpoint(store_handle *h, store_error *err)
{
  const char *url = h->cfg.endpoint, *sep = strstr(url, "://"), *auth, *end;
  size_t blen;

  if (!sep || (((size_t)(sep - url) != 4 || strncasecmp(url, "http", 4)) &&
               ((size_t)(sep - url) != 5 || strncasecmp(url, "https", 5))))
    goto bad;
  auth = sep + 3;
  end = auth + strcspn(auth, "/?#");
  if (end == auth || *end == '?' || *end == '#' ||
      memchr(auth, '@', (size_t)(end - auth)) || strpbrk(url, " \t\r\n") ||
      strpbrk(end, "?#"))
    goto bad;
  h->scheme = strndup(url, (size_t)(sep - url));
  h->authority = strndup(auth, (size_t)(end - auth));
  blen = strlen(end);
  while (blen && end[blen - 1] == '/')
    blen--;
  h->base_path = strndup(end, blen);
  if (!h->scheme || !h->authority || !h->base_path)
    return store_error_set(err, STORE_E_NOMEM, "s3: out of memory");
  for (char *p = h->scheme; *p; p++)
    if (*p >= 'A' && *p <= 'Z')
      *p = (char)(*p - 'A' + 'a');
  return STORE_OK;
bad:
  return store_error_set(err, STORE_E_CONFIG, "s3: config key 'endpoint': "
                         "'%.128s' is not an http:// or https:// URL "
                         "(scheme://host[:port][/path], no query)", url);
}

/* On success *out is a new handle owned by the caller (release it with
 * close()); on failure it is NULL. */
static store_open_op s3_open;
static int32_t s3_open(const store_host_api *host, const store_kv *config,
                       size_t nconfig, store_handle **out, store_error *err)
{
  sdk_http_config hc;
  store_handle *h;
  int32_t rc;

  *out = NULL;
  h = calloc(1, sizeof(*h));
  if (!h)
    return store_error_set(err, STORE_E_NOMEM, "s3: out of memory");
  h->host = host;
  atomic_init(&h->clock_offset, 0);
  atomic_init(&h->crc_probe, S3_CRC_UNPROBED);
  rc = s3_settings_resolve(config, nconfig, process_env, &h->cfg, err);
  if (rc)
    goto out;
  rc = parse_endpoint(h, err);
  if (rc)
    goto out;
  h->virtual_hosting = h->cfg.addressing == S3_ADDR_VIRTUAL ||
                       (h->cfg.addressing == S3_ADDR_AUTO &&
                        is_aws_host(h->authority));
  /* aws-chunked only when asked for: some servers cannot decode it, and
   * the first upload to find out may have a source that cannot be sent
   * again (a pipe into a fan-out). Plain http is checked by MD5. */
  atomic_init(&h->body, h->cfg.payload == S3_PAYLOAD_STREAMING
                          ? S3_BODY_CHUNKED
                          : S3_BODY_UNSIGNED);
  memset(&hc, 0, sizeof(hc));
  hc.struct_size = sizeof(hc);
  hc.verify_tls = h->cfg.verify_tls ? SDK_HTTP_TLS_VERIFY
                                    : SDK_HTTP_TLS_NO_VERIFY;
  hc.ca_bundle = h->cfg.ca_bundle;
  hc.user_agent = "xtstore-s3/1.0";
  hc.host = host;
  rc = sdk_http_config_keys(&hc, config, nconfig, "s3", err);
  if (!rc)
    rc = sdk_http_new(&hc, &h->http, err);
  if (rc)
    goto out;
  if (!h->cfg.anonymous) {
    sdk_sigv4_config sc = {sizeof(sc), h->cfg.access_key,
                           h->cfg.secret_key, h->cfg.session_token,
                           h->cfg.region, "s3"};
    if (sdk_sigv4_new(&sc, &h->signer)) {
      rc = store_error_set(err, STORE_E_NOMEM, "s3: cannot make the signer");
      goto out;
    }
  }
  s3_log(h, STORE_LOG_DEBUG, "s3 '%s': endpoint %s://%s%s, region %s, %s "
         "addressing, %s uploads, credentials from %s", h->cfg.name,
         h->scheme, h->authority, h->base_path, h->cfg.region,
         h->virtual_hosting ? "virtual-host" : "path",
         atomic_load(&h->body) ? "aws-chunked signed" : "UNSIGNED-PAYLOAD",
         h->cfg.cred_source);
  *out = h;
  h = NULL;
out:
  s3_close(h);
  return rc;
}

STORE_EXPORT const struct store_interface store_interface = {
  .abi_major = STORE_ABI_MAJOR,
  .abi_minor = STORE_ABI_MINOR,
  .struct_size = sizeof(struct store_interface),
  .reserved = 0,
  .name = "s3",
  .version = "1.0.0",
  .description = "Amazon S3 and S3-compatible object storage (SigV4)",
  .capabilities = STORE_CAP_CONTAINERS | STORE_CAP_RANGE_GET |
                  STORE_CAP_METADATA | STORE_CAP_CONTENT_TYPE |
                  STORE_CAP_COPY | STORE_CAP_MULTIPART |
                  STORE_CAP_CONDITIONAL | STORE_CAP_THREADSAFE |
                  STORE_CAP_SNAPSHOT | STORE_CAP_PRESIGN |
                  STORE_CAP_DELETE_IF_MATCH,
  .limits = &limits,
  .config_keys = config_keys,
  .module_init = NULL,
  .module_fini = NULL,
  .open = s3_open,
  .close = s3_close,
  .container_create = s3_container_create,
  .container_delete = s3_container_delete,
  .container_list = s3_container_list,
  .container_head = s3_container_head,
  .container_set_metadata = NULL,
  .blob_put = s3_blob_put,
  .blob_get = s3_blob_get,
  .blob_head = s3_blob_head,
  .blob_delete = s3_blob_delete,
  .blob_list = s3_blob_list,
  .blob_set_metadata = s3_blob_set_metadata,
  .blob_copy = s3_blob_copy,
  .blob_copy_checked = s3_blob_copy_checked,
  .blob_append = NULL,
  .blob_snapshot = s3_blob_snapshot,
  .multipart_begin = s3_multipart_begin,
  .multipart_part = s3_multipart_part,
  .multipart_complete = s3_multipart_complete,
  .multipart_abort = s3_multipart_abort,
  .multipart_part_checked = s3_multipart_part_checked,
  .blob_delete_batch = s3_blob_delete_batch,
  .blob_presign = s3_blob_presign,
  .multipart_list = s3_multipart_list,
};
