/*
** entry.c -- a caller's entry callback as the host hands it to a plugin:
** deliveries counted (a listing that delivered is not replayed), a stop
** held even against a plugin that ignores it, and such a plugin named.
*/
#include "core.h"

int32_t st_entry_guard_fn(void *guard, const store_entry *e)
{
  st_entry_guard *g = guard;

  if (g->stopped) {
    g->ignored++;
    return 1;
  }
  g->calls++;
  g->stopped = g->fn(g->ud, e) != 0;
  return g->stopped;
}

int st_entry_guard_result(const st_entry_guard *g, const xtstore_svc *svc,
                          int rc, store_error *err)
{
  if (g->ignored)
    st_log(svc->ctx, STORE_LOG_WARN, "service '%s': its plugin called back "
           "%d more time(s) after the callback asked to stop", svc->name,
           g->ignored);
  if (g->stopped && (rc == STORE_OK || g->ignored))
    return st_err(err, STORE_E_ABORTED, "stopped by the caller's callback%s",
                  g->ignored ? "; the plugin went on after the stop" : "");
  return rc;
}
