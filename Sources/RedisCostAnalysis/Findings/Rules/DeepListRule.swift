import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// Index access far from both ends of a long list.
package struct DeepListRule: FindingRule {
    package static let id = "deep-list"
    package static let title = "Deep list access"
    package static let severity = Finding.Severity.warning
    package static let why = "A list is a chain of nodes: LINDEX, LSET, LINSERT, LPOS and LREM walk from the nearer end to the element, so their cost grows with the distance from both ends."
    package static let fix = "Keep lists for queue-like access at the ends (LPUSH/RPOP, LMOVE); for access by position or value use a hash, a sorted set, or a smaller list per bucket."
    /// Entries whose semantics say they walk a list to a position or a value (`reads: walk`).
    package static func watches(_ entry: CommandEntry) -> Bool { entry.semantics.reads == .walk }
    package static let threshold: RuleThreshold? = RuleThreshold(1000, "elements walked")
    package static let examples: [RuleExample] = [
        .fires("LINDEX in the middle of a 5,000-element list", [.fill("list", "q", 5000), ExampleCall("LINDEX", "q", "2500")]),
        .fires("LREM on a long list walks all of it", [.fill("list", "q", 3000), ExampleCall("LREM", "q", "0", "e7")]),
        .fires("LINSERT at a pivot 3,000 elements in", [.fill("list", "q", 5000), ExampleCall("LINSERT", "q", "BEFORE", "e3000", "x")]),
        .quiet("LINSERT at a pivot near the head", [.fill("list", "q", 5000), ExampleCall("LINSERT", "q", "BEFORE", "e5", "x")]),
        .quiet("LINDEX near the tail", [.fill("list", "q", 5000), ExampleCall("LINDEX", "q", "-10")]),
        .quiet("LINDEX of a short list", [.fill("list", "q", 100), ExampleCall("LINDEX", "q", "50")]),
    ]

    package let limit: Double
    package var found = FindingBuilder()
    package init(threshold: Double) { limit = threshold }

    /// Calls whose walk is only bounded (LINSERT's pivot, LPOS's match in a list whose
    /// elements the replay does not know): counted beside the finding, never as its evidence.
    package var possible = 0

    package mutating func observe(_ call: ObservedCall) {
        guard let cost = call.cost.value, cost >= limit, let size = call.sizes.first?.count else { return }
        if call.cost.isUpperBound {
            possible += 1
            return
        }
        found.add(call, note: "\(grouped(cost)) of \(grouped(size)) elements walked")
    }

    package func findings(in result: AnalysisResult, table: CommandTable) -> [Finding] {
        let more = possible > 0 ? " \(counted(possible, "more call")) may walk as far (LINSERT/LPOS in lists whose elements are not known)." : ""
        return found.finding(Self.self, summary: "\(counted(found.count, "list call")) walked \(grouped(limit)) elements or more; the deepest \(grouped(found.worst))." + more,
                             threshold: "\(grouped(limit)) elements").map { [$0] } ?? []
    }
}
