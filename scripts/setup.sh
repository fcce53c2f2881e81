#!/usr/bin/env bash
# Install the Debian packages xtstore needs, only those that are missing.
#   scripts/setup.sh          build dependencies
#   scripts/setup.sh --test   build + test dependencies: also the interop clients
#                             (awscli, azure-cli), python3, OpenStack Swift (the
#                             s3api test server), Node.js if absent, and the pinned
#                             npm test servers (tests/servers/node)
# Quiet on success; on failure says what failed and shows the tail of its log.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
test_deps=0
if [[ "${1:-}" == "--test" ]]; then
  test_deps=1
fi

pkgs=(gcc make cmake pkg-config libc6-dev
      libyaml-dev libjansson-dev libltdl-dev libcurl4-openssl-dev libssl-dev
      libexpat1-dev libisal-dev libcmocka-dev)
if ((test_deps)); then
  # awscli: /usr/bin/aws (v2), azure-cli: az; python3: Debian's, /usr/bin/python3;
  # swift-*: one-node Swift with s3api, a signature-checking S3 (tests/servers);
  # strace: counts the syncs of a tree download (test_download_sync.sh).
  # python3-crc32c: moto's CRC32C of multipart objects (tests/servers/server.sh).
  # python3-cryptography: RS256 / rsa-sha256 checks of the GCS and OCI test servers;
  # rclone: its gcs backend proves the GCS test server faithful.
  # clang: libFuzzer for the fuzz targets (tests/fuzz).
  # python3-pytest, python3-venv, python3-setuptools, python3-wheel: the Python
  # package's tests (tests/python), installed offline into a venv whose pip builds
  # with Debian's setuptools (bdist_wheel from python3-wheel).
  pkgs+=(valgrind attr curl awscli azure-cli python3 python3-crc32c
         python3-cryptography python3-pytest python3-venv
         python3-setuptools python3-wheel rclone clang strace
         swift-proxy swift-object swift-container swift-account)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done
if ((test_deps)); then
  # Node.js may come from elsewhere (e.g. NodeSource); only install Debian's if absent.
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
fi

if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp)
  if ! { $sudo apt-get update -qq &&
         $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    echo "setup: apt-get failed installing ${missing[*]}; last lines:" >&2
    tail -n 25 "$log" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
fi

if ((test_deps)); then
  # The npm test servers (s3rver, Azurite) and vendor clients (@google-cloud/storage,
  # oci-objectstorage, oci-common) that prove the GCS and OCI test servers, pinned by package-lock.json, installed
  # into tests/servers/node/node_modules when missing or when the lock changed.
  node_dir="$root/tests/servers/node"
  stamp="$node_dir/node_modules/.xtstore-lock.sha256"
  want=$(cat "$node_dir/package.json" "$node_dir/package-lock.json" | sha256sum | cut -d' ' -f1)
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ||
        ! -f "$node_dir/node_modules/s3rver/bin/s3rver.js" ||
        ! -f "$node_dir/node_modules/azurite/dist/src/blob/main.js" ]]; then
    echo "setup: installing the npm test servers (tests/servers/node)" >&2
    log=$(mktemp)
    if ! (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1; then
      echo "setup: 'npm ci' failed in tests/servers/node; last lines:" >&2
      tail -n 25 "$log" >&2
      rm -f "$log"
      exit 1
    fi
    rm -f "$log"
    echo "$want" >"$stamp"
  fi
fi
