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
        out += Markdown.cell("- \(doc.version), role \(info.role ?? "unknown"), up \(info.uptimeInDays ?? "?") days") + "\n"
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
                 info: .init(role: s.info["role"], used_memory: s.number("used_memory"), connected_clients: s.number("connected_clients"),
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
}
