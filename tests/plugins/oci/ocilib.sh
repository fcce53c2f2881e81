# ocilib.sh -- shared setup of the OCI CLI tests, on top of
# tests/host/cli/lib.sh (temp dir, HOME, assertions, `xt`).
#
# Sourced as:  . "$(dirname "$0")/ocilib.sh" XTSTORE_BIN SRC_DIR BIN_DIR
# Needs the OCI fixture ($XTSTORE_OCI_DIR, see tests/servers/oci). Sets
# OCI_DIR, OCI_E (endpoint) and OCI_C (a bucket name of this run), and
# rewrites $CONFIG with the provider, the service "oci" (the fixture's
# config file, profile DEFAULT) and the local "scratch"; oci_config
# appends more services. oci_hook sets the server's test hooks: scoped to
# the run's buckets (?bucket=), as other tests share the server.
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
