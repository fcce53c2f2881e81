#!/usr/bin/env bash
# A body changed in flight is detected and reported, never stored or
# written as a success (issue 9). faultproxy.py, in front of s3rver, moto
# and Azurite (the ctest fixtures), inverts one byte of a request body
# (flip_request_body_byte) or of a response body (flip_response_body_byte),
# 100000 bytes in: past the first aws-chunked frame, inside a chunk's data
# whatever the frame size. The S3 services use the provider's defaults (no
# payload-signing key); retries are quick, not fewer.
#
# For each service, with a 3 MiB file:
#   put, the first attempt flipped: fails naming the object, or succeeds
#     because a retry sent the right bytes -- then the stored object is
#     byte-identical, read by an independent client (/usr/bin/aws for S3,
#     python3-azure-storage for Azure);
#   put, every attempt flipped: fails naming the object, and no object is
#     left under the key;
#   get, the first answer flipped: fails naming the object, or succeeds
#     with the right bytes (a retry);
#   get, every answer flipped: fails naming the object; neither the
#     destination nor a temporary file (.xtstore-get-*) is left;
#   an 11 MiB put in parts (threshold and part size 5 MiB) whose every send
#     of a part is flipped (S3 UploadPart 2, Azure Put Block): fails naming
#     the object and the checksum mismatch, and the object that was there
#     before is intact (the upload is never completed);
#   and cp between two services (s3rver -> Azurite with the source's answers
#     flipped, Azurite -> s3rver with the target's uploads flipped): fails
#     naming the object, and the target holds no object.
# Always: exit 0 means the bytes where they landed are the source's.
# The local provider has no wire for the proxy: its bytes are changed by
# the test shim wrapping it (tests/host/cli/shim_plugin.c: corrupt-put,
# corrupt-get) in test_integrity_local.sh; the host's checks against
# fixture providers that report wrong CRC-32Cs (tests/host/core/flaky.c:
# put-crc32c, get-crc32c) are in test_checksums.sh and the host/ unit
# tests; conformance/catches-broken runs the shim's breakages against the
# conformance suite.
#   test_integrity.sh XTSTORE_BIN PROJECT_SOURCE_DIR BINARY_DIR
. "$(dirname "$0")/lib.sh" "$@"

need_servers XTSTORE_S3RVER_DIR XTSTORE_AZURITE_DIR XTSTORE_FAULTPROXY_SH
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE \
  AWS_CA_BUNDLE AZURE_STORAGE_CONNECTION_STRING
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
export AZ_KEY
OFF=100000
B="xtint-$$"
S3R_E=$(cat "$XTSTORE_S3RVER_DIR/endpoint")
AZ_E=$(cat "$XTSTORE_AZURITE_DIR/endpoint")
MOTO=0
if [ -n "${XTSTORE_MOTO_DIR:-}" ] && [ -f "$XTSTORE_MOTO_DIR/keys" ]; then
  MOTO=1
  MOTO_E=$(cat "$XTSTORE_MOTO_DIR/endpoint")
  read -r MOTO_AK MOTO_SK < "$XTSTORE_MOTO_DIR/keys"
else
  echo "note: moto is unavailable ($(cat "${XTSTORE_MOTO_DIR:-/nonexistent}/unavailable" 2>/dev/null)): its cases are not run"
fi

# One proxy per server; every rule matches by key, so one rules file serves
# all. Keys: put-once, put-all, get-once, get-all, cp-src (its GETs are
# flipped), cp-dst (its uploads are flipped), mp-all (S3 part 2 and every
# Azure block flipped).
cat > "$T/rules.json" <<EOF
[
 {"match": {"method": "PUT", "path": "/put-once\\\\.bin\$"}, "count": 1, "flip_request_body_byte": $OFF},
 {"match": {"method": "PUT", "path": "/put-all\\\\.bin\$"}, "flip_request_body_byte": $OFF},
 {"match": {"method": "GET", "path": "/get-once\\\\.bin\$"}, "count": 1, "flip_response_body_byte": $OFF},
 {"match": {"method": "GET", "path": "/(get-all|cp-src|cp-azsrc)\\\\.bin\$"}, "flip_response_body_byte": $OFF},
 {"match": {"method": "PUT", "path": "/cp-dst\\\\.bin\$"}, "flip_request_body_byte": $OFF},
 {"match": {"method": "PUT", "path": "/mp-all\\\\.bin\$", "query": "partNumber=2(&|\$)"}, "flip_request_body_byte": $OFF},
 {"match": {"method": "PUT", "path": "/mp-all\\\\.bin\$", "query": "comp=block(&|\$)"}, "flip_request_body_byte": $OFF}
]
EOF
PROXIES="s3rver azurite"
[ "$MOTO" -eq 0 ] || PROXIES="$PROXIES moto"
stop_proxies() {
  for p in $PROXIES; do
    "$XTSTORE_FAULTPROXY_SH" stop "$T/proxy-$p" > /dev/null 2>&1
  done
}
rb_all() {
  for s in s3r-d az-d m-d; do
    "$XT_BIN" --config "$CONFIG" -q rb -f "$s:$B" > /dev/null 2>&1
  done
}
trap 'rb_all; stop_proxies; rm -rf "$T"' EXIT
# start_proxy NAME SERVER_DIR: the proxy in front of NAME, its endpoint in
# $T/proxy-NAME/endpoint; the test fails when it does not start.
start_proxy() {
  "$XTSTORE_FAULTPROXY_SH" start "$T/proxy-$1" "$2" "$T/rules.json" > /dev/null || {
    echo "FAIL: the fault proxy in front of $1 did not start"
    exit 1
  }
}
start_proxy s3rver "$XTSTORE_S3RVER_DIR"
start_proxy azurite "$XTSTORE_AZURITE_DIR"
[ "$MOTO" -eq 0 ] || start_proxy moto "$XTSTORE_MOTO_DIR"
P_s3rver=$(cat "$T/proxy-s3rver/endpoint")
P_azurite=$(cat "$T/proxy-azurite/endpoint")
[ "$MOTO" -eq 0 ] || P_moto=$(cat "$T/proxy-moto/endpoint")

# Each service twice: through its proxy (NAME) and direct (NAME-d).
# Parts of 5 MiB above 5 MiB: the 3 MiB cases stay single puts.
QUICK='retry: {attempts: 3, base-ms: 10, max-ms: 50}, multipart: {threshold: 5M, part-size: 5M}'
{
  cat <<EOF
providers:
  storage:
    s3: "store-s3"
    azure: "store-azure"
external-services:
  s3r: {type: "storage", provider: "s3", endpoint: "$P_s3rver", access-key: "S3RVER", secret-key: "S3RVER", addressing: "path", $QUICK}
  s3r-d: {type: "storage", provider: "s3", endpoint: "$S3R_E", access-key: "S3RVER", secret-key: "S3RVER", addressing: "path", $QUICK}
  az: {type: "storage", provider: "azure", account: "devstoreaccount1", key: "\$env:AZ_KEY", endpoint: "$P_azurite", $QUICK}
  az-d: {type: "storage", provider: "azure", account: "devstoreaccount1", key: "\$env:AZ_KEY", endpoint: "$AZ_E", $QUICK}
EOF
  if [ "$MOTO" -eq 1 ]; then
    cat <<EOF
  m: {type: "storage", provider: "s3", endpoint: "$P_moto", access-key: "$MOTO_AK", secret-key: "$MOTO_SK", addressing: "path", $QUICK}
  m-d: {type: "storage", provider: "s3", endpoint: "$MOTO_E", access-key: "$MOTO_AK", secret-key: "$MOTO_SK", addressing: "path", $QUICK}
EOF
  fi
  cat <<EOF
  scratch: {type: "storage", provider: "local", path: "$T/data"}
xt-services:
  storage: "scratch"
EOF
} > "$CONFIG"

head -c 3145728 /dev/urandom > "$T/src.bin"
SRC="$T/src.bin"
head -c 11534336 /dev/urandom > "$T/big.bin"
printf 'the object before\n' > "$T/old.bin"

# read_back SERVICE KEY OUT: the stored object read by an independent
# client into OUT; exit 1 when there is no such object, 2 on other errors.
read_back() {
  local svc=$1 key=$2 out=$3 e ak sk
  rm -f "$out"
  case $svc in
    az)
      /usr/bin/python3 - "$AZ_E" "$B" "$key" "$out" <<'PY'
import os, sys
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobClient
ep, c, k, out = sys.argv[1:]
conn = ("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        f"AccountKey={os.environ['AZ_KEY']};BlobEndpoint={ep};")
try:
    data = BlobClient.from_connection_string(conn, c, k).download_blob().readall()
except ResourceNotFoundError:
    sys.exit(1)
open(out, "wb").write(data)
PY
      return $? ;;
    s3r) e=$S3R_E ak=S3RVER sk=S3RVER ;;
    m) e=$MOTO_E ak=$MOTO_AK sk=$MOTO_SK ;;
  esac
  AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$sk /usr/bin/aws --endpoint-url "$e" \
    s3api get-object --bucket "$B" --key "$key" "$out" > "$T/.aws" 2>&1 && return 0
  grep -q 'NoSuchKey\|Not Found\|404' "$T/.aws" && return 1
  cat "$T/.aws" >&2
  return 2
}

# flips SVC KEY: how many times the proxy of SVC inverted a byte of KEY.
flips() {
  local p
  case $1 in s3r) p=s3rver ;; az) p=azurite ;; m) p=moto ;; esac
  grep -c "/$2 rule=[0-9]* flip_[a-z_]* $OFF (0x" "$T/proxy-$p/log" || true
}

# said WHAT: the case and its outcome, in the test's output.
said() {
  echo "$1: exit $RC"
  [ -z "$ERR" ] || printf '%s\n' "$ERR" | head -n 4 | sed 's/^/    /'
}

# proxy_did SVC KEY: the fault was really injected (else the case proves
# nothing: the client sent less than OFF bytes, or another path).
proxy_did() {
  check
  [ "$(flips "$1" "$2")" -ge 1 ] || fail "$1: the proxy flipped no byte of $2 (the case proves nothing)"
}

# names_object KEY: the error (stderr) names the object.
names_object() {
  check
  case $ERR in
    *"$1"*) ;;
    *) fail "the error does not name the object '$1'" ;;
  esac
}

# failed_naming KEY FAILURE: the command failed and its error names the
# object; else FAILURE is reported. Returns 1 when the command succeeded.
failed_naming() {
  check
  if [ "$RC" -eq 0 ]; then
    fail "$2"
    return 1
  fi
  names_object "$1"
}

# stored_ok SVC KEY WHAT: the object under KEY is the source's bytes.
stored_ok() {
  check
  read_back "$1" "$2" "$T/back.bin"
  case $? in
    0) cmp -s "$T/back.bin" "$SRC" || fail "$3: exit 0, but $1 stored other bytes under $2 (read by an independent client)" ;;
    1) fail "$3: exit 0, but $1 holds no object $2" ;;
    *) fail "$3: the independent client could not read $2" ;;
  esac
}

# nothing_stored SVC KEY WHAT: no object is left under KEY.
nothing_stored() {
  check
  read_back "$1" "$2" "$T/back.bin"
  case $? in
    1) ;;
    0) if cmp -s "$T/back.bin" "$SRC"; then
         fail "$3: the command failed, yet $1 holds the right bytes under $2"
       else
         fail "$3: $1 holds other bytes than the source's under $2 (not removed)"
       fi ;;
    *) fail "$3: the independent client could not check $2" ;;
  esac
}

# old_intact SVC KEY WHAT: the object under KEY is still $T/old.bin.
old_intact() {
  check
  read_back "$1" "$2" "$T/back.bin"
  case $? in
    0) cmp -s "$T/back.bin" "$T/old.bin" || fail "$3: $1 holds other bytes than the object before under $2" ;;
    1) fail "$3: the object before is gone from $1 ($2)" ;;
    *) fail "$3: the independent client could not read $2" ;;
  esac
}

# says_checksum WHAT: the error says that a checksum did not match.
says_checksum() {
  check
  printf '%s\n' "$ERR" | grep -Eqi 'CRC-32C|CRC64|MD5|checksum|digest' ||
    fail "$1: the error does not say that a checksum did not match"
}

# no_download DIR NAME WHAT: neither DIR/NAME nor a temporary file is there.
no_download() {
  check
  local left
  left=$(cd "$1" && ls -A)
  [ -z "$left" ] || fail "$3: left in the destination directory: $left"
}

run_service() {
  local s=$1 d="$1-d" what dl
  echo "--- $s"
  xt mb "$d:$B"
  assert_rc 0
  xt put "$SRC" "$d:$B/get-once.bin"
  assert_rc 0
  xt put "$SRC" "$d:$B/get-all.bin"
  assert_rc 0

  what="$s: put, the first attempt's byte $OFF flipped"
  xt put "$SRC" "$s:$B/put-once.bin"
  said "$what"
  proxy_did "$s" put-once.bin
  if [ "$RC" -eq 0 ]; then
    stored_ok "$s" put-once.bin "$what"
  else
    names_object put-once.bin
    nothing_stored "$s" put-once.bin "$what"
  fi

  what="$s: put, every attempt's byte $OFF flipped"
  xt put "$SRC" "$s:$B/put-all.bin"
  said "$what"
  proxy_did "$s" put-all.bin
  failed_naming put-all.bin "$what: exit 0 (every attempt sent other bytes)"
  nothing_stored "$s" put-all.bin "$what"

  what="$s: get, the first answer's byte $OFF flipped"
  dl="$T/dl-$s-once"
  mkdir -p "$dl"
  xt get "$s:$B/get-once.bin" "$dl/get-once.bin"
  said "$what"
  proxy_did "$s" get-once.bin
  if [ "$RC" -eq 0 ]; then
    check
    cmp -s "$dl/get-once.bin" "$SRC" || fail "$what: exit 0, but the file written has other bytes than the object"
  else
    names_object get-once.bin
    no_download "$dl" get-once.bin "$what"
  fi

  what="$s: get, every answer's byte $OFF flipped"
  dl="$T/dl-$s-all"
  mkdir -p "$dl"
  xt get "$s:$B/get-all.bin" "$dl/get-all.bin"
  said "$what"
  proxy_did "$s" get-all.bin
  if failed_naming get-all.bin "$what: exit 0 (every answer had other bytes)"; then
    no_download "$dl" get-all.bin "$what"
  fi

  what="$s: put in parts, every send of a part's byte $OFF flipped"
  xt put "$T/old.bin" "$d:$B/mp-all.bin"
  assert_rc 0
  xt put "$T/big.bin" "$s:$B/mp-all.bin"
  said "$what"
  proxy_did "$s" mp-all.bin
  if failed_naming mp-all.bin "$what: exit 0 (every send of the part had other bytes)"; then
    says_checksum "$what"
  fi
  old_intact "$s" mp-all.bin "$what"
}

run_service s3r
[ "$MOTO" -eq 0 ] || run_service m
run_service az

echo "--- cp between services"
xt put "$SRC" "s3r-d:$B/cp-src.bin"
assert_rc 0
what="cp s3rver -> Azurite, the source's answers flipped"
xt cp "s3r:$B/cp-src.bin" "az-d:$B/cp-src.bin"
said "$what"
proxy_did s3r cp-src.bin
failed_naming cp-src.bin "$what: exit 0 (every read of the source had other bytes)"
nothing_stored az cp-src.bin "$what"

xt put "$SRC" "az-d:$B/cp-dst-src.bin"
assert_rc 0
what="cp Azurite -> s3rver, the target's uploads flipped"
xt cp "az-d:$B/cp-dst-src.bin" "s3r:$B/cp-dst.bin"
said "$what"
proxy_did s3r cp-dst.bin
failed_naming cp-dst.bin "$what: exit 0 (every upload sent other bytes)"
nothing_stored s3r cp-dst.bin "$what"

# The S3 put takes exactly the bytes promised and may finish before the
# source's get finds them bad (its MD5): what it stored must go.
xt put "$SRC" "az-d:$B/cp-azsrc.bin"
assert_rc 0
what="cp Azurite -> s3rver, the source's answers flipped"
xt cp "az:$B/cp-azsrc.bin" "s3r-d:$B/cp-azsrc.bin"
said "$what"
proxy_did az cp-azsrc.bin
failed_naming cp-azsrc.bin "$what: exit 0 (every read of the source had other bytes)"
nothing_stored s3r cp-azsrc.bin "$what"

if [ "$FAILS" -ne 0 ]; then
  for p in $PROXIES; do
    echo "proxy log ($p):"
    grep "/$B/\(put\|get\|cp\)" "$T/proxy-$p/log" | sed 's/^/  /'
  done
fi
echo "note: the local provider has no wire: its corrupted bytes are tested by test_integrity_local.sh (the shim, tests/host/cli/shim_plugin.c)"
finish
