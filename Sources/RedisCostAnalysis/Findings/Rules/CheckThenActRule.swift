import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// EXISTS k, then an action on k from the same connection a moment later.
package struct CheckThenActRule: FindingRule {
    package static let id = "check-then-act"
    package static let title = "Check-then-act: EXISTS before acting on the same key"
    package static let severity = Finding.Severity.info
    package static let why = "EXISTS then GET/DEL/… costs two round trips where one does, and the key can change between them (another client deletes or sets it): a race."
    package static let fix = "Act directly and use the reply: GET returns nil for a missing key, DEL/UNLINK return 0, SET NX/XX and HSETNX make the condition part of the write."
    package static let commands: Set<String> = ["EXISTS"]
    /// Any command on a key (the table gives it key specs): its reply already says whether the
    /// key was there (GET's nil, DEL's 0, TTL's -2), or it creates the key anyway (SET, INCR).
    package static func follows(_ entry: CommandEntry) -> Bool { !entry.keySpecs.isEmpty }
    package static let threshold: RuleThreshold? = RuleThreshold(5, "occurrences")
    /// How soon the action must follow the check.
    package static let window: Int64 = 1_000_000
    package static let examples: [RuleExample] = [
        .fires("EXISTS then GET, again and again", (0..<6).flatMap { i in
            [ExampleCall("EXISTS", "user:\(i)"), ExampleCall("GET", "user:\(i)")] }),
        .quiet("GET alone", (0..<6).map { ExampleCall("GET", "user:\($0)") }),
        .quiet("EXISTS from one client, GET from another", (0..<6).flatMap { i in
            [ExampleCall("EXISTS", "user:\(i)", client: 1), ExampleCall("GET", "user:\(i)", client: 2)] }),
    ]

    package let limit: Double
    package var found = FindingBuilder()
    /// The last EXISTS of each client: key identity and time.
    package var lastCheck: [String: (key: UInt64, at: Int64)] = [:]
    package init(threshold: Double) { limit = threshold }
    package var isArmed: Bool { !lastCheck.isEmpty }

    package mutating func observe(_ call: ObservedCall) {
        guard let client = call.client, let at = call.microseconds, !call.positions.isEmpty else { return }
        let key = keyIdentity(call.argv[call.positions[0]], database: call.database)
        if call.command == "EXISTS" {
            if lastCheck.count >= 100_000 { lastCheck.removeAll() }  // checks never followed up, from a churn of clients
            if call.positions.count == 1 { lastCheck[client] = (key, at) }
            return
        }
        guard let check = lastCheck[client], check.key == key, at - check.at <= Self.window else { return }
        lastCheck[client] = nil
        found.add(call, cost: 0, note: "EXISTS then \(call.command), \(grouped(Double(at - check.at))) µs apart")
    }

    package func findings(in result: AnalysisResult, table: CommandTable) -> [Finding] {
        guard Double(found.count) >= limit else { return [] }
        return found.finding(Self.self, summary: "\(counted(found.count, "time")): a client checked a key with EXISTS and then acted on it.",
                             threshold: "\(grouped(limit)) occurrences").map { [$0] } ?? []
    }
}
