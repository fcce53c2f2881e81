#!/bin/sh
# The conformance suite against the GCS test server fixture, authenticated
# as its service account (a real JWT grant) or as its authorized_user (a
# refresh-token grant):
#   run-conformance.sh sa|user CONFORMANCE_BIN PLUGIN_SO [ARGS...]
# $XTSTORE_GCS_DIR holds the server's endpoint and key files (see
# tests/servers/gcs/README.md).
set -eu
mode=${1:?usage: run-conformance.sh sa|user CONFORMANCE PLUGIN_SO}
bin=$2 plugin=$3
shift 3
dir=${XTSTORE_GCS_DIR:?no GCS fixture}
endpoint=$(cat "$dir/endpoint")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xtstore-gcsconf.XXXXXX")
trap 'rm -rf "$tmp"' EXIT HUP INT PIPE TERM
case $mode in
  sa) cred="credentials-file: \"$dir/sa.json\"" ;;
  user) cred="credentials-file: \"$dir/user.json\", project: \"xt-test\", token-uri: \"$endpoint/token\"" ;;
  *) echo "run-conformance.sh: mode '$mode' is not sa or user" >&2; exit 2 ;;
esac
cat >"$tmp/xt.yaml" <<YAML
# written by tests/plugins/gcs/run-conformance.sh
providers:
  storage:
    gcs: "$plugin"
external-services:
  gcs-$mode: {type: "storage", provider: "gcs", endpoint: "$endpoint",
              versioned-buckets: "true", $cred}
YAML
unset XTSTORE_CONFIG GOOGLE_APPLICATION_CREDENTIALS STORAGE_EMULATOR_HOST \
  GOOGLE_CLOUD_PROJECT
# Own container prefix per mode: the runs may share the server at once.
exec "$bin" --config "$tmp/xt.yaml" --service "gcs-$mode" \
  --container-prefix "xtgcs-$mode" "$@"
