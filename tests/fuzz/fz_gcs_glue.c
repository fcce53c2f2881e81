/*
** fz_gcs_glue.c -- fuzz_json's call into the GCS provider's error mapper
** (its header and OCI's both define store_handle: one unit each).
*/
#include <string.h>

#include "gcs.h"
#include "fz_glue.h"

void fz_gcs_error(const sdk_response *resp)
{
  gcs_target t = {"get", "bucket", "key", NULL};
  store_error err;

  memset(&err, 0, sizeof(err));
  err.struct_size = sizeof(err);
  (void)gcs_fail_response(&t, resp, &err);
}
