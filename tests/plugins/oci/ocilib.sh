# ocilib.sh -- shared setup of the OCI CLI tests, on top of
# tests/host/cli/lib.sh (temp dir, HOME, assertions, `xt`).
#
# Sourced as:  . "$(dirname "$0")/ocilib.sh" XTSTORE_BIN SRC_DIR BIN_DIR
# Needs the OCI fixture ($XTSTORE_OCI_DIR, see tests/servers/oci). Sets
# OCI_DIR, OCI_E (endpoint) and OCI_C (a bucket name of this run), and
# rewrites $CONFIG with the provider, the service "oci" (the fixture's
# config file, profile DEFAULT) and the local "scratch"; oci_config
# appends more services. oci_hook sets the server's test hooks: scoped to
# the run's buckets (?bucket=), as other tests share the server;
# oci_sign signs a request of the test's own.
. "$(dirname "$0")/../../host/cli/lib.sh" "$1" "$2" "$3"

OCI_DIR=${XTSTORE_OCI_DIR:?no OCI fixture (XTSTORE_OCI_DIR)}
OCI_E=$(cat "$OCI_DIR/endpoint") || exit 1
unset OCI_CONFIG_FILE OCI_CLI_PROFILE

OCI_C="xtoci-$(basename "$0" .sh | tr '_' '-')-$$"

# oci_config [EXTRA SERVICE LINES]: write $CONFIG.
oci_config() {
  cat > "$CONFIG" <<YAML
providers:
  storage:
    oci: "store-oci"
external-services:
  scratch: {type: "storage", provider: "local", path: "$T/data"}
  oci: {type: "storage", provider: "oci", endpoint: "$OCI_E",
        config-file: "$OCI_DIR/config", retry: {attempts: 1}, }
$1
xt-services:
  storage: "scratch"
YAML
}
oci_config ""

# oci_hook METHOD PATH [JSON]: one test-hook request (tests/servers/oci).
oci_hook() {
  curl -sf -X "$1" "$OCI_E$2" ${3:+-H 'Content-Type: application/json' --data "$3"} \
    >/dev/null || { echo "FAIL: test hook $1 $2 $3"; exit 1; }
}

# oci_sign METHOD URL: SIGNED, the curl arguments (-H x-date, -H
# Authorization) of a body-less request to URL signed as the provider
# signs it (the SDK's signer through ocisign, $XTSTORE_OCISIGN) with the
# fixture's key, for requests of the test's own straight to the server.
oci_sign() {
  local ocisign=${XTSTORE_OCISIGN:?no ocisign (XTSTORE_OCISIGN, set by ctest)}
  local keyid xdate auth
  keyid=$(awk -F= '/^user=/{u=$2} /^fingerprint=/{f=$2} /^tenancy=/{t=$2}
    /^$/{exit} END{print t "/" u "/" f}' "$OCI_DIR/config")
  xdate=$(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S GMT')
  auth=$("$ocisign" "$OCI_DIR/key.pem" "$keyid" "$1" "$2" "$xdate") ||
    { echo "FAIL: ocisign $1 $2"; exit 1; }
  SIGNED=(-H "x-date: $xdate" -H "Authorization: $auth")
}

# Drop the run's buckets and the hooks' settings whatever happened (lib.sh
# removes $T).
oci_cleanup() {
  XTSTORE_PLUGIN_PATH= "$XT_BIN" --config "$CONFIG" -q rb -f "oci:$OCI_C" \
    "oci:$OCI_C-2" >/dev/null 2>&1
  curl -sf -X DELETE "$OCI_E/_test/config?bucket=$OCI_C" >/dev/null 2>&1
  curl -sf -X DELETE "$OCI_E/_test/config?bucket=$OCI_C-2" >/dev/null 2>&1
  rm -rf "$T"
}
trap oci_cleanup EXIT
