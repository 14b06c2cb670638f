import Foundation
import RedisCostCore
import RedisCostAnalysis

/// Every primary has a replica that follows it: linked, heard from lately, not far behind.
package struct ClusterReplicationRule: ClusterAuditRule {
    package static let id = "cluster-replication"
    package static let title = "Primaries that cannot fail over"
    package static let severity = Finding.Severity.warning
    package static let why = "When a primary goes, one of its replicas takes its slots; a primary without a replica, or whose replica's link is down or far behind, leaves its slots unserved (or loses the writes the replica had not received) until someone brings it back."
    package static let fix = "Give every primary a replica (CLUSTER REPLICATE on a new node, or redis-cli --cluster add-node --cluster-slave); bring back a replica that does not answer; for one whose link is down or that lags, look at its log, the network, and repl-backlog-size."
    /// A primary pings its replicas every repl-ping-replica-period (10 s by default), so an idle
    /// healthy link reads up to about 10 s; above three periods the link is as good as lost
    /// (repl-timeout, 60 s by default, drops it).
    package static let lastIOSeconds = 30
    /// Without the primary's repl_backlog_size: the server's default, 1 MB.
    package static let defaultBacklog = 1_048_576

    package static func findings(in c: ClusterSnapshot) -> [Finding] {
        guard let replicas = c.replicas else { return [] }
        var critical: [String] = [], warnings: [String] = [], healthy: [String] = []
        var alone: [String] = [], down: [String] = [], behind: [String] = [], unread: [String] = []
        for primary in c.primaries where primary.replicaLines != nil && !replicas.contains(where: { $0.primary == primary.address }) {
            alone.append(primary.address)
            let slots = (primary.ownSlots ?? primary.announcedSlots).map(ClusterAudit.slots).joined(separator: " ")
            warnings.append("\(primary.address) has no replica: its slots \(slots) cannot fail over")
        }
        for replica in replicas {
            let name = "replica \(replica.address) of \(replica.primary)"
            guard let s = replica.server else {
                unread.append(replica.address)
                warnings.append("\(name) did not answer (\(replica.unreachable ?? "?"))")
                continue
            }
            let link = s.info["master_link_status"]
            if link != "up" {
                down.append(replica.address)
                critical.append("\(name): master_link_status \(link ?? "missing") (role \(s.info["role"] ?? "?"))")
                continue
            }
            var problems: [String] = []
            // -1 while the link is down; anything else negative or unparsable is not a reading.
            let io = s.info["master_last_io_seconds_ago"].flatMap { Int($0) }.flatMap { $0 >= 0 ? $0 : nil }
            if let io, io > lastIOSeconds { problems.append("last heard from its primary \(io) s ago (fires above \(lastIOSeconds) s)") }
            let primaryServer = c.primaries.first { $0.address == replica.primary }?.server
            if let sent = counter(primaryServer?.info["master_repl_offset"]), let applied = counter(s.info["slave_repl_offset"]), sent > applied {
                // Both are checked to lie within 0…2^53: the difference is exact and cannot trap.
                let lag = sent - applied
                let backlog = counter(primaryServer?.info["repl_backlog_size"]).flatMap { $0 > 0 ? $0 : nil } ?? defaultBacklog
                if lag > backlog {
                    problems.append("\(grouped(lag)) bytes behind (primary master_repl_offset \(sent), replica slave_repl_offset \(applied)), more than the primary's repl-backlog-size \(grouped(backlog)): a reconnect needs a full resync")
                }
            }
            if problems.isEmpty {
                healthy.append("\(name): link up, last I/O \(io.map { "\($0) s" } ?? "?") ago")
            } else {
                behind.append(replica.address)
                warnings.append("\(name): " + problems.joined(separator: "; "))
            }
        }
        guard !critical.isEmpty || !warnings.isEmpty else { return [] }
        var parts: [String] = []
        if !alone.isEmpty { parts.append("\(alone.count) of \(c.primaries.count) primaries have no replica: \(alone.joined(separator: ", "))") }
        if !down.isEmpty { parts.append("replica link down on \(down.joined(separator: ", "))") }
        if !behind.isEmpty { parts.append("replica lagging: \(behind.joined(separator: ", "))") }
        if !unread.isEmpty { parts.append("replica not answering: \(unread.joined(separator: ", "))") }
        return [finding(parts.joined(separator: "; ") + ".", facts: critical + warnings + healthy,
                        severity: critical.isEmpty ? .warning : .critical, count: critical.count + warnings.count)]
    }

    /// An INFO counter within 0…2^53, or nil.
    static func counter(_ text: String?) -> Int? {
        text.flatMap { Int($0) }.flatMap { (0...CommandStatsReading.largestCounter).contains($0) ? $0 : nil }
    }
}
