# lib.sh -- shared setup and assertions for the CLI end-to-end tests.
#
# Sourced by each test_*.sh as:  . "$(dirname "$0")/lib.sh" "$@"
# with the arguments CTest passes: XTSTORE_BIN PROJECT_SOURCE_DIR BINARY_DIR.
#
# Every test runs in its own mktemp -d directory, cd'ed there, with HOME,
# XDG_CONFIG_HOME, XDG_DATA_HOME and XDG_STATE_HOME (where sync --watch
# keeps its state) inside it, so no real user config, installed plugin or
# state leaks in (or out), and writes its config to $T/xt.yaml with two
# local services ("scratch", the default, and "other") on separate roots.
#
# Assertions never stop the script: each failure prints what was run and
# what came out, and `finish` exits 1 if any failed.

set -u

if [ $# -lt 3 ]; then
  echo "usage: $0 XTSTORE_BIN PROJECT_SOURCE_DIR BINARY_DIR" >&2
  exit 2
fi
XT_BIN=$1
SRC_DIR=$2
BIN_DIR=$3
if [ ! -x "$XT_BIN" ]; then
  echo "FAIL: xtstore binary '$XT_BIN' is missing or not executable" >&2
  exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/xtstore-it.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
export HOME="$T/home"
export XDG_CONFIG_HOME="$HOME/.config"
export XDG_DATA_HOME="$HOME/.local/share"
export XDG_STATE_HOME="$HOME/.local/state"
unset XTSTORE_CONFIG XTSTORE_PLUGIN_PATH
mkdir -p "$HOME" "$T/data" "$T/data2" "$T/work"
cd "$T/work" || exit 1

CONFIG="$T/xt.yaml"
cat > "$CONFIG" <<EOF
external-services:
  scratch: {type: "storage", provider: "local", path: "$T/data"}
  other: {type: "storage", provider: "local", path: "$T/data2"}
xt-services:
  storage: "scratch"
EOF

FAILS=0
CHECKS=0
LAST_CMD=""
OUT=""
ERR=""
RC=0

# Load $T/.out (byte-exact there; NULs dropped in $OUT) and $T/.err.
_collect() {
  RC=$1
  OUT=$(tr -d '\000' < "$T/.out")
  ERR=$(tr -d '\000' < "$T/.err")
}

# run CMD...: run anything, capture stdout in $OUT (and the file $T/.out),
# stderr in $ERR and the exit status in $RC.
run() {
  LAST_CMD="$*"
  "$@" > "$T/.out" 2> "$T/.err"
  _collect $?
}

# xt ARGS...: run xtstore with the test config.
xt() {
  run "$XT_BIN" --config "$CONFIG" "$@"
}

# xt_in STDIN_FILE ARGS...: the same, with stdin from a file.
xt_in() {
  local input=$1
  shift
  LAST_CMD="xtstore $* < $input"
  "$XT_BIN" --config "$CONFIG" "$@" < "$input" > "$T/.out" 2> "$T/.err"
  _collect $?
}

# xt_at DIR ARGS...: xtstore run from DIR.
xt_at() {
  local dir=$1
  shift
  LAST_CMD="(cd $dir && xtstore $*)"
  (cd "$dir" && exec "$XT_BIN" --config "$CONFIG" "$@") > "$T/.out" 2> "$T/.err"
  _collect $?
}

# xt_pipe SHELL_CMD ARGS...: xtstore reading stdin from `sh -c SHELL_CMD`.
xt_pipe() {
  local producer=$1
  shift
  LAST_CMD="$producer | xtstore $*"
  sh -c "$producer" | "$XT_BIN" --config "$CONFIG" "$@" > "$T/.out" 2> "$T/.err"
  _collect "${PIPESTATUS[1]}"
}

fail() {
  FAILS=$((FAILS + 1))
  {
    echo "FAIL: $1"
    echo "  command: $LAST_CMD"
    echo "  exit:    $RC"
    echo "  stdout:  $(printf '%s' "$OUT" | head -c 2000 | sed '2,$s/^/           /')"
    echo "  stderr:  $(printf '%s' "$ERR" | head -c 2000 | sed '2,$s/^/           /')"
  } >&2
}

check() {
  CHECKS=$((CHECKS + 1))
}

# assert_rc N: the last command exited with N.
assert_rc() {
  check
  [ "$RC" -eq "$1" ] || fail "expected exit $1, got $RC"
}

# assert_out TEXT: stdout is exactly TEXT (trailing newlines aside).
assert_out() {
  check
  [ "$OUT" = "$1" ] || fail "stdout differs; expected:
$1"
}

assert_out_has() {
  check
  case $OUT in
    *"$1"*) ;;
    *) fail "stdout lacks '$1'" ;;
  esac
}

assert_out_lacks() {
  check
  case $OUT in
    *"$1"*) fail "stdout has '$1'" ;;
  esac
}

assert_err() {
  check
  [ "$ERR" = "$1" ] || fail "stderr differs; expected:
$1"
}

assert_err_has() {
  check
  case $ERR in
    *"$1"*) ;;
    *) fail "stderr lacks '$1'" ;;
  esac
}

assert_err_lacks() {
  check
  case $ERR in
    *"$1"*) fail "stderr has '$1'" ;;
  esac
}

assert_err_empty() {
  check
  [ -z "$ERR" ] || fail "stderr is not empty"
}

# assert_error VERB: stderr is exactly one line "xtstore: VERB: ...".
assert_error() {
  check
  local n
  n=$(printf '%s\n' "$ERR" | wc -l)
  [ "$n" -eq 1 ] || fail "expected one error line, got $n"
  case $ERR in
    "xtstore: $1: "*) ;;
    *) fail "error line does not start with 'xtstore: $1: '" ;;
  esac
}

# assert_usage VERB: exit 2, an error naming the verb and pointing at help.
assert_usage() {
  assert_rc 2
  check
  case $ERR in
    "xtstore: $1: "*"try 'xtstore $1 --help'") ;;
    *) fail "not a usage error of '$1' with a help hint" ;;
  esac
}

assert_file_absent() {
  check
  [ ! -e "$1" ] || fail "'$1' exists"
}

# assert_same A B: files are byte-identical.
assert_same() {
  check
  cmp -s "$1" "$2" || fail "'$1' and '$2' differ"
}

# assert_json_eq FILTER EXPECTED: python3 evaluates FILTER on the parsed
# stdout (bound to `j`) and compares its repr-free JSON dump to EXPECTED.
assert_json_eq() {
  check
  local got
  got=$(python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
print(json.dumps(eval(sys.argv[2]), sort_keys=True))' "$T/.out" "$1" 2>&1)
  [ "$got" = "$2" ] || fail "JSON $1: expected $2, got $got"
}

# --- peak memory of one CLI run (the body must never be held whole) -------
LIMIT_KIB=${LIMIT_KIB:-$((64 * 1024))}
ASAN=0
if ldd "$XT_BIN" 2>/dev/null | grep libasan >/dev/null; then
  ASAN=1
fi

# peak_rss ARGS...: run xtstore with the test config in the background and
# follow VmHWM (the peak resident set) in /proc until it exits; the peak
# goes to $PEAK (KiB), and $RC/$OUT/$ERR as with xt.
peak_rss() {
  local pid v
  LAST_CMD="xtstore $*"
  PEAK=0
  "$XT_BIN" --config "$CONFIG" "$@" > "$T/.out" 2> "$T/.err" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    v=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
    if [ -n "$v" ] && [ "$v" -gt "$PEAK" ]; then
      PEAK=$v
    fi
    sleep 0.02
  done
  wait "$pid"
  _collect $?
}

# assert_bounded: the last peak_rss stayed under the limit.
assert_bounded() {
  check
  echo "peak RSS $PEAK KiB: $LAST_CMD"
  if [ "$ASAN" -eq 1 ]; then
    echo "  (not checked under ASan)"
    return
  fi
  [ "$PEAK" -gt 0 ] || fail "no peak RSS measured"
  [ "$PEAK" -lt "$LIMIT_KIB" ] ||
    fail "peak RSS $PEAK KiB is not under $LIMIT_KIB KiB"
}

# proxy_settled DIR: wait until the faultproxy of DIR has logged every
# request it began (DIR/active is 0): a killed run's requests forwarded
# whole are logged only once the server answers them.
proxy_settled() {
  local i
  check
  for i in $(seq 1 600); do
    [ "$(cat "$1/active" 2> /dev/null)" = 0 ] && return 0
    sleep 0.1
  done
  fail "proxy $1: $(cat "$1/active") requests still not logged after 60 s"
}

finish() {
  if [ "$FAILS" -ne 0 ]; then
    echo "$(basename "$0"): $FAILS of $CHECKS checks failed" >&2
    exit 1
  fi
  echo "$(basename "$0"): all $CHECKS checks passed"
  exit 0
}
