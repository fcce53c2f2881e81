#!/usr/bin/env bash
# ls: containers, XT's non-recursive view (delimiter "/", "dir" means
# "dir/", a trailing "*" is a raw prefix) against -r, -l, --json and
# --start-after, on XT's own test layout.
. "$(dirname "$0")/lib.sh" "$@"

xt mb scratch:box
assert_rc 0
assert_out "create: scratch:box"
for k in foo/blob1.txt foo/blob2.txt foo/bar/ski/blob1.txt top.txt; do
  xt put --text "content of $k" "scratch:box/$k"
  assert_rc 0
done

# Containers: of the default service, and of a named one.
xt ls
assert_rc 0
assert_out "box"
xt ls scratch:
assert_rc 0
assert_out "box"
xt ls other:
assert_rc 0
assert_out ""

# XT's contract: non-recursive "foo" lists the two files and foo/bar/.
xt ls scratch:box/foo
assert_rc 0
assert_out "foo/bar/
foo/blob1.txt
foo/blob2.txt"
xt ls scratch:box/foo/
assert_rc 0
assert_out "foo/bar/
foo/blob1.txt
foo/blob2.txt"
# ... and recursively every key, no dir/ entries.
xt ls -r scratch:box/foo
assert_rc 0
assert_out "foo/bar/ski/blob1.txt
foo/blob1.txt
foo/blob2.txt"
xt ls scratch:box
assert_rc 0
assert_out "foo/
top.txt"
xt ls --recursive scratch:box
assert_rc 0
assert_out "foo/bar/ski/blob1.txt
foo/blob1.txt
foo/blob2.txt
top.txt"
# The default service by ":CONTAINER".
xt ls :box/foo/bar
assert_rc 0
assert_out "foo/bar/ski/"

# A trailing '*' is a raw prefix, no '/' added.
xt ls 'scratch:box/foo/blob*'
assert_rc 0
assert_out "foo/blob1.txt
foo/blob2.txt"
xt ls 'scratch:box/fo*'
assert_rc 0
assert_out "foo/"

# A key naming one blob shows that blob; an unknown prefix lists nothing.
xt ls scratch:box/foo/blob1.txt
assert_rc 0
assert_out "foo/blob1.txt"
xt ls scratch:box/nothing/here
assert_rc 0
assert_out ""

# --start-after
xt ls -r --start-after foo/blob1.txt scratch:box
assert_rc 0
assert_out "foo/blob2.txt
top.txt"

# -l: size, ISO 8601 UTC mtime, name; DIR for prefixes.
xt ls -l scratch:box/foo
assert_rc 0
check
printf '%s\n' "$OUT" | grep -Eq '^ +DIR  -  +foo/bar/$' ||
  fail "ls -l: no DIR line for foo/bar/"
check
printf '%s\n' "$OUT" |
  grep -Eq '^ +24  [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z  foo/blob1\.txt$' ||
  fail "ls -l: no size/mtime line for foo/blob1.txt"
xt ls -lH scratch:box/top.txt
assert_rc 0
assert_out_has "18 B"

# --json: one array, an object per entry with the documented fields.
xt --json ls scratch:box/foo
assert_rc 0
assert_json_eq '[e["name"] for e in j]' '["foo/bar/", "foo/blob1.txt", "foo/blob2.txt"]'
assert_json_eq '[e["is_prefix"] for e in j]' '[true, false, false]'
assert_json_eq '[e["size"] for e in j]' '[0, 24, 24]'
assert_json_eq 'sorted(j[1].keys())' '["content_type", "crc32c", "etag", "is_prefix", "mtime", "name", "size", "snapshot_id"]'
assert_json_eq 'j[1]["mtime"][-1] == "Z" and len(j[1]["mtime"]) == 20' 'true'
# --json after the verb too; an empty listing is an empty array.
xt ls scratch:box/nothing/ --json
assert_rc 0
assert_json_eq 'j' '[]'
xt ls --json
assert_rc 0
assert_json_eq '[e["name"] for e in j]' '["box"]'

# Errors: a missing container is "not found" (4), named in one line.
xt ls scratch:nosuch
assert_rc 4
assert_error ls
assert_err_has "nosuch"
xt ls ./local-dir
assert_usage ls
assert_err_has "'./local-dir' is not a service address"

finish
