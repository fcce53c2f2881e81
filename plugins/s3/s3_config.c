/*
** s3_config.c -- the service entry, the environment and the AWS shared
** files, resolved into one s3_settings. No network: open() stays lazy.
**
** Credentials, first found wins (the AWS SDKs' order, with an explicit
** `profile` key taking the place of code that names a profile):
**   1. access-key + secret-key (+ session-token) keys of the entry
**   2. the entry's `profile` key: that profile in the shared files
**   3. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN)
**   4. the profile $AWS_PROFILE, else "default", in the shared files:
**      $AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials), section NAME,
**      then $AWS_CONFIG_FILE (~/.aws/config), section "profile NAME"
**      ("default" for the default profile)
** Region: the `region` key, AWS_REGION, AWS_DEFAULT_REGION, the profile's
** region in the config file, us-east-1.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3.h"
#include "sdk_ini.h"
#include "sdk_util.h"

/* The two shared files, loaded on first need. */
typedef struct shared_files {
  s3_getenv_fn env;
  char cred_path[1024], conf_path[1024];
  sdk_ini *cred, *conf;
  int loaded;
} shared_files;

static const char *env_get(s3_getenv_fn env, const char *name)
{
  const char *v = env(name);
  return v && *v ? v : NULL;
}

/* $VAR, else ~/.aws/NAME. */
static void shared_path(s3_getenv_fn env, const char *var, const char *name,
                        char *out, size_t cap)
{
  const char *v = env_get(env, var), *home = env_get(env, "HOME");

  if (v)
    snprintf(out, cap, "%s", v);
  else
    snprintf(out, cap, "%s/.aws/%s", home ? home : "", name);
}

static int32_t files_load(shared_files *f, store_error *err)
{
  if (f->loaded)
    return STORE_OK;
  f->loaded = 1;
  shared_path(f->env, "AWS_SHARED_CREDENTIALS_FILE", "credentials",
              f->cred_path, sizeof(f->cred_path));
  shared_path(f->env, "AWS_CONFIG_FILE", "config", f->conf_path,
              sizeof(f->conf_path));
  if (sdk_ini_load(f->cred_path, &f->cred))
    return store_error_set(err, STORE_E_CONFIG, "s3: cannot read '%.200s': "
                           "%s", f->cred_path, strerror(errno));
  if (sdk_ini_load(f->conf_path, &f->conf))
    return store_error_set(err, STORE_E_CONFIG, "s3: cannot read '%.200s': "
                           "%s", f->conf_path, strerror(errno));
  return STORE_OK;
}

static void files_free(shared_files *f)
{
  sdk_ini_free(f->cred);
  sdk_ini_free(f->conf);
}

/* A profile's key: credentials file first, then the config file. */
static const char *profile_get(const shared_files *f, const char *profile,
                               const char *key, const char **from)
{
  char section[300];
  const char *v = sdk_ini_get(f->cred, profile, key);

  *from = f->cred_path;
  if (v && *v)
    return v;
  snprintf(section, sizeof(section), "profile %s", profile);
  v = sdk_ini_get(f->conf, section, key);
  if (!v && !strcmp(profile, "default"))
    v = sdk_ini_get(f->conf, "default", key);
  *from = f->conf_path;
  return v && *v ? v : NULL;
}

static int32_t dup_into(char **dst, const char *v, store_error *err)
{
  if (!v)
    return STORE_OK;
  *dst = strdup(v);
  return *dst ? STORE_OK
              : store_error_set(err, STORE_E_NOMEM, "s3: out of memory");
}

/* Keys from one profile; NOT_FOUND (err untouched) when it has none. */
static int32_t from_profile(shared_files *f, const char *profile,
                            s3_settings *s, store_error *err)
{
  const char *ak, *sk, *tok, *from_ak, *from_sk, *from_tok;
  int32_t rc = files_load(f, err);

  if (rc)
    return rc;
  ak = profile_get(f, profile, "aws_access_key_id", &from_ak);
  sk = profile_get(f, profile, "aws_secret_access_key", &from_sk);
  tok = profile_get(f, profile, "aws_session_token", &from_tok);
  if (!ak && !sk)
    return STORE_E_NOT_FOUND;
  if (!ak || !sk)
    return store_error_set(err, STORE_E_CONFIG, "s3: profile '%.64s' in "
                           "'%.200s' has %s but not %s", profile,
                           ak ? from_ak : from_sk,
                           ak ? "aws_access_key_id" : "aws_secret_access_key",
                           ak ? "aws_secret_access_key" : "aws_access_key_id");
  snprintf(s->cred_source, sizeof(s->cred_source), "profile '%.64s' in "
           "'%.80s'", profile, from_ak);
  rc = dup_into(&s->access_key, ak, err);
  if (!rc)
    rc = dup_into(&s->secret_key, sk, err);
  if (!rc)
    rc = dup_into(&s->session_token, tok, err);
  return rc;
}

static int32_t resolve_credentials(const store_kv *kv, size_t n,
                                   shared_files *f, s3_settings *s,
                                   store_error *err)
{
  const char *ak = sdk_kv_get(kv, n, "access-key");
  const char *sk = sdk_kv_get(kv, n, "secret-key");
  const char *profile = sdk_kv_get(kv, n, "profile");
  int32_t rc;

  if (ak || sk) {
    if (!ak || !sk)
      return store_error_set(err, STORE_E_CONFIG, "s3: config key '%s' "
                             "given without '%s'",
                             ak ? "access-key" : "secret-key",
                             ak ? "secret-key" : "access-key");
    snprintf(s->cred_source, sizeof(s->cred_source),
             "config keys access-key/secret-key");
    rc = dup_into(&s->access_key, ak, err);
    if (!rc)
      rc = dup_into(&s->secret_key, sk, err);
    if (!rc)
      rc = dup_into(&s->session_token, sdk_kv_get(kv, n, "session-token"),
                    err);
    return rc;
  }
  if (profile) {
    rc = from_profile(f, profile, s, err);
    if (rc == STORE_E_NOT_FOUND)
      rc = store_error_set(err, STORE_E_CONFIG, "s3: profile '%.64s' (config "
                           "key 'profile') has no keys in '%.150s' or "
                           "'%.150s'", profile, f->cred_path, f->conf_path);
    return rc;
  }
  ak = env_get(f->env, "AWS_ACCESS_KEY_ID");
  sk = env_get(f->env, "AWS_SECRET_ACCESS_KEY");
  if (ak || sk) {
    if (!ak || !sk)
      return store_error_set(err, STORE_E_CONFIG, "s3: %s is set but %s is "
                             "not",
                             ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                             ak ? "AWS_SECRET_ACCESS_KEY"
                                : "AWS_ACCESS_KEY_ID");
    snprintf(s->cred_source, sizeof(s->cred_source), "environment "
             "(AWS_ACCESS_KEY_ID)");
    rc = dup_into(&s->access_key, ak, err);
    if (!rc)
      rc = dup_into(&s->secret_key, sk, err);
    if (!rc)
      rc = dup_into(&s->session_token, env_get(f->env, "AWS_SESSION_TOKEN"),
                    err);
    return rc;
  }
  profile = env_get(f->env, "AWS_PROFILE");
  rc = from_profile(f, profile ? profile : "default", s, err);
  if (rc == STORE_E_NOT_FOUND)
    rc = store_error_set(err, STORE_E_CONFIG,
                         "s3: no credentials: set the config keys access-key "
                         "and secret-key, or 'profile', or "
                         "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or "
                         "profile '%.64s' in '%.100s'; or 'anonymous: true' "
                         "for public buckets",
                         profile ? profile : "default", f->cred_path);
  return rc;
}

/* The region's sources in order; the profile's comes from the config. */
static int32_t resolve_region(const store_kv *kv, size_t n, shared_files *f,
                              s3_settings *s, store_error *err)
{
  const char *v = sdk_kv_get(kv, n, "region"), *from;
  int32_t rc;

  if (!v)
    v = env_get(f->env, "AWS_REGION");
  if (!v)
    v = env_get(f->env, "AWS_DEFAULT_REGION");
  if (!v) {
    const char *profile = sdk_kv_get(kv, n, "profile");
    if (!profile)
      profile = env_get(f->env, "AWS_PROFILE");
    rc = files_load(f, err);
    if (rc)
      return rc;
    v = profile_get(f, profile ? profile : "default", "region", &from);
  }
  if (!v)
    v = "us-east-1";
  for (const char *p = v; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
      return store_error_set(err, STORE_E_CONFIG, "s3: region '%.64s' is "
                             "not a region name ([a-z0-9-])", v);
  return dup_into(&s->region, v, err);
}

/* One of `names` (index into *out), the default when absent. */
static int32_t choice(const store_kv *kv, size_t n, const char *key,
                      const char *const *names, size_t count, int dflt,
                      int *out, store_error *err)
{
  const char *v = sdk_kv_get(kv, n, key);

  *out = dflt;
  if (!v)
    return STORE_OK;
  for (size_t i = 0; i < count; i++)
    if (!strcmp(v, names[i])) {
      *out = (int)i;
      return STORE_OK;
    }
  return store_error_set(err, STORE_E_CONFIG, "s3: config key '%s': "
                         "'%.64s' is not one of %s|%s|%s", key, v, names[0],
                         names[1], names[2]);
}

static int32_t boolean(const store_kv *kv, size_t n, const char *key,
                       int dflt, int *out, store_error *err)
{
  const char *v = sdk_kv_get(kv, n, key);

  *out = v ? sdk_parse_bool(v) : dflt;
  if (*out < 0)
    return store_error_set(err, STORE_E_CONFIG, "s3: config key '%s': "
                           "'%.64s' is not true or false", key, v);
  return STORE_OK;
}

void s3_settings_free(s3_settings *s)
{
  free(s->name);
  free(s->endpoint);
  free(s->region);
  free(s->access_key);
  free(s->secret_key);
  free(s->session_token);
  free(s->ca_bundle);
  memset(s, 0, sizeof(*s));
}

int32_t s3_settings_resolve(const store_kv *kv, size_t n, s3_getenv_fn env,
                            s3_settings *s, store_error *err)
{
  static const char *const addressing[] = {"auto", "path", "virtual"};
  static const char *const payload[] = {"auto", "unsigned", "streaming"};
  shared_files f;
  const char *v;
  int32_t rc;

  memset(s, 0, sizeof(*s));
  memset(&f, 0, sizeof(f));
  f.env = env;
  rc = boolean(kv, n, "anonymous", 0, &s->anonymous, err);
  if (!rc)
    rc = boolean(kv, n, "verify-tls", 1, &s->verify_tls, err);
  if (!rc)
    rc = boolean(kv, n, "versioned-buckets", 0, &s->versioned_buckets, err);
  if (!rc)
    rc = choice(kv, n, "addressing", addressing, 3, S3_ADDR_AUTO,
                &s->addressing, err);
  if (!rc)
    rc = choice(kv, n, "payload-signing", payload, 3, S3_PAYLOAD_AUTO,
                &s->payload, err);
  if (!rc)
    rc = dup_into(&s->name, (v = sdk_kv_get(kv, n, "name")) ? v : "s3", err);
  if (!rc)
    rc = resolve_region(kv, n, &f, s, err);
  if (!rc && !s->anonymous)
    rc = resolve_credentials(kv, n, &f, s, err);
  if (!rc && s->anonymous)
    snprintf(s->cred_source, sizeof(s->cred_source), "anonymous (unsigned)");
  if (!rc) {
    v = sdk_kv_get(kv, n, "ca-bundle");
    rc = dup_into(&s->ca_bundle, v ? v : env_get(env, "AWS_CA_BUNDLE"), err);
  }
  if (!rc) {
    v = sdk_kv_get(kv, n, "endpoint");
    if (v) {
      rc = dup_into(&s->endpoint, v, err);
    } else {
      sdk_buf b = SDK_BUF_INIT;
      if (sdk_buf_printf(&b, "https://s3.%s.amazonaws.com", s->region))
        rc = store_error_set(err, STORE_E_NOMEM, "s3: out of memory");
      s->endpoint = b.data;
    }
  }
  files_free(&f);
  if (rc)
    s3_settings_free(s);
  return rc;
}
