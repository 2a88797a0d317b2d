
/// PyTorch's persistent ids for storages, shared by the zip and legacy formats.
enum TorchStorage {
    /// Parses ('storage', storage_type, key, location, numel[, view_metadata]) into a storage reference.
    static func persistentLoad(_ pid: PickleValue, _ graph: PickleGraph) throws -> PickleObject {
        guard let items = graph.sequence(pid), items.count >= 5, case .string("storage") = items[0] else {
            throw CheckpointError.torch(.persistentIdNotStorageTuple)
        }
        guard case .global(.storageType(let dtype)) = items[1] else {
            throw CheckpointError.torch(.persistentIdNotStorageType(found: items[1].kind))
        }
        let key: String
        switch items[2] {
        case .string(let s): key = s
        case .int(let i): key = String(i)
        default: throw CheckpointError.torch(.storageKeyType(found: items[2].kind))
        }
        guard case .int(let numel) = items[4], numel >= 0 else { throw CheckpointError.torch(.storageElementCount(storage: key)) }
        // UntypedStorage counts bytes, which with dtype u8 is the same thing.
        var ref = StorageRef(key: key, dtype: dtype, declaredCount: numel)
        // Legacy files may add view_metadata (view_key, offset, view_size): a view into the root storage.
        if items.count >= 6, let view = graph.sequence(items[5]), view.count == 3, case .int(let offset) = view[1] {
            guard offset >= 0, offset <= numel else { throw CheckpointError.torch(.storageViewOffset(storage: key, offset: offset)) }
            ref.elementOffset = offset
        }
        return .storage(ref)
    }
}
