#!/usr/bin/env bash
# Links planted where xtstore writes cannot take it outside:
#  - a tree download (cp -r, sync) into a directory holding a symlink to
#    elsewhere ("dl/sub -> /outside") refuses the objects below the link,
#    naming it, and writes nothing outside;
#  - a hard link planted in a local store (to a file outside its root)
#    cannot be changed in place: append and meta --set are refused.
. "$(dirname "$0")/lib.sh" "$@"

mkdir -p "$T/data/box/sub" "$T/outside" dl
printf 'one' > "$T/data/box/ok1.txt"
printf 'two' > "$T/data/box/sub/ok2.txt"
printf 'keep me' > "$T/outside/victim.txt"
ln -s "$T/outside" dl/sub

xt cp -r :box dl
[ "$RC" -ne 0 ] || fail "cp -r through a planted symlink reported success"
assert_err_has "local directory '"
assert_err_has "dl/sub' is a symbolic link: links below the target"
[ ! -e "$T/outside/ok2.txt" ] || fail "cp -r wrote through dl/sub into $T/outside"
[ "$(cat dl/ok1.txt 2>/dev/null)" = one ] || fail "the object beside the link was not copied"
check

xt sync :box dl
[ "$RC" -ne 0 ] || fail "sync through a planted symlink reported success"
[ ! -e "$T/outside/ok2.txt" ] || fail "sync wrote through dl/sub into $T/outside"
check

# A hard link in the store to a file outside its root.
printf 'secret' > "$T/outside/hard.txt"
ln "$T/outside/hard.txt" "$T/data/box/hard.txt"
xt append --text ' more' :box/hard.txt
assert_rc 6
assert_err_has "blob 'box/hard.txt'"
assert_err_has "refused to append to it: the file has 2 hard links"
xt meta --set owner=x :box/hard.txt
assert_rc 6
assert_err_has "refused to set the metadata of it: the file has 2 hard links"
[ "$(cat "$T/outside/hard.txt")" = secret ] || fail "the outside file changed"
if command -v getfattr > /dev/null 2>&1; then
  getfattr -d "$T/outside/hard.txt" 2>/dev/null | grep -q owner &&
    fail "metadata reached the outside file"
fi
check
# ... a single link is fine.
printf 'mine' > "$T/data/box/own.txt"
xt append --text ' more' :box/own.txt
assert_rc 0

finish
