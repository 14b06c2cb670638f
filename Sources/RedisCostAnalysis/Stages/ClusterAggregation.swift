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
    }

    package private(set) var nodes: [Node]
    /// Calls per node and table entry, node after node (one flat array: one access per call).
    private var commandCalls: [Int]
    private let entries: Int
    /// Per hash slot (16384 of them): calls on a key of the slot (a call's first key), the
    /// elements they touched, and the node that served the slot's first call.
    private var slotCalls: [Int]
    private var slotCost: [Double]
    private var slotNode: [Int32]
    package private(set) var crossSlotCalls = 0
    private var crossSlotByCommand: [Int: Int] = [:]
    private var crossSlotExamples: [AnalysisResult.Cluster.CrossSlotCall] = []

    package static let slotCount = 16384

    package init(nodes addresses: [String], table: CommandTable) {
        nodes = addresses.map { Node(address: $0) }
        entries = table.entries.count
        commandCalls = Array(repeating: 0, count: addresses.count * entries)
        slotCalls = Array(repeating: 0, count: Self.slotCount)
        slotCost = Array(repeating: 0, count: Self.slotCount)
        slotNode = Array(repeating: -1, count: Self.slotCount)
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
        commandCalls[node * entries + index] += 1
        if cost.cost.value != nil, let own = cost.ownElements {
            nodes[node].cost += own
            nodes[node].estimatedMicroseconds += cost.ownMicroseconds ?? 0
        } else {
            nodes[node].unknownCostCalls += 1
        }
        guard let first = positions.first, first < argv.count else { return }
        let slot = hashSlot(argv[first])
        slotCalls[slot] += 1
        slotCost[slot] += cost.ownElements ?? 0
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

    /// The report's values: every node, the `slotLimit` hottest slots (by calls) with their
    /// most-called keys among the hot keys the aggregation followed.
    package func summary(table: CommandTable, hotKeys: [AnalysisResult.HotKey], slotLimit: Int = 20) -> AnalysisResult.Cluster {
        let nodeValues = nodes.enumerated().map { n, node in
            var commands = node.unknownCommands
            for index in 0..<entries where commandCalls[n * entries + index] > 0 {
                commands[table.entries[index].name, default: 0] += commandCalls[n * entries + index]
            }
            return AnalysisResult.Cluster.Node(address: node.address, calls: node.calls, cost: node.cost, unknownCostCalls: node.unknownCostCalls,
                                               estimatedMicroseconds: node.estimatedMicroseconds, commands: commands, lost: node.lost)
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
            /// Live: every command the tool sent to this node, by commandstats name (nil for a capture).
            public var toolCommands: [String: Int]? = nil
        }

        public struct Slot: Sendable {
            public var slot: Int
            /// Index into `nodes` of the node that served the slot's first call.
            public var node: Int
            public var calls: Int
            public var cost: Double
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
    }
}
