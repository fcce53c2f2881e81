#!/usr/bin/env bash
# rclone's gcs backend (Debian's 1.60, Google's Go API client inside) against the GCS
# test server: the real JWT grant from DIR/sa.json, a bucket, a small (multipart) and a
# 40 MB (resumable, three 16 MiB chunks: rclone 1.60 has no chunk-size option) upload,
# listing, md5sum and download compared byte for byte.
#   test_rclone.sh WORK_DIR
# Uses $XTSTORE_GCS_DIR (ctest fixture `gcs`) or starts its own server under WORK_DIR.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:?usage: test_rclone.sh WORK_DIR}
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
command -v rclone >/dev/null ||
  { echo "test_rclone.sh: rclone is missing (apt rclone): run scripts/setup.sh --test" >&2; exit 1; }

own=""
if [[ -z "${XTSTORE_GCS_DIR:-}" ]]; then
  own="$work/server"
  "$here/../server.sh" start gcs "$own"
  XTSTORE_GCS_DIR=$own
fi
cleanup() { if [[ -n "$own" ]]; then "$here/../server.sh" stop gcs "$own" || true; fi; }
trap cleanup EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   - $*"; }
bad() { failed=$((failed + 1)); echo "FAIL - $*"; }

E=$(cat "$XTSTORE_GCS_DIR/endpoint")
bucket="rclone-$$"
cat >"$work/rclone.conf" <<CONF
[g]
type = google cloud storage
service_account_file = $XTSTORE_GCS_DIR/sa.json
endpoint = $E/storage/v1/
token_url = $E/token
project_number = xt-test
bucket_policy_only = true
CONF
rc() { env -u AWS_CA_BUNDLE rclone --config "$work/rclone.conf" --retries 1 \
         --low-level-retries 1 "$@"; }

mkdir -p "$work/src/dir" "$work/dst"
echo "small object" >"$work/src/small.txt"
head -c 40000000 /dev/urandom >"$work/src/dir/big.bin"
grants0=$(curl -sS "$E/_test/counters" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token_grants"])')

if rc mkdir "g:$bucket" && rc copy "$work/src" "g:$bucket" 2>"$work/err"; then
  ok "rclone copy: a small and a 40 MB file uploaded"
else
  bad "rclone copy failed: $(tail -n 3 "$work/err")"
fi
grants1=$(curl -sS "$E/_test/counters" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token_grants"])')
if ((grants1 > grants0)); then ok "rclone got its token by the JWT grant"; else bad "no token grant seen"; fi
puts=$(curl -sS "$E/_test/uploads" | python3 -c '
import json, sys
u = [v for v in json.load(sys.stdin).values()
     if v["bucket"] == sys.argv[1] and v["name"] == "dir/big.bin" and v["done"]]
print(u[0]["puts"] if u else 0)' "$bucket")
((puts >= 3)) && ok "the big file went up as a resumable session in $puts chunks" ||
  bad "the big file: $puts resumable chunks (want >= 3)"

listing=$(rc lsf -R "g:$bucket" 2>&1 | sort | paste -sd' ')
[[ "$listing" == "dir/ dir/big.bin small.txt" ]] && ok "rclone lsf -R: $listing" ||
  bad "rclone lsf -R: '$listing'"

want=$(cd "$work/src" && md5sum small.txt dir/big.bin | sort -k2)
got=$(rc md5sum "g:$bucket" | sort -k2)
[[ "$want" == "$got" ]] && ok "md5Hash as GCS reports it equals the local MD5" ||
  bad "md5sum: want '$want' got '$got'"

if rc copy "g:$bucket" "$work/dst" 2>"$work/err" &&
   cmp -s "$work/src/small.txt" "$work/dst/small.txt" &&
   cmp -s "$work/src/dir/big.bin" "$work/dst/dir/big.bin"; then
  ok "download: bytes equal"
else
  bad "download differs or failed: $(tail -n 3 "$work/err")"
fi

# rclone check re-reads both sides by hash.
rc check "$work/src" "g:$bucket" 2>"$work/err" && ok "rclone check: no differences" ||
  bad "rclone check: $(tail -n 3 "$work/err")"

rc purge "g:$bucket" 2>"$work/err" && ok "rclone purge: objects and bucket deleted" ||
  bad "purge: $(tail -n 3 "$work/err")"
code=$(curl -s -o /dev/null -w '%{http_code}' "$E/storage/v1/b/$bucket" \
         -H "Authorization: Bearer none")
[[ "$code" == 401 ]] && ok "an unknown bearer token gets 401" || bad "unknown token: $code"

echo "$passed passed, $failed failed"
((failed == 0))
