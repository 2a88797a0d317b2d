"""The `make visualize-conv3_1` job written with PyTorch in the lucent style, for `make bench`.

Same recipe as filtervis's `default` preset: Fourier parametrisation (1/f scaling, lucid's /4), decorrelated colour,
sigmoid; lucid's standard transforms (pad 12 grey, jitter 8, scale 0.90-1.10 and rotate -10..10 degrees in one
bilinear resample with border padding, jitter 4) applied at full size, then an antialiased downscale for the low
octave; Adam 0.05 on the negated objective (post-ReLU spatial channel mean); redirected-ReLU warm-up for the first
16 steps; 58 steps at 64 px then 38 at 128 px; 16 filters per batch. VGG16 with the Oxford/Keras conv weights
(Caffe preprocessing). Prints one JSON line: {"workload", "seconds", "filters", "threads"}.

Usage: python3 Scripts/bench_visualize_torch.py --threads 2 [--filters 64] [--layer-index 11]
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CACHE = os.environ.get("FILTERVIS_CACHE", os.path.expanduser("~/.cache/filtervis"))


class RedirectedReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        relu_grad = grad * (x > 0)
        redirected = grad.masked_fill((x < 0) & (grad > 0), 0)   # grad of the loss: > 0 pushes x lower
        has = relu_grad.flatten(1).norm(dim=1) > 0
        return torch.where(has.view(-1, *[1] * (x.dim() - 1)), relu_grad, redirected)


def load_vgg(path, upto):
    """VGG16 features[:upto+1] with weights read from our imported safetensors file (F32, OIHW)."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        blob = f.read()
    def tensor(key):
        info = header[key]
        a, b = info["data_offsets"]
        return torch.from_numpy(np.frombuffer(blob[a:b], dtype=np.float32).reshape(info["shape"]).copy())
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
    layers, c = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            conv = nn.Conv2d(c, v, 3, padding=1)
            i = len(layers)
            conv.weight.data, conv.bias.data = tensor(f"features.{i}.weight"), tensor(f"features.{i}.bias")
            layers += [conv, nn.ReLU()]
            c = v
    model = nn.Sequential(*layers[: upto + 1]).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def run(model, upto, filters, size=128, octaves=((64, 58), (128, 38)), warmup=16, seed=0):
    gen = torch.Generator().manual_seed(seed)
    n = len(filters)
    fh, fw = size, size // 2 + 1
    spectrum = (torch.randn(n, 3, fh, fw, 2, generator=gen) * 0.01).requires_grad_(True)
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.fftfreq(size)[: fw]
    freqs = np.sqrt(fx * fx + fy * fy)
    scale = torch.tensor(1.0 / np.maximum(freqs, 1.0 / size) * size, dtype=torch.float32)[None, None, :, :, None]
    svd = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
    svd = svd / svd.norm(dim=0).max()
    mean = torch.tensor([103.939, 116.779, 123.68]).view(1, 3, 1, 1)
    opt = torch.optim.Adam([spectrum], lr=0.05)
    step = 0
    for side, steps in octaves:
        for _ in range(steps):
            image = torch.fft.irfft2(torch.view_as_complex(spectrum * scale), s=(size, size)) / 4
            image = torch.sigmoid(torch.einsum("ck,nkhw->nchw", svd, image))
            x = F.pad(image, (12, 12, 12, 12), value=0.5)
            x = jitter(x, 8, gen)
            x = scale_rotate(x, gen)
            x = jitter(x, 4, gen)
            if side != size:
                s = round(x.shape[-1] * side / size)
                x = F.interpolate(x, size=(s, s), mode="bilinear", align_corners=False, antialias=True)
            x = (x.flip(1) * 255 - mean).contiguous(memory_format=torch.channels_last)   # RGB -> Caffe BGR
            for i, layer in enumerate(model):
                x = RedirectedReLU.apply(x) if (isinstance(layer, nn.ReLU) and step < warmup) else layer(x)
            score = x[torch.arange(n), filters].mean(dim=(1, 2)).sum()
            opt.zero_grad()
            (-score).backward()
            opt.step()
            step += 1


def jitter(x, d, gen):
    h, w = x.shape[-2:]
    out = []
    for b in range(x.shape[0]):
        dy, dx = (int(v) for v in torch.randint(0, d + 1, (2,), generator=gen))
        out.append(x[b:b + 1, :, dy:dy + h - d, dx:dx + w - d])
    return torch.cat(out)


def scale_rotate(x, gen):
    thetas = []
    for _ in range(x.shape[0]):
        s = 1 + (int(torch.randint(0, 11, (1,), generator=gen)) - 5) / 50
        angles = list(range(-10, 11)) + [0] * 5
        a = math.radians(angles[int(torch.randint(0, len(angles), (1,), generator=gen))])
        thetas.append([[math.cos(a) / s, -math.sin(a) / s, 0], [math.sin(a) / s, math.cos(a) / s, 0]])
    grid = F.affine_grid(torch.tensor(thetas, dtype=torch.float32), x.shape, align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--filters", type=int, default=64)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--layer-index", type=int, default=11, help="VGG16 module index (11 = relu3_1)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_vgg(os.path.join(CACHE, "weights", "vgg16.safetensors"), args.layer_index)
    start = time.perf_counter()
    for lo in range(0, args.filters, args.batch):
        run(model, args.layer_index, list(range(lo, min(lo + args.batch, args.filters))))
    seconds = time.perf_counter() - start
    print(json.dumps({"workload": f"visualize VGG16 features.{args.layer_index}, {args.filters} filters, default preset",
                      "peer": "pytorch", "seconds": seconds, "filters": args.filters, "threads": args.threads}))


if __name__ == "__main__":
    main()
