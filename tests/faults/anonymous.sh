#!/usr/bin/env bash
# faults/s3-anonymous: an S3 service with `anonymous: true` that the server
# refuses exits 6 (auth or permission, README's exit codes) with a line
# that says the request was anonymous, not 2 ("usage"), 4 or 5. Against
# Swift's s3api, whose unsigned requests reach Swift, which answers 400,
# 404 or 412 in HTML; and through faultproxy.py in front of s3rver (which
# serves unsigned requests), where the refusals are injected: a 400 HTML
# page, a bodiless 403 to a HEAD and an HTML 404 to listing the buckets are
# refusals, while an S3 error (InvalidArgument: 2), a HEAD's 404 (4), an
# HTML 404 to an object GET (a CDN's for a missing object: 4) and any answer
# to a signed request keep their meaning.
#   anonymous.sh XTSTORE_BIN PROJECT_SOURCE_DIR BINARY_DIR
. "$(dirname "$0")/../host/cli/lib.sh" "$1" "$2" "$3"

for s in SWIFT S3RVER; do
  v=XTSTORE_${s}_DIR
  [ -f "${!v:-/nonexistent}/endpoint" ] || { echo "skip: no ${s,,} fixture"; exit 77; }
done
read -r SW_AK SW_SK < "$XTSTORE_SWIFT_DIR/keys"
SW_E=$(cat "$XTSTORE_SWIFT_DIR/endpoint")
S3_E=$(cat "$XTSTORE_S3RVER_DIR/endpoint")
B="xtanon-$$"
echo '[]' > "$T/rules.json"
PROXY=$("$XTSTORE_FAULTPROXY_SH" start "$T/proxy" "$XTSTORE_S3RVER_DIR" "$T/rules.json") || {
  echo "FAIL: the fault proxy did not start"; exit 1; }
cat > "$CONFIG" <<YAML
external-services:
  sw: {type: "storage", provider: "s3", endpoint: "$SW_E", region: "us-east-1",
       access-key: "$SW_AK", secret-key: "$SW_SK", addressing: "path", retry: 1}
  swanon: {type: "storage", provider: "s3", endpoint: "$SW_E", region: "us-east-1",
           anonymous: true, addressing: "path", retry: 1}
  s3: {type: "storage", provider: "s3", endpoint: "$S3_E", region: "us-east-1",
       access-key: "S3RVER", secret-key: "S3RVER", addressing: "path", retry: 1}
  p: {type: "storage", provider: "s3", endpoint: "$PROXY", region: "us-east-1",
      access-key: "S3RVER", secret-key: "S3RVER", addressing: "path", retry: 1}
  panon: {type: "storage", provider: "s3", endpoint: "$PROXY", region: "us-east-1",
          anonymous: true, addressing: "path", retry: 1}
YAML
trap '"$XT_BIN" --config "$CONFIG" -q rb -f "sw:$B" > /dev/null 2>&1
      "$XT_BIN" --config "$CONFIG" -q rb -f "s3:$B" > /dev/null 2>&1
      "$XTSTORE_FAULTPROXY_SH" stop "$T/proxy" > /dev/null 2>&1; rm -rf "$T"' EXIT

echo hello > "$T/f"
for svc in sw s3; do
  xt mb "$svc:$B"
  assert_rc 0
  xt put "$T/f" "$svc:$B/a"
  assert_rc 0
done

# refused VERB ARGS...: exit 6, one line naming the anonymous request.
refused() {
  local verb=$1
  xt "$@"
  assert_rc 6
  assert_error "$verb"
  assert_err_has "anonymous (unsigned) request refused"
  assert_err_has "set credentials"
}

# --- Swift's s3api: every refusal, whatever Swift answered ---------------
refused ls "swanon:"
refused ls "swanon:$B"
refused get "swanon:$B/a" "$T/got"
assert_file_absent "$T/got"
refused put "$T/f" "swanon:$B/b"
refused stat "swanon:$B/a"
refused mb "swanon:$B-2"
refused rm "swanon:$B/a"
xt stat "sw:$B/a"          # the refused rm deleted nothing
assert_rc 0

# --- injected in front of s3rver ------------------------------------------
rules() { printf '%s\n' "$1" > "$T/rules.json.tmp"; mv "$T/rules.json.tmp" "$T/rules.json"; }
HTML='"headers": {"Content-Type": "text/html"}, "body": "<html><h1>Bad Request</h1></html>"'
rules "[{\"match\": {\"method\": \"GET\", \"path\": \"^/$B/a\$\"}, \"status\": 400, $HTML},
        {\"match\": {\"method\": \"HEAD\", \"path\": \"^/$B/a\$\"}, \"status\": 403}]"
refused get "panon:$B/a" "$T/got"
refused stat "panon:$B/a"
# The same answers to signed requests: what they always meant.
xt get "p:$B/a" "$T/got"
assert_rc 2
xt stat "p:$B/a"
assert_rc 6
assert_err_lacks "anonymous"
# An S3 error and a HEAD's 404 to an anonymous request keep their meaning.
rules "[{\"match\": {\"method\": \"GET\", \"path\": \"^/$B/a\$\"}, \"status\": 400,
         \"headers\": {\"Content-Type\": \"application/xml\"},
         \"body\": \"<Error><Code>InvalidArgument</Code><Message>bad</Message></Error>\"}]"
xt get "panon:$B/a" "$T/got"
assert_rc 2
assert_err_has "InvalidArgument"
xt stat "panon:$B/missing"
assert_rc 4
# An HTML 404 (a CDN's or proxy's page) to an object GET: the object is
# missing, not the request refused; to listing the buckets, a refusal.
NF='"headers": {"Content-Type": "text/html"}, "body": "<html><h1>Not Found</h1></html>"'
rules "[{\"match\": {\"method\": \"GET\", \"path\": \"^/$B/a\$\"}, \"status\": 404, $NF},
        {\"match\": {\"method\": \"GET\", \"path\": \"^/\$\"}, \"status\": 404, $NF}]"
xt get "panon:$B/a" "$T/got404"
assert_rc 4
assert_err_has "anonymous request"
assert_err_lacks "set credentials"
assert_file_absent "$T/got404"
refused ls "panon:"
# Unsigned and unrefused (s3rver serves them): the object itself.
rules "[]"
xt get "panon:$B/a" "$T/got"
assert_rc 0
assert_same "$T/f" "$T/got"

finish
