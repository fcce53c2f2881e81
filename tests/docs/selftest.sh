#!/usr/bin/env bash
# The path checker must fail on a known-bad tree and pass on a good one:
#   selftest.sh PYTHON3 CHECK_PATHS_PY
set -euo pipefail
py=$1 checker=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "selftest: $*" >&2; exit 1; }

mkdir -p "$tmp/host" "$tmp/docs"
echo 'int x;' >"$tmp/host/real.c"
printf '/* see host/real.c */\nint y;\n' >"$tmp/host/other.c"
cat >"$tmp/docs/good.md" <<'MD'
The code is in host/real.c (also `host/*.c`, `host/NAME.c`, real.c),
[host/real.c](../host/real.c); user files such as ./site and xt_config.yaml
are not the repository's; `ctest -R docs/paths` names a test.
MD

"$py" "$checker" "$tmp" >"$tmp/out" 2>&1 || fail "good tree refused: $(cat "$tmp/out")"

cat >"$tmp/docs/bad.md" <<'MD'
One line: host/gone.c.
As the DESIGN section 2 says, see [x](missing.md) and `lost.h`.
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
            "host/other.c:3: names 'host/away.h', which does not exist"; do
  grep -qxF "$want" "$tmp/out" || fail "missing: $want"
done
[ "$(wc -l <"$tmp/out")" -eq 5 ] || fail "expected exactly 5 misses"
echo "selftest: ok"
