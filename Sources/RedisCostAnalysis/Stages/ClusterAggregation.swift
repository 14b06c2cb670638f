import RedisCostCore
import RedisCostTable
import RedisCostReplay

/// Stage 4 for a cluster (several nodes' inputs analysed together): every call added up per
/// node (the input it came from) and per hash slot of its first key, and the multi-key calls
/// whose keys hash to different slots, which a cluster refuses (CROSSSLOT). Only present when
/// there is more than one node; a single input never pays for it.
package struct ClusterAggregation {
    package struct Node {
        package var address: String
        package var calls = 0
        package var cost = 0.0
        package var unknownCostCalls = 0
        package var estimatedMicroseconds = 0.0
        package var unknownCommands: [String: Int] = [:]
        package var lost: AnalysisResult.Cluster.Loss?
        package var joined: AnalysisResult.Cluster.Joining?
    }

    package private(set) var nodes: [Node]
    /// Calls per node and table entry, node after node (one flat array: one access per call);
    /// beside them, of those calls, the ones of unknown cost and the others' elements and
    /// estimated time (a wrapper's with its calls', as commandstats counts it).
    private var commandCalls: [Int]
    private var commandUnknown: [Int]
    private var commandCost: [Double]
    private var commandMicroseconds: [Double]
    private let entries: Int
    private let wrappers: [Bool]
    private let tableNames: [String]
    /// Per hash slot (16384 of them): calls on a key of the slot (a call's first key), the
    /// elements they touched, and the node that served the slot's first call.
    private var slotCalls: [Int]
    private var slotCost: [Double]
    private var slotMicroseconds: [Double]
    private var slotNode: [Int32]
    package private(set) var crossSlotCalls = 0
    private var crossSlotByCommand: [Int: Int] = [:]
    private var crossSlotExamples: [AnalysisResult.Cluster.CrossSlotCall] = []

    package static let slotCount = 16384

    package init(nodes addresses: [String], table: CommandTable) {
        nodes = addresses.map { Node(address: $0) }
        entries = table.entries.count
        commandCalls = Array(repeating: 0, count: addresses.count * entries)
        commandUnknown = commandCalls
        commandCost = Array(repeating: 0, count: addresses.count * entries)
        commandMicroseconds = commandCost
        tableNames = table.entries.map(\.name)
        wrappers = zip(table.entries, table.runsScript).map { entry, runsScript in runsScript || entry.semantics.transaction == .run }
        slotCalls = Array(repeating: 0, count: Self.slotCount)
        slotCost = Array(repeating: 0, count: Self.slotCount)
        slotMicroseconds = slotCost
        slotNode = Array(repeating: -1, count: Self.slotCount)
    }

    /// A node found during a live session (a new primary, a replica that took over): its index.
    package mutating func addNode(_ address: String, joined: AnalysisResult.Cluster.Joining) -> Int {
        nodes.append(Node(address: address, joined: joined))
        commandCalls += repeatElement(0, count: entries)
        commandUnknown += repeatElement(0, count: entries)
        commandCost += repeatElement(0, count: entries)
        commandMicroseconds += repeatElement(0, count: entries)
        return nodes.count - 1
    }

    package mutating func unknownCommand(node: Int, _ argv: Argv) {
        guard nodes.indices.contains(node) else { return }
        nodes[node].calls += 1
        nodes[node].unknownCostCalls += 1
        nodes[node].unknownCommands[KeyText.commandName(argv.bytes(0)), default: 0] += 1
    }

    /// One costed call of `node`: each call's own elements once, as the totals count them.
    package mutating func account(node: Int, index: Int, _ argv: Argv, positions: [Int], cost: CallCost, table: CommandTable) {
        guard nodes.indices.contains(node) else { return }
        nodes[node].calls += 1
        let cell = node * entries + index
        commandCalls[cell] += 1
        // As Aggregation counts a command's calls of known cost.
        if let value = cost.cost.value, let own = cost.ownElements, let microseconds = cost.microseconds {
            nodes[node].cost += own
            nodes[node].estimatedMicroseconds += cost.ownMicroseconds ?? 0
            commandCost[cell] += value
            commandMicroseconds[cell] += microseconds
        } else {
            nodes[node].unknownCostCalls += 1
            commandUnknown[cell] += 1
        }
        guard let first = positions.first, first < argv.count else { return }
        let slot = hashSlot(argv[first])
        slotCalls[slot] += 1
        slotCost[slot] += cost.ownElements ?? 0
        slotMicroseconds[slot] += cost.ownMicroseconds ?? 0
        if slotNode[slot] < 0 { slotNode[slot] = Int32(node) }
        guard positions.count > 1 else { return }
        for position in positions.dropFirst() where position < argv.count && hashSlot(argv[position]) != slot {
            crossSlotCalls += 1
            crossSlotByCommand[index, default: 0] += 1
            if crossSlotExamples.count < 5 {
                crossSlotExamples.append(.init(command: table.entries[index].name, node: node,
                                               keys: positions.prefix(8).filter { $0 < argv.count }.map { argv.bytes($0) }))
            }
            return
        }
    }

    /// A live node that went away: when, and after how many of its calls.
    package mutating func lost(node: Int, atSecond: Int64?, reason: String) {
        guard nodes.indices.contains(node) else { return }
        nodes[node].lost = .init(afterCalls: nodes[node].calls, atSecond: atSecond, reason: reason)
    }

    /// One node's calls per command, as the whole analysis's `commands` counts them (for the
    /// server's own figures beside them), and its commands the table does not know.
    package func commandStats(node: Int) -> (commands: [AnalysisResult.CommandStats], unknownCommands: [String: Int]) {
        guard nodes.indices.contains(node) else { return ([], [:]) }
        var out: [AnalysisResult.CommandStats] = []
        for index in 0..<entries where commandCalls[node * entries + index] > 0 {
            let cell = node * entries + index
            var stats = AnalysisResult.CommandStats(name: tableNames[index], isWrapper: wrappers[index])
            stats.calls = commandCalls[cell]
            stats.unknownCalls = commandUnknown[cell]
            stats.cost = commandCost[cell]
            stats.estimatedMicroseconds = commandMicroseconds[cell]
            out.append(stats)
        }
        return (out, nodes[node].unknownCommands)
    }

    /// The report's values: every node, the `slotLimit` hottest slots (by calls) with their
    /// most-called keys among the hot keys the aggregation followed.
    package func summary(table: CommandTable, hotKeys: [AnalysisResult.HotKey], slotLimit: Int = 20) -> AnalysisResult.Cluster {
        let nodeValues = nodes.enumerated().map { n, node in
            var commands = node.unknownCommands
            for index in 0..<entries where commandCalls[n * entries + index] > 0 {
                commands[table.entries[index].name, default: 0] += commandCalls[n * entries + index]
            }
            return AnalysisResult.Cluster.Node(address: node.address, calls: node.calls, cost: node.cost, unknownCostCalls: node.unknownCostCalls,
                                               estimatedMicroseconds: node.estimatedMicroseconds, commands: commands, lost: node.lost,
                                               joined: node.joined)
        }
        let hottest = slotCalls.indices.filter { slotCalls[$0] > 0 }
            .sorted { (slotCalls[$0], slotCost[$0], -$0) > (slotCalls[$1], slotCost[$1], -$1) }.prefix(slotLimit)
        var keysBySlot: [Int: [AnalysisResult.HotKey]] = Dictionary(uniqueKeysWithValues: hottest.map { ($0, []) })
        for key in hotKeys {
            let slot = key.name.withUnsafeBytes(hashSlot)
            guard keysBySlot[slot] != nil else { continue }
            keysBySlot[slot]!.append(key)
            if keysBySlot[slot]!.count > 6 {
                keysBySlot[slot]!.sort { $0.calls > $1.calls }
                keysBySlot[slot]!.removeLast()
            }
        }
        let slots = hottest.map { slot in
            AnalysisResult.Cluster.Slot(slot: slot, node: Int(slotNode[slot]), calls: slotCalls[slot], cost: slotCost[slot],
                                        estimatedMicroseconds: slotMicroseconds[slot],
                                        keys: (keysBySlot[slot] ?? []).sorted { $0.calls > $1.calls }.prefix(5).map { ($0.name, $0.calls) })
        }
        var byCommand: [String: Int] = [:]
        for (index, calls) in crossSlotByCommand { byCommand[table.entries[index].name, default: 0] += calls }
        return AnalysisResult.Cluster(nodes: nodeValues, hotSlots: slots, slotsWithCalls: slotCalls.reduce(0) { $0 + ($1 > 0 ? 1 : 0) },
                                      crossSlotCalls: crossSlotCalls, crossSlotByCommand: byCommand, crossSlotExamples: crossSlotExamples)
    }
}

extension AnalysisResult {
    /// Several nodes analysed together (`analyze` of one input per node, `monitor --cluster`).
    public struct Cluster: Sendable {
        public struct Loss: Sendable {
            /// The node's calls analysed before it went away.
            public var afterCalls: Int
            /// Unix seconds of its last call, when it had one.
            public var atSecond: Int64?
            public var reason: String
        }

        /// A live node watched from the middle of a session: a replica that took over, or a new primary.
        public struct Joining: Sendable {
            /// Unix seconds when the session found it a primary.
            public var atSecond: Int64
            /// The nodes that served its slots before, no longer primaries (empty: a new primary).
            public var replacing: [String]
            package init(atSecond: Int64, replacing: [String]) { (self.atSecond, self.replacing) = (atSecond, replacing) }
        }

        public struct Node: Sendable {
            /// `host:port` of a live node, or the input file.
            public var address: String
            public var calls: Int
            public var cost: Double
            public var unknownCostCalls: Int
            public var estimatedMicroseconds: Double
            /// Command name → calls, as the commands table names them.
            public var commands: [String: Int]
            public var lost: Loss?
            public var joined: Joining? = nil
            /// Live: the server's own figures for the node (`INFO commandstats` at the start, every
            /// few seconds and at the end), per command beside the estimate; nil for a capture.
            public var measuredTime: MeasuredTime? = nil
            /// Live: every command the tool sent to this node, by commandstats name (nil for a capture).
            public var toolCommands: [String: Int]? = nil
        }

        public struct Slot: Sendable {
            public var slot: Int
            /// Index into `nodes` of the node that served the slot's first call.
            public var node: Int
            public var calls: Int
            public var cost: Double
            /// The time model's estimate of its calls of known cost (each call's own time).
            public var estimatedMicroseconds: Double
            /// Live: the server's CPU time for the slot (`CLUSTER SLOT-STATS` cpu-usec, the end's less
            /// the start's) on the node that served it the whole session; nil when unknown.
            public var measuredMicroseconds: Int? = nil
            /// The slot's most-called keys (first keys of calls) and their calls.
            public var keys: [(name: [UInt8], calls: Int)]
        }

        public struct CrossSlotCall: Sendable {
            public var command: String
            public var node: Int
            public var keys: [[UInt8]]
        }

        public var nodes: [Node]
        public var hotSlots: [Slot]
        public var slotsWithCalls: Int
        public var crossSlotCalls: Int
        public var crossSlotByCommand: [String: Int]
        public var crossSlotExamples: [CrossSlotCall]
        /// Live: how the slots' server time was read (`CLUSTER SLOT-STATS`), or why it was not.
        public var slotStats: String? = nil
    }
}
