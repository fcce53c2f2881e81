#!/usr/bin/env bash
# install.sh PYTHON_SRC OUT: install the package the way python/README.md
# says, offline: a venv of Debian's Python that sees its site-packages
# (setuptools, pytest), and pip with no index and no build isolation. pip
# builds a copy, so the source tree gets no build/ or *.egg-info.
set -euo pipefail
src=$1
out=$2
rm -rf "$out/src" "$out/venv"
mkdir -p "$out"
cp -r "$src" "$out/src"
/usr/bin/python3 -m venv --system-site-packages "$out/venv"
"$out/venv/bin/pip" install --quiet --no-index --no-build-isolation "$out/src"
# What the tests import is the installed package, not the source.
cd "$out"
"$out/venv/bin/python" -c '
import xtstore, xtstore.xt, xtstore.cloudmesh, xtstore.multicloud
assert "/site-packages/xtstore/" in xtstore.__file__, xtstore.__file__
print("installed", xtstore.__file__, "on libxtstore", xtstore.version())'
