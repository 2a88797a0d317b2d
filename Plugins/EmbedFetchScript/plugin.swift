import Foundation
import PackagePlugin

/// Embeds Scripts/fetch-weights.sh into the filtervis binary at build time, so that a copied or installed binary can
/// fetch its weights without the checkout, and the script has one source: the file in Scripts/.
@main
struct EmbedFetchScript: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let script = context.package.directoryURL.appending(path: "Scripts/fetch-weights.sh")
        let embedder = context.package.directoryURL.appending(path: "Scripts/embed-fetch-script.sh")
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedFetchScript.swift")
        return [.buildCommand(displayName: "Embedding Scripts/fetch-weights.sh", executable: URL(filePath: "/bin/bash"),
                              arguments: [embedder.path(), script.path(), output.path()],
                              inputFiles: [script, embedder], outputFiles: [output])]
    }
}
