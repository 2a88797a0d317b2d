# Sourced by the scripts that ask apt for packages. A new machine starts with empty package lists, where every
# `apt-get download` / `apt-get install` fails with "Unable to locate package": apt_retry runs the apt command,
# and if it fails, refreshes the lists once (as root) and runs it again; not root, it prints the exact command.

apt_lists_refreshed=${apt_lists_refreshed:-0}

# apt_refresh_lists: `apt-get update`, at most once per script run.
apt_refresh_lists() {
    [[ $apt_lists_refreshed == 1 ]] && return 0
    if [[ $(id -u) -ne 0 ]]; then
        echo "filtervis: apt's package lists need refreshing; run: sudo apt-get update   (then run this again)" >&2
        return 1
    fi
    echo "filtervis: refreshing apt's package lists (apt-get update)" >&2
    local log
    log=$(apt-get update -qq 2>&1) || { echo "$log" >&2; echo "filtervis: apt-get update failed (is the Debian mirror reachable?)" >&2; return 1; }
    apt_lists_refreshed=1
}

# apt_retry CMD...: runs CMD (an apt-get invocation); when it fails, refreshes the lists once and runs it again.
apt_retry() {
    "$@" 2>/dev/null && return 0
    apt_refresh_lists || return 1
    "$@"
}
