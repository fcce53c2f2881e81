/*
** sdk_int.h -- private to xtstore_sdk: the request, response and client
** structs shared by the HTTP files, and the header list they both use.
** Nothing here is installed or promised to providers. Cross-file helpers
** are named sdk__* (double underscore) to keep them apart from the API.
*/
#ifndef SDK_INT_H
#define SDK_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "sdk_buf.h"
#include "sdk_http.h"

/* A header list that keeps insertion order. Each entry is one allocation:
 * name, NUL, value, NUL. */
typedef struct sdk__hdr {
  char *name;
  char *value;  /* points into the same block as name */
} sdk__hdr;

typedef struct sdk__hdrs {
  sdk__hdr *v;
  size_t n;
  size_t cap;
} sdk__hdrs;

/* Append a header (duplicates allowed). 0 or -1 (memory). */
int sdk__hdrs_add(sdk__hdrs *h, const char *name, size_t nlen,
                  const char *value, size_t vlen);
/* Replace every header named `name` (case-insensitive) by one with
 * `value`, at the position of the first; NULL value removes them all.
 * 0 or -1 (memory; the list is unchanged). */
int sdk__hdrs_set(sdk__hdrs *h, const char *name, const char *value);
/* First (last != 0: last) value of `name`, or NULL. */
const char *sdk__hdrs_get(const sdk__hdrs *h, const char *name, int last);
/* Drop every entry, keep the array. */
void sdk__hdrs_clear(sdk__hdrs *h);
void sdk__hdrs_free(sdk__hdrs *h);

#define SDK__BODY_NONE   0
#define SDK__BODY_MEM    1
#define SDK__BODY_STREAM 2

struct sdk_request {
  char *method;
  char *url;
  sdk__hdrs hdrs;
  int nomem;               /* a void setter ran out of memory: fail perform */
  int body_kind;           /* SDK__BODY_* */
  const void *body;        /* SDK__BODY_MEM, borrowed */
  store_read_fn read_fn;   /* SDK__BODY_STREAM */
  void *read_ud;
  int64_t body_len;        /* bytes, or -1 (chunked stream) */
  sdk_headers_fn on_headers;
  void *on_headers_ud;
  store_write_fn sink;
  void *sink_ud;
  int fresh;               /* on a new connection: never re-sent by curl */
};

struct sdk_response {
  long status;
  sdk__hdrs hdrs;
  sdk_buf body;
};

struct sdk_http {
  CURLSH *share;
  /* One lock per curl_lock_data kind, as curl asks. */
  pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
  pthread_mutex_t pool_mu;
  CURL **idle;             /* pool_size slots, nidle used (LIFO) */
  size_t nidle;
  size_t pool_size;
  int verify_tls;
  char *ca_bundle;         /* NULL: curl's default */
  char *user_agent;
  long connect_timeout_ms;
  long stall_timeout_s;
  const store_host_api *host;  /* NULL unless is_cancelled can be called */
};

/* Pool (sdk_http.c). acquire: a clean easy handle attached to the share,
 * or NULL when memory runs out. release: reset it and keep it or free it;
 * NULL is fine. */
CURL *sdk__easy_acquire(sdk_http *h);
void sdk__easy_release(sdk_http *h, CURL *easy);

#endif /* SDK_INT_H */
