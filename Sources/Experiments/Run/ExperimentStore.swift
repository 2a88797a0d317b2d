import Checkpoints
import FileOutput
import Foundation
import ImageIO
import Visualization

/// The output folder of an experiment: atomic file writes, and each unit's done-record and timing.
///
/// A unit is done when `units/<id>.json` exists, carries the unit's current fingerprint, and every file it lists
/// is present with its recorded sha256. The record is written last, so an interrupted unit is recomputed.
/// Timings live in `units/<id>.timing.json`, outside every hashed record.
public struct ExperimentStore {
    public let root: URL
    /// Every file goes through the one result writer, in place (units resume file by file).
    public let writer: ResultWriter

    public init(root: URL) {
        self.root = root
        self.writer = ResultWriter(root: root)
    }

    public func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    @discardableResult
    public func write(_ bytes: [UInt8], to relative: String) throws -> String { try writer.write(bytes, to: relative) }

    @discardableResult
    public func write(_ image: Image, to relative: String) throws -> String { try writer.write(image, to: relative) }

    /// The toolkit's JSON convention (`OutputJSON`): stable bytes for the same value.
    public static func json<T: OutputDocument>(_ value: T) throws -> [UInt8] { try OutputJSON.encode(value) }

    @discardableResult
    public func writeJSON<T: OutputDocument>(_ value: T, to relative: String) throws -> String {
        try writer.write(document: value, to: relative)
    }

    public func readJSON<T: OutputDocument>(_ type: T.Type, from relative: String) throws -> T {
        try writer.read(type, from: relative)
    }

    // MARK: Done-records

    static func recordPath(_ unit: WorkUnit) -> String { "units/\(unit.id).json" }
    static func timingPath(_ unit: WorkUnit) -> String { "units/\(unit.id).timing.json" }

    /// The unit's record when the unit is complete and current, else nil.
    public func finishedRecord(_ unit: WorkUnit, fingerprint: String) -> UnitRecord? {
        guard let data = FileManager.default.contents(atPath: url(Self.recordPath(unit)).path),
              let record = try? OutputJSON.decode(UnitRecord.self, from: data, file: Self.recordPath(unit)),
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
public struct UnitRecord: OutputDocument, Equatable {
    public static let schema = "filtervis.experiment.unit/2"
    public var unit: WorkUnit
    /// sha256 of everything the unit's result depends on (tool version, weights, settings, the unit itself).
    public var fingerprint: String
    /// Output-relative path -> sha256.
    public var files: [String: String]
    /// Filter units: one entry per filter.
    public var filters: [FilterRecord]?
}

/// How long a unit took, and how much of it the network's forward/backward passes took.
public struct UnitTiming: OutputDocument, Equatable {
    public static let schema = "filtervis.experiment.unit-timing/2"
    public var seconds: Double
    public var networkSeconds: Double
}
