#!/usr/bin/env bash
# A ./xt_config.yaml in a directory one cd's into is read (XT does) but not
# trusted: it cannot load code (plugin-path, provider files), point a
# service at a server (endpoint, another provider) or pull secrets in
# ($file:, $env:, $vault) unless the user says so (--trust-cwd-config, or
# trust-cwd-config: true in the user config). Config files read without
# being named must be the user's (or root's) and writable by nobody else.
# -v names the layers read; services -l names the layer of each key.
. "$(dirname "$0")/lib.sh" "$@"

USERCFG="$XDG_CONFIG_HOME/xtstore/xt_config.yaml"
mkdir -p "$XDG_CONFIG_HOME/xtstore" proj
cat > "$USERCFG" <<EOF
external-services:
  lake: {type: "storage", provider: "s3", endpoint: "http://127.0.0.1:9", access-key: "AKIAUSER", secret-key: "\$env:XT_TRUST_SECRET"}
  scratch: {type: "storage", provider: "local", path: "$T/data"}
xt-services:
  storage: scratch
EOF
chmod 600 "$USERCFG"
export XT_TRUST_SECRET="UserSecretValue-789"

mkdir -p "$T/data/box" && echo hi > "$T/data/box/k"

# in_proj ARGS...: xtstore run from proj/ (no --config).
in_proj() {
  LAST_CMD="(cd proj && xtstore $*)"
  (cd proj && exec "$XT_BIN" "$@") > "$T/.out" 2> "$T/.err"
  _collect $?
}
# refused WHAT LINE: the last run was refused naming ./xt_config.yaml:LINE and WHAT.
refused() {
  assert_rc 3
  assert_err_has "./xt_config.yaml:$2:"
  assert_err_has "$1: refused from an untrusted ./xt_config.yaml"
  assert_err_has "--trust-cwd-config"
  assert_err_lacks "UserSecretValue-789"
}

# 1. A harmless project config is read: a new local service, a new default.
cat > proj/xt_config.yaml <<EOF
external-services:
  projdata: {type: "storage", provider: "local", path: "$T/data"}
xt-services:
  storage: projdata
EOF
in_proj -v ls :box
assert_rc 0
assert_out_has "k"
assert_err_has "config: read $USERCFG"
assert_err_has "config: read ./xt_config.yaml (the current directory's, untrusted"
in_proj services -l
assert_rc 0
assert_out_has "  path: $T/data  [./xt_config.yaml:2]"
assert_out_has "  endpoint: http://127.0.0.1:9  [$USERCFG:2]"
in_proj --json services
assert_rc 0
assert_json_eq '[s["config_from"]["path"] for s in j if s["name"] == "projdata"]' '["./xt_config.yaml:2"]'

# 2. Redirecting an existing service's endpoint (its key would go there).
cat > proj/xt_config.yaml <<'EOF'
external-services:
  lake: {endpoint: "http://127.0.0.1:1"}
EOF
in_proj ls lake:
refused external-services.lake.endpoint 2
# ... also a new service with an endpoint (ambient credentials would go there).
cat > proj/xt_config.yaml <<'EOF'
external-services:
  evil: {type: "storage", provider: "gcs", endpoint: "http://127.0.0.1:1"}
EOF
in_proj ls evil:
refused external-services.evil.endpoint 2
# ... the same endpoint as the user's is no change and is fine.
cat > proj/xt_config.yaml <<'EOF'
external-services:
  lake: {endpoint: "http://127.0.0.1:9", region: "eu-west-1"}
EOF
in_proj services
assert_rc 0
# ... another provider for an existing service.
cat > proj/xt_config.yaml <<'EOF'
external-services:
  lake: {provider: "azure"}
EOF
in_proj services
refused external-services.lake.provider 2

# 3. Secret references: $file:, $env:, $vault, at any depth.
for ref in '$file:~/.ssh/id_rsa' '$env:XT_TRUST_SECRET' '$vault'; do
  cat > proj/xt_config.yaml <<EOF
external-services:
  mine:
    type: "storage"
    provider: "local"
    path: "$T/data"
    options: {token: "$ref"}
EOF
  in_proj services
  refused external-services.mine.options.token 6
done

# 4. Code: plugin-path and provider files.
printf 'not a plugin' > proj/store-local.so
cat > proj/xt_config.yaml <<'EOF'
plugin-path: ["."]
EOF
in_proj ls :box
refused plugin-path 1
cat > proj/xt_config.yaml <<'EOF'
providers:
  storage:
    local: "./store-local.so"
EOF
in_proj ls :box
refused providers.storage.local 3
cat > proj/xt_config.yaml <<'EOF'
providers:
  storage:
    mine: "/tmp/store-mine.so"
EOF
in_proj services
refused providers.storage.mine 3

# 5. The user trusts it: the flag, or the user config's setting.
cat > proj/xt_config.yaml <<EOF
external-services:
  mine: {type: "storage", provider: "local", path: "\$env:XT_TRUST_ROOT"}
xt-services:
  storage: mine
EOF
export XT_TRUST_ROOT="$T/data"
in_proj --trust-cwd-config ls :box
assert_rc 0
assert_out_has "k"
in_proj -v --trust-cwd-config services
assert_rc 0
assert_err_has "config: read ./xt_config.yaml"
assert_err_lacks "untrusted"
cp "$USERCFG" "$T/user.bak"
echo "trust-cwd-config: true" >> "$USERCFG"
in_proj ls :box
assert_rc 0
assert_out_has "k"
cp "$T/user.bak" "$USERCFG"
# ... or names it with --config: then it is the explicit layer, read once.
in_proj --config xt_config.yaml ls :box
assert_rc 0
assert_out_has "k"
# A trust setting in the project's own file does not count.
cat > proj/xt_config.yaml <<'EOF'
trust-cwd-config: true
external-services:
  lake: {endpoint: "http://127.0.0.1:1"}
EOF
in_proj services
refused external-services.lake.endpoint 3

# 6. Files read without being named: writable by others, or someone else's.
cat > proj/xt_config.yaml <<EOF
external-services:
  projdata: {type: "storage", provider: "local", path: "$T/data"}
EOF
chmod 664 proj/xt_config.yaml
in_proj services
assert_rc 3
assert_err_has "./xt_config.yaml: refused: writable by its group (mode 0664)"
chmod 646 proj/xt_config.yaml
in_proj services
assert_rc 3
assert_err_has "./xt_config.yaml: refused: writable by everyone (mode 0646)"
chmod 644 proj/xt_config.yaml
chmod 620 "$USERCFG"
in_proj services
assert_rc 3
assert_err_has "$USERCFG: refused: writable by its group"
chmod 600 "$USERCFG"
# ... named with --config, the user vouches for it.
chmod 664 proj/xt_config.yaml
in_proj --config xt_config.yaml services
assert_rc 0
chmod 644 proj/xt_config.yaml
if [ "$(id -u)" = 0 ]; then
  chown 65534 proj/xt_config.yaml
  in_proj services
  assert_rc 3
  assert_err_has "./xt_config.yaml: refused: owned by uid 65534, not by you (uid 0) or root"
  chown 0 proj/xt_config.yaml
fi
in_proj services
assert_rc 0

finish
