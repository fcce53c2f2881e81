#!/usr/bin/env bash
# `rm -r` on GCS deletes through the batch endpoint, on a GCS test server
# of its own (its counters are this test's alone): 300 objects in three
# batches of 100 calls and no single DELETE; the JSON listing, read with
# curl, is empty after. An object under a temporary hold fails alone: its
# own line naming it, exit 8, the others gone. A bucket with versioning is
# deleted one by one (a plain DELETE there would keep the data): no batch,
# the same outcome and exit codes.
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

finish
