#!/usr/bin/env bash
# The GCS provider in the CLI's workflows, next to other providers:
# put --to a local service, an S3 service (s3rver) and GCS at once, one
# read for all; cp S3 -> GCS -> Azure; migrate a tree from Azure (Azurite) to GCS with its run log
# on GCS, and a re-run that finds every object equal; sync GCS -> S3 and
# cp -r back to local disk, byte-identical; a wrong credentials file is
# one clear line without a secret.
. "$(dirname "$0")/gcslib.sh" "$@"

AZ_DIR=${XTSTORE_AZURITE_DIR:?no Azurite fixture}
S3R_DIR=${XTSTORE_S3RVER_DIR:?no s3rver fixture}
AZ_E=$(cat "$AZ_DIR/endpoint") || exit 1
S3R_E=$(cat "$S3R_DIR/endpoint") || exit 1
AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
export AZ_KEY
unset AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_KEY AZURE_STORAGE_ACCOUNT
B=$GCS_B

# A service account file whose key is not the server's.
python3 - "$GCS_DIR/sa.json" "$SRC_DIR/tests/vectors/gcs-v4/test_service_account.not-a-test.json" "$T/wrong-sa.json" <<'PY'
import json, sys
real, other = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
real["private_key"] = other["private_key"]
real.pop("private_key_id", None)
json.dump(real, open(sys.argv[3], "w"))
PY
SECRET_LINE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["private_key"].splitlines()[1])' "$T/wrong-sa.json")

GCS_PROVIDERS='    s3: "store-s3"
    azure: "store-azure"'
gcs_config "  s3r: {type: \"storage\", provider: \"s3\", endpoint: \"$S3R_E\",
        access-key: \"S3RVER\", secret-key: \"S3RVER\", addressing: \"path\",
        payload-signing: \"unsigned\", retry: {attempts: 1}}
  az: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\",
       key: \"\$env:AZ_KEY\", endpoint: \"$AZ_E\", retry: {attempts: 1}}
  gbad: {type: \"storage\", provider: \"gcs\", endpoint: \"$GCS_E\",
         credentials-file: \"$T/wrong-sa.json\", retry: {attempts: 1}}"
trap '"$XT_BIN" --config "$CONFIG" -q rb -f "gcs:$B" > /dev/null 2>&1
  "$XT_BIN" --config "$CONFIG" -q rb -f "s3r:$B" > /dev/null 2>&1
  "$XT_BIN" --config "$CONFIG" -q rb -f "az:$B" > /dev/null 2>&1
  gcs_cleanup' EXIT

for s in gcs s3r az scratch; do
  xt mb "$s:$B"
  assert_rc 0
done

# --- put --to: one read, three services ---------------------------------------
head -c 3000000 /dev/urandom > fan.bin
xt put --to scratch,s3r,gcs fan.bin "$B/fan/fan.bin"
assert_rc 0
assert_out "upload: fan.bin -> scratch:$B/fan/fan.bin (3000000 bytes)
upload: fan.bin -> s3r:$B/fan/fan.bin (3000000 bytes)
upload: fan.bin -> gcs:$B/fan/fan.bin (3000000 bytes)"
for s in scratch s3r gcs; do
  xt get "$s:$B/fan/fan.bin" "got-$s.bin"
  assert_rc 0
  assert_same fan.bin "got-$s.bin"
done

# --- cp S3 -> GCS and GCS -> Azure, streamed between services ---------------
xt cp "s3r:$B/fan/fan.bin" "gcs:$B/cp/from-s3.bin"
assert_rc 0
xt cp "gcs:$B/cp/from-s3.bin" "az:$B/cp/from-gcs.bin"
assert_rc 0
xt get "az:$B/cp/from-gcs.bin" via-gcs.bin
assert_rc 0
assert_same fan.bin via-gcs.bin

# --- a service account the server does not know -------------------------------
xt put --to scratch,gbad fan.bin "$B/fan/bad.bin"
assert_rc 8
assert_err_has "fan.bin -> gbad:$B/fan/bad.bin: service 'gbad': "
assert_err_has "wrong-sa.json"
assert_err_has "invalid_grant"
assert_err_lacks "$SECRET_LINE"
check
[ "$(printf '%s\n' "$ERR" | wc -l)" -eq 1 ] || fail "not one error line: $ERR"

# --- migrate Azure -> GCS with its run log on GCS, then a re-run -------------
mkdir -p tree/sub/deeper
for i in 1 2 3 4 5; do head -c $((i * 70001)) /dev/urandom > "tree/f$i.bin"; done
printf 'hello\n' > tree/sub/a.txt
head -c 20000000 /dev/urandom > tree/sub/deeper/big.bin
NFILES=7
xt cp -r tree "az:$B/src"
assert_rc 0
xt migrate "az:$B/src" "gcs:$B/mig" --log "gcs:$B/logs/run.jsonl"
assert_rc 0
assert_out_has "migrate: $NFILES objects: $NFILES new, 0 failed"
xt migrate "az:$B/src" "gcs:$B/mig" --log "gcs:$B/logs/run.jsonl"
assert_rc 0
assert_out_has "migrate: $NFILES objects: $NFILES equal, 0 failed"
xt cat "gcs:$B/logs/run.jsonl"
assert_rc 0
check
[ "$(grep -c '"equal"' "$T/.out")" -ge "$NFILES" ] ||
  fail "the run log on GCS does not record the re-run's equal objects"

# --- and back out: GCS -> S3 (sync), GCS -> local (cp -r) --------------------
xt sync "gcs:$B/mig" "s3r:$B/back"
assert_rc 0
assert_out_has "sync: $NFILES objects: $NFILES new, 0 failed"
xt cp -r "s3r:$B/back" down-s3
assert_rc 0
run diff -r tree down-s3
assert_rc 0
xt cp -r "gcs:$B/mig" down-gcs
assert_rc 0
run diff -r tree down-gcs
assert_rc 0

finish
