#!/usr/bin/env bash
# The OCI provider end to end through the CLI against the OCI test server:
# where credentials come from (the fixture's ~/.oci/config-style file and
# its profiles, key_file relative to the working directory, else to the
# file, $OCI_CONFIG_FILE and $OCI_CLI_PROFILE, ~ expansion, explicit
# keys, an inline key, an encrypted key with and without its pass phrase),
# each misconfiguration one clear line without a secret; bytes, content
# type and metadata kept; listings across small pages (ListObjects'
# nextStartWith, and ListBuckets' opc-next-page on a server of its own);
# the namespace asked for once per run; errors naming the bucket and
# key; a copy through a work request the server holds back a while; a
# snapshot refused on a bucket without versioning.
. "$(dirname "$0")/ocilib.sh" "$@"

C=$OCI_C
FP=$(sed -n 's/^fingerprint=//p' "$OCI_DIR/config" | head -1)
PASS=$(cat "$OCI_DIR/passphrase")
export OCI_KEY_PEM
OCI_KEY_PEM=$(cat "$OCI_DIR/key.pem")

head -c 300000 /dev/urandom > "$T/body.bin"

# --- the default profile: bytes, type, metadata ---------------------------
xt mb "oci:$C"
assert_rc 0
xt put --content-type text/x-test --meta owner=ops --meta Stage=raw \
  "$T/body.bin" "oci:$C/dir/a b+c.bin"
assert_rc 0
xt get "oci:$C/dir/a b+c.bin" "$T/back.bin"
assert_rc 0
assert_same "$T/body.bin" "$T/back.bin"
xt --json stat "oci:$C/dir/a b+c.bin"
assert_rc 0
assert_json_eq 'j["content_type"]' '"text/x-test"'
assert_json_eq 'j["size"]' '300000'
assert_json_eq 'sorted(j["metadata"].items())' '[["owner", "ops"], ["stage", "raw"]]'
xt meta --set owner=dev "oci:$C/dir/a b+c.bin"
assert_rc 0
xt --json stat "oci:$C/dir/a b+c.bin"
assert_json_eq 'j["metadata"]' '{"owner": "dev"}'
assert_json_eq 'j["content_type"]' '"text/x-test"'

# --- snapshots need versioning: a clear refusal without it ----------------
xt snapshot "oci:$C/dir/a b+c.bin"
assert_rc 7
assert_err_has "versioning is Disabled on bucket '$C'"
assert_err_has "bucket-versioning"

# --- errors name the bucket and the key -----------------------------------
xt get "oci:$C/missing.bin" "$T/x"
assert_rc 4
assert_err_has "object '$C/missing.bin'"
xt ls "oci:$C-nope"
assert_rc 4
assert_err_has "$C-nope"
xt put -n --text again "oci:$C/dir/a b+c.bin"
assert_rc 5

# --- profiles and where the file and key come from -------------------------
# No ~/.oci/config yet: the service's own keys are enough.
mkdir -p "$T/elsewhere"
oci_config "  expl: {type: \"storage\", provider: \"oci\", endpoint: \"$OCI_E\", user: \"ocid1.user.oc1..xtuser\", tenancy: \"ocid1.tenancy.oc1..xttenancy\", fingerprint: \"$FP\", key-file: \"$OCI_DIR/key.pem\", region: \"us-ashburn-1\", namespace: \"xtns\"}
  inl: {type: \"storage\", provider: \"oci\", endpoint: \"$OCI_E\", user: \"ocid1.user.oc1..xtuser\", tenancy: \"ocid1.tenancy.oc1..xttenancy\", fingerprint: \"$FP\", key: \"\$env:OCI_KEY_PEM\"}
  nokey: {type: \"storage\", provider: \"oci\", endpoint: \"$OCI_E\", user: \"u\", tenancy: \"t\", fingerprint: \"f\"}
  named: {type: \"storage\", provider: \"oci\", endpoint: \"$OCI_E\", config-file: \"$T/none\"}"
for svc in expl inl; do
  xt_at "$T/elsewhere" cat "$svc:$C/dir/a b+c.bin"
  assert_rc 0
  check
  cmp -s "$T/.out" "$T/body.bin" || fail "$svc: not the bytes put"
done
xt ls "nokey:$C"
assert_rc 3
assert_err_has "no 'key-file'"
assert_err_has "does not exist"
xt ls "named:$C"
assert_rc 3
assert_err_has "config file '$T/none' (config key 'config-file') does not exist"

# The fixture's file under ~/.oci (found by default, and by "~/"), its
# profiles, key_file relative to the file from any working directory.
mkdir -p "$HOME/.oci"
cp "$OCI_DIR/config" "$OCI_DIR/key.pem" "$OCI_DIR/key-enc.pem" "$HOME/.oci/"
oci_config "  df: {type: \"storage\", provider: \"oci\", endpoint: \"$OCI_E\", config-file: \"~/.oci/config\", profile: \"DATAFLOW\"}
  enc: {type: \"storage\", provider: \"oci\", endpoint: \"$OCI_E\", config-file: \"$OCI_DIR/config\", profile: \"ENCRYPTED\"}
  envd: {type: \"storage\", provider: \"oci\", endpoint: \"$OCI_E\"}"
for svc in df enc envd; do
  xt_at "$T/elsewhere" cat "$svc:$C/dir/a b+c.bin"
  assert_rc 0
  check
  cmp -s "$T/.out" "$T/body.bin" || fail "$svc: not the bytes put"
done
# The environment: $OCI_CONFIG_FILE and $OCI_CLI_PROFILE, else ~/.oci/config.
xt ls "envd:$C/dir/"
assert_rc 0
assert_out_has "a b+c.bin"
OCI_CONFIG_FILE="$OCI_DIR/config" OCI_CLI_PROFILE=ENCRYPTED xt ls "envd:$C/dir/"
assert_rc 0
OCI_CLI_PROFILE=NOSUCH xt ls "envd:$C"
assert_rc 3
assert_err_has "no profile [NOSUCH]"

# A relative key_file: the working directory first, as the OCI SDKs open
# it, then the file's directory; neither: one line naming both.
mkdir -p "$T/kdir" "$T/kwork"
sed -n '/^\[DEFAULT\]/,/^$/p' "$OCI_DIR/config" | sed 's/^key_file=.*/key_file=mine.pem/' \
  > "$T/kdir/config"
cp "$OCI_DIR/key.pem" "$T/kwork/mine.pem"
oci_config "  rel: {type: \"storage\", provider: \"oci\", endpoint: \"$OCI_E\", config-file: \"$T/kdir/config\", retry: {attempts: 1}}"
xt_at "$T/kwork" cat "rel:$C/dir/a b+c.bin"
assert_rc 0
xt_at "$T/elsewhere" ls "rel:$C"
assert_rc 3
assert_err_has "key_file 'mine.pem' is neither in $T/elsewhere (working directory) nor in $T/kdir (config file's)"
# Both there: the working directory's wins (here a key OCI does not know).
cp "$OCI_DIR/key.pem" "$T/kdir/mine.pem"
openssl genrsa -out "$T/kwork/mine.pem" 2048 2>/dev/null
xt_at "$T/kwork" ls "rel:$C"
assert_rc 6
xt_at "$T/elsewhere" ls "rel:$C"
assert_rc 0

# An encrypted key without its pass phrase: one line naming the file.
grep -v '^pass_phrase' "$OCI_DIR/config" | sed "s#^key_file=#key_file=$OCI_DIR/#" \
  > "$T/nopass.config"
oci_config "  np: {type: \"storage\", provider: \"oci\", endpoint: \"$OCI_E\", config-file: \"$T/nopass.config\", profile: \"ENCRYPTED\"}
  wrongpass: {type: \"storage\", provider: \"oci\", endpoint: \"$OCI_E\", config-file: \"$T/nopass.config\", profile: \"ENCRYPTED\", pass-phrase: \"not-it\"}
  badfp: {type: \"storage\", provider: \"oci\", endpoint: \"$OCI_E\", config-file: \"$OCI_DIR/config\", fingerprint: \"00:11:22\", retry: {attempts: 1}}"
xt ls "np:$C"
assert_rc 3
assert_err_has "key-enc.pem"
assert_err_has "pass phrase"
check
[ "$(printf '%s\n' "$ERR" | wc -l)" -eq 1 ] || fail "not one line"
xt ls "wrongpass:$C"
assert_rc 3
assert_err_lacks "not-it"
xt ls "badfp:$C"
assert_rc 6
assert_err_has "NotAuthenticated"
assert_err_lacks "PRIVATE KEY"
check
case $(cat "$T/.out" "$T/.err") in
  *"$PASS"*) fail "the pass phrase was printed" ;;
esac

# --- listings across small pages -----------------------------------------
oci_config ""
oci_hook PUT "/_test/config?bucket=$C" '{"page_size": 2}'
for i in 1 2 3 4 5; do
  xt put --text "f$i" "oci:$C/pages/f$i"
  xt put --text "d$i" "oci:$C/pages/d$i/x"
done
xt mb "oci:$C-2"
xt ls "oci:$C/pages/"
assert_rc 0
check
got=$(printf '%s\n' "$OUT" | awk '{print $NF}' | tr '\n' ' ')
want="pages/d1/ pages/d2/ pages/d3/ pages/d4/ pages/d5/ pages/f1 pages/f2 pages/f3 pages/f4 pages/f5 "
[ "$got" = "$want" ] || fail "paged listing: got '$got', want '$want'"
xt ls -r "oci:$C/pages/"
assert_rc 0
check
[ "$(printf '%s\n' "$OUT" | grep -c pages/)" -eq 10 ] || fail "recursive listing not 10 keys"
xt ls "oci:"
assert_rc 0
assert_out_has "$C"
assert_out_has "$C-2"

# --- a copy whose work request takes a while -----------------------------
oci_hook PUT "/_test/config?bucket=$C" '{"work_request_delay": 1.5, "page_size": 0}'
xt cp "oci:$C/dir/a b+c.bin" "oci:$C-2/copied.bin"
assert_rc 0
xt get "oci:$C-2/copied.bin" "$T/copied.bin"
assert_same "$T/body.bin" "$T/copied.bin"
xt --json stat "oci:$C-2/copied.bin"
assert_json_eq 'j["metadata"]' '{"owner": "dev"}'

xt rb -f "oci:$C" "oci:$C-2"
assert_rc 0

# --- a server of our own: bucket pages, the namespace asked for once ------
# (its hooks are global: the shared one serves other tests at once)
OWN="$T/own"
XTSTORE_SERVER_OWNER_PID=$$ "$XTSTORE_SERVER_SH" start oci "$OWN" >/dev/null || {
  echo "FAIL: a second OCI server did not start"; finish; }
trap '"$XTSTORE_SERVER_SH" stop oci "$OWN" >/dev/null 2>&1; oci_cleanup' EXIT
OWN_E=$(cat "$OWN/endpoint")
oci_config "  own: {type: \"storage\", provider: \"oci\", endpoint: \"$OWN_E\", config-file: \"$OWN/config\"}"
curl -sf -X PUT "$OWN_E/_test/config" -H 'Content-Type: application/json' \
  --data '{"page_size": 2}' >/dev/null || fail "the page size hook failed"
xt mb own:b5 own:b3 own:b1 own:b4 own:b2 own:other
assert_rc 0
xt ls "own:"
assert_rc 0
check
got=$(printf '%s\n' "$OUT" | awk '{print $NF}' | tr '\n' ' ')
[ "$got" = "b1 b2 b3 b4 b5 other " ] ||
  fail "buckets over pages of 2: got '$got'"
check
[ "$(grep -c "GET /n/xtns/b/?compartmentId=[^ ]*&page=" "$OWN/log")" -ge 2 ] ||
  fail "the bucket listing did not follow opc-next-page: $(grep "GET /n/xtns/b/?" "$OWN/log")"
# One process, many requests from several threads: GET /n/ once.
mkdir -p "$T/tree/a/b"
for f in 1 2 3 4 5 6 7 8; do echo "$f" > "$T/tree/a/b/$f"; done
before=$(grep -c '"GET /n/ HTTP' "$OWN/log")
xt cp -r "$T/tree" own:b1/t
assert_rc 0
check
[ $(($(grep -c '"GET /n/ HTTP' "$OWN/log") - before)) -eq 1 ] ||
  fail "one run asked for the namespace $(($(grep -c '"GET /n/ HTTP' "$OWN/log") - before)) times"
# (Paged ListObjectVersions answers break HTTP on the test server: its
# opc-next-page holds a newline. Pages of the default size for the rest.)
curl -sf -X DELETE "$OWN_E/_test/config" >/dev/null
xt rb -f own:b1 own:b2 own:b3 own:b4 own:b5 own:other
assert_rc 0
finish
