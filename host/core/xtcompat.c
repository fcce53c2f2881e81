/*
** xtcompat.c -- Microsoft XT's storage providers in an XT config, as the
** native plugins that do their job, so that an existing xt_config.yaml
** works unchanged: XT registers its providers by Python class path
** ("xtlib.storage.store_file.FileStore") and its services name them by
** XT's provider names ("store-file", "azure-blob-21"), with XT's keys,
** which the native plugins take as they are (local's `path`; azure's `key`,
** with the service name as the account, as XT does).
*/
#include <ctype.h>
#include <string.h>

#include "core.h"

static const struct {
  const char *xt;               /* XT's provider name, or its class path */
  const char *plugin;           /* the native plugin                     */
} xt_providers[] = {
  {"store-file", "store-local"},
  {"azure-blob-21", "store-azure"},
  {"azure-blob-210", "store-azure"},
  {"xtlib.storage.store_file.FileStore", "store-local"},
  {"xtlib.storage.store_azure_blob21.AzureBlobStore21", "store-azure"},
  {"xtlib.storage.store_azure_blob210.AzureBlobStore210", "store-azure"},
};

/* Is spec a dotted Python path (package.module.Class), not a plugin? */
static int is_python_path(const char *spec)
{
  const char *p;
  int dots = 0;

  if (!spec || !(isalpha((unsigned char)*spec) || *spec == '_'))
    return 0;
  for (p = spec; *p; p++) {
    if (*p == '.') {
      if (!(isalpha((unsigned char)p[1]) || p[1] == '_'))
        return 0;
      dots++;
    } else if (!isalnum((unsigned char)*p) && *p != '_') {
      return 0;
    }
  }
  return dots >= 1 && strcmp(p - 3 > spec ? p - 3 : spec, ".so") != 0;
}

const char *st_xt_plugin_spec(const char *provider, const char *spec,
                              int *out_python)
{
  size_t i;

  *out_python = 0;
  for (i = 0; i < sizeof(xt_providers) / sizeof(xt_providers[0]); i++)
    if ((spec && strcmp(spec, xt_providers[i].xt) == 0) ||
        (!spec && provider && strcmp(provider, xt_providers[i].xt) == 0))
      return xt_providers[i].plugin;
  if (is_python_path(spec)) {
    *out_python = 1;
    return NULL;
  }
  return spec;
}
