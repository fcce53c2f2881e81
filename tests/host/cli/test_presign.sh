#!/usr/bin/env bash
# xtstore presign where it cannot presign, and its usage errors (the
# providers that can are tested against their servers in
# tests/plugins/*/test_presign.sh): the local provider has no URLs (exit 7,
# one line naming the service and provider); bad --expires and --method
# values, --content-type without PUT, a container without a key, and no
# address are usage errors; a content type with a control character or too
# long is refused (exit 2); --help documents the verb.
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

# The core checks a PUT's content type before asking the provider: a CR/LF
# would inject header lines, and one too long for its line would be cut.
xt presign -m PUT --content-type $'text/plain\r\nX-Evil: 1' scratch:box/k.txt
assert_rc 2
assert_err_has "control character"
assert_err_has "box/k.txt"
assert_out ""
xt presign -m PUT --content-type "text/$(printf 'x%.0s' $(seq 300))" \
  scratch:box/k.txt
assert_rc 2
assert_err_has "content type must be 1 to"
# The longest lifetime passes the core's cap (10 years), on to the
# provider, which has no URLs.
xt presign --expires 3660d scratch:box/k.txt
assert_rc 7
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
