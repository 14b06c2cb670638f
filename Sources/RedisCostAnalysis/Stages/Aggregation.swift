import RedisCostCore
import RedisCostTable
import RedisCostKeyspace
import RedisCostFormats
import RedisCostReplay

/// Stage 4, aggregate: every costed call added up per command, per key pattern, per hot key,
/// per second of the input's clock, into the totals, and among the costliest calls. Each
/// call's elements count once in the totals (a wrapper adds only its own part); a wrapper's
/// row includes what it ran, as INFO commandstats counts it.
package struct Aggregation {
    package let table: CommandTable
    /// Per table index; `calls == 0` means the command was not seen.
    package var commandStats: [AnalysisResult.CommandStats]
    package var unknownCommands: [String: Int] = [:]
    package var patterns = PatternTable<AnalysisResult.PatternStats>(limit: Aggregation.patternLimit)
    private var patternBuffer: [UInt8] = []
    package var topCalls: TopCalls
    /// Cost per second of the input's clock (AOF `#TS`, capture timestamps), for the chart.
    package var costBySecond: [Int64: Double] = [:]
    private var currentSecond: Int64 = .min
    private var currentSecondCost = 0.0
    /// MONITOR: calls per key (the first key of each call), for the first `hotKeyLimit` keys.
    package var trackHotKeys = false
    package var hotKeyIndex = IdentityMap()
    package var hotKeys: [AnalysisResult.HotKey] = []
    /// Per hot key, at the same index, its pattern's entry in `patterns` once folded (-1
    /// before): a key's pattern depends on its name alone, so a hot key is folded once, not
    /// on every call. (Keys are told apart by their identity, as in `hotKeyIndex`.)
    private var hotKeyPatterns: [Int32] = []
    package var hotKeysCapped = false
    package static let hotKeyLimit = 500_000
    /// MONITOR: per key, every key of each call (not only the first), what the calls that
    /// touched it cost, for the first `bigHotKeyLimit` keys; `touchedBy` stamps the last call
    /// counted on an entry, so a call naming a key twice counts once.
    package var bigHotKeyIndex = IdentityMap()
    package var bigHotKeys: [AnalysisResult.BigHotKey] = []
    private var touchedBy: [Int] = []
    private var callSequence = 0
    package var bigHotKeysCapped = false
    package static let bigHotKeyLimit = 200_000
    /// How many of the keys costliest in time the report keeps.
    package static let bigHotKeysKept = 30
    /// Distinct key patterns followed one by one; later ones share an entry.
    package static let patternLimit = 100_000

    /// Per client of a capture or live session, at the index its session gives it.
    package var clients: [AnalysisResult.ClientStats] = []

    // Totals: each call's elements once.
    package var calls = 0
    package var totalCost = 0.0
    package var unknownCostCalls = 0
    package var estimatedMicroseconds = 0.0
    package var callsOnKeysOfUnknownSize = 0
    /// Per table index, the features of its calls with a known cost (a wrapper's own), and per
    /// wrapper index the features of the calls it ran per their index: what a live fit
    /// (`monitor --fit-model`) reads between two reads of INFO commandstats.
    package var features: [TimeModel.Features]
    package var nestedFeatures: [Int: [Int: TimeModel.Features]] = [:]

    package init(table: CommandTable, top: Int) {
        self.table = table
        commandStats = zip(table.entries, table.runsScript).map { entry, runsScript in
            AnalysisResult.CommandStats(name: entry.name, isWrite: entry.isWrite, isWrapper: runsScript || entry.semantics.transaction == .run)
        }
        topCalls = TopCalls(limit: top)
        features = Array(repeating: .zero, count: table.entries.count)
    }

    /// A call whose command the table does not know: counted, with an unknown cost.
    package mutating func addUnknownCommand(_ argv: Argv) {
        calls += 1
        unknownCostCalls += 1
        unknownCommands[KeyText.commandName(argv.bytes(0)), default: 0] += 1
    }

    package mutating func add(_ call: Call, _ resolved: CallResolver.Resolved, sizes: [KeySize], cost: CallCost) {
        let index = resolved.index
        let argv = call.argv
        if cost.cost.value == nil, sizes.contains(.unknown) { callsOnKeysOfUnknownSize += 1 }
        calls += 1
        commandStats[index].calls += 1
        if let value = cost.cost.value, let own = cost.ownElements, let microseconds = cost.microseconds {
            let nestedElements = cost.nestedElements ?? 0
            commandStats[index].cost += value
            commandStats[index].nestedCost += nestedElements
            commandStats[index].elementsInTotals += own
            commandStats[index].maxCost = max(commandStats[index].maxCost, value)
            commandStats[index].estimatedMicroseconds += microseconds
            totalCost += own
            estimatedMicroseconds += cost.ownMicroseconds ?? 0
            if cost.cost.isUpperBound { commandStats[index].upperBoundCalls += 1 }
            if let f = cost.features { features[index] = features[index] + f }
        } else {
            commandStats[index].unknownCalls += 1
            unknownCostCalls += 1
        }
        let value = cost.ownElements
        // Read field by field: a copy of the whole traits would retain its arrays on every call.
        let isWrite = table.traits[index].isWrite, isRead = table.traits[index].isRead

        var hotKey: Int?
        var firstIdentity: UInt64 = 0
        /// The name of a first key seen for the first time, which `addTouches` shares
        /// instead of copying the bytes again.
        var newHotKeyName: [UInt8]?
        if trackHotKeys, let first = resolved.keyPositions.first {
            firstIdentity = keyIdentity(argv[first], database: call.database)
            hotKey = hotKeyIndex[firstIdentity]
            if hotKey == nil, hotKeys.count < Self.hotKeyLimit {
                hotKey = intern(firstIdentity, in: &hotKeyIndex, &hotKeys) { .init(database: call.database, name: argv.bytes(first)) }
                hotKeyPatterns.append(-1)
                newHotKeyName = hotKeys[hotKey!].name
            } else if hotKey == nil {
                hotKeysCapped = true
            }
            if let k = hotKey {
                hotKeys[k].calls += 1
                if isWrite { hotKeys[k].writes += 1 } else if isRead { hotKeys[k].reads += 1 }
            }
        }

        if trackHotKeys, !resolved.keyPositions.isEmpty {
            addTouches(argv, resolved.keyPositions, database: call.database, firstIdentity: firstIdentity, firstName: newHotKeyName, cost: cost)
        }

        // Cost by the pattern of the first key, folded once per hot key.
        let p: Int
        if let k = hotKey, hotKeyPatterns[k] >= 0 {
            p = Int(hotKeyPatterns[k])
        } else {
            if let first = resolved.keyPositions.first {
                KeyPattern.fold(argv[first], into: &patternBuffer)
            } else {
                patternBuffer.removeFewKeepingCapacity()
                patternBuffer.append(contentsOf: "(no key)".utf8)
            }
            p = patterns.entry(patternBuffer) { AnalysisResult.PatternStats(pattern: $0) }
            if let k = hotKey { hotKeyPatterns[k] = Int32(p) }
        }
        patterns.stats[p].calls += 1
        if isWrite { patterns.stats[p].writes += 1 } else if isRead { patterns.stats[p].reads += 1 }
        if let value { patterns.stats[p].cost += value } else { patterns.stats[p].unknownCalls += 1 }

        if let second = call.second, let value {
            if second == currentSecond {
                currentSecondCost += value
            } else {
                flushSecond()
                currentSecond = second
                currentSecondCost = value
            }
        }
        if let microseconds = cost.microseconds, topCalls.admits(microseconds) {
            topCalls.insert(AnalysisResult.Call(
                estimatedMicroseconds: microseconds, command: table.entries[index].name,
                keys: resolved.keyPositions.map { argv.bytes($0) }, sizes: sizes, cost: cost.cost, nestedCost: cost.nestedElements,
                time: call.second, file: call.origin.file, offset: call.origin.position,
                inTransaction: call.context == .transaction, database: call.database), microseconds: microseconds)
        }
    }

    /// A wrapper's calls with a known cost (`NestedCalls.inner`), when its own cost is known:
    /// their features per their entry, beside the wrapper's (`features`).
    package mutating func addNested(_ inner: [(entry: Int, features: TimeModel.Features)], wrapper index: Int) {
        guard !inner.isEmpty else { return }
        var sums = nestedFeatures[index] ?? [:]
        for (entry, f) in inner { sums[entry] = (sums[entry] ?? .zero) + f }
        nestedFeatures[index] = sums
    }

    /// Every key of the call gets the call's own part once: its elements and time (a
    /// wrapper's calls are counted under their own keys, so no time counts twice on a key).
    /// `firstIdentity`: the first key's, which `add` has just computed; `firstName`: its name,
    /// when `add` has just copied it.
    private mutating func addTouches(_ argv: Argv, _ positions: [Int], database: Int, firstIdentity: UInt64, firstName: [UInt8]?, cost: CallCost) {
        callSequence += 1
        let microseconds = cost.cost.value == nil ? nil : cost.ownMicroseconds
        for (n, position) in positions.enumerated() {
            let identity = n == 0 ? firstIdentity : keyIdentity(argv[position], database: database)
            var k = bigHotKeyIndex[identity]
            if k == nil, bigHotKeys.count < Self.bigHotKeyLimit {
                k = intern(identity, in: &bigHotKeyIndex, &bigHotKeys) {
                    .init(database: database, name: n == 0 ? firstName ?? argv.bytes(position) : argv.bytes(position))
                }
                touchedBy.append(0)
            } else if k == nil {
                bigHotKeysCapped = true
            }
            guard let k, touchedBy[k] != callSequence else { continue }
            touchedBy[k] = callSequence
            bigHotKeys[k].calls += 1
            if let microseconds, let own = cost.ownElements {
                bigHotKeys[k].estimatedMicroseconds += microseconds
                bigHotKeys[k].cost += own
            } else {
                bigHotKeys[k].unknownCostCalls += 1
            }
        }
    }

    package mutating func addClient(named name: String) {
        clients.append(.init(client: name))
    }

    /// A client's call: its own elements count once (a wrapper adds only its own part); nil
    /// when its cost is unknown or its command is one the table does not know.
    package mutating func account(client: Int, ownElements: Double?) {
        clients[client].calls += 1
        if let ownElements { clients[client].cost += ownElements } else { clients[client].unknownCalls += 1 }
    }

    /// The time MONITOR shows a call took (the gap to the next line), for its command's row.
    package mutating func observe(microseconds gap: Int64, index: Int) {
        // Saturating: a live session may run for years of a hostile clock.
        let (sum, overflow) = commandStats[index].observedMicroseconds.addingReportingOverflow(gap)
        commandStats[index].observedMicroseconds = overflow ? .max : sum
        commandStats[index].maxObservedMicroseconds = max(commandStats[index].maxObservedMicroseconds, gap)
    }

    /// More estimated time first; ties by calls, then database and name, so the order does not
    /// depend on when keys were first seen.
    private static func costlierInTime(_ a: AnalysisResult.BigHotKey, _ b: AnalysisResult.BigHotKey) -> Bool {
        if a.estimatedMicroseconds != b.estimatedMicroseconds { return a.estimatedMicroseconds > b.estimatedMicroseconds }
        if a.calls != b.calls { return a.calls > b.calls }
        if a.database != b.database { return a.database < b.database }
        return a.name.lexicographicallyPrecedes(b.name)
    }

    private mutating func flushSecond() {
        guard currentSecond != .min, costBySecond.count < 1_000_000 || costBySecond[currentSecond] != nil else { return }
        costBySecond[currentSecond, default: 0] += currentSecondCost
    }

    /// Writes the aggregates into the result, sorted for the report.
    package mutating func finish(into result: inout AnalysisResult, patterns: Int) {
        flushSecond()
        currentSecond = .min
        result.calls = calls
        result.totalCost = totalCost
        result.unknownCostCalls = unknownCostCalls
        result.estimatedMicroseconds = estimatedMicroseconds
        result.callsOnKeysOfUnknownSize = callsOnKeysOfUnknownSize
        result.costOverTime = costBySecond.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        // By estimated time, then elements: what the server spends its time on first.
        result.commands = commandStats.filter { $0.calls > 0 }.sorted {
            ($0.estimatedMicroseconds, $0.cost, $0.calls, $1.name) > ($1.estimatedMicroseconds, $1.cost, $1.calls, $0.name)
        }
        result.unknownCommands = unknownCommands
        result.topCalls = topCalls.sorted
        result.patterns = firstSorted(patterns, of: self.patterns.stats) { ($0.cost, $0.calls) > ($1.cost, $1.calls) }
        result.clients = clients.filter { $0.calls > 0 }.sorted { ($0.cost, $0.calls) > ($1.cost, $1.calls) }
        if trackHotKeys {
            result.hotKeysTracked = hotKeys.count
            result.hotKeysCapped = hotKeysCapped
            result.hotKeys = firstSorted(30, of: hotKeys) { ($0.calls, $1.name.count) > ($1.calls, $0.name.count) }
            result.bigHotKeysTracked = bigHotKeys.count
            result.bigHotKeysCapped = bigHotKeysCapped
            result.bigHotKeys = firstSorted(Self.bigHotKeysKept, of: bigHotKeys, where: { $0.calls > 0 }, by: Self.costlierInTime)
        }
    }
}

/// The first `count` of `items` that `isIncluded` keeps, in the order `sorted(by:)` gives them,
/// ties in their order in `items` as the standard library's stable sort leaves them: each item
/// is compared with the last kept and most go no further. Sorting 200,000 hot keys (each
/// comparison copying two of them) to keep 30 took a third of a capture's analysis.
package func firstSorted<T>(_ count: Int, of items: [T], where isIncluded: (T) -> Bool = { _ in true },
                            by areInIncreasingOrder: (T, T) -> Bool) -> [T] {
    // Inserting into the kept list costs up to `count` moves per item: for a long list
    // asked for (--patterns 100000), sorting everything is cheaper.
    guard count <= 256 else { return Array(items.filter(isIncluded).sorted(by: areInIncreasingOrder).prefix(count)) }
    guard count > 0 else { return [] }
    var kept: [Int] = []
    kept.reserveCapacity(count + 1)
    for i in items.indices where isIncluded(items[i]) {
        if kept.count == count, !areInIncreasingOrder(items[i], items[kept[count - 1]]) { continue }
        // After every kept item that is not after it: an equal one seen earlier stays first.
        var position = kept.count
        while position > 0, areInIncreasingOrder(items[i], items[kept[position - 1]]) { position -= 1 }
        kept.insert(i, at: position)
        if kept.count > count { kept.removeLast() }
    }
    return kept.map { items[$0] }
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
