/*
** azsas.c -- print a SAS token made with the SDK's signer, for the tests
** that run the provider with SAS credentials against Azurite.
**
**   azsas account ACCOUNT KEY PERMISSIONS EXPIRY
**       an account SAS for the Blob service (ss=b, srt=sco)
**   azsas container ACCOUNT KEY CONTAINER PERMISSIONS EXPIRY
**       a service SAS for one container (sr=c)
** KEY is the base64 account key; EXPIRY an ISO 8601 UTC time.
*/
#include <stdio.h>
#include <string.h>

#include "sdk_azure.h"

#define SAS_VERSION "2021-08-06"

int main(int argc, char **argv)
{
  sdk_buf key = SDK_BUF_INIT, tok = SDK_BUF_INIT;
  int account = argc == 6 && !strcmp(argv[1], "account");
  int container = argc == 7 && !strcmp(argv[1], "container");
  int rc;

  if (!account && !container) {
    fprintf(stderr, "usage: azsas account ACCOUNT KEY PERMISSIONS EXPIRY\n"
                    "       azsas container ACCOUNT KEY CONTAINER "
                    "PERMISSIONS EXPIRY\n");
    return 2;
  }
  if (sdk_azure_key_decode(argv[3], &key)) {
    fprintf(stderr, "azsas: the key is not base64\n");
    return 2;
  }
  if (account) {
    sdk_azure_account_sas p = {SAS_VERSION, "b", "sco", argv[4], NULL,
                               argv[5], NULL, "https,http", NULL};
    rc = sdk_azure_account_sas_token(&p, argv[2], key.data, key.len, NULL,
                                     &tok);
  } else {
    sdk_azure_blob_sas p;
    memset(&p, 0, sizeof(p));
    p.version = SAS_VERSION;
    p.resource = "c";
    p.container = argv[4];
    p.permissions = argv[5];
    p.expiry = argv[6];
    p.protocol = "https,http";
    rc = sdk_azure_blob_sas_token(&p, argv[2], key.data, key.len, NULL,
                                  &tok);
  }
  if (rc) {
    fprintf(stderr, "azsas: out of memory\n");
    return 1;
  }
  puts(sdk_buf_str(&tok));
  sdk_buf_free(&tok);
  sdk_buf_free(&key);
  return 0;
}
