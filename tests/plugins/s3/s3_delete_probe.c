/*
** s3_delete_probe.c -- one xtstore_blob_delete through the public API with
** store_delete_opts.if_match, which the CLI never sets (only the removal of
** a wrong put or copy does), for test_delete_if_match.sh:
**
**   s3_delete_probe CONFIG SERVICE CONTAINER KEY ETAG
**
** stdout: "rc=NAME" (store_strerror's name) and, on failure, "error:
** MESSAGE". Exit 0 when the delete succeeded, 1 when it failed, 2 on a
** usage or setup error.
*/
#include <stdio.h>
#include <string.h>

#include "xtstore.h"

int main(int argc, char **argv)
{
  xtstore_ctx_opts co;
  xtstore_ctx *ctx = NULL;
  xtstore_svc *svc = NULL;
  store_delete_opts dop;
  store_error err;
  int rc;

  if (argc != 6) {
    fprintf(stderr, "usage: %s CONFIG SERVICE CONTAINER KEY ETAG\n", argv[0]);
    return 2;
  }
  memset(&co, 0, sizeof(co));
  co.struct_size = sizeof(co);
  co.flags = XTSTORE_CTX_NO_SYSTEM_CONFIG | XTSTORE_CTX_NO_USER_CONFIG |
             XTSTORE_CTX_NO_CWD_CONFIG;
  co.config_path = argv[1];
  memset(&err, 0, sizeof(err));
  err.struct_size = sizeof(err);
  rc = xtstore_ctx_open(&co, &ctx, &err);
  if (!rc)
    rc = xtstore_service_open(ctx, argv[2], &svc, &err);
  if (rc) {
    fprintf(stderr, "s3_delete_probe: setup: %s\n", err.message);
    xtstore_ctx_close(ctx);
    return 2;
  }
  memset(&dop, 0, sizeof(dop));
  dop.struct_size = sizeof(dop);
  dop.if_match = argv[5];
  memset(&err, 0, sizeof(err));
  err.struct_size = sizeof(err);
  rc = xtstore_blob_delete(svc, argv[3], argv[4], &dop, &err);
  printf("rc=%s\n", store_strerror(rc));
  if (rc)
    printf("error: %s\n", err.message);
  xtstore_ctx_close(ctx);
  return rc ? 1 : 0;
}
