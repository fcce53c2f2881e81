/*
** s3_put_probe.c -- one xtstore_blob_put_file through the public API, with
** the put result and the context's log printed, for the end-to-end tests
** that need what the CLI does not show (test_faults.sh):
**
**   s3_put_probe CONFIG SERVICE CONTAINER KEY FILE
**
** stdout: "log LEVEL: MESSAGE" per log line (warnings and up), then
** "rc=NAME size=N" and, on failure, "error: MESSAGE". Exit 0 when the put
** succeeded, 1 when it failed, 2 on a usage or setup error.
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

int main(int argc, char **argv)
{
  xtstore_ctx_opts co;
  xtstore_ctx *ctx = NULL;
  xtstore_svc *svc = NULL;
  store_put_result out;
  store_error err;
  int rc;

  if (argc != 6) {
    fprintf(stderr, "usage: %s CONFIG SERVICE CONTAINER KEY FILE\n",
            argv[0]);
    return 2;
  }
  memset(&co, 0, sizeof(co));
  co.struct_size = sizeof(co);
  co.flags = XTSTORE_CTX_NO_SYSTEM_CONFIG | XTSTORE_CTX_NO_USER_CONFIG |
             XTSTORE_CTX_NO_CWD_CONFIG;
  co.config_path = argv[1];
  co.log = on_log;
  co.log_level = STORE_LOG_WARN;
  memset(&err, 0, sizeof(err));
  err.struct_size = sizeof(err);
  rc = xtstore_ctx_open(&co, &ctx, &err);
  if (!rc)
    rc = xtstore_service_open(ctx, argv[2], &svc, &err);
  if (rc) {
    fprintf(stderr, "s3_put_probe: setup: %s\n", err.message);
    xtstore_ctx_close(ctx);
    return 2;
  }
  memset(&out, 0, sizeof(out));
  out.struct_size = sizeof(out);
  memset(&err, 0, sizeof(err));
  err.struct_size = sizeof(err);
  rc = xtstore_blob_put_file(svc, argv[3], argv[4], NULL, argv[5], &out,
                             &err);
  printf("rc=%s size=%llu\n", rc ? "failed" : "ok",
         (unsigned long long)out.size);
  if (rc)
    printf("error: %s\n", err.message);
  xtstore_ctx_close(ctx);
  return rc ? 1 : 0;
}
