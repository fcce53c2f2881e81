#!/usr/bin/env bash
# The SDK's OCI signer (through ocisign) against npm oci-common's
# DefaultRequestSigner (through sign-node.js): for the same request, date
# and key, the two Authorization headers must be byte-identical. Requests:
# GET, HEAD, DELETE, a query with escapes, a non-default port, a JSON POST
# and PUT (body headers signed), an empty JSON POST, and object PUTs whose
# bodies are left out; keys: the OCI docs' PKCS#1 key and a fresh PKCS#8 one.
#   test_signer_node.sh OCISIGN NODE_MODULES VECTORS_DIR
set -euo pipefail
ocisign=${1:?usage: test_signer_node.sh OCISIGN NODE_MODULES VECTORS_DIR}
mods=$2 vectors=$3
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null || [[ ! -d $mods/oci-common ]]; then
  # Part of the issue's proof: missing tools fail the test, never skip it.
  echo "FAIL: node or npm oci-common is missing ($mods): run scripts/setup.sh --test"
  exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xtstore-ocisign.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
  -out "$tmp/pkcs8.pem" 2>/dev/null
keyid='ocid1.tenancy.oc1..xttenancy/ocid1.user.oc1..xtuser/aa:bb:cc'
date='Sun, 06 Dec 2026 18:00:00 GMT'
base=https://objectstorage.us-ashburn-1.oraclecloud.com
checked=0 failed=0
check() { # KEYFILE METHOD URL [BODY|-object]
  local ours theirs
  ours=$("$ocisign" "$1" "$keyid" "$2" "$3" "$date" "${@:4}")
  theirs=$(node "$here/sign-node.js" "$mods" "$1" "$keyid" "$2" "$3" \
    "$date" "${@:4}")
  checked=$((checked + 1))
  if [[ "$ours" != "$theirs" ]]; then
    failed=$((failed + 1))
    printf 'DIFFERS: %s %s %s\n  ours:       %s\n  oci-common: %s\n' \
      "$2" "$3" "${4-}" "$ours" "$theirs"
  fi
}
for key in "$vectors/oci/private_key.pem" "$tmp/pkcs8.pem"; do
  check "$key" GET "$base/n/"
  check "$key" GET "$base/n/xtns/b/?compartmentId=ocid1.tenancy.oc1..xt&limit=2&page=a%2Fb"
  check "$key" HEAD "$base/n/xtns/b/bk/o/dir/a%20b%2Bc"
  check "$key" DELETE "http://127.0.0.1:8123/n/xtns/b/bk/o/k?versionId=v1"
  check "$key" GET "$base/n/xtns/b/bk/o?prefix=d%2F&delimiter=%2F&fields=name%2Csize%2Cetag%2Cmd5%2CtimeCreated%2CtimeModified"
  check "$key" POST "$base/n/xtns/b/" '{"name":"bk","compartmentId":"ocid1.tenancy.oc1..xt","metadata":{"a":"1"}}'
  check "$key" POST "$base/n/xtns/b/bk/actions/copyObject" ''
  check "$key" PUT "http://127.0.0.1:8123/n/xtns/b/bk" '{"metadata":{}}'
  check "$key" PUT "$base/n/xtns/b/bk/o/obj" -object
  check "$key" PUT "http://127.0.0.1:8123/n/xtns/b/bk/u/obj?uploadId=u1&uploadPartNum=2" -object
done
echo "$checked request(s) compared, $failed differ"
((failed == 0))
