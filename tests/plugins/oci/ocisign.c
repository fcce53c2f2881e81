/*
** ocisign.c -- the Authorization header the SDK's OCI signer (sdk_oci.c)
** writes for one request, for test_signer_node.sh to compare with npm
** oci-common's:
**   ocisign KEYFILE KEYID METHOD URL XDATE [BODY|-object]
** BODY: a JSON body signed with the request; -object: an object body,
** left out of the signature (as the provider sends PutObject/UploadPart).
*/
#include <stdio.h>
#include <string.h>

#include "sdk_oci.h"
#include "sdk_rsa.h"

int main(int argc, char **argv)
{
  sdk_rsa_key *key = NULL;
  sdk_request *r;
  store_error err;
  uint32_t flags = 0;
  int rc = 1;

  if (argc < 6 || argc > 7) {
    fprintf(stderr, "usage: ocisign KEYFILE KEYID METHOD URL XDATE "
                    "[BODY|-object]\n");
    return 2;
  }
  memset(&err, 0, sizeof(err));
  err.struct_size = sizeof(err);
  if (sdk_rsa_key_load_file(argv[1], NULL, &key, &err)) {
    fprintf(stderr, "ocisign: %s\n", err.message);
    return 1;
  }
  r = sdk_request_new(argv[3], argv[4]);
  if (!r || sdk_request_set_header(r, "x-date", argv[5]))
    goto out;
  if (argc == 7 && !strcmp(argv[6], "-object")) {
    flags = SDK_OCI_SIGN_NO_BODY;
    sdk_request_body_stream(r, NULL, NULL, 0);
  } else if (argc == 7) {
    sdk_request_body_mem(r, argv[6], strlen(argv[6]));
  }
  if (sdk_oci_sign_request(r, key, argv[2], NULL, flags)) {
    fprintf(stderr, "ocisign: signing failed\n");
    goto out;
  }
  printf("%s\n", sdk_request_header(r, "Authorization"));
  rc = 0;
out:
  sdk_request_free(r);
  sdk_rsa_key_free(key);
  return rc;
}
