# gcslib.sh -- shared setup of the GCS CLI tests, on top of
# tests/host/cli/lib.sh (temp dir, HOME, assertions, `xt`).
#
# Sourced as:  . "$(dirname "$0")/gcslib.sh" XTSTORE_BIN SRC_DIR BIN_DIR
# Needs the GCS fixture ($XTSTORE_GCS_DIR, see tests/servers/gcs), or
# gcs_private_server for a server of the test's own (tests that expire
# every token or change the server's settings must not share one). Sets
# GCS_DIR, GCS_E (endpoint) and rewrites $CONFIG with the provider, the
# service "gcs" (the service account's JWT grant) and the local "scratch";
# gcs_config appends more services.

. "$(dirname "$0")/../../host/cli/lib.sh" "$1" "$2" "$3"

unset GOOGLE_APPLICATION_CREDENTIALS STORAGE_EMULATOR_HOST GOOGLE_CLOUD_PROJECT

# A bucket name of this test run: [a-z0-9-], 3 to 63.
GCS_B="xtgcs-$(basename "$0" .sh | tr '_' '-')-$$"

# gcs_config [EXTRA SERVICE LINES]: write $CONFIG. $GCS_PROVIDERS: more
# lines of providers.storage (other providers the test uses).
GCS_PROVIDERS=""
gcs_config() {
  cat > "$CONFIG" <<YAML
providers:
  storage:
    gcs: "store-gcs"
$GCS_PROVIDERS
external-services:
  scratch: {type: "storage", provider: "local", path: "$T/data"}
  gcs: {type: "storage", provider: "gcs", endpoint: "$GCS_E",
        credentials-file: "$GCS_DIR/sa.json", retry: {attempts: 1}}
$1
xt-services:
  storage: "scratch"
YAML
}

# gcs_use DIR: the server whose state directory is DIR.
gcs_use() {
  GCS_DIR=$1
  GCS_E=$(cat "$GCS_DIR/endpoint") || exit 1
  gcs_config ""
}

# gcs_private_server: start a GCS server of this test's own under $T
# (stopped on exit).
gcs_private_server() {
  "${XTSTORE_SERVER_SH:?no XTSTORE_SERVER_SH}" start gcs "$T/gcs" > /dev/null ||
    { echo "FAIL: the private GCS server did not start"; exit 1; }
  GCS_PRIVATE=1
  gcs_use "$T/gcs"
}

# hook METHOD PATH: a test hook of the server in use (no auth); its answer
# in $HOOK.
hook() {
  HOOK=$(curl -sS -X "$1" "$GCS_E$2") || { echo "FAIL: hook $1 $2"; exit 1; }
}

# gcs_user_token: a token of the server in use for its authorized_user
# (the refresh-token grant), on stdout, for requests made with curl.
gcs_user_token() {
  python3 - "$GCS_DIR/user.json" "$GCS_E/token" <<'PY'
import json, sys, urllib.parse, urllib.request
u = json.load(open(sys.argv[1]))
form = {"grant_type": "refresh_token", "client_id": u["client_id"],
        "client_secret": u["client_secret"], "refresh_token": u["refresh_token"]}
with urllib.request.urlopen(sys.argv[2], urllib.parse.urlencode(form).encode()) as r:
    print(json.load(r)["access_token"])
PY
}

GCS_PRIVATE=0
if [ -n "${XTSTORE_GCS_DIR:-}" ]; then
  gcs_use "$XTSTORE_GCS_DIR"
fi

# Drop the run's buckets whatever happened (lib.sh removes $T).
gcs_cleanup() {
  "$XT_BIN" --config "$CONFIG" -q rb -f "gcs:$GCS_B" >/dev/null 2>&1
  [ "$GCS_PRIVATE" = 1 ] && "$XTSTORE_SERVER_SH" stop gcs "$T/gcs" \
    >/dev/null 2>&1
  rm -rf "$T"
}
trap gcs_cleanup EXIT
