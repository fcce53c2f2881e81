#!/usr/bin/env bash
# The S3 provider over https://: s3rver behind tlsproxy.py, with a server
# certificate from a throwaway CA (tests/plugin-api/sdk/make_test_ca.sh):
#   test_tls.sh XTSTORE_BIN PLUGIN_DIR
#  1. by default the certificate is checked against the system's CAs: the
#     put fails with a certificate error, at once (one connection: a bad
#     certificate is not retried);
#  2. the CA given by the service's `ca-bundle`, by $AWS_CA_BUNDLE or by
#     $CURL_CA_BUNDLE is trusted: a put and a get go through, the bytes and
#     the metadata intact;
#  3. `verify-tls: false` accepts any certificate;
#  4. with the CA trusted, a host name the certificate does not hold
#     (localhost; it has IP:127.0.0.1 only) is refused.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/s3lib.sh" "$@"

need_server s3rver
unset AWS_CA_BUNDLE CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR
MAKE_CA="$HERE/../../plugin-api/sdk/make_test_ca.sh"
mkdir -p "$T/ca"
"$MAKE_CA" "$T/ca" > "$T/ca/out" 2>&1
case $? in
  0) ;;
  77) echo "skip: $(cat "$T/ca/out")"; exit 77 ;;
  *) echo "FAIL: make_test_ca.sh: $(cat "$T/ca/out")"; exit 1 ;;
esac
CA="$T/ca/ca.pem"
TLSLOG="$T/tls.log"
: > "$TLSLOG"
python3 "$HERE/tlsproxy.py" --cert "$T/ca/server.pem" \
  --key "$T/ca/server.key" --upstream "$ENDPOINT" --log "$TLSLOG" \
  --lifetime 240 --owner $$ > "$T/tls.port" 2> "$T/tls.err" &
TLSPID=$!
cleanup_hook() { kill "$TLSPID" 2> /dev/null || true; }
for _ in $(seq 1 100); do
  [ -s "$T/tls.port" ] && break
  sleep 0.1
done
PORT=$(head -n 1 "$T/tls.port")
if [ -z "$PORT" ]; then
  echo "FAIL: tlsproxy.py did not start: $(cat "$T/tls.err")"
  exit 1
fi
HTTPS="https://127.0.0.1:$PORT"
B=$(bucket tls)
config_begin
write_service sys "$HTTPS" S3RVER S3RVER
write_service ca "$HTTPS" S3RVER S3RVER ", ca-bundle: \"$CA\""
write_service noverify "$HTTPS" S3RVER S3RVER ', verify-tls: "false"'
write_service byname "https://localhost:$PORT" S3RVER S3RVER \
  ", ca-bundle: \"$CA\""
handshakes() { grep -c "handshake $1" "$TLSLOG" || true; }

printf 'over tls\n' > small.txt
head -c 300000 /dev/urandom > data.bin

# 1 ---------------------------------------------------------------------------
xt mb "ca:$B"
expect_rc 0 "mb over https with the CA as ca-bundle"
before=$(handshakes failed)
xt put small.txt "sys:$B/refused.txt"
check "system CAs only: the put fails" test "$RC" -ne 0 -a "$RC" -ne 2
echo "note: the refusal reads: $ERR"
check "the error says it is the certificate" contains "$ERR" "certificate"
check "the error names the request" contains "$ERR" "https://127.0.0.1:$PORT/"
check "not retried: one refused handshake" \
  test "$(($(handshakes failed) - before))" -eq 1
xt stat "ca:$B/refused.txt"
expect_rc 4 "nothing was written"

# 2 ---------------------------------------------------------------------------
xt put data.bin "ca:$B/ca.bin" --meta via=ca-bundle --content-type application/x-tls
expect_rc 0 "put with ca-bundle"
xt get "ca:$B/ca.bin" back-ca.bin
expect_rc 0 "get with ca-bundle"
check "byte-identical over https" cmp -s back-ca.bin data.bin
xt stat --json "ca:$B/ca.bin"
check "metadata over https" contains "$OUT" '"via": "ca-bundle"'
check "content type over https" contains "$OUT" '"content_type": "application/x-tls"'

AWS_CA_BUNDLE="$CA" xt put small.txt "sys:$B/aws-env.txt"
expect_rc 0 "put with \$AWS_CA_BUNDLE"
AWS_CA_BUNDLE="$CA" xt cat "sys:$B/aws-env.txt"
check "read back with \$AWS_CA_BUNDLE" test "$OUT" = "over tls"
CURL_CA_BUNDLE="$CA" xt put small.txt "sys:$B/curl-env.txt"
expect_rc 0 "put with \$CURL_CA_BUNDLE"
CURL_CA_BUNDLE="$CA" xt cat "sys:$B/curl-env.txt"
check "read back with \$CURL_CA_BUNDLE" test "$OUT" = "over tls"

# 3 ---------------------------------------------------------------------------
xt put small.txt "noverify:$B/noverify.txt"
expect_rc 0 "put with verify-tls: false"
xt cat "noverify:$B/noverify.txt"
check "read back without verification" test "$OUT" = "over tls"

# 4 ---------------------------------------------------------------------------
xt put small.txt "byname:$B/byname.txt"
check "a name the certificate lacks: the put fails" test "$RC" -ne 0 -a "$RC" -ne 2
check "the error says it is the certificate's name" \
  contains "$ERR" "certificate"
xt stat "ca:$B/byname.txt"
expect_rc 4 "nothing was written"

xt rb --force "ca:$B"
expect_rc 0 "rb --force over https"
finish
