import Foundation
import Testing
@testable import Checkpoints

/// safetensors headers and ONNX initializers that lie about their tensors: each refused naming the key.
@Suite struct HeaderLieTests {
    static let eight = [UInt8](repeating: 0, count: 8)

    static func reason(_ json: String, data: [UInt8] = eight) -> String {
        do {
            _ = try SafeTensors.read(SafeTensorsTests.file(json, data: data))
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test func duplicateKeysAreRefusedNamingTheKey() {
        let twice = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        #expect(Self.reason(twice).contains("names 'a' twice"), "\(Self.reason(twice))")
        // Escapes decode before comparing: "\u0061" is "a".
        let escaped = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"\u0061":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        #expect(Self.reason(escaped).contains("names 'a' twice"), "\(Self.reason(escaped))")
        let field = #"{"a":{"dtype":"F32","dtype":"I32","shape":[2],"data_offsets":[0,8]}}"#
        #expect(Self.reason(field).contains("names 'dtype' twice"), "\(Self.reason(field))")
        let meta = #"{"__metadata__":{"k":"1","k":"2"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        #expect(Self.reason(meta).contains("names 'k' twice"), "\(Self.reason(meta))")
    }

    @Test func offsetsThatOverlapRunBackwardsLeaveGapsOrPassTheFileAreRefused() {
        let cases: [(String, [String])] = [
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
             ["tensor 'a': data_offsets [0, 8] overlap the previous tensor 'b' (ending at 4)"]),
            (#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
             ["'a'", "[8, 4] end before they begin"]),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[0],"data_offsets":[6,6]}}"#,
             ["'b'", "gap of 2 bytes"]),
            (#"{"a":{"dtype":"F32","shape":[1048576],"data_offsets":[0,4194304]}}"#, ["'a'", "outside the 8-byte data buffer"]),
            (#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, ["'a'", "needs 12 bytes", "span 8"]),
            (#"{"a":{"dtype":"I64","shape":[2],"data_offsets":[0,8]}}"#, ["'a'", "needs 16 bytes", "span 8"]),
        ]
        for (json, fragments) in cases {
            let reason = Self.reason(json)
            for fragment in fragments { #expect(reason.contains(fragment), "\(json): \(reason)") }
        }
    }

    @Test func hugeDimensionsAreRefusedNamingTheKey() {
        let cases: [(String, String)] = [
            // The product overflows Int64.
            (#"{"big":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}}"#, "too many elements"),
            // The product fits but no tensor is that large.
            (#"{"big":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,8]}}"#, "too many elements"),
            // A dimension beyond Int64 itself.
            (#"{"big":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,8]}}"#, "shape is not a list of non-negative integers"),
            (#"{"big":{"dtype":"F32","shape":[2],"data_offsets":[0,99999999999999999999]}}"#, "data_offsets is not a pair"),
        ]
        for (json, fragment) in cases {
            let reason = Self.reason(json)
            #expect(reason.contains("'big'") && reason.contains(fragment), "\(json): \(reason)")
        }
    }

    @Test func theHeaderParserReadsWhatJSONAllows() throws {
        let json = #"{ "__metadata__" : { "n\u00e9" : "v\"\\\/\n\ud83d\ude00" } , "t\u00e9" : { "dtype" : "F32" , "shape" : [ 2 ] , "data_offsets" : [ 0 , 8 ] } }"#
        let checkpoint = try SafeTensors.read(SafeTensorsTests.file(json, data: Self.eight))
        #expect(checkpoint.metadata == ["né": "v\"\\/\n😀"])
        #expect(checkpoint.names == ["té"])
        for bad in [#"{"a":01}"#, #"{"a":1.}"#, #"{"a":"\x"}"#, #"{"a":"\ud800"}"#, "{\"a\":\"\u{01}\"}", #"{"a":1,}"#, #"{"a":1} x"#, #"{"a":tru}"#] {
            #expect(Self.reason(bad).contains("not valid JSON"), "\(bad): \(Self.reason(bad))")
        }
    }

    // MARK: ONNX

    static func varint(_ value: UInt64) -> [UInt8] {
        var v = value, out: [UInt8] = []
        repeat {
            out.append(UInt8(v & 0x7F) | (v >= 0x80 ? 0x80 : 0))
            v >>= 7
        } while v > 0
        return out
    }

    /// A model whose graph holds one f32 initializer `name` with `dims` and `raw` bytes.
    static func onnx(name: String, dims: [Int64], raw: [UInt8]) -> Data {
        var tensor: [UInt8] = []
        for d in dims { tensor += [0x08] + varint(UInt64(bitPattern: d)) }
        tensor += [0x10, 0x01, 0x42] + varint(UInt64(name.utf8.count)) + Array(name.utf8)
        tensor += [0x4A] + varint(UInt64(raw.count)) + raw
        let graph: [UInt8] = [0x2A] + varint(UInt64(tensor.count)) + tensor
        return Data([0x08, 0x07, 0x3A] + varint(UInt64(graph.count)) + graph)
    }

    @Test func onnxInitializersWithNegativeOrHugeDimsAreRefusedNamingThem() throws {
        let four = [UInt8](repeating: 0, count: 4)
        #expect(try Checkpoint.load(Self.onnx(name: "ok", dims: [1], raw: four), format: .onnx).tensor(named: "ok").floats() == [0])
        let cases: [([Int64], String)] = [
            ([-1], "negative dimension in dims [-1]"),
            ([2, -3], "negative dimension"),
            ([1 << 40], "a dimension above 2^31-1"),
            ([Int64(Int32.max), Int64(Int32.max), Int64(Int32.max)], "a product that overflows"),
            ([1_000_000], "more than the file's"),
            ([Int64(Int32.max), 8], "more than the file's"),
        ]
        for (dims, fragment) in cases {
            let error = checkpointError { _ = try Checkpoint.load(Self.onnx(name: "conv/w:0", dims: dims, raw: four), format: .onnx) }
            guard case .onnx("conv/w:0", _)? = error?.underlying else { Issue.record("\(dims): \(String(describing: error))"); continue }
            #expect(error?.description.contains("initializer 'conv/w:0'") == true && error?.description.contains(fragment) == true,
                    "\(dims): \(String(describing: error))")
        }
    }
}
