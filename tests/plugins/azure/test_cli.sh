#!/usr/bin/env bash
# The Azure provider through the CLI against Azurite: credentials from every
# source (key, SAS winning over a key, connection strings, the environment,
# the service name as account), clear auth failures without secrets, XT's
# directory markers and snapshot semantics, append-blob typing.
. "$(dirname "$0")/azlib.sh" "$@"

C=$AZ_C
printf 'hello azure\n' > "$T/hello.txt"

xt mb "az:$C"
assert_rc 0

# --- credentials ----------------------------------------------------------
# A wrong key: exit 6, a message naming the service and the cause, and
# neither key in the output.
BADKEY='AAAAvdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
az_config "  badkey: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\", key: \"$BADKEY\", endpoint: \"$AZ_E\", retry: {attempts: 1}, }"
xt ls "badkey:$C"
assert_rc 6
assert_error ls
assert_err_has "service 'badkey'"
assert_err_has "authentication failed"
assert_err_has "check the account key or SAS token"
assert_err_lacks "$BADKEY"
assert_err_lacks "$AZ_KEY"
assert_out_lacks "$BADKEY"
xt put "$T/hello.txt" "badkey:$C/x.txt"
assert_rc 6
assert_err_has "put blob '$C/x.txt'"
assert_err_lacks "$BADKEY"
xt stat "badkey:$C/x.txt"        # a HEAD: the cause comes in a header
assert_rc 6
assert_err_has "check the account key or SAS token"
# `services` shows the key redacted.
xt services
assert_rc 0
assert_out_lacks "$BADKEY"

# Both a (wrong) key and a SAS token: the SAS token is used.
az_config "  both: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\", key: \"$BADKEY\", sas-token: \"\$env:AZ_SAS\", endpoint: \"$AZ_E\", }"
xt put "$T/hello.txt" "both:$C/sas-wins.txt"
assert_rc 0
xt cat "azsas:$C/sas-wins.txt"
assert_rc 0
assert_out "hello azure"
# A SAS token with a forged signature: exit 6 naming the service, the token
# nowhere in the output.
FORGED=$(printf '%s' "$AZ_SAS" | sed 's/sig=[^&]*/sig=Zm9yZ2VkLXNpZ25hdHVyZQ%3D%3D/')
az_config "  forged: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\", sas-token: \"$FORGED\", endpoint: \"$AZ_E\", retry: {attempts: 1}, }"
xt ls "forged:$C"
assert_rc 6
assert_err_has "service 'forged'"
assert_err_lacks "Zm9yZ2Vk"
# A read-only SAS: writes are PERMISSION (exit 6 too), reads work.
RO=$("$AZSAS_BIN" account devstoreaccount1 "$AZ_KEY" rl 2099-01-01T00:00:00Z)
export RO
az_config "  ro: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\", sas-token: \"\$env:RO\", endpoint: \"$AZ_E\", retry: {attempts: 1}, }"
xt cat "ro:$C/sas-wins.txt"
assert_rc 0
assert_out "hello azure"
xt put "$T/hello.txt" "ro:$C/denied.txt"
assert_rc 6
assert_err_has "service 'ro'"
# A container SAS (service SAS from the SDK's signer) works for its blobs.
CSAS=$("$AZSAS_BIN" container devstoreaccount1 "$AZ_KEY" "$C" racwdl 2099-01-01T00:00:00Z)
export CSAS
az_config "  csas: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\", sas-token: \"\$env:CSAS\", endpoint: \"$AZ_E\", }"
xt put "$T/hello.txt" "csas:$C/container-sas.txt"
assert_rc 0
xt ls "csas:$C"
assert_rc 0
assert_out_has "container-sas.txt"

# A connection string in the config, and in the environment; the emulator
# shorthand with the fixture's endpoint; env key and account; the service
# name as the account (XT's rule).
export AZ_CONN
az_config "  cs: {type: \"storage\", provider: \"azure\", connection-string: \"\$env:AZ_CONN\", }
  envcs: {type: \"storage\", provider: \"azure\", }
  dev: {type: \"storage\", provider: \"azure\", connection-string: \"UseDevelopmentStorage=true\", endpoint: \"$AZ_E\", }
  envkey: {type: \"storage\", provider: \"azure\", endpoint: \"$AZ_E\", }
  devstoreaccount1: {type: \"storage\", provider: \"azure\", key: \"\$env:AZ_KEY\", endpoint: \"$AZ_E\", }"
for svc in cs dev devstoreaccount1; do
  xt cat "$svc:$C/sas-wins.txt"
  assert_rc 0
  assert_out "hello azure"
done
run env AZURE_STORAGE_CONNECTION_STRING="$AZ_CONN" "$XT_BIN" --config "$CONFIG" cat "envcs:$C/sas-wins.txt"
assert_rc 0
assert_out "hello azure"
run env AZURE_STORAGE_ACCOUNT=devstoreaccount1 AZURE_STORAGE_KEY="$AZ_KEY" "$XT_BIN" --config "$CONFIG" cat "envkey:$C/sas-wins.txt"
assert_rc 0
assert_out "hello azure"
# Configuration errors: exit 3, the cause named, no secret echoed.
az_config "  nocred: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\", endpoint: \"$AZ_E\", }
  bad-acct: {type: \"storage\", provider: \"azure\", key: \"\$env:AZ_KEY\", endpoint: \"$AZ_E\", }
  badcs: {type: \"storage\", provider: \"azure\", connection-string: \"AccountName=x;NotAPairButASecret\", }
  badkey64: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\", key: \"not*base64\", endpoint: \"$AZ_E\", }
  badtls: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\", key: \"\$env:AZ_KEY\", endpoint: \"$AZ_E\", verify-tls: \"maybe\", }
  badep: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\", key: \"\$env:AZ_KEY\", endpoint: \"ftp://127.0.0.1/x\", }"
xt ls "nocred:$C"
assert_rc 3
assert_err_has "no credentials"
xt ls "bad-acct:$C"
assert_rc 3
assert_err_has "account 'bad-acct'"
xt ls "badcs:$C"
assert_rc 3
assert_err_has "part 2"
assert_err_lacks "NotAPairButASecret"
xt ls "badkey64:$C"
assert_rc 3
assert_err_has "not base64"
assert_err_lacks "not*base64"
xt ls "badtls:$C"
assert_rc 3
assert_err_has "verify-tls"
xt ls "badep:$C"
assert_rc 3
assert_err_has "not an http:// or https:// URL"
az_config ""

# --- XT semantics ---------------------------------------------------------
# Directory markers (hdi_isfolder=true on an empty blob, as ADLS and XT make
# them): hidden from listings, flagged by stat, never a local file.
: > "$T/empty"
xt put "$T/empty" "az:$C/mk/dir" --meta hdi_isfolder=true
assert_rc 0
xt put "$T/hello.txt" "az:$C/mk/dir/file.txt"
assert_rc 0
xt ls -r "az:$C/mk"
assert_rc 0
assert_out "mk/dir/file.txt"
xt ls "az:$C/mk/"
assert_rc 0
assert_out "mk/dir/"
xt stat "az:$C/mk/dir"
assert_rc 0
assert_out_has "directory marker"
mkdir -p "$T/dl"
xt get "az:$C/mk/dir" "$T/dl/dir"
assert_rc 0
assert_file_absent "$T/dl/dir"
check
[ -z "$(ls -A "$T/dl")" ] || fail "get of a directory marker left files: $(ls -A "$T/dl")"
# An empty blob named "slash/" (no metadata: S3 consoles' convention, put
# here with curl and the SAS) is a marker too; so is what the host's mkdir
# writes ("made/" with hdi_isfolder=true), when this host has mkdir.
run curl -sS -o /dev/null -w '%{http_code}' -X PUT -H 'x-ms-blob-type: BlockBlob' \
  -H 'Content-Length: 0' "$AZ_E/$C/slash/?$AZ_SAS"
assert_out 201
xt put "$T/hello.txt" "az:$C/slash/in.txt"
assert_rc 0
xt ls -r "az:$C/slash"
assert_rc 0
assert_out "slash/in.txt"
xt stat "az:$C/slash/"
assert_rc 0
assert_out_has "directory marker"
if "$XT_BIN" mkdir --help >/dev/null 2>&1; then
  xt mkdir "az:$C/made"
  assert_rc 0
  xt put "$T/hello.txt" "az:$C/made/in.txt"
  assert_rc 0
  xt ls -r "az:$C/made"
  assert_rc 0
  assert_out "made/in.txt"
fi
# A non-empty blob with the same metadata is data, not a marker.
xt put "$T/hello.txt" "az:$C/mk/notmarker" --meta hdi_isfolder=true
assert_rc 0
xt get "az:$C/mk/notmarker" "$T/dl/notmarker"
assert_rc 0
assert_same "$T/hello.txt" "$T/dl/notmarker"
# An emptied container with only a marker left deletes without --force.
xt mb "az:$C-2"
assert_rc 0
xt put "$T/empty" "az:$C-2/only-marker" --meta hdi_isfolder=true
assert_rc 0
xt rb "az:$C-2"
assert_rc 0

# Snapshots: deleting one by id removes only that one (XT's own provider
# deleted the blob and all of them); the base with snapshots is refused.
printf 'v1' > "$T/v1"
printf 'v2' > "$T/v2"
xt put "$T/v1" "az:$C/snap.txt"
assert_rc 0
xt snapshot "az:$C/snap.txt"
assert_rc 0
S1=$OUT
xt put "$T/v2" "az:$C/snap.txt"
assert_rc 0
xt snapshot "az:$C/snap.txt"
assert_rc 0
S2=$OUT
xt rm --snapshot "$S1" "az:$C/snap.txt"
assert_rc 0
xt cat --snapshot "$S1" "az:$C/snap.txt"
assert_rc 4
xt cat --snapshot "$S2" "az:$C/snap.txt"
assert_rc 0
assert_out "v2"
xt cat "az:$C/snap.txt"
assert_rc 0
assert_out "v2"
xt ls --snapshots "az:$C/snap*"
assert_rc 0
assert_out_has "$S2"
assert_out_lacks "$S1"
xt rm "az:$C/snap.txt"
assert_rc 5
assert_err_has "blob has snapshots"
xt cat "az:$C/snap.txt"
assert_rc 0
xt rm --with-snapshots "az:$C/snap.txt"
assert_rc 0
xt cat --snapshot "$S2" "az:$C/snap.txt"
assert_rc 4

# A server-side copy from a missing source says which end is missing.
xt cp "az:$C/no-such.txt" "az:$C/copy.txt"
assert_rc 4
assert_err_has "copy from '$C/no-such.txt' to blob '$C/copy.txt'"
assert_err_has "the source blob is missing"

# Append: append blobs are made and grown; a block blob is refused clearly.
xt append --text "line 1
" "az:$C/log.txt"
assert_rc 0
xt append --text "line 2
" "az:$C/log.txt"
assert_rc 0
xt cat "az:$C/log.txt"
assert_out "line 1
line 2"
xt append --text "more" "az:$C/sas-wins.txt"
assert_rc 5
assert_err_has "blob '$C/sas-wins.txt'"
assert_err_has "BlockBlob, not an AppendBlob"

finish
