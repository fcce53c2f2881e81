#!/bin/sh
# The integrity cases can fail: run them against the shim provider
# (tests/host/cli/shim_plugin.c) wrapping the local one, broken each way it
# can be, and require a failing exit status and a line naming each case
# and the reason; then against the unbroken shim, where they must pass.
#   run-broken.sh CONFORMANCE_BINARY SHIM_SO LOCAL_SO
set -u
bin=${1:?usage: run-broken.sh CONFORMANCE SHIM_SO LOCAL_SO}
shim=${2:?usage: run-broken.sh CONFORMANCE SHIM_SO LOCAL_SO}
local_so=${3:?usage: run-broken.sh CONFORMANCE SHIM_SO LOCAL_SO}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xtstore-conf-broken.XXXXXX")
trap 'rm -rf "$tmp"' EXIT HUP INT PIPE TERM
unset XTSTORE_CONFIG
bad=0

# run NAME "BREAKING KEYS": the suite's integrity cases, output in $tmp/out.
run() {
  rm -rf "$tmp/root"
  mkdir "$tmp/root"
  cat >"$tmp/xt_config.yaml" <<YAML
providers:
  storage:
    shim: "$shim"
external-services:
  broken: {type: "storage", provider: "shim", inner: "$local_so",
           path: "$tmp/root"$2}
YAML
  "$bin" --config "$tmp/xt_config.yaml" --service broken \
    --filter 'integrity_*' >"$tmp/out" 2>&1
}

# expect_caught NAME "KEYS" REASON: fails, naming both cases and REASON.
expect_caught() {
  run "$1" "$2"
  rc=$?
  if [ "$rc" -eq 0 ]; then
    echo "FAIL: $1: the integrity cases passed a broken plugin" >&2
    cat "$tmp/out" >&2
    bad=1
    return
  fi
  for c in integrity_put integrity_multipart; do
    if ! grep -Eq "\\[$c\\].*($3)" "$tmp/out"; then
      echo "FAIL: $1: exit $rc, but no line names [$c] and /$3/" >&2
      cat "$tmp/out" >&2
      bad=1
      return
    fi
  done
  echo "ok: $1: exit $rc; $(grep -E "\\[integrity_put\\].*($3)" "$tmp/out" | head -1)"
}

expect_caught short ', corrupt-put: "short"' 'bytes'
expect_caught long ', corrupt-put: "long"' 'bytes'
expect_caught flip ', corrupt-put: "flip"' 'CRC-32C|differ'
expect_caught wrong-crc ', report-crc32c: "wrong"' 'CRC-32C'

if run unbroken ''; then
  for c in integrity_put integrity_multipart; do
    grep -q "OK \\] $c\$" "$tmp/out" || {
      echo "FAIL: unbroken: $c did not run and pass" >&2
      cat "$tmp/out" >&2
      bad=1
    }
  done
  [ "$bad" -ne 0 ] || echo "ok: unbroken: the integrity cases pass"
else
  echo "FAIL: unbroken: the integrity cases failed the unbroken shim" >&2
  cat "$tmp/out" >&2
  bad=1
fi
exit "$bad"
