import Foundation
import PackagePlugin

/// Embeds `Data/commands.json` (the command table, the single source of truth) into the
/// RedisCost module as a string constant, so the binary never looks for files at run time.
@main
struct EmbedCommandTable: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let input = context.package.directoryURL.appending(path: "Data/commands.json")
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedCommandTable.swift")
        return [
            .buildCommand(
                displayName: "Embedding Data/commands.json",
                executable: try context.tool(named: "EmbedData").url,
                arguments: [input.path, output.path, "embeddedCommandTableJSON"],
                inputFiles: [input],
                outputFiles: [output]
            )
        ]
    }
}
