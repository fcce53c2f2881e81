#!/usr/bin/env bash
# put FILE, cp FILE, put - (a pipe), put --to (fan-out) and bench go through
# the transfer engine (host/engine/multipart.c) like cp -r: to services of
# the local provider whose multipart threshold is 1 MiB, a 5 MiB body goes
# up in 1 MiB parts (the engine's "multipart upload" line under -v), the
# output, JSON and byte counts are the single put's, and every byte
# arrives; a service with the default threshold still gets one put, and so
# does a body under the threshold.
. "$(dirname "$0")/lib.sh" "$@"

cat > "$CONFIG" <<EOF
external-services:
  scratch: {type: "storage", provider: "local", path: "$T/data",
            multipart: {threshold: 1M, part-size: 1M}, }
  other: {type: "storage", provider: "local", path: "$T/data2",
          multipart: {threshold: 1M, part-size: 1M}, }
  plain: {type: "storage", provider: "local", path: "$T/data3"}
xt-services:
  storage: "scratch"
EOF
mkdir -p "$T/data3"
for s in scratch other plain; do
  xt mb $s:box
  assert_rc 0
done

python3 -c '
import os, sys
chunk = os.urandom(1 << 20)
out = sys.stdout.buffer
for i in range(5):
    out.write(chunk[i:] + chunk[:i])' > big.bin
head -c 100000 big.bin > small.bin
SIZE=$((5 << 20))

# parts_of SVC KEY N: the engine put KEY to SVC in N parts of 1 MiB.
parts_of() {
  assert_err_has "service '$1': blob 'box/$2': multipart upload, $3 parts of 1048576 bytes"
}

# streamed SVC KEY: the engine put KEY to SVC in parts, read in order.
streamed() {
  assert_err_has "service '$1': blob 'box/$2': multipart upload, unknown length"
}

# no_staging DIR: the local provider keeps no upload under DIR.
no_staging() {
  check
  local left
  left=$(find "$1" -path '*/.xtstore/uploads/*' 2>/dev/null | head -n 3)
  [ -z "$left" ] || fail "staged uploads left behind: $left"
}

# --- put FILE and cp FILE ------------------------------------------------------
xt -v put big.bin scratch:box/big.bin
assert_rc 0
assert_out "upload: big.bin -> scratch:box/big.bin ($SIZE bytes)"
parts_of scratch big.bin 5
assert_same big.bin "$T/data/box/big.bin"
xt get scratch:box/big.bin got.bin
assert_rc 0
assert_same big.bin got.bin
rm -f got.bin

xt -v cp big.bin scratch:box/cp.bin
assert_rc 0
assert_out "upload: big.bin -> scratch:box/cp.bin ($SIZE bytes)"
parts_of scratch cp.bin 5
assert_same big.bin "$T/data/box/cp.bin"

# The JSON report and the byte count are the single put's: every byte
# counted once, however many parts were in flight.
xt --json put --progress big.bin scratch:box/j.bin
assert_rc 0
assert_json_eq 'j' "[{\"action\": \"upload\", \"dry_run\": false, \"size\": $SIZE, \"source\": \"big.bin\", \"target\": \"scratch:box/j.bin\"}]"
check
done_line=$(printf '%s\n' "$ERR" | grep '"event":"done"')
case $done_line in
  *"\"bytes\":$SIZE,\"bytes_total\":$SIZE,"*'"ok":true'*) ;;
  *) fail "the done event does not count $SIZE bytes: $done_line" ;;
esac
assert_same big.bin "$T/data/box/j.bin"

# Under the threshold, and to a service with the default one: one put.
xt -v put small.bin scratch:box/small.bin
assert_rc 0
assert_err_lacks "multipart"
assert_same small.bin "$T/data/box/small.bin"
xt -v put big.bin plain:box/big.bin
assert_rc 0
assert_err_lacks "multipart"
assert_same big.bin "$T/data3/box/big.bin"

# --- put - ---------------------------------------------------------------------
# A pipe has no length: its parts are read in order.
xt_pipe "cat big.bin" -v put - scratch:box/pipe.bin
assert_rc 0
assert_out "upload: - -> scratch:box/pipe.bin ($SIZE bytes)"
streamed scratch pipe.bin
assert_same big.bin "$T/data/box/pipe.bin"
# One that ends within its first part, under the threshold: one put.
xt_pipe "cat small.bin" -v put - scratch:box/pipe-small.bin
assert_rc 0
assert_out "upload: - -> scratch:box/pipe-small.bin (100000 bytes)"
assert_err_lacks "multipart"
assert_same small.bin "$T/data/box/pipe-small.bin"
# Stdin from a file has a length: its parts are read by offset.
xt_in big.bin -v put - scratch:box/stdin.bin
assert_rc 0
assert_out "upload: - -> scratch:box/stdin.bin ($SIZE bytes)"
parts_of scratch stdin.bin 5
assert_same big.bin "$T/data/box/stdin.bin"
no_staging "$T/data"

# --- put --to --------------------------------------------------------------------
# One read of the file; the services with the small threshold take it in
# parts from their rings, the other in one put.
xt -v put --to scratch,other,plain big.bin box/fan.bin
assert_rc 0
assert_out "upload: big.bin -> scratch:box/fan.bin ($SIZE bytes)
upload: big.bin -> other:box/fan.bin ($SIZE bytes)
upload: big.bin -> plain:box/fan.bin ($SIZE bytes)"
parts_of scratch fan.bin 5
parts_of other fan.bin 5
assert_err_lacks "service 'plain': blob 'box/fan.bin': multipart"
assert_same big.bin "$T/data/box/fan.bin"
assert_same big.bin "$T/data2/box/fan.bin"
assert_same big.bin "$T/data3/box/fan.bin"
for s in scratch other; do
  xt get $s:box/fan.bin got.bin
  assert_rc 0
  assert_same big.bin got.bin
  rm -f got.bin
done

# A pipe to two services: parts of unknown length to both.
xt_pipe "cat big.bin" -v put --to scratch,other - box/fan-pipe.bin
assert_rc 0
assert_out "upload: - -> scratch:box/fan-pipe.bin ($SIZE bytes)
upload: - -> other:box/fan-pipe.bin ($SIZE bytes)"
streamed scratch fan-pipe.bin
streamed other fan-pipe.bin
assert_same big.bin "$T/data/box/fan-pipe.bin"
assert_same big.bin "$T/data2/box/fan-pipe.bin"
no_staging "$T/data"
no_staging "$T/data2"

# --- bench ---------------------------------------------------------------------
# Every object of 3 MiB in three parts; the get phase checks every byte
# (a difference fails the bench).
xt -v bench scratch:box --sizes 3M --count 2
assert_rc 0
check
n=$(printf '%s\n' "$ERR" |
  grep -c "service 'scratch': blob 'box/xtstore-bench/.*/3145728/00000[01]': multipart upload, 3 parts of 1048576 bytes")
[ "$n" -eq 2 ] || fail "expected 2 bench puts in 3 parts, saw $n"
check
printf '%s\n' "$OUT" | grep -Eq '^3\.0 MiB +get +2 +6291456 ' ||
  fail "no get row of 2 objects of 3 MiB"
# Under the threshold: one put each.
xt -v bench scratch:box --sizes 512K --count 2
assert_rc 0
assert_err_lacks "multipart"
no_staging "$T/data"

finish
