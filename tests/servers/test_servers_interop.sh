#!/usr/bin/env bash
# The fixture contract, checked with the real clients: each server answers at the
# endpoint in its state dir with the documented credentials, and rejects wrong ones.
# Needs XTSTORE_S3RVER_DIR, XTSTORE_AZURITE_DIR, XTSTORE_MOTO_DIR (ctest fixtures).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:?usage: test_servers_interop.sh WORK_DIR}
rm -rf "$work" && mkdir -p "$work"
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
export AZURE_CORE_COLLECT_TELEMETRY=false AZURE_CONFIG_DIR="$work/az"
unset AWS_CA_BUNDLE AWS_PROFILE AWS_SESSION_TOKEN
aws=/usr/bin/aws

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   - $*"; }
bad() { failed=$((failed + 1)); echo "FAIL - $*"; }
echo hello >"$work/hello.txt"

# s3rver: S3RVER/S3RVER, path-style.
E=$(cat "$XTSTORE_S3RVER_DIR/endpoint")
if AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER $aws --endpoint-url "$E" s3 mb s3://interop >/dev/null &&
   AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER $aws --endpoint-url "$E" s3 cp "$work/hello.txt" s3://interop/a/hello.txt --only-show-errors &&
   AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER $aws --endpoint-url "$E" s3 ls s3://interop/a/ | grep hello.txt >/dev/null; then
  ok "s3rver: aws mb, cp, ls at $(cat "$XTSTORE_S3RVER_DIR/port")"
else
  bad "s3rver: aws against $E"
fi

# Azurite: devstoreaccount1 and the emulator key; a wrong key gets 403.
E=$(cat "$XTSTORE_AZURITE_DIR/endpoint")
key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
cs="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;BlobEndpoint=$E;"
if command -v az >/dev/null; then
  if az storage container create -n interop --connection-string "$cs" -o none --only-show-errors &&
     az storage container list --connection-string "$cs" --query '[].name' -o tsv --only-show-errors | grep -x interop >/dev/null; then
    ok "azurite: az container create + list"
  else
    bad "azurite: az against $E"
  fi
  if az storage container list --connection-string "${cs/AccountKey=E/AccountKey=F}" -o none --only-show-errors 2>/dev/null; then
    bad "azurite: a wrong key was accepted"
  else
    ok "azurite: a wrong key is refused"
  fi
else
  bad "azurite: az is not installed (scripts/setup.sh --test)"
fi

# moto: the key pair from server.sh moto-keys works; a wrong secret gets 403.
if [[ -f "$XTSTORE_MOTO_DIR/unavailable" ]]; then
  echo "skip - moto: $(cat "$XTSTORE_MOTO_DIR/unavailable")"
else
  E=$(cat "$XTSTORE_MOTO_DIR/endpoint")
  read -r A S < <("$here/server.sh" moto-keys "$XTSTORE_MOTO_DIR")
  if AWS_ACCESS_KEY_ID=$A AWS_SECRET_ACCESS_KEY=$S $aws --endpoint-url "$E" s3 mb s3://interop >/dev/null &&
     AWS_ACCESS_KEY_ID=$A AWS_SECRET_ACCESS_KEY=$S $aws --endpoint-url "$E" s3 ls | grep interop >/dev/null; then
    ok "moto: aws with the moto-keys pair"
  else
    bad "moto: aws with the moto-keys pair against $E"
  fi
  err=$(AWS_ACCESS_KEY_ID=$A AWS_SECRET_ACCESS_KEY="x$S" $aws --endpoint-url "$E" s3 ls 2>&1 >/dev/null)
  if [[ "$err" == *SignatureDoesNotMatch* ]]; then
    ok "moto: a wrong secret gets SignatureDoesNotMatch"
  else
    bad "moto: wrong secret: $err"
  fi
fi

echo "$passed passed, $failed failed"
((failed == 0))
