#!/usr/bin/env bash
# matrix.sh -- the fault matrix of one provider and one direction: every case
# of CASES below, for one big object (multipart, 20 MiB) and a tree of 30
# small ones (cp -r), through tests/servers/faultproxy.py in front of the
# provider's test server. Each run must end with identical bytes (exit 0),
# or -- where the case says `err` -- with a non-zero exit and clear
# "xtstore: ..." lines on stderr; in both, nothing partial is visible: the
# store under the run's prefix and the download directory hold only whole,
# identical copies (no temp or short files).
#   matrix.sh XTSTORE_BIN PROJECT_SOURCE_DIR BINARY_DIR PROVIDER up|down
# Needs the provider's server fixture (ctest: xtstore_use_servers) and
# $XTSTORE_FAULTPROXY_SH. FAULTS_ONLY=REGEX runs only the cases it matches;
# FAULTS_VERBOSE=1 prints the proxy's log of every run.
. "$(dirname "$0")/../host/cli/lib.sh" "$1" "$2" "$3"
PROVIDER=${4:?usage: matrix.sh XTSTORE_BIN SRC_DIR BIN_DIR PROVIDER up|down}
DIR=${5:?usage: matrix.sh XTSTORE_BIN SRC_DIR BIN_DIR PROVIDER up|down}

# --- providers: one row each --------------------------------------------
# SERVER (its fixture), KEYS (the service's keys but the endpoint; @SDIR:
# the server's state directory), CPATH (container C's path in the proxy's
# log), COMPLETE (method and query of the request that completes an upload
# in parts), THROTTLE (the provider's throttling code and the header that
# carries it, - for none: S3's SlowDown, Azure's ServerBusy), SKEW_CODE and
# SKEW_MSG (its refusal for clock skew), SKIP (a regex of the cases its
# server cannot play faithfully; another row runs them), OWN (the
# directions that run a server of their own rather than the suite's
# fixture). A provider whose requests do not name the object by its path
# (GCS, OCI) has its own arm in match() below; one whose errors are JSON
# sets TJSON (the 503's "headers" and "body" of a faultproxy rule).
SKIP='^$' OWN='' TJSON='' SKEW_SERVER='' CPATH='' COMPLETE='' THROTTLE='- -' SKEW_CODE='' SKEW_MSG=''
case $PROVIDER in
  s3) SERVER=s3rver
      KEYS='provider: "s3", region: "us-east-1", access-key: "S3RVER", secret-key: "S3RVER", addressing: "path"'
      CPATH=/C COMPLETE='POST uploadId=' THROTTLE='SlowDown -'
      SKEW_CODE=RequestTimeTooSkewed
      SKEW_MSG='The difference between the request time and the current time is too large.'
      # s3rver stores the part of a reset upload it received, and answers
      # a complete sent again with 500, reporting no CRC-32C: s3-moto.
      SKIP='^(dead-request|lost-complete|complete-gone)$' ;;
  s3-moto) SERVER=moto
      read -r MOTO_AK MOTO_SK < "${XTSTORE_MOTO_DIR:-/nonexistent}/keys" 2> /dev/null ||
        { echo "skip: no moto keys (moto not installed?)"; exit 77; }
      KEYS="provider: \"s3\", region: \"us-east-1\", access-key: \"$MOTO_AK\", secret-key: \"$MOTO_SK\", addressing: \"path\""
      CPATH=/C COMPLETE='POST uploadId=' THROTTLE='SlowDown -'
      SKEW_CODE=RequestTimeTooSkewed
      SKEW_MSG='The difference between the request time and the current time is too large.'
      # moto verifies signatures (a request signed on the corrected clock)
      # and keeps no partial body: the cases s3rver cannot play.
      SKIP='^(503.*|429.*|stall-.*)$' ;;
  azure) SERVER=azurite
      KEYS='provider: "azure", account: "devstoreaccount1", key: "$env:AZ_KEY"'
      CPATH=/devstoreaccount1/C COMPLETE='PUT comp=blocklist' THROTTLE='ServerBusy x-ms-error-code'
      SKEW_CODE=AuthenticationFailed
      SKEW_MSG="Server failed to authenticate the request.</Message><AuthenticationErrorDetail>Request date header too old: 'Sun, 06 Dec 2026 10:00:00 GMT'</AuthenticationErrorDetail>"
      # Azurite never frees the write slot (of 50) of an upload cut
      # mid-body, and then hangs every upload: cut uploads go to an Azurite
      # of their own, so that no other test's wedges.
      # A Put Block List sent again finds the blocks committed: no NoSuchUpload.
      OWN=up SKIP='^complete-gone$' ;;
  gcs) SERVER=gcs
      KEYS='provider: "gcs", credentials-file: "@SDIR/sa.json"'
      TJSON='"headers": {"Content-Type": "application/json"}, "body": "{\"error\": {\"code\": 503, \"message\": \"Backend Error\", \"errors\": [{\"reason\": \"backendError\", \"message\": \"Backend Error\", \"domain\": \"global\"}]}}"'
      # A bearer token carries no request date; the token endpoint checks
      # the JWT's iat/exp against its clock (5 minutes): the server's clock
      # is set back, as OCI's. complete-gone is S3's NoSuchUpload.
      SKEW_SERVER=1 SKIP='^complete-gone$' ;;
  oci) SERVER=oci
      KEYS='provider: "oci", config-file: "@SDIR/config", namespace: "xtns"'
      TJSON='"headers": {"Content-Type": "application/json"}, "body": "{\"code\": \"ServiceUnavailable\", \"message\": \"Service is temporarily unavailable.\"}"'
      # The test server checks request dates itself (5 minutes), so a
      # Date only the proxy skewed would be refused once the provider
      # corrected its clock: the server's own clock is set back instead.
      # complete-gone is S3's NoSuchUpload.
      SKEW_SERVER=1 SKIP='^complete-gone$' ;;
  *) echo "matrix.sh: unknown provider '$PROVIDER'" >&2; exit 2 ;;
esac
export AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

# --- cases: NAME DIRECTIONS SHAPES EXPECT RULE -----------------------------
# RULE is faultproxy JSON for the run's requests; the runner fills in
#   @M   the match: the run's objects and the direction's method (PUT up,
#        GET down)
#   @F   the match of a few of them: the big object, or 3 of the 30
#   @N   a byte offset inside one body (1 MiB of a 5 MiB part; 4 KiB of 8)
#   @C   the match of the request completing an upload in parts
#   @T   the provider's throttling answer: "headers" and "body"
#   @K   the provider's refusal for clock skew: "headers" and "body"
#   @G   S3's answer to a complete sent again after it completed: NoSuchUpload
# EXPECT: ok (identical bytes, exit 0) or err (a clear error, nothing partial;
# the small objects the fault spared all there); ok<MS: and done within MS
# milliseconds (a stall is given up after the 1 s stall-timeout, not waited
# out). skip 1: the first GET of the big object only learns its size.
# Backoffs are short (retry: 4 attempts, 10..100 ms, throttling waited out
# for 2 s), stall-timeout is 1 s.
CASES=$(cat <<'EOF'
503-retry-after  up,down  big,small  ok   [{"match": @M, "count": 1, "status": 503, @T, "headers+": {"Retry-After": "1"}}]
503              up,down  big,small  ok   [{"match": @M, "count": 2, "status": 503, @T}]
429-retry-after  up,down  big,small  ok   [{"match": @M, "count": 1, "status": 429, "headers": {"Retry-After": "1"}}]
429              up,down  big,small  ok   [{"match": @M, "count": 2, "status": 429}]
reset-request    up       big,small  ok   [{"match": @M, "count": 2, "reset_request_body_after": @N}]
fin-request      up       big,small  ok   [{"match": @M, "count": 2, "close_request_body_after": @N}]
reset-response   down     big,small  ok   [{"match": @M, "count": 2, "reset_response_body_after": @N}]
fin-response     down     big,small  ok   [{"match": @M, "count": 2, "close_response_body_after": @N}]
lost-put         up       big,small  ok   [{"match": @M, "count": 2, "lose_response": true}]
lost-complete    up       big        ok   [{"match": @C, "count": 1, "lose_response": true}]
complete-gone    up       big        ok   [{"match": @C, "count": 1, "lose_response": true}, {"match": @C, "status": 404, @G}]
stall-headers    up,down  big,small  ok<4500  [{"match": @M, "count": 1, "stall_ms": 8000}]
stall-body       down     big,small  ok<4500  [{"match": @M, "skip": 1, "count": 1, "stall_ms": 8000, "stall_response_body_after": @N}]
clock-skew       up,down  big,small  ok   [{"match": @M, "count": 1, "status": 403, "date_skew_s": -600, @K}, {"date_skew_s": -600}]
dead-request     up       big,small  err  [{"match": @F, "reset_request_body_after": @N}]
dead-response    down     big,small  err  [{"match": @F, "reset_response_body_after": 0}]
dead-throttle    up,down  big,small  err  [{"match": @F, "status": 503, @T}]
EOF
)

# The fixture's state dir: $XTSTORE_<SERVER>_DIR (xtstore_use_servers).
sdir_var=XTSTORE_${SERVER^^}_DIR
SDIR=${!sdir_var:-}
if [ -z "$SDIR" ] || [ ! -f "$SDIR/endpoint" ] || [ -z "${XTSTORE_FAULTPROXY_SH:-}" ]; then
  echo "skip: no $SERVER fixture (run through ctest)"
  exit 77
fi
if [[ ",$OWN," == *",$DIR,"* ]]; then
  SDIR=$T/server
  "$XTSTORE_SERVER_SH" start "$SERVER" "$SDIR" > /dev/null || {
    echo "FAIL: $SERVER did not start"; exit 1; }
fi
C="xtf-$PROVIDER-$DIR-$$"
CPATH=${CPATH/C/$C}
KEYS=${KEYS//@SDIR/$SDIR}
echo '[]' > "$T/rules.json"
PROXY=$("$XTSTORE_FAULTPROXY_SH" start "$T/proxy" "$SDIR" "$T/rules.json") || {
  echo "FAIL: the fault proxy did not start"; exit 1; }
trap '"$XT_BIN" --config "$CONFIG" -q rb -f "d:$C" > /dev/null 2>&1;
      "$XTSTORE_FAULTPROXY_SH" stop "$T/proxy" > /dev/null 2>&1
      [ "$SDIR" = "$T/server" ] && "$XTSTORE_SERVER_SH" stop "$SERVER" "$SDIR" > /dev/null 2>&1
      rm -rf "$T"' EXIT

MP='multipart: {threshold: 5M, part-size: 5M, concurrency: 2}'
cat > "$CONFIG" <<YAML
external-services:
  d: {type: "storage", $KEYS, endpoint: "$(cat "$SDIR/endpoint")", retry: 1, $MP}
  p: {type: "storage", $KEYS, endpoint: "$PROXY", stall-timeout: 1,
      retry: {attempts: 4, base-ms: 10, max-ms: 100, throttle-s: 2}, $MP}
xt-services:
  storage: "d"
YAML

# The sources: one big file, and a tree of 30 small ones (one in a subdir).
mkdir -p "$T/src/small/sub"
head -c $((20 << 20)) /dev/urandom > "$T/src/big"
for i in $(seq -w 1 29); do head -c 8192 /dev/urandom > "$T/src/small/f$i"; done
head -c 8192 /dev/urandom > "$T/src/small/sub/f30"
xt mb "d:$C"
assert_rc 0
if [ "$PROVIDER" = gcs ]; then
  curl -sf -X POST "$(cat "$SDIR/endpoint")/_test/public?bucket=$C" > /dev/null ||
    { echo "FAIL: the gcs server's public hook"; exit 1; }
fi
if [ "$DIR" = down ]; then
  xt put "$T/src/big" "d:$C/src/big"
  assert_rc 0
  xt cp -r --no-progress "$T/src/small" "d:$C/src/small"
  assert_rc 0
fi

# skew_server SECONDS: the clock of the server moved by SECONDS (OCI's for
# container C), and its count of refusals for the date reset (its test
# hooks); skew_refused: that count since.
skew_server() {
  local e
  e=$(cat "$SDIR/endpoint")
  if [ "$PROVIDER" = gcs ]; then
    curl -sf -X POST "$e/_test/clock?skew=$1" > /dev/null
  else
    curl -sf -X PUT -H 'Content-Type: application/json' \
      --data "{\"clock_skew\": $1}" "$e/_test/config?bucket=$C" > /dev/null &&
      curl -sf -X DELETE "$e/_test/counters?bucket=$C" > /dev/null
  fi || { echo "FAIL: the server's skew hook"; exit 1; }
}
skew_refused() {
  local e
  e=$(cat "$SDIR/endpoint")
  if [ "$PROVIDER" = gcs ]; then
    curl -sf "$e/_test/clock" |
      python3 -c 'import json, sys; print(json.load(sys.stdin)["refused"])'
  else
    curl -sf "$e/_test/counters?bucket=$C" |
      python3 -c 'import json, sys; print(json.load(sys.stdin).get("NotAuthenticated", 0))'
  fi
}

# match run|few|complete KEYPATH [METHOD]: the faultproxy match of the
# run's requests to the objects under KEYPATH (run), of those to the big
# object or 3 of the 30 (few), or of the request completing the upload in
# parts (complete). GCS names an upload's object in its query, a
# download's in its path with '/' encoded, and the parts of a multipart
# upload are objects of their own (.xtstore-parts/ID/N) composed into the
# key; OCI encodes '/' in object names and sends parts to /u/KEY.
match() {
  local what=$1 k=$2 meth=${3:-} tail="" cm cq
  [ "$what" = few ] && tail='(big|f0[1-3])'
  case $PROVIDER in
    gcs) k=${k//\//%2F}
      if [ "$what" = complete ]; then
        echo "{\"method\": \"POST\", \"path\": \"^/storage/v1/b/$C/o/$k.*/compose\$\"}"
      elif [ "$DIR" = up ]; then
        # The big object's parts: whichever are sent while it is put. A part
        # goes with its metadata (uploadType=multipart), its name in the
        # body: only the run's big object is sent so.
        echo "{\"method\": \"POST\", \"path\": \"^/upload/storage/v1/b/$C/o\$\", \"query\": \"(^|&)(name=($k$tail${tail:+(&|\$)}|\\\\.xtstore-parts%2F)|uploadType=multipart(&|\$))\"}"
      else
        echo "{\"method\": \"GET\", \"path\": \"^/storage/v1/b/$C/o/$k$tail${tail:+\$}\", \"query\": \"alt=media\"}"
      fi ;;
    oci) k=${k//\//%2F}
      if [ "$what" = complete ]; then
        echo "{\"method\": \"POST\", \"path\": \"^/n/xtns/b/$C/u/$k\", \"query\": \"uploadId=\"}"
      elif [ "$DIR" = up ]; then
        echo "{\"method\": \"PUT\", \"path\": \"^/n/xtns/b/$C/[ou]/$k$tail${tail:+\$}\"}"
      else
        echo "{\"method\": \"GET\", \"path\": \"^/n/xtns/b/$C/o/$k$tail${tail:+\$}\"}"
      fi ;;
    *) read -r cm cq <<< "$COMPLETE"
      if [ "$what" = complete ]; then
        echo "{\"method\": \"$cm\", \"path\": \"^$CPATH/$k\", \"query\": \"$cq\"}"
      else
        echo "{\"method\": $meth, \"path\": \"^$CPATH/$k$tail${tail:+\$}\"}"
      fi ;;
  esac
}

# rule CASE-RULE SHAPE KEYPATH: the case's JSON with the placeholders filled.
rule() {
  local r=$1 shape=$2 keypath=$3 meth n tcode theader
  if [ "$DIR" = up ]; then meth="\"PUT\""; else meth="\"GET\""; fi
  if [ "$shape" = big ]; then n=1048576; else n=4096; fi
  read -r tcode theader <<< "$THROTTLE"
  local hdr='"Content-Type": "application/xml"'
  [ "$theader" != - ] && hdr="$hdr, \"$theader\": \"$tcode\""
  local tbody="<?xml version=\\\"1.0\\\" encoding=\\\"UTF-8\\\"?><Error><Code>$tcode</Code><Message>Please reduce your request rate.</Message></Error>"
  local kbody="<?xml version=\\\"1.0\\\" encoding=\\\"UTF-8\\\"?><Error><Code>$SKEW_CODE</Code><Message>$SKEW_MSG</Message></Error>"
  local khdr='"Content-Type": "application/xml"'
  [ "$PROVIDER" = azure ] && khdr="$khdr, \"x-ms-error-code\": \"$SKEW_CODE\""
  r=${r//@M/"$(match run "$keypath" "$meth")"}
  r=${r//@F/"$(match few "$keypath" "$meth")"}
  r=${r//@C/"$(match complete "$keypath")"}
  r=${r//@N/$n}
  # @T then "headers+": the throttling headers, with extra ones merged in.
  local extra=""
  if [[ $r == *'"headers+": {'* ]]; then
    extra=${r#*\"headers+\": \{}
    extra=${extra%%\}*}
    r=${r/, \"headers+\": \{$extra\}/}
    hdr="$hdr, $extra"
  fi
  if [ -n "$TJSON" ]; then
    local tj=$TJSON
    [ -n "${extra:-}" ] && tj=${tj/\"headers\": \{/"\"headers\": {$extra, "}
    r=${r//@T/"$tj"}
  else
    r=${r//@T/"\"headers\": {$hdr}, \"body\": \"$tbody\""}
  fi
  r=${r//@K/"\"headers\": {$khdr}, \"body\": \"$kbody\""}
  r=${r//@G/"\"headers\": {\"Content-Type\": \"application/xml\"}, \"body\": \"<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>\""}
  printf '%s\n' "$r"
}

# no_partial STORE_LIST_DIR SRC: every file under the first is an identical
# copy of its namesake under the second (nothing short, nothing extra).
no_partial() {
  local f rel bad=0
  while IFS= read -r f; do
    rel=${f#"$1"/}
    if [ ! -f "$2/$rel" ]; then
      echo "  extra file '$rel' (temp or stray)"; bad=1
    elif ! cmp -s "$f" "$2/$rel"; then
      echo "  '$rel' differs from its source ($(stat -c %s "$f") of $(stat -c %s "$2/$rel") bytes)"
      bad=1
    fi
  done < <(find "$1" -mindepth 1 \( -type f -o -type l \) | sort)
  return $bad
}

# readback PREFIX DIR: get every object under PREFIX/ (without the proxy)
# into DIR. The listing is of the whole container: moto refuses listings
# with a '/' in the prefix (its bug, see tests/servers/README.md).
readback() {
  local k
  "$XT_BIN" --config "$CONFIG" ls -r "d:$C" > "$T/seen.ls" 2> "$T/seen.out" || return 1
  while IFS= read -r k; do
    [[ $k == "$1/"* ]] || continue
    mkdir -p "$(dirname "$2/${k#"$1/"}")"
    "$XT_BIN" --config "$CONFIG" get "d:$C/$k" "$2/${k#"$1/"}" > /dev/null 2> "$T/seen.out" ||
      return 1
  done < "$T/seen.ls"
}

# raw_parts: the names of the GCS multipart temporaries (.xtstore-parts/)
# in C, listed with the JSON API itself (the bucket made public by the test
# server's hook): `ls -r` hides them, so readback cannot see them left over.
raw_parts() {
  curl -sf "$(cat "$SDIR/endpoint")/storage/v1/b/$C/o?prefix=.xtstore-parts%2F" |
    python3 -c 'import json, sys; print(" ".join(o["name"] for o in json.load(sys.stdin).get("items", [])))'
}

# clear_error: stderr has a line, and every line is "xtstore: ...".
clear_error() {
  [ -s "$T/.err" ] && ! grep -qv '^xtstore: ' "$T/.err"
}

passed=0
failed=0
run_no=0
# one NAME SHAPE EXPECT RULE: a run of one case and shape.
one() {
  local name=$1 shape=$2 expect=$3 case_rule=$4 key src what got start ms
  run_no=$((run_no + 1))
  key="r$run_no-$name-$shape/"
  if [ "$DIR" = down ]; then
    key=src/
    [ "$shape" = small ] && key=src/small/
  fi
  # A server that plays the clock skew itself (SKEW_SERVER): its clock is
  # 10 minutes behind for this run; the rule only marks the run's first
  # request, and the server must have refused one (counted below).
  local server_skew=""
  if [ "$name" = clock-skew ] && [ -n "$SKEW_SERVER" ]; then
    server_skew=1
    case_rule='[{"match": @M, "count": 1, "stall_ms": 1}]'
    skew_server -600
  fi
  rule "$case_rule" "$shape" "$key" > "$T/rules.json.tmp"
  mv "$T/rules.json.tmp" "$T/rules.json"
  : > "$T/proxy/log"
  start=$(date +%s%N)
  src=$T/src/$shape
  got=$T/got/$run_no
  mkdir -p "$T/got"
  if [ "$DIR" = up ]; then
    if [ "$shape" = big ]; then
      xt put "$src" "p:$C/r$run_no-$name-$shape/big"
    else
      xt cp -r --no-progress "$src" "p:$C/r$run_no-$name-$shape"
    fi
  else
    if [ "$shape" = big ]; then
      mkdir -p "$got"
      xt get "p:$C/src/big" "$got/big"
    else
      xt cp -r --no-progress "p:$C/src/small" "$got"
    fi
  fi
  ms=$((($(date +%s%N) - start) / 1000000))
  local refused=""
  if [ -n "$server_skew" ]; then
    refused=$(skew_refused)
    skew_server 0
  fi
  # What is visible afterwards: the store's objects of the run (read back
  # without the proxy), or the download directory.
  local seen=$got why=""
  if [ "$DIR" = up ]; then
    seen=$T/seen/$run_no
    mkdir -p "$seen"
    readback "r$run_no-$name-$shape" "$seen" || why="reading back failed: $(head -n 3 "$T/seen.out")"
    if [ "$PROVIDER" = gcs ]; then
      local parts
      parts=$(raw_parts) || why="$why${why:+; }listing .xtstore-parts/ failed"
      [ -z "$parts" ] || why="$why${why:+; }multipart temporaries left: $parts"
    fi
  fi
  local want=$T/src
  [ "$shape" = small ] && want=$T/src/small
  local rc=$RC partial
  [ -n "$server_skew" ] && [ "${refused:-0}" -lt 1 ] &&
    why="$why${why:+; }the server never refused a request for its date"
  partial=$(no_partial "$seen" "$want") || why="$why${why:+; }something partial is visible:
$partial"
  if [[ $expect == ok\<* ]] && [ "$ms" -ge "${expect#ok<}" ]; then
    why="took $ms ms, more than ${expect#ok<}"
  fi
  if [[ $expect == ok* ]]; then
    [ "$rc" -eq 0 ] || why="$why${why:+; }exit $rc: $(head -n 3 "$T/.err")"
    if [ "$rc" -eq 0 ] && [ "$shape" = big ] && ! cmp -s "$seen/big" "$src"; then
      why="$why${why:+; }the object is not whole"
    fi
    if [ "$rc" -eq 0 ] && [ "$shape" = small ] &&
       [ "$(find "$seen" -type f | wc -l)" -ne 30 ]; then
      why="$why${why:+; }$(find "$seen" -type f | wc -l) of 30 objects"
    fi
  else
    [ "$rc" -ne 0 ] || why="$why${why:+; }exit 0 under a fault that never ends"
    clear_error || why="$why${why:+; }unclear error output: $(head -n 5 "$T/.err")"
    # One line per object that failed (the big one, or 3), warnings aside.
    local lines want_lines=1
    [ "$shape" = small ] && want_lines=3
    lines=$(grep -vc '^xtstore: warning: ' "$T/.err")
    [ "$lines" -eq "$want_lines" ] ||
      why="$why${why:+; }$lines error lines, not $want_lines: $(head -n 5 "$T/.err")"
    if [ "$shape" = small ] && [ "$(find "$seen" -type f | wc -l)" -ne 27 ]; then
      why="$why${why:+; }$(find "$seen" -type f | wc -l) objects, not the 27 the fault spared"
    fi
  fi
  # The fault must have been played, else the run proves nothing (the proxy
  # logs a request when it ends: a stalled one may end after the client).
  local i
  for i in $(seq 40); do
    grep -q ' rule=0 ' "$T/proxy/log" && break
    sleep 0.1
  done
  grep -q ' rule=0 ' "$T/proxy/log" || why="$why${why:+; }the fault never fired"
  [ -n "${FAULTS_VERBOSE:-}" ] && sed 's/^/    proxy: /' "$T/proxy/log"
  if [ -z "$why" ]; then
    passed=$((passed + 1))
    printf 'ok   - %s %s %s %s (exit %s, %s ms)\n' "$PROVIDER" "$DIR" "$name" "$shape" "$rc" "$ms"
    [ "$rc" -ne 0 ] && sed 's/^/    stderr: /' "$T/.err" | head -n 5
  else
    failed=$((failed + 1))
    printf 'FAIL - %s %s %s %s (%s ms): %s\n' "$PROVIDER" "$DIR" "$name" "$shape" "$ms" "$why"
    sed 's/^/    proxy: /' "$T/proxy/log" | head -n 20
  fi
  rm -rf "$got" "$T/seen"
}

while read -r name dirs shapes expect case_rule; do
  [ -n "$name" ] || continue
  [[ ",$dirs," == *",$DIR,"* ]] || continue
  [ -n "${FAULTS_ONLY:-}" ] && ! [[ $name =~ $FAULTS_ONLY ]] && continue
  [[ $name =~ $SKIP ]] && continue
  for shape in ${shapes//,/ }; do
    one "$name" "$shape" "$expect" "$case_rule"
  done
done <<< "$CASES"

echo "$PROVIDER $DIR: $passed passed, $failed failed"
[ "$FAILS" -eq 0 ] && [ "$failed" -eq 0 ]
