import RedisCostCore
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis

/// The largest size a server's reply may give (2^48 elements or bytes, far beyond any real
/// key): anything larger or negative is not a size, and the model's sums of sizes stay exact.
package let largestSize = 1 << 48

/// Sizes of keys in two pipelined round trips: `TYPE` of every key, then the O(1) commands the
/// table says measure a key of its type (`semantics.measures`: `STRLEN` of a string, `TS.INFO`
/// of a time series, `JSON.OBJLEN` and `JSON.ARRLEN` of a JSON document); a type no command
/// measures stays unknown: we never run an O(N) command to find out. `pipeline` runs one round
/// (`round` 0 or 1), so a caller can add `SELECT`s and record what it sent. Each result says
/// where the key was measured: the command that answered, or the `TYPE` for a missing key or
/// a size nobody could read. A reply of the wrong kind is an error naming the command, like
/// an error reply.
///
/// `redirected`: a cluster node's MOVED or ASK answer to a key's `TYPE` is handed to it (the
/// owner is asked instead); without it, such an answer is an error naming the node to ask.
package func sampleSizes(_ keys: [[UInt8]], table: CommandTable, server: String,
                 redirected: ((ClusterRedirect, _ key: [UInt8]) throws(ServerError) -> SampledKey)? = nil,
                 pipeline: (_ round: Int, _ commands: [[[UInt8]]]) throws(ServerError) -> [RESPValue])
    throws(ServerError) -> [(sample: SampledKey, round: Int, position: Int)] {
    guard !keys.isEmpty else { return [] }
    let types = try pipeline(0, keys.map { [Array("TYPE".utf8), $0] })
    var results: [(sample: SampledKey, round: Int, position: Int)] = []
    // Each size command sent: the key's result, the measuring entry, its place in round 1.
    var asked: [(result: Int, entry: Int)] = []
    var sizeCommands: [[[UInt8]]] = []
    for (i, (key, reply)) in zip(keys, types).enumerated() {
        if let redirected, case .error(let message) = reply, let redirect = ClusterRedirect(message) {
            results.append((try redirected(redirect, key), 0, i))
            continue
        }
        guard case .simple(let type) = reply else { throw sizeReplyError("TYPE", reply, expected: "a type name", server: server) }
        results.append((SampledKey(type: type, size: type == "none" ? .missing : .unknown), 0, i))
        guard type != "none" else { continue }
        for entry in table.measuringEntries[type] ?? [] {
            let measure = table.entries[entry].semantics.measures!
            asked.append((results.count - 1, entry))
            sizeCommands.append(table.entries[entry].name.split(separator: " ").map { Array($0.utf8) } + [key]
                                + measure.arguments.map { Array($0.utf8) })
        }
    }
    guard !sizeCommands.isEmpty else { return results }
    let replies = try pipeline(1, sizeCommands)
    for (position, (result, entry)) in asked.enumerated() {
        let measure = table.entries[entry].semantics.measures!
        // Every reply is checked, even after another command of the key answered.
        guard let n = try size(in: replies[position], measure, command: table.entries[entry].name, server: server),
              results[result].round == 0 else { continue }
        results[result] = (SampledKey(type: measure.type, size: measure.unit == .bytes ? .bytes(n) : .elements(n)), 1, position)
    }
    return results
}

/// The size a measuring command's reply gives, checked before use (an integer from 0 to 2^48),
/// or nil for a `perPath` nil (the key's value is not of the kind this command measures).
private func size(in reply: RESPValue, _ measure: CommandSemantics.Measure, command: String, server: String) throws(ServerError) -> Int? {
    func checked(_ value: RESPValue, expected: String) throws(ServerError) -> Int {
        guard case .integer(let n) = value, (0...Int64(largestSize)).contains(n) else {
            throw sizeReplyError(command, reply, expected: expected, server: server)
        }
        return Int(n)
    }
    switch measure.reply {
    case .integer:
        return try checked(reply, expected: "a size from 0 to 2^48")
    case .field(let name):
        // RESP3 answers a map, RESP2 a flat [name, value, name, value, …] array.
        var pairs: [(RESPValue, RESPValue)] = []
        if case .map(let map) = reply { pairs = map }
        if case .array(let items) = reply, items.count % 2 == 0 {
            pairs = stride(from: 0, to: items.count, by: 2).map { (items[$0], items[$0 + 1]) }
        }
        guard let value = pairs.first(where: { $0.0.text == name })?.1 else {
            throw sizeReplyError(command, reply, expected: "a reply with the field \"\(name)\"", server: server)
        }
        return try checked(value, expected: "\"\(name)\" from 0 to 2^48")
    case .perPath:
        guard case .array(let items) = reply, items.count == 1 else {
            throw sizeReplyError(command, reply, expected: "one value for the path", server: server)
        }
        if items[0] == .null { return nil }
        return try checked(items[0], expected: "nil or a size from 0 to 2^48")
    }
}

/// A reply that is not what the command promises, or an error reply: one line naming the
/// server and the command.
private func sizeReplyError(_ command: String, _ reply: RESPValue, expected: String, server: String) -> ServerError {
    if case .error(let message) = reply { return ServerError(server: server, command: command, detail: RedisConnection.explain(message)) }
    if case .integer(let n) = reply { return ServerError(server: server, command: command, detail: "expected \(expected), got the integer \(n)") }
    return ServerError(server: server, command: command, detail: "expected \(expected), got \(reply.kind)")
}

extension RedisConnection {
    /// `TYPE` and size of every key in the selected database, with the commands `table` says
    /// measure each type.
    /// `redirects`: a cluster node's MOVED/ASK is followed to the key's owner.
    public func sample(keys: [[UInt8]], table: CommandTable, redirects: ClusterRedirects? = nil) throws(ServerError) -> [SampledKey] {
        try sampleSizes(keys, table: table, server: serverName, redirected: redirects?.follower) { (_, commands) throws(ServerError) in
            try pipelineBytes(commands, label: Self.label(of: commands))
        }.map(\.sample)
    }

    /// `DBSIZE` of the selected database.
    public func databaseSize() throws(ServerError) -> Int {
        let reply = try require(["DBSIZE"])
        guard case .integer(let n) = reply else {
            throw ServerError(server: serverName, command: "DBSIZE", detail: "expected an integer, got \(reply.kind)")
        }
        guard (0...Int64(largestSize)).contains(n) else {
            throw ServerError(server: serverName, command: "DBSIZE", detail: "expected a key count from 0 to 2^48, got \(n)")
        }
        return Int(n)
    }

    /// Keys in all databases, from `INFO keyspace`.
    public func allDatabasesSize() throws(ServerError) -> Int {
        let reply = try require(["INFO", "keyspace"])
        guard let text = reply.text else {
            throw ServerError(server: serverName, command: "INFO keyspace", detail: "expected a bulk string, got \(reply.kind)")
        }
        return keyCount(infoKeyspace: text)
    }
}

/// Keys per database in `INFO keyspace` (`db0:keys=12,expires=0,…`); a count that is not a
/// size (negative, beyond 2^48) is left out.
package func keyCounts(infoKeyspace text: String) -> [Int: Int] {
    var counts: [Int: Int] = [:]
    for (field, value) in parseInfo(text) where field.hasPrefix("db") {
        guard let db = Int(field.dropFirst(2)), let n = infoFields(value)["keys"].flatMap({ Int($0) }), (0...largestSize).contains(n) else { continue }
        counts[db] = n
    }
    return counts
}

/// The keys of all databases. Each count is at most 2^48 and the sum stops at 2^62: however
/// many databases a reply lists, it cannot overflow.
package func keyCount(infoKeyspace text: String) -> Int {
    keyCounts(infoKeyspace: text).values.reduce(0) { min($0 + $1, 1 << 62) }
}
