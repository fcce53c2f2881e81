/*
** sdk_parallel.h -- run fn(ud, i) for every i in [0, n) on a few threads:
** for many small independent requests (per-object deletes where the
** service has no batch call). Not a pool: threads live for one call.
*/
#ifndef SDK_PARALLEL_H
#define SDK_PARALLEL_H

#include <stddef.h>
#include <stdint.h>

#include "store_interface.h"

/* One item's work: STORE_OK, or a STORE_E_* with err (the calling
 * thread's own, zeroed) filled. Called from several threads at once. */
typedef int32_t (*sdk_parallel_fn)(void *ud, size_t i, store_error *err);

/*
** fn(ud, i) for every i in [0, n) on up to `nthreads` threads (the
** caller's one of them; fewer when threads cannot be started). The first
** failure stops handing out items (those running finish) and is the
** result, its error copied into err (may be NULL). Joins every thread
** before returning.
*/
int32_t sdk_parallel(size_t n, unsigned nthreads, sdk_parallel_fn fn,
                     void *ud, store_error *err);

#endif
