#!/usr/bin/env bash
# Install the Debian packages xtstore needs, only those that are missing.
#   scripts/setup.sh          build dependencies
#   scripts/setup.sh --test   build + test dependencies
set -euo pipefail

pkgs=(gcc make cmake pkg-config libc6-dev
      libyaml-dev libjansson-dev libltdl-dev libcurl4-openssl-dev libssl-dev
      libexpat1-dev)
if [[ "${1:-}" == "--test" ]]; then
  pkgs+=(libcmocka-dev attr)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
