/*
** conf_presign.c -- presigned URLs (STORE_CAP_PRESIGN): what blob_presign
** returns, checked without using the URL (fetching it is each provider's
** own test, against its server).
*/
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "conf.h"

#define PRESIGN_CAP 8192
/* The lifetime asked for, and the clock difference a store may apply (its
 * server's clock: OCI allows five minutes of skew). */
#define PRESIGN_LIFE 600
#define PRESIGN_SKEW 300

/* xtstore_blob_presign of t->c/k for PRESIGN_LIFE seconds into url[0..cap),
 * which is first filled with 'x' (so a missing NUL shows); r zeroed. */
static int presign(tcase *t, const char *k, uint32_t method, char *url,
                   size_t cap, store_presign_result *r)
{
  store_presign_opts o;

  memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  o.method = method;
  o.expires_s = PRESIGN_LIFE;
  memset(r, 0, sizeof *r);
  r->struct_size = sizeof *r;
  memset(url, 'x', cap);
  return xtstore_blob_presign(g_svc, t->c, k, &o, url, cap, r, ERR(t));
}

/* One presign of t->c/k: STORE_OK with a URL, or UNSUPPORTED (these
 * credentials cannot sign one) with none. 1 when a URL came back. */
static int presign_one(tcase *t, const char *k, uint32_t method,
                       const char *what)
{
  char *url = talloc(t, PRESIGN_CAP);
  store_presign_result r;
  time_t before = time(NULL), after;
  int rc = presign(t, k, method, url, PRESIGN_CAP, &r);

  after = time(NULL);
  if (rc == STORE_E_UNSUPPORTED) {
    CHECK(t, url[0] == '\0', "%s: UNSUPPORTED, yet a URL came back", what);
    CHECK(t, t->err.message[0], "%s: UNSUPPORTED without a reason", what);
    conf_note(t, "%s: unsupported with these credentials: %s", what,
              t->err.message);
    return 0;
  }
  EXPECT_OK(t, rc, "%s of '%s'", what, k);
  CHECK(t, memchr(url, '\0', PRESIGN_CAP) != NULL,
        "%s: the URL is not NUL-terminated within the buffer", what);
  CHECK(t, url[0], "%s: an empty URL", what);
  CHECK(t, r.expires_at > (int64_t)before &&
        r.expires_at <= (int64_t)after + PRESIGN_LIFE + PRESIGN_SKEW,
        "%s: expires_at %lld is not within the %d-second lifetime from "
        "%lld", what, (long long)r.expires_at, PRESIGN_LIFE,
        (long long)before);
  CHECK(t, memchr(r.id, '\0', sizeof r.id) &&
        memchr(r.headers, '\0', sizeof r.headers),
        "%s: id or headers not NUL-terminated", what);
  return 1;
}

CONF_CASE(presign_url)
{
  const char *k = "presign/a b.txt";
  store_presign_result r;
  char tiny[8];
  int rc = put_str(t, t->c, k, "presigned");

  EXPECT_OK(t, rc, "put '%s'", k);
  if (!presign_one(t, k, STORE_PRESIGN_GET, "GET presign"))
    return;
  presign_one(t, "presign/new.txt", STORE_PRESIGN_PUT, "PUT presign");
  /* No URL fits in 8 bytes: INVALID, nothing half-written. */
  rc = presign(t, k, STORE_PRESIGN_GET, tiny, sizeof tiny, &r);
  EXPECT_RC(t, rc, STORE_E_INVALID, "presign into an 8-byte buffer");
  CHECK(t, tiny[0] == '\0', "a failed presign left a URL behind");
}
