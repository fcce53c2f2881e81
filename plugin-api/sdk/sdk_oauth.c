/*
** sdk_oauth.c -- see sdk_oauth.h. The grants (RFC 7523 JWT bearer, RFC
** 6749 refresh token) are form posts to the token endpoint; its JSON
** answer gives access_token and expires_in. Expiry is kept on the
** monotonic clock, so a wall-clock jump neither keeps a dead token nor
** drops a live one; only the JWT's iat/exp use the wall clock, corrected
** by the endpoint's Date once it refused a JWT for its times.
*/
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "sdk_error.h"
#include "sdk_json.h"
#include "sdk_oauth.h"
#include "sdk_rsa.h"
#include "sdk_util.h"

#define CRED_FILE_MAX (64u << 10) /* a credentials file is a few KiB */
/* A refused grant whose answer's Date is this far from the JWT's iat is
 * taken for clock skew even when the description does not say so; one
 * that says so, when the Date is off by more than a second's rounding. */
#define SKEW_MIN_S 60
#define SKEW_TICK_S 2

struct sdk_oauth {
  int kind;                     /* SDK_OAUTH_*                            */
  char *what;                   /* the file's path, for messages          */
  char *token_uri;
  char *project;                /* or NULL                                */
  char *scope;
  /* service account */
  char *client_email;
  char *key_id;                 /* private_key_id, or NULL                */
  sdk_rsa_key *key;
  /* authorized_user: secrets */
  char *client_id;
  char *client_secret;
  char *refresh_token;
  /* the cache, under mu */
  pthread_mutex_t mu;
  char *token;                  /* secret; NULL when none                 */
  int64_t renew_at;             /* monotonic seconds: fetch again then    */
  uint64_t grants;
  int64_t skew;                 /* the endpoint's clock minus ours (s)    */
};

static int64_t mono_now(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec;
}

/* free() after wiping: for secrets. */
static void free_secret(char *s)
{
  if (s)
    OPENSSL_cleanse(s, strlen(s));
  free(s);
}

void sdk_oauth_free(sdk_oauth *o)
{
  if (!o)
    return;
  pthread_mutex_destroy(&o->mu);
  free_secret(o->token);
  free_secret(o->client_secret);
  free_secret(o->refresh_token);
  free(o->client_id);
  sdk_rsa_key_free(o->key);
  free(o->key_id);
  free(o->client_email);
  free(o->scope);
  free(o->project);
  free(o->token_uri);
  free(o->what);
  free(o);
}

static sdk_oauth *oauth_new(const char *what)
{
  sdk_oauth *o = calloc(1, sizeof(*o));

  if (!o)
    return NULL;
  if (pthread_mutex_init(&o->mu, NULL)) {
    free(o);
    return NULL;
  }
  o->what = strdup(what);
  if (!o->what) {
    sdk_oauth_free(o);
    return NULL;
  }
  return o;
}

/* strdup of the string member key, or of NULL when absent. -1 only when
 * memory runs out. */
static int dup_member(const json_t *j, const char *key, char **out)
{
  const char *s = sdk_json_str(j, key);

  *out = NULL;
  if (!s)
    return 0;
  *out = strdup(s);
  return *out ? 0 : -1;
}

/* The members a kind needs, present and non-empty. */
static int32_t need(const sdk_oauth *o, const json_t *j, const char *const *k,
                    store_error *err)
{
  for (; *k; k++) {
    const char *s = sdk_json_str(j, *k);
    if (!s || !*s)
      return store_error_set(err, STORE_E_CONFIG,
                             "credentials file '%.160s': no \"%s\" (a %s "
                             "file needs it)", o->what, *k,
                             sdk_json_str(j, "type"));
  }
  return STORE_OK;
}

static int32_t load_service_account(sdk_oauth *o, const json_t *j,
                                    store_error *err)
{
  static const char *const keys[] = {"client_email", "private_key", NULL};
  const char *pem;
  char what[200];
  int32_t rc;

  rc = need(o, j, keys, err);
  if (rc)
    return rc;
  if (dup_member(j, "client_email", &o->client_email) ||
      dup_member(j, "private_key_id", &o->key_id) ||
      dup_member(j, "project_id", &o->project))
    return store_error_set(err, STORE_E_NOMEM, "credentials file '%.160s': "
                           "out of memory", o->what);
  pem = sdk_json_str(j, "private_key");
  snprintf(what, sizeof(what), "credentials file '%.160s' private_key",
           o->what);
  return sdk_rsa_key_load_pem(pem, strlen(pem), NULL, what, &o->key, err);
}

static int32_t load_authorized_user(sdk_oauth *o, const json_t *j,
                                    store_error *err)
{
  static const char *const keys[] = {"client_id", "client_secret",
                                     "refresh_token", NULL};
  int32_t rc;

  rc = need(o, j, keys, err);
  if (rc)
    return rc;
  if (dup_member(j, "client_id", &o->client_id) ||
      dup_member(j, "client_secret", &o->client_secret) ||
      dup_member(j, "refresh_token", &o->refresh_token) ||
      dup_member(j, "quota_project_id", &o->project))
    return store_error_set(err, STORE_E_NOMEM, "credentials file '%.160s': "
                           "out of memory", o->what);
  return STORE_OK;
}

int sdk_oauth_from_json(const char *text, size_t len, const char *what,
                        const char *scope, const char *token_uri,
                        sdk_oauth **out, store_error *err)
{
  sdk_oauth *o = NULL;
  json_t *j = NULL;
  const char *type;
  char desc[220];
  int32_t rc;

  *out = NULL;
  snprintf(desc, sizeof(desc), "credentials file '%.160s'", what);
  rc = sdk_json_parse_object(text, len, desc, STORE_E_CONFIG, &j, err);
  if (rc)
    goto out;
  if (!(o = oauth_new(what))) {
    rc = store_error_set(err, STORE_E_NOMEM, "%s: out of memory", desc);
    goto out;
  }
  type = sdk_json_str(j, "type");
  if (type && !strcmp(type, "service_account")) {
    o->kind = SDK_OAUTH_SERVICE_ACCOUNT;
    rc = load_service_account(o, j, err);
  } else if (type && !strcmp(type, "authorized_user")) {
    o->kind = SDK_OAUTH_AUTHORIZED_USER;
    rc = load_authorized_user(o, j, err);
  } else {
    rc = store_error_set(err, STORE_E_CONFIG,
                         "%s: type '%.40s' is not supported (only "
                         "service_account and authorized_user)", desc,
                         type ? type : "(none)");
  }
  if (rc)
    goto out;
  if (!token_uri)
    token_uri = sdk_json_str(j, "token_uri");
  o->token_uri = strdup(token_uri ? token_uri : SDK_OAUTH_GOOGLE_TOKEN_URI);
  o->scope = strdup(scope ? scope : "");
  if (!o->token_uri || !o->scope) {
    rc = store_error_set(err, STORE_E_NOMEM, "%s: out of memory", desc);
    goto out;
  }
  *out = o;
  o = NULL;
out:
  sdk_oauth_free(o);
  json_decref(j);
  return rc;
}

int sdk_oauth_from_file(const char *path, const char *scope,
                        const char *token_uri, sdk_oauth **out,
                        store_error *err)
{
  sdk_buf text = SDK_BUF_INIT;
  char chunk[4096];
  size_t n;
  FILE *f;
  int32_t rc = STORE_OK;

  *out = NULL;
  if (!(f = fopen(path, "rb")))
    return store_error_set(err, STORE_E_CONFIG, "credentials file '%.160s': "
                           "cannot read it: %s", path, strerror(errno));
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
    if (text.len + n > CRED_FILE_MAX) {
      rc = store_error_set(err, STORE_E_CONFIG, "credentials file '%.160s': "
                           "larger than %u KiB: not a credentials file", path,
                           CRED_FILE_MAX >> 10);
      goto out;
    }
    if (sdk_buf_append(&text, chunk, n)) {
      rc = store_error_set(err, STORE_E_NOMEM, "credentials file '%.160s': "
                           "out of memory", path);
      goto out;
    }
  }
  if (ferror(f)) {
    rc = store_error_set(err, STORE_E_CONFIG, "credentials file '%.160s': "
                         "cannot read it: read error", path);
    goto out;
  }
  rc = sdk_oauth_from_json(sdk_buf_str(&text), text.len, path, scope,
                           token_uri, out, err);
out:
  fclose(f);
  OPENSSL_cleanse(text.data, text.cap); /* it holds a key or a secret */
  sdk_buf_free(&text);
  return rc;
}

int sdk_oauth_from_token(const char *token, sdk_oauth **out,
                         store_error *err)
{
  sdk_oauth *o;

  *out = NULL;
  if (!token || !*token || strpbrk(token, " \t\r\n"))
    return store_error_set(err, STORE_E_CONFIG, "access-token: empty, or "
                           "holds blanks or line breaks: not a bearer token");
  if (!(o = oauth_new("access-token")) || !(o->token = strdup(token))) {
    sdk_oauth_free(o);
    return store_error_set(err, STORE_E_NOMEM, "access-token: out of memory");
  }
  o->kind = SDK_OAUTH_STATIC;
  o->renew_at = INT64_MAX;
  *out = o;
  return STORE_OK;
}

int sdk_oauth_kind(const sdk_oauth *o)
{
  return o->kind;
}

const char *sdk_oauth_project(const sdk_oauth *o)
{
  return o->project;
}

int sdk_oauth_signer(const sdk_oauth *o, const char **out_email,
                     const sdk_rsa_key **out_key)
{
  if (o->kind != SDK_OAUTH_SERVICE_ACCOUNT || !o->key || !o->client_email)
    return -1;
  *out_email = o->client_email;
  *out_key = o->key;
  return 0;
}

const char *sdk_oauth_token_uri(const sdk_oauth *o)
{
  return o->kind == SDK_OAUTH_STATIC ? NULL : o->token_uri;
}

/* One JWT segment: base64url of v's compact JSON. */
static int segment(const json_t *v, sdk_buf *out)
{
  sdk_buf j = SDK_BUF_INIT;
  int bad;

  bad = !v || sdk_json_dump(v, &j) ||
        sdk_base64url_encode(out, j.data, j.len);
  sdk_buf_free(&j);
  return bad ? -1 : 0;
}

int sdk_oauth_jwt(const sdk_oauth *o, time_t now, sdk_buf *out,
                  store_error *err)
{
  json_t *hdr = NULL, *claims = NULL;
  size_t start = out->len;
  int32_t rc = STORE_OK;

  if (o->kind != SDK_OAUTH_SERVICE_ACCOUNT)
    return store_error_set(err, STORE_E_INVALID, "%.160s: not a service "
                           "account: no JWT to sign", o->what);
  hdr = o->key_id ? json_pack("{s:s,s:s,s:s}", "alg", "RS256", "typ", "JWT",
                              "kid", o->key_id)
                  : json_pack("{s:s,s:s}", "alg", "RS256", "typ", "JWT");
  claims = json_pack("{s:s,s:s,s:s,s:I,s:I}", "iss", o->client_email,
                     "scope", o->scope, "aud", o->token_uri, "iat",
                     (json_int_t)now, "exp",
                     (json_int_t)now + SDK_OAUTH_JWT_LIFETIME_S);
  if (segment(hdr, out) || sdk_buf_putc(out, '.') || segment(claims, out))
    rc = -1;
  if (!rc) {
    /* The signature covers "header.claims" and follows it after a '.'. */
    sdk_buf sig = SDK_BUF_INIT;
    if (sdk_rsa_sign_sha256(o->key, out->data + start, out->len - start,
                            SDK_RSA_B64URL, &sig) ||
        sdk_buf_putc(out, '.') || sdk_buf_append(out, sig.data, sig.len))
      rc = -1;
    sdk_buf_free(&sig);
  }
  if (rc) {
    sdk_buf_truncate(out, start);
    rc = store_error_set(err, STORE_E_NOMEM, "credentials file '%.160s': "
                         "cannot sign the JWT (out of memory or OpenSSL)",
                         o->what);
  }
  json_decref(hdr);
  json_decref(claims);
  return rc;
}

/* "name=value" (value percent-encoded) appended to a form body. */
static int form_add(sdk_buf *b, const char *name, const char *value)
{
  return (b->len && sdk_buf_putc(b, '&')) || sdk_buf_puts(b, name) ||
         sdk_buf_putc(b, '=') || sdk_uri_encode(b, value, strlen(value), 0);
}

/* The grant's form body (a secret: it holds the assertion or the refresh
 * token and client secret). */
static int32_t grant_body(const sdk_oauth *o, time_t now, sdk_buf *body,
                          store_error *err)
{
  sdk_buf jwt = SDK_BUF_INIT;
  int32_t rc = STORE_OK;
  int bad;

  if (o->kind == SDK_OAUTH_SERVICE_ACCOUNT) {
    rc = sdk_oauth_jwt(o, now, &jwt, err);
    if (rc)
      goto out;
    bad = form_add(body, "grant_type",
                   "urn:ietf:params:oauth:grant-type:jwt-bearer") ||
          form_add(body, "assertion", sdk_buf_str(&jwt));
  } else {
    bad = form_add(body, "grant_type", "refresh_token") ||
          form_add(body, "client_id", o->client_id) ||
          form_add(body, "client_secret", o->client_secret) ||
          form_add(body, "refresh_token", o->refresh_token);
  }
  if (bad)
    rc = store_error_set(err, STORE_E_NOMEM, "credentials file '%.160s': "
                         "out of memory", o->what);
out:
  if (jwt.data)
    OPENSSL_cleanse(jwt.data, jwt.cap);
  sdk_buf_free(&jwt);
  return rc;
}

/* Whether the JWT's times are what the endpoint refuses: Google says
 * "timeframe ... iat and exp". */
static int about_clock(const char *desc)
{
  return desc && (strstr(desc, "timeframe") || strstr(desc, "iat") ||
                  strstr(desc, "exp") || strstr(desc, "clock"));
}

/* A service-account grant refused for the JWT's times (invalid_grant
 * saying so, or any invalid_grant with a Date far from the iat sent):
 * the skew becomes the endpoint's Date minus our clock when the JWT was
 * signed (real), so the next JWT is dated by the endpoint's clock. Says
 * so (1); 0 when the refusal is something else, or the Date agrees. */
static int clock_fix(sdk_oauth *o, const sdk_response *resp, time_t real)
{
  int64_t ns = sdk_time_parse_http(sdk_response_header(resp, "Date"));
  size_t len = 0;
  const char *body = sdk_response_body(resp, &len);
  const char *code;
  json_t *j = NULL;
  int64_t diff, min;
  int fix;

  if (o->kind != SDK_OAUTH_SERVICE_ACCOUNT ||
      sdk_response_status(resp) != 400 || ns == STORE_MTIME_UNKNOWN)
    return 0;
  diff = ns / 1000000000 - ((int64_t)real + o->skew);
  j = json_loadb(body, len, 0, NULL);
  code = sdk_json_str(j, "error");
  min = about_clock(sdk_json_str(j, "error_description")) ? SKEW_TICK_S
                                                          : SKEW_MIN_S;
  fix = code && !strcmp(code, "invalid_grant") && (diff >= min || diff <= -min);
  json_decref(j);
  if (fix)
    o->skew = ns / 1000000000 - (int64_t)real;
  return fix;
}

/* A refusal from the token endpoint: its OAuth error and description. The
 * description is Google's text about the grant, never the secret. */
static int32_t grant_refused(const sdk_oauth *o, const sdk_response *resp,
                             store_error *err)
{
  long status = sdk_response_status(resp);
  size_t len = 0;
  const char *body = sdk_response_body(resp, &len);
  const char *code = NULL, *desc = NULL, *hint = "";
  json_t *j = NULL;
  int32_t rc;

  j = json_loadb(body, len, 0, NULL);
  code = sdk_json_str(j, "error");
  desc = sdk_json_str(j, "error_description");
  if (!code && json_is_object(json_object_get(j, "error")))
    code = sdk_json_str(json_object_get(j, "error"), "status");
  if (about_clock(desc))
    hint = " (check this machine's clock: the endpoint finds the JWT's "
           "times off)";
  rc = sdk_status_retryable(status) ? sdk_status_code(status)
       : status == 403                ? STORE_E_PERMISSION
                                      : STORE_E_AUTH;
  rc = sdk_error_http(err, resp, rc, code, NULL,
                      "credentials file '%.120s': the token endpoint refused "
                      "the %s grant: HTTP %ld %.40s%s%s%.120s", o->what,
                      o->kind == SDK_OAUTH_SERVICE_ACCOUNT ? "service-account"
                                                           : "refresh-token",
                      status, code ? code : "", hint, desc ? ": " : "",
                      desc ? desc : "");
  json_decref(j);
  return rc;
}

/* Post a grant signed at `now`. On success *out is the endpoint's answer
 * (any status), owned by the caller; on failure NULL. */
static int32_t post_grant(sdk_oauth *o, sdk_http *http, time_t now,
                          sdk_response **out, store_error *err)
{
  sdk_buf body = SDK_BUF_INIT;
  sdk_request *r = NULL;
  int32_t rc;

  *out = NULL;
  rc = grant_body(o, now, &body, err);
  if (rc)
    goto out;
  r = sdk_request_new("POST", o->token_uri);
  if (!r || sdk_request_set_header(r, "Content-Type",
                                   "application/x-www-form-urlencoded") ||
      sdk_request_set_header(r, "Accept", "application/json")) {
    rc = store_error_set(err, STORE_E_NOMEM, "credentials file '%.160s': "
                         "out of memory", o->what);
    goto out;
  }
  sdk_request_body_mem(r, body.data, body.len);
  rc = sdk_http_perform(http, r, out, err);
  if (rc) {
    char msg[STORE_ERR_MSG_SIZE];
    snprintf(msg, sizeof(msg), "%s", err ? err->message : "");
    store_error_set(err, rc, "credentials file '%.120s': no token: %s",
                    o->what, msg);
  }
out:
  sdk_request_free(r);
  if (body.data)
    OPENSSL_cleanse(body.data, body.cap);
  sdk_buf_free(&body);
  return rc;
}

/* A response's body wiped (it may hold a token), then freed. */
static void response_free(sdk_response *resp)
{
  size_t len = 0;

  if (resp) {
    char *b = (char *)sdk_response_body(resp, &len);
    OPENSSL_cleanse(b, len);
  }
  sdk_response_free(resp);
}

/* Post the grant and keep the token it gives; a JWT refused for the
 * machine's clock is signed again once, dated by the endpoint's. Called
 * with mu held. */
static int32_t fetch(sdk_oauth *o, sdk_http *http, store_error *err)
{
  sdk_response *resp = NULL;
  const char *tok;
  json_t *j = NULL;
  int64_t ttl = SDK_OAUTH_JWT_LIFETIME_S, early;
  char what[200];
  size_t len;
  const char *text;
  time_t real = time(NULL);
  int32_t rc;

  rc = post_grant(o, http, (time_t)(real + o->skew), &resp, err);
  if (!rc && sdk_response_status(resp) != 200 && clock_fix(o, resp, real)) {
    response_free(resp);
    real = time(NULL);
    rc = post_grant(o, http, (time_t)(real + o->skew), &resp, err);
  }
  if (rc)
    goto out;
  if (sdk_response_status(resp) != 200) {
    rc = grant_refused(o, resp, err);
    goto out;
  }
  text = sdk_response_body(resp, &len);
  snprintf(what, sizeof(what), "credentials file '%.120s': the token "
           "endpoint's answer", o->what);
  rc = sdk_json_parse_object(text, len, what, STORE_E_INTERNAL, &j, err);
  if (rc)
    goto out;
  tok = sdk_json_str(j, "access_token");
  if (!tok || !*tok || strpbrk(tok, " \t\r\n")) {
    rc = store_error_set(err, STORE_E_INTERNAL, "%s has no usable "
                         "access_token", what);
    goto out;
  }
  if (!sdk_json_int64(j, "expires_in", &ttl) && ttl <= 0)
    ttl = 1;
  free_secret(o->token);
  if (!(o->token = strdup(tok))) {
    rc = store_error_set(err, STORE_E_NOMEM, "credentials file '%.160s': "
                         "out of memory", o->what);
    goto out;
  }
  early = ttl / 4 < SDK_OAUTH_EARLY_S ? ttl / 4 : SDK_OAUTH_EARLY_S;
  o->renew_at = mono_now() + ttl - early;
  o->grants++;
out:
  json_decref(j);
  response_free(resp);
  return rc;
}

int sdk_oauth_token(sdk_oauth *o, sdk_http *http, sdk_buf *out,
                    store_error *err)
{
  int32_t rc = STORE_OK;

  pthread_mutex_lock(&o->mu);
  if (o->kind != SDK_OAUTH_STATIC && (!o->token || mono_now() >= o->renew_at))
    rc = fetch(o, http, err);
  if (!rc && sdk_buf_puts(out, o->token))
    rc = store_error_set(err, STORE_E_NOMEM, "%.160s: out of memory",
                         o->what);
  pthread_mutex_unlock(&o->mu);
  return rc;
}

int sdk_oauth_reject(sdk_oauth *o, const char *token)
{
  if (o->kind == SDK_OAUTH_STATIC)
    return 0;
  pthread_mutex_lock(&o->mu);
  if (o->token && token && !strcmp(o->token, token)) {
    free_secret(o->token);
    o->token = NULL;
  }
  pthread_mutex_unlock(&o->mu);
  return 1;
}

uint64_t sdk_oauth_grants(sdk_oauth *o)
{
  uint64_t n;

  pthread_mutex_lock(&o->mu);
  n = o->grants;
  pthread_mutex_unlock(&o->mu);
  return n;
}
