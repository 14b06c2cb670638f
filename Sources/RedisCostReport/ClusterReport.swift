import Foundation
import RedisCostCore
import RedisCostAnalysis

/// The cluster section of `analyze` (one input per node) and `monitor --cluster`: per node,
/// the hottest slots, the skew across nodes and the calls a cluster would refuse. Only in a
/// report of more than one node.
extension AnalysisReport {
    package struct Cluster: Codable, Sendable, OmittedWhenNil, JSONSchemaDescribed {
        package static let fieldDescriptions = [
            "nodes": "One per node, in the order of the inputs (or the primaries found by `monitor --cluster`).",
            "hotSlots": "The hash slots with the most calls (a call counts for the slot of its first key).",
            "slotsWithCalls": "How many of the 16384 hash slots had at least one call.",
            "skew": "The busiest node's calls over the mean calls per node (1: even); null without calls.",
            "crossSlotCalls": "Multi-key calls whose keys hash to different slots: a cluster refuses them (CROSSSLOT).",
        ]

        package struct Node: Codable, Sendable, JSONSchemaDescribed {
            package static let fieldDescriptions = [
                "address": "host:port of a live node, or the input file of the node.",
                "cost": "Elements its calls touched (each call's own elements once, as the totals).",
                "estimatedMicroseconds": "Server time of its calls with a known cost, by the time model.",
                "lost": "null, or when a live node went away and after how many of its calls.",
                "commands": "Command name → calls on this node.",
                "toolCommands": "Live (`monitor --cluster`): every command the tool sent this node, by commandstats name; null for a capture.",
            ]
            package var address: String
            package var calls: Int
            package var cost: Double
            package var unknownCostCalls: Int
            package var estimatedMicroseconds: Double
            package var lost: Loss?
            package var commands: [String: Int]
            package var toolCommands: [String: Int]?
        }

        package struct Loss: Codable, Sendable, JSONSchemaDescribed {
            package static let fieldDescriptions = [
                "afterCalls": "The node's calls analysed before it went away.",
                "time": "Unix seconds of its last call, when it had one.",
            ]
            package var afterCalls: Int
            package var time: Int64?
            package var reason: String
        }

        package struct Slot: Codable, Sendable, JSONSchemaDescribed {
            package static let fieldDescriptions = [
                "node": "The address of the node that served the slot.",
                "keys": "The slot's most-called keys (first keys of calls).",
            ]
            package var slot: Int
            package var node: String
            package var calls: Int
            package var cost: Double
            package var keys: [SlotKey]
        }

        package struct SlotKey: Codable, Sendable {
            package var key: String
            package var calls: Int
        }

        package struct CrossSlotCall: Codable, Sendable {
            package var command: String
            package var node: String
            package var keys: [String]
        }

        package var nodes: [Node]
        package var hotSlots: [Slot]
        package var slotsWithCalls: Int
        package var skew: Double?
        package var crossSlotCalls: Int
        package var crossSlotByCommand: [String: Int]
        package var crossSlotExamples: [CrossSlotCall]

        package init(_ c: AnalysisResult.Cluster, options: ReportOptions) {
            func address(_ node: Int) -> String { c.nodes.indices.contains(node) ? c.nodes[node].address : "?" }
            nodes = c.nodes.map {
                Node(address: $0.address, calls: $0.calls, cost: $0.cost, unknownCostCalls: $0.unknownCostCalls,
                     estimatedMicroseconds: $0.estimatedMicroseconds,
                     lost: $0.lost.map { Loss(afterCalls: $0.afterCalls, time: $0.atSecond, reason: $0.reason) }, commands: $0.commands,
                     toolCommands: $0.toolCommands)
            }
            hotSlots = c.hotSlots.map { slot in
                Slot(slot: slot.slot, node: address(slot.node), calls: slot.calls, cost: slot.cost,
                     keys: slot.keys.map { SlotKey(key: options.key($0.name), calls: $0.calls) })
            }
            slotsWithCalls = c.slotsWithCalls
            let calls = c.nodes.map(\.calls)
            let total = calls.reduce(0, +)
            skew = total > 0 ? Double(calls.max() ?? 0) * Double(calls.count) / Double(total) : nil
            crossSlotCalls = c.crossSlotCalls
            crossSlotByCommand = c.crossSlotByCommand
            crossSlotExamples = c.crossSlotExamples.map { CrossSlotCall(command: $0.command, node: address($0.node), keys: $0.keys.map(options.key)) }
        }

        package var markdown: String {
            let totalCalls = nodes.reduce(0) { $0 + $1.calls }
            let totalCost = nodes.reduce(0) { $0 + $1.cost }
            var out = "\n## Cluster: \(nodes.count) nodes\n\n"
            out += Markdown.table(
                header: ["Node", "Calls", "Share of calls", "Cost", "Share of cost", "Est. time", "Top commands", "Lost"],
                rows: nodes.map { node in
                    let top = node.commands.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(3)
                        .map { "\($0.key) × \(number(Double($0.value)))" }.joined(separator: ", ")
                    let lost = node.lost.map { "after \(number(Double($0.afterCalls))) calls" + ($0.time.map { ", \(time($0))" } ?? "") + ": \(Markdown.cell($0.reason))" } ?? ""
                    return [Markdown.code(node.address), number(Double(node.calls)), percent(Double(node.calls), of: Double(totalCalls)),
                            number(node.cost), percent(node.cost, of: totalCost), duration(node.estimatedMicroseconds), top, lost]
                }, alignRight: [1, 2, 3, 4, 5])
            if let skew {
                out += "\nSkew: the busiest node has \(String(format: "%.2f", skew))× the mean calls per node (1.00 is even); \(number(Double(slotsWithCalls))) of 16384 slots had calls.\n"
            }
            if !hotSlots.isEmpty {
                out += "\n### Hottest slots\n\n" + Markdown.table(
                    header: ["Slot", "Node", "Calls", "Cost", "Top keys"],
                    rows: hotSlots.prefix(15).map { slot in
                        [String(slot.slot), Markdown.code(slot.node), number(Double(slot.calls)), number(slot.cost),
                         slot.keys.prefix(3).map { "\(Markdown.code($0.key)) × \(number(Double($0.calls)))" }.joined(separator: ", ")]
                    }, alignRight: [0, 2, 3])
            }
            if crossSlotCalls > 0 {
                out += "\n**\(number(Double(crossSlotCalls))) multi-key calls whose keys hash to different slots** (a cluster refuses them with CROSSSLOT; put the keys in one slot with a `{hash tag}`): "
                out += crossSlotByCommand.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key) × \(number(Double($0.value)))" }.joined(separator: ", ")
                out += "; for example " + crossSlotExamples.prefix(3).map { "\($0.command) " + $0.keys.prefix(4).map(Markdown.code).joined(separator: " ") }.joined(separator: "; ") + "\n"
            } else {
                out += "\nNo multi-key call spans two slots.\n"
            }
            return out
        }
    }
}
