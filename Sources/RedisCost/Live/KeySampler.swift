/// A key's type and size read from a live server with O(1) commands only.
public struct SampledKey: Sendable, Equatable {
    /// `string`, `list`, `set`, `zset`, `hash`, `stream`, `vectorset`, a module type, or `none`.
    public var type: String
    public var size: KeySize
}

/// The O(1) command that reads the size of a key of each type. Anything else (module types)
/// stays unknown: we never run an O(N) command to find out.
let sizeCommandByType: [String: String] = [
    "string": "STRLEN", "list": "LLEN", "set": "SCARD", "zset": "ZCARD",
    "hash": "HLEN", "stream": "XLEN", "vectorset": "VCARD",
]

/// Sizes of keys in two pipelined round trips: `TYPE` of every key, then the O(1) size
/// command of each key whose type has one. `pipeline` runs one round (`round` 0 or 1), so a
/// caller can add `SELECT`s and record what it sent. Each result says where the key was
/// measured: the size command, or the `TYPE` for a missing key or a type without a size.
func sampleSizes(_ keys: [[UInt8]], server: String,
                 pipeline: (_ round: Int, _ commands: [[[UInt8]]]) throws(ServerError) -> [RESPValue])
    throws(ServerError) -> [(sample: SampledKey, round: Int, position: Int)] {
    guard !keys.isEmpty else { return [] }
    func checked(_ reply: RESPValue) throws(ServerError) -> RESPValue {
        if case .error(let message) = reply { throw ServerError(server: server, command: "size sampling", detail: message) }
        return reply
    }
    let types = try pipeline(0, keys.map { [Array("TYPE".utf8), $0] })
    var results: [(sample: SampledKey, round: Int, position: Int)] = []
    var sizeCommands: [[[UInt8]]] = []
    for (i, (key, reply)) in zip(keys, types).enumerated() {
        let type = try checked(reply).text ?? "unknown"
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
        if let n = try checked(sizes[results[i].position]).int {
            results[i].sample.size = results[i].sample.type == "string" ? .bytes(n) : .elements(n)
        }
    }
    return results
}

extension RedisConnection {
    /// `TYPE` and size of every key in the selected database.
    public func sample(keys: [[UInt8]]) throws(ServerError) -> [SampledKey] {
        try sampleSizes(keys, server: serverName) { (_, commands) throws(ServerError) in
            try pipelineBytes(commands, label: "size sampling")
        }.map(\.sample)
    }

    /// `DBSIZE` of the selected database.
    public func databaseSize() throws(ServerError) -> Int {
        guard let n = try require(["DBSIZE"]).int else { throw ServerError(server: serverName, command: "DBSIZE", detail: "not an integer reply") }
        return n
    }

    /// Keys in all databases, from `INFO keyspace`.
    public func allDatabasesSize() throws(ServerError) -> Int {
        keyCount(infoKeyspace: try require(["INFO", "keyspace"]).text ?? "")
    }
}

/// Keys per database in `INFO keyspace` (`db0:keys=12,expires=0,…`).
func keyCounts(infoKeyspace text: String) -> [Int: Int] {
    var counts: [Int: Int] = [:]
    for (field, value) in parseInfo(text) where field.hasPrefix("db") {
        guard let db = Int(field.dropFirst(2)), let n = infoFields(value)["keys"].flatMap({ Int($0) }) else { continue }
        counts[db] = n
    }
    return counts
}

func keyCount(infoKeyspace text: String) -> Int { keyCounts(infoKeyspace: text).values.reduce(0, +) }
