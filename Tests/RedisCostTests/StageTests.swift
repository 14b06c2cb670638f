import Foundation
import Testing
import RedisCostCore
import RedisCostTable
import RedisCostAnalysis

/// The analysis stages, each alone: resolve, cost, aggregate (the whole chain runs in every
/// other test over real files and servers).
@Suite struct StageTests {
    static let table = try! CommandTable.embedded()

    static func call(_ arguments: [String], context: Call.Context = .topLevel, _ body: (Call) -> Void) {
        Argv.with(arguments.map { Array($0.utf8) }) { argv in
            body(Call(argv: argv, database: 0, microseconds: 1_700_000_000_000_000, client: "127.0.0.1:5000",
                      origin: .init(file: "capture.txt", position: 7), context: context))
        }
    }

    static func resolved(_ arguments: [String]) -> (outcome: CallResolver.Outcome, resolved: CallResolver.Resolved) {
        var resolver = CallResolver(table: table)
        var resolved = CallResolver.Resolved(index: -1, keyPositions: [])
        var outcome: CallResolver.Outcome = .unknownCommand
        Argv.with(arguments.map { Array($0.utf8) }) { outcome = resolver.resolve($0, into: &resolved) }
        return (outcome, resolved)
    }

    @Test("resolve: a command, a container's subcommand in any case, its keys, an unknown command, a call of the wrong arity")
    func resolve() throws {
        let (outcome, sinter) = Self.resolved(["sinter", "a", "b", "c"])
        guard case .resolved = outcome else { Issue.record("SINTER"); return }
        #expect(Self.table.entries[sinter.index].name == "SINTER")
        #expect(sinter.keyPositions == [1, 2, 3])
        let (createOutcome, create) = Self.resolved(["XGROUP", "create", "stream", "g", "$"])
        guard case .resolved = createOutcome else { Issue.record("XGROUP CREATE"); return }
        #expect(Self.table.entries[create.index].name == "XGROUP CREATE")
        #expect(create.keyPositions == [2])
        guard case .unknownCommand = Self.resolved(["NOSUCHCOMMAND", "k"]).outcome else { Issue.record("unknown"); return }
        guard case .wrongArity(let index, let reason) = Self.resolved(["GET"]).outcome else { Issue.record("GET alone"); return }
        #expect(Self.table.entries[index].name == "GET")
        #expect(reason == "GET with 0 arguments (the server takes exactly 1)")
    }

    @Test("resolve into one buffer, call after call: each call's keys, whatever the call before had")
    func resolveIntoOneBuffer() {
        var resolver = CallResolver(table: Self.table)
        var resolved = CallResolver.Resolved(index: -1, keyPositions: [])
        let calls: [([String], [Int])] = [
            (["SINTER", "a", "b", "c"], [1, 2, 3]), (["GET", "k"], [1]), (["SET", "k", "v"], [1]),
            (["MSET", "a", "1", "b", "2"], [1, 3]), (["PING"], []), (["LMOVE", "s", "d", "LEFT", "RIGHT"], [1, 2]),
            (["SUNION", "a", "b", "c"], [1, 2, 3]), (["GET", "k"], [1]),
        ]
        for (arguments, keys) in calls {
            Argv.with(arguments.map { Array($0.utf8) }) { argv in
                guard case .resolved = resolver.resolve(argv, into: &resolved) else { Issue.record("\(arguments)"); return }
                #expect(Self.table.entries[resolved.index].name == arguments[0], "\(arguments)")
                #expect(resolved.keyPositions == keys, "\(arguments)")
            }
        }
    }

    @Test("sizes before: a key absent from the model is missing only when the input proves it; samples wait for their key")
    func sizeKnowledge() {
        var known = SizeKnowledge()
        let key = Array("user:1".utf8)
        key.withUnsafeBytes { key in
            #expect(known.sizeOfAbsentKey(key, database: 0) == .missing)  // an AOF, or a capture from an empty server
            known.absentKeysAreKnown = false  // a capture without a baseline
            #expect(known.sizeOfAbsentKey(key, database: 0) == .unknown)
            known.knownAbsent.insert(keyIdentity(key, database: 0))  // deleted in the capture
            #expect(known.sizeOfAbsentKey(key, database: 0) == .missing)
            #expect(known.sizeOfAbsentKey(key, database: 1) == .unknown)
            known.flushed(database: 1)
            #expect(known.sizeOfAbsentKey(key, database: 1) == .missing)
            known.flushed(database: nil)
            #expect(known.sizeOfAbsentKey(key, database: 5) == .missing)
            #expect(known.sampledSize(key, database: 2) == nil)
            known.pendingSamples[keyIdentity(key, database: 2)] = SampledKey(type: "hash", size: .elements(1000))
            #expect(known.sampledSize(key, database: 2) == .elements(1000))
        }
    }

    @Test("cost: the formula over the sizes before the call, the time model's estimate, a wrapper's nested calls")
    func cost() throws {
        let model = CostModel(table: Self.table, timeModel: TimeModel(perCall: 1, perElement: ["hash": 0.5], source: "test"))
        let hgetall = try #require(Self.table.entries.firstIndex { $0.name == "HGETALL" })
        Self.call(["HGETALL", "h"]) { call in
            let input = RawCallInput(argv: call.argv, keyPositions: [1], sizes: [.elements(1000)])
            let cost = model.cost(input, index: hgetall, nested: nil)
            #expect(cost.cost == .exact(1000))
            #expect(cost.microseconds == 501.0)  // 1 per call + 1000 × 0.5
            #expect(cost.ownElements == 1000)
            let unknown = model.cost(RawCallInput(argv: call.argv, keyPositions: [1], sizes: [.unknown]), index: hgetall, nested: nil)
            #expect(unknown.cost.value == nil && unknown.microseconds == nil)
        }
        let exec = try #require(Self.table.entries.firstIndex { $0.name == "EXEC" })
        var nested = NestedCalls(unknownReason: "a call in the transaction has an unknown cost")
        nested.add(CallCost(cost: .exact(1000), microseconds: 501))
        Self.call(["EXEC"]) { call in
            let cost = model.cost(RawCallInput(argv: call.argv, keyPositions: [], sizes: [], nestedCost: nested.cost), index: exec, nested: nested)
            // Inclusive of what it ran, as commandstats counts it (EXEC's formula is `nested`);
            // its own part is the time per call only.
            #expect(cost.cost.value == 1000)
            #expect(cost.ownElements == 0)
            #expect(cost.nestedElements == 1000)
            #expect(cost.microseconds == 502.0)  // 501 nested + 1 per call
        }
        nested.add(CallCost(cost: .unknown(reason: "size")))
        #expect(nested.cost == .unknown(reason: "a call in the transaction has an unknown cost"))
    }

    @Test("aggregate: each call's elements once in the totals, a wrapper's row inclusive, patterns, the chart, the costliest calls")
    func aggregate() throws {
        var aggregation = Aggregation(table: Self.table, top: 10)
        let hgetall = try #require(Self.table.entries.firstIndex { $0.name == "HGETALL" })
        let exec = try #require(Self.table.entries.firstIndex { $0.name == "EXEC" })
        Self.call(["HGETALL", "user:1"], context: .transaction) { call in
            aggregation.add(call, .init(index: hgetall, keyPositions: [1]), sizes: [.elements(1000)],
                            cost: CallCost(cost: .exact(1000), microseconds: 501, ownElements: 1000, ownMicroseconds: 501))
        }
        Self.call(["EXEC"]) { call in
            aggregation.add(call, .init(index: exec, keyPositions: []), sizes: [],
                            cost: CallCost(cost: .exact(1001), microseconds: 502.5, ownElements: 1, ownMicroseconds: 1.5, nestedElements: 1000))
        }
        Self.call(["NOSUCHCOMMAND"]) { aggregation.addUnknownCommand($0.argv) }
        var result = AnalysisResult(input: "test")
        aggregation.finish(into: &result, patterns: 30)
        #expect(result.calls == 3)
        #expect(result.totalCost == 1001)  // not 2001: the EXEC adds only its own part
        #expect(result.unknownCostCalls == 1)
        #expect(result.estimatedMicroseconds == 502.5)
        #expect(result.commands.map(\.name) == ["EXEC", "HGETALL"])
        #expect(result.commands[0].cost == 1001 && result.commands[0].nestedCost == 1000 && result.commands[0].elementsInTotals == 1)
        #expect(result.unknownCommands == ["NOSUCHCOMMAND": 1])
        #expect(result.patterns.map { String(decoding: $0.pattern, as: UTF8.self) } == ["user:*", "(no key)"])
        #expect(result.costOverTime.map(\.1) == [1001])
        #expect(result.topCalls.map(\.command) == ["EXEC", "HGETALL"])
        #expect(result.topCalls[1].inTransaction && result.topCalls[1].offset == 7 && result.topCalls[1].time == 1_700_000_000)
    }
}
