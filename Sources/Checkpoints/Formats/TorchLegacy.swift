import Foundation

/// PyTorch < 1.6 checkpoints: five pickles (magic, protocol 1001, sys_info, object, storage keys),
/// then per key an 8-byte little-endian element count and the raw little-endian elements.
enum TorchLegacy {
    /// `pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2)`.
    static let magicPickle: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]

    static func read(_ data: Data) throws -> Checkpoint {
        var unpickler = try Unpickler(data, persistentLoad: TorchStorage.persistentLoad)
        guard case .bigInt = try unpickler.load().root else { throw CheckpointError.torch(.legacyBadMagic) }
        guard case .int(1001) = try unpickler.load().root else {
            throw CheckpointError.torch(.legacyProtocol)
        }
        let sysInfo = try unpickler.load()
        if case .dict(let info)? = sysInfo.object(sysInfo.root),
           let little = info.items.first(where: { if case .string("little_endian") = $0.key { return true }; return false }),
           case .bool(false) = little.value {
            throw CheckpointError.torch(.bigEndian)
        }
        let objectGraph = try unpickler.load()
        let keysGraph = try unpickler.load()
        guard let keyValues = keysGraph.sequence(keysGraph.root) else {
            throw CheckpointError.torch(.storageKeysNotAList)
        }
        let keys = try keyValues.map { value -> String in
            guard case .string(let key) = value else { throw CheckpointError.torch(.storageKeyNotAString(found: value.kind)) }
            return key
        }

        // The element size of each storage comes from the persistent ids in the object pickle.
        var dtypes: [String: DType] = [:]
        for case .storage(let ref) in objectGraph.objects { dtypes[ref.key] = ref.dtype }
        var reader = ByteReader(data)
        try reader.seek(to: unpickler.position)
        var storages: [String: Data] = [:]
        for key in keys {
            guard let dtype = dtypes[key] else { throw CheckpointError.torch(.storageListedButUnused(key)) }
            let count = try reader.u64("the element count of storage '\(key)'")
            guard count <= UInt64(reader.remaining / dtype.size) else {
                throw CheckpointError.torch(.storageTruncated(storage: key, elements: count, dtype: dtype.rawValue,
                                                              remaining: reader.remaining))
            }
            // count <= remaining / size, so neither the conversion nor the product can overflow.
            storages[key] = try reader.bytes(Int(truncatingIfNeeded: count) * dtype.size, "storage '\(key)'")
        }
        let (tensors, metadata) = try PickleTensors.collect(objectGraph) { storage in
            guard let bytes = storages[storage.key] else {
                throw CheckpointError.torch(.storageNotInKeyList(storage.key))
            }
            return bytes
        }
        return try Checkpoint(format: .torchLegacy, tensors: tensors, metadata: metadata)
    }
}
