import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// SORT of big collections, and SORT that could run on a replica.
package struct SortRule: FindingRule {
    package static let id = "sort"
    package static let title = "SORT"
    package static let severity = Finding.Severity.warning
    package static let why = "SORT is O(N + M log M): it loads the collection, sorts it, and with BY/GET reads other keys per element, all in one call. SORT without STORE is a read, but only SORT_RO may run on a read-only replica."
    package static let fix = "Keep the data in a sorted set (ZRANGE/ZRANGEBYSCORE are O(log N + M)), sort in the client, or limit with LIMIT; use SORT_RO (Redis 7+) for reads so they can go to replicas."
    package static let commands: Set<String> = ["SORT", "SORT_RO"]
    package static let threshold: RuleThreshold? = RuleThreshold(1000, "elements sorted")
    package static let examples: [RuleExample] = [
        .fires("SORT … STORE of a 3,000-element list", [.fill("list", "l", 3000), ExampleCall("SORT", "l", "ALPHA", "STORE", "out")]),
        .fires("SORT without STORE could be SORT_RO", [.fill("set", "s", 5), ExampleCall("SORT", "s", "ALPHA")]),
        .quiet("SORT_RO of a small set", [.fill("set", "s", 5), ExampleCall("SORT_RO", "s", "ALPHA")]),
    ]

    package let limit: Double
    package var big = FindingBuilder()
    package var readOnly = FindingBuilder()
    package init(threshold: Double) { limit = threshold }

    package mutating func observe(_ call: ObservedCall) {
        if let size = call.sizes.first?.count, Double(size) >= limit { big.add(call, note: "\(grouped(size)) elements") }
        if call.command == "SORT", !(2..<max(call.argv.count, 2)).contains(where: { call.argv.equalsToken($0, "STORE") }) {
            readOnly.add(call)
        }
    }

    package func findings(in result: AnalysisResult, table: CommandTable) -> [Finding] {
        var out: [Finding] = []
        if let f = big.finding(Self.self, summary: "\(counted(big.count, "SORT")) of \(grouped(limit)) elements or more; the largest \(grouped(big.worst)).",
                               threshold: "\(grouped(limit)) elements") { out.append(f) }
        if var f = readOnly.finding(Self.self, summary: "\(counted(readOnly.count, "SORT")) without STORE: reads that SORT_RO would let a replica serve.",
                                    severity: .info) {
            f.title = "SORT without STORE (use SORT_RO)"
            out.append(f)
        }
        return out
    }
}
