import Foundation
import Experiments

/// Experiment configs: the JSON5 parser, then the config reader on the same text (as `filtervis run` reads a file).
enum ConfigTarget {
    static let target = FuzzTarget(name: "config", errorModules: ["Experiments", "Visualization", "Models"]) { input, violation in
        let text = String(decoding: input, as: UTF8.self)
        let lines = text.reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
        func checkLine(_ error: Error) -> Error {
            if let e = error as? ExperimentError, let line = e.line, !(1...lines).contains(line) {
                return violation("error names line \(line) of a \(lines)-line file: \(e)")
            }
            return error
        }
        do { _ = try JSON5Parser.parse(text, file: "fuzz.json5") } catch { throw checkLine(error) }
        let config: ExperimentConfig
        do { config = try ExperimentConfig.parse(text, file: "fuzz.json5", defaultName: "fuzz") } catch { throw checkLine(error) }
        guard !config.layers.isEmpty, config.batch >= 1, !config.seeds.isEmpty, Set(config.seeds).count == config.seeds.count,
              config.outputs == Array(Set(config.outputs)).sorted(), !config.name.isEmpty, !config.name.contains("/") else {
            throw violation("accepted a config that breaks its own rules: \(config)")
        }
    }
}
