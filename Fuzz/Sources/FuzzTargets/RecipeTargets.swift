import Checkpoints
import Foundation

/// Structure-aware targets: the fuzz bytes are a recipe for a well-formed file that lies in its values, so the
/// mutations reach the tensor, view and offset checks that byte flips of a real file rarely get past.
public enum RecipeTargets {
    static let all: [FuzzTarget] = [
        // A state dict of tensors, arrays and shared containers, as a numpy pickle, a legacy .pth or a (honest) zip.
        FuzzTarget(name: "pickle-gen", errorModules: ["Checkpoints"]) { input, violation in
            let (data, format) = generate("pickle-gen", input)!
            try CheckpointTargets.check(try Checkpoint.load(Data(data), format: format), inputBytes: data.count, violation)
        },
        // A torch zip whose directory is valid and whose entries lie.
        FuzzTarget(name: "zip-gen", errorModules: ["Checkpoints"]) { input, violation in
            let (data, format) = generate("zip-gen", input)!
            try CheckpointTargets.check(try Checkpoint.load(Data(data), format: format), inputBytes: data.count, violation)
        },
        FuzzTarget(name: "safetensors-gen", errorModules: ["Checkpoints"]) { input, violation in
            try CheckpointTargets.checkSafeTensors(Data(generate("safetensors-gen", input)!.data), violation)
        },
    ]

    /// The file a recipe target builds from `recipe` and the format it is read as (nil: not a recipe target);
    /// `filtervis-fuzz --generate` writes it out, to look at a finding or keep it as a plain regression file.
    public static func generate(_ target: String, _ recipe: [UInt8]) -> (data: [UInt8], format: CheckpointFormat)? {
        var r = Recipe(recipe)
        switch target {
        case "pickle-gen":
            switch r.choose(3) {
            case 0: return (StateDictRecipe(&r, torch: false).pickle.bytes, .numpyPickle)
            case 1: return (LegacyRecipe.write(StateDictRecipe(&r, torch: true, legacyViews: true), &r), .torchLegacy)
            default: return (torchZip(StateDictRecipe(&r, torch: true), &r, lies: false), .torchZip)
            }
        case "zip-gen": return (torchZip(StateDictRecipe(&r, torch: true), &r, lies: true), .torchZip)
        case "safetensors-gen": return (SafeTensorsRecipe.write(&r), .safetensors)
        default: return nil
        }
    }

    /// `archive/data.pkl`, `archive/byteorder` and one `archive/data/<key>` per storage.
    static func torchZip(_ dict: StateDictRecipe, _ r: inout Recipe, lies: Bool) -> [UInt8] {
        var entries = [ZipRecipe.Entry(name: "archive/data.pkl", data: dict.pickle.bytes),
                       ZipRecipe.Entry(name: "archive/byteorder", data: Array((lies && r.choose(8) == 0 ? "big" : "little").utf8))]
        entries += dict.storages.map { ZipRecipe.Entry(name: "archive/data/\($0.key)", data: $0.bytes) }
        entries.append(ZipRecipe.Entry(name: "archive/version", data: Array("3\n".utf8)))
        if lies, r.choose(4) == 0 {
            var random = RecipeRandom(seed: UInt64(r.byte()))
            entries.shuffle(using: &random)
        }
        return ZipRecipe.write(entries, &r, lies: lies)
    }
}

/// A deterministic generator for shuffles (the same recipe always builds the same file).
struct RecipeRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
