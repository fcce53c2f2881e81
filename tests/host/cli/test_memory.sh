#!/usr/bin/env bash
# The memory budget (--memory, $XTSTORE_MEMORY; docs/engine.md, "Memory"):
# a bad value is one line and exit 2, naming the value (and, when it is
# less than one part buffer, the part size and the fix); uploads from a
# pipe, whose parts are buffered, stay within the budget at concurrency 8
# (the peak resident set, read from /proc: GNU time is not installed), and
# a 1 GiB pipe peaks within 4 MiB of a 256 MiB one; so do a multipart
# upload of a file, a download to a file (parallel ranges) and one to
# /dev/null (streamed in place). (The bounds are not checked under ASan,
# whose shadow memory is no measure of ours.)
. "$(dirname "$0")/lib.sh" "$@"

cat > "$CONFIG" <<EOF
external-services:
  scratch: {type: "storage", provider: "local", path: "$T/data",
            multipart: {part-size: 16M, concurrency: 8}}
xt-services:
  storage: "scratch"
EOF
xt mb scratch:box
assert_rc 0

# One line each, exit 2.
for bad in lots 0 -5 12Q; do
  xt --memory "$bad" ls scratch:box
  assert_rc 2
  assert_err_has "memory budget '$bad'"
  assert_err_has "not a size"
  assert_error ls
done
XTSTORE_MEMORY=lots xt ls scratch:box
assert_rc 2
assert_err_has "memory budget 'lots' (--memory, XTSTORE_MEMORY)"
# Less than one 16 MiB part buffer: the value, the part size, the fix.
xt --memory 8M ls scratch:box
assert_rc 2
assert_err_has "memory budget '8M'"
assert_err_has "part buffer of 16 MiB (multipart.part-size of service 'scratch')"
assert_err_has "give at least 16 MiB"
assert_error ls
# --memory wins over the environment.
XTSTORE_MEMORY=lots xt --memory 64M ls scratch:box
assert_rc 0
xt --help
assert_out_has "--memory SIZE"

# pipe_peak MIB ARGS...: xtstore ARGS reading MIB MiB of zeros from a pipe,
# run in the background with its peak resident set followed in /proc
# ($PEAK, KiB), as lib.sh's peak_rss does for commands without stdin.
pipe_peak() {
  local mib=$1
  shift
  LAST_CMD="head -c ${mib}M /dev/zero | xtstore $*"
  "$XT_BIN" --config "$CONFIG" "$@" < <(head -c "${mib}M" /dev/zero) \
    > "$T/.out" 2> "$T/.err" &
  follow_peak $!
}

# stored_zeros KEY MIB: the object holds MIB MiB of zeros.
stored_zeros() {
  check
  [ "$(stat -c %s "$T/data/box/$1")" -eq $(($2 << 20)) ] &&
    cmp -s -n $(($2 << 20)) "$T/data/box/$1" /dev/zero ||
    fail "box/$1 is not $2 MiB of zeros"
}

# The budget bounds the part buffers: 32 MiB is two of 16 MiB, where 8
# parts in flight would hold 128 MiB. The rest of the process (plugins,
# libraries, stacks) stays under 24 MiB.
pipe_peak 256 --memory 32M -v put - scratch:box/a.bin
assert_rc 0
stored_zeros a.bin 256
assert_err_has "memory budget of 32 MiB (--memory, XTSTORE_MEMORY) is spent"
echo "peak RSS $PEAK KiB: $LAST_CMD"
small=$PEAK
if [ "$ASAN" -eq 0 ]; then
  check
  [ "$PEAK" -gt 0 ] && [ "$PEAK" -lt $(((32 + 24) << 10)) ] ||
    fail "peak RSS $PEAK KiB is not under $(((32 + 24) << 10)) KiB"
fi

# The same through the environment, with 4 times the bytes: the peak does
# not grow with the object (within 4 MiB).
XTSTORE_MEMORY=32M pipe_peak 1024 put - scratch:box/b.bin
assert_rc 0
stored_zeros b.bin 1024
echo "peak RSS $PEAK KiB: $LAST_CMD"
if [ "$ASAN" -eq 0 ]; then
  check
  [ "$PEAK" -lt $((small + (4 << 10))) ] ||
    fail "1 GiB peaked at $PEAK KiB, 256 MiB at $small KiB"
fi
rm -f "$T/data/box/a.bin" "$T/data/box/b.bin"
# Under the sanitizers a peak measures their shadow memory, not ours: the
# gigabytes below would check nothing there.
if [ "$ASAN" -ne 0 ]; then
  finish
fi

# same_peak WHAT SMALL: the last peak is within 4 MiB of SMALL (KiB), the
# peak of the same transfer of a quarter of the bytes.
same_peak() {
  echo "peak RSS $PEAK KiB: $LAST_CMD"
  [ "$ASAN" -eq 0 ] || return
  check
  [ "$PEAK" -gt 0 ] && [ "$PEAK" -lt $(($2 + (4 << 10))) ] ||
    fail "$1: 1 GiB peaked at $PEAK KiB, 256 MiB at $2 KiB"
}

# A file goes up in parts read where they lie (no part buffers), and comes
# down in parallel ranges written where they belong, or streamed into
# /dev/null: 256 MiB and 1 GiB (16 and 64 parts or ranges, 8 in flight
# either way; the default budget) peak alike, the smaller under lib.sh's
# limit. The sources are sparse: zeros read at memory speed.
truncate -s 256M f256.bin
truncate -s 1G f1024.bin
peak_rss -v put f256.bin scratch:box/f256.bin
assert_rc 0
assert_err_has "multipart upload, 16 parts of 16777216 bytes, 8 at a time"
assert_bounded
small=$PEAK
peak_rss -v put f1024.bin scratch:box/f1024.bin
assert_rc 0
assert_err_has "multipart upload, 64 parts of 16777216 bytes, 8 at a time"
same_peak "file upload" "$small"
rm -f f256.bin f1024.bin
stored_zeros f256.bin 256
stored_zeros f1024.bin 1024

# got_zeros MIB: got.bin holds MIB MiB of zeros; it is removed.
got_zeros() {
  check
  [ "$(stat -c %s got.bin)" -eq $(($1 << 20)) ] &&
    cmp -s -n $(($1 << 20)) got.bin /dev/zero ||
    fail "got.bin is not $1 MiB of zeros"
  rm -f got.bin
}
peak_rss -v get scratch:box/f256.bin got.bin
assert_rc 0
assert_err_has "268435456 bytes in 16 ranges of 16777216, 8 at a time"
got_zeros 256
assert_bounded
small=$PEAK
peak_rss -v get scratch:box/f1024.bin got.bin
assert_rc 0
assert_err_has "1073741824 bytes in 64 ranges of 16777216, 8 at a time"
got_zeros 1024
same_peak "download to a file" "$small"

peak_rss get scratch:box/f256.bin /dev/null
assert_rc 0
assert_bounded
small=$PEAK
peak_rss get scratch:box/f1024.bin /dev/null
assert_rc 0
same_peak "download to /dev/null" "$small"

finish
