/// The members of a set or the fields of a hash, as identities. Small collections (most
/// keys) are a plain array; beyond `smallLimit` a hash set.
public enum IdentitySet: Sendable {
    static let smallLimit = 24
    case small([UInt64])
    case large(Set<UInt64>)

    public init() { self = .small([]) }

    public init<S: Sequence>(_ elements: S) where S.Element == UInt64 {
        self = .small([])
        for element in elements { insert(element) }
    }

    public var count: Int {
        switch self {
        case .small(let items): items.count
        case .large(let set): set.count
        }
    }

    public func contains(_ element: UInt64) -> Bool {
        switch self {
        case .small(let items): items.contains(element)
        case .large(let set): set.contains(element)
        }
    }

    /// True when the element was not there.
    @discardableResult
    public mutating func insert(_ element: UInt64) -> Bool {
        switch self {
        case .large(var set):
            self = .small([])  // hand the set over uniquely referenced
            let inserted = set.insert(element).inserted
            self = .large(set)
            return inserted
        case .small(var items):
            if items.contains(element) { return false }
            self = .small([])
            items.append(element)
            self = items.count > Self.smallLimit ? .large(Set(items)) : .small(items)
            return true
        }
    }

    /// True when the element was there.
    @discardableResult
    public mutating func remove(_ element: UInt64) -> Bool {
        switch self {
        case .large(var set):
            self = .small([])
            let removed = set.remove(element) != nil
            self = .large(set)
            return removed
        case .small(var items):
            guard let index = items.firstIndex(of: element) else { return false }
            self = .small([])
            items.swapAt(index, items.count - 1)
            items.removeLast()
            self = .small(items)
            return true
        }
    }

    public var elements: [UInt64] {
        switch self {
        case .small(let items): items
        case .large(let set): Array(set)
        }
    }

    /// Removes some element, in O(1) (SPOP when the capture does not say which).
    @discardableResult
    public mutating func removeAny() -> UInt64? {
        switch self {
        case .large(var set):
            self = .small([])
            let element = set.popFirst()
            self = .large(set)
            return element
        case .small(var items):
            self = .small([])
            let element = items.popLast()
            self = .small(items)
            return element
        }
    }

    /// Approximate heap bytes, for the memory the replay reports.
    var heapBytes: Int {
        switch self {
        case .small(let items): items.capacity * 8
        case .large(let set): set.capacity * 9
        }
    }
}

/// The positions Redis's `start stop` indexes select in a collection of `count` (LRANGE,
/// LTRIM, ZRANGE, ZREMRANGEBYRANK): negative ones count from the end and the range is clamped
/// to the collection, as the server does; nil when it selects nothing. Any Int64 is accepted.
func indexRange(start: Int64, stop: Int64, count: Int) -> Range<Int>? {
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

    var heapBytes: Int { storage.capacity * 8 }
}

/// A sorted set's members with their scores. Ties in score are ordered by the member's
/// bytes in Redis, which identities do not keep: rank operations that cut through a tie are
/// marked approximate by the caller.
public struct ScoredMembers: Sendable {
    public private(set) var scores: [UInt64: Double] = [:]

    public init() {}

    public var count: Int { scores.count }

    public subscript(member: UInt64) -> Double? {
        get { scores[member] }
        set { scores[member] = newValue }
    }

    /// Members by ascending score.
    public var ranked: [(member: UInt64, score: Double)] {
        scores.map { ($0.key, $0.value) }.sorted { $0.score < $1.score || ($0.score == $1.score && $0.member < $1.member) }
    }

    public mutating func removeValue(forKey member: UInt64) -> Double? { scores.removeValue(forKey: member) }

    var heapBytes: Int { scores.capacity * 17 }
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

/// A stream's entry IDs in order (XLEN is their count).
public struct StreamEntries: Sendable {
    public private(set) var ids: [StreamID] = []
    private var head = 0
    public var lastID = StreamID(milliseconds: 0, sequence: 0)

    public init() {}

    public var count: Int { ids.count - head }

    public mutating func append(_ id: StreamID) {
        ids.append(id)
        if id > lastID { lastID = id }
    }

    /// Drops the oldest entries until `maxLength` remain; returns how many were dropped.
    @discardableResult
    public mutating func trim(maxLength: Int) -> Int {
        let drop = Swift.max(0, count - maxLength)
        head += drop
        compact()
        return drop
    }

    /// Drops entries with an ID below `minID`.
    @discardableResult
    public mutating func trim(minID: StreamID) -> Int {
        var drop = 0
        while head + drop < ids.count, ids[head + drop] < minID { drop += 1 }
        head += drop
        compact()
        return drop
    }

    @discardableResult
    public mutating func delete(_ id: StreamID) -> Bool {
        var low = head
        var high = ids.count
        while low < high {
            let mid = (low + high) / 2
            if ids[mid] < id { low = mid + 1 } else { high = mid }
        }
        guard low < ids.count, ids[low] == id else { return false }
        ids.remove(at: low)
        return true
    }

    private mutating func compact() {
        if head > 1024, head * 2 > ids.count {
            ids.removeFirst(head)
            head = 0
        }
    }

    var heapBytes: Int { ids.capacity * 16 }
}
