@testable import Experiments
import FileOutput
import Foundation
import Testing
import Visualization

/// docs/output-formats.md documents every JSON file the toolkit writes, each with an example after a
/// `<!-- schema: KIND/VERSION -->` marker. Each example must decode with the real type, and encoding that value
/// again must give exactly the documented keys, so the page cannot drift from the types.
@Suite struct OutputFormatsDocsTests {
    static let page = ExperimentDocsTests.repository.appendingPathComponent("docs/output-formats.md")

    /// Every schema the toolkit writes, with a check that decodes an example and re-encodes it.
    static var documents: [String: (Data) throws -> [UInt8]] {
        [
            VisualizationOutput.Manifest.schema: roundTrip(VisualizationOutput.Manifest.self),
            PatchesOutput.Index.schema: roundTrip(PatchesOutput.Index.self),
            ExperimentConfig.schema: roundTrip(ExperimentConfig.self),
            ExperimentManifest.schema: roundTrip(ExperimentManifest.self),
            UnitRecord.schema: roundTrip(UnitRecord.self),
            UnitTiming.schema: roundTrip(UnitTiming.self),
            PatchSearchResult.schema: roundTrip(PatchSearchResult.self),
            LayerPatches.schema: roundTrip(LayerPatches.self),
            AssemblyLock.Owner.schema: roundTrip(AssemblyLock.Owner.self),
        ]
    }

    static func roundTrip<T: OutputDocument>(_ type: T.Type) -> (Data) throws -> [UInt8] {
        { data in try OutputJSON.encode(try OutputJSON.decode(type, from: data, file: "docs/output-formats.md")) }
    }

    /// (schema, example) for every marked block of a Markdown text.
    static func examples(_ markdown: String) -> [(schema: String, json: String)] {
        ExperimentDocsTests.markedBlocks(markdown, marker: "schema").map { ($0.path, $0.block) }
    }

    /// Every key path of a JSON value ("filters[].curve"), dictionary keys of data included.
    static func keyPaths(_ json: Any, _ prefix: String = "") -> Set<String> {
        switch json {
        case let object as [String: Any]:
            return object.reduce(into: Set<String>()) { paths, entry in
                let path = prefix.isEmpty ? entry.key : "\(prefix).\(entry.key)"
                paths.insert(path)
                paths.formUnion(keyPaths(entry.value, path))
            }
        case let array as [Any]:
            return array.reduce(into: Set<String>()) { $0.formUnion(keyPaths($1, prefix + "[]")) }
        default:
            return []
        }
    }

    static func keys(_ data: Data) throws -> Set<String> { keyPaths(try JSONSerialization.jsonObject(with: data)) }

    @Test func everyWrittenSchemaIsDocumentedOnceAndItsExampleMatchesTheType() throws {
        let examples = Self.examples(try String(contentsOf: Self.page, encoding: .utf8))
        #expect(examples.map(\.schema).sorted() == Self.documents.keys.sorted(), "document every schema once")
        for (schema, json) in examples {
            let data = Data(json.utf8)
            guard let check = Self.documents[schema] else { continue }
            let written = try check(data)
            let documented = try Self.keys(data), encoded = try Self.keys(Data(written))
            #expect(documented == encoded, "\(schema): keys only documented \(documented.subtracting(encoded).sorted()), only written \(encoded.subtracting(documented).sorted())")
        }
    }

    @Test func examplesAreFoundAndAWrongKeyIsSeen() throws {
        let text = "x\n<!-- schema: filtervis.experiment.unit-timing/2 -->\n```json\n{\"schema\": \"filtervis.experiment.unit-timing/2\", \"seconds\": 1, \"network_seconds\": 0.5}\n```\n"
        let found = Self.examples(text)
        #expect(found.map(\.schema) == [UnitTiming.schema])
        let written = try Self.documents[UnitTiming.schema]!(Data(found[0].json.utf8))
        #expect(try Self.keys(Data(written)) == ["schema", "seconds", "network_seconds"])
        // A camelCase key in a document is not the convention: the type does not read it as network_seconds.
        let camel = Data(#"{"schema": "filtervis.experiment.unit-timing/2", "seconds": 1, "networkSeconds": 0.5, "extra": 1}"#.utf8)
        #expect(try Self.keys(Data(try Self.documents[UnitTiming.schema]!(camel))) != (try Self.keys(camel)))
        // Another kind's file is refused by name.
        #expect(throws: OutputJSONError.wrongSchema(file: "docs/output-formats.md", expected: UnitTiming.schema, found: UnitRecord.schema)) {
            _ = try Self.documents[UnitTiming.schema]!(Data(#"{"schema": "filtervis.experiment.unit/2"}"#.utf8))
        }
    }

    @Test func theConventionIsSnakeCaseSortedWithNonFiniteFloatsAsStrings() throws {
        let timing = UnitTiming(seconds: .infinity, networkSeconds: -.infinity)
        let text = String(decoding: try OutputJSON.encode(timing), as: UTF8.self)
        #expect(text == "{\n  \"network_seconds\" : \"-inf\",\n  \"schema\" : \"filtervis.experiment.unit-timing/2\",\n  \"seconds\" : \"inf\"\n}\n")
        #expect(try OutputJSON.decode(UnitTiming.self, from: Data(text.utf8), file: "t") == timing)
        // Dictionary keys are data: layer names and paths keep their underscores and case.
        let record = UnitRecord(unit: .featuremaps(layer: "conv3_1"), fingerprint: "f", files: ["conv3_1/filter_0001.png": "a", "B": "b"], filters: nil)
        let decoded = try OutputJSON.decode(UnitRecord.self, from: Data(try OutputJSON.encode(record)), file: "r")
        #expect(decoded == record)
    }
}
