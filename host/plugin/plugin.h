/*
** plugin.h -- the plugin layer (host/plugin/), above config/: loading one
** plugin file and validating it (loader.c), and the set of loaded plugins
** with their search path (registry.c).
**
** Validation runs in the order of plugin-api/PLUGIN_GUIDE.md section 6
** ("What the host checks"), and each failure is one line that names the
** file and the failed check:
**   file found (search path shown) -> loads (the real dlerror) -> symbol
**   present -> header (major, minor, size, reserved, name) -> table copied
**   -> required ops non-NULL, each capability bit backed by its ops.
** module_init and open() are the registry's and the service's business.
*/
#ifndef ST_PLUGIN_H
#define ST_PLUGIN_H

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

/* ------------------------------------------------------------------------ */
/*
** registry.c: the set of loaded plugins and the plugin search path.
**
** A plugin spec from the config is either a path (contains '/') or a bare
** name such as "store-local", resolved to NAME.so (or NAME when it already
** ends in .so) in each search directory in order. Modules are cached by
** resolved path, names must be unique among loaded modules, module_init runs
** once per module, and module_fini runs for every initialised module when
** the registry is freed. Thread-safe.
*/
typedef struct st_registry st_registry;

/* New empty registry; `host` must outlive it. *out NULL on failure. */
int st_registry_new(const store_host_api *host, st_registry **out);

/* module_fini for every initialised module, then free. NULL is fine. */
void st_registry_free(st_registry *reg);

/* Append one directory (copied) to the search path; `~` is expanded.
 * Empty strings are ignored. */
int st_registry_add_dir(st_registry *reg, const char *dir);

/* Append each entry of a colon-separated list (e.g. $XTSTORE_PLUGIN_PATH). */
int st_registry_add_path_list(st_registry *reg, const char *list);

/* Append the default directories, after anything added before: the user
 * plugin directory (st_registry_user_dir), the plugin directory of the
 * build tree or install that libxtstore itself was loaded from, and the
 * compiled-in install directory. */
int st_registry_add_defaults(st_registry *reg);

size_t st_registry_dir_count(const st_registry *reg);
const char *st_registry_dir_at(const st_registry *reg, size_t i);

/* The user plugin directory: $XDG_DATA_HOME/xtstore/plugins or
 * ~/.local/share/xtstore/plugins. Returns 0, or -1 if it does not fit. */
int st_registry_user_dir(char *buf, size_t len);

/*
** Resolve `spec`, load, validate and module_init it (once). On success
** *out points at the registry-owned module (valid until st_registry_free).
** On failure *out is NULL and err holds one line naming the spec or file
** and the failed check; "not found" lists every directory searched.
** A second, different file whose plugin has an already-loaded name fails
** with "duplicate plugin name".
** Returns 0; STORE_E_NOT_FOUND / STORE_E_INVALID from resolving or loading
** (st_module_load); STORE_E_EXISTS for a duplicate name; module_init's own
** code when it fails (STORE_E_INTERNAL if that is not positive).
*/
int st_registry_load(st_registry *reg, const char *spec,
                     const st_module **out, char *err, size_t errlen);

/* Resolve a spec to a file path without loading. 0 on success. */
int st_registry_resolve(const st_registry *reg, const char *spec,
                        char *buf, size_t len, char *err, size_t errlen);

#endif /* ST_PLUGIN_H */
