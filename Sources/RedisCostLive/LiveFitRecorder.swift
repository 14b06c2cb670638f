import RedisCostCore
import RedisCostTable
import RedisCostAnalysis

/// `monitor --fit-model`: the observations the time model is fitted on. Each read of INFO
/// commandstats is paired with the point where it shows in the MONITOR stream (the calls
/// analysed before it ran before it), where the analysis's features per command are noted;
/// between two reads, a command whose calls the server counted exactly as the stream showed
/// them, all with a known cost and none of them the tool's, gives one window: the server's
/// microseconds against the features of those calls.
package final class LiveFitRecorder {
    private struct Sight {
        var features: [TimeModel.Features]
        var calls: [Int]
        var unknownCalls: [Int]
        var nested: [Int: [Int: TimeModel.Features]]
    }

    private var sights: [Sight] = []
    private var readings: [(reading: CommandStatsReading, toolSent: [String: Int])] = []

    package init() {}

    /// A read the server answered (`toolSent` by commandstats name).
    func read(_ reading: CommandStatsReading, toolSent: [String: Int]) {
        readings.append((reading, toolSent))
    }

    /// A read showed in the stream: what the analysis had counted by then.
    func sawRead(_ aggregation: Aggregation) {
        sights.append(Sight(features: aggregation.features, calls: aggregation.commandStats.map(\.calls),
                            unknownCalls: aggregation.commandStats.map(\.unknownCalls), nested: aggregation.nestedFeatures))
    }

    /// The windows, per command (table name).
    package func observations(table: CommandTable, aggregation: Aggregation, server: String, serverVersion: String?) -> WorkloadFit.Observations {
        var out = WorkloadFit.Observations(server: server, serverVersion: serverVersion)
        let names = table.entries.map(\.name)
        for entry in table.entries { out.classes[entry.name] = TimeModel.elementClass(ofGroup: entry.group) }
        // Reads and sights pair in order; a read that failed showed in the stream but ended the reads.
        let paired = min(sights.count, readings.count)
        out.windows = max(0, paired - 1)
        guard paired > 1 else { return out }
        for k in 0..<(paired - 1) {
            let before = sights[k], after = sights[k + 1]
            let readBefore = readings[k], readAfter = readings[k + 1]
            for i in names.indices where after.calls[i] > before.calls[i] {
                let stat = CommandStatsReading.statName(names[i])
                func leaveOut(_ reason: String) { out.leftOut[reason, default: 0] += 1 }
                guard after.unknownCalls[i] == before.unknownCalls[i] else { leaveOut("a call of unknown cost"); continue }
                let tool = (readAfter.toolSent[stat] ?? 0) - (readBefore.toolSent[stat] ?? 0)
                guard tool == 0 else { leaveOut("the tool ran the command too"); continue }
                guard let now = readAfter.reading.counters[stat] else { leaveOut("not in commandstats"); continue }
                let then = readBefore.reading.counters[stat] ?? .init(name: stat, calls: 0, microseconds: 0)
                let calls = now.calls - then.calls, usec = now.microseconds - then.microseconds
                guard calls >= 0, usec >= 0 else { leaveOut("counters reset"); continue }
                guard calls == after.calls[i] - before.calls[i] else { leaveOut("calls counted differently than the stream showed"); continue }
                guard usec > 0 else { leaveOut("no time counted (under 1 µs)"); continue }
                var point = WorkloadFit.Point(features: after.features[i] - before.features[i], microseconds: Double(usec))
                for (inner, f) in after.nested[i] ?? [:] {
                    let delta = f - (before.nested[i]?[inner] ?? .zero)
                    if delta.calls > 0 { point.inner[names[inner], default: .zero] = point.inner[names[inner], default: .zero] + delta }
                }
                out.points[names[i], default: []].append(point)
                if aggregation.commandStats[i].isWrapper { out.wrappers.insert(names[i]) }
            }
        }
        return out
    }
}
