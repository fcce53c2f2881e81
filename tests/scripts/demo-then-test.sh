#!/usr/bin/env bash
# scripts/demo.sh then scripts/test.sh in one clone, configure only: the
# test tree must have tests although demo.sh configured it without, and the
# ctest of test.sh must fail on a tree without tests rather than pass.
# The trees are configured by scripts/build.sh, the one place both scripts
# take their options from, so what is checked is what the scripts do.
#   demo-then-test.sh SOURCE_DIR WORK_DIR CTEST
set -euo pipefail
src=$1
work=$2
ctest=$3
tree=$work/build

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

rm -rf "$work"
mkdir -p "$work"

"$src/scripts/build.sh" --configure-only demo "$tree"
# ctest's own "No tests were found!!!" exits 0 unless told otherwise.
if "$ctest" --test-dir "$tree" --no-tests=error >"$work/no-tests.log" 2>&1; then
  fail "ctest --no-tests=error passed on a tree with no tests"
fi
grep -q -- '--no-tests=error' "$src/scripts/test.sh" ||
  fail "scripts/test.sh runs ctest without --no-tests=error"

"$src/scripts/build.sh" --configure-only test "$tree"
n=$("$ctest" --test-dir "$tree" -N | sed -n 's/^Total Tests: //p')
[[ "${n:-0}" -gt 0 ]] ||
  fail "a tree configured by demo.sh, then by test.sh, lists no tests"
echo "ok: demo then test configures $n tests"
rm -rf "$work"
