#!/bin/sh
# dropin.sh SRCDIR LOAD_PLUGIN -- build the example memstore plugin the way
# a third party would (plain `cc`, only store_interface.h, outside the
# tree), then load and exercise it with the host's loader.
set -eu
src=$1
loader=$2
CC=${CC:-cc}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xtstore-dropin.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# Only the header, copied, so nothing else of the tree can be picked up.
mkdir "$tmp/include"
cp "$src/plugin-api/store_interface.h" "$tmp/include/"
cp "$src/plugin-api/examples/memstore/store_memstore.c" "$tmp/"

cd "$tmp"
# DROPIN_CFLAGS: extra flags (the sanitizer build instruments the plugin).
# shellcheck disable=SC2086
"$CC" -std=c11 -Wall -Wextra -Werror ${DROPIN_CFLAGS:-} -shared -fPIC \
  -fvisibility=hidden -I"$tmp/include" -Wl,-z,defs -Wl,-z,now \
  -o store-memstore.so store_memstore.c -lpthread
"$loader" "$tmp/store-memstore.so" demo containers=demo
