import RedisCostCore
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis

/// Slow (and large) calls the server logged, grouped by command and key pattern, with the
/// documented complexity and the size of the key now.
package struct SlowlogRule: AuditRule {
    package static let id = "slowlog"
    package static let title = "Slow calls in the SLOWLOG"
    package static let severity = Finding.Severity.warning
    package static let why = "The SLOWLOG holds the calls whose execution (not network) time passed slowlog-log-slower-than; each blocked every other client for that long."
    package static let fix = "Look at the complexity and the key sizes below: page through big collections, split big keys, or move the call off the hot path (see 'redis-cost explain')."

    package struct Group {
        package var command = ""
        /// The table entry, and the keys of the example call.
        package var index: Int?
        package var keys: [[UInt8]] = []
        package var pattern: [UInt8] = []
        package var count = 0
        package var total = 0
        package var largest = 0
        package var example: ServerSnapshot.LogEntry?
    }

    package static func groups(_ entries: [ServerSnapshot.LogEntry], table: CommandTable) -> [Group] {
        var groups: [[UInt8]: Group] = [:]
        for entry in entries where !entry.argv.isEmpty {
            let resolved = table.resolve(entry.argv)
            let name = resolved.map { table.entries[$0.index].name } ?? KeyText.commandName(entry.argv[0])
            let keys = resolved?.keyPositions.map { entry.argv[$0] } ?? []
            let pattern = keys.first.map { k in k.withUnsafeBytes { KeyPattern.fold($0) } } ?? []
            // By bytes: patterns that are not UTF-8 stay apart.
            let id = Array(name.utf8) + [0] + pattern
            var group = groups[id] ?? Group(command: name, index: resolved?.index, pattern: pattern)
            group.count += 1
            group.total += entry.value
            if entry.value >= group.largest {
                group.largest = entry.value
                group.example = entry
                group.keys = keys
            }
            groups[id] = group
        }
        return groups.values.sorted { ($0.total, $1.command) > ($1.total, $0.command) }
    }

    /// The cost formula of a logged call with the sizes its keys have now (nil when unknown).
    package static func costNow(_ argv: [[UInt8]], index: Int, sizes: [KeySize], server s: ServerSnapshot, table: CommandTable) -> Double? {
        guard let formula = table.formulas[index] else { return nil }
        return Argv.with(argv) { call -> Double? in
            let keys = s.info["db\(s.database)"].flatMap { infoFields($0)["keys"] }.flatMap { Int($0) }
            let input = RawCallInput(argv: call, keyPositions: table.keyPositions(of: index, in: call), sizes: sizes,
                                     databaseSize: keys, allDatabasesSize: nil)
            return formula.evaluate(input).value
        }
    }

    package static func findings(in s: ServerSnapshot, table: CommandTable) -> [Finding] {
        var out: [Finding] = []
        let threshold = s.config?["slowlog-log-slower-than"].map { "slowlog-log-slower-than \($0) µs" } ?? "slowlog-log-slower-than unknown (CONFIG GET denied)"
        for (entries, kind, unit) in [(s.slowlog, "slow", "µs"), (s.largeRequests, "large-request", "bytes"), (s.largeReplies, "large-reply", "bytes")] {
            guard let entries, !entries.isEmpty else { continue }
            let groups = groups(entries, table: table)
            let evidence = groups.prefix(10).map { g -> Finding.Evidence in
                let entry = g.example!
                let (index, keys) = (g.index, g.keys)
                let complexity = index.flatMap { table.entries[$0].complexity } ?? "not in the table"
                var note = "\(g.count) × in the log, \(grouped(g.total)) \(unit) in all, largest \(grouped(g.largest)) \(unit); documented: \(complexity)"
                if let first = keys.first, let sampled = s.keySizes[first] {
                    let size = sampled.size.count.map { counted($0, sampled.type == "string" ? "byte" : "element") } ?? "size unknown"
                    note += sampled.type == "none" ? "; the key no longer exists" : "; the key now: \(sampled.type), \(size)"
                }
                let sizes = keys.map { s.keySizes[$0]?.size ?? .unknown }
                let cost = index.flatMap { costNow(entry.argv, index: $0, sizes: sizes, server: s, table: table) }
                var evidence = Finding.Evidence(command: g.command, keys: keys, sizes: sizes, cost: cost, time: entry.time,
                                                client: entry.client.isEmpty ? nil : entry.client, location: "\(kind) #\(entry.id)", note: Note(note))
                evidence.elementClass = TimeModel.elementClass(ofGroup: index.map { table.entries[$0].group } ?? "")
                return evidence
            }
            let summary = kind == "slow"
                ? "\(counted(entries.count, "entry", plural: "entries")) in the SLOWLOG (\(threshold)\(s.slowlogLength.map { "; \($0) in all" } ?? "")), \(counted(groups.count, "command and key pattern", plural: "commands and key patterns"))."
                : "\(counted(entries.count, "entry", plural: "entries")) in COMMANDLOG \(kind), \(counted(groups.count, "command and key pattern", plural: "commands and key patterns"))."
            var f = finding(summary, facts: [], title: kind == "slow" ? title : "Large \(kind == "large-request" ? "requests" : "replies") in the COMMANDLOG",
                            count: entries.count)
            f.evidence = Array(evidence)
            var byPattern: [[UInt8]: Int] = [:]
            for g in groups where !g.pattern.isEmpty { byPattern[g.pattern, default: 0] += g.count }
            f.patterns = FindingBuilder.top(byPattern)
            out.append(f)
        }
        return out
    }
}

/// Fragmentation: RSS far above what the data uses, or below it (swapping).
package struct MemoryFragmentationRule: AuditRule {
    package static let id = "memory-fragmentation"
    package static let title = "Memory fragmentation"
    package static let severity = Finding.Severity.warning
    package static let why = "used_memory is what the data takes; used_memory_rss is what the process holds. A ratio well above 1 is memory lost to fragmentation; below 1 means part of the data set is swapped out, and every access to it waits for the disk."
    package static let fix = "Above 1.5 on a real data set: activedefrag yes (jemalloc builds). Below 1: give the machine more memory or set maxmemory lower; never let a Redis swap."

    package static func findings(in s: ServerSnapshot, table: CommandTable) -> [Finding] {
        guard let ratio = s.number("mem_fragmentation_ratio"), let used = s.number("used_memory"), let rss = s.number("used_memory_rss") else { return [] }
        let facts = ["mem_fragmentation_ratio \(ratio)", "used_memory \(Audit.bytes(used))", "used_memory_rss \(Audit.bytes(rss))",
                     "activedefrag \(s.config?["activedefrag"] ?? "unknown")"]
        if ratio > 1.5, used > 100 * 1_048_576 {
            return [finding("The process holds \(String(format: "%.2f", ratio))× the memory its data uses (\(Audit.bytes(rss - used)) lost).", facts: facts)]
        }
        if ratio < 1, used > 100 * 1_048_576 {
            return [finding("used_memory_rss is below used_memory (ratio \(ratio)): part of the data set is swapped out.", facts: facts, severity: .critical)]
        }
        return []
    }
}

/// Clients with big output or query buffers, and limits that will disconnect them.
package struct OutputBuffersRule: AuditRule {
    package static let id = "output-buffers"
    package static let title = "Big client buffers"
    package static let severity = Finding.Severity.warning
    package static let why = "A client that reads slower than the server writes (a slow subscriber, a replica, a MONITOR) accumulates its replies in the server's memory (omem); past client-output-buffer-limit it is disconnected."
    package static let fix = "Make those clients read faster, or raise client-output-buffer-limit for their class (pubsub, replica) to what the write rate needs; watch omem in CLIENT LIST."

    package static func findings(in s: ServerSnapshot, table: CommandTable) -> [Finding] {
        guard let clients = s.clients else { return [] }
        let big = clients.filter { (Double($0["omem"] ?? "") ?? 0) >= 1_048_576 || (Double($0["qbuf"] ?? "") ?? 0) >= 1_048_576 }
        guard !big.isEmpty else { return [] }
        var facts = big.prefix(10).map { c in
            "client \(c["addr"] ?? "?") (\(c["name"].map { $0.isEmpty ? "" : "name \($0), " } ?? "")flags \(c["flags"] ?? "?"), cmd \(c["cmd"] ?? "?")): omem \(Audit.bytes(Double(c["omem"] ?? "") ?? 0)), qbuf \(Audit.bytes(Double(c["qbuf"] ?? "") ?? 0))"
        }
        if let limits = s.config?["client-output-buffer-limit"] { facts.append("client-output-buffer-limit \(limits)") }
        return [finding("\(counted(big.count, "client")) with 1 MB or more in their output or query buffer.", facts: facts, count: big.count)]
    }
}

/// Clients near maxclients, rejected connections, connections opened per second.
package struct ConnectionsRule: AuditRule {
    package static let id = "connections"
    package static let title = "Connections"
    package static let severity = Finding.Severity.warning
    package static let why = "At maxclients new connections are refused; a high rate of new connections means clients connect per request instead of pooling, which costs a handshake (and AUTH) each time."
    package static let fix = "Pool connections in the clients; raise maxclients (and the file-descriptor limit) only when the connections are real."

    package static func findings(in s: ServerSnapshot, table: CommandTable) -> [Finding] {
        let connected = s.number("connected_clients") ?? 0
        let rejected = s.number("rejected_connections") ?? 0
        let received = s.number("total_connections_received") ?? 0
        let uptime = max(1, s.number("uptime_in_seconds") ?? 1)
        let maxClients = Double(s.config?["maxclients"] ?? "") ?? 10_000
        var problems: [String] = []
        if connected >= 0.8 * maxClients { problems.append("\(Int(connected)) of maxclients \(Audit.whole(maxClients)) connected") }
        if rejected > 0 { problems.append("\(Int(rejected)) connections rejected (rejected_connections)") }
        if received / uptime >= 50, uptime >= 60 { problems.append(String(format: "%.0f new connections a second on average", received / uptime)) }
        guard !problems.isEmpty else { return [] }
        return [finding(problems.joined(separator: "; ") + ".", facts: ["connected_clients \(Int(connected))", "maxclients \(Audit.whole(maxClients))",
                                                                       "rejected_connections \(Int(rejected))", "total_connections_received \(Int(received)) in \(Int(uptime)) s"])]
    }
}

/// Replicas behind, links down, a backlog too small for the write rate; the upgrade order.
package struct ReplicationRule: AuditRule {
    package static let id = "replication-lag"
    package static let title = "Replication"
    package static let severity = Finding.Severity.warning
    package static let why = "A replica that falls behind serves stale reads and, when its link breaks for longer than the backlog covers, needs a full resynchronisation (a fork and a full copy)."
    package static let fix = "Size repl-backlog-size for the write rate times the longest link outage you want to survive; find why replicas lag (network, slow disk with AOF). Upgrade replicas first, fail over, then upgrade the old primary."

    package static func findings(in s: ServerSnapshot, table: CommandTable) -> [Finding] {
        var facts: [String] = []
        var problems: [String] = []
        let role = s.info["role"] ?? ""
        if role == "slave" || role == "replica" {
            let link = s.info["master_link_status"] ?? "unknown"
            facts.append("role replica of \(s.info["master_host"] ?? "?"):\(s.info["master_port"] ?? "?"), master_link_status \(link)")
            if link != "up" { problems.append("the link to the primary is \(link)") }
        } else if let replicas = s.number("connected_slaves"), replicas > 0 {
            let offset = s.number("master_repl_offset") ?? 0
            // The replicas listed (slave0, slave1…), not a count from the server to loop up to.
            let listed = s.info.keys.compactMap { $0.hasPrefix("slave") ? Int($0.dropFirst(5)) : nil }.filter { Double($0) < replicas }.sorted()
            for i in listed {
                guard let line = s.info["slave\(i)"] else { continue }
                let fields = infoFields(line)
                let behind = offset - (Double(fields["offset"] ?? "") ?? offset)
                facts.append("replica \(fields["ip"] ?? "?"):\(fields["port"] ?? "?") state \(fields["state"] ?? "?"), \(Audit.whole(behind)) bytes behind, lag \(fields["lag"] ?? "?") s")
                if behind > 1_048_576 || (Int(fields["lag"] ?? "") ?? 0) > 10 || fields["state"] != "online" {
                    problems.append("replica \(fields["ip"] ?? "?"):\(fields["port"] ?? "?") is behind (\(Audit.bytes(behind)), lag \(fields["lag"] ?? "?") s, \(fields["state"] ?? "?"))")
                }
            }
            let backlog = s.number("repl_backlog_size") ?? 0
            let rate = offset / max(1, s.number("uptime_in_seconds") ?? 1)
            facts.append("repl_backlog_size \(Audit.bytes(backlog)); \(Audit.bytes(rate))/s written to replicas on average")
            if rate > 0, backlog / rate < 60 { problems.append("the backlog covers only \(Int(backlog / rate)) s of writes") }
            facts.append("upgrade order: replicas first, then a failover, then the old primary")
        } else {
            return []
        }
        guard !problems.isEmpty else {
            return [finding("Replication is healthy.", facts: facts, severity: .info, title: "Replication (healthy)")]
        }
        return [finding(problems.joined(separator: "; ") + ".", facts: facts)]
    }
}

/// The server version, and what the command table knows about it.
package struct ServerVersionRule: AuditRule {
    package static let id = "version"
    package static let title = "Server version"
    package static let severity = Finding.Severity.info
    package static let why = "Complexities, key specs and commands differ between versions; the table records which servers report each command."
    package static let fix = "Before an upgrade or downgrade, run 'redis-cost analyze' on a capture with --target-version to list what the workload would lose."

    package static func findings(in s: ServerSnapshot, table: CommandTable) -> [Finding] {
        let known = table.entries.filter { $0.servers.contains(s.version) }.count
        let note = known > 0 ? "the command table has \(known) commands as \(s.version) reports them"
            : "the command table has not been refreshed from \(s.version): run 'redis-cost table refresh' against it"
        return [finding("\(s.version) (\(s.info["redis_mode"] ?? s.info["server_mode"] ?? "standalone"), uptime \(s.info["uptime_in_days"] ?? "?") days); \(note).",
                        facts: ["\(s.version)", "executable \(s.info["executable"] ?? "?")", "os \(s.info["os"] ?? "?")"])]
    }
}
