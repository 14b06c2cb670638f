import RedisCostCore
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis

/// The O(1) command that reads the size of a key of each type. Anything else (module types)
/// stays unknown: we never run an O(N) command to find out.
package let sizeCommandByType: [String: String] = [
    "string": "STRLEN", "list": "LLEN", "set": "SCARD", "zset": "ZCARD",
    "hash": "HLEN", "stream": "XLEN", "vectorset": "VCARD",
]

/// The largest size a server's reply may give (2^48 elements or bytes, far beyond any real
/// key): anything larger or negative is not a size, and the model's sums of sizes stay exact.
package let largestSize = 1 << 48

/// Sizes of keys in two pipelined round trips: `TYPE` of every key, then the O(1) size
/// command of each key whose type has one. `pipeline` runs one round (`round` 0 or 1), so a
/// caller can add `SELECT`s and record what it sent. Each result says where the key was
/// measured: the size command, or the `TYPE` for a missing key or a type without a size.
/// A reply of the wrong kind is an error naming the command, like an error reply.
package func sampleSizes(_ keys: [[UInt8]], server: String,
                 pipeline: (_ round: Int, _ commands: [[[UInt8]]]) throws(ServerError) -> [RESPValue])
    throws(ServerError) -> [(sample: SampledKey, round: Int, position: Int)] {
    guard !keys.isEmpty else { return [] }
    func failure(_ command: String, _ reply: RESPValue, expected: String) -> ServerError {
        if case .error(let message) = reply { return ServerError(server: server, command: command, detail: message) }
        if case .integer(let n) = reply { return ServerError(server: server, command: command, detail: "expected \(expected), got the integer \(n)") }
        return ServerError(server: server, command: command, detail: "expected \(expected), got \(reply.kind)")
    }
    let types = try pipeline(0, keys.map { [Array("TYPE".utf8), $0] })
    var results: [(sample: SampledKey, round: Int, position: Int)] = []
    var sizeCommands: [[[UInt8]]] = []
    for (i, (key, reply)) in zip(keys, types).enumerated() {
        guard case .simple(let type) = reply else { throw failure("TYPE", reply, expected: "a type name") }
        if type != "none", let command = sizeCommandByType[type] {
            results.append((SampledKey(type: type, size: .unknown), 1, sizeCommands.count))
            sizeCommands.append([Array(command.utf8), key])
        } else {
            results.append((SampledKey(type: type, size: type == "none" ? .missing : .unknown), 0, i))
        }
    }
    guard !sizeCommands.isEmpty else { return results }
    let sizes = try pipeline(1, sizeCommands)
    for i in results.indices where results[i].round == 1 {
        let reply = sizes[results[i].position]
        guard case .integer(let n) = reply, (0...Int64(largestSize)).contains(n) else {
            throw failure(sizeCommandByType[results[i].sample.type] ?? "size", reply, expected: "a size from 0 to 2^48")
        }
        results[i].sample.size = results[i].sample.type == "string" ? .bytes(Int(n)) : .elements(Int(n))
    }
    return results
}

extension RedisConnection {
    /// `TYPE` and size of every key in the selected database.
    public func sample(keys: [[UInt8]]) throws(ServerError) -> [SampledKey] {
        try sampleSizes(keys, server: serverName) { (_, commands) throws(ServerError) in
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
