/*
** oci_config.c -- the service entry, the environment and the OCI config
** file resolved into the handle's key, key id, endpoint, compartment and
** namespace. No network: the namespace, when not configured, is asked
** for by the first request that needs it (oci_request.c).
**
** Each credential value comes from the entry's own key (user, tenancy,
** fingerprint, key or key-file, pass-phrase, region) when set, else from
** the profile of the config file: `profile`, else $OCI_CLI_PROFILE, else
** DEFAULT, in `config-file`, else $OCI_CONFIG_FILE, else ~/.oci/config.
** A profile's missing values are taken from [DEFAULT], as the OCI SDKs
** read the file. A relative key_file in the file is looked for in the
** working directory, as the OCI SDKs open it, then in the file's
** directory (so a config file and its keys can also move together, as
** the ADLS->OCI migrator kept them); "~/" is the home directory, in the
** file and in the entry's key-file. The file is read only when the entry
** lacks something it could give. No secret ever reaches a message.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci.h"
#include "sdk_ini.h"

#define DEFAULT_PROFILE "DEFAULT"

typedef struct cfg_src {
  const store_kv *kv;
  size_t n;
  char path[2048];              /* the config file's path, ~ expanded     */
  const char *path_from;        /* what named it, for messages            */
  const char *profile;
  int profile_named;            /* by the service or $OCI_CLI_PROFILE     */
  sdk_ini *ini;
  int loaded;
} cfg_src;

static const char *env_get(const char *name)
{
  const char *v = getenv(name);
  return v && *v ? v : NULL;
}

/* "~/x" as $HOME/x into out; anything else as it is. */
static void expand_home(const char *p, char *out, size_t cap)
{
  const char *home = env_get("HOME");

  if (!strncmp(p, "~/", 2) && home)
    snprintf(out, cap, "%s%s", home, p + 1);
  else
    snprintf(out, cap, "%s", p);
}

/* The file, once. One that does not exist is an error only when the
 * service named it (config-file, $OCI_CONFIG_FILE): the default is
 * optional when the service's keys say everything. */
static int32_t load_file(cfg_src *s, store_error *err)
{
  if (s->loaded)
    return STORE_OK;
  s->loaded = 1;
  if (sdk_ini_load(s->path, &s->ini))
    return store_error_set(err, STORE_E_CONFIG,
                           "oci: cannot read config file '%.200s' (%s): %s",
                           s->path, s->path_from, strerror(errno));
  if (!s->ini && strcmp(s->path_from, "the default"))
    return store_error_set(err, STORE_E_CONFIG,
                           "oci: config file '%.200s' (%s) does not exist",
                           s->path, s->path_from);
  /* A profile asked for must be there; DEFAULT may be absent when the
   * service's own keys say everything. */
  if (s->ini && s->profile_named && !sdk_ini_has_section(s->ini, s->profile))
    return store_error_set(err, STORE_E_CONFIG,
                           "oci: config file '%.200s' has no profile "
                           "[%.64s]", s->path, s->profile);
  return STORE_OK;
}

/* The entry's `key`, else the profile's `ini_key` (or DEFAULT's), else
 * NULL. *from says which (for messages). */
static int32_t value(cfg_src *s, const char *key, const char *ini_key,
                     const char **out, const char **from, store_error *err)
{
  int32_t rc;

  *out = key ? sdk_kv_get(s->kv, s->n, key) : NULL;
  if (*out) {
    if (from)
      *from = "service";
    return STORE_OK;
  }
  if (!ini_key)
    return STORE_OK;
  rc = load_file(s, err);
  if (rc)
    return rc;
  *out = sdk_ini_get(s->ini, s->profile, ini_key);
  if (!*out)
    *out = sdk_ini_get(s->ini, DEFAULT_PROFILE, ini_key);
  if (from)
    *from = "file";
  return STORE_OK;
}

/* A required value: missing is a clear error naming both places. */
static int32_t need(cfg_src *s, const char *key, const char *ini_key,
                    const char **out, const char **from, store_error *err)
{
  int32_t rc = value(s, key, ini_key, out, from, err);

  if (!rc && (!*out || !**out))
    rc = store_error_set(err, STORE_E_CONFIG,
                         "oci: no '%s': set it in the service or as %s in "
                         "profile [%.64s] of '%.200s'%s", key, ini_key,
                         s->profile, s->path,
                         s->ini ? "" : " (which does not exist)");
  return rc;
}

static int32_t dup_to(char **dst, const char *v, store_error *err)
{
  *dst = strdup(v);
  return *dst ? STORE_OK : store_error_set(err, STORE_E_NOMEM, "oci: open");
}

/* A relative key_file of the file: the OCI SDKs (Python's
 * oci.config.from_file, npm oci-common) open it from the working
 * directory, so that comes first; then the file's directory, so a config
 * file and its keys can also move together. Neither: an error naming
 * both. */
static int32_t key_path(const cfg_src *s, const char *file, char *out,
                        size_t cap, store_error *err)
{
  const char *slash = strrchr(s->path, '/');
  int dirlen = slash ? (int)(slash - s->path) : 1;
  char cwd[1024];

  if (!access(file, F_OK)) {
    snprintf(out, cap, "%s", file);
    return STORE_OK;
  }
  if (slash)
    snprintf(out, cap, "%.*s/%s", (int)(slash - s->path), s->path, file);
  else
    snprintf(out, cap, "%s", file);
  if (!access(out, F_OK))
    return STORE_OK;
  if (!getcwd(cwd, sizeof(cwd)))
    snprintf(cwd, sizeof(cwd), ".");
  /* (Short: two directories in STORE_ERR_MSG_SIZE, with the host's
   * prefix.) */
  return store_error_set(err, STORE_E_CONFIG,
                         "oci: key_file '%s' is neither in %s (working "
                         "directory) nor in %.*s (config file's)",
                         file, cwd, dirlen, slash ? s->path : ".");
}

/* The private key: inline `key`, else the entry's `key-file`, else the
 * profile's key_file (key_path). */
static int32_t load_key(store_handle *h, cfg_src *s, store_error *err)
{
  const char *pem = sdk_kv_get(s->kv, s->n, "key"), *file = NULL, *pass,
             *from = NULL;
  char path[2048];
  int32_t rc;

  rc = value(s, "pass-phrase", "pass_phrase", &pass, NULL, err);
  if (rc)
    return rc;
  if (pass && !*pass)
    pass = NULL;
  if (pem)
    return sdk_rsa_key_load_pem(pem, strlen(pem), pass,
                                "service key 'key'", &h->key, err);
  rc = need(s, "key-file", "key_file", &file, &from, err);
  if (rc)
    return rc;
  if (!strcmp(from, "file") && file[0] != '/' && file[0] != '~')
    rc = key_path(s, file, path, sizeof(path), err);
  else
    expand_home(file, path, sizeof(path));
  if (rc)
    return rc;
  rc = sdk_rsa_key_load_file(path, pass, &h->key, err);
  if (rc) {
    char msg[STORE_ERR_MSG_SIZE];
    snprintf(msg, sizeof(msg), "%s", err ? err->message : "");
    store_error_set(err, rc, "oci: %s", msg);
  }
  return rc;
}

/* `endpoint`, else https://objectstorage.REGION.oraclecloud.com. */
static int32_t set_endpoint(store_handle *h, cfg_src *s, store_error *err)
{
  const char *ep = sdk_kv_get(s->kv, s->n, "endpoint"), *region;
  size_t n;
  int32_t rc;

  /* The region names the endpoint, and a copy's destination. */
  rc = ep ? value(s, "region", "region", &region, NULL, err)
          : need(s, "region", "region", &region, NULL, err);
  if (rc)
    return rc;
  for (const char *c = region ? region : ""; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
      return store_error_set(err, STORE_E_CONFIG,
                             "oci: region '%.64s' is not a region "
                             "identifier such as us-ashburn-1", region);
  if (region && *region) {
    rc = dup_to(&h->region, region, err);
    if (rc)
      return rc;
  }
  if (!ep) {
    if (asprintf(&h->endpoint, "https://objectstorage.%s.oraclecloud.com",
                 region) < 0) {
      h->endpoint = NULL;
      return store_error_set(err, STORE_E_NOMEM, "oci: open");
    }
    return STORE_OK;
  }
  if ((strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8)) ||
      strpbrk(ep, "?# \t\r\n"))
    return store_error_set(err, STORE_E_CONFIG,
                           "oci: endpoint '%.128s' is not an http:// or "
                           "https:// URL without query", ep);
  rc = dup_to(&h->endpoint, ep, err);
  if (rc)
    return rc;
  n = strlen(h->endpoint);
  while (n && h->endpoint[n - 1] == '/')
    h->endpoint[--n] = '\0';
  return STORE_OK;
}

/* OCIDs and fingerprints go into the keyId header parameter: no quote,
 * no control byte. */
static int32_t plain(const char *what, const char *v, store_error *err)
{
  for (const char *c = v; *c; c++)
    if ((unsigned char)*c < 0x21 || *c == '"' || *c == 0x7f)
      return store_error_set(err, STORE_E_CONFIG,
                             "oci: '%s' holds a blank, quote or control "
                             "character", what);
  return STORE_OK;
}

int32_t oci_config_open(store_handle *h, const store_kv *cfg, size_t n,
                        store_error *err)
{
  const char *file = sdk_kv_get(cfg, n, "config-file");
  const char *user, *tenancy, *fp, *v;
  cfg_src s;
  int32_t rc;

  memset(&s, 0, sizeof(s));
  s.kv = cfg;
  s.n = n;
  s.path_from = "config key 'config-file'";
  if (!file && (file = env_get("OCI_CONFIG_FILE")))
    s.path_from = "$OCI_CONFIG_FILE";
  if (!file) {
    file = "~/.oci/config";
    s.path_from = "the default";
  }
  expand_home(file, s.path, sizeof(s.path));
  s.profile = sdk_kv_get(cfg, n, "profile");
  if (!s.profile)
    s.profile = env_get("OCI_CLI_PROFILE");
  s.profile_named = s.profile != NULL;
  if (!s.profile)
    s.profile = DEFAULT_PROFILE;

  rc = need(&s, "user", "user", &user, NULL, err);
  if (!rc)
    rc = need(&s, "tenancy", "tenancy", &tenancy, NULL, err);
  if (!rc)
    rc = need(&s, "fingerprint", "fingerprint", &fp, NULL, err);
  if (!rc)
    rc = plain("user", user, err);
  if (!rc)
    rc = plain("tenancy", tenancy, err);
  if (!rc)
    rc = plain("fingerprint", fp, err);
  if (rc)
    goto out;
  if (asprintf(&h->key_id, "%s/%s/%s", tenancy, user, fp) < 0) {
    h->key_id = NULL;
    rc = store_error_set(err, STORE_E_NOMEM, "oci: open");
    goto out;
  }
  v = sdk_kv_get(cfg, n, "compartment");
  rc = dup_to(&h->compartment, v ? v : tenancy, err);
  if (rc)
    goto out;
  v = sdk_kv_get(cfg, n, "namespace");
  if (v) {
    for (const char *c = v; *c; c++)
      if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
            (*c >= 'A' && *c <= 'Z') || *c == '-' || *c == '_'))
        v = "";
    if (!*v) {
      rc = store_error_set(err, STORE_E_CONFIG,
                           "oci: 'namespace' must be letters, digits, '-' "
                           "and '_'");
      goto out;
    }
    rc = dup_to(&h->ns, v, err);
    if (rc)
      goto out;
  }
  v = sdk_kv_get(cfg, n, "bucket-versioning");
  if (v && (h->versioning = sdk_parse_bool(v)) < 0) {
    rc = store_error_set(err, STORE_E_CONFIG,
                         "oci: config key 'bucket-versioning': '%.64s' is "
                         "not true or false", v);
    goto out;
  }
  rc = set_endpoint(h, &s, err);
  if (rc)
    goto out;
  rc = load_key(h, &s, err);
out:
  sdk_ini_free(s.ini);
  return rc;
}
