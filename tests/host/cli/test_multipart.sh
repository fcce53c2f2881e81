#!/usr/bin/env bash
# The transfer engine end to end (host/engine/multipart.c). Two halves:
#
#   test_multipart.sh XTSTORE_BIN SRC_DIR BIN_DIR           (ctest integration/test_multipart)
#     the local provider: a 200 MiB file up through cp -r in 8 MiB parts, 4
#     at a time, and copied to another service by ranged gets: every byte
#     arrives, the CLI's peak RSS stays under 64 MiB (not checked under
#     ASan), no staged upload is left; bad `multipart` settings are refused.
#   test_multipart.sh XTSTORE_BIN SRC_DIR BIN_DIR servers   (ctest host/multipart-servers)
#     s3rver and Azurite (the ctest fixtures): 40 MiB in 5 MiB parts to
#     each, and from one to the other; every byte arrives.
. "$(dirname "$0")/lib.sh" "$@"

MODE=${4:-local}
LIMIT_KIB=$((64 * 1024))

# make_file PATH MIB: MIB MiB of incompressible bytes.
make_file() {
  python3 -c '
import os, sys
chunk = os.urandom(1 << 20)
with open(sys.argv[1], "wb") as out:
    for i in range(int(sys.argv[2])):
        out.write(chunk[i:] + chunk[:i])' "$1" "$2"
}

# assert_no_staging DIR: the local provider keeps no upload under DIR.
assert_no_staging() {
  check
  local left
  left=$(find "$1" -path '*/.xtstore/uploads/*' 2>/dev/null | head -n 3)
  [ -z "$left" ] || fail "staged uploads left behind: $left"
}

local_half() {
  cat > "$CONFIG" <<EOF
external-services:
  scratch: {type: "storage", provider: "local", path: "$T/data",
            multipart: {threshold: 16M, part-size: 8M, concurrency: 4}, }
  other: {type: "storage", provider: "local", path: "$T/data2"}
xt-services:
  storage: "scratch"
EOF
  xt mb scratch:box
  xt mb other:box
  mkdir -p tree
  make_file tree/big.bin 200
  check
  [ "$(stat -c %s tree/big.bin)" -eq $((200 << 20)) ] || fail "no 200 MiB file"

  # Up from a file: its parts read by offset, 4 at a time.
  peak_rss -v cp -r tree scratch:box/
  assert_rc 0
  assert_bounded
  assert_err_has "service 'scratch': blob 'box/big.bin': multipart upload, 25 parts of 8388608 bytes, 4 at a time"
  assert_same tree/big.bin "$T/data/box/big.bin"
  xt stat scratch:box/big.bin --json
  assert_json_eq 'j["size"]' "$((200 << 20))"
  assert_no_staging "$T/data"

  # To another service: each part fetched by its own ranged get
  # (other's default threshold, 64 MiB, is passed too).
  peak_rss -v cp scratch:box/big.bin other:box/big.bin
  assert_rc 0
  assert_bounded
  assert_err_has "service 'other': blob 'box/big.bin': multipart upload, 25 parts of 8388608 bytes, 4 at a time"
  xt get other:box/big.bin got.bin
  assert_rc 0
  assert_same tree/big.bin got.bin
  rm -f got.bin
  assert_no_staging "$T/data2"

  # Under the threshold: one put, no parts.
  mkdir -p small
  head -c $((1 << 20)) tree/big.bin > small/small.bin
  xt -v cp -r small scratch:box/
  assert_rc 0
  assert_err_lacks "multipart"
  assert_same small/small.bin "$T/data/box/small.bin"

  # Settings are checked when the service opens.
  sed -i 's/part-size: 8M/part-size: 8X/' "$CONFIG"
  xt ls scratch:box
  assert_rc 3
  assert_err_has "service 'scratch': multipart.part-size: '8X' is not a size"
}

# need_dir VAR NAME: the state dir of a ctest fixture server, or skip.
need_dir() {
  local d=${!1:-}
  if [ -z "$d" ] || [ ! -f "$d/endpoint" ]; then
    echo "skip: $1 is not set or $2 is not running (run through ctest: host/multipart-servers)"
    exit 77
  fi
  cat "$d/endpoint"
}

servers_half() {
  local s3e aze b="xtmp$$" svc
  s3e=$(need_dir XTSTORE_S3RVER_DIR s3rver) || exit 77
  aze=$(need_dir XTSTORE_AZURITE_DIR azurite) || exit 77
  export AZ_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
  cat > "$CONFIG" <<EOF
external-services:
  s3: {type: "storage", provider: "s3", endpoint: "$s3e", region: "us-east-1",
       access-key: "S3RVER", secret-key: "S3RVER", addressing: "path",
       payload-signing: "unsigned",
       multipart: {threshold: 8M, part-size: 5M}, }
  az: {type: "storage", provider: "azure", account: "devstoreaccount1",
       key: "\$env:AZ_KEY", endpoint: "$aze",
       multipart: {threshold: 8M, part-size: 5M}, }
xt-services:
  storage: "s3"
EOF
  mkdir -p tree
  make_file tree/obj.bin 40
  for svc in s3 az; do
    xt mb "$svc:$b"
    assert_rc 0
    xt -v cp -r tree "$svc:$b/"
    assert_rc 0
    assert_err_has "service '$svc': blob '$b/obj.bin': multipart upload, 8 parts of 5242880 bytes"
    xt get "$svc:$b/obj.bin" got.bin
    assert_rc 0
    assert_same tree/obj.bin got.bin
    rm -f got.bin
  done
  # Between the two: ranged gets of one, parts of the other.
  xt -v cp "s3:$b/obj.bin" "az:$b/copy.bin"
  assert_rc 0
  assert_err_has "service 'az': blob '$b/copy.bin': multipart upload, 8 parts"
  xt get "az:$b/copy.bin" got.bin
  assert_same tree/obj.bin got.bin
  for svc in s3 az; do
    xt rb --force "$svc:$b"
  done
}

if [ "$MODE" = servers ]; then
  servers_half
else
  local_half
fi
finish
