#!/usr/bin/env bash
# Install what is missing, build (normal and ASan+UBSan) and run the whole
# test suite with ctest. Exit status is the suite's. The sanitizer build's
# suite runs as one test of the main suite, so ctest's summary is the last
# thing printed.
# XTSTORE_CONFIGURE_ONLY=DIR configures DIR/build-asan and DIR/build as the
# trees of the same names would be, then lists the tests (the same ctest
# command, with -N) instead of running them: no setup.sh, no build
# (tests/scripts/ checks the scripts that way).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

top=$root
configure=()
list=()
if [[ -n "${XTSTORE_CONFIGURE_ONLY:-}" ]]; then
  top=$XTSTORE_CONFIGURE_ONLY
  configure=(--configure-only)
  list=(-N)
else
  "$root/scripts/setup.sh" --test
fi

echo "== build (ASan+UBSan): build-asan/" >&2
"$root/scripts/build.sh" "${configure[@]}" asan "$top/build-asan"
echo "== build: build/" >&2
"$root/scripts/build.sh" "${configure[@]}" test "$top/build" "$top/build-asan"

echo "== test" >&2
# A tree without tests is a failure, not "No tests were found!!!" and 0.
exec ctest --test-dir "$top/build" --output-on-failure --no-tests=error \
  -j 2 --timeout 900 "${list[@]}"
