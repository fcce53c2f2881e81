#!/usr/bin/env bash
# The Azure provider through faultproxy.py in front of Azurite: 503
# ServerBusy with Retry-After is retried after the server's delay; a
# connection reset in the middle of an upload (one Put Blob, and one Put
# Block of a blob in blocks) is retried from a replayable file and the blob
# reads back byte-identical; a download cut short resumes; a 403 for clock
# skew is sent again dated on the server's clock; a copy's follow-up (Set
# Blob Metadata/Properties, sent If-Match) whose answer is lost is taken
# when its retry meets the ETag it made, and one refused for its If-Match
# leaves another writer's blob alone (also one that rewrote the blob in
# between: a Put Blob of the same bytes, another copy of the source).
. "$(dirname "$0")/azlib.sh" "$@"

C=$AZ_C
P=/devstoreaccount1/$C
xt mb "az:$C"
assert_rc 0

# Azure's 412 body, as JSON (a follow-up's If-Match refused).
CONDITION_NOT_MET='"<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>ConditionNotMet</Code><Message>The condition specified using HTTP conditional header(s) is not met.</Message></Error>"'
cat > "$T/rules.json" <<JSON
[
  {"match": {"method": "PUT", "path": "^$P/busy\\\\.bin\$"}, "count": 2,
   "status": 503,
   "headers": {"Retry-After": "1", "x-ms-error-code": "ServerBusy",
               "Content-Type": "application/xml"},
   "body": "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>ServerBusy</Code><Message>The server is busy.</Message></Error>"},
  {"match": {"method": "PUT", "path": "^$P/reset\\\\.bin\$"}, "count": 1,
   "reset_request_body_after": 1048576},
  {"match": {"method": "PUT", "path": "^$P/blocks\\\\.bin\$",
             "query": "comp=block&"}, "skip": 1, "count": 1,
   "reset_request_body_after": 1048576},
  {"match": {"method": "GET", "path": "^$P/reset\\\\.bin\$"}, "count": 1,
   "reset_response_body_after": 65536},
  {"match": {"method": "PUT", "path": "^$P/pending(-bad|-other)?\\\\.bin\$",
             "headers": {"x-ms-copy-source": "."}},
   "status": 202, "headers": {"x-ms-copy-status": "pending",
                              "x-ms-copy-id": "copy-1"}},
  {"match": {"method": "HEAD", "path": "^$P/pending\\\\.bin\$"}, "count": 2,
   "status": 200, "headers": {"x-ms-copy-status": "pending",
                              "x-ms-copy-id": "copy-1"}},
  {"match": {"method": "HEAD", "path": "^$P/pending\\\\.bin\$"}, "count": 1,
   "status": 200, "headers": {"x-ms-copy-status": "success",
                              "x-ms-copy-id": "copy-1"}},
  {"match": {"method": "HEAD", "path": "^$P/pending-bad\\\\.bin\$"},
   "status": 200, "headers": {"x-ms-copy-status": "failed",
                              "x-ms-copy-id": "copy-1",
                              "x-ms-copy-status-description": "500 InternalError https://secret/?sig=zzz"}},
  {"match": {"method": "HEAD", "path": "^$P/pending-other\\\\.bin\$"},
   "status": 200, "headers": {"x-ms-copy-status": "pending",
                              "x-ms-copy-id": "copy-2"}},
  {"match": {"method": "GET", "path": "^$P/skew\\\\.txt\$"}, "count": 1,
   "status": 403, "date_skew_s": 3600,
   "headers": {"x-ms-error-code": "AuthenticationFailed",
               "Content-Type": "application/xml"},
   "body": "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.</Message><AuthenticationErrorDetail>Request date header too old: 'Sun, 06 Dec 2026 10:00:00 GMT'</AuthenticationErrorDetail></Error>"},
  {"match": {"method": "PUT", "path": "^$P/skew-put\\\\.bin\$"}, "count": 1,
   "status": 403, "date_skew_s": 3600,
   "headers": {"x-ms-error-code": "AuthenticationFailed",
               "Content-Type": "application/xml"},
   "body": "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.</Message><AuthenticationErrorDetail>Request date header too old: 'Sun, 06 Dec 2026 10:00:00 GMT'</AuthenticationErrorDetail></Error>"},
  {"match": {"method": "PUT", "path": "^$P/lost\\\\.bin\$"}, "count": 1,
   "lose_response": true},
  {"match": {"method": "PUT", "path": "^$P/lost-md\\\\.bin\$",
             "query": "comp=metadata"}, "count": 1, "lose_response": true},
  {"match": {"method": "PUT", "path": "^$P/lost-ct\\\\.bin\$",
             "query": "comp=properties"}, "count": 1, "lose_response": true},
  {"match": {"method": "PUT", "path": "^$P/ifm-md\\\\.bin\$",
             "query": "comp=metadata", "headers": {"If-Match": "."}},
   "status": 412,
   "headers": {"x-ms-error-code": "ConditionNotMet",
               "Content-Type": "application/xml"},
   "body": $CONDITION_NOT_MET},
  {"match": {"method": "PUT", "path": "^$P/ifm-ct\\\\.bin\$",
             "query": "comp=properties", "headers": {"If-Match": "."}},
   "status": 412,
   "headers": {"x-ms-error-code": "ConditionNotMet",
               "Content-Type": "application/xml"},
   "body": $CONDITION_NOT_MET},
  {"match": {"method": "PUT", "path": "^$P/other-(put|copy|rm)\\\\.bin\$",
             "query": "comp=properties", "headers": {"If-Match": "."}},
   "status": 412, "stall_ms": 4000,
   "headers": {"x-ms-error-code": "ConditionNotMet",
               "Content-Type": "application/xml"},
   "body": $CONDITION_NOT_MET}
]
JSON
PROXY=$("$XTSTORE_FAULTPROXY_SH" start "$T/proxy" "$AZ_DIR" "$T/rules.json") || {
  echo "FAIL: the fault proxy did not start"; exit 1; }
trap 'XTSTORE_PLUGIN_PATH= "$XT_BIN" --config "$CONFIG" -q rb -f "az:$AZ_C" \
  >/dev/null 2>&1; "$XTSTORE_FAULTPROXY_SH" stop "$T/proxy"; rm -rf "$T"' EXIT
az_config "  azp: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\", key: \"\$env:AZ_KEY\", endpoint: \"$PROXY\", retry: {attempts: 5, base-ms: 10, max-ms: 100}, }
  azp1: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\", key: \"\$env:AZ_KEY\", endpoint: \"$PROXY\", retry: 1, }"

# count PATTERN: how many proxy log lines match.
count() {
  grep -c -- "$1" "$T/proxy/log" || true
}

# 503 ServerBusy twice, Retry-After: 1 s each: the put succeeds on the
# third try, no sooner than the server asked (the policy's own backoff is
# at most 100 ms).
head -c 200000 /dev/urandom > "$T/busy.bin"
start=$(date +%s%N)
xt put "$T/busy.bin" "azp:$C/busy.bin"
end=$(date +%s%N)
assert_rc 0
check
[ "$(count "^PUT $P/busy.bin rule=0 status 503")" = 2 ] ||
  fail "expected two 503 answers in the proxy log: $(cat "$T/proxy/log")"
check
[ "$(count "^PUT $P/busy.bin pass 201")" = 1 ] ||
  fail "expected one passed put in the proxy log: $(cat "$T/proxy/log")"
check
[ $(((end - start) / 1000000)) -ge 1900 ] ||
  fail "two Retry-After: 1 answers took only $(((end - start) / 1000000)) ms"
xt get "az:$C/busy.bin" "$T/busy.back"
assert_rc 0
assert_same "$T/busy.bin" "$T/busy.back"

# A reset after 1 MiB of a 3 MiB Put Blob: retried from the file.
head -c $((3 * 1048576 + 5)) /dev/urandom > "$T/reset.bin"
xt put "$T/reset.bin" "azp:$C/reset.bin"
assert_rc 0
check
[ "$(count "^PUT $P/reset.bin rule=1 reset_request_body_after")" = 1 ] ||
  fail "the reset rule did not fire: $(cat "$T/proxy/log")"
# ... and read back through the proxy, whose first GET is cut after 64 KiB:
# the download resumes with a range and is byte-identical.
xt get "azp:$C/reset.bin" "$T/reset.back"
assert_rc 0
assert_same "$T/reset.bin" "$T/reset.back"
check
[ "$(count "^GET $P/reset.bin rule=3 reset_response_body_after")" = 1 ] ||
  fail "the download reset did not fire: $(cat "$T/proxy/log")"

# A reset inside the second Put Block of a 70 MiB put (blocks of 64 MiB):
# the whole put is retried with fresh block ids, nothing half-made shows.
head -c $((70 * 1048576)) /dev/urandom > "$T/blocks.bin"
xt put "$T/blocks.bin" "azp:$C/blocks.bin"
assert_rc 0
check
[ "$(count "^PUT $P/blocks.bin rule=2 reset_request_body_after")" = 1 ] ||
  fail "the block reset did not fire: $(cat "$T/proxy/log")"
xt get "az:$C/blocks.bin" "$T/blocks.back"
assert_rc 0
assert_same "$T/blocks.bin" "$T/blocks.back"
xt ls -r "az:$C"
assert_rc 0
assert_out "blocks.bin
busy.bin
reset.bin"

# A server-side copy that is pending (Azurite copies at once, so the proxy
# plays the service): polled until it succeeds; a failed one is an error
# that does not quote the status description (it may hold the source URL);
# a copy id that changed means someone else replaced the destination.
# The copy the proxy plays never reaches Azurite, so the real one is made
# first (straight to Azurite): the host's check of the copy after it ends
# (size and CRC-32C against the source's) then finds the right bytes.
xt cp "az:$C/busy.bin" "az:$C/pending.bin"
assert_rc 0
xt cp "azp:$C/busy.bin" "azp:$C/pending.bin"
assert_rc 0
check
[ "$(count "^HEAD $P/pending.bin rule=5 ")" = 2 ] &&
  [ "$(count "^HEAD $P/pending.bin rule=6 ")" = 1 ] ||
  fail "the copy was not polled until success: $(cat "$T/proxy/log")"
xt cp "azp:$C/busy.bin" "azp:$C/pending-bad.bin"
assert_rc 1
assert_err_has "the server-side copy ended 'failed'"
assert_err_lacks "sig=zzz"
xt cp "azp:$C/busy.bin" "azp:$C/pending-other.bin"
assert_rc 5
assert_err_has "replaced the destination"

# Clock skew: a 403 "Request date header too old" whose Date is an hour
# ahead. The plugin takes the server's clock and sends the request again
# itself (the service allows the host no retry); a streamed put whose body
# is gone is left to the host, whose retry is dated right.
printf 'on time' > "$T/skew.txt"
xt put "$T/skew.txt" "az:$C/skew.txt"
assert_rc 0
xt -v cat "azp1:$C/skew.txt"
assert_rc 0
assert_out "on time"
assert_err_has "the server's clock differs from ours by 3"
check
[ "$(count "^GET $P/skew.txt ")" = 2 ] ||
  fail "expected the refused GET and one more: $(cat "$T/proxy/log")"
head -c 300000 /dev/urandom > "$T/skew-put.bin"
xt put "$T/skew-put.bin" "azp:$C/skew-put.bin"
assert_rc 0
xt get "az:$C/skew-put.bin" "$T/skew-put.back"
assert_rc 0
assert_same "$T/skew-put.bin" "$T/skew-put.back"

# A put whose answer is lost (the server stored the blob, the connection
# then failed): the host finds the blob there with the size and CRC-32C
# it sent and reports it written, without sending it again (the service
# allows no retry, so a resend or a failure would show).
head -c 300000 /dev/urandom > "$T/lost.bin"
xt -v put "$T/lost.bin" "azp1:$C/lost.bin"
assert_rc 0
assert_err_has "the answer to the put was lost, but the store holds the object"
check
[ "$(count "^PUT $P/lost.bin ")" = 1 ] ||
  fail "expected one PUT of lost.bin: $(cat "$T/proxy/log")"
xt get "az:$C/lost.bin" "$T/lost.back"
assert_rc 0
assert_same "$T/lost.bin" "$T/lost.back"

# A copy that replaces the content type clears the metadata (Set Blob
# Metadata), then sets the type (Set Blob Properties), each If-Match the
# ETag before it. Either's answer lost: Azurite applied it, the retry
# meets the new ETag (412); the blob, headed, is what the follow-up makes
# of this copy, so the copy goes on and succeeds.
printf 'copied text' > "$T/src.txt"
xt put --content-type text/plain --meta team=ml "$T/src.txt" "az:$C/src.txt"
assert_rc 0
xt cp --content-type text/x-new "azp:$C/src.txt" "azp:$C/lost-md.bin"
assert_rc 0
check
[ "$(count "^PUT $P/lost-md.bin rule=12 lose_response")" = 1 ] &&
  [ "$(count "^PUT $P/lost-md.bin pass 412")" = 1 ] ||
  fail "the metadata follow-up's answer was not lost and retried: $(cat "$T/proxy/log")"
xt stat "az:$C/lost-md.bin"
assert_out_has "content-type: text/x-new"
assert_out_has "metadata:     (none)"
xt cat "az:$C/lost-md.bin"
assert_out "copied text"
xt cp --content-type text/x-new --meta team=ai "azp:$C/src.txt" \
  "azp:$C/lost-ct.bin"
assert_rc 0
check
[ "$(count "^PUT $P/lost-ct.bin rule=13 lose_response")" = 1 ] &&
  [ "$(count "^PUT $P/lost-ct.bin pass 412")" = 1 ] ||
  fail "the properties follow-up's answer was not lost and retried: $(cat "$T/proxy/log")"
xt stat "az:$C/lost-ct.bin"
assert_out_has "content-type: text/x-new"
assert_out_has "  team=ai"

# A follow-up refused for its If-Match (the proxy answers 412 only to one
# that carries it): the blob, headed, is not what the follow-up makes, so
# another writer's: said so, exit 5, left alone (the source's metadata
# and content type, which the copy took along, stay).
xt cp --content-type text/x-new "azp:$C/src.txt" "azp:$C/ifm-md.bin"
assert_rc 5
assert_err "xtstore: cp: service 'azp': copy from '$C/src.txt' to blob \
'$C/ifm-md.bin': the copy was made, but another writer replaced the blob \
before its metadata could be cleared; it was left alone"
xt stat "az:$C/ifm-md.bin"
assert_out_has "content-type: text/plain"
assert_out_has "  team=ml"
xt cp --content-type text/x-new --meta team=ai "azp:$C/src.txt" \
  "azp:$C/ifm-ct.bin"
assert_rc 5
assert_err "xtstore: cp: service 'azp': copy from '$C/src.txt' to blob \
'$C/ifm-ct.bin': the copy was made, but another writer replaced the blob \
before its content type could be set; it was left alone"
xt stat "az:$C/ifm-ct.bin"
assert_out_has "content-type: text/plain"

# other_writer NAME CMD...: the copy to NAME through the proxy, whose
# content type follow-up is held 4 s and refused (412); meanwhile, once
# the copy's blob was headed, CMD (another writer, straight to Azurite)
# rewrites the blob. The re-check must not take the other writer's blob.
other_writer() {
  local name=$1 i
  shift
  "$XT_BIN" --config "$CONFIG" cp --content-type text/x-new --meta team=ai \
    "azp:$C/src.txt" "azp:$C/$name" > "$T/.out" 2> "$T/.err" &
  local pid=$!
  for i in $(seq 100); do
    [ "$(count "^HEAD $P/$name ")" -ge 1 ] && break
    sleep 0.05
  done
  sleep 0.3
  "$@" >/dev/null 2>&1 || fail "the other writer failed: $*"
  wait "$pid"
  _collect $?
}
# Put Blob of the same bytes and content type, other metadata: no copy id
# (Put Blob drops it, as Set Blob Properties does on Azure), the
# Content-MD5 the copy's, but not the copy's metadata: another writer's.
other_writer other-put.bin "$XT_BIN" --config "$CONFIG" put \
  --content-type text/x-new --meta team=other "$T/src.txt" \
  "az:$C/other-put.bin"
[ "$RC" -eq 5 ] || fail "another writer's Put Blob was taken: exit $RC"
assert_err "xtstore: cp: service 'azp': copy from '$C/src.txt' to blob \
'$C/other-put.bin': the copy was made, but another writer replaced the \
blob before its content type could be set; it was left alone"
xt stat "az:$C/other-put.bin"
assert_out_has "content-type: text/x-new"
assert_out_has "  team=other"
# Another copy of the same source, as this one makes it: all the same
# but its copy id.
other_writer other-copy.bin "$XT_BIN" --config "$CONFIG" cp \
  --content-type text/x-new --meta team=ai "az:$C/src.txt" \
  "az:$C/other-copy.bin"
[ "$RC" -eq 5 ] || fail "another writer's copy was taken: exit $RC"
# The blob deleted meanwhile: the re-check finds none, which is the same
# refusal (PRECONDITION), not a not-found that would read as the source's.
other_writer other-rm.bin "$XT_BIN" --config "$CONFIG" rm "az:$C/other-rm.bin"
[ "$RC" -eq 5 ] || fail "a blob deleted before the re-check: exit $RC"
assert_err "xtstore: cp: service 'azp': copy from '$C/src.txt' to blob \
'$C/other-rm.bin': the copy was made, but another writer replaced the \
blob before its content type could be set; it was left alone"

finish
