#!/usr/bin/env bash
# Proves the first-run paths work on a new machine: apt with empty package lists (a config whose Dir::State::Lists
# and Dir::Cache are fresh empty folders, which is exactly how apt starts on a new machine) and an empty
# FILTERVIS_CACHE. Fetches every weight and photo from scratch, then checks that every package the toolkit asks apt
# for can be located from empty lists. Usage: Scripts/test-fresh-machine.sh path/to/filtervis
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BIN=$(realpath "${1:?usage: Scripts/test-fresh-machine.sh path/to/filtervis}")
root=$(mktemp -d "${TMPDIR:-/tmp}/filtervis-fresh.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/lists/partial" "$root/apt-cache/archives/partial" "$root/cache"
printf 'Dir::State::Lists "%s";\nDir::Cache "%s";\n' "$root/lists" "$root/apt-cache" > "$root/apt.conf"
export APT_CONFIG=$root/apt.conf FILTERVIS_CACHE=$root/cache

passed=0 failed=0
check() {  # check NAME CMD...: runs CMD, counts the outcome
    local name=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "fresh-machine: ok   $name"
    else failed=$((failed + 1)); echo "fresh-machine: FAIL $name"; fi
}

[[ -z $(ls -A "$root/lists" | grep -v partial) ]] || { echo "fresh-machine: the apt lists folder is not empty" >&2; exit 1; }
check "weights from an empty cache" "$here/fetch-weights.sh" "$BIN"
check "photos from empty apt lists and an empty cache" "$here/fetch-photos.sh"
check "second photo run is a no-op" bash -c "'$here/fetch-photos.sh' | grep -q 'all present'"

# Every Debian package a first run may install (build deps, chromium for the report screenshots, bc for the bench):
# locatable from empty lists. A simulated install (-s) resolves them exactly as a real one would, installing nothing.
simulate() {
    rm -rf "$root/lists" && mkdir -p "$root/lists/partial"   # empty again
    ( source "$here/apt-lib.sh"; apt_retry apt-get install -s -qq "$@" >/dev/null )
}
check "apt finds pkg-config libpng-dev libjpeg-dev unzip chromium bc from empty lists" \
    simulate pkg-config libpng-dev libjpeg-dev unzip chromium bc
# Not root: the exact command is printed instead (runuser drops to an unprivileged user when it is there).
if [[ $(id -u) -eq 0 ]] && command -v runuser >/dev/null; then
    not_root() {
        # A copy nobody can reach (the checkout may sit under a folder only root can enter).
        local out open
        open=$(mktemp -d) && chmod 755 "$open" && cp "$here/ensure-apt.sh" "$here/apt-lib.sh" "$open/"
        out=$(cd / && runuser -u nobody -- "$open/ensure-apt.sh" filtervis-no-such-package 2>&1)
        local status=$?
        rm -rf "$open"
        [[ $status -ne 0 ]] || return 1
        grep -q "sudo apt-get update && sudo apt-get install -y filtervis-no-such-package" <<< "$out"
    }
    check "not root: ensure-apt prints the exact command" not_root
fi
echo "fresh-machine: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
