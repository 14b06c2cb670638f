import RedisCostCore

/// The members of a set or the fields of a hash, as identities. Small collections (most
/// keys) are a plain array; beyond `smallLimit` an `IdentityTable`, with the members SPOP may
/// still take when a capture does not say which (`popOrder`, filled on the first such pop).
public enum IdentitySet: Sendable {
    package static let smallLimit = 24
    case small([UInt64])
    case large(IdentityTable, popOrder: [UInt64])

    public init() { self = .small([]) }

    public init<S: Sequence>(_ elements: S) where S.Element == UInt64 {
        self = .small([])
        for element in elements { insert(element) }
    }

    @inlinable
    public var count: Int {
        switch self {
        case .small(let items): items.count
        case .large(let set, _): set.count
        }
    }

    public func contains(_ element: UInt64) -> Bool {
        switch self {
        case .small(let items): items.contains(element)
        case .large(let set, _): set.contains(element)
        }
    }

    // The edits consume `self` to take the storage out: it stays uniquely referenced, so it
    // changes in place, and no reference is counted (a copy out of the enum would retain it).

    /// True when the element was not there.
    @discardableResult
    public mutating func insert(_ element: UInt64) -> Bool {
        switch consume self {
        case .large(var set, let order):
            let inserted = set.insert(element)
            self = .large(set, popOrder: order)
            return inserted
        case .small(var items):
            if items.contains(element) {
                self = .small(items)
                return false
            }
            items.append(element)
            self = items.count > Self.smallLimit ? .large(IdentityTable(items), popOrder: []) : .small(items)
            return true
        }
    }

    /// True when the element was there.
    @discardableResult
    public mutating func remove(_ element: UInt64) -> Bool {
        switch consume self {
        case .large(var set, let order):
            let removed = set.remove(element)
            self = .large(set, popOrder: order)
            return removed
        case .small(var items):
            guard let index = items.firstIndex(of: element) else {
                self = .small(items)
                return false
            }
            items.swapAt(index, items.count - 1)
            items.removeLast()
            self = .small(items)
            return true
        }
    }

    public var elements: [UInt64] {
        switch self {
        case .small(let items): items
        case .large(let set, _): set.elements
        }
    }

    /// Removes some element (SPOP when the capture does not say which), in amortised O(1):
    /// a large set pops from a copy of its members taken when the copy runs out, skipping the
    /// ones gone since. (Taking the first occupied slot would rescan the emptied front of the
    /// table on every call.)
    /// Each member enters at most one copy per insertion, so the copies cost O(inserts).
    @discardableResult
    public mutating func removeAny() -> UInt64? {
        switch consume self {
        case .large(var set, var order):
            defer { self = .large(set, popOrder: order) }
            while true {
                if order.isEmpty {
                    if set.isEmpty { return nil }
                    order = set.elements
                }
                let candidate = order.removeLast()
                if set.remove(candidate) { return candidate }
            }
        case .small(var items):
            let element = items.popLast()
            self = .small(items)
            return element
        }
    }

    /// Approximate heap bytes, for the memory the replay reports.
    package var heapBytes: Int {
        switch self {
        case .small(let items): items.capacity * 8
        case .large(let set, let order): set.slotCount * 8 + order.capacity * 8
        }
    }
}

/// The members of a large set or hash as identities: open addressing with linear probing in
/// a power-of-two table of at most three quarters full (the load at which Swift's `Set` grows,
/// so it takes no more memory: 8 bytes a slot, where `Set` has 8 and a bit). Identities are
/// hashes already; a `Set<UInt64>` would hash each again with SipHash, about 660 instructions
/// a member. A slot is the top bits of the identity times an odd multiplier drawn once per
/// process (multiply-shift hashing): `elementHash` is public and invertible, so members
/// chosen to share a slot under a fixed multiplier could make every insert scan the whole
/// table; under a random one they do not.
///
/// Identity 0 marks an empty slot; the member 0 is a flag beside the table. A removal
/// shifts the rest of its run back into the gap (no tombstones), so probes stay as short
/// after many SREM/HDEL/SPOP as after inserts alone. One allocation, copied on write (so
/// unchecked Sendable: a shared buffer is never written).
public struct IdentityTable: @unchecked Sendable {
    /// The fields and a separately allocated slot array (a `ManagedBuffer` measured no faster).
    @usableFromInline package final class Storage {
        /// Members, the 0 member included.
        @usableFromInline package var count = 0
        /// 64 minus log2 of the slot count: a slot is `(identity &* multiplier) >> shift`.
        package let shift: UInt64
        package let multiplier: UInt64
        package let slotCount: Int
        package var containsZero = false
        package let slots: UnsafeMutablePointer<UInt64>

        package init(slotCount: Int, multiplier: UInt64) {
            self.slotCount = slotCount
            self.multiplier = multiplier
            shift = UInt64(64 - slotCount.trailingZeroBitCount)
            slots = .allocate(capacity: slotCount)
            slots.initialize(repeating: 0, count: slotCount)
        }

        deinit { slots.deallocate() }

        @inline(__always)
        package func home(_ element: UInt64) -> Int {
            Int(truncatingIfNeeded: (element &* multiplier) >> shift)
        }

        /// The slot holding `element` (not 0), or the empty slot where it would go.
        @inline(__always)
        package func probe(_ element: UInt64) -> (index: Int, found: Bool) {
            let mask = slotCount - 1
            var i = home(element)
            while true {
                let occupant = slots[i]
                if occupant == element { return (i, true) }
                if occupant == 0 { return (i, false) }
                i = (i + 1) & mask
            }
        }

        /// A copy with `newSlotCount` slots (a power of two, at least `count` / 0.75).
        package func copy(slotCount newSlotCount: Int) -> Storage {
            let copy = Storage(slotCount: newSlotCount, multiplier: multiplier)
            copy.count = count
            copy.containsZero = containsZero
            if newSlotCount == slotCount {
                copy.slots.update(from: slots, count: slotCount)
            } else {
                let mask = newSlotCount - 1
                for i in 0..<slotCount where slots[i] != 0 {
                    var j = copy.home(slots[i])
                    while copy.slots[j] != 0 { j = (j + 1) & mask }
                    copy.slots[j] = slots[i]
                }
            }
            return copy
        }
    }

    @usableFromInline package var storage: Storage

    package static let minimumSlots = 64
    /// Drawn once per process (see the type's comment); odd, so the multiply is a bijection.
    package static let processMultiplier: UInt64 = UInt64.random(in: .min ... .max) | 1

    /// `multiplier` is for tests that want every identity in one run (1 puts all small ones
    /// in slot 0); it must be odd.
    package init(minimumCapacity: Int = 0, multiplier: UInt64 = IdentityTable.processMultiplier) {
        precondition(multiplier & 1 == 1, "the multiplier must be odd")
        var slots = Self.minimumSlots
        // At most three quarters full once `minimumCapacity` members are in.
        while slots / 4 * 3 < minimumCapacity { slots <<= 1 }
        storage = Storage(slotCount: slots, multiplier: multiplier)
    }

    package init<S: Sequence>(_ elements: S, minimumCapacity: Int = 0) where S.Element == UInt64 {
        self.init(minimumCapacity: Swift.max(minimumCapacity, elements.underestimatedCount))
        for element in elements { insert(element) }
    }

    @inlinable package var count: Int { storage.count }
    @inlinable package var isEmpty: Bool { storage.count == 0 }
    /// Slots in the table: what the model's memory counts.
    package var slotCount: Int { storage.slotCount }

    package func contains(_ element: UInt64) -> Bool {
        element == 0 ? storage.containsZero : storage.probe(element).found
    }

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy(slotCount: storage.slotCount) }
    }

    /// True when the element was not there.
    @discardableResult
    package mutating func insert(_ element: UInt64) -> Bool {
        if element == 0 {
            if storage.containsZero { return false }
            makeUnique()
            storage.containsZero = true
            storage.count += 1
            return true
        }
        var (index, found) = storage.probe(element)
        if found { return false }
        makeUnique()  // a copy of the same size keeps every slot where it was
        let inTable = storage.count - (storage.containsZero ? 1 : 0)
        // Grow before the table passes three quarters full.
        if (inTable + 1) * 4 > storage.slotCount * 3 {
            storage = storage.copy(slotCount: storage.slotCount * 2)
            index = storage.probe(element).index
        }
        storage.slots[index] = element
        storage.count += 1
        return true
    }

    /// True when the element was there.
    @discardableResult
    package mutating func remove(_ element: UInt64) -> Bool {
        if element == 0 {
            guard storage.containsZero else { return false }
            makeUnique()
            storage.containsZero = false
            storage.count -= 1
            return true
        }
        let (index, found) = storage.probe(element)
        guard found else { return false }
        makeUnique()
        let table = storage
        let mask = table.slotCount - 1
        var gap = index
        // Backward shift: a later member of the run moves into the gap unless its home
        // lies cyclically in (gap, its slot], where a lookup still finds it from home.
        var next = (gap + 1) & mask
        while true {
            let occupant = table.slots[next]
            if occupant == 0 { break }
            let home = table.home(occupant)
            let stays = gap <= next ? (gap < home && home <= next) : (gap < home || home <= next)
            if !stays {
                table.slots[gap] = occupant
                gap = next
            }
            next = (next + 1) & mask
        }
        table.slots[gap] = 0
        table.count -= 1
        return true
    }

    /// The members in table order (the 0 member last).
    package var elements: [UInt64] {
        var result: [UInt64] = []
        result.reserveCapacity(storage.count)
        for i in 0..<storage.slotCount where storage.slots[i] != 0 { result.append(storage.slots[i]) }
        if storage.containsZero { result.append(0) }
        return result
    }
}

/// The positions Redis's `start stop` indexes select in a collection of `count` (LRANGE,
/// LTRIM, ZRANGE, ZREMRANGEBYRANK): negative ones count from the end and the range is clamped
/// to the collection, as the server does; nil when it selects nothing. Any Int64 is accepted.
package func indexRange(start: Int64, stop: Int64, count: Int) -> Range<Int>? {
    let n = Int64(count)
    let first = max(start < 0 ? start + n : start, 0)
    let last = stop < 0 ? stop + n : stop
    guard first <= last, first < n else { return nil }
    return Int(first)..<Int(min(last, n - 1) + 1)
}

/// A list's elements in order, as identities: a ring buffer so pushes and pops at both
/// ends are O(1) like Redis's quicklist.
public struct IdentityList: Sendable {
    private var storage: [UInt64] = []
    private var head = 0
    public private(set) var count = 0

    public init() {}

    public init<S: Sequence>(_ elements: S) where S.Element == UInt64 {
        storage = Array(elements)
        count = storage.count
    }

    @inline(__always)
    private func physical(_ index: Int) -> Int {
        let i = head + index
        return i >= storage.count ? i - storage.count : i
    }

    private mutating func grow() {
        let items = elements
        storage = items + [UInt64](repeating: 0, count: Swift.max(8, items.count))
        head = 0
    }

    public subscript(index: Int) -> UInt64 {
        get { storage[physical(index)] }
        set { storage[physical(index)] = newValue }
    }

    public mutating func pushBack(_ element: UInt64) {
        if count == storage.count { grow() }
        storage[physical(count)] = element
        count += 1
    }

    public mutating func pushFront(_ element: UInt64) {
        if count == storage.count { grow() }
        head = head == 0 ? storage.count - 1 : head - 1
        storage[head] = element
        count += 1
    }

    @discardableResult
    public mutating func popFront() -> UInt64? {
        guard count > 0 else { return nil }
        let element = storage[head]
        removeFirst(1)
        return element
    }

    @discardableResult
    public mutating func popBack() -> UInt64? {
        guard count > 0 else { return nil }
        let element = storage[physical(count - 1)]
        removeLast(1)
        return element
    }

    /// Drops the first `k` elements (0...count) in O(1): LTRIM cuts from the ends.
    public mutating func removeFirst(_ k: Int) {
        head = physical(k)
        count -= k
        shrinkIfSparse()
    }

    /// Drops the last `k` elements (0...count) in O(1).
    public mutating func removeLast(_ k: Int) {
        count -= k
        shrinkIfSparse()
    }

    /// A list that was long once gives its buffer back when three quarters of it are unused;
    /// the copy is paid for by the removals that emptied it.
    @inline(__always)
    private mutating func shrinkIfSparse() {
        guard count &* 4 < storage.count, storage.count > 64 else { return }
        storage = elements
        head = 0
    }

    public var elements: [UInt64] { (0..<count).map { self[$0] } }

    /// Replaces the contents (for the O(N) edits, O(N) on the server too: LREM, LINSERT).
    public mutating func replace(with items: [UInt64]) {
        storage = items
        head = 0
        count = items.count
    }

    package var heapBytes: Int { storage.capacity * 8 }
}

/// A sorted set's members with their scores, and their rank order: by score, and within one
/// score by identity. Redis orders equal scores by the member's bytes, which identities do not
/// keep: rank operations that cut through a tie are marked approximate by the caller.
///
/// The order is a chunked sorted list: sorted runs of at most `runLimit` entries, the last
/// entry and the count of each run in flat arrays for a binary search, and a Fenwick tree over
/// the counts for ranks. Finding, inserting and removing by score or by rank then cost
/// O(log n) plus a move inside one run, as the skiplist's O(log n), and a range of m entries
/// O(log n + m). Splitting or merging a run, once per tens of changes to it, re-indexes the
/// runs in O(n / runLimit) sequential steps.
///
/// A member's score is found by scanning while the set is small (as Redis scans a listpack)
/// and in a dictionary beyond `smallLimit` members. A large set keeps its order only while
/// ranks are asked for: after as many changes with no rank operation as it had members at the
/// last one, the order is dropped, and rebuilt in O(n log n) by the next one. Sets only added to and removed from by member (most) then
/// cost one dictionary probe per change, and a rebuild is paid for by the changes before it.
public struct ScoredMembers: Sendable {
    public struct Entry: Sendable, Comparable {
        public var score: Double
        public var member: UInt64

        public init(score: Double, member: UInt64) {
            self.score = score
            self.member = member
        }

        @inline(__always)
        public static func < (a: Entry, b: Entry) -> Bool {
            a.score < b.score || (a.score == b.score && a.member < b.member)
        }
    }

    package static let smallLimit = 128
    /// Short runs keep the move of an insertion small (4 KB at most, on memory the search has
    /// just brought in); the index grows with their number.
    package static let runLimit = 256
    /// A run this short joins a neighbour, so that runs stay few (and the index small).
    package static let runMinimum = 64

    private var storage: Storage

    public init() { storage = Storage() }

    /// A set of `entries`, whose members must be distinct, in any order (ZUNIONSTORE, ZRANGESTORE,
    /// an RDB file). A large one is ordered when a rank is first asked for.
    public init(_ entries: [Entry]) { storage = Storage(entries) }

    public var count: Int { storage.count }

    public subscript(member: UInt64) -> Double? {
        get { storage.score(of: member) }
        set {
            makeUnique()
            storage.setScore(newValue, of: member)
        }
    }

    @discardableResult
    public mutating func removeValue(forKey member: UInt64) -> Double? {
        guard let score = self[member] else { return nil }
        self[member] = nil
        return score
    }

    /// member → score, for the operations that read every member (ZUNIONSTORE and friends).
    public var scores: [UInt64: Double] { storage.scores }

    /// Every entry in rank order.
    public var entries: [Entry] { storage.entries }

    // Rank operations build a large set's order first if it was dropped.

    /// The entry at an ascending rank (0..<count).
    public mutating func entry(atRank rank: Int) -> Entry {
        makeUnique()
        return storage.entry(atRank: rank)
    }

    /// The rank of the first entry for which `isBefore` is false; `isBefore` must hold for a
    /// prefix of the order only (`score < x`).
    public mutating func rank(after isBefore: (Entry) -> Bool) -> Int {
        makeUnique()
        return storage.rank(after: isBefore)
    }

    /// The ascending ranks of the scores from `low` to `high` (ZREMRANGEBYSCORE, BYSCORE).
    public mutating func ranks(from low: (value: Double, exclusive: Bool), to high: (value: Double, exclusive: Bool)) -> Range<Int> {
        makeUnique()
        return storage.ranks(from: low, to: high)
    }

    /// The entries at ascending ranks `ranks` (within 0..<count), in O(log n + ranks.count).
    public mutating func entries(inRanks ranks: Range<Int>) -> [Entry] {
        makeUnique()
        return storage.entries(inRanks: ranks)
    }

    /// Whether `ranks` begins or ends inside a group of equal scores, whose order in Redis
    /// depends on member bytes the model does not keep.
    public mutating func cutsTie(_ ranks: Range<Int>) -> Bool {
        makeUnique()
        return storage.cutsTie(ranks)
    }

    /// Removes the entries at ascending ranks `ranks` (within 0..<count), in O(log n + ranks.count).
    public mutating func removeRanks(_ ranks: Range<Int>) {
        makeUnique()
        storage.removeRanks(ranks)
    }

    package var heapBytes: Int { storage.heapBytes }

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// The set's state in one object, copied on write: a set is a single reference wherever it
    /// goes (a key's value is moved out and back on every edit, and read for its size before
    /// every call), not six, and a `KeyValue` holds it without a box.
    private final class Storage: @unchecked Sendable {
        /// The order: sorted runs, none empty. None when the set is empty or a large set's order
        /// was dropped.
        private var runs: [[Entry]] = []
        /// The last entry and the count of each run, beside the runs so that finding a run and
        /// re-indexing never visit them; empty while there is one run.
        private var lasts: [Entry] = []
        private var counts: [Int32] = []
        /// A Fenwick tree over `counts` (tree[k] sums counts k - lowbit(k) ..< k); empty while
        /// there is one run.
        private var tree: [Int] = []
        /// member → score beyond `smallLimit` members (all of them); empty below, where the runs
        /// are the set.
        private var scoreOf: [UInt64: Double] = [:]
        /// How many more changes a large set's order is kept for without a rank operation.
        private var changesLeftOrdered = 0
        package var count = 0

        package init() {}

        package init(_ entries: [Entry]) {
            guard entries.count > ScoredMembers.smallLimit else {
                if !entries.isEmpty { runs = [entries.sorted()] }
                count = entries.count
                return
            }
            scoreOf.reserveCapacity(entries.count)
            for entry in entries { scoreOf[entry.member] = entry.score }
            count = scoreOf.count
        }

        package func score(of member: UInt64) -> Double? {
            if !scoreOf.isEmpty { return scoreOf[member] }
            // A small set is one run at most (it would be large long before a run splits).
            return runs.first?.first { $0.member == member }?.score
        }

        package func setScore(_ newValue: Double?, of member: UInt64) {
            guard !scoreOf.isEmpty else {
                // Small: the runs are the set.
                let old = score(of: member)
                if let old {
                    if newValue == old { return }
                    remove(Entry(score: old, member: member))
                    count -= 1
                }
                guard let newValue else { return }
                insert(Entry(score: newValue, member: member))
                count += 1
                if count > ScoredMembers.smallLimit { indexMembers() }
                return
            }
            // Large: one dictionary probe (the update returns the old score), then the order
            // if it is kept.
            let old: Double?
            if let newValue {
                old = scoreOf.updateValue(newValue, forKey: member)
            } else {
                old = scoreOf.removeValue(forKey: member)
            }
            count = scoreOf.count
            guard !runs.isEmpty, old != newValue else { return }
            if let old { remove(Entry(score: old, member: member)) }
            if let newValue { insert(Entry(score: newValue, member: member)) }
            changesLeftOrdered -= 1
            if changesLeftOrdered < 0 { dropOrder() }
        }

        package var scores: [UInt64: Double] {
            if !scoreOf.isEmpty { return scoreOf }
            var scores = [UInt64: Double](minimumCapacity: count)
            for run in runs {
                for entry in run { scores[entry.member] = entry.score }
            }
            return scores
        }

        package var entries: [Entry] {
            guard runs.isEmpty else { return runs.flatMap { $0 } }
            // Sorted in place: a large set's entries are one copy at a time, not two.
            var entries = scoreOf.map { Entry(score: $0.value, member: $0.key) }
            entries.sort()
            return entries
        }

        // MARK: - ranks

        package func entry(atRank rank: Int) -> Entry {
            prepareRanks()
            let at = position(ofRank: rank)
            return runs[at.run][at.offset]
        }

        package func rank(after isBefore: (Entry) -> Bool) -> Int {
            prepareRanks()
            guard runs.count > 1 else { return runs.first.map { partitionPoint($0, isBefore) } ?? 0 }
            let run = partitionPoint(lasts, isBefore)
            return run == runs.count ? count : prefixCount(run) + partitionPoint(runs[run], isBefore)
        }

        package func ranks(from low: (value: Double, exclusive: Bool), to high: (value: Double, exclusive: Bool)) -> Range<Int> {
            let lower = rank { low.exclusive ? $0.score <= low.value : $0.score < low.value }
            let upper = rank { high.exclusive ? $0.score < high.value : $0.score <= high.value }
            return lower..<max(lower, upper)
        }

        package func entries(inRanks ranks: Range<Int>) -> [Entry] {
            guard !ranks.isEmpty else { return [] }
            prepareRanks()
            var result: [Entry] = []
            result.reserveCapacity(ranks.count)
            var (run, offset) = position(ofRank: ranks.lowerBound)
            while result.count < ranks.count {
                let end = min(runs[run].count, offset + ranks.count - result.count)
                result.append(contentsOf: runs[run][offset..<end])
                run += 1
                offset = 0
            }
            return result
        }

        package func cutsTie(_ ranks: Range<Int>) -> Bool {
            guard !ranks.isEmpty else { return false }
            if ranks.lowerBound > 0, entry(atRank: ranks.lowerBound - 1).score == entry(atRank: ranks.lowerBound).score { return true }
            if ranks.upperBound < count, entry(atRank: ranks.upperBound - 1).score == entry(atRank: ranks.upperBound).score { return true }
            return false
        }

        package func removeRanks(_ ranks: Range<Int>) {
            guard !ranks.isEmpty else { return }
            prepareRanks()
            let first = position(ofRank: ranks.lowerBound)
            let last = position(ofRank: ranks.upperBound - 1)
            if !scoreOf.isEmpty {
                for run in first.run...last.run {
                    let lower = run == first.run ? first.offset : 0
                    let upper = run == last.run ? last.offset + 1 : runs[run].count
                    for offset in lower..<upper { scoreOf[runs[run][offset].member] = nil }
                }
            }
            count -= ranks.count
            if first.run == last.run {
                runs[first.run].removeSubrange(first.offset...last.offset)
                settle(first.run, removed: ranks.count)
                return
            }
            // The runs from first to last become what is left of the two at the ends, which may
            // then be short.
            let kept = [Array(runs[first.run][..<first.offset]), Array(runs[last.run][(last.offset + 1)...])].filter { !$0.isEmpty }
            replaceRuns(first.run..<(last.run + 1), with: kept)
            for run in (first.run..<(first.run + kept.count)).reversed() { rejoinIfShort(run) }
        }

        /// Builds a large set's order if it was dropped (O(n log n)), and keeps it for `count`
        /// more changes.
        private func prepareRanks() {
            changesLeftOrdered = count
            guard runs.isEmpty, count > 0 else { return }
            let sorted = entries
            let runCount = (count + ScoredMembers.runLimit / 2 - 1) / (ScoredMembers.runLimit / 2)
            replaceRuns(0..<0, with: (0..<runCount).map { Array(sorted[($0 * count / runCount)..<(($0 + 1) * count / runCount)]) })
        }

        /// Forgets a large set's order (the dictionary holds the set).
        private func dropOrder() {
            runs = []
            lasts = []
            counts = []
            tree = []
        }

        // MARK: - runs

        /// Puts an entry in the order (the caller keeps `count`).
        private func insert(_ entry: Entry) {
            guard !runs.isEmpty else {
                runs = [[entry]]
                return
            }
            let run = runs.count == 1 ? 0 : min(partitionPoint(lasts) { $0 < entry }, runs.count - 1)
            let offset = partitionPoint(runs[run]) { $0 < entry }
            runs[run].insert(entry, at: offset)
            if runs[run].count > ScoredMembers.runLimit {
                // Halves in fresh arrays, so that neither keeps the whole run's capacity.
                let half = runs[run].count / 2
                replaceRuns(run..<(run + 1), with: [Array(runs[run][..<half]), Array(runs[run][half...])])
            } else if runs.count > 1 {
                if offset == runs[run].count - 1 { lasts[run] = entry }
                counts[run] += 1
                addToTree(run: run, 1)
            }
        }

        /// Takes an entry out of the order (the caller keeps `count`).
        private func remove(_ entry: Entry) {
            let run = runs.count == 1 ? 0 : partitionPoint(lasts) { $0 < entry }
            guard run < runs.count else { return }
            let offset = partitionPoint(runs[run]) { $0 < entry }
            guard offset < runs[run].count, runs[run][offset] == entry else { return }
            runs[run].remove(at: offset)
            settle(run, removed: 1)
        }

        /// After `removed` entries left one run: the cheap path while the run stays long enough,
        /// else it joins a neighbour.
        private func settle(_ run: Int, removed: Int) {
            if runs.count == 1 {
                if runs[0].isEmpty { runs = [] }
                return
            }
            if runs[run].count >= ScoredMembers.runMinimum {
                lasts[run] = runs[run][runs[run].count - 1]
                counts[run] -= Int32(removed)
                addToTree(run: run, -removed)
            } else {
                rejoinIfShort(run)
            }
        }

        /// Joins a run shorter than `runMinimum` (or empty) to a neighbour, in halves if the
        /// result is longer than `runLimit`.
        private func rejoinIfShort(_ run: Int) {
            guard run < runs.count, runs.count > 1, runs[run].count < ScoredMembers.runMinimum else { return }
            let left = run + 1 < runs.count ? run : run - 1
            let joined = runs[left] + runs[left + 1]
            let half = joined.count / 2
            replaceRuns(left..<(left + 2), with: joined.count > ScoredMembers.runLimit ? [Array(joined[..<half]), Array(joined[half...])] : [joined])
        }

        /// Replaces runs `range` with `replacement` (none empty), with `lasts`, `counts` and the
        /// tree following: O(runs) sequential steps that never visit the other runs.
        private func replaceRuns(_ range: Range<Int>, with replacement: [[Entry]]) {
            let wasIndexed = runs.count > 1
            runs.replaceSubrange(range, with: replacement)
            guard runs.count > 1 else {
                lasts = []
                counts = []
                tree = []
                return
            }
            if wasIndexed {
                lasts.replaceSubrange(range, with: replacement.map { $0[$0.count - 1] })
                counts.replaceSubrange(range, with: replacement.map { Int32($0.count) })
            } else {
                lasts = runs.map { $0[$0.count - 1] }
                counts = runs.map { Int32($0.count) }
            }
            tree.removeAll(keepingCapacity: true)
            tree.append(0)
            for count in counts { tree.append(Int(count)) }
            for k in 1..<tree.count {
                let parent = k + (k & -k)
                if parent < tree.count { tree[parent] += tree[k] }
            }
        }

        /// A small set becomes large: its members go into the dictionary, and its order is kept
        /// for `count` more changes unless a rank operation asks for it.
        private func indexMembers() {
            changesLeftOrdered = count
            scoreOf.reserveCapacity(count)
            for run in runs {
                for entry in run { scoreOf[entry.member] = entry.score }
            }
        }

        private func addToTree(run: Int, _ delta: Int) {
            var k = run + 1
            while k < tree.count {
                tree[k] += delta
                k += k & -k
            }
        }

        /// The number of entries in the runs before `run`.
        private func prefixCount(_ run: Int) -> Int {
            var sum = 0
            var k = run
            while k > 0 {
                sum += tree[k]
                k &= k - 1
            }
            return sum
        }

        /// The run and offset of an ascending rank (0..<count), by descending the tree.
        private func position(ofRank rank: Int) -> (run: Int, offset: Int) {
            guard runs.count > 1 else { return (0, rank) }
            if rank < runs[0].count { return (0, rank) }
            var run = 0
            var remaining = rank
            var step = 1 << (Int.bitWidth - 1 - runs.count.leadingZeroBitCount)
            while step > 0 {
                let next = run + step
                if next < tree.count, tree[next] <= remaining {
                    run = next
                    remaining -= tree[next]
                }
                step >>= 1
            }
            return (run, remaining)
        }

        package var heapBytes: Int {
            var bytes = runs.capacity * 8 + lasts.capacity * 16 + counts.capacity * 4 + tree.capacity * 8 + scoreOf.capacity * 17
            for run in runs { bytes += 32 + run.capacity * 16 }
            return bytes
        }

        /// A copy for a set about to change while another value shares this one: the arrays
        /// and the dictionary are themselves copied on write, so this is O(1).
        package func copy() -> Storage {
            let copy = Storage()
            copy.runs = runs
            copy.lasts = lasts
            copy.counts = counts
            copy.tree = tree
            copy.scoreOf = scoreOf
            copy.changesLeftOrdered = changesLeftOrdered
            copy.count = count
            return copy
        }
    }
}

/// The index of the first entry for which `isBefore` is false (it holds for a prefix only).
@inline(__always)
private func partitionPoint(_ entries: [ScoredMembers.Entry], _ isBefore: (ScoredMembers.Entry) -> Bool) -> Int {
    var low = 0
    var high = entries.count
    while low < high {
        let mid = (low + high) / 2
        if isBefore(entries[mid]) { low = mid + 1 } else { high = mid }
    }
    return low
}

/// A stream entry ID: milliseconds and sequence.
public struct StreamID: Sendable, Comparable, Hashable {
    public var milliseconds: UInt64
    public var sequence: UInt64

    public static func < (a: StreamID, b: StreamID) -> Bool {
        a.milliseconds < b.milliseconds || (a.milliseconds == b.milliseconds && a.sequence < b.sequence)
    }

    /// `1526919030474-55`, `1526919030474` (sequence 0, or the largest with `fillSequenceMax`).
    public init?(_ bytes: UnsafeRawBufferPointer, fillSequenceMax: Bool = false) {
        var ms: UInt64 = 0
        var seq: UInt64 = 0
        var sawDash = false
        var digits = 0
        for byte in bytes {
            if byte == UInt8(ascii: "-") {
                guard !sawDash, digits > 0 else { return nil }
                sawDash = true
                digits = 0
                continue
            }
            let d = byte &- 48
            guard d < 10 else { return nil }
            let (m, o1) = (sawDash ? seq : ms).multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(d))
            guard !o1, !o2 else { return nil }
            if sawDash { seq = s } else { ms = s }
            digits += 1
        }
        guard digits > 0 else { return nil }
        milliseconds = ms
        sequence = sawDash ? seq : (fillSequenceMax ? UInt64.max : 0)
    }

    public init(milliseconds: UInt64, sequence: UInt64) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }
}

/// A stream's entry IDs in order (XLEN is their count). XDEL marks an entry deleted, as the
/// server's listpacks do, rather than closing the gap: the array is compacted once half of it
/// is trimmed or deleted, so every removal is O(log n) amortised.
public struct StreamEntries: Sendable {
    private var ids: [StreamID] = []
    /// One bit per position of `ids`: set when XDEL deleted it (empty while none was).
    private var deleted: [UInt64] = []
    /// Positions before `head` were trimmed.
    private var head = 0
    /// Deleted positions at or after `head`.
    private var deletedCount = 0
    public var lastID = StreamID(milliseconds: 0, sequence: 0)

    public init() {}

    public var count: Int { ids.count - head - deletedCount }

    /// Adds an entry after the others. An ID not above them (or 0-0) is refused, as the server
    /// refuses it: the order is what lets XDEL find an entry by binary search.
    @discardableResult
    public mutating func append(_ id: StreamID) -> Bool {
        guard id > (ids.last ?? StreamID(milliseconds: 0, sequence: 0)) else { return false }
        ids.append(id)
        if id > lastID { lastID = id }
        return true
    }

    /// The IDs of the entries, oldest first.
    public var entryIDs: [StreamID] { (head..<ids.count).filter { !isDeleted($0) }.map { ids[$0] } }

    @inline(__always)
    private func isDeleted(_ position: Int) -> Bool {
        position >> 6 < deleted.count && deleted[position >> 6] & (1 << (position & 63)) != 0
    }

    /// Drops the oldest entries until `maxLength` (≥ 0) remain; returns how many were dropped.
    @discardableResult
    public mutating func trim(maxLength: Int) -> Int {
        let drop = Swift.max(0, count - maxLength)
        var dropped = 0
        while dropped < drop {
            if isDeleted(head) { deletedCount -= 1 } else { dropped += 1 }
            head += 1
        }
        compact()
        return drop
    }

    /// Drops entries with an ID below `minID`.
    @discardableResult
    public mutating func trim(minID: StreamID) -> Int {
        var dropped = 0
        while head < ids.count, ids[head] < minID {
            if isDeleted(head) { deletedCount -= 1 } else { dropped += 1 }
            head += 1
        }
        compact()
        return dropped
    }

    @discardableResult
    public mutating func delete(_ id: StreamID) -> Bool {
        var low = head
        var high = ids.count
        while low < high {
            let mid = (low + high) / 2
            if ids[mid] < id { low = mid + 1 } else { high = mid }
        }
        guard low < ids.count, ids[low] == id, !isDeleted(low) else { return false }
        if low >> 6 >= deleted.count { deleted += repeatElement(0, count: (low >> 6) - deleted.count + 1) }
        deleted[low >> 6] |= 1 << (low & 63)
        deletedCount += 1
        compact()
        return true
    }

    /// Keeps only the live entries once at least half of the array (and 1024 positions) is not.
    private mutating func compact() {
        let dead = head + deletedCount
        guard dead > 1024, dead * 2 > ids.count else { return }
        ids = entryIDs
        deleted = []
        head = 0
        deletedCount = 0
    }

    package var heapBytes: Int { ids.capacity * 16 + deleted.capacity * 8 }
}
