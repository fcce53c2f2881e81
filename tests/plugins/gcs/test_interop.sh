#!/usr/bin/env bash
# Interoperability with clients nobody here wrote, through the GCS test
# server: xtstore reads what rclone's gcs backend and Google's Node client
# (@google-cloud/storage) wrote, and they read what xtstore wrote: bytes,
# content type and metadata (the Node client; rclone 1.60 keeps no GCS
# metadata). Skipped (77) only when a client is not installed.
. "$(dirname "$0")/gcslib.sh" "$@"

command -v rclone > /dev/null || { echo "skip: rclone is not installed (apt rclone)"; exit 77; }
command -v node > /dev/null || { echo "skip: node is not installed"; exit 77; }
NODE_JS="$SRC_DIR/tests/plugins/gcs/interop_node.js"
B=$GCS_B

cat > "$T/rclone.conf" <<CONF
[g]
type = google cloud storage
service_account_file = $GCS_DIR/sa.json
endpoint = $GCS_E/storage/v1/
token_url = $GCS_E/token
project_number = xt-test
bucket_policy_only = true
CONF
rcl() { env -u AWS_CA_BUNDLE rclone --config "$T/rclone.conf" --retries 1 \
          --low-level-retries 1 "$@"; }

xt mb "gcs:$B"
assert_rc 0
head -c 5000000 /dev/urandom > big.bin
head -c 20000000 /dev/urandom > huge.bin
printf 'small text\n' > small.txt

# --- xtstore writes, rclone and the Node client read ---------------------------
xt put --content-type text/plain --meta owner=xt --meta purpose=interop \
  small.txt "gcs:$B/xt/small.txt"
assert_rc 0
xt put big.bin "gcs:$B/xt/big.bin"
assert_rc 0
xt put huge.bin "gcs:$B/xt/huge.bin"      # a resumable session
assert_rc 0
run rcl copy "g:$B/xt" from-rclone
assert_rc 0
for f in small.txt big.bin huge.bin; do
  assert_same "$f" "from-rclone/$f"
done
run rcl md5sum "g:$B/xt"
assert_rc 0
check
[ "$(sort -k2 <<< "$OUT")" = "$(md5sum big.bin huge.bin small.txt | sort -k2)" ] ||
  fail "rclone's md5sum of what xtstore wrote differs: $OUT"
run node "$NODE_JS" read "$B" xt/small.txt from-node.txt
assert_rc 0
assert_same small.txt from-node.txt
check
[ "$OUT" = '{"contentType":"text/plain","metadata":{"owner":"xt","purpose":"interop"}}' ] ||
  fail "the Node client sees other metadata: $OUT"
run node "$NODE_JS" read "$B" xt/huge.bin from-node.bin
assert_rc 0
assert_same huge.bin from-node.bin

# --- rclone and the Node client write, xtstore reads ---------------------------
run rcl copyto big.bin "g:$B/rclone/big.bin"
assert_rc 0
run rcl copyto huge.bin "g:$B/rclone/huge.bin"
assert_rc 0
run node "$NODE_JS" write "$B" node/meta.txt small.txt text/x-note color=blue \
  tier=gold
assert_rc 0
run node "$NODE_JS" write "$B" node/resumable.bin big.bin application/x-test \
  k=v --resumable
assert_rc 0
# gzip: true stores the object compressed (Content-Encoding: gzip). GCS (and
# the test server) would decompress it for a client that does not accept
# gzip, while x-goog-hash describes the stored bytes: xtstore asks for them.
seq 1 20000 > text.txt
run node "$NODE_JS" write "$B" node/text.gz text.txt text/plain --gzip
assert_rc 0
xt get "gcs:$B/node/text.gz" text.got
assert_rc 0
check
gunzip -c < text.got | cmp -s - text.txt ||
  fail "xtstore's get of a gzip object is not the stored gzip of the file"
[ "$(stat -c %s text.got)" -lt "$(stat -c %s text.txt)" ] ||
  fail "xtstore's get of a gzip object came decompressed"
curl -sS -o text.plain "$GCS_E/storage/v1/b/$B/o/node%2Ftext.gz?alt=media" \
  -H "Authorization: Bearer $(gcs_user_token)"
cmp -s text.plain text.txt ||
  fail "the server did not transcode a gzip object for a client without Accept-Encoding: gzip"
run node "$NODE_JS" read "$B" node/text.gz text.node
assert_rc 0
assert_same text.txt text.node

for k in rclone/big.bin:big.bin rclone/huge.bin:huge.bin \
         node/meta.txt:small.txt node/resumable.bin:big.bin; do
  xt get "gcs:$B/${k%%:*}" got.bin
  assert_rc 0
  assert_same "${k#*:}" got.bin
  rm -f got.bin
done
xt stat "gcs:$B/node/meta.txt"
assert_rc 0
assert_out_has "content-type: text/x-note"
assert_out_has "  color=blue"
assert_out_has "  tier=gold"
xt stat "gcs:$B/node/resumable.bin"
assert_rc 0
assert_out_has "content-type: application/x-test"
assert_out_has "  k=v"
xt ls -r "gcs:$B"
assert_rc 0
assert_out "node/meta.txt
node/resumable.bin
node/text.gz
rclone/big.bin
rclone/huge.bin
xt/big.bin
xt/huge.bin
xt/small.txt"

finish
