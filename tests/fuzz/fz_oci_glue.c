/*
** fz_oci_glue.c -- fuzz_json's call into the OCI provider's error mapper.
*/
#include <string.h>

#include "oci.h"
#include "fz_glue.h"

void fz_oci_error(const sdk_response *resp)
{
  oci_target t = {"get", "bucket", "key", NULL};
  store_error err;

  memset(&err, 0, sizeof(err));
  err.struct_size = sizeof(err);
  (void)oci_fail_response(&t, resp, &err);
}
