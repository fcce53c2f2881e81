#!/bin/sh
# The integrity cases can fail, each by the check that targets the
# breakage: run them against the shim provider (tests/host/cli/
# shim_plugin.c) wrapping the local one, broken each way it can be, and
# require a failing exit status and, for each case, the failure line of
# that check -- matched on the check's own words, never on the case's
# context (key names, sizes); then against the unbroken shim, where they
# must pass. A check's failure ends its case, so the line is the first
# finding.
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

# The failure lines of the checks (conf_integrity.c), as ERE. The host's
# own verification of a put, seen through the suite's check of the put's
# status (conf.h EXPECT_RC):
host_size="put 9 known bytes to '[^']*': expected STORE_OK, got STORE_E_[A-Z]+ \\(.*: the provider reports [0-9]+ bytes stored for the 9 bytes sent"
host_size_undeclared="put [0-9]+ bytes of undeclared length to '[^']*': expected STORE_OK, got STORE_E_[A-Z]+ \\(.*: the provider reports [0-9]+ bytes stored for the [0-9]+ bytes sent"
host_crc="put 9 known bytes to '[^']*': expected STORE_OK, got STORE_E_IO \\(.*: the store reports CRC-32C [0-9a-f]{8} for the bytes stored, the bytes sent have [0-9a-f]{8}"
# The suite's own: expect_result, expect_entry, expect_stored.
result_size="multipart_complete: result size [0-9]+, but [0-9]+ bytes were put \\(a short or long body stored\\)"
result_crc="multipart_complete: result CRC-32C [0-9a-f]{8}, but the bytes put have [0-9a-f]{8}"
result_md5="[^:]+: result MD5 [0-9a-f]{32}, but the bytes put have [0-9a-f]{32}"
entry_crc="get's on_entry: entry CRC-32C [0-9a-f]{8}, but the bytes put have [0-9a-f]{8}"
entry_md5="get's on_entry: content_md5 [0-9a-f]{32}, but the bytes put have [0-9a-f]{32}"
bytes="get '[^']*': [0-9]+ bytes, [0-9]+ put; the bytes differ from offset 0 \\(other bytes stored\\)"

# expect_caught NAME "KEYS" PUT_CHECK PUT_RE MULTIPART_CHECK MULTIPART_RE:
# fails; integrity_put's failure is PUT_RE, integrity_multipart's
# MULTIPART_RE (the *_CHECK names say which check that is); a
# MULTIPART_CHECK of "passes" requires integrity_multipart to pass (a
# breakage its parts, of declared lengths, never meet).
expect_caught() {
  run "$1" "$2"
  rc=$?
  if [ "$rc" -eq 0 ]; then
    echo "FAIL: $1: the integrity cases passed a broken plugin" >&2
    cat "$tmp/out" >&2
    bad=1
    return
  fi
  for pair in "integrity_put|$3|$4" "integrity_multipart|$5|$6"; do
    c=${pair%%|*}
    rest=${pair#*|}
    check=${rest%%|*}
    re=${rest#*|}
    if [ "$check" = passes ]; then
      if ! grep -q "OK \\] $c\$" "$tmp/out"; then
        echo "FAIL: $1: [$c] did not run and pass" >&2
        cat "$tmp/out" >&2
        bad=1
        return
      fi
      echo "ok: $1: [$c] passes (not broken for it)"
      continue
    fi
    line=$(grep -E "\\[$c\\] " "$tmp/out" | head -1)
    if ! printf '%s\n' "$line" | grep -Eq "\\[$c\\] ($re)"; then
      echo "FAIL: $1: exit $rc, but [$c] was not caught by $check" \
           "(/$re/); its first finding:" >&2
      printf '%s\n' "${line:-(none)}" >&2
      cat "$tmp/out" >&2
      bad=1
      return
    fi
    echo "ok: $1: [$c] caught by $check: $(printf '%s\n' "$line" |
      sed 's/^.*\] //' | cut -c1-200)"
  done
}

expect_caught short ', corrupt-put: "short"' \
  "the host's size check (put status)" "$host_size" \
  "expect_result (size)" "$result_size"
expect_caught long ', corrupt-put: "long"' \
  "the host's size check (put status)" "$host_size" \
  "expect_result (size)" "$result_size"
expect_caught flip ', corrupt-put: "flip"' \
  "the host's CRC-32C check (put status)" "$host_crc" \
  "expect_result (CRC-32C)" "$result_crc"
expect_caught wrong-crc ', report-crc32c: "wrong"' \
  "the host's CRC-32C check (put status)" "$host_crc" \
  "expect_result (CRC-32C)" "$result_crc"
expect_caught wrong-entries ', report-crc32c: "wrong-entries"' \
  "expect_entry (CRC-32C)" "$entry_crc" \
  "expect_entry (CRC-32C)" "$entry_crc"
expect_caught short-undeclared ', corrupt-put: "short-unknown"' \
  "the host's size check (put status, undeclared length)" \
  "$host_size_undeclared" passes ''
expect_caught wrong-md5 ', report-md5: "wrong"' \
  "expect_result (MD5)" "$result_md5" \
  "expect_result (MD5)" "$result_md5"
expect_caught wrong-md5-entries ', report-md5: "wrong-entries"' \
  "expect_entry (MD5)" "$entry_md5" \
  "expect_entry (MD5)" "$entry_md5"
expect_caught flip-hidden ', corrupt-put: "flip-hidden"' \
  "expect_stored (bytes read back)" "$bytes" \
  "expect_stored (bytes read back)" "$bytes"

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
