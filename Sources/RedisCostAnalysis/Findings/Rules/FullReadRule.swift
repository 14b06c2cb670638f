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
    package static let why = "HGETALL, HKEYS, HVALS, SMEMBERS, LRANGE 0 -1, ZRANGE 0 -1 and XRANGE - + return every element in one reply: the server builds it in one go and the client waits for all of it."
    package static let fix = "Page through it (HSCAN / SSCAN / ZSCAN with COUNT, LRANGE and ZRANGE in windows, XRANGE with COUNT), read only the fields you need (HMGET), or split the collection."
    package static let commands: Set<String> = ["HGETALL", "HKEYS", "HVALS", "SMEMBERS", "LRANGE", "ZRANGE", "ZREVRANGE", "XRANGE", "XREVRANGE"]
    package static let threshold: RuleThreshold? = RuleThreshold(1000, "elements read")
    package static let examples: [RuleExample] = [
        .fires("HGETALL of a 3,000-field hash", [.fill("hash", "h", 3000), ExampleCall("HGETALL", "h")]),
        .fires("LRANGE 0 -1 of a 2,000-element list", [.fill("list", "l", 2000), ExampleCall("LRANGE", "l", "0", "-1")]),
        .fires("ZRANGE 0 -1 of a 1,500-member zset", [.fill("zset", "z", 1500), ExampleCall("ZRANGE", "z", "0", "-1")]),
        .quiet("LRANGE of a window", [.fill("list", "l", 2000), ExampleCall("LRANGE", "l", "100", "200")]),
        .quiet("HGETALL of a small hash", [.fill("hash", "h", 10), ExampleCall("HGETALL", "h")]),
        .quiet("XRANGE with COUNT", [.fill("stream", "x", 1), ExampleCall("XRANGE", "x", "-", "+", "COUNT", "10")]),
    ]

    package let limit: Double
    package var found = FindingBuilder()
    package init(threshold: Double) { limit = threshold }

    package mutating func observe(_ call: ObservedCall) {
        guard let size = call.sizes.first?.count, Double(size) >= limit, readsEverything(call, size: size) else { return }
        found.add(call, cost: Double(size), note: "\(grouped(size)) elements")
    }

    /// Whether the call's range covers the whole collection.
    private func readsEverything(_ call: ObservedCall, size: Int) -> Bool {
        switch call.command {
        case "LRANGE", "ZRANGE", "ZREVRANGE":
            // ZRANGE … BYSCORE/BYLEX with LIMIT is a page; its index form is 0 -1.
            guard let start = call.argv.int(2), let stop = call.argv.int(3) else { return false }
            if call.command == "ZRANGE", (4..<call.argv.count).contains(where: { call.argv.equalsToken($0, "BYSCORE") || call.argv.equalsToken($0, "BYLEX") }) {
                return false
            }
            let first = start < 0 ? max(0, Int64(size) + start) : start
            let last = stop < 0 ? Int64(size) + stop : stop
            return first == 0 && last >= Int64(size) - 1
        case "XRANGE", "XREVRANGE":
            return !(4..<call.argv.count).contains { call.argv.equalsToken($0, "COUNT") }
        default:
            return true
        }
    }

    package func findings(in result: AnalysisResult, table: CommandTable) -> [Finding] {
        found.finding(Self.self, summary: "\(counted(found.count, "full read")) of collections of \(grouped(limit)) elements or more; the largest read \(grouped(found.worst)).",
                      threshold: "\(grouped(limit)) elements").map { [$0] } ?? []
    }
}
