import RedisCostCore
import RedisCostFormats
import RedisCostTable

/// A cluster node's answer that a key lives elsewhere: `MOVED 3999 127.0.0.1:6381` (the slot
/// has another owner) or `ASK 3999 127.0.0.1:6381` (the slot is migrating; ask that node once,
/// after ASKING). See cluster.c getNodeByQuery / clusterRedirectClient.
package struct ClusterRedirect: Sendable, Equatable {
    package var slot: Int
    /// `host:port` as the server wrote it (an IPv6 host keeps its colons).
    package var address: String
    package var isAsk: Bool

    /// Reads an error reply; nil for any other error, a slot outside 0…16383 or an address
    /// without a port.
    package init?(_ message: String) {
        let words = message.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count == 3, words[0] == "MOVED" || words[0] == "ASK",
              let slot = Int(words[1]), (0..<16384).contains(slot),
              let colon = words[2].lastIndex(of: ":"), Int(words[2][words[2].index(after: colon)...]).map({ (1...65535).contains($0) }) == true
        else { return nil }
        self.slot = slot
        address = String(words[2])
        isAsk = words[0] == "ASK"
    }

    /// One line for the user: which node to ask instead.
    package var explanation: String {
        isAsk ? "the key's slot \(slot) is migrating to the cluster node \(address): ask that node (after ASKING), or use --cluster"
            : "the key's slot \(slot) is served by another cluster node: ask \(address) instead (redis-cost … -h/-p of that node), or use --cluster"
    }
}


/// Follows a cluster node's MOVED or ASK to the key's owner for `explain` and `analyze --sample`:
/// a connection per node asked (the first one's credentials, database and timeout), opened once
/// and reused, at most `hopLimit` redirections per key (a slot that keeps moving is an error
/// naming it). Only `TYPE` and the O(1) size commands are sent; after ASK each is preceded by
/// `ASKING`, as the cluster spec asks (cluster.c: the flag lasts one command).
public final class ClusterRedirects {
    package let base: ConnectionOptions
    package let table: CommandTable
    package static let hopLimit = 3
    private var connections: [String: RedisConnection] = [:]
    /// Keys whose size came from another node than the one asked.
    public private(set) var followed = 0

    public init(base: ConnectionOptions, table: CommandTable) {
        self.base = base
        self.table = table
    }

    /// Node addresses asked, beyond the first.
    public var nodes: [String] { connections.keys.sorted() }

    /// What `sampleSizes` is handed to follow a redirection.
    package typealias Follower = (ClusterRedirect, [UInt8]) throws(ServerError) -> SampledKey

    package var follower: Follower {
        func follow(_ redirect: ClusterRedirect, _ key: [UInt8]) throws(ServerError) -> SampledKey { try sample(key, redirect) }
        return follow
    }

    /// A live sampler's: the key stays unknown (its TYPE never ran, so the stream never shows it).
    package static func leaveUnknown(_: ClusterRedirect, _: [UInt8]) throws(ServerError) -> SampledKey { SampledKey(type: "unknown", size: .unknown) }

    package func sample(_ key: [UInt8], _ redirect: ClusterRedirect, hop: Int = 1) throws(ServerError) -> SampledKey {
        guard hop <= Self.hopLimit else {
            throw ServerError(server: redirect.address, command: "TYPE", detail: "more than \(Self.hopLimit) MOVED/ASK redirections for one key (slot \(redirect.slot))")
        }
        let connection = try self.connection(redirect.address)
        let asking = Array("ASKING".utf8)
        let results = try sampleSizes([key], table: table, server: connection.serverName,
                                      redirected: { (next: ClusterRedirect, key: [UInt8]) throws(ServerError) -> SampledKey in try self.sample(key, next, hop: hop + 1) }) { (_, commands) throws(ServerError) in
            guard redirect.isAsk else { return try connection.pipelineBytes(commands, label: RedisConnection.label(of: commands)) }
            let replies = try connection.pipelineBytes(commands.flatMap { [[asking], $0] }, label: RedisConnection.label(of: commands))
            return stride(from: 1, to: replies.count, by: 2).map { replies[$0] }
        }
        followed += 1
        return results[0].sample
    }

    private func connection(_ address: String) throws(ServerError) -> RedisConnection {
        if let open = connections[address] { return open }
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]), (1...65535).contains(port) else {
            throw ServerError(server: address, command: nil, detail: "a redirection to an address without a port")
        }
        var options = base
        options.socketPath = nil
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        // An empty host (cluster.c: an unknown endpoint) is the node first asked.
        if !host.isEmpty { options.host = host }
        options.port = port
        let connection = try RedisConnection(options)
        connections[address] = connection
        return connection
    }
}
