/*
** flaky.c -- a fixture provider that fails on purpose, so the host's retry,
** resume, replay and serialisation rules can be observed. State lives in
** the handle, one per opened service. Not thread-safe on purpose: concurrent
** entry into an op is detected and reported as STORE_E_INTERNAL.
**
** Keys: fail-times (failures before each op succeeds), fail-code (status),
** retryable (0/1), body (content served by get), needed (required),
** password (secret).
*/
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_interface.h"

struct store_handle {
  int fail_times, fail_code, retryable;
  char body[256];
  int puts_tried, gets_tried, put_failures, get_failures;
  uint64_t last_get_offset;
  char stored[256];
  size_t stored_len;
  atomic_int inside;
};

static int fail(store_handle *h, store_error *err, const char *what)
{
  err->flags = h->retryable ? STORE_ERR_RETRYABLE : 0;
  err->retry_after_ms = 1;
  err->http_status = 503;
  snprintf(err->provider_code, sizeof(err->provider_code), "SlowDown");
  return store_error_set(err, h->fail_code, "flaky: %s: injected failure", what);
}

static int32_t fl_open(const store_host_api *host, const store_kv *cfg,
                       size_t n, store_handle **out, store_error *err)
{
  store_handle *h = calloc(1, sizeof(*h));
  size_t i;
  (void)host;
  if (!h)
    return store_error_set(err, STORE_E_NOMEM, "flaky: out of memory");
  h->fail_code = STORE_E_THROTTLED;
  h->retryable = 1;
  snprintf(h->body, sizeof(h->body), "0123456789abcdefghijklmnopqrstuvwxyz");
  for (i = 0; i < n; i++) {
    if (!strcmp(cfg[i].key, "fail-times"))
      h->fail_times = (int)strtol(cfg[i].value, NULL, 10);
    else if (!strcmp(cfg[i].key, "fail-code"))
      h->fail_code = (int)strtol(cfg[i].value, NULL, 10);
    else if (!strcmp(cfg[i].key, "retryable"))
      h->retryable = (int)strtol(cfg[i].value, NULL, 10);
    else if (!strcmp(cfg[i].key, "body"))
      snprintf(h->body, sizeof(h->body), "%s", cfg[i].value);
  }
  *out = h;
  return STORE_OK;
}

static void fl_close(store_handle *h)
{
  free(h);
}

static int32_t fl_put(store_handle *h, const char *c, const char *k,
                      const store_put_opts *o, store_read_fn src, void *ud,
                      store_put_result *out, store_error *err)
{
  char buf[64];
  size_t n;
  (void)c; (void)k; (void)o; (void)out;
  h->puts_tried++;
  h->stored_len = 0;
  do {
    if (src(ud, buf, sizeof(buf), &n))
      return store_error_set(err, STORE_E_ABORTED, "flaky: put aborted");
    if (h->stored_len + n <= sizeof(h->stored)) {
      memcpy(h->stored + h->stored_len, buf, n);
      h->stored_len += n;
    }
  } while (n > 0);
  if (h->put_failures < h->fail_times) {
    h->put_failures++;
    return fail(h, err, "put");
  }
  return STORE_OK;
}

static int32_t fl_get(store_handle *h, const char *c, const char *k,
                      const store_get_opts *o, store_write_fn sink, void *ud,
                      store_error *err)
{
  const char *body = h->body;
  uint64_t off = 0, len = strlen(body);
  (void)c; (void)k;
  h->gets_tried++;
  if (o && (o->flags & STORE_GET_RANGE)) {
    off = o->offset;
    len = o->length ? o->length : len - off;
  }
  h->last_get_offset = off;
  if (h->get_failures < h->fail_times) {
    /* Deliver half of what was asked, then fail: the host must resume. */
    uint64_t half = len / 2;
    h->get_failures++;
    if (half && sink(ud, body + off, (size_t)half))
      return store_error_set(err, STORE_E_ABORTED, "flaky: get aborted");
    return fail(h, err, "get");
  }
  if (len && sink(ud, body + off, (size_t)len))
    return store_error_set(err, STORE_E_ABORTED, "flaky: get aborted");
  return STORE_OK;
}

/* "stats" reports counters as metadata; other keys check serialisation. */
static int32_t fl_head(store_handle *h, const char *c, const char *k,
                       const store_head_opts *o, store_entry_fn cb, void *ud,
                       store_error *err)
{
  char v[4][32];
  store_kv kv[4] = {{"puts", v[0]}, {"gets", v[1]}, {"offset", v[2]},
                    {"stored", v[3]}};
  store_entry e;
  struct timespec ts = {0, 200000};
  int rc;
  (void)c; (void)o;
  if (atomic_fetch_add(&h->inside, 1) != 0) {
    atomic_fetch_sub(&h->inside, 1);
    return store_error_set(err, STORE_E_INTERNAL, "flaky: concurrent call");
  }
  nanosleep(&ts, NULL);
  snprintf(v[0], sizeof(v[0]), "%d", h->puts_tried);
  snprintf(v[1], sizeof(v[1]), "%d", h->gets_tried);
  snprintf(v[2], sizeof(v[2]), "%llu", (unsigned long long)h->last_get_offset);
  snprintf(v[3], sizeof(v[3]), "%.*s", (int)h->stored_len, h->stored);
  memset(&e, 0, sizeof(e));
  e.struct_size = sizeof(e);
  e.name = k;
  e.metadata = kv;
  e.nmetadata = strcmp(k, "stats") == 0 ? 4 : 0;
  rc = cb(ud, &e);
  atomic_fetch_sub(&h->inside, 1);
  return rc ? STORE_E_ABORTED : STORE_OK;
}

static int32_t fl_delete(store_handle *h, const char *c, const char *k,
                         const store_delete_opts *o, store_error *err)
{
  (void)h; (void)c; (void)k; (void)o;
  return store_error_set(err, STORE_E_NOT_FOUND, "flaky: blob '%s/%s': not found", c, k);
}

static int32_t fl_list(store_handle *h, const char *c, const store_list_opts *o,
                       store_entry_fn cb, void *ud, store_error *err)
{
  (void)h; (void)c; (void)o; (void)cb; (void)ud; (void)err;
  return STORE_OK;
}

static const store_config_key keys[] = {
  {"fail-times", "failures injected before each op succeeds", 0, 0},
  {"fail-code", "status code of injected failures", 0, 0},
  {"retryable", "1: injected failures are retryable", 0, 0},
  {"body", "content served by get", 0, 0},
  {"needed", "a required key", 1, 0},
  {"password", "a secret key", 0, 1},
  {NULL, NULL, 0, 0},
};

STORE_EXPORT const struct store_interface store_interface = {
  .abi_major = STORE_ABI_MAJOR,
  .abi_minor = STORE_ABI_MINOR,
  .struct_size = sizeof(struct store_interface),
  .name = "flaky",
  .version = "1.0.0",
  .description = "fault-injecting fixture",
  .capabilities = STORE_CAP_RANGE_GET,
  .config_keys = keys,
  .open = fl_open,
  .close = fl_close,
  .blob_put = fl_put,
  .blob_get = fl_get,
  .blob_head = fl_head,
  .blob_delete = fl_delete,
  .blob_list = fl_list,
};
