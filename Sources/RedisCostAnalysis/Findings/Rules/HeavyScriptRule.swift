import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// Scripts whose calls add up: the cost of everything an EVAL/EVALSHA/FCALL ran.
package struct HeavyScriptRule: FindingRule {
    package static let id = "heavy-script"
    package static let title = "Heavy scripts"
    package static let severity = Finding.Severity.warning
    package static let why = "A script runs to its end without interruption: the calls it makes add up to one long call during which the server serves nobody else."
    package static let fix = "Move big reads out of the script, bound its loops (SCAN with COUNT, LIMIT), or split the work across several calls."
    /// Entries that name a script (`script` semantics): the calls that run one, and SCRIPT
    /// LOAD, whose body names the digest later EVALSHA calls use.
    package static func watches(_ entry: CommandEntry) -> Bool { entry.semantics.script != nil }
    package static let threshold: RuleThreshold? = RuleThreshold(10_000, "elements in one script call")
    package static let examples: [RuleExample] = [
        .fires("EVALSHA of a loaded script that reads a 20,000-member set", [
            .fill("set", "s", 20_000), ExampleCall("SCRIPT", "LOAD", "return redis.call('SMEMBERS', KEYS[1])"),
            ExampleCall("EVALSHA", SHA1.hex("return redis.call('SMEMBERS', KEYS[1])".utf8), "1", "s"),
            ExampleCall("SMEMBERS", "s", client: 0)]),
        .quiet("a script of O(1) calls", [
            ExampleCall("EVAL", "return redis.call('INCR', KEYS[1])", "1", "n"), ExampleCall("INCR", "n", client: 0)]),
    ]

    package let limit: Double
    package var found = FindingBuilder()
    /// Script bodies by SHA-1 (from EVAL and SCRIPT LOAD), to show EVALSHA calls' scripts.
    package var bodies: [[UInt8]: [UInt8]] = [:]
    package init(threshold: Double) { limit = threshold }

    package mutating func observe(_ call: ObservedCall) {
        var sha: [UInt8]?
        var function: Int?
        switch call.semantics.script {
        case .body(let at), .load(let at):
            guard at < call.argv.count else { return }
            let body = call.argv.bytes(at)
            let digest = Array(SHA1.hex(body).utf8)
            // One line in a table cell: the script's line breaks become spaces.
            if bodies.count < 10_000 { bodies[digest] = body.prefix(120).map { $0 == 10 ? 32 : $0 } }
            if case .load = call.semantics.script { return }
            sha = digest
        case .sha1(let at):
            // Servers take the digest in either case.
            sha = at < call.argv.count ? call.argv.bytes(at).map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 } : nil
        case .function(let at):
            function = at
        case nil:
            break
        }
        guard let cost = call.cost.value, cost >= limit else { return }
        var note: Note = "\(grouped(cost)) elements in its calls"
        if let sha {
            note += "; script sha1 \(name: Array(sha.prefix(12)))"
            if let body = bodies[sha] { note += ": `\(excerpt: body)`" }
        } else if let function, function < call.argv.count {
            note += "; function \(name: call.argv.bytes(function))"
        }
        found.add(call, note: note)
    }

    package func findings(in result: AnalysisResult, table: CommandTable) -> [Finding] {
        found.finding(Self.self, summary: "\(counted(found.count, "script call")) touched \(grouped(limit)) elements or more; the heaviest \(grouped(found.worst)).",
                      threshold: "\(grouped(limit)) elements").map { [$0] } ?? []
    }
}
