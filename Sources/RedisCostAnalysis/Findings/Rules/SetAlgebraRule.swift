import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// Intersections, unions and differences of big sets and sorted sets.
package struct SetAlgebraRule: FindingRule {
    package static let id = "set-algebra"
    package static let title = "Set algebra on big inputs"
    package static let severity = Finding.Severity.warning
    package static let why = "SINTER/SUNION/SDIFF and their ZSET forms walk their inputs inside one call (SINTER: the smallest set times the number of sets; SUNION/SDIFF: every element), and the STORE forms also build the result."
    package static let fix = "Intersect with the smallest set first and with fewer inputs, use SINTERCARD/ZINTERCARD with LIMIT when only a count is needed, or precompute the result when the inputs change."
    /// Entries whose semantics say they combine several collections (`reads: combine`).
    package static func watches(_ entry: CommandEntry) -> Bool { entry.semantics.reads == .combine }
    package static let threshold: RuleThreshold? = RuleThreshold(1000, "elements touched")
    package static let examples: [RuleExample] = [
        .fires("SUNION of two 2,000-member sets", [.fill("set", "a", 2000), .fill("set", "b", 2000), ExampleCall("SUNION", "a", "b")]),
        .fires("ZINTERSTORE of big sorted sets", [.fill("zset", "a", 3000), .fill("zset", "b", 3000), ExampleCall("ZINTERSTORE", "d", "2", "a", "b")]),
        .quiet("SINTER with a tiny set", [.fill("set", "a", 5000), .fill("set", "b", 3), ExampleCall("SINTER", "b", "a")]),
    ]

    package let limit: Double
    package var found = FindingBuilder()
    package init(threshold: Double) { limit = threshold }

    package mutating func observe(_ call: ObservedCall) {
        guard let cost = call.cost.value, cost >= limit else { return }
        let sizes = call.sizes.compactMap(\.count).map { grouped($0) }.joined(separator: " × ")
        found.add(call, note: "input sizes \(sizes)")
    }

    package func findings(in result: AnalysisResult, table: CommandTable) -> [Finding] {
        found.finding(Self.self, summary: "\(counted(found.count, "set operation")) touched \(grouped(limit)) elements or more; the heaviest \(grouped(found.worst)).",
                      threshold: "\(grouped(limit)) elements").map { [$0] } ?? []
    }
}
