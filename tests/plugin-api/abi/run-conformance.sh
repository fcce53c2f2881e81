#!/bin/sh
# run-conformance.sh CONFORMANCE_BIN PLUGIN.so [ARGS...] -- run the
# conformance suite against one plugin file, named by path in a throw-away
# config (the way a third party tests a drop-in .so).
set -eu
bin=${1:?usage: run-conformance.sh CONFORMANCE_BIN PLUGIN.so [ARGS...]}
plugin=${2:?usage: run-conformance.sh CONFORMANCE_BIN PLUGIN.so [ARGS...]}
shift 2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xtstore-abi-conformance.XXXXXX")
trap 'rm -rf "$tmp"' EXIT HUP INT TERM
cat >"$tmp/xt_config.yaml" <<YAML
# written by tests/plugin-api/abi/run-conformance.sh
providers:
  storage:
    under-test: "$plugin"
external-services:
  conf-plugin: {type: "storage", provider: "under-test"}
xt-services:
  storage: "conf-plugin"
YAML
unset XTSTORE_CONFIG
# The large case bounds peak memory at 64 MiB, but an in-memory store holds
# the object itself: 16 MiB still proves the bodies are streamed in chunks.
exec "$bin" --config "$tmp/xt_config.yaml" --service conf-plugin \
  --large-mib "${XTSTORE_CONF_LARGE_MIB:-16}" "$@"
