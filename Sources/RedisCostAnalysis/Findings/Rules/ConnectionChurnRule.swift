import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// Many client connections that each send a few commands: connect, command, disconnect.
package struct ConnectionChurnRule: FindingRule {
    package static let id = "connection-churn"
    package static let title = "Connection churn"
    package static let severity = Finding.Severity.warning
    package static let why = "A new connection per request costs a TCP handshake (and AUTH/HELLO/SELECT) per command, fills the server's accept queue and client table, and leaves sockets in TIME_WAIT."
    package static let fix = "Use a connection pool (or one multiplexed connection) per process, and keep connections open between requests."
    package static let threshold: RuleThreshold? = RuleThreshold(100, "client addresses with at most 2 calls")
    package static let examples: [RuleExample] = [
        .fires("150 connections with one GET each", (1...150).map { ExampleCall("GET", "k", client: $0) }),
        .quiet("three pooled connections", (1...150).map { ExampleCall("GET", "k", client: 1 + $0 % 3) }),
    ]

    package let limit: Double
    package init(threshold: Double) { limit = threshold }

    package func findings(in result: AnalysisResult, table: CommandTable) -> [Finding] {
        let brief = result.clients.filter { $0.calls <= 2 && $0.client != "lua" }
        guard Double(brief.count) >= limit, brief.count * 2 >= result.clients.count else { return [] }
        let evidence = brief.prefix(5).map {
            Finding.Evidence(command: "", keys: [], sizes: [], cost: nil, time: nil, client: $0.client, location: "", note: "\($0.calls) calls")
        }
        return [Finding(rule: Self.id, title: Self.title, severity: Self.severity, why: Self.why, fix: Self.fix,
                        summary: "\(grouped(brief.count)) of \(grouped(result.clients.count)) client addresses sent at most 2 calls each.",
                        count: brief.count, cost: 0, evidence: Array(evidence), patterns: [], threshold: "\(grouped(limit)) clients")]
    }
}
