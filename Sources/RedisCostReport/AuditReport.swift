import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostTable
import RedisCostAnalysis
import RedisCostLive

/// `redis-cost audit`: what to change on the server, with the evidence read from it.
public enum AuditReport {
    /// The markdown walks the same values as the JSON.
    public static func markdown(_ s: ServerSnapshot, findings: [Finding], options: ReportOptions = .init()) -> String {
        markdown(document(s, findings: findings, options: options))
    }

    package static func markdown(_ doc: Document) -> String {
        var out = "# redis-cost audit of \(Markdown.cell(doc.server)) (\(Markdown.cell(doc.version)))\n\n"
        out += FindingsReport.fixFirst(doc.findings) + "\n## Server\n\n"
        let info = doc.info
        out += Markdown.cell("- \(doc.version), \(info.mode.map { "\($0) mode, " } ?? "")role \(info.role ?? "unknown"), up \(info.uptimeInDays ?? "?") days") + "\n"
        if let used = info.used_memory {
            let maxmemory = info.maxmemory.map { $0 > 0 ? Audit.bytes($0) : "none" } ?? "unknown"
            out += "- Memory: used \(Audit.bytes(used)), RSS \(Audit.bytes(info.usedMemoryRSS ?? 0)), maxmemory \(maxmemory)\n"
        }
        if !info.keyspace.isEmpty { out += "- Keys: " + Markdown.cell(info.keyspace.map { "\($0.database) \($0.keys)" }.joined(separator: "; ")) + "\n" }
        out += Markdown.cell("- Clients: \(info.connectedClientsText ?? "?") connected, \(info.opsPerSecond ?? "?") ops/s now") + "\n"
        var read = ["INFO"]
        if doc.read.config { read.append("CONFIG GET") }
        if let entries = doc.read.slowlog { read.append("SLOWLOG (\(entries) entries)") }
        if doc.read.commandlog { read.append("COMMANDLOG") }
        if let clients = doc.read.clients { read.append("CLIENT LIST (\(clients) clients)") }
        if doc.read.latency { read.append("LATENCY LATEST") }
        out += "- Read (read-only commands): \(read.joined(separator: ", ")); key sizes in the logs from database \(doc.database) with O(1) commands\n"
        if !doc.denied.isEmpty {
            out += "- **Could not read** (the user lacks the permission; the rules that need it were skipped): " + doc.denied.map(Markdown.cell).joined(separator: "; ") + "\n"
        }
        out += FindingsReport.markdown(doc.findings)
        if let latency = doc.latency, !latency.isEmpty {
            out += "\n## Latency events (`LATENCY LATEST`)\n\n" + Markdown.table(
                header: ["Event", "Latest (ms)", "Max (ms)", "When"],
                rows: latency.map { [$0.event, String($0.latest), String($0.max), AnalysisReport.time($0.time)] }, alignRight: [1, 2])
        }
        return out
    }

    public struct Document: Codable, Sendable, JSONSchemaNamed {
        package static let schemaName = "audit"
        /// What could be read from the server: whether, or how many entries.
        package struct Read: Codable, Sendable {
            package var config: Bool
            package var slowlog: Int?
            package var commandlog: Bool
            package var clients: Int?
            package var latency: Bool
        }
        package struct Info: Codable, Sendable {
            /// A database's line of INFO keyspace (`db0`: `keys=12,expires=0,avg_ttl=0`).
            package struct Keyspace: Codable, Sendable {
                package var database: String
                package var keys: String
            }
            package var role: String?
            /// `standalone`, `cluster` or `sentinel`: INFO's `redis_mode` (Valkey: `server_mode`).
            package var mode: String?
            package var used_memory: Double?
            package var connected_clients: Double?
            package var usedMemoryRSS: Double?
            /// CONFIG GET maxmemory (0: no limit); null when CONFIG could not be read.
            package var maxmemory: Double?
            package var uptimeInDays: String?
            /// `connected_clients` as INFO wrote it.
            package var connectedClientsText: String?
            /// `instantaneous_ops_per_sec` as INFO wrote it.
            package var opsPerSecond: String?
            package var keyspace: [Keyspace]
        }
        /// `LATENCY LATEST`, when it could be read: each event's latest and largest spike (ms)
        /// and when the latest happened (Unix seconds).
        package struct LatencyEvent: Codable, Sendable {
            package var event: String
            package var latest: Int
            package var max: Int
            package var time: Int64
        }
        package var schemaVersion = ReportSchemaVersion()
        package var server: String
        package var version: String
        package var database: Int
        package var denied: [String]
        package var findings: [FindingsReport.Item]
        package var read: Read
        package var info: Info
        package var latency: [LatencyEvent]?
    }

    public static func document(_ s: ServerSnapshot, findings: [Finding], options: ReportOptions = .init()) -> Document {
        Document(server: s.server, version: s.version, database: s.database, denied: s.denied,
                 findings: FindingsReport.items(findings, options: options),
                 read: .init(config: s.config != nil, slowlog: s.slowlog?.count, commandlog: s.largeRequests != nil,
                             clients: s.clients?.count, latency: s.latency != nil),
                 info: .init(role: s.info["role"], mode: s.info["redis_mode"] ?? s.info["server_mode"], used_memory: s.number("used_memory"), connected_clients: s.number("connected_clients"),
                             usedMemoryRSS: s.number("used_memory_rss"), maxmemory: s.config?["maxmemory"].flatMap(Double.init),
                             uptimeInDays: s.info["uptime_in_days"], connectedClientsText: s.info["connected_clients"],
                             opsPerSecond: s.info["instantaneous_ops_per_sec"],
                             keyspace: s.info.filter { $0.key.hasPrefix("db") && $0.key.dropFirst(2).allSatisfy(\.isNumber) }
                                 .sorted { $0.key < $1.key }.map { .init(database: $0.key, keys: $0.value) }),
                 latency: s.latency?.map { .init(event: $0.event, latest: $0.latest, max: $0.max, time: $0.time) })
    }

    public static func json(_ s: ServerSnapshot, findings: [Finding], options: ReportOptions = .init()) -> String {
        JSONText.render(document(s, findings: findings, options: options))
    }

    // MARK: audit --cluster

    /// `redis-cost audit --cluster`: the cluster's findings, then every node's own audit.
    public struct ClusterDocument: Codable, Sendable, JSONSchemaNamed, JSONSchemaDescribed {
        package static let schemaName = "auditCluster"
        package static let fieldDescriptions = [
            "seed": "The node the primaries were asked of (host:port).",
            "source": "The command that named the primaries: CLUSTER SHARDS, or CLUSTER SLOTS before 7.0.",
            "uncoveredSlots": "Slot ranges no primary that answered serves by its own account (CLUSTER NODES, its myself line).",
            "findings": "The cluster rules' findings; each node's own are in its audit.",
            "replicas": "Every replica a primary that answered lists as its own (its CLUSTER NODES), after the primaries' order.",
            "hotSlots": "CLUSTER SLOT-STATS where the primaries have it (Redis 8.2+, Valkey 8.0+): the 5 slots with the most keys and the 5 with the most cpu-usec, most keys first, none with neither; null when no primary's could be read.",
        ]
        /// An inclusive range of hash slots.
        package struct SlotRange: Codable, Sendable {
            package var first: Int
            package var last: Int
        }
        /// A primary, or a replica of one.
        package struct Node: Codable, Sendable, JSONSchemaDescribed {
            package static let fieldDescriptions = [
                "role": "primary or replica.",
                "primary": "A replica's primary (host:port, as in primaries); null for a primary.",
                "slots": "The slots the seed says the primary serves; empty for a replica.",
                "ownSlots": "The slots the primary says it serves itself; null when CLUSTER NODES could not be read from it, and for a replica.",
                "keys": "DBSIZE; null when it could not be read.",
                "link": "A replica's master_link_status (up or down) as its INFO replication says; null for a primary or when unread.",
                "unreachable": "null, or why the node could not be read (then audit is null).",
                "audit": "The audit of this node, as `redis-cost audit` of it alone writes it.",
            ]
            package var address: String
            package var role: String
            package var primary: String?
            package var slots: [SlotRange]
            package var ownSlots: [SlotRange]?
            package var keys: Int?
            package var link: String?
            package var unreachable: String?
            package var audit: Document?
        }
        /// One slot of the hottest: its primary's CLUSTER SLOT-STATS counters.
        package struct HotSlot: Codable, Sendable, JSONSchemaDescribed {
            package static let fieldDescriptions = [
                "node": "The primary that serves the slot.",
                "keys": "key-count.",
                "cpuMicroseconds": "cpu-usec since the statistics were reset; null when the primary does not count it (cluster-slot-stats-enabled no).",
            ]
            package var slot: Int
            package var node: String
            package var keys: Int
            package var cpuMicroseconds: Int?
        }
        package var schemaVersion = ReportSchemaVersion()
        package var seed: String
        package var source: String
        package var uncoveredSlots: [SlotRange]
        package var findings: [FindingsReport.Item]
        package var primaries: [Node]
        package var replicas: [Node]
        package var hotSlots: [HotSlot]?
    }

    /// `nodeFindings` are the primaries' own, in their order; `replicaFindings` the replicas'.
    public static func clusterDocument(_ c: ClusterSnapshot, findings: [Finding], nodeFindings: [[Finding]], replicaFindings: [[Finding]] = [],
                                       options: ReportOptions = .init()) -> ClusterDocument {
        func ranges(_ slots: [ClosedRange<Int>]) -> [ClusterDocument.SlotRange] { slots.map { .init(first: $0.lowerBound, last: $0.upperBound) } }
        let replicas = c.replicas ?? []
        let replicaFindings = replicaFindings + Array(repeating: [], count: max(0, replicas.count - replicaFindings.count))
        let hot = c.hottestSlots()
        return ClusterDocument(
            seed: c.seed, source: c.source, uncoveredSlots: ranges(c.uncoveredSlots), findings: FindingsReport.items(findings, options: options),
            primaries: zip(c.primaries, nodeFindings).map { p, found in
                .init(address: p.address, role: "primary", primary: nil, slots: ranges(p.announcedSlots), ownSlots: p.ownSlots.map(ranges), keys: p.keys,
                      link: nil, unreachable: p.unreachable, audit: p.server.map { document($0, findings: found, options: options) })
            },
            replicas: zip(replicas, replicaFindings).map { r, found in
                .init(address: r.address, role: "replica", primary: r.primary, slots: [], ownSlots: nil, keys: r.keys,
                      link: r.server?.info["master_link_status"], unreachable: r.unreachable, audit: r.server.map { document($0, findings: found, options: options) })
            },
            hotSlots: c.primaries.contains { $0.slotStats != nil }
                ? hot.map { .init(slot: $0.slot, node: $0.node, keys: $0.keys, cpuMicroseconds: $0.cpuMicroseconds) } : nil)
    }

    public static func clusterJSON(_ c: ClusterSnapshot, findings: [Finding], nodeFindings: [[Finding]], replicaFindings: [[Finding]] = [],
                                   options: ReportOptions = .init()) -> String {
        JSONText.render(clusterDocument(c, findings: findings, nodeFindings: nodeFindings, replicaFindings: replicaFindings, options: options))
    }

    public static func clusterMarkdown(_ c: ClusterSnapshot, findings: [Finding], nodeFindings: [[Finding]], replicaFindings: [[Finding]] = [],
                                       options: ReportOptions = .init()) -> String {
        markdown(clusterDocument(c, findings: findings, nodeFindings: nodeFindings, replicaFindings: replicaFindings, options: options))
    }

    /// The cluster's findings, a row per primary and per replica, the hottest slots, then each
    /// node's audit a heading level down, each replica's after its primary's.
    package static func markdown(_ doc: ClusterDocument) -> String {
        func slots(_ ranges: [ClusterDocument.SlotRange]) -> String {
            ranges.map { $0.first == $0.last ? String($0.first) : "\($0.first)-\($0.last)" }.joined(separator: " ")
        }
        func severities(_ audit: Document) -> String {
            FindingsReport.Item.Severity.allCases.reversed().compactMap { level -> String? in
                let n = audit.findings.filter { $0.severity == level }.count
                return n > 0 ? "\(n) \(level.rawValue)" : nil
            }.joined(separator: ", ")
        }
        let replicaCount = doc.replicas.isEmpty ? "" : ", \(doc.replicas.count) replica\(doc.replicas.count == 1 ? "" : "s")"
        var out = "# redis-cost audit of the cluster of \(Markdown.cell(doc.seed)) (\(doc.primaries.count) primaries\(replicaCount), from \(doc.source))\n\n"
        out += FindingsReport.fixFirst(doc.findings) + "\n## Primaries\n\n"
        out += Markdown.table(
            header: ["Node", "Mode", "Version", "Slots", "Keys", "Findings"],
            rows: doc.primaries.map { p in
                guard let audit = p.audit else {
                    return [Markdown.code(p.address), "", "", slots(p.slots), "", "did not answer: " + Markdown.cell(p.unreachable ?? "?")]
                }
                let own = p.ownSlots.map(slots) ?? slots(p.slots)
                return [Markdown.code(p.address), Markdown.cell(audit.info.mode ?? "?"), Markdown.cell(audit.version), own,
                        p.keys.map { grouped($0) } ?? "?", severities(audit)]
            }, alignRight: [4])
        if !doc.replicas.isEmpty {
            out += "\n## Replicas\n\n" + Markdown.table(
                header: ["Node", "Replica of", "Version", "Link", "Keys", "Findings"],
                rows: doc.replicas.map { r in
                    guard let audit = r.audit else {
                        return [Markdown.code(r.address), Markdown.code(r.primary ?? "?"), "", "", "", "did not answer: " + Markdown.cell(r.unreachable ?? "?")]
                    }
                    return [Markdown.code(r.address), Markdown.code(r.primary ?? "?"), Markdown.cell(audit.version), Markdown.cell(r.link ?? "?"),
                            r.keys.map { grouped($0) } ?? "?", severities(audit)]
                }, alignRight: [4])
        }
        if !doc.uncoveredSlots.isEmpty { out += "\nSlots served by no primary: \(slots(doc.uncoveredSlots)).\n" }
        if let hot = doc.hotSlots, !hot.isEmpty {
            let cpu = hot.contains { $0.cpuMicroseconds != nil }
            out += "\n## Hottest slots (`CLUSTER SLOT-STATS`)\n\n" + Markdown.table(
                header: ["Slot", "Node", "Keys"] + (cpu ? ["CPU (µs)"] : []),
                rows: hot.map { h in [String(h.slot), Markdown.code(h.node), grouped(h.keys)] + (cpu ? [h.cpuMicroseconds.map { grouped($0) } ?? ""] : []) },
                alignRight: cpu ? [0, 2, 3] : [0, 2])
        }
        out += FindingsReport.markdown(doc.findings)
        // The node's own report, its headings one level down under the node's.
        func section(_ heading: String, _ audit: Document) -> String {
            let body = markdown(audit).split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
                .map { $0.hasPrefix("#") ? "#" + $0 : String($0) }.joined(separator: "\n")
            return "\n## \(heading) (\(Markdown.cell(audit.version)))\n" + body
        }
        for p in doc.primaries {
            if let audit = p.audit { out += section("Node \(Markdown.code(p.address))", audit) }
            for r in doc.replicas where r.primary == p.address {
                guard let audit = r.audit else { continue }
                out += section("Replica \(Markdown.code(r.address)) of \(Markdown.code(p.address))", audit)
            }
        }
        return out
    }
}
