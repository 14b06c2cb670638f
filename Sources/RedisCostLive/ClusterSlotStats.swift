import RedisCostCore
import RedisCostFormats

/// `CLUSTER SLOT-STATS SLOTSRANGE 0 16383` (Valkey 8.0+, Redis 8.2+): for each slot the node
/// serves, `[slot, {key-count, cpu-usec, network-bytes-in, network-bytes-out}]` — a map in RESP3,
/// a flat name/value array in RESP2 (cluster_slot_stats.c addReplySortedSlotStats). Without
/// `cluster-slot-stats-enabled yes` only `key-count` is there. Every counter is checked: a reply
/// of the wrong shape is one line naming the server and the command.
package struct ClusterSlotStats: Sendable, Equatable {
    /// Slot → `cpu-usec`; empty when the server does not count it (`cpuCounted` false).
    package var cpuMicroseconds: [Int: Int] = [:]
    /// Slot → `key-count`.
    package var keys: [Int: Int] = [:]
    /// Some slot carried `cpu-usec` (the setting is on), or the node serves no slot.
    package var cpuCounted = false

    package static let arguments = ["CLUSTER", "SLOT-STATS", "SLOTSRANGE", "0", "16383"]

    /// Whether the server has the command, by its id (`valkey-9.1.2`, `redis-8.2.3`): asking one
    /// that has not would send an unknown subcommand for nothing.
    package static func isSupported(serverID: String?) -> Bool {
        guard let id = serverID else { return false }
        func version(_ rest: Substring) -> (Int, Int) {
            let parts = rest.split(separator: ".").map { Int($0) ?? 0 }
            return (parts.first ?? 0, parts.count > 1 ? parts[1] : 0)
        }
        if id.hasPrefix("valkey-") { return version(id.dropFirst(7)) >= (8, 0) }
        if id.hasPrefix("redis-") { return version(id.dropFirst(6)) >= (8, 2) }
        return false
    }

    package static func parse(_ reply: RESPValue, server: String) throws(ServerError) -> ClusterSlotStats {
        func bad(_ detail: String) -> ServerError { ServerError(server: server, command: arguments.joined(separator: " "), detail: detail) }
        if case .error(let message) = reply { throw bad(RedisConnection.explain(message)) }
        guard case .array(let items) = reply else { throw bad("expected an array, got \(reply.kind)") }
        var stats = ClusterSlotStats()
        for item in items {
            guard case .array(let pair) = item, pair.count == 2, let slot = pair[0].int, (0..<16384).contains(slot) else {
                throw bad("expected [slot, statistics] with a slot within 0…16383")
            }
            var fields: [(String, RESPValue)] = []
            switch pair[1] {
            case .map(let entries): fields = entries.compactMap { name, value in name.text.map { ($0, value) } }
            case .array(let flat) where flat.count % 2 == 0:
                fields = stride(from: 0, to: flat.count, by: 2).compactMap { i in flat[i].text.map { ($0, flat[i + 1]) } }
            default: throw bad("expected a slot's statistics as name/value pairs, got \(pair[1].kind)")
            }
            for (name, value) in fields where name == "key-count" || name == "cpu-usec" {
                guard let n = value.int, (0...CommandStatsReading.largestCounter).contains(n) else {
                    throw bad("\(name) of slot \(slot) must be an integer from 0 to 2^53")
                }
                if name == "key-count" { stats.keys[slot] = n } else { stats.cpuMicroseconds[slot] = n }
            }
        }
        stats.cpuCounted = items.isEmpty || !stats.cpuMicroseconds.isEmpty
        return stats
    }

    /// Per slot read in both, `later`'s cpu-usec less this one's; a slot whose counter went down
    /// (CLUSTER SLOT-STATS is reset with the stats, or the slot left and came back) is left out.
    package func cpuDelta(to later: ClusterSlotStats) -> [Int: Int] {
        var out: [Int: Int] = [:]
        for (slot, before) in cpuMicroseconds {
            guard let after = later.cpuMicroseconds[slot], after >= before else { continue }
            out[slot] = after - before
        }
        return out
    }
}
