/*
** test_local_cksum.c -- the local provider's CRC-32C (local_cksum.c),
** through libxtstore: put reports the CRC of the bytes it wrote, entries
** report it while the file is the one it was recorded for (head, and
** listings with and without metadata, which read the record by name), a
** file changed or replaced outside xtstore is reported without it (and
** still downloads), a body that does not match the CRC given with it is
** not stored; multipart uploads combine their parts' CRCs (checked against
** complete's), and copies carry the source's.
*/
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "xtstore.h"

#define BODY     "123456789"
#define BODY_CRC 0xe3069283u /* the standard CRC-32C check value */

typedef struct fixture {
  char dir[64];
  xtstore_ctx *ctx;
  xtstore_svc *svc;
} fixture;

static store_error *fresh(store_error *e)
{
  memset(e, 0, sizeof(*e));
  e->struct_size = sizeof(*e);
  return e;
}

static int setup(void **state)
{
  fixture *f = calloc(1, sizeof(*f));
  char path[128];
  xtstore_ctx_opts co;
  store_error err;
  FILE *cfg;

  if (!f)
    return -1;
  snprintf(f->dir, sizeof(f->dir), "/tmp/test_local_cksum.XXXXXX");
  if (!mkdtemp(f->dir))
    return -1;
  snprintf(path, sizeof(path), "%s/xt_config.yaml", f->dir);
  cfg = fopen(path, "w");
  if (!cfg)
    return -1;
  fprintf(cfg,
          "providers:\n  storage:\n    local: \"%s/plugins/store-local.so\"\n"
          "external-services:\n  disk: {type: \"storage\", provider: "
          "\"local\", path: \"%s/root\"}\n",
          TEST_BINDIR, f->dir);
  fclose(cfg);
  memset(&co, 0, sizeof(co));
  co.struct_size = sizeof(co);
  co.flags = XTSTORE_CTX_NO_SYSTEM_CONFIG | XTSTORE_CTX_NO_USER_CONFIG |
             XTSTORE_CTX_NO_CWD_CONFIG;
  co.config_path = path;
  co.log_level = STORE_LOG_WARN;
  if (xtstore_ctx_open(&co, &f->ctx, fresh(&err)) ||
      xtstore_service_open(f->ctx, "disk", &f->svc, fresh(&err)) ||
      xtstore_container_create(f->svc, "c", NULL, 0, fresh(&err))) {
    fprintf(stderr, "setup: %s\n", err.message);
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fixture *f = *state;
  char cmd[128];

  xtstore_ctx_close(f->ctx);
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
  if (system(cmd) != 0)
    return -1;
  free(f);
  return 0;
}

typedef struct src {
  const char *p;
  size_t left;
} src;

static int32_t src_read(void *ud, void *buf, size_t cap, size_t *out_n)
{
  src *s = ud;

  *out_n = s->left < cap ? s->left : cap;
  memcpy(buf, s->p, *out_n);
  s->p += *out_n;
  s->left -= *out_n;
  return 0;
}

/* Put body under key, with the CRC `given` when has_given. */
static int put(fixture *f, const char *key, const char *body, int has_given,
               uint32_t given, store_put_result *pr, store_error *err)
{
  src s = {body, strlen(body)};
  store_put_opts po;

  memset(&po, 0, sizeof(po));
  po.struct_size = sizeof(po);
  po.content_length = (int64_t)s.left;
  if (has_given) {
    po.checksums = STORE_CKSUM_CRC32C;
    po.crc32c = given;
  }
  memset(pr, 0, sizeof(*pr));
  pr->struct_size = sizeof(*pr);
  return xtstore_blob_put(f->svc, "c", key, &po, src_read, &s, NULL, pr,
                          fresh(err));
}

/* What an entry said: its size and whether and which CRC it reported. */
typedef struct seen {
  int calls, has_crc;
  uint32_t crc;
  uint64_t size;
} seen;

static int32_t seen_cb(void *ud, const store_entry *e)
{
  seen *s = ud;

  s->calls++;
  s->size = e->size;
  s->has_crc = store_entry_crc32c(e, &s->crc);
  return 0;
}

static seen head(fixture *f, const char *key)
{
  store_error err;
  seen s = {0};

  assert_int_equal(xtstore_blob_head(f->svc, "c", key, NULL, seen_cb, &s,
                                     fresh(&err)), STORE_OK);
  assert_int_equal(s.calls, 1);
  return s;
}

/* The container's one blob as a listing reports it: without metadata
 * (the record read by name) or with (read from the open file). */
static seen list_with(fixture *f, uint32_t flags)
{
  store_list_opts lo;
  store_error err;
  seen s = {0};

  memset(&lo, 0, sizeof(lo));
  lo.struct_size = sizeof(lo);
  lo.flags = flags;
  assert_int_equal(xtstore_blob_list(f->svc, "c", &lo, seen_cb, &s,
                                     fresh(&err)), STORE_OK);
  assert_int_equal(s.calls, 1);
  return s;
}

static seen list(fixture *f)
{
  seen a = list_with(f, 0), b = list_with(f, STORE_LIST_METADATA);

  assert_int_equal(a.has_crc, b.has_crc);
  assert_int_equal(a.crc, b.crc);
  return a;
}

typedef struct sink {
  char buf[64];
  size_t len;
} sink;

static int32_t sink_write(void *ud, const void *p, size_t n)
{
  sink *k = ud;

  if (k->len + n > sizeof(k->buf))
    return 1;
  memcpy(k->buf + k->len, p, n);
  k->len += n;
  return 0;
}

static void put_reports_crc_and_entries_keep_it(void **state)
{
  fixture *f = *state;
  store_put_result pr;
  store_error err;
  seen s;

  assert_int_equal(put(f, "k", BODY, 0, 0, &pr, &err), STORE_OK);
  assert_int_equal(pr.size, strlen(BODY));
  assert_true(pr.checksums & STORE_CKSUM_CRC32C);
  assert_int_equal(pr.crc32c, BODY_CRC);
  s = head(f, "k");
  assert_true(s.has_crc);
  assert_int_equal(s.crc, BODY_CRC);
  s = list(f);
  assert_true(s.has_crc);
  assert_int_equal(s.crc, BODY_CRC);
}

/* Another program rewrites the file in place, same size; its mtime moves
 * (set here, so the test does not rest on the clock's granularity). */
static void changed_outside_has_no_crc(void **state)
{
  fixture *f = *state;
  store_put_result pr;
  store_error err;
  struct timespec ts[2] = {{0, UTIME_OMIT}, {0, 0}};
  struct stat st;
  char path[128];
  sink k = {{0}, 0};
  seen s;
  int fd;

  assert_int_equal(put(f, "k", BODY, 0, 0, &pr, &err), STORE_OK);
  snprintf(path, sizeof(path), "%s/root/c/k", f->dir);
  fd = open(path, O_WRONLY);
  assert_true(fd >= 0);
  assert_int_equal(pwrite(fd, "987654321", 9, 0), 9);
  assert_int_equal(fstat(fd, &st), 0);
  ts[1].tv_sec = st.st_mtim.tv_sec + 2;
  assert_int_equal(futimens(fd, ts), 0);
  close(fd);

  s = head(f, "k");
  assert_int_equal(s.size, 9);
  assert_false(s.has_crc);
  s = list(f);
  assert_false(s.has_crc);
  assert_int_equal(xtstore_blob_get(f->svc, "c", "k", NULL, sink_write, &k,
                                    fresh(&err)), STORE_OK);
  assert_int_equal(k.len, 9);
  assert_memory_equal(k.buf, "987654321", 9);
}

/* Another program replaces the file with one of the same size and mtime
 * that carries the old record over (cp --preserve=all would): only its
 * inode differs, and the record is not the new file's. */
static void replaced_outside_has_no_crc(void **state)
{
  fixture *f = *state;
  store_put_result pr;
  store_error err;
  struct timespec ts[2] = {{0, UTIME_OMIT}, {0, 0}};
  struct stat st;
  char path[128], tmp[128], rec[128];
  ssize_t n;
  int fd;

  assert_int_equal(put(f, "k", BODY, 0, 0, &pr, &err), STORE_OK);
  snprintf(path, sizeof(path), "%s/root/c/k", f->dir);
  snprintf(tmp, sizeof(tmp), "%s/root/c/k.new", f->dir);
  n = getxattr(path, "user.xtstore.crc32c", rec, sizeof(rec));
  assert_true(n > 0);
  assert_int_equal(stat(path, &st), 0);
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "987654321", 9), 9);
  assert_int_equal(fsetxattr(fd, "user.xtstore.crc32c", rec, (size_t)n, 0),
                   0);
  ts[1] = st.st_mtim;
  assert_int_equal(futimens(fd, ts), 0);
  close(fd);
  assert_int_equal(rename(tmp, path), 0);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mtim.tv_nsec, ts[1].tv_nsec);

  assert_false(head(f, "k").has_crc);
  assert_false(list(f).has_crc);
}

/* An append changes the size: the recorded CRC no longer applies. */
static void appended_has_no_crc(void **state)
{
  fixture *f = *state;
  store_put_result pr;
  store_error err;
  src s = {"0", 1};

  assert_int_equal(put(f, "k", BODY, 0, 0, &pr, &err), STORE_OK);
  assert_true(head(f, "k").has_crc);
  assert_int_equal(xtstore_blob_append(f->svc, "c", "k", NULL, src_read, &s,
                                       fresh(&err)), STORE_OK);
  assert_false(head(f, "k").has_crc);
}

/* A CRC given with the body is checked, as a server checks it. */
static void wrong_given_crc_is_not_stored(void **state)
{
  fixture *f = *state;
  store_put_result pr;
  store_error err;
  int ex = -1;

  /* As a server answers a body damaged on the way: the same body sent
   * again may arrive whole. */
  assert_int_equal(put(f, "k", BODY, 1, BODY_CRC ^ 1, &pr, &err),
                   STORE_E_IO);
  assert_true(err.flags & STORE_ERR_RETRYABLE);
  assert_non_null(strstr(err.message, "e3069283"));
  assert_non_null(strstr(err.message, "e3069282"));
  assert_int_equal(xtstore_blob_exists(f->svc, "c", "k", &ex, fresh(&err)),
                   STORE_OK);
  assert_int_equal(ex, 0);
  assert_int_equal(put(f, "k", BODY, 1, BODY_CRC, &pr, &err), STORE_OK);
  assert_int_equal(pr.crc32c, BODY_CRC);
}

/* Upload BODY as parts "1234", "5", "6789" (any sizes: local has no
 * minimum) and complete with the CRC `given` when has_given; with
 * old_tokens, with the tokens as they were before they carried the part's
 * CRC ("<n>-<etag>", as a journal of a resumed upload may hold them). */
static int multipart_with(fixture *f, const char *key, int has_given,
                          uint32_t given, int old_tokens,
                          store_put_result *pr, store_error *err)
{
  static const char *const parts[] = {"1234", "5", "6789"};
  char id[STORE_ID_SIZE], tok[3][STORE_ID_SIZE];
  const char *toks[3] = {tok[0], tok[1], tok[2]};
  store_put_opts po;
  int rc;

  assert_int_equal(xtstore_multipart_begin(f->svc, "c", key, NULL, id,
                                           sizeof(id), fresh(err)),
                   STORE_OK);
  for (uint32_t i = 0; i < 3; i++) {
    src s = {parts[i], strlen(parts[i])};
    assert_int_equal(xtstore_multipart_part(f->svc, "c", key, id, i + 1,
                                            s.left, src_read, &s, tok[i],
                                            sizeof(tok[i]), fresh(err)),
                     STORE_OK);
    if (old_tokens) {
      char *crc = strrchr(tok[i], '-');
      assert_non_null(crc);
      assert_int_equal(strlen(crc), 9);
      *crc = 0;
    }
  }
  memset(&po, 0, sizeof(po));
  po.struct_size = sizeof(po);
  po.checksums = has_given ? STORE_CKSUM_CRC32C : 0;
  po.crc32c = given;
  memset(pr, 0, sizeof(*pr));
  pr->struct_size = sizeof(*pr);
  rc = xtstore_multipart_complete(f->svc, "c", key, id, &po, toks, 3, pr,
                                  fresh(err));
  if (rc) {
    store_error e2;
    (void)xtstore_multipart_abort(f->svc, "c", key, id, fresh(&e2));
  }
  return rc;
}

static int multipart(fixture *f, const char *key, int has_given,
                     uint32_t given, store_put_result *pr, store_error *err)
{
  return multipart_with(f, key, has_given, given, 0, pr, err);
}

/* The parts' CRCs, combined, are the object's: reported by complete and
 * kept for its entries. */
static void multipart_combines_part_crcs(void **state)
{
  fixture *f = *state;
  store_put_result pr;
  store_error err;
  seen s;

  assert_int_equal(multipart(f, "m", 0, 0, &pr, &err), STORE_OK);
  assert_int_equal(pr.size, 9);
  assert_true(pr.checksums & STORE_CKSUM_CRC32C);
  assert_int_equal(pr.crc32c, BODY_CRC);
  s = head(f, "m");
  assert_true(s.has_crc);
  assert_int_equal(s.crc, BODY_CRC);
  s = list(f);
  assert_true(s.has_crc);
  assert_int_equal(s.crc, BODY_CRC);
}

/* Tokens without the part's CRC still complete: the parts are summed
 * from their files. */
static void multipart_old_tokens_are_summed(void **state)
{
  fixture *f = *state;
  store_put_result pr;
  store_error err;

  assert_int_equal(multipart_with(f, "m", 1, BODY_CRC, 1, &pr, &err),
                   STORE_OK);
  assert_int_equal(pr.crc32c, BODY_CRC);
  assert_int_equal(head(f, "m").crc, BODY_CRC);
}

/* A CRC given to complete is checked like a put's: a mismatch stores
 * nothing and is a retryable I/O error naming both values. */
static void multipart_wrong_given_crc_is_not_stored(void **state)
{
  fixture *f = *state;
  store_put_result pr;
  store_error err;
  int ex = -1;

  assert_int_equal(multipart(f, "m", 1, 0x01020304, &pr, &err), STORE_E_IO);
  assert_true(err.flags & STORE_ERR_RETRYABLE);
  assert_non_null(strstr(err.message, "e3069283"));
  assert_non_null(strstr(err.message, "01020304"));
  assert_int_equal(xtstore_blob_exists(f->svc, "c", "m", &ex, fresh(&err)),
                   STORE_OK);
  assert_int_equal(ex, 0);
  assert_int_equal(multipart(f, "m", 1, BODY_CRC, &pr, &err), STORE_OK);
  assert_int_equal(pr.crc32c, BODY_CRC);
}

/* A copy (server-side: one local service) carries the source's CRC while
 * the source's record holds; of a source changed outside xtstore, none. */
static void copy_carries_crc(void **state)
{
  fixture *f = *state;
  struct timespec ts[2] = {{0, UTIME_OMIT}, {0, 0}};
  store_put_result pr;
  store_error err;
  struct stat st;
  char path[128];
  seen s;
  int fd;

  assert_int_equal(put(f, "k", BODY, 0, 0, &pr, &err), STORE_OK);
  assert_int_equal(xtstore_blob_copy(f->svc, "c", "k", f->svc, "c", "k2",
                                     NULL, fresh(&err)), STORE_OK);
  s = head(f, "k2");
  assert_true(s.has_crc);
  assert_int_equal(s.crc, BODY_CRC);

  snprintf(path, sizeof(path), "%s/root/c/k", f->dir);
  fd = open(path, O_WRONLY);
  assert_true(fd >= 0);
  assert_int_equal(pwrite(fd, "987654321", 9, 0), 9);
  assert_int_equal(fstat(fd, &st), 0);
  ts[1].tv_sec = st.st_mtim.tv_sec + 2;
  assert_int_equal(futimens(fd, ts), 0);
  close(fd);
  assert_int_equal(xtstore_blob_copy(f->svc, "c", "k", f->svc, "c", "k3",
                                     NULL, fresh(&err)), STORE_OK);
  assert_false(head(f, "k3").has_crc);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(put_reports_crc_and_entries_keep_it,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(changed_outside_has_no_crc, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(replaced_outside_has_no_crc, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(appended_has_no_crc, setup, teardown),
    cmocka_unit_test_setup_teardown(wrong_given_crc_is_not_stored, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(multipart_combines_part_crcs, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(multipart_wrong_given_crc_is_not_stored,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(multipart_old_tokens_are_summed, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(copy_carries_crc, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
