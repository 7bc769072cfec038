#!/usr/bin/env bash
# Installs the Debian packages GradFeat needs, only those that are missing. Safe to run again.
set -euo pipefail
packages=(pkg-config libopenblas-dev libhdf5-dev hdf5-tools zlib1g-dev libjpeg62-turbo-dev libpng-dev
          liblzma-dev xz-utils dataset-fashion-mnist python3 time openmpi-bin procps)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
