#!/usr/bin/env bash
# find (--name / --path globs, -l, --json) over a tree; mkdir markers and
# how ls, ls -r, find, stat and get treat them; markers made by hand
# through the library, on local (a directory) and on a provider without
# STORE_CAP_DIR_MARKERS (memstore: the library filters them from listings
# and from xtstore_find).
. "$(dirname "$0")/lib.sh" "$@"

xt mb scratch:box
assert_rc 0
for k in docs/readme.md docs/guide.md docs/img/logo.png src/main.c \
         src/util/str.c src/util/str.h notes.md a.csv; do
  xt put --text hello "scratch:box/$k"
  assert_rc 0
done

# --- find -------------------------------------------------------------------
xt find scratch:box --name '*.md'
assert_rc 0
assert_out "docs/guide.md
docs/readme.md
notes.md"
xt find scratch:box/src --name '*.c'
assert_rc 0
assert_out "src/main.c
src/util/str.c"
# --path matches the whole key, '*' across '/'.
xt find scratch:box --path 'src/*'
assert_rc 0
assert_out "src/main.c
src/util/str.c
src/util/str.h"
xt find scratch:box --path '*/util/*.h'
assert_rc 0
assert_out "src/util/str.h"
# Both tests must hold.
xt find scratch:box --name 'str.*' --path '*.c'
assert_rc 0
assert_out "src/util/str.c"
# No test: every key under the prefix ('docs' means 'docs/').
xt find scratch:box/docs
assert_rc 0
assert_out "docs/guide.md
docs/img/logo.png
docs/readme.md"
# A trailing '*' is a raw prefix, as in ls.
xt find 'scratch:box/do*' --name '[l]ogo.*'
assert_rc 0
assert_out "docs/img/logo.png"
xt find scratch:box --name '*.none'
assert_rc 0
assert_out ""
xt find -l scratch:box --name 'a.csv'
assert_rc 0
check
printf '%s\n' "$OUT" | grep -Eq '^ {11}5  [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z  a\.csv$' ||
  fail "find -l: not the columns of ls -l"
xt --json find scratch:box --name '*.h'
assert_rc 0
assert_json_eq '[(e["name"], e["size"], e["is_prefix"]) for e in j]' \
  '[["src/util/str.h", 5, false]]'
xt find
assert_usage find
xt find ./local-dir
assert_usage find
xt find scratch:nosuch --name x
assert_rc 4
assert_error find

# --- mkdir ------------------------------------------------------------------
xt ls scratch:box
LS_BEFORE=$OUT
xt mkdir scratch:box/empty
assert_rc 0
assert_out "mkdir: scratch:box/empty/"
check
[ -d "$T/data/box/empty" ] || fail "mkdir made no directory on local"
# Again, and with a trailing '/': not an error.
xt mkdir scratch:box/empty/
assert_rc 0
assert_out "mkdir: scratch:box/empty/"
xt mkdir scratch:box/p/q/r scratch:box/docs/sub
assert_rc 0
assert_out "mkdir: scratch:box/p/q/r/
mkdir: scratch:box/docs/sub/"
xt --json mkdir scratch:box/j
assert_rc 0
assert_json_eq '[(e["action"], e["target"]) for e in j]' \
  '[["mkdir", "scratch:box/j/"]]'

# Listings hide them: ls of the parent, ls -r and find show nothing new.
xt ls scratch:box
assert_rc 0
assert_out "$LS_BEFORE"
xt ls scratch:box/docs
assert_rc 0
assert_out "docs/guide.md
docs/img/
docs/readme.md"
xt ls -r scratch:box/p
assert_rc 0
assert_out ""
xt find scratch:box --path '*empty*'
assert_rc 0
assert_out ""
xt find scratch:box/docs
assert_rc 0
assert_out "docs/guide.md
docs/img/logo.png
docs/readme.md"

# stat names it; get of the marker makes no file, and says so.
xt stat scratch:box/empty/
assert_rc 0
assert_out_has "kind:         directory marker"
assert_out_has "hdi_isfolder=true"
xt get scratch:box/empty/ got.bin
assert_rc 0
assert_out "skip: scratch:box/empty/: a directory marker (no file written)"
assert_file_absent got.bin
xt cp scratch:box/empty/ got.bin
assert_rc 0
assert_out "skip: scratch:box/empty/: a directory marker (no file written)"
assert_file_absent got.bin
xt --json get scratch:box/empty/ got.bin
assert_rc 0
assert_json_eq '[(e["action"], e["source"], e["target"]) for e in j]' \
  '[["skip", "scratch:box/empty/", null]]'
assert_file_absent got.bin
# Without the '/' it is no blob.
xt get scratch:box/empty got.bin
assert_rc 4
assert_file_absent got.bin

# A blob inside makes it a listed prefix; rm of the marker removes an
# empty directory only.
xt put --text x scratch:box/empty/f.txt
assert_rc 0
xt ls scratch:box/empty
assert_rc 0
assert_out "empty/f.txt"
xt rm scratch:box/empty/
assert_rc 0
xt ls -r scratch:box/empty
assert_rc 0
assert_out "empty/f.txt"
xt rm scratch:box/empty/f.txt
assert_rc 0
xt rm scratch:box/j/
assert_rc 0
assert_out "delete: scratch:box/j/"
check
[ ! -e "$T/data/box/j" ] || fail "rm of a marker left its directory"

# Errors: no directory named; a blob already has the name (local keeps a
# key either a blob or a directory).
xt mkdir scratch:box
assert_usage mkdir
xt mkdir scratch:box/notes.md
check
[ "$RC" -ne 0 ] || fail "mkdir over a blob's name succeeded on local"
assert_error mkdir
xt mkdir scratch:box/x scratch:box/a.csv
assert_rc 8

# --- markers made through the library ---------------------------------------
# marker CONFIG SERVICE CONTAINER KEY:SIZE[:hdi]... puts each blob, prints
# the recursive listing ("list: NAME") and what xtstore_find finds with no
# glob ("find: NAME"), then for each key whether head flags it a marker
# and whether get_file made a file.
cat > "$T/marker.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "xtstore.h"

static int32_t fill(void *ud, void *buf, size_t cap, size_t *n)
{
  size_t *left = ud;
  *n = *left < cap ? *left : cap;
  memset(buf, 'x', *n);
  *left -= *n;
  return 0;
}
static int32_t show(void *ud, const store_entry *e)
{
  (void)ud;
  printf("list: %s\n", e->name);
  return 0;
}
static int32_t found(void *ud, const store_entry *e)
{
  (void)ud;
  printf("find: %s\n", e->name);
  return 0;
}
static int32_t flag(void *ud, const store_entry *e)
{
  *(int *)ud = (e->flags & STORE_ENTRY_DIR_MARKER) != 0;
  return 0;
}
int main(int argc, char **argv)
{
  static const store_kv hdi[] = { { "hdi_isfolder", "true" } };
  xtstore_ctx_opts co = { sizeof co, 7, argv[1], NULL, NULL, 1, 0 };
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  store_error err = { sizeof err };
  int i;

  if (argc < 5 || xtstore_ctx_open(&co, &ctx, &err) ||
      xtstore_service_open(ctx, argv[2], &svc, &err))
    return fprintf(stderr, "marker: %s\n", err.message), 1;
  for (i = 4; i < argc; i++) {
    char *key = strtok(argv[i], ":"), *size = strtok(NULL, ":");
    char *meta = strtok(NULL, ":");
    size_t left = strtoul(size, NULL, 10);
    store_put_opts po = { sizeof po, 0, (int64_t)left, NULL,
                          meta ? hdi : NULL, meta ? 1 : 0, NULL };
    if (xtstore_blob_put(svc, argv[3], key, &po, fill, &left, NULL, NULL,
                         &err))
      return fprintf(stderr, "marker: %s\n", err.message), 1;
  }
  if (xtstore_blob_list(svc, argv[3], NULL, show, NULL, &err) ||
      xtstore_find(svc, argv[3], NULL, NULL, NULL, found, NULL, &err))
    return fprintf(stderr, "marker: %s\n", err.message), 1;
  for (i = 4; i < argc; i++) {
    int marker = 0;
    if (xtstore_blob_head(svc, argv[3], argv[i], NULL, flag, &marker, &err) ||
        xtstore_blob_get_file(svc, argv[3], argv[i], NULL, "got", &err))
      return fprintf(stderr, "marker: %s\n", err.message), 1;
    printf("%s: marker=%d file=%d\n", argv[i], marker,
           access("got", F_OK) == 0);
    unlink("got");
  }
  xtstore_ctx_close(ctx);
  return 0;
}
EOF
build_client "$T/marker" "$T/marker.c"

# Local: "hand/" becomes a directory, hidden from listings.
run "$T/marker" "$CONFIG" scratch box hand/:0:hdi
assert_rc 0
assert_out_lacks "list: hand"
assert_out_lacks "find: hand"
assert_out_has "hand/: marker=1 file=0"
check
[ -d "$T/data/box/hand" ] || fail "a library-made marker is no directory on local"
xt ls scratch:box
assert_rc 0
assert_out "$LS_BEFORE"

# memstore has no STORE_CAP_DIR_MARKERS: the library drops zero-length
# "DIR/" keys and hdi_isfolder=true blobs from listings and flags them on
# head; a plain empty blob stays a blob.
build_memstore "$T/store-memstore.so"
cat > "$T/mem.yaml" <<EOF
providers:
  storage:
    mem: "$T/store-memstore.so"
external-services:
  m: {type: "storage", provider: "mem", containers: "box"}
EOF
run "$T/marker" "$T/mem.yaml" m box s3dir/:0 adls:0:hdi azure/:0:hdi \
  zero:0 real/x:1
assert_rc 0
assert_out "list: real/x
list: zero
find: real/x
find: zero
s3dir/: marker=1 file=0
adls: marker=1 file=0
azure/: marker=1 file=0
zero: marker=0 file=1
real/x: marker=0 file=1"

finish
