#!/usr/bin/env bash
# The S3 provider's default configuration stores the bytes it was given:
#   test_defaults.sh XTSTORE_BIN PLUGIN_DIR s3rver|swift
# The service sets only provider, endpoint, keys and path addressing: no
# payload-signing, so plain http:// gets whatever the provider does by default.
# Each case uploads with xtstore, then checks the size `xtstore stat` reports,
# reads the object back with /usr/bin/aws (another client's view of what the
# server stored) and with `xtstore get`, both compared byte for byte:
#   - single: a 20 000 000-byte file, one PutObject;
#   - multipart: `cp -r` of a 23 MiB file to a service with multipart:
#     {threshold: 8M, part-size: 5M} (the engine's parts); on Swift its ETag
#     must end in -5 (s3rver's lacks the -N);
#   - pipe: ~12 MiB through `put -` (the engine reads it in order);
#   - small: 1 KiB;
#   - fan-out: `put --to` from a pipe to this service and a local one (a
#     source that cannot be read twice);
#   - copy: `cp` from a local service (streamed through a ring);
#   - streaming: a service that asks for aws-chunked (payload-signing:
#     streaming): the server that cannot decode it is found out on the first
#     upload, said once, and every upload still stores the right bytes;
#   - swift only: versioned-buckets: true where versioning is missing: mb
#     fails saying so and removes the bucket it made.
# s3rver stores an undecoded aws-chunked body as the object (framing and all)
# and answers 200; Swift's s3api refuses it with NotImplemented.
. "$(dirname "$0")/s3lib.sh" "$@"

SERVER=${3:-}
case "$SERVER" in
  s3rver) AK=S3RVER SK=S3RVER ;;
  swift) ;;
  *) echo "usage: $0 XTSTORE_BIN PLUGIN_DIR s3rver|swift" >&2; exit 2 ;;
esac
AWS=/usr/bin/aws
if [ ! -x "$AWS" ]; then
  echo "skip: $AWS is not installed (apt install awscli): no read-back by another client"
  exit 77
fi
need_server "$SERVER"
if [ "$SERVER" = swift ]; then
  read -r AK SK < "$SERVER_DIR/keys"
fi

config_begin
write_service d "$ENDPOINT" "$AK" "$SK"
write_service mp "$ENDPOINT" "$AK" "$SK" ', multipart: {threshold: 8M, part-size: 5M}'
write_service st "$ENDPOINT" "$AK" "$SK" ', payload-signing: "streaming"'
write_service ver "$ENDPOINT" "$AK" "$SK" ', versioned-buckets: true'
cat >> "$CONFIG" <<EOF
  loc: {type: "storage", provider: "local", path: "$T/local"}
EOF
B=$(bucket defaults)

# aws_get KEY FILE: /usr/bin/aws s3 cp s3://$B/KEY - > FILE; $RC, $OUT, $ERR.
aws_get() {
  env -u AWS_CA_BUNDLE AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$SK" \
    AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null \
    "$AWS" --endpoint-url "$ENDPOINT" s3 cp --no-progress "s3://$B/$1" - \
    > "$2" 2> "$T/.err"
  RC=$?
  OUT=""
  ERR=$(cat "$T/.err")
  LAST="aws s3 cp s3://$B/$1 -"
}

size_of() { stat -c %s "$1"; }

# describe FILE: its size and first bytes, printable (aws-chunked framing
# shows up there as "10000;chunk-signature=...").
describe() {
  printf '%s bytes, starting "%s"' "$(size_of "$1")" \
    "$(head -c 48 "$1" | tr -c '[:alnum:][:punct:] ' '.')"
}

# same CASE WHAT EXPECTED_FILE GOT_FILE: one byte-for-byte check.
same() {
  CHECKS=$((CHECKS + 1))
  if cmp -s "$3" "$4"; then
    echo "ok: $1: $2 byte-identical"
  else
    fail "$1: $2 differs: expected $(describe "$3"); got $(describe "$4")"
  fi
}

# verify CASE KEY FILE [PARTS]: what $B/KEY holds is FILE; on Swift, with PARTS,
# its ETag says it was uploaded in that many parts.
verify() {
  local what=$1 key=$2 file=$3 parts=${4:-} want got etag
  want=$(size_of "$file")
  xt stat --json "d:$B/$key"
  if [ "$RC" -ne 0 ]; then
    fail "$what: stat: expected exit 0 and size $want, got exit $RC"
  else
    printf '%s' "$OUT" > "$T/stat.json"
    got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["size"])' "$T/stat.json")
    etag=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["etag"] or "")' "$T/stat.json")
    check "$what: stat size (expected $want, got $got)" test "$got" = "$want"
    if [ -n "$parts" ] && [ "$SERVER" = swift ]; then
      check "$what: a multipart upload of $parts parts (ETag $etag, expected suffix -$parts)" \
        contains "$etag" "-$parts\""
    fi
  fi
  rm -f aws.out got.out
  aws_get "$key" aws.out
  if [ "$RC" -ne 0 ]; then
    fail "$what: aws s3 cp read-back: expected exit 0, got exit $RC"
  else
    same "$what" "aws s3 cp read-back" "$file" aws.out
  fi
  xt get "d:$B/$key" got.out
  if [ "$RC" -ne 0 ]; then
    fail "$what: xtstore get: expected exit 0, got exit $RC"
  else
    same "$what" "xtstore get" "$file" got.out
  fi
}

# uploaded CASE: the upload just run (by xt, or by hand into $RC/$OUT/$ERR)
# exited 0; else the case's other checks are not run.
uploaded() {
  expect_rc 0 "$1: upload"
  [ "$RC" -eq 0 ]
}

xt mb "d:$B"
expect_rc 0 "mb $B"
if [ "$RC" -ne 0 ]; then
  finish
fi

C="single put, 20000000 bytes"
head -c 20000000 /dev/urandom > single.bin
xt put single.bin "d:$B/single.bin"
if uploaded "$C"; then verify "$C" single.bin single.bin; fi

C="multipart (cp -r, threshold 8M, part-size 5M), 23 MiB"
mkdir -p tree
head -c $((23 * 1024 * 1024)) /dev/urandom > tree/multi.bin
xt cp -r tree "mp:$B/tree"
if uploaded "$C"; then verify "$C" tree/multi.bin tree/multi.bin 5; fi

C="pipe (put -), 12 MiB + 1000 bytes"
head -c $((12 * 1024 * 1024 + 1000)) /dev/urandom > pipe.bin
# A real pipe (not "< pipe.bin", a seekable file of known length).
cat pipe.bin | "$XT_BIN" --config "$CONFIG" put - "d:$B/pipe.bin" \
  > "$T/.out" 2> "$T/.err"
RC=$?; OUT=$(cat "$T/.out"); ERR=$(cat "$T/.err"); LAST="cat pipe.bin | xtstore put - d:$B/pipe.bin"
if uploaded "$C"; then verify "$C" pipe.bin pipe.bin; fi

C="small put, 1 KiB"
head -c 1024 /dev/urandom > small.bin
xt put small.bin "d:$B/small.bin"
if uploaded "$C"; then verify "$C" small.bin small.bin; fi

C="fan-out (put --to from a pipe), 3 MiB"
head -c $((3 * 1024 * 1024)) /dev/urandom > fan.bin
mkdir -p "$T/local"
xt mb "loc:$B"
cat fan.bin | "$XT_BIN" --config "$CONFIG" put --to d,loc - "$B/fan.bin" \
  > "$T/.out" 2> "$T/.err"
RC=$?; OUT=$(cat "$T/.out"); ERR=$(cat "$T/.err"); LAST="cat fan.bin | xtstore put --to d,loc - $B/fan.bin"
if uploaded "$C"; then verify "$C" fan.bin fan.bin; fi

C="copy (cp from a local service), 5 MiB"
head -c $((5 * 1024 * 1024)) /dev/urandom > cp.bin
xt put cp.bin "loc:$B/cp.bin"
xt cp "loc:$B/cp.bin" "d:$B/cp.bin"
if uploaded "$C"; then verify "$C" cp.bin cp.bin; fi

C="streaming (payload-signing: streaming), 1 KiB then 20000000 bytes"
xt put small.bin "st:$B/st-small.bin"
if uploaded "$C"; then
  check "$C: the fallback is said once" \
    test "$(printf '%s\n' "$ERR" | grep -c 'does not decode aws-chunked')" -eq 1
  verify "$C" st-small.bin small.bin
fi
xt put single.bin "st:$B/st-single.bin"
if uploaded "$C"; then verify "$C" st-single.bin single.bin; fi

# versioned-buckets on a server without versioning (Swift): mb fails and
# says so, and no unversioned bucket is left passing for a versioned one.
if [ "$SERVER" = swift ]; then
  xt mb "ver:$B-ver"
  check "mb with versioned-buckets on a server without versioning fails" \
    test "$RC" -ne 0
  check "the error says the bucket was removed again" \
    contains "$ERR" "versioned-buckets needs a server with versioning: bucket '$B-ver' was removed again"
  xt ls "d:$B-ver"
  check "the bucket is gone" test "$RC" -eq 4
fi

finish
