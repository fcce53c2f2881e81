/*
** s3_api_probe.c -- one call through the public API that the end-to-end
** tests need and the CLI does not offer or show:
**
**   s3_api_probe put CONFIG SERVICE CONTAINER KEY FILE
**     xtstore_blob_put_file, with the put result and the context's log
**     printed (test_faults.sh): "log LEVEL: MESSAGE" per log line
**     (warnings and up), then "rc=ok|failed size=N";
**   s3_api_probe delete-if-match CONFIG SERVICE CONTAINER KEY ETAG
**     xtstore_blob_delete with store_delete_opts.if_match, which the CLI
**     never sets (only the removal of a wrong put or copy does)
**     (test_delete_if_match.sh): "rc=NAME" (store_strerror's name).
**
** On failure also "error: MESSAGE". Exit 0 when the call succeeded, 1
** when it failed, 2 on a usage or setup error.
*/
#include <stdio.h>
#include <string.h>

#include "xtstore.h"

static const char *level_name(int32_t level)
{
  switch (level) {
  case STORE_LOG_ERROR:
    return "error";
  case STORE_LOG_WARN:
    return "warn";
  case STORE_LOG_INFO:
    return "info";
  default:
    return "debug";
  }
}

static void on_log(void *ud, int32_t level, const char *msg)
{
  (void)ud;
  printf("log %s: %s\n", level_name(level), msg);
  fflush(stdout);
}

static int put(xtstore_svc *svc, char **a, store_error *err)
{
  store_put_result out;
  int rc;

  memset(&out, 0, sizeof(out));
  out.struct_size = sizeof(out);
  rc = xtstore_blob_put_file(svc, a[0], a[1], NULL, a[2], &out, err);
  printf("rc=%s size=%llu\n", rc ? "failed" : "ok",
         (unsigned long long)out.size);
  return rc;
}

static int delete_if_match(xtstore_svc *svc, char **a, store_error *err)
{
  store_delete_opts dop;
  int rc;

  memset(&dop, 0, sizeof(dop));
  dop.struct_size = sizeof(dop);
  dop.if_match = a[2];
  rc = xtstore_blob_delete(svc, a[0], a[1], &dop, err);
  printf("rc=%s\n", store_strerror(rc));
  return rc;
}

int main(int argc, char **argv)
{
  xtstore_ctx_opts co;
  xtstore_ctx *ctx = NULL;
  xtstore_svc *svc = NULL;
  store_error err;
  int rc, is_put = argc == 7 && !strcmp(argv[1], "put");

  if (argc != 7 || (!is_put && strcmp(argv[1], "delete-if-match"))) {
    fprintf(stderr, "usage: %s put CONFIG SERVICE CONTAINER KEY FILE\n"
            "       %s delete-if-match CONFIG SERVICE CONTAINER KEY ETAG\n",
            argv[0], argv[0]);
    return 2;
  }
  memset(&co, 0, sizeof(co));
  co.struct_size = sizeof(co);
  co.flags = XTSTORE_CTX_NO_SYSTEM_CONFIG | XTSTORE_CTX_NO_USER_CONFIG |
             XTSTORE_CTX_NO_CWD_CONFIG;
  co.config_path = argv[2];
  co.log = on_log;
  co.log_level = STORE_LOG_WARN;
  memset(&err, 0, sizeof(err));
  err.struct_size = sizeof(err);
  rc = xtstore_ctx_open(&co, &ctx, &err);
  if (!rc)
    rc = xtstore_service_open(ctx, argv[3], &svc, &err);
  if (rc) {
    fprintf(stderr, "s3_api_probe: setup: %s\n", err.message);
    xtstore_ctx_close(ctx);
    return 2;
  }
  memset(&err, 0, sizeof(err));
  err.struct_size = sizeof(err);
  rc = is_put ? put(svc, argv + 4, &err)
              : delete_if_match(svc, argv + 4, &err);
  if (rc)
    printf("error: %s\n", err.message);
  xtstore_ctx_close(ctx);
  return rc ? 1 : 0;
}
