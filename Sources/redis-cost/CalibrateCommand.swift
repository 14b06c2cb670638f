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
        summary: "Fit the time model (µs per call, per element, per item, per byte, per key created, per command) on a live server.",
        usage: ["calibrate -n DB [-u URL | -h HOST -p PORT | -s SOCKET] [-o model.json] [--elements N] [--repeats N] [--passes N]"],
        discussion: """
            Probes 47 commands (strings, keys, hashes, sets, sorted sets, lists, streams,
            MULTI/EXEC, EVAL/EVALSHA, PUBLISH to 0 to 30 subscribed connections of its own,
            SUBSCRIBE/UNSUBSCRIBE, HELLO) on temporary keys at several sizes — keys of 0 to
            --elements elements, calls of 1 to 1,000 items, values of 1 byte to 100 KB — and
            reads the server's own time for each call from INFO commandstats, in --passes
            sweeps over all the probes (each point keeps its median: a shared machine's speed
            moves within a minute, and sweeps spread every command over the run; a probe's
            calls the server was taken off its core during are left out). A least-squares
            fit gives each command its µs per call, per element of its formula, per item
            (argument; for a wrapper, per call it ran), per byte and per key a write creates
            (the writes at size 0 each create a key of their own), and each class (hash, set,
            …) the fit of its commands together, for the commands not probed. The whole reads
            (HGETALL, SMEMBERS, ZRANGE, LRANGE) are measured again on keys of elements 40 bytes
            longer: their time per byte of reply, which analyze prices with each key's own bytes
            per element (from the writes that made it, or a snapshot's). Full reads and
            writes are measured once more on keys ten times --elements (at most 1,000,000): how
            much slower than the fit a key beyond the caches is (the size curve). The writes
            that add elements (HSET, SADD, ZADD, RPUSH) are also timed call by call while they
            grow a key from nothing to that size, 1,000 items a call, as applications bulk-load:
            allocations and the hash table doubling, which a probe into a key of settled size
            misses (calls into keys up to the probes' sizes join the fit, larger ones the
            curve, a point per band of sizes √10 wide). The keys live
            under a unique prefix (redis-cost-calibrate:…) in the database you name with -n (or
            the URL's /db) and are removed after each measurement and again at the end, also on
            an error or Ctrl-C. The scripts probe leaves one small script in the script cache
            (it is never persisted). A probe the server refuses (an ACL without @scripting, a
            renamed command) is named in the output and keeps its class's or the default figures. Run it on a replica or a quiet server: it takes a few
            seconds of server time.

            Two more terms for captures: how a call's fixed time grows after the server was
            idle (bursts of four O(1) calls back to back, then 0.1 to 100 ms apart, three sweeps:
            about 40 s, the client spinning between bursts as a workload's client works between
            its calls — one core of this machine busy meanwhile) — for the first call of a burst, the new commands after
            it, and a command repeated in it, each as a factor on the fit's own time for the call —
            which analyze applies by the gap before each call of a MONITOR capture; and what a
            MONITOR client adds to MULTI/EXEC per queued call (the EXEC probe again with one
            attached), applied to captures and live sessions.

            -o writes the model (labelled with the server's version and this machine) for
            analyze/monitor --constants; the table of fits and their errors goes to stdout.
            """,
        options: ConnectionFlags.options + [
            OptionSpec(["-o", "--output"], value: "FILE", help: "Write the model (JSON) to FILE for --constants."),
            OptionSpec(["--elements"], value: "N", help: "Elements in the largest keys (default 10000)."),
            OptionSpec(["--repeats"], value: "N", help: "Calls per probe and size (default 20)."),
            OptionSpec(["--passes"], value: "N", help: "Sweeps over all the probes; each point keeps its median (default 3)."),
        ],
        examples: ["redis-cost calibrate -h replica1 -n 15 -o model.json",
                   "redis-cost analyze capture.txt --constants model.json"])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let options = try ConnectionFlags.connectionOptions(arguments)
        guard arguments.string("--db") != nil || (arguments.string("--url")?.split(separator: "/").count ?? 0) > 2 else {
            throw UsageError(command: "calibrate", message: "name the database for the temporary keys with -n DB (or redis://host:port/DB)")
        }
        let elements = try arguments.integer("--elements", in: 100...1_000_000) ?? 10_000
        let repeats = try arguments.integer("--repeats", in: 1...10_000) ?? 20
        let passes = try arguments.integer("--passes", in: 1...20) ?? 3
        let connection = try ConnectionFlags.connect(arguments)
        let table = try CommandTable.embedded()
        let progress = isatty(2) == 1 ? { (name: String) in FileHandle.standardError.write(Data("\rcalibrating \(name)…        ".utf8)) } : nil
        // Ctrl-C or a kill ends the probes at the next call, and the keys are removed before exit.
        let interrupt = Interrupt()
        let calibration: Calibration.Result
        do {
            let version = try? connection.serverID()
            calibration = try Calibration.run(connection, server: "\(options.serverName) (\(version ?? "server"))", serverID: version,
                                              elements: elements, repeats: repeats, passes: passes, table: table, progress: progress,
                                              isCancelled: { interrupt.happened })
        } catch {
            throw CLIError(description: error.description)
        }
        let (model, measurements, error) = (calibration.model, calibration.measurements, calibration.relativeError)
        if progress != nil { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        func f(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
        var out = "| Command | Class | Points | µs per call | per element | per item | per byte | per key created | per key found | fit error | larger keys |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n"
        for m in measurements {
            let c = m.coefficients
            let larger = m.sizeCurve.last.map { "× \(f($0.factor, 2)) at \(grouped(Int($0.elements)))" } ?? ""
            out += "| \(m.command) | \(m.elementClass) | \(m.points) | \(f(c.perCall, 2)) | \(f(c.perElement, 4)) | \(f(c.perItem, 4)) | \(f(c.perByte, 5)) | \(f(c.perCreate, 2)) | \(f(c.perFound, 2)) | \(f(m.relativeError * 100, 0))% | \(larger) |\n"
        }
        out += "\nFit error (root mean square of the relative errors over all probes): \(f(error * 100, 1))%. Per call, the median: \(f(model.perCall, 2)) µs. \(model.source).\n"
        if !model.idle.isEmpty {
            out += "\nAfter idle time, a call's fixed time × (captures, by the gap before each call): "
                + model.idle.map { "\(grouped(Int($0.idleMicroseconds.rounded()))) µs → \(f($0.factor, 2))" }.joined(separator: ", ") + ".\n"
        }
        if !model.idleInBurst.isEmpty {
            out += "A call that follows another in its burst (a pipeline, a transaction), by the burst's idle time: "
                + model.idleInBurst.map { "\(grouped(Int($0.idleMicroseconds.rounded()))) µs → \(f($0.factor, 2))" }.joined(separator: ", ") + ".\n"
        }
        if let repeated = model.repeatedInBurst {
            out += "A command run again in its burst (warm): the fit's fixed time × \(f(repeated, 2)).\n"
        }
        if !model.classSizeCurves.isEmpty {
            out += "On keys larger than the fit's, the time beyond a call's fixed part × (per class, for commands not probed): "
                + model.classSizeCurves.sorted { $0.key < $1.key }.compactMap { cls, curve in curve.last.map { "\(cls) \(f($0.factor, 2)) at \(grouped(Int($0.elements)))" } }
                    .joined(separator: ", ") + ".\n"
        }
        out += "With a MONITOR client attached (captures, live sessions), each call a wrapper (MULTI/EXEC, a script) runs adds \(f(model.watchedPerNestedCall, 2)) µs to it, and \(f(model.watchedPerNestedByte * 1000, 3)) µs per KB of its arguments.\n"
        if let speed = calibration.referenceMicroseconds {
            let drift = max(speed.start, speed.end) / min(speed.start, speed.end)
            out += "\nThe server's speed while calibrating: a GET back to back took \(f(speed.start, 2)) µs at the start and \(f(speed.end, 2)) µs at the end"
            out += drift > 1.25 ? " — it moved by × \(f(drift, 2)): the fit mixes both speeds; calibrate again when the machine is steady, and close to the workload you estimate (a model is only right while the machine is as fast as when it was fitted).\n" : ".\n"
        }
        if !calibration.refused.isEmpty {
            out += "\nNot probed, refused by the server (these keep their class's or the default figures): "
                + calibration.refused.map { "\($0.command) (\($0.reason))" }.joined(separator: "; ") + ".\n"
        }
        try emit(out, to: nil)
        if let path = arguments.string("--output") { try emit(model.json(fitRelativeError: error), to: path) }
        return ExitCode.success
    }
}

/// SIGINT and SIGTERM while calibrating: remembered, so that the run stops and removes its keys.
private final class Interrupt: @unchecked Sendable {
    private let source: [DispatchSourceSignal]
    private let lock = NSLock()
    private var flag = false

    init() {
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            sources.append(s)
        }
        source = sources
        for s in source {
            s.setEventHandler { [weak self] in self?.set() }
            s.resume()
        }
    }

    private func set() { lock.lock(); flag = true; lock.unlock() }
    var happened: Bool { lock.lock(); defer { lock.unlock() }; return flag }
}
