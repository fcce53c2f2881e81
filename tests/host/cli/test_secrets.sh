#!/usr/bin/env bash
# No secret in any output: every verb, with -vv and with --json, against
# working servers (Azurite, moto), servers that refuse the credentials, and
# an endpoint where nothing listens; stdout and stderr of all of it are
# searched for each secret as written, URL-encoded and base64-encoded.
#   test_secrets.sh XTSTORE_BIN PROJECT_SOURCE_DIR BINARY_DIR
. "$(dirname "$0")/lib.sh" "$@"

if [ -z "${XTSTORE_AZURITE_DIR:-}" ]; then
  echo "skip: XTSTORE_AZURITE_DIR is not set (run through ctest)"
  exit 77
fi
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE \
  AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_KEY
export AWS_EC2_METADATA_DISABLED=true
AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
BAD_AZ_KEY=$(printf 'WrongAzureKeyValue-77' | base64)
BAD_SK='WrongSecretKeyValue-78'
SAS='sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2099-01-01T00:00:00Z&sig=FakeSasSigValue-79%3D'
export AZ_KEY BAD_AZ_KEY BAD_SK SAS
AZ_E=$(cat "$XTSTORE_AZURITE_DIR/endpoint")
SECRETS=("$AZ_KEY" "$BAD_AZ_KEY" "$BAD_SK" "FakeSasSigValue-79")
R='retry: 1'
{
  cat <<EOF
external-services:
  az: {type: "storage", provider: "azure", account: "devstoreaccount1", key: "\$env:AZ_KEY", endpoint: "$AZ_E", $R}
  az-badkey: {type: "storage", provider: "azure", account: "devstoreaccount1", key: "\$env:BAD_AZ_KEY", endpoint: "$AZ_E", $R}
  az-sas: {type: "storage", provider: "azure", account: "devstoreaccount1", sas-token: "\$env:SAS", endpoint: "$AZ_E", $R}
  az-down: {type: "storage", provider: "azure", account: "devstoreaccount1", key: "$AZ_KEY", endpoint: "http://127.0.0.1:1/devstoreaccount1", $R}
  s3-down: {type: "storage", provider: "s3", endpoint: "http://user:$BAD_SK@127.0.0.1:1", access-key: "AKIAEXAMPLE", secret-key: "$BAD_SK", region: "us-east-1", $R}
EOF
  if [ -n "${XTSTORE_MOTO_DIR:-}" ] && [ -f "$XTSTORE_MOTO_DIR/keys" ]; then
    read -r MOTO_AK MOTO_SK < "$XTSTORE_MOTO_DIR/keys"
    SECRETS+=("$MOTO_SK")
    cat <<EOF
  m: {type: "storage", provider: "s3", endpoint: "$(cat "$XTSTORE_MOTO_DIR/endpoint")", access-key: "$MOTO_AK", secret-key: "$MOTO_SK", addressing: "path", region: "us-east-1", $R}
  m-badkey: {type: "storage", provider: "s3", endpoint: "$(cat "$XTSTORE_MOTO_DIR/endpoint")", access-key: "$MOTO_AK", secret-key: "$BAD_SK", addressing: "path", region: "us-east-1", $R}
EOF
  fi
  cat <<EOF
  scratch: {type: "storage", provider: "local", path: "$T/data"}
xt-services:
  storage: "scratch"
EOF
} > "$CONFIG"
SERVICES=$(awk -F: '/^  [a-z0-9-]+: \{type/ {sub(/^  /, "", $1); print $1}' "$CONFIG" | grep -v scratch)

B="xtsec-$$"
mkdir -p "$T/tree/sub"
printf 'hello' > "$T/f.txt"
printf 'a' > "$T/tree/a.txt"
printf 'b' > "$T/tree/sub/b.txt"
ALL="$T/all-output"
: > "$ALL"
# each ARGS...: run xtstore twice (-vv, then --json -vv), keep all output.
each() {
  for mode in "-vv" "--json -vv"; do
    # shellcheck disable=SC2086
    "$XT_BIN" --config "$CONFIG" $mode "$@" >> "$ALL" 2>&1 < /dev/null
  done
}
each services -l
each plugins -l
for s in $SERVICES; do
  each mb "$s:$B"
  each ls "$s:"
  each put "$T/f.txt" "$s:$B/k"
  each ls -l "$s:$B"
  each stat "$s:$B/k"
  each meta --set owner=x "$s:$B/k"
  each meta "$s:$B/k"
  each get "$s:$B/k" "$T/out-$s"
  each cat "$s:$B/k"
  each cp "$s:$B/k" "$s:$B/k2"
  each append --text more "$s:$B/k"
  each snapshot "$s:$B/k"
  each find "$s:$B"
  each mkdir "$s:$B/d/"
  each cp -r "$T/tree" "$s:$B/tree"
  each sync "$T/tree" "$s:$B/sync"
  each migrate "$T/tree" "$s:$B/mig" --log "$T/run-$s.json"
  each cleanup "$s:$B"
  each rm -r "$s:$B/tree"
  each rm "$s:$B/k2"
  each rb -f "$s:$B"
done
cat "$T"/run-*.json >> "$ALL" 2>/dev/null
[ "$(wc -l < "$ALL")" -gt 100 ] || fail "too little output to judge: $(wc -l < "$ALL") lines"
grep -q 'hello' "$ALL" || fail "the working services never answered (no 'hello' from cat)"
for sec in "${SECRETS[@]}"; do
  url=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$sec")
  b64=$(printf '%s' "$sec" | base64 -w0)
  for form in "$sec" "$url" "$b64"; do
    if grep -qF -- "$form" "$ALL"; then
      fail "a secret appeared in the output: $(grep -F -- "$form" "$ALL" | head -n 3)"
    fi
  done
done
check

finish
