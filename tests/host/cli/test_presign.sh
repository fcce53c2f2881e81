#!/usr/bin/env bash
# xtstore presign where it cannot presign, and its usage errors (the
# providers that can are tested against their servers in
# tests/plugins/*/test_presign.sh): the local provider has no URLs (exit 7,
# one line naming the service and provider); bad --expires and --method
# values, --content-type without PUT, a container without a key, and no
# address are usage errors; --help documents the verb.
. "$(dirname "$0")/lib.sh" "$@"

mkdir -p "$T/data/box"
printf 'x' > "$T/data/box/k.txt"

xt presign scratch:box/k.txt
assert_rc 7
assert_error presign
assert_err_has "service 'scratch'"
assert_err_has "provider 'local'"
assert_out ""

xt presign --expires 0 scratch:box/k.txt
assert_usage presign
assert_err_has "--expires"
xt presign --expires 5y scratch:box/k.txt
assert_usage presign
xt presign --expires 11000d scratch:box/k.txt
assert_usage presign
xt presign --method DELETE scratch:box/k.txt
assert_usage presign
assert_err_has "GET or PUT"
xt presign --content-type text/plain scratch:box/k.txt
assert_usage presign
assert_err_has "--method PUT"
xt presign scratch:box
assert_usage presign
xt presign
assert_usage presign
xt presign a:b/c d:e/f
assert_usage presign

xt presign --help
assert_rc 0
assert_out_has "Usage: xtstore presign"
assert_out_has "--expires"
xt --help
assert_out_has "presign"
finish
