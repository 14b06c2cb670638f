import RedisCostCore
import RedisCostFormats
import RedisCostTable

/// What `redis-cost audit --cluster` reads from a Redis Cluster, with bounded read-only
/// commands only: the primaries as one node announces them (`ClusterTopology`), then on every
/// primary the audit's `ServerSnapshot`, `DBSIZE`, `CLUSTER NODES` (one line per node of the
/// cluster: its own slots, its replicas, and the states it sees the others in) and, where the
/// server has it, `CLUSTER SLOT-STATS`; then on every replica a primary's `CLUSTER NODES` names
/// the same `ServerSnapshot` and `DBSIZE`.
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
        /// A replica's primary's id (the 4th field); nil for a primary (`-`).
        package var primaryID: String?

        package init(id: String, address: String, flags: [String], slots: [ClosedRange<Int>], primaryID: String? = nil) {
            (self.id, self.address, self.flags, self.slots, self.primaryID) = (id, address, flags, slots, primaryID)
        }

        package var isPrimary: Bool { flags.contains("master") || flags.contains("primary") }
        package var isReplica: Bool { flags.contains("slave") || flags.contains("replica") }
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
        /// Its `CLUSTER SLOT-STATS`; nil where the server has no such command, or it was denied.
        package var slotStats: ClusterSlotStats?

        package init(address: String, announcedSlots: [ClosedRange<Int>], server: ServerSnapshot? = nil, unreachable: String? = nil,
                     keys: Int? = nil, nodes: [NodeLine]? = nil) {
            (self.address, self.announcedSlots, self.server, self.unreachable, self.keys, self.nodes) = (address, announcedSlots, server, unreachable, keys, nodes)
        }

        /// The slots it says it serves itself (its `myself` line): the ones it answers for.
        package var ownSlots: [ClosedRange<Int>]? { nodes?.first(where: \.isMyself)?.slots }

        /// The replicas its own `CLUSTER NODES` lists as following it; nil when that could not be read.
        package var replicaLines: [NodeLine]? {
            guard let nodes, let myself = nodes.first(where: \.isMyself) else { return nil }
            return nodes.filter { $0.isReplica && $0.primaryID == myself.id }
        }
    }

    /// One replica a primary's `CLUSTER NODES` lists as following it.
    public struct Replica: Sendable {
        /// `ip:port` as its primary's `CLUSTER NODES` gives it.
        public var address: String
        /// The primary's address, as in `primaries`.
        public var primary: String
        package var id: String
        /// What the audit read on it; nil when it could not be read (`unreachable` says why).
        public var server: ServerSnapshot?
        public var unreachable: String?
        /// `DBSIZE`; nil when it could not be read.
        public var keys: Int?

        package init(address: String, primary: String, id: String, server: ServerSnapshot? = nil, unreachable: String? = nil, keys: Int? = nil) {
            (self.address, self.primary, self.id, self.server, self.unreachable, self.keys) = (address, primary, id, server, unreachable, keys)
        }
    }

    public var seed: String
    /// Which command named the primaries (`CLUSTER SHARDS`, `CLUSTER SLOTS`).
    public var source: String
    public var primaries: [Primary]
    /// Every replica of a primary that answered, in the primaries' order; nil when the replicas
    /// were not read (then no rule says a primary has none).
    public var replicas: [Replica]?

    package init(seed: String, source: String, primaries: [Primary], replicas: [Replica]? = nil) {
        (self.seed, self.source, self.primaries, self.replicas) = (seed, source, primaries, replicas)
    }

    /// A slot as CLUSTER SLOT-STATS counts it on the primary that serves it.
    package struct SlotLoad: Sendable, Equatable {
        package var slot: Int
        package var node: String
        package var keys: Int
        /// nil when the node does not count it (`cluster-slot-stats-enabled no`).
        package var cpuMicroseconds: Int?
    }

    /// The `limit` slots with the most keys and the `limit` with the most cpu-usec (where counted),
    /// most keys first; a slot with neither is left out, and so is every slot when no primary's
    /// CLUSTER SLOT-STATS was read.
    package func hottestSlots(limit: Int = 5) -> [SlotLoad] {
        var all: [SlotLoad] = []
        for primary in primaries {
            guard let stats = primary.slotStats else { continue }
            for (slot, keys) in stats.keys {
                let cpu = stats.cpuCounted ? stats.cpuMicroseconds[slot] ?? 0 : nil
                if keys > 0 || (cpu ?? 0) > 0 { all.append(SlotLoad(slot: slot, node: primary.address, keys: keys, cpuMicroseconds: cpu)) }
            }
        }
        let byKeys = all.filter { $0.keys > 0 }.sorted { ($0.keys, $1.slot) > ($1.keys, $0.slot) }.prefix(limit)
        let byCPU = all.filter { ($0.cpuMicroseconds ?? 0) > 0 }.sorted { ($0.cpuMicroseconds ?? 0, $1.slot) > ($1.cpuMicroseconds ?? 0, $0.slot) }.prefix(limit)
        var seen = Set<Int>()
        return (byKeys + byCPU).filter { seen.insert($0.slot).inserted }
            .sorted { ($0.keys, $0.cpuMicroseconds ?? 0, $1.slot) > ($1.keys, $1.cpuMicroseconds ?? 0, $0.slot) }
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
            var server: ServerSnapshot
            (server, entry.keys) = try readNode(connection, table: table)
            let nodes = try connection.command(["CLUSTER", "NODES"])
            if case .error(let message) = nodes { server.denied.append("CLUSTER NODES: \(message)") } else {
                guard let text = nodes.text else {
                    throw ServerError(server: connection.serverName, command: "CLUSTER NODES", detail: "expected the nodes as text, got \(nodes.kind)")
                }
                entry.nodes = try parseNodes(text, server: connection.serverName)
            }
            if ClusterSlotStats.isSupported(serverID: server.version) {
                let stats = try connection.command(ClusterSlotStats.arguments)
                if case .error(let message) = stats { server.denied.append("CLUSTER SLOT-STATS: \(message)") } else {
                    entry.slotStats = try ClusterSlotStats.parse(stats, server: connection.serverName)
                }
            }
            entry.server = server
            primaries.append(entry)
        }
        // The replicas as each primary lists its own: CLUSTER NODES names them on every version
        // (CLUSTER SHARDS only from 7.0, CLUSTER SLOTS only for primaries that serve slots).
        var replicas: [Replica] = []
        for primary in primaries {
            for line in primary.replicaLines ?? [] {
                replicas.append(readReplica(line, of: primary.address, seed: seed.options, table: table, connect: connect))
            }
        }
        return ClusterSnapshot(seed: seed.serverName, source: topology.source, primaries: primaries, replicas: replicas)
    }

    /// A replica's audit; anything that goes wrong on it (not reachable, the connection lost
    /// midway, a reply of the wrong shape) leaves it unread and the rest of the cluster stands.
    package static func readReplica(_ line: NodeLine, of primary: String, seed: ConnectionOptions, table: CommandTable,
                                    connect: (ConnectionOptions) throws(ServerError) -> RedisConnection) -> Replica {
        var replica = Replica(address: line.address, primary: primary, id: line.id)
        // `ip:port`, the ip possibly IPv6 (colons) or empty (the node does not know its own address yet).
        guard let colon = line.address.lastIndex(of: ":"), let port = Int(line.address[line.address.index(after: colon)...]), (1...65535).contains(port) else {
            replica.unreachable = "no address in CLUSTER NODES (\(line.address))"
            return replica
        }
        var options = seed
        options.socketPath = nil
        let host = String(line.address[..<colon])
        options.host = host.isEmpty ? seed.host : host
        options.port = port
        do throws(ServerError) {
            (replica.server, replica.keys) = try readNode(try connect(options), table: table)
        } catch {
            replica.unreachable = error.description
        }
        return replica
    }

    /// The audit's reading of one node, primary or replica, and its `DBSIZE`: nil when refused
    /// (an ACL), said with the node's other denials, and the rules that need it stay quiet.
    package static func readNode(_ connection: RedisConnection, table: CommandTable) throws(ServerError) -> (ServerSnapshot, Int?) {
        var server = try ServerSnapshot.read(connection)
        server.sampleLogKeys(connection, table: table)
        let dbsize = try connection.command(["DBSIZE"])
        if case .error(let message) = dbsize {
            server.denied.append("DBSIZE: \(message)")
            return (server, nil)
        }
        return (server, try keys(dbsize, server: connection.serverName))
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
            out.append(NodeLine(id: String(fields[0]), address: String(address), flags: fields[2].split(separator: ",").map(String.init), slots: slots,
                                primaryID: fields[3] == "-" ? nil : String(fields[3])))
        }
        return out
    }
}
