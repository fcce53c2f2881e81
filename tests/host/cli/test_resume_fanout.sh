#!/usr/bin/env bash
# test_resume_fanout.sh -- resume across runs of `put --to` (issue 9): a
# fan-out of a 60 MiB file in 5 MiB parts to the local provider and to
# s3rver (through faultproxy.py, whose logs count the UploadPart body bytes
# and which holds each part 150 ms so that a kill lands mid-way), killed
# with kill -9 about half-way, is resumed by the same command: each
# destination takes up its own journal, and s3rver is sent no more than the
# parts not on record (plus at most the 2 parts a service has in flight),
# and less than the whole file; both objects are the file's bytes (aws
# reads s3rver's).
# A file changed between runs is not resumed (and the old S3 upload is
# aborted: cleanup lists nothing); a destination whose upload is gone from
# the service (local's, or S3's) starts over without failing
# the other, and both gone start over at once, shown in the progress as
# the first pass is (the totals said final only once they are); a part on
# record whose bytes changed in place (size and time kept) is sent again;
# two S3 destinations' uploads gone: their start overs overlap.
. "$(dirname "$0")/lib.sh" "$@"

if [ -z "${XTSTORE_S3RVER_DIR:-}" ] || [ -z "${XTSTORE_FAULTPROXY_SH:-}" ] ||
   [ ! -f "$XTSTORE_S3RVER_DIR/endpoint" ]; then
  echo "note: skipped (run through ctest with the s3rver fixture)"
  finish
fi

J="$HOME/.local/state/xtstore/uploads"
B="xtfanres$$"
TOTAL=$((60 << 20))
PS=$((5 << 20))
NP=12
MP='multipart: {threshold: 5M, part-size: 5M, concurrency: 2}'
# The proxy's rules (it reads the file again when it changes): parts held
# while a run is to be killed mid-way (kill_mid), not while one resumes.
STALL='{"match": {"method": "PUT", "query": "partNumber="}, "stall_ms": 150}'
echo "[$STALL]" > "$T/rules.json"
trap '"$XT_BIN" --config "$CONFIG" -q rb -f "s3d:$B" > /dev/null 2>&1;
      for p in "$T"/proxy*; do "$XTSTORE_FAULTPROXY_SH" stop "$p" > /dev/null 2>&1; done;
      rm -rf "$T"' EXIT

# proxy N: start proxy number N and point the config at it (each run has
# its own, so no late line of a killed run counts as the re-run's).
proxy() {
  "$XTSTORE_FAULTPROXY_SH" start "$T/proxy$1" "$XTSTORE_S3RVER_DIR" "$T/rules.json" > /dev/null || {
    echo "FAIL: fault proxy $1 did not start"
    exit 1
  }
  P="$T/proxy$1"
  cat > "$CONFIG" <<EOF
external-services:
  loc: {type: "storage", provider: "local", path: "$T/data", $MP}
  s3d: {type: "storage", provider: "s3", endpoint: "$(cat "$P/endpoint")",
        region: "us-east-1", access-key: "S3RVER", secret-key: "S3RVER",
        addressing: "path", $MP}
  s3e: {type: "storage", provider: "s3", endpoint: "$(cat "$P/endpoint")",
        region: "us-east-1", access-key: "S3RVER", secret-key: "S3RVER",
        addressing: "path", $MP}
xt-services:
  storage: "loc"
EOF
}
# The journal of service $1 (the journal's header names it, 4th from last).
jfile() {
  local f
  for f in "$J"/*.journal; do
    [ -f "$f" ] && [ "$(head -n 1 "$f" | awk '{print $(NF-3)}')" = "$1" ] &&
      echo "$f"
  done
}
jparts() {
  local f
  f=$(jfile "$1")
  [ -n "$f" ] && grep -c '^P ' "$f" || echo 0
}
jbytes() {
  local f
  f=$(jfile "$1")
  [ -n "$f" ] && awk '$1 == "P" {n += $3} END {print n + 0}' "$f" || echo 0
}
jid() {
  local f
  f=$(jfile "$1")
  [ -n "$f" ] && head -n 1 "$f" | awk '{print $NF}'
}
# Body bytes of the UploadParts of key $1 that proxy dir $2 received.
part_bytes() {
  awk -v p="/$B/$1" '$1 == "PUT" && $2 == p && $4 ~ /partNumber=/ {n += $3}
    END {print n + 0}' "$2/bytes"
}
# kill_state KEY: what kill_mid waits for, in one process (on a loaded
# machine the wait's cost is its processes, and a slow wait kills late):
# the bytes of KEY's parts the proxy got, the parts of loc's journal and
# the bytes of s3d's.
kill_state() {
  local f files=()
  for f in "$P/bytes" "$J"/*.journal; do
    [ -f "$f" ] && files+=("$f")
  done
  awk -v p="/$B/$1" -v bf="$P/bytes" '
    FILENAME == bf { if ($1 == "PUT" && $2 == p && $4 ~ /partNumber=/) pb += $3; next }
    FNR == 1 { svc = $(NF - 3); next }
    $1 == "P" && svc == "loc" { lp++ }
    $1 == "P" && svc == "s3d" { sb += $3 }
    END { print pb + 0, lp + 0, sb + 0 }' "${files[@]}" < /dev/null 2> /dev/null
}
# kill_mid KEY BYTES: `put --to loc,s3d f.bin c/KEY` killed with kill -9
# once s3rver got BYTES of its parts, the local journal has 2 parts and
# s3rver's more than 2 parts' bytes (so that the byte bound below is not
# met by the in-flight allowance alone).
kill_mid() {
  local pid i pb lp sb
  echo "[$STALL]" > "$T/rules.json"
  "$XT_BIN" --config "$CONFIG" -v put --to loc,s3d f.bin "$B/$1" > "$T/.k.out" 2> "$T/.k.err" &
  pid=$!
  for i in $(seq 1 6000); do
    read -r pb lp sb < <(kill_state "$1")
    [ "$pb" -ge "$2" ] && [ "$lp" -ge 2 ] && [ "$sb" -gt $((2 * PS)) ] && break
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.02
  done
  KILLED=0
  kill -9 "$pid" 2> /dev/null && KILLED=1
  wait "$pid" 2> /dev/null
  echo '[]' > "$T/rules.json"
  proxy_settled "$P"
  check
  [ "$KILLED" -eq 1 ] && [ "$(jparts loc)" -ge 2 ] &&
    [ "$(jbytes s3d)" -gt $((2 * PS)) ] ||
    fail "not killed half-way (killed: $KILLED; journals: loc $(jparts loc) parts, s3d $(jbytes s3d) bytes)"
}
# same KEY: both objects are f.bin's bytes (aws reads s3rver's).
same() {
  xt get "loc:$B/$1" got.bin
  assert_rc 0
  assert_same f.bin got.bin
  rm -f got.bin
  if [ -x /usr/bin/aws ]; then
    check
    AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER /usr/bin/aws \
      --endpoint-url "$(cat "$XTSTORE_S3RVER_DIR/endpoint")" --region us-east-1 \
      s3api get-object --bucket "$B" --key "$1" got.bin > "$T/.aws" 2>&1 ||
      fail "aws get-object $1: $(cat "$T/.aws")"
  else
    xt get "s3d:$B/$1" got.bin
    assert_rc 0
  fi
  assert_same f.bin got.bin
  rm -f got.bin
  check
  [ -z "$(ls "$J")" ] || fail "a completed fan-out left a journal: $(ls "$J")"
}

proxy 1
xt mb "loc:$B"
assert_rc 0
xt mb "s3d:$B"
assert_rc 0
head -c "$TOTAL" /dev/urandom > f.bin

# --- killed half-way, resumed on both --------------------------------------
kill_mid f.bin $((TOTAL / 2))
grep -q "multipart upload, $NP parts of $PS bytes" "$T/.k.err" ||
  fail "not the multipart settings configured: $(grep multipart "$T/.k.err")"
KL=$(jparts loc); KS=$(jparts s3d)
IL=$(jid loc); IS=$(jid s3d)
REC=$(jbytes s3d)
B1=$(part_bytes f.bin "$P")
proxy 2
xt -v put --to loc,s3d f.bin "$B/f.bin"
assert_rc 0
assert_err_has "service 'loc': blob '$B/f.bin': resuming upload '$IL': $KL of $NP parts on record"
assert_err_has "service 's3d': blob '$B/f.bin': resuming upload '$IS': $KS of $NP parts on record"
proxy_settled "$P"
B2=$(part_bytes f.bin "$P")
echo "s3rver: killed after $B1 of $TOTAL bytes ($KS parts, $REC bytes on record);\
 the re-run sent $B2 (local: $KL parts on record)"
# The re-run sends the parts not on record, and at most the parts in
# flight (2 part buffers per service) on top.
check
[ "$B2" -le $((TOTAL - REC + 2 * PS)) ] && [ "$B2" -lt "$TOTAL" ] ||
  fail "the re-run sent $B2 bytes to s3rver; the parts not on record are $((TOTAL - REC))"
assert_file_absent "$T/data/$B/.xtstore/uploads/$IL"
same f.bin

# --- a file changed between runs: no resume, the right bytes --------------
proxy 3
kill_mid g.bin $((TOTAL / 4))
IL=$(jid loc); IS=$(jid s3d)
printf 'changed' | dd of=f.bin bs=1 seek=1000 conv=notrunc status=none
xt -v put --to loc,s3d f.bin "$B/g.bin"
assert_rc 0
assert_err_has "the source changed since upload '$IL' began: starting over"
assert_err_has "the source changed since upload '$IS' began: starting over"
assert_err_lacks "resuming"
assert_file_absent "$T/data/$B/.xtstore/uploads/$IL"
same g.bin
# The old uploads were aborted: s3rver holds none left over.
xt --json cleanup "s3d:$B" --older-than 0
assert_rc 0
assert_json_eq 'len(j)' "0"

# --- one destination's upload gone: it starts over, the other resumes -----
proxy 4
kill_mid h.bin $((TOTAL / 4))
IL=$(jid loc); IS=$(jid s3d); KS=$(jparts s3d)
rm -rf "$T/data/$B/.xtstore/uploads/$IL"
xt -v put --to loc,s3d f.bin "$B/h.bin"
assert_rc 0
assert_err_has "upload '$IL' is gone from the service: starting over"
assert_err_has "service 's3d': blob '$B/h.bin': resuming upload '$IS': $KS of $NP parts on record"
same h.bin

# --- the S3 destination's upload gone (s3rver cannot abort: the proxy ----
# answers NoSuchUpload to its parts): it starts over from the file read
# again, the local one resumes.
proxy 6
kill_mid m.bin $((TOTAL / 4))
IL=$(jid loc); IS=$(jid s3d); KL=$(jparts loc)
echo "[{\"match\": {\"method\": \"PUT\", \"query\": \"uploadId=$IS\"}, \"status\": 404,
  \"body\": \"<Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>\"}]" > "$T/rules.json"
xt -v put --to loc,s3d f.bin "$B/m.bin"
echo '[]' > "$T/rules.json"
assert_rc 0
assert_err_has "service 'loc': blob '$B/m.bin': resuming upload '$IL': $KL of $NP parts on record"
assert_err_has "upload '$IS' is gone from the service: starting over"
same m.bin

# --- both destinations' uploads gone at once: both start over, together,
# each reading the file again by offset, and show in the progress where the
# first pass does (--json --progress: one event a line on stderr). The
# totals grow by the restarts' bytes (less what the tee did not read, as it
# stops once every destination dropped out), so done meets total, and are
# said final (totals_final) only then.
proxy 7
kill_mid n.bin $((TOTAL / 4))
IL=$(jid loc); IS=$(jid s3d)
rm -rf "$T/data/$B/.xtstore/uploads/$IL"
# The restarted S3 upload (another id) has its parts held: it runs for a
# second at least, the progress' events 0.2 s apart.
echo "[{\"match\": {\"method\": \"PUT\", \"query\": \"uploadId=$IS\"}, \"status\": 404,
  \"body\": \"<Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>\"},
  $STALL]" > "$T/rules.json"
xt --json -v put --progress --to loc,s3d f.bin "$B/n.bin"
echo '[]' > "$T/rules.json"
assert_rc 0
assert_err_has "service 'loc': blob '$B/n.bin': upload '$IL' is gone from the service: starting over"
assert_err_has "service 's3d': blob '$B/n.bin': upload '$IS' is gone from the service: starting over"
assert_json_eq '[o["target"] + " " + o["status"] for o in j]' \
  "[\"loc:$B/n.bin copied\", \"s3d:$B/n.bin copied\"]"
check
got=$(python3 - "$T/.err" "$TOTAL" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"event"')]
total = int(sys.argv[2])
done = [e for e in ev if e["event"] == "done"]
# Progress while the restarts ran: their bytes planned (the totals grew).
during = [e for e in ev if e["event"] == "progress" and e["bytes_total"] > total]
# Totals said final only once they are: never a larger total after.
last = max([e["bytes_total"] for e in ev if "bytes_total" in e] or [0])
early = [e for e in ev if e.get("totals_final") and e["bytes_total"] < last]
if not done:
    print("no done event")
elif early or not done[-1]["totals_final"]:
    print("totals_final before the totals were: %s; the last total %d"
          % (json.dumps(early[:1] or done[-1]), last))
elif not (done[-1]["ok"] and done[-1]["bytes"] == done[-1]["bytes_total"]
          and done[-1]["bytes_total"] >= 2 * total):
    print("done: %s" % json.dumps(done[-1]))
elif len(during) < 2 or not any(0 < e["bytes"] < e["bytes_total"] for e in during):
    print("%d progress events during the restarts" % len(during))
else:
    print("ok: %d progress events during the restarts, %d bytes in all"
          % (len(during), done[-1]["bytes"]))
PY
)
echo "$got"
case $got in ok:*) ;; *) fail "the restarts' progress: $got" ;; esac
same n.bin

# --- a part on record whose bytes changed in place (size and time kept) --
# is sent again: its buffer's CRC-32C is not the one recorded.
proxy 5
kill_mid k.bin $((TOTAL / 4))
IS=$(jid s3d); KS=$(jparts s3d)
NO=$(grep -h '^P ' "$(jfile s3d)" | head -n 1 | awk '{print $2}')
cp -p f.bin ref.stamp
printf 'flip' | dd of=f.bin bs=1 seek=$(((NO - 1) * PS + 100)) conv=notrunc status=none
touch -r ref.stamp f.bin
rm -f ref.stamp
xt -v put --to loc,s3d f.bin "$B/k.bin"
assert_rc 0
assert_err_has "service 's3d': blob '$B/k.bin': resuming upload '$IS': $KS of $NP parts on record"
assert_err_has "service 's3d': blob '$B/k.bin': part $NO on record: its range of the file is not what was stored: sending it again"
same k.bin

# --- two S3 uploads gone at once: their start overs overlap (which the
# checks above would not see: a start over after the other passes them).
# s3d and s3e, one proxy (one bucket, one key, an upload each); a first
# run whose parts 3 and aborts are refused leaves both journals; the re-run
# finds both uploads gone, and the two start overs' parts (held 150 ms
# each, 2 at a time) interleave in the proxy's log.
proxy 8
head -c $((6 * PS)) /dev/urandom > e.bin
echo '[{"match": {"method": "PUT", "query": "(^|&)partNumber=3(&|$)"}, "status": 403,
  "body": "<Error><Code>AccessDenied</Code><Message>refused</Message></Error>"},
 {"match": {"method": "DELETE", "query": "uploadId="}, "status": 403,
  "body": "<Error><Code>AccessDenied</Code><Message>refused</Message></Error>"}]' > "$T/rules.json"
xt -v put --to s3d,s3e e.bin "$B/e.bin"
check
[ "$RC" -ne 0 ] || fail "the first run succeeded though its parts 3 were refused"
IS=$(jid s3d); IE=$(jid s3e)
[ -n "$IS" ] && [ -n "$IE" ] || fail "no journals kept: s3d '$IS', s3e '$IE'"
proxy 9
echo "[{\"match\": {\"method\": \"PUT\", \"query\": \"uploadId=($IS|$IE)\"}, \"status\": 404,
  \"body\": \"<Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>\"},
  $STALL]" > "$T/rules.json"
xt -v put --to s3d,s3e e.bin "$B/e.bin"
echo '[]' > "$T/rules.json"
assert_rc 0
assert_err_has "service 's3d': blob '$B/e.bin': upload '$IS' is gone from the service: starting over"
assert_err_has "service 's3e': blob '$B/e.bin': upload '$IE' is gone from the service: starting over"
proxy_settled "$P"
check
# The start overs' parts (their new uploads'), in the order the proxy
# finished them: one upload's all before the other's is a serial start over.
turns=$(awk -v a="($IS|$IE)" '$1 == "PUT" && $4 ~ /partNumber=/ && $4 !~ a {
    id = $4; sub(/.*uploadId=/, "", id); sub(/&.*/, "", id); ids[id] = 1
    if (prev != "" && id != prev) n++; prev = id }
  END {for (i in ids) u++; print (u == 2 ? n + 0 : -u)}' "$P/bytes")
echo "the start overs' parts changed upload $turns times in the proxy's log"
[ "$turns" -ge 2 ] || fail "the start overs did not overlap: $(cat "$P/bytes")"
xt get "s3d:$B/e.bin" got.bin
assert_rc 0
assert_same e.bin got.bin
xt get "s3e:$B/e.bin" got.bin
assert_rc 0
assert_same e.bin got.bin
finish
