#!/usr/bin/env bash
# Test of faultproxy.py itself, with curl, in front of a real s3rver.
#   test_faultproxy.sh WORK_DIR
# Uses the s3rver fixture's state dir from $XTSTORE_S3RVER_DIR (ctest), or starts
# its own s3rver under WORK_DIR when run by hand.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:?usage: test_faultproxy.sh WORK_DIR}
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
proxy_dir="$work/proxy"
rules="$work/rules.json"

own_s3rver=""
if [[ -z "${XTSTORE_S3RVER_DIR:-}" ]]; then
  own_s3rver="$work/s3rver"
  "$here/server.sh" start s3rver "$own_s3rver"
  XTSTORE_S3RVER_DIR=$own_s3rver
fi
cleanup() {
  "$here/faultproxy.sh" stop "$proxy_dir" || true
  if [[ -n "$own_s3rver" ]]; then "$here/server.sh" stop s3rver "$own_s3rver" || true; fi
}
trap cleanup EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   - $*"; }
bad() { failed=$((failed + 1)); echo "FAIL - $*"; }
check() { # check DESCRIPTION EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then ok "$1"; else bad "$1: expected '$2', got '$3'"; fi
}
set_rules() { # atomically, so the running proxy reloads a whole file
  cat >"$rules.tmp"
  mv "$rules.tmp" "$rules"
}
# The count of log lines matching $1, waiting up to 3 s for one: the proxy
# writes a line when a request ends, which may be after the client saw it.
logged() {
  local n i
  for i in $(seq 30); do
    n=$(grep -c -- "$1" "$proxy_dir/log" || true)
    [ "$n" -gt 0 ] && break
    sleep 0.1
  done
  echo "$n"
}

upstream=$(cat "$XTSTORE_S3RVER_DIR/endpoint")
bucket="fp-$$"
curl -sS -f -X PUT "$upstream/$bucket" -o /dev/null
head -c 2097152 /dev/urandom >"$work/big"     # 2 MiB: curl sends Expect: 100-continue
head -c 300000 /dev/urandom >"$work/mid"
curl -sS -f -T "$work/big" "$upstream/$bucket/big" -o /dev/null

echo '[]' | set_rules
P=$("$here/faultproxy.sh" start "$proxy_dir" "$XTSTORE_S3RVER_DIR" "$rules")
echo "proxy $P -> $upstream"

# 1. status: two 503 SlowDown with Retry-After, body read and discarded (the same
#    connection carries the next request), then pass-through.
set_rules <<EOF
[{"match": {"method": "PUT", "path": "^/$bucket/obj$"}, "count": 2,
  "status": 503, "headers": {"Retry-After": "3"},
  "body": "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"}]
EOF
out=$(curl -sS -w '%{http_code} %header{retry-after} %{num_connects}\n' \
        -T "$work/mid" "$P/$bucket/obj" -o "$work/r1" \
        -T "$work/big" "$P/$bucket/obj" -o "$work/r2" \
        -T "$work/mid" "$P/$bucket/obj" -o "$work/r3")
check "status: 503 + Retry-After, 503 (after Expect: 100-continue), then 200 on one connection" \
  "503 3 1|503 3 0|200  0" "$(echo "$out" | paste -sd'|')"
grep -q '<Code>SlowDown</Code>' "$work/r1" && ok "status: the rule's body is sent" || bad "status: body: $(cat "$work/r1")"
curl -sS -f "$upstream/$bucket/obj" -o "$work/got"
cmp -s "$work/got" "$work/mid" && ok "status: the passed-through PUT reached upstream" || bad "status: upstream object differs"
check "status: log lines" "2 1" "$(logged "^PUT /$bucket/obj rule=0 status 503$") $(logged "^PUT /$bucket/obj pass 200$")"

# A chunked request body is discarded too, and passes through when no rule applies.
set_rules <<EOF
[{"match": {"path": "^/$bucket/chunked$"}, "count": 1, "status": 500, "body": "no"}]
EOF
out=$(curl -sS -H 'Transfer-Encoding: chunked' -w '%{http_code} %{num_connects}\n' \
        -T "$work/mid" "$P/$bucket/chunked" -o /dev/null -T "$work/mid" "$P/$bucket/chunked" -o /dev/null | paste -sd'|')
check "status: chunked body discarded, then chunked pass-through" "500 1|200 0" "$out"
curl -sS -f "$upstream/$bucket/chunked" -o "$work/got"
cmp -s "$work/got" "$work/mid" && ok "chunked request body forwarded intact" || bad "chunked upload differs"

# 2. reset mid request body.
set_rules <<EOF
[{"match": {"method": "PUT", "path": "^/$bucket/cut$"}, "count": 1, "reset_request_body_after": 100000}]
EOF
rc=0; curl -sS -T "$work/big" "$P/$bucket/cut" -o /dev/null 2>"$work/err" || rc=$?
case $rc in
  55|56|52) ok "reset_request_body_after: curl saw the connection reset (exit $rc)" ;;
  *) bad "reset_request_body_after: curl exit $rc: $(cat "$work/err")" ;;
esac
check "reset_request_body_after: logged with the bytes read" "1" \
  "$(logged "^PUT /$bucket/cut rule=0 reset_request_body_after 100000 (read 100000)$")"
code=$(curl -sS -T "$work/big" "$P/$bucket/cut" -o /dev/null -w '%{http_code}')
check "reset_request_body_after: next attempt passes" "200" "$code"

# 2b. a clean close (FIN) mid request body: no answer, and no RST.
set_rules <<EOF
[{"match": {"method": "PUT", "path": "^/$bucket/cutfin$"}, "count": 1, "close_request_body_after": 100000}]
EOF
rc=0; curl -sS -T "$work/big" "$P/$bucket/cutfin" -o /dev/null 2>"$work/err" || rc=$?
check "close_request_body_after: curl gets an empty reply (exit 52)" "52" "$rc"
# A raw client: EOF (FIN) where it waits for the answer, not ECONNRESET, and
# the rest of its body still goes out.
set_rules <<EOF
[{"match": {"method": "PUT", "path": "^/$bucket/cutfin$"}, "count": 1, "close_request_body_after": 1000}]
EOF
got=$(python3 - "${P#http://}" "/$bucket/cutfin" <<'PY'
import socket, sys, time
host, port = sys.argv[1].split("/")[0].split(":")
s = socket.create_connection((host, int(port)))
s.sendall(f"PUT {sys.argv[2]} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 300000\r\n\r\n".encode())
s.sendall(b"x" * 2000)
time.sleep(0.5)
try:
    s.sendall(b"x" * 298000)
    print("eof" if s.recv(100) == b"" else "data")
except ConnectionResetError:
    print("reset")
PY
)
check "close_request_body_after: the client reads EOF, not a reset" "eof" "$got"
check "close_request_body_after: logged with the bytes read" "1" \
  "$(logged "^PUT /$bucket/cutfin rule=0 close_request_body_after 100000 (read 100000)$")"
code=$(curl -sS -T "$work/big" "$P/$bucket/cutfin" -o /dev/null -w '%{http_code}')
check "close_request_body_after: next attempt passes" "200" "$code"

# 3. reset mid response body.
set_rules <<EOF
[{"match": {"method": "GET", "path": "^/$bucket/big$"}, "count": 1, "reset_response_body_after": 65536}]
EOF
rc=0; curl -sS "$P/$bucket/big" -o "$work/part" 2>"$work/err" || rc=$?
size=$(stat -c %s "$work/part" 2>/dev/null || echo 0)
case $rc in
  18|56) ok "reset_response_body_after: curl saw a cut body (exit $rc)" ;;
  *) bad "reset_response_body_after: curl exit $rc: $(cat "$work/err")" ;;
esac
check "reset_response_body_after: exactly N bytes delivered" "65536" "$size"
cmp -s -n 65536 "$work/part" "$work/big" && ok "reset_response_body_after: the bytes are upstream's" || bad "partial body differs"
curl -sS -f "$P/$bucket/big" -o "$work/full"
cmp -s "$work/full" "$work/big" && ok "reset_response_body_after: next GET is whole" || bad "full GET differs"

# 4. stall, and date skew.
set_rules <<EOF
[{"match": {"method": "GET", "path": "^/$bucket/obj$"}, "count": 2, "stall_ms": 1500},
 {"match": {"method": "HEAD", "path": "^/$bucket/obj$"}, "count": 1, "date_skew_s": -3600}]
EOF
rc=0; curl -sS -m 0.5 "$P/$bucket/obj" -o /dev/null 2>/dev/null || rc=$?
check "stall_ms: a 0.5 s client timeout fires" "28" "$rc"
check "stall_ms: the stall ends when the client gives up (logged at once)" "1" \
  "$(logged "^GET /$bucket/obj rule=0 aborted: client gone during the stall$")"
t=$(curl -sS -f "$P/$bucket/obj" -o "$work/got" -w '%{time_total}')
awk -v t="$t" 'BEGIN { exit !(t >= 1.4) }' && ok "stall_ms: answered after ${t}s" || bad "stall_ms: answered after ${t}s"
cmp -s "$work/got" "$work/mid" && ok "stall_ms: body intact" || bad "stall_ms: body differs"
t=$(curl -sS -f "$P/$bucket/obj" -o /dev/null -w '%{time_total}')
awk -v t="$t" 'BEGIN { exit !(t < 1.0) }' && ok "stall_ms: count honoured (${t}s)" || bad "stall_ms: third GET took ${t}s"
date_hdr=$(curl -sS -I "$P/$bucket/obj" | tr -d '\r' | sed -n 's/^[Dd]ate: //p')
skew=$(( $(date -u +%s) - $(date -u -d "$date_hdr" +%s) ))
((skew >= 3590 && skew <= 3610)) && ok "date_skew_s: Date is ${skew}s behind" || bad "date_skew_s: Date '$date_hdr' is ${skew}s off"

# 4b. a clean close (FIN) mid response body, and a stall in the middle of the body
#     (the headers and the first N bytes come at once).
set_rules <<EOF
[{"match": {"method": "GET", "path": "^/$bucket/big$"}, "count": 1, "close_response_body_after": 65536},
 {"match": {"method": "GET", "path": "^/$bucket/big$"}, "count": 1, "stall_ms": 1500,
  "stall_response_body_after": 100000}]
EOF
rc=0; curl -sS "$P/$bucket/big" -o "$work/part" 2>"$work/err" || rc=$?
size=$(stat -c %s "$work/part" 2>/dev/null || echo 0)
check "close_response_body_after: curl sees a body cut short by EOF (exit 18)" "18" "$rc"
check "close_response_body_after: exactly N bytes delivered" "65536" "$size"
cmp -s -n 65536 "$work/part" "$work/big" && ok "close_response_body_after: the bytes are upstream's" \
  || bad "close_response_body_after: partial body differs"
check "close_response_body_after: logged" "1" \
  "$(logged "^GET /$bucket/big rule=0 close_response_body_after 65536 (sent 65536, upstream 200)$")"
t=$(curl -sS -f "$P/$bucket/big" -o "$work/got" -w '%{time_starttransfer} %{time_total}')
awk -v a="${t% *}" -v b="${t#* }" 'BEGIN { exit !(a < 1.0 && b >= 1.4) }' \
  && ok "stall_response_body_after: headers at once, body stalled (${t})" \
  || bad "stall_response_body_after: first byte / total: ${t}"
cmp -s "$work/got" "$work/big" && ok "stall_response_body_after: body intact" || bad "stall_response_body_after: body differs"
check "stall_response_body_after: logged" "1" \
  "$(logged "^GET /$bucket/big rule=1 stall_ms 1500 after 100000 pass 200$")"
echo '[{"stall_response_body_after": 10, "status": 503}]' >"$work/bad-rules.json"
rc=0; python3 "$here/faultproxy.py" --upstream "$upstream" --rules "$work/bad-rules.json" \
  >/dev/null 2>"$work/err" || rc=$?
check "stall_response_body_after without stall_ms is refused at start" "1 1" \
  "$rc $(grep -c 'stall_response_body_after must be an offset >= 0 and needs stall_ms' "$work/err")"
echo '[{"close_response_body_after": 10, "reset_response_body_after": 10}]' >"$work/bad-rules.json"
rc=0; python3 "$here/faultproxy.py" --upstream "$upstream" --rules "$work/bad-rules.json" \
  >/dev/null 2>"$work/err" || rc=$?
check "close_ and reset_response_body_after exclude each other" "1 1" \
  "$rc $(grep -c 'exclude each other' "$work/err")"

# 5. flipped bytes: the body reaches the other side with exactly one byte inverted
#    (XOR 0xff) at the content offset given, once (count), chunked framing skipped.
# flipped A B: "SAME-LENGTH [(offset, xor), ...]" of the bytes where B differs from A.
flipped() {
  python3 -c 'import sys
a = open(sys.argv[1], "rb").read(); b = open(sys.argv[2], "rb").read()
print(len(a) == len(b), [(i, x ^ y) for i, (x, y) in enumerate(zip(a, b)) if x != y])' "$1" "$2"
}
set_rules <<EOF
[{"match": {"method": "PUT", "path": "^/$bucket/flip-up$"}, "count": 1, "flip_request_body_byte": 100000},
 {"match": {"method": "PUT", "path": "^/$bucket/flip-chunked$"}, "count": 1, "flip_request_body_byte": 100000},
 {"match": {"method": "GET", "path": "^/$bucket/big$"}, "skip": 1, "count": 1, "flip_response_body_byte": "middle"},
 {"match": {"method": "GET", "path": "^/$bucket/obj$"}, "count": 1, "flip_response_body_byte": 300000}]
EOF
code=$(curl -sS -T "$work/mid" "$P/$bucket/flip-up" -o /dev/null -w '%{http_code}')
check "flip_request_body_byte: the server took the upload" "200" "$code"
curl -sS -f "$upstream/$bucket/flip-up" -o "$work/got"
check "flip_request_body_byte: upstream stored byte 100000 inverted, nothing else" \
  "True [(100000, 255)]" "$(flipped "$work/mid" "$work/got")"
check "flip_request_body_byte: logged with the byte's values" "1" \
  "$(logged "^PUT /$bucket/flip-up rule=0 flip_request_body_byte 100000 (0x[0-9a-f]\{2\}->0x[0-9a-f]\{2\}) pass 200$")"
curl -sS -f -T "$work/mid" "$P/$bucket/flip-up" -o /dev/null
curl -sS -f "$upstream/$bucket/flip-up" -o "$work/got"
cmp -s "$work/got" "$work/mid" && ok "flip_request_body_byte: count 1, the next upload is intact" \
  || bad "flip_request_body_byte: the second upload was changed too"
code=$(curl -sS -H 'Transfer-Encoding: chunked' -T "$work/mid" "$P/$bucket/flip-chunked" -o /dev/null -w '%{http_code}')
check "flip_request_body_byte, chunked body: the server took the upload" "200" "$code"
curl -sS -f "$upstream/$bucket/flip-chunked" -o "$work/got"
check "flip_request_body_byte, chunked body: content byte 100000 inverted (framing skipped)" \
  "True [(100000, 255)]" "$(flipped "$work/mid" "$work/got")"
curl -sS -f "$P/$bucket/big" -o "$work/full"
cmp -s "$work/full" "$work/big" && ok "flip_response_body_byte: skip 1, the first GET is intact" \
  || bad "flip_response_body_byte: the first GET was changed"
rc=0; curl -sS -f "$P/$bucket/big" -o "$work/got" || rc=$?
check "flip_response_body_byte: curl sees a whole, well-framed answer" "0" "$rc"
check "flip_response_body_byte middle: byte 1048576 of 2 MiB inverted, nothing else" \
  "True [(1048576, 255)]" "$(flipped "$work/big" "$work/got")"
check "flip_response_body_byte: logged" "1" \
  "$(logged "^GET /$bucket/big rule=2 flip_response_body_byte 1048576 (0x[0-9a-f]\{2\}->0x[0-9a-f]\{2\}) pass 200$")"
curl -sS -f "$P/$bucket/obj" -o "$work/got"
cmp -s "$work/got" "$work/mid" && ok "flip_response_body_byte past the end: the body is intact" \
  || bad "flip_response_body_byte past the end changed the body"
check "flip_response_body_byte past the end: logged as not flipped" "1" \
  "$(logged "^GET /$bucket/obj rule=3 flip_response_body_byte 300000 (not flipped: body has 300000 content bytes) pass 200$")"
echo '[{"flip_request_body_byte": -1}]' >"$work/bad-rules.json"
rc=0; python3 "$here/faultproxy.py" --upstream "$upstream" --rules "$work/bad-rules.json" \
  >/dev/null 2>"$work/err" || rc=$?
check "a negative flip offset is refused at start" "1 1" \
  "$rc $(grep -c 'flip_request_body_byte must be an offset' "$work/err")"

# 5b. fraction: a seeded random share of the matching requests; the same
# choices again after a reload (which restarts the generator).
frac_rules() {
  set_rules <<EOF2
[{"match": {"method": "GET", "path": "^/$bucket/frac$"}, "fraction": 0.3, "seed": 7,
  "status": 503, "headers": {"Retry-After": "1"}}]
EOF2
  sleep 0.1
}
frac_run() { # the status of 40 GETs, one per line
  local i
  for ((i = 0; i < 40; i++)); do
    curl -sS -o /dev/null -w '%{http_code}\n' "$P/$bucket/frac"
  done
}
curl -sS -f -X PUT --data-binary "x" "$P/$bucket/frac" -o /dev/null
frac_rules
first=$(frac_run | tr '\n' ' ')
frac_rules
second=$(frac_run | tr '\n' ' ')
n503=$(tr ' ' '\n' <<<"$first" | grep -c '^503$' || true)
check "fraction 0.3 of 40: some but not all answered 503 (5..20)" "1" \
  "$(( n503 >= 5 && n503 <= 20 ))"
check "fraction: the same choices after a reload (seeded)" "$first" "$second"
echo '[{"status": 503, "fraction": 2}]' >"$work/bad-rules.json"
rc=0; python3 "$here/faultproxy.py" --upstream "$upstream" --rules "$work/bad-rules.json" \
  >/dev/null 2>"$work/err" || rc=$?
check "a fraction above 1 is refused at start" "1 1" \
  "$rc $(grep -c 'fraction must be a number from 0 to 1' "$work/err")"

# 6. stop on SIGTERM.
pid=$(cat "$proxy_dir/pid")
"$here/faultproxy.sh" stop "$proxy_dir"
if kill -0 "$pid" 2>/dev/null; then bad "stop: proxy $pid still running"; else ok "stop: proxy gone"; fi

echo "$passed passed, $failed failed"
((failed == 0))
