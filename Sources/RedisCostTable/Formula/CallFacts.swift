import Foundation
import RedisCostCore
import RedisCostFormats

/// A call's arguments as text, with the sizes of its keys: what `explain` and tests give a
/// formula. (The analyzer's hot path has its own byte-based `FormulaInput`.)
public struct CallFacts: FormulaInput, Sendable {
    public var argv: [String]
    public var keyPositions: [Int]
    public var sizes: [KeySize]
    public var databaseSize: Int?
    public var allDatabasesSize: Int?
    public var nestedCost: Cost?
    /// Per key (in `keyPositions` order), the mean bytes of an argument of the writes that made it.
    public var elementBytes: [Double?] = []
    /// Clients subscribed to any channel the call names, and pattern subscriptions of all
    /// clients; nil: unknown.
    public var channelSubscribers: Int?
    public var patternSubscriptions: Int?

    public init(argv: [String], keyPositions: [Int], sizes: [KeySize] = [], databaseSize: Int? = nil,
                allDatabasesSize: Int? = nil, nestedCost: Cost? = nil) {
        self.argv = argv
        self.keyPositions = keyPositions
        self.sizes = sizes
        self.databaseSize = databaseSize
        self.allDatabasesSize = allDatabasesSize
        self.nestedCost = nestedCost
    }

    public var argumentCount: Int { argv.count }
    public func integerArgument(at index: Int) -> Int? { index >= 0 && index < argv.count ? Int(argv[index]) : nil }
    public func argumentLength(at index: Int) -> Int? { index >= 0 && index < argv.count ? argv[index].utf8.count : nil }
    public func argument(at index: Int, isToken token: String) -> Bool {
        index >= 0 && index < argv.count && argv[index].caseInsensitiveCompare(token) == .orderedSame
    }
    public func keySize(_ key: Int) -> KeySize { key < sizes.count ? sizes[key] : .unknown }
    public func keyElementBytes(_ key: Int) -> Double? { key >= 0 && key < elementBytes.count ? elementBytes[key] : nil }
    public func subscribers(ofChannelAt index: Int, shard: Bool) -> Int? { channelSubscribers }
}
