/*
** s3_batch.c -- DeleteObjects: up to 1000 keys (or key versions) per
** request, quiet mode (only failures are reported), Content-MD5 as S3
** requires for this call; for emptying a bucket (s3_container.c) and for
** the host's batch deletes (blob_delete_batch), which report each key.
*/
#include <stdio.h>
#include <stdlib.h>
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

/* Is this refusal of a DeleteObjects POST the server not doing it? A
 * server that cannot parse a well-formed batch (MalformedXML) or does not
 * implement it has no batches here. */
static int refused_batch(const store_error *e)
{
  return !strcmp(e->provider_code, "MalformedXML") ||
         !strcmp(e->provider_code, "NotImplemented") ||
         e->http_status == 501 || e->http_status == 405;
}

/* Send the keys added so far; *out_root (caller frees) is the
 * DeleteResult, whose <Error> elements name the keys that failed. */
static int32_t batch_send(s3_batch *b, sdk_xml_node **out_root,
                          store_error *err)
{
  sdk_response *resp = NULL;
  sdk_xml_node *root = NULL;
  s3_call c;
  int32_t rc;

  *out_root = NULL;
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
  if (!rc) {
    *out_root = root;
    root = NULL;
  }
out:
  sdk_buf_reset(&b->xml);
  b->n = 0;
  sdk_xml_free(root);
  sdk_response_free(resp);
  s3_call_free(&c);
  return rc;
}

int32_t s3_batch_flush(s3_batch *b, store_error *err)
{
  sdk_xml_node *root = NULL;
  s3_call c;
  int32_t rc;

  if (!b->n)
    return STORE_OK;
  rc = batch_send(b, &root, err);
  if (!rc && sdk_xml_child(root, "Error")) {
    /* Only to name the call in the message. */
    rc = s3_call_init(&c, b->h, "DeleteObjects", "POST", b->bucket, NULL,
                      err);
    if (!rc)
      rc = result_errors(&c, root, err);
    s3_call_free(&c);
  }
  sdk_xml_free(root);
  return rc;
}

/* The key (and version) into the <Delete> body being built. */
static int batch_append(s3_batch *b, const char *key, const char *version)
{
  if (!b->n && sdk_buf_puts(&b->xml, DELETE_HEAD))
    return -1;
  if (sdk_buf_puts(&b->xml, "<Object><Key>") ||
      sdk_xml_escape(&b->xml, key) || sdk_buf_puts(&b->xml, "</Key>"))
    return -1;
  if (version && (sdk_buf_puts(&b->xml, "<VersionId>") ||
                  sdk_xml_escape(&b->xml, version) ||
                  sdk_buf_puts(&b->xml, "</VersionId>")))
    return -1;
  if (sdk_buf_puts(&b->xml, "</Object>"))
    return -1;
  b->n++;
  return 0;
}

int32_t s3_batch_add(s3_batch *b, const char *key, const char *version,
                     store_error *err)
{
  if (batch_append(b, key, version))
    return store_error_set(err, STORE_E_NOMEM, "s3: DeleteObjects '%s': out "
                           "of memory", b->bucket);
  if (b->n == S3_DELETE_BATCH)
    return s3_batch_flush(b, err);
  return STORE_OK;
}

/* 1 when the bucket keeps versions (Enabled or Suspended), whose plain
 * deletes would leave the data behind delete markers; 0 when it does not
 * or the server has no versioning at all. */
static int32_t bucket_versioned(store_handle *h, const char *bucket,
                                int *out, store_error *err)
{
  sdk_response *resp = NULL;
  sdk_xml_node *root = NULL;
  const char *st;
  s3_call c;
  int32_t rc = s3_call_init(&c, h, "GetBucketVersioning", "GET", bucket,
                            NULL, err);

  *out = 0;
  if (!rc)
    rc = s3_call_query(&c, "versioning", NULL, err);
  if (!rc)
    rc = s3_perform(&c, &resp, err);
  if (!rc && !s3_is_2xx(resp)) {
    long status = sdk_response_status(resp);
    /* No versioning on this server (NotImplemented, or a 400 for an
     * unknown subresource): nothing is kept. */
    if (status == 501 || status == 400)
      goto out;
    rc = s3_fail(&c, resp, err);
    goto out;
  }
  if (!rc)
    rc = s3_fail_xml(&c, resp, err, &root);
  st = !rc ? sdk_xml_child_text(root, "Status") : NULL;
  *out = st && *st;
out:
  sdk_xml_free(root);
  sdk_response_free(resp);
  s3_call_free(&c);
  return rc;
}

/* Report every key of keys[0..n) named by an <Error> of root with its
 * failure, and every other one as deleted. */
static int32_t report_keys(const s3_call *c, sdk_xml_node *root,
                           const char *const *keys, size_t n, size_t base,
                           store_batch_fn fn, void *ctx, store_error *err)
{
  unsigned char *failed = calloc(n ? n : 1, 1);
  store_error kerr;
  size_t i;
  int32_t code;

  if (!failed)
    return s3_fail_msg(c, err, STORE_E_NOMEM, "out of memory");
  for (sdk_xml_node *e = sdk_xml_child(root, "Error"); e;
       e = sdk_xml_next(e, "Error")) {
    const char *key = sdk_xml_child_text(e, "Key");
    const char *ecode = sdk_xml_child_text(e, "Code");
    const char *msg = sdk_xml_child_text(e, "Message");
    for (i = 0; key && i < n; i++) {
      if (failed[i] || strcmp(keys[i], key))
        continue;
      failed[i] = 1;
      s3_err_init(&kerr);
      code = ecode && !strcmp(ecode, "AccessDenied") ? STORE_E_PERMISSION
             : ecode && !strcmp(ecode, "NoSuchKey")  ? STORE_OK
                                                      : STORE_E_SERVER;
      if (code)
        s3_fail_msg(c, &kerr, code, "key '%.200s': %s: %s", key,
                    ecode ? ecode : "?", msg ? msg : "");
      if (fn(ctx, base + i, code, code ? &kerr : NULL)) {
        free(failed);
        return s3_fail_msg(c, err, STORE_E_ABORTED, "stopped by the "
                           "callback");
      }
      break;
    }
  }
  for (i = 0; i < n; i++)
    if (!failed[i] && fn(ctx, base + i, STORE_OK, NULL)) {
      free(failed);
      return s3_fail_msg(c, err, STORE_E_ABORTED, "stopped by the "
                         "callback");
    }
  free(failed);
  return STORE_OK;
}

int32_t s3_blob_delete_batch(store_handle *h, const char *container,
                             const char *const *keys, size_t n,
                             store_batch_fn fn, void *ctx, store_error *err)
{
  sdk_xml_node *root = NULL;
  s3_batch b;
  s3_call c;
  size_t i, at;
  int versioned = 0;
  int32_t rc = s3_check_names(container, NULL, err);

  for (i = 0; !rc && i < n; i++)
    rc = s3_check_names(container, keys[i], err);
  if (!rc)
    rc = bucket_versioned(h, container, &versioned, err);
  if (rc)
    return rc;
  if (versioned)
    return store_error_set(err, STORE_E_UNSUPPORTED, "s3: bucket '%s' keeps "
                           "versions: its objects are deleted one by one, "
                           "with their versions", container);
  s3_batch_init(&b, h, container);
  for (at = 0; !rc && at < n; at += S3_DELETE_BATCH) {
    size_t m = n - at < S3_DELETE_BATCH ? n - at : S3_DELETE_BATCH;
    for (i = 0; i < m; i++)
      if (batch_append(&b, keys[at + i], NULL)) {
        rc = store_error_set(err, STORE_E_NOMEM, "s3: DeleteObjects '%s': "
                             "out of memory", container);
        break;
      }
    if (!rc)
      rc = batch_send(&b, &root, err);
    if (rc && err && refused_batch(err)) {
      char code[STORE_ERR_CODE_SIZE];
      snprintf(code, sizeof(code), "%s", err->provider_code);
      rc = store_error_set(err, STORE_E_UNSUPPORTED, "s3: DeleteObjects "
                           "'%s': the server refuses it (HTTP %d %s): "
                           "deleting one by one", container,
                           (int)err->http_status, code);
    }
    /* A call only to name DeleteObjects in the keys' messages. */
    if (!rc && !(rc = s3_call_init(&c, h, "DeleteObjects", "POST", container,
                                   NULL, err))) {
      rc = report_keys(&c, root, keys + at, m, at, fn, ctx, err);
      s3_call_free(&c);
    }
    sdk_xml_free(root);
    root = NULL;
  }
  s3_batch_free(&b);
  return rc;
}
