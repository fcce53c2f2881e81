/*
** fuzz_json.c -- the JSON a GCS or OCI server answers with, on any bytes:
** the SDK's JSON helpers (sdk_json.h), and the two providers' error
** mappers (gcs_fail_response, oci_fail_response) on a response with that
** body, any status and a request id.
*/
#include <stdint.h>

#include <jansson.h>

#include "fz_glue.h"
#include "sdk_http.h"
#include "sdk_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const long statuses[] = {400, 401, 403, 404, 409, 412, 429, 500, 503};
  sdk_response *resp;
  json_t *obj = NULL;
  int64_t i64;
  uint64_t u64;

  if (size < 1)
    return 0;
  if (sdk_json_parse_object((const char *)data + 1, size - 1, "fuzz",
                            STORE_E_SERVER, &obj, NULL) == 0 && obj) {
    (void)sdk_json_str(obj, "name");
    (void)sdk_json_int64(obj, "size", &i64);
    (void)sdk_json_uint64(obj, "generation", &u64);
    json_decref(obj);
  }
  resp = sdk_response_new(statuses[data[0] % (sizeof statuses /
                                              sizeof statuses[0])]);
  if (!resp)
    return 0;
  if (sdk_response_add_header(resp, "opc-request-id", "req-1") == 0 &&
      sdk_response_add_header(resp, "x-guploader-uploadid", "up-1") == 0 &&
      sdk_response_append_body(resp, data + 1, size - 1) == 0) {
    fz_gcs_error(resp);
    fz_oci_error(resp);
  }
  sdk_response_free(resp);
  return 0;
}
