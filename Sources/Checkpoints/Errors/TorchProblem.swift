/// What is wrong with the PyTorch (zip or legacy) or pickled-array structure around the tensors.
public enum TorchProblem: Equatable, Sendable {
    case persistentIdNotStorageTuple
    case persistentIdNotStorageType(found: String)
    case storageKeyType(found: String)
    case storageElementCount(storage: String)
    case storageViewOffset(storage: String, offset: Int)
    case legacyBadMagic
    case legacyProtocol
    case bigEndian
    case storageKeysNotAList
    case storageKeyNotAString(found: String)
    case storageListedButUnused(String)
    case storageTruncated(storage: String, elements: UInt64, dtype: String, remaining: Int)
    case storageNotInKeyList(String)
    case storageWithoutStorages
    case noDataPickle(entries: [String])
    case byteOrder(String)
    case storageMissingFromZip(storage: String, entry: String)
    case noTensors
    case nestsTooDeep(name: String, limit: Int)
    case tooManyReferences(limit: Int)

    public var description: String {
        switch self {
        case .persistentIdNotStorageTuple: return "persistent id is not a ('storage', type, key, location, numel) tuple"
        case .persistentIdNotStorageType(let found): return "persistent id names a \(found) instead of a torch storage type"
        case .storageKeyType(let found): return "storage key is a \(found), not a string"
        case .storageElementCount(let key): return "storage '\(key)': bad element count"
        case let .storageViewOffset(key, offset): return "storage '\(key)': view offset \(offset) out of range"
        case .legacyBadMagic: return "legacy .pth: bad magic number"
        case .legacyProtocol: return "legacy .pth: unsupported protocol version (only 1001 exists)"
        case .bigEndian: return "the storages are big-endian; only little-endian PyTorch files are supported"
        case .storageKeysNotAList: return "legacy .pth: the storage-key pickle is not a list"
        case .storageKeyNotAString(let found): return "legacy .pth: a storage key is a \(found)"
        case .storageListedButUnused(let key): return "legacy .pth: storage '\(key)' is listed but never used"
        case let .storageTruncated(key, elements, dtype, remaining):
            return "truncated: storage '\(key)' claims \(elements) \(dtype) elements but only \(remaining) bytes remain"
        case .storageNotInKeyList(let key): return "legacy .pth: storage '\(key)' is not in the storage-key list"
        case .storageWithoutStorages: return "a storage is referenced but the file has no storages"
        case .noDataPickle(let entries):
            return "zip has no data.pkl: not a PyTorch checkpoint (entries: \(entries.joined(separator: ", ")))"
        case .byteOrder(let text): return "storages are \(text)-endian; only little-endian PyTorch files are supported"
        case let .storageMissingFromZip(key, entry): return "storage '\(key)' is missing from the zip (no entry \(entry))"
        case .noTensors: return "pickle holds no arrays or tensors"
        case let .nestsTooDeep(name, limit): return "'\(name)' nests deeper than \(limit) levels (or contains a cycle)"
        case .tooManyReferences(let limit):
            return "the pickle's containers refer to one another more than \(limit) times (shared sub-trees nested in "
                + "each other); a checkpoint is a tree of tensors"
        }
    }
}
