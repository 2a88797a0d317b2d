#!/usr/bin/env bash
# Writes OUT.swift: SCRIPT (Scripts/fetch-weights.sh) as a Swift string, so that a copied or installed filtervis
# binary can fetch its weights without the checkout. Run by the EmbedFetchScript build-tool plugin at every build
# where the script changed (Plugins/EmbedFetchScript); nothing generated is committed.
# Usage: Scripts/embed-fetch-script.sh SCRIPT OUT.swift
set -euo pipefail
script=${1:?usage: embed-fetch-script.sh SCRIPT OUT.swift}
out=${2:?usage: embed-fetch-script.sh SCRIPT OUT.swift}
# A raw string literal takes the text as it is; refuse the two sequences it would not: its end and an escape.
if grep -qF -e '"""#' -e '\#' "$script"; then
    echo "embed-fetch-script: $script contains \"\"\"# or \\#, which a Swift #\"\"\" raw string cannot hold as text" >&2; exit 1
fi
{
    echo "// Generated at build time by Scripts/embed-fetch-script.sh from Scripts/fetch-weights.sh."
    echo ""
    echo "/// Scripts/fetch-weights.sh, carried in the binary so that a copy outside the checkout can still fetch its weights."
    echo "enum EmbeddedFetchScript {"
    echo "    static let text = #\"\"\""
    cat "$script"
    echo "\"\"\"#"
    echo "}"
} > "$out.tmp"
mv "$out.tmp" "$out"
