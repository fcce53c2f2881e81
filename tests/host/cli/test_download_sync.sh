#!/usr/bin/env bash
# A tree download (cp -r SERVICE:... DIR) is made durable by one sync of
# each filesystem it wrote on at the end (the target's, and another one a
# file there is a symlink into), not by one fsync per file (which made many
# small downloads system-time bound): counted with strace. A single `get`
# syncs its file before it has its name and the directory after (a new
# file and a replaced one).
. "$(dirname "$0")/lib.sh" "$@"

cat > "$CONFIG" <<EOF
external-services:
  scratch: {type: "storage", provider: "local", path: "$T/data"}
xt-services:
  storage: "scratch"
EOF
xt mb scratch:box
assert_rc 0
mkdir -p tree
for i in $(seq 1 40); do echo "object $i" > "tree/f$i.txt"; done
xt cp -r tree scratch:box/tree
assert_rc 0

if ! command -v strace > /dev/null 2>&1; then
  echo "skip: strace is not installed (apt install strace): the syncs cannot be counted"
  exit 77
fi
# syncs COMMAND...: runs the CLI under strace (every thread); then
# FSYNCS and SYNCFS hold the calls it made.
syncs() {
  # LeakSanitizer cannot run under ptrace (the sanitizer build's suite).
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -f -qq -y -e trace=fsync,fdatasync,syncfs,linkat,rename,close \
    -o "$T/strace.out" \
    "$XT_BIN" --config "$CONFIG" "$@" > "$T/.out" 2> "$T/.err"
  RC=$?
  OUT=$(cat "$T/.out")
  ERR=$(cat "$T/.err")
  LAST_CMD="strace ... xtstore $*"
  FSYNCS=$(grep -c -E 'fsync\(|fdatasync\(' "$T/strace.out" || true)
  SYNCFS=$(grep -c 'syncfs(' "$T/strace.out" || true)
}

syncs cp -r scratch:box/tree down
assert_rc 0
check
[ "$FSYNCS" -eq 0 ] || fail "cp -r of 40 files down: $FSYNCS fsyncs, expected none"
[ "$SYNCFS" -eq 1 ] || fail "cp -r of 40 files down: $SYNCFS syncfs calls, expected one"
diff -r tree down > /dev/null || fail "the files came down different"

# A file of the tree that is a symlink into another filesystem: that one is
# synced too, once.
shm=/dev/shm/xtstore-sync-$$
if [ -d /dev/shm ] && [ "$(stat -c %d /dev/shm)" != "$(stat -c %d "$T")" ]; then
  mkdir -p down2
  : > "$shm"
  ln -s "$shm" down2/f1.txt
  syncs cp -r scratch:box/tree down2
  assert_rc 0
  check
  [ "$SYNCFS" -eq 2 ] || fail "cp -r with a file on another filesystem: $SYNCFS syncfs calls, expected two"
  check
  cmp -s tree/f1.txt "$shm" || fail "the file behind the symlink was not replaced"
  check
  [ "$(grep -c "syncfs(.*</dev/shm" "$T/strace.out")" = 1 ] ||
    fail "cp -r: /dev/shm (behind a symlink) was not synced: $(cat "$T/strace.out")"
  rm -f "$shm"
else
  echo "note: /dev/shm is not another filesystem here: the symlink case is not run"
fi

# order FILE: the fsync of the file, its naming (link or rename), then the
# fsync of the directory (the current one), in that order, and no other sync.
order() {
  check
  [ "$FSYNCS" -eq 2 ] || fail "get of $1: $FSYNCS fsyncs, expected two (file, directory): $(cat "$T/strace.out")"
  check
  awk -v dir="<$PWD>)" '
    /fsync\(/ && index($0, dir) == 0 && !named { file = 1; next }
    /linkat\(|rename\(/ && file { named = 1; next }
    /fsync\(/ && index($0, dir) && named { ok = 1 }
    END { exit !ok }' "$T/strace.out" ||
    fail "get of $1: not fsync(file), then its name, then fsync(directory): $(cat "$T/strace.out")"
}
syncs get scratch:box/tree/f1.txt one.txt
assert_rc 0
order "a new file"
check
cmp -s tree/f1.txt one.txt || fail "get: the file differs"
syncs get scratch:box/tree/f2.txt one.txt
assert_rc 0
order "a file replaced"
# Closed (where NFS flushes, and may fail) before the old file goes.
check
awk '/close\(.*xtstore-get-/ { closed = 1 } /rename\(/ { ok = closed; exit }
     END { exit !ok }' "$T/strace.out" ||
  fail "get over a file: the temporary file is renamed before it is closed: $(cat "$T/strace.out")"
check
cmp -s tree/f2.txt one.txt || fail "get over a file: the file differs"
finish
