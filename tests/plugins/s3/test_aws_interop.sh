#!/usr/bin/env bash
# Interop with the real AWS CLI (Debian's awscli v2, /usr/bin/aws) on s3rver:
#   test_aws_interop.sh XTSTORE_BIN PLUGIN_DIR
# What `xtstore put` writes (--meta, --content-type, a key that needs
# encoding, a multipart upload from stdin), `aws s3api get-object` and
# `head-object` read back with the same bytes, type and metadata; what
# `aws s3api put-object` writes, `xtstore get` reads byte-identical and
# `xtstore stat --json` shows with its metadata.
. "$(dirname "$0")/s3lib.sh" "$@"

AWS=/usr/bin/aws
if [ ! -x "$AWS" ]; then
  echo "skip: $AWS is not installed (apt install awscli): no interop check"
  exit 77
fi
need_server s3rver
config_begin
write_service s3 "$ENDPOINT" S3RVER S3RVER  # the default configuration
cat >> "$CONFIG" <<EOF
  anon: {type: "storage", provider: "s3", endpoint: "$ENDPOINT", anonymous: "true", addressing: "path"}
EOF
B=$(bucket interop)

# aws ARGS...: /usr/bin/aws s3api on the fixture; $RC, $OUT, $ERR.
aws() {
  env -u AWS_CA_BUNDLE AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER \
    AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null \
    "$AWS" --endpoint-url "$ENDPOINT" s3api "$@" > "$T/.out" 2> "$T/.err"
  RC=$?
  OUT=$(cat "$T/.out")
  ERR=$(cat "$T/.err")
  LAST="aws s3api $*"
}
json() { # json FILE PYTHON-EXPR(d): print a value of a JSON document
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

xt mb "s3:$B"
expect_rc 0 "xtstore mb"

# --- xtstore writes, aws reads ------------------------------------------------
head -c 1500000 /dev/urandom > data.bin
KEY='dir/a key+with=odd&chars.bin'
xt put data.bin "s3:$B/$KEY" --meta owner=xtstore --meta color=blue \
  --content-type application/x-interop
expect_rc 0 "xtstore put with --meta and --content-type"
aws get-object --bucket "$B" --key "$KEY" from-xt.bin
expect_rc 0 "aws get-object of xtstore's object"
check "aws reads the same bytes" cmp -s from-xt.bin data.bin
aws head-object --bucket "$B" --key "$KEY"
expect_rc 0 "aws head-object"
cp "$T/.out" head.json
check "aws sees the content type" \
  test "$(json head.json "d['ContentType']")" = application/x-interop
check "aws sees the metadata" \
  test "$(json head.json "sorted(d['Metadata'].items())")" = \
  "[('color', 'blue'), ('owner', 'xtstore')]"

head -c 9000000 /dev/urandom > stream.bin
cat stream.bin | "$XT_BIN" --config "$CONFIG" put - "s3:$B/stream.bin" \
  > "$T/.out" 2> "$T/.err"
RC=$?; OUT=$(cat "$T/.out"); ERR=$(cat "$T/.err"); LAST="xtstore put - (stdin)"
expect_rc 0 "xtstore put from stdin (multipart: 8 MiB + rest)"
aws get-object --bucket "$B" --key stream.bin from-xt-stream.bin
expect_rc 0 "aws get-object of the multipart object"
check "multipart object: the same bytes" cmp -s from-xt-stream.bin stream.bin

# --- aws writes, xtstore reads ------------------------------------------------
head -c 700000 /dev/urandom > aws.bin
aws put-object --bucket "$B" --key "from aws/obj.bin" --body aws.bin \
  --content-type text/x-from-aws --metadata origin=awscli,n=42
expect_rc 0 "aws put-object with metadata"
xt get "s3:$B/from aws/obj.bin" got-aws.bin
expect_rc 0 "xtstore get of aws's object"
check "xtstore reads the same bytes" cmp -s got-aws.bin aws.bin
xt stat "s3:$B/from aws/obj.bin" --json
expect_rc 0 "xtstore stat --json"
printf '%s' "$OUT" > stat.json
check "xtstore sees aws's metadata" \
  test "$(json stat.json "sorted(d['metadata'].items())")" = \
  "[('n', '42'), ('origin', 'awscli')]"
check "xtstore sees aws's content type" \
  test "$(json stat.json "d['content_type']")" = text/x-from-aws
check "xtstore sees the size" test "$(json stat.json "d['size']")" = 700000

# s3rver serves unsigned requests too: the anonymous mode reads the object
xt get "anon:$B/from aws/obj.bin" anon.bin
expect_rc 0 "anonymous (unsigned) get"
check "anonymous get: the same bytes" cmp -s anon.bin aws.bin

# --- each lists the other's keys ---------------------------------------------
aws list-objects-v2 --bucket "$B"
printf '%s' "$OUT" > list.json
check "aws lists xtstore's keys" \
  test "$(json list.json "' | '.join(sorted(o['Key'] for o in d['Contents']))")" = \
  "dir/a key+with=odd&chars.bin | from aws/obj.bin | stream.bin"
xt ls -r "s3:$B"
check "xtstore lists aws's key" contains "$OUT" "from aws/obj.bin"

xt rb --force "s3:$B"
expect_rc 0 "xtstore rb --force"
finish
