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

enum MonitorCommand: Subcommand {
    static let spec = CommandSpec(
        name: "monitor",
        summary: "Watch a live server with MONITOR and rank its calls, reads included; sizes sampled with O(1) commands.",
        usage: ["monitor [-u URL | -h HOST -p PORT | -s SOCKET] [--duration 30s | --count N] [--format markdown|json] [-o FILE]",
                "monitor --cluster -h HOST -p PORT [--duration 30s | --count N] [--format markdown|json] [-o FILE]"],
        discussion: """
            Runs MONITOR on one connection and analyses the stream as it arrives, with the same
            model and report as 'analyze capture.txt'. Keys that existed before the session have
            sizes only the server knows: a second connection, named redis-cost-sampler, reads
            them with TYPE then the O(1) command that counts the type (STRLEN, LLEN, HLEN, …,
            VCARD, BF.CARD, CF.INFO, TS.INFO, JSON.OBJLEN/ARRLEN; DBSIZE for whole-keyspace
            commands) - never an O(N) command - pipelined, each key at most once per
            --sample-ttl, at most --sample-rate keys a second. Its own commands are left out of
            the analysis.

            Ctrl-C or SIGTERM ends the session and writes the report of what was seen; calls the
            server ran before the stop are still read (for at most a second). A lost connection writes the
            report too, says so, and exits with 1; so does a stream that is not MONITOR output (a
            line that is not a +status line, or one longer than 64 MB). MONITOR costs the server: every call is copied
            to the monitor client's output buffer; the report shows the largest that buffer got
            (CLIENT LIST omem). Needs the +monitor ACL permission; without +client the sampler
            runs unnamed and the buffer is not watched.

            The server's own figures are set beside the estimate: INFO commandstats is read at
            the start, every --stats-interval and just before the end, and the report shows per
            command the calls and microseconds the server counted (less the tool's own calls,
            which it knows exactly) beside the calls and time estimated, with their ratio. At
            the end the slow log of the session is read (SLOWLOG GET 128, or COMMANDLOG GET 128
            slow on Valkey 8.1+) and the costliest calls are matched to its entries. Both reads
            are bounded: they never walk the data set.

            --cluster (-c, as redis-cli) watches every primary of a Redis Cluster: the node the
            connection flags name is asked for the primaries (CLUSTER SHARDS, or CLUSTER SLOTS
            before 7.0; addresses as the cluster announces them), and each gets its own MONITOR
            and sampler connection. The nodes' calls go into one report with a Cluster section:
            per node calls, cost, estimated time, top commands and the commands the tool sent it,
            its INFO commandstats calls and time beside the estimate of the same window, and the
            hottest hash slots (with CLUSTER SLOT-STATS cpu-usec on Valkey 8.0+ and Redis 8.2+
            with cluster-slot-stats-enabled yes). A node that goes away is reported there (when,
            after how many calls; its server figures unknown) and the others go on; the session
            ends normally. The topology is read again every 2 s and when a node goes away: a
            replica that took over, or a new primary, is watched from then on and named in the
            report. Every node's slow log is read as a single server's is, its entries named by
            node in one table; --count counts all nodes' calls.

            --fit-model FILE fits the time model to the workload being watched and saves it for
            'analyze --constants FILE' (and monitor --constants) later: every --stats-interval
            window gives, per command, the microseconds the server counted (less the tool's
            calls) against the features of the calls the stream showed (calls, elements, items,
            bytes). Each command seen is fitted over the session's windows: what varies across
            them by least squares, the rest from the --constants model (or the defaults), the
            per-call time taking what that leaves; a wrapper (EXEC, EVAL/EVALSHA, FCALL) is fitted
            on its own time once the calls it ran are priced. Commands not seen keep the base
            model's coefficients. The fit per command (windows, what was fitted, its error)
            goes to stderr; the file records it with the server's version and the machine. No
            command is sent beyond the INFO commandstats reads. A session without a usable
            window writes no model and exits 1. Not with --cluster. Run it for a few minutes of
            ordinary traffic with a short --stats-interval (windows of varied traffic fit best).
            """,
        options: ConnectionFlags.options + [
            OptionSpec(["-c", "--cluster"], help: "Watch every primary of the cluster the given node belongs to (one MONITOR and one sampler each)."),
            OptionSpec(["--duration"], value: "TIME", help: "Stop after this long: 30s, 5m, 1h (default: until Ctrl-C)."),
            OptionSpec(["--count"], value: "N", help: "Stop after N calls."),
            OptionSpec(["--format"], value: "FORMAT", help: "markdown (default) or json."),
            OptionSpec(["-o", "--output"], value: "FILE", help: "Write the report to FILE instead of stdout."),
            OptionSpec(["--top"], value: "N", help: "How many of the costliest calls to keep (default 100)."),
            OptionSpec(["--save-capture"], value: "FILE", help: "Also write the calls as redis-cli monitor prints them, for 'analyze' later."),
            OptionSpec(["--sample-rate"], value: "N", help: "At most N keys sampled a second (default 1000; 0 turns sampling off)."),
            OptionSpec(["--sample-ttl"], value: "TIME", help: "Sample a key again only after this long (default 10s)."),
            OptionSpec(["--stats-interval"], value: "TIME", help: "Read INFO commandstats this often as well as at the start and the end (default 5s; 0: start and end only)."),
            OptionSpec(["--fit-model"], value: "FILE", help: "Fit the time model to this workload (a window per --stats-interval) and save it for --constants."),
        ] + FindingsFlags.options,
        examples: ["redis-cost monitor -h 10.0.0.5 -p 6379 --duration 60s -o report.md",
                   "REDISCLI_AUTH=secret redis-cost monitor --user ops -u redis://db1:6379/0 --count 100000 --format json",
                   "redis-cost monitor -s /run/redis/redis.sock --duration 5m --save-capture capture.txt",
                   "redis-cost monitor -p 6379 --duration 10m --stats-interval 30s -o measured.md",
                   "redis-cost monitor --cluster -h 10.0.0.5 -p 7000 --duration 60s -o cluster.md",
                   "redis-cost monitor -p 6379 --duration 5m --stats-interval 2s --fit-model model.json -o fit.md   # then: redis-cost analyze capture.txt --constants model.json"])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let format = try arguments.choice("--format", of: ["markdown", "json"]) ?? "markdown"
        let connection = try ConnectionFlags.connectionOptions(arguments)
        var analyzerOptions = Analyzer.Options()
        analyzerOptions.top = try arguments.integer("--top", in: 0...1_000_000) ?? 100
        analyzerOptions.timeModel = try FindingsFlags.timeModel(arguments)
        var options = LiveMonitor.Options()
        options.duration = try arguments.seconds("--duration")
        options.count = try arguments.integer("--count", in: 1...Int.max)
        options.samplesPerSecond = Double(try arguments.integer("--sample-rate", in: 0...1_000_000) ?? 1000)
        options.cacheSeconds = try arguments.seconds("--sample-ttl") ?? 10
        if arguments.string("--stats-interval") == "0" {
            options.statsInterval = 0
        } else if let interval = try arguments.seconds("--stats-interval") {
            // INFO commandstats lists every command the server ran: not something to ask for many times a second.
            guard interval >= 1 else { throw UsageError(command: arguments.command, message: "--stats-interval takes 0 or a duration of at least 1s, not \"\(arguments.string("--stats-interval") ?? "")\"") }
            options.statsInterval = interval
        }

        let fitPath = arguments.string("--fit-model")
        if fitPath != nil {
            guard !arguments.has("--cluster") else { throw UsageError(command: arguments.command, message: "--fit-model reads one server's commandstats: not with --cluster") }
            guard options.statsInterval > 0 else { throw UsageError(command: arguments.command, message: "--fit-model needs windows: --stats-interval of at least 1s, not 0") }
            options.fitModel = true
        }
        let capturePath = arguments.string("--save-capture")
        var capture: UnsafeMutablePointer<FILE>?
        if let path = capturePath {
            guard let file = fopen(path, "w") else {
                throw CLIError(description: "\(path): cannot write: \(String(cString: strerror(errno)))")
            }
            capture = file
            options.captureSink = { line in
                fwrite(line.baseAddress, 1, line.count, file)
                fputc(10, file)
            }
        }
        defer { if let capture { fclose(capture) } }

        let stop = StopSignals()
        options.stopDescriptor = stop.descriptor
        let progress = isatty(2) == 1 ? { (p: LiveMonitor.Progress) in
            let buffer = p.monitorOutputBytes.map { ", monitor output buffer \($0) B" } ?? ""
            FileHandle.standardError.write(Data("\rmonitoring \(KeyText.printable(connection.serverName)): \(p.calls) calls in \(Int(p.seconds)) s\(buffer)   ".utf8))
        } : nil
        let failOn = try FindingsFlags.failLevel(arguments)
        let table = try loadTable()
        let analyzer = Analyzer(table: table, options: analyzerOptions)
        analyzer.findingsEngine = try FindingsFlags.engine(arguments, table: table)
        var result: AnalysisResult
        do {
            result = arguments.has("--cluster")
                ? try LiveMonitor.runCluster(connection, analyzer: analyzer, options: options, progress: progress)
                : try LiveMonitor.run(connection, analyzer: analyzer, options: options, progress: progress)
        } catch {
            throw CLIError(description: error.description)
        }
        // --constants fitted on another server family or release: the report says so.
        if let version = result.live?.serverVersion, let note = analyzerOptions.timeModel.mismatch(server: version) {
            result.timeModelSource += "; \(note)"
        }
        if progress != nil { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        // A capture that could not be written whole (a full disk) is said, after the report.
        var captureFailed = false
        if let file = capture, let path = capturePath {
            capture = nil
            let failedWrite = ferror(file) != 0
            if fclose(file) != 0 || failedWrite {
                captureFailed = true
                CLI.printError("\(path): cannot write the capture: \(String(cString: strerror(errno))); it is incomplete")
            }
        }
        let report = FindingsFlags.reportOptions(arguments)
        try emit(format == "json" ? AnalysisReport.json(result, options: report) : AnalysisReport.markdown(result, options: report),
                 to: arguments.string("--output"), inputs: FindingsFlags.inputs(arguments) + (capturePath.map { [$0] } ?? []))
        if let path = fitPath {
            guard let observations = result.workloadFit, let outcome = WorkloadFit.fit(observations, base: analyzerOptions.timeModel) else {
                let windows = result.workloadFit?.windows ?? 0
                let why = result.workloadFit.map { o in o.leftOut.isEmpty ? "" : " (left out: " + o.leftOut.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }.joined(separator: ", ") + ")" } ?? ""
                CLI.printError("\(path): not written: no command had a usable commandstats window (\(windows) window\(windows == 1 ? "" : "s")\(why)\(result.measuredTime?.unavailable.map { "; \($0)" } ?? ""))")
                return ExitCode.failure
            }
            FileHandle.standardError.write(Data((outcome.summary + "\n").utf8))
            try emit(outcome.model.json(fitRelativeError: outcome.relativeError, liveFit: outcome.fits), to: path,
                     inputs: FindingsFlags.inputs(arguments) + (capturePath.map { [$0] } ?? []))
        }
        if let live = result.live, live.connectionLost {
            CLI.printError("\(live.server): \(live.endReason); the report covers the \(result.calls) calls seen before")
            return ExitCode.failure
        }
        if captureFailed { return ExitCode.failure }
        return FindingsFlags.exitCode(result.findings, failOn: failOn, otherwise: ExitCode.success)
    }
}

/// SIGINT and SIGTERM, turned into a readable descriptor: they are blocked, and a thread
/// waits for them and writes to a pipe that the session polls.
final class StopSignals {
    private var pipe: [Int32] = [-1, -1]
    var descriptor: Int32 { pipe[0] }

    init() {
        _ = Glibc.pipe(&pipe)
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        let writeEnd = pipe[1]
        let waited = signals
        let waiter = Thread {
            var received: Int32 = 0
            var set = waited
            while sigwait(&set, &received) == 0 {
                var byte: UInt8 = 1
                _ = write(writeEnd, &byte, 1)
            }
        }
        waiter.start()
    }
}
