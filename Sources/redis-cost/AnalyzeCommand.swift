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

enum AnalyzeCommand: Subcommand {
    static let spec = CommandSpec(
        name: "analyze",
        summary: "Analyze an AOF, an RDB snapshot or a MONITOR capture: rank the calls by the elements they touch.",
        usage: ["analyze PATH [--format markdown|json] [-o FILE] [--top N] [--fail-on warning|critical] [--threshold RULE=N]",
                "analyze capture.txt [--baseline dump.rdb|appendonlydir|empty] [--format markdown|json] [-o FILE]",
                "analyze capture.txt --sample [-u URL | -h HOST -p PORT | -s SOCKET] [--sample-rate N]",
                "analyze node1.txt node2.txt node3.txt [--baseline n1.rdb --baseline n2.rdb --baseline n3.rdb | --baseline empty | --sample -h NODE -p PORT]"],
        discussion: """
            PATH is detected, not flagged: a Redis 7+ appendonlydir/ (or its manifest), a single
            .aof, with or without an RDB preamble. The base file of an appendonlydir/ is the
            snapshot a rewrite wrote: it sets the sizes, its commands are not counted as calls;
            the incr files are the workload. Every call is costed with the size its keys had
            just before it ran. A truncated tail is reported with its file and byte offset and
            the complete part is analyzed.

            An .rdb snapshot alone gives a profile of the data set. A MONITOR capture
            (redis-cli monitor > capture.txt) is detected from its first bytes: reads and writes,
            clients, scripts and transactions; keys that existed before the capture have unknown
            sizes unless --baseline names a snapshot or AOF taken when the capture started, or
            --sample reads them from the server (TYPE then STRLEN/LLEN/…/TS.INFO, O(1) commands,
            at most --sample-rate keys a second): today's sizes, taken as the capture's.

            A Redis Cluster: give one input per node (every primary's MONITOR capture, or every
            node's RDB or AOF), and --baseline once per capture in the same order (or once,
            'empty', for all) — or --sample with any one node: each key is read from the node that
            owns it (MOVED/ASK followed). The captures are merged by time into one analysis, each with its
            own clients, transactions and scripts; the report adds a cluster section: per node
            (calls, cost, estimated time, share, top commands), the hottest hash slots with their
            keys, the skew across nodes, and the multi-key calls a cluster refuses (CROSSSLOT).

            The report starts with what to fix first: the findings of the rules ('redis-cost
            rules' lists them), each with the calls that show it, then the tables. Costs are
            elements touched, with an estimated server time (see 'redis-cost calibrate').
            """,
        options: [
            OptionSpec(["--format"], value: "FORMAT", help: "markdown (default) or json."),
            OptionSpec(["-o", "--output"], value: "FILE", help: "Write the report to FILE instead of stdout."),
            OptionSpec(["--top"], value: "N", help: "How many of the costliest calls to keep (default 100)."),
            OptionSpec(["--baseline"], value: "PATH", help: "MONITOR: the data set when the capture started (an .rdb or an AOF), or 'empty' for a capture that began on an empty server; with one capture per cluster node, once per capture in the same order.", repeatable: true),
        ] + FindingsFlags.options + sampleOptions,
        positionals: 1...1024,
        examples: ["redis-cost analyze /var/lib/redis/appendonlydir",
                   "redis-cost analyze appendonly.aof --format json -o report.json --top 500",
                   "redis-cost analyze /var/lib/redis/dump.rdb",
                   "redis-cli monitor > capture.txt; redis-cost analyze capture.txt --baseline dump.rdb",
                   "redis-cost analyze capture.txt --sample -u redis://10.0.0.5:6379",
                   "redis-cost analyze node-7000.txt node-7001.txt node-7002.txt --baseline 7000.rdb --baseline 7001.rdb --baseline 7002.rdb",
                   "redis-cost analyze node-7000.txt node-7001.txt node-7002.txt --sample -p 7000",
                   "redis-cost analyze 7000/dump.rdb 7001/dump.rdb 7002/dump.rdb"])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let format = try arguments.choice("--format", of: ["markdown", "json"]) ?? "markdown"
        var options = Analyzer.Options()
        options.top = try arguments.integer("--top", in: 0...1_000_000) ?? 100
        options.timeModel = try FindingsFlags.timeModel(arguments)
        let sample = try sampleOption(arguments)
        let failOn = try FindingsFlags.failLevel(arguments)
        let engine = try FindingsFlags.engine(arguments, table: try loadTable())
        let result: AnalysisResult, files: [String]
        if arguments.positionals.count > 1 || arguments.strings("--baseline").count > 1 {
            (result, files) = try analyzeNodes(arguments.positionals, options: options, baselines: arguments.strings("--baseline"), sample: sample, findings: engine)
        } else {
            (result, _, files) = try analyze(arguments.positionals[0], options: options, baseline: arguments.string("--baseline"), sample: sample, findings: engine)
        }
        let report = FindingsFlags.reportOptions(arguments)
        try emit(format == "json" ? AnalysisReport.json(result, options: report) : AnalysisReport.markdown(result, options: report),
                 to: arguments.string("--output"), inputs: files + FindingsFlags.inputs(arguments))
        if let truncated = result.truncatedAt {
            CLI.printError("\(truncated.file): truncated at byte \(truncated.offset) (an incomplete command); the complete part was analyzed")
        }
        return FindingsFlags.exitCode(result.findings, failOn: failOn, otherwise: ExitCode.success)
    }

    /// `--sample` with the server to read sizes from, and its rate; shared by `analyze` and `state`.
    static let sampleOptions = [
        OptionSpec(["--sample"], help: "MONITOR: read the sizes of keys from before the capture from the server named by the connection options."),
        OptionSpec(["--sample-rate"], value: "N", help: "With --sample: at most N keys a second (default 1000)."),
    ] + ConnectionFlags.options

    static func sampleOption(_ arguments: ParsedArguments) throws -> (ConnectionOptions, Double)? {
        guard arguments.has("--sample") else {
            if ConnectionFlags.given(arguments) || arguments.string("--sample-rate") != nil {
                throw UsageError(command: arguments.command, message: "connection options are for --sample")
            }
            return nil
        }
        guard arguments.string("--baseline") == nil else {
            throw UsageError(command: arguments.command, message: "--sample and --baseline both give the sizes from before the capture: choose one")
        }
        return (try ConnectionFlags.connectionOptions(arguments), Double(try arguments.integer("--sample-rate", in: 1...1_000_000) ?? 1000))
    }

    /// Shared by `analyze` and `state`; `files` are every file read, for `emit` to spare.
    static func analyze(_ path: String, options: Analyzer.Options = .init(), baseline: String? = nil,
                        sample: (ConnectionOptions, Double)? = nil, findings: FindingsEngine? = nil)
        throws -> (result: AnalysisResult, analyzer: Analyzer, files: [String]) {
        let table = try loadTable()
        let input: Input
        let base: Analyzer.Baseline
        do {
            input = try Input.open(path)
            if !input.isMonitorCapture {
                if baseline != nil { throw UsageError(command: "analyze", message: "--baseline is for MONITOR captures") }
                if sample != nil { throw UsageError(command: "analyze", message: "--sample is for MONITOR captures") }
            }
            base = try Analyzer.Baseline.open(baseline)
        } catch let error as InputError {
            throw CLIError(description: error.description)
        }
        let analyzer = Analyzer(table: table, options: options)
        analyzer.findingsEngine = findings
        let sampler = try attachSampler(sample, to: analyzer)
        defer { sampler?.reportStop() }
        let progress = input.isMonitorCapture ? nil : Progress.onTerminal(label: "replaying")
        defer { progress?.finish() }
        do {
            var result = try analyzer.run(input, baseline: base, progress: progress?.update)
            sampler?.label(&result, model: options.timeModel)
            CLI.keepUntilExit(analyzer)
            return (result, analyzer, input.files + base.files)
        } catch {
            throw CLIError(description: error.description)
        }
    }

    /// `--sample`: a sampler on the named server gives the analyzer the sizes of keys from
    /// before the capture (following MOVED/ASK to a key's cluster node), nil without it.
    static func attachSampler(_ sample: (ConnectionOptions, Double)?, to analyzer: Analyzer) throws -> SizeSampling? {
        guard let (server, rate) = sample else { return nil }
        do {
            let sampler = try LiveSampler(server, table: analyzer.table, samplesPerSecond: rate, cacheSeconds: .infinity, watchedByMonitor: false)
            analyzer.sizeSource = sampler.sizeSource(for: analyzer)
            return SizeSampling(sampler: sampler, server: server.serverName)
        } catch {
            throw CLIError(description: error.description)
        }
    }

    struct SizeSampling {
        let sampler: LiveSampler
        let server: String

        /// Says in the report where sizes came from, and when --constants were fitted on
        /// another server family or release than the sampled one.
        func label(_ result: inout AnalysisResult, model: TimeModel) {
            result.sampledFrom = server
            if let version = try? sampler.connection.serverID(), let note = model.mismatch(server: version) {
                result.timeModelSource += "; \(note)"
            }
        }

        func reportStop() {
            if let reason = sampler.disabledReason { CLI.printError("size sampling stopped: \(reason); later keys from before the capture have unknown sizes") }
        }
    }
}

enum StateCommand: Subcommand {
    static let spec = CommandSpec(
        name: "state",
        summary: "Print the data set an AOF, snapshot or capture replays to: type and size of every key, as JSON.",
        usage: ["state PATH [--baseline PATH | --sample -u URL] [--format json] [-o FILE] [--redact-keys]"],
        discussion: """
            The shape is {"<db>": {"<key bytes as lowercase hex>": {"type", "size", "key",
            "has_ttl"}}}; size is what STRLEN / LLEN / SCARD / ZCARD / HLEN / XLEN would say,
            null when unknown; "approximate": true marks a key the model could not follow exactly.
            With --redact-keys, "key" is the redacted name and keys are named by the 64-bit hash
            of their name in hex (whose first 8 digits end the redacted name).
            """,
        options: [
            OptionSpec(["--format"], value: "FORMAT", help: "json (the only format)."),
            OptionSpec(["--baseline"], value: "PATH", help: "MONITOR: the data set when the capture started."),
            OptionSpec(["-o", "--output"], value: "FILE", help: "Write to FILE instead of stdout."),
            FindingsFlags.redactKeys,
        ] + AnalyzeCommand.sampleOptions,
        positionals: 1...1,
        examples: ["redis-cost state appendonlydir > state.json"])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        _ = try arguments.choice("--format", of: ["json"])
        var options = Analyzer.Options()
        options.top = 0
        let (result, analyzer, files) = try AnalyzeCommand.analyze(arguments.positionals[0], options: options, baseline: arguments.string("--baseline"),
                                                                   sample: try AnalyzeCommand.sampleOption(arguments))
        try emit(StateReport.json(analyzer.replayer.keyspace, options: FindingsFlags.reportOptions(arguments)), to: arguments.string("--output"),
                 inputs: files)
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
