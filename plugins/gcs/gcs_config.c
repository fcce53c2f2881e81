/*
** gcs_config.c -- the service entry and the environment resolved into the
** handle's endpoint, project and credentials. No network: the first
** operation fetches the first token.
**
** Credentials, first match wins: `access-token` (static); `anonymous:
** true` (none); `credentials-file` ("~/" is $HOME);
** $GOOGLE_APPLICATION_CREDENTIALS;
** ~/.config/gcloud/application_default_credentials.json when it exists;
** none when the endpoint is $STORAGE_EMULATOR_HOST's (as Google's clients
** treat an emulator).
** Files are service-account or authorized_user JSON, as Google's clients
** read them; `token-uri` overrides where their tokens come from.
** The endpoint is `endpoint`, else $STORAGE_EMULATOR_HOST (a URL, or
** host:port taken as http://, as Google's clients take it), else
** GCS_DEFAULT_ENDPOINT. The project is `project`, else the file's, else
** $GOOGLE_CLOUD_PROJECT.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gcs.h"

static int32_t set_endpoint(store_handle *h, const char *ep, const char *from,
                            store_error *err)
{
  size_t n;
  int bare;

  if (!ep || !*ep)
    ep = GCS_DEFAULT_ENDPOINT;
  bare = strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8);
  if (strpbrk(ep, "?# \t\r\n") || (bare && strstr(ep, "://")))
    return store_error_set(err, STORE_E_CONFIG,
                           "gcs: %s '%.128s' is not an http:// or https:// "
                           "URL (or host:port) without query", from, ep);
  if (asprintf(&h->endpoint, "%s%s", bare ? "http://" : "", ep) < 0) {
    h->endpoint = NULL;
    return store_error_set(err, STORE_E_NOMEM, "gcs: open");
  }
  n = strlen(h->endpoint);
  while (n && h->endpoint[n - 1] == '/')
    h->endpoint[--n] = '\0';
  return STORE_OK;
}

/* The credentials file to read, and how it was found, or NULL with *path
 * NULL when there is none. *path is owned. */
static int32_t find_file(const char *configured, char **path,
                         const char **from, store_error *err)
{
  const char *env = getenv("GOOGLE_APPLICATION_CREDENTIALS");
  const char *home = getenv("HOME");

  *path = NULL;
  if (configured && !strncmp(configured, "~/", 2) && home && *home) {
    *from = "config key 'credentials-file'";
    if (asprintf(path, "%s%s", home, configured + 1) < 0)
      *path = NULL;
  } else if (configured) {
    *from = "config key 'credentials-file'";
    *path = strdup(configured);
  } else if (env && *env) {
    *from = "$GOOGLE_APPLICATION_CREDENTIALS";
    *path = strdup(env);
  } else if (home && *home) {
    if (asprintf(path, "%s/.config/gcloud/application_default_credentials."
                       "json", home) < 0)
      *path = NULL;
    else if (access(*path, F_OK)) {
      free(*path);
      *path = NULL;
      return STORE_OK;
    }
    *from = "gcloud's application default credentials";
  } else {
    return STORE_OK;
  }
  return *path ? STORE_OK : store_error_set(err, STORE_E_NOMEM, "gcs: open");
}

static int32_t set_auth(store_handle *h, const store_kv *cfg, size_t n,
                        int emulator, store_error *err)
{
  const char *token = sdk_kv_get(cfg, n, "access-token");
  const char *anon = sdk_kv_get(cfg, n, "anonymous");
  const char *token_uri = sdk_kv_get(cfg, n, "token-uri");
  const char *from = NULL;
  char *path = NULL;
  int is_anon = 0;
  int32_t rc;

  if (anon && (is_anon = sdk_parse_bool(anon)) < 0)
    return store_error_set(err, STORE_E_CONFIG, "gcs: config key "
                           "'anonymous': '%.64s' is not true or false", anon);
  if (token) {
    rc = sdk_oauth_from_token(token, &h->auth, err);
    if (rc)
      return store_error_set(err, rc, "gcs: config key 'access-token': "
                             "empty, or holds blanks or line breaks");
    h->cred_what = strdup("config key 'access-token'");
    return h->cred_what ? STORE_OK
                        : store_error_set(err, STORE_E_NOMEM, "gcs: open");
  }
  if (is_anon)
    return STORE_OK;
  rc = find_file(sdk_kv_get(cfg, n, "credentials-file"), &path, &from, err);
  if (rc)
    return rc;
  /* As Google's clients do: an emulator without credentials is used
   * anonymously. */
  if (!path && emulator)
    return STORE_OK;
  if (!path)
    return store_error_set(err, STORE_E_CONFIG,
                           "gcs: no credentials: set 'credentials-file', "
                           "'access-token' or 'anonymous: true' (or "
                           "$GOOGLE_APPLICATION_CREDENTIALS, or run gcloud "
                           "auth application-default login)");
  if (token_uri && strncmp(token_uri, "http://", 7) &&
      strncmp(token_uri, "https://", 8)) {
    free(path);
    return store_error_set(err, STORE_E_CONFIG, "gcs: config key "
                           "'token-uri': '%.128s' is not an http:// or "
                           "https:// URL", token_uri);
  }
  rc = sdk_oauth_from_file(path, GCS_SCOPE, token_uri, &h->auth, err);
  if (rc) {
    char msg[STORE_ERR_MSG_SIZE];
    snprintf(msg, sizeof(msg), "%s", err ? err->message : "");
    store_error_set(err, rc, "gcs: %s (%s)", msg, from);
  } else if (asprintf(&h->cred_what, "%s '%s'", from, path) < 0) {
    h->cred_what = NULL;
    rc = store_error_set(err, STORE_E_NOMEM, "gcs: open");
  }
  free(path);
  return rc;
}

int32_t gcs_config_open(store_handle *h, const store_kv *cfg, size_t n,
                        store_error *err)
{
  const char *ep = sdk_kv_get(cfg, n, "endpoint");
  const char *from = "config key 'endpoint'";
  const char *project = sdk_kv_get(cfg, n, "project");
  const char *vb = sdk_kv_get(cfg, n, "versioned-buckets");
  int32_t rc;

  if (vb && (h->versioned_buckets = sdk_parse_bool(vb)) < 0)
    return store_error_set(err, STORE_E_CONFIG, "gcs: config key "
                           "'versioned-buckets': '%.64s' is not true or "
                           "false", vb);
  if (!ep && (ep = getenv("STORAGE_EMULATOR_HOST")))
    from = "$STORAGE_EMULATOR_HOST";
  rc = set_endpoint(h, ep, from, err);
  if (rc)
    return rc;
  rc = set_auth(h, cfg, n, !strcmp(from, "$STORAGE_EMULATOR_HOST"), err);
  if (rc)
    return rc;
  if (!project && h->auth)
    project = sdk_oauth_project(h->auth);
  if (!project)
    project = getenv("GOOGLE_CLOUD_PROJECT");
  if (project && *project && !(h->project = strdup(project)))
    return store_error_set(err, STORE_E_NOMEM, "gcs: open");
  return STORE_OK;
}
