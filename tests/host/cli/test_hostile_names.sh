#!/usr/bin/env bash
# Names and metadata from a store may hold ESC, CR, LF and C1 controls: in
# text output (ls, find, stat, meta, cp -r / sync action and error lines,
# usage errors) each shows as \xNN, so no remote can move the cursor, run
# a terminal sequence or fake a line; --json keeps the exact bytes.
. "$(dirname "$0")/lib.sh" "$@"

# The local provider refuses such names, so the test shim (shim_plugin.c,
# hostile-names: percent) keeps them percent-encoded in a local store and
# reports them decoded, as a remote store would.
LOCAL_SO="$BIN_DIR/plugins/store-local.so"
build_shim "$T/store-shim.so"
cat > "$CONFIG" <<EOF
providers:
  storage:
    shim: "$T/store-shim.so"
external-services:
  scratch: {type: "storage", provider: "shim", inner: "$LOCAL_SO",
            path: "$T/data", hostile-names: "percent"}
xt-services:
  storage: "scratch"
EOF
ESC=$(printf '\033')
CR=$(printf '\r')
C1=$(printf '\302\233')   # U+009B, CSI of 8-bit terminals
mkdir -p "$T/data/box"
evil="a${ESC}[31mred${CR}fake"
printf x > "$T/data/box/a%1B[31mred%0Dfake"
printf y > "$T/data/box/b%C2%9B[2J"
printf z > "$T/data/box/n%0Afake: line"

# raw_free: neither output holds a raw ESC, CR, LF-inside-a-name or C1.
raw_free() {
  if printf '%s%s' "$OUT" "$ERR" | grep -q "$ESC\|$CR\|$C1"; then
    fail "raw control characters reached the terminal"
  fi
  check
}

xt ls :box
assert_rc 0
raw_free
assert_out_has 'a\x1b[31mred\x0dfake'
assert_out_has 'b\xc2\x9b[2J'
assert_out_has 'n\x0afake: line'
[ "$(printf '%s\n' "$OUT" | grep -c .)" = 3 ] || fail "ls printed other than 3 lines: $OUT"

xt find :box
assert_rc 0
raw_free
assert_out_has 'a\x1b[31mred\x0dfake'

xt stat ":box/$evil"
assert_rc 0
raw_free
assert_out_has 'a\x1b[31mred\x0dfake'

xt meta --set "k=v${ESC}]0;title${ESC}\\" ":box/$evil"
assert_rc 0
raw_free
xt meta ":box/$evil"
assert_rc 0
raw_free
assert_out_has 'k=v\x1b]0;title\x1b\'

# JSON keeps the bytes (escaped by JSON's own rules).
xt --json ls :box
assert_rc 0
assert_json_eq 'sorted(e["name"] for e in j)[0]' '"a\u001b[31mred\rfake"'

# Action lines of a tree copy, and errors that name the object.
mkdir -p "$T/out"
xt cp -r :box "$T/out"
assert_rc 0
raw_free
assert_out_has 'a\x1b[31mred\x0dfake'
xt put "$T/no-such${ESC}[2Jfile" ":box/k"
assert_rc 4
raw_free
assert_err_has 'no-such\x1b[2Jfile'

# A usage error echoes the argument escaped.
xt ls --no-such-option"$ESC"
assert_rc 2
raw_free
assert_err_has '\x1b'

finish
