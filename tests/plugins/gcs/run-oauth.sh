#!/bin/sh
# gcs/oauth against a GCS test server of its own: it changes the server's
# token lifetime, which would reach every client of the shared fixture.
#   run-oauth.sh SERVER_SH TEST_OAUTH VECTORS_DIR
set -eu
server=$1 bin=$2 vectors=$3
dir=$(mktemp -d "${TMPDIR:-/tmp}/xtstore-gcsoauth.XXXXXX")
trap '"$server" stop gcs "$dir" > /dev/null 2>&1; rm -rf "$dir"' EXIT HUP INT PIPE TERM
"$server" start gcs "$dir" > /dev/null
XTSTORE_GCS_DIR=$dir "$bin" "$vectors"
