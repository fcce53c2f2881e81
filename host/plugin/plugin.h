/*
** loader.h -- load one plugin file with libltdl and validate it.
**
** Validation runs in the order of DESIGN section 2, and each failure is one
** line that names the file and the failed check:
**   file found (search path shown) -> loads (the real dlerror) -> symbol
**   present -> header (major, minor, size, reserved, name) -> table copied
**   -> required ops non-NULL, each capability bit backed by its ops.
** module_init and open() are the registry's and the service's business.
*/
#ifndef ST_LOADER_H
#define ST_LOADER_H

#include <stddef.h>
#include <stdint.h>
#include "store_interface.h"

typedef struct st_module {
  char *path;               /* resolved absolute file name (owned)        */
  struct store_interface iface; /* host-side copy, zero-filled past the
                               plugin's struct_size                       */
  uint32_t plugin_struct_size; /* struct_size as the plugin declared it   */
  void *dl;                 /* lt_dlhandle; the module stays resident     */
  int initialized;          /* module_init ran (or was absent)            */
} st_module;

/*
** Load and validate the plugin file `path` (which must exist). On success
** *out is a new module the caller owns (st_module_free; the shared object
** itself stays resident). On failure *out is NULL, and err holds one line:
** "plugin PATH: <check>: <cause>". Thread-safe (libltdl calls are
** serialised inside).
** Returns 0, STORE_E_NOT_FOUND (no such file), STORE_E_INVALID (not
** loadable or not a valid plugin), STORE_E_IO or STORE_E_NOMEM.
*/
int st_module_load(const char *path, st_module **out, char *err, size_t errlen);

/* Free the module record (not the resident code). NULL is fine. */
void st_module_free(st_module *m);

/* Check a name against [a-z0-9_-]{1,64}. Returns non-zero when valid. */
int st_plugin_name_valid(const char *name);

/* Name of one capability bit ("containers", "range-get", ...), or NULL. */
const char *st_capability_name(uint64_t bit);

#endif /* ST_LOADER_H */
