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
         examples/memstore/store_memstore.c examples/memstore/README.md conformance/README.md; do
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
# The installed docs name installed files, not the source tree's: every
# path they give relative to themselves is there, and no plugin-api/ path.
python3 - "$p/share/doc/xtstore" <<'PY' ||
import os, re, sys
root = sys.argv[1]
bad = []
def source_tree(text, m):  # said to be of the source tree, nearby
    return "source tree" in text[max(0, m.start() - 200):m.end() + 200]
for d, _, files in os.walk(root):
    for f in files:
        if not f.endswith(".md"):
            continue
        text = open(os.path.join(d, f)).read()
        for m in re.finditer(r"`((?:\.\./)*(?:examples|conformance|memstore|dirstore)/[\w./-]*)`", text):
            p = m.group(1)
            if source_tree(text, m):
                continue
            if not any(os.path.exists(os.path.join(b, p))
                       for b in (d, root, os.path.join(root, "examples"))):
                bad.append(f"{f}: {p}")
        for m in re.finditer(r"`(plugin-api/[\w./-]+)`", text):
            if not source_tree(text, m):
                bad.append(f"{f}: {m.group(1)} (a source-tree path)")
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
  fail "the installed docs name files that are not installed"
mkdir "$tmp/good" "$tmp/broken"
cc -std=c11 -Wall -Wextra -Werror $flags -shared -o "$tmp/good/store-dirstore.so" \
   "$ex/dirstore/store_dirstore.c" $libs || fail "example build with pkg-config"

# The installed CLI (no environment) finds the installed local plugin and
# accepts the new one.
cd "$tmp"
env -u XTSTORE_PLUGIN_PATH HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/home/.config" \
  XDG_DATA_HOME="$tmp/home/.local/share" XDG_STATE_HOME="$tmp/home/.local/state" \
  "$p/bin/xtstore" plugins >"$tmp/plugins.out" 2>&1 ||
  { cat "$tmp/plugins.out"; fail "installed xtstore plugins"; }
grep -q "$p/$libdir/xtstore/plugins/store-local.so" "$tmp/plugins.out" ||
  { cat "$tmp/plugins.out"; fail "installed CLI did not find the installed store-local.so"; }
"$p/bin/xtstore" plugins check "$tmp/good/store-dirstore.so" >"$tmp/check.out" 2>&1 ||
  { cat "$tmp/check.out"; fail "plugins check of the pkg-config-built plugin"; }
grep -q '^dirstore 1\.0\.0 (ABI 1\.1)$' "$tmp/check.out" ||
  { cat "$tmp/check.out"; fail "plugins check output lacks the plugin's name line"; }

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
            "key path (required)" "open:         ok" "list:         ok"; do
  grep -qF "$want" "$tmp/check.out" || { cat "$tmp/check.out"; fail "plugins check --config lacks '$want'"; }
done
grep -qx "  closed" "$tmp/check.out" || { cat "$tmp/check.out"; fail "plugins check --config: no 'closed' line"; }
rc=0
"$p/bin/xtstore" plugins check "$tmp/good/store-dirstore.so" --config "$tmp/svc.yaml" \
  --service dir --container nope >"$tmp/check.out" 2>&1 || rc=$?
[[ $rc == 1 ]] || { cat "$tmp/check.out"; fail "plugins check of a missing container exited $rc, not 1"; }
grep -q "store-dirstore.so.*list: .*container 'nope'" "$tmp/check.out" ||
  { cat "$tmp/check.out"; fail "plugins check: no line naming the file and the failed list"; }
"$p/bin/xtstore" --json plugins check "$tmp/good/store-dirstore.so" --config "$tmp/svc.yaml" \
  --service dir >"$tmp/check.json" 2>&1 || { cat "$tmp/check.json"; fail "plugins check --config --json"; }
python3 -c 'import json,sys; o=json.load(open(sys.argv[1]))
sys.exit(not (o["name"] == "dirstore" and o["limits"] == {"max_key_length": 127}
              and [c["check"] for c in o["checks"] if c["ok"]] == ["open", "list"]
              and o["closed"] is True))' \
  "$tmp/check.json" || { cat "$tmp/check.json"; fail "plugins check --config --json: wrong object"; }
# A service that loads another file is a failed check, and a test that
# cannot start is a setup error (2).
sed 's/"store-dirstore"/"store-local"/' "$tmp/svc.yaml" >"$tmp/other.yaml"
rc=0
"$p/bin/xtstore" plugins check "$tmp/good/store-dirstore.so" --config "$tmp/other.yaml" \
  --service dir >"$tmp/check.out" 2>&1 || rc=$?
[[ $rc == 1 ]] || { cat "$tmp/check.out"; fail "plugins check of a service on another file exited $rc, not 1"; }
grep -q "store-dirstore.so: open: service 'dir' loads .*store-local.so.*not this file" "$tmp/check.out" ||
  { cat "$tmp/check.out"; fail "plugins check: no line for a service on another file"; }
# ... also when that file has the same plugin name (a copy elsewhere).
sed "s#\"store-dirstore\"#\"$tmp/good/store-dirstore.so\"#" "$tmp/svc.yaml" >"$tmp/abs.yaml"
cp "$tmp/good/store-dirstore.so" "$tmp/store-dirstore.so"
"$p/bin/xtstore" plugins check "$tmp/store-dirstore.so" --config "$tmp/abs.yaml" \
  --service dir >"$tmp/check.out" 2>&1 && fail "plugins check passed a service on a copy of the file"
grep -q "loads $tmp/good/store-dirstore.so for provider 'dirstore', not this file" "$tmp/check.out" ||
  { cat "$tmp/check.out"; fail "plugins check: no line for a service on a copy of the file"; }
# ... and its line is whole however long the path (no cut at 255 bytes).
deep=$tmp/$(printf 'd%.0s' {1..60})/$(printf 'e%.0s' {1..60})/$(printf 'f%.0s' {1..60})
mkdir -p "$deep"
cp "$tmp/good/store-dirstore.so" "$deep/store-dirstore.so"
"$p/bin/xtstore" plugins check "$deep/store-dirstore.so" --config "$tmp/abs.yaml" \
  --service dir >"$tmp/check.out" 2>&1 && fail "plugins check passed a service on a copy of the file"
grep -q "^xtstore: plugins: $deep/store-dirstore.so: open: service 'dir' loads .* in providers\.storage$" \
  "$tmp/check.out" || { cat "$tmp/check.out"; fail "plugins check: the long line was cut"; }
# A path the example cannot hold is its open's CONFIG error naming 'path'.
sed "s#path: \"$tmp/root\"#path: \"$tmp/$(printf 'p%.0s' {1..2100})\"#" "$tmp/svc.yaml" >"$tmp/long.yaml"
rc=0
"$p/bin/xtstore" plugins check "$tmp/good/store-dirstore.so" --config "$tmp/long.yaml" \
  --service dir >"$tmp/check.out" 2>&1 || rc=$?
[[ $rc == 1 ]] && grep -q "open: .*could not open it: path: longer than 2047 bytes$" "$tmp/check.out" ||
  { cat "$tmp/check.out"; fail "plugins check of a too-long path: exit $rc, no line naming 'path'"; }
rc=0
"$p/bin/xtstore" plugins test "$tmp/good/store-dirstore.so" --config "$tmp/svc.yaml" \
  --service nope >"$tmp/test.out" 2>&1 || rc=$?
[[ $rc == 2 ]] && grep -q "store-dirstore.so: open: service 'nope' is not in the configuration" "$tmp/test.out" ||
  { cat "$tmp/test.out"; fail "plugins test of a missing service: exit $rc, not 2 with one line"; }
# test's checks read SERVICE.yaml alone, as the suite does: a service of
# the user's configuration is not in it.
mkdir -p "$tmp/uhome/.config/xtstore"
sed 's/^  dir:/  mine:/' "$tmp/svc.yaml" >"$tmp/uhome/.config/xtstore/xt_config.yaml"
rc=0
HOME="$tmp/uhome" XDG_CONFIG_HOME="$tmp/uhome/.config" \
  XDG_STATE_HOME="$tmp/uhome/.local/state" "$p/bin/xtstore" plugins test \
  "$tmp/good/store-dirstore.so" --config "$tmp/svc.yaml" --service mine >"$tmp/test.out" 2>&1 || rc=$?
[[ $rc == 2 ]] && grep -q "store-dirstore.so: open: service 'mine' is not in the configuration" "$tmp/test.out" ||
  { cat "$tmp/test.out"; fail "plugins test checked a service of the user's configuration: exit $rc"; }
"$p/bin/xtstore" plugins test "$tmp/good/store-dirstore.so" --config "$tmp/svc.yaml" \
  --service dir --container c >"$tmp/test.out" 2>&1 && fail "plugins test accepted --container"
grep -q "container is an option of 'plugins check'" "$tmp/test.out" ||
  { cat "$tmp/test.out"; fail "plugins test --container: no line saying why"; }
"$p/bin/xtstore" plugins test "$tmp/good/store-dirstore.so" --config "$tmp/svc.yaml" \
  --service dir --large-mib 8 >"$tmp/test.out" 2>&1 ||
  { tail -n 40 "$tmp/test.out"; fail "plugins test of the example"; }
grep -q "skip: service lacks STORE_CAP_MULTIPART" "$tmp/test.out" &&
  grep -q "OK.*integrity_put" "$tmp/test.out" ||
  { tail -n 40 "$tmp/test.out"; fail "plugins test: no skip by capability, or integrity_put did not pass"; }
# variant DIR SED: the example edited by SED, built into DIR (the edit must
# change the file).
variant() {
  mkdir -p "$1"
  sed "$2" "$ex/dirstore/store_dirstore.c" >"$1/store_dirstore.c"
  ! cmp -s "$ex/dirstore/store_dirstore.c" "$1/store_dirstore.c" || fail "variant $1: '$2' changed nothing"
  # shellcheck disable=SC2086
  cc -std=c11 -Wall -Wextra -Werror -g $flags -shared -o "$1/store-dirstore.so" \
     "$1/store_dirstore.c" $libs || fail "variant $1: build"
}
# Without THREADSAFE the host does not copy within the service: the copy
# cases skip, saying so, and the rest pass.
variant "$tmp/nots" 's#STORE_CAP_CONTAINERS | STORE_CAP_THREADSAFE, /\* no state \*/#STORE_CAP_CONTAINERS,#'
"$p/bin/xtstore" plugins test "$tmp/nots/store-dirstore.so" --config "$tmp/svc.yaml" \
  --service dir --large-mib 8 >"$tmp/test.out" 2>&1 ||
  { tail -n 40 "$tmp/test.out"; fail "plugins test of the example without THREADSAFE"; }
grep -q "^\[copy_same_service\] skip: service lacks STORE_CAP_COPY and STORE_CAP_THREADSAFE" "$tmp/test.out" &&
  grep -q "OK.*blobs_missing_container" "$tmp/test.out" ||
  { tail -n 60 "$tmp/test.out"; fail "plugins test without THREADSAFE: copy cases not skipped with a reason"; }
# Without containers (and broken) it cannot be tested: exit 2, not a pass.
variant "$tmp/nocont" 's#STORE_CAP_CONTAINERS | STORE_CAP_THREADSAFE#STORE_CAP_THREADSAFE#;
                       s#if (sink(ud, buf, (size_t)n))#if (sink(ud, buf, 1))#'
rc=0
"$p/bin/xtstore" plugins test "$tmp/nocont/store-dirstore.so" --config "$tmp/svc.yaml" \
  --service dir --large-mib 8 >"$tmp/test.out" 2>&1 || rc=$?
[[ $rc == 2 ]] && grep -q "declares no 'containers' capability: the conformance suite runs each case in a container of its own" "$tmp/test.out" ||
  { tail -n 20 "$tmp/test.out"; fail "plugins test of a plugin without containers: exit $rc, not 2 with a reason"; }
# A plugin that ignores its entry callback's stop, without THREADSAFE and
# with pages of 2: the host holds the stop, so a recursive copy of 8 blobs
# writes no entry past its page (the sanitizer tree's host is instrumented;
# here valgrind watches).
variant "$tmp/nostop" 's#STORE_CAP_CONTAINERS | STORE_CAP_THREADSAFE, /\* no state \*/#STORE_CAP_CONTAINERS,#;
                       s#\.max_key_length = 127 }#.max_key_length = 127, .list_page_size = 2 }#;
                       s#^  return emit(l->cb, l->ud, key, 0, &st, err);#  emit(l->cb, l->ud, key, 0, \&st, err);\n  return STORE_OK;#'
mkdir -p "$tmp/stoproot/c"
for i in 1 2 3 4 5 6 7 8; do echo "blob $i" >"$tmp/stoproot/c/$(printf "k$i" | od -An -tx1 | tr -d ' \n')"; done
sed "s#\"store-dirstore\"#\"$tmp/nostop/store-dirstore.so\"#; s#$tmp/root#$tmp/stoproot#" "$tmp/svc.yaml" >"$tmp/nostop.yaml"
runner=()
if [[ -z "$xflags" ]] && command -v valgrind >/dev/null; then
  runner=(valgrind -q --error-exitcode=99)
fi
"${runner[@]}" "$p/bin/xtstore" --config "$tmp/nostop.yaml" cp -r dir:c/ "$tmp/stopout/" >"$tmp/cp.out" 2>&1 ||
  { cat "$tmp/cp.out"; fail "cp -r through a plugin that ignores a stop"; }
[[ $(ls "$tmp/stopout" | wc -l) == 8 ]] || { cat "$tmp/cp.out"; fail "cp -r through a plugin that ignores a stop: not 8 files"; }
grep -q "its plugin called back .* after the callback asked to stop" "$tmp/cp.out" ||
  { cat "$tmp/cp.out"; fail "cp -r through a plugin that ignores a stop: no warning naming it"; }
# ... and the conformance suite fails that plugin, naming what it did.
rc=0
"$p/bin/xtstore" plugins test "$tmp/nostop/store-dirstore.so" --config "$tmp/svc.yaml" \
  --service dir --filter listing_stop >"$tmp/test.out" 2>&1 || rc=$?
[[ $rc == 1 ]] && grep -q "blob_list went on calling back after a stop" "$tmp/test.out" ||
  { tail -n 20 "$tmp/test.out"; fail "plugins test of a plugin that ignores a stop: exit $rc, not 1 naming it"; }
# The example's own care: a file that is no hex key is not listed, a put's
# leftover temporary file does not keep a container from its deletion, and
# a file that cannot be deleted is named with the cause.
xs=("$p/bin/xtstore" --config "$tmp/abs.yaml")
"${xs[@]}" mb dir:odd >/dev/null && echo x >"$tmp/x" && "${xs[@]}" put "$tmp/x" dir:odd/a.txt >/dev/null ||
  fail "mb/put through the example"
touch "$tmp/root/odd/abc" "$tmp/root/odd/zz" "$tmp/root/odd/ABCD" "$tmp/root/odd/.put-x1y2z3"
[[ "$("${xs[@]}" ls dir:odd 2>&1)" == "a.txt" ]] || { "${xs[@]}" ls dir:odd; fail "ls listed files that are no hex key"; }
mkdir "$tmp/root/odd/sub"
"${xs[@]}" rb --force dir:odd >"$tmp/rb.out" 2>&1 && fail "rb --force of a container holding a directory passed"
grep -q "delete file '$tmp/root/odd/sub': Is a directory" "$tmp/rb.out" ||
  { cat "$tmp/rb.out"; fail "rb --force: no line naming the file and cause"; }
rmdir "$tmp/root/odd/sub"
"${xs[@]}" rb --force dir:odd >"$tmp/rb.out" 2>&1 || { cat "$tmp/rb.out"; fail "rb --force with a leftover .put file"; }
[[ ! -e "$tmp/root/odd" ]] || fail "rb --force left the container"
# The example with a bug (a byte lost on every get) fails the suite.
variant "$tmp/broken" 's#if (sink(ud, buf, (size_t)n))#if (sink(ud, buf, (size_t)n - (n > 1)))#'
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
grep -q '^dirstore 1\.0\.0 (ABI 1\.1)$' "$tmp/check2.out" ||
  { cat "$tmp/check2.out"; fail "plugins check of the SDK plugin lacks its name line"; }

# xtstore.pc: a program that embeds libxtstore builds and runs with it.
[[ -e "$p/$libdir/pkgconfig/xtstore.pc" ]] || fail "missing xtstore.pc"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror $xflags $(pkg-config --cflags xtstore) \
   -o "$tmp/embed" "$src/embed.c" $(pkg-config --libs xtstore) ||
  fail "embedder build with pkg-config"
"$tmp/embed" | grep -q "embedded xtstore" || fail "the embedder did not run"
echo "install-test: ok ($p)"
