#!/bin/sh
# azure/resume-ops: test_azure_resume.c (the multipart ops across two
# handles) against the Azurite fixture, with a config of two Shared Key
# services on it.
#   run-resume.sh TEST_BIN PLUGIN_SO
set -eu
bin=${1:?usage: run-resume.sh TEST_BIN PLUGIN_SO} plugin=${2:?}
endpoint=$(cat "${XTSTORE_AZURITE_DIR:?no Azurite fixture}/endpoint")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xtstore-azres.XXXXXX")
trap 'rm -rf "$tmp"' EXIT HUP INT PIPE TERM
XTAZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
export XTAZ_KEY
cat >"$tmp/xt.yaml" <<YAML
# written by tests/plugins/azure/run-resume.sh
providers:
  storage:
    azure: "$plugin"
external-services:
  az: {type: "storage", provider: "azure", account: "devstoreaccount1",
       endpoint: "$endpoint", key: "\$env:XTAZ_KEY", }
  az2: {type: "storage", provider: "azure", account: "devstoreaccount1",
        endpoint: "$endpoint", key: "\$env:XTAZ_KEY", }
YAML
unset XTSTORE_CONFIG AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_KEY \
  AZURE_STORAGE_ACCOUNT
"$bin" "$tmp/xt.yaml" "xtaz-resume-$$"
