/*
** shim_plugin.c -- a test provider that wraps another one (the local
** provider) to observe and break what the host does, for the workflow
** tests. Built by the test scripts with $CC; never installed.
**
** Service keys: `inner` (the wrapped plugin's .so, required), `calls` (a
** file that gets one line per op: "OP CONTAINER KEY-OR-PREFIX"),
** `fail-put` (puts of keys containing this text fail with an I/O error)
** and `fail-after` (... once they have read this many bytes; default 0).
** Every other key goes to the wrapped plugin. No server-side copy and no
** append, so copies within it are streamed and run logs are rewritten.
**
** Built with -DSHIM_SERIAL it is "serial": not thread-safe (the host runs
** one op at a time on it) and listing pages of 3, so the host's paged
** listing of such providers is exercised.
*/
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_interface.h"

typedef struct shim {
  const struct store_interface *in;
  store_handle *h;
  int calls;
  char *fail_put;
  unsigned long long fail_after;
} shim;

/* A put's body that breaks after fail_after bytes. */
struct breaking {
  store_read_fn src;
  void *ud;
  unsigned long long left;
};

static int32_t breaking_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  struct breaking *b = ud;

  *out_n = 0;
  if (b->left == 0)
    return 1;
  if (cap > b->left)
    cap = (size_t)b->left;
  if (b->src(b->ud, buf, cap, out_n))
    return 1;
  b->left -= *out_n;
  return 0;
}

#define S(h) ((shim *)(void *)(h))

static void note(shim *s, const char *op, const char *c, const char *k)
{
  char line[2048];
  int n;

  if (s->calls < 0)
    return;
  n = snprintf(line, sizeof line, "%s %s %s\n", op, c ? c : "-",
               k && k[0] ? k : "-");
  if (n > 0 && (size_t)n < sizeof line && write(s->calls, line, (size_t)n))
    return;
}

static const char *get(const store_kv *kv, size_t n, const char *key)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (strcmp(kv[i].key, key) == 0)
      return kv[i].value;
  return NULL;
}

static void sh_close(store_handle *h)
{
  shim *s = S(h);

  if (!s)
    return;
  if (s->h)
    s->in->close(s->h);
  if (s->calls >= 0)
    close(s->calls);
  free(s->fail_put);
  free(s);
}

static int32_t sh_open(const store_host_api *host, const store_kv *kv,
                       size_t n, store_handle **out, store_error *err)
{
  const char *inner = get(kv, n, "inner"), *calls = get(kv, n, "calls");
  const char *fail = get(kv, n, "fail-put");
  const char *after = get(kv, n, "fail-after");
  store_kv *rest = calloc(n + 1, sizeof *rest);
  shim *s = calloc(1, sizeof *s);
  size_t i, m = 0;
  void *dl;
  int32_t rc;

  *out = NULL;
  if (!rest || !s) {
    free(rest);
    free(s);
    return store_error_set(err, STORE_E_NOMEM, "shim: out of memory");
  }
  s->calls = calls ? open(calls, O_WRONLY | O_CREAT | O_APPEND, 0644) : -1;
  s->fail_put = fail ? strdup(fail) : NULL;
  s->fail_after = after ? strtoull(after, NULL, 10) : 0;
  dl = inner ? dlopen(inner, RTLD_NOW | RTLD_LOCAL) : NULL;
  s->in = dl ? dlsym(dl, "store_interface") : NULL;
  if (!s->in) {
    sh_close((store_handle *)(void *)s);
    free(rest);
    return store_error_set(err, STORE_E_CONFIG, "shim: cannot load '%s'",
                           inner ? inner : "(no inner)");
  }
  for (i = 0; i < n; i++)
    if (strcmp(kv[i].key, "inner") && strcmp(kv[i].key, "calls") &&
        strcmp(kv[i].key, "fail-put") && strcmp(kv[i].key, "fail-after"))
      rest[m++] = kv[i];
  rc = s->in->open(host, rest, m, &s->h, err);
  free(rest);
  if (rc) {
    sh_close((store_handle *)(void *)s);
    return rc;
  }
  *out = (store_handle *)(void *)s;
  return STORE_OK;
}

static int32_t sh_ccreate(store_handle *h, const char *c, const store_kv *m,
                          size_t n, store_error *err)
{
  note(S(h), "container_create", c, NULL);
  return S(h)->in->container_create(S(h)->h, c, m, n, err);
}

static int32_t sh_cdelete(store_handle *h, const char *c, uint32_t f,
                          store_error *err)
{
  note(S(h), "container_delete", c, NULL);
  return S(h)->in->container_delete(S(h)->h, c, f, err);
}

static int32_t sh_clist(store_handle *h, const char *p, store_entry_fn cb,
                        void *ud, store_error *err)
{
  note(S(h), "container_list", p, NULL);
  return S(h)->in->container_list(S(h)->h, p, cb, ud, err);
}

static int32_t sh_chead(store_handle *h, const char *c, store_entry_fn cb,
                        void *ud, store_error *err)
{
  note(S(h), "container_head", c, NULL);
  return S(h)->in->container_head(S(h)->h, c, cb, ud, err);
}

static int32_t sh_put(store_handle *h, const char *c, const char *k,
                      const store_put_opts *o, store_read_fn src, void *ud,
                      store_put_result *out, store_error *err)
{
  struct breaking b = { src, ud, S(h)->fail_after };
  int32_t rc;

  note(S(h), "blob_put", c, k);
  if (!S(h)->fail_put || !strstr(k, S(h)->fail_put))
    return S(h)->in->blob_put(S(h)->h, c, k, o, src, ud, out, err);
  rc = b.left ? S(h)->in->blob_put(S(h)->h, c, k, o, breaking_read, &b, out,
                                   err)
              : STORE_E_IO;
  if (rc == STORE_OK)
    return rc;
  memset(err->message, 0, sizeof err->message);
  return store_error_set(err, STORE_E_IO, "shim: blob '%s/%s': injected "
                                          "put failure",
                         c, k);
}

static int32_t sh_get(store_handle *h, const char *c, const char *k,
                      const store_get_opts *o, store_write_fn sink, void *ud,
                      store_error *err)
{
  note(S(h), "blob_get", c, k);
  return S(h)->in->blob_get(S(h)->h, c, k, o, sink, ud, err);
}

static int32_t sh_head(store_handle *h, const char *c, const char *k,
                       const store_head_opts *o, store_entry_fn cb, void *ud,
                       store_error *err)
{
  note(S(h), "blob_head", c, k);
  return S(h)->in->blob_head(S(h)->h, c, k, o, cb, ud, err);
}

static int32_t sh_delete(store_handle *h, const char *c, const char *k,
                         const store_delete_opts *o, store_error *err)
{
  note(S(h), "blob_delete", c, k);
  return S(h)->in->blob_delete(S(h)->h, c, k, o, err);
}

static int32_t sh_list(store_handle *h, const char *c,
                       const store_list_opts *o, store_entry_fn cb, void *ud,
                       store_error *err)
{
  note(S(h), "blob_list", c, o ? o->prefix : NULL);
  return S(h)->in->blob_list(S(h)->h, c, o, cb, ud, err);
}

static int32_t sh_setmeta(store_handle *h, const char *c, const char *k,
                          const store_kv *m, size_t n, store_error *err)
{
  note(S(h), "blob_set_metadata", c, k);
  return S(h)->in->blob_set_metadata(S(h)->h, c, k, m, n, err);
}

#ifdef SHIM_SERIAL
#define SHIM_NAME "serial"
#define SHIM_THREADS 0
static const store_limits limits = {
  .struct_size = sizeof(store_limits),
  .list_page_size = 3,
};
#else
#define SHIM_NAME "shim"
#define SHIM_THREADS STORE_CAP_THREADSAFE
static const store_limits limits = { .struct_size = sizeof(store_limits) };
#endif

static const store_config_key keys[] = {
  { "inner", "the wrapped plugin (.so path)", 1, 0 },
  { "calls", "a file that gets one line per op", 0, 0 },
  { "fail-put", "puts of keys containing this fail", 0, 0 },
  { "fail-after", "... after reading this many bytes", 0, 0 },
  { "path", "the wrapped local provider's root", 0, 0 },
  { "name", "service name", 0, 0 },
  { NULL, NULL, 0, 0 },
};

STORE_EXPORT const struct store_interface store_interface = {
  .abi_major = STORE_ABI_MAJOR,
  .abi_minor = STORE_ABI_MINOR,
  .struct_size = sizeof(struct store_interface),
  .name = SHIM_NAME,
  .version = "0.0.1",
  .description = "test shim: counts ops and injects put failures",
  .capabilities = STORE_CAP_CONTAINERS | STORE_CAP_RANGE_GET |
                  STORE_CAP_METADATA | STORE_CAP_CONDITIONAL | SHIM_THREADS |
                  STORE_CAP_CONTENT_TYPE,
  .limits = &limits,
  .config_keys = keys,
  .open = sh_open,
  .close = sh_close,
  .container_create = sh_ccreate,
  .container_delete = sh_cdelete,
  .container_list = sh_clist,
  .container_head = sh_chead,
  .blob_put = sh_put,
  .blob_get = sh_get,
  .blob_head = sh_head,
  .blob_delete = sh_delete,
  .blob_list = sh_list,
  .blob_set_metadata = sh_setmeta,
};
