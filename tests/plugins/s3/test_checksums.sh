#!/usr/bin/env bash
# The S3 provider's side of the ABI 1.1 checksum contract, driven through
# its interface table by s3_cksum_probe (the host's use of it is tested with
# the host), against the three fixture servers:
#   test_checksums.sh XTSTORE_BIN PLUGIN_DIR S3_CKSUM_PROBE [S3_PARTS_PROBE]
# (s3_parts_probe: the probe built with the provider's sources, for the
# streamed parts of objects over 5 GiB; without it those checks are left out)
# What each server does with the checksums (plugins/s3/README.md):
#   - moto keeps and returns x-amz-checksum-crc32c (given with
#     x-amz-sdk-checksum-algorithm) WITHOUT checking it, decodes signed
#     aws-chunked trailers, and computes a FULL_OBJECT multipart CRC32C
#     itself (with the crc32c module tests/servers/server.sh gives it;
#     without, it would report zlib's CRC-32 under that name);
#   - Swift's s3api ignores x-amz-checksum-*, checks Content-MD5
#     (BadDigest), refuses <ChecksumCRC32C> in CompleteMultipartUpload XML
#     (MalformedXML: the provider falls back, once);
#   - s3rver ignores them all.
# So the CRC values are checked against /usr/bin/aws (awscrt's CRC32C) and
# the refusals with Swift's MD5 check, a body changed in flight
# (faultproxy.py's flip_request_body_byte) and refusals the proxy makes.
. "$(dirname "$0")/s3lib.sh" "$@"

PROBE=${3:-}
PARTS_PROBE=${4:-}
SO="$XTSTORE_PLUGIN_PATH/store-s3.so"
AWS=/usr/bin/aws
FAULTPROXY_SH=${XTSTORE_FAULTPROXY_SH:-$(dirname "$0")/../../servers/faultproxy.sh}
if [ ! -x "$PROBE" ] || [ ! -f "$SO" ]; then
  echo "usage: $0 XTSTORE_BIN PLUGIN_DIR S3_CKSUM_PROBE (built)" >&2
  exit 2
fi
if [ ! -x "$AWS" ]; then
  echo "skip: $AWS is not installed (apt install awscli): no CRC32C to compare with"
  exit 77
fi

# probe ENDPOINT AK SK [KEY=VALUE...] -- CMD...: $RC, $OUT, $ERR
# (PROBE_BIN=$PARTS_PROBE probe ...: the linked probe).
probe() {
  local ep=$1 ak=$2 sk=$3
  shift 3
  "${PROBE_BIN:-$PROBE}" "$SO" endpoint="$ep" access-key="$ak" secret-key="$sk" \
    addressing=path "$@" > "$T/.out" 2> "$T/.err"
  RC=$?
  OUT=$(grep -v '^log debug' "$T/.out")
  ERR=$(cat "$T/.err")
  LAST="s3_cksum_probe $*"
}
# md5_trace: the probe's last run as one letter per event: M an ETag
# compared with the MD5 of the bytes sent (the provider's debug line), R a
# put that succeeded, F one that failed.
md5_trace() {
  sed -n -e 's/^log debug: .*the ETag is the MD5 of the bytes sent$/M/p' \
    -e 's/^rc=ok .*/R/p' -e 's/^rc=.*/F/p' "$T/.out" | tr -d '\n'
}
# not_probed: the probe's last run said nothing of a checksum probe.
not_probed() { ! grep -q 'check[s]* x-amz-checksum-crc32c' "$T/.out"; }
# field NAME: NAME=VALUE of the probe's last rc= line.
field() { printf '%s\n' "$OUT" | grep '^rc=' | tail -1 | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# awsc ENDPOINT AK SK ARGS...: /usr/bin/aws; stdout in $OUT.
awsc() {
  local ep=$1 ak=$2 sk=$3
  shift 3
  OUT=$(env -u AWS_CA_BUNDLE AWS_ACCESS_KEY_ID="$ak" AWS_SECRET_ACCESS_KEY="$sk" \
    AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null \
    "$AWS" --endpoint-url "$ep" "$@" 2> "$T/.err")
  RC=$?
  ERR=$(cat "$T/.err")
  LAST="aws $*"
}
# hex_of BASE64 / b64_of HEX: the two spellings of a CRC.
hex_of() { python3 -c 'import base64,sys; print(base64.b64decode(sys.argv[1]).hex())' "$1"; }
b64_of() { python3 -c 'import base64,sys; print(base64.b64encode(bytes.fromhex(sys.argv[1])).decode())' "$1"; }
# same_object EP AK SK BUCKET KEY FILE: aws reads back FILE's bytes.
same_object() {
  env -u AWS_CA_BUNDLE AWS_ACCESS_KEY_ID="$2" AWS_SECRET_ACCESS_KEY="$3" \
    AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null \
    "$AWS" --endpoint-url "$1" s3 cp --no-progress "s3://$4/$5" - 2>/dev/null |
    cmp -s - "$6"
}

head -c 300000 /dev/urandom > small.bin
head -c 12000000 /dev/urandom > big.bin
# 1 MiB and more: the size from which a body with a known CRC-32C may go
# without its MD5 (after the server's check is proven by a probe).
head -c 2097152 /dev/urandom > mid.bin
B=$(bucket cksum)

# ---- moto ------------------------------------------------------------------
need_server moto
read -r MA MS < "$SERVER_DIR/keys"
ME=$ENDPOINT
probe "$ME" "$MA" "$MS" -- mb "$B"
expect_rc 0 "moto: make bucket $B"
# The CRC32C another client computes for the same bytes.
awsc "$ME" "$MA" "$MS" s3api put-object --bucket "$B" --key by-aws.bin \
  --body small.bin --checksum-algorithm CRC32C --query ChecksumCRC32C --output text
WANT=$(hex_of "$OUT")
check "moto: aws put a CRC32C ($OUT)" test -n "$WANT"
awsc "$ME" "$MA" "$MS" s3api put-object --bucket "$B" --key big-by-aws.bin \
  --body big.bin --checksum-algorithm CRC32C --query ChecksumCRC32C --output text
WANT_BIG=$(hex_of "$OUT")
awsc "$ME" "$MA" "$MS" s3api put-object --bucket "$B" --key mid-by-aws.bin \
  --body mid.bin --checksum-algorithm CRC32C --query ChecksumCRC32C --output text
WANT_MID=$(hex_of "$OUT")
# probe_objects EP AK SK BUCKET: the checksum probe's objects left there.
probe_objects() {
  awsc "$1" "$2" "$3" s3api list-objects-v2 --bucket "$4" \
    --prefix .xtstore-crc-probe- --query 'length(Contents || `[]`)' --output text
  printf '%s\n' "$OUT"
}

probe "$ME" "$MA" "$MS" -- put "$B" crc.bin small.bin crc md5
expect_rc 0 "moto: put with its CRC-32C and MD5"
check "moto: the put result reports CRC-32C $WANT (got $(field crc32c))" test "$(field crc32c)" = "$WANT"
check "moto: the put result reports the ETag's MD5" test "$(field md5)" = "$(md5sum < small.bin | cut -c1-32)"
probe "$ME" "$MA" "$MS" -- head "$B" crc.bin
check "moto: head reports CRC-32C $WANT (got $(field crc32c))" test "$(field crc32c)" = "$WANT"
awsc "$ME" "$MA" "$MS" s3api head-object --bucket "$B" --key crc.bin \
  --checksum-mode ENABLED --query ChecksumCRC32C --output text
check "moto: aws head-object --checksum-mode ENABLED shows $(b64_of "$WANT") (got $OUT)" \
  test "$OUT" = "$(b64_of "$WANT")"

probe "$ME" "$MA" "$MS" -- put "$B" plain.bin small.bin
check "moto: a put without checksums reports no CRC-32C" test "$(field crc32c)" = "-"

probe "$ME" "$MA" "$MS" payload-signing=streaming -- put "$B" trailer.bin small.bin trailer
expect_rc 0 "moto: aws-chunked put with a signed CRC-32C trailer"
check "moto: the trailer's CRC-32C is reported ($WANT, got $(field crc32c))" test "$(field crc32c)" = "$WANT"
check "moto: the trailer upload stored the bytes (aws read-back)" same_object "$ME" "$MA" "$MS" "$B" trailer.bin small.bin

probe "$ME" "$MA" "$MS" -- put "$B" pipe-small.bin small.bin pipe trailer
check "moto: a small pipe's CRC-32C goes as a header ($WANT, got $(field crc32c))" test "$(field crc32c)" = "$WANT"

# moto answers a put with the x-amz-checksum-crc32c it was sent, but does
# not check it: the echo proves nothing. The first body of 1 MiB or more
# with a known CRC-32C makes the provider probe the server once (a
# PutObject sent with a wrong x-amz-checksum-crc32c): moto takes it, so
# every put keeps its MD5, and the probe's object is deleted again.
probe "$ME" "$MA" "$MS" -- put "$B" learn-small.bin small.bin crc + crc
check "moto: bodies under 1 MiB make no probe" not_probed
probe "$ME" "$MA" "$MS" -- put "$B" learn.bin mid.bin crc + crc + crc + trailer
expect_rc 0 "moto: four puts through one handle"
check "moto: the probe finds that moto does not check the CRC-32C, said once" \
  test "$(grep -c 'the server does not check x-amz-checksum-crc32c (it took a wrong one): the MD5 is kept' "$T/.out")" -eq 1
check "moto: every put is summed by MD5 (MRMRMRMR, got $(md5_trace))" \
  test "$(md5_trace)" = MRMRMRMR
check "moto: ... and each with a known CRC-32C reports it" test "$(grep -c "^rc=ok .*crc32c=$WANT_MID" "$T/.out")" -eq 3
check "moto: the probe's object does not remain (got $(probe_objects "$ME" "$MA" "$MS" "$B") left)" \
  test "$(probe_objects "$ME" "$MA" "$MS" "$B")" = 0
check "moto: the object holds the bytes" same_object "$ME" "$MA" "$MS" "$B" learn.bin mid.bin

probe "$ME" "$MA" "$MS" -- mp "$B" mp.bin big.bin 5242880
expect_rc 0 "moto: multipart FULL_OBJECT with each part's CRC-32C"
check "moto: every part reported its CRC-32C" test "$(printf '%s\n' "$OUT" | grep -c 'crc32c=[0-9a-f]\{8\}$')" -eq 3
PART2=$(printf '%s\n' "$OUT" | sed -n 's/^part 2 crc32c=//p')
probe "$ME" "$MA" "$MS" -- head "$B" mp.bin
GOT=$(field crc32c)
check "moto: the multipart object has its full-object CRC-32C ($WANT_BIG, got $GOT)" \
  test "$GOT" = "$WANT_BIG"
check "moto: the multipart object holds the bytes (aws read-back)" same_object "$ME" "$MA" "$MS" "$B" mp.bin big.bin
probe "$ME" "$MA" "$MS" -- put "$B" pipe-big.bin big.bin pipe trailer
expect_rc 0 "moto: a 12 MB pipe goes up in parts, each with its CRC-32C"
check "moto: the pipe's object holds the bytes" same_object "$ME" "$MA" "$MS" "$B" pipe-big.bin big.bin

# Refusals made by a proxy in front of moto (moto itself checks nothing).
PROXY="$T/proxy"
mkdir -p "$PROXY"
cat > "$PROXY/rules.json" <<'EOF'
[{"match": {"method": "PUT", "path": "^/xts3-cksump-[0-9]+/\\.xtstore-crc-probe-[0-9a-f]{16}$"}, "status": 400, "stall_ms": 1500,
  "body": "<Error><Code>BadDigest</Code><Message>The CRC32C you specified did not match the calculated checksum.</Message></Error>"},
 {"match": {"method": "PUT", "path": "^/xts3-cksumr-[0-9]+/\\.xtstore-crc-probe-"}, "reset_request_body_after": 0},
 {"match": {"method": "PUT", "path": "/\\.xtstore-crc-probe-[0-9a-f]{16}$",
            "headers": {"x-amz-checksum-crc32c": ".", "x-amz-sdk-checksum-algorithm": "^CRC32C$"}}, "status": 400,
  "body": "<Error><Code>BadDigest</Code><Message>The CRC32C you specified did not match the calculated checksum.</Message></Error>"},
 {"match": {"method": "PUT", "path": "/bad-digest.bin$"}, "status": 400,
  "body": "<Error><Code>BadDigest</Code><Message>The CRC32C you specified did not match the calculated checksum.</Message></Error>"},
 {"match": {"method": "PUT", "path": "/trailer-mismatch.bin$"}, "status": 400,
  "body": "<Error><Code>XAmzContentChecksumMismatch</Code><Message>The provided 'x-amz-checksum' header does not match what was computed.</Message></Error>"},
 {"match": {"method": "HEAD", "path": "/crc.bin$"}, "count": 1, "status": 501,
  "body": "<Error><Code>NotImplemented</Code><Message>The x-amz-checksum-mode header is not supported.</Message></Error>"},
 {"match": {"method": "HEAD", "path": "/kms.bin$", "headers": {"x-amz-checksum-mode": "."}}, "status": 403},
 {"match": {"method": "PUT", "path": "/refused.bin$"}, "count": 1, "status": 501,
  "body": "<Error><Code>NotImplemented</Code><Message>x-amz-checksum-crc32c is not supported.</Message></Error>"},
 {"match": {"method": "PUT", "path": "/no-echo.bin$"}, "skip": 1, "count": 1, "status": 200,
  "headers": {"ETag": "\"0123456789abcdef0123456789abcdef\""}},
 {"match": {"method": "PUT", "path": "/other-echo.bin$"}, "skip": 1, "count": 1, "status": 200,
  "headers": {"ETag": "\"0123456789abcdef0123456789abcdef\"", "x-amz-checksum-crc32c": "AAAAAA=="}}]
EOF
cleanup_hook() { "$FAULTPROXY_SH" stop "$PROXY" >/dev/null 2>&1 || true; }
if ! PE=$(XTSTORE_SERVER_OWNER_PID=$$ "$FAULTPROXY_SH" start "$PROXY" "$ME" "$PROXY/rules.json"); then
  fail "faultproxy did not start in front of moto"
  finish
fi
probe "$PE" "$MA" "$MS" -- put "$B" bad-digest.bin small.bin crc
expect_rc 1 "moto+proxy: a BadDigest refusal fails the put"
check "moto+proxy: it says the checksum did not match and names the key" \
  contains "$OUT" "$B/bad-digest.bin': the server refused the body, its checksum does not match"
check "moto+proxy: ... and is retryable (a body changed in flight may pass next time)" contains "$OUT" " retryable"
probe "$PE" "$MA" "$MS" payload-signing=streaming -- put "$B" trailer-mismatch.bin small.bin trailer
check "moto+proxy: XAmzContentChecksumMismatch is the same retryable error" \
  contains "$OUT" "checksum does not match the bytes that arrived: XAmzContentChecksumMismatch"
probe "$PE" "$MA" "$MS" -- head "$B" crc.bin
expect_rc 0 "moto+proxy: a HEAD whose checksum mode is refused is sent again without it"
check "moto+proxy: the fallback is said once" test "$(printf '%s\n' "$OUT" | grep -c 'refused the x-amz-checksum-mode header')" -eq 1
check "moto+proxy: the proxy saw 2 HEADs" test "$(grep -c '^HEAD .*/crc.bin' "$PROXY/log")" -eq 2
# AWS: the checksum mode makes a HEAD of an SSE-KMS object need
# kms:Decrypt; a role without it gets a bodiless 403.
probe "$ME" "$MA" "$MS" -- put "$B" kms.bin small.bin
probe "$PE" "$MA" "$MS" -- head "$B" kms.bin
expect_rc 0 "moto+proxy: a HEAD refused (403) with the checksum mode is sent again without it"
check "moto+proxy: ... which is the object's, not the server's: no fallback" lacks "$OUT" "refused the"
check "moto+proxy: ... the size is there" test "$(field size)" = 300000
probe "$PE" "$MA" "$MS" -- put "$B" refused.bin small.bin pipe trailer
expect_rc 0 "moto+proxy: a body in memory whose checksum is refused goes again without it"
check "moto+proxy: ... and then reports no CRC-32C" test "$(field crc32c)" = "-"
check "moto+proxy: the object holds the bytes" same_object "$ME" "$MA" "$MS" "$B" refused.bin small.bin
# A server that refuses the probe (here the proxy, as S3 would: BadDigest)
# checks the CRC-32Cs: once it has also echoed one, bodies of 1 MiB or
# more sent with a known CRC-32C are not summed by MD5; smaller ones are.
probe "$PE" "$MA" "$MS" -- put "$B" proven.bin mid.bin crc + crc + crc + trailer
expect_rc 0 "moto+proxy: four puts through one handle, the probe refused"
check "moto+proxy: the probe was sent once, with x-amz-sdk-checksum-algorithm, and refused" \
  test "$(grep -c '^PUT /'"$B"'/\.xtstore-crc-probe-[0-9a-f]\{16\} rule=2 status 400' "$PROXY/log")" -eq 1
check "moto+proxy: ... learnt, said once" \
  test "$(grep -c 'the server checks x-amz-checksum-crc32c (it refused a wrong one: BadDigest): the MD5 is not summed for bodies sent with a known CRC-32C' "$T/.out")" -eq 1
check "moto+proxy: the first put is summed (no echo yet), the next two are not, the one without a known CRC is (MRRRMR, got $(md5_trace))" \
  test "$(md5_trace)" = MRRRMR
check "moto+proxy: ... each with a known CRC-32C reports it" test "$(grep -c "^rc=ok .*crc32c=$WANT_MID" "$T/.out")" -eq 3
check "moto+proxy: the object holds the bytes" same_object "$ME" "$MA" "$MS" "$B" proven.bin mid.bin
probe "$PE" "$MA" "$MS" -- put "$B" proven-small.bin small.bin crc + crc + crc
expect_rc 0 "moto+proxy: bodies under 1 MiB"
check "moto+proxy: ... make no probe and keep their MD5 (MRMRMR, got $(md5_trace))" \
  test "$(md5_trace)" = MRMRMR
check "moto+proxy: ... (still one probe in the proxy's log)" \
  test "$(grep -c '^PUT /'"$B"'/\.xtstore-crc-probe-' "$PROXY/log")" -eq 1
# Parts uploaded in parallel (the CLI, 4 at a time) while the probe is in
# flight (the proxy holds its refusal 1.5 s): one probe, the other parts
# go meanwhile with their MD5, the upload is whole.
P=$(bucket cksump)
probe "$ME" "$MA" "$MS" -- mb "$P"
config_begin
write_service par "$PE" "$MA" "$MS" ', multipart: {threshold: 5M, part-size: 5M, concurrency: 4}'
xt -vv put big.bin "par:$P/par.bin"
expect_rc 0 "moto+proxy: a 12 MB file in parallel parts while the probe is held"
check "moto+proxy: ... one probe for the handle" \
  test "$(grep -c "^PUT /$P/\\.xtstore-crc-probe-.* rule=0 stall_ms 1500" "$PROXY/log")" -eq 1
check "moto+proxy: ... learnt once" test "$(grep -c 'the server checks x-amz-checksum-crc32c' "$T/.err")" -eq 1
# (the part that made the probe goes after it, summed or not as the
# others' echoes arrived by then)
check "moto+proxy: ... the two parts sent meanwhile summed by MD5 (2 or 3, got $(grep -c 'the ETag is the MD5 of the bytes sent' "$T/.err"))" \
  test "$(grep -c 'the ETag is the MD5 of the bytes sent' "$T/.err")" -ge 2
check "moto+proxy: ... the object holds the bytes" same_object "$ME" "$MA" "$MS" "$P" par.bin big.bin
# A probe cut off (the connection reset): nothing is known, the MD5 is
# kept, and the uploads do not fail.
R=$(bucket cksumr)
probe "$ME" "$MA" "$MS" -- mb "$R"
probe "$PE" "$MA" "$MS" -- put "$R" probe-reset.bin mid.bin crc + crc
expect_rc 0 "moto+proxy: puts whose checksum probe is cut off succeed"
check "moto+proxy: ... said once" \
  test "$(grep -c 'whether the server checks x-amz-checksum-crc32c is not known (the probe failed: s3: PutObject' "$T/.out")" -eq 1
check "moto+proxy: ... every put summed by MD5 (MRMR, got $(md5_trace))" test "$(md5_trace)" = MRMR
check "moto+proxy: ... the proxy cut it" grep -q "^PUT /$R/\.xtstore-crc-probe-.* rule=1 " "$PROXY/log"
# Once the check is proven and the echo seen, a body sent without its MD5
# must have its CRC confirmed by its own answer: one that says none, or
# another, fails the put (retryable) and puts the handle back on the MD5.
probe "$PE" "$MA" "$MS" -- put "$B" no-echo.bin mid.bin crc + crc + crc
expect_rc 1 "moto+proxy: an answer without the CRC-32C after the echo was learnt fails the put"
check "moto+proxy: ... the put summed no MD5 and failed, the next one sums it again (MRFMR, got $(md5_trace))" \
  test "$(md5_trace)" = MRFMR
check "moto+proxy: ... saying the body is unverified, retryable" \
  contains "$(cat "$T/.out")" "no-echo.bin': the server did not confirm the CRC-32C $WANT_MID sent with the body, as it did before: the body is unverified"
check "moto+proxy: ... retryable" grep -q '^rc=I/O error .* retryable$' "$T/.out"
probe "$PE" "$MA" "$MS" -- put "$B" other-echo.bin mid.bin crc + crc
expect_rc 1 "moto+proxy: an answer with another CRC-32C after the echo was learnt fails the put"
check "moto+proxy: ... naming both" \
  contains "$OUT" "the server reports CRC-32C 00000000 for the body sent with CRC-32C $WANT_MID"
cleanup_hook

# Answers AWS gives and moto does not, from a proxy in front of moto:
#  - s3_checksum_type (faultproxy.py): AWS refuses a part carrying a CRC-32C
#    of an upload begun without declaring one ("Checksum Type mismatch");
#    the plugin declares CRC32C/FULL_OBJECT at every begin (the host's begin
#    names no checksum: s3_cksum_probe's mp begins as the host does);
#  - the same refusal once, as from a server that will not take the
#    checksums: a refusal (fallback, said once), not a body mismatch;
#  - the HEAD after a completion answered for another writer's object
#    (412 to its If-Match, or a server that ignores If-Match): nothing
#    reported, so the host does not remove what another writer put;
#  - a server that checks the CRC-32Cs: the plugin sends the ones it was
#    given (a wrong one is refused), also at a pipe's completion.
# b64_re HEX: the CRC's base64 as a regex, inside a JSON string.
b64_re() { python3 -c 'import json,re,sys; print(json.dumps(re.escape(sys.argv[1]))[1:-1])' "$(b64_of "$1")"; }
V=$(bucket cksumv)
probe "$ME" "$MA" "$MS" -- mb "$V"
awsc "$ME" "$MA" "$MS" s3api put-bucket-versioning --bucket "$V" \
  --versioning-configuration Status=Enabled
expect_rc 0 "moto: versioning on $V"
PROXY="$T/proxy3"
mkdir -p "$PROXY"
BADDIGEST='<Error><Code>BadDigest</Code><Message>The CRC32C you specified did not match the calculated checksum.</Message></Error>'
cat > "$PROXY/rules.json" <<EOF
[{"match": {"path": "/aws-"}, "s3_checksum_type": true},
 {"match": {"method": "PUT", "path": "/type-refused.bin\$", "query": "partNumber=1"}, "count": 1, "status": 400,
  "body": "<Error><Code>InvalidRequest</Code><Message>Checksum Type mismatch occurred, expected checksum Type: null, actual checksum Type: crc32c</Message></Error>"},
 {"match": {"method": "HEAD", "path": "/mp-replaced.bin\$", "headers": {"If-Match": "."}}, "status": 412},
 {"match": {"method": "HEAD", "path": "/mp-other.bin\$"}, "status": 200,
  "headers": {"ETag": "\"0123456789abcdef0123456789abcdef-1\"", "x-amz-checksum-crc32c": "AAAAAA=="}},
 {"match": {"method": "HEAD", "path": "/mp-versioned.bin\$", "query": "versionId=."}, "stall_ms": 1},
 {"match": {"method": "POST", "path": "/pipe-bad.bin\$", "query": "uploadId=",
            "headers": {"x-amz-checksum-crc32c": "^(?!$(b64_re "$WANT_BIG")\$)"}}, "status": 400, "body": "$BADDIGEST"},
 {"match": {"method": "PUT", "path": "/mp-badpart.bin\$", "query": "partNumber=2",
            "headers": {"x-amz-checksum-crc32c": "^(?!$(b64_re "$PART2")\$)"}}, "status": 400, "body": "$BADDIGEST"},
 {"match": {"method": "POST", "path": "/mp-badwhole.bin\$", "query": "uploadId=",
            "headers": {"x-amz-checksum-crc32c": "^(?!$(b64_re "$WANT_BIG")\$)"}}, "status": 400, "body": "$BADDIGEST"},
 {"match": {"method": "POST", "path": "/parts-bad.bin\$", "query": "uploadId=",
            "headers": {"x-amz-checksum-crc32c": "^(?!$(b64_re "$WANT_BIG")\$)"}}, "status": 400, "body": "$BADDIGEST"},
 {"match": {"method": "POST", "path": "/parts-[a-z]*.bin\$", "query": "uploadId=",
            "headers": {"x-amz-checksum-crc32c": "^$(b64_re "$WANT_BIG")\$"}}, "stall_ms": 1},
 {"match": {"method": "PUT", "path": "/\\\\.xtstore-crc-probe-"}, "status": 403,
  "body": "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"}]
EOF
if ! PE=$(XTSTORE_SERVER_OWNER_PID=$$ "$FAULTPROXY_SH" start "$PROXY" "$ME" "$PROXY/rules.json"); then
  fail "faultproxy did not start in front of moto (AWS's answers)"
  finish
fi
probe "$PE" "$MA" "$MS" -- mp "$B" aws-mp.bin big.bin 5242880
expect_rc 0 "moto+aws: a multipart upload begun as the host begins passes AWS's checksum type check"
check "moto+aws: ... no part refused" test "$(grep -c 'aws-mp.bin rule=0 status 400' "$PROXY/log")" -eq 0
check "moto+aws: ... every part with its CRC-32C" test "$(printf '%s\n' "$OUT" | grep -c 'crc32c=[0-9a-f]\{8\}$')" -eq 3
check "moto+aws: ... the object has the whole CRC-32C ($WANT_BIG, got $(field crc32c))" test "$(field crc32c)" = "$WANT_BIG"
probe "$PE" "$MA" "$MS" -- put "$B" aws-pipe.bin big.bin pipe trailer
expect_rc 0 "moto+aws: a 12 MB pipe's parts with their CRC-32Cs pass the same check"
check "moto+aws: ... the pipe's object holds the bytes" same_object "$ME" "$MA" "$MS" "$B" aws-pipe.bin big.bin
probe "$PE" "$MA" "$MS" -- mp "$B" type-refused.bin big.bin 5242880
expect_rc 0 "moto+proxy: a part whose checksum type is refused goes again without checksums"
check "moto+proxy: ... the refusal is a fallback, said once" \
  test "$(printf '%s\n' "$OUT" | grep -c 'refused the x-amz-checksum headers (InvalidRequest: Checksum Type mismatch')" -eq 1
check "moto+proxy: ... not called a body mismatch" lacks "$OUT" "does not match the bytes"
check "moto+proxy: ... the object holds the bytes" same_object "$ME" "$MA" "$MS" "$B" type-refused.bin big.bin
probe "$PE" "$MA" "$MS" -- mp "$B" mp-replaced.bin big.bin 5242880
expect_rc 0 "moto+proxy: an upload whose object was replaced before the HEAD is still committed"
check "moto+proxy: ... its HEAD asked If-Match (412)" grep -q '^HEAD .*/mp-replaced.bin rule=2 status 412' "$PROXY/log"
check "moto+proxy: ... and reports no CRC-32C (got $(field crc32c))" test "$(field crc32c)" = "-"
check "moto+proxy: ... nor a size" test "$(field size)" = 0
probe "$PE" "$MA" "$MS" -- mp "$B" mp-other.bin big.bin 5242880
expect_rc 0 "moto+proxy: a HEAD that shows another object (If-Match ignored) does not fail the upload"
check "moto+proxy: ... whose CRC-32C is not reported (got $(field crc32c))" test "$(field crc32c)" = "-"
check "moto+proxy: ... said" contains "$OUT" "the object read back is another one"
probe "$PE" "$MA" "$MS" -- mp "$V" mp-versioned.bin big.bin 5242880
expect_rc 0 "moto+proxy: multipart into a versioned bucket"
check "moto+proxy: ... the HEAD asked for the version the completion made" \
  grep -q "^HEAD /$V/mp-versioned.bin rule=4 stall_ms 1 pass 200" "$PROXY/log"
check "moto+proxy: ... and reports its CRC-32C ($WANT_BIG, got $(field crc32c))" test "$(field crc32c)" = "$WANT_BIG"
probe "$PE" "$MA" "$MS" -- put "$B" pipe-bad.bin big.bin pipe crc=bad
expect_rc 1 "moto+proxy: a pipe's completion carries the CRC-32C the caller gave, refused when wrong"
check "moto+proxy: ... a retryable body mismatch" contains "$OUT" "checksum does not match the bytes that arrived: BadDigest"
probe "$PE" "$MA" "$MS" -- put "$B" pipe-bad.bin big.bin pipe crc
expect_rc 0 "moto+proxy: ... and the right one passes"
probe "$PE" "$MA" "$MS" -- mp "$B" mp-badpart.bin big.bin 5242880 bad-part=2
expect_rc 1 "moto+proxy: a part's wrong CRC-32C goes as given and is refused"
check "moto+proxy: ... part 2 failed, retryable" contains "$OUT" "part 2 failed (retryable)"
probe "$PE" "$MA" "$MS" -- mp "$B" mp-badwhole.bin big.bin 5242880 bad-whole
expect_rc 1 "moto+proxy: a wrong whole-object CRC-32C at complete is refused"
check "moto+proxy: ... as a body mismatch" contains "$OUT" "checksum does not match the bytes that arrived: BadDigest"
# A probe answered neither 2xx nor a checksum mismatch (a role that may
# write only some keys: AccessDenied) proves nothing: the MD5 is kept, and
# the uploads that asked for it do not fail.
probe "$PE" "$MA" "$MS" -- put "$B" probe-denied.bin mid.bin crc + crc + crc
expect_rc 0 "moto+proxy: puts whose checksum probe is refused with AccessDenied succeed"
check "moto+proxy: ... said once" \
  test "$(grep -c 'whether the server checks x-amz-checksum-crc32c is not known (the probe got HTTP 403 AccessDenied): the MD5 is kept' "$T/.out")" -eq 1
check "moto+proxy: ... every put summed by MD5 (MRMRMR, got $(md5_trace))" test "$(md5_trace)" = MRMRMR
check "moto+proxy: ... the object holds the bytes" same_object "$ME" "$MA" "$MS" "$B" probe-denied.bin mid.bin
# Parts streamed from a source of known length (objects over 5 GiB): the
# completion carries the CRC-32C the caller gave, else the one taken while
# the parts streamed (each part's own goes as an aws-chunked trailer).
if [ -x "$PARTS_PROBE" ]; then
  PROBE_BIN=$PARTS_PROBE probe "$PE" "$MA" "$MS" -- put "$B" parts-bad.bin big.bin parts crc=bad
  expect_rc 1 "moto+proxy: streamed parts: a wrong CRC-32C given goes to the completion and is refused"
  check "moto+proxy: ... as a body mismatch" contains "$OUT" "checksum does not match the bytes that arrived: BadDigest"
  PROBE_BIN=$PARTS_PROBE probe "$PE" "$MA" "$MS" -- put "$B" parts-crc.bin big.bin parts crc
  expect_rc 0 "moto+proxy: streamed parts with the CRC-32C given"
  check "moto+proxy: ... the completion carried it" grep -q "^POST /$B/parts-crc.bin rule=9 stall_ms 1" "$PROXY/log"
  check "moto+proxy: ... reported back ($WANT_BIG, got $(field crc32c))" test "$(field crc32c)" = "$WANT_BIG"
  check "moto+proxy: ... the object holds the bytes" same_object "$ME" "$MA" "$MS" "$B" parts-crc.bin big.bin
  PROBE_BIN=$PARTS_PROBE probe "$PE" "$MA" "$MS" payload-signing=streaming -- put "$B" parts-trailer.bin big.bin parts trailer
  expect_rc 0 "moto+proxy: streamed parts, the CRC-32C asked for while streaming"
  check "moto+proxy: ... the completion carried the CRC taken from the parts" \
    grep -q "^POST /$B/parts-trailer.bin rule=9 stall_ms 1" "$PROXY/log"
  check "moto+proxy: ... the object holds the bytes" same_object "$ME" "$MA" "$MS" "$B" parts-trailer.bin big.bin
fi
cleanup_hook

# ---- Swift -----------------------------------------------------------------
need_server swift
read -r SA SS < "$SERVER_DIR/keys"
SE=$ENDPOINT
probe "$SE" "$SA" "$SS" -- mb "$B"
expect_rc 0 "swift: make bucket $B"
probe "$SE" "$SA" "$SS" -- put "$B" crc.bin small.bin crc md5
expect_rc 0 "swift: a put with CRC-32C (ignored) and MD5 (checked)"
check "swift: no CRC-32C reported (Swift keeps none)" test "$(field crc32c)" = "-"
probe "$SE" "$SA" "$SS" -- put "$B" bad-md5.bin small.bin md5=bad
expect_rc 1 "swift: a wrong Content-MD5 is refused"
check "swift: BadDigest is a retryable checksum error naming the key" \
  contains "$OUT" "$B/bad-md5.bin': the server refused the body, its checksum does not match the bytes that arrived: BadDigest"
probe "$SE" "$SA" "$SS" -- mp "$B" mp.bin big.bin 5242880
expect_rc 0 "swift: multipart with part checksums completes"
check "swift: the refused part checksums in the XML are said once" \
  test "$(printf '%s\n' "$OUT" | grep -c "refused the parts' ChecksumCRC32C")" -eq 1
check "swift: the multipart object holds the bytes" same_object "$SE" "$SA" "$SS" "$B" mp.bin big.bin
# A known MD5 goes as Content-MD5: a part's on its UploadPart, the whole
# object's only on a single PutObject (never on a part).
probe "$SE" "$SA" "$SS" -- mp "$B" mp-md5.bin big.bin 5242880 md5
expect_rc 0 "swift: multipart with each part's MD5"
probe "$SE" "$SA" "$SS" -- mp "$B" mp-md5.bin big.bin 5242880 md5 bad-part=2
expect_rc 1 "swift: a part's wrong MD5 is refused"
check "swift: ... BadDigest, for part 2" contains "$OUT" "part 2 failed (retryable): s3: UploadPart"
probe "$SE" "$SA" "$SS" -- put "$B" pipe-md5.bin big.bin pipe md5
expect_rc 0 "swift: a 12 MB pipe with its whole MD5 (not sent on any part)"
check "swift: ... the object holds the bytes" same_object "$SE" "$SA" "$SS" "$B" pipe-md5.bin big.bin
probe "$SE" "$SA" "$SS" -- put "$B" pipe-md5s.bin small.bin pipe md5=bad
expect_rc 1 "swift: a small pipe's wrong whole MD5 goes on its PutObject and is refused"
# A body changed in flight: Swift's MD5 check refuses it.
mkdir -p "$T/proxy2"
PROXY="$T/proxy2"
echo '[{"match": {"method": "PUT", "path": "/flipped.bin$"}, "flip_request_body_byte": 1000}]' > "$PROXY/rules.json"
if PE=$(XTSTORE_SERVER_OWNER_PID=$$ "$FAULTPROXY_SH" start "$PROXY" "$SE" "$PROXY/rules.json"); then
  probe "$PE" "$SA" "$SS" -- put "$B" flipped.bin small.bin md5
  expect_rc 1 "swift+flip: a body changed in flight is refused"
  check "swift+flip: the error says the checksum did not match and is retryable" \
    contains "$OUT" "checksum does not match the bytes that arrived: BadDigest"
  cleanup_hook
else
  fail "faultproxy did not start in front of Swift"
fi

# ---- s3rver ----------------------------------------------------------------
need_server s3rver
RE=$ENDPOINT
probe "$RE" S3RVER S3RVER -- mb "$B"
probe "$RE" S3RVER S3RVER -- put "$B" crc.bin small.bin crc md5
expect_rc 0 "s3rver: a put with checksums (ignored) works"
check "s3rver: no CRC-32C reported" test "$(field crc32c)" = "-"
probe "$RE" S3RVER S3RVER -- mp "$B" mp.bin big.bin 5242880
expect_rc 0 "s3rver: multipart with part checksums works"
check "s3rver: the multipart object holds the bytes" same_object "$RE" S3RVER S3RVER "$B" mp.bin big.bin
# s3rver ignores x-amz-checksum-crc32c: it takes the probe, and every put
# keeps its MD5.
probe "$RE" S3RVER S3RVER -- put "$B" crc3.bin mid.bin crc + crc + crc
expect_rc 0 "s3rver: three puts with a known CRC-32C through one handle"
check "s3rver: each is summed by MD5 (MRMRMR, got $(md5_trace))" test "$(md5_trace)" = MRMRMR
check "s3rver: the probe finds no check" \
  test "$(grep -c 'the server does not check x-amz-checksum-crc32c' "$T/.out")" -eq 1
check "s3rver: ... and its object does not remain" test "$(probe_objects "$RE" S3RVER S3RVER "$B")" = 0
# ... and the MD5 catches a body changed in flight, which s3rver stores.
PROXY="$T/proxy4"
mkdir -p "$PROXY"
echo '[{"match": {"method": "PUT", "path": "/flipped.bin$"}, "flip_request_body_byte": "middle"}]' > "$PROXY/rules.json"
if PE=$(XTSTORE_SERVER_OWNER_PID=$$ "$FAULTPROXY_SH" start "$PROXY" "$RE" "$PROXY/rules.json"); then
  probe "$PE" S3RVER S3RVER -- put "$B" flipped.bin small.bin crc
  expect_rc 1 "s3rver+flip: a body changed in flight fails the put"
  check "s3rver+flip: ... the ETag is not the MD5 sent, retryable" \
    contains "$OUT" "flipped.bin': other bytes arrived than were sent (ETag "
  check "s3rver+flip: ... and the wrong object is removed" contains "$OUT" "; removed, and an object it replaced is gone"
  check "s3rver+flip: ... the proxy flipped a byte" grep -q '^PUT .*/flipped.bin.*flip_request_body_byte [0-9]* (0x' "$PROXY/log"
  cleanup_hook
else
  fail "faultproxy did not start in front of s3rver"
fi

finish
