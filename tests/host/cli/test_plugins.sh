#!/usr/bin/env bash
# plugins: the built-in local provider with its capabilities, check of a
# good and a bad file, and the third-party drop-in: memstore compiled with
# a plain `cc` against plugin-api/ only, used by path from providers.storage
# and, after `plugins install`, by name.
. "$(dirname "$0")/lib.sh" "$@"

# What local must offer (it may add later capabilities after these).
LOCAL_CAPS='["containers", "range-get", "metadata", "append", "snapshot", "copy", "multipart", "conditional", "threadsafe", "content-type"]'

xt plugins
assert_rc 0
check
printf '%s\n' "$OUT" | head -1 | grep -Eq '^PROVIDER +NAME +VERSION +ABI +CAPABILITIES +PATH$' ||
  fail "plugins: no table header"
check
printf '%s\n' "$OUT" |
  grep -Eq '^local +local +[0-9][^ ]* +1\.1 +containers,range-get,metadata,append,snapshot,copy,multipart,conditional,threadsafe,content-type(,[a-z-]+)* +/.*/store-local\.so$' ||
  fail "plugins: no row for local with its capabilities"
xt --json plugins
assert_rc 0
assert_json_eq '[p["capabilities"][:10] for p in j if p["provider"] == "local"]' "[$LOCAL_CAPS]"
assert_json_eq '[(p["name"], p["abi"], p["error"]) for p in j if p["provider"] == "local"]' '[["local", "1.1", null]]'
assert_json_eq '[k["name"] for p in j if p["provider"] == "local" for k in p["config_keys"] if k["required"]]' '["path"]'

# check: a real plugin prints what it declares; anything else fails with
# one line naming the file.
LOCAL_SO="$BIN_DIR/plugins/store-local.so"
xt plugins check "$LOCAL_SO"
assert_rc 0
assert_out_has "local "
assert_out_has "(ABI 1.1)"
assert_out_has "path:         $LOCAL_SO"
assert_out_has "capabilities: containers,range-get,"
echo "not a plugin" > "$T/notaplugin.so"
xt plugins check "$T/notaplugin.so"
assert_rc 1
assert_error plugins
assert_err_has "$T/notaplugin.so"
cp /bin/true "$T/true.so"
xt plugins check "$T/true.so"
check
[ "$RC" -ne 0 ] || fail "plugins check accepted an executable"
assert_error plugins
assert_err_has "$T/true.so"

# --- the drop-in -----------------------------------------------------------
MEMSTORE_SRC="$SRC_DIR/plugin-api/examples/memstore/store_memstore.c"
check
if [ ! -f "$MEMSTORE_SRC" ]; then
  fail "drop-in source $MEMSTORE_SRC is missing"
  finish
fi
run ${CC:-cc} -shared -fPIC -I "$SRC_DIR/plugin-api" -o "$T/store-memstore.so" \
  "$MEMSTORE_SRC"
assert_rc 0
xt plugins check "$T/store-memstore.so"
assert_rc 0
assert_out_has "memstore "
assert_out_has "path:         $T/store-memstore.so"

# By path in providers.storage. memstore keeps blobs in memory for the
# life of one process: each command below starts from its config alone.
cat > "$T/mem.yaml" <<EOF
providers:
  storage:
    mem: "$T/store-memstore.so"
external-services:
  m: {type: "storage", provider: "mem", containers: "box"}
  scratch: {type: "storage", provider: "local", path: "$T/data"}
xt-services:
  storage: scratch
EOF
memxt() { run "$XT_BIN" --config "$T/mem.yaml" "$@"; }
memxt ls m:
assert_rc 0
assert_out "box"
printf 'drop-in bytes' > in.txt
memxt put in.txt m:box/
assert_rc 0
assert_out "upload: in.txt -> m:box/in.txt (13 bytes)"
memxt put --text hi m:nobox/k
assert_rc 4
assert_error put
# A streamed copy between two plugins: local -> memstore.
memxt mb scratch:src
memxt put in.txt scratch:src/
memxt cp scratch:src/in.txt m:box/copy.txt
assert_rc 0
assert_out "copy: scratch:src/in.txt -> m:box/copy.txt (13 bytes)"
# Nothing outlives the process that wrote it.
memxt get m:box/in.txt out.txt
assert_rc 4
assert_error get
assert_file_absent out.txt
memxt plugins
assert_rc 0
check
printf '%s\n' "$OUT" | grep -Eq "^mem +memstore +1\.0\.0 +1\.1 +containers,.* +$T/store-memstore\.so$" ||
  fail "plugins: no row for the drop-in"

# install: copied into the user's plugin directory and registered in the
# user's config, then usable by its own name with no providers entry.
xt plugins install "$T/store-memstore.so"
assert_rc 0
check
case $OUT in
  "install: $T/store-memstore.so -> $HOME/"*"/store-memstore.so") ;;
  *) fail "install did not report a destination under \$HOME" ;;
esac
DEST=${OUT##* -> }
check
cmp -s "$T/store-memstore.so" "$DEST" || fail "installed file differs: $DEST"
cat > "$T/byname.yaml" <<EOF
external-services:
  mm: {type: "storage", provider: "memstore", containers: "c1,c2"}
xt-services:
  storage: mm
EOF
run "$XT_BIN" --config "$T/byname.yaml" ls
assert_rc 0
assert_out "c1
c2"
run "$XT_BIN" --config "$T/byname.yaml" put --text hello :c2/k
assert_rc 0
assert_out "upload: (text) -> mm:c2/k (5 bytes)"
run "$XT_BIN" --config "$T/byname.yaml" --json plugins
assert_rc 0
assert_json_eq '[(p["provider"], p["name"], p["error"]) for p in j if p["provider"] == "memstore"]' '[["memstore", "memstore", null]]'
xt plugins install "$T/notaplugin.so"
assert_rc 1
assert_error plugins
assert_err_has "$T/notaplugin.so"

# install never takes over an existing provider or plugin silently.
xt plugins install "$T/store-memstore.so"
assert_rc 5
assert_error plugins
assert_err_has "provider 'memstore' already exists"
xt plugins install --replace "$T/store-memstore.so"
assert_rc 0
run ${CC:-cc} -shared -fPIC -I "$SRC_DIR/plugin-api" -DMS_NAME='"local"' \
  -o "$T/store-fake-local.so" "$MEMSTORE_SRC" -lpthread
assert_rc 0
xt plugins install "$T/store-fake-local.so"
assert_rc 5
assert_error plugins
assert_err_has "provider 'local' already exists (\"store-local\", <built-in>"
[ ! -e "$HOME/.local/share/xtstore/plugins/store-local.so" ] ||
  fail "a refused install left store-local.so in the user plugin directory"

# A plugin file, or its directory, that someone else could change is refused
# before it is loaded (its code would run as us); a sticky directory is fine.
mkdir -p "$T/pl"
chmod 755 "$T/pl"
cp "$LOCAL_SO" "$T/pl/store-local.so"
chmod 664 "$T/pl/store-local.so"
xt plugins check "$T/pl/store-local.so"
assert_rc 1
assert_err_has "plugin $T/pl/store-local.so: refused: its file $T/pl/store-local.so is writable by group or others (mode 0664"
chmod 644 "$T/pl/store-local.so"
chmod 777 "$T/pl"
xt plugins check "$T/pl/store-local.so"
assert_rc 1
assert_err_has "refused: its directory $T/pl is writable by group or others (mode 0777"
chmod 1777 "$T/pl"
xt plugins check "$T/pl/store-local.so"
assert_rc 0
chmod 755 "$T/pl"
if [ "$(id -u)" = 0 ]; then
  chown 65534 "$T/pl/store-local.so"
  xt plugins check "$T/pl/store-local.so"
  assert_rc 1
  assert_err_has "refused: its file $T/pl/store-local.so is owned by uid 65534, not by you or root"
  chown 0 "$T/pl/store-local.so"
fi
# ... also when a service loads it through the config.
cat > "$T/pl.yaml" <<EOF
providers:
  storage:
    mylocal: "$T/pl/store-local.so"
external-services:
  m: {type: "storage", provider: "mylocal", path: "$T/data"}
EOF
chmod 666 "$T/pl/store-local.so"
run "$XT_BIN" --config "$T/pl.yaml" ls m:
[ "$RC" -ne 0 ] || fail "a world-writable plugin was loaded by a service"
assert_err_has "writable by group or others"

# A plugin not found on a long search path: whole directories and a count,
# never a path cut in the middle.
long=$(printf 'd%.0s' $(seq 1 70))
cat > "$T/nope.yaml" <<EOF
providers:
  storage:
    nope: "store-nope"
external-services:
  x: {type: "storage", provider: "nope"}
EOF
XTSTORE_PLUGIN_PATH="$T/$long-1:$T/$long-2:$T/$long-3" \
  run "$XT_BIN" --config "$T/nope.yaml" ls x:
assert_rc 3
assert_err_has "plugin 'store-nope' not found in: $T/$long-1"
printf '%s\n' "$ERR" | grep -Eq 'more director(y|ies)$' ||
  fail "the search path list does not end with whole entries: $ERR"
check

finish
