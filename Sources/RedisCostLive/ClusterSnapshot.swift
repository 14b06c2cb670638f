import RedisCostCore
import RedisCostFormats
import RedisCostTable

/// What `redis-cost audit --cluster` reads from a Redis Cluster, with bounded read-only
/// commands only: the primaries as one node announces them (`ClusterTopology`), then on every
/// primary the audit's `ServerSnapshot`, `DBSIZE` and `CLUSTER NODES` (one line per node of
/// the cluster: its own slots, and the states it sees the others in).
public struct ClusterSnapshot: Sendable {
    /// One line of `CLUSTER NODES`: `<id> <ip:port@cport[,hostname]> <flags> <primary> <ping-sent>
    /// <pong-recv> <config-epoch> <link-state> <slot>…` (cluster.c clusterGenNodeDescription).
    package struct NodeLine: Sendable, Equatable {
        package var id: String
        /// `ip:port`, the bus port and hostname left off.
        package var address: String
        /// `myself`, `master`, `slave`, `fail?` (pfail: this node cannot reach it), `fail` (agreed), `handshake`, `noaddr`…
        package var flags: [String]
        /// The slots this line says the node serves; `[slot->-id]` / `[slot-<-id]` migration marks are not slots.
        package var slots: [ClosedRange<Int>]

        package init(id: String, address: String, flags: [String], slots: [ClosedRange<Int>]) {
            (self.id, self.address, self.flags, self.slots) = (id, address, flags, slots)
        }

        package var isPrimary: Bool { flags.contains("master") || flags.contains("primary") }
        package var isMyself: Bool { flags.contains("myself") }
        /// `fail` or `pfail` (`fail?`), or nil when the node is neither.
        package var failState: String? {
            if flags.contains("fail") { return "fail" }
            if flags.contains("fail?") { return "pfail" }
            return nil
        }
    }

    /// One primary the seed announced.
    public struct Primary: Sendable {
        public var address: String
        /// The slots the seed says it serves.
        public var announcedSlots: [ClosedRange<Int>]
        /// What the audit read on it; nil when it could not be reached (`unreachable` says why).
        public var server: ServerSnapshot?
        public var unreachable: String?
        /// `DBSIZE` (the keys of database 0: a cluster has no other).
        public var keys: Int?
        /// Its `CLUSTER NODES`, nil when it could not be read.
        package var nodes: [NodeLine]?

        package init(address: String, announcedSlots: [ClosedRange<Int>], server: ServerSnapshot? = nil, unreachable: String? = nil,
                     keys: Int? = nil, nodes: [NodeLine]? = nil) {
            (self.address, self.announcedSlots, self.server, self.unreachable, self.keys, self.nodes) = (address, announcedSlots, server, unreachable, keys, nodes)
        }

        /// The slots it says it serves itself (its `myself` line): the ones it answers for.
        package var ownSlots: [ClosedRange<Int>]? { nodes?.first(where: \.isMyself)?.slots }
    }

    public var seed: String
    /// Which command named the primaries (`CLUSTER SHARDS`, `CLUSTER SLOTS`).
    public var source: String
    public var primaries: [Primary]

    package init(seed: String, source: String, primaries: [Primary]) {
        (self.seed, self.source, self.primaries) = (seed, source, primaries)
    }

    /// The slots no primary that answered serves by its own account, as inclusive ranges. A slot
    /// only the seed's view gives to a primary counts for nothing: the primary is the one that
    /// answers for it (a `CLUSTER DELSLOTS` on it, or a primary that did not answer, leaves it
    /// unserved; `CLUSTER DELSLOTS` changes only the node it is sent to).
    package var uncoveredSlots: [ClosedRange<Int>] {
        var covered = [Bool](repeating: false, count: 16384)
        for primary in primaries {
            // A primary that answered but may not run CLUSTER NODES: the seed's view of it is all there is.
            let served = primary.ownSlots ?? (primary.server != nil ? primary.announcedSlots : [])
            for range in served { for slot in range { covered[slot] = true } }
        }
        var out: [ClosedRange<Int>] = []
        var start: Int?
        for slot in 0...16384 {
            let free = slot < 16384 && !covered[slot]
            if free, start == nil { start = slot }
            if !free, let first = start { out.append(first...(slot - 1)); start = nil }
        }
        return out
    }

    /// Reads the cluster `seed` belongs to; `connect` opens a connection to a primary (the seed's
    /// credentials). A primary that cannot be connected to is recorded as such and the others are
    /// still read; a connection lost midway, or the seed unable to name the primaries, throws. A reply of the wrong shape is
    /// one line naming the server and the command.
    package static func read(_ seed: RedisConnection, table: CommandTable, connect: (ConnectionOptions) throws(ServerError) -> RedisConnection) throws(ServerError) -> ClusterSnapshot {
        let topology = try ClusterTopology.read(seed)
        var primaries: [Primary] = []
        for (primary, options) in zip(topology.primaries, topology.connections(from: seed.options)) {
            var entry = Primary(address: primary.address, announcedSlots: primary.slots)
            let connection: RedisConnection
            do throws(ServerError) {
                connection = try connect(options)
            } catch {
                entry.unreachable = error.description
                primaries.append(entry)
                continue
            }
            var server = try ServerSnapshot.read(connection)
            server.sampleLogKeys(connection, table: table)
            // Refused (an ACL): said with the node's other denials, and the rules that need it stay quiet.
            let dbsize = try connection.command(["DBSIZE"])
            if case .error(let message) = dbsize { server.denied.append("DBSIZE: \(message)") } else {
                entry.keys = try keys(dbsize, server: connection.serverName)
            }
            let nodes = try connection.command(["CLUSTER", "NODES"])
            if case .error(let message) = nodes { server.denied.append("CLUSTER NODES: \(message)") } else {
                guard let text = nodes.text else {
                    throw ServerError(server: connection.serverName, command: "CLUSTER NODES", detail: "expected the nodes as text, got \(nodes.kind)")
                }
                entry.nodes = try parseNodes(text, server: connection.serverName)
            }
            entry.server = server
            primaries.append(entry)
        }
        return ClusterSnapshot(seed: seed.serverName, source: topology.source, primaries: primaries)
    }

    /// `DBSIZE`'s reply: a count no smaller than 0.
    package static func keys(_ reply: RESPValue, server: String) throws(ServerError) -> Int {
        guard case .integer(let n) = reply, n >= 0, let keys = Int(exactly: n) else {
            throw ServerError(server: server, command: "DBSIZE", detail: "expected a count of keys, got \(reply.kind)")
        }
        return keys
    }

    package static func parseNodes(_ text: String, server: String) throws(ServerError) -> [NodeLine] {
        func bad(_ detail: String) -> ServerError { ServerError(server: server, command: "CLUSTER NODES", detail: detail) }
        var out: [NodeLine] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: " ")
            guard fields.count >= 8 else { throw bad("expected at least 8 fields a line, got \(fields.count)") }
            var slots: [ClosedRange<Int>] = []
            for token in fields.dropFirst(8) where !token.hasPrefix("[") {
                let bounds = token.split(separator: "-", omittingEmptySubsequences: false)
                guard (1...2).contains(bounds.count), let start = Int(bounds[0]), let end = Int(bounds[bounds.count - 1]),
                      (0...16383).contains(start), (start...16383).contains(end) else {
                    throw bad("a slot range that is not within 0…16383")
                }
                slots.append(start...end)
            }
            let address = fields[1].split(separator: ",").first?.split(separator: "@").first ?? ""
            out.append(NodeLine(id: String(fields[0]), address: String(address), flags: fields[2].split(separator: ",").map(String.init), slots: slots))
        }
        return out
    }
}
