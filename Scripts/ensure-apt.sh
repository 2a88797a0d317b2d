#!/usr/bin/env bash
# Ensures Debian packages are installed: installs the missing ones when running as root (refreshing apt's package
# lists first when they are empty, as on a new machine), otherwise prints the exact apt-get command and fails.
# Usage: Scripts/ensure-apt.sh PACKAGE...
set -euo pipefail
source "$(dirname "$0")/apt-lib.sh"
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "filtervis: installing ${missing[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt_retry apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { echo "filtervis: apt-get install ${missing[*]} failed" >&2; exit 1; }
else
  echo "filtervis: missing Debian packages: ${missing[*]}" >&2
  echo "  install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
