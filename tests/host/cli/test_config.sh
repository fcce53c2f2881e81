#!/usr/bin/env bash
# Configuration errors (exit 3, one line, naming file:line:col, the
# service, the variable or the plugin path), services listing with secret
# redaction, and where the config comes from (--config, $XTSTORE_CONFIG).
. "$(dirname "$0")/lib.sh" "$@"

# Malformed YAML: file:line:col.
cat > bad.yaml <<'EOF'
external-services:
  scratch: {type: "storage", provider: "local", path: "x"
xt-services:
  storage: scratch
EOF
run "$XT_BIN" --config bad.yaml ls
assert_rc 3
assert_error ls
check
printf '%s\n' "$ERR" | grep -Eq 'bad\.yaml:[0-9]+:[0-9]+: ' ||
  fail "no file:line:col in the YAML error"

# A config file that does not exist names it.
run "$XT_BIN" --config "$T/missing.yaml" ls
assert_rc 3
assert_error ls
assert_err_has "$T/missing.yaml"

# An unknown service is named.
xt ls nosuchsvc:
assert_rc 3
assert_error ls
assert_err_has "nosuchsvc"
xt put --text x nosuchsvc:box/k
assert_rc 3
assert_error put
assert_err_has "nosuchsvc"

# A missing secret names the variable, never a value.
cat > secret.yaml <<'EOF'
external-services:
  s: {type: "storage", provider: "local", path: "$env:XT_IT_NOPE"}
EOF
unset XT_IT_NOPE
run "$XT_BIN" --config secret.yaml ls s:
assert_rc 3
assert_error ls
assert_err_has "XT_IT_NOPE"
check
printf '%s\n' "$ERR" | grep -Eq 'secret\.yaml:[0-9]+:[0-9]+: ' ||
  fail "no file:line:col in the secret error"
# ... and resolves once set.
mkdir -p "$T/envroot"
XT_IT_NOPE="$T/envroot" run "$XT_BIN" --config secret.yaml mb s:box
assert_rc 0
assert_out "create: s:box"
check
[ -d "$T/envroot/box" ] || fail "\$env: path was not used"

# A plugin path that does not exist is named when the provider is used.
cat > acme.yaml <<EOF
providers:
  storage:
    acme: "$T/nowhere/store-acme.so"
external-services:
  a: {type: "storage", provider: "acme"}
  scratch: {type: "storage", provider: "local", path: "$T/data"}
xt-services:
  storage: scratch
EOF
run "$XT_BIN" --config acme.yaml ls a:
assert_rc 3
assert_error ls
assert_err_has "$T/nowhere/store-acme.so"
# ... and only then: the other services still work (lazy loading).
run "$XT_BIN" --config acme.yaml mb scratch:box
assert_rc 0

# services: table, default marker, file:line; secrets redacted.
cat > svc.yaml <<EOF
external-services:
  lake: {type: "storage", provider: "azure", account: "devstoreaccount1",
         key: "LiteralSecretValue-123", sas: "\$env:AZ_IT_SAS"}
  scratch: {type: "storage", provider: "local", path: "$T/data"}
xt-services:
  storage: scratch
EOF
export AZ_IT_SAS="EnvSecretValue-456"
run "$XT_BIN" --config svc.yaml services
assert_rc 0
assert_out "NAME     TYPE     PROVIDER  DEFAULT  DEFINED AT
lake     storage  azure              svc.yaml:2
scratch  storage  local     *        svc.yaml:4"
run "$XT_BIN" --config svc.yaml services -l
assert_rc 0
assert_out_has "lake"
assert_out_has "  account: devstoreaccount1"
assert_out_has "  key: <redacted>"
assert_out_has "  sas: \$env:AZ_IT_SAS"
assert_out_has "scratch (default)"
assert_out_lacks "LiteralSecretValue-123"
assert_out_lacks "EnvSecretValue-456"
assert_err_lacks "LiteralSecretValue-123"
run "$XT_BIN" --config svc.yaml --json services
assert_rc 0
assert_out_lacks "LiteralSecretValue-123"
assert_out_lacks "EnvSecretValue-456"
assert_json_eq '[s["name"] for s in j]' '["lake", "scratch"]'
assert_json_eq 'j[0]["config"]' '{"account": "devstoreaccount1", "key": "<redacted>", "sas": "$env:AZ_IT_SAS"}'
assert_json_eq '[(s["default"], s["line"], s["provider"]) for s in j]' '[[false, 2, "azure"], [true, 4, "local"]]'
unset AZ_IT_SAS

# $XTSTORE_CONFIG stands in for --config; ./xt_config.yaml is read too
# (this one holds a $env: reference, so only when trusted: test_trust.sh).
XTSTORE_CONFIG=svc.yaml run "$XT_BIN" services
assert_rc 0
assert_out_has "lake"
mkdir cwdconf
cp svc.yaml cwdconf/xt_config.yaml
LAST_CMD="(cd cwdconf && xtstore --trust-cwd-config services)"
(cd cwdconf && exec "$XT_BIN" --trust-cwd-config services) > "$T/.out" 2> "$T/.err"
_collect $?
assert_rc 0
assert_out_has "scratch  storage  local     *"

# Secrets inside URLs: a Blob SAS URL pasted as an endpoint, user:pass@ in
# an S3 endpoint, and key spellings no plugin declares are never printed.
cat > urls.yaml <<'EOF'
external-services:
  sasurl: {type: "storage", provider: "azure", account: "acct",
           endpoint: "http://127.0.0.1:1/?sv=2022-11-02&ss=b&sig=SasSigValue-42%3D&se=2030-01-01"}
  userinfo: {type: "storage", provider: "s3", region: "us-east-1",
             endpoint: "http://alice:UserPassValue-43@127.0.0.1:1",
             access-key: "AKIAEXAMPLE", secret-key: "SecretKeyValue-44",
             retry: 1}
  odd: {type: "storage", provider: "azure", account: "acct",
        connection_string: "ConnStrValue-45", ConnectionString: "ConnStrValue-46"}
EOF
for args in "services -l" "--json services" "-vv ls userinfo:" "-vv ls sasurl:"; do
  # shellcheck disable=SC2086
  run "$XT_BIN" --config urls.yaml $args
  for s in SasSigValue-42 UserPassValue-43 SecretKeyValue-44 ConnStrValue-45 ConnStrValue-46; do
    assert_out_lacks "$s"
    assert_err_lacks "$s"
  done
done
run "$XT_BIN" --config urls.yaml services -l
assert_out_has "  endpoint: http://127.0.0.1:1/?sv=2022-11-02&ss=b&sig=<redacted>&se=2030-01-01"
assert_out_has "  endpoint: http://<redacted>@127.0.0.1:1"
assert_out_has "  connection_string: <redacted>"
assert_out_has "  access-key: AKIAEXAMPLE"
run "$XT_BIN" --config urls.yaml ls userinfo:
assert_rc 3
assert_err_has "'http://<redacted>@127.0.0.1:1' is not"

# What open() receives (store_interface.h, CONFIGURATION): the entry's keys
# less type, provider, retry and multipart (the host's), nested maps
# flattened, secrets resolved, plus name -- as the test shim records them.
LOCAL_SO="$BIN_DIR/plugins/store-local.so"
build_shim "$T/store-shim.so"
export XT_OPEN_SECRET=opened
cat > open.yaml <<EOF
providers:
  storage:
    shim: "$T/store-shim.so"
external-services:
  sh: {type: "storage", provider: "shim", inner: "$LOCAL_SO", path: "$T/data",
       open-keys: "$T/open-keys", retry: {attempts: 2}, multipart: {part-size: 8M},
       tls: {verify: "false"}, token: "\$env:XT_OPEN_SECRET"}
EOF
run "$XT_BIN" --config open.yaml ls sh:
assert_rc 0
got=$(sort "$T/open-keys" | tr '\n' ' ')
[ "$got" = "inner name open-keys path tls.verify token " ] ||
  fail "open() received the keys: $got"
check
unset XT_OPEN_SECRET

finish
