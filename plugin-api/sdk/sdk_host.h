/*
** sdk_host.h -- asking the host's table (store_host_api) what a plugin
** may ask it, minding that a host built against an older ABI minor may
** lack a field.
*/
#ifndef SDK_HOST_H
#define SDK_HOST_H

#include "store_interface.h"

/* Non-zero once the host asks the running operation to stop: its
 * is_cancelled said so. 0 when host is NULL, or its table has no
 * is_cancelled (older minor, or NULL). Poll it between requests and
 * chunks of long operations. */
int sdk_host_cancelled(const store_host_api *host);

#endif /* SDK_HOST_H */
