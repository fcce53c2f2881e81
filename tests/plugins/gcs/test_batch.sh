#!/usr/bin/env bash
# `rm -r` on GCS deletes through the batch endpoint, on a GCS test server
# of its own (its counters are this test's alone): 300 objects in three
# batches of 100 calls and no single DELETE; the JSON listing, read with
# curl, is empty after. An object under a temporary hold fails alone: its
# own line naming it, exit 8, the others gone. A bucket with versioning is
# deleted one by one (a plain DELETE there would keep the data): no batch,
# the same outcome and exit codes. Through faultproxy.py: a call refused
# 401 inside a batch (a new token, the batch again) and an answer cut
# short (the keys not reported again) still delete everything once; each
# response is matched to its object by Content-ID, in any order. A call
# answered 503 is sent again; a bucket's 404 fails the call once; a bucket
# whose versioning cannot be read goes one by one; rb --force and sync
# --delete use batches; the bucket's versioning is read once for an rm -r
# of 2100 objects (three calls).
. "$(dirname "$0")/gcslib.sh" "$@"

gcs_private_server
B=$GCS_B
BV=$GCS_B-v
gcs_config "  gvers: {type: \"storage\", provider: \"gcs\", endpoint: \"$GCS_E\",
          credentials-file: \"$GCS_DIR/sa.json\", versioned-buckets: true,
          retry: {attempts: 1}}"
TOK=$(gcs_user_token) || { echo "FAIL: no token"; exit 1; }

xt mb "gcs:$B"
assert_rc 0
xt mb "gvers:$BV"
assert_rc 0

# 300 objects under t/, names with a space, '+', '%' and UTF-8 among them.
mkdir -p "$T/tree"
for i in $(seq 1 296); do printf '%s\n' "$i" > "$T/tree/f$i.txt"; done
for n in "sp ace.txt" "a+b.txt" "pct%2F.txt" "caf$(printf '\303\251').txt"; do
  printf 'odd\n' > "$T/tree/$n"
done

# counter NAME: the server's counter now.
counter() {
  hook GET /_test/counters
  printf '%s' "$HOOK" | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# left BUCKET: the names the JSON API lists under t/ (every generation),
# one per line, sorted.
left() {
  curl -sS -H "Authorization: Bearer $TOK" \
    "$GCS_E/storage/v1/b/$1/o?prefix=t/&versions=true" |
    python3 -c 'import json,sys; [print(i["name"]) for i in json.load(sys.stdin).get("items", [])]' |
    sort
}

# hold BUCKET true|false: the temporary hold of t/f150.txt.
hold() {
  curl -sS -o /dev/null -w '%{http_code}' -X PATCH \
    -H "Authorization: Bearer $TOK" -H "Content-Type: application/json" \
    -d "{\"temporaryHold\": $2}" "$GCS_E/storage/v1/b/$1/o/t%2Ff150.txt"
}

xt -q cp -r "$T/tree" "gcs:$B/t/"
assert_rc 0
batches=$(counter batches)
parts=$(counter batch_parts)
requests=$(counter requests)
xt rm -r "gcs:$B/t/"
assert_rc 0
# (the hook reading it counts itself)
sent=$(($(counter requests) - requests - 1))
check
[ "$(printf '%s\n' "$OUT" | grep -c '^delete: ')" = 300 ] ||
  fail "expected 300 delete lines"
check
[ $(($(counter batches) - batches)) = 3 ] ||
  fail "expected 3 batches, got $(($(counter batches) - batches))"
check
[ $(($(counter batch_parts) - parts)) = 300 ] ||
  fail "expected 300 calls in batches"
# A token, a listing page, the bucket's versioning, three batches: no
# single DELETE.
check
[ "$sent" -le 8 ] || fail "$sent requests for 3 batches"
check
[ -z "$(left "$B")" ] || fail "left behind: $(left "$B")"

# A held object: that key's failure, the rest deleted, exit 8.
xt -q cp -r "$T/tree" "gcs:$B/t/"
assert_rc 0
check
[ "$(hold "$B" true)" = 200 ] || fail "hold not set"
xt rm -r "gcs:$B/t/"
assert_rc 8
assert_err_has "delete object '$B/t/f150.txt'"
assert_err_has "Temporary hold"
check
[ "$(printf '%s\n' "$ERR" | grep -c .)" = 1 ] || fail "expected one error line"
check
[ "$(printf '%s\n' "$OUT" | grep -c '^delete: ')" = 299 ] ||
  fail "expected 299 delete lines"
assert_out_lacks "f150.txt"
check
[ "$(left "$B")" = "t/f150.txt" ] || fail "left behind: $(left "$B")"
hold "$B" false > /dev/null

# A versioned bucket: one by one (no batch), the same outcome.
xt -q cp -r "$T/tree" "gvers:$BV/t/"
assert_rc 0
check
[ "$(hold "$BV" true)" = 200 ] || fail "hold not set (versioned)"
batches=$(counter batches)
xt rm -r "gvers:$BV/t/"
assert_rc 8
assert_err_has "delete object '$BV/t/f150.txt'"
check
[ "$(printf '%s\n' "$OUT" | grep -c '^delete: ')" = 299 ] ||
  fail "versioned: expected 299 delete lines"
check
[ "$(counter batches)" = "$batches" ] || fail "versioned: a batch was sent"
check
[ "$(left "$BV")" = "t/f150.txt" ] || fail "versioned: left behind: $(left "$BV")"
hold "$BV" false > /dev/null
xt -q rb -f "gvers:$BV"
assert_rc 0

# Through faultproxy.py: the first batch's answer says its first call was
# refused 401 (a token gone stale mid-batch): the token is dropped and the
# host sends the batch again with a new one. Then a batch answer cut after
# its first parts: the keys not reported go again. Either way every object
# is deleted once, exit 0.
printf '%s' '[]' > "$T/rules.json"
PROXY=$("$XTSTORE_FAULTPROXY_SH" start "$T/proxy" "$GCS_DIR" "$T/rules.json") || {
  echo "FAIL: the fault proxy did not start"; exit 1; }
trap '"$XTSTORE_FAULTPROXY_SH" stop "$T/proxy"; gcs_cleanup' EXIT
gcs_config "  gp: {type: \"storage\", provider: \"gcs\", endpoint: \"$PROXY\",
        credentials-file: \"$GCS_DIR/sa.json\",
        retry: {attempts: 3, base-ms: 10, max-ms: 50}}"
python3 - "$T/rules.new" <<'PY'
import json, sys
err = json.dumps({"error": {"code": 401, "message": "Invalid Credentials", "errors": [
    {"message": "Invalid Credentials", "domain": "global", "reason": "authError"}]}})
body = ("--b=1\r\nContent-Type: application/http\r\nContent-ID: <response-0>\r\n\r\n"
        "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json; charset=UTF-8\r\n"
        "Content-Length: %d\r\n\r\n%s\r\n--b=1--\r\n" % (len(err), err))
json.dump([{"match": {"method": "POST", "path": "^/batch/storage/v1$"}, "count": 1,
            "status": 200, "headers": {"Content-Type": "multipart/mixed; boundary=b=1"},
            "body": body}], open(sys.argv[1], "w"))
PY
mv "$T/rules.new" "$T/rules.json"
sleep 0.3
xt -q cp -r "$T/tree" "gcs:$B/t2/"
assert_rc 0
grants=$(counter token_grants)
xt rm -r "gp:$B/t2/"
assert_rc 0
check
[ "$(printf '%s\n' "$OUT" | grep -c '^delete: ')" = 300 ] ||
  fail "401 in a batch: expected 300 delete lines"
check
[ "$(grep -c '^POST /batch/storage/v1 rule=0 status 200' "$T/proxy/log")" = 1 ] ||
  fail "the 401 answer was not given: $(cat "$T/proxy/log")"
check
[ $(($(counter token_grants) - grants)) = 2 ] ||
  fail "expected a second token grant after the 401"
check
[ -z "$(left "$B" | grep '^t2/')" ] || fail "401 in a batch: left behind"

# How many of 100 calls' responses a client has whole in an answer cut
# after 3000 bytes: the same batch sent with curl to objects of the same
# kind (its answer's parts are the same size), the parts read as the
# client reads them (a part is whole once the next delimiter's line is).
xt -q cp -r "$T/tree" "gcs:$B/z/"
assert_rc 0
python3 - "$T/zbody" <<'PY'
import sys
b = "zz"
parts = ["--%s\r\nContent-Type: application/http\r\nContent-ID: %d\r\n\r\n"
         "DELETE /storage/v1/b/BKT/o/z%%2Ff%d.txt HTTP/1.1\r\n\r\n" % (b, i, i + 1)
         for i in range(100)]
open(sys.argv[1], "w").write("\r\n".join(parts) + "\r\n--%s--\r\n" % b)
PY
sed -i "s/BKT/$B/" "$T/zbody"
curl -sS -D "$T/zhead" -o "$T/zans" -H "Authorization: Bearer $TOK" \
  -H "Content-Type: multipart/mixed; boundary=zz" --data-binary @"$T/zbody" \
  "$GCS_E/batch/storage/v1"
whole=$(python3 - "$T/zhead" "$T/zans" <<'PY'
import re, sys
ct = [l for l in open(sys.argv[1]) if l.lower().startswith("content-type:")][0]
d = b"\r\n--" + re.search(r'boundary="?([^";\r\n]+)', ct).group(1).encode()
data = b"\r\n" + open(sys.argv[2], "rb").read()[:3000]
n, at = 0, data.find(d)
while True:
    at = data.find(d, at + 1)
    if at < 0:
        break
    rest = data[at + len(d):]
    if rest[:2] == b"--" or b"\n" in rest:
        n += 1
print(n)
PY
)
check
[ -n "$whole" ] && [ "$whole" -gt 0 ] && [ "$whole" -lt 100 ] ||
  fail "not a cut within the batch: $whole whole parts"

printf '%s' '[{"match": {"method": "POST", "path": "^/batch/storage/v1$"},
  "count": 1, "close_response_body_after": 3000}]' > "$T/rules.new"
mv "$T/rules.new" "$T/rules.json"
sleep 0.3
xt -q cp -r "$T/tree" "gcs:$B/t3/"
assert_rc 0
: > "$T/proxy/log"
parts=$(counter batch_parts)
xt rm -r "gp:$B/t3/"
assert_rc 0
check
[ "$(printf '%s\n' "$OUT" | grep -c '^delete: ')" = 300 ] ||
  fail "cut answer: expected 300 delete lines"
check
[ "$(grep -c '^POST /batch/storage/v1 ' "$T/proxy/log")" = 4 ] ||
  fail "cut answer: expected 4 batches: $(cat "$T/proxy/log")"
# The calls answered before the cut are not sent again: exactly the
# others are.
check
[ $(($(counter batch_parts) - parts)) = $((400 - whole)) ] ||
  fail "cut answer: $(($(counter batch_parts) - parts - 300)) calls sent again, not $((100 - whole))"
check
[ -z "$(left "$B" | grep '^t3/')" ] || fail "cut answer: left behind"

# Each response is its own object's, by Content-ID and whatever the order:
# a made-up answer (in reverse) where call 0 is 404 (already gone:
# deleted) and call 1 is 412, the rest 204. Keys go in listing order.
xt -q cp -r "$T/tree" "gcs:$B/t4/"
assert_rc 0
xt ls -r "gcs:$B/t4/"
names=$(printf '%s\n' "$OUT" | sed 's/^.*t4\//t4\//' | LC_ALL=C sort)
k0=$(printf '%s\n' "$names" | sed -n 1p)
k1=$(printf '%s\n' "$names" | sed -n 2p)
python3 - "$T/rules.new" <<'PY'
import json, sys
def part(i, status, reason, why=None):
    body = ""
    if why:
        body = json.dumps({"error": {"code": status, "message": why, "errors": [
            {"message": why, "domain": "global", "reason": reason}]}})
    return ("--b=2\r\nContent-Type: application/http\r\nContent-ID: <response-%d>\r\n\r\n"
            "HTTP/1.1 %d X\r\nContent-Type: application/json; charset=UTF-8\r\n"
            "Content-Length: %d\r\n\r\n%s\r\n" % (i, status, len(body), body))
parts = [part(0, 404, "notFound", "No such object: b/o"),
         part(1, 412, "conditionNotMet", "At least one of the pre-conditions you "
              "specified did not hold.")]
parts += [part(i, 204, "") for i in range(2, 100)]
json.dump([{"match": {"method": "POST", "path": "^/batch/storage/v1$"}, "count": 1,
            "status": 200, "headers": {"Content-Type": "multipart/mixed; boundary=b=2"},
            "body": "".join(reversed(parts)) + "--b=2--\r\n"}], open(sys.argv[1], "w"))
PY
mv "$T/rules.new" "$T/rules.json"
sleep 0.3
xt rm -r "gp:$B/t4/"
assert_rc 8
assert_out_has "delete: gp:$B/$k0"
assert_err_has "delete object '$B/$k1'"
assert_err_has "conditionNotMet"
check
[ "$(printf '%s\n' "$ERR" | grep -c .)" = 1 ] || fail "expected one error line"
check
[ "$(printf '%s\n' "$OUT" | grep -c '^delete: ')" = 299 ] ||
  fail "made-up answer: expected 299 delete lines"


# A passing failure of one call (503, made up by the proxy) is not that
# key's outcome: left unreported, the call fails retryable and the host
# sends that object again. Exit 0, two POSTs, nothing left.
python3 - "$T/rules.new" <<'PY'
import json, sys
err = json.dumps({"error": {"code": 503, "message": "Backend Error", "errors": [
    {"message": "Backend Error", "domain": "global", "reason": "backendError"}]}})
body = ("--b=3\r\nContent-Type: application/http\r\nContent-ID: <response-0>\r\n\r\n"
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=UTF-8\r\n"
        "Content-Length: %d\r\n\r\n%s\r\n--b=3--\r\n" % (len(err), err))
json.dump([{"match": {"method": "POST", "path": "^/batch/storage/v1$"}, "count": 1,
            "status": 200, "headers": {"Content-Type": "multipart/mixed; boundary=b=3"},
            "body": body}], open(sys.argv[1], "w"))
PY
mv "$T/rules.new" "$T/rules.json"
sleep 0.3
printf 'one\n' > "$T/one.txt"
xt -q cp "$T/one.txt" "gcs:$B/u/one.txt"
assert_rc 0
: > "$T/proxy/log"
xt rm -r "gp:$B/u/"
assert_rc 0
assert_out_has "delete: gp:$B/u/one.txt"
check
[ "$(grep -c '^POST /batch/storage/v1 ' "$T/proxy/log")" = 2 ] ||
  fail "503 call: expected 2 batches: $(cat "$T/proxy/log")"
check
[ "$(grep -c '^DELETE ' "$T/proxy/log")" = 0 ] || fail "503 call: single DELETEs sent"
check
[ -z "$(curl -sS -H "Authorization: Bearer $TOK" "$GCS_E/storage/v1/b/$B/o?prefix=u/&versions=true" |
  python3 -c 'import json,sys; [print(i["name"]) for i in json.load(sys.stdin).get("items", [])]')" ] ||
  fail "503 call: left behind"


# A 404 for the bucket (not "No such object") is not the object already
# gone: the call fails NOT_FOUND naming the bucket, one line, exit 4, and no
# object is tried alone.
python3 - "$T/rules.new" <<'PY'
import json, sys
err = json.dumps({"error": {"code": 404, "message": "The specified bucket does not exist.",
    "errors": [{"message": "The specified bucket does not exist.", "domain": "global",
                "reason": "notFound"}]}})
body = ("--b=4\r\nContent-Type: application/http\r\nContent-ID: <response-0>\r\n\r\n"
        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json; charset=UTF-8\r\n"
        "Content-Length: %d\r\n\r\n%s\r\n--b=4--\r\n" % (len(err), err))
json.dump([{"match": {"method": "POST", "path": "^/batch/storage/v1$"}, "count": 1,
            "status": 200, "headers": {"Content-Type": "multipart/mixed; boundary=b=4"},
            "body": body}], open(sys.argv[1], "w"))
PY
mv "$T/rules.new" "$T/rules.json"
sleep 0.3
xt -q cp "$T/one.txt" "gcs:$B/v/one.txt"
assert_rc 0
: > "$T/proxy/log"
xt rm -r "gp:$B/v/"
assert_rc 4
assert_err_has "bucket '$B' does not exist"
check
[ "$(printf '%s\n' "$ERR" | grep -c .)" = 1 ] || fail "bucket 404: expected one error line"
check
[ "$(grep -c '^DELETE ' "$T/proxy/log")" = 0 ] || fail "bucket 404: single DELETEs sent"
check
[ -n "$(curl -sS -H "Authorization: Bearer $TOK" \
  "$GCS_E/storage/v1/b/$B/o?prefix=v/" | grep one.txt)" ] || fail "bucket 404: the object went"


# The bucket's versioning cannot be read (403 for storage.buckets.get, made
# up by the proxy): not knowing whether a plain DELETE would keep the data,
# the objects go one by one, said at -v; exit 0, nothing left, no batch.
printf '%s' '[{"match": {"method": "GET", "path": "^/storage/v1/b/[^/]+$"}, "count": 1,
  "status": 403, "headers": {"Content-Type": "application/json"},
  "body": "{\"error\": {\"code\": 403, \"message\": \"no storage.buckets.get\", \"errors\": [{\"reason\": \"forbidden\", \"message\": \"no storage.buckets.get\"}]}}"}]' > "$T/rules.new"
mv "$T/rules.new" "$T/rules.json"
sleep 0.3
xt -q cp "$T/one.txt" "gcs:$B/w/one.txt"
assert_rc 0
: > "$T/proxy/log"
xt -v rm -r "gp:$B/w/"
assert_rc 0
assert_out_has "delete: gp:$B/w/one.txt"
assert_err_has "storage.buckets.get denied): its objects are deleted one by one"
check
[ "$(grep -c '^GET /storage/v1/b/[^/]* rule=0 status 403' "$T/proxy/log")" = 1 ] ||
  fail "buckets.get denied: the 403 was not given: $(cat "$T/proxy/log")"
check
[ "$(grep -c '^POST /batch/storage/v1 ' "$T/proxy/log")" = 0 ] || fail "buckets.get denied: a batch was sent"
check
[ -z "$(curl -sS -H "Authorization: Bearer $TOK" \
  "$GCS_E/storage/v1/b/$B/o?prefix=w/&versions=true" | grep one.txt)" ] || fail "buckets.get denied: left behind"


# rb --force of a bucket without versioning deletes its objects in batches:
# 300 objects, three batches of 100, no single DELETE; the bucket is gone.
BR=$B-rb
xt mb "gcs:$BR"
assert_rc 0
xt -q cp -r "$T/tree" "gcs:$BR/t/"
assert_rc 0
batches=$(counter batches)
parts=$(counter batch_parts)
xt rb -f "gcs:$BR"
assert_rc 0
check
[ $(($(counter batches) - batches)) = 3 ] ||
  fail "rb --force: expected 3 batches, got $(($(counter batches) - batches))"
check
[ $(($(counter batch_parts) - parts)) = 300 ] || fail "rb --force: expected 300 calls in batches"
check
[ "$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOK" \
  "$GCS_E/storage/v1/b/$BR")" = 404 ] || fail "rb --force: the bucket is still there"


# sync --delete deletes what the source lacks through the batch endpoint:
# 3 extra objects, one batch, no single DELETE, each reported.
mkdir -p "$T/keep"
printf 'k\n' > "$T/keep/k1.txt"
for n in x1 x2 x3; do xt -q cp "$T/one.txt" "gcs:$B/sy/$n.txt"; done
xt -q cp "$T/keep/k1.txt" "gcs:$B/sy/k1.txt"
batches=$(counter batches)
parts=$(counter batch_parts)
xt sync --delete "$T/keep" "gcs:$B/sy"
assert_rc 0
check
[ "$(printf '%s\n' "$OUT" | grep -c '^delete')" = 3 ] || fail "sync --delete: expected 3 delete lines"
check
[ $(($(counter batches) - batches)) = 1 ] || fail "sync --delete: expected one batch"
check
[ $(($(counter batch_parts) - parts)) = 3 ] || fail "sync --delete: expected 3 calls in it"
check
[ "$(curl -sS -H "Authorization: Bearer $TOK" "$GCS_E/storage/v1/b/$B/o?prefix=sy/" |
  python3 -c 'import json,sys; [print(i["name"]) for i in json.load(sys.stdin).get("items", [])]')" = "sy/k1.txt" ] ||
  fail "sync --delete: wrong objects left"


# rm -r of 2100 objects: three calls of up to 1000 keys, and the bucket's
# versioning read once for them all (one GET of the bucket, not three).
printf '%s' '[]' > "$T/rules.new"
mv "$T/rules.new" "$T/rules.json"
sleep 0.3
mkdir -p "$T/big"
for i in $(seq 1 2100); do printf '%s\n' "$i" > "$T/big/b$i.txt"; done
xt -q cp -r --transfers 8 "$T/big" "gcs:$B/big/"
assert_rc 0
: > "$T/proxy/log"
xt -q rm -r "gp:$B/big/"
assert_rc 0
check
[ "$(grep -c '^POST /batch/storage/v1 ' "$T/proxy/log")" = 21 ] ||
  fail "rm -r of 2100: expected 21 batches: $(grep -c '^POST ' "$T/proxy/log")"
check
[ "$(grep -c "^GET /storage/v1/b/$B[ ?]" "$T/proxy/log")" = 1 ] ||
  fail "rm -r of 2100: the bucket read $(grep -c "^GET /storage/v1/b/$B[ ?]" "$T/proxy/log") times, not once"
check
[ -z "$(curl -sS -H "Authorization: Bearer $TOK" \
  "$GCS_E/storage/v1/b/$B/o?prefix=big/&versions=true" | grep '"name"')" ] ||
  fail "rm -r of 2100: left behind"


# rb --force of a bucket whose versioning was turned off, holding old
# generations: the live objects go in a batch, the old generations by
# their generation (a delete by name would not reach them); the bucket goes.
BO=$B-off
gcs_config "  gvers: {type: \"storage\", provider: \"gcs\", endpoint: \"$GCS_E\",
          credentials-file: \"$GCS_DIR/sa.json\", versioned-buckets: true,
          retry: {attempts: 1}}"
xt mb "gvers:$BO"
assert_rc 0
for i in 1 2; do xt -q cp "$T/one.txt" "gvers:$BO/t/a.txt"; done
check
[ "$(curl -sS -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Bearer $TOK" \
  -H "Content-Type: application/json" -d '{"versioning": {"enabled": false}}' \
  "$GCS_E/storage/v1/b/$BO")" = 200 ] || fail "versioning not turned off"
check
[ "$(left "$BO" | grep -c .)" = 2 ] || fail "expected two generations of t/a.txt"
xt rb -f "gcs:$BO"
assert_rc 0
check
[ "$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOK" \
  "$GCS_E/storage/v1/b/$BO")" = 404 ] || fail "rb --force (versioning off, old generations): the bucket is still there"

finish
