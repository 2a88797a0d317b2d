import Foundation
import FuzzTargets

/// A message on stderr (FileHandle: the C `stderr` global is not concurrency-safe in the Swift 6 mode).
func writeError(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }

#if FUZZING
// libFuzzer build (Scripts/fuzz.sh: -sanitize=fuzzer,address -DFUZZING): libFuzzer owns main and calls this per input.
// One binary serves every target; FILTERVIS_FUZZ_TARGET picks which (so one instrumented build covers all).

private let target: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["FILTERVIS_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTargets.named(name) else {
        let names = FuzzTargets.all.map(\.name).joined(separator: ", ")
        writeError("filtervis-fuzz: set FILTERVIS_FUZZ_TARGET to one of: \(names) (got '\(name)')\n")
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    do {
        _ = try target.run(input)
    } catch {
        // A broken contract is a finding: abort so libFuzzer writes the input out as a crash.
        writeError("\n==filtervis-fuzz== \(error)\n")
        abort()
    }
    return 0
}

#else
/// The plain build: replays files through a target without the fuzzer, e.g. to check a crash input after a fix.
///     filtervis-fuzz TARGET FILE...        prints accepted/refused per file; exit 1 on a broken contract
///     filtervis-fuzz --list                the target names
///     filtervis-fuzz --generate TARGET RECIPE OUT   writes the file a recipe target (pickle-gen, ...) builds
@main
struct FuzzReplay {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--list" {
            FuzzTargets.all.forEach { print($0.name) }
            return
        }
        if arguments.first == "--generate", arguments.count == 4,
           let recipe = FileManager.default.contents(atPath: arguments[2]),
           let (data, format) = RecipeTargets.generate(arguments[1], [UInt8](recipe)) {
            guard FileManager.default.createFile(atPath: arguments[3], contents: Data(data)) else {
                writeError("\(arguments[3]): cannot write\n")
                exit(1)
            }
            print("\(arguments[3]): \(data.count) bytes of \(format.rawValue)")
            return
        }
        guard arguments.count >= 2, let target = FuzzTargets.named(arguments[0]) else {
            writeError("usage: filtervis-fuzz TARGET FILE... (targets: \(FuzzTargets.all.map(\.name).joined(separator: ", ")))\n")
            exit(2)
        }
        var failed = false
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                writeError("\(path): cannot read\n")
                exit(1)
            }
            do {
                switch try target.run([UInt8](data)) {
                case .accepted: print("\(path): accepted")
                case .refused(let message): print("\(path): refused: \(message)")
                }
            } catch {
                print("\(path): \(error)")
                failed = true
            }
        }
        exit(failed ? 1 : 0)
    }
}
#endif
