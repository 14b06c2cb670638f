import RedisCostCore
import RedisCostFormats

/// What one server (or one source tree) says about its commands, in table form: the input
/// of a refresh. Built from `COMMAND DOCS` + `COMMAND INFO`, or from command JSON files.
public struct ServerCommandDocs: Sendable {
    /// `redis-7.0.15`, `valkey-9.1.2`, `redis-source`, …
    public var server: String
    public var commands: [CommandEntry]

    public init(server: String, commands: [CommandEntry]) {
        self.server = server
        self.commands = commands
    }
}

public struct RefreshSummary: Sendable {
    public var added: [String] = []
    public var changedComplexity: [String] = []
    public var missingFormula: [String] = []
}

/// Merges servers' documentation into a table, keeping hand-written formulas and semantics.
///
/// The result does not depend on the order servers are refreshed in: each entry keeps every
/// server's own complexity string, `complexity` is the preferred server's (newest Redis, then
/// newest Valkey, then a source tree), and other metadata comes from that same server.
public enum TableRefresh {
    /// A new entry whose complexity is exactly "O(1)" gets the formula `1`; every other new
    /// entry is left without a formula and listed.
    public static func merge(
        _ docs: ServerCommandDocs, into entries: [CommandEntry], onlyNewCommands: Bool = false
    ) -> (entries: [CommandEntry], summary: RefreshSummary) {
        var byName = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0) })
        var summary = RefreshSummary()
        for incoming in docs.commands {
            guard var entry = byName[incoming.name] else {
                var fresh = incoming
                fresh.servers = [docs.server]
                fresh.complexityVariants = [:]
                fresh.sinceVariants = [:]
                fresh.formula = incoming.complexity == "O(1)" ? "1" : nil
                byName[incoming.name] = fresh
                summary.added.append(incoming.name)
                continue
            }
            if onlyNewCommands { continue }
            // A complexity taken from a module's documentation stands for every server that
            // reports none (Redis 8's vector sets, module commands).
            let documented = entry.complexitySource.map { (complexity: entry.complexity, source: $0) }
            var strings = entry.servers.reduce(into: [String: String?]()) { $0[$1] = .some(entry.complexity(on: $1)) }
            var sinces = entry.servers.reduce(into: [String: String]()) { $0[$1] = entry.since(on: $1) }
            sinces[docs.server] = incoming.since
            let reported = incoming.complexity ?? documented?.complexity
            if let old = strings[docs.server], old != reported { summary.changedComplexity.append(incoming.name) }
            strings[docs.server] = .some(reported)
            let servers = strings.keys.sorted(by: serverOrder)
            let preferred = servers.first { strings[$0]! != nil } ?? servers[0]
            if preferred == docs.server {
                let kept = (entry.formula, entry.semantics, entry.name)
                // A module command's docs say only `group: module`: keep the group and summary
                // taken from the module's documentation.
                let (group, summary) = (entry.group, entry.summary)
                entry = incoming
                (entry.formula, entry.semantics, entry.name) = kept
                if incoming.group == "module" { entry.group = group }
                entry.summary = incoming.summary ?? summary
            }
            entry.servers = servers
            entry.complexity = strings[preferred]!
            entry.complexityVariants = strings.filter { $0.value != entry.complexity }
            entry.complexitySource = documented.flatMap { $0.complexity == entry.complexity ? $0.source : nil }
            entry.since = sinces[preferred] ?? entry.since
            entry.sinceVariants = sinces.filter { $0.value != entry.since }
            byName[incoming.name] = entry
        }
        let merged = byName.values.sorted { $0.name < $1.name }
        summary.missingFormula = merged.filter { $0.formula == nil }.map(\.name)
        return (merged, summary)
    }

    /// Preferred first: Redis before Valkey before source trees, newer versions first.
    package static func serverOrder(_ a: String, _ b: String) -> Bool {
        func rank(_ id: String) -> (Int, [Int]) {
            let parts = id.split(separator: "-", maxSplits: 1).map(String.init)
            let family = parts.first ?? id
            let numbers = parts.count > 1 ? parts[1].split(separator: ".").map { Int($0) } : []
            let version = numbers.contains(nil) ? [] : numbers.compactMap { $0 }
            let familyRank = family == "redis" ? (version.isEmpty ? 2 : 0) : (version.isEmpty ? 3 : 1)
            return (familyRank, version)
        }
        let (fa, va) = rank(a)
        let (fb, vb) = rank(b)
        if fa != fb { return fa < fb }
        if va != vb { return va.lexicographicallyPrecedes(vb) == false }
        return a < b
    }
}
