#!/usr/bin/env bash
# install.sh PYTHON_SRC OUT: install the package with exactly the commands
# python/README.md gives -- a venv of Debian's Python that sees its
# site-packages (setuptools, wheel, pytest), then a bare `pip install
# ./python` -- from a copy in OUT (pip builds in place: build/, *.egg-info).
# Offline: the index is an address nothing listens on, so a pip that
# reached for one would fail; the user's pip.conf is not read.
set -euo pipefail
src=$1
out=$2
rm -rf "$out/python" "$out/venv"
mkdir -p "$out"
cp -r "$src" "$out/python"
cd "$out"
export PIP_CONFIG_FILE=/dev/null PIP_INDEX_URL=http://127.0.0.1:9/simple
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
/usr/bin/python3 -m venv --system-site-packages venv
venv/bin/pip install ./python
# What the tests import is the installed package, not the source.
venv/bin/python -c '
import xtstore, xtstore.xt, xtstore.cloudmesh, xtstore.multicloud
assert "/site-packages/xtstore/" in xtstore.__file__, xtstore.__file__
print("installed", xtstore.__file__, "on libxtstore", xtstore.version())'
