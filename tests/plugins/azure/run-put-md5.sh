#!/bin/sh
# azure/put-md5: the Content-MD5 that Put Blob answers reaches the put
# result (STORE_CKSUM_MD5). The conformance suite's integrity_put case
# checks every reported MD5 against the bytes' own; here it must also say
# that put results reported one.
#   run-put-md5.sh CONFORMANCE_BIN AZSAS_BIN PLUGIN_SO
set -u
out=$("$(dirname "$0")/run-conformance.sh" key "$@" --filter integrity_put 2>&1)
rc=$?
printf '%s\n' "$out"
[ "$rc" -eq 0 ] || exit "$rc"
if ! printf '%s\n' "$out" |
    grep -q '\[integrity_put\] .*put results reported:.* MD5'; then
  echo "FAIL: put results of Put Blob carry no MD5" >&2
  exit 1
fi
