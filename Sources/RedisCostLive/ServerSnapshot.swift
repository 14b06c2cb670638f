import RedisCostCore
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis

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

    package init(server: String, version: String, config: [String: String]?, info: [String: String], denied: [String] = [], database: Int = 0) {
        (self.server, self.version, self.config, self.info, self.denied, self.database) = (server, version, config, info, denied, database)
    }

    /// An INFO field as a number; nil when it is none, or none a server could report (not
    /// finite, beyond 2^53): the rules' arithmetic and integer conversions stay exact.
    public func number(_ field: String) -> Double? {
        info[field].flatMap { Double($0) }.flatMap { abs($0) <= 9_007_199_254_740_992 ? $0 : nil }
    }

    /// What a command's reply must be; anything else (but an error reply, a denial) means
    /// the server is not what it claims to be.
    package enum Shape {
        case text, integer, list

        package func admits(_ reply: RESPValue) -> Bool {
            switch (self, reply) {
            case (.text, .simple), (.text, .bulk), (.integer, .integer), (.list, .array), (.list, .map): true
            default: false
            }
        }

        package var name: String {
            switch self {
            case .text: "a string"
            case .integer: "an integer"
            case .list: "an array"
            }
        }
    }

    /// Reads the server. Throws only when the server cannot be talked to at all.
    public static func read(_ connection: RedisConnection) throws(ServerError) -> ServerSnapshot {
        var denied: [String] = []
        func label(_ argv: [String]) -> String { argv.prefix(argv.first == "COMMANDLOG" ? 3 : 2).joined(separator: " ") }
        /// A reply of the expected shape, or an error reply.
        func fetch(_ argv: [String], _ shape: Shape) throws(ServerError) -> RESPValue {
            let reply = try connection.command(argv, label: label(argv))
            if case .error = reply { return reply }
            guard shape.admits(reply) else {
                throw ServerError(server: connection.serverName, command: label(argv), detail: "expected \(shape.name), got \(reply.kind)")
            }
            return reply
        }
        /// A reply, or nil (and a line in `denied`) when the server refused the command.
        func attempt(_ argv: [String], _ shape: Shape) throws(ServerError) -> RESPValue? {
            let reply = try fetch(argv, shape)
            if case .error(let message) = reply {
                denied.append("\(label(argv)): \(message)")
                return nil
            }
            return reply
        }
        // The logs first: the audit's own INFO and CONFIG GET must not fill them. Entries from
        // this connection (its address, from CLIENT INFO) are left out all the same.
        let slowlog = try attempt(["SLOWLOG", "GET", "128"], .list).map(entries)
        let slowlogLength = try attempt(["SLOWLOG", "LEN"], .integer)?.int
        var largeRequests: [LogEntry]?
        var largeReplies: [LogEntry]?
        // COMMANDLOG (Valkey 8.1+): servers without it answer "unknown command", which is no denial.
        let commandlog = try fetch(["COMMANDLOG", "GET", "128", "large-request"], .list)
        if case .error(let message) = commandlog {
            if !message.lowercased().contains("unknown command") { denied.append("COMMANDLOG GET: \(message)") }
        } else {
            largeRequests = entries(commandlog)
            largeReplies = try attempt(["COMMANDLOG", "GET", "128", "large-reply"], .list).map(entries)
        }
        let ownAddress = try fetch(["CLIENT", "INFO"], .text).text.flatMap { clientFields($0)["addr"] }
        func others(_ list: [LogEntry]?) -> [LogEntry]? { list.map { $0.filter { $0.client != ownAddress } } }
        let infoText = try attempt(["INFO", "everything"], .text)?.text ?? ""
        let info = parseInfo(infoText)
        var config: [String: String]?
        if let reply = try attempt(["CONFIG", "GET", "*"], .list) {
            config = pairs(reply)
        }
        var snapshot = ServerSnapshot(server: connection.serverName, version: ServerCommandDocs.serverID(infoServer: infoText), config: config,
                                      info: info, denied: [], database: connection.options.database)
        snapshot.slowlog = others(slowlog)
        snapshot.slowlogLength = slowlogLength
        snapshot.largeRequests = others(largeRequests)
        snapshot.largeReplies = others(largeReplies)
        snapshot.clients = try attempt(["CLIENT", "LIST"], .text)?.text.map { text in
            text.split(whereSeparator: \.isNewline).map(clientFields)
        }
        snapshot.latency = try attempt(["LATENCY", "LATEST"], .list)?.array?.compactMap { item in
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
            for (key, sample) in zip(keys, try connection.sample(keys: keys, table: table)) { keySizes[key] = sample }
        } catch {
            denied.append("size sampling: \(error.detail)")
        }
    }

    package static func pairs(_ reply: RESPValue) -> [String: String] {
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

    /// The log's entries; one that is not an entry (fields missing, numbers out of range) is
    /// left out, and no more are read than the 128 asked for, so their sums cannot overflow.
    package static func entries(_ reply: RESPValue) -> [LogEntry] {
        (reply.array ?? []).prefix(128).compactMap { item in
            guard let f = item.array, f.count >= 4, let id = f[0].int, let time = f[1].int, let value = f[2].int,
                  id >= 0, time >= 0, (0...largestSize).contains(value) else { return nil }
            let argv = (f[3].array ?? []).map { value -> [UInt8] in
                if case .bulk(let b) = value { return b }
                return Array((value.text ?? "").utf8)
            }
            return LogEntry(id: id, time: Int64(time), value: value, argv: argv,
                            client: f.count > 4 ? (f[4].text ?? "") : "")
        }
    }
}
