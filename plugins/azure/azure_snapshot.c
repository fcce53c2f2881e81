/*
** azure_snapshot.c -- Snapshot Blob (comp=snapshot): the id is the
** snapshot's time stamp from x-ms-snapshot, which get, head, delete and
** copy take back as ?snapshot=.
*/
#include <stdio.h>
#include <string.h>

#include "azure.h"

/* "2011-03-09T01:42:34.9360000Z" and its NUL: checked before the snapshot
 * is taken, so an id is never lost for want of room. */
#define SNAPSHOT_ID_SIZE 29

int32_t az_blob_snapshot(store_handle *h, const char *container,
                         const char *key, char *out_id, size_t cap,
                         store_error *err)
{
  az_target t = {"snapshot", container, key, NULL};
  sdk_response *resp = NULL;
  const char *id;
  int32_t rc;

  rc = az_check_key(&t, err);
  if (rc)
    goto out;
  if (!out_id || cap < SNAPSHOT_ID_SIZE) {
    rc = az_fail(&t, err, STORE_E_INVALID, "snapshot id buffer of %zu "
                 "bytes, needs %d", cap, SNAPSHOT_ID_SIZE);
    goto out;
  }
  out_id[0] = '\0';
  rc = az_exec(h, &t, "PUT", "comp=snapshot", NULL, 0, &resp, err);
  if (rc)
    goto out;
  id = sdk_response_header(resp, "x-ms-snapshot");
  if (!id || !*id) {
    rc = az_fail(&t, err, STORE_E_INTERNAL,
                 "the service returned no x-ms-snapshot id");
    goto out;
  }
  if ((size_t)snprintf(out_id, cap, "%s", id) >= cap) {
    out_id[0] = '\0';
    rc = az_fail(&t, err, STORE_E_INVALID,
                 "snapshot id '%s' does not fit in %zu bytes", id, cap);
  }
out:
  sdk_response_free(resp);
  return rc;
}
