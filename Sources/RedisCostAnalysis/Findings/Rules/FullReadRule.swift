import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// Reads of a whole big collection in one call.
package struct FullReadRule: FindingRule {
    package static let id = "full-read"
    package static let title = "Full reads of big collections"
    package static let severity = Finding.Severity.warning
    package static let why = "HGETALL, HKEYS, HVALS, SMEMBERS, LRANGE 0 -1, ZRANGE 0 -1, ZRANGEBYSCORE -inf +inf, XRANGE - + and TS.RANGE - + return every element in one reply: the server builds it in one go and the client waits for all of it."
    package static let fix = "Page through it (HSCAN / SSCAN / ZSCAN with COUNT, LRANGE and ZRANGE in windows, ZRANGEBYSCORE with LIMIT, XRANGE with COUNT, TS.RANGE over a bounded time range or with AGGREGATION), read only the fields you need (HMGET), or split the collection."
    /// Entries whose semantics say they read a whole collection (`reads: all`), possibly only
    /// over an index range or without a paging option.
    package static func watches(_ entry: CommandEntry) -> Bool { entry.semantics.reads == .all }
    package static let threshold: RuleThreshold? = RuleThreshold(1000, "elements read")
    package static let examples: [RuleExample] = [
        .fires("HGETALL of a 3,000-field hash", [.fill("hash", "h", 3000), ExampleCall("HGETALL", "h")]),
        .fires("LRANGE 0 -1 of a 2,000-element list", [.fill("list", "l", 2000), ExampleCall("LRANGE", "l", "0", "-1")]),
        .fires("ZRANGE 0 -1 of a 1,500-member zset", [.fill("zset", "z", 1500), ExampleCall("ZRANGE", "z", "0", "-1")]),
        .quiet("LRANGE of a window", [.fill("list", "l", 2000), ExampleCall("LRANGE", "l", "100", "200")]),
        .quiet("HGETALL of a small hash", [.fill("hash", "h", 10), ExampleCall("HGETALL", "h")]),
        .fires("ZRANGEBYSCORE -inf +inf of a 1,500-member zset", [.fill("zset", "z", 1500), ExampleCall("ZRANGEBYSCORE", "z", "-inf", "+inf")]),
        .fires("ZREVRANGEBYLEX + - of a 1,500-member zset", [.fill("zset", "z", 1500), ExampleCall("ZREVRANGEBYLEX", "z", "+", "-")]),
        .quiet("ZRANGEBYSCORE of a score window", [.fill("zset", "z", 1500), ExampleCall("ZRANGEBYSCORE", "z", "-inf", "100")]),
        .quiet("ZRANGEBYSCORE -inf +inf with LIMIT", [.fill("zset", "z", 1500), ExampleCall("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "0", "10")]),
        .quiet("XRANGE with COUNT", [.fill("stream", "x", 1), ExampleCall("XRANGE", "x", "-", "+", "COUNT", "10")]),
        .fires("TS.RANGE - + of a 1,200-sample series", [ExampleCall("TS.CREATE", "t"),
                                                       ExampleCall(argv: ["TS.MADD"] + (1...1200).flatMap { ["t", String($0), "1"] }),
                                                       ExampleCall("TS.RANGE", "t", "-", "+")]),
        .quiet("TS.RANGE of an hour", [ExampleCall("TS.CREATE", "t"),
                                       ExampleCall(argv: ["TS.MADD"] + (1...1200).flatMap { ["t", String($0), "1"] }),
                                       ExampleCall("TS.RANGE", "t", "1000", "4600")]),
    ]

    package let limit: Double
    package var found = FindingBuilder()
    package init(threshold: Double) { limit = threshold }

    package mutating func observe(_ call: ObservedCall) {
        guard let size = call.sizes.first?.count, Double(size) >= limit, readsEverything(call, size: size) else { return }
        found.add(call, cost: Double(size), note: "\(grouped(size)) elements")
    }

    /// Whether the call reads the whole collection: no paging option (ZRANGE … BYSCORE/BYLEX,
    /// XRANGE … COUNT) and, for a range read, an index range that covers it (0 -1).
    private func readsEverything(_ call: ObservedCall, size: Int) -> Bool {
        let semantics = call.semantics
        if !semantics.pagedBy.isEmpty, let key = call.positions.first,
           (key + 1..<max(call.argv.count, key + 1)).contains(where: { i in semantics.pagedBy.contains { call.argv.equalsToken(i, $0) } }) {
            return false
        }
        if let span = semantics.span {
            guard span.start < call.argv.count, span.stop < call.argv.count else { return false }
            let (a, b) = (openEnd(call.argv, span.start), openEnd(call.argv, span.stop))
            return a != nil && b != nil && a != b
        }
        guard let range = semantics.range else { return true }
        guard let start = call.argv.int(range.start), let stop = call.argv.int(range.stop) else { return false }
        let first = start < 0 ? max(0, Int64(size) + start) : start
        let last = stop < 0 ? Int64(size) + stop : stop
        return first == 0 && last >= Int64(size) - 1
    }

    /// Which open end of a span argv[i] is: -1 for `-` or `-inf`, +1 for `+`, `+inf` or `inf`
    /// (scores are read as the server's strtod does, in any case), nil for a bound.
    private func openEnd(_ argv: Argv, _ i: Int) -> Int? {
        if argv.equalsToken(i, "-") || argv.equalsToken(i, "-inf") { return -1 }
        if argv.equalsToken(i, "+") || argv.equalsToken(i, "+inf") || argv.equalsToken(i, "inf") { return 1 }
        return nil
    }

    package func findings(in result: AnalysisResult, table: CommandTable) -> [Finding] {
        found.finding(Self.self, summary: "\(counted(found.count, "full read")) of collections of \(grouped(limit)) elements or more; the largest read \(grouped(found.worst)).",
                      threshold: "\(grouped(limit)) elements").map { [$0] } ?? []
    }
}
