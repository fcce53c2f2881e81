# azlib.sh -- shared setup of the Azure CLI tests, on top of
# tests/host/cli/lib.sh (temp dir, HOME, assertions, `xt`).
#
# Sourced as:  . "$(dirname "$0")/azlib.sh" XTSTORE_BIN SRC_DIR BIN_DIR AZSAS
# Needs the Azurite fixture ($XTSTORE_AZURITE_DIR, see tests/servers). Sets
# AZ_E (endpoint), AZ_KEY (the emulator's public key), AZ_SAS (an account
# SAS from the SDK's signer), AZ_CONN (a connection string) and rewrites
# $CONFIG with the provider and the service "az" (Shared Key), "azsas"
# (SAS only) and the local "scratch". az_config appends more services;
# need_az_cli skips a test without the az CLI.

AZSAS_BIN=$4
. "$(dirname "$0")/../../host/cli/lib.sh" "$1" "$2" "$3"

AZ_DIR=${XTSTORE_AZURITE_DIR:?no Azurite fixture (XTSTORE_AZURITE_DIR)}
AZ_E=$(cat "$AZ_DIR/endpoint") || exit 1
AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
AZ_SAS=$("$AZSAS_BIN" account devstoreaccount1 "$AZ_KEY" rwdlacup \
  2099-01-01T00:00:00Z) || exit 1
AZ_CONN="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZ_KEY;BlobEndpoint=$AZ_E;"
export AZ_KEY AZ_SAS
unset AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_KEY AZURE_STORAGE_ACCOUNT

# A container name of this test run: Azure wants [a-z0-9-], 3 to 63.
AZ_C="xtaz-$(basename "$0" .sh | tr '_' '-')-$$"

# az_config [EXTRA SERVICE LINES]: write $CONFIG.
az_config() {
  cat > "$CONFIG" <<YAML
providers:
  storage:
    azure: "store-azure"
external-services:
  scratch: {type: "storage", provider: "local", path: "$T/data"}
  az: {type: "storage", provider: "azure", account: "devstoreaccount1",
       key: "\$env:AZ_KEY", endpoint: "$AZ_E", retry: {attempts: 1}, }
  azsas: {type: "storage", provider: "azure", account: "devstoreaccount1",
          sas-token: "\$env:AZ_SAS", endpoint: "$AZ_E", retry: {attempts: 1}, }
$1
xt-services:
  storage: "scratch"
YAML
}
az_config ""

# need_az_cli: skip the test (exit 77) without the az CLI; else keep az's
# configuration in $T, without telemetry or colour.
need_az_cli() {
  if ! command -v az >/dev/null 2>&1; then
    echo "skip: the az CLI (Debian package azure-cli) is not installed"
    exit 77
  fi
  export AZURE_CORE_COLLECT_TELEMETRY=false AZURE_CORE_NO_COLOR=true
  export AZURE_CONFIG_DIR="$T/az-config"
}

# Drop the run's containers whatever happened (lib.sh removes $T).
trap 'XTSTORE_PLUGIN_PATH= "$XT_BIN" --config "$CONFIG" -q rb -f "az:$AZ_C" \
  "az:$AZ_C-2" >/dev/null 2>&1; rm -rf "$T"' EXIT
