/*
** s3_batch.c -- DeleteObjects: up to 1000 keys (or key versions) per
** request, quiet mode (only failures are reported), Content-MD5 as S3
** requires for this call.
*/
#include <stdio.h>
#include <string.h>

#include "s3.h"

#define DELETE_HEAD \
  "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true" \
  "</Quiet>"

void s3_batch_init(s3_batch *b, store_handle *h, const char *bucket)
{
  memset(b, 0, sizeof(*b));
  b->h = h;
  b->bucket = bucket;
  b->failure.struct_size = sizeof(b->failure);
}

void s3_batch_free(s3_batch *b)
{
  sdk_buf_free(&b->xml);
}

/* Copy the failure a listing callback recorded into the caller's err. */
int32_t s3_batch_failure(const s3_batch *b, store_error *err)
{
  if (err) {
    uint32_t size = err->struct_size;
    memcpy(err, &b->failure,
           size < sizeof(b->failure) ? size : sizeof(b->failure));
    err->struct_size = size;
  }
  return b->failure.code;
}

/* The first <Error> of a DeleteResult as this call's failure. */
static int32_t result_errors(const s3_call *c, sdk_xml_node *root,
                             store_error *err)
{
  sdk_xml_node *e = sdk_xml_child(root, "Error");
  const char *code, *key, *msg;

  if (!e)
    return STORE_OK;
  code = sdk_xml_child_text(e, "Code");
  key = sdk_xml_child_text(e, "Key");
  msg = sdk_xml_child_text(e, "Message");
  return s3_fail_msg(c, err,
                     code && !strcmp(code, "AccessDenied")
                       ? STORE_E_PERMISSION
                       : STORE_E_SERVER,
                     "key '%.200s': %s: %s", key ? key : "?",
                     code ? code : "?", msg ? msg : "");
}

int32_t s3_batch_flush(s3_batch *b, store_error *err)
{
  sdk_response *resp = NULL;
  sdk_xml_node *root = NULL;
  s3_call c;
  int32_t rc;

  if (!b->n)
    return STORE_OK;
  rc = s3_call_init(&c, b->h, "DeleteObjects", "POST", b->bucket, NULL, err);
  if (rc)
    return rc;
  if (sdk_buf_puts(&b->xml, "</Delete>")) {
    rc = s3_fail_msg(&c, err, STORE_E_NOMEM, "out of memory");
    goto out;
  }
  rc = s3_call_query(&c, "delete", NULL, err);
  if (!rc)
    rc = s3_call_body_xml(&c, &b->xml, err);
  if (!rc)
    rc = s3_perform_ok(&c, &resp, err);
  if (!rc)
    rc = s3_fail_xml(&c, resp, err, &root);
  if (!rc)
    rc = result_errors(&c, root, err);
out:
  sdk_buf_reset(&b->xml);
  b->n = 0;
  sdk_xml_free(root);
  sdk_response_free(resp);
  s3_call_free(&c);
  return rc;
}

int32_t s3_batch_add(s3_batch *b, const char *key, const char *version,
                     store_error *err)
{
  if (!b->n && sdk_buf_puts(&b->xml, DELETE_HEAD))
    goto nomem;
  if (sdk_buf_puts(&b->xml, "<Object><Key>") ||
      sdk_xml_escape(&b->xml, key) || sdk_buf_puts(&b->xml, "</Key>"))
    goto nomem;
  if (version && (sdk_buf_puts(&b->xml, "<VersionId>") ||
                  sdk_xml_escape(&b->xml, version) ||
                  sdk_buf_puts(&b->xml, "</VersionId>")))
    goto nomem;
  if (sdk_buf_puts(&b->xml, "</Object>"))
    goto nomem;
  if (++b->n == S3_DELETE_BATCH)
    return s3_batch_flush(b, err);
  return STORE_OK;
nomem:
  return store_error_set(err, STORE_E_NOMEM, "s3: DeleteObjects '%s': out of "
                         "memory", b->bucket);
}
