import Checkpoints
import FileOutput
import Foundation
import ImageIO

/// The output folder of an experiment: atomic file writes, and each unit's done-record and timing.
///
/// A unit is done when `units/<id>.json` exists, carries the unit's current fingerprint, and every file it lists
/// is present with its recorded sha256. The record is written last, so an interrupted unit is recomputed.
/// Timings live in `units/<id>.timing.json`, outside every hashed record.
public struct ExperimentStore {
    public let root: URL

    public init(root: URL) { self.root = root }

    public func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    /// Writes bytes atomically (creating folders), returning their sha256. A file that already holds exactly these
    /// bytes is left alone, so shards that all write the same file (config.json) do not race on it.
    @discardableResult
    public func write(_ bytes: [UInt8], to relative: String) throws -> String {
        let target = url(relative)
        if let existing = FileManager.default.contents(atPath: target.path), existing.elementsEqual(bytes) {
            return SHA256.hex(of: existing)
        }
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.write(bytes, to: target)
        return SHA256.hex(of: Data(bytes))
    }

    /// Encodes PNG and writes it atomically, returning the file's sha256.
    @discardableResult
    public func write(_ image: Image, to relative: String) throws -> String {
        try write(image.pngData(), to: relative)
    }

    /// Pretty, key-sorted JSON (stable bytes for the same value).
    public static func json<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value)) + [10]
    }

    @discardableResult
    public func writeJSON<T: Encodable>(_ value: T, to relative: String) throws -> String {
        try write(Self.json(value), to: relative)
    }

    public func readJSON<T: Decodable>(_ type: T.Type, from relative: String) throws -> T {
        let file = url(relative)
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw ExperimentError(file: file.path, reason: "missing; rerun the experiment to recreate it")
        }
        do { return try JSONDecoder().decode(type, from: data) } catch {
            throw ExperimentError(file: file.path, reason: "unreadable (\(error)); delete it and rerun the experiment")
        }
    }

    // MARK: Done-records

    static func recordPath(_ unit: WorkUnit) -> String { "units/\(unit.id).json" }
    static func timingPath(_ unit: WorkUnit) -> String { "units/\(unit.id).timing.json" }

    /// The unit's record when the unit is complete and current, else nil.
    public func finishedRecord(_ unit: WorkUnit, fingerprint: String) -> UnitRecord? {
        guard let data = FileManager.default.contents(atPath: url(Self.recordPath(unit)).path),
              let record = try? JSONDecoder().decode(UnitRecord.self, from: data),
              record.unit == unit, record.fingerprint == fingerprint else { return nil }
        for (path, sha) in record.files {
            guard let bytes = FileManager.default.contents(atPath: url(path).path), SHA256.hex(of: bytes) == sha else { return nil }
        }
        return record
    }

    public func saveRecord(_ record: UnitRecord, timing: UnitTiming) throws {
        try writeJSON(timing, to: Self.timingPath(record.unit))
        try writeJSON(record, to: Self.recordPath(record.unit))
    }

    public func timing(_ unit: WorkUnit) -> UnitTiming? {
        try? readJSON(UnitTiming.self, from: Self.timingPath(unit))
    }
}

/// What a finished unit produced: its files with their sha256, and its numbers.
public struct UnitRecord: Codable, Equatable {
    public var unit: WorkUnit
    /// sha256 of everything the unit's result depends on (tool version, weights, settings, the unit itself).
    public var fingerprint: String
    /// Output-relative path -> sha256.
    public var files: [String: String]
    /// Filter units: one entry per filter.
    public var filters: [FilterRecord]?
}

/// One filter's numbers from its preference image.
public struct FilterRecord: Codable, Equatable {
    public var filter: Int
    public var image: String
    /// The engine's score: spatial mean of the score tensor on the optimised image at the optimisation size.
    public var score: Float
    /// The maximum over positions of the score tensor on the saved 8-bit image (comparable to patch activations).
    public var peak: Float
    public var dead: Bool
    public var curve: [Float]
}

/// How long a unit took, and how much of it the network's forward/backward passes took.
public struct UnitTiming: Codable, Equatable {
    public var seconds: Double
    public var networkSeconds: Double
}
