import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// The analysis core shared by every source (AOF, MONITOR): resolves each call to its table
/// entry, costs it with the sizes its keys had just before it ran, aggregates, then applies
/// its write to the replay model. The drivers live in Analyzer+AOF.swift and
/// Analyzer+Monitor.swift.
public final class Analyzer {
    public struct Options: Sendable {
        /// How many of the costliest calls to keep.
        public var top = 100
        public var biggestKeys = 20
        public var patterns = 30
        /// Turns element counts into estimated server time.
        public var timeModel = TimeModel.defaults
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
    /// Table index and write effect per spelling of a command name (and subcommand).
    package var resolved = IdentityMap()
    package let writes: [Write]
    /// Per entry, for captures (see Analyzer+Monitor.swift).
    package let captureWrites: [CaptureWrite]
    /// Per entry, the time model's µs per element of its class, and whether its N counts as
    /// elements touched (bytes of a script compiled do not): looked up once, not per call.
    package let microsecondsPerElement: [Double]
    package let countsElements: [Bool]

    // Aggregation state.
    /// Per table index; `calls == 0` means the command was not seen.
    package var commandStats: [AnalysisResult.CommandStats] = []
    package var unknownCommands: [String: Int] = [:]
    package var patternIndex = IdentityMap()
    package var patternStats: [AnalysisResult.PatternStats] = []
    package var patternBuffer: [UInt8] = []
    package var topCalls = TopCalls(limit: 100)
    package var result: AnalysisResult
    package var time: Int64?
    package var inTransaction = false
    package var sizesBuffer: [KeySize] = []
    /// MONITOR without a baseline: a key absent from the model may have existed before the
    /// capture, so its size is unknown, unless a deletion or a flush proved it absent.
    package var absentKeysAreKnown = true
    package var knownAbsent: Set<UInt64> = []
    package var flushedDatabases: Set<Int> = []
    /// A live session's samples not yet reached in the stream (see Analyzer+Sampling.swift).
    package var pendingSamples: [UInt64: SampledKey] = [:]
    package var sampledDatabaseSizes: [Int: Int] = [:]
    package var sampledAllKeys: Int?
    /// A capture file analysed with `--sample`: asked for the size of a key that is not in the
    /// model and not known absent, the first time a call's cost needs it.
    public var sizeSource: ((_ key: UnsafeRawBufferPointer, _ database: Int) -> SampledKey?)?
    /// The rules that watch the calls (Findings/); nil: no findings.
    public var findingsEngine: FindingsEngine?
    /// Subscriptions seen in a capture or live session, for PUBLISH's cost; nil for an AOF
    /// (PUBLISH never reaches one).
    package var subscriptions: Subscriptions?
    /// Set by a MONITOR session for the call being costed.
    package var currentClient: String?
    package var currentMicroseconds: Int64?
    package var inScript = false
    /// Cost per second of the input's clock (AOF `#TS`, capture timestamps), for the chart.
    package var costBySecond: [Int64: Double] = [:]
    package var currentSecond: Int64 = .min
    package var currentSecondCost = 0.0
    /// MONITOR: calls per key (the first key of each call), for the first `hotKeyLimit` keys.
    package var trackHotKeys = false
    package var hotKeyIndex = IdentityMap()
    package var hotKeys: [AnalysisResult.HotKey] = []
    package static let hotKeyLimit = 500_000
    /// Distinct key patterns followed one by one; later ones share an entry.
    package static let patternLimit = 100_000

    public init(table: CommandTable, options: Options = Options()) {
        self.table = table
        self.options = options
        self.result = AnalysisResult(input: "")
        writes = table.entries.map { entry in
            if let effect = Replayer.effect(for: entry.name) { return .effect(effect) }
            if entry.isWrite && entry.semantics.write != .keepsSizes { return .unmodelled }
            return .none
        }
        captureWrites = table.entries.map { CaptureWrite($0.semantics) }
        let classes = table.entries.map { TimeModel.elementClass(ofGroup: $0.group) }
        microsecondsPerElement = classes.map { options.timeModel.microseconds(calls: 0, elements: 1, elementClass: $0) }
        countsElements = classes.map(TimeModel.countsElements)
        resetAggregation()
    }

    /// Starts the per-command, per-pattern and top-call counts afresh (a MONITOR analysis
    /// after replaying its baseline must not count the baseline's calls).
    package func resetAggregation() {
        commandStats = table.entries.map { AnalysisResult.CommandStats(name: $0.name, isWrite: $0.isWrite) }
        patternIndex = IdentityMap()
        patternStats = []
        topCalls = TopCalls(limit: options.top)
        unknownCommands = [:]
        costBySecond = [:]
        currentSecond = .min
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
    }

    /// Loads an RDB snapshot into the keyspace and profiles it; returns where it ends.
    package func loadSnapshot(_ file: MappedFile, path: String) throws(InputError) -> (AnalysisResult.SnapshotProfile, Int) {
        var profile = AnalysisResult.SnapshotProfile(file: path, magic: "", checksumVerified: false)
        var byElements = TopKeys(limit: options.biggestKeys)
        var byBytes = TopKeys(limit: options.biggestKeys)
        var patterns: [UInt64: Int] = [:]
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
        let summary = try RDBReader.read(file.bytes, file: path, progress: release) { (key) throws(InputError) -> Void in
            // Redis skips empty collections when it loads a snapshot (rdbLoadObject's
            // "empty keys skipped"); an empty stream is a valid key.
            if key.value.size == .elements(0), key.value.typeName != "stream" {
                profile.emptyKeysSkipped += 1
                return
            }
            guard let id = keyspace.createUnique(key.name, in: key.database, value: key.value) else {
                throw InputError(file: path, offset: key.offset, detail: "duplicate key \"\(InputError.excerpt(key.name))\" in database \(key.database)")
            }
            if key.expireAt != 0 {
                keyspace.setExpireAt(id, key.expireAt)
                profile.expiringKeys += 1
            }
            if case .opaque = key.value { keyspace[id].approximate = true }
            profile.keys += 1
            let type = key.value.typeName
            profile.byType[type, default: .init()].keys += 1
            profile.byType[type, default: .init()].bytes += key.serializedBytes
            if case .elements(let n) = key.value.size {
                profile.byType[type, default: .init()].elements += n
                byElements.consider(db: key.database, id: id, size: n)
            }
            profile.byEncoding[key.encoding, default: 0] += 1
            byBytes.consider(db: key.database, id: id, size: key.serializedBytes)
            KeyPattern.fold(key.name, into: &buffer)
            var patternHash = buffer.withUnsafeBytes { elementHash($0) }
            if patterns[patternHash] == nil, profile.patterns.count >= Self.patternLimit {
                patternHash = 0
                buffer = Array("(other patterns)".utf8)
            }
            let p = intern(patternHash, in: &patterns, &profile.patterns) { .init(pattern: buffer) }
            profile.patterns[p].keys += 1
            profile.patterns[p].bytes += key.serializedBytes
        }
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
        profile.patterns = Array(profile.patterns.sorted { ($0.bytes, $0.keys) > ($1.bytes, $1.keys) }.prefix(options.patterns))
        return (profile, summary.endOffset)
    }

    /// The table index of a call's command, cached per spelling.
    @inline(__always)
    package func resolve(_ argv: Argv) -> Int? {
        let nameHash = elementHash(argv[0])
        var cacheKey = nameHash
        if argv.count > 1, let plain = resolved[nameHash], plain < 0 {
            // A container (CLIENT, XGROUP…): the subcommand decides.
            cacheKey = nameHash ^ (elementHash(argv[1]) &* 0x9E37_79B9_7F4A_7C15)
        }
        if let cached = resolved[cacheKey] { return cached >= 0 ? cached : (cached == -1 ? nil : resolveSlow(argv, cacheKey)) }
        return resolveSlow(argv, cacheKey)
    }

    package func resolveSlow(_ argv: Argv, _ cacheKey: UInt64) -> Int? {
        let name = String(decoding: argv[0], as: UTF8.self)
        let nameHash = elementHash(argv[0])
        if table.containers.contains(name.uppercased()) {
            // Mark the name as a container (-2) so the next lookup hashes the subcommand too.
            resolved[nameHash] = -2
            let sub = argv.count > 1 ? String(decoding: argv[1], as: UTF8.self) : nil
            let index = table.index(forCommand: name, subcommand: sub)
            let key = argv.count > 1 ? nameHash ^ (elementHash(argv[1]) &* 0x9E37_79B9_7F4A_7C15) : nameHash
            if argv.count > 1 { resolved[key] = index ?? -1 }
            return index
        }
        let index = table.index(forCommand: name, subcommand: nil)
        resolved[cacheKey] = index ?? -1
        return index
    }

    /// A line or call that cannot be analysed (cut, damaged): counted and reported, never
    /// costed or replayed.
    package func countMalformed(at location: String, _ reason: String) {
        result.malformedLines += 1
        if result.firstMalformed.count < 5 { result.firstMalformed.append((location, reason)) }
    }

    package func wrongArity(_ index: Int, _ argv: Argv) -> String {
        let arity = table.traits[index].arity ?? 0
        return "\(table.entries[index].name) with \(argv.count - 1) arguments (the server takes \(arity < 0 ? "at least \(-arity - 1)" : "exactly \(arity - 1)"))"
    }

    /// A call whose command the table does not know: counted, with an unknown cost.
    package func countUnknownCommand(_ argv: Argv) {
        result.calls += 1
        result.unknownCostCalls += 1
        unknownCommands[KeyText.commandName(argv.bytes(0)), default: 0] += 1
    }

    package func sizeOfAbsentKey(_ key: UnsafeRawBufferPointer, database: Int) -> KeySize {
        if absentKeysAreKnown || flushedDatabases.contains(database)
            || knownAbsent.contains(keyIdentity(key, database: database)) { return .missing }
        return .unknown
    }

    /// What the calls a wrapper ran (MULTI…EXEC, a script's calls) added up to, each costed
    /// and estimated once when it ran.
    package struct NestedCalls {
        package var elements = 0.0
        package var microseconds = 0.0
        package var unknown = false
        package var upperBound = false

        package mutating func add(_ call: CallCost) {
            if let v = call.cost.value, let us = call.microseconds {
                elements += v
                microseconds += us
            } else {
                unknown = true
            }
            if call.cost.isUpperBound { upperBound = true }
        }

        package func cost(unknownReason: String) -> Cost {
            unknown ? .unknown(reason: unknownReason) : upperBound ? .atMost(elements) : .exact(elements)
        }
    }

    /// One call's cost and its estimated server time, computed once and used everywhere
    /// (totals, tables, findings). A wrapper's are inclusive of what it ran, as INFO
    /// commandstats counts it; `ownElements`/`ownMicroseconds` are its own part, which totals,
    /// patterns, clients and the timeline add (its calls are counted there already).
    package struct CallCost {
        package var cost: Cost
        package var microseconds: Double?
        package var ownElements: Double?
        package var ownMicroseconds: Double?
    }

    @discardableResult
    package func cost(_ argv: Argv, index: Int, positions: [Int], file: String, offset: Int,
              nested: NestedCalls? = nil, nestedUnknownReason: String = "") -> CallCost {
        sizesBuffer.removeAll(keepingCapacity: true)
        for position in positions {
            let id = replayer.lookup(argv[position])
            if !pendingSamples.isEmpty, id == nil || replayer.keyspace[id!].approximate,
               let sampled = sampledSize(argv[position]) {
                sizesBuffer.append(sampled)
            } else if let id {
                sizesBuffer.append(replayer.keyspace.size(of: id))
            } else {
                var size = sizeOfAbsentKey(argv[position], database: replayer.database)
                if size == .unknown, let sizeSource, table.needs[index].contains(.keySizes) {
                    size = adopt(sizeSource(argv[position], replayer.database), key: argv[position])
                }
                sizesBuffer.append(size)
            }
        }
        let input = RawCallInput(
            argv: argv, keyPositions: positions, sizes: sizesBuffer,
            databaseSize: absentKeysAreKnown ? replayer.keyspace.keyCount(in: replayer.database) : sampledDatabaseSizes[replayer.database],
            allDatabasesSize: absentKeysAreKnown ? replayer.keyspace.totalKeyCount : sampledAllKeys,
            nestedCost: nested.map { $0.cost(unknownReason: nestedUnknownReason) }, replayer: replayer,
            subscriptions: table.needs[index].contains(.subscribers) ? subscriptions : nil)
        let cost = table.formulas[index]?.evaluate(input) ?? .unknown(reason: "no formula")
        if cost.value == nil, sizesBuffer.contains(.unknown) { result.callsOnKeysOfUnknownSize += 1 }
        result.calls += 1
        commandStats[index].calls += 1
        var call = CallCost(cost: cost)
        if let value = cost.value {
            let nestedElements = nested?.elements ?? 0
            let own = max(0, value - nestedElements)
            let ownMicroseconds = options.timeModel.perCall + own * microsecondsPerElement[index]
            call.microseconds = ownMicroseconds + (nested?.microseconds ?? 0)
            // Compiling a script is not a walk over data: it is priced in time only.
            call.ownElements = countsElements[index] ? own : 0
            call.ownMicroseconds = ownMicroseconds
            commandStats[index].cost += value
            commandStats[index].nestedCost += nestedElements
            commandStats[index].elementsInTotals += call.ownElements!
            commandStats[index].maxCost = max(commandStats[index].maxCost, value)
            commandStats[index].estimatedMicroseconds += call.microseconds!
            result.totalCost += call.ownElements!
            result.estimatedMicroseconds += ownMicroseconds
            if cost.isUpperBound { commandStats[index].upperBoundCalls += 1 }
        } else {
            commandStats[index].unknownCalls += 1
            result.unknownCostCalls += 1
        }
        let value = call.ownElements

        if trackHotKeys, let first = positions.first {
            let identity = keyIdentity(argv[first], database: replayer.database)
            var k = hotKeyIndex[identity]
            if k == nil, hotKeys.count < Self.hotKeyLimit {
                k = intern(identity, in: &hotKeyIndex, &hotKeys) { .init(database: replayer.database, name: argv.bytes(first)) }
            } else if k == nil {
                result.hotKeysCapped = true
            }
            if let k {
                hotKeys[k].calls += 1
                if table.traits[index].isWrite { hotKeys[k].writes += 1 } else if table.traits[index].isRead { hotKeys[k].reads += 1 }
            }
        }

        // Cost by the pattern of the first key.
        if let first = positions.first {
            KeyPattern.fold(argv[first], into: &patternBuffer)
        } else {
            patternBuffer.removeAll(keepingCapacity: true)
            patternBuffer.append(contentsOf: "(no key)".utf8)
        }
        let patternHash = patternBuffer.withUnsafeBytes { elementHash($0) }
        let p: Int
        if let known = patternIndex[patternHash] {
            p = known
        } else if patternStats.count < Self.patternLimit {
            p = intern(patternHash, in: &patternIndex, &patternStats) { AnalysisResult.PatternStats(pattern: patternBuffer) }
        } else {
            // Keys whose names do not fold (random words) would make one pattern per key.
            p = intern(0, in: &patternIndex, &patternStats) { AnalysisResult.PatternStats(pattern: Array("(other patterns)".utf8)) }
        }
        patternStats[p].calls += 1
        if table.traits[index].isWrite { patternStats[p].writes += 1 } else if table.traits[index].isRead { patternStats[p].reads += 1 }
        if let value { patternStats[p].cost += value } else { patternStats[p].unknownCalls += 1 }

        if let time, let value {
            if time == currentSecond {
                currentSecondCost += value
            } else {
                flushSecond()
                currentSecond = time
                currentSecondCost = value
            }
        }
        if let engine = findingsEngine, engine.watches(index) {
            engine.observe(ObservedCall(
                index: index, command: table.entries[index].name, semantics: table.entries[index].semantics,
                argv: argv, positions: positions, sizes: sizesBuffer, cost: cost,
                estimatedMicroseconds: call.microseconds,
                database: replayer.database, microseconds: currentMicroseconds ?? time.map { $0 * 1_000_000 }, client: currentClient,
                inTransaction: inTransaction, inScript: inScript,
                file: file, offset: offset, isCapture: result.isMonitor))
        }
        if let microseconds = call.microseconds, topCalls.admits(microseconds) {
            topCalls.insert(AnalysisResult.Call(
                estimatedMicroseconds: microseconds, command: table.entries[index].name, keys: positions.map { argv.bytes($0) },
                sizes: sizesBuffer, cost: cost, nestedCost: nested?.elements, time: time, file: file, offset: offset,
                inTransaction: inTransaction, database: replayer.database), microseconds: microseconds)
        }
        return call
    }

    private func flushSecond() {
        guard currentSecond != .min, costBySecond.count < 1_000_000 || costBySecond[currentSecond] != nil else { return }
        costBySecond[currentSecond, default: 0] += currentSecondCost
    }

    package func finish() {
        flushSecond()
        currentSecond = .min
        result.costOverTime = costBySecond.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        result.commands = commandStats.filter { $0.calls > 0 }.sorted { ($0.cost, $0.calls, $1.name) > ($1.cost, $1.calls, $0.name) }
        result.unknownCommands = unknownCommands
        result.topCalls = topCalls.sorted
        result.patterns = Array(patternStats.sorted { ($0.cost, $0.calls) > ($1.cost, $1.calls) }.prefix(options.patterns))
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
        result.modelBytes = keyspace.memoryBytes
        if let engine = findingsEngine {
            result.findings = engine.findings(in: result)
            result.minimumVersions = VersionRule.minimumVersions(result, table)
        }
        result.timeModelSource = options.timeModel.source
    }

}

/// The costliest calls by estimated server time, kept in a min-heap so each call costs O(1)
/// unless it is among them. Times are ranked in tenths of a microsecond: calls whose times
/// round the same are ties, and the first one seen stays (a growing sorted set's ZADDs,
/// log(n) apart by fractions, would otherwise each push out the one before).
package struct TopCalls {
    package let limit: Int
    private var heap: [(cost: Double, sequence: Int, call: AnalysisResult.Call)] = []
    private var sequence = 0

    package init(limit: Int) { self.limit = limit }

    package func admits(_ microseconds: Double) -> Bool { limit > 0 && (heap.count < limit || Self.rank(microseconds) > heap[0].cost) }

    package static func rank(_ microseconds: Double) -> Double { (microseconds * 10).rounded() }

    package mutating func insert(_ call: AnalysisResult.Call, microseconds: Double) {
        sequence += 1
        let item = (Self.rank(microseconds), sequence, call)
        if heap.count < limit {
            heap.append(item)
            var i = heap.count - 1
            while i > 0, Self.less(heap[i], heap[(i - 1) / 2]) {
                heap.swapAt(i, (i - 1) / 2)
                i = (i - 1) / 2
            }
        } else {
            heap[0] = item
            var i = 0
            while true {
                let l = 2 * i + 1, r = 2 * i + 2
                var smallest = i
                if l < heap.count, Self.less(heap[l], heap[smallest]) { smallest = l }
                if r < heap.count, Self.less(heap[r], heap[smallest]) { smallest = r }
                if smallest == i { break }
                heap.swapAt(i, smallest)
                i = smallest
            }
        }
    }

    /// Lower cost first; among equal costs, the later call is "smaller" so the first one seen stays.
    private static func less(_ a: (cost: Double, sequence: Int, call: AnalysisResult.Call), _ b: (cost: Double, sequence: Int, call: AnalysisResult.Call)) -> Bool {
        a.cost < b.cost || (a.cost == b.cost && a.sequence > b.sequence)
    }

    /// Costliest first; ties in the order they happened.
    package var sorted: [AnalysisResult.Call] {
        heap.sorted { $0.cost > $1.cost || ($0.cost == $1.cost && $0.sequence < $1.sequence) }.map(\.call)
    }
}

package struct TopKeys {
    package let limit: Int
    package private(set) var items: [(db: Int, id: Int32, size: Int)] = []
    package init(limit: Int) { self.limit = limit }

    package mutating func consider(db: Int, id: Int32, size: Int) {
        if items.count < limit {
            items.append((db, id, size))
            return
        }
        guard let smallest = items.indices.min(by: { items[$0].size < items[$1].size }), items[smallest].size < size else { return }
        items[smallest] = (db, id, size)
    }

    package var sorted: [(db: Int, id: Int32, size: Int)] { items.sorted { $0.size > $1.size } }
}

/// A call read from bytes, as a formula sees it.
package struct RawCallInput: FormulaInput {
    package init(argv: Argv, keyPositions: [Int], sizes: [KeySize], databaseSize: Int? = nil, allDatabasesSize: Int? = nil, nestedCost: Cost? = nil, replayer: Replayer? = nil, subscriptions: Subscriptions? = nil) {
        self.argv = argv
        self.keyPositions = keyPositions
        self.sizes = sizes
        self.databaseSize = databaseSize
        self.allDatabasesSize = allDatabasesSize
        self.nestedCost = nestedCost
        self.replayer = replayer
        self.subscriptions = subscriptions
    }
    package let argv: Argv
    package let keyPositions: [Int]
    package let sizes: [KeySize]
    package let databaseSize: Int?
    package let allDatabasesSize: Int?
    package var nestedCost: Cost? = nil
    /// The replay model, for what a formula reads from a list's elements.
    package var replayer: Replayer? = nil
    /// Who is subscribed to what (captures and live sessions).
    package var subscriptions: Subscriptions? = nil

    package func subscribers(ofChannelAt index: Int, shard: Bool) -> Int? {
        guard index < argv.count else { return nil }
        return subscriptions?.count(argv[index], shard ? .shard : .channel)
    }
    package var patternSubscriptions: Int? { subscriptions?.patterns }

    package var argumentCount: Int { argv.count }

    package func listWalk(key: Int, toArgument argument: Int) -> Int? {
        guard let replayer, key >= 0, key < keyPositions.count, argument < argv.count,
              let id = replayer.lookup(argv[keyPositions[key]]), !replayer.keyspace[id].approximate,
              case .list(let list) = replayer.keyspace[id].value else { return nil }
        let target = argv.hash(argument)
        for i in 0..<list.count where list[i] == target { return i + 1 }
        return list.count
    }
    package func integerArgument(at index: Int) -> Int? { argv.int(index).map(Int.init) }
    package func argumentLength(at index: Int) -> Int? { index >= 0 && index < argv.count ? argv[index].count : nil }
    package func argument(at index: Int, isToken token: String) -> Bool { argv.equalsToken(index, token) }
    package func keySize(_ key: Int) -> KeySize { key < sizes.count ? sizes[key] : .unknown }
}

/// The index of `key`'s entry in `items`, appending a new one made by `make` the first time.
@inline(__always)
package func intern<T>(_ key: UInt64, in index: inout [UInt64: Int], _ items: inout [T], make: () -> T) -> Int {
    if let known = index[key] { return known }
    index[key] = items.count
    items.append(make())
    return items.count - 1
}
