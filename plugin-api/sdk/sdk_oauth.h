/*
** sdk_oauth.h -- OAuth2 access tokens for Google-style APIs: the
** service-account JWT-bearer grant (an RS256 JWT, RFC 7523), the
** refresh-token grant of an `authorized_user` file (what `gcloud auth
** application-default login` writes), and a static bearer token.
**
** One sdk_oauth per service handle, shared by its threads: the token is
** cached, fetched again shortly before it expires (SDK_OAUTH_EARLY_S, or a
** quarter of its lifetime when that is shorter), and once more when the
** service refuses it (sdk_oauth_reject after a 401). A fetch holds a lock,
** so threads that need a token at the same moment cause one grant.
**
** Messages name the credentials (the file's path, or "access-token") and
** the cause: an unreadable file or key, the token endpoint's refusal with
** its error and description, a clock the endpoint finds skewed. No message
** quotes a key, a secret, a refresh token, an assertion or a token.
*/
#ifndef SDK_OAUTH_H
#define SDK_OAUTH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store_interface.h"
#include "sdk_buf.h"
#include "sdk_http.h"
#include "sdk_rsa.h"

typedef struct sdk_oauth sdk_oauth;

/* Where a file without token_uri (authorized_user files) gets its tokens. */
#define SDK_OAUTH_GOOGLE_TOKEN_URI "https://oauth2.googleapis.com/token"
/* Lifetime asked for in a JWT (the most Google grants). */
#define SDK_OAUTH_JWT_LIFETIME_S 3600
/* A cached token is replaced this long before it expires. */
#define SDK_OAUTH_EARLY_S 300

#define SDK_OAUTH_SERVICE_ACCOUNT 1
#define SDK_OAUTH_AUTHORIZED_USER 2
#define SDK_OAUTH_STATIC          3

/*
** Credentials from the JSON text[0..len) of a Google credentials file
** (`type` "service_account" or "authorized_user"); `what` names it in
** messages (its path). scope: the scope a service-account JWT asks for.
** token_uri: where to get tokens, overriding the file's (NULL: the file's
** token_uri, else SDK_OAUTH_GOOGLE_TOKEN_URI). On failure *out is NULL and
** err says why (STORE_E_CONFIG: not JSON, an unknown type, a field
** missing, a key that does not load). Free with sdk_oauth_free.
*/
int sdk_oauth_from_json(const char *text, size_t len, const char *what,
                        const char *scope, const char *token_uri,
                        sdk_oauth **out, store_error *err);
/* The same from the file at path (STORE_E_CONFIG naming it when it cannot
 * be read). */
int sdk_oauth_from_file(const char *path, const char *scope,
                        const char *token_uri, sdk_oauth **out,
                        store_error *err);
/* A static bearer token (copied; never refreshed). */
int sdk_oauth_from_token(const char *token, sdk_oauth **out,
                         store_error *err);
/* Wipes the secrets it holds. NULL is fine. */
void sdk_oauth_free(sdk_oauth *o);

/* SDK_OAUTH_*. */
int sdk_oauth_kind(const sdk_oauth *o);
/* The file's project_id (service account) or quota_project_id
 * (authorized_user), or NULL. Borrowed. */
const char *sdk_oauth_project(const sdk_oauth *o);
/* The token endpoint in use, or NULL for a static token. Borrowed. */
const char *sdk_oauth_token_uri(const sdk_oauth *o);

/* A service account's client_email and private key (borrowed: they live
 * as long as o), for signatures other than the JWT's (GCS V4 signed URLs).
 * 0, or -1 for the other kinds, which hold no key. */
int sdk_oauth_signer(const sdk_oauth *o, const char **out_email,
                     const sdk_rsa_key **out_key);

/* The signed JWT assertion a service account posts, issued at `now`
 * (header.claims.signature, base64url), appended to out. STORE_E_INVALID
 * for other kinds. */
int sdk_oauth_jwt(const sdk_oauth *o, time_t now, sdk_buf *out,
                  store_error *err);

/*
** A live access token, appended to out (without "Bearer "): the cached
** one, or a new one from the token endpoint through http. Errors:
** STORE_E_AUTH when the endpoint refuses the grant (invalid_grant,
** invalid_client, ...; with a hint about the clock when it says the JWT's
** times are off), retryable classes from sdk_error_http for 429 and 5xx,
** STORE_E_INTERNAL for an answer without access_token, and the transport
** errors of sdk_http_perform.
*/
int sdk_oauth_token(sdk_oauth *o, sdk_http *http, sdk_buf *out,
                    store_error *err);

/* The service refused `token` (a 401): drop it from the cache unless
 * another thread replaced it already. 1 when a new token can be fetched
 * (then call sdk_oauth_token again and retry once), 0 for a static token
 * (nothing better to offer). */
int sdk_oauth_reject(sdk_oauth *o, const char *token);

/* How many grants were made so far (tests of the cache). */
uint64_t sdk_oauth_grants(sdk_oauth *o);

#endif /* SDK_OAUTH_H */
