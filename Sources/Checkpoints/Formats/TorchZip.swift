import Foundation

/// PyTorch >= 1.6 checkpoints: a zip of `<name>/data.pkl`, `<name>/byteorder` and `<name>/data/<key>` storages.
enum TorchZip {
    static func read(_ data: Data) throws -> Checkpoint {
        let zip = try ZipArchive(data)
        guard let pickleEntry = zip.entries.first(where: { $0.name == "data.pkl" || $0.name.hasSuffix("/data.pkl") }) else {
            throw CheckpointError.torch(.noDataPickle(entries: zip.entries.prefix(5).map(\.name)))
        }
        let prefix = String(pickleEntry.name.dropLast("data.pkl".count))
        if let order = zip.entry(named: prefix + "byteorder") {
            let text = String(decoding: try zip.contents(of: order), as: UTF8.self)
            guard text == "little" else {
                throw CheckpointError.torch(.byteOrder(String(text.prefix(40))))
            }
        }
        let graph = try Unpickler.load(try zip.contents(of: pickleEntry), persistentLoad: TorchStorage.persistentLoad)
        let (tensors, metadata) = try PickleTensors.collect(graph) { storage in
            guard let entry = zip.entry(named: prefix + "data/" + storage.key) else {
                throw CheckpointError.torch(.storageMissingFromZip(storage: storage.key, entry: "\(prefix)data/\(storage.key)"))
            }
            return try zip.contents(of: entry)
        }
        return try Checkpoint(format: .torchZip, tensors: tensors, metadata: metadata)
    }
}
