# watchlib.sh -- running `xtstore sync --watch` in the background for the
# watch tests (test_watch.sh, test_watch_servers.sh). Sourced after lib.sh;
# a watcher still running when the test exits is killed.

WPID=
# watch_start NAME ARGS...: xtstore sync --watch ARGS in the background,
# stdout in $T/NAME.out, stderr in $T/NAME.err; its pid in $WPID.
watch_start() {
  local name=$1
  shift
  LAST_CMD="xtstore sync --watch $*"
  # A background job of a script inherits SIGINT ignored (which xtstore
  # keeps): python3 gives it back its default first.
  python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$XT_BIN" --config "$CONFIG" sync --watch "$@" \
    > "$T/$name.out" 2> "$T/$name.err" &
  WPID=$!
}
# watch_end NAME [SIGNAL...]: send the signals (0.2 s apart; none: wait for
# the watch to end by itself), then its exit status into $RC, its output
# into $OUT and $ERR.
watch_end() {
  local name=$1 sig i
  shift
  for sig in "$@"; do
    kill "-$sig" "$WPID"
    sleep 0.2
  done
  # No hang: after 20 s it is killed (and fails).
  for ((i = 0; i < 400; i++)); do
    kill -0 "$WPID" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$WPID" 2>/dev/null
  wait "$WPID"
  RC=$?
  OUT=$(cat "$T/$name.out")
  ERR=$(cat "$T/$name.err")
  WPID=
}
# wait_for FILE PATTERN SECONDS: until FILE has a line matching the
# extended regex PATTERN; 1 when it does not in time.
wait_for() {
  local end=$((SECONDS + $3 + 1))
  while [ "$SECONDS" -lt "$end" ]; do
    grep -Eq -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
# watch_kill: the EXIT trap's part (a test's own trap calls it too).
watch_kill() {
  [ -z "$WPID" ] || kill -KILL "$WPID" 2>/dev/null
}
trap 'watch_kill; rm -rf "$T"' EXIT
# polls_done FILE...: the number of the last poll the watcher's stdout and
# stderr FILEs report ("poll N: ..." or "poll N failed"); 0: none yet.
polls_done() {
  local n
  n=$(cat "$@" 2>/dev/null | grep -Eo '(^|sync: )poll [0-9]+(:| failed)' |
      grep -Eo '[0-9]+' | sort -n | tail -n 1)
  echo "${n:-0}"
}
# by_poll FILE K LINE: the watcher's stdout FILE has LINE before its
# "poll K:" line. In poll terms, not time (CODE_STYLE): a change made while
# poll J was under way (polls_done says J - 1) is in poll J + 1 at the
# latest, so K = polls_done + 2. Waiting for poll K is guarded against a
# hang (30 s), no more.
by_poll() {
  check
  wait_for "$1" "^poll $2: " 30 || {
    fail "no poll $2 within 30 s (a hang?): $(cat "$1")"
    return 1
  }
  sed -n "1,/^poll $2: /p" "$1" | grep -qxF -- "$3" || {
    fail "'$3' not by poll $2: $(cat "$1")"
    return 1
  }
}
