import Foundation
import RedisCostCore
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis

/// `maxmemory-policy noeviction` with a memory limit, or no limit near the machine's memory.
package struct MaxmemoryPolicyRule: AuditRule {
    package static let id = "config-maxmemory-policy"
    package static let title = "Memory limit and eviction policy"
    package static let severity = Finding.Severity.warning
    package static let why = "With maxmemory set and the default noeviction policy, every write fails with OOM once the limit is reached; without a limit, a server near the machine's memory gets killed by the kernel or swaps."
    package static let fix = "For a cache: maxmemory-policy allkeys-lru or allkeys-lfu. For data that must stay: keep noeviction, alert on used_memory, and size maxmemory with headroom. Always set maxmemory below the machine's memory."

    package static func findings(in s: ServerSnapshot, table: CommandTable) -> [Finding] {
        guard let config = s.config, let limit = Double(config["maxmemory"] ?? "") else { return [] }
        let used = s.number("used_memory") ?? 0
        let policy = config["maxmemory-policy"] ?? ""
        if limit > 0, policy == "noeviction" {
            return [finding("maxmemory is \(Audit.bytes(limit)) with maxmemory-policy noeviction: writes fail with OOM at the limit (\(String(format: "%.0f", used / limit * 100))% used now).",
                            facts: ["maxmemory \(Audit.whole(limit)) (\(Audit.bytes(limit)))", "maxmemory-policy noeviction",
                                    "used_memory \(Int(used)) (\(Audit.bytes(used)))"])]
        }
        if limit == 0, let total = s.number("total_system_memory"), total > 0, used > 0.75 * total {
            return [finding("No maxmemory, and used_memory is \(String(format: "%.0f", used / total * 100))% of the machine's memory.",
                            facts: ["maxmemory 0", "used_memory \(Audit.bytes(used))", "total_system_memory \(Audit.bytes(total))"], severity: .critical)]
        }
        return []
    }
}

/// `stop-writes-on-bgsave-error yes` while snapshots are on.
package struct StopWritesOnBgsaveErrorRule: AuditRule {
    package static let id = "config-stop-writes-on-bgsave-error"
    package static let title = "One failed BGSAVE stops every write"
    package static let severity = Finding.Severity.warning
    package static let why = "With stop-writes-on-bgsave-error yes and save points set, a single failed background save (disk full, fork refused) makes the server refuse every write until a save succeeds."
    package static let fix = "Monitor rdb_last_bgsave_status and disk space; if availability matters more than the snapshot, set stop-writes-on-bgsave-error no."

    package static func findings(in s: ServerSnapshot, table: CommandTable) -> [Finding] {
        guard let config = s.config, config["stop-writes-on-bgsave-error"] == "yes", let save = config["save"], !save.isEmpty else { return [] }
        let status = s.info["rdb_last_bgsave_status"] ?? "unknown"
        return [finding("stop-writes-on-bgsave-error is yes with save points \"\(save)\"; the last BGSAVE was \(status).",
                        facts: ["stop-writes-on-bgsave-error yes", "save \(save)", "rdb_last_bgsave_status \(status)"],
                        severity: status == "err" ? .critical : nil)]
    }
}

/// Save points: each snapshot forks.
package struct SaveRule: AuditRule {
    package static let id = "config-save"
    package static let title = "RDB save points: a fork per snapshot"
    package static let severity = Finding.Severity.info
    package static let why = "Each save point that triggers runs BGSAVE, which forks: the fork blocks the server for latest_fork_usec, and pages written while the child runs are copied (rdb_last_cow_size)."
    package static let fix = "Keep save points only where the snapshots are used (backups, restarts); on a write-heavy primary, snapshot on a replica instead; make sure the machine has memory for copy-on-write."

    package static func findings(in s: ServerSnapshot, table: CommandTable) -> [Finding] {
        guard let save = s.config?["save"], !save.isEmpty else { return [] }
        let fork = s.number("latest_fork_usec") ?? 0
        let changes = s.number("rdb_changes_since_last_save") ?? 0
        let uptime = max(1, s.number("uptime_in_seconds") ?? 1)
        let lastSave = s.number("rdb_last_save_time") ?? 0
        let since = lastSave > 0 ? max(1, Date().timeIntervalSince1970 - lastSave) : uptime
        var facts = ["save \(save)", "latest_fork_usec \(Int(fork))", "rdb_changes_since_last_save \(Int(changes)) in the last \(Int(since)) s (\(String(format: "%.1f", changes / since)) writes/s)"]
        if let cow = s.number("rdb_last_cow_size") { facts.append("rdb_last_cow_size \(Audit.bytes(cow))") }
        // The shortest save point the write rate meets is how often the server forks.
        let points = save.split(separator: " ").compactMap { Int($0) }
        var every: Int?
        for i in stride(from: 0, to: points.count - 1, by: 2) where changes / since * Double(points[i]) >= Double(points[i + 1]) {
            every = min(every ?? .max, points[i])
        }
        let cadence = every.map { " At the current write rate it forks about every \($0) s." } ?? ""
        return [finding("Save points \"\(save)\" are on; the last fork took \(Int(fork)) µs.\(cadence)", facts: facts,
                        severity: fork >= 100_000 ? .warning : nil)]
    }
}

/// AOF rewrite thresholds and fsync policy.
package struct AOFRewriteRule: AuditRule {
    package static let id = "config-aof-rewrite"
    package static let title = "AOF rewrite and fsync"
    package static let severity = Finding.Severity.warning
    package static let why = "appendfsync always makes every write wait for a disk flush; auto-aof-rewrite settings decide how large the AOF grows before a rewrite forks and rewrites it."
    package static let fix = "Use appendfsync everysec (at most a second of writes lost) unless every write must survive a power cut; set auto-aof-rewrite-percentage and -min-size so that rewrites happen at a size the disk and fork can afford."

    package static func findings(in s: ServerSnapshot, table: CommandTable) -> [Finding] {
        guard let config = s.config, config["appendonly"] == "yes" else { return [] }
        var out: [Finding] = []
        let writes = s.info.filter { $0.key.hasPrefix("cmdstat_") }.reduce(0.0) { total, field in
            let name = String(field.key.dropFirst(8)).replacingOccurrences(of: "|", with: " ").uppercased()
            guard let entry = table.indexByName[name].map({ table.entries[$0] }), entry.isWrite,
                  let calls = infoFields(field.value)["calls"].flatMap({ Double($0) }) else { return total }
            return total + calls
        }
        let rate = writes / max(1, s.number("uptime_in_seconds") ?? 1)
        if config["appendfsync"] == "always", rate >= 100 {
            out.append(finding("appendfsync always on a server doing \(String(format: "%.0f", rate)) writes/s on average: every write waits for the disk.",
                               facts: ["appendfsync always", "\(Audit.whole(writes)) writes in \(Int(s.number("uptime_in_seconds") ?? 0)) s of uptime"]))
        }
        let percentage = Double(config["auto-aof-rewrite-percentage"] ?? "") ?? 100
        let minimum = Double(config["auto-aof-rewrite-min-size"] ?? "") ?? 0
        let current = s.number("aof_current_size") ?? 0
        let base = s.number("aof_base_size") ?? 0
        if percentage == 0 {
            out.append(finding("auto-aof-rewrite-percentage is 0: the AOF is never rewritten automatically and grows without bound (\(Audit.bytes(current)) now).",
                               facts: ["auto-aof-rewrite-percentage 0", "aof_current_size \(Audit.bytes(current))"], title: "AOF never rewritten"))
        } else if base > 0, current > max(minimum, base * (1 + percentage / 100)) * 2 {
            out.append(finding("The AOF is \(Audit.bytes(current)), more than twice its rewrite point: rewrites do not keep up or keep failing.",
                               facts: ["aof_current_size \(Audit.bytes(current))", "aof_base_size \(Audit.bytes(base))",
                                       "auto-aof-rewrite-percentage \(Audit.whole(percentage))", "auto-aof-rewrite-min-size \(Audit.bytes(minimum))",
                                       "aof_last_bgrewrite_status \(s.info["aof_last_bgrewrite_status"] ?? "unknown")"], title: "AOF past its rewrite point"))
        }
        return out
    }
}

/// `notify-keyspace-events` on: the classes and their cost.
package struct NotificationsConfigRule: AuditRule {
    package static let id = "keyspace-notifications"
    package static let title = "Keyspace notifications are on"
    package static let severity = Finding.Severity.info
    package static let why = "Every write (and every expiry and eviction) of an enabled class publishes a pub/sub message per event type, whether or not anybody listens; subscribers that fall behind are disconnected at client-output-buffer-limit pubsub."
    package static let fix = "Enable only the classes a consumer uses (e.g. Ex for expiries), or turn it off (notify-keyspace-events \"\")."
    package static let classes: [Character: String] = [
        "K": "keyspace channel", "E": "keyevent channel", "g": "generic (DEL, EXPIRE, RENAME…)", "$": "strings", "l": "lists",
        "s": "sets", "h": "hashes", "z": "sorted sets", "x": "expired", "e": "evicted", "t": "streams", "m": "key misses",
        "d": "module types", "n": "new keys", "A": "all classes (g$lshzxetd)",
    ]

    package static func findings(in s: ServerSnapshot, table: CommandTable) -> [Finding] {
        guard let value = s.config?["notify-keyspace-events"], !value.isEmpty else { return [] }
        let names = value.map { classes[$0] ?? String($0) }
        return [finding("notify-keyspace-events is \"\(value)\": \(names.joined(separator: ", ")).", facts: ["notify-keyspace-events \(value)"],
                        severity: value.contains("A") || value.contains("m") ? .warning : nil)]
    }
}

/// `tcp-keepalive 0`.
package struct TCPKeepaliveRule: AuditRule {
    package static let id = "tcp-keepalive"
    package static let title = "TCP keepalive is off"
    package static let severity = Finding.Severity.warning
    package static let why = "Without keepalive, connections whose client vanished (a crashed host, a dropped NAT entry) stay open forever and hold memory and client slots."
    package static let fix = "Set tcp-keepalive 300 (the default since Redis 3.2.1)."

    package static func findings(in s: ServerSnapshot, table: CommandTable) -> [Finding] {
        guard s.config?["tcp-keepalive"] == "0" else { return [] }
        return [finding("tcp-keepalive is 0.", facts: ["tcp-keepalive 0", "connected_clients \(s.info["connected_clients"] ?? "?")"])]
    }
}
