#!/usr/bin/env bash
# rm (one, several, -r, --dry-run), snapshots (create, read, list, delete
# only the snapshot), append, and containers (mb, rb, --force, --dry-run).
. "$(dirname "$0")/lib.sh" "$@"

xt mb scratch:box
assert_rc 0
xt mb scratch:box
assert_rc 5
assert_error mb
assert_err_has "box"

# --- snapshots -------------------------------------------------------------
xt put --text "version 1" scratch:box/doc.txt
assert_rc 0
xt snapshot scratch:box/doc.txt
assert_rc 0
SNAP=$OUT
check
[ -n "$SNAP" ] && [ "$(printf '%s\n' "$SNAP" | wc -l)" -eq 1 ] ||
  fail "snapshot printed no single id"
xt put --text "version 2" scratch:box/doc.txt
assert_rc 0
xt cat scratch:box/doc.txt
assert_out "version 2"
xt cat --snapshot "$SNAP" scratch:box/doc.txt
assert_rc 0
assert_out "version 1"
xt get --snapshot "$SNAP" scratch:box/doc.txt old.txt
assert_rc 0
check
[ "$(cat old.txt)" = "version 1" ] || fail "get --snapshot wrote '$(cat old.txt)'"
xt --json stat --snapshot "$SNAP" scratch:box/doc.txt
assert_rc 0
assert_json_eq 'j["size"]' '9'
xt ls scratch:box
assert_out "doc.txt"
xt ls --snapshots scratch:box
assert_rc 0
assert_out_has "doc.txt (snapshot $SNAP)"
xt --json snapshot scratch:box/doc.txt
assert_rc 0
SNAP2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["snapshot_id"])' "$T/.out")
assert_json_eq 'j["address"]' '"scratch:box/doc.txt"'

# Delete only the first snapshot: the blob and the other snapshot stay.
xt rm --snapshot "$SNAP" scratch:box/doc.txt
assert_rc 0
assert_out "delete-snapshot: scratch:box/doc.txt (snapshot $SNAP)"
xt cat scratch:box/doc.txt
assert_rc 0
assert_out "version 2"
xt cat --snapshot "$SNAP" scratch:box/doc.txt
assert_rc 4
assert_error cat
xt cat --snapshot "$SNAP2" scratch:box/doc.txt
assert_rc 0
assert_out "version 2"
xt ls --snapshots scratch:box
assert_out_lacks "$SNAP)"
assert_out_has "doc.txt (snapshot $SNAP2)"

# A blob with snapshots goes only with --with-snapshots.
xt rm scratch:box/doc.txt
assert_rc 5
assert_error rm
xt rm --with-snapshots scratch:box/doc.txt
assert_rc 0
assert_out "delete: scratch:box/doc.txt"
xt stat scratch:box/doc.txt
assert_rc 4

# --- append ----------------------------------------------------------------
xt append --text "one," scratch:box/log.txt
assert_rc 0
assert_out "append: (text) -> scratch:box/log.txt (4 bytes)"
printf 'two,' > part.txt
xt append part.txt scratch:box/log.txt
assert_rc 0
assert_out "append: part.txt -> scratch:box/log.txt (4 bytes)"
xt_pipe "printf three" append - scratch:box/log.txt
assert_rc 0
xt cat scratch:box/log.txt
assert_out "one,two,three"
xt append nope.txt scratch:box/log.txt
assert_rc 4
assert_error append
assert_err_has "nope.txt"

# --- rm, rm -r ---------------------------------------------------------------
for k in foo/blob1.txt foo/blob2.txt foo/bar/ski/blob1.txt keep.txt; do
  xt put --text "x" "scratch:box/$k"
done
xt rm -r --dry-run scratch:box/foo
assert_rc 0
assert_out "(dryrun) delete: scratch:box/foo/bar/ski/blob1.txt
(dryrun) delete: scratch:box/foo/blob1.txt
(dryrun) delete: scratch:box/foo/blob2.txt"
xt ls -r scratch:box
assert_out "foo/bar/ski/blob1.txt
foo/blob1.txt
foo/blob2.txt
keep.txt
log.txt"
xt --json rm -r --dry-run scratch:box/foo/bar
assert_rc 0
assert_json_eq '[(a["action"], a["target"], a["dry_run"]) for a in j]' '[["delete", "scratch:box/foo/bar/ski/blob1.txt", true]]'
xt rm -r scratch:box/foo
assert_rc 0
assert_out "delete: scratch:box/foo/bar/ski/blob1.txt
delete: scratch:box/foo/blob1.txt
delete: scratch:box/foo/blob2.txt"
xt ls -r scratch:box
assert_out "keep.txt
log.txt"
xt rm -r scratch:box/foo
assert_rc 4
assert_error rm
assert_err_has "scratch:box/foo"

# Several blobs: all gone (0); some missing (8); all missing (4).
xt put --text 1 scratch:box/a1
xt put --text 2 scratch:box/a2
xt rm scratch:box/a1 scratch:box/a2
assert_rc 0
assert_out "delete: scratch:box/a1
delete: scratch:box/a2"
xt put --text 3 scratch:box/a3
xt rm scratch:box/a3 scratch:box/missing
assert_rc 8
assert_out "delete: scratch:box/a3"
assert_error rm
assert_err_has "missing"
xt rm scratch:box/missing
assert_rc 4
assert_error rm

# --- rb ----------------------------------------------------------------------
xt rb scratch:box
assert_rc 5
assert_error rb
xt rb --force --dry-run scratch:box
assert_rc 0
assert_out "(dryrun) delete: scratch:box/keep.txt
(dryrun) delete: scratch:box/log.txt
(dryrun) remove: scratch:box"
xt ls scratch:
assert_out "box"
xt rb --force scratch:box
assert_rc 0
assert_out "remove: scratch:box"
xt ls scratch:
assert_rc 0
assert_out ""
xt rb scratch:box
assert_rc 4
assert_error rb
xt mb --meta team=ml scratch:empty
assert_rc 0
xt meta scratch:empty
assert_rc 0
assert_out "team=ml"
xt meta --set team=ai --set stage=raw --dry-run scratch:empty
assert_rc 0
assert_out "(dryrun) set-metadata: scratch:empty"
xt meta scratch:empty
assert_out "team=ml"
xt meta --set team=ai scratch:empty
assert_rc 0
assert_out "set-metadata: scratch:empty"
xt --json meta scratch:empty
assert_json_eq 'j' '{"team": "ai"}'
xt meta --clear scratch:empty
assert_rc 0
xt meta scratch:empty
assert_out ""
xt rb scratch:empty
assert_rc 0
assert_out "remove: scratch:empty"

# Blob metadata replace.
xt mb scratch:m
xt put --meta a=1 --text x scratch:m/k
xt meta --set b=2 scratch:m/k
assert_rc 0
assert_out "set-metadata: scratch:m/k"
xt meta scratch:m/k
assert_out "b=2"

finish
