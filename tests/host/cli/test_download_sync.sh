#!/usr/bin/env bash
# A tree download (cp -r SERVICE:... DIR) is made durable by one sync of
# the target's filesystem at the end, not by one fsync per file (which made
# many small downloads system-time bound): counted with strace. A single
# `get` still syncs its file before the rename.
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
    strace -f -qq -e trace=fsync,fdatasync,syncfs -o "$T/strace.out" \
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

syncs get scratch:box/tree/f1.txt one.txt
assert_rc 0
check
[ "$FSYNCS" -ge 1 ] || fail "get of one file: no fsync before the rename"
cmp -s tree/f1.txt one.txt || fail "get: the file differs"
finish
