#!/usr/bin/env bash
# usage: install-test.sh BUILD_DIR SOURCE_DIR [CFLAGS]
# CFLAGS: extra flags for what links the installed SDK archive or library
# (the sanitizer tree's, whose installed code is instrumented).
set -euo pipefail
build=$1
src=$2
xflags=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install-test: FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; fail "cmake --install failed"; }
p=$tmp/prefix
libdir=""
for d in lib lib64 lib/*-linux-gnu; do
  if [[ -e "$p/$d/libxtstore.so" ]]; then libdir=$d; break; fi
done
[[ -n "$libdir" ]] || fail "libxtstore.so not installed"
for f in bin/xtstore include/xtstore/store_interface.h include/xtstore/xtstore.h \
         "$libdir/xtstore/plugins/store-local.so" "$libdir/pkgconfig/xtstore-plugin.pc"; do
  [[ -e "$p/$f" ]] || fail "missing $f"
done
cmp "$src/../../plugin-api/store_interface.h" "$p/include/xtstore/store_interface.h" ||
  fail "installed header differs"

# A vendor's build: the installed header and pkg-config, nothing else.
export PKG_CONFIG_PATH="$p/$libdir/pkgconfig"
flags=$(pkg-config --cflags xtstore-plugin)
libs=$(pkg-config --libs xtstore-plugin)
[[ -e "$(pkg-config --variable=includedir xtstore-plugin)/store_interface.h" ]] || fail "pkg-config includedir: $flags"
# shellcheck disable=SC2086
ex=$p/share/doc/xtstore/examples
for f in PLUGIN_GUIDE.md examples/dirstore/store_dirstore.c examples/dirstore/README.md \
         examples/memstore/store_memstore.c; do
  [[ -e "$p/share/doc/xtstore/$f" ]] || fail "missing share/doc/xtstore/$f"
done
# PLUGIN_GUIDE §1 quotes the example's table: the quote is the file's text.
python3 - "$p/share/doc/xtstore/PLUGIN_GUIDE.md" "$ex/dirstore/store_dirstore.c" <<'PY' ||
import re, sys
guide, src = (open(f).read() for f in sys.argv[1:3])
s1 = guide[guide.index("## 1."):guide.index("## 2.")]
quote = re.search(r"```c\n(.*?)```", s1, re.S).group(1)
sys.exit(0 if quote in src else 1)
PY
  fail "PLUGIN_GUIDE.md section 1 quotes other text than store_dirstore.c"
mkdir "$tmp/good" "$tmp/broken"
cc -std=c11 -Wall -Wextra -Werror $flags -shared -o "$tmp/good/store-dirstore.so" \
   "$ex/dirstore/store_dirstore.c" $libs || fail "example build with pkg-config"

# The installed CLI (no environment) finds the installed local plugin and
# accepts the new one.
cd "$tmp"
env -u XTSTORE_PLUGIN_PATH HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/home/.config" \
  XDG_DATA_HOME="$tmp/home/.local/share" "$p/bin/xtstore" plugins >"$tmp/plugins.out" 2>&1 ||
  { cat "$tmp/plugins.out"; fail "installed xtstore plugins"; }
grep -q "$p/$libdir/xtstore/plugins/store-local.so" "$tmp/plugins.out" ||
  { cat "$tmp/plugins.out"; fail "installed CLI did not find the installed store-local.so"; }
"$p/bin/xtstore" plugins check "$tmp/good/store-dirstore.so" >"$tmp/check.out" 2>&1 ||
  { cat "$tmp/check.out"; fail "plugins check of the pkg-config-built plugin"; }
grep -q "dirstore" "$tmp/check.out" || fail "plugins check output lacks the plugin name"

# The kit: check the example with a service (open, list, close), then the
# installed conformance suite passes it, skipping what it does not declare,
# and fails a copy that loses a byte on get, with a got/expected line.
mkdir "$tmp/root"
cat >"$tmp/svc.yaml" <<EOF
providers:
  storage:
    dirstore: "store-dirstore"
external-services:
  dir: {type: "storage", provider: "dirstore", path: "$tmp/root"}
EOF
[[ -x "$p/bin/xtstore-conformance" ]] || fail "missing bin/xtstore-conformance"
"$p/bin/xtstore" plugins check "$tmp/good/store-dirstore.so" --config "$tmp/svc.yaml" \
  --service dir >"$tmp/check.out" 2>&1 ||
  { cat "$tmp/check.out"; fail "plugins check --config of the example"; }
for want in "capabilities: containers,threadsafe" "limits:       max_key_length=127" \
            "key path (required)" "open:         ok" "list:         ok" "close:        ok"; do
  grep -qF "$want" "$tmp/check.out" || { cat "$tmp/check.out"; fail "plugins check --config lacks '$want'"; }
done
"$p/bin/xtstore" plugins check "$tmp/good/store-dirstore.so" --config "$tmp/svc.yaml" \
  --service dir --container nope >"$tmp/check.out" 2>&1 &&
  fail "plugins check --container of a missing container passed"
grep -q "store-dirstore.so.*list: .*container 'nope'" "$tmp/check.out" ||
  { cat "$tmp/check.out"; fail "plugins check: no line naming the file and the failed list"; }
"$p/bin/xtstore" --json plugins check "$tmp/good/store-dirstore.so" --config "$tmp/svc.yaml" \
  --service dir >"$tmp/check.json" 2>&1 || { cat "$tmp/check.json"; fail "plugins check --config --json"; }
python3 -c 'import json,sys; o=json.load(open(sys.argv[1]))
sys.exit(not (o["name"] == "dirstore" and o["limits"] == {"max_key_length": 127}
              and [c["check"] for c in o["checks"] if c["ok"]] == ["open", "list", "close"]))' \
  "$tmp/check.json" || { cat "$tmp/check.json"; fail "plugins check --config --json: wrong object"; }
# A service that loads another file is a failed check, and a test that
# cannot start is a setup error (2).
sed 's/"store-dirstore"/"store-local"/' "$tmp/svc.yaml" >"$tmp/other.yaml"
"$p/bin/xtstore" plugins check "$tmp/good/store-dirstore.so" --config "$tmp/other.yaml" \
  --service dir >"$tmp/check.out" 2>&1 && fail "plugins check passed a service that loads another file"
grep -q "store-dirstore.so: open: service 'dir' loads .*store-local.so.*not this file" "$tmp/check.out" ||
  { cat "$tmp/check.out"; fail "plugins check: no line for a service on another file"; }
# ... also when that file has the same plugin name (a copy elsewhere).
sed "s#\"store-dirstore\"#\"$tmp/good/store-dirstore.so\"#" "$tmp/svc.yaml" >"$tmp/abs.yaml"
cp "$tmp/good/store-dirstore.so" "$tmp/store-dirstore.so"
"$p/bin/xtstore" plugins check "$tmp/store-dirstore.so" --config "$tmp/abs.yaml" \
  --service dir >"$tmp/check.out" 2>&1 && fail "plugins check passed a service on a copy of the file"
grep -q "loads $tmp/good/store-dirstore.so for provider 'dirstore', not this file" "$tmp/check.out" ||
  { cat "$tmp/check.out"; fail "plugins check: no line for a service on a copy of the file"; }
rc=0
"$p/bin/xtstore" plugins test "$tmp/good/store-dirstore.so" --config "$tmp/svc.yaml" \
  --service nope >"$tmp/test.out" 2>&1 || rc=$?
[[ $rc == 2 ]] && grep -q "store-dirstore.so: open: service 'nope' is not in the configuration" "$tmp/test.out" ||
  { cat "$tmp/test.out"; fail "plugins test of a missing service: exit $rc, not 2 with one line"; }
"$p/bin/xtstore" plugins test "$tmp/good/store-dirstore.so" --config "$tmp/svc.yaml" \
  --service dir --large-mib 8 >"$tmp/test.out" 2>&1 ||
  { tail -n 40 "$tmp/test.out"; fail "plugins test of the example"; }
grep -q "skip: service lacks STORE_CAP_MULTIPART" "$tmp/test.out" &&
  grep -q "OK.*integrity_put" "$tmp/test.out" ||
  { tail -n 40 "$tmp/test.out"; fail "plugins test: no skip by capability, or integrity_put did not pass"; }
cc -std=c11 -Wall -Wextra -Werror -DBROKEN $flags -shared \
   -o "$tmp/broken/store-dirstore.so" "$ex/dirstore/store_dirstore.c" $libs ||
  fail "broken example build"
rc=0
"$p/bin/xtstore" plugins test "$tmp/broken/store-dirstore.so" --config "$tmp/svc.yaml" \
  --service dir --large-mib 8 >"$tmp/test.out" 2>&1 || rc=$?
[[ $rc == 1 ]] || { tail -n 40 "$tmp/test.out"; fail "plugins test of the broken example exited $rc, not 1"; }
grep -q "^ERROR: \[blobs_small_text\].*expected STORE_OK, got STORE_E_IO.*received 18 of its 19 bytes" \
  "$tmp/test.out" || { grep ERROR "$tmp/test.out"; fail "plugins test: no got/expected line for the broken get"; }
[[ -z "$(ls -A "$tmp/root")" ]] || fail "the suite left containers behind: $(ls "$tmp/root")"

# xtstore-sdk.pc: a plugin on the installed SDK links with pkg-config alone,
# and only it pulls libcurl and the rest (xtstore-plugin.pc does not).
[[ -e "$p/$libdir/pkgconfig/xtstore-sdk.pc" ]] || fail "missing xtstore-sdk.pc"
pkg-config --libs xtstore-plugin | grep -q -- '-lcurl' &&
  fail "xtstore-plugin.pc links libcurl (only the SDK needs it)"
sflags=$(pkg-config --cflags xtstore-plugin xtstore-sdk)
slibs=$(pkg-config --libs xtstore-plugin xtstore-sdk)
# shellcheck disable=SC2086
mkdir "$tmp/sdk"
cc -std=c11 -Wall -Wextra -Werror $xflags $sflags -shared \
   -o "$tmp/sdk/store-dirstore.so" "$ex/dirstore/store_dirstore.c" \
   "$src/sdk_probe.c" $slibs || fail "SDK plugin build with pkg-config"
"$p/bin/xtstore" plugins check "$tmp/sdk/store-dirstore.so" >"$tmp/check2.out" 2>&1 ||
  { cat "$tmp/check2.out"; fail "plugins check of the SDK plugin"; }
nm -D --defined-only "$tmp/sdk/store-dirstore.so" | grep -q sdk_crc32c &&
  fail "the SDK's symbols are exported by the plugin"
grep -q "dirstore" "$tmp/check2.out" || fail "plugins check output lacks dirstore"

# xtstore.pc: a program that embeds libxtstore builds and runs with it.
[[ -e "$p/$libdir/pkgconfig/xtstore.pc" ]] || fail "missing xtstore.pc"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror $xflags $(pkg-config --cflags xtstore) \
   -o "$tmp/embed" "$src/embed.c" $(pkg-config --libs xtstore) ||
  fail "embedder build with pkg-config"
"$tmp/embed" | grep -q "embedded xtstore" || fail "the embedder did not run"
echo "install-test: ok ($p)"
