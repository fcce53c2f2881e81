#!/usr/bin/env bash
# The GCS provider's configuration and everyday CLI use against the GCS
# test server: credentials from the config, $GOOGLE_APPLICATION_CREDENTIALS,
# gcloud's application default file (an authorized_user) and a static
# token; the endpoint from $STORAGE_EMULATOR_HOST; anonymous reads of a
# public bucket; every bad setting one clear line naming the thing and the
# cause, no secret; object names with slashes and odd bytes; append by
# compose; a copy through the rewriteToken loop; a 41-part upload composed
# in a tree with no part left behind; names under .xtstore-parts/ that are
# not a multipart temporary listed like any, the temporaries' names refused;
# bucket labels patched under ifMetagenerationMatch; snapshots as
# generations, and the clear refusal in a bucket without versioning.
. "$(dirname "$0")/gcslib.sh" "$@"

B=$GCS_B
BV=$GCS_B-v
SA_KEY_LINE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["private_key"].splitlines()[1])' "$GCS_DIR/sa.json")
USER_SECRET=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client_secret"])' "$GCS_DIR/user.json")
mkdir -p "$HOME/.config/gcloud"

gcs_config "  genv: {type: \"storage\", provider: \"gcs\", retry: {attempts: 1}}
  gvers: {type: \"storage\", provider: \"gcs\", endpoint: \"$GCS_E\",
          credentials-file: \"$GCS_DIR/sa.json\", versioned-buckets: true,
          retry: {attempts: 1}}
  ganon: {type: \"storage\", provider: \"gcs\", endpoint: \"$GCS_E\",
          anonymous: true, retry: {attempts: 1}}
  gmissing: {type: \"storage\", provider: \"gcs\", endpoint: \"$GCS_E\",
             credentials-file: \"$T/nope.json\", retry: {attempts: 1}}
  gbadep: {type: \"storage\", provider: \"gcs\", endpoint: \"ftp://x\",
           credentials-file: \"$GCS_DIR/sa.json\"}
  gtok: {type: \"storage\", provider: \"gcs\", endpoint: \"$GCS_E\",
         access-token: \"ya29.not-a-live-token\", retry: {attempts: 1}}
  guser: {type: \"storage\", provider: \"gcs\", endpoint: \"$GCS_E\",
          token-uri: \"$GCS_E/token\", project: \"xt-test\",
          retry: {attempts: 1}}"
trap '"$XT_BIN" --config "$CONFIG" -q rb -f "gcs:$B" > /dev/null 2>&1
  "$XT_BIN" --config "$CONFIG" -q rb -f "gvers:$BV" > /dev/null 2>&1
  gcs_cleanup' EXIT

xt mb --meta team=xt --meta tier=gold "gcs:$B"
assert_rc 0
xt stat "gcs:$B"
assert_rc 0
assert_out_has "  team=xt"
assert_out_has "  tier=gold"

# --- names with slashes, spaces, '%', '+', '?', '#' and UTF-8 ------------------
printf 'odd\n' > odd.txt
for k in "a/b/c.txt" "sp ace/p%25+q?x#y" "ünï/cödé.txt" "/lead/slash"; do
  xt put odd.txt "gcs:$B/$k"
  assert_rc 0
  xt get "gcs:$B/$k" back.txt
  assert_rc 0
  assert_same odd.txt back.txt
  rm -f back.txt
done
xt ls -r "gcs:$B"
assert_rc 0
assert_out "/lead/slash
a/b/c.txt
sp ace/p%25+q?x#y
ünï/cödé.txt"

# --- credentials from the environment, the endpoint from the emulator host ---
GOOGLE_APPLICATION_CREDENTIALS=$GCS_DIR/sa.json STORAGE_EMULATOR_HOST=${GCS_E#http://} \
  xt ls "genv:$B/a/b"
assert_rc 0
assert_out "a/b/c.txt"
# gcloud's application default credentials: an authorized_user file
cp "$GCS_DIR/user.json" "$HOME/.config/gcloud/application_default_credentials.json"
xt ls "guser:$B/a/b"
assert_rc 0
assert_out "a/b/c.txt"
xt ls guser:
assert_rc 0
assert_out_has "$B"
rm "$HOME/.config/gcloud/application_default_credentials.json"

# --- bad settings: one line each, naming the thing and the cause -------------
xt ls "guser:$B"
assert_rc 3
assert_error ls
assert_err_has "no credentials"
assert_err_has "credentials-file"
xt ls "gmissing:$B"
assert_rc 3
assert_error ls
assert_err_has "credentials file '$T/nope.json'"
assert_err_has "No such file"
xt ls "gbadep:$B"
assert_rc 3
assert_error ls
assert_err_has "config key 'endpoint' 'ftp://x' is not an http:// or https:// URL"
xt ls "gtok:$B"
assert_rc 6
assert_error ls
assert_err_has "authentication failed"
assert_err_lacks "ya29.not-a-live-token"
# a user file with the wrong secret: the refresh grant is refused
python3 - "$GCS_DIR/user.json" "$T/bad-user.json" <<'PY'
import json, sys
u = json.load(open(sys.argv[1])); u["client_secret"] = "wrong-" + u["client_secret"]
json.dump(u, open(sys.argv[2], "w"))
PY
cp "$T/bad-user.json" "$HOME/.config/gcloud/application_default_credentials.json"
xt ls "guser:$B"
assert_rc 6
assert_error ls
assert_err_has "refused the refresh-token grant: HTTP 401 invalid_client"
assert_err_lacks "$USER_SECRET"
assert_err_lacks "$SA_KEY_LINE"
rm "$HOME/.config/gcloud/application_default_credentials.json"

# --- anonymous reads of a public bucket ---------------------------------------
xt get "ganon:$B/a/b/c.txt" anon.txt
assert_rc 6
hook POST "/_test/public?bucket=$B"
xt get "ganon:$B/a/b/c.txt" anon.txt
assert_rc 0
assert_same odd.txt anon.txt
xt put odd.txt "ganon:$B/anon-write.txt"
assert_rc 6
# an emulator host without credentials is used anonymously, as Google's
# clients do
STORAGE_EMULATOR_HOST=$GCS_E xt get "genv:$B/a/b/c.txt" anon2.txt
assert_rc 0
assert_same odd.txt anon2.txt
STORAGE_EMULATOR_HOST=$GCS_E xt put odd.txt "genv:$B/anon-write.txt"
assert_rc 6
assert_err_has "authentication failed"
# a credentials file under ~/
cp "$GCS_DIR/sa.json" "$HOME/sa.json"
gcs_config "  ghome: {type: \"storage\", provider: \"gcs\", endpoint: \"$GCS_E\",
          credentials-file: \"~/sa.json\", retry: {attempts: 1}}
  gvers: {type: \"storage\", provider: \"gcs\", endpoint: \"$GCS_E\",
          credentials-file: \"$GCS_DIR/sa.json\", versioned-buckets: true,
          retry: {attempts: 1}}"
xt put odd.txt "ghome:$B/home.txt"
assert_rc 0

# --- append by compose ---------------------------------------------------------
xt append --text 'one
' "gcs:$B/log.txt"
assert_rc 0
xt append --text 'two
' "gcs:$B/log.txt"
assert_rc 0
xt cat "gcs:$B/log.txt"
assert_rc 0
assert_out "one
two"
xt stat "gcs:$B/log.txt"
assert_out_has "crc32c:"

# --- copy: rewriteTo, looping on the rewriteToken past the server's 1 MiB ------
head -c 3500000 /dev/urandom > three.bin
xt put three.bin "gcs:$B/rw/src.bin"
assert_rc 0
n0=$(grep -c "rewriteTo/b/$B/o/rw%2Fdst.bin" "$GCS_DIR/log")
xt cp "gcs:$B/rw/src.bin" "gcs:$B/rw/dst.bin"
assert_rc 0
assert_out "copy: gcs:$B/rw/src.bin -> gcs:$B/rw/dst.bin (3500000 bytes)"
n1=$(grep -c "rewriteTo/b/$B/o/rw%2Fdst.bin" "$GCS_DIR/log")
check
[ $((n1 - n0)) -ge 3 ] || fail "the copy took $((n1 - n0)) rewrite calls: no rewriteToken loop"
xt get "gcs:$B/rw/dst.bin" three.back
assert_rc 0
assert_same three.bin three.back

# --- multipart beyond 32 parts: composed in a tree, every part removed --------
gcs_config "  gmp: {type: \"storage\", provider: \"gcs\", endpoint: \"$GCS_E\",
         credentials-file: \"$GCS_DIR/sa.json\", retry: {attempts: 1},
         multipart: {threshold: 8M, part-size: 1M, concurrency: 4}}
  gvers: {type: \"storage\", provider: \"gcs\", endpoint: \"$GCS_E\",
          credentials-file: \"$GCS_DIR/sa.json\", versioned-buckets: true,
          retry: {attempts: 1}}"
head -c $((40 * 1048576 + 7)) /dev/urandom > forty.bin
c0=$(grep -c "/o/.xtstore-parts%2F[0-9a-f]*%2Ft0-[0-9]*/compose" "$GCS_DIR/log")
xt put forty.bin "gmp:$B/mp/forty.bin"
assert_rc 0
c1=$(grep -c "/o/.xtstore-parts%2F[0-9a-f]*%2Ft0-[0-9]*/compose" "$GCS_DIR/log")
check
[ $((c1 - c0)) -eq 2 ] || fail "41 parts were composed through $((c1 - c0)) intermediate objects, not 2"
xt get "gcs:$B/mp/forty.bin" forty.back
assert_rc 0
assert_same forty.bin forty.back
xt stat "gcs:$B/mp/forty.bin"
assert_out_has "size:         41943047"
# nothing of the upload is left (the listing hides the parts: ask the
# server directly, as the authorized_user)
left=$(curl -sS "$GCS_E/storage/v1/b/$B/o?prefix=.xtstore-parts%2F&versions=true" \
  -H "Authorization: Bearer $(curl -sS -X POST "$GCS_E/token" \
      --data-urlencode grant_type=refresh_token \
      --data-urlencode "client_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client_id"])' "$GCS_DIR/user.json")" \
      --data-urlencode "client_secret=$USER_SECRET" \
      --data-urlencode "refresh_token=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["refresh_token"])' "$GCS_DIR/user.json")" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')" |
  python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("items", [])))')
check
[ "$left" = 0 ] || fail "$left temporary part objects are left after the upload"

# --- .xtstore-parts/: only the temporaries' names are hidden and refused -----
ID32=0123456789abcdef0123456789abcdef
xt put --text mine "gcs:$B/.xtstore-parts/notes.txt"
assert_rc 0
xt put --text mine "gcs:$B/.xtstore-parts/$ID32-x/00001"
assert_rc 0
xt ls -r "gcs:$B/.xtstore-parts/"
assert_rc 0
assert_out ".xtstore-parts/${ID32}-x/00001
.xtstore-parts/notes.txt"
for k in "$ID32/00001" "$ID32/t0-1" "$ID32/append" "$ID32/other"; do
  xt put --text no "gcs:$B/.xtstore-parts/$k"
  assert_rc 2
  assert_err_has "names under .xtstore-parts/UPLOAD-ID/ (32 hex digits) are reserved for multipart uploads' temporary parts"
done
xt cp "gcs:$B/log.txt" "gcs:$B/.xtstore-parts/$ID32/00002"
assert_rc 2
xt rm -r "gcs:$B/.xtstore-parts/"
assert_rc 0

# --- bucket labels: read, changed and PATCHed under the metageneration read ---
xt meta --set team=xt2 "gcs:$B"
assert_rc 0
check
grep -q "\"PATCH /storage/v1/b/$B?ifMetagenerationMatch=[0-9]* " "$GCS_DIR/log" ||
  fail "the labels' PATCH is not guarded by ifMetagenerationMatch"
xt stat "gcs:$B"
assert_out_has "team=xt2"

# --- snapshots: refused without versioning, generations with it ---------------
xt snapshot "gcs:$B/log.txt"
assert_rc 7
assert_error snapshot
assert_err_has "enable object versioning on bucket $B"
xt mb "gvers:$BV"
assert_rc 0
xt put --text v1 "gvers:$BV/s.txt"
assert_rc 0
xt snapshot "gvers:$BV/s.txt"
assert_rc 0
ID=$OUT
xt put --text v2 "gvers:$BV/s.txt"
assert_rc 0
xt cat --snapshot "$ID" "gvers:$BV/s.txt"
assert_rc 0
assert_out "v1"
xt cat "gvers:$BV/s.txt"
assert_out "v2"
xt rm "gvers:$BV/s.txt"
assert_rc 5
assert_err_has "the object has 1 snapshot(s)"
xt rm --with-snapshots "gvers:$BV/s.txt"
assert_rc 0
xt ls -r "gvers:$BV"
assert_out ""

finish
