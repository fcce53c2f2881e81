#!/usr/bin/env bash
# The workflows against the Azure provider on Azurite: cp -r of a local
# tree up, server-side within Azure, streamed to a local service and down
# to a local tree (byte-identical; content types and metadata kept); sync
# --delete, and an empty source refused; migrate with its run log on Azure
# (an append blob) and a re-run that copies nothing; --checksum telling two
# blobs of one size apart by the Content-MD5 Azure lists; put --to a local
# service, Azure with a wrong key and Azure: the bad one named with its
# auth cause, the others stored whole.
. "$(dirname "$0")/azlib.sh" "$@"

C=$AZ_C
BADKEY='AAAAvdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
az_config "  badkey: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\", key: \"$BADKEY\", endpoint: \"$AZ_E\", retry: {attempts: 1}, }"

xt mb "az:$C"
assert_rc 0
xt mb "scratch:$C"
assert_rc 0

# --- cp -r: up, across, down ------------------------------------------------
mkdir -p tree/a/b tree/c
printf 'x' > tree/a/b/x.txt
printf '{"k": 1}\n' > tree/c/y.json
: > tree/c/empty
head -c $((3 << 20)) /dev/urandom > tree/blob.bin
printf 'spaced\n' > "tree/with space.txt"
for i in 1 2 3 4 5 6 7 8; do printf 'file %s\n' "$i" > "tree/c/f$i"; done
NFILES=$(find tree -type f | wc -l)

xt cp -r tree "az:$C/up"
assert_rc 0
assert_err_empty
assert_out_has "upload: tree/with space.txt -> az:$C/up/with space.txt (7 bytes)"
assert_out_has "cp: $NFILES objects: $NFILES copied, 0 failed"
xt --json stat "az:$C/up/c/y.json"
assert_json_eq 'j["content_type"]' '"application/json"'
xt meta --set owner=me --set tier=gold "az:$C/up/c/y.json"
assert_rc 0

# Server-side within Azure; streamed to a local service: the content type
# and the metadata travel both ways.
xt cp -r "az:$C/up" "az:$C/same"
assert_rc 0
assert_out_has "cp: $NFILES objects: $NFILES copied, 0 failed"
xt --json stat "az:$C/same/c/y.json"
assert_json_eq '[j["content_type"], j["metadata"]]' \
  '["application/json", {"owner": "me", "tier": "gold"}]'
xt cp -r --transfers 3 "az:$C/same" "scratch:$C/down"
assert_rc 0
xt --json stat "scratch:$C/down/c/y.json"
assert_json_eq '[j["content_type"], j["metadata"]]' \
  '["application/json", {"owner": "me", "tier": "gold"}]'
xt cp -r "scratch:$C/down" "az:$C/back"
assert_rc 0
xt --json stat "az:$C/back/c/y.json"
assert_json_eq 'j["metadata"]' '{"owner": "me", "tier": "gold"}'

# Down to a local tree: byte for byte what went up.
xt cp -r "az:$C/back" down
assert_rc 0
run diff -r tree down
assert_rc 0

# --- sync --delete --------------------------------------------------------------
mkdir -p s
printf 'a\n' > s/a
printf 'b\n' > s/b
xt sync s "az:$C/s"
assert_rc 0
assert_out_has "sync: 2 objects: 2 new, 0 failed"
xt put --text x "az:$C/s/x"
xt put --text y "az:$C/s/sub/y"
xt sync --delete --dry-run s "az:$C/s"
assert_rc 0
assert_out_has "(dryrun) delete: az:$C/s/sub/y"
assert_out_has "(dryrun) delete: az:$C/s/x"
xt ls -r "az:$C/s"
assert_out "s/a
s/b
s/sub/y
s/x"
xt sync --delete s "az:$C/s"
assert_rc 0
assert_out_has "delete: az:$C/s/x"
assert_out_has "sync: 4 objects: 2 equal, 2 deleted, 0 failed"
xt ls -r "az:$C/s"
assert_out "s/a
s/b"
# A mistyped source empties nothing.
xt sync --delete "az:$C/no-such" "az:$C/s"
assert_rc 4
assert_err "xtstore: sync: nothing under 'az:$C/no-such/': no object would be copied, and all 2 objects at the target would be deleted (--allow-empty-source runs it anyway)"
xt ls -r "az:$C/s"
assert_out "s/a
s/b"

# --- migrate, its run log on Azure, a re-run --------------------------------
xt migrate "az:$C/up" "az:$C/mig" --log "az:$C/logs/run.jsonl"
assert_rc 0
assert_out_has "migrate: $NFILES objects: $NFILES new, 0 failed"
xt migrate "az:$C/up" "az:$C/mig" --log "az:$C/logs/run.jsonl"
assert_rc 0
assert_out_has "migrate: $NFILES objects: $NFILES equal, 0 failed"
xt get "az:$C/logs/run.jsonl" run.jsonl
assert_rc 0
check
python3 - run.jsonl "$NFILES" "az:$C/up/" "az:$C/mig/" <<'PY' || fail "the run log on Azure is wrong"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
n = int(sys.argv[2])
assert len(recs) == 2 * n, len(recs)
runs = [recs[:n], recs[n:]]
assert len({r["run_id"] for r in runs[0]}) == 1
assert len({r["run_id"] for r in runs[1]}) == 1
assert runs[0][0]["run_id"] != runs[1][0]["run_id"]
assert {r["status"] for r in runs[0]} == {"new"}, runs[0]
assert {r["status"] for r in runs[1]} == {"equal"}, runs[1]
for r in recs:
    name = r["source_name"][len(sys.argv[3]):]
    assert r["source_name"].startswith(sys.argv[3]), r
    assert r["target_name"] == sys.argv[4] + name, r
    assert r["target_size"] == r["source_size"] and r["error"] is None, r
PY
xt cp -r "az:$C/mig" mig-down
assert_rc 0
run diff -r tree mig-down
assert_rc 0

# --- --checksum: one size, other bytes ---------------------------------------
# The target is written after the source (not older), so only the MD5s
# Azure's listing carries can tell the two apart: without --checksum they
# are equal, with it an update.
xt put --text "aaaa" "az:$C/ck/src/f"
assert_rc 0
xt put --text "bbbb" "az:$C/ck/dst/f"
assert_rc 0
xt migrate "az:$C/ck/src" "az:$C/ck/dst"
assert_rc 0
assert_out_has "migrate: 1 objects: 1 equal, 0 failed"
xt cat "az:$C/ck/dst/f"
assert_out "bbbb"
xt migrate --checksum "az:$C/ck/src" "az:$C/ck/dst"
assert_rc 0
assert_out_has "update: az:$C/ck/src/f -> az:$C/ck/dst/f (4 bytes)"
assert_out_has "migrate: 1 objects: 1 update, 0 failed"
xt cat "az:$C/ck/dst/f"
assert_out "aaaa"
xt sync --checksum "az:$C/ck/src" "az:$C/ck/dst"
assert_rc 0
assert_out_has "sync: 1 objects: 1 equal, 0 failed"

# --- put --to: a local service, Azure with a wrong key, Azure -------------------
head -c 1000000 /dev/urandom > fan.bin
xt put --to scratch,badkey,az fan.bin "$C/fan/fan.bin"
assert_rc 8
assert_out "upload: fan.bin -> scratch:$C/fan/fan.bin (1000000 bytes)
upload: fan.bin -> az:$C/fan/fan.bin (1000000 bytes)"
assert_error put
assert_err_has "fan.bin -> badkey:$C/fan/fan.bin: service 'badkey': "
assert_err_has "authentication failed"
assert_err_lacks "$BADKEY"
for s in scratch az; do
  xt get "$s:$C/fan/fan.bin" "got-$s.bin"
  assert_rc 0
  assert_same fan.bin "got-$s.bin"
done
xt stat "az:$C/fan/nothing-else"
assert_rc 4

finish
