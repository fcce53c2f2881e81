#!/usr/bin/env bash
# SigV4 checked end to end by a server that recomputes it: moto (ctest
# fixture `moto`, IAM auth on, see tests/servers/README.md).
#   test_moto.sh XTSTORE_BIN PLUGIN_DIR
# With the right key pair: buckets, puts (aws-chunked signed streaming,
# UNSIGNED-PAYLOAD, multipart from stdin), gets, a listing, a server-side
# copy, deletes, and snapshots in a versioned bucket pass (deleting a
# snapshot that is the current version keeps the object, its metadata and
# the user's tags; /usr/bin/aws checks the tags). With a wrong
# secret: exit 6, a message naming the service and the auth failure, and
# no secret anywhere in the output. Listings avoid '/' in the query and
# keys avoid non-ASCII bytes (moto's signature bugs).
. "$(dirname "$0")/s3lib.sh" "$@"

need_server moto
read -r AK SK < "$SERVER_DIR/keys"
WRONG="wrong-${SK}"
config_begin
write_service m "$ENDPOINT" "$AK" "$SK"
write_service unsigned "$ENDPOINT" "$AK" "$SK" ', payload-signing: "unsigned"'
write_service mv "$ENDPOINT" "$AK" "$SK" ', versioned-buckets: "true"'
write_service bad "$ENDPOINT" "$AK" "$WRONG"
write_service nokey "$ENDPOINT" "AKIANOSUCHKEY0000000" "$SK"
write_service eu "$ENDPOINT" "$AK" "$SK" ', region: "eu-west-1"'
B=$(bucket moto)
V=$(bucket motov)

xt mb "m:$B"
expect_rc 0 "CreateBucket signed with the right key"

head -c 3000000 /dev/urandom > big.bin
printf 'hello moto\n' > small.txt
xt put small.txt "m:$B/dir/small.txt" --meta owner=moto --content-type text/x-moto
expect_rc 0 "PutObject, aws-chunked signed body (http endpoint default)"
xt put big.bin "m:$B/big.bin"
expect_rc 0 "PutObject of 3 MB in 46 signed chunks"
xt put big.bin "unsigned:$B/big-unsigned.bin"
expect_rc 0 "PutObject with UNSIGNED-PAYLOAD"
head -c 10000000 /dev/urandom > stream.bin
cat stream.bin | "$XT_BIN" --config "$CONFIG" put - "m:$B/stream.bin" > "$T/.out" 2> "$T/.err"
RC=$?; OUT=$(cat "$T/.out"); ERR=$(cat "$T/.err"); LAST="put - (stdin)"
expect_rc 0 "put from stdin (unknown length: multipart, 8 MiB parts)"

# key : local file with the expected bytes
n=0
for pair in dir/small.txt:small.txt big.bin:big.bin \
            big-unsigned.bin:big.bin stream.bin:stream.bin; do
  n=$((n + 1))
  key=${pair%%:*}
  xt get "m:$B/$key" "got$n"
  expect_rc 0 "GetObject $key"
  check "$key is byte-identical" cmp -s "got$n" "${pair#*:}"
done
xt stat "m:$B/dir/small.txt" --json
expect_rc 0 "HeadObject"
check "metadata and content type kept" \
  contains "$OUT" '"owner": "moto"'
check "content type kept" contains "$OUT" '"content_type": "text/x-moto"'

xt ls -r "m:$B"
expect_rc 0 "ListObjectsV2 (no delimiter: no %2F for moto's bug)"
check "listing has every key" \
  test "$(printf '%s\n' "$OUT" | sort | tr '\n' ' ')" = \
  "big-unsigned.bin big.bin dir/small.txt stream.bin "

xt cp "m:$B/dir/small.txt" "m:$B/copy.txt"
expect_rc 0 "CopyObject (server-side)"
xt cat "m:$B/copy.txt"
check "copy has the bytes" test "$OUT" = "hello moto"
xt rm "m:$B/copy.txt"
expect_rc 0 "DeleteObject"
xt stat "m:$B/copy.txt"
expect_rc 4 "deleted object is not found"

# --- a wrong secret ---------------------------------------------------------
xt ls -r "bad:$B"
expect_rc 6 "wrong secret: exit 6 (auth)"
check "the message names the service" contains "$ERR" "service 'bad'"
check "the message says why" contains "$ERR" "SignatureDoesNotMatch"
check "no secret in the output" lacks "$OUT$ERR" "$SK"
xt put small.txt "bad:$B/denied.txt"
expect_rc 6 "wrong secret on a streamed put: exit 6"
check "no secret in the put's output" lacks "$OUT$ERR" "$SK"
xt stat "bad:$B/dir/small.txt"
expect_rc 6 "wrong secret on HEAD (no error body): exit 6"
xt ls "nokey:"
expect_rc 6 "unknown access key: exit 6"
check "unknown key is named as such" contains "$ERR" "InvalidAccessKeyId"

# --- snapshots: object versions ----------------------------------------------
xt snapshot "m:$B/big.bin"
expect_rc 7 "snapshot in an unversioned bucket: unsupported (exit 7)"
check "says how to enable versioning" contains "$ERR" "enable versioning on bucket $B"

xt mb "mv:$V"
expect_rc 0 "CreateBucket + PutBucketVersioning (versioned-buckets)"
printf 'version one' > v1.txt
printf 'the second version' > v2.txt
xt put v1.txt "mv:$V/doc.txt"
xt snapshot "mv:$V/doc.txt"
expect_rc 0 "snapshot: the current version, tagged"
ID=$OUT
check "snapshot id is a version id" test -n "$ID"
xt put v2.txt "mv:$V/doc.txt"
xt cat --snapshot "$ID" "mv:$V/doc.txt"
check "the snapshot keeps version one" test "$OUT" = "version one"
xt cat "mv:$V/doc.txt"
check "the blob is version two" test "$OUT" = "the second version"
xt ls -r --snapshots "mv:$V"
check "ls --snapshots shows the blob and its snapshot" \
  test "$(printf '%s\n' "$OUT" | grep -c "doc.txt")" -eq 2
xt rm "mv:$V/doc.txt"
expect_rc 5 "delete of a blob with snapshots is refused"
xt rm --snapshot "$ID" "mv:$V/doc.txt"
expect_rc 0 "delete only the snapshot"
xt cat --snapshot "$ID" "mv:$V/doc.txt"
expect_rc 4 "the deleted snapshot is gone"
xt rm "mv:$V/doc.txt"
expect_rc 0 "without snapshots the blob deletes (all its versions)"
xt ls -r --snapshots "mv:$V"
check "nothing left, no version either" test -z "$OUT"

# The snapshot of a blob never overwritten is its current version: deleting
# it must leave the blob (bytes, type, metadata, other tags) as it was.
aws_moto() {
  env -u AWS_CA_BUNDLE AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$SK" \
    AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null /usr/bin/aws \
    --endpoint-url "$ENDPOINT" "$@"
}
xt put v1.txt "mv:$V/cur.txt" --meta owner=alice --content-type text/x-cur
expect_rc 0 "put cur.txt with metadata"
if [ -x /usr/bin/aws ]; then
  aws_moto s3api put-object-tagging --bucket "$V" --key cur.txt \
    --tagging 'TagSet=[{Key=team,Value=blue}]' > "$T/.tag" 2>&1
  check "a tag of the user's own (aws s3api)" test $? -eq 0
fi
xt snapshot "mv:$V/cur.txt"
expect_rc 0 "snapshot of cur.txt"
ID=$OUT
xt rm --snapshot "$ID" "mv:$V/cur.txt"
expect_rc 0 "delete the snapshot that is the current version"
xt cat "mv:$V/cur.txt"
expect_rc 0 "the blob is still there"
check "with its bytes" test "$OUT" = "version one"
xt stat --json "mv:$V/cur.txt"
check "with its metadata" contains "$OUT" '"owner": "alice"'
check "with its content type" contains "$OUT" '"content_type": "text/x-cur"'
xt cat --snapshot "$ID" "mv:$V/cur.txt"
expect_rc 4 "the deleted snapshot is gone"
xt ls -r --snapshots "mv:$V"
check "ls --snapshots: the blob alone" test "$OUT" = "cur.txt"
if [ -x /usr/bin/aws ]; then
  aws_moto s3api get-object-tagging --bucket "$V" --key cur.txt \
    --output text > "$T/.tag" 2>&1
  check "the user's tag stays" grep -q "team.*blue" "$T/.tag"
  check "the snapshot tag is gone" eval '! grep -q xtstore-snapshot "$T/.tag"'
fi
xt rm "mv:$V/cur.txt"
expect_rc 0 "and it deletes without --with-snapshots"

# --- outside us-east-1: CreateBucket carries a LocationConstraint -------------
E=$(bucket motoeu)
xt mb "eu:$E"
expect_rc 0 "CreateBucket signed for eu-west-1"
if [ -x /usr/bin/aws ]; then
  aws_moto s3api get-bucket-location --bucket "$E" \
    --output text > "$T/.loc" 2>&1
  check "the bucket is in eu-west-1 (LocationConstraint sent)" \
    test "$(cat "$T/.loc")" = eu-west-1
else
  echo "note: /usr/bin/aws absent: bucket location not checked"
fi
xt rb "eu:$E"
expect_rc 0 "DeleteBucket in eu-west-1"

xt rb --force "m:$B"
expect_rc 0 "DeleteBucket after emptying it (DeleteObjects)"
xt rb "mv:$V"
expect_rc 0 "DeleteBucket of the emptied versioned bucket"
finish
