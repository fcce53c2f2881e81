#!/bin/sh
# run.sh BUILD_DIR SOURCE_DIR CC... -- the sanitizer recipe of
# plugin-api/PLUGIN_GUIDE.md, as the installed guide writes it (recipe.py
# takes it from the text), once per compiler, against what BUILD_DIR
# installs: the example provider (plugin-api/examples/dirstore/store_dirstore.c,
# as installed) built with the sanitizers and the installed pkg-config files runs under
# the installed (uninstrumented) xtstore with the runtime preloaded; the
# same plugin with broken.c linked in (a heap overflow; undefined behaviour;
# a leak) must be reported. Exit 77 (skip) when the host is instrumented
# itself.
set -eu
build=${1:?usage: run.sh BUILD_DIR SOURCE_DIR CC...}
src=${2:?usage: run.sh BUILD_DIR SOURCE_DIR CC...}
shift 2
here=$src/tests/plugin-api/sanitize
fail() { echo "FAIL: $*" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/xtstore-sanitize.XXXXXX")
trap 'rm -rf "$tmp"' EXIT HUP INT TERM
cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; fail "cmake --install $build"; }
pc=$(find "$tmp/prefix" -name xtstore-plugin.pc | head -1)
[ -n "$pc" ] || fail "no xtstore-plugin.pc installed"
export PKG_CONFIG_PATH="${pc%/*}"
SAN_XT=$tmp/prefix/bin/xtstore
if nm -D "$SAN_XT" 2>/dev/null | grep -q ' __asan_init' ||
   ldd "$SAN_XT" 2>/dev/null | grep -q 'libasan\|libclang_rt\.asan'; then
  echo "SKIP: $SAN_XT is built with ASan itself; the recipe is for a plain host"
  exit 77
fi
guide=$tmp/prefix/share/doc/xtstore/PLUGIN_GUIDE.md
plugin=$tmp/prefix/share/doc/xtstore/examples/dirstore/store_dirstore.c
[ -f "$guide" ] && [ -f "$plugin" ] ||
  fail "no PLUGIN_GUIDE.md or dirstore example installed"
python3 "$here/recipe.py" "$guide" >"$tmp/recipe" || fail "the guide's recipe"
recipe() { sed -n "s/^$1=//p" "$tmp/recipe"; }
build_t=$(recipe BUILD)
run_t=$(recipe RUN)
clang_flag=$(recipe CLANG_FLAG)
clang_rt=$(recipe CLANG_RT)

cd "$tmp"
mkdir -p root/c
unset XTSTORE_CONFIG ASAN_OPTIONS UBSAN_OPTIONS LD_PRELOAD
export SAN_XT
cat >acme-conformance.yaml <<YAML
providers:
  storage:
    acme: "$tmp/store-acme.so"
external-services:
  acme: {type: "storage", provider: "acme", path: "$tmp/root"}
YAML

# mk NAME [FLAGS] -- the guide's build of the example (and broken.c when
# FLAGS are given) into NAME.so.
mk() {
  SAN_OUT=$tmp/$1.so SAN_EXTRA=${2:-} SAN_SRCS="$plugin${2:+ $here/broken.c}"
  export SAN_OUT SAN_EXTRA SAN_SRCS
  eval "$build_t" || fail "$SAN_NAME: building $1 with the guide's recipe"
}
# run NAME [plain] -- the guide's command on NAME.so (without the preload
# for plain); exit status to NAME.rc, stderr to NAME.err.
run() {
  cp "$1.so" store-acme.so
  cmd=$run_t
  [ "${2:-}" != plain ] || cmd=${run_t#LD_PRELOAD=*) }
  set +e
  (eval "$cmd") >"$1.out" 2>"$1.err"
  echo $? >"$1.rc"
  set -e
}

for SAN_CC in "$@"; do
  SAN_NAME=$(basename "$SAN_CC")
  export SAN_CC SAN_NAME
  if "$SAN_CC" --version 2>/dev/null | grep -q clang; then
    # The guide's additions for clang: its flag, its runtime.
    build_t=$(recipe BUILD | sed "s/^\"\$SAN_CC\" \$SAN_EXTRA/& $clang_flag/")
    run_t=$(recipe RUN | sed 's/^LD_PRELOAD=\$([^)]*)/LD_PRELOAD=$('"$(
      echo "$clang_rt" | sed 's/[&/\]/\\&/g')"')/')
    rt=$(eval "$clang_rt")
  else
    build_t=$(recipe BUILD)
    run_t=$(recipe RUN)
    rt=$("$SAN_CC" -print-file-name=libasan.so)
  fi
  [ -f "$rt" ] || fail "$SAN_NAME: no ASan runtime at '$rt'"
  mk ok
  mk asan -DSAN_OVERFLOW
  mk ubsan -DSAN_UB
  mk leak -DSAN_LEAK

  # Without the preload the instrumented plugin does not load at all.
  run ok plain
  [ "$(cat ok.rc)" != 0 ] ||
    fail "$SAN_NAME: the plugin loaded without the runtime preloaded: the guide says it does not"

  # With it: the clean plugin works, nothing reported (and no leak: the
  # guide says a leak report is the plugin's).
  run ok
  [ "$(cat ok.rc)" = 0 ] ||
    fail "$SAN_NAME: clean plugin under the recipe: exit $(cat ok.rc): $(head -5 ok.err)"
  ! grep -q 'Sanitizer\|runtime error' ok.err ||
    fail "$SAN_NAME: clean plugin under the recipe reported: $(head -20 ok.err)"

  run asan
  [ "$(cat asan.rc)" != 0 ] || fail "$SAN_NAME: heap overflow: exit 0"
  grep -q 'AddressSanitizer: heap-buffer-overflow' asan.err ||
    fail "$SAN_NAME: heap overflow not reported: $(head -5 asan.err)"
  grep -q 'broken\.c' asan.err ||
    fail "$SAN_NAME: the report does not name broken.c: $(head -20 asan.err)"

  run ubsan
  [ "$(cat ubsan.rc)" != 0 ] || fail "$SAN_NAME: undefined behaviour: exit 0"
  grep -q 'broken\.c:[0-9]*:[0-9]*: runtime error: signed integer overflow' \
    ubsan.err || fail "$SAN_NAME: undefined behaviour not reported: $(head -5 ubsan.err)"

  run leak
  [ "$(cat leak.rc)" != 0 ] || fail "$SAN_NAME: leak: exit 0"
  grep -q 'LeakSanitizer: detected memory leaks' leak.err ||
    fail "$SAN_NAME: leak not reported: $(head -5 leak.err)"
  grep -q 'broken\.c' leak.err ||
    fail "$SAN_NAME: the leak report does not name broken.c: $(head -20 leak.err)"
  echo "ok: $SAN_NAME ($rt)"
done
