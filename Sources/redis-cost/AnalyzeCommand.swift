import ArgumentParsing
import Foundation
import RedisCost

enum AnalyzeCommand: Subcommand {
    static let spec = CommandSpec(
        name: "analyze",
        summary: "Analyze an AOF: replay the data set and rank the calls by the elements they touch.",
        usage: ["analyze PATH [--format markdown|json] [-o FILE] [--top N]"],
        discussion: """
            PATH is detected, not flagged: a Redis 7+ appendonlydir/ (or its manifest), a single
            .aof, with or without an RDB preamble. The base file of an appendonlydir/ is the
            snapshot a rewrite wrote: it sets the sizes, its commands are not counted as calls;
            the incr files are the workload. Every call is costed with the size its keys had
            just before it ran. A truncated tail is reported with its file and byte offset and
            the complete part is analyzed.

            This version cannot read RDB files yet: with an RDB base (Redis 7's default) the
            workload is analyzed and keys from the base have unknown sizes, never zero.
            """,
        options: [
            OptionSpec(["--format"], value: "FORMAT", help: "markdown (default) or json."),
            OptionSpec(["-o", "--output"], value: "FILE", help: "Write the report to FILE instead of stdout."),
            OptionSpec(["--top"], value: "N", help: "How many of the costliest calls to keep (default 100)."),
        ],
        positionals: 1...1,
        examples: ["redis-cost analyze /var/lib/redis/appendonlydir",
                   "redis-cost analyze appendonly.aof --format json -o report.json --top 500"])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let format = try arguments.choice("--format", of: ["markdown", "json"]) ?? "markdown"
        var options = AOFAnalyzer.Options()
        options.top = try arguments.integer("--top", in: 0...1_000_000) ?? 100
        let (result, _) = try analyze(arguments.positionals[0], options: options)
        try emit(format == "json" ? AnalysisReport.json(result) : AnalysisReport.markdown(result),
                 to: arguments.string("--output"))
        if let truncated = result.truncatedAt {
            CLI.printError("\(truncated.file): truncated at byte \(truncated.offset) (an incomplete command); the complete part was analyzed")
        }
        return ExitCode.success
    }

    /// Shared by `analyze` and `state`.
    static func analyze(_ path: String, options: AOFAnalyzer.Options = .init()) throws -> (AnalysisResult, AOFAnalyzer) {
        let table = try loadTable()
        let input: AOFInput
        do {
            input = try AOFInput(path: path)
        } catch {
            throw CLIError(description: error.description)
        }
        let analyzer = AOFAnalyzer(table: table, options: options)
        let progress = Progress.onTerminal(label: "replaying")
        do {
            let result = try analyzer.run(input, progress: progress?.update)
            progress?.finish()
            return (result, analyzer)
        } catch {
            progress?.finish()
            throw CLIError(description: error.description)
        }
    }
}

enum StateCommand: Subcommand {
    static let spec = CommandSpec(
        name: "state",
        summary: "Print the data set an AOF replays to: type and size of every key, as JSON.",
        usage: ["state PATH [--format json] [-o FILE]"],
        discussion: """
            The shape is {"<db>": {"<key bytes as lowercase hex>": {"type", "size", "key",
            "has_ttl"}}}; size is what STRLEN / LLEN / SCARD / ZCARD / HLEN / XLEN would say,
            null when unknown; "approximate": true marks a key the model could not follow exactly.
            """,
        options: [
            OptionSpec(["--format"], value: "FORMAT", help: "json (the only format)."),
            OptionSpec(["-o", "--output"], value: "FILE", help: "Write to FILE instead of stdout."),
        ],
        positionals: 1...1,
        examples: ["redis-cost state appendonlydir > state.json"])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        _ = try arguments.choice("--format", of: ["json"])
        var options = AOFAnalyzer.Options()
        options.top = 0
        let (result, analyzer) = try AnalyzeCommand.analyze(arguments.positionals[0], options: options)
        try emit(StateReport.json(analyzer.replayer.keyspace), to: arguments.string("--output"))
        if let truncated = result.truncatedAt {
            CLI.printError("\(truncated.file): truncated at byte \(truncated.offset) (an incomplete command); the complete part was replayed")
        }
        return ExitCode.success
    }
}

/// A one-line progress indicator on stderr, only when stderr is a terminal.
final class Progress {
    let label: String
    let started = Date()

    private init(label: String) { self.label = label }

    static func onTerminal(label: String) -> Progress? {
        isatty(2) == 1 ? Progress(label: label) : nil
    }

    func update(_ done: Int, _ total: Int) {
        let seconds = max(Date().timeIntervalSince(started), 0.001)
        let percent = total > 0 ? Double(done) * 100 / Double(total) : 0
        let line = String(format: "\r%@ %5.1f%%  %.0f MB/s", label, percent, Double(done) / seconds / 1_000_000)
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
}
