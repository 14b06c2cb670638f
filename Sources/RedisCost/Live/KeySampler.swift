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

extension RedisConnection {
    /// `TYPE` of every key in one pipeline, then the size command of each in a second one.
    public func sample(keys: [[UInt8]]) throws(ServerError) -> [SampledKey] {
        guard !keys.isEmpty else { return [] }
        let types = try pipelineBytes(keys.map { [Array("TYPE".utf8), $0] }, label: "TYPE")
        var sizeCommands: [[[UInt8]]] = []
        var results: [SampledKey] = []
        for (key, reply) in zip(keys, types) {
            let type = reply.text ?? "unknown"
            if type == "none" {
                results.append(SampledKey(type: type, size: .missing))
            } else if let command = sizeCommandByType[type] {
                sizeCommands.append([Array(command.utf8), key])
                results.append(SampledKey(type: type, size: .unknown))
            } else {
                results.append(SampledKey(type: type, size: .unknown))
            }
        }
        let sizes = try pipelineBytes(sizeCommands, label: "size sampling")
        var next = sizes.makeIterator()
        for i in results.indices where results[i].type != "none" && sizeCommandByType[results[i].type] != nil {
            if let n = next.next()?.int { results[i].size = results[i].type == "string" ? .bytes(n) : .elements(n) }
        }
        return results
    }

    /// `DBSIZE` of the selected database.
    public func databaseSize() throws(ServerError) -> Int {
        guard let n = try require(["DBSIZE"]).int else { throw ServerError(server: serverName, command: "DBSIZE", detail: "not an integer reply") }
        return n
    }

    /// Keys in all databases, from `INFO keyspace` (`db0:keys=12,expires=0,…`).
    public func allDatabasesSize() throws(ServerError) -> Int {
        try info("keyspace").reduce(0) { total, field in
            guard field.key.hasPrefix("db"),
                  let keys = field.value.split(separator: ",").first(where: { $0.hasPrefix("keys=") }),
                  let n = Int(keys.dropFirst(5)) else { return total }
            return total + n
        }
    }
}
