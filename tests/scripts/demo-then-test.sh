#!/usr/bin/env bash
# The README's two commands in one clone, run for real in their configure-
# only mode (XTSTORE_CONFIGURE_ONLY=WORK_DIR: the trees are WORK_DIR/build
# and WORK_DIR/build-asan; no setup.sh, nothing built, no test run):
#   - the tree scripts/demo.sh configures has no tests;
#   - scripts/test.sh after it configures tests into that tree (its own
#     exec ctest line, given -N in this mode, lists them);
#   - the ctest command of test.sh, as it ran (less -N), fails rather than
#     passes on a tree with no tests (one demo.sh configured afresh).
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
mkdir -p "$work/bin"

# Stand-ins first on PATH: a configure-only mode that builds, or a ctest of
# test.sh that would run the suite, fails here at once instead of doing it.
# The ctest stand-in records the arguments test.sh gave it.
real_cmake=$(command -v cmake)
cat >"$work/bin/cmake" <<EOF
#!/usr/bin/env bash
for a in "\$@"; do
  [[ "\$a" != --build ]] || { echo "cmake --build in configure-only mode" >&2; exit 1; }
done
exec "$real_cmake" "\$@"
EOF
cat >"$work/bin/ctest" <<EOF
#!/usr/bin/env bash
printf '%s\n' "\$@" >"$work/ctest.args"
for a in "\$@"; do
  [[ "\$a" != -N ]] || exec "$ctest" "\$@"
done
echo "ctest without -N in configure-only mode" >&2
exit 1
EOF
chmod +x "$work/bin/cmake" "$work/bin/ctest"
export PATH="$work/bin:$PATH"
export XTSTORE_CONFIGURE_ONLY=$work

tests_in() {
  "$ctest" --test-dir "$1" -N | sed -n 's/^Total Tests: //p'
}

run() {  # run SCRIPT LOG
  "$src/scripts/$1" >"$work/$2" 2>&1 || {
    cat "$work/$2" >&2
    fail "scripts/$1 failed in its configure-only mode"
  }
}

run demo.sh demo.log
[[ -f "$tree/CMakeCache.txt" ]] || fail "scripts/demo.sh did not configure $tree"
[[ "$(tests_in "$tree")" == 0 ]] || fail "the tree scripts/demo.sh configured has tests"

run test.sh test.log
[[ -f "$work/ctest.args" ]] || fail "scripts/test.sh did not run ctest"
mapfile -t args <"$work/ctest.args"
n=$(sed -n 's/^Total Tests: //p' "$work/test.log")
[[ "${n:-0}" -gt 0 ]] ||
  fail "a tree configured by demo.sh, then by test.sh, lists no tests"
[[ "$(tests_in "$tree")" == "$n" ]] || fail "test.sh's ctest did not list $tree"

export XTSTORE_CONFIGURE_ONLY=$work/empty
run demo.sh demo-empty.log
empty=$work/empty/build
[[ "$(tests_in "$empty")" == 0 ]] || fail "the tree scripts/demo.sh configured has tests"
cmd=()
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    -N) ;;
    --test-dir) cmd+=(--test-dir "$empty"); i=$((i + 1)) ;;
    *) cmd+=("${args[i]}") ;;
  esac
done
[[ " ${args[*]} " == *" --test-dir $tree "* ]] ||
  fail "the ctest of scripts/test.sh is not on $tree: ctest ${args[*]}"
# ctest's own "No tests were found!!!" exits 0 unless told otherwise.
if "$ctest" "${cmd[@]}" >"$work/no-tests.log" 2>&1; then
  fail "the ctest of scripts/test.sh (ctest ${cmd[*]}) passed on a tree with no tests"
fi
grep -q "No tests were found" "$work/no-tests.log" ||
  { cat "$work/no-tests.log" >&2; fail "ctest ${cmd[*]} failed for another reason"; }
echo "ok: demo.sh then test.sh lists $n tests; test.sh's ctest fails on a tree with none"
rm -rf "$work"
