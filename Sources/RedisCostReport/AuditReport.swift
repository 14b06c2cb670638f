import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostTable
import RedisCostAnalysis
import RedisCostLive

/// `redis-cost audit`: what to change on the server, with the evidence read from it.
public enum AuditReport {
    public static func markdown(_ s: ServerSnapshot, findings: [Finding], options: ReportOptions = .init()) -> String {
        // The title, what was read and the findings read the values the JSON is made of; the
        // server's INFO lines and the latency events are not in the JSON and still read `s`.
        let doc = document(s, findings: findings, options: options)
        var out = "# redis-cost audit of \(Markdown.cell(doc.server)) (\(Markdown.cell(doc.version)))\n\n"
        out += FindingsReport.fixFirst(doc.findings) + "\n## Server\n\n"
        out += Markdown.cell("- \(s.version), role \(s.info["role"] ?? "unknown"), up \(s.info["uptime_in_days"] ?? "?") days") + "\n"
        if let used = s.number("used_memory") {
            out += "- Memory: used \(Audit.bytes(used)), RSS \(Audit.bytes(s.number("used_memory_rss") ?? 0)), maxmemory \(s.config?["maxmemory"].flatMap(Double.init).map { $0 > 0 ? Audit.bytes($0) : "none" } ?? "unknown")\n"
        }
        let keyspace = s.info.filter { $0.key.hasPrefix("db") && $0.key.dropFirst(2).allSatisfy(\.isNumber) }.sorted { $0.key < $1.key }
        if !keyspace.isEmpty { out += "- Keys: " + Markdown.cell(keyspace.map { "\($0.key) \($0.value)" }.joined(separator: "; ")) + "\n" }
        out += Markdown.cell("- Clients: \(s.info["connected_clients"] ?? "?") connected, \(s.info["instantaneous_ops_per_sec"] ?? "?") ops/s now") + "\n"
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
        if let latency = s.latency, !latency.isEmpty {
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
            package var role: String?
            package var used_memory: Double?
            package var connected_clients: Double?
        }
        package var schemaVersion = ReportSchemaVersion()
        package var server: String
        package var version: String
        package var database: Int
        package var denied: [String]
        package var findings: [FindingsReport.Item]
        package var read: Read
        package var info: Info
    }

    public static func document(_ s: ServerSnapshot, findings: [Finding], options: ReportOptions = .init()) -> Document {
        Document(server: s.server, version: s.version, database: s.database, denied: s.denied,
                 findings: FindingsReport.items(findings, options: options),
                 read: .init(config: s.config != nil, slowlog: s.slowlog?.count, commandlog: s.largeRequests != nil,
                             clients: s.clients?.count, latency: s.latency != nil),
                 info: .init(role: s.info["role"], used_memory: s.number("used_memory"), connected_clients: s.number("connected_clients")))
    }

    public static func json(_ s: ServerSnapshot, findings: [Finding], options: ReportOptions = .init()) -> String {
        JSONText.render(document(s, findings: findings, options: options))
    }
}
