import RedisCostCore
import RedisCostFormats

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
    /// The mean bytes of an argument of the writes that added to key number `key`
    /// (`Keyspace.elementBytes`), nil when unknown.
    func keyElementBytes(_ key: Int) -> Double?
}

extension FormulaInput {
    public func listWalk(key: Int, toArgument argument: Int) -> Int? { nil }
    public func subscribers(ofChannelAt index: Int, shard: Bool) -> Int? { nil }
    public var patternSubscriptions: Int? { nil }
    public func keyElementBytes(_ key: Int) -> Double? { nil }
}
