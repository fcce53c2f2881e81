#!/usr/bin/env bash
# The GCS provider through faultproxy.py in front of a GCS test server of
# its own (this test expires every token it issued): 503 backendError and
# 429 rateLimitExceeded with Retry-After are retried after the server's
# delay; a token endpoint that finds the JWT's times off gets the clock
# named; the tokens expire in the middle of an upload in parts from a
# pipe: the 401 drops the token, the part is sent again with a new one and
# the object is whole; a byte flipped on the way up and on the way down is
# caught and the transfer done again; a resumable session the service lost
# is started again; a copy or an append whose result the service stored
# short is an error; a resumable upload (a file of a known length over 16
# MiB, below the multipart threshold) whose every chunk sent has a byte
# flipped fails naming the object and the checksum mismatch, and the
# object there before is intact. (A reset inside a resumable upload:
# test_resume.sh.)
. "$(dirname "$0")/gcslib.sh" "$@"

gcs_private_server
B=$GCS_B
P="/upload/storage/v1/b/$B/o"
MiB=1048576

err_json() { # CODE REASON MESSAGE
  printf '{\\"error\\": {\\"code\\": %s, \\"message\\": \\"%s\\", \\"errors\\": [{\\"reason\\": \\"%s\\", \\"message\\": \\"%s\\", \\"domain\\": \\"global\\"}]}}' \
    "$1" "$3" "$2" "$3"
}

cat > "$T/rules.json" <<JSON
[
  {"match": {"method": "POST", "path": "^$P\$", "query": "uploadType=(multipart|media)"},
   "count": 1, "status": 503,
   "headers": {"Retry-After": "1", "Content-Type": "application/json"},
   "body": "$(err_json 503 backendError 'Backend Error')"},
  {"match": {"method": "POST", "path": "^$P\$", "query": "uploadType=(multipart|media)"},
   "count": 1, "status": 429,
   "headers": {"Retry-After": "1", "Content-Type": "application/json"},
   "body": "$(err_json 429 rateLimitExceeded 'The rate of requests is too high')"},
  {"match": {"method": "POST", "path": "^$P\$", "query": "uploadType=(multipart|media)",
             "headers": {"content-length": "^30[0-9]{4}\$"}},
   "count": 1, "flip_request_body_byte": "middle"},
  {"match": {"method": "GET", "path": "^/storage/v1/b/$B/o/flip%2Fdown.bin\$",
             "query": "alt=media"},
   "count": 1, "flip_response_body_byte": 1000},
  {"match": {"method": "GET", "path": "^/storage/v1/b/$B/o/flip%2Fmd5.bin\$",
             "query": "alt=media"},
   "count": 1, "flip_response_body_byte": 10},
  {"match": {"method": "POST", "path": "^$P\$",
             "query": "uploadType=media&.*name=kind%2Fplain"},
   "count": 1, "status": 503, "headers": {"Retry-After": "0"}},
  {"match": {"method": "POST", "path": "^$P\$", "query": "uploadType=multipart",
             "headers": {"content-length": "^[1-9][0-9]{2}\$"}},
   "count": 1, "status": 503, "headers": {"Retry-After": "0"}},
  {"match": {"method": "POST", "path": "^/token-skew\$"}, "date_skew_s": -600,
   "status": 400, "headers": {"Content-Type": "application/json"},
   "body": "{\\"error\\": \\"invalid_grant\\", \\"error_description\\": \\"Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.\\"}"},
  {"match": {"method": "POST", "path": "^/token-agree\$"},
   "status": 400, "headers": {"Content-Type": "application/json"},
   "body": "{\\"error\\": \\"invalid_grant\\", \\"error_description\\": \\"Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.\\"}"}
]
JSON
PROXY=$("$XTSTORE_FAULTPROXY_SH" start "$T/proxy" "$GCS_DIR" "$T/rules.json") || {
  echo "FAIL: the fault proxy did not start"; exit 1; }
trap 'XTSTORE_PLUGIN_PATH= "$XT_BIN" --config "$CONFIG" -q rb -f "gcs:$B" \
  >/dev/null 2>&1; "$XTSTORE_FAULTPROXY_SH" stop "$T/proxy"; gcs_cleanup' EXIT
gcs_config "  gcsp: {type: \"storage\", provider: \"gcs\", endpoint: \"$PROXY\",
         credentials-file: \"$GCS_DIR/sa.json\",
         retry: {attempts: 5, base-ms: 10, max-ms: 100}}
  gskew: {type: \"storage\", provider: \"gcs\", endpoint: \"$PROXY\",
          credentials-file: \"$GCS_DIR/sa.json\", token-uri: \"$PROXY/token-skew\",
          retry: {attempts: 1}}
  gagree: {type: \"storage\", provider: \"gcs\", endpoint: \"$PROXY\",
           credentials-file: \"$GCS_DIR/sa.json\", token-uri: \"$PROXY/token-agree\",
           retry: {attempts: 1}}
  gcs2: {type: \"storage\", provider: \"gcs\", endpoint: \"$GCS_E\",
         credentials-file: \"$GCS_DIR/sa.json\", retry: {attempts: 2}}
  gcsp1: {type: \"storage\", provider: \"gcs\", endpoint: \"$PROXY\",
          credentials-file: \"$GCS_DIR/sa.json\", retry: {attempts: 1}}
  gcs1: {type: \"storage\", provider: \"gcs\", endpoint: \"$GCS_E\",
         credentials-file: \"$GCS_DIR/sa.json\", retry: {attempts: 1},
         multipart: {threshold: 1G}}"

count() { # PATTERN: how many proxy log lines match
  grep -c -- "$1" "$T/proxy/log" || true
}

xt mb "gcs:$B"
assert_rc 0

# --- 503 backendError, then 429 rateLimitExceeded, Retry-After: 1 s each -----
head -c 200000 /dev/urandom > busy.bin
start=$(date +%s%N)
xt put busy.bin "gcsp:$B/busy.bin"
end=$(date +%s%N)
assert_rc 0
check
[ "$(count "^POST $P rule=0 status 503")" = 1 ] ||
  fail "expected one 503 in the proxy log: $(cat "$T/proxy/log")"
check
[ "$(count "^POST $P rule=1 status 429")" = 1 ] ||
  fail "expected one 429 in the proxy log: $(cat "$T/proxy/log")"
check
[ $(((end - start) / 1000000)) -ge 1900 ] ||
  fail "two Retry-After: 1 answers took only $(((end - start) / 1000000)) ms"
xt get "gcs:$B/busy.bin" busy.back
assert_rc 0
assert_same busy.bin busy.back

# --- a byte flipped on the way up, then on the way down: caught, done again ---
head -c 300000 /dev/urandom > flip.bin
xt put flip.bin "gcsp:$B/flip/up.bin"
assert_rc 0
check
[ "$(count "^POST $P rule=2 flip_request_body_byte [0-9]* (0x")" = 1 ] ||
  fail "expected one flipped upload in the proxy log: $(cat "$T/proxy/log")"
xt get "gcs:$B/flip/up.bin" flip.up
assert_rc 0
assert_same flip.bin flip.up
xt put flip.bin "gcs:$B/flip/down.bin"
assert_rc 0
# the bytes are delivered when the CRC-32C differs: no replay (it would ask
# for the range after them), an error and no file; a new get is right
xt get "gcsp:$B/flip/down.bin" flip.down
assert_rc 1
assert_err_has "the 300000 bytes received have CRC-32C"
check
[ ! -e flip.down ] || fail "a get whose CRC-32C differs left flip.down"
check
[ "$(count "rule=3 flip_response_body_byte 1000 (0x")" = 1 ] ||
  fail "expected one flipped download in the proxy log: $(cat "$T/proxy/log")"
xt get "gcsp:$B/flip/down.bin" flip.down
assert_rc 0
assert_same flip.bin flip.down
# a server that gives only an MD5: the MD5 catches the flip
xt put flip.bin "gcs:$B/flip/md5.bin"
assert_rc 0
curl -sS -X POST "$GCS_E/_test/config" -d '{"md5_only": true}' > /dev/null
xt get "gcsp1:$B/flip/md5.bin" flip.md5
assert_rc 1
assert_err_has "the 300000 bytes received have another MD5 than the service's x-goog-hash gives"
xt get "gcsp1:$B/flip/md5.bin" flip.md5
assert_rc 0
assert_same flip.bin flip.md5
curl -sS -X POST "$GCS_E/_test/config" -d '{"md5_only": false}' > /dev/null

# --- the resumable session is lost: the put starts again (retryable) ---------
head -c $((17 * MiB)) /dev/urandom > lost.bin  # resumable (over 16 MiB)
curl -sS -X POST "$GCS_E/_test/config" -d '{"lose_next_session": true}' > /dev/null
xt put lost.bin "gcs1:$B/lost.bin"
assert_rc 1
assert_err_has "the resumable session was lost (HTTP 404); the put starts again"
curl -sS -X POST "$GCS_E/_test/config" -d '{"lose_next_session": true}' > /dev/null
xt put lost.bin "gcs2:$B/lost.bin"
assert_rc 0
xt get "gcs:$B/lost.bin" lost.back
assert_rc 0
assert_same lost.bin lost.back

# --- a copy or an append the service stored a byte short: an error ----------
printf 'first part\n' > app.txt
xt put app.txt "gcs:$B/app.txt"
assert_rc 0
curl -sS -X POST "$GCS_E/_test/config" -d '{"truncate_next": "rewrite"}' > /dev/null
xt cp "gcs1:$B/app.txt" "gcs1:$B/app-copy.txt"
assert_rc 1
assert_err_has "the service stored 10 bytes, the source's are 11"
curl -sS -X POST "$GCS_E/_test/config" -d '{"truncate_next": "compose"}' > /dev/null
printf 'more\n' > more.txt
xt append more.txt "gcs1:$B/app.txt"
assert_rc 1
assert_err_has "the service stored 15 bytes, the object and the bytes appended are 16"

# --- the token endpoint finds the JWT's times off ----------------------------
# Its clock 10 minutes behind ours: the JWT is signed again with its Date,
# once, and granted.
hook POST "/_test/clock?skew=-600"
xt ls "gcs2:$B"
rc_skew=$RC
hook GET /_test/clock
clock=$HOOK
hook POST "/_test/clock?skew=0"
RC=$rc_skew
assert_rc 0
check
[ "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["refused"])' "$clock")" = 1 ] ||
  fail "expected the endpoint to refuse one grant for its clock: $clock"
# Refused again, dated by its clock: one more grant, then the clock is named.
xt ls "gskew:$B"
assert_rc 6
assert_error ls
assert_err_has "credentials file '$GCS_DIR/sa.json': the token endpoint refused the service-account grant: HTTP 400 invalid_grant"
assert_err_has "clock"
check
[ "$(count "^POST /token-skew rule=")" = 2 ] ||
  fail "expected the grant sent twice (signed again with the endpoint's Date): $(cat "$T/proxy/log")"
# Its Date agrees with our clock: signing again would change nothing.
xt ls "gagree:$B"
assert_rc 6
assert_err_has "clock"
check
[ "$(count "^POST /token-agree rule=")" = 1 ] ||
  fail "expected one grant to an endpoint whose Date agrees: $(cat "$T/proxy/log")"

# --- the tokens expire between two parts of an upload from a pipe --------
hook GET /_test/counters
before=$(python3 -c 'import json,sys; c=json.loads(sys.argv[1]); print(c["unauthorized"], c["token_grants"])' "$HOOK")
head -c $((20 * MiB)) /dev/urandom > expire.bin
# Once the upload has its token (a grant more than before), every token
# expires; only then does the pipe deliver the rest.
read -r _ g0 <<< "$before"
(
  for _ in $(seq 300); do
    hook GET /_test/counters
    [ "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["token_grants"])' "$HOOK")" -gt "$g0" ] && break
    sleep 0.1
  done
  curl -sS -X POST "$GCS_E/_test/expire-tokens" > /dev/null
  touch "$T/expired"
) &
xt_pipe "head -c $((9 * MiB)) expire.bin; while [ ! -f '$T/expired' ]; do sleep 0.1; done; tail -c +$((9 * MiB + 1)) expire.bin" \
  put - "gcs2:$B/expire.bin"
assert_rc 0
wait
hook GET /_test/counters
after=$(python3 -c 'import json,sys; c=json.loads(sys.argv[1]); print(c["unauthorized"], c["token_grants"])' "$HOOK")
read -r u0 g0 <<< "$before"
read -r u1 g1 <<< "$after"
check
[ "$u1" -gt "$u0" ] || fail "no 401 seen after the tokens expired ($before -> $after)"
check
[ "$g1" -gt "$g0" ] || fail "no new token was granted after the 401 ($before -> $after)"
xt get "gcs:$B/expire.bin" expire.back
assert_rc 0
assert_same expire.bin expire.back

# A small object without user metadata goes up as a media upload (the body
# alone), one with metadata as a multipart one: each answered 503 once by a
# rule that only its kind of upload matches, then stored.
printf 'plain' > kind.txt
xt put kind.txt "gcsp:$B/kind/plain"
assert_rc 0
xt put --meta owner=ana kind.txt "gcsp:$B/kind/meta"
assert_rc 0
check
[ "$(count "^POST $P rule=5 status 503")" = 1 ] ||
  fail "the plain put was not a media upload: $(cat "$T/proxy/log")"
check
[ "$(count "^POST $P rule=6 status 503")" = 1 ] ||
  fail "the put with metadata was not a multipart upload: $(cat "$T/proxy/log")"
xt meta "gcs:$B/kind/meta"
assert_out_has "owner=ana"

# --- a resumable upload whose every chunk has a byte flipped ----------------
# The session's URI is the server's own (as GCS answers it, see
# test_resume.sh): a second proxy, of its own rules, is libcurl's HTTP
# proxy, and flips byte 100000 of every PUT to the session.
cat > "$T/rules2.json" <<JSON
[
  {"match": {"method": "PUT", "path": "$P\$",
             "query": "name=flipres\\\\.bin&upload_id="},
   "flip_request_body_byte": 100000}
]
JSON
PROXY2=$("$XTSTORE_FAULTPROXY_SH" start "$T/proxy2" "$GCS_DIR" "$T/rules2.json") || {
  echo "FAIL: the second fault proxy did not start"; exit 1; }
trap '"$XTSTORE_FAULTPROXY_SH" stop "$T/proxy2"; XTSTORE_PLUGIN_PATH= "$XT_BIN" \
  --config "$CONFIG" -q rb -f "gcs:$B" >/dev/null 2>&1; \
  "$XTSTORE_FAULTPROXY_SH" stop "$T/proxy"; gcs_cleanup' EXIT
printf 'the object before\n' > flipres.old
xt put flipres.old "gcs:$B/flipres.bin"
assert_rc 0
head -c $((17 * MiB)) /dev/urandom > flipres.bin
http_proxy=$PROXY2 no_proxy= NO_PROXY= xt put flipres.bin "gcs1:$B/flipres.bin"
check
[ "$RC" -ne 0 ] || fail "a resumable upload whose chunks were flipped succeeded"
assert_err_has "flipres.bin"
check
printf '%s\n' "$ERR" | grep -Eqi 'CRC-32C|crc32c|MD5|checksum' ||
  fail "the error does not say that a checksum did not match: $ERR"
check
[ "$(grep -c "^PUT $P rule=0 flip_request_body_byte 100000 (0x" "$T/proxy2/log")" -ge 1 ] ||
  fail "the proxy flipped no chunk of the session: $(cat "$T/proxy2/log")"
xt get "gcs:$B/flipres.bin" flipres.back
assert_rc 0
assert_same flipres.old flipres.back

finish
