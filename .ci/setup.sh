#!/usr/bin/env bash
# Set-up shared by `make demo`, `make test` and CI: Debian packages, then fewstep with its dev extra.
set -euo pipefail
PYTHON=${PYTHON:-python3}

need_apt=()
ldconfig -p | grep -q 'libusb-1.0.so.0' || need_apt+=(libusb-1.0-0)   # open3d's runtime dependency
if [ ${#need_apt[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
fi

# torch 2.11 pairs with torchaudio 2.11 (pinned in pyproject.toml).
$PYTHON -m pip install --disable-pip-version-check -q -e ".[dev]"
