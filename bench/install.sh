#!/usr/bin/env bash
# Install the tools the benchmark compares tlsmon against: Suricata (Debian bookworm-backports) and tshark.
# Idempotent: re-running adds nothing that is already there. Needs root (or sudo) and apt.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

BACKPORTS=/etc/apt/sources.list.d/bookworm-backports.sources

have_backports() {
    grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}

if ! have_backports; then
    echo "adding bookworm-backports in $BACKPORTS"
    $SUDO tee "$BACKPORTS" >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

missing=()
command -v suricata >/dev/null 2>&1 || missing+=(suricata)
command -v tshark >/dev/null 2>&1 || missing+=(tshark)
[ -x /usr/bin/time ] || missing+=(time)

if [ "${#missing[@]}" -eq 0 ]; then
    echo "suricata, tshark and /usr/bin/time already installed"
else
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    for pkg in "${missing[@]}"; do
        if [ "$pkg" = suricata ]; then
            $SUDO apt-get install -y -q -t bookworm-backports suricata
        else
            # tshark asks whether non-root users may capture; the benchmark only reads files.
            echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
            $SUDO apt-get install -y -q "$pkg"
        fi
    done
fi

suricata -V
tshark --version | head -n 1
