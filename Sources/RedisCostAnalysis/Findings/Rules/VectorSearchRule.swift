import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// Nearest-neighbour searches that ask for many results or explore many candidates.
package struct VectorSearchRule: FindingRule {
    package static let id = "vector-search-wide"
    package static let title = "Wide vector searches"
    package static let severity = Finding.Severity.warning
    package static let why = "VSIM walks the vector set's graph from the entry point and keeps a list of candidates as long as its EF (at least its COUNT): each candidate costs a distance computation over the whole vector, so a large COUNT or EF multiplies the work of every query."
    package static let fix = "Ask for the results you show (COUNT 10…50), keep EF near its default, and narrow with FILTER on attributes or smaller vector sets per tenant or category."
    /// Entries whose semantics say they search a vector set (`reads: nearest`).
    package static func watches(_ entry: CommandEntry) -> Bool { entry.semantics.reads == .nearest }
    package static let threshold: RuleThreshold? = RuleThreshold(100, "results (COUNT); EF from ten times as many")
    package static let examples: [RuleExample] = [
        .fires("500 results", [ExampleCall("VSIM", "vs", "ELE", "item:1", "COUNT", "500")]),
        .fires("an exploration factor of 5,000", [ExampleCall("VSIM", "vs", "ELE", "item:1", "COUNT", "10", "EF", "5000")]),
        .quiet("the default search", [ExampleCall("VSIM", "vs", "ELE", "item:1")]),
        .quiet("20 results", [ExampleCall("VSIM", "vs", "ELE", "item:1", "COUNT", "20", "WITHSCORES")]),
    ]

    package let limit: Double
    package var found = FindingBuilder()
    package init(threshold: Double) { limit = threshold }

    package mutating func observe(_ call: ObservedCall) {
        let count = option(call, "COUNT")
        let ef = option(call, "EF")
        if let count, Double(count) >= limit {
            found.add(call, cost: Double(max(count, ef ?? 0)), note: "COUNT \(grouped(count))")
        } else if let ef, Double(ef) >= limit * 10 {
            found.add(call, cost: Double(ef), note: "EF \(grouped(ef))")
        }
    }

    private func option(_ call: ObservedCall, _ name: StaticString) -> Int? {
        for i in 2..<max(call.argv.count, 2) where call.argv.token(i, name) {
            if let n = call.argv.int(i + 1), n >= 0 { return Int(clamping: n) }
        }
        return nil
    }

    package func findings(in result: AnalysisResult, table: CommandTable) -> [Finding] {
        found.finding(Self.self, summary: "\(counted(found.count, "vector search", plural: "vector searches")) asked for \(grouped(limit)) results or more, or explored \(grouped(limit * 10)) candidates or more.",
                      threshold: "COUNT \(grouped(limit)), EF \(grouped(limit * 10))").map { [$0] } ?? []
    }
}
