import Foundation
import RedisCostCore
import RedisCostAnalysis

/// One hash slot that holds most of its primary's keys, or takes most of its CPU time
/// (CLUSTER SLOT-STATS: Redis 8.2+, Valkey 8.0+).
package struct ClusterHotSlotRule: ClusterAuditRule {
    package static let id = "cluster-hot-slot"
    package static let title = "One slot holds most of a primary's keys or CPU time"
    package static let severity = Finding.Severity.warning
    package static let why = "A slot is the smallest thing a cluster can move: a slot that holds most of its primary's keys (a hash tag such as {user}:… that pins them together) or takes most of its CPU time cannot be spread by adding primaries or rebalancing; that primary fills and saturates first."
    package static let fix = "Spread the keys over more hash tags (or drop the tag where multi-key commands do not need it); move the hot slot to a primary of its own (CLUSTER SETSLOT … MIGRATING/IMPORTING, redis-cli --cluster reshard)."
    /// Fires when one slot holds more than this share of its primary's keys, and at least `minimumKeys`.
    package static let keyShare = 0.5
    package static let minimumKeys = 1000
    /// Or, with cluster-slot-stats-enabled yes, more than this share of its primary's cpu-usec,
    /// and at least `minimumMicroseconds` (one second of CPU: below that nothing is hot).
    package static let cpuShare = 0.5
    package static let minimumMicroseconds = 1_000_000

    package static func findings(in c: ClusterSnapshot) -> [Finding] {
        var facts: [String] = [], hot: [String] = []
        for primary in c.primaries {
            guard let stats = primary.slotStats else { continue }
            if let (slot, keys) = busiest(stats.keys), keys >= minimumKeys, share(keys, of: stats.keys) > keyShare {
                let total = stats.keys.values.reduce(0.0) { $0 + Double($1) }
                facts.append("slot \(slot) on \(primary.address) holds \(grouped(keys)) of its \(grouped(total)) keys (\(percent(keys, total)))")
                hot.append("slot \(slot) (\(primary.address), \(grouped(keys)) keys)")
            }
            if stats.cpuCounted, let (slot, usec) = busiest(stats.cpuMicroseconds), usec >= minimumMicroseconds, share(usec, of: stats.cpuMicroseconds) > cpuShare {
                let total = stats.cpuMicroseconds.values.reduce(0.0) { $0 + Double($1) }
                facts.append("slot \(slot) on \(primary.address) took \(grouped(usec)) of its \(grouped(total)) cpu-usec (\(percent(usec, total)))")
                hot.append("slot \(slot) (\(primary.address), \(grouped(usec)) cpu-usec)")
            }
        }
        guard !facts.isEmpty else { return [] }
        let summary = "Hot slot\(hot.count == 1 ? "" : "s"): \(hot.joined(separator: ", ")) (fires above \(Int(keyShare * 100))% of a primary's keys with at least \(grouped(minimumKeys)), or \(Int(cpuShare * 100))% of its cpu-usec with at least \(grouped(minimumMicroseconds)) µs)."
        return [finding(summary, facts: facts, count: facts.count)]
    }

    /// The slot with the largest count, the lowest slot on a tie.
    static func busiest(_ counts: [Int: Int]) -> (Int, Int)? {
        counts.max { ($0.value, $1.key) < ($1.value, $0.key) }.map { ($0.key, $0.value) }
    }

    /// `part`'s share of the counts' sum. Doubles: 16384 counters of up to 2^53 each overflow an Int's sum.
    static func share(_ part: Int, of counts: [Int: Int]) -> Double {
        let total = counts.values.reduce(0.0) { $0 + Double($1) }
        return total > 0 ? Double(part) / total : 0
    }

    static func percent(_ part: Int, _ total: Double) -> String {
        String(format: "%.1f%%", total > 0 ? Double(part) / total * 100 : 0)
    }
}
