/*
** The upload journal's part lines (host/engine/journal.c) are read
** strictly: decimal numbers and 8 lowercase hex digits of CRC-32C only; a
** line strtoul would have taken (a sign, a 0x, upper case) is ignored, so
** its part is sent again rather than matched against a wrong CRC. A copy's
** journal (version 2) records its source object's address and version,
** names of any bytes (blanks, newlines, '%', non-ASCII, longer than any
** line buffer) read back as written, and a file's journal of version 1,
** as written before, still loads. The lock beside a journal is held by
** one taker at a time and goes with its holder. A part sent again has its
** last line's token, length and CRC-32C; the put options' digest (O) and
** the count of runs that kept the upload storing no part (K, back to 0 at
** a later part) read back, and a journal without them is of options
** unknown.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine/engine.h"

/* Each test's directory (a fixture): PATH a journal's name in it. */
struct tmp {
  char dir[32];
  char path[64];
};

static int tmp_setup(void **state)
{
  struct tmp *t = calloc(1, sizeof(*t));

  if (!t)
    return -1;
  strcpy(t->dir, "/tmp/xtstore-journal-XXXXXX");
  if (!mkdtemp(t->dir)) {
    free(t);
    return -1;
  }
  snprintf(t->path, sizeof(t->path), "%s/j", t->dir);
  *state = t;
  return 0;
}

static int tmp_teardown(void **state)
{
  struct tmp *t = *state;
  char cmd[64];
  int rc;

  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
  rc = system(cmd);
  free(t);
  return rc ? -1 : 0;
}

static void test_part_lines_strict(void **state)
{
  const char *path = ((struct tmp *)*state)->path;
  st_mp_ident id = {1, 2, 3, 4, 0, NULL, NULL, NULL, NULL, NULL};
  st_journal *j;
  FILE *f;
  j = st_journal_new(path, "svc", "c", "k", "up-1", &id, 1024);
  assert_non_null(j);
  assert_int_equal(st_journal_write(j), 0);
  assert_int_equal(st_journal_add(j, 1, 1024, "t1", 0x0000abcd), 0);
  st_journal_free(j);
  f = fopen(path, "a");
  assert_non_null(f);
  fputs("P 2 1024 t2 +000abcd\n"
        "P 3 1024 t3 0x00abcd\n"
        "P 4 1024 t4 0000ABCD\n"
        "P +5 1024 t5 0000abcd\n"
        "P 6 +1024 t6 0000abcd\n"
        "P 7 1024 t7 0000abcd\n", f);
  fclose(f);
  assert_int_equal(st_journal_read(path, &j), 0);
  assert_int_equal(j->nparts, 2);
  assert_int_equal(j->parts[0].no, 1);
  assert_int_equal(j->parts[0].crc, 0xabcd);
  assert_int_equal(j->parts[1].no, 7);
  st_journal_free(j);
}

/* A copy's journal: its source object (names with blanks and '-', which
 * are encoded) read back as written; another version is another source. */
static void test_object_source(void **state)
{
  const char *path = ((struct tmp *)*state)->path;
  st_mp_ident id, other;
  st_journal *j;
  st_mp_ident_object("src svc", "c-1", "a b/k", "\"e-1\"", NULL, 1 << 20,
                     &id);
  j = st_journal_new(path, "dst", "c", "k", "up-2", &id, 4096);
  assert_non_null(j);
  assert_int_equal(st_journal_write(j), 0);
  assert_int_equal(st_journal_add(j, 2, 4096, "t2", 0x12345678), 0);
  st_journal_free(j);
  assert_int_equal(st_journal_read(path, &j), 0);
  assert_true(st_mp_ident_same(&j->ident, &id));
  assert_string_equal(j->ident.key, "a b/k");
  assert_string_equal(j->upload_id, "up-2");
  assert_int_equal(j->part_size, 4096);
  assert_int_equal(j->nparts, 1);
  assert_int_equal(j->parts[0].crc, 0x12345678);
  other = id;
  other.version = "\"e-2\"";
  assert_false(st_mp_ident_same(&j->ident, &other));
  other = id;
  other.snapshot = "snap-1";                           /* a snapshot's */
  assert_false(st_mp_ident_same(&j->ident, &other));
  assert_null(j->ident.snapshot);
  other = id;
  other.size++;
  assert_false(st_mp_ident_same(&j->ident, &other));
  memset(&other, 0, sizeof(other));
  other.size = id.size;
  assert_false(st_mp_ident_same(&j->ident, &other));   /* a file's */
  st_journal_free(j);
}

/* Headers as files hold them: version 1 (a file's, as older runs wrote
 * it) loads; a version 2 without its source's version or key, or cut
 * short, is not a journal. */
static void test_header_versions(void **state)
{
  const char *path = ((struct tmp *)*state)->path;
  st_mp_ident file = {7, 8, 9, 10, 0, NULL, NULL, NULL, NULL, NULL};
  st_journal *j;
  FILE *f;
  f = fopen(path, "w");
  assert_non_null(f);
  fputs("xtstore-journal 1 100 7 8 9 10 0 4096 svc c k up-1\n"
        "P 1 4096 t1 0000abcd\n", f);
  fclose(f);
  assert_int_equal(st_journal_read(path, &j), 0);
  assert_true(st_mp_ident_same(&j->ident, &file));
  assert_null(j->ident.service);
  assert_int_equal(j->created, 100);
  assert_string_equal(j->upload_id, "up-1");
  assert_int_equal(j->nparts, 1);
  st_journal_free(j);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs("xtstore-journal 2 100 9 4096 s c k - - svc c k up-1\n", f);
  fclose(f);
  assert_int_equal(st_journal_read(path, &j), -1);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs("xtstore-journal 2 100 9 4096 s c k v - svc c k\n", f);
  fclose(f);
  assert_int_equal(st_journal_read(path, &j), -1);
  /* An empty source key is no object's. */
  f = fopen(path, "w");
  assert_non_null(f);
  fputs("xtstore-journal 2 100 9 4096 s c - v - svc c k up-1\n", f);
  fclose(f);
  assert_int_equal(st_journal_read(path, &j), -1);
  /* A later version's header is not read (-1), unlike no file (1). */
  f = fopen(path, "w");
  assert_non_null(f);
  fputs("xtstore-journal 3 100 9 4096 s c k v svc c k up-1\n", f);
  fclose(f);
  assert_int_equal(st_journal_read(path, &j), -1);
  assert_null(j);
  unlink(path);
  assert_int_equal(st_journal_read(path, &j), 1);
  assert_null(j);
}

/* Names with a newline, '%', '-', blanks and UTF-8, and a key longer
 * than any line buffer, in every field, read back byte for byte. */
static void test_odd_names(void **state)
{
  const char *path = ((struct tmp *)*state)->path;
  char *longkey = malloc(20001);
  const char *key = "a\nb %41 -x/\xc3\xa9t\xc3\xa9 \xe2\x82\xac";
  st_mp_ident id;
  st_journal *j;
  assert_non_null(longkey);
  memset(longkey, '%', 20000);
  longkey[20000] = '\0';
  st_mp_ident_object("s\n1", "c%20", longkey, "\"v\nw\"", "2026-12-06T23:59Z",
                     77, &id);
  j = st_journal_new(path, "d\xc3\xa9st", "c\n", key, "up%-1", &id, 4096);
  assert_non_null(j);
  assert_int_equal(st_journal_write(j), 0);
  assert_int_equal(st_journal_add(j, 1, 4096, "t\n%1", 0xdeadbeef), 0);
  st_journal_free(j);
  assert_int_equal(st_journal_read(path, &j), 0);
  assert_true(st_mp_ident_same(&j->ident, &id));
  assert_string_equal(j->ident.service, "s\n1");
  assert_string_equal(j->ident.container, "c%20");
  assert_string_equal(j->ident.key, longkey);
  assert_string_equal(j->ident.version, "\"v\nw\"");
  assert_string_equal(j->ident.snapshot, "2026-12-06T23:59Z");
  assert_string_equal(j->service, "d\xc3\xa9st");
  assert_string_equal(j->container, "c\n");
  assert_string_equal(j->key, key);
  assert_string_equal(j->upload_id, "up%-1");
  assert_int_equal(j->nparts, 1);
  assert_string_equal(j->parts[0].token, "t\n%1");
  assert_int_equal(j->parts[0].crc, 0xdeadbeef);
  st_journal_free(j);
  free(longkey);
}

/* One taker of a journal's lock at a time (flock: per open file, so a
 * second taker in this process is refused as another process is); busy
 * while held; free, and its file gone, once given up. */
static void test_lock(void **state)
{
  const char *path = ((struct tmp *)*state)->path;
  char lock[80];
  int a, b;
  snprintf(lock, sizeof(lock), "%s.lock", path);
  assert_false(st_journal_busy(path));
  assert_int_equal(st_journal_lock(path, &a), 0);
  assert_true(a >= 0);
  assert_true(st_journal_busy(path));
  assert_int_equal(st_journal_lock(path, &b), 1);
  assert_int_equal(b, -1);
  st_journal_unlock(path, a);
  assert_int_equal(access(lock, F_OK), -1);
  assert_false(st_journal_busy(path));
  assert_int_equal(st_journal_lock(path, &b), 0);
  st_journal_unlock(path, b);
}

/* A part re-sent in a run appends a second line: the last one is the
 * part as the service has it (token, length, CRC-32C), wherever the
 * first was. */
static void test_last_part_line_wins(void **state)
{
  const char *path = ((struct tmp *)*state)->path;
  st_journal *j;
  FILE *f;
  size_t i;
  f = fopen(path, "w");
  assert_non_null(f);
  fputs("xtstore-journal 1 100 1 2 3 4 0 1024 svc c k up-1\n"
        "P 1 1024 old1 00000001\n"
        "P 2 1024 t2 00000002\n"
        "P 1 1000 new1 0000beef\n"
        "P 3 1024 t3 00000003\n"
        "P 3 1024 new3 00000033\n", f);
  fclose(f);
  assert_int_equal(st_journal_read(path, &j), 0);
  assert_int_equal(j->nparts, 3);
  for (i = 0; i < j->nparts && j->parts[i].no != 1; i++)
    ;
  assert_true(i < j->nparts);
  assert_string_equal(j->parts[i].token, "new1");
  assert_int_equal(j->parts[i].len, 1000);
  assert_int_equal(j->parts[i].crc, 0xbeef);
  for (i = 0; i < j->nparts && j->parts[i].no != 3; i++)
    ;
  assert_true(i < j->nparts);
  assert_string_equal(j->parts[i].token, "new3");
  assert_int_equal(j->parts[i].crc, 0x33);
  /* Written again (a resumed run's), one line a part: the last. */
  assert_int_equal(st_journal_write(j), 0);
  st_journal_free(j);
  assert_int_equal(st_journal_read(path, &j), 0);
  assert_int_equal(j->nparts, 3);
  for (i = 0; i < j->nparts && j->parts[i].no != 1; i++)
    ;
  assert_string_equal(j->parts[i].token, "new1");
  st_journal_free(j);
}

/* The O and K lines: written and read back; a K counts the runs that
 * kept the upload storing no part (a run that stored one writes none; a
 * part line after it is progress: 0); lines an xtstore does not know, or
 * malformed ones, are skipped; a journal without O is of options
 * unknown. */
static void test_options_and_kept(void **state)
{
  const char *path = ((struct tmp *)*state)->path;
  st_mp_ident id = {1, 2, 3, 4, 0, NULL, NULL, NULL, NULL, NULL};
  st_journal *j;
  FILE *f;
  j = st_journal_new(path, "svc", "c", "k", "up-1", &id, 1024);
  assert_non_null(j);
  j->opts = 0x0123456789abcdefu;
  j->has_opts = 1;
  assert_int_equal(st_journal_write(j), 0);
  assert_int_equal(st_journal_add(j, 1, 1024, "t1", 1), 0);
  /* A run that stored a part is not counted. */
  assert_int_equal(st_journal_kept(j), 0);
  assert_int_equal(j->kept, 0);
  st_journal_free(j);
  assert_int_equal(st_journal_read(path, &j), 0);
  assert_int_equal(j->kept, 0);
  assert_int_equal(st_journal_write(j), 0);
  assert_int_equal(st_journal_kept(j), 0);
  st_journal_free(j);
  assert_int_equal(st_journal_read(path, &j), 0);
  assert_int_equal(st_journal_write(j), 0);
  assert_int_equal(st_journal_kept(j), 0);
  assert_int_equal(j->kept, 2);
  st_journal_free(j);
  assert_int_equal(st_journal_read(path, &j), 0);
  assert_true(j->has_opts);
  assert_true(j->opts == 0x0123456789abcdefu);
  assert_int_equal(j->kept, 2);
  assert_int_equal(j->nparts, 1);
  /* Rewritten (the next run's), the count stays; a part stored resets
   * it, in memory and in the file. */
  assert_int_equal(st_journal_write(j), 0);
  assert_int_equal(j->kept, 2);
  assert_int_equal(st_journal_kept(j), 0);
  st_journal_free(j);
  assert_int_equal(st_journal_read(path, &j), 0);
  assert_int_equal(j->kept, 3);
  assert_int_equal(st_journal_write(j), 0);
  assert_int_equal(st_journal_add(j, 2, 1024, "t2", 2), 0);
  assert_int_equal(j->kept, 0);
  st_journal_free(j);
  assert_int_equal(st_journal_read(path, &j), 0);
  assert_int_equal(j->kept, 0);
  assert_int_equal(j->nparts, 2);
  assert_int_equal(st_journal_kept(j), -1);  /* not opened: not written */
  st_journal_free(j);
  /* As an older xtstore wrote it: no O, no K; and lines to skip. */
  f = fopen(path, "w");
  assert_non_null(f);
  fputs("xtstore-journal 1 100 1 2 3 4 0 1024 svc c k up-1\n"
        "O 0123456789ABCDEF\n"
        "O 12345\n"
        "K -1\n"
        "K 2 3\n"
        "Z 1\n"
        "P 1 1024 t1 00000001\n"
        "K 1\n"
        "K 4", f);                                /* cut by a crash */
  fclose(f);
  assert_int_equal(st_journal_read(path, &j), 0);
  assert_false(j->has_opts);
  assert_int_equal(j->kept, 1);
  assert_int_equal(j->nparts, 1);
  st_journal_free(j);
}

/* Equal options, equal digests (metadata in any order); each thing begin
 * sends changes it (content type, none vs empty, metadata's names and
 * values); what some runs only know or complete takes (checksums, flags,
 * a condition) does not. */
static void test_opts_digest(void **state)
{
  store_kv kv[2] = {{"a", "1"}, {"b", "2"}}, kv2[2] = {{"b", "2"}, {"a", "1"}};
  store_kv kv3[2] = {{"a", "12"}, {"b", ""}};
  store_put_opts o, p;
  uint64_t d;
  (void)state;
  memset(&o, 0, sizeof(o));
  o.struct_size = sizeof(o);
  o.content_length = 5;
  o.content_type = "text/plain";
  o.metadata = kv;
  o.nmetadata = 2;
  d = st_journal_opts_digest(&o);
  p = o;
  p.content_length = 9;                     /* the source's, not begin's */
  assert_true(st_journal_opts_digest(&p) == d);
  p = o;
  p.content_type = "text/html";
  assert_true(st_journal_opts_digest(&p) != d);
  p.content_type = NULL;
  assert_true(st_journal_opts_digest(&p) != d);
  assert_true(st_journal_opts_digest(&p) !=
              st_journal_opts_digest(&(store_put_opts){
                  .struct_size = sizeof(o), .content_type = "",
                  .metadata = kv, .nmetadata = 2}));
  p = o;
  p.metadata = kv2;                         /* the same, in another order */
  assert_true(st_journal_opts_digest(&p) == d);
  p.metadata = kv3;                         /* "a=1 b=2" vs "a=12 b=" */
  assert_true(st_journal_opts_digest(&p) != d);
  p = o;
  p.nmetadata = 1;
  assert_true(st_journal_opts_digest(&p) != d);
  p = o;
  p.flags = STORE_PUT_IF_NONE_MATCH;
  p.if_match = "\"e\"";
  assert_true(st_journal_opts_digest(&p) == d);
  /* A fan-out started over knows its tee's CRC-32C, the first run not. */
  p.checksums = STORE_CKSUM_CRC32C | STORE_CKSUM_MD5;
  p.crc32c = 7;
  p.md5[0] = 1;
  p.trailer_checksums = STORE_CKSUM_CRC32C;
  assert_true(st_journal_opts_digest(&p) == d);
  assert_true(st_journal_opts_digest(NULL) == st_journal_opts_digest(NULL));
  assert_true(st_journal_opts_digest(NULL) != st_journal_opts_digest(&o));
}

/* A test that has a directory of its own. */
#define IN_TMP(t) cmocka_unit_test_setup_teardown(t, tmp_setup, tmp_teardown)

int main(void)
{
  const struct CMUnitTest tests[] = {
    IN_TMP(test_part_lines_strict),
    IN_TMP(test_object_source),
    IN_TMP(test_header_versions),
    IN_TMP(test_odd_names),
    IN_TMP(test_lock),
    IN_TMP(test_last_part_line_wins),
    IN_TMP(test_options_and_kept),
    cmocka_unit_test(test_opts_digest),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
