/// Who is subscribed to what, as the calls of a capture show it: PUBLISH is O(N+M) over the
/// channel's subscribers and every pattern subscription (pubsub.c, `pubsubPublishMessage`),
/// SPUBLISH O(N) over the shard channel's. A capture shows SUBSCRIBE, UNSUBSCRIBE, RESET … but
/// not a client that disconnects, so counts from a capture are upper bounds; subscriptions made
/// before the capture started are not seen at all, so the counts are only known when the
/// capture began with the server (`knownFromStart`).
struct Subscriptions {
    enum Space: Int { case channel = 0, pattern = 1, shard = 2 }

    /// What a command does to its client's subscriptions (pubsub commands and RESET).
    enum Change {
        case subscribe(Space), unsubscribe(Space), resetClient

        /// Subscription semantics are fixed by the protocol (pubsub.c), not per server.
        init?(command name: String) {
            switch name {
            case "SUBSCRIBE": self = .subscribe(.channel)
            case "PSUBSCRIBE": self = .subscribe(.pattern)
            case "SSUBSCRIBE": self = .subscribe(.shard)
            case "UNSUBSCRIBE": self = .unsubscribe(.channel)
            case "PUNSUBSCRIBE": self = .unsubscribe(.pattern)
            case "SUNSUBSCRIBE": self = .unsubscribe(.shard)
            case "RESET": self = .resetClient
            default: return nil
            }
        }
    }

    var knownFromStart: Bool
    /// Subscribers per channel, pattern or shard channel (by identity of its name and space).
    private var subscribers: [UInt64: Int] = [:]
    private var patternCount = 0
    /// Per client, what it is subscribed to, per space (identities).
    private var byClient: [UInt64: [Set<UInt64>]] = [:]
    /// Clients and channels are bounded like every per-capture table; past the bound the
    /// counts are no longer known.
    static let limit = 100_000
    private(set) var overflowed = false

    init(knownFromStart: Bool) { self.knownFromStart = knownFromStart }

    static func identity(_ name: UnsafeRawBufferPointer, _ space: Space) -> UInt64 {
        elementHash(name) &+ UInt64(space.rawValue + 1) &* 0x9E37_79B9_7F4A_7C15
    }

    mutating func apply(_ change: Change, _ argv: Argv, client: UInt64) {
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
    func count(_ name: UnsafeRawBufferPointer, _ space: Space) -> Int? {
        guard knownFromStart, !overflowed else { return nil }
        return subscribers[Self.identity(name, space)] ?? 0
    }

    /// Pattern subscriptions of all clients, which every PUBLISH matches against.
    var patterns: Int? { knownFromStart && !overflowed ? patternCount : nil }
}
