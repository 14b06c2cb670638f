/// Everything `redis-cost audit` reads from a server, with read-only commands only: `CONFIG
/// GET *`, `INFO everything`, `SLOWLOG GET`, `COMMANDLOG GET` (Valkey 8.1+), `CLIENT LIST`,
/// `LATENCY LATEST`. A command the user may not run (ACL) is recorded as denied and the rest
/// is still read.
public struct ServerSnapshot: Sendable {
    /// One SLOWLOG / COMMANDLOG entry: `value` is microseconds for the slow log, bytes for
    /// the large-request and large-reply logs. Arguments are kept for the command and key
    /// names only; the report never prints the others.
    public struct LogEntry: Sendable {
        public var id: Int
        public var time: Int64
        public var value: Int
        public var argv: [[UInt8]]
        public var client: String
    }

    public var server: String
    /// `redis-7.0.15`, `valkey-9.1.2`.
    public var version: String
    /// nil when CONFIG GET was denied.
    public var config: [String: String]?
    public var info: [String: String]
    public var slowlog: [LogEntry]?
    public var slowlogLength: Int?
    /// COMMANDLOG's large-request and large-reply logs, where the server has them.
    public var largeRequests: [LogEntry]?
    public var largeReplies: [LogEntry]?
    /// `CLIENT LIST` as field maps (nil when denied).
    public var clients: [[String: String]]?
    /// `LATENCY LATEST`: event, time, latest ms, max ms.
    public var latency: [(event: String, time: Int64, latest: Int, max: Int)]?
    /// What could not be read, one line each (`CONFIG GET: NOPERM …`).
    public var denied: [String] = []
    /// Sizes of the keys in the logs that still exist, sampled with O(1) commands.
    public var keySizes: [[UInt8]: SampledKey] = [:]
    public var database: Int

    public func number(_ field: String) -> Double? { info[field].flatMap { Double($0) } }

    /// Reads the server. Throws only when the server cannot be talked to at all.
    public static func read(_ connection: RedisConnection) throws(ServerError) -> ServerSnapshot {
        var denied: [String] = []
        /// A reply, or nil (and a line in `denied`) when the server refused the command.
        func attempt(_ argv: [String]) throws(ServerError) -> RESPValue? {
            let reply = try connection.command(argv)
            if case .error(let message) = reply {
                denied.append("\(argv.prefix(argv.first == "COMMANDLOG" ? 3 : 2).joined(separator: " ")): \(message)")
                return nil
            }
            return reply
        }
        // The logs first: the audit's own INFO and CONFIG GET must not fill them. Entries from
        // this connection (its address, from CLIENT INFO) are left out all the same.
        let slowlog = try attempt(["SLOWLOG", "GET", "128"]).map(entries)
        let slowlogLength = try attempt(["SLOWLOG", "LEN"])?.int
        var largeRequests: [LogEntry]?
        var largeReplies: [LogEntry]?
        // COMMANDLOG (Valkey 8.1+): servers without it answer "unknown command", which is no denial.
        let commandlog = try connection.command(["COMMANDLOG", "GET", "128", "large-request"])
        if case .error(let message) = commandlog {
            if !message.lowercased().contains("unknown command") { denied.append("COMMANDLOG GET: \(message)") }
        } else {
            largeRequests = entries(commandlog)
            largeReplies = try attempt(["COMMANDLOG", "GET", "128", "large-reply"]).map(entries)
        }
        let ownAddress = try connection.command(["CLIENT", "INFO"]).text.flatMap { clientFields($0)["addr"] }
        func others(_ list: [LogEntry]?) -> [LogEntry]? { list.map { $0.filter { $0.client != ownAddress } } }
        let infoText = try attempt(["INFO", "everything"])?.text ?? ""
        let info = parseInfo(infoText)
        var config: [String: String]?
        if let reply = try attempt(["CONFIG", "GET", "*"]) {
            config = pairs(reply)
        }
        var snapshot = ServerSnapshot(server: connection.serverName, version: ServerCommandDocs.serverID(infoServer: infoText), config: config,
                                      info: info, denied: [], database: connection.options.database)
        snapshot.slowlog = others(slowlog)
        snapshot.slowlogLength = slowlogLength
        snapshot.largeRequests = others(largeRequests)
        snapshot.largeReplies = others(largeReplies)
        snapshot.clients = try attempt(["CLIENT", "LIST"])?.text.map { text in
            text.split(whereSeparator: \.isNewline).map(clientFields)
        }
        snapshot.latency = try attempt(["LATENCY", "LATEST"])?.array?.compactMap { item in
            guard let fields = item.array, fields.count >= 4, let event = fields[0].text else { return nil }
            return (event, Int64(fields[1].int ?? 0), fields[2].int ?? 0, fields[3].int ?? 0)
        }
        snapshot.denied = denied
        return snapshot
    }

    /// Samples (O(1) commands) the first key of each logged call that still exists, at most
    /// `limit` keys, in the connection's database.
    public mutating func sampleLogKeys(_ connection: RedisConnection, table: CommandTable, limit: Int = 200) {
        var keys: [[UInt8]] = []
        var seen: Set<[UInt8]> = []
        for entry in (slowlog ?? []) + (largeRequests ?? []) + (largeReplies ?? []) where !entry.argv.isEmpty && keys.count < limit {
            guard let position = table.resolve(entry.argv)?.keyPositions.first, seen.insert(entry.argv[position]).inserted else { continue }
            keys.append(entry.argv[position])
        }
        guard !keys.isEmpty else { return }
        do {
            for (key, sample) in zip(keys, try connection.sample(keys: keys)) { keySizes[key] = sample }
        } catch {
            denied.append("size sampling: \(error.detail)")
        }
    }

    static func pairs(_ reply: RESPValue) -> [String: String] {
        var out: [String: String] = [:]
        if let items = reply.array {
            for i in stride(from: 0, to: items.count - 1, by: 2) {
                if let k = items[i].text, let v = items[i + 1].text { out[k] = v }
            }
        } else if case .map(let pairs) = reply {
            for (k, v) in pairs { if let k = k.text, let v = v.text { out[k] = v } }
        }
        return out
    }

    static func entries(_ reply: RESPValue) -> [LogEntry] {
        (reply.array ?? []).compactMap { item in
            guard let f = item.array, f.count >= 4 else { return nil }
            let argv = (f[3].array ?? []).map { value -> [UInt8] in
                if case .bulk(let b) = value { return b }
                return Array((value.text ?? "").utf8)
            }
            return LogEntry(id: f[0].int ?? 0, time: Int64(f[1].int ?? 0), value: f[2].int ?? 0, argv: argv,
                            client: f.count > 4 ? (f[4].text ?? "") : "")
        }
    }
}
