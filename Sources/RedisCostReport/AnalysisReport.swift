import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostTable
import RedisCostAnalysis
import RedisCostLive

/// `redis-cost analyze`: the markdown an on-call engineer reads and the JSON a script reads.
public enum AnalysisReport {
    package static func size(_ count: Int?, _ kind: KeySizeKind) -> String {
        switch kind {
        case .missing: "0 (no key)"
        case .elements: count.map(String.init) ?? "unknown"
        case .bytes: count.map { "\($0) B" } ?? "unknown"
        case .unknown: "unknown"
        }
    }

    package static func number(_ value: Double) -> String { grouped(value) }

    /// `850 µs`, `12.3 ms`, `4.2 s`.
    package static func duration(_ microseconds: Double?) -> String {
        guard let us = microseconds else { return "" }
        if us < 1 { return "< 1 µs" }
        if us < 1000 { return String(format: "%.0f µs", us) }
        if us < 1_000_000 { return String(format: "%.1f ms", us / 1000) }
        return String(format: "%.1f s", us / 1_000_000)
    }

    package static func costText(_ value: Double?, upperBound: Bool, unknownReason: String?) -> String {
        guard let value else { return "unknown (\(unknownReason ?? ""))" }
        return upperBound ? "≤ " + number(value) : number(value)
    }

    package static func time(_ seconds: Int64?) -> String {
        guard let seconds else { return "" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    /// The last part of a path, for a line or a cell.
    package static func fileName(_ path: String) -> String { (path as NSString).lastPathComponent }

    package static func percent(_ part: Double, of whole: Double) -> String {
        whole > 0 ? String(format: "%.1f%%", part * 100 / whole) : "–"
    }

    public static func markdown(_ r: AnalysisResult, options: ReportOptions = .init()) -> String {
        markdown(document(r, options: options))
    }

    /// The markdown of a report, read from the values the JSON report is made of (keys and
    /// patterns already redacted there): the two formats cannot say different things.
    package static func markdown(_ doc: Document) -> String {
        let isMonitor = doc.input.kind == .monitor
        let totalCost = doc.totals.cost
        var out = "# redis-cost report\n\n"
        if doc.totals.calls > 0 || !doc.findings.isEmpty { out += FindingsReport.fixFirst(doc.findings) + "\n" }
        out += "## Summary\n\n"
        out += "- Input: \(Markdown.cell(doc.input.description)), \(number(Double(doc.input.bytes))) bytes\n"
        for segment in doc.input.files {
            let role = segment.role == "base" ? "base (a snapshot: sets the sizes, not counted as calls)" : "workload"
            out += "  - \(Markdown.code(fileName(segment.path))): \(role), \(number(Double(segment.bytes))) bytes"
            if let snapshot = doc.snapshots.first(where: { $0.file == segment.path }) {
                out += ", RDB snapshot \(Markdown.code(snapshot.magic)) with \(number(Double(snapshot.keys))) keys"
                out += snapshot.checksumVerified ? " (checksum verified)" : " (no checksum)"
                if segment.commands > 0 { out += ", then \(number(Double(segment.commands))) AOF commands" }
            } else {
                out += ", \(number(Double(segment.commands))) commands"
            }
            out += "\n"
        }
        if let first = doc.input.firstTime, let last = doc.input.lastTime {
            out += "- Time span: \(time(first)) to \(time(last)) (\(isMonitor ? "the capture's timestamps" : "the AOF's `#TS` annotations"))\n"
        }
        let totals = doc.totals
        out += "- Calls: \(number(Double(totals.calls))) in \(doc.commands.count) commands"
        out += totals.transactions > 0 ? ", \(number(Double(totals.transactions))) transactions (MULTI/EXEC)\n" : "\n"
        out += "- Total cost: \(number(totalCost)) elements touched"
        out += totals.unknownCostCalls > 0 ? "; \(counted(totals.unknownCostCalls, "call")) of unknown cost (not counted)\n" : "\n"
        if totals.calls > 0 {
            out += "- Estimated server time of those calls: \(duration(totals.estimatedMicroseconds)) (\(totals.timeModel))\n"
            out += "- Time convention: a command's time is as INFO commandstats counts it (a wrapper — EXEC, EVAL/EVALSHA, FCALL — includes the calls it ran); totals count each call once\n"
        }
        if totals.malformedCalls > 0 {
            out += "- **\(counted(totals.malformedCalls, "malformed call")) skipped** (cut or damaged: not costed, not replayed); the first: "
                + totals.firstMalformed.map { "`\(Markdown.cell($0.location))`: \(Markdown.cell($0.reason))" }.joined(separator: "; ") + "\n"
        }
        if let truncated = doc.input.truncatedAt {
            out += "- **Truncated:** \(Markdown.code(fileName(truncated.file))) ends with an incomplete command at byte \(truncated.offset); everything before it was analyzed (Redis would load it with `aof-load-truncated yes`).\n"
        }
        let dataset = doc.dataset
        let keys = dataset.keysPerDatabase.values.reduce(0, +)
        out += dataset.wholeDataSet ? "- Data set at the end: \(number(Double(keys))) keys in \(dataset.keysPerDatabase.count) database(s)"
            : "- Keys the calls touched, at the end: \(number(Double(keys))) in \(dataset.keysPerDatabase.count) database(s) (other keys of the data set were not seen)"
        out += dataset.approximateKeys > 0 ? "; \(dataset.approximateKeys) with approximate size (marked ≈)\n" : "\n"
        if !doc.minimumVersions.isEmpty {
            out += "- Needs " + doc.minimumVersions.map(\.text).joined(separator: " or ") + "\n"
        }
        out += "- Replay model memory: \(String(format: "%.1f", Double(dataset.modelBytes) / 1_048_576)) MiB; analysis took \(String(format: "%.2f", doc.elapsedSeconds)) s\n"
        if totals.calls == 0, !doc.snapshots.isEmpty {
            out += "\n> A snapshot holds the data, not the calls: this is a profile of the data set. Analyze an AOF for writes, or a MONITOR capture for reads.\n"
            for snapshot in doc.snapshots { out += profile(snapshot) }
            return out
        }
        if let live = doc.live { out += liveSummary(live) }
        let monitor = doc.monitor
        if let server = monitor.sampledFrom {
            out += "- Sizes of \(number(Double(monitor.sampledKeys))) keys from before the capture were read from \(Markdown.code(server)) during the analysis (O(1) commands): the server's sizes now, taken as their sizes when the capture began\n"
        }
        if isMonitor {
            out += "- Clients: \(doc.clients.count); scripts: \(monitor.scripts) (their calls count in their cost)\n"
            if monitor.callsOnKeysOfUnknownSize > 0, doc.live != nil || monitor.sampledFrom != nil {
                out += "- **\(number(Double(monitor.callsOnKeysOfUnknownSize))) calls touch keys whose size was not sampled (yet): their cost is unknown**\n"
            } else if monitor.callsOnKeysOfUnknownSize > 0 {
                out += "- **\(number(Double(monitor.callsOnKeysOfUnknownSize))) calls touch keys the capture did not create, which may have existed before it began: their size, and so their cost, is unknown** (give `--baseline dump.rdb` or an appendonlydir taken when the capture began, `--baseline empty` if the server was empty then, or `--sample` with the server's address)\n"
            }

            out += "\n> Observed time is the gap between a line and the next one in the capture: an upper bound of how long that call took (the server may have been idle or serving others).\n"
        } else {
        out += "\n> An AOF holds only the writes. Reads — `KEYS`, `HGETALL`, `SMEMBERS`, `LRANGE 0 -1`, `SINTER` — never reach it: capture them with `redis-cli monitor > capture.txt` and analyze that.\n"
        out += "> Cost is counted in elements touched (the N of each command's documented complexity), with each key's size just before the call.\n"
        }

        if let cluster = doc.cluster { out += cluster.markdown }
        out += FindingsReport.markdown(doc.findings)
        out += Charts.costShare(doc.commands) + Charts.costOverTime(doc.costOverTime)
        out += "\n## Costliest calls (by estimated server time)\n\n"
        if doc.topCalls.isEmpty {
            out += "No call with a known cost.\n"
        } else {
            let rows = doc.topCalls.prefix(25).enumerated().map { index, call -> [String] in
                let keys = call.keys.prefix(3).map(Markdown.code).joined(separator: " ")
                    + (call.keys.count > 3 ? " … (\(call.keys.count) keys)" : "")
                let sizes = zip(call.sizes, call.sizeKinds).prefix(3).map(size).joined(separator: ", ") + (call.sizes.count > 3 ? ", …" : "")
                var cost = costText(call.cost, upperBound: call.upperBound, unknownReason: call.unknownCostReason?.value)
                if let nested = call.nestedCost, nested > 0 { cost += " (\(number(nested)) by its calls)" }
                let place = call.line.map { ":\($0.value)" } ?? call.offset.map { "@\($0.value)" } ?? ""
                return [String(index + 1), call.command + (call.inTransaction ? " (in MULTI)" : ""), keys, sizes, cost,
                        duration(call.estimatedMicroseconds), time(call.time), fileName(call.file) + place]
            }
            out += Markdown.table(header: ["#", "Command", "Keys", "Sizes before", "Cost", "Est. time", "Time", isMonitor ? "Where (capture:line)" : "Where (file@byte)"], rows: rows, alignRight: [0, 4, 5])
            if doc.topCalls.count > 25 { out += "\n\(doc.topCalls.count - 25) more in the JSON report (`--format json`).\n" }
            if doc.topCalls.prefix(25).contains(where: { ($0.nestedCost ?? 0) > 0 }) {
                out += "\nA transaction's or script's cost and time include the calls it ran, which are also listed on their own.\n"
            }
        }

        if isMonitor && !doc.slowestCalls.isEmpty {
            out += "\n## Slowest calls (observed time, an upper bound)\n\n"
            out += Markdown.table(
                header: ["Command", "Keys", "Observed (µs, ≤)", "Client", "Time", "Line"],
                rows: doc.slowestCalls.prefix(15).map { call in
                    [call.command + (call.blocking ? " (blocking: includes its wait)" : ""), call.keys.prefix(3).map(Markdown.code).joined(separator: " "),
                     number(Double(call.observedMicroseconds)), Markdown.code(call.client), time(call.time), String(call.line)]
                }, alignRight: [2, 5])
        }

        out += "\n## Time and cost by command (by estimated time)\n\n"
        let commandRows = doc.commands.prefix(40).map { c -> [String] in
            let known = c.calls - c.unknownCostCalls
            let compiles = known > 0 && c.elementsInTotals == 0 && c.cost > c.nestedCost
            var row = [c.name + (c.nestedCost > 0 ? " ¹" : compiles ? " ²" : ""), number(Double(c.calls)), c.estimatedMicroseconds.map { duration($0) } ?? "unknown",
                       known > 0 ? number(c.cost) : "unknown",
                       known > 0 && !compiles ? percent(c.elementsInTotals, of: totalCost) : "–",
                       known > 0 ? number(c.cost / Double(known)) : "–", known > 0 ? number(c.maxCost) : "–",
                       c.unknownCostCalls > 0 ? number(Double(c.unknownCostCalls)) : ""]
            if isMonitor { row += [number(Double(c.observedMicroseconds)), number(Double(c.maxObservedMicroseconds))] }
            return row
        }
        out += Markdown.table(
            header: ["Command", "Calls", "Est. time", "Cost", "Share", "Mean", "Max", "Unknown cost"] + (isMonitor ? ["Observed µs (≤)", "Max observed µs (≤)"] : []),
            rows: commandRows, alignRight: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        if doc.commands.prefix(40).contains(where: { $0.nestedCost > 0 }) {
            out += "\n¹ Includes the calls it ran (MULTI…EXEC, a script's calls), as INFO commandstats counts it; those calls have their own rows, and the share and the totals count each call once.\n"
        }
        if doc.commands.prefix(40).contains(where: { $0.calls > $0.unknownCostCalls && $0.elementsInTotals == 0 && $0.cost > $0.nestedCost }) {
            out += "\n² Bytes of script compiled (SCRIPT LOAD, FUNCTION LOAD): priced in time by their own constant, not counted as elements touched.\n"
        }
        // The server's own figures beside the estimate, right under it (live sessions).
        if let measured = doc.measuredTime { out += measuredTime(measured) }
        if let log = doc.serverLog { out += serverLog(log, top: doc.topCalls.count) }
        if isMonitor && !doc.hotKeys.isEmpty {
            out += "\n## Hot keys (most called, first key of each call)\n\n" + Markdown.table(
                header: ["Key", "DB", "Calls", "Reads", "Writes"],
                rows: doc.hotKeys.prefix(20).map { [Markdown.code($0.key), String($0.db), number(Double($0.calls)),
                                                   number(Double($0.reads)), number(Double($0.writes))] },
                alignRight: [1, 2, 3, 4])
            if monitor.hotKeysCapped {
                out += "\nCounted for the first \(number(Double(monitor.hotKeysTracked))) distinct keys of the capture; later new keys are in the patterns only.\n"
            }
        }
        if isMonitor && !doc.bigHotKeys.isEmpty { out += bigHotKeys(doc.bigHotKeys, monitor: monitor) }
        if isMonitor {
            out += "\n## Cost by client\n\n" + Markdown.table(
                header: ["Client", "Calls", "Cost", "Unknown cost"],
                rows: doc.clients.prefix(20).map { [Markdown.code($0.client), number(Double($0.calls)), $0.calls > $0.unknownCostCalls ? number($0.cost) : "unknown",
                                                     $0.unknownCostCalls > 0 ? number(Double($0.unknownCostCalls)) : ""] },
                alignRight: [1, 2, 3])
        }
        if !doc.unknownCommands.isEmpty {
            out += "\nCommands not in the command table (cost unknown): "
            out += doc.unknownCommands.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\(Markdown.code($0.key)) × \($0.value)" }.joined(separator: ", ") + "\n"
        }

        out += "\n## Cost by key pattern\n\n"
        let patternRows = doc.patterns.prefix(20).map { p -> [String] in
            [Markdown.code(p.pattern), number(Double(p.calls)), number(Double(p.reads)), number(Double(p.writes)),
             p.calls > p.unknownCostCalls ? number(p.cost) : "unknown", p.calls > p.unknownCostCalls ? percent(p.cost, of: totalCost) : "–"]
        }
        out += Markdown.table(header: ["Pattern (first key)", "Calls", "Reads", "Writes", "Cost", "Share"], rows: patternRows, alignRight: [1, 2, 3, 4, 5])

        out += "\n## Biggest keys at the end\n\n"
        if doc.biggestKeys.isEmpty {
            out += "No collections.\n"
        } else {
            let keyRows = doc.biggestKeys.map { k -> [String] in
                [Markdown.code(k.key), String(k.db), k.type, (k.approximate ? "≈ " : "") + size(k.size, k.sizeKind)]
            }
            out += Markdown.table(header: ["Key", "DB", "Type", "Elements"], rows: keyRows, alignRight: [1, 3])
        }
        for snapshot in doc.snapshots where snapshot.keys > 0 { out += profile(snapshot) }
        if let live = doc.live, !live.keySizesAtStart.isEmpty || !live.keySizesAtEnd.isEmpty {
            out += "\n## Key sizes on the server (`INFO keysizes`)\n\n"
            out += "Histograms the server keeps of its keys' sizes (power-of-two bins: `bin=keys`), at the start and the end of the session.\n\n"
            let end = Dictionary(live.keySizesAtEnd.map { ($0.field, $0.value) }, uniquingKeysWith: { a, _ in a })
            var fields = live.keySizesAtStart.map(\.field)
            fields += live.keySizesAtEnd.map(\.field).filter { !fields.contains($0) }
            let start = Dictionary(live.keySizesAtStart.map { ($0.field, $0.value) }, uniquingKeysWith: { a, _ in a })
            out += Markdown.table(header: ["Field", "At the start", "At the end"],
                                  rows: fields.map { [$0, Markdown.code(start[$0] ?? ""), Markdown.code(end[$0] ?? "")] })
        }
        if !doc.unmodelledWrites.isEmpty {
            out += "\nWrites the replay model does not follow (their keys are marked approximate): "
            out += doc.unmodelledWrites.sorted { $0.key < $1.key }.map { "\($0.key) × \($0.value)" }.joined(separator: ", ") + "\n"
        }
        return out
    }

    /// `1.8` for a ratio, `–` when unknown.
    package static func ratioText(_ value: Double?) -> String {
        guard let value else { return "–" }
        return value >= 10 ? String(format: "%.0f×", value) : String(format: "%.2f×", value)
    }

    /// The server's own figures beside the estimate, per command, with the convention stated.
    package static func measuredTime(_ m: MeasuredTime) -> String {
        var out = "\n## Estimated time beside the server's (`INFO commandstats`)\n\n"
        if let reason = m.unavailable {
            return out + "Not measured: \(Markdown.cell(reason)).\n"
        }
        out += "\(Markdown.cell(m.convention)) \(m.reads) reads"
        out += m.intervalSeconds > 0 ? " (every \(number(m.intervalSeconds)) s)" : " (the start and the end)"
        out += " over \(String(format: "%.1f", m.windowSeconds)) s.\n\n"
        for note in m.notes { out += "> \(Markdown.cell(note))\n" }
        if !m.notes.isEmpty { out += "\n" }
        let rows = m.commands.prefix(40).map { r -> [String] in
            [Markdown.cell(r.command) + (r.wrapper ? " ¹" : ""),
             r.measuredCalls.map { number(Double($0)) } ?? "unknown", number(Double(r.estimatedCalls)),
             r.measuredMicroseconds.map { (r.sharedWithTool ? "≈ " : "") + duration($0) } ?? "unknown",
             r.estimatedCalls == 0 ? "– (not in the stream)" : r.estimatedMicroseconds.map { duration($0) } ?? "unknown",
             ratioText(r.ratio), r.estimatedCalls > r.unknownCostCalls ? number(r.cost) : "–",
             r.toolCalls > 0 ? number(Double(r.toolCalls)) : ""]
        }
        let t = m.total
        let totalRow = ["**Total, each call once**", t.measuredCalls.map { number(Double($0)) } ?? "unknown", number(Double(t.estimatedCalls)),
                        t.measuredMicroseconds.map { duration($0) } ?? "unknown", duration(t.estimatedMicroseconds), ratioText(t.ratio), "", ""]
        out += Markdown.table(header: ["Command", "Calls (server)", "Calls (stream)", "Time (server)", "Est. time", "Server ÷ est.", "Elements", "Tool's own calls"],
                              rows: rows + [totalRow], alignRight: [1, 2, 3, 4, 5, 6, 7])
        if m.commands.count > 40 { out += "\n\(m.commands.count - 40) more in the JSON report (`--format json`).\n" }
        if m.commands.contains(where: \.wrapper) {
            out += "\n¹ Its time includes the calls it ran, which have their own rows: left out of the total.\n"
        }
        if m.commands.contains(where: \.sharedWithTool) {
            out += "\n≈ The tool ran the command too (its calls are taken out exactly); the workload's share of the time is in proportion to the calls.\n"
        }
        if m.commands.contains(where: { $0.estimatedCalls == 0 }) {
            out += "\nCommands MONITOR does not show (admin commands: CONFIG, SLOWLOG, …) are measured only, and left out of the total.\n"
        }
        if t.unknownCostCalls > 0 {
            out += "\n\(counted(t.unknownCostCalls, "call")) of unknown cost are in the server's time and not in the estimate.\n"
        }
        return out
    }

    /// Per key, calls × cost: the time the server spent on it.
    package static func bigHotKeys(_ keys: [BigHotKey], monitor: Monitor) -> String {
        var out = "\n## Big-hot keys (the most estimated time: calls × cost)\n\n"
        out += Markdown.table(
            header: ["Key", "DB", "Calls", "Elements", "Est. time", "Unknown cost", "Size at the end"],
            rows: keys.prefix(20).map { k in
                [Markdown.code(k.key), String(k.database), number(Double(k.calls)), number(k.cost), duration(k.estimatedMicroseconds),
                 k.unknownCostCalls > 0 ? number(Double(k.unknownCostCalls)) : "", size(k.size, k.sizeKind)]
            }, alignRight: [1, 2, 3, 4, 5, 6])
        out += "\nEvery key a call names gets the call's own elements and time (a transaction's or script's calls count under their own keys).\n"
        if monitor.bigHotKeysCapped {
            out += "Followed for the first \(number(Double(monitor.bigHotKeysTracked))) distinct keys; later new keys are not.\n"
        }
        return out
    }

    /// The slow log's entries of the session beside the costliest calls.
    package static func serverLog(_ log: ServerLog, top: Int) -> String {
        var out = "\n## Checked against the server's slow log (`\(log.source)`)\n\n"
        if let reason = log.unavailable { return out + "Not read: \(Markdown.cell(reason)).\n" }
        out += "\(counted(log.entriesInSession, "entry", plural: "entries")) logged during the session"
        if let threshold = log.thresholdMicroseconds {
            out += threshold < 0 ? " (logging is off: `slowlog-log-slower-than` \(threshold))" : " (calls of \(number(Double(threshold))) µs or more: `slowlog-log-slower-than`)"
        }
        if log.toolEntries > 0 { out += "; \(counted(log.toolEntries, "entry", plural: "entries")) of the tool's own left out" }
        out += ".\(log.mayHaveLost ? " The log dropped older entries of the session (it keeps `slowlog-max-len`; \(ServerLogReader.readLimit) are read)." : "")\n"
        for failure in log.partlyUnavailable { out += "Not read on \(Markdown.cell(failure)).\n" }
        /// An entry's id, with its node under --cluster (ids are per node).
        func entry(_ id: Int?, _ node: String?) -> String {
            guard let id else { return "" }
            return node.map { "\(Markdown.code($0)) \(id)" } ?? String(id)
        }
        if !log.costliest.isEmpty {
            out += "\nThe costliest calls by estimate, matched to their entries (same command and keys, logged within a second):\n\n"
            out += Markdown.table(
                header: ["#", "Command", "Keys", "Est. time", "Logged time", "Logged ÷ est.", "Entry"],
                rows: log.costliest.prefix(15).map { m in
                    [String(m.rank + 1), m.command, m.keys.prefix(3).map(Markdown.code).joined(separator: " "), duration(m.estimatedMicroseconds),
                     m.loggedMicroseconds.map { duration(Double($0)) } ?? "no entry",
                     ratioText(m.loggedMicroseconds.flatMap { ratio(Double($0), m.estimatedMicroseconds) }), entry(m.entryId, m.entryNode)]
                }, alignRight: [0, 3, 4, 5, 6])
        }
        if !log.slowestLogged.isEmpty {
            out += "\nThe slowest entries of the session, with the estimate of the call each matched:\n\n"
            out += Markdown.table(
                header: ["Entry", "Command", "Keys", "Logged time", "Est. time"],
                rows: log.slowestLogged.prefix(10).map { e in
                    [entry(e.id, e.node), Markdown.cell(e.command), e.keys.prefix(3).map(Markdown.code).joined(separator: " "), duration(Double(e.loggedMicroseconds)),
                     e.estimatedMicroseconds.map { duration($0) } ?? "not among the \(number(Double(top))) costliest estimated"]
                }, alignRight: [0, 3, 4])
        }
        return out
    }

    package static func liveSummary(_ live: Live) -> String {
        var out = "- Live session on \(Markdown.code(live.server))" + (live.serverVersion.map { " (\(Markdown.cell($0)))" } ?? "")
        out += ": \(String(format: "%.1f", live.seconds)) s, ended: \(Markdown.cell(live.endReason))\n"
        if let reason = live.samplingDisabled {
            out += "- **Size sampling stopped:** \(Markdown.cell(reason))\n"
        }
        out += "- Sizes of keys from before the session: \(number(Double(live.keysSampled))) keys sampled with O(1) commands"
        out += " (at most \(number(live.samplesPerSecond)) a second); \(number(Double(live.samplerCommands))) sampler commands left out of the analysis"
        out += live.keysDeferred > 0 ? "; \(number(Double(live.keysDeferred))) samples deferred by the rate limit\n" : "\n"
        if live.subscriberCountsRead > 0 {
            out += "- Subscribers from before the session: \(number(Double(live.subscriberCountsRead))) counts read with `PUBSUB NUMSUB`/`SHARDNUMSUB`/`NUMPAT` (upper bounds until read again: disconnects are not in the stream)\n"
        }
        if let reason = live.subscriberCountsDenied {
            out += "- **Subscriber counts not read:** \(Markdown.cell(reason)); PUBLISH costs are unknown\n"
        }
        if let omem = live.maxMonitorOutputBytes {
            out += "- MONITOR's output buffer on the server (`omem`): at most \(number(Double(omem))) bytes while watched (once a second)\n"
        }
        return out
    }

    /// The data set a snapshot held: by type, by encoding, the biggest keys, the patterns.
    package static func profile(_ p: Snapshot) -> String {
        var out = "\n## Data set in the snapshot \(Markdown.code(fileName(p.file)))\n\n"
        out += "- \(number(Double(p.keys))) keys, \(number(Double(p.expiringKeys))) with an expiry"
        if p.emptyKeysSkipped > 0 { out += "; \(p.emptyKeysSkipped) empty keys skipped, as the server skips them" }
        if p.expiredOnLoad > 0 { out += "; \(p.expiredOnLoad) keys already expired when the file was written, dropped as the server drops them on load" }
        out += "\n"
        if let version = p.aux["redis-ver"] ?? p.aux["valkey-ver"] {
            out += "- Written by \(p.aux["valkey-ver"] != nil ? "Valkey" : "Redis") \(Markdown.cell(version)) (\(Markdown.code(p.magic)))\n"
        }
        out += "\n" + Markdown.table(
            header: ["Type", "Keys", "Elements", "Bytes in the file"],
            rows: p.byType.sorted { ($0.value.bytes, $1.key) > ($1.value.bytes, $0.key) }.map { [$0.key, number(Double($0.value.keys)), number(Double($0.value.elements)), number(Double($0.value.bytes))] },
            alignRight: [1, 2, 3])
        out += "\n" + Markdown.table(header: ["Encoding", "Keys"],
                                     rows: p.byEncoding.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { [$0.key, number(Double($0.value))] }, alignRight: [1])
        out += moduleValuesLine(p.moduleTypes)
        if !p.biggestByElements.isEmpty {
            out += "\n### Biggest keys by elements\n\n" + Markdown.table(
                header: ["Key", "DB", "Type", "Elements"],
                rows: p.biggestByElements.map { [Markdown.code($0.key), String($0.db), $0.type, size($0.size, $0.sizeKind)] },
                alignRight: [1, 3])
        }
        out += "\n### Biggest keys by bytes\n\n" + Markdown.table(
            header: ["Key", "DB", "Type", "Bytes in the file"],
            rows: p.biggestByBytes.map { [Markdown.code($0.key), String($0.db), $0.type, number(Double($0.bytes))] },
            alignRight: [1, 3])
        out += "\n### Key patterns\n\n" + Markdown.table(
            header: ["Pattern", "Keys", "Bytes in the file"],
            rows: p.patterns.prefix(20).map { [Markdown.code($0.pattern), number(Double($0.keys)), number(Double($0.bytes))] },
            alignRight: [1, 2])
        return out
    }

    /// Which module values the reader takes a size from and which it only skips.
    package static func moduleValuesLine(_ types: [Snapshot.ModuleType]) -> String {
        guard !types.isEmpty else { return "" }
        let read = types.compactMap { t in
            t.sizeFrom.map { "\(Markdown.code(t.type)) (\($0), encoding \(t.encodingVersions?.contains("-") == true ? "versions" : "version") \(t.encodingVersions ?? "?"))" }
        }
        let skipped = types.filter { $0.sizeFrom == nil }.map { Markdown.code($0.type) }
        var parts: [String] = []
        if !read.isEmpty { parts.append("sizes read from the value for \(read.joined(separator: ", "))") }
        if !skipped.isEmpty { parts.append("only skipped, size unknown: \(skipped.joined(separator: ", "))") }
        return "\n- Module values: " + parts.joined(separator: "; ")
            + ". A value of another encoding version is only skipped, and module aux data always is.\n"
    }

    public static func json(_ r: AnalysisResult, options: ReportOptions = .init()) -> String { JSONText.render(document(r, options: options)) }
}

/// `redis-cost state`: the replayed data set in the shape of the corpus's final-state.json.
public enum StateReport {
    /// Keys are named by their bytes in hex; under `--redact-keys`, by the 64-bit hash of the
    /// name in hex instead (whose first 8 digits end the redacted name).
    package struct Key: Codable, Sendable {
        package var type: String
        package var size: Int?
        package var key: String
        package var has_ttl: Bool
        /// Only on a key whose size the replay could not follow.
        package var approximate: Omittable<Bool>?
    }

    public static func json(_ keyspace: Keyspace, options: ReportOptions = .init()) -> String {
        var databases: [String: [String: Key]] = [:]
        for db in keyspace.databaseNumbers {
            var keys: [String: Key] = [:]
            for id in keyspace.keys(in: db) {
                let record = keyspace[id]
                let name = keyspace.nameBytes(of: id)
                let item = Key(type: record.value.typeName, size: record.value.size.count, key: options.key(name),
                               has_ttl: keyspace.expireAt(id) != 0, approximate: record.approximate ? Omittable(true) : nil)
                keys[options.redactKeys ? KeyText.hashText(elementHash(name), digits: 16) : KeyText.hexString(name)] = item
            }
            databases[String(db)] = keys
        }
        return JSONText.render(databases)
    }
}
