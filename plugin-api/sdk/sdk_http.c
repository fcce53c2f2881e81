/*
** sdk_http.c -- the HTTP client of sdk_http.h: configuration, the pool of
** curl easy handles and the share object, and asking the host whether to
** stop. Sending is sdk_transfer.c.
**
** Connection reuse: an easy handle keeps its own connection cache alive
** between performs (curl_easy_reset does not close connections), and
** handles return to a LIFO pool, so back-to-back requests, from any
** thread, ride the connection the last request left open. DNS and TLS
** sessions are shared by every handle of the client through one CURLSH
** with a mutex per lock type. The connection cache itself is deliberately
** NOT shared (CURL_LOCK_DATA_CONNECT): curl documents that sharing it
** between concurrent threads is unsupported (KNOWN_BUGS "A shared
** connection cache is not thread-safe"; curl issues #4915, #9404).
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdk_int.h"
#include "sdk_util.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define DEFAULT_STALL_TIMEOUT_S    60
#define DEFAULT_POOL_SIZE          16
#define DEFAULT_USER_AGENT         "xtstore/1"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
  global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void share_lock(CURL *easy, curl_lock_data data,
                       curl_lock_access access, void *ud)
{
  sdk_http *h = ud;

  (void)easy;
  (void)access;
  pthread_mutex_lock(&h->locks[data]);
}

static void share_unlock(CURL *easy, curl_lock_data data, void *ud)
{
  sdk_http *h = ud;

  (void)easy;
  pthread_mutex_unlock(&h->locks[data]);
}

/* Whether host's table has an is_cancelled to ask (a host built against
 * an older ABI minor may lack the field). */
static int can_ask(const store_host_api *host)
{
  return host &&
         STORE_HAS_FIELD(store_host_api, is_cancelled, host->struct_size) &&
         host->is_cancelled;
}

int sdk_host_cancelled(const store_host_api *host)
{
  return can_ask(host) && host->is_cancelled(host->host_ctx) != 0;
}

/* Copy cfg (fields inside cfg->struct_size only) into h. */
static int apply_config(sdk_http *h, const sdk_http_config *cfg,
                        store_error *err)
{
  const char *ca = NULL, *ua = NULL;
  uint32_t sz = cfg ? cfg->struct_size : 0;

#define HAS(f) (cfg && STORE_HAS_FIELD(sdk_http_config, f, sz))
  if (cfg && !sz)
    return store_error_set(err, STORE_E_INVALID,
                           "HTTP client: sdk_http_config.struct_size is 0");
  h->verify_tls =
      !(HAS(verify_tls) && cfg->verify_tls == SDK_HTTP_TLS_NO_VERIFY);
  if (HAS(ca_bundle))
    ca = cfg->ca_bundle;
  if (!ca)
    ca = getenv("CURL_CA_BUNDLE");
  h->connect_timeout_ms = HAS(connect_timeout_ms) && cfg->connect_timeout_ms
                              ? (long)cfg->connect_timeout_ms
                              : DEFAULT_CONNECT_TIMEOUT_MS;
  h->stall_timeout_s = HAS(stall_timeout_s) && cfg->stall_timeout_s
                           ? (long)cfg->stall_timeout_s
                           : DEFAULT_STALL_TIMEOUT_S;
  h->pool_size = HAS(pool_size) && cfg->pool_size ? cfg->pool_size
                                                  : DEFAULT_POOL_SIZE;
  if (HAS(user_agent))
    ua = cfg->user_agent;
  if (HAS(host) && can_ask(cfg->host))
    h->host = cfg->host;
#undef HAS
  if (ca && *ca) {
    h->ca_bundle = strdup(ca);
    if (!h->ca_bundle)
      goto nomem;
  }
  h->user_agent = strdup(ua ? ua : DEFAULT_USER_AGENT);
  h->idle = calloc(h->pool_size, sizeof(*h->idle));
  if (!h->user_agent || !h->idle)
    goto nomem;
  return STORE_OK;
nomem:
  return store_error_set(err, STORE_E_NOMEM, "HTTP client: out of memory");
}

int sdk_http_config_keys(sdk_http_config *cfg, const store_kv *kv, size_t n,
                         const char *who, store_error *err)
{
  const char *v = sdk_kv_get(kv, n, SDK_HTTP_STALL_KEY);
  unsigned long s;
  char *end;

  if (!v)
    return STORE_OK;
  errno = 0;
  s = v[0] >= '0' && v[0] <= '9' ? strtoul(v, &end, 10) : 0;
  if (s < 1 || s > 3600 || errno || *end)
    return store_error_set(err, STORE_E_CONFIG, "%s: config key '%s': "
                           "'%.64s' is not a number of seconds (1..3600)",
                           who, SDK_HTTP_STALL_KEY, v);
  cfg->stall_timeout_s = (uint32_t)s;
  return STORE_OK;
}

/* *out is the client (free with sdk_http_free), or NULL on failure. */
int sdk_http_from_keys(const store_kv *kv, size_t n, const char *who,
                       const store_host_api *host, sdk_http **out,
                       store_error *err)
{
  const char *v = sdk_kv_get(kv, n, "verify-tls");
  char agent[64];
  sdk_http_config hc;
  int verify = 1;

  *out = NULL;
  if (v && (verify = sdk_parse_bool(v)) < 0)
    return store_error_set(err, STORE_E_CONFIG, "%s: config key "
                           "'verify-tls': '%.64s' is not true or false",
                           who, v);
  memset(&hc, 0, sizeof(hc));
  hc.struct_size = sizeof(hc);
  hc.verify_tls = verify ? SDK_HTTP_TLS_VERIFY : SDK_HTTP_TLS_NO_VERIFY;
  hc.ca_bundle = sdk_kv_get(kv, n, "ca-bundle");
  hc.host = host;
  snprintf(agent, sizeof(agent), "xtstore-%.40s/1.0", who);
  hc.user_agent = agent;
  if (sdk_http_config_keys(&hc, kv, n, who, err))
    return STORE_E_CONFIG;
  return sdk_http_new(&hc, out, err);
}

/* *out is the client (free with sdk_http_free), or NULL on failure. */
int sdk_http_new(const sdk_http_config *cfg, sdk_http **out, store_error *err)
{
  sdk_http *h;
  size_t i;
  int rc;

  *out = NULL;
  pthread_once(&global_once, global_init);
  if (global_rc != CURLE_OK)
    return store_error_set(err, STORE_E_INTERNAL, "HTTP client: libcurl: %s",
                           curl_easy_strerror(global_rc));
  h = calloc(1, sizeof(*h));
  if (!h)
    return store_error_set(err, STORE_E_NOMEM, "HTTP client: out of memory");
  for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_init(&h->locks[i], NULL);
  pthread_mutex_init(&h->pool_mu, NULL);
  rc = apply_config(h, cfg, err);
  if (rc)
    goto out;
  h->share = curl_share_init();
  if (!h->share ||
      curl_share_setopt(h->share, CURLSHOPT_LOCKFUNC, share_lock) ||
      curl_share_setopt(h->share, CURLSHOPT_UNLOCKFUNC, share_unlock) ||
      curl_share_setopt(h->share, CURLSHOPT_USERDATA, h) ||
      curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) ||
      curl_share_setopt(h->share, CURLSHOPT_SHARE,
                        CURL_LOCK_DATA_SSL_SESSION)) {
    rc = store_error_set(err, STORE_E_NOMEM,
                         "HTTP client: cannot set up the curl share");
    goto out;
  }
  *out = h;
  h = NULL;
out:
  sdk_http_free(h);
  return rc;
}

/* Every request must have finished: pooled handles are freed here, and
 * the share cannot go while a handle still uses it. */
void sdk_http_free(sdk_http *h)
{
  size_t i;

  if (!h)
    return;
  for (i = 0; i < h->nidle; i++)
    curl_easy_cleanup(h->idle[i]);
  if (h->share)
    curl_share_cleanup(h->share);
  for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_destroy(&h->locks[i]);
  pthread_mutex_destroy(&h->pool_mu);
  free(h->idle);
  free(h->ca_bundle);
  free(h->user_agent);
  free(h);
}

CURL *sdk__easy_acquire(sdk_http *h)
{
  CURL *easy = NULL;

  pthread_mutex_lock(&h->pool_mu);
  if (h->nidle)
    easy = h->idle[--h->nidle];
  pthread_mutex_unlock(&h->pool_mu);
  if (easy)
    return easy;
  easy = curl_easy_init();
  if (easy && curl_easy_setopt(easy, CURLOPT_SHARE, h->share)) {
    curl_easy_cleanup(easy);
    easy = NULL;
  }
  return easy;
}

/* The reset drops every option (pointers into the finished request among
 * them) but keeps the handle's live connections. The share is set again
 * so a handle in the pool is always ready to use. */
void sdk__easy_release(sdk_http *h, CURL *easy)
{
  if (!easy)
    return;
  curl_easy_reset(easy);
  if (curl_easy_setopt(easy, CURLOPT_SHARE, h->share) == CURLE_OK) {
    pthread_mutex_lock(&h->pool_mu);
    if (h->nidle < h->pool_size) {
      h->idle[h->nidle++] = easy;
      easy = NULL;
    }
    pthread_mutex_unlock(&h->pool_mu);
  }
  if (easy)
    curl_easy_cleanup(easy);
}
