import Foundation

/// The MONITOR driver: every line is a call with its database and client. A script's calls
/// (client `lua`) follow their EVAL/EVALSHA/FCALL and make up its cost; the calls between
/// one client's MULTI and EXEC make up the EXEC's. Writes replay on the same model as an AOF.
extension Analyzer {
    public struct MonitorOptions: Sendable {
        /// A snapshot or AOF of the data set when the capture started; without one, keys that
        /// existed before the capture have unknown sizes.
        public var baseline: AOFInput?
        /// The capture started on an empty data set (a fresh server): every key it does not
        /// create is known to be absent.
        public var startsEmpty = false
        public init(baseline: AOFInput? = nil, startsEmpty: Bool = false) {
            self.baseline = baseline
            self.startsEmpty = startsEmpty
        }
    }

    /// A script call waiting for its nested calls to end.
    struct PendingScript {
        var argv: [[UInt8]]
        var index: Int
        var line: MonitorReader.MonitorLine
        var client: Int
        var nested = 0.0
        var nestedUnknown = false
        var nestedUpperBound = false
    }

    struct ClientState {
        var stats: AnalysisResult.ClientStats
        var inTransaction = false
        var transactionCost = 0.0
        var transactionUnknown = false
    }

    public func run(monitor path: String, options: MonitorOptions = .init(), progress: ((Int, Int) -> Void)? = nil) throws(InputError) -> AnalysisResult {
        let started = Date()
        if let baseline = options.baseline {
            _ = try run(baseline)
        }
        // The baseline's own calls (if it is an AOF) are not part of this capture's analysis.
        resetAggregation()
        result = AnalysisResult(input: "MONITOR capture \(path)")
        result.isMonitor = true
        result.top = self.options.top
        absentKeysAreKnown = options.baseline != nil || options.startsEmpty
        trackHotKeys = true
        replayer.expiresByClock = true
        let file: MappedFile
        do {
            file = try MappedFile(path: path)
        } catch {
            throw InputError(file: path, offset: 0, detail: error.detail)
        }
        let reader = MonitorReader(bytes: file.bytes, file: path)
        var segment = AnalysisResult.Segment(path: path, role: .incremental, format: .aof, bytes: file.bytes.count, commands: 0)
        var argv = Argv()
        var clients: [UInt64: Int] = [:]
        var clientStates: [ClientState] = []
        var pending: PendingScript?
        var previous: (index: Int, line: MonitorReader.MonitorLine, client: Int)?
        var slowest = SlowestCalls(limit: 25)
        var lastRelease = 0

        func finishScript() {
            guard let script = pending else { return }
            pending = nil
            let nested: Cost = script.nestedUnknown ? .unknown(reason: "a call the script made has an unknown cost")
                : script.nestedUpperBound ? .atMost(script.nested) : .exact(script.nested)
            var copy = Argv()
            let flat = script.argv.flatMap { $0 }
            flat.withUnsafeBytes { raw in
                var ranges: [(start: Int, length: Int)] = []
                var at = 0
                for arg in script.argv {
                    ranges.append((at, arg.count))
                    at += arg.count
                }
                copy.set(base: raw.baseAddress, ranges: ranges)
                let positions = table.entries[script.index].keyPositions(in: copy)
                let saved = replayer.database
                replayer.database = script.line.database
                let cost = self.cost(copy, index: script.index, positions: positions, file: path, offset: script.line.lineStart, nested: nested)
                replayer.database = saved
                account(cost, client: script.client, states: &clientStates)
            }
        }

        loop: while true {
            switch reader.next(into: &argv) {
            case .end: break loop
            case .skipped: continue
            case .malformed(let line, let reason):
                result.malformedLines += 1
                if result.firstMalformed.count < 5 { result.firstMalformed.append((line, reason)) }
                continue
            case .call(let line):
                segment.commands += 1
                let seconds = line.microseconds / 1_000_000
                time = seconds
                replayer.nowMilliseconds = line.microseconds / 1000
                result.firstTime = result.firstTime ?? seconds
                result.lastTime = seconds
                replayer.database = line.database
                // The gap since the previous line bounds how long that call took.
                if let prev = previous {
                    let gap = max(0, line.microseconds - prev.line.microseconds)
                    commandStats[prev.index].observedMicroseconds += gap
                    commandStats[prev.index].maxObservedMicroseconds = max(commandStats[prev.index].maxObservedMicroseconds, gap)
                    if slowest.admits(gap) {
                        slowest.insert(describe(prev.line, index: prev.index, gap: gap, file: file, path: path,
                                                client: clientStates[prev.client].stats.client), gap: gap)
                    }
                }
                let clientIndex = intern(elementHash(reader.client(of: line)), in: &clients, &clientStates) {
                    ClientState(stats: .init(client: KeyText.display(Array(reader.client(of: line)))))
                }
                if !line.isScript { finishScript() }
                guard let index = resolve(argv) else {
                    countUnknownCommand(argv)
                    previous = nil
                    continue
                }
                previous = (index, line, clientIndex)
                let entry = table.entries[index]
                let positions = entry.keySpecs.isEmpty ? [] : entry.keyPositions(in: argv)
                inTransaction = clientStates[clientIndex].inTransaction
                let name = entry.name
                if name == "EVAL" || name == "EVALSHA" || name == "EVAL_RO" || name == "EVALSHA_RO" || name == "FCALL" || name == "FCALL_RO" {
                    pending = PendingScript(argv: (0..<argv.count).map { argv.bytes($0) }, index: index, line: line, client: clientIndex)
                    result.scripts += 1
                    continue
                }
                let cost: Cost
                if name == "EXEC" && clientStates[clientIndex].inTransaction {
                    let state = clientStates[clientIndex]
                    let nested: Cost = state.transactionUnknown ? .unknown(reason: "a call in the transaction has an unknown cost") : .exact(state.transactionCost)
                    clientStates[clientIndex].inTransaction = false
                    inTransaction = false
                    cost = self.cost(argv, index: index, positions: positions, file: path, offset: line.lineStart, nested: nested)
                    result.transactions += 1
                } else {
                    cost = self.cost(argv, index: index, positions: positions, file: path, offset: line.lineStart)
                    if name == "MULTI" {
                        clientStates[clientIndex].inTransaction = true
                        clientStates[clientIndex].transactionCost = 0
                        clientStates[clientIndex].transactionUnknown = false
                    } else if name == "DISCARD" {
                        clientStates[clientIndex].inTransaction = false
                    }
                }
                if line.isScript, pending != nil {
                    if let v = cost.value { pending!.nested += v } else { pending!.nestedUnknown = true }
                    if cost.isUpperBound { pending!.nestedUpperBound = true }
                } else if clientStates[clientIndex].inTransaction, name != "MULTI" {
                    if let v = cost.value { clientStates[clientIndex].transactionCost += v } else { clientStates[clientIndex].transactionUnknown = true }
                }
                account(cost, client: clientIndex, states: &clientStates)
                if changesModel(index) { applyWrite(argv, index: index, positions: positions) }
                if reader.position - lastRelease > 4 << 20 {
                    file.release(upTo: line.lineStart)
                    lastRelease = reader.position
                    progress?(reader.position, file.bytes.count)
                }
            }
        }
        finishScript()
        replayer.expireKeys()
        result.segments = [segment]
        result.clients = clientStates.map(\.stats).sorted { ($0.cost, $0.calls) > ($1.cost, $1.calls) }
        result.slowestCalls = slowest.sorted
        result.hotKeysTracked = hotKeys.count
        result.hotKeys = Array(hotKeys.sorted { ($0.calls, $1.name.count) > ($1.calls, $0.name.count) }.prefix(30))
        finish()
        result.elapsedSeconds = Date().timeIntervalSince(started)
        return result
    }

    private func account(_ cost: Cost, client: Int, states: inout [ClientState]) {
        states[client].stats.calls += 1
        if let v = cost.value { states[client].stats.cost += v } else { states[client].stats.unknownCalls += 1 }
    }

    /// Applies a write seen in a capture. Without a baseline, a key that may have existed
    /// before the capture and that the write adds to (rather than replaces) is approximate;
    /// one the write deletes is known to be absent afterwards.
    private func applyWrite(_ argv: Argv, index: Int, positions: [Int]) {
        let db = replayer.database
        // cost() has just read every key's size: .unknown is a key that may have existed
        // before the capture, .missing one known absent, anything else a present key.
        var unknownBefore: [Int] = []
        var presentBefore: [Int] = []
        if !absentKeysAreKnown {
            for (k, position) in positions.enumerated() where k < sizesBuffer.count {
                switch sizesBuffer[k] {
                case .unknown: unknownBefore.append(position)
                case .missing: break
                default: presentBefore.append(position)
                }
            }
        }
        applyEffect(argv, index: index, positions: positions)
        let name = table.entries[index].name
        if name == "FLUSHALL" {
            knownAbsent.removeAll()
            flushedDatabases = Set(0..<16).union(flushedDatabases)
        } else if name == "FLUSHDB" {
            flushedDatabases.insert(db)
        }
        guard !absentKeysAreKnown else { return }
        for position in positions {
            let exists = replayer.lookup(argv[position]) != nil
            if exists, unknownBefore.contains(position), !Self.replacesValue.contains(name),
               let id = replayer.lookup(argv[position]) {
                replayer.keyspace[id].approximate = true
            }
            if !exists, presentBefore.contains(position) || Self.deletes.contains(name) {
                knownAbsent.insert(keyIdentity(argv[position], database: db))
            }
        }
    }

    /// Writes whose result does not depend on the key's previous value.
    static let replacesValue: Set<String> = [
        "SET", "SETEX", "PSETEX", "GETSET", "MSET", "MSETEX", "SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE",
        "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE", "ZRANGESTORE", "RESTORE", "BITOP",
    ]
    static let deletes: Set<String> = ["DEL", "UNLINK", "GETDEL"]

    /// Builds the record of a slow call by reading its line again (only for the few admitted).
    private func describe(_ line: MonitorReader.MonitorLine, index: Int, gap: Int64, file: MappedFile, path: String, client: String) -> AnalysisResult.SlowCall {
        let slice = UnsafeRawBufferPointer(rebasing: file.bytes[line.lineStart..<line.lineEnd])
        let again = MonitorReader(bytes: slice, file: path)
        var argv = Argv()
        var keys: [[UInt8]] = []
        if case .call = again.next(into: &argv) {
            keys = table.entries[index].keyPositions(in: argv).map { argv.bytes($0) }
        }
        return .init(command: table.entries[index].name, keys: keys, microseconds: gap, time: line.microseconds / 1_000_000,
                     line: line.lineNumber, client: client)
    }
}

struct SlowestCalls {
    let limit: Int
    private(set) var items: [(gap: Int64, call: AnalysisResult.SlowCall)] = []
    init(limit: Int) { self.limit = limit }
    /// The smallest gap kept, so that most lines are turned away with one comparison.
    private var threshold: Int64 = -1
    func admits(_ gap: Int64) -> Bool { items.count < limit || gap > threshold }
    mutating func insert(_ call: AnalysisResult.SlowCall, gap: Int64) {
        if items.count >= limit, let smallest = items.indices.min(by: { items[$0].gap < items[$1].gap }) { items.remove(at: smallest) }
        items.append((gap, call))
        if items.count >= limit { threshold = items.map(\.gap).min() ?? -1 }
    }
    var sorted: [AnalysisResult.SlowCall] { items.sorted { $0.gap > $1.gap }.map(\.call) }
}
