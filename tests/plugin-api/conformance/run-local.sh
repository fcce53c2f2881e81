#!/bin/sh
# Run the conformance suite against the local provider in a throw-away
# directory:  run-local.sh PATH/TO/conformance [extra conformance args...]
# XTSTORE_CONF_LARGE_MIB (default 256) sizes the large streaming case;
# XTSTORE_CONF_WRAPPER (e.g. "valgrind --error-exitcode=99") runs the suite
# under a checker.
set -eu
bin=${1:?usage: run-local.sh CONFORMANCE_BINARY [ARGS...]}
shift
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xtstore-conformance.XXXXXX")
trap 'rm -rf "$tmp"' EXIT HUP INT PIPE TERM
mkdir "$tmp/root"
cat >"$tmp/xt_config.yaml" <<YAML
# written by tests/plugin-api/conformance/run-local.sh
external-services:
  conf-local: {type: "storage", provider: "local", path: "$tmp/root"}
xt-services:
  storage: "conf-local"
YAML
unset XTSTORE_CONFIG
rc=0
# shellcheck disable=SC2086 # the wrapper is a command line
${XTSTORE_CONF_WRAPPER:-} "$bin" --config "$tmp/xt_config.yaml" --service conf-local \
  --large-mib "${XTSTORE_CONF_LARGE_MIB:-256}" "$@" || rc=$?
left=$(find "$tmp/root" -mindepth 1 -maxdepth 1 | head -5)
if [ -n "$left" ]; then
  echo "run-local.sh: the suite left entries in the local root:" >&2
  echo "$left" >&2
  [ "$rc" -ne 0 ] || rc=1
fi
exit "$rc"
