#!/usr/bin/env bash
# Existing Microsoft XT configs work unchanged: XT's published
# default_config.yaml (multi-line flow maps, quoted keys, trailing commas,
# null roles, other provider categories) and a user config written as XT's
# docs say. XT's storage providers map to the native plugins: store-file
# (key path) -> local; azure-blob-21 / azure-blob-210 (key, the service name
# as the account) -> azure, here pointed at Azurite. A Python class path of
# another provider is one clear line when a service uses it; XT's Azure Key
# Vault vault is a clear error naming the alternatives.
#   test_xt_configs.sh XTSTORE_BIN PROJECT_SOURCE_DIR BINARY_DIR
. "$(dirname "$0")/lib.sh" "$@"

if [ -z "${XTSTORE_AZURITE_DIR:-}" ]; then
  echo "skip: XTSTORE_AZURITE_DIR is not set (run through ctest)"
  exit 77
fi
AZ_E=$(cat "$XTSTORE_AZURITE_DIR/endpoint")
AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

# XT's xtlib/helpers/default_config.yaml, as shipped (the parts it has).
mkdir -p xt
cat > xt/default_config.yaml <<'EOF'
external-services:
    # storage services
    filestorage: {type: "storage", provider: "store-file", path: "~/.xt/file_store"}

xt-services:
    storage: null
    mongo: null
    vault: null
    target: "local"                    # our default compute target 

providers:
    # the hyperparameter search services, and storage services.

    command: {
        "compute": "xtlib.impl_compute.ImplCompute", 
    }
    compute: {
        "pool": "xtlib.backends.backend_pool.PoolBackend",
        "batch": "xtlib.backends.backend_batch.AzureBatch",
        "aml": "xtlib.backends.backend_aml.AzureML",
    }
    hp-search: {
        "dgd": "xtlib.hparams.dgd.DGDSearch",
        "bayesian": "xtlib.hparams.hp_bayesian.BayesianSearch",
        "random": "xtlib.hparams.hp_random.RandomSearch",
    }
    storage: {
        "azure-blob-21": "xtlib.storage.store_azure_blob21.AzureBlobStore21",
        "azure-blob-210": "xtlib.storage.store_azure_blob210.AzureBlobStore210",
        "store-file": "xtlib.storage.store_file.FileStore",
    }
EOF

# 1. The default config as the only layer: the file store is the local
#    provider, its "~/.xt/file_store" under HOME.
mkdir -p "$HOME/.xt/file_store/box"
printf 'xt data' > "$HOME/.xt/file_store/box/a.txt"
run "$XT_BIN" --config xt/default_config.yaml cat filestorage:box/a.txt
assert_rc 0
assert_out "xt data"
run "$XT_BIN" --config xt/default_config.yaml put --text more filestorage:box/b.txt
assert_rc 0
[ "$(cat "$HOME/.xt/file_store/box/b.txt" 2>/dev/null)" = more ] ||
  fail "store-file did not write under ~/.xt/file_store"
run "$XT_BIN" --config xt/default_config.yaml plugins
assert_rc 0
assert_out_has "store-file"
assert_out_has "azure-blob-21"
check

# 2. A user config as XT's docs write one, over the default: XT's Key Vault
#    vault, a mongo service, and a storage service named for its account.
cat > xt/xt_config.yaml <<EOF
external-services:
    phoenixkeyvault: {type: "vault", url: "https://phoenixkeyvault.vault.azure.net/"}
    phoenixmongodb: {type: "mongo", mongo-connection-string: "\$vault"}
    devstoreaccount1: {type: "storage", provider: "azure-blob-21", key: "\$vault",
                       endpoint: "$AZ_E", }
xt-services:
    mongo: "phoenixmongodb"
    storage: "devstoreaccount1"
    vault: "phoenixkeyvault"
EOF
run "$XT_BIN" --config xt/default_config.yaml services
assert_rc 0
XTSTORE_CONFIG= run "$XT_BIN" --config xt/xt_config.yaml ls :
assert_rc 3
assert_err_has "vault 'phoenixkeyvault' is an Azure Key Vault, which xtstore does not read"
assert_err_has "\$env:NAME"
check

# 3. The same service with its key from a file vault (xtstore's): Azurite
#    answers, the service name being the account, XT's azure-blob-21 keys.
printf '{"devstoreaccount1": "%s"}' "$AZ_KEY" > "$T/keys.json"
chmod 600 "$T/keys.json"
cat > xt/xt_config.yaml <<EOF
external-services:
    keys: {type: "vault", provider: "file", path: "$T/keys.json"}
    devstoreaccount1: {type: "storage", provider: "azure-blob-210", key: "\$vault",
                       endpoint: "$AZ_E", }
xt-services:
    storage: "devstoreaccount1"
    vault: "keys"
EOF
cat xt/default_config.yaml > "$T/merged-base.yaml"
C="xtcfg-$$"
run "$XT_BIN" --config xt/xt_config.yaml mb ":$C"
assert_rc 0
run "$XT_BIN" --config xt/xt_config.yaml put --text "from xt" ":$C/k.txt"
assert_rc 0
run "$XT_BIN" --config xt/xt_config.yaml cat ":$C/k.txt"
assert_rc 0
assert_out "from xt"
run "$XT_BIN" --config xt/xt_config.yaml rb -f ":$C"
assert_rc 0

# 4. Another provider registered by Python class path: one clear line when a
#    service uses it, nothing before.
cat > xt/other.yaml <<'EOF'
providers:
    storage: {
        "my-store": "mycompany.storage.MyStore",
    }
external-services:
    mine: {type: "storage", provider: "my-store", key: "x", }
    files: {type: "storage", provider: "store-file", path: "~/.xt/file_store"}
EOF
run "$XT_BIN" --config xt/other.yaml cat files:box/a.txt
assert_rc 0
run "$XT_BIN" --config xt/other.yaml ls mine:
assert_rc 3
assert_err_has "provider 'my-store' is a Python class; xtstore loads shared objects"
[ "$(printf '%s\n' "$ERR" | wc -l)" -eq 1 ] || fail "more than one line: $ERR"
check

finish
