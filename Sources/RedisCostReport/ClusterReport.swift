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
            "slotStats": "Live (`monitor --cluster`): how hotSlots[].measuredMicroseconds was read (CLUSTER SLOT-STATS), or why not; null for captures.",
        ]

        package struct Node: Codable, Sendable, JSONSchemaDescribed {
            package static let fieldDescriptions = [
                "address": "host:port of a live node, or the input file of the node.",
                "cost": "Elements its calls touched (each call's own elements once, as the totals).",
                "estimatedMicroseconds": "Server time of its calls with a known cost, by the time model.",
                "lost": "null, or when a live node went away and after how many of its calls.",
                "commands": "Command name → calls on this node.",
                "toolCommands": "Live (`monitor --cluster`): every command the tool sent this node, by commandstats name; null for a capture.",
                "joined": "null, or when a live session started watching this primary (a replica that took over, or a new primary) and the nodes it replaced.",
                "measuredCalls": "Live: the node's INFO commandstats calls delta from the first read to the last, less the tool's own, each call once (the commands the stream showed that run no others); null when unknown (a capture, a node lost mid-session, counters reset).",
                "measuredMicroseconds": "Live: the server's time for those calls (commandstats usec delta); null when unknown.",
                "windowEstimatedMicroseconds": "Live: the estimate of the calls the node's stream showed in the same window (from the first read's line to the end), the one measuredMicroseconds is set beside; null when not measured.",
                "ratio": "measuredMicroseconds / windowEstimatedMicroseconds; null when either is unknown or 0.",
                "measuredNote": "Live: why the node's server time is unknown, or where its windows differ; null otherwise.",
            ]
            package var address: String
            package var calls: Int
            package var cost: Double
            package var unknownCostCalls: Int
            package var estimatedMicroseconds: Double
            package var lost: Loss?
            package var commands: [String: Int]
            package var toolCommands: [String: Int]?
            package var joined: Joining?
            package var measuredCalls: Int?
            package var measuredMicroseconds: Double?
            package var windowEstimatedMicroseconds: Double?
            package var ratio: Double?
            package var measuredNote: String?
        }

        package struct Joining: Codable, Sendable, JSONSchemaDescribed {
            package static let fieldDescriptions = [
                "time": "Unix seconds when the session found it a primary.",
                "replacing": "The nodes that served its slots before and are no longer primaries; empty for a new primary.",
            ]
            package var time: Int64
            package var replacing: [String]
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
                "estimatedMicroseconds": "The time model's estimate of the slot's calls of known cost.",
                "measuredMicroseconds": "Live: the slot's CPU time as its node counted it (CLUSTER SLOT-STATS cpu-usec, the end's less the start's, the tool's own size reads included); null when unknown (a server without it, cluster-slot-stats-enabled no, a node not watched the whole session, a capture).",
            ]
            package var slot: Int
            package var node: String
            package var calls: Int
            package var cost: Double
            package var estimatedMicroseconds: Double
            package var measuredMicroseconds: Int?
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
        package var slotStats: String?

        package init(_ c: AnalysisResult.Cluster, options: ReportOptions) {
            func address(_ node: Int) -> String { c.nodes.indices.contains(node) ? c.nodes[node].address : "?" }
            nodes = c.nodes.map { node in
                // The node's server figures as the single-server table totals them: each call once.
                let measured = node.measuredTime.map(AnalysisReport.measuredTime)
                let total = measured?.unavailable == nil ? measured?.total : nil
                return Node(address: node.address, calls: node.calls, cost: node.cost, unknownCostCalls: node.unknownCostCalls,
                            estimatedMicroseconds: node.estimatedMicroseconds,
                            lost: node.lost.map { Loss(afterCalls: $0.afterCalls, time: $0.atSecond, reason: $0.reason) }, commands: node.commands,
                            toolCommands: node.toolCommands, joined: node.joined.map { Joining(time: $0.atSecond, replacing: $0.replacing) },
                            measuredCalls: total?.measuredCalls, measuredMicroseconds: total?.measuredMicroseconds,
                            windowEstimatedMicroseconds: total?.estimatedMicroseconds, ratio: total?.ratio,
                            measuredNote: measured.flatMap { m in m.unavailable ?? (m.notes.isEmpty ? nil : m.notes.joined(separator: " ")) })
            }
            hotSlots = c.hotSlots.map { slot in
                Slot(slot: slot.slot, node: address(slot.node), calls: slot.calls, cost: slot.cost,
                     estimatedMicroseconds: slot.estimatedMicroseconds, measuredMicroseconds: slot.measuredMicroseconds,
                     keys: slot.keys.map { SlotKey(key: options.key($0.name), calls: $0.calls) })
            }
            slotsWithCalls = c.slotsWithCalls
            let calls = c.nodes.map(\.calls)
            let total = calls.reduce(0, +)
            skew = total > 0 ? Double(calls.max() ?? 0) * Double(calls.count) / Double(total) : nil
            crossSlotCalls = c.crossSlotCalls
            crossSlotByCommand = c.crossSlotByCommand
            crossSlotExamples = c.crossSlotExamples.map { CrossSlotCall(command: $0.command, node: address($0.node), keys: $0.keys.map(options.key)) }
            slotStats = c.slotStats
        }

        package var markdown: String {
            let totalCalls = nodes.reduce(0) { $0 + $1.calls }
            let totalCost = nodes.reduce(0) { $0 + $1.cost }
            // Live sessions read each node's commandstats: the server's time goes beside the estimate.
            let live = nodes.contains { $0.toolCommands != nil }
            var out = "\n## Cluster: \(nodes.count) nodes\n\n"
            out += Markdown.table(
                header: ["Node", "Calls", "Share of calls", "Cost", "Share of cost", "Est. time"]
                    + (live ? ["Calls (server)", "Time (server)", "Est. time, same window", "Server ÷ est."] : []) + ["Top commands", "Lost"],
                rows: nodes.map { node in
                    let top = node.commands.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(3)
                        .map { "\($0.key) × \(number(Double($0.value)))" }.joined(separator: ", ")
                    let lost = node.lost.map { "after \(number(Double($0.afterCalls))) calls" + ($0.time.map { ", \(time($0))" } ?? "") + ": \(Markdown.cell($0.reason))" } ?? ""
                    let measured = live ? [node.measuredCalls.map { number(Double($0)) } ?? "unknown", node.measuredMicroseconds.map { duration($0) } ?? "unknown",
                                           node.windowEstimatedMicroseconds.map { duration($0) } ?? "–", ratioText(node.ratio)] : []
                    return [Markdown.code(node.address), number(Double(node.calls)), percent(Double(node.calls), of: Double(totalCalls)),
                            number(node.cost), percent(node.cost, of: totalCost), duration(node.estimatedMicroseconds)] + measured + [top, lost]
                }, alignRight: live ? [1, 2, 3, 4, 5, 6, 7, 8, 9] : [1, 2, 3, 4, 5])
            if live {
                out += "\nServer: each node's `INFO commandstats` deltas from its first read to its last, less the tool's own calls, each call once "
                    + "(the commands its stream showed that run no others); beside them the estimate of the calls its stream showed in the same window. "
                    + "Unknown: a node not watched to the end, or counters reset.\n"
                for node in nodes where node.measuredNote != nil && node.lost == nil {
                    out += "> \(Markdown.code(node.address)): \(Markdown.cell(node.measuredNote ?? ""))\n"
                }
            }
            for node in nodes {
                guard let joined = node.joined else { continue }
                out += joined.replacing.isEmpty
                    ? "\n- New primary \(Markdown.code(node.address)) joined at \(time(joined.time)); watched from then on.\n"
                    : "\n- \(Markdown.code(node.address)) became primary at \(time(joined.time)), replacing \(joined.replacing.map(Markdown.code).joined(separator: ", ")); watched from then on.\n"
            }
            if let skew {
                out += "\nSkew: the busiest node has \(String(format: "%.2f", skew))× the mean calls per node (1.00 is even); \(number(Double(slotsWithCalls))) of 16384 slots had calls.\n"
            }
            if !hotSlots.isEmpty {
                let measured = slotStats != nil
                out += "\n### Hottest slots\n\n" + Markdown.table(
                    header: ["Slot", "Node", "Calls", "Cost", "Est. time"] + (measured ? ["CPU time (server)", "Server ÷ est."] : []) + ["Top keys"],
                    rows: hotSlots.prefix(15).map { slot in
                        [String(slot.slot), Markdown.code(slot.node), number(Double(slot.calls)), number(slot.cost), duration(slot.estimatedMicroseconds)]
                            + (measured ? [slot.measuredMicroseconds.map { duration(Double($0)) } ?? "unknown",
                                           ratioText(AnalysisReport.ratio(slot.measuredMicroseconds.map(Double.init), slot.estimatedMicroseconds))] : [])
                            + [slot.keys.prefix(3).map { "\(Markdown.code($0.key)) × \(number(Double($0.calls)))" }.joined(separator: ", ")]
                    }, alignRight: measured ? [0, 2, 3, 4, 5, 6] : [0, 2, 3, 4])
                if let slotStats { out += "\nServer CPU time per slot: \(Markdown.cell(slotStats))\n" }
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
