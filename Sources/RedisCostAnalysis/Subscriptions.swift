import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// Who is subscribed to what, as the calls of a capture show it: PUBLISH is O(N+M) over the
/// channel's subscribers and every pattern subscription (pubsub.c, `pubsubPublishMessage`),
/// SPUBLISH O(N) over the shard channel's. A capture shows SUBSCRIBE, UNSUBSCRIBE, RESET … but
/// not a client that disconnects, so counts from a capture are upper bounds; subscriptions made
/// before the capture started are not seen at all, so the counts are only known when the
/// capture began with the server (`knownFromStart`), or, in a live session, read from the
/// server (`receive`, `resync`).
package struct Subscriptions {
    package enum Space: Int { case channel = 0, pattern = 1, shard = 2 }

    /// What a command does to its client's subscriptions (pubsub commands and RESET).
    package enum Change {
        case subscribe(Space), unsubscribe(Space), resetClient

        /// From the entry's `subscription` and `space` semantics in the table.
        package init?(_ semantics: CommandSemantics) {
            guard let change = semantics.subscription else { return nil }
            let space: Space = switch semantics.space {
            case .pattern: .pattern
            case .shard: .shard
            case .channel, nil: .channel
            }
            switch change {
            case .subscribe: self = .subscribe(space)
            case .unsubscribe: self = .unsubscribe(space)
            case .reset: self = .resetClient
            }
        }
    }

    package var knownFromStart: Bool
    /// Subscribers per channel, pattern or shard channel (by identity of its name and space).
    private var subscribers: [UInt64: Int] = [:]
    private var patternCount = 0
    /// Per client, what it is subscribed to, per space (identities).
    private var byClient: [UInt64: [Set<UInt64>]] = [:]
    /// Clients and channels are bounded like every per-capture table; past the bound the
    /// counts are no longer known.
    package static let limit = 100_000
    package private(set) var overflowed = false

    package init(knownFromStart: Bool) { self.knownFromStart = knownFromStart }

    package static func identity(_ name: UnsafeRawBufferPointer, _ space: Space) -> UInt64 {
        elementHash(name) &+ UInt64(space.rawValue + 1) &* 0x9E37_79B9_7F4A_7C15
    }

    package mutating func apply(_ change: Change, _ argv: Argv, client: UInt64) {
        switch change {
        case .subscribe(let space):
            guard argv.count > 1 else { return }
            for i in 1..<argv.count {
                let id = Self.identity(argv[i], space)
                if byClient[client]?[space.rawValue].contains(id) == true { continue }
                guard byClient.count < Self.limit || byClient[client] != nil, subscribers.count < Self.limit || subscribers[id] != nil else {
                    overflowed = true
                    continue
                }
                byClient[client, default: [[], [], []]][space.rawValue].insert(id)
                subscribers[id, default: 0] += 1
                if space == .pattern { patternCount += 1 }
            }
        case .unsubscribe(let space):
            if argv.count > 1 {
                for i in 1..<argv.count { remove(Self.identity(argv[i], space), space, client: client) }
            } else {
                // Without names: every subscription of that kind the client has.
                for id in byClient[client]?[space.rawValue] ?? [] { remove(id, space, client: client) }
            }
        case .resetClient:
            for space in [Space.channel, .pattern, .shard] {
                for id in byClient[client]?[space.rawValue] ?? [] { remove(id, space, client: client) }
            }
        }
    }

    private mutating func remove(_ id: UInt64, _ space: Space, client: UInt64) {
        guard byClient[client]?[space.rawValue].remove(id) != nil else { return }
        if byClient[client]?.allSatisfy(\.isEmpty) == true { byClient[client] = nil }
        if let n = subscribers[id] { subscribers[id] = n <= 1 ? nil : n - 1 }
        if space == .pattern { patternCount -= 1 }
    }

    /// Subscribers of the channel (or shard channel) named by `name`: nil when the capture
    /// cannot know them.
    package func count(_ name: UnsafeRawBufferPointer, _ space: Space) -> Int? {
        guard !overflowed else { return nil }
        let id = Self.identity(name, space)
        if knownFromStart { return subscribers[id] ?? 0 }
        if let offset = offsets[id] { return max(0, offset + (subscribers[id] ?? 0)) }
        return waiting[id]
    }

    /// Pattern subscriptions of all clients, which every PUBLISH matches against.
    package var patterns: Int? {
        guard !overflowed else { return nil }
        if knownFromStart { return patternCount }
        if let patternOffset { return max(0, patternOffset + patternCount) }
        return waitingPatterns
    }

    // MARK: Counts read from a live server

    /// A live session reads the counts of subscriptions made before it began (PUBSUB NUMSUB,
    /// SHARDNUMSUB, NUMPAT). A count arrives before the stream reaches the point where the
    /// server measured it (`waiting`, used by the calls in between); at that point it becomes
    /// an offset to the subscriptions the stream shows from then on. Unsubscriptions of a
    /// client subscribed before the session, like disconnects, are not seen: the count stays
    /// an upper bound until it is read again.
    private var offsets: [UInt64: Int] = [:]
    private var waiting: [UInt64: Int] = [:]
    private var patternOffset: Int?
    private var waitingPatterns: Int?

    /// Whether a live session should ask the server for this channel's subscribers.
    package func needsCount(_ name: UnsafeRawBufferPointer, _ space: Space) -> Bool {
        !knownFromStart && !overflowed && waiting[Self.identity(name, space)] == nil
    }
    package var needsPatternCount: Bool { !knownFromStart && !overflowed && waitingPatterns == nil }

    /// The server counted `n` subscribers of the channel (the stream has not reached the count yet).
    package mutating func receive(_ n: Int, channel: UnsafeRawBufferPointer, _ space: Space) {
        let id = Self.identity(channel, space)
        guard waiting.count < Self.limit || waiting[id] != nil else { return }
        waiting[id] = n
    }

    /// The stream has reached the point where the server counted the channel's subscribers.
    package mutating func resync(_ n: Int, channel: UnsafeRawBufferPointer, _ space: Space) {
        let id = Self.identity(channel, space)
        waiting[id] = nil
        guard offsets.count < Self.limit || offsets[id] != nil else { return }
        offsets[id] = n - (subscribers[id] ?? 0)
    }

    package mutating func receivePatterns(_ n: Int) { waitingPatterns = n }

    package mutating func resyncPatterns(_ n: Int) {
        waitingPatterns = nil
        patternOffset = n - patternCount
    }
}
