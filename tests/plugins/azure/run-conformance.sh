#!/bin/sh
# The conformance suite against the Azurite fixture, with Shared Key or with
# an account SAS made by the SDK's own signer (tests/plugins/azure/azsas.c):
#   run-conformance.sh key|sas CONFORMANCE_BIN AZSAS_BIN PLUGIN_SO [ARGS...]
# $XTSTORE_AZURITE_DIR/endpoint names the server (see tests/servers).
set -eu
mode=${1:?usage: run-conformance.sh key|sas CONFORMANCE AZSAS PLUGIN_SO}
bin=$2 azsas=$3 plugin=$4
shift 4
key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
endpoint=$(cat "${XTSTORE_AZURITE_DIR:?no Azurite fixture}/endpoint")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xtstore-azconf.XXXXXX")
trap 'rm -rf "$tmp"' EXIT HUP INT PIPE TERM
case $mode in
  key) cred="key: \"\$env:XTAZ_KEY\"" ;;
  sas)
    # Every permission the suite needs; long-lived (the run is minutes).
    XTAZ_SAS=$("$azsas" account devstoreaccount1 "$key" rwdlacup \
      2099-01-01T00:00:00Z)
    export XTAZ_SAS
    cred="sas-token: \"\$env:XTAZ_SAS\"" ;;
  *) echo "run-conformance.sh: mode '$mode' is not key or sas" >&2; exit 2 ;;
esac
XTAZ_KEY=$key
export XTAZ_KEY
cat >"$tmp/xt.yaml" <<YAML
# written by tests/plugins/azure/run-conformance.sh
providers:
  storage:
    azure: "$plugin"
external-services:
  az-$mode: {type: "storage", provider: "azure", account: "devstoreaccount1",
             endpoint: "$endpoint", $cred, }
YAML
unset XTSTORE_CONFIG AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_KEY \
  AZURE_STORAGE_ACCOUNT
# Own container prefix per mode: the two runs may share the server at once.
exec "$bin" --config "$tmp/xt.yaml" --service "az-$mode" \
  --container-prefix "xtaz-$mode" "$@"
