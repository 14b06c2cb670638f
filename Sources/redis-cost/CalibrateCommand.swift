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

enum CalibrateCommand: Subcommand {
    static let spec = CommandSpec(
        name: "calibrate",
        summary: "Measure the time model's constants (µs per call, per element of each type) on a live server.",
        usage: ["calibrate -n DB [-u URL | -h HOST -p PORT | -s SOCKET] [-o constants.json] [--elements N] [--repeats N]"],
        discussion: """
            For hashes, sets, sorted sets, lists, streams, strings and key deletion it builds a
            temporary key of --elements elements and one of a single element, calls a probe that
            reads every element (HGETALL, SMEMBERS, ZRANGE 0 -1, LRANGE 0 -1, XRANGE, GETRANGE,
            DEL) --repeats times on each, and reads the server's own execution time from INFO
            commandstats. The keys live under a unique prefix (redis-cost-calibrate:…) in the
            database you name with -n (or the URL's /db) and are removed afterwards. Each probe
            costs the server about a millisecond; run it on a replica or a quiet server.

            -o writes the constants for analyze/monitor --constants; the table of measurements
            goes to stdout.
            """,
        options: ConnectionFlags.options + [
            OptionSpec(["-o", "--output"], value: "FILE", help: "Write the constants (JSON) to FILE for --constants."),
            OptionSpec(["--elements"], value: "N", help: "Elements in the large keys (default 10000)."),
            OptionSpec(["--repeats"], value: "N", help: "Calls per probe and size (default 20)."),
        ],
        examples: ["redis-cost calibrate -h replica1 -n 15 -o constants.json",
                   "redis-cost analyze capture.txt --constants constants.json"])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let options = try ConnectionFlags.connectionOptions(arguments)
        guard arguments.string("--db") != nil || (arguments.string("--url")?.split(separator: "/").count ?? 0) > 2 else {
            throw UsageError(command: "calibrate", message: "name the database for the temporary keys with -n DB (or redis://host:port/DB)")
        }
        let elements = try arguments.integer("--elements", in: 100...1_000_000) ?? 10_000
        let repeats = try arguments.integer("--repeats", in: 1...10_000) ?? 20
        let connection = try ConnectionFlags.connect(arguments)
        let progress = isatty(2) == 1 ? { (name: String) in FileHandle.standardError.write(Data("\rcalibrating \(name)…        ".utf8)) } : nil
        let (model, measurements): (TimeModel, [Calibration.Measurement])
        do {
            let version = (try? connection.serverID()) ?? "server"
            (model, measurements) = try Calibration.run(connection, server: "\(options.serverName) (\(version))", elements: elements,
                                                        repeats: repeats, progress: progress)
        } catch {
            throw CLIError(description: error.description)
        }
        if progress != nil { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        var out = "| Class | µs, 1 element | µs, \(grouped(elements)) elements | µs per element |\n| --- | ---: | ---: | ---: |\n"
        for m in measurements {
            out += "| \(m.elementClass) | \(String(format: "%.2f", m.microsecondsSmall)) | \(String(format: "%.1f", m.microsecondsLarge)) | \(String(format: "%.4f", m.perElement)) |\n"
        }
        out += "\nPer call: \(String(format: "%.2f", model.perCall)) µs (the median of the 1-element probes). \(model.source).\n"
        try emit(out, to: nil)
        if let path = arguments.string("--output") { try emit(model.json(), to: path) }
        return ExitCode.success
    }
}
