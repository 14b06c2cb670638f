import Foundation
import RedisCostCore
import RedisCostFormats
import RedisCostTable

/// The costing side of a `MonitorSession`: each staged line costed, aggregated and shown to the
/// rules, in order, with what only this side follows — the gap since the previous line (how
/// long that call took at most) and the slowest calls, clients, a client's transaction and a
/// script's calls, whose costs make up the EXEC's and the script's. It touches the analyzer's
/// costing state only (aggregation, findings, cluster counts, idle clocks), never the model.
package final class MonitorCosting {
    /// A script call waiting for its nested calls to end.
    private struct PendingScript {
        var call: Call
        var index: Int
        var client: Int
        var nested = NestedCalls(unknownReason: "a call the script made has an unknown cost")
    }

    /// A client's transaction in progress (its calls and cost are aggregated by `Aggregation`,
    /// at the same index).
    private struct ClientState {
        /// The client's index among the aggregation's clients (several sessions may feed one analyzer).
        var aggregate: Int
        var inTransaction = false
        var transaction = NestedCalls(unknownReason: MonitorSession.transactionUnknown)
    }

    /// The last call, whose duration the next line's timestamp bounds. Plain values, so that
    /// writing over it for every line releases nothing (its line, once copied, is `previousLine`).
    private struct PreviousCall {
        var index: Int
        var microseconds: Int64
        var lineNumber: Int
        var lineStart: Int
        var lineEnd: Int
        var client: Int
    }

    // Unowned and unchecked: the session that owns this costing holds the analyzer for as long
    // (checked `unowned` retained and released it twice per line).
    private unowned(unsafe) let analyzer: Analyzer
    private let file: String
    private let files: [String]
    private let roles: [MonitorSession.Role]
    private var clients = IdentityMap()
    private var clientStates: [ClientState] = []
    private var lastClient: (hash: UInt64, index: Int) = (0, -1)
    /// The previous line's client address, in the chunk being costed; nil after a chunk's end.
    private var lastClientAddress: UnsafeRawBufferPointer?
    private var pending: PendingScript?
    private var previous: PreviousCall?
    /// The previous call's line, copied out when its chunk ended (a live stream reuses its buffer).
    private var previousLine: [UInt8]?
    /// The latest timestamp seen, from which the next gap is measured.
    private var clock: Int64?
    package private(set) var slowest = SlowestCalls(limit: 25)
    /// Scripts and transactions run, for the result when the session ends.
    package var scripts = 0
    package var transactions = 0

    package init(analyzer: Analyzer, file: String, roles: [MonitorSession.Role]) {
        self.analyzer = analyzer
        self.file = file
        files = [file]
        self.roles = roles
    }

    package func account(_ batch: CallBatch) {
        var buffers = StagedCallBuffers()
        let arena = batch.arena
        for staged in batch.calls {
            switch staged.kind {
            case .call, .unknownCommand, .wrongArity: line(staged, batch, arena, &buffers)
            case .scriptEnd: endScript(staged, batch, arena, &buffers)
            case .chunkEnd:
                lastClientAddress = nil
                if let previous, previousLine == nil, let base = batch.base {
                    previousLine = Array(UnsafeRawBufferPointer(start: base + previous.lineStart, count: previous.lineEnd - previous.lineStart))
                }
            }
        }
    }

    private func line(_ staged: StagedCall, _ batch: CallBatch, _ arena: UnsafeRawBufferPointer, _ buffers: inout StagedCallBuffers) {
        let analyzer = self.analyzer
        let base = batch.base
        // The gap since the previous line bounds how long that call took. It is measured
        // from the latest time seen: after a clock step back, the calls until it catches
        // up have no gap, and the gaps of a capture add up to its span at most (a capture
        // whose clock jumped back and forth by ages overflowed their sum). A script's calls
        // run inside its EVAL/FCALL: the script's time runs from its line to the first line
        // after its calls, and is the script's.
        let latest = clock ?? staged.microseconds
        if !staged.isScript { clock = max(latest, staged.microseconds) }
        if !staged.isScript, let prev = previous {
            let gap = max(0, staged.microseconds - latest)
            analyzer.aggregation.observe(microseconds: gap, index: prev.index)
            if slowest.admits(gap) {
                slowest.insert(describe(prev, copiedLine: previousLine, base: base, gap: gap), gap: gap)
            }
        }
        let clientIndex = client(UnsafeRawBufferPointer(start: base.map { $0 + staged.clientStart }, count: staged.clientLength))
        switch staged.kind {
        case .unknownCommand:
            batch.arguments(of: staged, arena: arena, into: &buffers.call.argv)
            analyzer.countUnknownCommand(buffers.call.argv, node: staged.node)
            analyzer.aggregation.account(client: clientStates[clientIndex].aggregate, ownElements: nil)
            forgetPrevious()
            return
        case .wrongArity:
            forgetPrevious()
            return
        case .call, .scriptEnd, .chunkEnd:
            break
        }
        let index = staged.index
        if !staged.isScript {
            forgetPrevious()
            previous = PreviousCall(index: index, microseconds: staged.microseconds, lineNumber: staged.position,
                                    lineStart: staged.lineStart, lineEnd: staged.lineEnd, client: clientIndex)
        }
        let role = roles[index]
        // A DISCARD is still inside its transaction; an EXEC runs it and is not.
        let inTransaction = clientStates[clientIndex].inTransaction && role != .exec
        batch.arguments(of: staged, arena: arena, into: &buffers.call.argv)
        buffers.load(staged, from: batch, files: files)
        buffers.call.context = staged.isScript ? .script : inTransaction ? .transaction : .topLevel
        // The client's name is for the rules (a finding's evidence), which see only the calls
        // they watch (`Analyzer.account` asks); a script is shown to them later, when its
        // calls have ended, so it carries the name only if watched now, as it is reported.
        let watchedNow = role != .script || analyzer.findingsEngine?.watches(index) == true
        buffers.call.client = watchedNow ? analyzer.aggregation.clients[clientStates[clientIndex].aggregate].client : nil
        if role == .script {
            var call = buffers.call
            call.argv = Argv()
            pending = PendingScript(call: call, index: index, client: clientIndex)
            scripts += 1
            return
        }
        let cost: CallCost
        if role == .exec && clientStates[clientIndex].inTransaction {
            let nested = clientStates[clientIndex].transaction
            clientStates[clientIndex].inTransaction = false
            cost = account(staged, batch, buffers, nested: nested)
            transactions += 1
        } else {
            cost = account(staged, batch, buffers, nested: nil)
            if role == .multi {
                clientStates[clientIndex].inTransaction = true
                clientStates[clientIndex].transaction = NestedCalls(unknownReason: MonitorSession.transactionUnknown)
            } else if role == .discard {
                clientStates[clientIndex].inTransaction = false
            }
        }
        // A monitor watched these calls: its feed of each is inside the wrapper's time.
        if staged.isScript, pending != nil {
            pending!.nested.add(cost, argumentBytes: buffers.call.argv.byteCount)
        } else if clientStates[clientIndex].inTransaction, role != .multi {
            clientStates[clientIndex].transaction.add(cost, argumentBytes: buffers.call.argv.byteCount)
        }
        analyzer.aggregation.account(client: clientStates[clientIndex].aggregate, ownElements: cost.ownElements)
    }

    @inline(__always)
    private func account(_ staged: StagedCall, _ batch: CallBatch, _ buffers: borrowing StagedCallBuffers, nested: NestedCalls?) -> CallCost {
        analyzer.account(buffers.call, buffers.resolved, sizes: buffers.sizes, modelCost: batch.modelCost(of: staged),
                         documentBytes: staged.documentBytes >= 0 ? staged.documentBytes : nil,
                        elementBytes: staged.elementBytes >= 0 ? Double(staged.elementBytes) : nil, node: staged.node, nested: nested)
    }

    private func forgetPrevious() {
        previous = nil
        if previousLine != nil { previousLine = nil }
    }

    /// The index of a line's client, made the first time it is seen.
    private func client(_ address: UnsafeRawBufferPointer) -> Int {
        // Consecutive lines mostly come from the same client: its bytes compared with the
        // previous line's, instead of a hash and a lookup. Those point into the input, which
        // stays as it is until the chunk ends (`account` forgets them then).
        if lastClient.index >= 0, let previous = lastClientAddress, previous.count == address.count,
           address.count == 0 || memcmp(previous.baseAddress!, address.baseAddress!, address.count) == 0 {
            return lastClient.index
        }
        lastClientAddress = address
        let hash = elementHash(address)
        if hash == lastClient.hash, lastClient.index >= 0 { return lastClient.index }
        let index: Int
        if let known = clients[hash] {
            index = known
        } else if clientStates.count < MonitorSession.clientLimit {
            index = newClient(hash, named: KeyText.display(Array(address)))
        } else {
            // Days of connection churn must not grow the session without bound: later
            // new addresses share one entry (their transactions are not followed apart).
            index = clients[0] ?? newClient(0, named: "(other clients)")
        }
        lastClient = (hash, index)
        return index
    }

    /// A client seen for the first time: its transaction state here, its figures in the
    /// aggregation, at the same index.
    private func newClient(_ hash: UInt64, named name: String) -> Int {
        clients[hash] = clientStates.count
        clientStates.append(ClientState(aggregate: analyzer.aggregation.clients.count))
        analyzer.aggregation.addClient(named: name)
        return clientStates.count - 1
    }

    /// Costs the script call waiting for its nested calls, now that they have all been seen,
    /// with the sizes its keys had then (`staged`).
    private func endScript(_ staged: StagedCall, _ batch: CallBatch, _ arena: UnsafeRawBufferPointer, _ buffers: inout StagedCallBuffers) {
        guard let script = pending else { return }
        pending = nil
        batch.arguments(of: staged, arena: arena, into: &buffers.call.argv)
        buffers.load(staged, from: batch, files: files)
        var call = script.call
        call.argv = buffers.call.argv
        let cost = analyzer.account(call, buffers.resolved, sizes: buffers.sizes, modelCost: batch.modelCost(of: staged),
                                    documentBytes: staged.documentBytes >= 0 ? staged.documentBytes : nil,
                        elementBytes: staged.elementBytes >= 0 ? Double(staged.elementBytes) : nil, node: staged.node, nested: script.nested)
        analyzer.aggregation.account(client: clientStates[script.client].aggregate, ownElements: cost.ownElements)
    }

    /// Builds the record of a slow call by reading its line again (only for the few admitted).
    private func describe(_ call: PreviousCall, copiedLine: [UInt8]?, base: UnsafeRawPointer?, gap: Int64) -> AnalysisResult.SlowCall {
        func build(_ slice: UnsafeRawBufferPointer) -> AnalysisResult.SlowCall {
            let again = MonitorReader(bytes: slice, file: file)
            var argv = Argv()
            var keys: [[UInt8]] = []
            if case .call = again.next(into: &argv) {
                keys = analyzer.table.keyPositions(of: call.index, in: argv).map { argv.bytes($0) }
            }
            return .init(command: analyzer.table.entries[call.index].name, keys: keys, microseconds: gap,
                         time: call.microseconds / 1_000_000, line: call.lineNumber,
                         client: analyzer.aggregation.clients[clientStates[call.client].aggregate].client, blocking: analyzer.table.entries[call.index].isBlocking)
        }
        if let copied = copiedLine { return copied.withUnsafeBytes(build) }
        return build(UnsafeRawBufferPointer(start: base.map { $0 + call.lineStart }, count: call.lineEnd - call.lineStart))
    }
}
