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

    /// `redis-cost audit --cluster`: the cluster's findings, then every primary's own audit.
    public struct ClusterDocument: Codable, Sendable, JSONSchemaNamed, JSONSchemaDescribed {
        package static let schemaName = "auditCluster"
        package static let fieldDescriptions = [
            "seed": "The node the primaries were asked of (host:port).",
            "source": "The command that named the primaries: CLUSTER SHARDS, or CLUSTER SLOTS before 7.0.",
            "uncoveredSlots": "Slot ranges no primary that answered serves by its own account (CLUSTER NODES, its myself line).",
            "findings": "The cluster rules' findings; each primary's own are in its audit.",
        ]
        /// An inclusive range of hash slots.
        package struct SlotRange: Codable, Sendable {
            package var first: Int
            package var last: Int
        }
        package struct Primary: Codable, Sendable, JSONSchemaDescribed {
            package static let fieldDescriptions = [
                "slots": "The slots the seed says the primary serves.",
                "ownSlots": "The slots the primary says it serves itself; null when CLUSTER NODES could not be read from it.",
                "keys": "DBSIZE; null when it could not be read.",
                "unreachable": "null, or why the primary could not be read (then audit is null).",
                "audit": "The audit of this primary, as `redis-cost audit` of it alone writes it.",
            ]
            package var address: String
            package var slots: [SlotRange]
            package var ownSlots: [SlotRange]?
            package var keys: Int?
            package var unreachable: String?
            package var audit: Document?
        }
        package var schemaVersion = ReportSchemaVersion()
        package var seed: String
        package var source: String
        package var uncoveredSlots: [SlotRange]
        package var findings: [FindingsReport.Item]
        package var primaries: [Primary]
    }

    public static func clusterDocument(_ c: ClusterSnapshot, findings: [Finding], nodeFindings: [[Finding]], options: ReportOptions = .init()) -> ClusterDocument {
        func ranges(_ slots: [ClosedRange<Int>]) -> [ClusterDocument.SlotRange] { slots.map { .init(first: $0.lowerBound, last: $0.upperBound) } }
        return ClusterDocument(
            seed: c.seed, source: c.source, uncoveredSlots: ranges(c.uncoveredSlots), findings: FindingsReport.items(findings, options: options),
            primaries: zip(c.primaries, nodeFindings).map { p, found in
                .init(address: p.address, slots: ranges(p.announcedSlots), ownSlots: p.ownSlots.map(ranges), keys: p.keys,
                      unreachable: p.unreachable, audit: p.server.map { document($0, findings: found, options: options) })
            })
    }

    public static func clusterJSON(_ c: ClusterSnapshot, findings: [Finding], nodeFindings: [[Finding]], options: ReportOptions = .init()) -> String {
        JSONText.render(clusterDocument(c, findings: findings, nodeFindings: nodeFindings, options: options))
    }

    public static func clusterMarkdown(_ c: ClusterSnapshot, findings: [Finding], nodeFindings: [[Finding]], options: ReportOptions = .init()) -> String {
        markdown(clusterDocument(c, findings: findings, nodeFindings: nodeFindings, options: options))
    }

    /// The cluster's findings and a row per primary, then each primary's audit a heading level down.
    package static func markdown(_ doc: ClusterDocument) -> String {
        func slots(_ ranges: [ClusterDocument.SlotRange]) -> String {
            ranges.map { $0.first == $0.last ? String($0.first) : "\($0.first)-\($0.last)" }.joined(separator: " ")
        }
        var out = "# redis-cost audit of the cluster of \(Markdown.cell(doc.seed)) (\(doc.primaries.count) primaries, from \(doc.source))\n\n"
        out += FindingsReport.fixFirst(doc.findings) + "\n## Primaries\n\n"
        out += Markdown.table(
            header: ["Node", "Mode", "Version", "Slots", "Keys", "Findings"],
            rows: doc.primaries.map { p in
                guard let audit = p.audit else {
                    return [Markdown.code(p.address), "", "", slots(p.slots), "", "did not answer: " + Markdown.cell(p.unreachable ?? "?")]
                }
                let severities = FindingsReport.Item.Severity.allCases.reversed().compactMap { level -> String? in
                    let n = audit.findings.filter { $0.severity == level }.count
                    return n > 0 ? "\(n) \(level.rawValue)" : nil
                }
                let own = p.ownSlots.map(slots) ?? slots(p.slots)
                return [Markdown.code(p.address), Markdown.cell(audit.info.mode ?? "?"), Markdown.cell(audit.version), own,
                        p.keys.map { grouped($0) } ?? "?", severities.joined(separator: ", ")]
            }, alignRight: [4])
        if !doc.uncoveredSlots.isEmpty { out += "\nSlots served by no primary: \(slots(doc.uncoveredSlots)).\n" }
        out += FindingsReport.markdown(doc.findings)
        for p in doc.primaries {
            guard let audit = p.audit else { continue }
            // The node's own report, its headings one level down under the node's.
            let body = markdown(audit).split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
                .map { $0.hasPrefix("#") ? "#" + $0 : String($0) }.joined(separator: "\n")
            out += "\n## Node \(Markdown.code(p.address)) (\(Markdown.cell(audit.version)))\n" + body
        }
        return out
    }
}
