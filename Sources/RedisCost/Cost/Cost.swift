/// The size of one key a call touches, as known before the call.
public enum KeySize: Sendable, Equatable, Hashable {
    /// The key does not exist (size 0).
    case missing
    /// A collection (list, set, sorted set, hash, stream, …) of this many elements.
    case elements(Int)
    /// A string of this many bytes (STRLEN).
    case bytes(Int)
    /// Nobody told us: never treated as zero.
    case unknown

    /// The size as the final-state files and reports give it: elements, or bytes for a string.
    public var count: Int? {
        switch self {
        case .missing: 0
        case .elements(let n), .bytes(let n): n
        case .unknown: nil
        }
    }

    /// Allocations to free or copy: a string is one, however long (DEL, COPY, DUMP).
    public var items: Int? {
        switch self {
        case .missing: 0
        case .elements(let n): n
        case .bytes: 1
        case .unknown: nil
        }
    }
}

/// The estimated cost of one call, in elements touched (the N of the documented complexity).
public enum Cost: Sendable, Equatable, CustomStringConvertible {
    case exact(Double)
    /// The formula could only bound it (e.g. a ZRANGEBYSCORE without LIMIT returns at most N).
    case atMost(Double)
    case unknown(reason: String)

    public var value: Double? {
        switch self {
        case .exact(let v), .atMost(let v): v
        case .unknown: nil
        }
    }

    public var isUpperBound: Bool {
        if case .atMost = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .exact(let v): formatCost(v)
        case .atMost(let v): "≤ " + formatCost(v)
        case .unknown(let reason): "unknown (\(reason))"
        }
    }
}

func formatCost(_ value: Double) -> String {
    if value.rounded() == value, abs(value) < 1e15 { return String(Int64(value)) }
    return String(format: "%.1f", value)
}

/// What a formula may ask about a call. Implemented by the analyzer's call records and by
/// `explain`; arguments are bytes and are never turned into text here.
public protocol FormulaInput {
    var argumentCount: Int { get }
    /// The argv entry at `index` as a base-10 integer, or nil.
    func integerArgument(at index: Int) -> Int?
    /// Byte length of the argv entry at `index`.
    func argumentLength(at index: Int) -> Int?
    /// Whether the argv entry at `index` equals `token`, ignoring ASCII case.
    func argument(at index: Int, isToken token: String) -> Bool
    /// argv indices of the keys, in key-spec order.
    var keyPositions: [Int] { get }
    /// Size of key number `key` (0-based, in `keyPositions` order).
    func keySize(_ key: Int) -> KeySize
    var databaseSize: Int? { get }
    var allDatabasesSize: Int? { get }
    var nestedCost: Cost? { get }
    /// Elements walked from the head of list key `key` to the first element equal to the
    /// argv entry at `argument` (the list's length when it is not there), or nil when the
    /// input does not know the list's elements.
    func listWalk(key: Int, toArgument argument: Int) -> Int?
    /// Clients subscribed to the channel named by the argv entry at `index` (a shard channel
    /// with `shard`), or nil when the input cannot know them.
    func subscribers(ofChannelAt index: Int, shard: Bool) -> Int?
    /// Pattern subscriptions of all clients, or nil when unknown.
    var patternSubscriptions: Int? { get }
}

extension FormulaInput {
    public func listWalk(key: Int, toArgument argument: Int) -> Int? { nil }
    public func subscribers(ofChannelAt index: Int, shard: Bool) -> Int? { nil }
    public var patternSubscriptions: Int? { nil }
}
