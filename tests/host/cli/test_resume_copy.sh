#!/usr/bin/env bash
# test_resume_copy.sh -- resume across runs of a copy between services
# (issue 9): `cp SVC1:c/k SVC2:c/k` in parts (ranged gets pinned to the
# source's etag) killed with kill -9 is resumed by the same command, which
# sends only the parts its journal lacks (UploadPart requests counted in
# faultproxy.py's request log, so re-sent bytes are under parts in flight
# x part size) and stores the source's bytes (read back by /usr/bin/aws
# where it is installed, else by xtstore); a source replaced between the
# runs (same size, other bytes: another etag) is not mixed: the old upload
# goes, the copy starts over, saying so once, and stores the new source.
# Source: the local provider; target: s3rver through the proxy, when ctest
# provides the fixture (XTSTORE_S3RVER_DIR, XTSTORE_FAULTPROXY_SH). Then,
# with the Azurite fixture too (XTSTORE_AZURITE_DIR), s3rver -> Azurite
# through a proxy of its own (Put Blocks counted; read back by `az`),
# `cleanup --yes` aborts a killed copy's upload, and a replaced source's
# old upload is aborted and no longer listed by cleanup. In between: a
# source rewritten in place under the same etag (the local provider's) is
# not resumed with its old parts, and two runs of one copy at once do not
# both take up its journal.
. "$(dirname "$0")/lib.sh" "$@"

if ! have_s3rver_proxy; then
  echo "note: skipped (run through ctest with the s3rver fixture)"
  finish
fi

MP='multipart: {threshold: 5M, part-size: 5M, concurrency: 2}'
echo '[]' > "$T/rules.json"
proxy_start "$T/proxy" "$XTSTORE_S3RVER_DIR"
B="xtrescp$$"
trap '"$XT_BIN" --config "$CONFIG" -q rb -f "s3:$B" > /dev/null 2>&1;
      [ -n "${AZ_C:-}" ] && "$XT_BIN" --config "$CONFIG" -q rb -f "az:$AZ_C" > /dev/null 2>&1;
      "$XTSTORE_FAULTPROXY_SH" stop "$T/proxy" > /dev/null 2>&1;
      "$XTSTORE_FAULTPROXY_SH" stop "$T/proxy-az" > /dev/null 2>&1; rm -rf "$T"' EXIT
# cp_config [SERVICES]: the local "src" and "s3" (s3rver through the
# proxy), and SERVICES (more lines of external-services).
cp_config() {
  cat > "$CONFIG" <<EOF
external-services:
  src: {type: "storage", provider: "local", path: "$T/data", $MP}
  s3: {type: "storage", provider: "s3", endpoint: "$(cat "$T/proxy/endpoint")",
       region: "us-east-1", access-key: "S3RVER", secret-key: "S3RVER",
       addressing: "path", payload-signing: "unsigned", $MP}
${1:-}
xt-services:
  storage: "src"
EOF
}
cp_config

# UploadPart requests of key $1 so far.
uploads() {
  grep -c "^PUT /$B/$1 " "$T/proxy/log" || true
}
# readback KEY OUT: the object as an independent client reads it.
readback() {
  if [ -x /usr/bin/aws ]; then
    AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER \
      /usr/bin/aws --endpoint-url "$(cat "$XTSTORE_S3RVER_DIR/endpoint")" \
      --region us-east-1 s3api get-object --bucket "$B" --key "$1" "$2" \
      > "$T/.aws" 2>&1 || fail "aws get-object $1: $(cat "$T/.aws")"
  else
    xt get "s3:$B/$1" "$2"
    assert_rc 0
  fi
}

# journal_ready OLD_ID: the journal records 3 parts of an upload other
# than OLD_ID. Parts and id from one read of the journal: read apart, a run
# that replaces the old journal in between passes the test with neither.
journal_ready() {
  local snap
  snap=$(cat "$J"/*.journal 2> /dev/null || true)
  [ "$(grep -c '^P ' <<< "$snap" || true)" -ge 3 ] &&
    [ "$(head -n 1 <<< "$snap" | awk '{print $NF}')" != "$1" ]
}

# kill_mid SOURCE TARGET [OLD_ID]: `xtstore -v cp SOURCE TARGET` killed
# with kill -9 once its journal records 3 parts (of an upload other than
# OLD_ID).
kill_mid() {
  local old_id=${3:-}
  kill_when 'journal_ready "$old_id"' -v cp "$1" "$2"
  check
  [ "$KILLED" -eq 1 ] && [ "$(jparts)" -ge 3 ] && [ "$(jid)" != "$old_id" ] ||
    fail "no journal of 3 parts while '$2' was copied (killed: $KILLED; journal: $(jparts) parts; $(cat "$T/.k.err"))"
}

# journaled SOURCE_FIELDS COUNT: K, ID and R1 (COUNT's requests so far) of
# the killed run; one check: the journal records the source object (60 MiB
# in parts of 5 MiB; SOURCE_FIELDS: its service, container and key).
journaled() {
  K=$(jparts)
  ID=$(jid)
  R1=$($2)
  check
  head -n 1 "$J"/*.journal | grep -q "^xtstore-journal 2 [0-9]* 62914560 5242880 $1 " ||
    fail "the journal does not record the source object: $(head -n 1 "$J"/*.journal)"
}

xt mb src:c
assert_rc 0
xt mb "s3:$B"
assert_rc 0
head -c $((60 << 20)) /dev/urandom > big.bin          # 12 parts
xt put big.bin src:c/big.bin
assert_rc 0

# --- killed, then resumed --------------------------------------------------
kill_mid src:c/big.bin "s3:$B/big.bin"
journaled "src c big.bin" "uploads big.bin"
[ $((R1 - K)) -le 2 ] || fail "run 1 started $R1 parts, journaled $K"
xt cleanup "s3:$B"
assert_rc 0
assert_out_has "stale  s3:$B/big.bin  upload $ID"

xt -v cp src:c/big.bin "s3:$B/big.bin"
assert_rc 0
assert_err_has "resuming upload '$ID': $K of 12 parts on record"
R2=$(($(uploads big.bin) - R1))
echo "copy: run 1 journaled $K parts, run 2 sent $R2 of 12"
check
# The proxy logs a request when it ends: parts the killed run had in
# flight (concurrency 2) may be logged only now, so they count here too.
[ "$R2" -ge $((12 - K)) ] && [ "$R2" -le $((12 - K + 2)) ] ||
  fail "run 2 sent $R2 parts, not the $((12 - K)) missing (+ at most the 2 the killed run had in flight)"
[ -z "$(ls "$J")" ] || fail "a completed copy left its journal: $(ls "$J")"
readback big.bin got.bin
assert_same big.bin got.bin
rm -f got.bin

# --- the source replaced between the runs: no mixing -----------------------
kill_mid src:c/big.bin "s3:$B/big2.bin"
ID=$(jid)
head -c $((60 << 20)) /dev/urandom > new.bin          # same size, other bytes
xt put new.bin src:c/big.bin
assert_rc 0
xt -v cp src:c/big.bin "s3:$B/big2.bin"
assert_rc 0
assert_err_has "the source changed since upload '$ID' began: starting over"
assert_err_lacks "resuming"
check
[ "$(grep -c "source changed" "$T/.err")" -eq 1 ] ||
  fail "the change was not said once: $(grep "source changed" "$T/.err")"
[ -z "$(ls "$J")" ] || fail "a completed copy left its journal: $(ls "$J")"
readback big2.bin got.bin
assert_same new.bin got.bin
rm -f got.bin

# --- the source rewritten in place, its etag kept --------------------------
# The local provider's etag is the file's inode, mtime and size: 4 KiB of a
# part on record rewritten in its data directory, the mtime put back, keep
# it (and keep the CRC-32C it recorded with that stat: stale now). The
# resumed copy reads its parts on record again, by ranged gets pinned to
# that etag, and sends again the one whose CRC-32C is not the journal's;
# then the parts add up to another CRC-32C than the one the source reports,
# so nothing is completed, as for a fresh cp of that source: never the old
# bytes under "resuming" and exit 0. The parts on record are forgotten (the
# journal keeps the upload, which s3rver cannot abort, with none of them):
# cleanup still lists it, and the next run takes up no part of it.
cp big.bin old.bin
kill_mid src:c/big.bin "s3:$B/big5.bin"
K=$(jparts)
ID=$(jid)
NO=$(grep -h '^P ' "$J"/*.journal | head -n 1 | awk '{print $2}')
touch -r "$T/data/c/big.bin" ref.stamp
head -c 4096 /dev/urandom | dd of="$T/data/c/big.bin" bs=1 \
  seek=$(((NO - 1) * (5 << 20) + 100)) conv=notrunc status=none
touch -r ref.stamp "$T/data/c/big.bin"
cp "$T/data/c/big.bin" new.bin
xt -v cp src:c/big.bin "s3:$B/big5.bin"
assert_rc 1
assert_err_has "resuming upload '$ID': $K of 12 parts on record"
assert_err_has "part $NO on record: its range of the source object is not what was stored: sending it again"
assert_err_has "the parts ($((K - 1)) on record from an earlier run) add up to CRC-32C "
assert_err_has ": not completed; the next run sends every part"
xt stat "s3:$B/big5.bin"
assert_rc 4
check
[ "$(jparts)" -eq 0 ] && [ "$(jid)" = "$ID" ] ||
  fail "the journal does not keep upload $ID with no parts: $(cat "$J"/*.journal)"
xt cleanup "s3:$B"
assert_rc 0
assert_out_has "stale  s3:$B/big5.bin  upload $ID, "
assert_out_has " 0 parts"
# The next run takes the upload up with no part on record (and fails the
# same way).
xt -v cp src:c/big.bin "s3:$B/big5.bin"
assert_rc 1
assert_err_has "resuming upload '$ID': 0 of 12 parts on record"
# The bytes put again (a new etag and CRC-32C on record): the next run
# starts over and stores the new bytes.
xt put new.bin src:c/big.bin
assert_rc 0
xt -v cp src:c/big.bin "s3:$B/big5.bin"
assert_rc 0
assert_err_has "the source changed since upload '$ID' began: starting over"
readback big5.bin got.bin
assert_same new.bin got.bin
rm -f got.bin ref.stamp
# A fresh copy of a source rewritten in place that way fails the same
# way (its journal stays: s3rver cannot abort the upload).
cp new.bin ref.stamp
touch -r "$T/data/c/big.bin" ref.stamp
printf 'flip' | dd of="$T/data/c/big.bin" bs=1 seek=100 conv=notrunc status=none
touch -r ref.stamp "$T/data/c/big.bin"
xt cp src:c/big.bin "s3:$B/big5b.bin"
assert_rc 1
assert_err_has "the copy source's CRC-32C is"
xt put new.bin src:c/big.bin
assert_rc 0
rm -f "$J"/* ref.stamp

# --- two runs of one copy at once --------------------------------------------
# The first to take the journal's lock resumes the upload; the other one
# says another run is uploading the blob and uploads it on its own, not
# journaled: both succeed, the target holds the source's bytes, and no
# journal or lock is left.
kill_mid src:c/big.bin "s3:$B/big6.bin"
ID=$(jid)
"$XT_BIN" --config "$CONFIG" -v cp src:c/big.bin "s3:$B/big6.bin" > "$T/.a.out" 2> "$T/.a.err" &
PA=$!
"$XT_BIN" --config "$CONFIG" -v cp src:c/big.bin "s3:$B/big6.bin" > "$T/.b.out" 2> "$T/.b.err" &
PB=$!
wait "$PA"
RA=$?
wait "$PB"
RB=$?
LAST_CMD="two runs of xtstore -v cp src:c/big.bin s3:$B/big6.bin at once"
RC=$RA
OUT=$(cat "$T/.a.out" "$T/.b.out")
ERR=$(cat "$T/.a.err" "$T/.b.err")
check
[ "$RA" -eq 0 ] && [ "$RB" -eq 0 ] || fail "exits $RA and $RB, not 0 and 0"
check
[ "$(grep -l "resuming upload '$ID'" "$T/.a.err" "$T/.b.err" | wc -l)" -eq 1 ] ||
  fail "not exactly one run resumed upload $ID"
check
[ "$(grep -l "another run is uploading it: this one is not journaled" "$T/.a.err" "$T/.b.err" | wc -l)" -eq 1 ] ||
  fail "not exactly one run said another run is uploading the blob"
assert_err_lacks "cannot be resumed"
check
[ -z "$(ls -A "$J")" ] || fail "two runs left files in the journals' directory: $(ls -A "$J")"
readback big6.bin got.bin
assert_same new.bin got.bin
rm -f got.bin

# --- s3rver -> Azurite --------------------------------------------------------
if [ -z "${XTSTORE_AZURITE_DIR:-}" ] || [ ! -f "$XTSTORE_AZURITE_DIR/endpoint" ]; then
  echo "note: s3rver -> Azurite half skipped (run through ctest with the azurite fixture)"
  finish
fi
# The emulator's public, documented key.
export AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
AZ_C="xtrescp-$$"
proxy_start "$T/proxy-az" "$XTSTORE_AZURITE_DIR"
AZP=$(cat "$T/proxy-az/endpoint")
cp_config "  s3d: {type: \"storage\", provider: \"s3\", endpoint: \"$(cat "$XTSTORE_S3RVER_DIR/endpoint")\",
        region: \"us-east-1\", access-key: \"S3RVER\", secret-key: \"S3RVER\",
        addressing: \"path\", payload-signing: \"unsigned\", $MP}
  az: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\",
       key: \"\$env:AZ_KEY\", endpoint: \"$AZP\", $MP}"
# Put Block and Put Block List requests to blob $1 Azurite answered.
azputs() {
  grep -c "^PUT /devstoreaccount1/$AZ_C/$1 pass 201" "$T/proxy-az/log" || true
}
xt mb "az:$AZ_C"
assert_rc 0
kill_mid "s3d:$B/big.bin" "az:$AZ_C/big.bin"
journaled "s3d $B big.bin" "azputs big.bin"
[ $((R1 - K)) -le 2 ] || fail "run 1 stored $R1 blocks, journaled $K"
xt -v cp "s3d:$B/big.bin" "az:$AZ_C/big.bin"
assert_rc 0
assert_err_has "resuming upload '$ID': $K of 12 parts on record"
# Run 2's Put Blocks and its one Put Block List; blocks the killed run had
# in flight may be logged only now.
R2=$(($(azputs big.bin) - R1 - 1))
echo "s3 -> azure: run 1 journaled $K blocks, run 2 sent $R2 of 12"
check
[ "$R2" -ge $((12 - K)) ] && [ "$R2" -le $((12 - K + 2)) ] ||
  fail "run 2 sent $R2 blocks, not the $((12 - K)) missing (+ at most the 2 the killed run had in flight)"
[ -z "$(ls "$J")" ] || fail "a completed copy left its journal: $(ls "$J")"
if command -v az > /dev/null; then
  az storage blob download --connection-string "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZ_KEY;BlobEndpoint=$(cat "$XTSTORE_AZURITE_DIR/endpoint");" \
    -c "$AZ_C" -n big.bin -f az.bin --no-progress > /dev/null 2>&1
  RC=$?
  LAST_CMD="az storage blob download $AZ_C/big.bin"
  assert_rc 0
else
  xt get "az:$AZ_C/big.bin" az.bin
  assert_rc 0
fi
assert_same big.bin az.bin
rm -f az.bin

# cleanup --yes aborts what a killed copy left, and forgets it.
kill_mid "s3d:$B/big.bin" "az:$AZ_C/big3.bin"
ID=$(jid)
xt cleanup "az:$AZ_C" --yes
assert_rc 0
assert_out_has "aborted  az:$AZ_C/big3.bin  upload $ID"
check
[ -z "$(ls "$J")" ] || fail "cleanup --yes left a journal: $(ls "$J")"

# A source replaced between two killed runs, where the abort works
# (Azure): the second run aborts the first's upload and forgets it, so
# cleanup lists only the second's.
kill_mid "s3d:$B/big.bin" "az:$AZ_C/big4.bin"
ID=$(jid)
xt put new.bin "s3d:$B/big.bin"
assert_rc 0
kill_mid "s3d:$B/big.bin" "az:$AZ_C/big4.bin" "$ID"
ID2=$(jid)
check
grep -q "the source changed since upload '$ID' began: starting over" "$T/.k.err" ||
  fail "the second run did not start over: $(cat "$T/.k.err")"
check
[ -n "$ID2" ] && [ "$ID2" != "$ID" ] || fail "no new upload journaled ($ID2)"
check
! grep -q "could not be aborted" "$T/.k.err" ||
  fail "the old upload was not aborted: $(cat "$T/.k.err")"
xt cleanup "az:$AZ_C"
assert_rc 0
assert_out_has "stale  az:$AZ_C/big4.bin  upload $ID2"
assert_out_lacks "$ID"
xt cleanup "az:$AZ_C" --yes
assert_rc 0
finish
