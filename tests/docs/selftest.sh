#!/usr/bin/env bash
# The path checker must fail on a known-bad tree and pass on a good one:
#   selftest.sh PYTHON3 CHECK_PATHS_PY
set -euo pipefail
py=$1 checker=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "selftest: $*" >&2; exit 1; }

mkdir -p "$tmp/host" "$tmp/docs" "$tmp/tests/conformance/data"
echo 'int x;' >"$tmp/host/real.c"
printf '/* see host/real.c */\nint y;\n' >"$tmp/host/other.c"
echo '{}' >"$tmp/tests/conformance/data/real.json"
mkdir -p "$tmp/build"          # a build tree: generated, never checked
: >"$tmp/build/CMakeCache.txt"
cat >"$tmp/tests/CMakeLists.txt" <<'CMAKE'
add_test(NAME docs/paths COMMAND true)
add_test(NAME host/${name} COMMAND true)
CMAKE
cat >"$tmp/docs/good.md" <<'MD'
The code is in host/real.c (also `host/*.c`, `host/NAME.c`, real.c),
[host/real.c](../host/real.c); user files such as ./site and xt_config.yaml
are not the repository's; `ctest -R docs/paths` names a test, as does
`ctest -R host/layers` (host/${name}).
The data: real.json, data/real.json, conformance/, conformance/data/; keys
such as foo/blob1.txt and prefix/ are the store's, build/compile_commands.json
and build-asan/ the build's.
MD

"$py" "$checker" "$tmp" >"$tmp/out" 2>&1 || fail "good tree refused: $(cat "$tmp/out")"

# Each line one hole: a path; DESIGN; a link and a bare source name; a path
# on a line that names ctest (not a test); bare data names; a relative
# folder that is not there.
cat >"$tmp/docs/bad.md" <<'MD'
One line: host/gone.c.
As the DESIGN section 2 says, see [x](missing.md) and `lost.h`.
Run `ctest --test-dir build`, then look at tests/gone.
Its inputs: gone.json and lost.yaml.
The cases are in conformance/gone/.
MD
printf '/* the body is in host/away.h */\nint z;\n' >>"$tmp/host/other.c"
rc=0
"$py" "$checker" "$tmp" >"$tmp/out" 2>&1 || rc=$?
cat "$tmp/out"
[ "$rc" -eq 1 ] || fail "exit $rc on a bad tree, expected 1"
for want in "docs/bad.md:1: names 'host/gone.c', which does not exist" \
            "docs/bad.md:2: names 'DESIGN section', which does not exist" \
            "docs/bad.md:2: names 'missing.md', which does not exist" \
            "docs/bad.md:2: names 'lost.h', which does not exist" \
            "docs/bad.md:3: names 'tests/gone', which does not exist" \
            "docs/bad.md:4: names 'gone.json', which does not exist" \
            "docs/bad.md:4: names 'lost.yaml', which does not exist" \
            "docs/bad.md:5: names 'conformance/gone/', which does not exist" \
            "host/other.c:3: names 'host/away.h', which does not exist"; do
  grep -qxF "$want" "$tmp/out" || fail "missing: $want"
done
[ "$(wc -l <"$tmp/out")" -eq 9 ] || fail "expected exactly 9 misses"
echo "selftest: ok"
