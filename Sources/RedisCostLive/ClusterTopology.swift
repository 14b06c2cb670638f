import RedisCostCore
import RedisCostFormats

/// The primaries of a Redis Cluster and the slots each serves, as one node announces them:
/// `CLUSTER SHARDS` (7.0+), or `CLUSTER SLOTS` where the server does not know SHARDS. An
/// address is the node's announced endpoint (`cluster-announce-*`, `cluster-preferred-endpoint-type`)
/// and port; an endpoint the node leaves empty or `?` (cluster.c: "unknown endpoint") means the
/// host the question was asked of.
package struct ClusterTopology: Sendable, Equatable {
    package struct Primary: Sendable, Equatable {
        package var host: String
        package var port: Int
        /// Inclusive slot ranges.
        package var slots: [ClosedRange<Int>]
        package var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    package var primaries: [Primary]
    /// Which command answered (`CLUSTER SHARDS`, `CLUSTER SLOTS`).
    package var source: String

    /// How many of the 16384 slots some primary serves.
    package var coveredSlots: Int {
        var covered = [Bool](repeating: false, count: 16384)
        for primary in primaries { for range in primary.slots { for slot in range { covered[slot] = true } } }
        return covered.reduce(0) { $0 + ($1 ? 1 : 0) }
    }

    /// Connection options for each primary: the seed's credentials, database and timeout, the
    /// primary's announced host and port.
    package func connections(from seed: ConnectionOptions) -> [ConnectionOptions] {
        primaries.map { primary in
            var options = seed
            options.socketPath = nil
            options.host = primary.host
            options.port = primary.port
            return options
        }
    }

    /// Asks `connection`'s node. Not a cluster node, or a reply of the wrong shape, is one line
    /// naming the server and the command.
    package static func read(_ connection: RedisConnection) throws(ServerError) -> ClusterTopology {
        try read(server: connection.serverName, seedHost: connection.options.host) { argv throws(ServerError) in try connection.command(argv) }
    }

    /// Asks through `send` (a live session's sampler, whose commands its node's MONITOR stream
    /// shows as the tool's own) the node `server` names.
    package static func read(server: String, seedHost: String, send: ([String]) throws(ServerError) -> RESPValue) throws(ServerError) -> ClusterTopology {
        let shards = try send(["CLUSTER", "SHARDS"])
        if case .error(let message) = shards {
            // Before 7.0 SHARDS is unknown; any other refusal (cluster support disabled, an ACL) is said.
            guard message.lowercased().contains("unknown") else {
                throw ServerError(server: server, command: "CLUSTER SHARDS", detail: RedisConnection.explain(message))
            }
            let slots = try send(["CLUSTER", "SLOTS"])
            return ClusterTopology(primaries: try fromSlots(slots, seedHost: seedHost, server: server), source: "CLUSTER SLOTS")
        }
        return ClusterTopology(primaries: try fromShards(shards, seedHost: seedHost, server: server), source: "CLUSTER SHARDS")
    }

    /// `[{slots: [start, end, …], nodes: [{ip, endpoint, port, role, health, …}, …]}, …]`, maps
    /// in RESP3, flat name/value arrays in RESP2 (cluster.c addShardReplyForClusterShards).
    package static func fromShards(_ reply: RESPValue, seedHost: String, server: String) throws(ServerError) -> [Primary] {
        func bad(_ detail: String) -> ServerError { ServerError(server: server, command: "CLUSTER SHARDS", detail: detail) }
        guard case .array(let shards) = reply else { throw bad("expected an array, got \(reply.kind)") }
        var primaries: [Primary] = []
        for shard in shards {
            guard let fields = pairs(shard) else { throw bad("expected a shard as name/value pairs, got \(shard.kind)") }
            guard case .array(let bounds)? = fields["slots"], bounds.count % 2 == 0 else { throw bad("a shard without an even list of slot bounds") }
            var ranges: [ClosedRange<Int>] = []
            for i in stride(from: 0, to: bounds.count, by: 2) {
                guard let start = bounds[i].int, let end = bounds[i + 1].int, (0...16383).contains(start), (start...16383).contains(end) else {
                    throw bad("a slot range that is not within 0…16383")
                }
                ranges.append(start...end)
            }
            guard case .array(let nodes)? = fields["nodes"] else { throw bad("a shard without its nodes") }
            for node in nodes {
                guard let info = pairs(node) else { throw bad("expected a node as name/value pairs, got \(node.kind)") }
                let role = info["role"]?.text ?? ""
                guard role == "master" || role == "primary" else { continue }
                // A shard that serves no slots (a new empty primary) gets no calls; a failed one cannot be watched.
                guard !ranges.isEmpty, info["health"]?.text != "fail" else { continue }
                let port = info["port"]?.int ?? info["tls-port"]?.int ?? 0
                guard (1...65535).contains(port) else { throw bad("a primary's port that is not 1…65535") }
                var host = info["endpoint"]?.text ?? ""
                if host.isEmpty || host == "?" { host = info["ip"]?.text ?? "" }
                if host.isEmpty || host == "?" { host = seedHost }
                primaries.append(Primary(host: host, port: port, slots: ranges))
            }
        }
        return primaries
    }

    /// `[[start, end, [host, port, id, …], replicas…], …]`: the first node of a range is its primary.
    package static func fromSlots(_ reply: RESPValue, seedHost: String, server: String) throws(ServerError) -> [Primary] {
        func bad(_ detail: String) -> ServerError { ServerError(server: server, command: "CLUSTER SLOTS", detail: detail) }
        guard case .array(let ranges) = reply else { throw bad("expected an array, got \(reply.kind)") }
        var primaries: [Primary] = []
        for range in ranges {
            guard case .array(let items) = range, items.count >= 3, let start = items[0].int, let end = items[1].int,
                  (0...16383).contains(start), (start...16383).contains(end),
                  case .array(let node) = items[2], node.count >= 2, let port = node[1].int, (1...65535).contains(port) else {
                throw bad("expected [start, end, [host, port, …], …] with slots within 0…16383 and a port 1…65535")
            }
            var host = node[0].text ?? ""
            if host.isEmpty || host == "?" { host = seedHost }
            if let i = primaries.firstIndex(where: { $0.host == host && $0.port == port }) {
                primaries[i].slots.append(start...end)
            } else {
                primaries.append(Primary(host: host, port: port, slots: [start...end]))
            }
        }
        return primaries
    }

    /// A RESP3 map or a RESP2 flat [name, value, …] array as a dictionary by name.
    private static func pairs(_ value: RESPValue) -> [String: RESPValue]? {
        var out: [String: RESPValue] = [:]
        switch value {
        case .map(let entries):
            for (name, value) in entries { if let key = name.text { out[key] = value } }
        case .array(let items) where items.count % 2 == 0:
            for i in stride(from: 0, to: items.count, by: 2) { if let key = items[i].text { out[key] = items[i + 1] } }
        default: return nil
        }
        return out
    }
}
