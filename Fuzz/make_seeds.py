#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, from the real files and the test fixtures (issue 18).

    Fuzz/make_seeds.py OUT_DIR      writes OUT_DIR/<target>/<name> for every target (python3 stdlib; numpy optional)

Sources: the weights' first bytes (~/.cache/filtervis/weights/src/*, $FILTERVIS_CACHE), the photos, the shipped
Experiments/*.json5, the fixtures under Tests/*/Fixtures, plus small files written here with Python's own pickle
(every protocol) and safetensors headers of the lengths that once confused format detection (640, 896, ...).
Inputs are cut to the target's -max_len (Scripts/fuzz.sh), so a head of a large file keeps its structure's start.
"""
import io, json, os, pickle, random, struct, sys, zipfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("FILTERVIS_CACHE") or os.path.expanduser("~/.cache/filtervis")
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".fuzz", "seeds")
HEAD = 1 << 16  # bytes kept of large real files

def put(target, name, data):
    folder = os.path.join(OUT, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data[:1 << 20])

def read(path, limit=None):
    with open(path, "rb") as f:
        return f.read(limit) if limit else f.read()

def files(folder, exts):
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.lower().endswith(exts))

fixtures = os.path.join(ROOT, "Tests", "CheckpointsTests", "Fixtures")
weights = os.path.join(CACHE, "weights", "src")

# --- pickle: fixtures, real Flax/lpips checkpoints' heads, data.pkl of the zip fixtures, Python pickles of every protocol
for path in files(fixtures, (".pkl",)):
    put("pickle", os.path.basename(path), read(path))
for path in files(weights, (".ckpt",)):
    put("pickle", os.path.basename(path) + ".head", read(path, HEAD))
for path in files(fixtures, (".pth",)):
    try:
        with zipfile.ZipFile(path) as z:
            for n in z.namelist():
                if n.endswith("data.pkl"):
                    put("pickle", os.path.basename(path) + ".data.pkl", z.read(n))
                    put("zip", os.path.basename(path), read(path))
    except zipfile.BadZipFile:
        put("legacy", os.path.basename(path), read(path))
samples = [{"a": [1, 2.5, "x", b"y", (1, 2), None, True]}, {"epoch": 3, "nested": {"k": [[], {}, set([1])]}},
           [2**70, -2**40, "é" * 3, frozenset([1])], {"shared": [[1]] * 3}]
for p in range(0, pickle.HIGHEST_PROTOCOL + 1):
    for i, obj in enumerate(samples):
        put("pickle", "python_p%d_%d.pkl" % (p, i), pickle.dumps(obj, protocol=p))
try:
    import numpy as np
    for p in range(2, pickle.HIGHEST_PROTOCOL + 1):
        arrays = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.asfortranarray(np.ones((2, 2), np.float64)),
                  "i": np.array([1, -2], dtype=">i4"), "s": np.float32(1.5), "h": np.zeros(3, np.float16), "u": np.array([True, False])}
        put("pickle", "numpy_p%d.pkl" % p, pickle.dumps({"params": arrays}, protocol=p))
except ImportError:
    print("make_seeds: numpy not installed; numpy pickle seeds skipped", file=sys.stderr)

# --- zip / legacy: the .pth fixtures (above), the real efficientnet .pth (a zip: only whole files keep a directory)
for path in files(weights, (".pth",)):
    data = read(path)
    if data[:2] == b"PK":
        # Keep the real archive's own records: its data.pkl and directory, with the storages cut to a few bytes.
        with zipfile.ZipFile(path) as z, io.BytesIO() as buf:
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as out:
                for info in z.infolist()[:40]:
                    body = z.read(info.filename)
                    out.writestr(info.filename, body if info.filename.endswith((".pkl", "byteorder", "version")) else body[:64])
            put("zip", os.path.basename(path) + ".small", buf.getvalue())

# --- zip / legacy written here the way torch.save writes them, without torch (Fuzz/torchfake.py)
from torchfake import torch_pickle, torch_zip, torch_legacy
specs = [
    {"conv.weight": ("FloatStorage", 4, [2, 3], [3, 1], 0, True, "0"), "conv.bias": ("FloatStorage", 4, [2], [1], 0, True, "1")},
    {"t": ("FloatStorage", 4, [3, 2], [1, 3], 0, False, "0"), "view": ("FloatStorage", 4, [2], [2], 1, False, "0")},  # transposed, shared
    {"h": ("HalfStorage", 2, [4], [1], 0, False, "0"), "l": ("LongStorage", 8, [1, 2], [2, 1], 0, False, "1"),
     "u": ("ByteStorage", 1, [2, 2, 2], [4, 2, 1], 0, False, "2")},
    {"bcast": ("FloatStorage", 4, [4, 3], [0, 1], 0, False, "0")},  # a stride-0 (expand) view of 3 floats
]
for i, spec in enumerate(specs):
    put("zip", "made%d.pth" % i, torch_zip(spec))
    put("legacy", "made%d.pth" % i, torch_legacy(spec))
    put("pickle", "torch%d.data.pkl" % i, torch_pickle(spec)[0])

# --- onnx: the fixture and the real model's head
for path in files(fixtures, (".onnx",)):
    put("onnx", os.path.basename(path), read(path))
for path in files(weights, (".onnx",)):
    put("onnx", os.path.basename(path) + ".head", read(path, HEAD))

# --- safetensors: fixture, the imported weights' headers (+ a few data bytes), hand-made files with awkward header lengths
for path in files(fixtures, (".safetensors",)):
    put("safetensors", os.path.basename(path), read(path))
for path in files(os.path.join(CACHE, "weights"), (".safetensors",)):
    head = read(path, 8)
    n = struct.unpack("<Q", head)[0]
    if n < HEAD:
        put("safetensors", os.path.basename(path) + ".head", read(path, 8 + n + 256))
def safetensors(tensors, length=None, metadata=None):
    header, blob = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((length or (len(text) + 7) // 8 * 8) - len(text))
    return struct.pack("<Q", len(text)) + text + blob
put("safetensors", "small.safetensors", safetensors({"w": ("F32", [2, 2], bytes(16)), "b": ("F16", [2], bytes(4))}, metadata={"format": "pt"}))
for length in (640, 896, 1152, 1408):  # 0x280 ...: the first two bytes read as pickle PROTO 2..5
    put("safetensors", "header%d.safetensors" % length, safetensors({"w": ("F32", [1], bytes(4))}, length=length))
put("safetensors", "empty.safetensors", safetensors({}))
put("safetensors", "dtypes.safetensors", safetensors({d: (d, [2], bytes(2 * s)) for d, s in
    [("F32", 4), ("F16", 2), ("BF16", 2), ("F64", 8), ("I64", 8), ("I32", 4), ("I16", 2), ("I8", 1), ("U8", 1), ("BOOL", 1)]}))

# --- image: the decoder fixtures (every PNG type, JPEG kinds, EXIF orientations 1-8) and the photos' heads
for path in files(os.path.join(ROOT, "Tests", "ImageIOTests", "Fixtures", "images"), (".png", ".jpg", ".jpeg")):
    put("image", os.path.basename(path), read(path))
for path in files(os.path.join(CACHE, "photos"), (".png", ".jpg", ".jpeg")):
    put("image", os.path.basename(path) + ".head", read(path, HEAD))

# --- config: the shipped experiments and the README's kinds of values
for path in files(os.path.join(ROOT, "Experiments"), (".json5",)):
    put("config", os.path.basename(path), read(path))
put("config", "full.json5", b"""// every key once
{ name: 'x', model: 'alexnet', layers: ['conv1', "pool5",], filters: {conv1: '0-3', pool5: [0, 1]},
  preset: ['default', 'lucid'], overrides: {size: 96, steps: 2, lr: 0.05}, seeds: [0, 1], photos: '/tmp',
  outputs: ['filters', 'patches', 'featuremaps', 'report'], featuremaps: {layers: ['conv1'], photo: 'a.jpg', size: 64, tile: 32},
  patches: {top: 4, perImage: 1, layers: ['conv1'], imagesPerUnit: 2, cropSize: 32}, batch: 4, threads: 1, /* end */ }""")
put("config", "strings.json5", b"{layers: ['a\\u00e9\\n\\'b'], name: \"q\\\"\", filters: 'all'}")

# --- args: two bytes of channel count, then the text of --filters / --layer / WxH
for i, text in enumerate(["0-63", "all", "3,7,9", "0-7,32,40-41", " 1 - 2 ", "224x224", "16X9", "conv3_1", "features.28",
                          "block5_pool", "fc8", "relu7", "logits", "5-3", "-1", "0-9223372036854775807"]):
    put("args", "arg%02d" % i, bytes([0, 64 if i % 2 else 255]) + text.encode())

# --- recipe targets: random recipes (any bytes are a valid recipe)
rng = random.Random(18)
for target in ("pickle-gen", "zip-gen", "safetensors-gen"):
    for i in range(16):
        put(target, "recipe%02d" % i, bytes(rng.randrange(256) for _ in range(rng.randrange(8, 200))))

print("make_seeds: %s" % ", ".join("%s %d" % (t, len(os.listdir(os.path.join(OUT, t)))) for t in sorted(os.listdir(OUT))))
