import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// `KEYS` walks every key of the database in one call, blocking the server meanwhile.
package struct KeysRule: FindingRule {
    package static let id = "keys"
    package static let title = "KEYS scans the whole keyspace"
    package static let severity = Finding.Severity.warning
    package static let why = "KEYS is O(N) in the keys of the database and runs to the end in one call: on a large data set it blocks every other client for as long as the scan takes."
    package static let fix = "Iterate with SCAN cursor MATCH pattern COUNT 100…1000, or keep the keys you need in a set or sorted set that you can read directly."
    /// A read whose cost is the size of the keyspace (formula `dbsize` or `allkeys`): KEYS. The
    /// flushes and SAVE cost as much but are writes or administration, with rules of their own.
    package static func watches(_ entry: CommandEntry) -> Bool {
        guard entry.hasFlag("readonly"), let source = entry.formula, let formula = try? Formula(source) else { return false }
        return !formula.needs.isDisjoint(with: [.databaseSize, .allKeys])
    }
    package static let threshold: RuleThreshold? = RuleThreshold(1000, "keys in the database (critical at or above)")
    package static let examples: [RuleExample] = [
        .fires("KEYS on a database of 2,000 keys", [.strings("user:", 2000), ExampleCall("KEYS", "user:1*")]),
        .fires("KEYS on a tiny database is still flagged", [.strings("k", 3), ExampleCall("KEYS", "*")]),
        .quiet("SCAN instead", [.strings("user:", 2000), ExampleCall("SCAN", "0", "MATCH", "user:1*", "COUNT", "100")]),
    ]

    package let limit: Double
    package var found = FindingBuilder()
    package init(threshold: Double) { limit = threshold }

    package mutating func observe(_ call: ObservedCall) { found.add(call) }

    package func findings(in result: AnalysisResult, table: CommandTable) -> [Finding] {
        let severity: Finding.Severity = found.worst >= limit ? .critical : .warning
        let largest = found.worst > 0 ? "the largest scanned \(grouped(found.worst)) keys" : "the database sizes are unknown"
        return found.finding(Self.self, summary: "KEYS ran \(counted(found.count, "time")); \(largest).", severity: severity,
                             threshold: "\(grouped(limit)) keys").map { [$0] } ?? []
    }
}
