#!/usr/bin/env bash
# How a download lands: a new file gets what the umask makes of 0666 and a
# new directory what it makes of 0777, as any program's would -- also with
# many downloads into one tree at once (no thread changes the process's
# umask under another); an existing file keeps its mode and is replaced
# whole; nothing else is left beside them (no temporary file), not even by
# a download killed with -9, nor by many gets of one new name at once (the
# first links it, the others replace it). A download that is never caught
# midway in three tries makes the test skip (77), not pass. (Before downloads
# landed unnamed, the umask cases failed with 16 at once -- files 666,
# directories 777 -- and the kill left a .xtstore-get-* file.)
. "$(dirname "$0")/lib.sh" "$@"

xt mb scratch:box
assert_rc 0
mkdir -p "$T/src"
for i in $(seq 0 199); do
  mkdir -p "$T/src/d$((i % 20))/e$((i % 3))"
  printf '%s\n' "$i" > "$T/src/d$((i % 20))/e$((i % 3))/f$i"
done
xt cp -r "$T/src/" scratch:box/tree/
assert_rc 0
printf 'one\n' > "$T/one.txt"
xt put "$T/one.txt" scratch:box/one.txt
assert_rc 0

umask_was=$(umask)
for mask in 027 077 002; do
  want_f=$(printf '%o' $((0666 & ~0$mask)))
  want_d=$(printf '%o' $((0777 & ~0$mask)))
  umask "$mask"
  xt get scratch:box/one.txt "$T/work/one-$mask.txt"
  umask "$umask_was"
  assert_rc 0
  check
  [ "$(stat -c %a "$T/work/one-$mask.txt")" = "$want_f" ] ||
    fail "umask $mask: a new file has mode $(stat -c %a "$T/work/one-$mask.txt"), not $want_f"

  umask "$mask"
  xt cp -r --transfers 16 scratch:box/tree/ "$T/work/tree-$mask/"
  umask "$umask_was"
  assert_rc 0
  check
  diff -r "$T/src" "$T/work/tree-$mask" > /dev/null ||
    fail "umask $mask: the tree downloaded differs from the one uploaded"
  bad=$(find "$T/work/tree-$mask" -type f ! -perm "$want_f" | head -3)
  check
  [ -z "$bad" ] || fail "umask $mask: files not of mode $want_f: $bad"
  bad=$(find "$T/work/tree-$mask" -mindepth 1 -type d ! -perm "$want_d" |
        head -3)
  check
  [ -z "$bad" ] || fail "umask $mask: directories not of mode $want_d: $bad"
done

# A directory with a default ACL: the ACL, not the umask, gives a new
# file its mode (landing puts right only what an old kernel got wrong).
mkdir -p "$T/work/acl"
if python3 -c '
import os, struct, sys
undef = 0xffffffff
acl = struct.pack("<I", 2) + b"".join(struct.pack("<HHI", t, p, undef)
      for t, p in ((1, 6), (4, 6), (0x20, 4)))
os.setxattr(sys.argv[1], "system.posix_acl_default", acl)' "$T/work/acl" 2>/dev/null
then
  umask 077
  xt get scratch:box/one.txt "$T/work/acl/one.txt"
  umask "$umask_was"
  assert_rc 0
  check
  [ "$(stat -c %a "$T/work/acl/one.txt")" = 664 ] ||
    fail "a default ACL (u::rw g::rw o::r) under umask 077: a new file has mode $(stat -c %a "$T/work/acl/one.txt"), not 664"
else
  echo "note: no POSIX ACLs here: the default-ACL case is not run"
fi

# An existing file keeps its mode, whatever the umask, and is replaced.
printf 'old\n' > "$T/work/kept.txt"
chmod 604 "$T/work/kept.txt"
umask 077
xt get scratch:box/one.txt "$T/work/kept.txt"
umask "$umask_was"
assert_rc 0
check
[ "$(stat -c %a "$T/work/kept.txt")" = 604 ] ||
  fail "an existing file's mode became $(stat -c %a "$T/work/kept.txt")"
check
cmp -s "$T/one.txt" "$T/work/kept.txt" || fail "the existing file was not replaced"

# The same tree again, over itself: every file replaced, none added.
xt cp -r scratch:box/tree/ "$T/work/tree-027/"
assert_rc 0
check
diff -r "$T/src" "$T/work/tree-027" > /dev/null ||
  fail "the tree downloaded over itself differs"

# Many gets of the same new name at once: each lands whole (one links it,
# the others find it there and replace it), and no temporary file is left.
pids=
for i in $(seq 1 8); do
  "$XT_BIN" --config "$CONFIG" get scratch:box/one.txt "$T/work/race.txt" \
    > /dev/null 2> "$T/race-$i.err" &
  pids="$pids $!"
done
bad=0
for pid in $pids; do wait "$pid" || bad=$((bad + 1)); done
check
[ "$bad" = 0 ] || fail "$bad of 8 concurrent gets of one new name failed: $(cat "$T"/race-*.err | head -3)"
check
cmp -s "$T/one.txt" "$T/work/race.txt" || fail "concurrent gets of one new name: the file is not whole"

# Where unnamed files cannot be made (a filesystem without O_TMPFILE), or
# /proc refuses to name one (gVisor, an LSM): a new file still lands whole,
# of the umask's mode, nothing left beside it. A preloaded shim refuses
# (and logs each refusal, so a case that never reached it fails).
if [ "$ASAN" = 1 ]; then
  echo "note: a sanitizer build: the preloaded-shim cases are not run"
else
  cat > "$T/shim.c" <<'EOF_C'
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void refused(const char *what)
{
  FILE *f = fopen(getenv("SHIM_LOG"), "a");
  if (f) {
    fprintf(f, "%s\n", what);
    fclose(f);
  }
}

int linkat(int ofd, const char *old, int nfd, const char *new, int fl)
{
  int (*real)(int, const char *, int, const char *, int) =
    (int (*)(int, const char *, int, const char *, int))dlsym(RTLD_NEXT,
                                                              "linkat");
  if (getenv("SHIM_NO_PROC_LINK") && !strncmp(old, "/proc/self/fd/", 14)) {
    refused("linkat");
    errno = EPERM;
    return -1;
  }
  return real(ofd, old, nfd, new, fl);
}

static int opened(const char *sym, const char *path, int fl, mode_t mode)
{
  int (*real)(const char *, int, ...) =
    (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, sym);
  if (getenv("SHIM_NO_TMPFILE") && (fl & O_TMPFILE) == O_TMPFILE) {
    refused("O_TMPFILE");
    errno = EOPNOTSUPP;
    return -1;
  }
  return real(path, fl, mode);
}

#define SHIM_OPEN(name)                                                   \
  int name(const char *path, int fl, ...)                                 \
  {                                                                       \
    mode_t mode = 0;                                                      \
    va_list ap;                                                           \
    if (fl & (O_CREAT | O_TMPFILE)) {                                     \
      va_start(ap, fl);                                                   \
      mode = va_arg(ap, mode_t);                                          \
      va_end(ap);                                                         \
    }                                                                     \
    return opened(#name, path, fl, mode);                                 \
  }
SHIM_OPEN(open)
SHIM_OPEN(open64)
EOF_C
  run ${CC:-cc} -D_GNU_SOURCE -shared -fPIC -o "$T/shim.so" "$T/shim.c" -ldl
  assert_rc 0
  for mode in SHIM_NO_TMPFILE SHIM_NO_PROC_LINK; do
    rm -f "$T/shim.log"
    mkdir -p "$T/work/$mode"
    umask 027
    env "$mode=1" SHIM_LOG="$T/shim.log" LD_PRELOAD="$T/shim.so" \
      "$XT_BIN" --config "$CONFIG" get scratch:box/one.txt \
      "$T/work/$mode/one.txt" > "$T/.out" 2> "$T/.err"
    RC=$?
    umask "$umask_was"
    OUT=$(cat "$T/.out")
    ERR=$(cat "$T/.err")
    LAST_CMD="$mode=1 LD_PRELOAD=shim.so xtstore get scratch:box/one.txt"
    assert_rc 0
    check
    [ -s "$T/shim.log" ] || fail "$mode: the shim never refused (the case tested nothing)"
    check
    cmp -s "$T/one.txt" "$T/work/$mode/one.txt" || fail "$mode: the file is not whole"
    check
    [ "$(stat -c %a "$T/work/$mode/one.txt")" = 640 ] ||
      fail "$mode: umask 027: a new file has mode $(stat -c %a "$T/work/$mode/one.txt"), not 640"
    left=$(ls -A "$T/work/$mode" | grep -v '^one\.txt$' | head -3)
    check
    [ -z "$left" ] || fail "$mode: left beside the file: $left"
  done
fi

# Killed (-9) in the middle of a download of a new file: nothing is left
# beside it, not even a temporary file (it has no name until it lands);
# if it landed before the kill, it is whole.
head -c $((200 << 20)) /dev/urandom > "$T/big.bin"
big_sum=$(sha256sum < "$T/big.bin")
xt put "$T/big.bin" scratch:box/big.bin
assert_rc 0
rm -f "$T/big.bin"
mkdir -p "$T/work/killed"
caught=0
for try in 1 2 3; do
  "$XT_BIN" --config "$CONFIG" get scratch:box/big.bin "$T/work/killed/big.bin" \
    > /dev/null 2>&1 &
  pid=$!
  # Until the download has its file open (in the target's directory).
  for _ in $(seq 2000); do
    if ls -l "/proc/$pid/fd" 2>/dev/null | grep -q "$T/work/killed/"; then
      kill -9 "$pid" 2>/dev/null && caught=1
      break
    fi
    kill -0 "$pid" 2>/dev/null || break
  done
  wait "$pid" 2>/dev/null
  [ "$caught" = 1 ] && break
  rm -f "$T/work/killed/big.bin"
done
if [ "$caught" = 1 ]; then
  left=$(ls -A "$T/work/killed" | grep -v '^big\.bin$' | head -3)
  check
  [ -z "$left" ] || fail "a download killed midway left: $left"
  if [ -e "$T/work/killed/big.bin" ]; then
    check
    [ "$(stat -c %s "$T/work/killed/big.bin")" = $((200 << 20)) ] ||
      fail "a download killed midway left big.bin of $(stat -c %s "$T/work/killed/big.bin") bytes, not whole"
    check
    [ "$(sha256sum < "$T/work/killed/big.bin")" = "$big_sum" ] ||
      fail "a download killed midway left big.bin with other bytes than the source's"
  fi
fi
rm -rf "$T/work/killed"

left=$(find "$T/work" -name '.xtstore*' | head -3)
check
[ -z "$left" ] || fail "temporary files were left: $left"

if [ "$caught" != 1 ] && [ "$FAILS" = 0 ]; then
  echo "skip: the download ended before it could be killed midway (3 tries)"
  exit 77
fi
finish
