/*
** fuzz_config.c -- the configuration loader (host/config) on any text:
** parse, merge over the built-in layer's shapes, build the views, and
** resolve every service key that is not a reference (references would
** read the environment or files).
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char err[512], *yaml = malloc(size + 1), *v;
  st_config *cfg = NULL;
  size_t i, j;

  if (!yaml)
    return 0;
  memcpy(yaml, data, size);
  yaml[size] = '\0';
  if (st_config_load_string(yaml, "fuzz.yaml", &cfg, err, sizeof(err)) == 0) {
    for (i = 0; i < st_config_service_count(cfg); i++) {
      const st_service_cfg *s = st_config_service_at(cfg, i);
      for (j = 0; j < s->nkv; j++) {
        if (st_config_is_reference(s->kv[j].value))
          continue;
        if (st_config_resolve(cfg, s, s->kv[j].key, s->kv[j].value,
                              &s->kv[j].pos, &v, err, sizeof(err)) == 0)
          st_secret_free(v);
      }
    }
    st_config_free(cfg);
  }
  free(yaml);
  return 0;
}
