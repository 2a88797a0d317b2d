"""torch.save's two layouts written without torch, for the fuzz seeds and regression inputs.

Stand-in `torch` / `torch._utils` modules give the pickle the same globals (torch._utils._rebuild_tensor_v2,
torch.FloatStorage, ...) and persistent ids ('storage', torch.FloatStorage, key, 'cpu', numel) that torch writes.
A spec maps a tensor name to (storage kind, element size, shape, stride, offset, is_parameter, storage key);
`numel` overrides the storage's element count (default: what the views reach).
"""
import collections, io, pickle, struct, sys, types, zipfile

def torch_pickle(tensors, legacy_views=False, numel=None):
    torch = types.ModuleType("torch"); utils = types.ModuleType("torch._utils")
    sys.modules.setdefault("torch", torch); sys.modules.setdefault("torch._utils", utils)
    torch, utils = sys.modules["torch"], sys.modules["torch._utils"]
    for kind in ("FloatStorage", "HalfStorage", "LongStorage", "ByteStorage"):
        if not hasattr(torch, kind):
            cls = type(kind, (), {}); cls.__module__ = "torch"; setattr(torch, kind, cls)
    def _rebuild_tensor_v2(*a): pass
    def _rebuild_parameter(*a): pass
    for f in (_rebuild_tensor_v2, _rebuild_parameter):
        f.__module__, f.__qualname__ = "torch._utils", f.__name__; setattr(utils, f.__name__, f)
    class Storage:
        def __init__(s, key, kind, numel): s.key, s.kind, s.numel = key, kind, numel
    class Tensor:
        def __init__(s, storage, offset, shape, stride, param=False):
            s.args = (storage, offset, tuple(shape), tuple(stride), False, collections.OrderedDict()); s.param = param
        def __reduce__(s):
            t = (utils._rebuild_tensor_v2, s.args)
            return (utils._rebuild_parameter, (_Inner(t), False, collections.OrderedDict())) if s.param else t
    class _Inner:
        def __init__(s, t): s.t = t
        def __reduce__(s): return s.t
    class P(pickle.Pickler):
        def persistent_id(s, obj):
            if isinstance(obj, Storage):
                pid = ("storage", getattr(torch, obj.kind), obj.key, "cpu", obj.numel)
                return pid + ((obj.key, 0, obj.numel),) if legacy_views else pid
            return None
    storages, state = {}, collections.OrderedDict()
    for name, (kind, size, shape, stride, offset, param, key) in tensors.items():
        reach = numel if numel is not None else offset + sum((d - 1) * st for d, st in zip(shape, stride)) + 1
        storages[key] = (kind, max(reach, storages.get(key, (0, 0, 0))[1]), size)
        state[name] = Tensor(Storage(key, kind, 0), offset, shape, stride, param)
    for name, t in state.items(): t.args[0].numel = storages[t.args[0].key][1]
    buf = io.BytesIO(); P(buf, protocol=2).dump({"state_dict": state, "epoch": 7}); return buf.getvalue(), storages

def blobs(storages):
    return {k: bytes((j * 7) % 256 for j in range(numel * size)) for k, (kind, numel, size) in storages.items()}

def torch_zip(spec, numel=None):
    data, storages = torch_pickle(spec, numel=numel)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", data)
        z.writestr("archive/byteorder", "little")
        for k, blob in blobs(storages).items():
            z.writestr("archive/data/" + k, blob)
        z.writestr("archive/version", "3\n")
    return buf.getvalue()

MAGIC = bytes([0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E])

def torch_legacy(spec, numel=None):
    data, storages = torch_pickle(spec, legacy_views=True, numel=numel)
    out = MAGIC + pickle.dumps(1001, protocol=2)
    out += pickle.dumps({"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2)
    stored = blobs(storages)
    out += data + pickle.dumps(sorted(stored), protocol=2)
    for k in sorted(stored):
        out += struct.pack("<q", storages[k][1]) + stored[k]
    return out
