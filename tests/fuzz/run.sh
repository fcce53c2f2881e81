#!/usr/bin/env bash
# Build and run the libFuzzer targets of tests/fuzz (see README.md):
#   run.sh build DIR                  configure DIR with clang, build the targets
#   run.sh run DIR TARGET SECONDS     fuzz TARGET for SECONDS from its seed corpus
# A crash, a leak, a sanitizer report or a timeout of one input fails the run;
# the input is kept as DIR/crash-TARGET-* and named in the output.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() { echo "usage: run.sh build DIR | run.sh run DIR TARGET SECONDS" >&2; exit 2; }

case "${1:-}" in
  build)
    (($# == 2)) || usage
    dir=$2
    cc=${XTSTORE_FUZZ_CC:-clang}
    command -v "$cc" >/dev/null 2>&1 ||
      { echo "run.sh: $cc is missing (scripts/setup.sh --test installs clang)" >&2; exit 1; }
    mkdir -p "$dir"
    CC=$cc cmake -S "$here" -B "$dir" -DXTSTORE_FUZZ=ON >"$dir/configure.log" 2>&1 ||
      { cat "$dir/configure.log" >&2; exit 1; }
    cmake --build "$dir" -j "$(nproc)" 2>&1 | { grep -Ev '^\[ *[0-9]+%\]' || true; }
    exit "${PIPESTATUS[0]}"
    ;;
  run)
    (($# == 4)) || usage
    dir=$2 target=$3 seconds=$4
    bin=$dir/fuzz_$target
    [[ -x "$bin" ]] || { echo "run.sh: $bin is not built (run.sh build $dir)" >&2; exit 1; }
    [[ -d "$here/corpus/$target" ]] || { echo "run.sh: no seed corpus $here/corpus/$target" >&2; exit 1; }
    # The corpus grows while fuzzing: a copy, never the seeds in the tree.
    work=$dir/corpus-$target
    rm -rf "$work"
    mkdir -p "$work"
    cp "$here/corpus/$target"/* "$work/"
    log=$dir/fuzz-$target.log
    if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
         -print_final_stats=1 -artifact_prefix="$dir/crash-$target-" \
         "$work" >"$log" 2>&1; then
      echo "FAIL: fuzz_$target found a failing input; its report:" >&2
      grep -E -A 30 '==[0-9]+==ERROR|runtime error|SUMMARY|Test unit written|deadly signal|timeout' "$log" | head -n 60 >&2
      exit 1
    fi
    tail -n 12 "$log" | grep -E 'stat::number_of_executed_units|stat::peak_rss_mb|DONE' || true
    echo "fuzz_$target: no failure in $seconds s"
    ;;
  *) usage ;;
esac
