import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// Search queries that match a whole index or ask for a huge page of it.
package struct SearchWholeIndexRule: FindingRule {
    package static let id = "search-whole-index"
    package static let title = "Searches over a whole index"
    package static let severity = Finding.Severity.warning
    package static let why = "FT.SEARCH and FT.AGGREGATE with the query `*` match every document of the index, and FT.SEARCH counts every match whatever its LIMIT; a large LIMIT also makes the server load and send that many documents in one reply. The cost grows with the index, not with what the client needs."
    package static let fix = "Query by a field (a TAG or NUMERIC filter) instead of `*`; page with small LIMIT windows, or FT.AGGREGATE … WITHCURSOR COUNT n and FT.CURSOR READ; return only the fields you need (RETURN, NOCONTENT)."
    /// Entries whose semantics say they run a query over a search index (`reads: search`).
    package static func watches(_ entry: CommandEntry) -> Bool { entry.semantics.reads == .search }
    package static let threshold: RuleThreshold? = RuleThreshold(1000, "documents in one page (LIMIT)")
    package static let examples: [RuleExample] = [
        .fires("every document matched", [ExampleCall("FT.SEARCH", "idx:users", "*")]),
        .fires("an aggregation over every document", [ExampleCall("FT.AGGREGATE", "idx:users", "*", "GROUPBY", "1", "@city")]),
        .fires("a 10,000-document page", [ExampleCall("FT.SEARCH", "idx:users", "@city:{paris}", "LIMIT", "0", "10000")]),
        .quiet("a filtered query with a small page", [ExampleCall("FT.SEARCH", "idx:users", "@city:{paris}", "LIMIT", "0", "20")]),
    ]

    package let limit: Double
    package var found = FindingBuilder()
    package init(threshold: Double) { limit = threshold }

    package mutating func observe(_ call: ObservedCall) {
        let index = call.semantics.index ?? 1
        let query = index + 1
        guard query < call.argv.count else { return }
        let page = pageSize(call, after: query)
        let everything = call.argv[query].elementsEqual("*".utf8)
        if everything {
            found.add(call, cost: page.map(Double.init), note: "query * on index \(name: call.argv.bytes(index))")
        } else if let page, Double(page) >= limit {
            found.add(call, cost: Double(page), note: "LIMIT of \(grouped(page)) on index \(name: call.argv.bytes(index))")
        }
    }

    /// The `num` of `LIMIT offset num`, when given.
    private func pageSize(_ call: ObservedCall, after query: Int) -> Int? {
        for i in (query + 1)..<max(call.argv.count, query + 1) where call.argv.token(i, "LIMIT") {
            if let n = call.argv.int(i + 2), n >= 0 { return Int(clamping: n) }
        }
        return nil
    }

    package func findings(in result: AnalysisResult, table: CommandTable) -> [Finding] {
        found.finding(Self.self, summary: "\(counted(found.count, "search", plural: "searches")) matched a whole index or asked for pages of \(grouped(limit)) documents or more.",
                      threshold: "\(grouped(limit)) documents").map { [$0] } ?? []
    }
}
