import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// Prefix deletion as SCAN MATCH p, then one DEL per key: a round trip per key.
package struct ScanDeleteRule: FindingRule {
    package static let id = "scan-del"
    package static let title = "Prefix deletion one key at a time"
    package static let severity = Finding.Severity.info
    package static let why = "Deleting the keys a SCAN MATCH found with one DEL each costs a round trip per key (and DEL frees each value in the call); the deletes often come from other connections of the same pool."
    package static let fix = "Delete in batches: UNLINK with many keys per call (one per SCAN page), or a script that UNLINKs a page of matches server-side."
    package static let commands: Set<String> = ["SCAN"]
    /// Every command that deletes its keys (`write: deletes`): DEL, UNLINK, GETDEL.
    package static func follows(_ entry: CommandEntry) -> Bool { entry.semantics.write == .deletes }
    package static let threshold: RuleThreshold? = RuleThreshold(20, "single-key deletes matching a SCAN pattern")
    /// How long after its SCAN a pattern's deletes are counted.
    package static let window: Int64 = 60_000_000
    package static let examples: [RuleExample] = [
        .fires("SCAN MATCH then 30 DELs, from two connections", [.strings("tmp:", 30), ExampleCall("SCAN", "0", "MATCH", "tmp:*", "COUNT", "100")]
            + (0..<30).map { ExampleCall("DEL", "tmp:\($0)", client: 1 + $0 % 2) }),
        .quiet("one UNLINK of the whole page", [.strings("tmp:", 30), ExampleCall("SCAN", "0", "MATCH", "tmp:*", "COUNT", "100"),
                                                ExampleCall(argv: ["UNLINK"] + (0..<30).map { "tmp:\($0)" })]),
        .quiet("DELs that do not match the pattern", [.strings("tmp:", 30), ExampleCall("SCAN", "0", "MATCH", "other:*")]
            + (0..<30).map { ExampleCall("DEL", "tmp:\($0)") }),
    ]

    package let limit: Double
    /// Recent SCAN patterns: database, pattern, when.
    package var patterns: [(database: Int, pattern: [UInt8], at: Int64)] = []
    package var found = FindingBuilder()
    package init(threshold: Double) { limit = threshold }
    package var isArmed: Bool { !patterns.isEmpty }

    package mutating func observe(_ call: ObservedCall) {
        let at = call.microseconds ?? 0
        if call.command == "SCAN" {
            guard let m = (2..<max(call.argv.count, 2)).first(where: { call.argv.equalsToken($0, "MATCH") }), m + 1 < call.argv.count else { return }
            let pattern = call.argv.bytes(m + 1)
            patterns.removeAll { ($0.database == call.database && $0.pattern == pattern) || at - $0.at > Self.window }
            patterns.append((call.database, pattern, at))
            if patterns.count > 16 { patterns.removeFirst() }
            return
        }
        guard call.positions.count == 1, !patterns.isEmpty else { return }
        let key = call.argv[call.positions[0]]
        for scan in patterns.reversed() where scan.database == call.database && at - scan.at <= Self.window {
            if scan.pattern.withUnsafeBytes({ GlobPattern.matches($0, key) }) {
                found.add(call, cost: 0, note: "after SCAN MATCH \(name: scan.pattern)")
                return
            }
        }
    }

    package func findings(in result: AnalysisResult, table: CommandTable) -> [Finding] {
        guard Double(found.count) >= limit else { return [] }
        return found.finding(Self.self, summary: "\(counted(found.count, "key")) deleted one per call after a SCAN MATCH found them.",
                             threshold: "\(grouped(limit)) deletes").map { [$0] } ?? []
    }
}
