#!/usr/bin/env python3
"""EfficientNet-Lite0's depthwise convolutions: filtervis (depthwise kernel and generic grouped path) beside PyTorch.

  bench_depthwise.py [--threads 2] [--seconds 1] [--ours .build/release/filtervis-bench]

PyTorch runs each layer in the default (NCHW) and channels_last layouts. Uneven TF "SAME" padding is F.pad then an
unpadded convolution (as TF-ported EfficientNets do it in PyTorch); even padding is the convolution's own. "fwd" is
the convolution with bias under no_grad, "fwdbwd" adds the gradient of the input (weights constant, as the engine).
With --ours, runs `filtervis-bench --only dw_` first and prints one Markdown table of medians in ms.
"""
import argparse
import json
import statistics
import subprocess
import time

# Keep in step with Sources/filtervis-bench/DepthwiseBench.swift.
LAYERS = [(96, 112, 3, 2), (144, 56, 3, 1), (240, 28, 5, 1), (672, 14, 5, 2), (1152, 7, 3, 1)]


def tf_same(size, k, stride):
    out = (size + stride - 1) // stride
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


def time_runs(seconds, run):
    t0 = time.perf_counter(); run(); warm = time.perf_counter() - t0
    times = []
    for _ in range(max(3, min(200, int(seconds / max(warm, 1e-5))))):
        s = time.perf_counter(); run(); times.append(time.perf_counter() - s)
    return times


def torch_rows(threads, seconds):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    for (c, size, k, stride) in LAYERS:
        before, after = tf_same(size, k, stride)
        for batch in (1, 8):
            name = f"dw_{c}c_{size}_k{k}s{stride}_b{batch}"
            for layout in ("default", "channels_last"):
                fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
                x = torch.randn(batch, c, size, size).contiguous(memory_format=fmt)
                w = (torch.randn(c, 1, k, k) * 0.3).contiguous(memory_format=fmt)
                b = torch.randn(c) * 0.1

                def conv(inp):
                    if before == after:
                        return F.conv2d(inp, w, b, stride=stride, padding=before, groups=c)
                    return F.conv2d(F.pad(inp, (before, after, before, after)), w, b, stride=stride, groups=c)

                def fwd():
                    with torch.no_grad():
                        conv(x)

                inp = x.detach().requires_grad_(True)
                with torch.no_grad():
                    seed = torch.ones_like(conv(x))

                def fwdbwd():
                    inp.grad = None
                    conv(inp).backward(seed)

                for (pass_name, run) in (("fwd", fwd), ("fwdbwd", fwdbwd)):
                    times = time_runs(seconds, run)
                    yield {"impl": f"pytorch-{layout}", "workload": f"{name}_{pass_name}", "threads": threads,
                           "median_s": statistics.median(times), "best_s": min(times), "runs": len(times)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=1.0, help="target time per workload and implementation")
    ap.add_argument("--ours", help="path to filtervis-bench: also time filtervis and print the table")
    args = ap.parse_args()
    rows = []
    if args.ours:
        out = subprocess.run([args.ours, "--threads", str(args.threads), "--seconds", str(args.seconds), "--only", "dw_"],
                             check=True, capture_output=True, text=True).stdout
        rows += [json.loads(line) for line in out.splitlines() if line.strip()]
    for row in torch_rows(args.threads, args.seconds):
        rows.append(row)
        if not args.ours:
            print(json.dumps(row, sort_keys=True), flush=True)
    if not args.ours:
        return
    impls = ["filtervis", "filtervis-generic", "pytorch-default", "pytorch-channels_last"]
    ms = {(r["impl"], r["workload"]): 1e3 * r["median_s"] for r in rows}
    print(f"threads: {args.threads}; median ms")
    print("| workload | " + " | ".join(impls) + " | generic/ours | best torch/ours |")
    print("|---" * (len(impls) + 3) + "|")
    for workload in dict.fromkeys(r["workload"] for r in rows):
        vals = [ms.get((i, workload)) for i in impls]
        cells = ["-" if v is None else f"{v:.3f}" for v in vals]
        ours, generic, torch_best = vals[0], vals[1], min(v for v in vals[2:] if v is not None)
        print(f"| {workload} | " + " | ".join(cells) + f" | {generic / ours:.1f}x | {torch_best / ours:.2f}x |")


if __name__ == "__main__":
    main()
