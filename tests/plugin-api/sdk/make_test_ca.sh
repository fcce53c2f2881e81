#!/bin/sh
# make_test_ca.sh DIR -- a throwaway CA and a server certificate it signed,
# for the HTTPS tests (sdk/http, s3/tls), made with the openssl CLI:
#   DIR/ca.pem                  the CA certificate (what a client trusts)
#   DIR/server.pem, server.key  the server's certificate (subjectAltName
#                               IP:127.0.0.1 only: "localhost" does not
#                               match it) and its key
# Valid for 2 days; P-256 keys (fast). Exit 0, or non-zero with openssl's
# message on stderr (e.g. no openssl: the callers skip).
set -eu
dir=${1:?usage: make_test_ca.sh DIR}
command -v openssl > /dev/null 2>&1 || {
  echo "make_test_ca.sh: no openssl command" >&2
  exit 77
}
cd "$dir"
cat > ca.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = xtstore test CA
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
authorityKeyIdentifier = keyid
CNF
run() {
  "$@" >> openssl.log 2>&1 || {
    cat openssl.log >&2
    exit 1
  }
}
: > openssl.log
run openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
  -nodes -keyout ca.key -out ca.pem -days 2 -config ca.cnf -extensions ca_ext
run openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout server.key -out server.csr -subj "/CN=127.0.0.1"
run openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
  -CAcreateserial -out server.pem -days 2 -extfile ca.cnf \
  -extensions server_ext
