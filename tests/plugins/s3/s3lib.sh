# s3lib.sh -- shared setup and checks of the S3 provider's end-to-end tests.
#
# Sourced as  . "$(dirname "$0")/s3lib.sh" XTSTORE_BIN PLUGIN_DIR
# Each test runs in its own mktemp -d directory ($T, cd'ed into), with HOME
# inside it (no real ~/.aws or user config leaks in) and the built plugins
# on XTSTORE_PLUGIN_PATH. Checks never stop the script: each failure says
# what ran and what came out, and `finish` exits 1 if any failed.

set -u
if [ $# -lt 2 ]; then
  echo "usage: $0 XTSTORE_BIN PLUGIN_DIR" >&2
  exit 2
fi
XT_BIN=$1
export XTSTORE_PLUGIN_PATH=$2
shift 2
T=$(mktemp -d "${TMPDIR:-/tmp}/xtstore-s3.XXXXXX") || exit 1
trap 'cleanup_hook; rm -rf "$T"' EXIT
cleanup_hook() { :; }
export HOME="$T/home"
export XDG_CONFIG_HOME="$HOME/.config" XDG_DATA_HOME="$HOME/.local/share"
export XDG_STATE_HOME="$HOME/.local/state"
unset XTSTORE_CONFIG AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
  AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION
mkdir -p "$HOME" "$T/work"
cd "$T/work" || exit 1
CONFIG="$T/xt.yaml"
FAILS=0
CHECKS=0
RC=0
OUT=""
ERR=""

# A bucket name of this run: lowercase, DNS-safe, unique per test and pid.
bucket() { echo "xts3-$1-$$"; }

# need_server NAME: SERVER_DIR and ENDPOINT of a fixture server, or skip
# (exit 77) when there is none.
need_server() {
  local var="XTSTORE_$(echo "$1" | tr a-z A-Z)_DIR"
  SERVER_DIR=${!var:-}
  if [ -z "$SERVER_DIR" ] || [ ! -d "$SERVER_DIR" ]; then
    echo "skip: $var is not set (run through ctest, which starts $1)"
    exit 77
  fi
  if [ -f "$SERVER_DIR/unavailable" ]; then
    echo "skip: $1 is unavailable: $(cat "$SERVER_DIR/unavailable")"
    exit 77
  fi
  if [ ! -f "$SERVER_DIR/endpoint" ]; then
    echo "FAIL: $1 was not started ($SERVER_DIR/endpoint missing)"
    exit 1
  fi
  ENDPOINT=$(cat "$SERVER_DIR/endpoint")
}

# config_begin, then write_service NAME ENDPOINT ACCESS SECRET [EXTRA]
# (EXTRA: more flow-map entries, starting with ", ").
config_begin() {
  cat > "$CONFIG" <<EOF
providers:
  storage:
    s3: "store-s3"
external-services:
EOF
}
write_service() {
  local name=$1 endpoint=$2 ak=$3 sk=$4 extra=${5:-}
  cat >> "$CONFIG" <<EOF
  $name: {type: "storage", provider: "s3", endpoint: "$endpoint", access-key: "$ak", secret-key: "$sk", addressing: "path"$extra}
EOF
}

# xt ARGS...: the CLI with the test's config; $RC, $OUT, $ERR.
xt() {
  "$XT_BIN" --config "$CONFIG" "$@" > "$T/.out" 2> "$T/.err"
  RC=$?
  OUT=$(cat "$T/.out")
  ERR=$(cat "$T/.err")
  LAST="xtstore $*"
}

fail() {
  FAILS=$((FAILS + 1))
  echo "FAIL: $*"
  echo "  last command: ${LAST:-}"
  echo "  exit $RC; stdout: $(printf '%s' "$OUT" | head -c 600)"
  echo "  stderr: $(printf '%s' "$ERR" | head -c 600)"
}

check() { # check DESCRIPTION CONDITION...
  local what=$1
  shift
  CHECKS=$((CHECKS + 1))
  if "$@"; then echo "ok: $what"; else fail "$what"; fi
}

expect_rc() { # expect_rc N DESCRIPTION
  CHECKS=$((CHECKS + 1))
  if [ "$RC" -eq "$1" ]; then echo "ok: $2 (exit $RC)"; else fail "$2: expected exit $1"; fi
}

contains() { case "$1" in *"$2"*) return 0 ;; *) return 1 ;; esac; }
lacks() { ! contains "$1" "$2"; }

finish() {
  echo "$CHECKS checks, $FAILS failed"
  [ "$FAILS" -eq 0 ]
  exit $?
}
