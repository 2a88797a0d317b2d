#!/usr/bin/env python3
"""The hand-made regression inputs of Fuzz/regressions/ (issue 11 §4's parser cases); fuzzer findings are
copied there as they were found. Rerun to regenerate: Fuzz/make_regressions.py (python3 stdlib only).

Names: `accept-*` must be read (it was wrongly refused), `refuse-*` must be refused (it was wrongly accepted);
anything else must only keep the contract (a value or a typed one-line error, quickly, within the byte bound).
"""
import io, json, os, struct, sys, zipfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torchfake import torch_zip, torch_legacy, torch_pickle

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "regressions")

def put(target, name, data):
    os.makedirs(os.path.join(OUT, target), exist_ok=True)
    with open(os.path.join(OUT, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())

# JSON5 nested 50,000 deep segfaulted the recursive parser (20,000 was refused cleanly).
put("config", "nested-lists-50000.json5", "[" * 50000)
put("config", "nested-objects-50000.json5", "{a:" * 25000)

# safetensors whose 8-byte header length starts like a pickle (640 = 0x280: PROTO 2) were refused by detection,
# including files `weights import` wrote. The header is padded with spaces, as the format allows.
def safetensors(length):
    header = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, separators=(",", ":")).encode()
    return struct.pack("<Q", length) + header + b" " * (length - len(header)) + bytes(4)
for length in (640, 896, 1152, 1408):
    put("safetensors", "accept-header%d.safetensors" % length, safetensors(length))

# A stride-0 view of a tiny storage: (2^28, 4) of 4 floats loaded as 4.3 GB; (2^31-1, 64) crashed the loader.
for shape, name in (([1 << 28, 4], "2e28x4"), ([(1 << 31) - 1, 64], "2e31x64")):
    spec = {"w": ("FloatStorage", 4, shape, [0, 1], 0, False, "0")}
    put("zip", "stride0-%s.pth" % name, torch_zip(spec))
    put("legacy", "stride0-%s.pth" % name, torch_legacy(spec))

# A zip whose directory entry for a storage points at another entry's local header (here data.pkl's):
# the reader served the pickle's bytes as the tensor's.
def lying_zip():
    spec = {"w": ("ByteStorage", 1, [4], [1], 0, False, "0")}
    data = bytearray(torch_zip(spec))
    z = zipfile.ZipFile(io.BytesIO(bytes(data)))
    pkl = z.getinfo("archive/data.pkl")
    # Point the directory record of archive/data/0 at data.pkl's local header.
    pos = 0
    while True:
        pos = data.find(b"PK\x01\x02", pos)
        name_len = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46:pos + 46 + name_len] == b"archive/data/0":
            break
        pos += 4
    struct.pack_into("<I", data, pos + 42, pkl.header_offset)
    return bytes(data)
put("zip", "refuse-local-header-of-another-entry.pth", lying_zip())
# Containers shared through the memo: each level is a list holding the level below twice, so 40 levels of a
# 200-byte pickle are a tree of 2^40 values for a walker that follows every path (a hang, found as pickle-gen's
# "1926 input bytes became 1269000 tensor bytes" with a shared numpy array).
def shared_levels(levels):
    out = bytearray(b"\x80\x02N")                 # PROTO 2, NONE: the leaf
    out += b"q\x000"                               # BINPUT 0, POP
    for i in range(levels):
        out += b"](h%ch%ce" % (i, i)               # EMPTY_LIST MARK BINGET i BINGET i APPENDS
        out += b"q%c0" % (i + 1)                   # BINPUT i+1, POP
    out += b"}q\xf0X\x01\x00\x00\x00wh%cs." % levels  # {'w': top}
    return bytes(out)
put("pickle", "shared-lists-2e40-paths.pkl", shared_levels(40))

print("make_regressions: wrote", sum(len(f) for _, _, f in os.walk(OUT)), "files under", OUT)
