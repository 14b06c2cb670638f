import Foundation
import RedisCostCore
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis

/// What every audit rule declares: its id (the JSON `rule`), title, severity, why and fix.
public protocol AuditRuleDeclaration: Sendable {
    static var id: String { get }
    static var title: String { get }
    static var severity: Finding.Severity { get }
    static var why: String { get }
    static var fix: String { get }
}

/// A rule about how a server is set up, read from a `ServerSnapshot`. Same findings, same
/// report as the workload rules; the tests start real servers with risky and safe settings.
public protocol AuditRule: AuditRuleDeclaration {
    static func findings(in server: ServerSnapshot, table: CommandTable) -> [Finding]
}

extension AuditRuleDeclaration {
    /// A finding whose evidence is facts read from the server, one line each.
    package static func finding(_ summary: String, facts: [String], severity: Finding.Severity? = nil, title: String? = nil, count: Int = 1) -> Finding {
        Finding(rule: id, title: title ?? Self.title, severity: severity ?? Self.severity, why: why, fix: fix, summary: summary,
                count: count, cost: 0,
                evidence: facts.map { .init(command: "", keys: [], sizes: [], cost: nil, time: nil, client: nil, location: "", note: Note($0)) },
                patterns: [], threshold: nil)
    }
}

import Foundation

/// Runs every audit rule.
public enum Audit {
    public static let ruleTypes: [any AuditRule.Type] = [
        MaxmemoryPolicyRule.self, StopWritesOnBgsaveErrorRule.self, SaveRule.self, AOFRewriteRule.self, SlowlogRule.self,
        MemoryFragmentationRule.self, OutputBuffersRule.self, NotificationsConfigRule.self, TCPKeepaliveRule.self,
        ConnectionsRule.self, ReplicationRule.self, ServerVersionRule.self,
    ]

    public static func findings(_ server: ServerSnapshot, table: CommandTable, timeModel: TimeModel = .defaults) -> [Finding] {
        var findings = ruleTypes.flatMap { $0.findings(in: server, table: table) }
            .sorted { ($0.severity, $0.count) > ($1.severity, $1.count) }
        // Logged calls costed with their keys' sizes now: the time the model expects, beside the time logged.
        for f in findings.indices { findings[f].estimateTimes(timeModel) }
        return findings
    }

    /// `104857600` → `100.0 MB`.
    package static func bytes(_ value: Double) -> String {
        if value >= 1_073_741_824 { return String(format: "%.1f GB", value / 1_073_741_824) }
        if value >= 1_048_576 { return String(format: "%.1f MB", value / 1_048_576) }
        if value >= 1024 { return String(format: "%.1f KB", value / 1024) }
        return "\(whole(value)) B"
    }

    /// A number read from the server as a whole number, as `Int(value)` would print it, but
    /// without trapping on values no integer holds (a server's `1e300`, `nan`).
    package static func whole(_ value: Double) -> String {
        String(format: "%.0f", value.rounded(.towardZero) + 0)
    }
}
