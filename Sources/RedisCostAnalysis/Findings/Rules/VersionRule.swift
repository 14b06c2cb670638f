import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// Deprecated commands, the server version the workload needs, and what would break on a
/// target version (`--target-version 6.2`).
package struct VersionRule: FindingRule {
    package static let id = "version"
    package static let title = "Server versions: deprecated commands and what the workload needs"
    package static let severity = Finding.Severity.info
    package static let why = "Deprecated commands keep working but have replacements that newer clients and servers favour; a command newer than a server fails there with ERR unknown command, so upgrades and downgrades must know the newest command the workload uses."
    package static let fix = "Move to the replacements the table names; before moving the workload to another server version, check the commands that version lacks."
    package static let examples: [RuleExample] = [
        .fires("ZREVRANGE is deprecated since 6.2", [.fill("zset", "z", 3), ExampleCall("ZREVRANGE", "z", "0", "-1")]),
        .quiet("ZRANGE … REV", [.fill("zset", "z", 3), ExampleCall("ZRANGE", "z", "0", "-1", "REV")]),
    ]

    package var targetVersion: String?
    package init(threshold: Double) {}
    package mutating func configure(_ options: FindingsEngine.Options) { targetVersion = options.targetVersion }

    /// Compares dotted versions numerically: 6.2.0 < 7.0.0 < 7.4.0.
    package static func less(_ a: String, _ b: String) -> Bool {
        let x = a.split(separator: ".").map { Int($0) ?? 0 }, y = b.split(separator: ".").map { Int($0) ?? 0 }
        for i in 0..<max(x.count, y.count) where (i < x.count ? x[i] : 0) != (i < y.count ? y[i] : 0) {
            return (i < x.count ? x[i] : 0) < (i < y.count ? y[i] : 0)
        }
        return false
    }

    /// Valkey began as a fork of Redis 7.2.4: it has every command Redis had then, and dates
    /// those by Redis's versions; a Valkey older than that does not exist.
    package static let valkeyFirstRelease = "7.2.4"

    /// Per server family (Redis, Valkey), the newest `since` among the commands the workload
    /// ran, the commands that need it, and the commands that family lacks.
    /// Only a capture shows what clients sent: an AOF holds what the server propagated (Redis 8
    /// writes HINCRBYFLOAT as HSETEX … KEEPTTL), which says nothing of what the clients need.
    /// Connection handshakes (HELLO, CLIENT SETINFO) are left out: clients send them and fall
    /// back when an older server refuses them.
    package static func minimumVersions(_ result: AnalysisResult, _ table: CommandTable) -> [AnalysisResult.MinimumVersion] {
        guard result.isMonitor else { return [] }
        var out: [AnalysisResult.MinimumVersion] = []
        for family in ["Redis", "Valkey"] {
            let prefix = family.lowercased() + "-"
            var minimum = AnalysisResult.MinimumVersion(family: family, version: family == "Valkey" ? valkeyFirstRelease : "0.0.0")
            var seen = false
            for command in result.commands {
                guard let entry = table.entry(named: command.name), entry.group != "connection" else { continue }
                let servers = entry.servers.filter { $0.hasPrefix(prefix) }
                guard !servers.isEmpty else {
                    minimum.unavailable.append(command.name)
                    continue
                }
                // The newest release of the family that the table knows documents it best.
                let server = servers.sorted(by: TableRefresh.serverOrder).first!
                guard let since = entry.since(on: server) ?? entry.since else { continue }
                seen = true
                if less(minimum.version, since) {
                    minimum.version = since
                    minimum.commands = [command.name]
                } else if minimum.version == since {
                    minimum.commands.append(command.name)
                }
            }
            if seen || !minimum.unavailable.isEmpty { out.append(minimum) }
        }
        return out
    }

    package func findings(in result: AnalysisResult, table: CommandTable) -> [Finding] {
        let minimums = Self.minimumVersions(result, table)
        let needs = minimums.isEmpty ? "" : " The workload needs " + minimums.map(\.text).joined(separator: "; ") + "."
        var out: [Finding] = []
        var deprecated: [Finding.Evidence] = []
        var calls = 0
        for command in result.commands {
            guard let entry = table.entry(named: command.name), let since = entry.deprecatedSince else { continue }
            calls += command.calls
            deprecated.append(.init(command: command.name, keys: [], sizes: [], cost: nil, time: nil, client: nil, location: "",
                                    note: "\(counted(command.calls, "call")); deprecated since \(since)\(entry.replacedBy.map { "; use \($0)" } ?? "")"))
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
