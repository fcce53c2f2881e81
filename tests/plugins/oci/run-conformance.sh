#!/bin/sh
# The conformance suite against the OCI test server (tests/servers/oci),
# every request signed with the fixture's key from its ~/.oci/config-style
# file (profile DEFAULT, key_file relative to the file):
#   run-conformance.sh plain|versioned CONFORMANCE_BIN PLUGIN_SO [ARGS...]
# versioned: the suite's buckets are created with object versioning on
# (bucket-versioning), which snapshots need; plain: without, and the
# snapshot cases are skipped for that reason.
# $XTSTORE_OCI_DIR/endpoint and config name the server (see tests/servers).
set -eu
usage="usage: run-conformance.sh plain|versioned CONFORMANCE PLUGIN_SO [ARGS...]"
mode=${1:?$usage}
bin=${2:?$usage}
plugin=${3:?$usage}
shift 3
case $mode in
  plain) versioning=false
         set -- --skip 'snapshot_basic,snapshot_delete_base,snapshot_of_current_deleted:snapshots need buckets with versioning (oci/conformance-versioned runs them)' "$@" ;;
  versioned) versioning=true ;;
  *) echo "run-conformance.sh: mode '$mode' is not plain or versioned" >&2; exit 2 ;;
esac
# OCI's CopyObject (the only way to change an object's metadata) keeps the
# source's content type, and a copy given no metadata keeps the source's:
# the provider refuses both (UNSUPPORTED), which these cases expect to
# work. test_copies.sh checks what it does instead.
set -- --skip "blobs_set_metadata,copy_replace_metadata:OCI's CopyObject cannot change the content type nor drop all metadata (oci/copies checks the refusals)" "$@"
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
             config-file: "$dir/config", profile: "DEFAULT",
             bucket-versioning: "$versioning"}
YAML
unset XTSTORE_CONFIG OCI_CONFIG_FILE OCI_CLI_PROFILE
# Own bucket prefix per mode: the two runs may share the server at once.
exec "$bin" --config "$tmp/xt.yaml" --service oci-conf \
  --container-prefix "xtoci-$mode" "$@"
