#!/usr/bin/env bash
# test_resume_net.sh -- resume after a lost network (issue 9, docs/engine.md
# "Resume across runs"): a journaled multipart upload whose parts fail for
# good because of the network or the service (connections reset or closed,
# answers stalled, 5xx, with the retries spent) is not aborted -- even
# though the abort could reach the service -- and the same command, once
# the network is back, resumes it, sending only the missing parts (the
# part numbers and body bytes of its UploadParts, counted at
# faultproxy.py); the object reads back byte-identical through
# /usr/bin/aws (else xtstore).
# A refusal (403) is no network failure: that upload is aborted as before.
# The same for a copy from moto to the local provider whose source's gets
# fail (500: kept, resumed) or find it replaced (412: aborted).
# Against moto (through faultproxy.py), which, unlike s3rver, aborts uploads:
# so a journal that survives is the engine's doing.
. "$(dirname "$0")/lib.sh" "$@"

if [ -z "${XTSTORE_MOTO_DIR:-}" ] || [ ! -f "$XTSTORE_MOTO_DIR/keys" ] ||
   [ -z "${XTSTORE_FAULTPROXY_SH:-}" ]; then
  echo "note: moto is unavailable\
 ($(cat "${XTSTORE_MOTO_DIR:-/nonexistent}/unavailable" 2> /dev/null)): skipped"
  exit 77
fi
read -r AK SK < "$XTSTORE_MOTO_DIR/keys"
B="xtnet$$"
echo '[]' > "$T/rules.json"
proxy_start "$T/proxy" "$XTSTORE_MOTO_DIR"
trap '"$XT_BIN" --config "$CONFIG" -q rb -f "m:$B" > /dev/null 2>&1;
      "$XTSTORE_FAULTPROXY_SH" stop "$T/proxy" > /dev/null 2>&1; rm -rf "$T"' EXIT
# m_config [EXTRA]: 8 parts of 5 MiB, 2 at a time; two attempts per
# request, 10-20 ms apart; EXTRA keys of service m (the stall case's
# stall-timeout, for its failing run only: a slow but healthy part on a
# busy machine must not be sent twice where the parts sent are counted).
m_config() {
  cat > "$CONFIG" <<EOF
external-services:
  m: {type: "storage", provider: "s3", endpoint: "$(cat "$T/proxy/endpoint")",
      region: "us-east-1", access-key: "$AK", secret-key: "$SK", addressing: "path",
      multipart: {threshold: 5M, part-size: 5M, concurrency: 2},
      retry: {attempts: 2, base-ms: 10, max-ms: 20}${1:-}}
  sc: {type: "storage", provider: "local", path: "$T/data",
       multipart: {threshold: 5M, part-size: 5M, concurrency: 2}}
xt-services:
  storage: "m"
EOF
}
m_config
# The part numbers of key $1's UploadParts from proxy line $2 on, sorted,
# each once (a part retried is one part), and their body bytes.
parts_sent() {
  tail -n +"$2" "$T/proxy/bytes" | awk -v p="/$B/$1" '$1 == "PUT" && $2 == p &&
    match($4, /partNumber=[0-9]+/) {print substr($4, RSTART + 11, RLENGTH - 11)}' |
    sort -n -u | tr '\n' ' '
}
bytes_sent() {
  proxy_put_bytes "$T/proxy" "/$B/$1" '' "$2"
}
# The part numbers of 1-8 the journal lacks, as parts_sent prints them.
parts_missing() {
  { seq 1 8; cat "$J"/*.journal 2> /dev/null | awk '$1 == "P" {print $2}'; } |
    sort -n | uniq -u | tr '\n' ' '
}
AWS=0
[ -x /usr/bin/aws ] && AWS=1
head -c $((40 << 20)) /dev/urandom > a.bin          # 8 parts
xt mb "m:$B"
assert_rc 0

# lost KEY RULE [EXTRA]: part 4 on is cut by RULE (service m with EXTRA
# keys); the run fails after its retries, and keeps the upload (parts 1-2
# or 1-3 on record) for the next run, which has no fault and no EXTRA.
lost() {
  proxy_rules "[{\"match\": {\"method\": \"PUT\", \"query\": \"partNumber=\"}, \"skip\": 3, $2}]"
  m_config "${3:-}"
  xt put a.bin "m:$B/$1"      # not -v: the line that says so is a warning
  m_config
  check
  [ "$RC" -ne 0 ] || fail "$1: the run succeeded with every part after the 3rd refused"
  ID=$(jid)
  assert_err_has "upload '$ID' kept in '$J/"
  assert_err_has "for the next run (or \`xtstore cleanup\`)"
  assert_err_lacks "could not be aborted"
  check
  # Parts 1 and 2 are on record; part 3 too, unless it was still going up
  # when part 4 failed (the run stops every part then).
  [ "$(jparts)" -ge 2 ] ||
    fail "$1: the journal records $(jparts) parts, not the 2 or 3 that went up"
  if [ "$AWS" -eq 1 ]; then
    check
    staged | grep -q -- "$ID" || fail "$1: upload '$ID' is not on the service any more: $(staged)"
  fi
  K=$(jparts)
  MISSING=$(parts_missing)
  proxy_settled "$T/proxy"
  N0=$(($(wc -l < "$T/proxy/bytes") + 1))
  proxy_rules '[]'
  xt -v put a.bin "m:$B/$1"
  assert_rc 0
  assert_err_has "resuming upload '$ID': $K of 8 parts on record"
  P2=$(parts_sent "$1" "$N0")
  B2=$(bytes_sent "$1" "$N0")
  echo "$1: the run after the lost network sent parts ${P2}($B2 bytes; $K parts on record)"
  # Exactly the parts the journal lacked went (a part retried on a busy
  # machine is still one part), each whole.
  check
  [ "$P2" = "$MISSING" ] || fail "$1: run 2 sent parts '$P2'; the journal lacked '$MISSING'"
  check
  [ "$B2" -ge $(((8 - K) * (5 << 20))) ] ||
    fail "$1: run 2 sent $B2 body bytes; the $((8 - K)) missing parts are $(((8 - K) * (5 << 20)))"
  [ -z "$(ls "$J")" ] || fail "$1: a completed upload left its journal: $(ls "$J")"
  if [ "$AWS" -eq 1 ]; then
    aws_moto s3api get-object --bucket "$B" --key "$1" got.bin > "$T/.aws" 2>&1 ||
      fail "aws get-object $1: $(cat "$T/.aws")"
  else
    xt get "m:$B/$1" got.bin
  fi
  assert_same a.bin got.bin
  rm -f got.bin
}

# Connections cut as the part's body starts (a network gone: STORE_E_IO).
lost cut.bin '"reset_request_body_after": 0'
# The connection closed (FIN) mid-body: an empty reply, no OS error.
lost fin.bin '"close_request_body_after": 65536'
# No answer (the part stored, its answer stalled: STORE_E_TIMEOUT): that
# run with a stall timeout of 3 s.
lost stalled.bin '"stall_ms": 15000' ', stall-timeout: 3'
# The service failing (500 InternalError, retries spent: STORE_E_SERVER).
lost fivexx.bin '"status": 500,
  "body": "<Error><Code>InternalError</Code><Message>down</Message></Error>"'

# A refusal is not the network's: the upload is aborted and its journal
# dropped, as before. (A part a provider finds stored wrong -- faultproxy's
# flip_request_body_byte -- comes as the same STORE_E_IO as a cut, and is
# kept: see kept_for_next_run in host/engine/multipart.c.)
# aborted KEY RULE: part 4 on is answered per RULE.
aborted() {
  proxy_rules "[{\"match\": {\"method\": \"PUT\", \"query\": \"partNumber=\"}, \"skip\": 3, $2}]"
  xt -v put a.bin "m:$B/$1"
  check
  [ "$RC" -ne 0 ] || fail "$1: the run succeeded with every part after the 3rd refused"
  assert_err_lacks "kept in"
  check
  [ -z "$(ls "$J")" ] || fail "$1: the upload left its journal: $(ls "$J")"
  if [ "$AWS" -eq 1 ]; then
    check
    [ -z "$(staged)" ] || fail "$1: the upload was not aborted: $(staged)"
  fi
}
aborted denied.bin '"status": 403,
  "body": "<Error><Code>AccessDenied</Code><Message>no</Message></Error>"'
proxy_rules '[]'

# A copy from moto (ranged gets pinned to its etag) to the local provider
# in parts, journaled: the source's service failing for good (500 on its
# ranged gets from the 4th on) is the network's or a service's failure,
# not a source gone: the target's upload is kept, and the next run
# resumes it. The source replaced instead (412 on the pinned gets):
# aborted, nothing left.
xt put a.bin "m:$B/src.bin"
assert_rc 0
mkdir -p "$T/data/c"
proxy_rules '[{"match": {"method": "GET", "headers": {"range": "bytes="}}, "skip": 3,
  "status": 500,
  "body": "<Error><Code>InternalError</Code><Message>down</Message></Error>"}]'
xt cp "m:$B/src.bin" sc:c/copy.bin
check
[ "$RC" -ne 0 ] || fail "copy: the run succeeded with the source's gets failing"
ID=$(jid)
assert_err_has "upload '$ID' kept in '$J/"
check
[ -n "$ID" ] && [ -d "$T/data/c/.xtstore/uploads/$ID" ] ||
  fail "copy: no journal, or the staged upload '$ID' is gone"
proxy_rules '[]'
xt -v cp "m:$B/src.bin" sc:c/copy.bin
assert_rc 0
assert_err_has "resuming upload '$ID'"
assert_same a.bin "$T/data/c/copy.bin"
check
[ -z "$(ls "$J")" ] || fail "copy: a completed upload left its journal: $(ls "$J")"
proxy_rules '[{"match": {"method": "GET", "headers": {"range": "bytes="}}, "skip": 3,
  "status": 412,
  "body": "<Error><Code>PreconditionFailed</Code><Message>x</Message></Error>"}]'
xt cp "m:$B/src.bin" sc:c/copy2.bin
check
[ "$RC" -ne 0 ] || fail "copy2: the run succeeded with the source replaced"
assert_err_lacks "kept in"
check
[ -z "$(ls "$J")" ] || fail "copy2: the upload left its journal: $(ls "$J")"
check
[ -z "$(ls -A "$T/data/c/.xtstore/uploads" 2> /dev/null)" ] ||
  fail "copy2: staging left: $(ls "$T/data/c/.xtstore/uploads")"
proxy_rules '[]'
finish
