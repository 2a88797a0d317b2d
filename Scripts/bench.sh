#!/usr/bin/env bash
# Times filtervis (TensorCore) and the peers (PyTorch channels_last, onnxruntime) on the same workloads in one
# run and prints one table. Usage: Scripts/bench.sh .build/release/filtervis-bench
#   THREADS=2 (default)   ONLY=substring of workload names   SECONDS_PER_WORKLOAD=8
# Raw JSON lines are kept in .build/bench/ (ours.jsonl, peers.jsonl).
set -euo pipefail
BIN=${1:?usage: Scripts/bench.sh PATH/TO/filtervis-bench}
THREADS=${THREADS:-2}
SECS=${SECONDS_PER_WORKLOAD:-8}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/.build/bench"
mkdir -p "$OUT"
only=()
[ -n "${ONLY:-}" ] && only=(--only "$ONLY")

if ! python3 -c "import torch, onnxruntime, onnx" 2>/dev/null; then
    echo "bench: installing the peers (torch==2.13.0+cpu, onnxruntime, onnx) with pip" >&2
    python3 -m pip install --quiet "torch==2.13.0+cpu" onnxruntime onnx
fi

echo "bench: filtervis, $THREADS thread(s)" >&2
"$BIN" --threads "$THREADS" --seconds "$SECS" "${only[@]}" | tee "$OUT/ours.jsonl" >&2
echo "bench: peers, $THREADS thread(s)" >&2
python3 "$ROOT/Scripts/bench_peers.py" --threads "$THREADS" --seconds "$SECS" "${only[@]}" | tee "$OUT/peers.jsonl" >&2
if [ -z "${ONLY:-}" ] || [[ patches_vgg16_conv5_3_photos40 == *"$ONLY"* ]]; then
    python3 "$ROOT/Scripts/bench_patches.py" --threads "$THREADS" | tee -a "$OUT/peers.jsonl" >&2
fi
echo
echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs; threads: $THREADS; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$ROOT/Scripts/bench_peers.py" --table "$OUT/ours.jsonl" "$OUT/peers.jsonl"
