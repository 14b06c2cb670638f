/// Deprecated commands, the server version the workload needs, and what would break on a
/// target version (`--target-version 6.2`).
struct VersionRule: FindingRule {
    static let id = "version"
    static let title = "Server versions: deprecated commands and what the workload needs"
    static let severity = Finding.Severity.info
    static let why = "Deprecated commands keep working but have replacements that newer clients and servers favour; a command newer than a server fails there with ERR unknown command, so upgrades and downgrades must know the newest command the workload uses."
    static let fix = "Move to the replacements the table names; before moving the workload to another server version, check the commands that version lacks."
    static let commands: Set<String> = []
    static let examples: [RuleExample] = [
        .fires("ZREVRANGE is deprecated since 6.2", [.fill("zset", "z", 3), ExampleCall("ZREVRANGE", "z", "0", "-1")]),
        .quiet("ZRANGE … REV", [.fill("zset", "z", 3), ExampleCall("ZRANGE", "z", "0", "-1", "REV")]),
    ]

    var targetVersion: String?
    init(threshold: Double) {}
    mutating func configure(_ options: FindingsEngine.Options) { targetVersion = options.targetVersion }

    /// Compares dotted versions numerically: 6.2.0 < 7.0.0 < 7.4.0.
    static func less(_ a: String, _ b: String) -> Bool {
        let x = a.split(separator: ".").map { Int($0) ?? 0 }, y = b.split(separator: ".").map { Int($0) ?? 0 }
        for i in 0..<max(x.count, y.count) where (i < x.count ? x[i] : 0) != (i < y.count ? y[i] : 0) {
            return (i < x.count ? x[i] : 0) < (i < y.count ? y[i] : 0)
        }
        return false
    }

    /// The newest `since` among the commands the workload ran, and the commands that need it.
    static func minimumVersion(_ result: AnalysisResult, _ table: CommandTable) -> (version: String, commands: [String])? {
        var best: (String, [String])?
        for command in result.commands {
            guard let entry = table.entry(named: command.name), let since = entry.since else { continue }
            if best == nil || less(best!.0, since) { best = (since, [command.name]) } else if best!.0 == since { best!.1.append(command.name) }
        }
        return best
    }

    func findings(in result: AnalysisResult, table: CommandTable) -> [Finding] {
        let minimum = Self.minimumVersion(result, table)
        let needs = minimum.map { " The workload needs a server ≥ \($0.version) (\($0.commands.prefix(5).joined(separator: ", ")))." } ?? ""
        var out: [Finding] = []
        var deprecated: [Finding.Evidence] = []
        var calls = 0
        for command in result.commands {
            guard let entry = table.entry(named: command.name), let since = entry.deprecatedSince else { continue }
            calls += command.calls
            deprecated.append(.init(command: command.name, keys: [], sizes: [], cost: nil, time: nil, client: nil, location: "",
                                    note: "\(counted(command.calls, "call")); deprecated since \(since)" + (entry.replacedBy.map { "; use \($0)" } ?? "")))
        }
        if !deprecated.isEmpty {
            out.append(Finding(rule: Self.id, title: "Deprecated commands", severity: .info, why: Self.why, fix: Self.fix,
                               summary: "\(counted(deprecated.count, "deprecated command")), \(counted(calls, "call"))." + needs,
                               count: calls, cost: 0, evidence: deprecated, patterns: [], threshold: nil))
        }
        if let target = targetVersion {
            var missing: [Finding.Evidence] = []
            var calls = 0
            for command in result.commands {
                guard let entry = table.entry(named: command.name), let since = entry.since, Self.less(target, since) else { continue }
                calls += command.calls
                missing.append(.init(command: command.name, keys: [], sizes: [], cost: nil, time: nil, client: nil, location: "",
                                     note: "\(counted(command.calls, "call")); needs \(since)"))
            }
            if !missing.isEmpty {
                out.append(Finding(rule: Self.id, title: "Commands a \(target) server does not have", severity: .critical, why: Self.why, fix: Self.fix,
                                   summary: "\(counted(missing.count, "command")) the workload uses \(missing.count == 1 ? "is" : "are") newer than \(target): \(counted(calls, "call")) would fail there." + needs,
                                   count: calls, cost: 0, evidence: missing, patterns: [], threshold: nil))
            }
        }
        return out
    }
}
