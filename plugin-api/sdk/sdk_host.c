/*
** sdk_host.c -- questions to the host's table (sdk_host.h).
*/
#include "sdk_host.h"

int sdk_host_cancelled(const store_host_api *host)
{
  if (!host || !STORE_HAS_FIELD(store_host_api, is_cancelled,
                                host->struct_size) ||
      !host->is_cancelled)
    return 0;
  return host->is_cancelled(host->host_ctx) != 0;
}
