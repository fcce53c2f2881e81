#!/usr/bin/env bash
# CLI surface: help for every verb, version, usage errors and their exit
# code (2), each a single line naming the verb.
. "$(dirname "$0")/lib.sh" "$@"

VERBS="ls put get cat cp rm stat meta mb rb append snapshot services plugins"

run "$XT_BIN" --help
assert_rc 0
assert_out_has "Usage: xtstore [GLOBAL OPTIONS] VERB"
assert_out_has "Exit codes:"
assert_out_has "130  interrupted"
for v in $VERBS; do
  assert_out_has "  $v "
done

run "$XT_BIN" -h
assert_rc 0
assert_out_has "Usage: xtstore"

run "$XT_BIN" --version
assert_rc 0
assert_out "xtstore 0.1.0 (plugin ABI 1.1)"

# Every verb's --help (and -h, and `help VERB`) exits 0 with a usage line,
# an options section and examples, without reading any config.
for v in $VERBS; do
  run "$XT_BIN" --config /nonexistent/xt.yaml "$v" --help
  assert_rc 0
  assert_out_has "Usage: xtstore $v"
  assert_out_has "Options:"
  assert_out_has "Examples:"
  assert_err_empty
  run "$XT_BIN" "$v" -h
  assert_rc 0
  assert_out_has "Usage: xtstore $v"
  run "$XT_BIN" help "$v"
  assert_rc 0
  assert_out_has "Usage: xtstore $v"
done

# Unknown verbs and options.
run "$XT_BIN"
assert_rc 2
assert_err_has "no verb given"

run "$XT_BIN" frobnicate
assert_rc 2
assert_err "xtstore: unknown verb 'frobnicate'; try 'xtstore --help'"

run "$XT_BIN" --frob ls
assert_rc 2
assert_err "xtstore: unknown option '--frob'; try 'xtstore --help'"

run "$XT_BIN" help frobnicate
assert_rc 2
assert_err "xtstore: help: unknown verb 'frobnicate'; try 'xtstore --help'"
run "$XT_BIN" help --help
assert_rc 0
assert_out_has "Usage: xtstore [GLOBAL OPTIONS] VERB"

for v in $VERBS; do
  xt "$v" --no-such-option
  assert_usage "$v"
  assert_err_has "unknown option '--no-such-option'"
done

xt ls -Z
assert_usage ls
assert_err_has "unknown option '-Z'"

xt ls --recursive=yes
assert_usage ls
assert_err_has "option '--recursive' takes no value"

xt ls --start-after
assert_usage ls
assert_err_has "option '--start-after' needs a value"

# Missing or malformed arguments: exit 2, and the message names the thing.
xt put onlyone
assert_usage put
assert_err_has "expected LOCALFILE and SERVICE:CONTAINER[/KEY], got 1"

xt get
assert_usage get

xt get scratch:box
assert_usage get
assert_err_has "'scratch:box' names no key"

xt get scratch:/k
assert_usage get

xt get notanaddress
assert_usage get
assert_err_has "'notanaddress' is not a service address"

xt cp a.txt b.txt
assert_usage cp
assert_err_has "neither 'a.txt' nor 'b.txt' is a service address"

xt rm scratch:box
assert_usage rm
assert_err_has "'scratch:box' names a container"

xt get --range 9-3 scratch:box/k
assert_usage get
assert_err_has "bad --range '9-3'"

xt get --range=-5 scratch:box/k
assert_usage get
assert_err_has "bad --range '-5'"

xt put --meta novalue f scratch:box/k
assert_usage put
assert_err_has "--meta wants KEY=VALUE, got 'novalue'"

xt mb scratch:box/key
assert_usage mb
assert_err_has "'scratch:box/key' names a blob"

xt plugins frob
assert_usage plugins
assert_err_has "unknown subcommand 'frob'"

xt rm --snapshot x -r scratch:box/k
assert_usage rm

xt meta --dry-run scratch:box
assert_usage meta

xt stat a b
assert_usage stat

# A dry run fails where the real run would: rm --dry-run of a missing blob.
mkdir -p "$T/data/drybox"
printf 'x' > "$T/data/drybox/there"
xt rm --dry-run :drybox/there :drybox/absent
assert_rc 8
assert_out_has "(dryrun) delete: scratch:drybox/there"
assert_err_has "blob 'drybox/absent': not found"
xt rm --dry-run :drybox/absent
assert_rc 4
[ -e "$T/data/drybox/there" ] || fail "rm --dry-run deleted a blob"
# One bad address among several is a usage error before anything is done.
xt cat :drybox/there 'scratch::bad'
assert_rc 2
assert_out ""
xt mkdir :drybox/newdir/ 'scratch::bad'
assert_rc 2
[ ! -e "$T/data/drybox/newdir" ] || fail "mkdir made a marker before refusing a bad address"
check

finish
