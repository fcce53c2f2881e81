#!/bin/sh
# The conformance suite against the OCI test server (tests/servers/oci),
# every request signed with the fixture's key from its ~/.oci/config-style
# file (profile DEFAULT, key_file relative to the file):
#   run-conformance.sh CONFORMANCE_BIN PLUGIN_SO [ARGS...]
# $XTSTORE_OCI_DIR/endpoint and config name the server (see tests/servers).
set -eu
bin=${1:?usage: run-conformance.sh CONFORMANCE PLUGIN_SO [ARGS...]}
plugin=${2:?usage: run-conformance.sh CONFORMANCE PLUGIN_SO [ARGS...]}
shift 2
dir=${XTSTORE_OCI_DIR:?no OCI fixture}
endpoint=$(cat "$dir/endpoint")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xtstore-ociconf.XXXXXX")
trap 'rm -rf "$tmp"' EXIT HUP INT PIPE TERM
cat >"$tmp/xt.yaml" <<YAML
# written by tests/plugins/oci/run-conformance.sh
providers:
  storage:
    oci: "$plugin"
external-services:
  oci-conf: {type: "storage", provider: "oci", endpoint: "$endpoint",
             config-file: "$dir/config", profile: "DEFAULT"}
YAML
unset XTSTORE_CONFIG OCI_CONFIG_FILE OCI_CLI_PROFILE
exec "$bin" --config "$tmp/xt.yaml" --service oci-conf \
  --container-prefix xtoci "$@"
