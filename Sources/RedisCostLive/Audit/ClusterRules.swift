import Foundation
import RedisCostCore
import RedisCostAnalysis

/// A rule about a Redis Cluster as a whole, read from a `ClusterSnapshot` (`audit --cluster`).
public protocol ClusterAuditRule: AuditRuleDeclaration {
    static func findings(in cluster: ClusterSnapshot) -> [Finding]
}

/// Runs every cluster rule; each node's own audit (primary or replica) runs the `Audit` rules.
public enum ClusterAudit {
    public static let ruleTypes: [any ClusterAuditRule.Type] = [
        SlotCoverageRule.self, NodeFailRule.self, ClusterReplicationRule.self, KeySkewRule.self, ClusterHotSlotRule.self, SlotStatsRule.self,
    ]

    public static func findings(_ cluster: ClusterSnapshot) -> [Finding] {
        ruleTypes.flatMap { $0.findings(in: cluster) }.sorted { ($0.severity, $0.count) > ($1.severity, $1.count) }
    }

    /// `100-199`, or `7` for a range of one slot.
    package static func slots(_ range: ClosedRange<Int>) -> String {
        range.count == 1 ? String(range.lowerBound) : "\(range.lowerBound)-\(range.upperBound)"
    }
}

/// Every one of the 16384 hash slots served by a primary.
package struct SlotCoverageRule: ClusterAuditRule {
    package static let id = "cluster-slots"
    package static let title = "Hash slots no primary serves"
    package static let severity = Finding.Severity.critical
    package static let why = "A key whose hash slot no primary serves cannot be read or written (CLUSTERDOWN Hash slot not served); with cluster-require-full-coverage yes (the default) the whole cluster stops answering."
    package static let fix = "Give the slots to a primary (redis-cli --cluster fix, or CLUSTER ADDSLOTSRANGE on the primary that should own them), or bring back the primary that served them."

    package static func findings(in c: ClusterSnapshot) -> [Finding] {
        let uncovered = c.uncoveredSlots
        guard !uncovered.isEmpty else { return [] }
        let count = uncovered.reduce(0) { $0 + $1.count }
        var facts = uncovered.prefix(50).map { "uncovered slots \(ClusterAudit.slots($0)) (\($0.count))" }
        if uncovered.count > 50 { facts.append("and \(uncovered.count - 50) more ranges") }
        for p in c.primaries where p.server == nil {
            facts.append("\(p.address) did not answer (\(p.unreachable ?? "?")); \(c.seed) gives it slots \(p.announcedSlots.map(ClusterAudit.slots).joined(separator: " "))")
        }
        let ranges = uncovered.prefix(10).map(ClusterAudit.slots).joined(separator: ", ") + (uncovered.count > 10 ? ", …" : "")
        return [finding("\(count) of 16384 slots are served by no primary that answered: \(ranges).", facts: facts, count: count)]
    }
}

/// A node the cluster (or one primary) marks `fail` or `pfail`.
package struct NodeFailRule: ClusterAuditRule {
    package static let id = "cluster-node-fail"
    package static let title = "Cluster nodes marked failed"
    package static let severity = Finding.Severity.critical
    package static let why = "A node in fail state is one the primaries agreed is down: its slots have failed over to a replica, or, without one, are served by nobody. pfail (fail?) is one node's view that it cannot reach it, before the others agree."
    package static let fix = "Bring the node back or replace it (CLUSTER FORGET it on every node once it is gone for good); give every primary a replica so its slots fail over."

    package static func findings(in c: ClusterSnapshot) -> [Finding] {
        // By node id: each primary's view of it.
        var seen: [String: (address: String, fail: [String], pfail: [String])] = [:]
        var order: [String] = []
        for primary in c.primaries {
            for line in primary.nodes ?? [] {
                guard let state = line.failState else { continue }
                if seen[line.id] == nil { order.append(line.id); seen[line.id] = (line.address, [], []) }
                if state == "fail" { seen[line.id]!.fail.append(primary.address) } else { seen[line.id]!.pfail.append(primary.address) }
            }
        }
        guard !order.isEmpty else { return [] }
        let failed = order.filter { !seen[$0]!.fail.isEmpty }
        let facts = order.map { id -> String in
            let node = seen[id]!
            var views: [String] = []
            if !node.fail.isEmpty { views.append("fail as seen by \(node.fail.joined(separator: ", "))") }
            if !node.pfail.isEmpty { views.append("pfail as seen by \(node.pfail.joined(separator: ", "))") }
            return "\(node.address) (\(id.prefix(12))): " + views.joined(separator: "; ")
        }
        let summary = failed.isEmpty
            ? "\(order.count) node\(order.count == 1 ? "" : "s") in pfail state (not yet agreed failed): \(order.map { seen[$0]!.address }.joined(separator: ", "))."
            : "\(failed.count) node\(failed.count == 1 ? "" : "s") in fail state: \(failed.map { seen[$0]!.address }.joined(separator: ", "))"
                + (order.count > failed.count ? "; \(order.count - failed.count) more in pfail." : ".")
        return [finding(summary, facts: facts, severity: failed.isEmpty ? .warning : nil, count: order.count)]
    }
}

/// Keys spread unevenly across the primaries.
package struct KeySkewRule: ClusterAuditRule {
    package static let id = "cluster-key-skew"
    package static let title = "Keys spread unevenly across primaries"
    package static let severity = Finding.Severity.warning
    package static let why = "The primary with the most keys fills its memory first and, with keys that are read as often as the others, takes more of the load: the cluster is only as large as its fullest node."
    package static let fix = "Look for hash tags that pin many keys to one slot ({user}:…), and for big keys; move slots to the other primaries (redis-cli --cluster rebalance)."
    /// Fires when the primary with the most keys holds more than this many times the mean per
    /// primary, and at least `minimumKeys` (below that the difference costs nothing).
    package static let ratio = 2.0
    package static let minimumKeys = 1000

    package static func findings(in c: ClusterSnapshot) -> [Finding] {
        let counted = c.primaries.compactMap { p in p.keys.map { (p.address, $0) } }
        guard counted.count >= 2, let busiest = counted.max(by: { $0.1 < $1.1 }), busiest.1 >= minimumKeys else { return [] }
        // Doubles: a count is at most 2^63, a sum of counts no more than a few of those; the ratio needs no exactness beyond that.
        let mean = counted.reduce(0.0) { $0 + Double($1.1) } / Double(counted.count)
        guard Double(busiest.1) > ratio * mean else { return [] }
        let summary = "\(busiest.0) holds \(grouped(busiest.1)) keys, \(String(format: "%.2f", Double(busiest.1) / mean))× the mean of \(grouped(mean.rounded())) per primary (fires above \(String(format: "%.0f", ratio))× the mean with at least \(grouped(minimumKeys)) keys)."
        return [finding(summary, facts: counted.map { "\($0.0) DBSIZE \($0.1)" })]
    }
}

/// `cluster-slot-stats-enabled no` on a server that has it (Redis 8.2+, Valkey 8.0+).
package struct SlotStatsRule: ClusterAuditRule {
    package static let id = "cluster-slot-stats"
    package static let title = "Per-slot CPU and network statistics are off"
    package static let severity = Finding.Severity.info
    package static let why = "CLUSTER SLOT-STATS always counts keys per slot; with cluster-slot-stats-enabled it also gives each slot's CPU time and network bytes, which is how a hot slot is found and moved."
    package static let fix = "CONFIG SET cluster-slot-stats-enabled yes on every primary (and in its config file); it adds a little bookkeeping to every command."

    package static func findings(in c: ClusterSnapshot) -> [Finding] {
        // A server without the setting leaves it out of CONFIG GET *: no finding.
        let off = c.primaries.filter { $0.server?.config?["cluster-slot-stats-enabled"] == "no" }
        guard !off.isEmpty else { return [] }
        return [finding("cluster-slot-stats-enabled is no on \(off.count) of \(c.primaries.count) primaries.",
                        facts: off.map { "\($0.address) cluster-slot-stats-enabled no" }, count: off.count)]
    }
}
