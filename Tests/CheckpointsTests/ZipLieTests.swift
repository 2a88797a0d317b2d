import Foundation
import Testing
@testable import Checkpoints

/// Hand-built zips whose central directory lies: each refused with a message saying what disagrees.
@Suite struct ZipLieTests {
    typealias L = ZipBuilder.Layout

    /// Two tensors in two storages of the same size: a lie that swaps them would go unnoticed by the tensor checks.
    static func twoTensors() -> ZipBuilder {
        let pickle = TorchPickle.stateDict([("a", "0", 2, 0, [2], [1]), ("b", "1", 2, 0, [2], [1])])
        return TorchPickle.zip(pickle, storages: [("0", [1, 2]), ("1", [3, 4])])
    }

    static func reason(_ layout: L) -> String? {
        do {
            _ = try Checkpoint.load(layout.data, format: .torchZip)
            return nil
        } catch let error as CheckpointError {
            return error.description
        } catch {
            return "\(error)"
        }
    }

    @Test func theHonestZipLoads() throws {
        let checkpoint = try Checkpoint.load(Self.twoTensors().build().data, format: .torchZip)
        #expect(try checkpoint.tensor(named: "a").floats() == [1, 2])
        #expect(try checkpoint.tensor(named: "b").floats() == [3, 4])
    }

    @Test func aDirectoryEntryPointingAtAnotherEntrysLocalHeaderIsRefused() {
        // Entry 2 (archive/data/1) is pointed at entry 1's (archive/data/0) local header: b would read a's bytes.
        var layout = Self.twoTensors().build()
        layout.patch32(layout.central[2] + L.centralLocalOffset, layout.local[1])
        let reason = Self.reason(layout)
        #expect(reason?.contains("entry 'archive/data/1'") == true, "\(String(describing: reason))")
        #expect(reason?.contains("local header says 'archive/data/0'") == true, "\(String(describing: reason))")
    }

    @Test func entriesOverlappingEachOtherOrTheDirectoryAreRefused() {
        // Entry 1 claims (in both headers) 8 more bytes: its data runs into entry 2's local header.
        var layout = Self.twoTensors().build()
        for (header, field) in [(layout.local[1], L.localCompressedSize), (layout.local[1], L.localSize),
                                (layout.central[1], L.centralCompressedSize), (layout.central[1], L.centralSize)] {
            layout.patch32(header + field, 16)
        }
        let reason = Self.reason(layout)
        #expect(reason?.contains("entry 'archive/data/1' overlaps entry 'archive/data/0'") == true, "\(String(describing: reason))")

        // The last entry claims data that runs into the central directory.
        var last = Self.twoTensors().build()
        for (header, field) in [(last.local[2], L.localCompressedSize), (last.local[2], L.localSize),
                                (last.central[2], L.centralCompressedSize), (last.central[2], L.centralSize)] {
            last.patch32(header + field, 16)
        }
        let lastReason = Self.reason(last)
        #expect(lastReason?.contains("overlaps the central directory") == true, "\(String(describing: lastReason))")
    }

    @Test func anEndRecordThatLiesAboutTheDirectoryIsRefused() {
        let honest = Self.twoTensors().build()
        var fewer = honest
        fewer.patch16(fewer.endRecord + L.endCount, 2)
        fewer.patch16(fewer.endRecord + L.endCountOnDisk, 2)
        #expect(Self.reason(fewer)?.contains("claims 2 entries but the central directory holds more") == true,
                "\(String(describing: Self.reason(fewer)))")

        var more = honest
        more.patch16(more.endRecord + L.endCount, 4)
        more.patch16(more.endRecord + L.endCountOnDisk, 4)
        #expect(Self.reason(more)?.contains("claims 4 entries but the central directory has room for at most 3") == true,
                "\(String(describing: Self.reason(more)))")

        var huge = honest
        huge.patch16(huge.endRecord + L.endCount, 0xFFFE)
        huge.patch16(huge.endRecord + L.endCountOnDisk, 0xFFFE)
        #expect(Self.reason(huge)?.contains("claims 65534 entries") == true, "\(String(describing: Self.reason(huge)))")

        var size = honest
        size.patch32(size.endRecord + L.endDirectorySize, honest.read32(honest.endRecord + L.endDirectorySize) + 10)
        #expect(Self.reason(size)?.contains("claims a 192-byte central directory but its entries take 182") == true,
                "\(String(describing: Self.reason(size)))")

        var offset = honest
        offset.patch32(offset.endRecord + L.endDirectoryOffset, honest.directoryOffset - 4)
        offset.patch32(offset.endRecord + L.endDirectorySize, honest.endRecord - honest.directoryOffset + 4)
        #expect(Self.reason(offset)?.contains("bad central directory entry signature at entry 0") == true,
                "\(String(describing: Self.reason(offset)))")

        var disks = honest
        disks.patch16(disks.endRecord + L.endCountOnDisk, 1)
        #expect(Self.reason(disks)?.contains("multi-disk") == true, "\(String(describing: Self.reason(disks)))")
    }

    @Test func directoryAndLocalHeadersThatDisagreeAreRefused() {
        let honest = Self.twoTensors().build()
        // A different name in the directory than in the local header (same length: "archive/data/1" -> "archive/data/9").
        var name = honest
        name.bytes[name.central[2] + L.centralName + 13] = UInt8(ascii: "9")
        #expect(Self.reason(name)?.contains("the central directory says the name 'archive/data/9', its local header says 'archive/data/1'") == true,
                "\(String(describing: Self.reason(name)))")

        var method = honest
        method.patch16(method.local[1] + L.localMethod, 8)
        #expect(Self.reason(method)?.contains("says method 0, its local header says 8") == true,
                "\(String(describing: Self.reason(method)))")

        var sizes = honest
        sizes.patch32(sizes.local[1] + L.localSize, 4)
        #expect(Self.reason(sizes)?.contains("says size 8, its local header says 4") == true,
                "\(String(describing: Self.reason(sizes)))")

        var nowhere = honest
        nowhere.patch32(nowhere.central[1] + L.centralLocalOffset, honest.local[1] + 3)
        #expect(Self.reason(nowhere)?.contains("no local header") == true, "\(String(describing: Self.reason(nowhere)))")
    }

    @Test func duplicateNamesAreRefused() {
        var builder = Self.twoTensors()
        builder.entries[2].name = "archive/data/0"
        #expect(Self.reason(builder.build())?.contains("two entries are named 'archive/data/0'") == true,
                "\(String(describing: Self.reason(builder.build())))")
    }
}
