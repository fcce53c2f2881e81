#!/bin/sh
# run.sh XTSTORE SOURCE_DIR CC... -- the sanitizer recipe of
# plugin-api/PLUGIN_GUIDE.md, once per compiler: the example provider
# plugin-api/examples/dirstore/store_dirstore.c
# built with the sanitizers runs under the uninstrumented XTSTORE with the
# runtime preloaded; the same plugin with broken.c linked in (a heap
# overflow; undefined behaviour) must be reported. Exit 77 (skip) when
# XTSTORE is instrumented itself.
set -eu
xt=${1:?usage: run.sh XTSTORE SOURCE_DIR CC...}
src=${2:?usage: run.sh XTSTORE SOURCE_DIR CC...}
shift 2
here=$src/tests/plugin-api/sanitize
plugin=$src/plugin-api/examples/dirstore/store_dirstore.c
fail() { echo "FAIL: $*" >&2; exit 1; }

if nm -D "$xt" 2>/dev/null | grep -q ' __asan_init' ||
   ldd "$xt" 2>/dev/null | grep -q 'libasan\|libclang_rt\.asan'; then
  echo "SKIP: $xt is built with ASan itself; the recipe is for a plain host"
  exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/xtstore-sanitize.XXXXXX")
trap 'rm -rf "$tmp"' EXIT HUP INT TERM
cd "$tmp"
unset XTSTORE_CONFIG ASAN_OPTIONS UBSAN_OPTIONS LD_PRELOAD
export UBSAN_OPTIONS=print_stacktrace=1

# run NAME PLUGIN [PRELOAD] -- `xtstore get` of a missing object through
# PLUGIN, named by path in a config; exit status to NAME.rc, stderr to
# NAME.err.
run() {
  cat >"$1.yaml" <<YAML
providers:
  storage:
    tiny: "$2"
external-services:
  t: {type: "storage", provider: "tiny", path: "$tmp/root"}
YAML
  set +e
  if [ -n "${3:-}" ]; then
    LD_PRELOAD=$3 "$xt" --config "$1.yaml" get t:c/k "$tmp/$1.out" 2>"$1.err"
  else
    "$xt" --config "$1.yaml" get t:c/k "$tmp/$1.out" 2>"$1.err"
  fi
  echo $? >"$1.rc"
  set -e
}

for cc in "$@"; do
  # The guide's flags and runtime, per compiler family.
  flags="-std=c11 -g -fno-omit-frame-pointer -fsanitize=address,undefined
         -fno-sanitize-recover=undefined -fPIC -fvisibility=hidden -shared
         -I$src/plugin-api -Wl,-z,defs -Wl,-z,now"
  if "$cc" --version 2>/dev/null | grep -q clang; then
    flags="$flags -shared-libasan"
    rt=$("$cc" -print-file-name="libclang_rt.asan-$(uname -m).so")
  else
    rt=$("$cc" -print-file-name=libasan.so)
  fi
  name=$(basename "$cc")
  [ -f "$rt" ] || fail "$name: no ASan runtime at '$rt'"
  # shellcheck disable=SC2086
  {
    "$cc" $flags -o store-ok.so "$plugin" &&
    "$cc" $flags -o store-asan.so "$plugin" \
      "$here/broken.c" &&
    "$cc" $flags -DSAN_UB -o store-ubsan.so \
      "$plugin" "$here/broken.c"
  } || fail "$name: building the plugin with the sanitizers"

  # Without the recipe the instrumented plugin does not load at all.
  run plain "$tmp/store-ok.so"
  [ "$(cat plain.rc)" != 0 ] && [ "$(cat plain.rc)" != 4 ] ||
    fail "$name: the plugin loaded without the runtime preloaded (exit $(cat plain.rc)): the guide says it does not"

  # With it: the clean plugin works (object not found: 4), nothing reported.
  run ok "$tmp/store-ok.so" "$rt"
  [ "$(cat ok.rc)" = 4 ] ||
    fail "$name: clean plugin under the recipe: exit $(cat ok.rc), not 4: $(cat ok.err)"
  ! grep -q 'Sanitizer\|runtime error' ok.err ||
    fail "$name: clean plugin under the recipe reported: $(cat ok.err)"

  run asan "$tmp/store-asan.so" "$rt"
  [ "$(cat asan.rc)" != 0 ] && [ "$(cat asan.rc)" != 4 ] ||
    fail "$name: heap overflow: exit $(cat asan.rc)"
  grep -q 'AddressSanitizer: heap-buffer-overflow' asan.err ||
    fail "$name: heap overflow not reported: $(head -5 asan.err)"
  grep -q 'broken\.c' asan.err ||
    fail "$name: the report does not name broken.c: $(head -20 asan.err)"

  run ubsan "$tmp/store-ubsan.so" "$rt"
  [ "$(cat ubsan.rc)" != 0 ] && [ "$(cat ubsan.rc)" != 4 ] ||
    fail "$name: undefined behaviour: exit $(cat ubsan.rc)"
  grep -q 'broken\.c:[0-9]*:[0-9]*: runtime error: signed integer overflow' \
    ubsan.err || fail "$name: undefined behaviour not reported: $(head -5 ubsan.err)"
  echo "ok: $name ($rt)"
done
