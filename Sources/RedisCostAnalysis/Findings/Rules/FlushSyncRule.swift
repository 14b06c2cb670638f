import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// `FLUSHALL`/`FLUSHDB` without `ASYNC` free every key in the call.
package struct FlushSyncRule: FindingRule {
    package static let id = "flush-sync"
    package static let title = "FLUSHALL / FLUSHDB without ASYNC"
    package static let severity = Finding.Severity.warning
    package static let why = "A synchronous flush frees every key before it returns: on a non-trivial data set the server answers nobody until the memory is released."
    package static let fix = "Add ASYNC (FLUSHDB ASYNC, FLUSHALL ASYNC), or set lazyfree-lazy-user-flush yes so that plain flushes are asynchronous."
    /// Entries that flush a database or all of them (`flushes`).
    package static func watches(_ entry: CommandEntry) -> Bool { entry.semantics.flushes != nil }
    package static let threshold: RuleThreshold? = RuleThreshold(1000, "keys flushed")
    package static let examples: [RuleExample] = [
        .fires("FLUSHDB of 5,000 keys", [.strings("k", 5000), ExampleCall("FLUSHDB")]),
        .fires("FLUSHALL SYNC of 2,000 keys", [.strings("k", 2000), ExampleCall("FLUSHALL", "SYNC")]),
        .quiet("FLUSHDB ASYNC", [.strings("k", 5000), ExampleCall("FLUSHDB", "ASYNC")]),
        .quiet("FLUSHDB of a trivial database", [.strings("k", 10), ExampleCall("FLUSHDB")]),
    ]

    package let limit: Double
    package var found = FindingBuilder()
    package init(threshold: Double) { limit = threshold }

    package mutating func observe(_ call: ObservedCall) {
        guard !(1..<call.argv.count).contains(where: { call.argv.equalsToken($0, "ASYNC") }) else { return }
        // Unknown size (a capture without a baseline) is not proof of a trivial data set.
        if let cost = call.cost.value, cost < limit { return }
        found.add(call)
    }

    package func findings(in result: AnalysisResult, table: CommandTable) -> [Finding] {
        found.finding(Self.self, summary: "\(counted(found.count, "synchronous flush", plural: "synchronous flushes")); the largest freed \(grouped(found.worst)) keys at once.",
                      threshold: "\(grouped(limit)) keys").map { [$0] } ?? []
    }
}
