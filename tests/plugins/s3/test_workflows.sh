#!/usr/bin/env bash
# The workflows against the S3 provider on the fixture servers (s3rver and
# moto, see tests/servers/README.md):
#   test_workflows.sh XTSTORE_BIN PLUGIN_DIR
# put --to a local service, s3rver, moto and moto with a wrong secret: the
# bad one fails naming its service and the auth failure, the others hold
# every byte. Single cp between a local file and s3rver both ways, and
# between the two servers (streamed from one service into the other).
#
# Tree workflows (cp -r, sync, migrate) need listings in byte order, which
# the workflows check (a listing out of order fails, it never costs data).
# Neither server promises that under a prefix: s3rver lists in the order
# its filesystem walk reads directories (seen out of byte order; it
# depends on the keys and the machine), and moto rejects a listing whose
# query holds a prefix with '/' ('%2F'). Without a prefix moto lists
# whole buckets in order, so the tree workflows run on whole moto buckets:
# a tree up and back byte-identical, sync --delete, an empty source
# refused, migrate with its run log on moto and a re-run that copies
# nothing. Without moto (not installed) only the s3rver part runs.
. "$(dirname "$0")/s3lib.sh" "$@"

need_server s3rver
S3R_E=$ENDPOINT
MOTO_DIR=${XTSTORE_MOTO_DIR:-}
MOTO=0
if [ -n "$MOTO_DIR" ] && [ -f "$MOTO_DIR/keys" ] && [ -f "$MOTO_DIR/endpoint" ]; then
  MOTO=1
  read -r AK SK < "$MOTO_DIR/keys"
  MOTO_E=$(cat "$MOTO_DIR/endpoint")
else
  echo "note: moto is unavailable: only the s3rver part runs"
fi

config_begin
# s3rver keeps an aws-chunked body as sent: unsigned payloads for it.
write_service s3r "$S3R_E" S3RVER S3RVER \
  ', payload-signing: "unsigned", retry: {attempts: 1}'
if [ "$MOTO" -eq 1 ]; then
  write_service m "$MOTO_E" "$AK" "$SK" ', retry: {attempts: 1}'
  write_service mbad "$MOTO_E" "$AK" "wrong-$SK" ', retry: {attempts: 1}'
fi
cat >> "$CONFIG" <<EOF
  scratch: {type: "storage", provider: "local", path: "$T/data"}
EOF
mkdir -p "$T/data"
B=$(bucket wf)
TB=$(bucket wftree)
LB=$(bucket wflog)
cleanup_hook() {
  "$XT_BIN" --config "$CONFIG" -q rb -f "s3r:$B" > /dev/null 2>&1
  if [ "$MOTO" -eq 1 ]; then
    for b in "$B" "$TB" "$LB"; do
      "$XT_BIN" --config "$CONFIG" -q rb -f "m:$b" > /dev/null 2>&1
    done
  fi
}

xt mb "s3r:$B"
expect_rc 0 "s3rver: a bucket"
xt mb "scratch:$B"
expect_rc 0 "local: a container of the same name"

# --- single cp: local <-> s3rver ---------------------------------------------
head -c 3000000 /dev/urandom > big.bin
printf 'hello s3\n' > small.txt
xt cp big.bin "s3r:$B/cp/big.bin"
expect_rc 0 "cp local -> s3rver"
check "the upload is reported with its size" \
  test "$OUT" = "upload: big.bin -> s3r:$B/cp/big.bin (3000000 bytes)"
xt cp "s3r:$B/cp/big.bin" back.bin
expect_rc 0 "cp s3rver -> local"
check "what came back is what went up" cmp -s big.bin back.bin
xt cp small.txt "s3r:$B/cp/"
expect_rc 0 "cp local -> s3rver, named after the file"
xt cp "s3r:$B/cp/small.txt" ./
expect_rc 0 "cp s3rver -> a local directory"
check "small.txt came back" cmp -s small.txt "$T/work/small.txt"
xt cp "s3r:$B/cp/big.bin" "s3r:$B/cp/big-copy.bin"
expect_rc 0 "cp within s3rver (server-side)"
check "the copy is reported with its size" \
  test "$OUT" = "copy: s3r:$B/cp/big.bin -> s3r:$B/cp/big-copy.bin (3000000 bytes)"
xt cat "s3r:$B/cp/big-copy.bin"
cmp -s big.bin "$T/.out"
check "the server-side copy has the bytes" test $? -eq 0

if [ "$MOTO" -eq 1 ]; then
  xt mb "m:$B"
  expect_rc 0 "moto: a bucket"
  xt cp "s3r:$B/cp/big.bin" "m:$B/big.bin"
  expect_rc 0 "cp s3rver -> moto (streamed between services)"
  xt get "m:$B/big.bin" from-moto.bin
  check "moto holds the bytes s3rver had" cmp -s big.bin from-moto.bin
fi

# --- put --to: one read, every service; a wrong secret fails alone ----------
if [ "$MOTO" -eq 1 ]; then
  xt put --to scratch,s3r,mbad,m big.bin "$B/fan/big.bin"
  expect_rc 8 "fan-out with one bad service: exit 8"
  check "three uploads reported" \
    test "$(printf '%s\n' "$OUT" | grep -c '^upload: big.bin -> ')" -eq 3
  check "the bad service is named" \
    contains "$ERR" "big.bin -> mbad:$B/fan/big.bin: service 'mbad': "
  check "with the auth failure" contains "$ERR" "SignatureDoesNotMatch"
  check "one error line" test "$(printf '%s\n' "$ERR" | wc -l)" -eq 1
  check "no secret in the output" lacks "$OUT$ERR" "$SK"
  for s in scratch s3r m; do
    xt get "$s:$B/fan/big.bin" "fan-$s.bin"
    expect_rc 0 "get the fan-out copy from $s"
    check "$s holds every byte" cmp -s big.bin "fan-$s.bin"
  done
else
  xt put --to scratch,s3r big.bin "$B/fan/big.bin"
  expect_rc 0 "fan-out to a local service and s3rver"
  for s in scratch s3r; do
    xt get "$s:$B/fan/big.bin" "fan-$s.bin"
    check "$s holds every byte" cmp -s big.bin "fan-$s.bin"
  done
fi

# --- tree workflows on whole moto buckets -----------------------------------
if [ "$MOTO" -eq 1 ]; then
  mkdir -p tree/a/b tree/c
  printf 'x' > tree/a/b/x.txt
  printf '{"k": 1}\n' > tree/c/y.json
  : > tree/c/empty
  head -c 1000000 /dev/urandom > tree/blob.bin
  for i in 1 2 3 4 5 6; do printf 'file %s\n' "$i" > "tree/c/f$i"; done
  NFILES=$(find tree -type f | wc -l)
  xt mb "m:$TB"
  expect_rc 0 "moto: the tree's bucket"
  xt cp -r tree "m:$TB"
  expect_rc 0 "cp -r a local tree into a moto bucket"
  check "every file uploaded" contains "$OUT" "cp: $NFILES objects: $NFILES copied, 0 failed"
  xt cp -r "m:$TB" down
  expect_rc 0 "cp -r the bucket back"
  diff -r tree down > "$T/.diff" 2>&1
  check "the tree came back byte-identical" test $? -eq 0

  rm tree/c/f6
  printf 'changed, longer\n' > tree/c/f1
  xt sync --delete --dry-run tree "m:$TB"
  expect_rc 0 "sync --delete --dry-run"
  check "the plan deletes f6" contains "$OUT" "(dryrun) delete: m:$TB/c/f6"
  xt stat "m:$TB/c/f6"
  expect_rc 0 "the dry run deleted nothing"
  xt sync --delete tree "m:$TB"
  expect_rc 0 "sync --delete"
  check "f1 updated" contains "$OUT" "update: tree/c/f1 -> m:$TB/c/f1 (16 bytes)"
  check "f6 deleted" contains "$OUT" "delete: m:$TB/c/f6"
  rm -r down
  xt cp -r "m:$TB" down
  diff -r tree down > "$T/.diff" 2>&1
  check "after sync the bucket is the tree" test $? -eq 0
  xt sync --delete "m:$TB-nothing" "m:$TB"
  expect_rc 4 "sync --delete from a bucket that does not exist"
  mkdir -p empty
  xt sync --delete empty "m:$TB"
  expect_rc 4 "sync --delete from an empty tree is refused"
  check "it says what it would have done" \
    contains "$ERR" "no object would be copied, and all $((NFILES - 1)) objects at the target would be deleted"

  xt mb "m:$LB"
  expect_rc 0 "moto: a bucket for run logs"
  xt migrate "m:$TB" "scratch:$B/mig" --log "m:$LB/run.jsonl"
  expect_rc 0 "migrate from moto, the log on moto"
  check "everything new" contains "$OUT" "migrate: $((NFILES - 1)) objects: $((NFILES - 1)) new, 0 failed"
  xt migrate "m:$TB" "scratch:$B/mig" --log "m:$LB/run.jsonl"
  expect_rc 0 "migrate again"
  check "everything equal" contains "$OUT" "migrate: $((NFILES - 1)) objects: $((NFILES - 1)) equal, 0 failed"
  xt get "m:$LB/run.jsonl" run.jsonl
  expect_rc 0 "the run log is on moto"
  check "two runs logged, every object each time" \
    test "$(wc -l < run.jsonl)" -eq $((2 * (NFILES - 1)))
  check "the second run copied nothing" \
    test "$(tail -n $((NFILES - 1)) run.jsonl | grep -c '"status":"equal"')" -eq $((NFILES - 1))
fi

finish
