#!/usr/bin/env bash
# pytest.sh OUT TESTS_DIR: the suite with the venv install.sh made in OUT.
exec "$1/venv/bin/python" -m pytest -q -p no:cacheprovider --rootdir "$2" "$2"
