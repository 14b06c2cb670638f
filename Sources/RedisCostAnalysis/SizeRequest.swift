import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// What a live session asks the server: the size of one key, the key count of a database
/// (`DBSIZE`) or of all databases (`INFO keyspace`), the subscribers of a channel (`PUBSUB
/// NUMSUB`/`SHARDNUMSUB`) or the pattern subscriptions (`PUBSUB NUMPAT`). All O(1) for the
/// server per key or channel.
public enum SizeRequest: Hashable, Sendable {
    case key(database: Int, name: [UInt8])
    case databaseSize(Int)
    case allKeys
    case subscribers(channel: [UInt8], shard: Bool)
    case patternSubscriptions
}

/// Subscribers of a channel (or shard channel) as the server counted them.
public struct SubscriberCount: Sendable {
    package init(channel: [UInt8], shard: Bool, count: Int) {
        self.channel = channel
        self.shard = shard
        self.count = count
    }
    public var channel: [UInt8]
    public var shard: Bool
    public var count: Int
}
