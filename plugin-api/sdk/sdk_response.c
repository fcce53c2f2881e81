/*
** sdk_response.c -- a received HTTP response (sdk_http.h): status,
** headers in arrival order, and the buffered body. sdk_transfer.c fills
** it; providers' tests may also build one by hand.
*/
#include <stdlib.h>
#include <string.h>

#include "sdk_int.h"

sdk_response *sdk_response_new(long status)
{
  sdk_response *resp = calloc(1, sizeof(*resp));

  if (resp)
    resp->status = status;
  return resp;
}

int sdk_response_add_header(sdk_response *resp, const char *name,
                            const char *value)
{
  return sdk__hdrs_add(&resp->hdrs, name, strlen(name), value, strlen(value));
}

int sdk_response_append_body(sdk_response *resp, const void *data, size_t len)
{
  return sdk_buf_append(&resp->body, data, len);
}

long sdk_response_status(const sdk_response *resp)
{
  return resp->status;
}

const char *sdk_response_header(const sdk_response *resp, const char *name)
{
  return sdk__hdrs_get(&resp->hdrs, name, 1);
}

uint64_t sdk_response_total_size(const sdk_response *resp)
{
  const char *v = sdk_response_header(resp, "Content-Range");
  const char *slash = v ? strrchr(v, '/') : NULL;

  if (slash && slash[1] != '*')
    return strtoull(slash + 1, NULL, 10);
  v = sdk_response_header(resp, "Content-Length");
  return v ? strtoull(v, NULL, 10) : 0;
}

size_t sdk_response_header_count(const sdk_response *resp)
{
  return resp->hdrs.n;
}

const char *sdk_response_header_name(const sdk_response *resp, size_t i)
{
  return i < resp->hdrs.n ? resp->hdrs.v[i].name : NULL;
}

const char *sdk_response_header_value(const sdk_response *resp, size_t i)
{
  return i < resp->hdrs.n ? resp->hdrs.v[i].value : NULL;
}

const char *sdk_response_body(const sdk_response *resp, size_t *len)
{
  if (len)
    *len = resp->body.len;
  return sdk_buf_str(&resp->body);
}

void sdk_response_free(sdk_response *resp)
{
  if (!resp)
    return;
  sdk__hdrs_free(&resp->hdrs);
  sdk_buf_free(&resp->body);
  free(resp);
}
