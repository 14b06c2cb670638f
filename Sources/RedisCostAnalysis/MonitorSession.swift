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
///
/// The session reads the lines, resolves them, reads the sizes before each call and replays
/// its write (it owns the model); `MonitorCosting` costs them, follows clients, transactions,
/// scripts and the gaps between lines (it owns the aggregation), on a second thread for a
/// capture file (`CallPipeline`).
public final class MonitorSession {
    /// The script call waiting for its nested calls to end, as the reading side keeps it: its
    /// arguments, for the sizes of its keys when it is costed.
    private struct PendingScript {
        var argv: Argv.Copy
        var index: Int
        var database: Int
        var node: Int
        var position: Int
    }

    package let analyzer: Analyzer
    package let file: String
    private var fileName: String { (file as NSString).lastPathComponent }
    package let started = Date()
    private var reader: MonitorReader?
    private var prescanReader: MonitorReader?
    private var segment: AnalysisResult.Segment
    private var pending: PendingScript?
    private let costing: MonitorCosting
    private let pipeline: CallPipeline

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
        let costing = MonitorCosting(analyzer: analyzer, file: file, roles: roles)
        self.costing = costing
        pipeline = CallPipeline(threaded: options.costsOnSecondThread && analyzer.usesSecondThread,
                                callsPerBatch: analyzer.options.callsPerBatch) { [unowned costing] batch in
            costing.account(batch)
        }
        guard !options.joinsAnalysis else { return }
        if let baseline = options.baseline {
            _ = try analyzer.run(baseline)
        }
        analyzer.resetAggregation()
        analyzer.result = AnalysisResult(input: source)
        analyzer.result.isMonitor = true
        analyzer.costsCapture = true
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
    /// partial last line for the next chunk). `checkpoint` is told the offset reached now and
    /// then, and what the costing side is done with (the pages before it may go back).
    /// Unthreaded, every line is costed when this returns; threaded, by `finish`.
    public func consume(_ bytes: UnsafeRawBufferPointer, framing: MonitorReader.Framing, checkpoint: ((_ position: Int, _ releasable: Int) -> Void)? = nil) {
        let reader: MonitorReader
        if let existing = self.reader {
            existing.reset(bytes: bytes)
            reader = existing
        } else {
            reader = MonitorReader(bytes: bytes, file: file, framing: framing)
            self.reader = reader
        }
        pipeline.startInput(base: bytes.baseAddress, owner: nil)
        segment.bytes += bytes.count
        var lastCheckpoint = 0
        // The line's arguments, entry and key positions, written over for every line. Locals,
        // not properties: handing them down then retains nothing.
        var argv = Argv()
        var resolved = CallResolver.Resolved(index: 0, keyPositions: [])
        loop: while !isFull {
            switch reader.next(into: &argv) {
            case .end: break loop
            case .skipped: continue
            case .malformed(let line, let reason):
                countMalformed(line: line, reason: reason)
            case .call(let line):
                if let ownCall {
                    // The owner reads what the analysis has counted at this point of the stream
                    // (a commandstats read showing in it): every line before is costed first.
                    pipeline.drain()
                    if ownCall(line, reader.client(of: line), argv) { continue }
                }
                captureSink?(UnsafeRawBufferPointer(rebasing: bytes[line.lineStart..<line.lineEnd]))
                analyze(line, argv, &resolved, reader: reader)
                pipeline.submitIfFull()
                if reader.position - lastCheckpoint > 1 << 20 {
                    lastCheckpoint = reader.position
                    checkpoint?(reader.position, pipeline.releasable)
                }
            }
        }
        // The chunk's bytes may not outlive this call (a live stream reuses its buffer): the
        // costing side copies out the line it still refers to.
        pipeline.batch.calls.append(StagedCall(kind: .chunkEnd))
        if !pipeline.threaded { pipeline.drain() }
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

    /// The reading side of a line: the clock, the resolve, the sizes before the call and what its
    /// cost reads of the model, staged for `MonitorCosting`; then its write replays.
    private func analyze(_ line: MonitorReader.MonitorLine, _ argv: Argv, _ resolved: inout CallResolver.Resolved, reader: MonitorReader) {
        let analyzer = self.analyzer
        calls += 1
        segment.commands += 1
        let seconds = line.microseconds / 1_000_000
        analyzer.replayer.nowMilliseconds = line.microseconds / 1000
        analyzer.result.firstTime = analyzer.result.firstTime ?? seconds
        analyzer.result.lastTime = seconds
        analyzer.replayer.database = line.database
        if !line.isScript { endScript() }
        var staged = StagedCall(kind: .call)
        staged.database = line.database
        staged.hasTime = true
        staged.microseconds = line.microseconds
        staged.isScript = line.isScript
        staged.node = analyzer.currentNode
        staged.position = line.lineNumber
        staged.lineStart = line.lineStart
        staged.lineEnd = line.lineEnd
        staged.clientStart = line.clientStart
        staged.clientLength = line.clientLength
        let batch = pipeline.batch
        if batch.firstOffset == .max { batch.firstOffset = line.lineStart }
        switch analyzer.resolver.resolve(argv, into: &resolved) {
        case .unknownCommand:
            staged.kind = .unknownCommand
            batch.add(argv, to: &staged)
            batch.calls.append(staged)
            return
        case .wrongArity(_, let reason):
            countMalformed(line: line.lineNumber, reason: reason)
            staged.kind = .wrongArity
            batch.calls.append(staged)
            return
        case .resolved:
            break
        }
        let index = resolved.index
        batch.add(argv, to: &staged)
        if roles[index] == .script {
            // Costed when its calls have been seen, with the sizes its keys have then.
            staged.index = index
            batch.calls.append(staged)
            pending = PendingScript(argv: argv.copy(), index: index, database: line.database, node: analyzer.currentNode, position: line.lineNumber)
            return
        }
        analyzer.stage(argv, resolved, &staged, into: batch)
        batch.calls.append(staged)
        if let change = subscriptionChanges[index] {
            analyzer.subscriptions?.apply(change, argv, client: elementHash(reader.client(of: line)))
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

    /// The script call waiting for its nested calls, now that they have all been seen: the
    /// sizes its keys have now, for `MonitorCosting` to cost it with them.
    private func endScript() {
        guard let script = pending else { return }
        pending = nil
        script.argv.with { copy in
            let resolved = CallResolver.Resolved(index: script.index, keyPositions: analyzer.table.keyPositions(of: script.index, in: copy))
            let saved = analyzer.replayer.database
            analyzer.replayer.database = script.database
            var staged = StagedCall(kind: .scriptEnd)
            staged.database = script.database
            staged.node = script.node
            staged.position = script.position
            let batch = pipeline.batch
            batch.add(copy, to: &staged)
            analyzer.stage(copy, resolved, &staged, into: batch)
            batch.calls.append(staged)
            analyzer.replayer.database = saved
        }
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
        endCosting()
        return (segment, costing.slowest.items)
    }

    /// Ends the analysis: the last script is costed, keys past their TTL expire, results are sorted.
    public func finish() -> AnalysisResult {
        endCosting()
        analyzer.replayer.expireKeys()
        analyzer.result.segments = [segment]
        analyzer.result.slowestCalls = costing.slowest.sorted
        analyzer.finish()
        analyzer.result.elapsedSeconds = Date().timeIntervalSince(started)
        return analyzer.result
    }

    /// Costs the last script and every call staged, and adds what the costing side counted.
    private func endCosting() {
        endScript()
        pipeline.finish()
        analyzer.result.scripts += costing.scripts
        analyzer.result.transactions += costing.transactions
        costing.scripts = 0
        costing.transactions = 0
    }
}
