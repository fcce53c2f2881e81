#!/usr/bin/env bash
# `rm -r` on Azure deletes with Blob Batch, through faultproxy.py in front
# of Azurite (whose log counts the requests): 300 blobs in two batch POSTs
# (256 + 44) and no single DELETE, with Shared Key, a container SAS
# (container batch) and an account SAS (service batch); `az` lists what is
# left. A leased blob fails alone: its own line naming it, exit 8, the
# others gone. A service that refuses Blob Batch (the proxy answers 400
# InvalidQueryParameterValue, as a server without it would) gets the
# host's single deletes instead: said once at -v, the same outcome and exit
# codes. An answer cut short sends the blobs not reported again, only them.
# Each sub-response is matched to its key by Content-ID, in any order. A
# sub-request refused for its signature fails the batch, sent again; one
# answered 503 ServerBusy is sent again alone. sync --delete deletes the
# target's extra blobs in one batch.
. "$(dirname "$0")/azlib.sh" "$@"

C=$AZ_C
P=/devstoreaccount1/$C
export AZURE_CORE_COLLECT_TELEMETRY=false
xt mb "az:$C"
assert_rc 0

echo '[]' > "$T/rules.json"
PROXY=$("$XTSTORE_FAULTPROXY_SH" start "$T/proxy" "$AZ_DIR" "$T/rules.json") || {
  echo "FAIL: the fault proxy did not start"; exit 1; }
trap 'az storage blob lease break --connection-string "$AZ_CONN" -c "$C" \
  -b "t/f150.txt" -o none >/dev/null 2>&1; XTSTORE_PLUGIN_PATH= "$XT_BIN" \
  --config "$CONFIG" -q rb -f "az:$AZ_C" >/dev/null 2>&1; \
  "$XTSTORE_FAULTPROXY_SH" stop "$T/proxy"; rm -rf "$T"' EXIT
CSAS=$("$AZSAS_BIN" container devstoreaccount1 "$AZ_KEY" "$C" rwdl \
  2099-01-01T00:00:00Z) || exit 1
export CSAS
az_config "  azp: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\", key: \"\$env:AZ_KEY\", endpoint: \"$PROXY\", retry: {attempts: 1}, }
  azpsas: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\", sas-token: \"\$env:AZ_SAS\", endpoint: \"$PROXY\", retry: {attempts: 1}, }
  azpcsas: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\", sas-token: \"\$env:CSAS\", endpoint: \"$PROXY\", retry: {attempts: 1}, }
  azpr: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\", key: \"\$env:AZ_KEY\", endpoint: \"$PROXY\", retry: {attempts: 3, base-ms: 10, max-ms: 50}, }"

# 300 blobs under t/, names with a space, '+', '%' and UTF-8 among them.
mkdir -p "$T/tree"
for i in $(seq 1 296); do printf '%s\n' "$i" > "$T/tree/f$i.txt"; done
for n in "sp ace.txt" "a+b.txt" "pct%2F.txt" "caf$(printf '\303\251').txt"; do
  printf 'odd\n' > "$T/tree/$n"
done
fill() {
  xt -q cp -r "$T/tree" "az:$C/t/"
  assert_rc 0
}

# count PATTERN: proxy log lines matching.
count() {
  grep -c -- "$1" "$T/proxy/log" || true
}

# left: the names `az` lists under t/, one per line, sorted.
left() {
  az storage blob list --connection-string "$AZ_CONN" -c "$C" --prefix t/ \
    --query '[].name' -o tsv 2>/dev/null | sort
}

for svc in azp azpcsas azpsas; do
  fill
  : > "$T/proxy/log"
  xt rm -r "$svc:$C/t/"
  assert_rc 0
  check
  [ "$(printf '%s\n' "$OUT" | grep -c '^delete: ')" = 300 ] ||
    fail "$svc: expected 300 delete lines"
  check
  [ "$(count '^POST .* pass 202$')" = 2 ] ||
    fail "$svc: expected two batch POSTs: $(cat "$T/proxy/log")"
  check
  [ "$(count '^DELETE ')" = 0 ] ||
    fail "$svc: single DELETEs sent: $(cat "$T/proxy/log")"
  check
  [ -z "$(left)" ] || fail "$svc: left behind: $(left)"
done
# The account SAS posts to the service, the others to the container.
check
grep -q "^POST /devstoreaccount1/ pass 202" "$T/proxy/log" ||
  fail "account SAS: no service batch: $(cat "$T/proxy/log")"

# A leased blob: that key's failure, the rest deleted, exit 8.
fill
az storage blob lease acquire --connection-string "$AZ_CONN" -c "$C" \
  -b "t/f150.txt" --lease-duration -1 -o none || fail "az lease acquire"
# From now on the leased blob stays: refills leave it out.
rm "$T/tree/f150.txt"
: > "$T/proxy/log"
xt rm -r "azp:$C/t/"
assert_rc 8
assert_err_has "delete blob '$C/t/f150.txt': it is leased (LeaseIdMissing"
check
[ "$(printf '%s\n' "$ERR" | grep -c .)" = 1 ] || fail "expected one error line"
check
[ "$(printf '%s\n' "$OUT" | grep -c '^delete: ')" = 299 ] ||
  fail "expected 299 delete lines"
assert_out_lacks "f150.txt"
check
[ "$(count '^DELETE ')" = 0 ] || fail "single DELETEs sent"
check
[ "$(left)" = "t/f150.txt" ] || fail "left behind: $(left)"

# A service without Blob Batch: the host deletes one by one, once said.
cat > "$T/rules.new" <<'JSON'
[{"match": {"method": "POST", "query": "comp=batch"}, "status": 400,
  "headers": {"x-ms-error-code": "InvalidQueryParameterValue",
              "Content-Type": "application/xml"},
  "body": "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>InvalidQueryParameterValue</Code><Message>Value for one of the query parameters specified in the request URI is invalid.</Message></Error>"}]
JSON
mv "$T/rules.new" "$T/rules.json"
sleep 0.3
fill
: > "$T/proxy/log"
xt -v rm -r "azp:$C/t/"
assert_rc 8
assert_err_has "delete blob '$C/t/f150.txt': it is leased (LeaseIdMissing"
check
[ "$(printf '%s\n' "$ERR" | grep -c 'refuses Blob Batch (HTTP 400 InvalidQueryParameterValue): deleting one by one')" = 1 ] ||
  fail "expected the fallback said once at -v"
check
[ "$(printf '%s\n' "$OUT" | grep -c '^delete: ')" = 299 ] ||
  fail "fallback: expected 299 delete lines"
check
[ "$(count '^POST .*rule=0 status 400')" = 1 ] || fail "expected one refused batch"
check
[ "$(count '^DELETE ')" = 300 ] ||
  fail "fallback: expected 300 single DELETEs: $(count '^DELETE ')"
check
[ "$(left)" = "t/f150.txt" ] || fail "fallback: left behind: $(left)"
# Without -v the fallback is not mentioned.
fill
xt rm -r "azp:$C/t/"
assert_rc 8
assert_err_lacks "Blob Batch"

# A batch answer cut short: the blobs not reported go in a new batch, none
# twice; every blob deleted once (the leased one aside), exit as before.
printf '%s' '[{"match": {"method": "POST", "query": "comp=batch"}, "count": 1,
  "close_response_body_after": 3000}]' > "$T/rules.new"
mv "$T/rules.new" "$T/rules.json"
sleep 0.3
fill
: > "$T/proxy/log"
xt rm -r "azpr:$C/t/"
assert_rc 8
assert_err_has "delete blob '$C/t/f150.txt': it is leased"
check
[ "$(printf '%s\n' "$OUT" | grep -c '^delete: ')" = 299 ] ||
  fail "cut answer: expected 299 delete lines"
check
[ "$(count '^POST .*rule=0 close')" = 1 ] || fail "the answer was not cut: $(cat "$T/proxy/log")"
check
[ "$(count '^POST ')" = 3 ] || fail "cut answer: expected 3 batch POSTs: $(cat "$T/proxy/log")"
check
[ "$(left)" = "t/f150.txt" ] || fail "cut answer: left behind: $(left)"

# Each sub-response is its own key's, by Content-ID and whatever the order:
# an answer (made up by the proxy, in reverse order) where sub-request 0
# is 404 BlobNotFound (already gone: deleted), 1 is 409 SnapshotsPresent
# and 2 404 ContainerNotFound (those keys' own failures), the rest 202.
# Keys in the batch are in listing order: names sorted.
fill
xt ls -r "az:$C/t/"
names=$(printf '%s\n' "$OUT" | sed 's/^.*t\//t\//' | LC_ALL=C sort)
k0=$(printf '%s\n' "$names" | sed -n 1p)
k1=$(printf '%s\n' "$names" | sed -n 2p)
k2=$(printf '%s\n' "$names" | sed -n 3p)
python3 - "$T/rules.new" <<'PY'
import json, sys
def part(i, status, reason, code=None):
    body = ""
    h = "x-ms-request-id: r%d\r\nx-ms-version: 2021-08-06\r\n" % i
    if code:
        body = ('<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code>'
                '<Message>%s</Message></Error>' % (code, reason))
        h = ("x-ms-error-code: %s\r\n" % code + h + "Content-Length: %d\r\n"
             "Content-Type: application/xml\r\n" % len(body))
    return ("--batchresponse_x\r\nContent-Type: application/http\r\nContent-ID: %d\r\n\r\n"
            "HTTP/1.1 %d %s\r\n%s\r\n%s%s" % (i, status, reason, h, body,
                                            "\r\n" if body else ""))
parts = [part(0, 404, "The specified blob does not exist.", "BlobNotFound"),
         part(1, 409, "This operation is not permitted because the blob has snapshots.",
              "SnapshotsPresent"),
         part(2, 404, "The specified container does not exist.", "ContainerNotFound")]
parts += [part(i, 202, "Accepted") for i in range(3, 256)]
body = "".join(reversed(parts)) + "--batchresponse_x--"
json.dump([{"match": {"method": "POST", "query": "comp=batch"}, "count": 1,
            "status": 202,
            "headers": {"Content-Type": "multipart/mixed; boundary=batchresponse_x"},
            "body": body}], open(sys.argv[1], "w"))
PY
mv "$T/rules.new" "$T/rules.json"
sleep 0.3
xt rm -r "azp:$C/t/"
assert_rc 8
assert_out_has "delete: azp:$C/$k0"
assert_err_has "delete blob '$C/$k1': blob has snapshots"
assert_err_has "delete blob '$C/$k2': container not found"
# (the leased blob is among the 253 the made-up answer says were deleted)
check
[ "$(printf '%s\n' "$ERR" | grep -c .)" = 2 ] || fail "expected two error lines"
check
[ "$(printf '%s\n' "$OUT" | grep -c '^delete: ')" = 298 ] ||
  fail "made-up answer: expected 298 delete lines"

# A sub-request refused for its signature (how a stale x-ms-date is
# answered when a batch is sent again after a clock correction) fails the
# batch, retryable: the host sends it again, dated anew, and every blob is
# deleted (the leased one aside).
python3 - "$T/rules.new" <<'PY'
import json, sys
body = ('<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code>'
        '<Message>Server failed to authenticate the request.</Message>'
        '<AuthenticationErrorDetail>Request date header too old</AuthenticationErrorDetail>'
        '</Error>')
part = ("--batchresponse_y\r\nContent-Type: application/http\r\nContent-ID: 0\r\n\r\n"
        "HTTP/1.1 403 Server failed to authenticate the request.\r\n"
        "x-ms-error-code: AuthenticationFailed\r\nContent-Length: %d\r\n"
        "Content-Type: application/xml\r\n\r\n%s\r\n" % (len(body), body))
json.dump([{"match": {"method": "POST", "query": "comp=batch"}, "count": 1,
            "status": 202,
            "headers": {"Content-Type": "multipart/mixed; boundary=batchresponse_y"},
            "body": part + "--batchresponse_y--"}], open(sys.argv[1], "w"))
PY
mv "$T/rules.new" "$T/rules.json"
sleep 0.3
fill
: > "$T/proxy/log"
xt rm -r "azpr:$C/t/"
assert_rc 8
assert_err_has "delete blob '$C/t/f150.txt': it is leased"
assert_err_lacks "authentication"
check
[ "$(printf '%s\n' "$ERR" | grep -c .)" = 1 ] || fail "expected one error line"
check
[ "$(printf '%s\n' "$OUT" | grep -c '^delete: ')" = 299 ] ||
  fail "refused signature: expected 299 delete lines"
check
[ "$(count '^POST ')" = 3 ] || fail "expected 3 batch POSTs: $(cat "$T/proxy/log")"
check
[ "$(left)" = "t/f150.txt" ] || fail "refused signature: left behind: $(left)"


# A passing failure of one sub-request (503 ServerBusy, made up by the
# proxy) is not that key's outcome: left unreported, the call fails
# retryable and the host sends that blob again. Exit 0, two POSTs, nothing
# left.
python3 - "$T/rules.new" <<'PY'
import json, sys
body = ('<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code>'
        '<Message>The server is busy.</Message></Error>')
part = ("--batchresponse_z\r\nContent-Type: application/http\r\nContent-ID: 0\r\n\r\n"
        "HTTP/1.1 503 The server is busy.\r\n"
        "x-ms-error-code: ServerBusy\r\nContent-Length: %d\r\n"
        "Content-Type: application/xml\r\n\r\n%s\r\n" % (len(body), body))
json.dump([{"match": {"method": "POST", "query": "comp=batch"}, "count": 1,
            "status": 202,
            "headers": {"Content-Type": "multipart/mixed; boundary=batchresponse_z"},
            "body": part + "--batchresponse_z--"}], open(sys.argv[1], "w"))
PY
mv "$T/rules.new" "$T/rules.json"
sleep 0.3
printf 'one\n' > "$T/one.txt"
xt -q cp "$T/one.txt" "az:$C/u/one.txt"
assert_rc 0
: > "$T/proxy/log"
xt rm -r "azpr:$C/u/"
assert_rc 0
assert_out_has "delete: azpr:$C/u/one.txt"
check
[ "$(count '^POST ')" = 2 ] || fail "503 part: expected 2 batch POSTs: $(cat "$T/proxy/log")"
check
[ "$(count '^DELETE ')" = 0 ] || fail "503 part: single DELETEs sent"
check
[ -z "$(az storage blob list --connection-string "$AZ_CONN" -c "$C" --prefix u/ \
  --query '[].name' -o tsv 2>/dev/null)" ] || fail "503 part: left behind"


# sync --delete deletes what the source lacks with Blob Batch: 3 extra
# blobs, one POST, no single DELETE, each reported.
python3 - "$T/rules.new" <<'PY'
import json, sys
json.dump([], open(sys.argv[1], "w"))
PY
mv "$T/rules.new" "$T/rules.json"
sleep 0.3
mkdir -p "$T/keep"
printf 'k\n' > "$T/keep/k1.txt"
for n in x1 x2 x3; do xt -q cp "$T/one.txt" "az:$C/sy/$n.txt"; done
xt -q cp "$T/keep/k1.txt" "az:$C/sy/k1.txt"
: > "$T/proxy/log"
xt sync --delete "$T/keep" "azp:$C/sy"
assert_rc 0
check
[ "$(printf '%s\n' "$OUT" | grep -c '^delete')" = 3 ] || fail "sync --delete: expected 3 delete lines"
check
[ "$(count '^POST ')" = 1 ] || fail "sync --delete: expected one batch POST: $(cat "$T/proxy/log")"
check
[ "$(count '^DELETE ')" = 0 ] || fail "sync --delete: single DELETEs sent"
check
[ "$(az storage blob list --connection-string "$AZ_CONN" -c "$C" --prefix sy/ \
  --query '[].name' -o tsv 2>/dev/null)" = "sy/k1.txt" ] || fail "sync --delete: wrong blobs left"

finish
