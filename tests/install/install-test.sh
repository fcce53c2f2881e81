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
cc -std=c11 -Wall -Wextra -Werror $flags -shared -o "$tmp/store-tiny.so" \
   "$src/tiny_plugin.c" $libs || fail "plugin build with pkg-config"

# The installed CLI (no environment) finds the installed local plugin and
# accepts the new one.
cd "$tmp"
env -u XTSTORE_PLUGIN_PATH HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/home/.config" \
  XDG_DATA_HOME="$tmp/home/.local/share" "$p/bin/xtstore" plugins >"$tmp/plugins.out" 2>&1 ||
  { cat "$tmp/plugins.out"; fail "installed xtstore plugins"; }
grep -q "$p/$libdir/xtstore/plugins/store-local.so" "$tmp/plugins.out" ||
  { cat "$tmp/plugins.out"; fail "installed CLI did not find the installed store-local.so"; }
"$p/bin/xtstore" plugins check "$tmp/store-tiny.so" >"$tmp/check.out" 2>&1 ||
  { cat "$tmp/check.out"; fail "plugins check of the pkg-config-built plugin"; }
grep -q "tiny" "$tmp/check.out" || fail "plugins check output lacks the plugin name"

# xtstore-sdk.pc: a plugin on the installed SDK links with pkg-config alone,
# and only it pulls libcurl and the rest (xtstore-plugin.pc does not).
[[ -e "$p/$libdir/pkgconfig/xtstore-sdk.pc" ]] || fail "missing xtstore-sdk.pc"
pkg-config --libs xtstore-plugin | grep -q -- '-lcurl' &&
  fail "xtstore-plugin.pc links libcurl (only the SDK needs it)"
sflags=$(pkg-config --cflags xtstore-plugin xtstore-sdk)
slibs=$(pkg-config --libs xtstore-plugin xtstore-sdk)
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror -DTINY_SDK $xflags $sflags -shared \
   -o "$tmp/store-tinysdk.so" "$src/tiny_plugin.c" $slibs ||
  fail "SDK plugin build with pkg-config"
"$p/bin/xtstore" plugins check "$tmp/store-tinysdk.so" >"$tmp/check2.out" 2>&1 ||
  { cat "$tmp/check2.out"; fail "plugins check of the SDK plugin"; }
nm -D --defined-only "$tmp/store-tinysdk.so" | grep -q sdk_crc32c &&
  fail "the SDK's symbols are exported by the plugin"
grep -q "tiny" "$tmp/check2.out" || fail "plugins check output lacks tiny"

# xtstore.pc: a program that embeds libxtstore builds and runs with it.
[[ -e "$p/$libdir/pkgconfig/xtstore.pc" ]] || fail "missing xtstore.pc"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror $xflags $(pkg-config --cflags xtstore) \
   -o "$tmp/embed" "$src/embed.c" $(pkg-config --libs xtstore) ||
  fail "embedder build with pkg-config"
"$tmp/embed" | grep -q "embedded xtstore" || fail "the embedder did not run"
echo "install-test: ok ($p)"
