/*
** load_plugin.c -- load one plugin file through the host's loader and, when
** a container is named, run one put / head / get / list / delete round trip
** through its table. Used by dropin.sh to prove a plugin built outside the
** tree works.
**
**   abi_load_plugin PLUGIN.so [CONTAINER [KEY=VALUE...]]
**
** Exit status 0 on success; otherwise the failing step is printed.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/plugin.h"
#include "mem_src.h"

#define LP_BODY "hello from the drop-in test\n"

static int32_t lp_write(void *ctx, const void *buf, size_t len)
{
  char *dst = ctx;
  size_t have = strlen(dst);

  if (have + len >= 256)
    return 1;
  memcpy(dst + have, buf, len);
  dst[have + len] = '\0';
  return 0;
}

static int32_t lp_count(void *ctx, const store_entry *e)
{
  (void)e;
  ++*(int *)ctx;
  return 0;
}

static void lp_log(void *ctx, int32_t level, const char *msg)
{
  (void)ctx;
  fprintf(stderr, "plugin log (%d): %s\n", (int)level, msg);
}

static int32_t lp_not_cancelled(void *ctx)
{
  (void)ctx;
  return 0;
}

static const store_host_api lp_host = {
  .struct_size = sizeof(store_host_api),
  .abi_major = STORE_ABI_MAJOR,
  .abi_minor = STORE_ABI_MINOR,
  .log = lp_log,
  .is_cancelled = lp_not_cancelled,
};

static int lp_fail(const char *step, int32_t rc, const store_error *err)
{
  fprintf(stderr, "%s failed: %s: %s\n", step, store_strerror(rc),
          err->message);
  return 1;
}

/* The round trip; every step must succeed. */
static int lp_exercise(const st_module *m, const char *container,
                       char **kvs, int nkv)
{
  const struct store_interface *t = &m->iface;
  struct mem_src src = { LP_BODY, sizeof LP_BODY - 1, 0 };
  store_kv config[16];
  store_handle *h = NULL;
  store_error err;
  char got[256] = "";
  int n = 0, i, status = 1;
  int32_t rc;

  for (i = 0; i < nkv && i < 16; i++) {
    char *eq = strchr(kvs[i], '=');

    if (!eq) {
      fprintf(stderr, "bad KEY=VALUE: %s\n", kvs[i]);
      return 1;
    }
    *eq = '\0';
    config[i].key = kvs[i];
    config[i].value = eq + 1;
  }
  memset(&err, 0, sizeof err);
  err.struct_size = sizeof err;
  rc = t->open(&lp_host, config, (size_t)i, &h, &err);
  if (rc)
    return lp_fail("open", rc, &err);
  rc = t->blob_put(h, container, "dropin/key", NULL, mem_read, &src, NULL, &err);
  if (rc) {
    status = lp_fail("blob_put", rc, &err);
    goto out;
  }
  rc = t->blob_head(h, container, "dropin/key", NULL, lp_count, &n, &err);
  if (rc || n != 1) {
    status = lp_fail("blob_head", rc, &err);
    goto out;
  }
  rc = t->blob_get(h, container, "dropin/key", NULL, lp_write, got, &err);
  if (rc || strcmp(got, LP_BODY)) {
    status = lp_fail("blob_get", rc, &err);
    goto out;
  }
  n = 0;
  rc = t->blob_list(h, container, NULL, lp_count, &n, &err);
  if (rc || n != 1) {
    status = lp_fail("blob_list", rc, &err);
    goto out;
  }
  rc = t->blob_delete(h, container, "dropin/key", NULL, &err);
  if (rc) {
    status = lp_fail("blob_delete", rc, &err);
    goto out;
  }
  status = 0;
out:
  t->close(h);
  return status;
}

int main(int argc, char **argv)
{
  st_module *m = NULL;
  char err[512];
  int status;

  if (argc < 2) {
    fprintf(stderr, "usage: %s PLUGIN.so [CONTAINER [KEY=VALUE...]]\n",
            argv[0]);
    return 2;
  }
  if (st_module_load(argv[1], &m, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  printf("loaded %s %s (ABI struct_size %u) from %s\n", m->iface.name,
         m->iface.version ? m->iface.version : "?", m->plugin_struct_size,
         m->path);
  status = argc > 2 ? lp_exercise(m, argv[2], argv + 3, argc - 3) : 0;
  if (!status && argc > 2)
    printf("round trip through '%s' ok\n", argv[2]);
  st_module_free(m);
  return status;
}
