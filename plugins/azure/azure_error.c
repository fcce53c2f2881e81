/*
** azure_error.c -- messages naming the op and the object, and error
** responses (<Error><Code>..</Code><Message>..</Message></Error>, or the
** x-ms-error-code header of a HEAD) classified into store_error.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "azure.h"
#include "sdk_error.h"
#include "sdk_xml.h"

static const sdk_nouns nouns = {"the account", "container",
                                 "blob", "snapshot"};

/* "blob 'c/k'", "blob 'c/k' snapshot 'S'", "container 'c'", "the
 * account": what a request was about. Long names are cut. */
static void describe(const az_target *t, char *out, size_t cap)
{
  sdk_error_describe(&nouns, t->container, t->key, t->snapshot, out, cap);
}

int32_t az_fail(const az_target *t, store_error *err, int32_t code,
                const char *fmt, ...)
{
  char what[256];
  va_list ap;
  int32_t rc;

  describe(t, what, sizeof(what));
  va_start(ap, fmt);
  rc = sdk_error_vfail(err, code, t->op, what, fmt, ap);
  va_end(ap);
  return rc;
}

int32_t az_nomem(const az_target *t, store_error *err)
{
  return az_fail(t, err, STORE_E_NOMEM, "out of memory");
}

/* The Blob service's error codes that mean something more precise than
 * their HTTP status. Codes not listed are classified by status. */
static const sdk_error_code codes[] = {
  {"BlobNotFound", STORE_E_NOT_FOUND, 0, "not found"},
  {"ContainerNotFound", STORE_E_NOT_FOUND, 0, "container not found"},
  {"ResourceNotFound", STORE_E_NOT_FOUND, 0, "not found"},
  {"CannotVerifyCopySource", STORE_E_NOT_FOUND, 0,
   "the copy source is missing or not readable"},
  {"ContainerAlreadyExists", STORE_E_EXISTS, 0, "already exists"},
  {"BlobAlreadyExists", STORE_E_EXISTS, 0, "already exists"},
  {"ContainerBeingDeleted", STORE_E_EXISTS, 1,
   "the container is being deleted; try again later"},
  {"ConditionNotMet", STORE_E_PRECONDITION, 0, "condition not met"},
  {"SourceConditionNotMet", STORE_E_PRECONDITION, 0, "condition not met"},
  {"TargetConditionNotMet", STORE_E_PRECONDITION, 0, "condition not met"},
  {"InvalidBlobType", STORE_E_PRECONDITION, 0,
   "the operation does not fit the blob's type"},
  {"LeaseIdMissing", STORE_E_PRECONDITION, 0, "it is leased"},
  {"LeaseIdMismatchWithBlobOperation", STORE_E_PRECONDITION, 0,
   "it is leased"},
  {"LeaseIdMismatchWithContainerOperation", STORE_E_PRECONDITION, 0,
   "it is leased"},
  {"SnapshotsPresent", STORE_E_NOT_EMPTY, 0,
   "blob has snapshots (delete them with it, or one by one by id)"},
  {"InvalidRange", STORE_E_INVALID, 0, "range not satisfiable"},
  {"InvalidBlockList", STORE_E_INVALID, 0,
   "the block list names blocks that were not uploaded"},
  {"InvalidBlockId", STORE_E_INVALID, 0, "invalid block id"},
  {"InvalidMetadata", STORE_E_INVALID, 0, "invalid metadata"},
  {"InvalidResourceName", STORE_E_INVALID, 0,
   "invalid container or blob name"},
  {"RequestBodyTooLarge", STORE_E_INVALID, 0, "request body too large"},
  {"BlockCountExceedsLimit", STORE_E_INVALID, 0, "too many blocks"},
  {"AuthenticationFailed", STORE_E_AUTH, 0, NULL},
  {"AuthorizationFailure", STORE_E_AUTH, 0, NULL},
  {"NoAuthenticationInformation", STORE_E_AUTH, 0, NULL},
  {"InvalidAuthenticationInfo", STORE_E_AUTH, 0, NULL},
  {"AuthorizationPermissionMismatch", STORE_E_PERMISSION, 0,
   "not permitted by the credentials (a SAS token without the needed "
   "permission?)"},
  {"AuthorizationResourceTypeMismatch", STORE_E_PERMISSION, 0,
   "not permitted by the SAS token's resource types"},
  {"AuthorizationServiceMismatch", STORE_E_PERMISSION, 0,
   "not permitted by the SAS token's services"},
  {"AuthorizationProtocolMismatch", STORE_E_PERMISSION, 0,
   "not permitted over this protocol by the SAS token"},
  {"AuthorizationSourceIPMismatch", STORE_E_PERMISSION, 0,
   "not permitted from this address by the SAS token"},
  /* A body refused because it does not match the checksum sent with it
   * (azure_check.c): damaged on the way, worth sending again. */
  {"Md5Mismatch", STORE_E_IO, 1, "the body arrived damaged (not the "
   "Content-MD5 sent with it); nothing was stored"},
  {"Crc64Mismatch", STORE_E_IO, 1, "the body arrived damaged (not the "
   "x-ms-content-crc64 sent with it); nothing was stored"},
  {"ServerBusy", STORE_E_THROTTLED, 1, "server busy"},
  {"InternalError", STORE_E_SERVER, 1, "internal server error"},
  {"OperationTimedOut", STORE_E_TIMEOUT, 1, "timed out on the server"},
};

int32_t az_fail_response(const az_target *t, const sdk_response *resp,
                         store_error *err)
{
  long status = sdk_response_status(resp);
  const char *code = NULL, *smsg = NULL;
  const sdk_error_code *row;
  char desc[256];
  sdk_xml_node *root = NULL;
  store_error xerr;
  int32_t rc = 0;
  size_t blen = 0;
  const char *body = sdk_response_body(resp, &blen);

  memset(&xerr, 0, sizeof(xerr));
  xerr.struct_size = sizeof(xerr);
  if (blen && sdk_xml_parse(body, blen, &root, &xerr) == STORE_OK &&
      !strcmp(sdk_xml_name(root), "Error")) {
    code = sdk_xml_child_text(root, "Code");
    smsg = sdk_xml_child_text(root, "Message");
  }
  if (!code || !*code)
    code = sdk_response_header(resp, "x-ms-error-code");
  row = sdk_error_code_find(codes, sizeof(codes) / sizeof(codes[0]), code);
  if (row)
    rc = row->rc;
  /* Azure answers a bad signature with 403; without a code, that is the
   * likely cause. */
  if (!rc && status == 403 && (!code || !*code))
    rc = STORE_E_AUTH;
  describe(t, desc, sizeof(desc));
  /* No server message here: it would echo the string it signed. */
  if (rc == STORE_E_AUTH)
    rc = sdk_error_http(err, resp, rc, code, "x-ms-request-id",
                   "%s %s: authentication failed (%s): check the account "
                   "key or SAS token", t->op, desc,
                   code && *code ? code : "HTTP 403");
  else
    rc = sdk_error_response(err, resp, rc, row ? row->retry : 0, code,
                            "x-ms-request-id", t->op, desc,
                            row ? row->what : NULL, smsg);
  sdk_xml_free(root);
  return rc;
}
