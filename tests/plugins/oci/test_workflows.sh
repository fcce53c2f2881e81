#!/usr/bin/env bash
# Sunbird's MultiCloud upload through the OCI provider: `put --to` one file
# to a local, an S3 (s3rver) and an OCI service at once, each read back
# byte-identical, then a `cp` between S3 and OCI both ways; and a profile
# that names only what differs from [DEFAULT], the rest taken from it as the
# OCI SDKs do (a file written the way Sunbird's and the migrator's were).
. "$(dirname "$0")/ocilib.sh" "$@"

if [ -z "${XTSTORE_S3RVER_DIR:-}" ]; then
  echo "skip: XTSTORE_S3RVER_DIR is not set (run through ctest)"
  exit 77
fi
S3_E=$(cat "$XTSTORE_S3RVER_DIR/endpoint")
C=$OCI_C

# A config file whose [SUNBIRD] profile says only its region and key file:
# user, fingerprint and tenancy come from [DEFAULT].
cp "$OCI_DIR/key.pem" "$T/sunbird.pem"
{
  sed -n '/^\[DEFAULT\]/,/^\[/p' "$OCI_DIR/config" | sed '$d'
  printf '\n[SUNBIRD]\nregion=us-phoenix-1\nkey_file=%s\n' "$T/sunbird.pem"
} > "$T/oci-config"
grep -q '^user=' "$T/oci-config" || { echo "FAIL: no [DEFAULT] user in the fixture's config"; exit 1; }
oci_config "  sun: {type: \"storage\", provider: \"oci\", endpoint: \"$OCI_E\",
        config-file: \"$T/oci-config\", profile: \"SUNBIRD\", }
  s3: {type: \"storage\", provider: \"s3\", endpoint: \"$S3_E\", access-key: \"S3RVER\",
       secret-key: \"S3RVER\", addressing: \"path\", }"
mkdir -p "$T/data/$C"

head -c 2500000 /dev/urandom > "$T/report.bin"
xt mb "oci:$C"
assert_rc 0
xt mb "s3:$C"
assert_rc 0
xt put --to scratch,s3,sun "$T/report.bin" "$C/runs/report.bin"
assert_rc 0
assert_out_has "sun:$C/runs/report.bin"
for s in scratch s3 oci; do
  xt get "$s:$C/runs/report.bin" "$T/back-$s.bin"
  assert_rc 0
  assert_same "$T/report.bin" "$T/back-$s.bin"
done
# Between the clouds, both ways.
xt cp "s3:$C/runs/report.bin" "sun:$C/from-s3.bin"
assert_rc 0
xt cp "oci:$C/from-s3.bin" "s3:$C/from-oci.bin"
assert_rc 0
xt get "s3:$C/from-oci.bin" "$T/round.bin"
assert_rc 0
assert_same "$T/report.bin" "$T/round.bin"

# The profile's own key file, the rest from [DEFAULT]: a wrong [DEFAULT]
# fingerprint is refused by the server, naming the profile's values.
sed -i 's/^fingerprint=.*/fingerprint=00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff/' "$T/oci-config"
xt ls "sun:$C"
[ "$RC" -ne 0 ] || fail "a wrong fingerprint from [DEFAULT] was not used"
check

XTSTORE_PLUGIN_PATH= "$XT_BIN" --config "$CONFIG" -q rb -f "s3:$C" >/dev/null 2>&1
finish
