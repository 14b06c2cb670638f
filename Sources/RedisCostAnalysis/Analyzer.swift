import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// The analysis of calls, whatever their source: every reader's driver (Analyzer+AOF.swift,
/// MonitorSession for captures and live streams) makes a `Call` and runs it through the
/// stages, each a type with one job (Stages/): resolve (`CallResolver`: table entry, arity,
/// keys) → sizes before the call (the replay model, or a sample) → cost (`CostModel`:
/// elements touched, estimated µs) → aggregate (`Aggregation`) → findings (`FindingsEngine`)
/// → replay its write (`Replayer`, sizes after). The result is the report's input.
public final class Analyzer {
    public struct Options: Sendable {
        /// How many of the costliest calls to keep.
        public var top = 100
        public var biggestKeys = 20
        public var patterns = 30
        /// Turns element counts into estimated server time.
        public var timeModel = TimeModel.defaults
        /// Cost the calls of a file on a second thread while this one reads and replays them,
        /// and decode an RDB snapshot on a second thread while this one loads its keys (by
        /// default when the machine has a second core); the result is the same either way.
        public var costsOnSecondThread = ProcessInfo.processInfo.activeProcessorCount > 1
        /// Calls (or a snapshot's keys) handed from one thread to the other at a time (tests make
        /// it small, so that scripts and transactions straddle batches).
        package var callsPerBatch = 4096
        public init() {}
    }

    package enum Write {
        case none
        case effect(Replayer.Effect)
        /// A write the model has no effect for: its keys become approximate.
        case unmodelled
    }

    package let table: CommandTable
    package let options: Options
    public let replayer = Replayer()
    package var resolver: CallResolver
    package let costModel: CostModel
    package var aggregation: Aggregation
    package let writes: [Write]
    /// Per entry, for captures (see Analyzer+Monitor.swift).
    package let captureWrites: [CaptureWrite]
    /// Per entry: a write that adds elements, whose arguments' bytes are kept on its key when
    /// the time model prices reply bytes.
    package let tracksElementBytes: [Bool]
    /// The time model prices a whole read's reply bytes (`TimeModel.elementBytes`): keys keep
    /// their bytes per element.
    package let pricesReplyBytes: Bool

    package var result: AnalysisResult
    package var sizesBuffer: [KeySize] = []
    /// What is known of the sizes of keys the model does not hold exactly (stage 2).
    package var known = SizeKnowledge()
    /// A capture file analysed with `--sample`: asked for the size of a key that is not in the
    /// model and not known absent, the first time a call's cost needs it.
    public var sizeSource: ((_ key: UnsafeRawBufferPointer, _ database: Int) -> SampledKey?)?
    /// The rules that watch the calls (Findings/); nil: no findings.
    public var findingsEngine: FindingsEngine?
    /// Subscriptions seen in a capture or live session, for PUBLISH's cost; nil for an AOF
    /// (PUBLISH never reaches one).
    package var subscriptions: Subscriptions?
    /// Several nodes analysed together (Analyzer+Cluster.swift): per node and per slot; nil for one input.
    package var cluster: ClusterAggregation?
    /// The node (input) whose calls are being fed, when `cluster` is set.
    package var currentNode = 0
    /// Per node, the idle time before each call of a capture.
    package var idleClocks: [IdleClock] = []
    /// Whether the calls are a capture's (a monitor watched them): set before the calls come,
    /// read by the costing stages (`result.isMonitor` belongs to the reading thread).
    package var costsCapture = false
    /// Per entry: its formula reads more of the model than its keys' sizes (`stage` evaluates
    /// it); it reads a JSON document's length (the findings' evidence).
    package let readsModel: [Bool]
    package let readsDocument: [Bool]
    /// Whether every formula the model must evaluate (`readsModel`) can be: none reads a
    /// wrapper's `nested`, which only the costing stages know. The table is held to it.
    package var stagesEveryFormula: Bool { !zip(readsModel, table.formulas).contains { $0 && $1?.readsNested == true } }
    public init(table: CommandTable, options: Options = Options()) {
        self.table = table
        self.options = options
        self.result = AnalysisResult(input: "")
        resolver = CallResolver(table: table)
        costModel = CostModel(table: table, timeModel: options.timeModel)
        aggregation = Aggregation(table: table, top: options.top)
        writes = table.entries.map { entry in
            if let effect = Replayer.effect(for: entry.name) { return .effect(effect) }
            if entry.isWrite && entry.semantics.write != .keepsSizes { return .unmodelled }
            return .none
        }
        captureWrites = table.entries.map { CaptureWrite($0.semantics) }
        pricesReplyBytes = options.timeModel.elementBytes != nil
        tracksElementBytes = table.entries.map { options.timeModel.elementBytes != nil && $0.semantics.write == .adds }
        readsModel = table.formulas.map { $0?.readsTheModel ?? false }
        readsDocument = table.entries.map { $0.semantics.reads == .document }
    }

    /// Starts the per-command, per-pattern and top-call counts afresh (a MONITOR analysis
    /// after replaying its baseline must not count the baseline's calls).
    package func resetAggregation() {
        aggregation = Aggregation(table: table, top: options.top)
    }

    /// Whether a call of this command changes the model (an effect, or marking its keys).
    package func changesModel(_ index: Int) -> Bool {
        if case .none = writes[index] { return false }
        return true
    }

    /// Applies a call's write to the model.
    package func applyEffect(_ argv: Argv, index: Int, positions: [Int]) {
        switch writes[index] {
        case .none: break
        case .effect(let effect): replayer.run(effect, argv)
        case .unmodelled: replayer.apply(table.entries[index].name, argv, keyPositions: positions)
        }
        if tracksElementBytes[index], positions.count == 1 { noteElementBytes(argv, key: positions[0]) }
    }

    /// A write that adds elements to its key: the mean bytes of its arguments after the key,
    /// kept on the key for the reply bytes of a later whole read (`TimeModel.elementBytes`).
    private func noteElementBytes(_ argv: Argv, key position: Int) {
        let count = argv.count - position - 1
        guard count > 0, let id = replayer.lookup(argv[position]), case .elements = replayer.keyspace.size(of: id) else { return }
        var bytes = 0
        for i in (position + 1)..<argv.count { bytes &+= argv[i].count }
        replayer.keyspace.noteElementBytes(id, bytes: bytes, count: count)
    }

    /// Loads an RDB snapshot into the keyspace and profiles it; returns where it ends.
    /// `dropsExpired`: the file is loaded as a server loads an RDB file (not an AOF's base or
    /// preamble, which rdbLoad reads with RDBFLAGS_AOF_PREAMBLE): keys whose expiry is
    /// before the file's ctime are dropped, as a master drops keys already expired on load.
    package func loadSnapshot(_ file: MappedFile, path: String, dropsExpired: Bool = false) throws(InputError) -> (AnalysisResult.SnapshotProfile, Int) {
        var profile = AnalysisResult.SnapshotProfile(file: path, magic: "", checksumVerified: false)
        var byElements = TopKeys(limit: options.biggestKeys)
        var byBytes = TopKeys(limit: options.biggestKeys)
        var patterns = PatternTable<AnalysisResult.SnapshotProfile.PatternCount>(limit: Aggregation.patternLimit)
        // Per type and per encoding: a few names, so a short list searched from the last one
        // found (keys of one type come in runs) rather than three String-keyed dictionary
        // updates per key.
        var types = NameCounts<AnalysisResult.SnapshotProfile.TypeStats>(zero: .init())
        var encodings = NameCounts<Int>(zero: 0)
        var buffer: [UInt8] = []
        let keyspace = replayer.keyspace
        var released = 0
        let release: (Int) -> Void = { offset in
            // As for AOFs: pages already decoded go back, the resident set stays the model's.
            if offset - released > 4 << 20 {
                file.release(upTo: offset)
                released = offset
            }
        }
        // Decoded on a second thread, loaded on this one, which owns the keyspace.
        let summary = try SnapshotPipeline.read(file.bytes, file: path, threaded: options.costsOnSecondThread, keysPerBatch: options.callsPerBatch,
                                                progress: release) { (key) throws(InputError) -> Void in
            // Redis skips empty collections when it loads a snapshot (rdbLoadObject's
            // "empty keys skipped"); an empty stream is a valid key, and so is a module's
            // value with a count of 0 (a time series without samples).
            if key.value.size == .elements(0), key.value.typeName != "stream", key.encoding != "module" {
                profile.emptyKeysSkipped += 1
                return
            }
            // The server compares with its clock at load; the file's ctime is the latest
            // moment known to be before any load.
            if dropsExpired, key.expireAt != 0, let createdAt = key.createdAt, key.expireAt < createdAt {
                profile.expiredOnLoad += 1
                return
            }
            guard let id = keyspace.createUnique(key.name, in: key.database, value: key.value) else {
                throw InputError(file: path, offset: key.offset, detail: "duplicate key \"\(InputError.excerpt(key.name))\" in database \(key.database)")
            }
            if key.expireAt != 0 {
                keyspace.setExpireAt(id, key.expireAt)
                profile.expiringKeys += 1
            }
            // A value whose size the decoder could not read; a known size is exact as loaded.
            if case .opaque(_, nil, _) = key.value { keyspace[id].approximate = true }
            // Its bytes per element as serialized (length prefixes, a listpack's entry headers
            // and LZF compression make it approximate), for the reply bytes of a whole read.
            if pricesReplyBytes, case .elements(let n) = key.value.size, n > 0, let arguments = key.value.argumentsPerElement {
                let (count, overflow) = n.multipliedReportingOverflow(by: arguments)
                if !overflow { keyspace.noteElementBytes(id, bytes: key.serializedBytes, count: count) }
            }
            profile.keys += 1
            let type = types.slot(key.value.typeName)
            types.stats[type].keys += 1
            types.stats[type].bytes += key.serializedBytes
            if case .elements(let n) = key.value.size {
                types.stats[type].elements += n
                byElements.consider(db: key.database, id: id, size: n)
            }
            encodings.stats[encodings.slot(key.encoding)] += 1
            byBytes.consider(db: key.database, id: id, size: key.serializedBytes)
            // Folded into a buffer as long as the longest name so far: no array work per key.
            if buffer.count < key.name.count { buffer = [UInt8](repeating: 0, count: max(64, key.name.count)) }
            let p = buffer.withUnsafeMutableBufferPointer { room in
                let pattern = UnsafeMutableBufferPointer(rebasing: room[0..<KeyPattern.fold(key.name, room: room)])
                return patterns.entry(UnsafeRawBufferPointer(pattern)) { .init(pattern: $0) }
            }
            patterns.stats[p].keys += 1
            patterns.stats[p].bytes += key.serializedBytes
        }
        profile.byType = types.dictionary
        profile.byEncoding = encodings.dictionary
        profile.magic = summary.magic
        profile.checksumVerified = summary.checksumVerified
        profile.aux = summary.aux
        func big(_ item: (db: Int, id: Int32, size: Int), bytes: Int?) -> AnalysisResult.SnapshotProfile.BigKey {
            let value = keyspace[item.id].value
            return .init(database: item.db, name: keyspace.nameBytes(of: item.id), type: value.typeName,
                         size: value.size, bytes: bytes ?? 0)
        }
        profile.biggestByElements = byElements.sorted.map { big($0, bytes: nil) }
        profile.biggestByBytes = byBytes.sorted.map { big($0, bytes: $0.size) }
        profile.patterns = firstSorted(options.patterns, of: patterns.stats) { ($0.bytes, $0.keys) > ($1.bytes, $1.keys) }
        return (profile, summary.endOffset)
    }

    /// A line or call that cannot be analysed (cut, damaged): counted and reported, never
    /// costed or replayed.
    package func countMalformed(at location: String, _ reason: String) {
        result.malformedLines += 1
        if result.firstMalformed.count < 5 { result.firstMalformed.append((location, reason)) }
    }

    /// Stage 2: the size each key of the call had just before it ran, into `sizesBuffer`: the
    /// model's, a live sample waiting for the stream, the `--sample` server's, or unknown.
    @inline(__always)
    private func sizesBefore(_ argv: Argv, _ resolved: CallResolver.Resolved) {
        sizesBuffer.removeFewKeepingCapacity()
        let database = replayer.database
        for position in resolved.keyPositions {
            let id = replayer.lookup(argv[position])
            if id == nil || replayer.keyspace[id!].approximate, let sampled = known.sampledSize(argv[position], database: database) {
                sizesBuffer.append(sampled)
            } else if let id {
                sizesBuffer.append(replayer.keyspace.size(of: id))
            } else {
                var size = known.sizeOfAbsentKey(argv[position], database: database)
                if size == .unknown, let sizeSource, table.needs[resolved.index].contains(.keySizes) {
                    size = adopt(sizeSource(argv[position], database), key: argv[position])
                }
                sizesBuffer.append(size)
            }
        }
    }

    /// Stage 2, where the model is: the sizes `call`'s keys had just before it ran, and what
    /// its cost reads of the model beyond them, into `batch` for the costing stages
    /// (`account`). The driver then replays its write.
    @inline(__always)
    package func stage(_ argv: Argv, _ resolved: CallResolver.Resolved, _ call: inout StagedCall, into batch: CallBatch) {
        sizesBefore(argv, resolved)
        let index = resolved.index
        call.index = index
        call.keyStart = batch.keyPositions.count
        call.keyCount = resolved.keyPositions.count
        for position in resolved.keyPositions { batch.keyPositions.append(position) }
        for size in sizesBuffer { batch.sizes.append(size) }
        if readsModel[index] {
            // A database's size, subscriptions, a list's elements: as they are now. (No such
            // formula reads a wrapper's `nested`: a test holds the table to it.)
            let input = ModelCallInput(analyzer: self, argv: argv, keyPositions: resolved.keyPositions, nestedCost: nil)
            batch.modelCosts.append(costModel.formulaCost(input, index: index))
            call.modelCost = batch.modelCosts.count - 1
        }
        if readsDocument[index] { call.documentBytes = documentBytes(argv, resolved) ?? -1 }
        if costModel.repliesElements[index], let position = resolved.keyPositions.first, let id = replayer.lookup(argv[position]),
           let bytes = replayer.keyspace.elementBytes(of: id) {
            call.elementBytes = Float(bytes)
        }
    }

    /// Stages 3 to 5 for one staged call, on the thread that owns them: its cost and time
    /// (`CostModel`) from the sizes its keys had (`sizes`, in `resolved.keyPositions` order),
    /// the aggregates, and the rules that watch it. A wrapper (EXEC, EVAL, FCALL) is costed
    /// with the calls it ran. `modelCost`: its formula's cost where it reads the model
    /// (`stage` evaluated it); `node`: the input it came from.
    @discardableResult
    package func account(_ call: Call, _ resolved: CallResolver.Resolved, sizes: [KeySize], modelCost: Cost? = nil,
                         documentBytes: Int? = nil, elementBytes: Double? = nil, node: Int = 0, nested: NestedCalls? = nil) -> CallCost {
        let argv = call.argv
        let index = resolved.index
        let input = RawCallInput(argv: argv, keyPositions: resolved.keyPositions, sizes: sizes, nestedCost: nested?.cost, firstKeyElementBytes: elementBytes)
        // A capture's timestamps say how long the server was idle before the call; a monitor
        // watched it, so a wrapper's calls carry the feed (see TimeModel).
        var idleFactor = 1.0
        if costsCapture, !costModel.timeModel.idle.isEmpty, let at = call.microseconds {
            while idleClocks.count <= node { idleClocks.append(IdleClock()) }
            if let position = idleClocks[node].position(at: at, entry: index, inWrapper: call.context != .topLevel) {
                idleFactor = costModel.timeModel.idleFactor(position)
            }
        }
        let cost = costModel.cost(input, index: index, nested: nested, idleFactor: idleFactor, watched: costsCapture, formulaCost: modelCost)
        aggregation.add(call, resolved, sizes: sizes, cost: cost)
        if let nested, cost.cost.value != nil { aggregation.addNested(nested.inner, wrapper: index) }
        if cluster != nil { cluster!.account(node: node, index: index, argv, positions: resolved.keyPositions, cost: cost, table: table) }
        if let engine = findingsEngine, engine.watches(index) {
            engine.observe(ObservedCall(
                index: index, command: table.entries[index].name, semantics: table.entries[index].semantics,
                argv: argv, positions: resolved.keyPositions, sizes: sizes, cost: cost.cost,
                estimatedMicroseconds: cost.microseconds,
                documentBytes: documentBytes,
                database: call.database, microseconds: call.microseconds, client: call.client,
                inTransaction: call.context == .transaction, inScript: call.context == .script,
                file: call.origin.file, offset: call.origin.position, isCapture: costsCapture))
        }
        return cost
    }

    /// The serialized length of the JSON document at the call's first key, when the model has it.
    private func documentBytes(_ argv: Argv, _ resolved: CallResolver.Resolved) -> Int? {
        guard let position = resolved.keyPositions.first, let id = replayer.lookup(argv[position]),
              case .json(let document) = replayer.keyspace[id].value else { return nil }
        return document.bytes
    }

    package func finish() {
        aggregation.finish(into: &result, patterns: options.patterns)
        result.unmodelledWrites = replayer.unmodelledWrites
        let keyspace = replayer.keyspace
        var biggest = TopKeys(limit: options.biggestKeys)
        for db in keyspace.databaseNumbers {
            result.keysPerDatabase[db] = keyspace.keyCount(in: db)
            keyspace.forEachKey(in: db) { id in
                if keyspace[id].approximate { result.approximateKeys += 1 }
                // Collections rank by elements; strings (bytes) are not collections.
                guard case .elements(let n) = keyspace.size(of: id) else { return }
                biggest.consider(db: db, id: id, size: n)
            }
        }
        result.biggestKeys = biggest.sorted.map { item in
            let record = keyspace[item.id]
            return AnalysisResult.BigKey(database: item.db, name: keyspace.nameBytes(of: item.id), type: record.value.typeName,
                                         size: record.value.size, approximate: record.approximate)
        }
        // The keys costliest in time, with their size at the end: the model's, none when
        // known absent, else unknown.
        for i in result.bigHotKeys.indices {
            let key = result.bigHotKeys[i]
            if let id = keyspace.find(key.name, in: key.database) {
                result.bigHotKeys[i].size = keyspace[id].approximate ? .unknown : keyspace.size(of: id)
            } else {
                result.bigHotKeys[i].size = key.name.withUnsafeBytes { known.sizeOfAbsentKey($0, database: key.database) }
            }
        }
        result.modelBytes = keyspace.memoryBytes
        if let engine = findingsEngine {
            result.findings = engine.findings(in: result)
            result.minimumVersions = VersionRule.minimumVersions(result, table)
        }
        result.timeModelSource = options.timeModel.source
        result.cluster = cluster?.summary(table: table, hotKeys: aggregation.hotKeys)
    }

    /// A call whose command the table does not know: counted (its cost unknown), for its node too.
    package func countUnknownCommand(_ argv: Argv, node: Int) {
        aggregation.addUnknownCommand(argv)
        if cluster != nil { cluster!.unknownCommand(node: node, argv) }
    }

}

/// Figures per name, for the handful of names a snapshot's keys have (types, encodings).
package struct NameCounts<Stats> {
    private var names: [String] = []
    package var stats: [Stats] = []
    private let zero: Stats
    private var last = 0

    package init(zero: Stats) { self.zero = zero }

    /// The index of `name`'s figures, made the first time.
    @inline(__always)
    package mutating func slot(_ name: String) -> Int {
        if last < names.count, names[last] == name { return last }
        if let found = names.firstIndex(of: name) {
            last = found
        } else {
            names.append(name)
            stats.append(zero)
            last = names.count - 1
        }
        return last
    }

    package var dictionary: [String: Stats] { Dictionary(uniqueKeysWithValues: zip(names, stats)) }
}

package struct TopKeys {
    package let limit: Int
    package private(set) var items: [(db: Int, id: Int32, size: Int)] = []
    package init(limit: Int) { self.limit = limit }

    /// The smallest size kept once full, so that most keys are turned away with one comparison.
    private var threshold = Int.min

    package mutating func consider(db: Int, id: Int32, size: Int) {
        if items.count < limit {
            items.append((db, id, size))
            if items.count == limit { threshold = smallestSize }
            return
        }
        guard size > threshold, let smallest = items.indices.min(by: { items[$0].size < items[$1].size }) else { return }
        items[smallest] = (db, id, size)
        threshold = smallestSize
    }

    private var smallestSize: Int {
        var smallest = Int.max
        for item in items where item.size < smallest { smallest = item.size }
        return smallest
    }

    package var sorted: [(db: Int, id: Int32, size: Int)] { items.sorted { $0.size > $1.size } }
}

/// A formula's input whose arguments are an argv's bytes (never turned into text).
package protocol ArgvFormulaInput: FormulaInput {
    var argv: Argv { get }
}

extension ArgvFormulaInput {
    package var argumentCount: Int { argv.count }
    package func integerArgument(at index: Int) -> Int? { argv.int(index).map(Int.init) }
    package func argumentLength(at index: Int) -> Int? { index >= 0 && index < argv.count ? argv[index].count : nil }
    package func argument(at index: Int, isToken token: String) -> Bool { argv.equalsToken(index, token) }
}

/// The call being staged as a formula that reads the model sees it, read from the analyzer's
/// state: the sizes just looked up, the replay model, the subscriptions. It holds the analyzer
/// unretained, so that handing it to a formula costs no reference counting per call (it lives
/// only inside `Analyzer.stage`).
package struct ModelCallInput: ArgvFormulaInput {
    package unowned(unsafe) let analyzer: Analyzer
    package let argv: Argv
    package let keyPositions: [Int]
    package let nestedCost: Cost?

    package var databaseSize: Int? {
        analyzer.known.databaseSize(analyzer.replayer.keyspace, database: analyzer.replayer.database)
    }
    package var allDatabasesSize: Int? {
        analyzer.known.allDatabasesSize(analyzer.replayer.keyspace)
    }
    package func subscribers(ofChannelAt index: Int, shard: Bool) -> Int? {
        guard index < argv.count else { return nil }
        return analyzer.subscriptions?.count(argv[index], shard ? .shard : .channel)
    }
    package var patternSubscriptions: Int? { analyzer.subscriptions?.patterns }
    package func listWalk(key: Int, toArgument argument: Int) -> Int? {
        listWalkInModel(analyzer.replayer, argv, keyPositions, key: key, toArgument: argument)
    }
    package func keySize(_ key: Int) -> KeySize { key < analyzer.sizesBuffer.count ? analyzer.sizesBuffer[key] : .unknown }
}

/// Elements walked from the head of list key `key` to the first element equal to argument
/// `argument`, when the model holds the list's elements exactly.
package func listWalkInModel(_ replayer: Replayer, _ argv: Argv, _ keyPositions: [Int], key: Int, toArgument argument: Int) -> Int? {
    guard key >= 0, key < keyPositions.count, argument < argv.count,
          let id = replayer.lookup(argv[keyPositions[key]]), !replayer.keyspace[id].approximate,
          case .list(let list) = replayer.keyspace[id].value else { return nil }
    let target = argv.hash(argument)
    for i in 0..<list.count where list[i] == target { return i + 1 }
    return list.count
}

/// A call read from bytes with the sizes of its keys given, as a formula sees it: a staged
/// call on the costing thread (what else of the model its formula reads was evaluated where
/// the model is, `Analyzer.stage`), the audit's logged calls, tests.
package struct RawCallInput: ArgvFormulaInput {
    package init(argv: Argv, keyPositions: [Int], sizes: [KeySize], databaseSize: Int? = nil, allDatabasesSize: Int? = nil, nestedCost: Cost? = nil,
                 firstKeyElementBytes: Double? = nil) {
        self.argv = argv
        self.keyPositions = keyPositions
        self.sizes = sizes
        self.databaseSize = databaseSize
        self.allDatabasesSize = allDatabasesSize
        self.nestedCost = nestedCost
        self.firstKeyElementBytes = firstKeyElementBytes
    }
    package let argv: Argv
    package let keyPositions: [Int]
    package let sizes: [KeySize]
    package let databaseSize: Int?
    package let allDatabasesSize: Int?
    package let nestedCost: Cost?
    /// Its first key's bytes per element, where the model had them (`Analyzer.stage`).
    package let firstKeyElementBytes: Double?

    @inline(__always)
    package func keySize(_ key: Int) -> KeySize { key < sizes.count ? sizes[key] : .unknown }
    package func keyElementBytes(_ key: Int) -> Double? { key == 0 ? firstKeyElementBytes : nil }
}
