#!/usr/bin/env bash
# Start and stop faultproxy.py in the background, like server.sh.
#
#   faultproxy.sh start STATE_DIR UPSTREAM [RULES.json]
#   faultproxy.sh stop  STATE_DIR
#
# UPSTREAM is a URL (http://127.0.0.1:P[/path]) or a server.sh STATE_DIR (its
# endpoint file is read). start writes STATE_DIR/port, pid, endpoint (the proxy's
# URL, with the upstream's path, e.g. .../devstoreaccount1) and log (one line per
# request: METHOD PATH ACTION), and prints the endpoint. Rewrite RULES.json (ideally
# by rename) to change the rules of a running proxy; its counters restart.
# The proxy exits by itself after XTSTORE_FAULTPROXY_LIFETIME seconds (default 600)
# or when the process that ran `start` is gone (XTSTORE_SERVER_OWNER_PID overrides;
# 0 = none).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "faultproxy.sh: $*" >&2; exit 1; }

stop() {
  local dir=$1 pid i
  [[ -f "$dir/pid" ]] || { rm -f "$dir/port" "$dir/endpoint"; return 0; }
  pid=$(cat "$dir/pid")
  rm -f "$dir/pid" "$dir/port" "$dir/endpoint"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  # only if that pid is still a faultproxy (not a reused pid)
  grep -qa faultproxy.py "/proc/$pid/cmdline" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

case "${1:-}" in
  start)
    (($# == 3 || $# == 4)) || die "usage: faultproxy.sh start STATE_DIR UPSTREAM [RULES.json]"
    dir=$2 upstream=$3 rules=${4:-}
    if [[ -d "$upstream" ]]; then
      [[ -f "$upstream/endpoint" ]] || die "no endpoint in $upstream (server not started?)"
      upstream=$(cat "$upstream/endpoint")
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    stop "$dir"
    args=(--upstream "$upstream" --port 0 --state "$dir"
          --lifetime "${XTSTORE_FAULTPROXY_LIFETIME:-600}"
          --owner "${XTSTORE_SERVER_OWNER_PID:-$PPID}")
    if [[ -n "$rules" ]]; then
      args+=(--rules "$(cd "$(dirname "$rules")" && pwd)/$(basename "$rules")")
    fi
    python3 "$here/faultproxy.py" "${args[@]}" >"$dir/stdout" 2>&1 </dev/null &
    pid=$!
    for ((i = 0; i < 100; i++)); do
      if [[ -f "$dir/port" ]]; then
        cat "$dir/endpoint"
        exit 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    echo "faultproxy.sh: the proxy did not start:" >&2
    cat "$dir/stdout" >&2
    exit 1
    ;;
  stop)
    (($# == 2)) || die "usage: faultproxy.sh stop STATE_DIR"
    [[ -d "$2" ]] || exit 0
    stop "$2"
    ;;
  *) die "usage: faultproxy.sh start STATE_DIR UPSTREAM [RULES.json] | stop STATE_DIR" ;;
esac
