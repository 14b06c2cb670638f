import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// `DEL` of a big collection frees every element before it returns.
package struct DeleteBigRule: FindingRule {
    package static let id = "del-big"
    package static let title = "DEL of big collections"
    package static let severity = Finding.Severity.warning
    package static let why = "DEL frees a collection element by element inside the call; UNLINK detaches the key and frees it in a background thread (above 64 elements)."
    package static let fix = "Use UNLINK for collections that can be large, or set lazyfree-lazy-user-del yes so that DEL behaves like UNLINK."
    /// Entries that delete their keys (`write: deletes`) and free the values inside the call:
    /// DEL, GETDEL; not UNLINK (`frees: background`).
    package static func watches(_ entry: CommandEntry) -> Bool {
        entry.semantics.write == .deletes && !entry.semantics.freesInBackground
    }
    package static let threshold: RuleThreshold? = RuleThreshold(1000, "elements in one key")
    package static let examples: [RuleExample] = [
        .fires("DEL of a 5,000-field hash", [.fill("hash", "big", 5000), ExampleCall("DEL", "big")]),
        .fires("DEL of several keys, one of them big", [.fill("set", "s", 3000), ExampleCall("SET", "a", "1"), ExampleCall("DEL", "a", "s")]),
        .quiet("UNLINK of the same hash", [.fill("hash", "big", 5000), ExampleCall("UNLINK", "big")]),
        .quiet("DEL of small keys", [.fill("set", "s", 20), ExampleCall("DEL", "s")]),
    ]

    package let limit: Double
    package var found = FindingBuilder()
    package init(threshold: Double) { limit = threshold }

    package mutating func observe(_ call: ObservedCall) {
        var biggest = 0
        var at = 0
        for (k, size) in call.sizes.enumerated() {
            if case .elements(let n) = size, n > biggest {
                biggest = n
                at = k
            }
        }
        guard Double(biggest) >= limit else { return }
        found.add(call, cost: Double(biggest), note: "key \(at + 1): \(grouped(biggest)) elements")
    }

    package func findings(in result: AnalysisResult, table: CommandTable) -> [Finding] {
        found.finding(Self.self, summary: "\(counted(found.count, "delete")) of big collections; the largest had \(grouped(found.worst)) elements.",
                      threshold: "\(grouped(limit)) elements").map { [$0] } ?? []
    }
}
