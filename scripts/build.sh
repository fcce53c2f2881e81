#!/usr/bin/env bash
# Configure and build one tree the way demo.sh or test.sh needs it:
#   scripts/build.sh [--configure-only] MODE DIR [SANITIZER_TREE]
#     demo  the library, the CLI and the plugins; no tests
#     asan  everything and the suite, built with ASan+UBSan
#     test  everything and the suite; SANITIZER_TREE's suite, if given, runs
#           as one of its tests
# Each mode sets every cache entry that decides what is built and tested, so
# whatever configured DIR before (the other script, or a user's -D) does not
# carry over: demo.sh then test.sh tests, test.sh then demo.sh builds the
# demo. tests/scripts/ configures a tree through this script to check it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
usage="usage: scripts/build.sh [--configure-only] demo|asan|test DIR [SANITIZER_TREE]"
configure_only=0
if [[ "${1:-}" == "--configure-only" ]]; then
  configure_only=1
  shift
fi
if (($# < 2)); then
  echo "$usage" >&2
  exit 2
fi
mode=$1
dir=$2

# The suite as it is in the tree: its own signing vectors, and valgrind's
# test whenever valgrind is installed (-U drops a path cached, or disabled,
# by an earlier configure).
suite=(-DXTSTORE_TESTS=ON -DXTSTORE_VECTORS_DIR="$root/tests/vectors" -UVALGRIND)
case "$mode" in
  demo) opts=(-DXTSTORE_TESTS=OFF -DXTSTORE_SANITIZE=OFF) ;;
  asan) opts=("${suite[@]}" -DXTSTORE_SANITIZE=ON -DXTSTORE_SANITIZER_SUITE=) ;;
  test) opts=("${suite[@]}" -DXTSTORE_SANITIZE=OFF
              -DXTSTORE_SANITIZER_SUITE="${3:-}") ;;
  *) echo "$usage" >&2; exit 2 ;;
esac

mkdir -p "$dir"
log=$dir/xtstore-configure.log
cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${opts[@]}" >"$log" 2>&1 ||
  { cat "$log" >&2; exit 1; }
if ((configure_only)); then
  exit 0
fi
# The build's own status (pipefail): the filter never fails the pipeline.
rc=0
cmake --build "$dir" -j "$(nproc)" 2>&1 |
  { grep -Ev '^\[ *[0-9]+%\]|^Consolidate|^Scanning' || true; } || rc=$?
exit "$rc"
