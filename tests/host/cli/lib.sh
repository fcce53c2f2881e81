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

# --- test programs built by the test ---------------------------------------
# build_shim SO [CFLAGS...]: the test shim provider (shim_plugin.c here)
# compiled into SO with CFLAGS (its -DSHIM_... variants); one check.
build_shim() {
  local so=$1
  shift
  run ${CC:-cc} -shared -fPIC "$@" -I "$SRC_DIR/plugin-api" -o "$so" \
    "$SRC_DIR/tests/host/cli/shim_plugin.c" -ldl
  assert_rc 0
}

# build_memstore SO: the example provider memstore
# (plugin-api/examples/memstore: blobs in memory for the life of one
# process) compiled into SO; one check.
build_memstore() {
  run ${CC:-cc} -shared -fPIC -I "$SRC_DIR/plugin-api" -o "$1" \
    "$SRC_DIR/plugin-api/examples/memstore/store_memstore.c"
  assert_rc 0
}

# build_client OUT SRC [CFLAGS...]: a C program on libxtstore, compiled
# and linked as the library was built (its sanitizer runtimes included);
# one check.
build_client() {
  local out=$1 src=$2 san=""
  shift 2
  if readelf -d "$BIN_DIR/lib/libxtstore.so" 2>/dev/null | grep -q asan; then
    san="-fsanitize=address,undefined"
  fi
  run ${CC:-cc} $san "$@" -I "$SRC_DIR/host/include" -I "$SRC_DIR/plugin-api" \
    -o "$out" "$src" -L "$BIN_DIR/lib" -lxtstore -Wl,-rpath,"$BIN_DIR/lib"
  assert_rc 0
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
  LAST_CMD="xtstore $*"
  "$XT_BIN" --config "$CONFIG" "$@" > "$T/.out" 2> "$T/.err" &
  follow_peak $!
}

# follow_peak PID: the peak_rss of a run already started in the background
# with its stdout in $T/.out and stderr in $T/.err (LAST_CMD set): $PEAK
# (KiB) once it exits, then $RC/$OUT/$ERR as with xt.
follow_peak() {
  local pid=$1 v
  PEAK=0
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

# --- servers and fault proxies (tests/servers) ----------------------------
SERVER_SH=${XTSTORE_SERVER_SH:-$SRC_DIR/tests/servers/server.sh}
FAULTPROXY_SH=${XTSTORE_FAULTPROXY_SH:-$SRC_DIR/tests/servers/faultproxy.sh}

# need_servers VAR...: skip the test (exit 77) unless ctest set every VAR
# (a server fixture's state directory, the fault proxy's script).
need_servers() {
  local v
  for v in "$@"; do
    if [ -z "${!v:-}" ]; then
      echo "skip: $v is not set (run through ctest, which starts the servers)"
      exit 77
    fi
  done
}

# have_s3rver_proxy: ctest provides the s3rver fixture and the fault
# proxy's script (XTSTORE_S3RVER_DIR, XTSTORE_FAULTPROXY_SH).
have_s3rver_proxy() {
  [ -n "${XTSTORE_S3RVER_DIR:-}" ] && [ -n "${XTSTORE_FAULTPROXY_SH:-}" ] &&
    [ -f "$XTSTORE_S3RVER_DIR/endpoint" ]
}

# s3rver_dir: S3_DIR, the ctest fixture's s3rver ($XTSTORE_S3RVER_DIR) or,
# without one, a server of the test's own under $T/s3rver (OWN_S3=1; the
# test's cleanup stops it with stop_own_s3rver). Returns 1 if that one does
# not start.
s3rver_dir() {
  S3_DIR=${XTSTORE_S3RVER_DIR:-}
  OWN_S3=0
  [ -n "$S3_DIR" ] && return 0
  "$SERVER_SH" start s3rver "$T/s3rver" > /dev/null 2>&1 || return 1
  OWN_S3=1
  S3_DIR="$T/s3rver"
}

# stop_own_s3rver: stop the server s3rver_dir started, if it did.
stop_own_s3rver() {
  [ "${OWN_S3:-0}" -eq 0 ] || "$SERVER_SH" stop s3rver "$T/s3rver" > /dev/null 2>&1
}

# proxy_start DIR UPSTREAM: start faultproxy.py in DIR (through
# tests/servers/faultproxy.sh) in front of UPSTREAM (a fixture's state
# directory or a URL) with the rules of $T/rules.json; its endpoint is in
# DIR/endpoint. The test ends (exit 1) if it does not start; the test's
# EXIT trap stops it.
proxy_start() {
  "$FAULTPROXY_SH" start "$1" "$2" "$T/rules.json" > /dev/null || {
    echo "FAIL: the fault proxy $1 did not start"
    exit 1
  }
}

# proxy_rules [JSON]: the rules of the proxies reading $T/rules.json from
# now on: JSON (else stdin) written beside it and renamed over it, so that
# a running proxy never reads half a file; then 0.3 s for it to settle.
proxy_rules() {
  if [ $# -gt 0 ]; then
    printf '%s\n' "$1"
  else
    cat
  fi > "$T/rules.json.tmp"
  mv "$T/rules.json.tmp" "$T/rules.json"
  sleep 0.3
}

# proxy_put_bytes DIR PATH QUERY_RE [FROM]: the body bytes of the PUTs to
# PATH whose query matches the awk regex QUERY_RE ('' for any) that the
# faultproxy of DIR logged in DIR/bytes (from its line FROM on): a killed
# run's in-flight requests too, logged as they are cut or answered.
proxy_put_bytes() {
  tail -n +"${4:-1}" "$1/bytes" | awk -v p="$2" -v q="$3" \
    '$1 == "PUT" && $2 == p && $4 ~ q {n += $3} END {print n + 0}'
}

# aws_moto ARGS...: /usr/bin/aws against the moto fixture, with the keys
# $AK and $SK (read from $XTSTORE_MOTO_DIR/keys by the caller).
aws_moto() {
  AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK /usr/bin/aws --endpoint-url \
    "$(cat "$XTSTORE_MOTO_DIR/endpoint")" --region us-east-1 "$@"
}

# staged: the multipart uploads moto has for bucket $B (needs /usr/bin/aws),
# one id a line. An aws failure prints itself: never taken for "none".
staged() {
  if aws_moto s3api list-multipart-uploads --bucket "$B" --output text \
    --query 'Uploads[].UploadId' > "$T/.staged" 2>&1; then
    grep -v '^None$' "$T/.staged"
  else
    echo "aws list-multipart-uploads failed: $(cat "$T/.staged")"
  fi
}

# --- runs killed mid-upload, and their journals (resume across runs) -----
# J holds the journals of resumable uploads (host/engine/journal.c): the
# first line of one ends with the upload id; each part on record is a line
# "P NUMBER LENGTH ...".
J="$HOME/.local/state/xtstore/uploads"

# jparts: the number of parts the journals record.
jparts() {
  cat "$J"/*.journal 2> /dev/null | grep -c '^P ' || true
}

# jid: the upload id a journal records (the last field of its first line).
jid() {
  head -n 1 "$J"/*.journal 2> /dev/null | awk '{print $NF}'
}

# jbytes: the bytes of the parts the journals record.
jbytes() {
  cat "$J"/*.journal 2> /dev/null | awk '$1 == "P" {n += $3} END {print n + 0}'
}

# bg_start ARGS...: `xtstore ARGS` with the test config in the background,
# stdin from $BG_IN (default /dev/null), stdout and stderr in $T/.k.out and
# $T/.k.err; its pid in $BG.
bg_start() {
  "$XT_BIN" --config "$CONFIG" "$@" < "${BG_IN:-/dev/null}" \
    > "$T/.k.out" 2> "$T/.k.err" &
  BG=$!
}

# bg_until COND: poll the shell condition COND (evaluated each time, every
# 10 ms; it sees the caller's variables) until it holds (returns 0), or the
# run $BG has ended or 120 s have passed (returns 1).
bg_until() {
  local bg_end=$((SECONDS + 120))
  while [ "$SECONDS" -lt "$bg_end" ]; do
    eval "$1" && return 0
    kill -0 "$BG" 2> /dev/null || return 1
    sleep 0.01
  done
  return 1
}

# bg_kill: kill -9 the run $BG and reap it; KILLED=1 if it was still
# running, else 0.
bg_kill() {
  KILLED=0
  kill -9 "$BG" 2> /dev/null && KILLED=1
  wait "$BG" 2> /dev/null
}

# kill_when COND ARGS...: `xtstore ARGS` in the background, killed with
# kill -9 once COND holds (bg_start, bg_until, bg_kill); sets KILLED.
kill_when() {
  local cond=$1
  shift
  bg_start "$@"
  bg_until "$cond"
  bg_kill
}

# kill_at_parts N ARGS...: `xtstore ARGS` killed with kill -9 once the
# journals record N parts; one check: it was still running then, with N
# parts on record (a failure names the run, the counts and its stderr).
kill_at_parts() {
  local n=$1
  shift
  kill_when "[ \"\$(jparts)\" -ge $n ]" "$@"
  check
  [ "$KILLED" -eq 1 ] && [ "$(jparts)" -ge "$n" ] ||
    fail "no journal of $n parts while 'xtstore $*' ran (killed: $KILLED;\
 journal: $(jparts) parts; $(cat "$T/.k.err"))"
}

# kill_pipe_when COND ARGS...: `xtstore ARGS` reading stdin from a pipe fed
# 12 MiB of random bytes and held open (so the upload cannot end), killed
# with kill -9 once COND holds; then the pipe is closed. A pipe's upload is
# not journaled: what it leaves only the service knows of.
kill_pipe_when() {
  local cond=$1
  shift
  rm -f "$T/fifo"
  mkfifo "$T/fifo" || exit 1
  BG_IN="$T/fifo" bg_start "$@"
  exec 3> "$T/fifo"
  head -c $((12 << 20)) /dev/urandom >&3
  bg_until "$cond"
  bg_kill
  exec 3>&-
}

# assert_foreign_kept SVC:CONTAINER KEY: the one upload there, of KEY, that
# no journal names (a killed pipe's: kill_pipe_when) is listed as recent
# and foreign, kept by cleanup --yes (younger than the default 24 h) and
# listed as stale by a dry run with --older-than 0; its upload id in ID.
assert_foreign_kept() {
  xt --json cleanup "$1"
  assert_rc 0
  assert_json_eq '[(e["action"], e["origin"], e["key"], e["age_s"] < 600) for e in j]' \
    "[[\"recent\", \"foreign\", \"$2\", true]]"
  ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["upload_id"])' "$T/.out")
  xt cleanup "$1" --yes
  assert_rc 0
  assert_out_has "recent  $1/$2  upload $ID"
  xt cleanup "$1" --older-than 0
  assert_rc 0
  assert_out_has "stale  $1/$2  upload $ID"
  assert_err_has "dry run"
}

# The resume of a $TOTAL-byte upload at the default multipart settings
# (parts of $PS, 4 in flight), its parts' bytes counted at fault proxies:
# COUNT is a command that prints them for a proxy directory given last
# (e.g. a wrapper of proxy_put_bytes). Each run goes through a proxy of
# its own, so no late line of the killed run counts as the re-run's.
#
# kill_halfway PROXY COUNT ARGS...: `xtstore -v ARGS` killed with kill -9
# once PROXY counts half of $TOTAL; once PROXY has logged every request,
# sets K, ID, REC (parts, upload id and bytes on record) and B1 (the bytes
# PROXY counted). Checks: the default multipart settings; killed half-way.
kill_halfway() {
  local proxy=$1 count=$2
  shift 2
  kill_when "[ \"\$($count \"$proxy\")\" -ge $((TOTAL / 2)) ]" -v "$@"
  proxy_settled "$proxy"
  K=$(jparts)
  ID=$(jid)
  REC=$(jbytes)
  B1=$($count "$proxy")
  check
  grep -q "multipart upload, $(((TOTAL + PS - 1) / PS)) parts of $PS bytes, 4 at a time" \
    "$T/.k.err" || fail "not the default multipart settings: $(grep multipart "$T/.k.err")"
  check
  [ "$KILLED" -eq 1 ] && [ "$K" -ge 1 ] && [ "$B1" -lt "$TOTAL" ] ||
    fail "not killed half-way (killed: $KILLED; journal: $K parts; $B1 bytes sent;\
 $(cat "$T/.k.err"))"
}

# resumed_counted PROXY COUNT ARGS...: `xtstore -v ARGS`, the command
# kill_halfway killed, run again through PROXY: it exits 0 resuming upload
# $ID with its $K parts on record; once PROXY has logged every request, the
# bytes it counted over both runs are at least the file's, those of the
# re-run (B2) no more than those not on record, and all that
# was sent twice is at most the 4 parts in flight at the kill; no journal
# is left. $ERR stays the re-run's.
resumed_counted() {
  local proxy=$1 count=$2
  shift 2
  xt -v "$@"
  assert_rc 0
  assert_err_has "resuming upload '$ID': $K of $(((TOTAL + PS - 1) / PS)) parts on record"
  proxy_settled "$proxy"
  B2=$($count "$proxy")
  echo "xtstore $*: killed after $B1 of $TOTAL bytes ($K parts, $REC bytes on\
 record); the re-run sent $B2; sent twice: $((B1 + B2 - TOTAL))"
  check
  [ $((B1 + B2)) -ge "$TOTAL" ] ||
    fail "the proxy counted $((B1 + B2)) bytes over both runs, fewer than the $TOTAL uploaded"
  check
  [ "$B2" -le $((TOTAL - REC)) ] ||
    fail "run 2 sent $B2 bytes; the parts not on record are $((TOTAL - REC))"
  check
  [ $((B1 + B2 - TOTAL)) -le $((4 * PS)) ] ||
    fail "$((B1 + B2 - TOTAL)) bytes sent twice: more than the 4 parts of $PS in flight"
  check
  [ -z "$(ls "$J")" ] || fail "a completed upload left its journal: $(ls "$J")"
}

finish() {
  if [ "$FAILS" -ne 0 ]; then
    echo "$(basename "$0"): $FAILS of $CHECKS checks failed" >&2
    exit 1
  fi
  echo "$(basename "$0"): all $CHECKS checks passed"
  exit 0
}
