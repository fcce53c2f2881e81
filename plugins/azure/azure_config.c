/*
** azure_config.c -- the service entry and the environment resolved into
** the handle's account, endpoint and credentials (SAS or Shared Key); the
** requests apply them (azure_request.c). No network: open() stays lazy.
**
** Sources, first match wins:
**   1. the service's `key` and/or `sas-token`;
**   2. its `connection-string`, else $AZURE_STORAGE_CONNECTION_STRING
**      (read only when 1 gives nothing, so an environment string never
**      mixes with configured credentials);
**   3. $AZURE_STORAGE_KEY.
** With both a key and a SAS token the SAS token is used (as Sunbird's
** MultiCloud does): it is the narrower grant. The account is `account`,
** else the connection string's AccountName, else $AZURE_STORAGE_ACCOUNT,
** else the service name (as XT does); the endpoint is `endpoint`, else the
** connection string's, else https://ACCOUNT.blob.core.windows.net.
** No value of a secret ever reaches a message.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure.h"
#include "sdk_azure.h"
#include "sdk_util.h"

/* Azure's rule for account names; it also keeps the name safe in a host
 * name and in the signed resource. */
static int account_ok(const char *a)
{
  size_t n = strlen(a);

  if (n < 3 || n > 24)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!((a[i] >= 'a' && a[i] <= 'z') || (a[i] >= '0' && a[i] <= '9')))
      return 0;
  return 1;
}

/* A SAS token carries a signature parameter. */
static int sas_ok(const char *s)
{
  return !strncmp(s, "sig=", 4) || strstr(s, "&sig=") != NULL;
}

static int32_t set_endpoint(store_handle *h, const char *ep,
                            store_error *err)
{
  size_t n;

  if (!ep) {
    if (asprintf(&h->endpoint, "https://%s.blob.core.windows.net",
                 h->account) < 0) {
      h->endpoint = NULL;
      return store_error_set(err, STORE_E_NOMEM, "azure: open");
    }
    return STORE_OK;
  }
  if ((strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8)) ||
      strpbrk(ep, "?# \t\r\n"))
    return store_error_set(err, STORE_E_CONFIG,
                           "azure: endpoint '%.128s' is not an http:// or "
                           "https:// URL without query", ep);
  h->endpoint = strdup(ep);
  if (!h->endpoint)
    return store_error_set(err, STORE_E_NOMEM, "azure: open");
  n = strlen(h->endpoint);
  while (n && h->endpoint[n - 1] == '/')
    h->endpoint[--n] = '\0';
  return STORE_OK;
}

/* Keep the chosen credential: the SAS token if there is one, else the
 * decoded key. */
static int32_t set_secret(store_handle *h, const char *key, const char *sas,
                          store_error *err)
{
  sdk_buf kb = SDK_BUF_INIT;

  if (sas) {
    if (*sas == '?')
      sas++;
    if (!sas_ok(sas))
      return store_error_set(err, STORE_E_CONFIG,
                             "azure: the SAS token has no 'sig' parameter: "
                             "not a SAS token");
    h->sas = strdup(sas);
    return h->sas ? STORE_OK
                  : store_error_set(err, STORE_E_NOMEM, "azure: open");
  }
  if (!key)
    return store_error_set(
      err, STORE_E_CONFIG,
      "azure: no credentials: set 'key', 'sas-token' or 'connection-string' "
      "(or $AZURE_STORAGE_CONNECTION_STRING or $AZURE_STORAGE_KEY)");
  if (sdk_azure_key_decode(key, &kb) || kb.len == 0) {
    sdk_buf_free(&kb);
    return store_error_set(err, STORE_E_CONFIG,
                           "azure: the account key is not base64: not an "
                           "Azure account key");
  }
  h->key = (unsigned char *)kb.data;
  h->keylen = kb.len;
  return STORE_OK;
}

int32_t az_config_open(store_handle *h, const store_kv *cfg, size_t n,
                     store_error *err)
{
  const char *account = sdk_kv_get(cfg, n, "account");
  const char *key = sdk_kv_get(cfg, n, "key");
  const char *sas = sdk_kv_get(cfg, n, "sas-token");
  const char *cs = sdk_kv_get(cfg, n, "connection-string");
  const char *endpoint = sdk_kv_get(cfg, n, "endpoint");
  const char *cs_from = "config key 'connection-string'";
  const char *acct_from = "config key 'account'";
  sdk_azure_conn conn;
  int32_t rc;

  memset(&conn, 0, sizeof(conn));
  if (!cs && !key && !sas) {
    cs = getenv("AZURE_STORAGE_CONNECTION_STRING");
    cs_from = "$AZURE_STORAGE_CONNECTION_STRING";
  }
  if (cs) {
    rc = sdk_azure_conn_parse(cs, &conn, err);
    if (rc) {
      char msg[STORE_ERR_MSG_SIZE];
      snprintf(msg, sizeof(msg), "%s", err ? err->message : "");
      store_error_set(err, rc, "azure: %s: %s", cs_from, msg);
      goto out;
    }
    if (!key && !sas) {
      key = conn.key;
      sas = conn.sas;
    }
  }
  if (!key && !sas)
    key = getenv("AZURE_STORAGE_KEY");
  if (!account && conn.account) {
    account = conn.account;
    acct_from = cs_from;
  }
  if (!account && (account = getenv("AZURE_STORAGE_ACCOUNT")))
    acct_from = "$AZURE_STORAGE_ACCOUNT";
  if (!account) {
    account = h->name;
    acct_from = "the service name, as 'account' is not set";
  }
  if (!account_ok(account)) {
    rc = store_error_set(err, STORE_E_CONFIG,
                         "azure: account '%.64s' (%s) is not a storage "
                         "account name: 3 to 24 lowercase letters and "
                         "digits", account, acct_from);
    goto out;
  }
  h->account = strdup(account);
  if (!h->account) {
    rc = store_error_set(err, STORE_E_NOMEM, "azure: open");
    goto out;
  }
  rc = set_endpoint(h, endpoint ? endpoint : conn.blob_endpoint, err);
  if (rc)
    goto out;
  rc = set_secret(h, key, sas, err);
out:
  sdk_azure_conn_free(&conn);
  return rc;
}
