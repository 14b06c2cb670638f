import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// One MONITOR analysis, fed whole lines: a capture file all at once, or a live stream chunk
/// by chunk. Every line is a call with its database and client. A script's calls (client
/// `lua`) follow their EVAL/EVALSHA/FCALL and make up its cost; the calls between one
/// client's MULTI and EXEC make up the EXEC's. Writes replay on the analyzer's model.
public final class MonitorSession {
    /// A script call waiting for its nested calls to end.
    package struct PendingScript {
        package var argv: Argv.Copy
        package var call: Call
        package var index: Int
        package var line: MonitorReader.MonitorLine
        package var client: Int
        package var nested = NestedCalls(unknownReason: "a call the script made has an unknown cost")
    }

    /// A client's transaction in progress (its calls and cost are aggregated by `Aggregation`,
    /// at the same index).
    package struct ClientState {
        /// The client's index among the aggregation's clients (several sessions may feed one analyzer).
        package var aggregate: Int
        package var inTransaction = false
        package var transaction = NestedCalls(unknownReason: MonitorSession.transactionUnknown)
    }

    /// The last call, whose duration the next line's timestamp bounds. Its line is copied out
    /// when a chunk ends (a live stream reuses its buffer).
    package struct PreviousCall {
        package var index: Int
        package var line: MonitorReader.MonitorLine
        package var client: Int
        package var copiedLine: [UInt8]?
    }

    package let analyzer: Analyzer
    package let file: String
    private var fileName: String { (file as NSString).lastPathComponent }
    package let started = Date()
    private var reader: MonitorReader?
    private var prescanReader: MonitorReader?
    private var argv = Argv()
    private var segment: AnalysisResult.Segment
    private var clients = IdentityMap()
    private var clientStates: [ClientState] = []
    private var lastClient: (hash: UInt64, index: Int) = (0, -1)
    private var pending: PendingScript?
    private var previous: PreviousCall?
    /// The latest timestamp seen, from which the next gap is measured.
    private var clock: Int64?
    private var slowest = SlowestCalls(limit: 25)

    /// Calls analysed so far (lines the `ownCall` filter kept).
    public private(set) var calls = 0
    /// Stop after this many calls (`--count`); later lines are ignored.
    public var callLimit: Int?
    public var isFull: Bool { callLimit.map { calls >= $0 } ?? false }
    /// Lines of the tool's own connection (its sampler): told to the owner, left out of the analysis.
    public var ownCall: ((MonitorReader.MonitorLine, UnsafeRawBufferPointer, Argv) -> Bool)?
    /// Receives every analysed call's line, without its framing (`--save-capture`).
    public var captureSink: ((UnsafeRawBufferPointer) -> Void)?

    /// Prepares the analyzer: loads the baseline, then starts counting afresh (the baseline's
    /// own calls, if it is an AOF, are not part of this capture's analysis).
    public init(analyzer: Analyzer, source: String, file: String, options: Analyzer.MonitorOptions) throws(InputError) {
        self.analyzer = analyzer
        self.file = file
        roles = zip(analyzer.table.entries, analyzer.table.runsScript).map(Role.init)
        subscriptionChanges = analyzer.table.entries.map { Subscriptions.Change($0.semantics) }
        segment = AnalysisResult.Segment(path: file, role: .incremental, format: .monitor, bytes: 0, commands: 0)
        guard !options.joinsAnalysis else { return }
        if let baseline = options.baseline {
            _ = try analyzer.run(baseline)
        }
        analyzer.resetAggregation()
        analyzer.result = AnalysisResult(input: source)
        analyzer.result.isMonitor = true
        analyzer.result.top = analyzer.options.top
        analyzer.known.absentKeysAreKnown = options.baseline != nil || options.startsEmpty
        analyzer.result.knowsWholeDataSet = analyzer.known.absentKeysAreKnown
        analyzer.aggregation.trackHotKeys = true
        analyzer.replayer.expiresByClock = true
        // Subscriptions from before a capture are not in it; one that began with the server
        // (`--baseline empty`) shows them all.
        analyzer.subscriptions = Subscriptions(knownFromStart: options.startsEmpty)
    }

    /// Analyses every line of `bytes`, which must end at a line end (a live stream keeps its
    /// partial last line for the next chunk). `checkpoint` is told the offset reached now and then.
    public func consume(_ bytes: UnsafeRawBufferPointer, framing: MonitorReader.Framing, checkpoint: ((Int) -> Void)? = nil) {
        let reader: MonitorReader
        if let existing = self.reader {
            existing.reset(bytes: bytes)
            reader = existing
        } else {
            reader = MonitorReader(bytes: bytes, file: file, framing: framing)
            self.reader = reader
        }
        segment.bytes += bytes.count
        var lastCheckpoint = 0
        loop: while !isFull {
            switch reader.next(into: &argv) {
            case .end: break loop
            case .skipped: continue
            case .malformed(let line, let reason):
                countMalformed(line: line, reason: reason)
            case .call(let line):
                if let ownCall, ownCall(line, reader.client(of: line), argv) { continue }
                captureSink?(UnsafeRawBufferPointer(rebasing: bytes[line.lineStart..<line.lineEnd]))
                analyze(line, reader: reader, chunk: bytes)
                if reader.position - lastCheckpoint > 1 << 20 {
                    lastCheckpoint = reader.position
                    checkpoint?(reader.position)
                }
            }
        }
        if previous != nil, previous!.copiedLine == nil {
            previous!.copiedLine = Array(bytes[previous!.line.lineStart..<previous!.line.lineEnd])
        }
    }

    private func countMalformed(line: Int, reason: String) {
        analyzer.countMalformed(at: "\(fileName):\(line)", reason)
    }

    /// Notes the `bytes` of a last line that the capture cut off before its line end, which
    /// are not read: cut between two arguments, they would read as a call with fewer arguments.
    package func cutOff(bytes: Int) {
        segment.bytes += bytes
        countMalformed(line: (reader?.lineNumber ?? 0) + 1, reason: "the capture ends inside this line (cut off before its line end)")
    }

    private func analyze(_ line: MonitorReader.MonitorLine, reader: MonitorReader, chunk: UnsafeRawBufferPointer) {
        let analyzer = self.analyzer
        calls += 1
        segment.commands += 1
        let seconds = line.microseconds / 1_000_000
        analyzer.replayer.nowMilliseconds = line.microseconds / 1000
        analyzer.result.firstTime = analyzer.result.firstTime ?? seconds
        analyzer.result.lastTime = seconds
        analyzer.replayer.database = line.database
        // The gap since the previous line bounds how long that call took. It is measured
        // from the latest time seen: after a clock step back, the calls until it catches
        // up have no gap, and the gaps of a capture add up to its span at most (a capture
        // whose clock jumped back and forth by ages overflowed their sum). A script's calls
        // run inside its EVAL/FCALL: the script's time runs from its line to the first line
        // after its calls, and is the script's.
        let latest = clock ?? line.microseconds
        if !line.isScript { clock = max(latest, line.microseconds) }
        if !line.isScript, let prev = previous {
            let gap = max(0, line.microseconds - latest)
            analyzer.aggregation.observe(microseconds: gap, index: prev.index)
            if slowest.admits(gap) {
                slowest.insert(describe(prev, chunk: chunk, gap: gap), gap: gap)
            }
        }
        // Consecutive lines mostly come from the same client: one comparison instead of a lookup.
        let clientHash = elementHash(reader.client(of: line))
        let clientIndex: Int
        if clientHash == lastClient.hash, lastClient.index >= 0 {
            clientIndex = lastClient.index
        } else {
            if let known = clients[clientHash] {
                clientIndex = known
            } else if clientStates.count < Self.clientLimit {
                clientIndex = newClient(clientHash, named: KeyText.display(Array(reader.client(of: line))))
            } else {
                // Days of connection churn must not grow the session without bound: later
                // new addresses share one entry (their transactions are not followed apart).
                clientIndex = clients[0] ?? newClient(0, named: "(other clients)")
            }
            lastClient = (clientHash, clientIndex)
        }
        if !line.isScript { finishScript() }
        let resolved: CallResolver.Resolved
        switch analyzer.resolver.resolve(argv) {
        case .unknownCommand:
            analyzer.countUnknownCommand(argv)
            analyzer.aggregation.account(client: clientStates[clientIndex].aggregate, nil)
            previous = nil
            return
        case .wrongArity(_, let reason):
            countMalformed(line: line.lineNumber, reason: reason)
            previous = nil
            return
        case .resolved(let found):
            resolved = found
        }
        let index = resolved.index
        if !line.isScript { previous = PreviousCall(index: index, line: line, client: clientIndex) }
        let role = roles[index]
        // A DISCARD is still inside its transaction; an EXEC runs it and is not.
        let inTransaction = clientStates[clientIndex].inTransaction && role != .exec
        // The client's name is for the rules (a finding's evidence): only a watched call carries it.
        let client = analyzer.findingsEngine?.watches(index) == true ? analyzer.aggregation.clients[clientStates[clientIndex].aggregate].client : nil
        let call = Call(argv: argv, database: line.database, microseconds: line.microseconds, client: client,
                        origin: .init(file: file, position: line.lineNumber),
                        context: line.isScript ? .script : inTransaction ? .transaction : .topLevel)
        if role == .script {
            pending = PendingScript(argv: argv.copy(), call: call, index: index, line: line, client: clientIndex)
            analyzer.result.scripts += 1
            return
        }
        let cost: CallCost
        if role == .exec && clientStates[clientIndex].inTransaction {
            let nested = clientStates[clientIndex].transaction
            clientStates[clientIndex].inTransaction = false
            cost = analyzer.cost(call, resolved, nested: nested)
            analyzer.result.transactions += 1
        } else {
            cost = analyzer.cost(call, resolved)
            if role == .multi {
                clientStates[clientIndex].inTransaction = true
                clientStates[clientIndex].transaction = NestedCalls(unknownReason: Self.transactionUnknown)
            } else if role == .discard {
                clientStates[clientIndex].inTransaction = false
            }
        }
        // A monitor watched these calls: its feed of each is inside the wrapper's time.
        if line.isScript, pending != nil {
            pending!.nested.add(cost, argumentBytes: argv.byteCount)
        } else if clientStates[clientIndex].inTransaction, role != .multi {
            clientStates[clientIndex].transaction.add(cost, argumentBytes: argv.byteCount)
        }
        account(cost, client: clientIndex)
        if let change = subscriptionChanges[index] {
            analyzer.subscriptions?.apply(change, argv, client: clientHash)
        }
        if analyzer.changesModel(index) { analyzer.applyWrite(argv, index: index, positions: resolved.keyPositions) }
    }

    package static let transactionUnknown = "a call in the transaction has an unknown cost"

    /// What a command means for the bracketing of calls: scripts own the `lua` calls after
    /// them, MULTI…EXEC (or DISCARD) own the calls between them.
    package enum Role {
        case script, multi, exec, discard, other

        /// From the table: the entry's `transaction` semantics, or whether it runs a script.
        package init(_ entry: CommandEntry, runsScript: Bool) {
            switch entry.semantics.transaction {
            case .begin: self = .multi
            case .run: self = .exec
            case .discard: self = .discard
            case nil: self = runsScript ? .script : .other
            }
        }
    }

    /// Per table entry.
    private let roles: [Role]
    private let subscriptionChanges: [Subscriptions.Change?]
    /// Client addresses followed one by one; later ones share an entry.
    package static let clientLimit = 100_000

    /// Costs the script call waiting for its nested calls, now that they have all been seen.
    private func finishScript() {
        guard let script = pending else { return }
        pending = nil
        script.argv.with { copy in
            var call = script.call
            call.argv = copy
            let resolved = CallResolver.Resolved(index: script.index, keyPositions: analyzer.table.keyPositions(of: script.index, in: copy))
            let saved = analyzer.replayer.database
            analyzer.replayer.database = script.line.database
            let cost = analyzer.cost(call, resolved, nested: script.nested)
            analyzer.replayer.database = saved
            account(cost, client: script.client)
        }
    }

    private func account(_ cost: CallCost, client: Int) {
        analyzer.aggregation.account(client: clientStates[client].aggregate, cost)
    }

    /// A client seen for the first time: its transaction state here, its figures in the
    /// aggregation, at the same index.
    private func newClient(_ hash: UInt64, named name: String) -> Int {
        clients[hash] = clientStates.count
        clientStates.append(ClientState(aggregate: analyzer.aggregation.clients.count))
        analyzer.aggregation.addClient(named: name)
        return clientStates.count - 1
    }

    /// Builds the record of a slow call by reading its line again (only for the few admitted).
    private func describe(_ call: PreviousCall, chunk: UnsafeRawBufferPointer, gap: Int64) -> AnalysisResult.SlowCall {
        func build(_ slice: UnsafeRawBufferPointer) -> AnalysisResult.SlowCall {
            let again = MonitorReader(bytes: slice, file: file)
            var argv = Argv()
            var keys: [[UInt8]] = []
            if case .call = again.next(into: &argv) {
                keys = analyzer.table.keyPositions(of: call.index, in: argv).map { argv.bytes($0) }
            }
            return .init(command: analyzer.table.entries[call.index].name, keys: keys, microseconds: gap,
                         time: call.line.microseconds / 1_000_000, line: call.line.lineNumber,
                         client: analyzer.aggregation.clients[clientStates[call.client].aggregate].client, blocking: analyzer.table.entries[call.index].isBlocking)
        }
        if let copied = call.copiedLine { return copied.withUnsafeBytes(build) }
        return build(UnsafeRawBufferPointer(rebasing: chunk[call.line.lineStart..<call.line.lineEnd]))
    }

    /// The sizes a live session should read before analysing `bytes`: keys whose size the
    /// calls' costs depend on and the model cannot know, and key counts for whole-keyspace
    /// commands. `admit` applies the sampler's cache and rate limit.
    public func sizeRequests(in bytes: UnsafeRawBufferPointer, framing: MonitorReader.Framing,
                             skip: (UnsafeRawBufferPointer) -> Bool, admit: (SizeRequest) -> Bool) -> [SizeRequest] {
        let reader = prescanReader ?? MonitorReader(bytes: bytes, file: file, framing: framing)
        prescanReader = reader
        reader.reset(bytes: bytes)
        var requests: [SizeRequest] = []
        var argv = Argv()
        while true {
            switch reader.next(into: &argv) {
            case .end: return requests
            case .skipped, .malformed: continue
            case .call(let line):
                guard !skip(reader.client(of: line)), let index = analyzer.resolver.index(of: argv) else { continue }
                let needs = analyzer.table.needs[index]
                if needs.isEmpty { continue }
                if needs.contains(.keySizes) {
                    for position in analyzer.table.keyPositions(of: index, in: argv)
                    where analyzer.needsSample(argv[position], database: line.database) {
                        let request = SizeRequest.key(database: line.database, name: argv.bytes(position))
                        if admit(request) { requests.append(request) }
                    }
                }
                if needs.contains(.databaseSize), !analyzer.known.absentKeysAreKnown, admit(.databaseSize(line.database)) {
                    requests.append(.databaseSize(line.database))
                }
                if needs.contains(.allKeys), !analyzer.known.absentKeysAreKnown, admit(.allKeys) { requests.append(.allKeys) }
                if needs.contains(.subscribers), let subscriptions = analyzer.subscriptions {
                    let reads = analyzer.table.subscriptionReads[index]
                    for (position, shard) in reads.channels where position < argv.count
                        && subscriptions.needsCount(argv[position], shard ? .shard : .channel) {
                        let request = SizeRequest.subscribers(channel: argv.bytes(position), shard: shard)
                        if admit(request) { requests.append(request) }
                    }
                    if reads.patterns, subscriptions.needsPatternCount, admit(.patternSubscriptions) {
                        requests.append(.patternSubscriptions)
                    }
                }
            }
        }
    }

    /// Ends this session's input but not the analysis (one of several nodes' streams feeding
    /// one analyzer): its last script is costed; its file record and slowest calls are returned.
    package func finishInput() -> (segment: AnalysisResult.Segment, slowest: [(gap: Int64, call: AnalysisResult.SlowCall)]) {
        finishScript()
        return (segment, slowest.items)
    }

    /// Ends the analysis: the last script is costed, keys past their TTL expire, results are sorted.
    public func finish() -> AnalysisResult {
        finishScript()
        analyzer.replayer.expireKeys()
        analyzer.result.segments = [segment]
        analyzer.result.slowestCalls = slowest.sorted
        analyzer.finish()
        analyzer.result.elapsedSeconds = Date().timeIntervalSince(started)
        return analyzer.result
    }
}
