import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// Transactions whose calls add up, and blocking commands where they cannot block.
package struct HeavyTransactionRule: FindingRule {
    package static let id = "heavy-transaction"
    package static let title = "Heavy transactions, blocking commands inside MULTI or scripts"
    package static let severity = Finding.Severity.warning
    package static let why = "EXEC runs every queued call back to back: the server serves nobody else until the last one ends. A blocking command (BLPOP, BLMOVE, XREAD BLOCK…) inside MULTI or a script never blocks: it answers at once as if it had timed out."
    package static let fix = "Keep transactions to the few calls that must be atomic and move big reads out of them; call blocking commands on their own connection, outside MULTI and scripts."
    /// The entry that runs a transaction (`transaction: run`, EXEC), and every command the
    /// table flags `blocking` (BLPOP, BLMOVE, XREAD, WAIT…).
    package static func watches(_ entry: CommandEntry) -> Bool { entry.semantics.transaction == .run || entry.isBlocking }
    package static let threshold: RuleThreshold? = RuleThreshold(10_000, "elements in one EXEC")
    package static let examples: [RuleExample] = [
        .fires("a transaction that reads a 20,000-field hash", [
            .fill("hash", "h", 20_000), ExampleCall("MULTI"), ExampleCall("HGETALL", "h"), ExampleCall("INCR", "n"), ExampleCall("EXEC")]),
        .fires("BLPOP inside MULTI", [ExampleCall("MULTI"), ExampleCall("BLPOP", "q", "5"), ExampleCall("EXEC")]),
        .quiet("a small transaction", [ExampleCall("MULTI"), ExampleCall("INCR", "n"), ExampleCall("SADD", "s", "a"), ExampleCall("EXEC")]),
        .quiet("BLPOP on its own", [ExampleCall("BLPOP", "q", "5")]),
    ]

    package let limit: Double
    package var heavy = FindingBuilder()
    package var misplaced = FindingBuilder()
    package init(threshold: Double) { limit = threshold }

    package mutating func observe(_ call: ObservedCall) {
        if call.semantics.transaction == .run {
            if let cost = call.cost.value, cost >= limit { heavy.add(call, note: "\(grouped(cost)) elements in the transaction") }
        } else if call.inTransaction || call.inScript {
            misplaced.add(call, cost: 0, note: call.inScript ? "inside a script" : "inside MULTI")
        }
    }

    package func findings(in result: AnalysisResult, table: CommandTable) -> [Finding] {
        var out: [Finding] = []
        if let f = heavy.finding(Self.self, summary: "\(counted(heavy.count, "transaction")) touched \(grouped(limit)) elements or more; the heaviest \(grouped(heavy.worst)).",
                                 threshold: "\(grouped(limit)) elements") { out.append(f) }
        if var f = misplaced.finding(Self.self, summary: "\(counted(misplaced.count, "blocking call")) inside MULTI or scripts, where they do not block.") {
            f.title = "Blocking commands inside MULTI or scripts"
            out.append(f)
        }
        return out
    }
}
