#!/usr/bin/env bash
# Regenerates every committed test fixture from the reference implementations (PyTorch, onnxruntime, Pillow).
# CI never runs this: the fixtures are committed. Needs `make weights photos` first for the model fixtures.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c "import torch, onnxruntime, onnx, PIL, numpy" 2>/dev/null || {
  echo "make fixtures: installing the reference frameworks (torch 2.13.0+cpu, onnxruntime, onnx, Pillow)" >&2
  pip install -q torch==2.13.0+cpu onnxruntime onnx pillow numpy
}
for script in Scripts/fixtures/*.py; do
  [ "$(basename "$script")" = common.py ] && continue
  echo "== $script" >&2
  python3 "$script"
done
# SwiftPM re-copies a .copy() resource folder only when the folder's own mtime changes.
touch Tests/*/Fixtures
