#!/usr/bin/env bash
# The OCI provider over https://: the OCI test server behind the S3 tests'
# tlsproxy.py, with a server certificate from a throwaway CA
# (tests/plugin-api/sdk/make_test_ca.sh); signatures stay valid, as the
# proxy passes the Host header on unchanged:
#  1. by default the certificate is checked against the system's CAs: the
#     request fails with a certificate error;
#  2. the CA given by the service's `ca-bundle` is trusted: a put and a get
#     go through, bytes intact;
#  3. `verify-tls: false` accepts any certificate.
. "$(dirname "$0")/ocilib.sh" "$@"

HERE="$SRC_DIR/tests/plugins"
unset CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR
mkdir -p "$T/ca"
"$HERE/../plugin-api/sdk/make_test_ca.sh" "$T/ca" > "$T/ca/out" 2>&1
case $? in
  0) ;;
  77) echo "skip: $(cat "$T/ca/out")"; exit 77 ;;
  *) echo "FAIL: make_test_ca.sh: $(cat "$T/ca/out")"; exit 1 ;;
esac
python3 "$HERE/s3/tlsproxy.py" --cert "$T/ca/server.pem" \
  --key "$T/ca/server.key" --upstream "$OCI_E" --log "$T/tls.log" \
  --lifetime 240 --owner $$ > "$T/tls.port" 2> "$T/tls.err" &
TLSPID=$!
trap 'kill "$TLSPID" 2>/dev/null; oci_cleanup' EXIT
for _ in $(seq 1 100); do
  [ -s "$T/tls.port" ] && break
  sleep 0.1
done
PORT=$(head -n 1 "$T/tls.port")
[ -n "$PORT" ] || { echo "FAIL: tlsproxy.py did not start: $(cat "$T/tls.err")"; exit 1; }
S="https://127.0.0.1:$PORT"
C=$OCI_C
base="type: \"storage\", provider: \"oci\", endpoint: \"$S\", config-file: \"$OCI_DIR/config\", retry: {attempts: 1}"
oci_config "  strict: {$base}
  trusted: {$base, ca-bundle: \"$T/ca/ca.pem\"}
  loose: {$base, verify-tls: \"false\"}"

xt mb "strict:$C"
assert_rc 1
assert_err_has "certificate"
xt mb "trusted:$C"
assert_rc 0
head -c 200000 /dev/urandom > "$T/x.bin"
xt put "$T/x.bin" "trusted:$C/x.bin"
assert_rc 0
xt get "loose:$C/x.bin" "$T/x.back"
assert_rc 0
assert_same "$T/x.bin" "$T/x.back"
xt rb -f "loose:$C"
assert_rc 0

finish
