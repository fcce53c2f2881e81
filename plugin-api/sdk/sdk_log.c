/*
** sdk_log.c -- one log line to the host, for providers: formatted, cut to
** a line, with every control byte of what it quotes (server text, keys)
** replaced, and nothing sent when the host has no log function.
*/
#include <stdarg.h>
#include <stdio.h>

#include "sdk_util.h"

void sdk_log(const store_host_api *host, int32_t level, const char *fmt, ...)
{
  char line[512];
  va_list ap;

  if (!host || !STORE_HAS_FIELD(store_host_api, log, host->struct_size) ||
      !host->log)
    return;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  host->log(host->host_ctx, level, sdk_text_clean(line));
}
