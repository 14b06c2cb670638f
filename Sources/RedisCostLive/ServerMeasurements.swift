import Foundation
import RedisCostCore
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis

/// `INFO commandstats` as counters: per command, as the server names it (`get`,
/// `client|setinfo`, a module's `FT.SEARCH`), its calls and microseconds. Every line is
/// checked: a reply that is not commandstats is an error naming the line, never a guess.
package struct CommandStatsReading: Sendable, Equatable {
    package struct Counter: Sendable, Equatable {
        /// The name as the server printed it (a module may keep its case).
        package var name: String
        package var calls: Int
        package var microseconds: Int
    }

    /// By the name in lower case: commands are compared case-insensitively.
    package var counters: [String: Counter] = [:]

    /// Counters beyond this are no server's (2^53: exact as a double, and sums of a session's
    /// deltas stay far from overflowing).
    package static let largestCounter = 1 << 53

    /// Parses the text of `INFO commandstats`; `nil` and the reason when a line is not a
    /// `cmdstat_NAME:calls=N,usec=N,…` line with counters in range.
    package static func parse(_ text: String) -> Result<CommandStatsReading, ParseError> {
        var reading = CommandStatsReading()
        for (number, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard line.hasPrefix("cmdstat_"), let colon = line.firstIndex(of: ":") else {
                return .failure(ParseError(line: number + 1, reason: "not a cmdstat_ line"))
            }
            let name = String(line[line.index(line.startIndex, offsetBy: 8)..<colon])
            let fields = infoFields(String(line[line.index(after: colon)...]))
            guard !name.isEmpty,
                  let calls = fields["calls"].flatMap({ Int($0) }), (0...largestCounter).contains(calls),
                  let usec = fields["usec"].flatMap({ Int($0) }), (0...largestCounter).contains(usec) else {
                return .failure(ParseError(line: number + 1, reason: "calls and usec must be integers from 0 to 2^53"))
            }
            let key = name.lowercased()
            if let known = reading.counters[key] {
                // A module command may be registered in two spellings: one command to the report.
                guard known.calls <= largestCounter - calls, known.microseconds <= largestCounter - usec else {
                    return .failure(ParseError(line: number + 1, reason: "calls and usec must be integers from 0 to 2^53"))
                }
                reading.counters[key] = Counter(name: known.name, calls: known.calls + calls, microseconds: known.microseconds + usec)
            } else {
                reading.counters[key] = Counter(name: name, calls: calls, microseconds: usec)
            }
        }
        return .success(reading)
    }

    package struct ParseError: Error, Sendable, Equatable {
        package var line: Int
        package var reason: String
        package var description: String { "line \(line): \(reason)" }
    }

    /// The name commandstats gives a table entry's calls: `CLIENT SETINFO` → `client|setinfo`.
    package static func statName(_ entryName: String) -> String {
        entryName.lowercased().replacingOccurrences(of: " ", with: "|")
    }
}

/// Reads `INFO commandstats` during a live session (at the start, every few seconds, at the
/// end) and adds up the deltas, so a reset of the counters (CONFIG RESETSTAT) is seen rather
/// than taken for negative calls. With each read it notes what the tool itself had sent by
/// then, on all its connections, so the tool's calls are taken out exactly: a read counts the
/// calls completed before it, and the tool's connections wait for each reply.
package final class MeasuredTimeRecorder {
    package let server: String
    private var last: CommandStatsReading?
    /// The deltas since the first read, per command (lower-case name).
    private var deltas: [String: CommandStatsReading.Counter] = [:]
    private var toolAtFirst: [String: Int] = [:]
    private var toolAtLast: [String: Int] = [:]
    private var firstAt = 0.0
    private var lastAt = 0.0
    package private(set) var reads = 0
    private var countersReset = false
    private var overflowed = false
    /// Why the reads stopped (or never began), one line naming the server and the command.
    package private(set) var failure: String?
    /// What the analysis had counted when the first read showed in the stream: the window's start.
    private var estimatedAtStart: [String: EstimatedCounts]?
    /// INFO commandstats lines of the tool seen in the stream so far.
    private var readsSeenInStream = 0

    package struct EstimatedCounts: Sendable {
        package var calls = 0
        package var microseconds = 0.0
        package var unknownCostCalls = 0
        package var cost = 0.0
        package var isWrapper = false
    }

    /// `monitor --fit-model`: every read and where it showed in the stream, for the fit.
    package var fit: LiveFitRecorder?

    package init(server: String) { self.server = server }

    package var isReading: Bool { failure == nil }

    /// One read through `send` (the sampler's, so the stream shows it as the tool's own);
    /// `toolSent` is what the tool has sent on all its connections so far, before this read.
    package func read(toolSent sent: [String: Int], send: ([String]) throws(ServerError) -> RESPValue) {
        guard failure == nil else { return }
        // The connections count by the server's name in capitals (`CLIENT|LIST`); commandstats in lower case.
        let toolSent = Dictionary(sent.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: +)
        let reply: RESPValue
        do {
            reply = try send(["INFO", "commandstats"])
        } catch {
            stop(error.description)
            return
        }
        let text: String
        switch reply {
        case .error(let message): stop("\(server): INFO commandstats: \(RedisConnection.explain(message))"); return
        case .simple(let s): text = s
        case .bulk(let bytes): text = String(decoding: bytes, as: UTF8.self)
        default: stop("\(server): INFO commandstats: expected a string, got \(reply.kind)"); return
        }
        let reading: CommandStatsReading
        switch CommandStatsReading.parse(text) {
        case .success(let parsed): reading = parsed
        case .failure(let error): stop(ServerError(server: server, command: "INFO commandstats", detail: error.description).description); return
        }
        fit?.read(reading, toolSent: toolSent)
        let now = monotonicSeconds()
        if let previous = last {
            for (key, counter) in reading.counters {
                let before = previous.counters[key]
                var calls = counter.calls, usec = counter.microseconds
                if let before, counter.calls >= before.calls, counter.microseconds >= before.microseconds {
                    calls -= before.calls
                    usec -= before.microseconds
                } else if let before, counter.calls < before.calls || counter.microseconds < before.microseconds {
                    // Reset between the two reads: what ran before the reset is lost.
                    countersReset = true
                }
                guard calls > 0 || usec > 0 else { continue }
                var sum = deltas[key] ?? .init(name: counter.name, calls: 0, microseconds: 0)
                let (c, o1) = sum.calls.addingReportingOverflow(calls)
                let (u, o2) = sum.microseconds.addingReportingOverflow(usec)
                if o1 || o2 { overflowed = true; continue }
                sum.calls = c
                sum.microseconds = u
                deltas[key] = sum
            }
            // A command gone from the list was reset too (CONFIG RESETSTAT drops every line).
            if previous.counters.keys.contains(where: { reading.counters[$0] == nil }) { countersReset = true }
        } else {
            toolAtFirst = toolSent
            firstAt = now
        }
        last = reading
        toolAtLast = toolSent
        lastAt = now
        reads += 1
    }

    private func stop(_ reason: String) {
        failure = ServerError.oneLine(reason)
    }

    /// The tool's first read showed in the MONITOR stream: the calls analysed before it ran
    /// before the read and are left out of the comparison. `estimated`: what the analysis has
    /// counted so far on this server (the whole analysis for one server, the node's own calls
    /// in a cluster).
    package func sawReadInStream(_ aggregation: Aggregation, estimated: @autoclosure () -> [String: EstimatedCounts]) {
        fit?.sawRead(aggregation)
        readsSeenInStream += 1
        guard readsSeenInStream == 1 else { return }
        estimatedAtStart = estimated()
    }

    /// Per command (commandstats name), what the analysis counted.
    package static func estimated(_ stats: [AnalysisResult.CommandStats], unknownCommands: [String: Int]) -> [String: EstimatedCounts] {
        var out: [String: EstimatedCounts] = [:]
        for c in stats where c.calls > 0 {
            let known = c.calls > c.unknownCalls
            out[CommandStatsReading.statName(c.name), default: .init()].add(
                EstimatedCounts(calls: c.calls, microseconds: known ? c.estimatedMicroseconds : 0, unknownCostCalls: c.unknownCalls,
                                cost: c.cost, isWrapper: c.isWrapper))
        }
        for (name, calls) in unknownCommands {
            out[name.lowercased(), default: .init()].add(EstimatedCounts(calls: calls, unknownCostCalls: calls))
        }
        return out
    }

    /// The comparison for one server's whole analysis (`final`).
    package func result(final: AnalysisResult, intervalSeconds: Double, notes: [String]) -> AnalysisResult.MeasuredTime {
        result(estimated: Self.estimated(final.commands, unknownCommands: final.unknownCommands), intervalSeconds: intervalSeconds, notes: notes)
    }

    /// The comparison: per command, the measured delta less the tool's own calls beside what
    /// the analysis counted on this server (`estimated`, at the end) from the first read's line
    /// in the stream to the session's end.
    package func result(estimated final: [String: EstimatedCounts], intervalSeconds: Double, notes: [String]) -> AnalysisResult.MeasuredTime {
        var measured = AnalysisResult.MeasuredTime()
        measured.reads = reads
        measured.intervalSeconds = intervalSeconds
        measured.windowSeconds = reads > 1 ? lastAt - firstAt : 0
        measured.countersReset = countersReset
        measured.notes = notes
        guard reads > 1 else {
            measured.unavailable = failure ?? "\(server): INFO commandstats was read only \(reads == 1 ? "once" : "never")"
            return measured
        }
        if let failure { measured.notes.append("The reads stopped before the end (\(failure)): the server's figures cover the session up to the last read.") }
        if overflowed { measured.notes.append("Counters too large to add up were left out.") }
        if countersReset { measured.notes.append("The server's counters were reset during the session (CONFIG RESETSTAT or a restart): measured calls are unknown.") }
        var estimated = final
        if let start = estimatedAtStart {
            for (key, counts) in start { estimated[key]?.subtract(counts) }
        } else {
            measured.notes.append("The first read never showed in the MONITOR stream: the analysed calls are counted from the stream's start.")
        }
        for key in Set(deltas.keys).union(estimated.keys) {
            let delta = deltas[key]
            let estimate = estimated[key] ?? .init()
            var row = AnalysisResult.MeasuredTime.Row(command: delta?.name ?? key)
            row.toolCalls = max(0, (toolAtLast[key] ?? 0) - (toolAtFirst[key] ?? 0))
            let deltaCalls = delta?.calls ?? 0, deltaUsec = delta?.microseconds ?? 0
            let workload = deltaCalls - row.toolCalls
            if !countersReset, workload >= 0 {
                row.measuredCalls = workload
                if row.toolCalls == 0 || workload == 0 {
                    row.measuredMicroseconds = row.toolCalls == 0 ? Double(deltaUsec) : 0
                } else {
                    // The tool ran the command too: the workload's share, in proportion to the calls.
                    row.measuredMicroseconds = Double(deltaUsec) * Double(workload) / Double(deltaCalls)
                    row.sharedWithTool = true
                }
            }
            row.estimatedCalls = estimate.calls
            row.unknownCostCalls = estimate.unknownCostCalls
            row.estimatedMicroseconds = estimate.calls > estimate.unknownCostCalls ? estimate.microseconds : nil
            row.cost = estimate.cost
            row.isWrapper = estimate.isWrapper || Self.wrappers.contains(key)
            // Commands only the tool ran are not the workload's.
            if row.estimatedCalls == 0, workload <= 0 { continue }
            measured.rows.append(row)
        }
        measured.rows.sort {
            ($0.estimatedMicroseconds ?? -1, $0.measuredMicroseconds ?? -1, $1.command) > ($1.estimatedMicroseconds ?? -1, $1.measuredMicroseconds ?? -1, $0.command)
        }
        return measured
    }

    /// Commands whose commandstats time includes the calls they ran, for rows the stream never
    /// showed (the table's `runsScript` and EXEC tell the others).
    private static let wrappers: Set<String> = ["exec", "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"]
}

extension MeasuredTimeRecorder.EstimatedCounts {
    mutating func add(_ other: Self) {
        calls += other.calls
        microseconds += other.microseconds
        unknownCostCalls += other.unknownCostCalls
        cost += other.cost
        isWrapper = isWrapper || other.isWrapper
    }

    mutating func subtract(_ other: Self) {
        calls -= other.calls
        microseconds -= other.microseconds
        unknownCostCalls -= other.unknownCostCalls
        cost -= other.cost
    }
}

/// The server's slow log during a live session: its last entry's id is read at the start
/// (`SLOWLOG GET 1`, or `COMMANDLOG GET 1 slow` on Valkey 8.1+, known by its version, whose
/// SLOWLOG is the same log),
/// and at the end the 128 latest entries (`… GET 128`), of which those after that id are the
/// session's. Both reads are bounded, whatever the server holds.
package struct ServerLogReader {
    /// `SLOWLOG` or `COMMANDLOG slow`.
    package let source: String
    private let usesCommandLog: Bool
    /// The id of the newest entry before the session; nil when the log was empty.
    private let startID: Int?
    private let threshold: Int?
    package static let readLimit = 128

    private func arguments(_ count: Int) -> [String] {
        usesCommandLog ? ["COMMANDLOG", "GET", String(count), "slow"] : ["SLOWLOG", "GET", String(count)]
    }

    /// Whether the server has COMMANDLOG (Valkey 8.1+), by its id (`valkey-9.1.2`): asking a
    /// server that has not would send an unknown command, which its commandstats never count.
    package static func hasCommandLog(serverID: String?) -> Bool {
        guard let id = serverID, id.hasPrefix("valkey-") else { return false }
        let parts = id.dropFirst(7).split(separator: ".").map { Int($0) ?? 0 }
        return (parts.first ?? 0, parts.count > 1 ? parts[1] : 0) >= (8, 1)
    }

    /// Reads where the log stands; the reason when it cannot be read (an ACL, a malformed reply).
    package static func start(server: String, serverID: String?, send: ([String]) throws(ServerError) -> RESPValue) -> Result<ServerLogReader, ServerError> {
        func entries(_ argv: [String], _ reply: RESPValue) -> Result<[ServerSnapshot.LogEntry], ServerError> {
            let label = argv.joined(separator: " ")
            switch reply {
            case .error(let message): return .failure(ServerError(server: server, command: label, detail: RedisConnection.explain(message)))
            case .array: return .success(ServerSnapshot.entries(reply))
            default: return .failure(ServerError(server: server, command: label, detail: "expected an array, got \(reply.kind)"))
            }
        }
        do {
            let usesCommandLog = hasCommandLog(serverID: serverID)
            let argv = usesCommandLog ? ["COMMANDLOG", "GET", "1", "slow"] : ["SLOWLOG", "GET", "1"]
            let reply = try send(argv)
            let newest: [ServerSnapshot.LogEntry]
            switch entries(argv, reply) {
            case .success(let found): newest = found
            case .failure(let error): return .failure(error)
            }
            // The threshold says why a call has no entry; a refusal only leaves it unknown.
            let config = try send(["CONFIG", "GET", "slowlog-log-slower-than"])
            // Valkey may answer with the name the alias stands for (commandlog-execution-slower-than).
            let pairs = ServerSnapshot.pairs(config)
            let threshold = (pairs["slowlog-log-slower-than"] ?? (pairs.count == 1 ? pairs.values.first : nil)).flatMap { Int($0) }
            return .success(ServerLogReader(source: usesCommandLog ? "COMMANDLOG slow" : "SLOWLOG", usesCommandLog: usesCommandLog,
                                            startID: newest.map(\.id).max(), threshold: threshold))
        } catch {
            return .failure(error)
        }
    }

    /// Whether two Unix times (the log's, a capture line's: any Int64) are at most a second apart.
    private static func withinASecond(_ a: Int64, _ b: Int64) -> Bool {
        let (gap, overflow) = a.subtractingReportingOverflow(b)
        return !overflow && gap >= -1 && gap <= 1
    }

    /// The session's entries, matched to the costliest calls: same command and keys, logged
    /// within a second of the call's line; each entry matches one call at most.
    package func finish(server: String, connection: RedisConnection, table: CommandTable, topCalls: [AnalysisResult.Call],
                        toolAddress: [UInt8]?) -> AnalysisResult.ServerLogCheck {
        var check = AnalysisResult.ServerLogCheck(source: source)
        check.thresholdMicroseconds = threshold
        let argv = arguments(Self.readLimit)
        let label = argv.joined(separator: " ")
        let reply: RESPValue
        do {
            reply = try connection.command(argv, label: label)
        } catch {
            check.unavailable = error.description
            return check
        }
        switch reply {
        case .error(let message):
            check.unavailable = ServerError(server: server, command: label, detail: RedisConnection.explain(message)).description
            return check
        case .array: break
        default:
            check.unavailable = ServerError(server: server, command: label, detail: "expected an array, got \(reply.kind)").description
            return check
        }
        let all = ServerSnapshot.entries(reply)
        let session = all.filter { entry in startID.map { entry.id > $0 } ?? true }.sorted { $0.id < $1.id }
        // Entries of the session before the oldest one returned were pushed out of the log.
        if let oldest = session.first?.id, let start = startID, oldest > start + 1 { check.mayHaveLost = true }
        var entries: [AnalysisResult.ServerLogCheck.Entry] = []
        for entry in session {
            if let toolAddress, !toolAddress.isEmpty, entry.client.utf8.elementsEqual(toolAddress) {
                check.toolEntries += 1
                continue
            }
            var command = KeyText.commandName(entry.argv.first ?? [])
            var keys: [[UInt8]] = []
            if let (index, positions) = table.resolve(entry.argv) {
                command = table.entries[index].name
                keys = positions.filter { $0 < entry.argv.count }.map { entry.argv[$0] }
            }
            entries.append(.init(id: entry.id, time: entry.time, loggedMicroseconds: entry.value, command: command, keys: keys))
        }
        for (rank, call) in topCalls.enumerated() {
            guard let match = entries.firstIndex(where: { entry in
                entry.topCall == nil && entry.command == call.command && entry.keys == call.keys
                    && call.time.map { Self.withinASecond(entry.time, $0) } ?? true
            }) else { continue }
            entries[match].topCall = rank
            entries[match].estimatedMicroseconds = call.estimatedMicroseconds
        }
        check.entries = entries.sorted { ($0.loggedMicroseconds, $1.id) > ($1.loggedMicroseconds, $0.id) }
        return check
    }
}
