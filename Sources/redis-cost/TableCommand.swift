import ArgumentParsing
import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis
import RedisCostLive
import RedisCostReport

enum TableCommand: Subcommand {
    static let spec = CommandSpec(
        name: "table",
        summary: "Show the command table: documented complexity, flags and cost formula of every command.",
        usage: ["table [COMMAND…] [--group GROUP] [--format markdown|json] [-o FILE]",
                "table --missing-formulas"],
        discussion: """
            The table is built into this binary from Data/commands.json. Subcommands are named
            with a space: 'table \"CLIENT LIST\"' or 'table CLIENT' for all CLIENT subcommands.
            """,
        options: [
            OptionSpec(["--group"], value: "GROUP", help: "Only commands of this group (string, hash, set, sorted-set, …)."),
            OptionSpec(["--format"], value: "FORMAT", help: "markdown (default) or json."),
            OptionSpec(["-o", "--output"], value: "FILE", help: "Write to FILE instead of stdout."),
            OptionSpec(["--missing-formulas"], help: "List the entries that have no formula or an unknown one."),
        ],
        positionals: 0...10_000,
        examples: ["redis-cost table SINTER ZRANGE", "redis-cost table --group set --format json"])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let table = try loadTable()
        let format = try arguments.choice("--format", of: ["markdown", "json"]) ?? "markdown"
        if arguments.has("--missing-formulas") {
            var out = "Entries without a formula: \(table.entriesWithoutFormula.count)\n"
            for entry in table.entriesWithoutFormula { out += "  \(entry.name): \(entry.complexity ?? "(no complexity)")\n" }
            out += "Formulas that say the cost is unknown: \(table.unknownFormulas.count)\n"
            for (name, reason) in table.unknownFormulas { out += "  \(name): \(reason)\n" }
            try emit(out, to: arguments.string("--output"))
            return ExitCode.success
        }
        var entries = table.entries
        if let group = arguments.string("--group") {
            entries = entries.filter { $0.group == group }
            if entries.isEmpty {
                let groups = Set(table.entries.map(\.group)).sorted().joined(separator: ", ")
                throw UsageError(command: "table", message: "no group \"\(group)\"; groups: \(groups)")
            }
        }
        if !arguments.positionals.isEmpty {
            var selected: [CommandEntry] = []
            for name in arguments.positionals.map({ $0.uppercased() }) {
                let matches = entries.filter { $0.name == name || $0.container == name }
                if matches.isEmpty { throw CLIError(description: "unknown command \"\(name)\" (not in the command table)") }
                selected += matches
            }
            entries = selected
        }
        try emit(format == "json" ? TableReport.json(entries) : TableReport.markdown(entries),
                 to: arguments.string("--output"))
        return ExitCode.success
    }
}

enum TableRefreshCommand: Subcommand {
    static let spec = CommandSpec(
        name: "table refresh",
        summary: "Rebuild Data/commands.json from a live server's COMMAND DOCS and COMMAND INFO.",
        usage: ["table refresh [-u URL | -h HOST -p PORT | -s SOCKET] [--file Data/commands.json]",
                "table refresh --source-json DIR --source-name redis-source [--file …]"],
        discussion: """
            Adds the server's commands (module commands too) and records its complexity string
            for every command, keeping every hand-written formula and semantics. A new command
            documented as exactly O(1) gets the formula 1; every other new command is listed so a
            person can write its formula. With --source-json, the command JSON files of a source tree
            (src/commands/) fill in only commands that no server reported. Rebuild the binary
            afterwards: the table is embedded at build time.
            """,
        options: ConnectionFlags.options + [
            OptionSpec(["--file"], value: "PATH", help: "The table to update (default Data/commands.json in the current directory)."),
            OptionSpec(["--source-json"], value: "DIR", help: "Read a source tree's src/commands/*.json instead of a server."),
            OptionSpec(["--source-name"], value: "NAME", help: "Server id to record for --source-json (default redis-source)."),
            OptionSpec(["--server-name"], value: "NAME", help: "Server id to record for a live server instead of the one INFO gives (redis-8.2.3+stack for Redis 8.2.3 with the Stack modules)."),
            OptionSpec(["--only-new"], help: "Add only the commands the table lacks (a server with modules loaded: its module commands)."),
        ],
        examples: ["redis-cost table refresh -u redis://127.0.0.1:6379",
                   "redis-cost table refresh --source-json ~/src/valkey/src/commands --source-name valkey-source"])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let path = arguments.string("--file") ?? "Data/commands.json"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CLIError(description: "\(path): cannot read the table (run from the project folder or pass --file)")
        }
        let entries = try CommandTableJSON.decode(text, source: path)
        var docs: ServerCommandDocs
        let onlyNew: Bool
        if let directory = arguments.string("--source-json") {
            docs = try ServerCommandDocs(server: arguments.string("--source-name") ?? "redis-source", commandJSONDirectory: directory)
            onlyNew = true
        } else {
            let connection = try ConnectionFlags.connect(arguments)
            do {
                docs = try connection.commandDocs()
            } catch {
                throw CLIError(description: error.description)
            }
            if let name = arguments.string("--server-name") { docs.server = name }
            onlyNew = arguments.has("--only-new")
        }
        let (merged, summary) = TableRefresh.merge(docs, into: entries, onlyNewCommands: onlyNew)
        // Parse every formula before writing, so a broken table is never saved.
        _ = try CommandTable(entries: merged)
        // The table is updated, not reported: a new file renamed over it, so that a failed
        // write leaves the old table whole.
        do {
            try CommandTableJSON.encode(merged).write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw CLIError(description: "\(path): cannot write: \(error.localizedDescription)")
        }
        var report = "\(path): \(merged.count) entries; \(docs.server) reported \(docs.commands.count); added \(summary.added.count)"
        report += summary.changedComplexity.isEmpty ? "" : "; complexity changed for \(summary.changedComplexity.joined(separator: ", "))"
        report += "\n"
        let newWithout = summary.added.filter(summary.missingFormula.contains)
        if !newWithout.isEmpty {
            report += "New entries that need a formula (\(newWithout.count)): \(newWithout.joined(separator: ", "))\n"
        }
        if !summary.missingFormula.isEmpty {
            report += "\(summary.missingFormula.count) entries have no formula yet: 'redis-cost table --missing-formulas' lists them\n"
        }
        FileHandle.standardError.write(Data(report.utf8))
        return ExitCode.success
    }
}
