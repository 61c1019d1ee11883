#!/usr/bin/env bash
# tests/install-deps.sh: the Debian packages `make test` needs besides the lab's own
# (lab/setup installs those): tshark (tests/wire_tshark), openssl (tests/rsa_tools),
# iproute2 (tests/pluto_netns, the XFRM tests), and what `make` needs to build and
# check the static binary. Idempotent and quick when everything is there; as root.
set -euo pipefail
PKGS=(tshark openssl iproute2 file binutils make gcc libc6-dev)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} = 0 ]; then
    echo "tests/install-deps.sh: packages already installed"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "tests/install-deps.sh: missing packages (${missing[*]}); run as root" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture: no.
echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "tests/install-deps.sh: installed ${missing[*]}"
