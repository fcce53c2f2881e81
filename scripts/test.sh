#!/usr/bin/env bash
# Install what is missing, build (normal and ASan+UBSan) and run the whole
# test suite with ctest. Exit status is the suite's. The sanitizer build's
# suite runs as one test of the main suite, so ctest's summary is the last
# thing printed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

"$root/scripts/setup.sh" --test

echo "== build (ASan+UBSan): build-asan/" >&2
"$root/scripts/build.sh" asan "$root/build-asan"
echo "== build: build/" >&2
"$root/scripts/build.sh" test "$root/build" "$root/build-asan"

echo "== test" >&2
# A tree without tests is a failure, not "No tests were found!!!" and 0.
exec ctest --test-dir "$root/build" --output-on-failure --no-tests=error \
  -j 2 --timeout 900
