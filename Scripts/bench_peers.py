#!/usr/bin/env python3
"""The `make bench` workloads in the peers: PyTorch (channels_last) and onnxruntime, plus the table.

  bench_peers.py --threads N [--only SUBSTRING]      time the peers, one JSON object per line on stdout
  bench_peers.py --table OURS.jsonl PEERS.jsonl      print the comparison table (Markdown)

Networks are built layer by layer exactly like Sources/filtervis-bench/Networks.swift (torchvision layout,
random weights): an activation-maximisation step is forward to the target conv (no ReLU on it), score =
mean of channel 0, gradient with respect to the input only; a full forward is features, adaptive average
pooling and the classifier. Timings are medians of several runs after one warm-up, like ours.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

PEAK_PER_THREAD = 117.5  # GFLOP/s per core (see /work/shared/reference/performance.md)

VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
ALEXNET = [(64, 11, 4, 2), "M3", (192, 5, 1, 2), "M3", (384, 3, 1, 1), (256, 3, 1, 1), (256, 3, 1, 1), "M3"]


def build(model, last_conv=None, classifier=False):
    import torch
    import torch.nn as nn
    torch.manual_seed(0)
    layers, c, conv = [], 3, 0
    spec = [(v, 3, 1, 1) if isinstance(v, int) else v for v in (VGG16 if model == "vgg16" else ALEXNET)]
    for item in spec:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
        elif item == "M3":
            layers.append(nn.MaxPool2d(3, 2))
        else:
            o, k, s, p = item
            layers.append(nn.Conv2d(c, o, k, s, p))
            c = o
            if conv == last_conv:
                break
            layers.append(nn.ReLU(inplace=True))
            conv += 1
    if classifier:
        pool = (7, 7) if model == "vgg16" else (6, 6)
        layers += [nn.AdaptiveAvgPool2d(pool), nn.Flatten(1),
                   nn.Linear(c * pool[0] * pool[1], 4096), nn.ReLU(inplace=True),
                   nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Linear(4096, 1000)]
    net = nn.Sequential(*layers).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


AM = [("vgg16", "conv3_1", 4, 128, [1, 16]), ("vgg16", "conv3_1", 4, 224, [1, 16]),
      ("vgg16", "conv5_1", 10, 224, [1, 8]), ("alexnet", "conv5", 4, 224, [1, 16])]


def timed(fn, seconds, min_runs=3, max_runs=7):
    t0 = time.perf_counter(); fn(); warm = time.perf_counter() - t0
    runs = max(min_runs, min(max_runs, int(seconds / max(warm, 1e-3))))
    times = []
    for _ in range(runs):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return times


def am_step_fn(net, x):
    def step():
        xi = x.detach().clone().requires_grad_(True)
        y = net(xi)
        y[:, 0].mean().backward()
        return xi.grad
    return step


def emit(**fields):
    print(json.dumps(fields, sort_keys=True), flush=True)


def peak_rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return -1


def run_peers(args):
    import torch
    torch.set_num_threads(args.threads)
    want = lambda name: args.only is None or args.only in name
    for model, layer, idx, size, batches in AM:
        net = None
        for b in batches:
            name = f"am_{model}_{layer}_{size}_b{b}"
            if not want(name):
                continue
            net = net or build(model, last_conv=idx).to(memory_format=torch.channels_last)
            x = torch.rand(b, 3, size, size).to(memory_format=torch.channels_last)
            times = timed(am_step_fn(net, x), args.seconds)
            emit(impl="pytorch-channels_last", workload=name, threads=args.threads, median_s=statistics.median(times),
                 best_s=min(times), runs=times)
    for model in ["vgg16", "alexnet"]:
        names = [f"fwd_{model}_224_b{b}" for b in (1, 8)]
        if not any(want(n) for n in names):
            continue
        net = build(model, classifier=True)
        with tempfile.TemporaryDirectory() as tmp:
            import onnxruntime as ort
            path = os.path.join(tmp, f"{model}.onnx")
            torch.onnx.export(net, torch.rand(1, 3, 224, 224), path, input_names=["x"], output_names=["y"],
                              dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, dynamo=False)
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = args.threads
            opts.inter_op_num_threads = 1
            sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
            for b, name in zip((1, 8), names):
                if not want(name):
                    continue
                x = torch.rand(b, 3, 224, 224).numpy()
                times = timed(lambda: sess.run(None, {"x": x}), args.seconds)
                emit(impl="onnxruntime", workload=name, threads=args.threads, median_s=statistics.median(times),
                     best_s=min(times), runs=times)
        netcl = net.to(memory_format=torch.channels_last)
        for b, name in zip((1, 8), names):
            if not want(name):
                continue
            x = torch.rand(b, 3, 224, 224).to(memory_format=torch.channels_last)
            with torch.no_grad():
                times = timed(lambda: netcl(x), args.seconds)
            emit(impl="pytorch-channels_last", workload=name, threads=args.threads, median_s=statistics.median(times),
                 best_s=min(times), runs=times)
    if want("mem_vgg16_conv5_1_224_b8"):
        out = subprocess.run([sys.executable, __file__, "--memory-child", "--threads", str(args.threads)],
                             capture_output=True, text=True, check=True).stdout
        print(out, end="", flush=True)


def memory_child(args):
    import torch
    torch.set_num_threads(args.threads)
    net = build("vgg16", last_conv=10).to(memory_format=torch.channels_last)
    x = torch.rand(8, 3, 224, 224).to(memory_format=torch.channels_last)
    step = am_step_fn(net, x)
    step()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    step()
    emit(impl="pytorch-channels_last", workload="mem_vgg16_conv5_1_224_b8", threads=args.threads, peak_mib=peak_rss_mib())


def table(ours_path, peers_path):
    def load(path):
        with open(path) as f:
            return [json.loads(l) for l in f if l.strip().startswith("{")]
    ours_rows, peer_rows = load(ours_path), load(peers_path)
    peers = {}
    for r in peer_rows:
        peers.setdefault(r["workload"], []).append(r)
    # GFLOP/s: the direct-convolution count over our time (the figure the peers are usually quoted with).
    # Executed: the multiply-adds our kernels really run (Winograd layers run 16 per 2x2 tile instead of 36);
    # the share of the hardware's peak and the per-CPU-second figure use these.
    print("| workload | ours s/step | best peer s/step | peer | ours/peer | our GFLOP/s (direct count) "
          "| executed GFLOP/s | % of peak (executed) | executed GFLOP per CPU-s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in ours_rows:
        if "median_s" not in r:
            continue
        name = r["workload"]
        cands = [p for p in peers.get(name, []) if "median_s" in p]
        best = min(cands, key=lambda p: p["median_s"]) if cands else None
        peak = PEAK_PER_THREAD * r["threads"]
        cols = [name, f"{r['median_s']:.4f}"]
        cols += [f"{best['median_s']:.4f}", best["impl"], f"{r['median_s'] / best['median_s']:.2f}"] if best else ["-", "-", "-"]
        executed = r.get("executed_gflop", r["gflop"])
        cols += [f"{r['gflops']:.1f}", f"{executed / r['median_s']:.1f}", f"{100 * executed / r['median_s'] / peak:.0f}%",
                 f"{executed / r['cpu_s_min']:.1f}"]
        print("| " + " | ".join(cols) + " |")
    mems = [r for r in ours_rows + peer_rows if "peak_mib" in r]
    if mems:
        print()
        print("| peak RSS, VGG16 to conv5_1 step, 224 px, batch 8 | MiB |")
        print("|---|---|")
        for r in mems:
            print(f"| {r['impl']} | {r['peak_mib']:.0f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default=None)
    ap.add_argument("--seconds", type=float, default=8.0, help="target time per workload (3-7 runs)")
    ap.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--table", nargs=2, metavar=("OURS", "PEERS"))
    args = ap.parse_args()
    if args.table:
        table(*args.table)
    elif args.memory_child:
        memory_child(args)
    else:
        run_peers(args)


if __name__ == "__main__":
    main()
